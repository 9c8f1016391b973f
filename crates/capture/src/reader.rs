//! The streaming reader. (Bodies being written: this file's public API is fixed.)
use std::io::Read;

use crate::{CaptureError, Input, LinkType, RawFrame};

/// The container format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// Classic libpcap.
    Pcap {
        /// Big-endian header (written on a big-endian machine).
        big_endian: bool,
        /// Nanosecond timestamps (magic `a1b23c4d`).
        nanosecond: bool,
    },
    /// pcapng (byte order of the first section).
    PcapNg {
        /// Big-endian section.
        big_endian: bool,
    },
}

/// How the source was compressed, detected from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard.
    Zstd,
}

/// One capture interface (pcap files have exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Link type of its frames.
    pub link_type: LinkType,
    /// Snap length.
    pub snaplen: u32,
    /// pcapng `if_name`.
    pub name: Option<String>,
    /// pcapng `if_description`.
    pub description: Option<String>,
    /// Timestamp units per second (1_000_000 by default; from `if_tsresol`).
    pub ts_units_per_sec: u64,
    /// pcapng `if_tsoffset`, seconds added to every timestamp.
    pub ts_offset_secs: i64,
}

/// Counters of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Packet records delivered.
    pub frames: u64,
    /// Bytes of the (decompressed) stream consumed.
    pub bytes: u64,
    /// Blocks skipped because they carry no packets (statistics, name resolution, unknown).
    pub skipped_blocks: u64,
}

/// A streaming reader over one capture source.
pub struct CaptureReader {
    name: String,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a file or stdin and detects compression and container from the magic bytes.
    pub fn open(input: &Input) -> Result<Self, CaptureError> {
        let _ = input;
        unimplemented!()
    }

    /// Reads a capture from any byte stream; `name` is used in errors.
    pub fn from_reader(
        name: impl Into<String>,
        reader: Box<dyn Read + Send>,
    ) -> Result<Self, CaptureError> {
        let _ = reader;
        Ok(CaptureReader { name: name.into() })
    }

    /// The next frame, `Ok(None)` at the end. After an error every later call returns
    /// `Ok(None)`: frames before the damage have all been delivered.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        Ok(None)
    }

    /// The source's name (path or `-`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container format.
    #[must_use]
    pub fn container(&self) -> Container {
        unimplemented!()
    }

    /// The compression detected.
    #[must_use]
    pub fn compression(&self) -> Compression {
        unimplemented!()
    }

    /// Interfaces described so far (pcapng may add more as it goes).
    #[must_use]
    pub fn interfaces(&self) -> &[InterfaceInfo] {
        &[]
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> ReadStats {
        ReadStats::default()
    }
}
