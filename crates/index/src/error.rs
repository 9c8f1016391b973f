//! The index's one error type.

use std::path::PathBuf;

/// Why an index operation failed. Malformed packets are not errors (they are simply not
/// counted); these are I/O and store failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The capture could not be opened or read.
    #[error("{path}: {source}")]
    Capture {
        /// The capture.
        path: PathBuf,
        /// What went wrong.
        source: trident_capture::CaptureError,
    },
    /// A file could not be read for hashing, or the data directory could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The embedded store failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The Redis server failed or is unreachable.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The store holds data written with other parameters (e.g. another potiron format).
    #[error("incompatible store: {0}")]
    Incompatible(String),
    /// The request is not supported by this store.
    #[error("unsupported: {0}")]
    Unsupported(String),
}
