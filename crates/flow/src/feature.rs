//! Flow features: small units that watch a flow's packets and write their columns when it
//! ends.
//!
//! # The contract
//!
//! This is nfstream's plugin contract (`on_init`, `on_update`, `on_expire`) in Rust: a
//! feature is a value created with [`Default`] when a flow starts, told about every packet
//! of the flow (the first one through [`FlowFeature::on_init`], the rest through
//! [`FlowFeature::on_update`]) and asked, once, to write its columns into the
//! [`FlowRecord`] when the flow ends ([`FlowFeature::on_expire`]). Features know nothing of
//! the table, timeouts or other features; the table knows nothing of what they compute.
//!
//! Features compose as tuples (`(A, B)` is a feature when `A` and `B` are), and the table's
//! built-in set is the tuple [`Builtin`], statically dispatched: a packet's update is a
//! handful of inlined adds, with no virtual call and no allocation (only [`AppHints`]
//! allocates, and only for the few packets that carry an application hint).

use std::net::Ipv4Addr;

use trident_decode::{AppHint, MacAddr, Packet, TcpInfo, Timestamp, Transport, tcp_flags};

use crate::record::{DhcpSummary, FlowRecord, TcpFingerprint};
use crate::stats::OnlineStats;
use crate::{Direction, MAX_DHCP_CLIENTS_PER_FLOW, MAX_HINT_CHARS, MAX_NAMES_PER_FLOW};

/// Nanoseconds per millisecond, for the `_ms` columns.
const NANOS_PER_MS: f64 = 1_000_000.0;
/// UDP header length.
const UDP_HEADER_LEN: u32 = 8;
/// ICMP and ICMPv6 fixed header length.
const ICMP_HEADER_LEN: u32 = 8;
/// DNS record types whose owner name is a host's name in an mDNS answer: A, AAAA, SRV.
const MDNS_NAME_TYPES: [u16; 3] = [1, 28, 33];
/// DHCP message type of an ACK (RFC 2132 option 53).
const DHCP_ACK: u8 = 5;

/// One packet as the features see it.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'p, 'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Which side sent it.
    pub dir: Direction,
    /// Length on the wire (the capture's original length), as tshark counts bytes.
    pub wire_len: u32,
    /// Length of the (innermost) IP packet, from its header.
    pub ip_len: u32,
    /// Transport payload length, from the headers (not cut by the snap length).
    pub payload_len: u32,
    /// The decoded packet.
    pub packet: &'p Packet<'a>,
}

impl PacketView<'_, '_> {
    /// The TCP header, when the packet is TCP.
    #[must_use]
    pub fn tcp(&self) -> Option<&TcpInfo> {
        match &self.packet.transport {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    /// Lengths (IP packet, transport payload) from the headers of `pkt`.
    #[must_use]
    pub fn lengths(pkt: &Packet<'_>) -> (u32, u32) {
        let Some(ip) = &pkt.ip else {
            return (0, 0);
        };
        let ip_len = ip.total_len;
        let after_ip = ip_len.saturating_sub(u32::from(ip.header_len));
        let payload = match &pkt.transport {
            _ if ip.is_later_fragment() => after_ip,
            Some(Transport::Tcp(t)) => after_ip.saturating_sub(u32::from(t.header_len)),
            Some(Transport::Udp(_)) => after_ip.saturating_sub(UDP_HEADER_LEN),
            Some(Transport::Icmp(_) | Transport::Icmpv6(_)) => {
                after_ip.saturating_sub(ICMP_HEADER_LEN)
            }
            _ => after_ip,
        };
        (ip_len, payload)
    }
}

/// A unit of per-flow measurement. See the module documentation for the contract.
pub trait FlowFeature: Default {
    /// The flow's first packet. By default the same as any other packet.
    fn on_init(&mut self, pkt: &PacketView<'_, '_>) {
        self.on_update(pkt);
    }
    /// Every later packet of the flow.
    fn on_update(&mut self, pkt: &PacketView<'_, '_>);
    /// The flow ended: write this feature's columns.
    fn on_expire(self, record: &mut FlowRecord);
}

macro_rules! tuple_feature {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: FlowFeature),+> FlowFeature for ($($name,)+) {
            #[inline]
            fn on_init(&mut self, pkt: &PacketView<'_, '_>) {
                $(self.$idx.on_init(pkt);)+
            }
            #[inline]
            fn on_update(&mut self, pkt: &PacketView<'_, '_>) {
                $(self.$idx.on_update(pkt);)+
            }
            fn on_expire(self, record: &mut FlowRecord) {
                $(self.$idx.on_expire(record);)+
            }
        }
    };
}

tuple_feature!(A 0, B 1);
tuple_feature!(A 0, B 1, C 2);
tuple_feature!(A 0, B 1, C 2, D 3);
tuple_feature!(A 0, B 1, C 2, D 3, E 4);
tuple_feature!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_feature!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);

/// The features every flow carries: the columns of [`FlowRecord`].
pub type Builtin = (
    Volume,
    FirstSeen,
    PacketSizes,
    InterArrival,
    TcpFlagCounts,
    TcpHandshake,
    AppHints,
);

/// Packets and bytes each way: `*_pkts`, `*_bytes` (wire), `*_ip_bytes`, `*_payload_bytes`.
#[derive(Debug, Clone, Default)]
pub struct Volume {
    pkts: [u64; 2],
    bytes: [u64; 2],
    ip_bytes: [u64; 2],
    payload: [u64; 2],
}

impl FlowFeature for Volume {
    #[inline]
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        let d = p.dir.index();
        if let (Some(pk), Some(b), Some(ib), Some(pl)) = (
            self.pkts.get_mut(d),
            self.bytes.get_mut(d),
            self.ip_bytes.get_mut(d),
            self.payload.get_mut(d),
        ) {
            *pk += 1;
            *b += u64::from(p.wire_len);
            *ib += u64::from(p.ip_len);
            *pl += u64::from(p.payload_len);
        }
    }
    fn on_expire(self, r: &mut FlowRecord) {
        [r.orig_pkts, r.resp_pkts] = self.pkts;
        [r.orig_bytes, r.resp_bytes] = self.bytes;
        [r.orig_ip_bytes, r.resp_ip_bytes] = self.ip_bytes;
        [r.orig_payload_bytes, r.resp_payload_bytes] = self.payload;
    }
}

/// What each side's first packet showed: MAC address and IP TTL (`orig_mac`, `orig_ttl`,
/// ...). A side that sent nothing gets the destination MAC of the other side's first packet
/// (its MAC, or the next hop's when routed).
#[derive(Debug, Clone, Default)]
pub struct FirstSeen {
    mac: [Option<MacAddr>; 2],
    ttl: [Option<u8>; 2],
    /// Destination MAC of each side's first packet (the other side's, or its next hop).
    dst_mac: [Option<MacAddr>; 2],
}

/// The link-layer addresses of a packet's (innermost, for L2 tunnels) Ethernet header.
fn link_addrs(pkt: &Packet<'_>) -> Option<(MacAddr, MacAddr)> {
    let eth = match &pkt.tunnel {
        Some(t) => t.inner_eth.as_ref(),
        None => pkt.eth.as_ref(),
    }?;
    Some((eth.src, eth.dst))
}

impl FlowFeature for FirstSeen {
    #[inline]
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        let d = p.dir.index();
        if let Some(slot @ None) = self.ttl.get_mut(d) {
            *slot = p.packet.ip.as_ref().map(|ip| ip.ttl);
            let addrs = link_addrs(p.packet);
            if let Some(m) = self.mac.get_mut(d) {
                *m = addrs.map(|a| a.0);
            }
            if let Some(m) = self.dst_mac.get_mut(d) {
                *m = addrs.map(|a| a.1);
            }
        }
    }
    fn on_expire(self, r: &mut FlowRecord) {
        [r.orig_ttl, r.resp_ttl] = self.ttl;
        r.orig_mac = self.mac[0].or(self.dst_mac[1]);
        r.resp_mac = self.mac[1].or(self.dst_mac[0]);
    }
}

/// IP packet size statistics each way: `orig_size_{min,max,mean,std}_bytes`, ...
#[derive(Debug, Clone, Default)]
pub struct PacketSizes {
    stats: [OnlineStats; 2],
}

impl FlowFeature for PacketSizes {
    #[inline]
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        if let Some(s) = self.stats.get_mut(p.dir.index()) {
            s.push(f64::from(p.ip_len));
        }
    }
    fn on_expire(self, r: &mut FlowRecord) {
        if let Some(s) = self.stats[0].summary() {
            r.orig_size_min_bytes = Some(s.min as u32);
            r.orig_size_max_bytes = Some(s.max as u32);
            r.orig_size_mean_bytes = Some(s.mean);
            r.orig_size_std_bytes = Some(s.std);
        }
        if let Some(s) = self.stats[1].summary() {
            r.resp_size_min_bytes = Some(s.min as u32);
            r.resp_size_max_bytes = Some(s.max as u32);
            r.resp_size_mean_bytes = Some(s.mean);
            r.resp_size_std_bytes = Some(s.std);
        }
    }
}

/// Inter-arrival time statistics each way, between consecutive packets of the same
/// direction: `orig_iat_{min,max,mean,std}_ms`, ... A packet stamped earlier than its
/// predecessor (merged or reordered captures) counts as 0 ms, not a negative gap.
#[derive(Debug, Clone, Default)]
pub struct InterArrival {
    last: [Option<Timestamp>; 2],
    stats: [OnlineStats; 2],
}

impl FlowFeature for InterArrival {
    #[inline]
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        let d = p.dir.index();
        if let (Some(last), Some(stats)) = (self.last.get_mut(d), self.stats.get_mut(d)) {
            if let Some(prev) = *last {
                let gap = p.ts.0.saturating_sub(prev.0).max(0);
                stats.push(gap as f64 / NANOS_PER_MS);
            }
            *last = Some(p.ts);
        }
    }
    fn on_expire(self, r: &mut FlowRecord) {
        if let Some(s) = self.stats[0].summary() {
            r.orig_iat_min_ms = Some(s.min);
            r.orig_iat_max_ms = Some(s.max);
            r.orig_iat_mean_ms = Some(s.mean);
            r.orig_iat_std_ms = Some(s.std);
        }
        if let Some(s) = self.stats[1].summary() {
            r.resp_iat_min_ms = Some(s.min);
            r.resp_iat_max_ms = Some(s.max);
            r.resp_iat_mean_ms = Some(s.mean);
            r.resp_iat_std_ms = Some(s.std);
        }
    }
}

/// The TCP flags counted, in the order of [`TcpFlagCounts`]' arrays.
const COUNTED_FLAGS: [u16; 8] = [
    tcp_flags::SYN,
    tcp_flags::ACK,
    tcp_flags::FIN,
    tcp_flags::RST,
    tcp_flags::PSH,
    tcp_flags::URG,
    tcp_flags::ECE,
    tcp_flags::CWR,
];

/// Packets with each TCP flag set, each way: `orig_syn_pkts`, `resp_rst_pkts`, ...
#[derive(Debug, Clone, Default)]
pub struct TcpFlagCounts {
    counts: [[u32; 8]; 2],
}

impl FlowFeature for TcpFlagCounts {
    #[inline]
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        let Some(t) = p.tcp() else { return };
        if let Some(row) = self.counts.get_mut(p.dir.index()) {
            for (n, bit) in row.iter_mut().zip(COUNTED_FLAGS) {
                *n += u32::from(t.flags & bit != 0);
            }
        }
    }
    fn on_expire(self, r: &mut FlowRecord) {
        let [o, s] = self.counts;
        [
            r.orig_syn_pkts,
            r.orig_ack_pkts,
            r.orig_fin_pkts,
            r.orig_rst_pkts,
            r.orig_psh_pkts,
            r.orig_urg_pkts,
            r.orig_ece_pkts,
            r.orig_cwr_pkts,
        ] = o;
        [
            r.resp_syn_pkts,
            r.resp_ack_pkts,
            r.resp_fin_pkts,
            r.resp_rst_pkts,
            r.resp_psh_pkts,
            r.resp_urg_pkts,
            r.resp_ece_pkts,
            r.resp_cwr_pkts,
        ] = s;
    }
}

/// The TCP handshake: its timing (`tcp_synack_ms`, `tcp_ack_ms`, `tcp_rtt_ms`), the
/// originator's SYN and the responder's SYN/ACK fingerprints (for passive OS guesses), and
/// the state summary `conn_state` after zeek's conn.log.
///
/// Timing uses the *last* SYN before the first SYN/ACK (a retransmitted SYN is the one that
/// was answered) and the first ACK without SYN from the originator after it.
#[derive(Debug, Clone, Default)]
pub struct TcpHandshake {
    is_tcp: bool,
    syn_ts: Option<Timestamp>,
    synack_ts: Option<Timestamp>,
    ack_ts: Option<Timestamp>,
    orig_syn: Option<TcpFingerprint>,
    resp_synack: Option<TcpFingerprint>,
    /// Per direction: sent a SYN without ACK, a SYN/ACK, a FIN, a RST.
    syn: [bool; 2],
    synack: [bool; 2],
    fin: [bool; 2],
    rst: [bool; 2],
    any: [bool; 2],
    /// The direction that sent the first RST.
    first_rst: Option<Direction>,
}

impl TcpHandshake {
    fn fingerprint(p: &PacketView<'_, '_>, t: &TcpInfo) -> Option<TcpFingerprint> {
        let ip = p.packet.ip.as_ref()?;
        Some(TcpFingerprint {
            ip_version: ip.version(),
            ttl: ip.ttl,
            dont_fragment: ip.dont_fragment,
            window: t.window,
            mss: t.mss,
            window_scale: t.window_scale,
            options: t.options,
            ip_len: ip.total_len,
        })
    }
}

impl FlowFeature for TcpHandshake {
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        let d = p.dir.index();
        if let Some(a) = self.any.get_mut(d) {
            *a = true;
        }
        let Some(t) = p.tcp() else { return };
        self.is_tcp = true;
        let syn = t.flags & tcp_flags::SYN != 0;
        let ack = t.flags & tcp_flags::ACK != 0;
        match (p.dir, syn, ack) {
            (Direction::Orig, true, false) => {
                self.syn[0] = true;
                if self.synack_ts.is_none() {
                    self.syn_ts = Some(p.ts);
                }
                if self.orig_syn.is_none() {
                    self.orig_syn = Self::fingerprint(p, t);
                }
            }
            (Direction::Resp, true, true) => {
                self.synack[1] = true;
                if self.synack_ts.is_none() && self.syn_ts.is_some() {
                    self.synack_ts = Some(p.ts);
                }
                if self.resp_synack.is_none() {
                    self.resp_synack = Self::fingerprint(p, t);
                }
            }
            (Direction::Orig, false, true) if self.ack_ts.is_none() && self.synack_ts.is_some() => {
                self.ack_ts = Some(p.ts);
            }
            (dir, true, false) => {
                if let Some(s) = self.syn.get_mut(dir.index()) {
                    *s = true;
                }
            }
            (dir, true, true) => {
                if let Some(s) = self.synack.get_mut(dir.index()) {
                    *s = true;
                }
            }
            _ => {}
        }
        if t.flags & tcp_flags::FIN != 0 {
            if let Some(f) = self.fin.get_mut(d) {
                *f = true;
            }
        }
        if t.flags & tcp_flags::RST != 0 {
            if let Some(r) = self.rst.get_mut(d) {
                *r = true;
            }
            self.first_rst.get_or_insert(p.dir);
        }
    }

    fn on_expire(self, r: &mut FlowRecord) {
        let ms = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
            (Some(a), Some(b)) => Some(b.0.saturating_sub(a.0).max(0) as f64 / NANOS_PER_MS),
            _ => None,
        };
        r.tcp_synack_ms = ms(self.syn_ts, self.synack_ts);
        r.tcp_ack_ms = ms(self.synack_ts, self.ack_ts);
        r.tcp_rtt_ms = ms(self.syn_ts, self.ack_ts);
        r.orig_syn = self.orig_syn;
        r.resp_synack = self.resp_synack;
        r.conn_state = self.conn_state();
    }
}

impl TcpHandshake {
    /// zeek's `conn_state` from the flags each side sent (see [`crate::ConnState`]).
    fn conn_state(&self) -> crate::ConnState {
        use crate::ConnState as S;
        if !self.is_tcp {
            return if self.any[1] { S::SF } else { S::S0 };
        }
        let [orig_syn, _] = self.syn;
        let [_, resp_synack] = self.synack;
        let [orig_fin, resp_fin] = self.fin;
        let [orig_rst, resp_rst] = self.rst;
        match (orig_syn, resp_synack) {
            (false, false) => return S::OTH,
            (true, false) => {
                return if resp_rst {
                    S::REJ
                } else if orig_rst {
                    S::RSTOS0
                } else if orig_fin {
                    S::SH
                } else if self.any[1] {
                    S::OTH
                } else {
                    S::S0
                };
            }
            (false, true) if resp_rst && !self.any[0] => return S::RSTRH,
            (false, true) if resp_fin && !self.any[0] => return S::SHR,
            _ => {}
        }
        match self.first_rst {
            Some(Direction::Orig) => S::RSTO,
            Some(Direction::Resp) => S::RSTR,
            None => match (orig_fin, resp_fin) {
                (true, true) => S::SF,
                (true, false) => S::S2,
                (false, true) => S::S3,
                (false, false) => S::S1,
            },
        }
    }
}

/// Application hints of the flow's packets: DNS and mDNS names, the first TLS ClientHello's
/// SNI/JA3/JA4, the first HTTP request's Host and User-Agent, SSDP SERVER/LOCATION, and one
/// DHCP summary per client MAC. Allocates only when the flow carries a hint; every list is
/// capped ([`MAX_NAMES_PER_FLOW`], [`MAX_DHCP_CLIENTS_PER_FLOW`]) and every string cut at
/// [`MAX_HINT_CHARS`] characters, so a chatty flow cannot grow without bound.
#[derive(Debug, Clone, Default)]
pub struct AppHints {
    hints: Option<Box<HintSet>>,
}

#[derive(Debug, Clone, Default)]
struct HintSet {
    dns_queries: Vec<String>,
    mdns_names: Vec<String>,
    tls_sni: Option<String>,
    tls_ja3: Option<String>,
    tls_ja4: Option<String>,
    http_host: Option<String>,
    http_user_agent: Option<String>,
    ssdp_server: Option<String>,
    ssdp_location: Option<String>,
    dhcp: Vec<DhcpSummary>,
}

/// A hint string, cut at [`MAX_HINT_CHARS`] characters.
fn capped(s: &str) -> String {
    match s.char_indices().nth(MAX_HINT_CHARS) {
        Some((at, _)) => s.get(..at).unwrap_or(s).to_owned(),
        None => s.to_owned(),
    }
}

/// Adds a name to a capped, duplicate-free list (in first-seen order).
fn add_name(list: &mut Vec<String>, name: &str) {
    if name.is_empty() || list.len() >= MAX_NAMES_PER_FLOW || list.iter().any(|n| n == name) {
        return;
    }
    list.push(capped(name));
}

/// Sets an optional field the first time a value is seen.
fn first(slot: &mut Option<String>, v: Option<&str>) {
    if slot.is_none() {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            *slot = Some(capped(v));
        }
    }
}

impl HintSet {
    fn add(&mut self, hint: &AppHint) {
        match hint {
            AppHint::Dns(d) => {
                for q in &d.questions {
                    add_name(&mut self.dns_queries, &q.name);
                }
                if d.mdns && d.response {
                    for a in d
                        .answers
                        .iter()
                        .filter(|a| MDNS_NAME_TYPES.contains(&a.rtype))
                    {
                        add_name(&mut self.mdns_names, &a.name);
                    }
                }
            }
            AppHint::Tls(t) if self.tls_ja3.is_none() => {
                first(&mut self.tls_sni, t.sni.as_deref());
                first(&mut self.tls_ja3, Some(&t.ja3_hash));
                first(&mut self.tls_ja4, Some(&t.ja4));
            }
            AppHint::Http(h) => {
                first(&mut self.http_host, h.host.as_deref());
                first(&mut self.http_user_agent, h.user_agent.as_deref());
            }
            AppHint::Ssdp(s) => {
                first(&mut self.ssdp_server, s.server.as_deref());
                first(&mut self.ssdp_location, s.location.as_deref());
            }
            AppHint::Dhcp(d) => self.add_dhcp(d),
            _ => {}
        }
    }

    fn add_dhcp(&mut self, d: &trident_decode::app::DhcpHint) {
        let pos = self.dhcp.iter().position(|s| s.client_mac == d.client_mac);
        let entry = match pos {
            Some(i) => self.dhcp.get_mut(i),
            None if self.dhcp.len() < MAX_DHCP_CLIENTS_PER_FLOW => {
                self.dhcp.push(DhcpSummary {
                    client_mac: d.client_mac,
                    ..DhcpSummary::default()
                });
                self.dhcp.last_mut()
            }
            None => None,
        };
        let Some(e) = entry else { return };
        if d.op == 1 {
            first(&mut e.hostname, d.hostname.as_deref());
            first(&mut e.vendor_class, d.vendor_class.as_deref());
            if e.fingerprint.is_none() && !d.param_request_list.is_empty() {
                e.fingerprint = Some(d.fingerprint());
            }
            if e.requested_ip.is_none() {
                e.requested_ip = d.requested_ip;
            }
        } else if d.message_type == Some(DHCP_ACK) && d.your_ip != Ipv4Addr::UNSPECIFIED {
            e.assigned_ip = Some(d.your_ip);
        }
    }
}

impl FlowFeature for AppHints {
    #[inline]
    fn on_update(&mut self, p: &PacketView<'_, '_>) {
        if let Some(h) = &p.packet.app {
            self.hints.get_or_insert_default().add(h);
        }
    }
    fn on_expire(self, r: &mut FlowRecord) {
        let Some(h) = self.hints else { return };
        let h = *h;
        r.dns_queries = h.dns_queries;
        r.mdns_names = h.mdns_names;
        r.tls_sni = h.tls_sni;
        r.tls_ja3 = h.tls_ja3;
        r.tls_ja4 = h.tls_ja4;
        r.http_host = h.http_host;
        r.http_user_agent = h.http_user_agent;
        r.ssdp_server = h.ssdp_server;
        r.ssdp_location = h.ssdp_location;
        r.dhcp = h.dhcp;
    }
}
