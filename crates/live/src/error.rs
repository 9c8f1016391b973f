//! The one error type of live capture.

use std::path::PathBuf;

/// Why a live capture could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// libpcap refused to open the interface for lack of privileges.
    #[error(
        "no permission to capture on {interface}: {message}; capturing needs CAP_NET_RAW \
         (and CAP_NET_ADMIN for promiscuous mode): run as root or \
         `setcap cap_net_raw,cap_net_admin=eip` the trident binary"
    )]
    Permission {
        /// The interface asked for.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// libpcap could not open or activate the interface for another reason (no such device,
    /// interface down, ...).
    #[error("cannot capture on {interface}: {message}")]
    Open {
        /// The interface asked for.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// libpcap could not compile the BPF filter expression.
    #[error("bad capture filter {expression:?}: {message}")]
    Filter {
        /// The expression as given.
        expression: String,
        /// libpcap's message, quoted as it gave it.
        message: String,
    },
    /// Reading packets from libpcap failed mid-capture.
    #[error("reading from {interface} failed: {message}")]
    Read {
        /// The interface.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// Creating, writing or deleting an output file failed.
    #[error("{path}: {source}")]
    Output {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A packet sink (live analysis, live publishing) failed.
    #[error("{what}: {message}")]
    Sink {
        /// Which sink (e.g. `live analysis`).
        what: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The configuration cannot work (explained in the message).
    #[error("{0}")]
    Config(String),
}
