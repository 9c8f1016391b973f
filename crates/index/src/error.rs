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
    /// The Redis server stayed unreachable (down, restarting, loading) through every retry.
    #[error("redis at {url}: gave up after {attempts} attempts over {secs:.1} s: {source}")]
    Unreachable {
        /// The store URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// Seconds spent retrying.
        secs: f64,
        /// The last failure.
        source: redis::RedisError,
    },
    /// The store holds data written with other parameters (e.g. another potiron format).
    #[error("incompatible store: {0}")]
    Incompatible(String),
    /// The request is not supported by this store.
    #[error("unsupported: {0}")]
    Unsupported(String),
}
