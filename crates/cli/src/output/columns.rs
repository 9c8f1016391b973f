//! The packet record schema: one named column per field, shared by the ndjson and csv
//! writers so both always agree on names, order and meaning.
//!
//! Each column is a name, a one-line description (printed by `trident decode
//! --list-fields` and written to docs/SCHEMA.md) and a function that reads the value out of
//! a decoded packet without allocating for the common fields.

use std::net::IpAddr;

use trident_capture::RawFrame;
use trident_decode::{AppHint, IpInfo, Layer, Packet, Stop, StopReason, Transport};
use trident_types::{MacAddr, Timestamp};

/// What a column reads from.
pub struct Row<'r, 'a> {
    /// The source name (path or `-`).
    pub file: &'r str,
    /// The frame as captured.
    pub frame: &'r RawFrame<'a>,
    /// The decoded packet.
    pub packet: &'r Packet<'a>,
}

/// One cell. `Null` cells are omitted from ndjson and empty in csv.
pub enum Val<'r> {
    Null,
    U(u64),
    I(i64),
    B(bool),
    S(&'r str),
    Owned(String),
    Ip(IpAddr),
    Mac(MacAddr),
    Ts(Timestamp),
    U16s(&'r [u16]),
    U32s(&'r [u32]),
    Strs(Vec<&'r str>),
    /// Written through `Display` (rare values: link types, stop reasons).
    Disp(&'r dyn std::fmt::Display),
    /// TCP flags as letters, written without allocating.
    TcpFlags(u16),
    /// TCP option layout, written without allocating.
    TcpOpts(&'r trident_decode::TcpInfo),
}

/// A column of the packet record.
pub struct Column {
    pub name: &'static str,
    pub help: &'static str,
    pub get: for<'r, 'a> fn(&Row<'r, 'a>) -> Val<'r>,
}

macro_rules! col {
    ($name:literal, $help:literal, |$r:ident| $body:expr) => {
        Column {
            name: $name,
            help: $help,
            get: |$r| $body,
        }
    };
}

fn opt<T, F: FnOnce(T) -> Val<'static>>(v: Option<T>, f: F) -> Val<'static> {
    v.map_or(Val::Null, f)
}

fn ip<'r>(r: &Row<'r, '_>) -> Option<&'r IpInfo> {
    r.packet.ip.as_ref()
}

fn tcp<'r>(r: &Row<'r, '_>) -> Option<&'r trident_decode::TcpInfo> {
    match &r.packet.transport {
        Some(Transport::Tcp(t)) => Some(t),
        _ => None,
    }
}

/// The TCP header when its bytes up to `end` (from the header's start) were captured: a
/// header cut by the snap length keeps its ports, and the fields past the cut are left out
/// rather than written as zeros.
fn tcp_upto<'r>(r: &Row<'r, '_>, end: u32) -> Option<&'r trident_decode::TcpInfo> {
    match r.packet.stop {
        Some(Stop {
            layer: Layer::Tcp,
            reason: StopReason::Truncated { available, .. },
            ..
        }) if available < end => None,
        _ => tcp(r),
    }
}

fn icmp<'r>(r: &Row<'r, '_>) -> Option<&'r trident_decode::IcmpInfo> {
    match &r.packet.transport {
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => Some(i),
        _ => None,
    }
}

fn app<'r>(r: &Row<'r, '_>) -> Option<&'r AppHint> {
    r.packet.app.as_deref()
}

fn s(v: &Option<String>) -> Val<'_> {
    v.as_deref().map_or(Val::Null, Val::S)
}

macro_rules! hint {
    ($r:ident, $variant:ident, |$h:ident| $body:expr) => {
        match app($r) {
            Some(AppHint::$variant($h)) => $body,
            _ => Val::Null,
        }
    };
}

/// Every column, in the stable order csv writes them.
pub static COLUMNS: &[Column] = &[
    col!("file", "source file path, or - for stdin", |r| Val::S(
        r.file
    )),
    col!(
        "frame",
        "1-based frame number in its file (tshark frame.number)",
        |r| Val::U(r.frame.number)
    ),
    col!("ts", "capture time, RFC 3339 UTC with nanoseconds", |r| {
        Val::Ts(r.frame.ts)
    }),
    col!(
        "ts_ns",
        "capture time, nanoseconds since the Unix epoch",
        |r| Val::I(r.frame.ts.as_nanos())
    ),
    col!("interface", "pcapng interface id (0 for pcap)", |r| Val::U(
        r.frame.interface.into()
    )),
    col!(
        "link_type",
        "link type name (ether, linux-sll, rawip, ...)",
        |r| match r.frame.link_type.name() {
            "other" => Val::Disp(&r.frame.link_type),
            n => Val::S(n),
        }
    ),
    col!("caplen", "bytes captured", |r| Val::U(
        r.frame.caplen.into()
    )),
    col!("origlen", "bytes on the wire", |r| Val::U(
        r.frame.origlen.into()
    )),
    col!("eth_src", "source MAC (outermost link header)", |r| opt(
        r.packet.eth.as_ref(),
        |e| Val::Mac(e.src)
    )),
    col!("eth_dst", "destination MAC", |r| opt(
        r.packet.eth.as_ref(),
        |e| { Val::Mac(e.dst) }
    )),
    col!(
        "ether_type",
        "ether type after VLAN tags and LLC/SNAP",
        |r| opt(r.packet.eth.as_ref(), |e| Val::U(e.ether_type.into()))
    ),
    col!(
        "vlan",
        "VLAN ids, outer first",
        |r| if r.packet.vlans.is_empty() {
            Val::Null
        } else {
            Val::U16s(r.packet.vlans.as_slice())
        }
    ),
    col!(
        "mpls",
        "MPLS labels, top first",
        |r| match r.packet.mpls.as_slice() {
            [] => Val::Null,
            l => Val::U32s(l),
        }
    ),
    col!("arp_op", "ARP operation (1 request, 2 reply)", |r| opt(
        r.packet.arp.as_ref(),
        |a| Val::U(a.operation.into())
    )),
    col!("arp_sender_mac", "ARP sender hardware address", |r| opt(
        r.packet.arp.as_ref(),
        |a| Val::Mac(a.sender_mac)
    )),
    col!("arp_sender_ip", "ARP sender protocol address", |r| opt(
        r.packet.arp.as_ref(),
        |a| Val::Ip(a.sender_ip.into())
    )),
    col!("arp_target_mac", "ARP target hardware address", |r| opt(
        r.packet.arp.as_ref(),
        |a| Val::Mac(a.target_mac)
    )),
    col!("arp_target_ip", "ARP target protocol address", |r| opt(
        r.packet.arp.as_ref(),
        |a| Val::Ip(a.target_ip.into())
    )),
    col!("ip_version", "4 or 6 (innermost IP header)", |r| opt(
        ip(r),
        |i| Val::U(i.version().into())
    )),
    col!("ip_src", "source address (innermost IP header)", |r| opt(
        ip(r),
        |i| Val::Ip(i.src)
    )),
    col!("ip_dst", "destination address", |r| opt(
        ip(r),
        |i| Val::Ip(i.dst)
    )),
    col!("ip_ttl", "IPv4 TTL or IPv6 hop limit", |r| opt(
        ip(r),
        |i| Val::U(i.ttl.into())
    )),
    col!("ip_dscp", "differentiated services code point", |r| opt(
        ip(r),
        |i| Val::U(i.dscp.into())
    )),
    col!("ip_ecn", "explicit congestion notification bits", |r| opt(
        ip(r),
        |i| Val::U(i.ecn.into())
    )),
    col!("ip_id", "IPv4 identification or IPv6 fragment id", |r| opt(
        ip(r).and_then(|i| i.id),
        |v| Val::U(v.into())
    )),
    col!("ip_df", "IPv4 don't-fragment flag", |r| opt(
        ip(r).filter(|i| i.src.is_ipv4()),
        |i| Val::B(i.dont_fragment)
    )),
    col!("ip_mf", "more-fragments flag", |r| opt(ip(r), |i| Val::B(
        i.more_fragments
    ))),
    col!("ip_frag_offset", "fragment offset in bytes", |r| opt(
        ip(r),
        |i| Val::U(i.fragment_offset.into())
    )),
    col!(
        "ip_len",
        "IPv4 total length / IPv6 payload length + 40",
        |r| opt(ip(r), |i| Val::U(i.total_len.into()))
    ),
    col!("ip_proto", "upper-layer protocol number", |r| opt(
        ip(r),
        |i| Val::U(i.protocol.into())
    )),
    col!("sport", "TCP/UDP source port", |r| opt(
        r.packet.transport.as_ref().and_then(|t| t.ports()),
        |p| Val::U(p.0.into())
    )),
    col!("dport", "TCP/UDP destination port", |r| opt(
        r.packet.transport.as_ref().and_then(|t| t.ports()),
        |p| Val::U(p.1.into())
    )),
    col!("tcp_seq", "TCP sequence number (absolute)", |r| opt(
        tcp_upto(r, 8),
        |t| Val::U(t.seq.into())
    )),
    col!("tcp_ack", "TCP acknowledgement number (absolute)", |r| opt(
        tcp_upto(r, 12),
        |t| Val::U(t.ack.into())
    )),
    col!(
        "tcp_flags",
        "TCP flags as a number (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 ...)",
        |r| opt(tcp_upto(r, 14), |t| Val::U(t.flags.into()))
    ),
    col!("tcp_flags_str", "TCP flags as letters FSRPAUECN", |r| opt(
        tcp_upto(r, 14),
        |t| Val::TcpFlags(t.flags)
    )),
    col!("tcp_window", "TCP window (unscaled)", |r| opt(
        tcp_upto(r, 16),
        |t| Val::U(t.window.into())
    )),
    col!("tcp_mss", "TCP MSS option", |r| opt(
        tcp(r).and_then(|t| t.mss),
        |v| Val::U(v.into())
    )),
    col!("tcp_wscale", "TCP window scale option", |r| opt(
        tcp(r).and_then(|t| t.window_scale),
        |v| Val::U(v.into())
    )),
    col!("tcp_sack_perm", "TCP SACK-permitted option present", |r| {
        opt(tcp(r).filter(|t| t.sack_permitted), |_| Val::B(true))
    }),
    col!("tcp_tsval", "TCP timestamp value", |r| opt(
        tcp(r).and_then(|t| t.timestamps),
        |v| Val::U(v.0.into())
    )),
    col!("tcp_tsecr", "TCP timestamp echo reply", |r| opt(
        tcp(r).and_then(|t| t.timestamps),
        |v| Val::U(v.1.into())
    )),
    col!(
        "tcp_options",
        "TCP option kinds in wire order, p0f style (mss,nop,ws,sok,ts)",
        |r| match tcp(r) {
            Some(t) if !t.options.as_slice().is_empty() => Val::TcpOpts(t),
            _ => Val::Null,
        }
    ),
    col!("icmp_type", "ICMP / ICMPv6 type", |r| opt(icmp(r), |i| {
        Val::U(i.icmp_type.into())
    })),
    col!("icmp_code", "ICMP / ICMPv6 code", |r| opt(icmp(r), |i| {
        Val::U(i.code.into())
    })),
    col!(
        "icmp_orig_src",
        "source of the packet quoted in an ICMP error",
        |r| opt(icmp(r).and_then(|i| i.quoted), |q| Val::Ip(q.src))
    ),
    col!(
        "icmp_orig_dst",
        "destination of the quoted packet",
        |r| opt(icmp(r).and_then(|i| i.quoted), |q| Val::Ip(q.dst))
    ),
    col!("icmp_orig_proto", "protocol of the quoted packet", |r| opt(
        icmp(r).and_then(|i| i.quoted),
        |q| Val::U(q.protocol.into())
    )),
    col!("icmp_orig_sport", "source port of the quoted packet", |r| {
        opt(icmp(r).and_then(|i| i.quoted).and_then(|q| q.ports), |p| {
            Val::U(p.0.into())
        })
    }),
    col!(
        "icmp_orig_dport",
        "destination port of the quoted packet",
        |r| opt(icmp(r).and_then(|i| i.quoted).and_then(|q| q.ports), |p| {
            Val::U(p.1.into())
        })
    ),
    col!(
        "nd_target",
        "ICMPv6 neighbour discovery target address",
        |r| opt(icmp(r).and_then(|i| i.nd_target), |a| Val::Ip(a.into()))
    ),
    col!(
        "nd_lladdr",
        "ICMPv6 neighbour discovery link-layer address option",
        |r| opt(icmp(r).and_then(|i| i.nd_lladdr), Val::Mac)
    ),
    col!(
        "tunnel",
        "outermost tunnel kind (gre, erspan, vxlan, vxlan-gpe, geneve, ipip, 6in4, teredo, ayiya, mpls-udp, capwap)",
        |r| opt(r.packet.tunnel.as_ref(), |t| Val::S(t.kind.name()))
    ),
    col!("tunnel_src", "outer (carrier) source address", |r| opt(
        r.packet.tunnel.as_ref(),
        |t| Val::Ip(t.outer.src)
    )),
    col!(
        "tunnel_dst",
        "outer (carrier) destination address",
        |r| opt(r.packet.tunnel.as_ref(), |t| Val::Ip(t.outer.dst))
    ),
    col!("tunnel_id", "VNI, GRE key or ERSPAN session id", |r| opt(
        r.packet.tunnel.as_ref().and_then(|t| t.id),
        |v| Val::U(v.into())
    )),
    col!("tunnel_depth", "number of tunnels unwrapped", |r| opt(
        r.packet.tunnel.as_ref(),
        |t| Val::U(t.depth.into())
    )),
    col!(
        "payload_len",
        "transport payload bytes captured",
        |r| if r.packet.transport.is_some() {
            Val::U(r.packet.payload.len() as u64)
        } else {
            Val::Null
        }
    ),
    col!(
        "app",
        "application protocol of the hint (dns, mdns, dhcp, dhcpv6, tls, http, ssdp)",
        |r| opt(app(r), |a| Val::S(a.name()))
    ),
    col!("dns_id", "DNS message id", |r| hint!(r, Dns, |d| Val::U(
        d.id.into()
    ))),
    col!("dns_response", "DNS QR bit", |r| hint!(r, Dns, |d| Val::B(
        d.response
    ))),
    col!("dns_rcode", "DNS response code", |r| hint!(r, Dns, |d| {
        Val::U(d.rcode.into())
    })),
    col!("dns_qnames", "DNS question names", |r| hint!(r, Dns, |d| {
        Val::Strs(d.questions.iter().map(|q| q.name.as_str()).collect())
    })),
    col!("dns_qtypes", "DNS question types", |r| hint!(r, Dns, |d| {
        Val::Owned(join(d.questions.iter().map(|q| q.qtype)))
    })),
    col!("dns_answers", "DNS records as 'name type data'", |r| hint!(
        r,
        Dns,
        |d| Val::Owned(
            d.answers
                .iter()
                .map(|a| format!("{} {} {}", a.name, a.rtype, a.data))
                .collect::<Vec<_>>()
                .join("|")
        )
    )),
    col!("dhcp_msg_type", "DHCP message type (option 53)", |r| hint!(
        r,
        Dhcp,
        |d| d.message_type.map_or(Val::Null, |v| Val::U(v.into()))
    )),
    col!("dhcp_client_mac", "DHCP chaddr", |r| hint!(r, Dhcp, |d| {
        Val::Mac(d.client_mac)
    })),
    col!("dhcp_hostname", "DHCP host name (option 12)", |r| hint!(
        r,
        Dhcp,
        |d| s(&d.hostname)
    )),
    col!(
        "dhcp_vendor_class",
        "DHCP vendor class (option 60)",
        |r| hint!(r, Dhcp, |d| s(&d.vendor_class))
    ),
    col!(
        "dhcp_fingerprint",
        "DHCP parameter request list (option 55), comma-separated",
        |r| hint!(r, Dhcp, |d| if d.param_request_list.is_empty() {
            Val::Null
        } else {
            Val::Owned(d.fingerprint())
        })
    ),
    col!(
        "dhcp_requested_ip",
        "DHCP requested address (option 50)",
        |r| hint!(r, Dhcp, |d| d
            .requested_ip
            .map_or(Val::Null, |a| Val::Ip(a.into())))
    ),
    col!("dhcpv6_msg_type", "DHCPv6 message type", |r| hint!(
        r,
        Dhcpv6,
        |d| Val::U(d.message_type.into())
    )),
    col!("dhcpv6_duid", "DHCPv6 client DUID (hex)", |r| hint!(
        r,
        Dhcpv6,
        |d| s(&d.client_duid)
    )),
    col!("dhcpv6_fqdn", "DHCPv6 client FQDN", |r| hint!(
        r,
        Dhcpv6,
        |d| s(&d.fqdn)
    )),
    col!("dhcpv6_vendor_class", "DHCPv6 vendor class", |r| hint!(
        r,
        Dhcpv6,
        |d| s(&d.vendor_class)
    )),
    col!(
        "dhcpv6_oro",
        "DHCPv6 option request list, comma-separated",
        |r| hint!(r, Dhcpv6, |d| Val::Owned(join(d.option_request.iter())))
    ),
    col!("tls_sni", "TLS ClientHello server name", |r| hint!(
        r,
        Tls,
        |t| s(&t.sni)
    )),
    col!("tls_alpn", "TLS ALPN protocols offered", |r| hint!(
        r,
        Tls,
        |t| Val::Strs(t.alpn.iter().map(String::as_str).collect())
    )),
    col!(
        "tls_versions",
        "TLS supported_versions (or the legacy version), hex",
        |r| hint!(r, Tls, |t| Val::Owned(tls_versions(t)))
    ),
    col!("ja3", "JA3 string", |r| hint!(r, Tls, |t| Val::S(&t.ja3))),
    col!("ja3_hash", "JA3 MD5", |r| hint!(r, Tls, |t| Val::S(
        &t.ja3_hash
    ))),
    col!("ja4", "JA4 fingerprint", |r| hint!(r, Tls, |t| Val::S(
        &t.ja4
    ))),
    col!("http_method", "HTTP request method", |r| hint!(
        r,
        Http,
        |h| Val::S(&h.method)
    )),
    col!("http_host", "HTTP Host header", |r| hint!(r, Http, |h| s(
        &h.host
    ))),
    col!("http_path", "HTTP request target", |r| hint!(
        r,
        Http,
        |h| Val::S(&h.path)
    )),
    col!("http_user_agent", "HTTP User-Agent header", |r| hint!(
        r,
        Http,
        |h| s(&h.user_agent)
    )),
    col!(
        "ssdp_kind",
        "SSDP message kind (NOTIFY, M-SEARCH, RESPONSE)",
        |r| hint!(r, Ssdp, |h| Val::S(&h.kind))
    ),
    col!("ssdp_server", "SSDP SERVER header", |r| hint!(
        r,
        Ssdp,
        |h| s(&h.server)
    )),
    col!("ssdp_location", "SSDP LOCATION header", |r| hint!(
        r,
        Ssdp,
        |h| s(&h.location)
    )),
    col!("ssdp_target", "SSDP NT or ST header", |r| hint!(
        r,
        Ssdp,
        |h| s(&h.target)
    )),
    col!("ssdp_user_agent", "SSDP USER-AGENT header", |r| hint!(
        r,
        Ssdp,
        |h| s(&h.user_agent)
    )),
    col!("stop_layer", "layer where decoding stopped early", |r| opt(
        r.packet.stop,
        |st| Val::S(st.layer.name())
    )),
    col!(
        "stop_offset",
        "byte offset of that layer in the frame",
        |r| opt(r.packet.stop, |st| Val::U(st.offset as u64))
    ),
    col!("stop_reason", "why decoding stopped", |r| r
        .packet
        .stop
        .as_ref()
        .map_or(Val::Null, |st| Val::Disp(&st.reason))),
];

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

fn tls_versions(t: &trident_decode::app::TlsHint) -> String {
    if t.supported_versions.is_empty() {
        format!("0x{:04x}", t.legacy_version)
    } else {
        join(t.supported_versions.iter().map(|v| format!("0x{v:04x}")))
    }
}

/// Resolves `--fields a,b,c` to column indexes; `None` selects all.
pub fn select(fields: Option<&str>) -> Result<Vec<&'static Column>, String> {
    let Some(fields) = fields else {
        return Ok(COLUMNS.iter().collect());
    };
    fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            COLUMNS
                .iter()
                .find(|c| c.name == f)
                .ok_or_else(|| format!("unknown field '{f}' (see `trident decode --list-fields`)"))
        })
        .collect()
}

/// Column groups: a column whose group the packet lacks is `Null` without being read, so
/// the writers skip most of the ~95 columns of an ordinary packet with one bit test.
pub mod group {
    /// Always read.
    pub const ALWAYS: u32 = 1;
    /// `arp_*`.
    pub const ARP: u32 = 1 << 1;
    /// `tcp_*`.
    pub const TCP: u32 = 1 << 2;
    /// `icmp_*`, `nd_*`.
    pub const ICMP: u32 = 1 << 3;
    /// `tunnel*`.
    pub const TUNNEL: u32 = 1 << 4;
    /// `dns_*`.
    pub const DNS: u32 = 1 << 5;
    /// `dhcp_*`.
    pub const DHCP: u32 = 1 << 6;
    /// `dhcpv6_*`.
    pub const DHCPV6: u32 = 1 << 7;
    /// `tls_*`, `ja3*`, `ja4`.
    pub const TLS: u32 = 1 << 8;
    /// `http_*`.
    pub const HTTP: u32 = 1 << 9;
    /// `ssdp_*`.
    pub const SSDP: u32 = 1 << 10;
    /// `stop_*`.
    pub const STOP: u32 = 1 << 11;
}

/// The group a column belongs to, from its name's prefix.
#[must_use]
pub fn group_of(name: &str) -> u32 {
    const PREFIXES: [(&str, u32); 13] = [
        ("arp_", group::ARP),
        ("tcp_", group::TCP),
        ("icmp_", group::ICMP),
        ("nd_", group::ICMP),
        ("tunnel", group::TUNNEL),
        ("dns_", group::DNS),
        ("dhcpv6_", group::DHCPV6),
        ("dhcp_", group::DHCP),
        ("tls_", group::TLS),
        ("ja", group::TLS),
        ("http_", group::HTTP),
        ("ssdp_", group::SSDP),
        ("stop_", group::STOP),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| name.starts_with(p))
        .map_or(group::ALWAYS, |(_, g)| *g)
}

/// The groups a packet has.
#[must_use]
pub fn groups_present(p: &Packet<'_>) -> u32 {
    let mut g = group::ALWAYS;
    if p.arp.is_some() {
        g |= group::ARP;
    }
    match p.transport {
        Some(Transport::Tcp(_)) => g |= group::TCP,
        Some(Transport::Icmp(_) | Transport::Icmpv6(_)) => g |= group::ICMP,
        _ => {}
    }
    if p.tunnel.is_some() {
        g |= group::TUNNEL;
    }
    if p.stop.is_some() {
        g |= group::STOP;
    }
    g | match p.app.as_deref() {
        Some(AppHint::Dns(_)) => group::DNS,
        Some(AppHint::Dhcp(_)) => group::DHCP,
        Some(AppHint::Dhcpv6(_)) => group::DHCPV6,
        Some(AppHint::Tls(_)) => group::TLS,
        Some(AppHint::Http(_)) => group::HTTP,
        Some(AppHint::Ssdp(_)) => group::SSDP,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trident_capture::{CaptureReader, Input, expand_inputs};

    /// The group shortcut must never hide a value: a column outside the packet's groups
    /// reads as `Null` on every packet of the bundled samples.
    #[test]
    fn absent_groups_only_hide_nulls() {
        let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
        let (inputs, _) = expand_inputs(&[samples]);
        let mut checked = 0;
        let mut seen_groups = 0;
        for input in inputs
            .iter()
            .filter(|i| matches!(i, Input::File(p) if p.extension().is_some_and(|e| e == "pcap")))
        {
            let mut reader = CaptureReader::open(input).expect("sample opens");
            while let Some(frame) = reader.next_frame().expect("sample reads") {
                let packet = trident_decode::decode(frame.link_type, frame.data);
                let present = groups_present(&packet);
                seen_groups |= present;
                let row = Row {
                    file: "x",
                    frame: &frame,
                    packet: &packet,
                };
                for c in COLUMNS {
                    let v = (c.get)(&row);
                    if group_of(c.name) & present == 0 {
                        assert!(
                            matches!(v, Val::Null),
                            "column {} hidden but has a value",
                            c.name
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 20_000, "{checked}");
        for g in [
            group::TCP,
            group::DNS,
            group::TLS,
            group::HTTP,
            group::TUNNEL,
            group::ARP,
            group::STOP,
        ] {
            assert!(seen_groups & g != 0, "samples exercise group {g:#x}");
        }
    }
}
