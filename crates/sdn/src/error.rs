//! Errors: [`SdnError`] for the engine and its inputs, [`MirrorError`] for mirror back-ends.

use std::path::PathBuf;

/// A mirror back-end ([`crate::MirrorControl`]) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// The back-end could not be reached (connection, TLS, unreadable file).
    #[error("{backend}: unreachable: {detail}")]
    Unreachable {
        /// Back-end name (`faucet.yaml`, `faucetconfrpc`).
        backend: &'static str,
        /// What failed.
        detail: String,
    },
    /// The back-end refused the change (gRPC status, `check_faucet_config` rejection).
    #[error("{backend}: {op} {dp_name} port {port_no}: refused: {detail}")]
    Refused {
        /// Back-end name.
        backend: &'static str,
        /// Operation (`AddPortMirror`, `RemovePortMirror`, `ClearPortMirror`).
        op: &'static str,
        /// DP name.
        dp_name: String,
        /// Host port (or the mirror port for `ClearPortMirror`).
        port_no: u32,
        /// The back-end's message.
        detail: String,
    },
    /// The Faucet configuration file could not be read, parsed or written.
    #[error("{}: {detail}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the YAML position when there is one.
        detail: String,
    },
    /// The DP or the mirror port is not in Faucet's configuration.
    #[error("{backend}: DP {dp_name:?} has no port {port_no} in its configuration")]
    MissingPort {
        /// Back-end name.
        backend: &'static str,
        /// DP name.
        dp_name: String,
        /// The missing port.
        port_no: u32,
    },
}

/// Everything else that can go wrong in the SDN engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdnError {
    /// A configuration file is invalid.
    #[error("{}: {detail}", path.display())]
    Config {
        /// The file (empty for built-in configuration).
        path: PathBuf,
        /// What is wrong (key, line).
        detail: String,
    },
    /// The endpoint store failed.
    #[error("endpoint store {}: {source}", path.display())]
    Store {
        /// The SQLite file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, naming the file or socket.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A mirror back-end failed.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// RabbitMQ failed.
    #[error("RabbitMQ {what}: {detail}")]
    Rabbit {
        /// What was being done.
        what: String,
        /// lapin's message.
        detail: String,
    },
    /// A command named an endpoint that does not exist.
    #[error("no endpoint matches {0:?}")]
    NoSuchEndpoint(String),
    /// A command is not valid for the endpoint's state.
    #[error("{0}")]
    Invalid(String),
}

impl SdnError {
    /// An I/O error naming what was being done.
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        SdnError::Io {
            what: what.into(),
            source,
        }
    }
}
