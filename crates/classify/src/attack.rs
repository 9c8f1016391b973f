//! The flow-level attack model: features of one flow record, labels from a generator's
//! attack windows, and the two targets (attack vs benign, and attack type).
//!
//! # Features (schema [`ATTACK_FEATURE_SCHEMA`])
//!
//! One row per flow, from [`FlowRecord`] only. Counts, bytes, durations and gaps are
//! `ln(1 + x)` (they span six orders of magnitude; the forest does not care, softmax does).
//! What is left out on purpose: addresses, MACs, exact ports, flow ids, timestamps and the
//! end reason, which identify a capture session or a host rather than a behaviour (the
//! mistake that inflates AntiNex's published accuracy, see BENCHMARKS.md "Attack model").
//!
//! | group | features |
//! |---|---|
//! | protocol | one-hot tcp, udp, icmp, other |
//! | size of the exchange | duration; packets, wire bytes and payload bytes each way; responder/originator packet ratio; whether the responder answered |
//! | packet sizes | min, max, mean, standard deviation of IP packet sizes each way |
//! | timing | min, max, mean, standard deviation of inter-arrival gaps each way; handshake round trip |
//! | TCP flags | per direction, the share of packets with SYN, ACK, FIN, RST, PSH, URG, ECE, CWR |
//! | connection state | zeek's `conn_state`, one-hot (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH) |
//! | ports | responder and originator port bucketed: none, well-known (< 1024), registered (< 49152), dynamic |
//! | crafted packets | the originator's first TTL; its SYN's window, MSS and window scale (0 when absent) |
//! | application | DNS question count; whether an HTTP Host or a TLS ClientHello was seen |
//!
//! # Labels
//!
//! A labels file holds attack windows, one a line: `start,end,src,dst,label` (epoch seconds
//! with an optional fraction; `dst` may be empty for any responder; a header line and `#`
//! comments are allowed). A flow is labelled with the first window whose `src` is its
//! originator, whose `dst` (if given) is its responder, and which contains its first packet;
//! every other flow is [`BENIGN`]. `bench/attack-traffic.sh` writes such files from what it
//! ran, so labels are never guessed.

use std::net::IpAddr;
use std::path::Path;

use trident_flow::{ConnState, FlowRecord};
use trident_types::Timestamp;

use crate::train::TrainError;

/// Name of the flow feature schema a flow-level model is trained on.
pub const ATTACK_FEATURE_SCHEMA: &str = "trident-flow-attack-v1";

/// The label of flows outside every attack window.
pub const BENIGN: &str = "benign";

/// The binary target's label for flows inside an attack window.
pub const ATTACK: &str = "attack";

/// Most lines a labels file may have.
pub const MAX_WINDOWS: usize = 1_000_000;

const CONN_STATES: [&str; 13] = [
    "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
];
const FLAGS: [&str; 8] = ["syn", "ack", "fin", "rst", "psh", "urg", "ece", "cwr"];
const PORT_BUCKETS: [&str; 4] = ["none", "well_known", "registered", "dynamic"];

/// The feature names, in model input order.
#[must_use]
pub fn attack_feature_names() -> Vec<String> {
    let mut n: Vec<String> = ["proto_tcp", "proto_udp", "proto_icmp", "proto_other"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for s in [
        "log_duration_ms",
        "log_orig_pkts",
        "log_resp_pkts",
        "log_orig_bytes",
        "log_resp_bytes",
        "log_orig_payload_bytes",
        "log_resp_payload_bytes",
        "resp_orig_pkt_ratio",
        "responded",
    ] {
        n.push(s.to_owned());
    }
    for dir in ["orig", "resp"] {
        for s in ["min", "max", "mean", "std"] {
            n.push(format!("{dir}_size_{s}"));
        }
    }
    for dir in ["orig", "resp"] {
        for s in ["min", "max", "mean", "std"] {
            n.push(format!("log_{dir}_iat_{s}_ms"));
        }
    }
    n.push("log_tcp_rtt_ms".to_owned());
    for dir in ["orig", "resp"] {
        for f in FLAGS {
            n.push(format!("{dir}_{f}_share"));
        }
    }
    for c in CONN_STATES {
        n.push(format!("conn_{c}"));
    }
    for side in ["resp", "orig"] {
        for b in PORT_BUCKETS {
            n.push(format!("{side}_port_{b}"));
        }
    }
    for s in [
        "orig_ttl",
        "syn_window",
        "syn_mss",
        "syn_wscale",
        "dns_queries",
        "http",
        "tls",
    ] {
        n.push(s.to_owned());
    }
    n
}

#[allow(clippy::cast_precision_loss)]
fn lg(x: u64) -> f64 {
    (x as f64).ln_1p()
}

fn lgf(x: Option<f64>) -> f64 {
    x.map_or(0.0, |v| v.max(0.0).ln_1p())
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn port_bucket(port: Option<u16>) -> usize {
    match port {
        None => 0,
        Some(p) if p < 1024 => 1,
        Some(p) if p < 49152 => 2,
        Some(_) => 3,
    }
}

fn conn_state_index(c: ConnState) -> usize {
    let name = format!("{c:?}");
    CONN_STATES
        .iter()
        .position(|s| *s == name)
        .unwrap_or(CONN_STATES.len() - 1)
}

/// The feature row of one flow (in [`attack_feature_names`] order).
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn flow_features(f: &FlowRecord) -> Vec<f64> {
    let mut v = Vec::with_capacity(80);
    let proto = match f.protocol {
        6 => 0,
        17 => 1,
        1 | 58 => 2,
        _ => 3,
    };
    for i in 0..4 {
        v.push(flag(i == proto));
    }
    v.push(lgf(Some(f.duration_ms)));
    v.extend([
        lg(f.orig_pkts),
        lg(f.resp_pkts),
        lg(f.orig_bytes),
        lg(f.resp_bytes),
        lg(f.orig_payload_bytes),
        lg(f.resp_payload_bytes),
    ]);
    v.push(f.resp_pkts as f64 / (f.orig_pkts.max(1) as f64));
    v.push(flag(f.resp_pkts > 0));
    let u = |x: Option<u32>| x.map_or(0.0, f64::from);
    let o = |x: Option<f64>| x.unwrap_or(0.0);
    v.extend([
        u(f.orig_size_min_bytes),
        u(f.orig_size_max_bytes),
        o(f.orig_size_mean_bytes),
        o(f.orig_size_std_bytes),
        u(f.resp_size_min_bytes),
        u(f.resp_size_max_bytes),
        o(f.resp_size_mean_bytes),
        o(f.resp_size_std_bytes),
    ]);
    v.extend([
        lgf(f.orig_iat_min_ms),
        lgf(f.orig_iat_max_ms),
        lgf(f.orig_iat_mean_ms),
        lgf(f.orig_iat_std_ms),
        lgf(f.resp_iat_min_ms),
        lgf(f.resp_iat_max_ms),
        lgf(f.resp_iat_mean_ms),
        lgf(f.resp_iat_std_ms),
    ]);
    v.push(lgf(f.tcp_rtt_ms));
    let share = |n: u32, pkts: u64| f64::from(n) / (pkts.max(1) as f64);
    for (flags, pkts) in [
        (
            [
                f.orig_syn_pkts,
                f.orig_ack_pkts,
                f.orig_fin_pkts,
                f.orig_rst_pkts,
                f.orig_psh_pkts,
                f.orig_urg_pkts,
                f.orig_ece_pkts,
                f.orig_cwr_pkts,
            ],
            f.orig_pkts,
        ),
        (
            [
                f.resp_syn_pkts,
                f.resp_ack_pkts,
                f.resp_fin_pkts,
                f.resp_rst_pkts,
                f.resp_psh_pkts,
                f.resp_urg_pkts,
                f.resp_ece_pkts,
                f.resp_cwr_pkts,
            ],
            f.resp_pkts,
        ),
    ] {
        for n in flags {
            v.push(share(n, pkts));
        }
    }
    let state = conn_state_index(f.conn_state);
    for i in 0..CONN_STATES.len() {
        v.push(flag(i == state));
    }
    for port in [f.resp_port, f.orig_port] {
        let b = port_bucket(port);
        for i in 0..PORT_BUCKETS.len() {
            v.push(flag(i == b));
        }
    }
    v.push(f.orig_ttl.map_or(0.0, f64::from));
    let syn = f.orig_syn.as_ref();
    v.push(syn.map_or(0.0, |s| f64::from(s.window)));
    v.push(syn.and_then(|s| s.mss).map_or(0.0, f64::from));
    v.push(syn.and_then(|s| s.window_scale).map_or(0.0, f64::from));
    v.push(f.dns_queries.len() as f64);
    v.push(flag(f.http_host.is_some()));
    v.push(flag(f.tls_ja3.is_some() || f.tls_sni.is_some()));
    v
}

/// Which labels a model learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// [`ATTACK`] vs [`BENIGN`].
    Binary,
    /// The attack type from the labels file, or [`BENIGN`].
    Type,
}

impl Target {
    /// The label of a flow whose attack-type label is `type_label`.
    #[must_use]
    pub fn label(self, type_label: &str) -> String {
        match self {
            Target::Type => type_label.to_owned(),
            Target::Binary if type_label == BENIGN => BENIGN.to_owned(),
            Target::Binary => ATTACK.to_owned(),
        }
    }
}

/// One attack window of a labels file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackWindow {
    /// First instant of the window.
    pub start: Timestamp,
    /// Last instant of the window.
    pub end: Timestamp,
    /// The attacker (the originator of the attack's flows).
    pub src: IpAddr,
    /// The victim (the responder), or any responder.
    pub dst: Option<IpAddr>,
    /// The attack type.
    pub label: String,
    /// Line in the labels file (1-based).
    pub line: usize,
}

/// The attack windows of a labels file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttackLabels {
    /// Windows in file order; the first that matches a flow labels it.
    pub windows: Vec<AttackWindow>,
}

/// Parses epoch seconds with an optional fraction (`1795384225.00292`) exactly, without a
/// detour through floating point.
fn parse_epoch(text: &str) -> Option<Timestamp> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let mut nanos: u32 = 0;
    for i in 0..9 {
        let d = frac.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + d;
    }
    secs.checked_mul(1_000_000_000)?;
    Some(Timestamp::from_secs_nanos(secs, nanos))
}

impl AttackLabels {
    /// Reads a labels file.
    ///
    /// # Errors
    /// [`TrainError::LabelsIo`] when the file cannot be read; [`TrainError::Labels`] naming
    /// the file and line of the first bad line.
    pub fn from_file(path: &Path) -> Result<AttackLabels, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|source| TrainError::LabelsIo {
            path: path.to_path_buf(),
            source,
        })?;
        AttackLabels::parse(&text, path)
    }

    /// Parses the text of a labels file (`path` names it in errors).
    ///
    /// # Errors
    /// [`TrainError::Labels`] naming the line and field of the first bad line.
    pub fn parse(text: &str, path: &Path) -> Result<AttackLabels, TrainError> {
        let mut windows = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| TrainError::Labels {
                path: path.to_path_buf(),
                line,
                message,
            };
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if windows.is_empty() && l.starts_with("start,") {
                continue;
            }
            if windows.len() >= MAX_WINDOWS {
                return Err(err(format!("more than {MAX_WINDOWS} windows")));
            }
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let [start, end, src, dst, label] = f.as_slice() else {
                return Err(err(format!(
                    "expected 5 fields start,end,src,dst,label, found {}",
                    f.len()
                )));
            };
            let start = parse_epoch(start)
                .ok_or_else(|| err(format!("start: not epoch seconds: {start:?}")))?;
            let end =
                parse_epoch(end).ok_or_else(|| err(format!("end: not epoch seconds: {end:?}")))?;
            if end < start {
                return Err(err("end is before start".into()));
            }
            let src: IpAddr = src
                .parse()
                .map_err(|_| err(format!("src: not an IP address: {src:?}")))?;
            let dst: Option<IpAddr> = if dst.is_empty() {
                None
            } else {
                Some(
                    dst.parse()
                        .map_err(|_| err(format!("dst: not an IP address: {dst:?}")))?,
                )
            };
            if label.is_empty() || *label == BENIGN || *label == ATTACK {
                return Err(err(format!(
                    "label: must name an attack type, not {label:?}"
                )));
            }
            windows.push(AttackWindow {
                start,
                end,
                src,
                dst,
                label: (*label).to_owned(),
                line,
            });
        }
        Ok(AttackLabels { windows })
    }

    /// The index of the window that labels `flow`, if any.
    #[must_use]
    pub fn window_of(&self, flow: &FlowRecord) -> Option<usize> {
        self.windows.iter().position(|w| {
            w.src == flow.orig_ip
                && w.dst.is_none_or(|d| d == flow.resp_ip)
                && flow.first_ts >= w.start
                && flow.first_ts <= w.end
        })
    }

    /// The attack-type label of `flow`: its window's label, or [`BENIGN`].
    #[must_use]
    pub fn label_of(&self, flow: &FlowRecord) -> &str {
        self.window_of(flow)
            .and_then(|i| self.windows.get(i))
            .map_or(BENIGN, |w| w.label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_parsing_is_exact() {
        assert_eq!(
            parse_epoch("1795384225.00292"),
            Some(Timestamp::from_secs_nanos(1_795_384_225, 2_920_000))
        );
        assert_eq!(parse_epoch("12"), Some(Timestamp::from_secs_nanos(12, 0)));
        assert_eq!(parse_epoch("1.2.3"), None);
        assert_eq!(parse_epoch("-1"), None);
        assert_eq!(parse_epoch("1.0123456789"), None);
        assert_eq!(parse_epoch(""), None);
    }

    #[test]
    fn labels_file_errors_name_the_line() {
        let p = Path::new("l.csv");
        let ok = AttackLabels::parse(
            "start,end,src,dst,label\n# c\n1.5,2.5,10.0.0.1,,syn-scan\n",
            p,
        );
        assert_eq!(ok.map(|l| l.windows.len()).ok(), Some(1));
        let bad = AttackLabels::parse("1,2,10.0.0.1,10.0.0.2,syn-scan\n3,2,10.0.0.1,,x\n", p);
        let msg = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("line 2") || msg.contains(":2"), "{msg}");
        assert!(AttackLabels::parse("1,2,nope,,x\n", p).is_err());
        assert!(AttackLabels::parse("1,2,10.0.0.1,,benign\n", p).is_err());
    }

    #[test]
    fn feature_row_matches_names() {
        assert_eq!(attack_feature_names().len(), 74);
        let n = attack_feature_names();
        let uniq: std::collections::BTreeSet<&String> = n.iter().collect();
        assert_eq!(uniq.len(), n.len());
    }
}
