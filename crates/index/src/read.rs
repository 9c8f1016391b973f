//! Reading one capture into a [`FileAgg`], with the file's content hash computed alongside.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use sha2::{Digest, Sha256};
use trident_capture::{CaptureError, CaptureErrorKind, CaptureReader, Input};
use trident_decode::{DecodeOptions, decode_with};

use crate::agg::{AggOptions, Day, FileAgg};
use crate::error::IndexError;
use crate::potiron::{base_name, file_name_day, sensor_name};
use crate::records::{RecordOptions, Records, RecordsBuilder};

/// Bytes read per hashing step.
const HASH_CHUNK: usize = 1 << 20;

/// What identifies an ingested file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The path as given.
    pub path: String,
    /// The base name (potiron's `FILES` member).
    pub name: String,
    /// SHA-256 of the file's bytes as stored (compressed or not), lower-case hex.
    pub sha256: String,
    /// The sensor the counts are filed under.
    pub sensor: String,
    /// The day in potiron's file-name convention, which potiron records even when no
    /// packet falls on it.
    pub file_day: Option<Day>,
    /// Size of the file in bytes.
    pub size: u64,
}

/// Chunks in flight between the reading thread and the hashing thread.
const HASH_QUEUE: usize = 16;

/// The capture file as the decoder reads it, handing a copy of each chunk it reads to the
/// hashing thread too: the file is read from disk once, and hashed while it is decoded.
/// The hasher hands each copy's buffer back (`spare`), so the copies reuse a few buffers
/// rather than fault in fresh memory for every megabyte of the file.
struct TeeFile {
    file: File,
    tx: mpsc::SyncSender<Vec<u8>>,
    spare: mpsc::Receiver<Vec<u8>>,
}

impl Read for TeeFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) {
            let mut copy = self.spare.try_recv().unwrap_or_default();
            copy.clear();
            copy.extend_from_slice(chunk);
            // The hashing thread gone means it failed; its error is reported at the end.
            let _ = self.tx.send(copy);
        }
        Ok(n)
    }
}

/// Hashes what the decoder read (`rx`, until the reader is dropped), then, unless
/// `abandon` is set, the rest of the file it did not read (a capture damaged part-way, or
/// a container that ends before the file does). Returns the hex digest and the size.
/// Each chunk's buffer goes back through `spare` once hashed.
fn hash_stream(
    path: &Path,
    rx: mpsc::Receiver<Vec<u8>>,
    spare: mpsc::Sender<Vec<u8>>,
    abandon: &AtomicBool,
) -> Result<(String, u64), IndexError> {
    let mut h = Sha256::new();
    let mut size = 0u64;
    for chunk in rx {
        size += chunk.len() as u64;
        h.update(&chunk);
        // The reader gone: the buffer is simply dropped.
        let _ = spare.send(chunk);
    }
    if abandon.load(Ordering::Relaxed) {
        return Ok((String::new(), size));
    }
    hash_rest(path, h, size)
}

/// SHA-256 (lower-case hex) and size of the file at `path`, read from disk without
/// decoding it.
///
/// # Errors
/// The file cannot be read.
pub fn hash_file(path: &Path) -> Result<(String, u64), IndexError> {
    hash_rest(path, Sha256::new(), 0)
}

/// Hashes the file's bytes from offset `size` on into `h`, which holds the bytes before
/// it, and returns the hex digest and the whole size.
fn hash_rest(path: &Path, mut h: Sha256, mut size: u64) -> Result<(String, u64), IndexError> {
    let io = |source| IndexError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(size)).map_err(io)?;
    let mut buf = vec![0u8; HASH_CHUNK];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(buf.get(..n).unwrap_or(&[]));
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
    }
    Ok((hex, size))
}

/// Reads one capture: hashes its bytes (on a second thread, as the decoder reads them) and
/// counts its packets. The sensor is `sensor` if given, else potiron's name from the file
/// name, else the file name. A capture damaged part-way is counted up to the damage and the
/// error is returned beside the counts, so the caller decides whether to store a partial
/// file.
///
/// # Errors
/// The file cannot be opened or hashed.
pub fn read_capture(
    path: &Path,
    sensor: Option<&str>,
    opts: AggOptions,
) -> Result<(FileMeta, FileAgg, Option<IndexError>), IndexError> {
    let r = read_capture_with(path, sensor, opts, None, None)?;
    Ok((r.meta, r.agg, r.damage))
}

/// One capture read by [`read_capture_with`].
#[derive(Debug)]
pub struct CaptureRead {
    /// What identifies the file.
    pub meta: FileMeta,
    /// Its counts.
    pub agg: FileAgg,
    /// Its hosts, flows, traffic and predictions, when asked for.
    pub records: Option<Records>,
    /// Where reading stopped early, if the capture is damaged (everything before it is
    /// counted).
    pub damage: Option<IndexError>,
}

/// Frames between two updates of the progress counter.
const PROGRESS_EVERY: u64 = 4096;

/// [`read_capture`], also building the capture's records ([`crate::records`]) in the same
/// pass when `records` is given, and storing the byte offset reached (of the capture as
/// decompressed) into `progress` every few thousand frames and at the end.
///
/// # Errors
/// The file cannot be opened or hashed.
pub fn read_capture_with(
    path: &Path,
    sensor: Option<&str>,
    opts: AggOptions,
    records: Option<RecordOptions>,
    progress: Option<&AtomicU64>,
) -> Result<CaptureRead, IndexError> {
    let capture_err = |source| IndexError::Capture {
        path: path.to_owned(),
        source,
    };
    // How the capture reader names the file in its errors.
    let source_name = Input::File(path.to_owned()).name();
    let file = File::open(path).map_err(|e| {
        capture_err(CaptureError {
            source_name: source_name.clone(),
            offset: 0,
            kind: CaptureErrorKind::Io(e),
        })
    })?;
    let file_len = file.metadata().ok().map(|m| m.len());
    let name = base_name(&path.to_string_lossy());
    let (tx, rx) = mpsc::sync_channel(HASH_QUEUE);
    let (spare_tx, spare) = mpsc::channel();
    let abandon = AtomicBool::new(false);
    let (hashed, agg, recs, damage) = std::thread::scope(|s| {
        let abandon = &abandon;
        let hasher = s.spawn(move || hash_stream(path, rx, spare_tx, abandon));
        let join = |hasher: std::thread::ScopedJoinHandle<'_, _>| {
            hasher.join().unwrap_or_else(|_| {
                Err(IndexError::Io {
                    path: path.to_owned(),
                    source: std::io::Error::other("hashing thread panicked"),
                })
            })
        };
        // Held until the container is known, so that the hasher cannot finish the file
        // before it is told the file is not a capture.
        let hold = tx.clone();
        let tee = TeeFile { file, tx, spare };
        let opened = CaptureReader::from_reader(source_name, Box::new(tee));
        let mut reader = match opened {
            Ok(r) => {
                drop(hold);
                r
            }
            Err(e) => {
                // Not a capture: no need to hash the rest of it.
                abandon.store(true, Ordering::Relaxed);
                drop(hold);
                let _ = join(hasher);
                return Err(capture_err(e));
            }
        };
        let mut builder = records.map(|r| RecordsBuilder::new(r, &name));
        if let (Some(b), Some(len)) = (&mut builder, file_len) {
            b.expect_bytes(len);
        }
        let (agg, damage) = decode_all(&mut reader, path, opts, builder.as_mut(), progress);
        // The reader holds the sending end: dropping it lets the hasher finish the file
        // while the records are built.
        drop(reader);
        let recs = builder.map(RecordsBuilder::finish);
        Ok((join(hasher), agg, recs, damage))
    })?;
    let (sha256, size) = hashed?;
    let meta = file_meta(path, name, sensor, sha256, size);
    Ok(CaptureRead {
        meta,
        agg,
        records: recs,
        damage,
    })
}

/// Decodes every frame of `reader` into counts (and `builder`'s records), storing the
/// offset reached into `progress` as it goes. Returns the counts and, for a capture damaged
/// part-way, the error where reading stopped.
fn decode_all(
    reader: &mut CaptureReader,
    path: &Path,
    opts: AggOptions,
    mut builder: Option<&mut RecordsBuilder>,
    progress: Option<&AtomicU64>,
) -> (FileAgg, Option<IndexError>) {
    let mut agg = FileAgg::default();
    let mut decode = DecodeOptions::default();
    // Hosts need the application hints (names, fingerprints) whatever the counts need.
    decode.app_hints = opts.app_fields || builder.is_some();
    let mut damage = None;
    let mut frames = 0u64;
    let mut offset = 0u64;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                let p = decode_with(frame.link_type, frame.data, decode);
                agg.add(frame.ts, frame.caplen, &p, opts);
                if let Some(b) = builder.as_deref_mut() {
                    b.add(&frame, &p);
                }
                frames += 1;
                offset = frame.offset;
                if frames % PROGRESS_EVERY == 0 {
                    if let Some(pr) = progress {
                        pr.store(offset, Ordering::Relaxed);
                    }
                }
            }
            Ok(None) => break,
            Err(source) => {
                damage = Some(IndexError::Capture {
                    path: path.to_owned(),
                    source,
                });
                break;
            }
        }
    }
    if let Some(pr) = progress {
        pr.store(offset, Ordering::Relaxed);
    }
    (agg, damage)
}

/// [`read_capture_with`] without records and without hashing the file, for a store that
/// identifies a file by its name (Redis, as potiron does): `meta.sha256` is empty, and the
/// embedded store refuses such a file. The file is read once, by the decoder only.
///
/// # Errors
/// The file cannot be opened or is not a capture.
pub fn read_capture_unhashed(
    path: &Path,
    sensor: Option<&str>,
    opts: AggOptions,
    progress: Option<&AtomicU64>,
) -> Result<CaptureRead, IndexError> {
    let source_name = Input::File(path.to_owned()).name();
    let capture_err = |kind| IndexError::Capture {
        path: path.to_owned(),
        source: CaptureError {
            source_name: source_name.clone(),
            offset: 0,
            kind,
        },
    };
    let file = File::open(path).map_err(|e| capture_err(CaptureErrorKind::Io(e)))?;
    let meta = file_meta_unhashed(path, sensor)?;
    let mut reader =
        CaptureReader::from_reader(source_name.clone(), Box::new(file)).map_err(|source| {
            IndexError::Capture {
                path: path.to_owned(),
                source,
            }
        })?;
    let (agg, damage) = decode_all(&mut reader, path, opts, None, progress);
    Ok(CaptureRead {
        meta,
        agg,
        records: None,
        damage,
    })
}

/// What identifies the file at `path` for a store that goes by file names (see
/// [`read_capture_unhashed`]): its name, sensor and size, without reading it.
///
/// # Errors
/// The file's metadata cannot be read.
pub fn file_meta_unhashed(path: &Path, sensor: Option<&str>) -> Result<FileMeta, IndexError> {
    let size = std::fs::metadata(path)
        .map_err(|source| IndexError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    let name = base_name(&path.to_string_lossy());
    Ok(file_meta(path, name, sensor, String::new(), size))
}

/// What identifies the file at `path` (base name `name`): the sensor is `sensor` if given,
/// else potiron's name from the file name, else the file name.
fn file_meta(
    path: &Path,
    name: String,
    sensor: Option<&str>,
    sha256: String,
    size: u64,
) -> FileMeta {
    let sensor = sensor
        .map(str::to_owned)
        .or_else(|| sensor_name(&name))
        .unwrap_or_else(|| name.clone());
    FileMeta {
        path: path.to_string_lossy().into_owned(),
        file_day: file_name_day(&name),
        name,
        sha256,
        sensor,
        size,
    }
}

/// The files a store already holds, by base name and size, with their SHA-256: what lets
/// an ingest skip a file it has seen without decoding it ([`KnownFiles::recognise`]).
#[derive(Debug, Default, Clone)]
pub struct KnownFiles {
    by_name: std::collections::HashMap<(String, u64), Vec<String>>,
}

impl KnownFiles {
    /// Records a stored file.
    pub fn insert(&mut self, name: String, size: u64, sha256: String) {
        self.by_name.entry((name, size)).or_default().push(sha256);
    }

    /// If a stored file has the base name and size of the file at `path`, hashes it (a
    /// read of the file, no decoding) and, when the hash is one of theirs, returns what
    /// identifies it: the caller can skip it as already ingested. `None` when it is new
    /// (or could not be read: the full read then reports why). The content hash decides;
    /// name and size only choose which files are worth hashing first.
    #[must_use]
    pub fn recognise(&self, path: &Path, sensor: Option<&str>) -> Option<FileMeta> {
        let name = base_name(&path.to_string_lossy());
        let size = std::fs::metadata(path).ok()?.len();
        let hashes = self.by_name.get(&(name.clone(), size))?;
        let (sha256, size) = hash_file(path).ok()?;
        hashes
            .contains(&sha256)
            .then(|| file_meta(path, name, sensor, sha256, size))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

    use super::*;

    const OPTS: AggOptions = AggOptions {
        per_packet_fields: false,
        app_fields: true,
        isn: false,
    };

    fn sha256_hex(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn sample(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The hash is of the file's bytes as stored, whether the decoder read all of them
    /// (intact), read them through a decompressor (gzip), or stopped at damage part-way and
    /// the rest was hashed after.
    #[test]
    fn hash_is_of_every_stored_byte() {
        let dir = tempfile::tempdir().unwrap();
        let intact = sample("wikipedia.pcap");
        let gz = sample("attack-test.pcap.gz");
        // Cut mid-record, then garbage: the decoder stops at the cut.
        let mut damaged = intact.get(..intact.len() / 2).unwrap().to_vec();
        damaged.extend(std::iter::repeat_n(0xa5u8, 3 << 20));
        for (name, bytes, damage) in [
            ("intact.pcap", &intact, false),
            ("gz.pcap.gz", &gz, false),
            ("damaged.pcap", &damaged, true),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let (meta, agg, err) = read_capture(&path, Some("s"), OPTS).unwrap();
            assert_eq!(meta.sha256, sha256_hex(bytes), "{name}");
            assert_eq!(meta.size, bytes.len() as u64, "{name}");
            assert_eq!(err.is_some(), damage, "{name}: {err:?}");
            assert!(agg.packets > 0, "{name}");
        }
    }

    /// A stored file is recognised by its hash once its name and size match; a file with
    /// the same name and size but other bytes is not, nor one of another size.
    #[test]
    fn known_files_are_recognised_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = sample("wikipedia.pcap");
        let path = dir.path().join("cap.pcap");
        std::fs::write(&path, &bytes).unwrap();
        let mut known = KnownFiles::default();
        known.insert(
            "cap.pcap".to_owned(),
            bytes.len() as u64,
            sha256_hex(&bytes),
        );
        let meta = known.recognise(&path, Some("s")).unwrap();
        assert_eq!(meta.sha256, sha256_hex(&bytes));
        assert_eq!((meta.size, meta.sensor.as_str()), (bytes.len() as u64, "s"));
        assert_eq!(hash_file(&path).unwrap(), (meta.sha256.clone(), meta.size));
        // Same name and size, one byte changed: hashed, and not the stored file.
        let mut other = bytes.clone();
        *other.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &other).unwrap();
        assert!(known.recognise(&path, None).is_none());
        // Another size: not even hashed.
        std::fs::write(&path, &bytes[..100]).unwrap();
        assert!(known.recognise(&path, None).is_none());
        assert!(
            known
                .recognise(&dir.path().join("missing.pcap"), None)
                .is_none()
        );
    }

    /// A file that is not a capture is refused at once with the decoder's error, naming it.
    #[test]
    fn not_a_capture_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, vec![b'x'; 5 << 20]).unwrap();
        let e = read_capture(&path, None, OPTS).unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        let missing = dir.path().join("missing.pcap");
        let e = read_capture(&missing, None, OPTS).unwrap_err().to_string();
        assert!(e.contains("missing.pcap"), "{e}");
    }
}
