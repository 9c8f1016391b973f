//! Faucet's event stream: one JSON object per line, a common header plus exactly one type key
//! (reference section 2.1). Every type Faucet 1.10 emits is parsed into [`EventBody`]; a
//! type we do not know is kept as [`EventBody::Unknown`] and counted; a line that is not an
//! event is a [`MalformedEvent`] and counted. [`EventStats`] keeps the counters, the last
//! time each kind was seen (the answer to "why do no hosts appear?"), and `event_id` gaps
//! and restarts.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One Faucet event.
#[derive(Debug, Clone, PartialEq)]
pub struct FaucetEvent {
    /// `version` (always 1).
    pub version: u64,
    /// `time`: Unix epoch seconds when Faucet queued it.
    pub time: f64,
    /// `dp_id`: datapath id, 0 for controller-wide events.
    pub dp_id: u64,
    /// `dp_name`: DP name from faucet.yaml, `"0"` for controller-wide events.
    pub dp_name: String,
    /// `event_id`: per Faucet process counter.
    pub event_id: u64,
    /// The type key and its body.
    pub body: EventBody,
}

/// `L2_LEARN`: a source MAC learned or moved.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct L2Learn {
    /// Port the MAC was learned on.
    pub port_no: u32,
    /// Previous port on a move.
    #[serde(default)]
    pub previous_port_no: Option<u32>,
    /// VLAN id.
    pub vid: u16,
    /// Source MAC.
    pub eth_src: String,
    /// Destination MAC.
    #[serde(default)]
    pub eth_dst: Option<String>,
    /// Ethertype (2048 IPv4, 2054 ARP, 34525 IPv6).
    #[serde(default)]
    pub eth_type: Option<u32>,
    /// Source IP (`"None"` and null become `None`).
    #[serde(default, deserialize_with = "lax_ip")]
    pub l3_src_ip: Option<IpAddr>,
    /// Destination IP.
    #[serde(default, deserialize_with = "lax_ip")]
    pub l3_dst_ip: Option<IpAddr>,
    /// Set when learned on a stack port, e.g. `"remote DP sw1 Port 4"`.
    #[serde(default)]
    pub stack_descr: Option<String>,
}

/// `L2_EXPIRE`: a learned host timed out or was flushed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct L2Expire {
    /// Port.
    pub port_no: u32,
    /// VLAN id.
    pub vid: u16,
    /// MAC.
    pub eth_src: String,
}

/// `L3_LEARN`: Faucet as a router resolved a neighbour.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct L3Learn {
    /// MAC.
    pub eth_src: String,
    /// IP.
    #[serde(default, deserialize_with = "lax_ip")]
    pub l3_src_ip: Option<IpAddr>,
    /// Port.
    pub port_no: u32,
    /// VLAN id.
    pub vid: u16,
}

/// `PORT_CHANGE`: OpenFlow port status.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PortChange {
    /// Port.
    pub port_no: u32,
    /// `ADD`, `DELETE`, `MODIFY`, `UNKNOWN`.
    pub reason: String,
    /// OFPPS_* bits.
    #[serde(default)]
    pub state: i64,
    /// Port usable.
    pub status: bool,
}

/// `CONFIG_CHANGE`, per DP or controller-wide.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConfigChange {
    /// Per DP: `new`, `warm`, `cold`, or null.
    #[serde(default)]
    pub restart_type: Option<String>,
    /// Controller-wide: did the reload succeed?
    #[serde(default)]
    pub success: Option<bool>,
    /// Controller-wide: files, hashes, error text.
    #[serde(default)]
    pub config_hash_info: Option<ConfigHashInfo>,
}

/// `config_hash_info` of a controller-wide `CONFIG_CHANGE`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConfigHashInfo {
    /// Comma list of files.
    #[serde(default)]
    pub config_files: String,
    /// Comma list of sha256.
    #[serde(default)]
    pub hashes: String,
    /// Error text, empty on success.
    #[serde(default)]
    pub error: String,
}

/// `LAG_CHANGE`: LACP state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LagChange {
    /// Port.
    pub port_no: u32,
    /// Actor state.
    pub state: i64,
    /// Role.
    #[serde(default)]
    pub role: Option<i64>,
}

/// `STACK_STATE`: a stack port's state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StackState {
    /// Port.
    pub port: u32,
    /// -1 none, 0 admin down, 1 initialising, 2 bad, 3 up, 4 gone.
    pub state: i64,
}

/// `STACK_TOPO_CHANGE`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StackTopoChange {
    /// Root DP name.
    #[serde(default)]
    pub stack_root: Option<String>,
    /// networkx node-link graph, kept as JSON.
    #[serde(default)]
    pub graph: Value,
    /// Per DP `root_hop_port` (int or float in Faucet's output).
    #[serde(default)]
    pub dps: BTreeMap<String, Value>,
}

/// `DOT1X`: one inner key.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot1x {
    /// `AUTHENTICATION`, `PORT_UP`, `PORT_DOWN`, `ENABLED`, or another name.
    pub kind: String,
    /// The inner body.
    pub body: Value,
}

/// The body of an event, by type key.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventBody {
    /// `L2_LEARN`.
    L2Learn(L2Learn),
    /// `L2_EXPIRE`.
    L2Expire(L2Expire),
    /// `L3_LEARN`.
    L3Learn(L3Learn),
    /// `PORT_CHANGE`.
    PortChange(PortChange),
    /// `PORTS_STATUS`: port -> usable.
    PortsStatus(BTreeMap<u32, bool>),
    /// `DP_CHANGE`: `cold_start` or `disconnect`.
    DpChange {
        /// The reason.
        reason: String,
    },
    /// `CONFIG_CHANGE`.
    ConfigChange(ConfigChange),
    /// `LAG_CHANGE`.
    LagChange(LagChange),
    /// `STACK_STATE`.
    StackState(StackState),
    /// `STACK_TOPO_CHANGE`.
    StackTopoChange(StackTopoChange),
    /// `DOT1X`.
    Dot1x(Dot1x),
    /// `EVENT_SOCK_HEARTBEAT`.
    Heartbeat,
    /// A type key we do not know.
    Unknown {
        /// The type key.
        kind: String,
        /// Its body.
        body: Value,
    },
}

/// The kinds of event, for counters and last-seen times.
pub const KINDS: &[&str] = &[
    "L2_LEARN",
    "L2_EXPIRE",
    "L3_LEARN",
    "PORT_CHANGE",
    "PORTS_STATUS",
    "DP_CHANGE",
    "CONFIG_CHANGE",
    "LAG_CHANGE",
    "STACK_STATE",
    "STACK_TOPO_CHANGE",
    "DOT1X",
    "EVENT_SOCK_HEARTBEAT",
];

impl EventBody {
    /// The type key (`L2_LEARN`, ...).
    #[must_use]
    pub fn kind(&self) -> &str {
        match self {
            EventBody::L2Learn(_) => "L2_LEARN",
            EventBody::L2Expire(_) => "L2_EXPIRE",
            EventBody::L3Learn(_) => "L3_LEARN",
            EventBody::PortChange(_) => "PORT_CHANGE",
            EventBody::PortsStatus(_) => "PORTS_STATUS",
            EventBody::DpChange { .. } => "DP_CHANGE",
            EventBody::ConfigChange(_) => "CONFIG_CHANGE",
            EventBody::LagChange(_) => "LAG_CHANGE",
            EventBody::StackState(_) => "STACK_STATE",
            EventBody::StackTopoChange(_) => "STACK_TOPO_CHANGE",
            EventBody::Dot1x(_) => "DOT1X",
            EventBody::Heartbeat => "EVENT_SOCK_HEARTBEAT",
            EventBody::Unknown { kind, .. } => kind,
        }
    }
}

/// Why a line is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedEvent {
    /// Not JSON (or not valid UTF-8).
    #[error("not JSON at column {column}: {detail}")]
    NotJson {
        /// Column of the error.
        column: usize,
        /// serde_json's message.
        detail: String,
    },
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// A header field is missing or has the wrong type.
    #[error("header field {0:?} missing or invalid")]
    Header(&'static str),
    /// No type key besides the header.
    #[error("no event type key")]
    NoType,
    /// The body of a known type does not have the expected fields.
    #[error("{kind} body: {detail}")]
    Body {
        /// Type key.
        kind: &'static str,
        /// serde's message.
        detail: String,
    },
}

impl MalformedEvent {
    /// A short class name for counters and once-per-kind logging.
    #[must_use]
    pub fn class(&self) -> String {
        match self {
            MalformedEvent::NotJson { .. } => "not_json".into(),
            MalformedEvent::NotObject => "not_object".into(),
            MalformedEvent::Header(f) => format!("header_{f}"),
            MalformedEvent::NoType => "no_type".into(),
            MalformedEvent::Body { kind, .. } => format!("body_{kind}"),
        }
    }
}

const HEADER_KEYS: &[&str] = &["version", "time", "dp_id", "dp_name", "event_id"];

/// Parses one line (without its `\n`; surrounding whitespace is ignored).
pub fn parse_line(line: &[u8]) -> Result<FaucetEvent, MalformedEvent> {
    let value: Value = serde_json::from_slice(line).map_err(|e| MalformedEvent::NotJson {
        column: e.column(),
        detail: e.to_string(),
    })?;
    let Value::Object(mut map) = value else {
        return Err(MalformedEvent::NotObject);
    };
    let version = map
        .get("version")
        .and_then(Value::as_u64)
        .ok_or(MalformedEvent::Header("version"))?;
    let time = map
        .get("time")
        .and_then(Value::as_f64)
        .ok_or(MalformedEvent::Header("time"))?;
    let dp_id = match map.get("dp_id") {
        Some(v) => lax_u64(v).ok_or(MalformedEvent::Header("dp_id"))?,
        None => return Err(MalformedEvent::Header("dp_id")),
    };
    let dp_name = match map.get("dp_name") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(MalformedEvent::Header("dp_name")),
    };
    let event_id = map
        .get("event_id")
        .and_then(Value::as_u64)
        .ok_or(MalformedEvent::Header("event_id"))?;
    for k in HEADER_KEYS {
        map.remove(*k);
    }
    // Exactly one type key is expected; if Faucet ever adds a header field, prefer a known
    // type key over an unknown one.
    let key = map
        .keys()
        .find(|k| KINDS.contains(&k.as_str()))
        .or_else(|| map.keys().next())
        .cloned()
        .ok_or(MalformedEvent::NoType)?;
    let body = map.remove(&key).unwrap_or(Value::Null);
    let body = parse_body(&key, body)?;
    Ok(FaucetEvent {
        version,
        time,
        dp_id,
        dp_name,
        event_id,
        body,
    })
}

fn typed<T: for<'de> Deserialize<'de>>(kind: &'static str, v: Value) -> Result<T, MalformedEvent> {
    serde_json::from_value(v).map_err(|e| MalformedEvent::Body {
        kind,
        detail: e.to_string(),
    })
}

fn parse_body(key: &str, v: Value) -> Result<EventBody, MalformedEvent> {
    Ok(match key {
        "L2_LEARN" => EventBody::L2Learn(typed("L2_LEARN", v)?),
        "L2_EXPIRE" => EventBody::L2Expire(typed("L2_EXPIRE", v)?),
        "L3_LEARN" => EventBody::L3Learn(typed("L3_LEARN", v)?),
        "PORT_CHANGE" => EventBody::PortChange(typed("PORT_CHANGE", v)?),
        "PORTS_STATUS" => {
            let raw: BTreeMap<String, bool> = typed("PORTS_STATUS", v)?;
            let mut out = BTreeMap::new();
            for (k, b) in raw {
                let port = k.parse().map_err(|_| MalformedEvent::Body {
                    kind: "PORTS_STATUS",
                    detail: format!("port {k:?} is not a number"),
                })?;
                out.insert(port, b);
            }
            EventBody::PortsStatus(out)
        }
        "DP_CHANGE" => {
            #[derive(Deserialize)]
            struct D {
                reason: String,
            }
            let d: D = typed("DP_CHANGE", v)?;
            EventBody::DpChange { reason: d.reason }
        }
        "CONFIG_CHANGE" => EventBody::ConfigChange(typed("CONFIG_CHANGE", v)?),
        "LAG_CHANGE" => EventBody::LagChange(typed("LAG_CHANGE", v)?),
        "STACK_STATE" => EventBody::StackState(typed("STACK_STATE", v)?),
        "STACK_TOPO_CHANGE" => EventBody::StackTopoChange(typed("STACK_TOPO_CHANGE", v)?),
        "DOT1X" => match v {
            Value::Object(m) if m.len() == 1 => {
                let (kind, body) = m.into_iter().next().unwrap_or_default();
                EventBody::Dot1x(Dot1x { kind, body })
            }
            _ => {
                return Err(MalformedEvent::Body {
                    kind: "DOT1X",
                    detail: "expected an object with one key".into(),
                });
            }
        },
        "EVENT_SOCK_HEARTBEAT" => EventBody::Heartbeat,
        other => EventBody::Unknown {
            kind: other.to_string(),
            body: v,
        },
    })
}

fn lax_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s
            .strip_prefix("0x")
            .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok()),
        _ => None,
    }
}

/// `"None"`, `""`, null or an unparsable string -> `None` (Faucet writes `str(None)`).
fn lax_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    let v: Option<Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

/// At most this many distinct type names are counted; the rest go under [`OTHER_KIND`].
pub const MAX_KINDS: usize = 64;
/// The counter name for unknown types beyond [`MAX_KINDS`].
pub const OTHER_KIND: &str = "OTHER";

/// Counters over an event stream.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventStats {
    /// Events parsed, by type key (unknown types included under their key).
    pub by_kind: BTreeMap<String, u64>,
    /// Last time (Unix seconds, our clock) each type key was seen.
    pub last_seen: BTreeMap<String, f64>,
    /// Events of a type we do not know.
    pub unknown: u64,
    /// Lines that were not events, by class.
    pub malformed: BTreeMap<String, u64>,
    /// Times `event_id` jumped forward by more than one (events lost).
    pub id_gaps: u64,
    /// Events lost in those gaps.
    pub id_gap_events: u64,
    /// Times `event_id` went down (Faucet restarted).
    pub id_restarts: u64,
    /// The last `event_id` seen.
    pub last_event_id: Option<u64>,
    #[serde(skip)]
    logged: BTreeSet<String>,
}

impl EventStats {
    /// Counts one parsed event seen at `now` (Unix seconds). Logs the first unknown type of
    /// each name.
    pub fn record(&mut self, ev: &FaucetEvent, now: f64) {
        let mut kind = ev.body.kind();
        // Type names come off the wire: keep the maps bounded.
        if !KINDS.contains(&kind)
            && !self.by_kind.contains_key(kind)
            && self.by_kind.len() >= MAX_KINDS
        {
            kind = OTHER_KIND;
        }
        *self.by_kind.entry(kind.to_string()).or_default() += 1;
        self.last_seen.insert(kind.to_string(), now);
        if let EventBody::Unknown { kind, .. } = &ev.body {
            self.unknown += 1;
            if self.logged.len() < 2 * MAX_KINDS && self.logged.insert(format!("unknown:{kind}")) {
                tracing::warn!(kind, "unknown Faucet event type (counted, logged once)");
            }
        }
        // Controller-wide events (dp_id 0) share the counter.
        if let Some(last) = self.last_event_id {
            if ev.event_id < last {
                self.id_restarts += 1;
            } else if ev.event_id > last + 1 {
                self.id_gaps += 1;
                self.id_gap_events += ev.event_id - last - 1;
            }
        }
        self.last_event_id = Some(ev.event_id);
    }

    /// Counts a malformed line. Logs the first of each class.
    pub fn record_malformed(&mut self, err: &MalformedEvent, origin: &str) {
        let class = err.class();
        *self.malformed.entry(class.clone()).or_default() += 1;
        if self.logged.insert(format!("malformed:{class}")) {
            tracing::warn!(%err, origin, "malformed Faucet event line (counted, logged once per kind)");
        }
    }

    /// Total malformed lines.
    #[must_use]
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = r#"{"version": 1, "time": 1795359825.929069, "dp_id": 1, "dp_name": "sw1", "event_id": 8, "DP_CHANGE": {"reason": "cold_start"}}
{"version": 1, "time": 1795359825.9292672, "dp_id": 1, "dp_name": "sw1", "event_id": 9, "PORTS_STATUS": {"1": true, "2": true, "3": true}}
{"version": 1, "time": 1795359842.941942, "dp_id": 1, "dp_name": "sw1", "event_id": 13, "L2_LEARN": {"port_no": 2, "previous_port_no": null, "vid": 100, "eth_src": "56:f8:a0:89:58:d1", "eth_dst": "9e:3c:05:58:cf:2e", "eth_type": 2054, "l3_src_ip": "10.0.0.2", "l3_dst_ip": "10.0.0.1"}}
{"version": 1, "time": 1795359835.1817997, "dp_id": 1, "dp_name": "sw1", "event_id": 11, "L2_LEARN": {"port_no": 1, "previous_port_no": null, "vid": 100, "eth_src": "9e:3c:05:58:cf:2e", "eth_dst": "33:33:00:00:00:02", "eth_type": 34525, "l3_src_ip": "fe80::9c3c:5ff:fe58:cf2e", "l3_dst_ip": "ff02::2"}}
{"version": 1, "time": 1795359883.562079, "dp_id": 1, "dp_name": "sw1", "event_id": 24, "L2_LEARN": {"port_no": 2, "previous_port_no": null, "vid": 100, "eth_src": "56:f8:a0:89:58:d1", "eth_dst": "33:33:00:00:00:16", "eth_type": 34525, "l3_src_ip": "None", "l3_dst_ip": "None"}}
{"version": 1, "time": 1795359869.7623882, "dp_id": 1, "dp_name": "sw1", "event_id": 16, "L2_EXPIRE": {"port_no": 1, "vid": 100, "eth_src": "9e:3c:05:58:cf:2e"}}
{"version": 1, "time": 1795359869.7638907, "dp_id": 1, "dp_name": "sw1", "event_id": 18, "CONFIG_CHANGE": {"restart_type": "warm"}}
{"version": 1, "time": 1795359869.7735384, "dp_id": 0, "dp_name": "0", "event_id": 19, "CONFIG_CHANGE": {"success": true, "config_hash_info": {"config_files": "/etc/faucet/faucet.yaml", "hashes": "795f3bf7b2fbb3f08a105fafd188d5be8118af775190f950611f20cd73922f4c", "error": ""}}}
{"version": 1, "time": 1795359880.5612578, "dp_id": 1, "dp_name": "sw1", "event_id": 22, "PORT_CHANGE": {"port_no": 2, "reason": "MODIFY", "state": 1, "status": false}}
{"version": 1, "time": 1795359882.57707, "dp_id": 1, "dp_name": "sw1", "event_id": 23, "PORT_CHANGE": {"port_no": 2, "reason": "MODIFY", "state": 4, "status": true}}
{"version": 1, "time": 1795360048.0147414, "dp_id": 1, "dp_name": "sw1", "event_id": 47, "DP_CHANGE": {"reason": "disconnect"}}
{"version": 1, "time": 1795360054.3389537, "dp_id": 1, "dp_name": "sw1", "event_id": 69, "STACK_STATE": {"port": 4, "state": 3}}
{"version": 1, "time": 1795360054.3549232, "dp_id": 2, "dp_name": "sw2", "event_id": 72, "STACK_TOPO_CHANGE": {"stack_root": "sw1", "graph": {"directed": false, "multigraph": true, "graph": {}, "nodes": [{"id": "sw1"}, {"id": "sw2"}], "edges": [{"port_map": {"dp_a": "sw1", "port_a": "Port 4", "dp_z": "sw2", "port_z": "Port 1"}, "source": "sw1", "target": "sw2", "key": "sw1:4-sw2:1"}]}, "dps": {"sw1": {"root_hop_port": 0.0}, "sw2": {"root_hop_port": 1}}}}
{"version": 1, "time": 1795360061.9663439, "dp_id": 2, "dp_name": "sw2", "event_id": 76, "L2_LEARN": {"port_no": 1, "previous_port_no": null, "vid": 100, "eth_src": "9e:3c:05:58:cf:2e", "eth_dst": "92:12:2e:76:63:12", "eth_type": 2054, "l3_src_ip": "10.0.0.1", "l3_dst_ip": "10.0.0.4", "stack_descr": "remote DP sw1 Port 4"}}
{"version": 1, "time": 1795360079.155896, "dp_id": 1, "dp_name": "sw1", "event_id": 98, "L3_LEARN": {"eth_src": "56:f8:a0:89:58:d1", "l3_src_ip": "10.0.0.2", "port_no": 2, "vid": 100}}
{"version": 1, "time": 1795359830.4866972, "dp_id": 0, "dp_name": "0", "event_id": 10, "EVENT_SOCK_HEARTBEAT": null}
{"version": 1, "time": 1, "dp_id": 1, "dp_name": "sw1", "event_id": 99, "LAG_CHANGE": {"port_no": 5, "state": 3, "role": 2}}
{"version": 1, "time": 1, "dp_id": 1, "dp_name": "sw1", "event_id": 100, "DOT1X": {"AUTHENTICATION": {"dp_id": 1, "port": 2, "eth_src": "56:f8:a0:89:58:d1", "status": "success"}}}"#;

    #[test]
    fn every_reference_event_parses() {
        let mut kinds = BTreeSet::new();
        for line in REFERENCE.lines() {
            let ev = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(!matches!(ev.body, EventBody::Unknown { .. }), "{line}");
            kinds.insert(ev.body.kind().to_string());
        }
        for k in KINDS {
            assert!(kinds.contains(*k), "{k} not covered");
        }
    }

    #[test]
    fn none_ip_and_stack_descr() {
        let lines: Vec<_> = REFERENCE.lines().collect();
        let ev = parse_line(lines[4].as_bytes()).unwrap();
        let EventBody::L2Learn(l) = ev.body else {
            panic!()
        };
        assert_eq!(l.l3_src_ip, None);
        let ev = parse_line(lines[13].as_bytes()).unwrap();
        let EventBody::L2Learn(l) = ev.body else {
            panic!()
        };
        assert_eq!(l.stack_descr.as_deref(), Some("remote DP sw1 Port 4"));
        let ev = parse_line(lines[1].as_bytes()).unwrap();
        assert_eq!(
            ev.body,
            EventBody::PortsStatus([(1, true), (2, true), (3, true)].into())
        );
    }

    #[test]
    fn malformed_and_unknown_are_counted() {
        let mut st = EventStats::default();
        for bad in [
            &b"{not json"[..],
            b"[1,2]",
            b"{\"version\": 1}",
            b"{\"version\":1,\"time\":1,\"dp_id\":1,\"dp_name\":\"a\",\"event_id\":1}",
            b"{\"version\":1,\"time\":1,\"dp_id\":1,\"dp_name\":\"a\",\"event_id\":1,\"L2_LEARN\":{\"port_no\":\"x\"}}",
            b"\xff\xfe",
        ] {
            let e = parse_line(bad).unwrap_err();
            st.record_malformed(&e, "test");
        }
        assert_eq!(st.malformed_total(), 6);
        let ev = parse_line(
            b"{\"version\":1,\"time\":1,\"dp_id\":1,\"dp_name\":\"a\",\"event_id\":5,\"NEW_THING\":{\"x\":1}}",
        )
        .unwrap();
        st.record(&ev, 10.0);
        st.record(&ev, 11.0);
        assert_eq!(st.unknown, 2);
        assert_eq!(st.last_seen.get("NEW_THING"), Some(&11.0));
        assert_eq!(st.id_restarts, 0);
    }

    #[test]
    fn unknown_kinds_are_bounded() {
        let mut st = EventStats::default();
        for i in 0..500 {
            let line = format!(
                "{{\"version\":1,\"time\":1,\"dp_id\":1,\"dp_name\":\"a\",\"event_id\":{i},\"T{i}\":null}}"
            );
            st.record(&parse_line(line.as_bytes()).unwrap(), 1.0);
        }
        assert_eq!(st.unknown, 500);
        assert!(st.by_kind.len() <= MAX_KINDS + 1);
        assert!(st.by_kind.get(OTHER_KIND).is_some_and(|n| *n > 400));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..2000 {
            let mut buf = Vec::new();
            for _ in 0..(n % 64) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push(b"{}[]\":,0123 abcL2_LEARNversion"[(x % 30) as usize]);
            }
            let _ = parse_line(&buf);
        }
    }
}
