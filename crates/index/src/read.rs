//! Reading one capture into a [`FileAgg`], with the file's content hash computed alongside.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use trident_capture::{CaptureReader, Input};
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

fn hash_file(path: &Path) -> Result<(String, u64), IndexError> {
    let io = |source| IndexError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    let mut size = 0u64;
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

/// Reads one capture: hashes its bytes (on a second thread, while decoding) and counts its
/// packets. The sensor is `sensor` if given, else potiron's name from the file name, else
/// the file name. A capture damaged part-way is counted up to the damage and the error is
/// returned beside the counts, so the caller decides whether to store a partial file.
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
    let input = Input::File(path.to_owned());
    let mut reader = CaptureReader::open(&input).map_err(|source| IndexError::Capture {
        path: path.to_owned(),
        source,
    })?;
    let name = base_name(&path.to_string_lossy());
    let (hashed, agg, recs, damage) = std::thread::scope(|s| {
        let hasher = s.spawn(|| hash_file(path));
        let mut agg = FileAgg::default();
        let mut decode = DecodeOptions::default();
        // Hosts need the application hints (names, fingerprints) whatever the counts need.
        decode.app_hints = opts.app_fields || records.is_some();
        let mut builder = records.map(|r| RecordsBuilder::new(r, &name));
        let mut damage = None;
        let mut frames = 0u64;
        let mut offset = 0u64;
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    let p = decode_with(frame.link_type, frame.data, decode);
                    agg.add(frame.ts, frame.caplen, &p, opts);
                    if let Some(b) = &mut builder {
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
        let recs = builder.map(RecordsBuilder::finish);
        let hashed = hasher.join().unwrap_or_else(|_| {
            Err(IndexError::Io {
                path: path.to_owned(),
                source: std::io::Error::other("hashing thread panicked"),
            })
        });
        (hashed, agg, recs, damage)
    });
    let (sha256, size) = hashed?;
    let sensor = sensor
        .map(str::to_owned)
        .or_else(|| sensor_name(&name))
        .unwrap_or_else(|| name.clone());
    let meta = FileMeta {
        path: path.to_string_lossy().into_owned(),
        file_day: file_name_day(&name),
        name,
        sha256,
        sensor,
        size,
    };
    Ok(CaptureRead {
        meta,
        agg,
        records: recs,
        damage,
    })
}
