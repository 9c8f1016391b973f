//! Errors of the capture stage: each names the source and the byte offset.
use std::fmt;
use std::io;

/// A capture source could not be read (further). Everything before `offset` was delivered.
#[derive(Debug)]
pub struct CaptureError {
    /// The file path, or `-` for stdin.
    pub source_name: String,
    /// Byte offset in the decompressed stream where the problem is.
    pub offset: u64,
    /// What went wrong.
    pub kind: CaptureErrorKind,
}

/// What went wrong while reading a capture.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The operating system refused or failed a read.
    Io(io::Error),
    /// The first bytes are not a pcap, pcapng, gzip or zstd magic number.
    UnknownFormat {
        /// The first four bytes seen (fewer if the file is shorter).
        magic: Vec<u8>,
    },
    /// The file ends inside a header or record.
    Truncated {
        /// What was being read: "global header", "record header", "record data" (pcap);
        /// "section header block", "block header", "block" (pcapng).
        what: &'static str,
    },
    /// A record or block declares a length beyond [`crate::MAX_RECORD_LEN`] or its block.
    RecordTooLarge {
        /// The declared length.
        declared: u64,
        /// The limit it exceeds.
        limit: u64,
    },
    /// The container structure is invalid (bad block length, bad section header, ...).
    Malformed(String),
    /// A pcapng packet references an interface that was never described.
    UnknownInterface(u32),
    /// The compressed stream is corrupt.
    Decompress(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: at byte {}: {}",
            self.source_name, self.offset, self.kind
        )
    }
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureErrorKind::Io(e) => write!(f, "read failed: {e}"),
            CaptureErrorKind::UnknownFormat { magic } => {
                write!(f, "not a pcap, pcapng, gzip or zstd file (starts with")?;
                for b in magic {
                    write!(f, " {b:02x}")?;
                }
                write!(f, ")")
            }
            CaptureErrorKind::Truncated { what } => write!(f, "file ends inside the {what}"),
            CaptureErrorKind::RecordTooLarge { declared, limit } => {
                write!(
                    f,
                    "record declares {declared} bytes, more than the limit of {limit}"
                )
            }
            CaptureErrorKind::Malformed(m) => write!(f, "malformed: {m}"),
            CaptureErrorKind::UnknownInterface(i) => {
                write!(f, "packet refers to undescribed interface {i}")
            }
            CaptureErrorKind::Decompress(m) => write!(f, "decompression failed: {m}"),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
