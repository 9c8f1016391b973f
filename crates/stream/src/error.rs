//! The one error type of the crate.

use thiserror::Error;

/// Why a stream operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A broker URL that cannot be used.
    #[error("broker URL: {0}")]
    Url(String),
    /// Redis answered with an error or the connection failed.
    #[error("redis {context}: {source}")]
    Redis {
        /// What was being done.
        context: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// RabbitMQ answered with an error or the connection failed.
    #[error("amqp {context}: {source}")]
    Amqp {
        /// What was being done.
        context: String,
        /// The client's error.
        #[source]
        source: lapin::Error,
    },
    /// The broker did not confirm a publish.
    #[error("amqp: the broker refused (nack) a published message")]
    Nack,
    /// The sink's SQLite database failed.
    #[error("sink {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The driver's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Input that is not what was expected (an archive, a record).
    #[error("{0}")]
    Format(String),
    /// The publisher's worker thread stopped.
    #[error("publisher stopped: {0}")]
    Stopped(String),
}

impl StreamError {
    pub(crate) fn redis(context: impl Into<String>, source: redis::RedisError) -> Self {
        StreamError::Redis {
            context: context.into(),
            source,
        }
    }
    pub(crate) fn amqp(context: impl Into<String>, source: lapin::Error) -> Self {
        StreamError::Amqp {
            context: context.into(),
            source,
        }
    }
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        StreamError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn sqlite(path: impl Into<String>, source: rusqlite::Error) -> Self {
        StreamError::Sqlite {
            path: path.into(),
            source,
        }
    }
}
