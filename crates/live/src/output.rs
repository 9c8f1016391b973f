//! Output files: naming, rotation by time and size, and the bound on kept files.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::LiveError;
use crate::pcapng::{EndStats, InterfaceDescription, PcapngWriter};

/// Write buffer per open file: large enough that a write syscall carries many packets.
pub const WRITE_BUFFER: usize = 1 << 20;
/// Bytes in one megabyte for `--rotate-mb` (10^6, as tcpdump's `-C`).
pub const BYTES_PER_MB: u64 = 1_000_000;

/// When to start a new file, and how many to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotatePolicy {
    /// Start a new file after this much time.
    pub every: Option<Duration>,
    /// Start a new file once this many bytes were written.
    pub max_bytes: Option<u64>,
    /// Keep at most this many files of this run, deleting the oldest.
    pub max_files: Option<usize>,
}

impl RotatePolicy {
    /// Whether any rotation is configured (file names then carry a sequence number).
    #[must_use]
    pub fn rotates(&self) -> bool {
        self.every.is_some() || self.max_bytes.is_some()
    }
}

/// Where files go: `path` is a directory (files named after the interface and start time)
/// or a file path (with a `-00001` style sequence number inserted when rotating).
#[derive(Debug, Clone)]
pub struct OutputTarget {
    path: PathBuf,
    is_dir: bool,
    rotating: bool,
    prefix: String,
}

impl OutputTarget {
    /// Decides how to name files for `path`. `prefix` names files in a directory.
    #[must_use]
    pub fn new(path: &Path, rotating: bool, prefix: String) -> Self {
        OutputTarget {
            path: path.to_path_buf(),
            is_dir: path.is_dir(),
            rotating,
            prefix,
        }
    }

    /// The path of file number `seq` (1-based).
    #[must_use]
    pub fn file(&self, seq: u64) -> PathBuf {
        if self.is_dir {
            return self.path.join(format!("{}-{seq:05}.pcapng", self.prefix));
        }
        if !self.rotating {
            return self.path.clone();
        }
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = match self.path.extension() {
            Some(ext) => format!("{stem}-{seq:05}.{}", ext.to_string_lossy()),
            None => format!("{stem}-{seq:05}"),
        };
        self.path.with_file_name(name)
    }
}

/// The file being written plus the ones already closed.
#[derive(Debug)]
pub struct Rotator {
    target: OutputTarget,
    policy: RotatePolicy,
    iface: InterfaceDescription,
    current: Option<(PathBuf, PcapngWriter<BufWriter<File>>)>,
    opened: Instant,
    seq: u64,
    kept: VecDeque<PathBuf>,
    files_written: u64,
    bytes_total: u64,
}

impl Rotator {
    /// Prepares the first file (created on the first packet or [`Rotator::open_first`]).
    #[must_use]
    pub fn new(target: OutputTarget, policy: RotatePolicy, iface: InterfaceDescription) -> Self {
        Rotator {
            target,
            policy,
            iface,
            current: None,
            opened: Instant::now(),
            seq: 0,
            kept: VecDeque::new(),
            files_written: 0,
            bytes_total: 0,
        }
    }

    /// Opens the first file now, so a capture that sees no packet still leaves a valid file.
    pub fn open_first(&mut self) -> Result<(), LiveError> {
        if self.current.is_none() {
            self.open_next()?;
        }
        Ok(())
    }

    fn open_next(&mut self) -> Result<(), LiveError> {
        self.seq += 1;
        let path = self.target.file(self.seq);
        let file = File::create(&path).map_err(|source| LiveError::Output {
            path: path.clone(),
            source,
        })?;
        let writer = PcapngWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file), &self.iface)
            .map_err(|source| LiveError::Output {
            path: path.clone(),
            source,
        })?;
        self.current = Some((path.clone(), writer));
        self.opened = Instant::now();
        self.files_written += 1;
        self.kept.push_back(path);
        if let Some(max) = self.policy.max_files {
            while self.kept.len() > max.max(1) {
                if let Some(old) = self.kept.pop_front() {
                    std::fs::remove_file(&old)
                        .map_err(|source| LiveError::Output { path: old, source })?;
                }
            }
        }
        Ok(())
    }

    /// Whether the current file is due for rotation by time or size.
    #[must_use]
    pub fn due(&self, now: Instant) -> bool {
        let Some((_, w)) = &self.current else {
            return false;
        };
        self.policy
            .every
            .is_some_and(|every| now.saturating_duration_since(self.opened) >= every)
            || self
                .policy
                .max_bytes
                .is_some_and(|max| w.bytes_written() >= max)
    }

    /// Closes the current file (with `stats`) and opens the next.
    pub fn rotate(&mut self, stats: &EndStats) -> Result<(), LiveError> {
        self.close(stats)?;
        self.open_next()
    }

    /// Writes one packet, opening the first file if needed.
    pub fn write(
        &mut self,
        ts: trident_types::Timestamp,
        data: &[u8],
        origlen: u32,
    ) -> Result<(), LiveError> {
        if self.current.is_none() {
            self.open_next()?;
        }
        if let Some((path, w)) = &mut self.current {
            let before = w.bytes_written();
            w.write_packet(ts, data, origlen)
                .map_err(|source| LiveError::Output {
                    path: path.clone(),
                    source,
                })?;
            self.bytes_total += w.bytes_written() - before;
        }
        Ok(())
    }

    /// Writes the statistics block to the current file and closes it.
    pub fn close(&mut self, stats: &EndStats) -> Result<(), LiveError> {
        if let Some((path, w)) = self.current.take() {
            let buf = w.finish(stats).map_err(|source| LiveError::Output {
                path: path.clone(),
                source,
            })?;
            let file = buf.into_inner().map_err(|e| LiveError::Output {
                path: path.clone(),
                source: e.into_error(),
            })?;
            file.sync_data()
                .map_err(|source| LiveError::Output { path, source })?;
        }
        Ok(())
    }

    /// Files created by this run (including any deleted by `max_files`).
    #[must_use]
    pub fn files_written(&self) -> u64 {
        self.files_written
    }

    /// Packet bytes written across all files (block overhead included).
    #[must_use]
    pub fn bytes_written(&self) -> u64 {
        self.bytes_total
    }

    /// The files of this run still on disk, oldest first.
    #[must_use]
    pub fn kept_files(&self) -> Vec<PathBuf> {
        self.kept.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trident_types::{LinkType, Timestamp};

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("trident-live-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn iface() -> InterfaceDescription {
        InterfaceDescription {
            link_type: LinkType::ETHERNET,
            snaplen: 65535,
            name: "x".into(),
            description: String::new(),
        }
    }

    #[test]
    fn names() {
        let t = OutputTarget::new(Path::new("/nonexistent/cap.pcapng"), true, "p".into());
        assert_eq!(t.file(3), PathBuf::from("/nonexistent/cap-00003.pcapng"));
        let t = OutputTarget::new(Path::new("/nonexistent/cap.pcapng"), false, "p".into());
        assert_eq!(t.file(1), PathBuf::from("/nonexistent/cap.pcapng"));
        let t = OutputTarget::new(&std::env::temp_dir(), false, "p".into());
        assert_eq!(t.file(2), std::env::temp_dir().join("p-00002.pcapng"));
    }

    /// Rotating by size with max_files 2 leaves exactly the two newest files, each readable.
    #[test]
    fn size_rotation_keeps_newest() {
        let dir = tmpdir("rot");
        let policy = RotatePolicy {
            every: None,
            max_bytes: Some(1000),
            max_files: Some(2),
        };
        let mut r = Rotator::new(OutputTarget::new(&dir, true, "t".into()), policy, iface());
        let data = [7u8; 200];
        let mut written = 0u64;
        for i in 0..30 {
            if r.due(Instant::now()) {
                r.rotate(&EndStats::default()).unwrap();
            }
            r.write(Timestamp(i), &data, 200).unwrap();
            written += 1;
        }
        r.close(&EndStats::default()).unwrap();
        assert!(r.files_written() > 2);
        let mut on_disk: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, r.kept_files());
        assert_eq!(on_disk.len(), 2);
        let last = format!("t-{:05}.pcapng", r.files_written());
        assert!(on_disk[1].ends_with(last));
        let mut frames = 0;
        for p in &on_disk {
            let input = trident_capture::Input::File(p.clone());
            let mut rd = trident_capture::CaptureReader::open(&input).unwrap();
            while rd.next_frame().unwrap().is_some() {
                frames += 1;
            }
        }
        assert!(frames > 0 && frames < written);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
