//! networkML 0.6.19 parity: its per-packet fields, its `host` featurizer, its prediction and
//! its two output shapes, reproduced so that the same capture gives the same chosen MAC, the
//! same 221 features and the same probabilities (reference `shared/reference/networkml.md`).
//!
//! The stages mirror networkML's: [`fields`] turns each frame into the 30 fields networkML
//! imports from tshark, [`featurize`] chooses the host and computes its feature row, and
//! [`predict`] applies a [`crate::Model`] the way scikit-learn does, including networkML's
//! detour of the features through a CSV file. [`classify_capture`] runs all three.

pub mod featurize;
pub mod fields;
pub mod names;
pub mod output;
mod tshark_udp_ports;

use trident_capture::CaptureReader;
use trident_types::LinkType;

pub use featurize::{
    HostFeatures, NetIp, PacketRow, canonical_mac, host_features, host_features_of, rows_by_host,
    unicast_macs,
};
pub use fields::{FieldExtractor, FrameFields, IpFlagsEncoding};
pub use names::{N_FEATURES, N_RATIOS, feature_names, ratio_names};
pub use output::{FileResult, PredictMeta, Prediction, predict_json, result_json};

use crate::error::{ClassifyError, NetworkMlFailure};
use crate::model::Model;
use crate::pyfmt::csv_round_trip;

/// The name of networkML's feature schema; a model must declare it to be used here.
pub const FEATURE_SCHEMA: &str = "networkml-0.6.19-host";
/// networkML stores `gre.proto` and `arp.opcode` in 8-bit columns; larger values make it fail.
const NETWORKML_U8_MAX: u16 = 0xff;

/// How a capture is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkMlOptions {
    /// The `ip.flags` encoding (default: TShark 4.x, as the goldens).
    pub ip_flags: IpFlagsEncoding,
    /// Fail where networkML fails (non-Ethernet frames, frames without MACs, GRE, ARP
    /// opcodes above 255) instead of skipping such frames.
    pub strict: bool,
    /// Read TCP and UDP ports of IPv6 packets too (trident's own mode). networkML's port
    /// features test `ip.proto`, an IPv4-only field, so with `false` (networkML) an IPv6
    /// host's ports are never seen.
    pub ipv6_ports: bool,
}

/// All packets of one capture as networkML's featurizer holds them.
#[derive(Debug, Clone, Default)]
pub struct PacketTable {
    /// The capture's name (path or `-`).
    pub source_name: String,
    /// One row per usable frame, in capture order.
    pub rows: Vec<PacketRow>,
    /// Frames read.
    pub frames: u64,
    /// Frames skipped because they carry no Ethernet addresses (only without `strict`).
    pub skipped: u64,
    /// Where reading stopped early, if the capture is damaged: the frames before the damage
    /// are in the table, as tshark (and so networkML) would have used them.
    pub damage: Option<String>,
}

/// Reads every frame of a capture into a [`PacketTable`].
pub fn read_capture(
    reader: &mut CaptureReader,
    options: NetworkMlOptions,
) -> Result<PacketTable, ClassifyError> {
    let source_name = reader.name().to_owned();
    let mut table = PacketTable {
        source_name: source_name.clone(),
        ..PacketTable::default()
    };
    let mut extractor = FieldExtractor::new();
    let fail = |reason| ClassifyError::NetworkMlFails {
        source_name: source_name.clone(),
        reason,
    };
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                table.damage = Some(e.to_string());
                break;
            }
        };
        table.frames += 1;
        if options.strict && frame.link_type != LinkType::ETHERNET {
            return Err(fail(NetworkMlFailure::NotEthernet {
                frame: frame.number,
                link_type: frame.link_type.0,
            }));
        }
        let f = extractor.extract(
            frame.number,
            frame.ts.as_nanos(),
            frame.origlen,
            frame.link_type,
            frame.data,
        );
        if options.strict {
            if let Some(proto) = f.gre_proto.filter(|p| *p > NETWORKML_U8_MAX) {
                return Err(fail(NetworkMlFailure::GreProtocol {
                    frame: f.number,
                    proto,
                }));
            }
            if let Some(opcode) = f.arp_opcode.filter(|p| *p > NETWORKML_U8_MAX) {
                return Err(fail(NetworkMlFailure::ArpOpcode {
                    frame: f.number,
                    opcode,
                }));
            }
        }
        match PacketRow::from_fields(&f, options.ip_flags, options.ipv6_ports) {
            Some(row) => table.rows.push(row),
            None if options.strict => {
                return Err(fail(NetworkMlFailure::MissingMac { frame: f.number }));
            }
            None => table.skipped += 1,
        }
    }
    if table.frames == 0 {
        return Err(ClassifyError::EmptyCapture { source_name });
    }
    Ok(table)
}

impl PacketTable {
    /// networkML's choice of host (default `srcmacid`): the canonical source MAC. Errors
    /// when the capture has no unicast MAC, or (as networkML) when the canonical one is a
    /// group address.
    pub fn canonical_host(&self) -> Result<trident_types::MacAddr, ClassifyError> {
        if unicast_macs(&self.rows).is_empty() {
            return Err(ClassifyError::NoUnicastHost {
                source_name: self.source_name.clone(),
            });
        }
        let mac = canonical_mac(&self.rows).ok_or_else(|| ClassifyError::NoUnicastHost {
            source_name: self.source_name.clone(),
        })?;
        if !featurize::is_unicast(mac) {
            return Err(ClassifyError::NetworkMlFails {
                source_name: self.source_name.clone(),
                reason: NetworkMlFailure::CanonicalMacNotUnicast {
                    mac: mac.to_string(),
                },
            });
        }
        Ok(mac)
    }
}

/// The 221 values the model sees for a host: each feature written with Python `str()` and
/// read back by pandas, as networkML's CSV hand-over does.
#[must_use]
pub fn model_inputs(host: &HostFeatures) -> Vec<f64> {
    host.values.iter().map(|v| csv_round_trip(*v)).collect()
}

/// Class probabilities and networkML's decision for one host. The model must have
/// networkML's feature schema (see [`check_model`]).
pub fn predict(
    model: &Model,
    host: &HostFeatures,
) -> Result<(Prediction, Vec<f64>), ClassifyError> {
    let inputs = model_inputs(host);
    let proba = model.predict_proba(&inputs).ok_or_else(|| {
        ClassifyError::ModelInvalid(format!(
            "model takes {} features, networkML computes {N_FEATURES}",
            model.feature_names().len()
        ))
    })?;
    let decision = model.decision();
    let mut ranked: Vec<(String, f64)> = model
        .classes()
        .iter()
        .cloned()
        .zip(proba.iter().copied())
        .collect();
    // Python's sorted(reverse=True) is stable: equal probabilities stay in class order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(decision.top_n);
    let top_role = match ranked.first() {
        Some((role, p)) if *p > decision.unknown_threshold => role.clone(),
        _ => "Unknown".to_owned(),
    };
    let prediction = Prediction {
        top_role,
        role_list: ranked,
        source_mac: host.mac.to_string(),
        source_ip: host.source_ips.first().map(|ip| ip.python_str()),
        timestamp: csv_round_trip(host.frame_epoch),
    };
    Ok((prediction, proba))
}

/// Checks that a model was trained on networkML's features, in networkML's order.
pub fn check_model(model: &Model) -> Result<(), ClassifyError> {
    let names: Vec<&str> = feature_names().iter().map(String::as_str).collect();
    model.check_schema(FEATURE_SCHEMA, &names)
}

/// What `networkml PATH` computes for one capture with default options: the canonical host,
/// its features and its prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct CompatResult {
    /// The classified host's features.
    pub host: HostFeatures,
    /// Its prediction.
    pub prediction: Prediction,
    /// All class probabilities, in the model's class order.
    pub probabilities: Vec<f64>,
    /// Frames read.
    pub frames: u64,
}

/// Runs networkML's three stages on one capture: fields, canonical host, features,
/// prediction. `options.strict` should be set for parity (networkML's failures become
/// errors).
pub fn classify_capture(
    reader: &mut CaptureReader,
    model: &Model,
    options: NetworkMlOptions,
) -> Result<CompatResult, ClassifyError> {
    check_model(model)?;
    let table = read_capture(reader, options)?;
    let mac = table.canonical_host()?;
    let host = host_features(&table.rows, mac);
    let (prediction, probabilities) = predict(model, &host)?;
    Ok(CompatResult {
        host,
        prediction,
        probabilities,
        frames: table.frames,
    })
}
