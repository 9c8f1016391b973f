//! Hosts, flows, role predictions and traffic over time, kept beside the counts in the
//! embedded store: what `trident serve` answers its host and flow pages from.
//!
//! # What is stored, and why per file
//!
//! `trident ingest` builds, in the same single pass over a capture's packets as the counts,
//! the capture's flows (`trident flows`), its host inventory (`trident hosts`), a per-minute
//! histogram of packets and bytes, and a role prediction for each host (`trident classify`,
//! trident's default mode). Every row carries the id of the file it came from and is written
//! in the same SQLite transaction as the file's counts, so a file is in the store entirely or
//! not at all, and [`SqliteStore::remove_file`](crate::SqliteStore::remove_file) (or
//! `ingest --force`) removes exactly that file's contribution.
//!
//! Hosts are kept twice: one row per file and host (`host_files`, with the host's
//! [`trident_host::HostRecord`] as that file saw it), and one merged row per host key
//! (`hosts`) that ingest and removal recompute for the keys they touch. Host queries read
//! only the merged table, so listing, filtering, sorting and paging cost the same however
//! many files a host appears in.
//!
//! A host's traffic over time is derived at query time from its flows (each flow's packets
//! and bytes spread evenly over the buckets it spans); the per-sensor histogram is exact to
//! the minute. Answers have at most [`MAX_TRAFFIC_POINTS`] buckets.
//!
//! # Threads
//!
//! A [`SqliteStore`](crate::SqliteStore) is one SQLite connection: `Send`, not `Sync`. The
//! database is in WAL mode, so any number of readers run beside one writer without blocking.
//! A server should keep one read-only store per worker thread
//! ([`SqliteStore::open_read_only`](crate::SqliteStore::open_read_only), cheap to open, each
//! with its own page cache and prepared statements) and one writable store for ingestion and
//! [`SqliteStore::add_prediction`](crate::SqliteStore::add_prediction); a reader sees each
//! file appear at once, whole.
//!
//! # Times
//!
//! Times are [`Timestamp`]s; in JSON they are RFC 3339 UTC strings with milliseconds
//! (`2014-08-01T12:00:00.123Z`, see [`format_rfc3339_ms`] and [`parse_rfc3339`]). Flow and
//! host records embedded as they are printed by `trident flows` / `trident hosts` keep those
//! commands' own format (nanoseconds).

mod build;
mod flowbin;
mod flowblob;
mod merge;
pub(crate) mod query;
mod schema;
mod time;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use trident_types::Timestamp;

pub use build::{
    MAX_CLASSIFY_PACKETS, MinuteTraffic, RecordOptions, Records, RecordsBuilder, classify_capture,
    host_key, model_name, prediction_of,
};
/// Reads a stored flow record's BLOB (what `flow_records.record` holds) into its JSON
/// object: for tools and the fuzzer.
pub use flowblob::decode_blob as decode_flow_record;
pub use query::{MAX_TRAFFIC_POINTS, normalize_key, parse_mac, service_name};

pub use crate::read::{CaptureRead, read_capture_with};
pub(crate) use schema::RECORDS_SCHEMA;
pub use time::{format_rfc3339_ms, parse_rfc3339};

/// Width of a traffic bucket as stored: one minute.
pub const BUCKET_SECONDS: u32 = 60;

/// Most rows a page holds ([`HostFilter::limit`], [`FlowFilter::limit`] are cut to it).
pub const MAX_PAGE: u32 = 1000;

/// Rows in a page when the filter does not say.
pub const DEFAULT_PAGE: u32 = 50;

/// The role a host has when the model gives none.
pub const UNKNOWN_ROLE: &str = "Unknown";

/// Serde helpers for [`Timestamp`] as RFC 3339 UTC with milliseconds.
pub mod ts_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use trident_types::Timestamp;

    /// Writes `2014-08-01T12:00:00.123Z`.
    ///
    /// # Errors
    /// The serializer failed.
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_rfc3339_ms(*t))
    }

    /// Reads any RFC 3339 time (see [`super::parse_rfc3339`]).
    ///
    /// # Errors
    /// The string is not an RFC 3339 time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }

    /// The same for an optional time (`null` when absent).
    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};
        use trident_types::Timestamp;

        /// Writes the time or `null`.
        ///
        /// # Errors
        /// The serializer failed.
        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::format_rfc3339_ms(*t)),
                None => s.serialize_none(),
            }
        }

        /// Reads a time or `null`.
        ///
        /// # Errors
        /// The string is not an RFC 3339 time.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                super::super::parse_rfc3339(&s)
                    .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
            })
            .transpose()
        }
    }
}

/// A page of a longer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// Rows matching the filter, over all pages.
    pub total: u64,
    /// Rows skipped before this page.
    pub offset: u64,
    /// Most rows this page could hold.
    pub limit: u32,
    /// This page's rows.
    pub items: Vec<T>,
}

/// A role and its count (in [`Summary::roles`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleCount {
    /// The role (`Unknown` included).
    pub role: String,
    /// Hosts whose latest prediction has that role.
    pub count: u64,
}

/// What the store holds, for one sensor and/or day or for everything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Packets (from the traffic histogram).
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// Ingested files (of the sensor; with a day, those with traffic on it).
    pub files: u64,
    /// Distinct hosts seen (in the period).
    pub hosts: u64,
    /// Flows that started in the period.
    pub flows: u64,
    /// First packet.
    #[serde(with = "ts_ms::opt", skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub first_seen: Option<Timestamp>,
    /// Last packet.
    #[serde(with = "ts_ms::opt", skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_seen: Option<Timestamp>,
    /// Hosts per role of their latest prediction, most first (hosts never classified are
    /// left out).
    pub roles: Vec<RoleCount>,
    /// Sensors, sorted.
    pub sensors: Vec<String>,
    /// Days with traffic, `YYYY-MM-DD`, sorted.
    pub days: Vec<String>,
}

/// One sensor: its days and packets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensorDays {
    /// The sensor name.
    pub sensor: String,
    /// Days with traffic, `YYYY-MM-DD`, sorted.
    pub days: Vec<String>,
    /// Packets over all days.
    pub packets: u64,
}

/// One host in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostSummary {
    /// The host's key: its MAC, or its IP for a host seen only behind a router.
    pub key: String,
    /// Its MAC, when it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<String>,
    /// Every IP address it used, main address first.
    pub ips: Vec<String>,
    /// Organization the MAC block is registered to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vendor: Option<String>,
    /// Passive OS guess.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub os: Option<String>,
    /// Role of its latest prediction (`Unknown` included); absent if never classified.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
    /// Probability of the latest prediction's top class.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<f64>,
    /// Names it announced or was given (DHCP, mDNS, SSDP).
    pub names: Vec<String>,
    /// First packet of any of its flows.
    #[serde(with = "ts_ms")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub first_seen: Timestamp,
    /// Last packet of any of its flows.
    #[serde(with = "ts_ms")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_seen: Timestamp,
    /// Packets it sent and received.
    pub packets: u64,
    /// Wire bytes it sent and received.
    pub bytes: u64,
    /// Sensors it was seen by, sorted.
    pub sensors: Vec<String>,
    /// True when the MAC forwards traffic for foreign addresses (a router).
    pub router: bool,
    /// State kept outside the index (Poseidon's SDN state); the index leaves it absent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<String>,
}

/// A port a host offered or used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceEntry {
    /// `tcp`, `udp`, or `p<N>` for another IP protocol.
    pub protocol: String,
    /// The port.
    pub port: u16,
    /// A well-known service name for the port, when it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

/// One host in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostDetail {
    /// The list row.
    pub summary: HostSummary,
    /// The host's record as `trident hosts --format json` prints it, merged over every file
    /// it appears in (lists united, counters summed, first/last times widened, other values
    /// from the file where it sent most packets).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub record: serde_json::Value,
    /// Ports it answered on.
    pub services_offered: Vec<ServiceEntry>,
    /// Ports of other hosts that answered it.
    pub services_used: Vec<ServiceEntry>,
    /// Its predictions, newest first.
    pub predictions: Vec<Prediction>,
    /// Its traffic over time, derived from its flows.
    pub traffic: Traffic,
}

/// One flow, as `trident flows --format ndjson` prints it, with the sensor and the capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowRow {
    /// The flow's stable id (`trident flows`' `id`).
    pub id: String,
    /// The sensor of the capture it came from.
    pub sensor: String,
    /// The id of the capture it came from ([`Capture::id`]).
    pub capture: i64,
    /// Every other column of `trident flows --format ndjson` (absent values omitted).
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub record: serde_json::Map<String, serde_json::Value>,
}

/// A role and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleProb {
    /// The class.
    pub role: String,
    /// Its probability.
    pub probability: f64,
}

/// A role prediction for one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prediction {
    /// When: at ingest, the host's last packet in the capture; on demand, the caller's time.
    #[serde(with = "ts_ms")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub ts: Timestamp,
    /// The model's name and file version, e.g. `networkml-0.6.19-host v1`.
    pub model: String,
    /// The host's key.
    pub host: String,
    /// The top classes (3), best first.
    pub top: Vec<RoleProb>,
    /// The top class, or `Unknown`.
    pub role: String,
    /// The top class's probability.
    pub confidence: f64,
    /// Why the role is `Unknown`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The capture it was made from at ingest; absent for a prediction made on demand.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub capture: Option<i64>,
}

/// One bucket of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrafficPoint {
    /// Start of the bucket.
    #[serde(with = "ts_ms")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub ts: Timestamp,
    /// Packets in the bucket.
    pub packets: u64,
    /// Wire bytes in the bucket.
    pub bytes: u64,
}

/// Traffic over time: buckets with traffic, in time order (empty buckets left out).
/// `bucket_seconds` is the width used: the one asked, or a wider round width when the
/// period would otherwise need more than [`MAX_TRAFFIC_POINTS`] buckets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Traffic {
    /// Bucket width.
    pub bucket_seconds: u32,
    /// The buckets.
    pub points: Vec<TrafficPoint>,
}

/// A traffic query. `from`/`to` bound bucket start times (`from` inclusive, `to`
/// exclusive); with a `host` the traffic is the host's flows'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrafficQuery {
    /// Only this sensor.
    pub sensor: Option<String>,
    /// From this time on.
    pub from: Option<Timestamp>,
    /// Before this time.
    pub to: Option<Timestamp>,
    /// Only this host (key or IP address).
    pub host: Option<String>,
    /// Bucket width: a multiple of [`BUCKET_SECONDS`] (0: one minute); widened when the
    /// period would need more than [`MAX_TRAFFIC_POINTS`] buckets.
    pub bucket_seconds: u32,
}

/// An ingested capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Capture {
    /// The store's id for it.
    pub id: i64,
    /// Its base name.
    pub name: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// The sensor it was filed under.
    pub sensor: String,
    /// Size in bytes.
    pub size: u64,
    /// Packets read.
    pub packets: u64,
    /// When it was ingested (wall clock), RFC 3339 UTC.
    pub ingested_at: String,
    /// Flows stored for it.
    pub flows: u64,
    /// Hosts stored for it.
    pub hosts: u64,
}

/// How host lists are sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HostSort {
    /// Last packet (default).
    #[default]
    LastSeen,
    /// First packet.
    FirstSeen,
    /// Packets sent and received.
    Packets,
    /// Bytes sent and received.
    Bytes,
    /// Role name.
    Role,
    /// Prediction confidence.
    Confidence,
    /// Vendor name.
    Vendor,
    /// OS guess.
    Os,
    /// MAC address.
    Mac,
    /// Main IP address (numeric order, IPv4 before IPv6).
    Ip,
}

impl HostSort {
    /// Every sort key.
    pub const ALL: [HostSort; 10] = [
        HostSort::LastSeen,
        HostSort::FirstSeen,
        HostSort::Packets,
        HostSort::Bytes,
        HostSort::Role,
        HostSort::Confidence,
        HostSort::Vendor,
        HostSort::Os,
        HostSort::Mac,
        HostSort::Ip,
    ];

    /// The name used in the API (`last_seen`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            HostSort::LastSeen => "last_seen",
            HostSort::FirstSeen => "first_seen",
            HostSort::Packets => "packets",
            HostSort::Bytes => "bytes",
            HostSort::Role => "role",
            HostSort::Confidence => "confidence",
            HostSort::Vendor => "vendor",
            HostSort::Os => "os",
            HostSort::Mac => "mac",
            HostSort::Ip => "ip",
        }
    }
}

impl FromStr for HostSort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        HostSort::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown sort {s:?}"))
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl FromStr for SortOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "asc" => Ok(SortOrder::Asc),
            "desc" => Ok(SortOrder::Desc),
            _ => Err(format!("unknown order {s:?} (asc or desc)")),
        }
    }
}

/// An IPv4 or IPv6 network, `10.0.0.0/8` or `2001:db8::/32` (a bare address is a /32 or
/// /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    /// The network address (host bits cleared).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Subnet {
    /// True when `ip` is in the network (an IPv4 address never in an IPv6 network).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (lo, hi) = self.range();
        let k = ip_key(ip);
        lo <= k && k <= hi
    }

    /// The first and last address as the store's 16-byte keys ([`ip_key`]).
    #[must_use]
    pub fn range(&self) -> ([u8; 17], [u8; 17]) {
        let (bits, base) = match self.addr {
            IpAddr::V4(a) => (32u32, u128::from(u32::from(a))),
            IpAddr::V6(a) => (128u32, u128::from(a)),
        };
        let host_bits = bits - u32::from(self.prefix);
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let lo = base & !mask;
        let hi = lo | mask;
        let tag = u8::from(matches!(self.addr, IpAddr::V6(_)));
        (key_bytes(tag, lo), key_bytes(tag, hi))
    }
}

fn key_bytes(tag: u8, v: u128) -> [u8; 17] {
    let mut out = [0u8; 17];
    out[0] = tag;
    out[1..].copy_from_slice(&v.to_be_bytes());
    out
}

/// An address as the store keeps it for range queries: a family byte (0 IPv4, 1 IPv6) then
/// the address as a 128-bit big-endian number, so byte order is numeric order within a
/// family and IPv4 sorts before IPv6.
#[must_use]
pub fn ip_key(ip: IpAddr) -> [u8; 17] {
    match ip {
        IpAddr::V4(a) => key_bytes(0, u128::from(u32::from(a))),
        IpAddr::V6(a) => key_bytes(1, u128::from(a)),
    }
}

impl FromStr for Subnet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?}: not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
            None => max,
        };
        let lo = Subnet { addr, prefix }.range().0;
        let mut raw = [0u8; 16];
        raw.copy_from_slice(&lo[1..]);
        let v = u128::from_be_bytes(raw);
        let addr = match addr {
            IpAddr::V4(_) => IpAddr::V4(u32::try_from(v).unwrap_or(0).into()),
            IpAddr::V6(_) => IpAddr::V6(v.into()),
        };
        Ok(Subnet { addr, prefix })
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Which hosts to list. Every set condition must hold; text matches ignore case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFilter {
    /// Role of the latest prediction, exactly (`Unknown` included).
    pub role: Option<String>,
    /// Text in the vendor name.
    pub vendor: Option<String>,
    /// One of its IP addresses is in this network.
    pub subnet: Option<Subnet>,
    /// Text in the OS guess.
    pub os: Option<String>,
    /// Text in its MAC, IP addresses, names or vendor.
    pub q: Option<String>,
    /// Seen by this sensor.
    pub sensor: Option<String>,
    /// Sort key.
    pub sort: HostSort,
    /// Direction (default: descending for times and counts, ascending for text).
    pub order: Option<SortOrder>,
    /// Rows to skip.
    pub offset: u64,
    /// Rows in the page (0: [`DEFAULT_PAGE`]; at most [`MAX_PAGE`]).
    pub limit: u32,
}

/// Which flows to list, newest first. Every set condition must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowFilter {
    /// Either endpoint is this host: a MAC (the host's key) or an IP address.
    pub host: Option<String>,
    /// Either endpoint's port.
    pub port: Option<u16>,
    /// IP protocol number (6 TCP, 17 UDP).
    pub protocol: Option<u8>,
    /// Flows active at or after this time (last packet >= `from`).
    pub from: Option<Timestamp>,
    /// Flows active before this time (first packet < `to`).
    pub to: Option<Timestamp>,
    /// Of captures of this sensor.
    pub sensor: Option<String>,
    /// Rows to skip.
    pub offset: u64,
    /// Rows in the page (0: [`DEFAULT_PAGE`]; at most [`MAX_PAGE`]).
    pub limit: u32,
}

/// Parses a `protocol` parameter: `tcp`, `udp`, `icmp`, `icmpv6` or a number.
#[must_use]
pub fn parse_protocol(s: &str) -> Option<u8> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" | "ipv6-icmp" => Some(58),
        "sctp" => Some(132),
        n => n.parse().ok(),
    }
}

/// The page size a filter asks for, within bounds.
pub(crate) fn page_limit(limit: u32) -> u32 {
    if limit == 0 {
        DEFAULT_PAGE
    } else {
        limit.min(MAX_PAGE)
    }
}
