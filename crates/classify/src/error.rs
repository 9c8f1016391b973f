//! Errors of the classify stage. Each says what the user can do about it.

use std::path::PathBuf;

/// Why a model could not be loaded or a capture could not be classified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// A model file could not be read from disk.
    #[error("cannot read model file {path}: {source}")]
    ModelIo {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The model file is not valid JSON or lacks required keys (truncated, edited, not a
    /// model at all).
    #[error("model file is corrupt: {0}")]
    ModelCorrupt(String),
    /// The file is JSON but not a trident model (`format` is not `trident-model`).
    #[error("not a trident model file (format is {found:?}, expected \"trident-model\")")]
    ModelFormat {
        /// The `format` value found.
        found: String,
    },
    /// A model file written by a newer trident.
    #[error("model file version {found} is not supported (this trident reads version {supported})")]
    ModelVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The model's numbers do not fit together (a layer's width differs from the next
    /// layer's input, a value is not finite, a scale is zero).
    #[error("model is inconsistent: {0}")]
    ModelInvalid(String),
    /// The model was trained on other features than the featurizer computes.
    #[error(
        "model feature schema {found:?} ({found_len} features) does not match the {expected:?} \
         featurizer ({expected_len} features){}",
        first_difference.as_ref().map(|(i, want, got)| format!(
            ": feature {i} is {got:?} in the model, {want:?} in the featurizer")).unwrap_or_default()
    )]
    SchemaMismatch {
        /// The featurizer's schema name.
        expected: String,
        /// The model's schema name.
        found: String,
        /// Number of features the featurizer computes.
        expected_len: usize,
        /// Number of features the model takes.
        found_len: usize,
        /// The first position where the names differ: (index, featurizer's, model's).
        first_difference: Option<(usize, String, String)>,
    },
    /// A capture could not be read (the capture stage's error, already naming file and offset).
    #[error(transparent)]
    Capture(#[from] trident_capture::CaptureError),
    /// The capture holds no frames.
    #[error("{source_name}: the capture holds no packets")]
    EmptyCapture {
        /// The capture's name.
        source_name: String,
    },
    /// No unicast MAC address appears in the capture, so there is no host to classify.
    #[error(
        "{source_name}: no unicast host in the capture (no frame has a unicast Ethernet source \
         or destination address)"
    )]
    NoUnicastHost {
        /// The capture's name.
        source_name: String,
    },
    /// networkML 0.6.19 itself fails on this capture (and writes no prediction); in
    /// `--compat networkml` mode trident reports the same failure instead of inventing a
    /// result.
    #[error("{source_name}: networkML 0.6.19 cannot classify this capture: {reason}")]
    NetworkMlFails {
        /// The capture's name.
        source_name: String,
        /// What networkML trips over.
        reason: NetworkMlFailure,
    },
    /// `--mac` or `--ip` named a host that does not appear in the capture.
    #[error("{source_name}: no host matches {selector}")]
    NoSuchHost {
        /// The capture's name.
        source_name: String,
        /// The selector as given.
        selector: String,
    },
}

/// The ways networkML 0.6.19 fails on a capture (reference §8). Each is a deliberate
/// failure in compat mode, reported rather than silently "fixed".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkMlFailure {
    /// Frames of a link type other than Ethernet: networkML asserts `eth.src` is not all
    /// null, or crashes on a null MAC.
    #[error(
        "frame {frame} has link type {link_type}, not Ethernet (networkML needs eth.src/eth.dst on every frame)"
    )]
    NotEthernet {
        /// 1-based frame number.
        frame: u64,
        /// The link type number.
        link_type: u16,
    },
    /// A frame too short to carry both Ethernet addresses: networkML crashes converting the
    /// missing MAC (`cannot convert float NaN to integer`).
    #[error("frame {frame} has no complete Ethernet source/destination address")]
    MissingMac {
        /// 1-based frame number.
        frame: u64,
    },
    /// A GRE header's protocol type does not fit networkML's 8-bit `gre.proto` column
    /// (`cannot cast gre.proto to UInt8`).
    #[error("frame {frame} carries GRE protocol type 0x{proto:04x}, which networkML cannot store")]
    GreProtocol {
        /// 1-based frame number.
        frame: u64,
        /// The GRE protocol type.
        proto: u16,
    },
    /// An ARP opcode above 255 (`cannot cast arp.opcode to UInt8`).
    #[error("frame {frame} carries ARP opcode {opcode}, which networkML cannot store")]
    ArpOpcode {
        /// 1-based frame number.
        frame: u64,
        /// The opcode.
        opcode: u16,
    },
    /// The source MAC with the fewest source IPs is a group address; networkML asserts it is
    /// unicast.
    #[error("the canonical source MAC {mac} is not unicast")]
    CanonicalMacNotUnicast {
        /// The MAC, `aa:bb:cc:dd:ee:ff`.
        mac: String,
    },
}
