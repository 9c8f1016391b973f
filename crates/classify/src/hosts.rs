//! trident's own classification mode: every unicast host of a capture, each with a role or
//! an honest `Unknown` and the reason for it.
//!
//! # Why not just networkML's answer for every host
//!
//! networkML classifies one host per capture, picks its `source_ip` at random among the
//! host's addresses, and reports probabilities near 1.0 for hosts unlike anything it was
//! trained on (a capture of only IPv6 traffic, an IPsec gateway whose packets arrive in
//! microsecond bursts): the softmax of a network fed inputs tens or thousands of standard
//! deviations from its training data says nothing about the host. This mode uses the same
//! features and model but
//!
//! - classifies every unicast MAC (or the ones selected by MAC or IP);
//! - reports the host's most frequent source IP, so the answer is the same on every run;
//! - reads `ip.flags` the way the model's training data had it ([`IpFlagsEncoding::Word16`]);
//! - answers `Unknown` when the host sent or received too few packets to describe it, when
//!   a feature lies further than [`HostOptions::max_abs_z`] training standard deviations
//!   from the training mean (naming the feature), when the model has a novelty section and
//!   no training host is within its threshold, or when the top probability — calibrated by
//!   the model's temperature, if it has one — is not above the model's threshold.

use std::net::IpAddr;

use trident_types::MacAddr;

use crate::error::ClassifyError;
use crate::model::Model;
use crate::networkml::{
    HostFeatures, IpFlagsEncoding, NetIp, PacketTable, check_model, feature_names,
    host_features_of, model_inputs, rows_by_host,
};

/// Default for [`HostOptions::max_abs_z`]. On the networkML goldens, hosts the model has a
/// real basis for stay below 16 (a printer's port 631 is 15.8 deviations out); an IPv6-only
/// host is 94 out, an IPsec gateway 8305.
pub const DEFAULT_MAX_ABS_Z: f64 = 30.0;
/// Default for [`HostOptions::min_packets`].
pub const DEFAULT_MIN_PACKETS: u64 = 10;

/// How hosts are classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostOptions {
    /// How `ip.flags` is read; the model was trained on [`IpFlagsEncoding::Word16`].
    pub ip_flags: IpFlagsEncoding,
    /// Features further than this many training standard deviations from the training mean
    /// make the host `Unknown`.
    pub max_abs_z: f64,
    /// Hosts with fewer packets are `Unknown`.
    pub min_packets: u64,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            ip_flags: IpFlagsEncoding::Word16,
            max_abs_z: DEFAULT_MAX_ABS_Z,
            min_packets: DEFAULT_MIN_PACKETS,
        }
    }
}

/// Which hosts to classify: all unicast MACs when both lists are empty, otherwise those
/// with a listed MAC or having sent from a listed IP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSelector {
    /// MAC addresses.
    pub macs: Vec<MacAddr>,
    /// Source IP addresses.
    pub ips: Vec<IpAddr>,
}

impl HostSelector {
    fn is_empty(&self) -> bool {
        self.macs.is_empty() && self.ips.is_empty()
    }

    fn matches(&self, host: &HostFeatures) -> bool {
        self.macs.contains(&host.mac)
            || host.source_ips.iter().any(|ip| {
                let addr = match ip {
                    NetIp::V4(a) => Some(IpAddr::V4(*a)),
                    NetIp::V6(a) => Some(IpAddr::V6(*a)),
                    NetIp::None => None,
                };
                addr.is_some_and(|a| self.ips.contains(&a))
            })
    }
}

/// Why a host is `Unknown`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UnknownReason {
    /// The best class is not above the model's threshold.
    LowConfidence {
        /// The best class's probability.
        probability: f64,
        /// The threshold it must exceed.
        threshold: f64,
    },
    /// A feature is far outside the training data, so the model's output means nothing.
    OutOfDistribution {
        /// The feature furthest out.
        feature: String,
        /// Its value.
        value: f64,
        /// How many training standard deviations from the training mean.
        z: f64,
    },
    /// No training host is near: the nearest lies further than the model's novelty
    /// threshold (see [`crate::model::Novelty`]).
    Novel {
        /// Distance to the nearest training host (clipped standardised units).
        distance: f64,
        /// The model's threshold.
        threshold: f64,
    },
    /// Too few packets to describe the host.
    TooFewPackets {
        /// Packets seen.
        packets: u64,
        /// The minimum.
        min: u64,
    },
}

impl std::fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnknownReason::LowConfidence {
                probability,
                threshold,
            } => write!(
                f,
                "best class has probability {probability:.3}, not above {threshold}"
            ),
            UnknownReason::OutOfDistribution { feature, value, z } => write!(
                f,
                "{feature} = {value} is {z:.0} standard deviations from the training data"
            ),
            UnknownReason::Novel {
                distance,
                threshold,
            } => write!(
                f,
                "unlike every training host: nearest is {distance:.1} away (threshold {threshold:.1})"
            ),
            UnknownReason::TooFewPackets { packets, min } => {
                write!(f, "only {packets} packets (at least {min} needed)")
            }
        }
    }
}

/// The verdict on one host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostVerdict {
    /// The host.
    pub mac: MacAddr,
    /// Its most frequent source IP (ties: first seen), if it sent IP traffic.
    pub source_ip: Option<String>,
    /// All source IPs it used, most frequent first, with packet counts.
    pub source_ips: Vec<(String, u64)>,
    /// Packets sent or received.
    pub packets: u64,
    /// The role, or `Unknown`.
    pub role: String,
    /// Why the role is `Unknown`, if it is.
    pub unknown_reason: Option<UnknownReason>,
    /// The top classes with their probabilities (calibrated when the model has a
    /// temperature), best first.
    pub top: Vec<(String, f64)>,
    /// The host's latest packet time, seconds since the epoch.
    pub timestamp: f64,
}

/// Classifies the selected unicast hosts of a capture, in MAC order. Errors when the
/// capture has no unicast host, or the selection matches none.
pub fn classify_hosts(
    table: &PacketTable,
    model: &Model,
    options: &HostOptions,
    selector: &HostSelector,
) -> Result<Vec<HostVerdict>, ClassifyError> {
    check_model(model)?;
    let hosts = rows_by_host(&table.rows);
    if hosts.is_empty() {
        return Err(ClassifyError::NoUnicastHost {
            source_name: table.source_name.clone(),
        });
    }
    let mut verdicts = Vec::new();
    for (mac, rows) in hosts {
        // MAC selection is decided before the features are computed; IP selection needs
        // the host's source addresses, which the features carry.
        if !selector.is_empty() && selector.ips.is_empty() && !selector.macs.contains(&mac) {
            continue;
        }
        let host = host_features_of(mac, &rows);
        if !selector.is_empty() && !selector.matches(&host) {
            continue;
        }
        verdicts.push(verdict(model, options, &host)?);
    }
    if verdicts.is_empty() {
        let mut wanted: Vec<String> = selector.macs.iter().map(ToString::to_string).collect();
        wanted.extend(selector.ips.iter().map(ToString::to_string));
        return Err(ClassifyError::NoSuchHost {
            source_name: table.source_name.clone(),
            selector: wanted.join(", "),
        });
    }
    Ok(verdicts)
}

/// The verdict on one host's features.
pub fn verdict(
    model: &Model,
    options: &HostOptions,
    host: &HostFeatures,
) -> Result<HostVerdict, ClassifyError> {
    let inputs = model_inputs(host);
    let proba = model.predict_calibrated(&inputs).ok_or_else(|| {
        ClassifyError::ModelInvalid("feature count differs from the model's".into())
    })?;
    let decision = model.decision();
    let mut top: Vec<(String, f64)> = model.classes().iter().cloned().zip(proba).collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    top.truncate(decision.top_n);
    let best = top
        .first()
        .cloned()
        .unwrap_or_else(|| ("Unknown".to_owned(), 0.0));
    let furthest = model
        .standardise(&inputs)
        .iter()
        .zip(feature_names())
        .zip(&inputs)
        .map(|((z, name), v)| (z.abs(), name, *v))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let unknown_reason = if host.packets < options.min_packets {
        Some(UnknownReason::TooFewPackets {
            packets: host.packets,
            min: options.min_packets,
        })
    } else if let Some((z, name, value)) = furthest.filter(|(z, _, _)| *z > options.max_abs_z) {
        Some(UnknownReason::OutOfDistribution {
            feature: name.clone(),
            value,
            z,
        })
    } else if let Some((distance, threshold)) = model.novelty(&inputs).filter(|(d, t)| d > t) {
        Some(UnknownReason::Novel {
            distance,
            threshold,
        })
    } else if best.1 <= decision.unknown_threshold {
        Some(UnknownReason::LowConfidence {
            probability: best.1,
            threshold: decision.unknown_threshold,
        })
    } else {
        None
    };
    let source_ips: Vec<(String, u64)> = host
        .source_ip_counts
        .iter()
        .map(|(ip, n)| (ip.python_str(), *n))
        .collect();
    Ok(HostVerdict {
        mac: host.mac,
        source_ip: source_ips.first().map(|(ip, _)| ip.clone()),
        source_ips,
        packets: host.packets,
        role: if unknown_reason.is_some() {
            "Unknown".to_owned()
        } else {
            best.0
        },
        unknown_reason,
        top,
        timestamp: host.frame_epoch,
    })
}
