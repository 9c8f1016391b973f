//! The flow record: one row of `trident flows`, its field names the public schema.
//!
//! Names follow zeek's conn.log where zeek has the column (`orig_bytes`/`resp_bytes`,
//! `conn_state`) and nfstream's where it has the statistic (`*_min_*`, `*_mean_*`), always
//! paired `orig_`/`resp_` and suffixed with their unit (`_ms`, `_bytes`, `_pkts`).
//! [`COLUMNS`] lists them in output order.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Serialize, Serializer};
use trident_decode::{MacAddr, TcpOptionKinds, Timestamp};

/// Why a flow ended (zeek has no such column; nfstream calls it `expiration_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EndReason {
    /// No packet for the idle timeout.
    Idle,
    /// The flow lasted the active timeout; its next packet starts a new flow.
    Active,
    /// Both sides sent FIN (and the close linger passed or a new SYN reused the ports).
    Fin,
    /// A side sent RST (and the close linger passed or a new SYN reused the ports).
    Rst,
    /// A SYN with another initial sequence number reused the ports of a flow that had not
    /// closed.
    Reused,
    /// The table was full and this was its least recently active flow.
    Evicted,
    /// Still open at the end of the input.
    End,
}

impl EndReason {
    /// The lower-case name used in output.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EndReason::Idle => "idle",
            EndReason::Active => "active",
            EndReason::Fin => "fin",
            EndReason::Rst => "rst",
            EndReason::Reused => "reused",
            EndReason::Evicted => "evicted",
            EndReason::End => "end",
        }
    }
}

/// Connection state summary, with zeek's `conn_state` codes and meanings.
///
/// For UDP, ICMP and other protocols only `S0` (no reply seen) and `SF` (reply seen) occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[allow(clippy::upper_case_acronyms)]
#[non_exhaustive]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    #[default]
    S0,
    /// Connection established, not terminated.
    S1,
    /// Normal establishment and termination (for non-TCP: a reply was seen).
    SF,
    /// Connection attempt rejected (SYN answered by RST).
    REJ,
    /// Established, close attempt by the originator seen (no FIN from the responder).
    S2,
    /// Established, close attempt by the responder seen (no FIN from the originator).
    S3,
    /// Established, the originator aborted (sent the first RST).
    RSTO,
    /// Established, the responder aborted (sent the first RST).
    RSTR,
    /// The originator sent a SYN then a RST; no SYN/ACK seen.
    RSTOS0,
    /// The responder sent a SYN/ACK then a RST; no SYN from the originator seen.
    RSTRH,
    /// The originator sent a SYN then a FIN; no SYN/ACK seen ("half open").
    SH,
    /// The responder sent a SYN/ACK then a FIN; no SYN from the originator seen.
    SHR,
    /// No SYN seen: midstream traffic.
    OTH,
}

/// The fields of a TCP SYN (or SYN/ACK) that passive OS fingerprinting reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFingerprint {
    /// 4 or 6.
    pub ip_version: u8,
    /// IP TTL / hop limit as received (not rounded up to the initial value).
    pub ttl: u8,
    /// IPv4 don't-fragment bit.
    pub dont_fragment: bool,
    /// Raw window.
    pub window: u16,
    /// MSS option.
    pub mss: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// Option kinds in wire order.
    pub options: TcpOptionKinds,
    /// IP packet length (p0f uses it to spot unusual SYN payloads/options).
    pub ip_len: u32,
}

impl TcpFingerprint {
    /// The option layout as p0f writes it (`mss,nop,ws,sok,ts`), unknown kinds as `?N`.
    #[must_use]
    pub fn options_layout(&self) -> String {
        self.options.layout()
    }
}

/// `ver:ttl:mss:window,wscale:options:df`, e.g. `4:64:1460:64240,7:mss,sok,ts,nop,ws:df`
/// (`*` for an absent option; `-` for no DF), after p0f's signature layout.
impl fmt::Display for TcpFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.ip_version, self.ttl)?;
        match self.mss {
            Some(m) => write!(f, "{m}:")?,
            None => f.write_str("*:")?,
        }
        write!(f, "{},", self.window)?;
        match self.window_scale {
            Some(w) => write!(f, "{w}:")?,
            None => f.write_str("*:")?,
        }
        write!(
            f,
            "{}:{}",
            self.options_layout(),
            if self.dont_fragment { "df" } else { "-" }
        )
    }
}

impl Serialize for TcpFingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What one DHCP client said in a flow (DHCP flows from `0.0.0.0` to the broadcast address
/// mix every client on the segment, so the summary is per client MAC).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DhcpSummary {
    /// The client's hardware address (`chaddr`).
    #[serde(serialize_with = "ser_mac")]
    pub client_mac: MacAddr,
    /// Option 12 host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Option 60 vendor class identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_class: Option<String>,
    /// Option 55 parameter request list, decimal, comma-separated (fingerbank's form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Option 50 requested address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_ip: Option<Ipv4Addr>,
    /// `yiaddr` of a DHCPACK: the address the server assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_ip: Option<Ipv4Addr>,
}

fn ser_ts<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

fn ser_mac<S: Serializer>(m: &MacAddr, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(m)
}

fn ser_opt_mac<S: Serializer>(m: &Option<MacAddr>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.collect_str(m),
        None => s.serialize_none(),
    }
}

/// One flow. Serializes (serde) to the columns of `trident flows`, in [`COLUMNS`] order;
/// absent values (`None`, empty lists) are omitted from JSON and empty in csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRecord {
    /// Stable id: the first 16 hex digits of SHA-256 over the flow key and first timestamp,
    /// so the same flow in the same capture has the same id on every run and machine.
    pub id: String,
    /// Time of the first packet.
    #[serde(serialize_with = "ser_ts")]
    pub first_ts: Timestamp,
    /// Time of the last packet.
    #[serde(serialize_with = "ser_ts")]
    pub last_ts: Timestamp,
    /// `last_ts - first_ts` in milliseconds.
    pub duration_ms: f64,
    /// Why the flow ended.
    pub end_reason: EndReason,
    /// zeek-style connection state.
    pub conn_state: ConnState,
    /// 4 or 6.
    pub ip_version: u8,
    /// IP protocol number (of the innermost IP header).
    pub protocol: u8,
    /// Protocol name for the common ones: `tcp`, `udp`, `icmp`, `icmpv6`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<&'static str>,
    /// Originator address: the sender of the first packet (for TCP, the SYN's sender when
    /// the first packet seen was a SYN/ACK).
    pub orig_ip: IpAddr,
    /// Originator port (TCP/UDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_port: Option<u16>,
    /// Responder address.
    pub resp_ip: IpAddr,
    /// Responder port (TCP/UDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_port: Option<u16>,
    /// ICMP/ICMPv6 echo identifier, for echo flows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_id: Option<u16>,
    /// Outer VLAN id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// Inner VLAN id (802.1ad Q-in-Q).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan_inner: Option<u16>,
    /// Outermost tunnel the flow was carried in (`gre`, `vxlan`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<&'static str>,
    /// Source MAC of the originator's first packet (or, when it sent nothing, the
    /// destination MAC of the responder's first packet).
    #[serde(
        serialize_with = "ser_opt_mac",
        skip_serializing_if = "Option::is_none"
    )]
    pub orig_mac: Option<MacAddr>,
    /// Source MAC of the responder's first packet, or the destination MAC of the
    /// originator's first packet when the responder never answered.
    #[serde(
        serialize_with = "ser_opt_mac",
        skip_serializing_if = "Option::is_none"
    )]
    pub resp_mac: Option<MacAddr>,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// Bytes on the wire (frame lengths) from the originator, as tshark's conversations count.
    pub orig_bytes: u64,
    /// Bytes on the wire from the responder.
    pub resp_bytes: u64,
    /// IP bytes (IP total lengths) from the originator, as zeek's `orig_ip_bytes`.
    pub orig_ip_bytes: u64,
    /// IP bytes from the responder.
    pub resp_ip_bytes: u64,
    /// Transport payload bytes from the originator (from the headers' lengths).
    pub orig_payload_bytes: u64,
    /// Transport payload bytes from the responder.
    pub resp_payload_bytes: u64,
    /// IP TTL / hop limit of the originator's first packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_ttl: Option<u8>,
    /// IP TTL / hop limit of the responder's first packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_ttl: Option<u8>,
    /// Smallest IP packet from the originator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_size_min_bytes: Option<u32>,
    /// Largest IP packet from the originator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_size_max_bytes: Option<u32>,
    /// Mean IP packet size from the originator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_size_mean_bytes: Option<f64>,
    /// Sample standard deviation of the originator's IP packet sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_size_std_bytes: Option<f64>,
    /// Smallest IP packet from the responder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_size_min_bytes: Option<u32>,
    /// Largest IP packet from the responder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_size_max_bytes: Option<u32>,
    /// Mean IP packet size from the responder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_size_mean_bytes: Option<f64>,
    /// Sample standard deviation of the responder's IP packet sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_size_std_bytes: Option<f64>,
    /// Smallest gap between consecutive originator packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_iat_min_ms: Option<f64>,
    /// Largest gap between consecutive originator packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_iat_max_ms: Option<f64>,
    /// Mean gap between consecutive originator packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_iat_mean_ms: Option<f64>,
    /// Sample standard deviation of the originator's gaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_iat_std_ms: Option<f64>,
    /// Smallest gap between consecutive responder packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_iat_min_ms: Option<f64>,
    /// Largest gap between consecutive responder packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_iat_max_ms: Option<f64>,
    /// Mean gap between consecutive responder packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_iat_mean_ms: Option<f64>,
    /// Sample standard deviation of the responder's gaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_iat_std_ms: Option<f64>,
    /// Originator packets with SYN.
    pub orig_syn_pkts: u32,
    /// Originator packets with ACK.
    pub orig_ack_pkts: u32,
    /// Originator packets with FIN.
    pub orig_fin_pkts: u32,
    /// Originator packets with RST.
    pub orig_rst_pkts: u32,
    /// Originator packets with PSH.
    pub orig_psh_pkts: u32,
    /// Originator packets with URG.
    pub orig_urg_pkts: u32,
    /// Originator packets with ECE.
    pub orig_ece_pkts: u32,
    /// Originator packets with CWR.
    pub orig_cwr_pkts: u32,
    /// Responder packets with SYN.
    pub resp_syn_pkts: u32,
    /// Responder packets with ACK.
    pub resp_ack_pkts: u32,
    /// Responder packets with FIN.
    pub resp_fin_pkts: u32,
    /// Responder packets with RST.
    pub resp_rst_pkts: u32,
    /// Responder packets with PSH.
    pub resp_psh_pkts: u32,
    /// Responder packets with URG.
    pub resp_urg_pkts: u32,
    /// Responder packets with ECE.
    pub resp_ece_pkts: u32,
    /// Responder packets with CWR.
    pub resp_cwr_pkts: u32,
    /// Time from the (last) SYN to the first SYN/ACK: the network round trip seen from the
    /// capture point towards the responder, plus the responder's accept delay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_synack_ms: Option<f64>,
    /// Time from the SYN/ACK to the originator's ACK: the round trip towards the originator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_ack_ms: Option<f64>,
    /// Handshake round trip, SYN to ACK (the sum of the two above).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_rtt_ms: Option<f64>,
    /// The originator's first SYN (see [`TcpFingerprint`]'s text form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_syn: Option<TcpFingerprint>,
    /// The responder's first SYN/ACK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resp_synack: Option<TcpFingerprint>,
    /// DNS/mDNS question names, first seen first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_queries: Vec<String>,
    /// Names announced in mDNS answers (owners of A, AAAA and SRV records).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mdns_names: Vec<String>,
    /// TLS server name of the first ClientHello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_sni: Option<String>,
    /// JA3 hash of the first ClientHello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ja3: Option<String>,
    /// JA4 of the first ClientHello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ja4: Option<String>,
    /// Host header of the first HTTP request that had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_host: Option<String>,
    /// User-Agent of the first HTTP request that had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_user_agent: Option<String>,
    /// SSDP SERVER header (device OS and UPnP stack).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssdp_server: Option<String>,
    /// SSDP LOCATION header (device description URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssdp_location: Option<String>,
    /// DHCP clients of this flow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dhcp: Vec<DhcpSummary>,
}

/// Every column of [`FlowRecord`], in output order (csv header order).
pub const COLUMNS: &[&str] = &[
    "id",
    "first_ts",
    "last_ts",
    "duration_ms",
    "end_reason",
    "conn_state",
    "ip_version",
    "protocol",
    "proto",
    "orig_ip",
    "orig_port",
    "resp_ip",
    "resp_port",
    "icmp_id",
    "vlan",
    "vlan_inner",
    "tunnel",
    "orig_mac",
    "resp_mac",
    "orig_pkts",
    "resp_pkts",
    "orig_bytes",
    "resp_bytes",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "orig_payload_bytes",
    "resp_payload_bytes",
    "orig_ttl",
    "resp_ttl",
    "orig_size_min_bytes",
    "orig_size_max_bytes",
    "orig_size_mean_bytes",
    "orig_size_std_bytes",
    "resp_size_min_bytes",
    "resp_size_max_bytes",
    "resp_size_mean_bytes",
    "resp_size_std_bytes",
    "orig_iat_min_ms",
    "orig_iat_max_ms",
    "orig_iat_mean_ms",
    "orig_iat_std_ms",
    "resp_iat_min_ms",
    "resp_iat_max_ms",
    "resp_iat_mean_ms",
    "resp_iat_std_ms",
    "orig_syn_pkts",
    "orig_ack_pkts",
    "orig_fin_pkts",
    "orig_rst_pkts",
    "orig_psh_pkts",
    "orig_urg_pkts",
    "orig_ece_pkts",
    "orig_cwr_pkts",
    "resp_syn_pkts",
    "resp_ack_pkts",
    "resp_fin_pkts",
    "resp_rst_pkts",
    "resp_psh_pkts",
    "resp_urg_pkts",
    "resp_ece_pkts",
    "resp_cwr_pkts",
    "tcp_synack_ms",
    "tcp_ack_ms",
    "tcp_rtt_ms",
    "orig_syn",
    "resp_synack",
    "dns_queries",
    "mdns_names",
    "tls_sni",
    "tls_ja3",
    "tls_ja4",
    "http_host",
    "http_user_agent",
    "ssdp_server",
    "ssdp_location",
    "dhcp",
];

impl FlowRecord {
    /// A record with its identity filled in and every measurement zero or absent; the
    /// features fill in the rest.
    #[must_use]
    pub fn blank(orig_ip: IpAddr, resp_ip: IpAddr) -> Self {
        FlowRecord {
            id: String::new(),
            first_ts: Timestamp::default(),
            last_ts: Timestamp::default(),
            duration_ms: 0.0,
            end_reason: EndReason::End,
            conn_state: ConnState::S0,
            ip_version: if orig_ip.is_ipv4() { 4 } else { 6 },
            protocol: 0,
            proto: None,
            orig_ip,
            orig_port: None,
            resp_ip,
            resp_port: None,
            icmp_id: None,
            vlan: None,
            vlan_inner: None,
            tunnel: None,
            orig_mac: None,
            resp_mac: None,
            orig_pkts: 0,
            resp_pkts: 0,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_ip_bytes: 0,
            resp_ip_bytes: 0,
            orig_payload_bytes: 0,
            resp_payload_bytes: 0,
            orig_ttl: None,
            resp_ttl: None,
            orig_size_min_bytes: None,
            orig_size_max_bytes: None,
            orig_size_mean_bytes: None,
            orig_size_std_bytes: None,
            resp_size_min_bytes: None,
            resp_size_max_bytes: None,
            resp_size_mean_bytes: None,
            resp_size_std_bytes: None,
            orig_iat_min_ms: None,
            orig_iat_max_ms: None,
            orig_iat_mean_ms: None,
            orig_iat_std_ms: None,
            resp_iat_min_ms: None,
            resp_iat_max_ms: None,
            resp_iat_mean_ms: None,
            resp_iat_std_ms: None,
            orig_syn_pkts: 0,
            orig_ack_pkts: 0,
            orig_fin_pkts: 0,
            orig_rst_pkts: 0,
            orig_psh_pkts: 0,
            orig_urg_pkts: 0,
            orig_ece_pkts: 0,
            orig_cwr_pkts: 0,
            resp_syn_pkts: 0,
            resp_ack_pkts: 0,
            resp_fin_pkts: 0,
            resp_rst_pkts: 0,
            resp_psh_pkts: 0,
            resp_urg_pkts: 0,
            resp_ece_pkts: 0,
            resp_cwr_pkts: 0,
            tcp_synack_ms: None,
            tcp_ack_ms: None,
            tcp_rtt_ms: None,
            orig_syn: None,
            resp_synack: None,
            dns_queries: Vec::new(),
            mdns_names: Vec::new(),
            tls_sni: None,
            tls_ja3: None,
            tls_ja4: None,
            http_host: None,
            http_user_agent: None,
            ssdp_server: None,
            ssdp_location: None,
            dhcp: Vec::new(),
        }
    }

    /// Total packets both ways.
    #[must_use]
    pub const fn packets(&self) -> u64 {
        self.orig_pkts + self.resp_pkts
    }

    /// Total wire bytes both ways.
    #[must_use]
    pub const fn bytes(&self) -> u64 {
        self.orig_bytes + self.resp_bytes
    }
}

/// The common protocols' names.
pub(crate) const fn proto_name(protocol: u8) -> Option<&'static str> {
    match protocol {
        1 => Some("icmp"),
        6 => Some("tcp"),
        17 => Some("udp"),
        58 => Some("icmpv6"),
        132 => Some("sctp"),
        _ => None,
    }
}
