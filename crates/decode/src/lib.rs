//! Packet decoding: capture bytes in, a typed, borrowed [`Packet`] out.
//!
//! # Why lax, and why borrowed
//!
//! Real captures are full of frames that stop making sense half way: snap lengths cut TCP
//! options, fuzzers garble IPv6 extension chains, vendors invent ether types. A strict decoder
//! that returns `Err` for such a frame throws away the layers that *did* decode, and those are
//! what flow building and host inventory need (a truncated TCP header still has two ports).
//! So [`decode`] never fails: it decodes as far as the bytes go and records in
//! [`Packet::stop`] the layer, byte offset and reason where it stopped. Malformed traffic is a
//! partial result plus a counted reason, never an error and never a panic.
//!
//! Every header is read in place from the frame's bytes; only application hints (DNS names,
//! TLS fingerprints, HTTP fields) allocate, and only for the packets that carry them, so
//! decoding an ordinary TCP segment allocates nothing.
//!
//! # Layout
//!
//! One module per layer, in the order a frame is read: [`link`] (link types, Ethernet,
//! VLAN, MPLS, ARP, 802.11, PPP), [`ip`] (IPv4, IPv6 and extension headers), [`tunnel`]
//! (GRE/ERSPAN, VXLAN, Geneve, IP-in-IP, 6in4, Teredo), [`transport`] (TCP, UDP, ICMP,
//! ICMPv6) and [`app`] (the application hints).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod ip;
pub mod link;
pub mod transport;
pub mod tunnel;

mod dispatch;

use std::fmt;
use std::net::IpAddr;

pub use app::AppHint;
pub use trident_types::{LinkType, MacAddr, Timestamp};

pub use dispatch::{DecodeOptions, decode, decode_with};

/// The most VLAN tags kept per frame; deeper stacks are counted in [`VlanStack::dropped`].
pub const MAX_VLANS: usize = 4;
/// The most MPLS labels kept per frame.
pub const MAX_MPLS: usize = 8;
/// The most TCP options whose kinds are kept in order for fingerprinting.
pub const MAX_TCP_OPTIONS: usize = 20;
/// The deepest tunnel nesting followed; anything deeper stops with [`StopReason::TooDeep`].
pub const MAX_TUNNEL_DEPTH: usize = 4;

/// One decoded frame. Fields are `None` (or empty) for layers the frame does not have or
/// that could not be decoded; [`Packet::stop`] says why decoding ended early, if it did.
///
/// With tunnels, [`Packet::ip`] and [`Packet::transport`] describe the innermost packet and
/// [`Packet::tunnel`] the outermost encapsulation, so a flow keyed on `ip` is the tunnelled
/// conversation and the carrier stays visible.
#[derive(Debug, Clone, Default)]
pub struct Packet<'a> {
    /// The capture link type the frame was decoded as.
    pub link_type: LinkType,
    /// The first (outermost) Ethernet-like header: Ethernet, SLL, 802.11 addresses.
    pub eth: Option<EthernetInfo>,
    /// VLAN tags in wire order (outer first), 802.1Q and 802.1ad alike.
    pub vlans: VlanStack,
    /// MPLS label stack, top first.
    pub mpls: MplsStack,
    /// ARP, when the frame is ARP.
    pub arp: Option<ArpInfo>,
    /// The innermost IP header.
    pub ip: Option<IpInfo>,
    /// The outermost tunnel, when the IP packet was carried in one.
    pub tunnel: Option<TunnelInfo>,
    /// The transport header of the innermost IP packet.
    pub transport: Option<Transport>,
    /// Transport payload (after the TCP/UDP header), possibly cut by the snap length.
    pub payload: &'a [u8],
    /// Application-layer hints, when the payload is a protocol we recognise.
    pub app: Option<Box<AppHint>>,
    /// Where and why decoding stopped early; `None` when every layer present was decoded.
    pub stop: Option<Stop>,
}

/// The addresses and type of a link-layer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EthernetInfo {
    /// Source MAC (for 802.11: the transmitter's address as seen by the distribution system).
    pub src: MacAddr,
    /// Destination MAC (all zeros when the link type has none, e.g. SLL).
    pub dst: MacAddr,
    /// The ether type of the payload after VLAN tags and LLC/SNAP, or 0 when absent.
    pub ether_type: u16,
}

/// VLAN ids, outer first, without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VlanStack {
    ids: [u16; MAX_VLANS],
    len: u8,
    /// Tags seen beyond [`MAX_VLANS`].
    pub dropped: u8,
}

impl VlanStack {
    /// Appends a VLAN id (12 bits); counts it in `dropped` when the stack is full.
    pub fn push(&mut self, id: u16) {
        match self.ids.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = id;
                self.len += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }
    /// The ids kept, outer first.
    #[must_use]
    pub fn as_slice(&self) -> &[u16] {
        self.ids.get(..self.len as usize).unwrap_or(&[])
    }
    /// True when the frame carried no VLAN tag.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// MPLS labels (20-bit), top of stack first, without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MplsStack {
    labels: [u32; MAX_MPLS],
    len: u8,
}

impl MplsStack {
    /// Appends a label; labels past [`MAX_MPLS`] are not kept.
    pub fn push(&mut self, label: u32) {
        if let Some(slot) = self.labels.get_mut(self.len as usize) {
            *slot = label;
            self.len += 1;
        }
    }
    /// The labels kept, top first.
    #[must_use]
    pub fn as_slice(&self) -> &[u32] {
        self.labels.get(..self.len as usize).unwrap_or(&[])
    }
}

/// An ARP (or RARP) packet for Ethernet/IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 request, 2 reply (3/4 RARP).
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: std::net::Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: std::net::Ipv4Addr,
}

/// The fields of an IPv4 or IPv6 header that trident reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpInfo {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Differentiated services code point (upper 6 bits of TOS / traffic class).
    pub dscp: u8,
    /// Explicit congestion notification (lower 2 bits).
    pub ecn: u8,
    /// IPv4 identification, or the IPv6 fragment header's identification when present.
    pub id: Option<u32>,
    /// IPv4 "don't fragment".
    pub dont_fragment: bool,
    /// More fragments follow (IPv4 flag or IPv6 fragment header M bit).
    pub more_fragments: bool,
    /// IPv4 reserved ("evil") bit.
    pub reserved_flag: bool,
    /// Fragment offset in bytes (0 for the first or only fragment).
    pub fragment_offset: u16,
    /// The upper-layer protocol number after IPv6 extension headers.
    pub protocol: u8,
    /// IPv4 total length, or IPv6 payload length plus the 40-byte header.
    pub total_len: u32,
    /// IPv4 header length, or 40 plus the extension headers' length, in bytes.
    pub header_len: u16,
    /// IPv6 flow label (0 for IPv4).
    pub flow_label: u32,
}

impl IpInfo {
    /// 4 or 6.
    #[must_use]
    pub fn version(&self) -> u8 {
        if self.src.is_ipv4() { 4 } else { 6 }
    }
    /// True for a non-first fragment, whose transport header is in an earlier packet.
    #[must_use]
    pub fn is_later_fragment(&self) -> bool {
        self.fragment_offset != 0
    }
}

/// How the inner packet was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TunnelKind {
    /// GRE (RFC 2784/2890), including transparent Ethernet bridging.
    Gre,
    /// ERSPAN type II/III inside GRE.
    Erspan,
    /// VXLAN (UDP 4789).
    Vxlan,
    /// Geneve (UDP 6081).
    Geneve,
    /// IPv4 or IPv6 directly inside IPv4 (protocol 4) or IPv6 (41 carrying v4).
    IpInIp,
    /// IPv6 inside IPv4 (protocol 41).
    SixInFour,
    /// Teredo: IPv6 inside UDP 3544.
    Teredo,
    /// AYIYA ("anything in anything", SixXS): IPv6 or IPv4 inside UDP 5072.
    Ayiya,
    /// MPLS in UDP (RFC 7510, UDP 6635): a label stack, then IP.
    MplsUdp,
    /// VXLAN-GPE (UDP 4790): VXLAN with a next-protocol field (IPv4, IPv6, Ethernet, NSH,
    /// MPLS).
    VxlanGpe,
    /// CAPWAP's data channel (RFC 5415, UDP 5247): 802.11 or 802.3 frames between wireless
    /// access points and their controller.
    Capwap,
}

impl TunnelKind {
    /// Lower-case name used in output.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TunnelKind::Gre => "gre",
            TunnelKind::Erspan => "erspan",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::Geneve => "geneve",
            TunnelKind::IpInIp => "ipip",
            TunnelKind::SixInFour => "6in4",
            TunnelKind::Teredo => "teredo",
            TunnelKind::Ayiya => "ayiya",
            TunnelKind::MplsUdp => "mpls-udp",
            TunnelKind::VxlanGpe => "vxlan-gpe",
            TunnelKind::Capwap => "capwap",
        }
    }
}

/// The outermost encapsulation of a tunnelled packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelInfo {
    /// The kind of the outermost tunnel.
    pub kind: TunnelKind,
    /// The outer IP header (the carrier).
    pub outer: IpInfo,
    /// Outer UDP ports for UDP-based tunnels (VXLAN, Geneve, Teredo, AYIYA, MPLS in UDP).
    pub outer_ports: Option<(u16, u16)>,
    /// VXLAN/Geneve VNI, GRE key or ERSPAN session id, when present.
    pub id: Option<u32>,
    /// How many tunnels were unwrapped in total (1 for a single encapsulation).
    pub depth: u8,
    /// The inner Ethernet header for L2 tunnels (VXLAN, Geneve, GRE TEB, ERSPAN).
    pub inner_eth: Option<EthernetInfo>,
    /// When the carrier is IPv6 and tunnels are nested, the first IPv4 header between it and
    /// the innermost packet (IPv6 carrying IPv4 carrying GRE, ...): what tshark's first
    /// occurrence of `ip.*` names.
    pub first_ipv4: Option<IpInfo>,
}

/// A decoded transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// TCP.
    Tcp(TcpInfo),
    /// UDP (and UDP-Lite headers, which share the layout).
    Udp(UdpInfo),
    /// ICMP for IPv4.
    Icmp(IcmpInfo),
    /// ICMPv6, including neighbour discovery.
    Icmpv6(IcmpInfo),
}

impl Transport {
    /// Source and destination ports for TCP and UDP.
    #[must_use]
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self {
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        }
    }
}

/// TCP flag bits as they sit in the header's 9-bit flags field.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECE.
    pub const ECE: u16 = 0x040;
    /// CWR.
    pub const CWR: u16 = 0x080;
    /// NS / AE (accurate ECN).
    pub const NS: u16 = 0x100;
}

/// A TCP header with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number (absolute).
    pub seq: u32,
    /// Acknowledgement number (absolute).
    pub ack: u32,
    /// Flags, see [`tcp_flags`].
    pub flags: u16,
    /// Raw window (before scaling).
    pub window: u16,
    /// Header length in bytes (data offset × 4).
    pub header_len: u8,
    /// Urgent pointer.
    pub urgent: u16,
    /// MSS option.
    pub mss: Option<u16>,
    /// Window scale option (shift count).
    pub window_scale: Option<u8>,
    /// SACK-permitted option present.
    pub sack_permitted: bool,
    /// Timestamps option: (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// Option kinds in wire order (see [`TcpInfo::options_layout`]).
    pub options: TcpOptionKinds,
    /// True when the options area was cut or malformed part way.
    pub options_truncated: bool,
}

/// TCP option kinds in wire order, without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptionKinds {
    kinds: [u8; MAX_TCP_OPTIONS],
    len: u8,
}

impl TcpOptionKinds {
    /// Appends an option kind; kinds past [`MAX_TCP_OPTIONS`] are not kept.
    pub fn push(&mut self, kind: u8) {
        if let Some(slot) = self.kinds.get_mut(self.len as usize) {
            *slot = kind;
            self.len += 1;
        }
    }
    /// The kinds kept, in wire order.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        self.kinds.get(..self.len as usize).unwrap_or(&[])
    }

    /// The kinds as p0f writes them: `mss,nop,ws,sok,ts,eol`; unknown kinds as `?N`.
    #[must_use]
    pub fn layout(&self) -> String {
        let mut out = String::new();
        for (i, k) in self.as_slice().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match k {
                0 => out.push_str("eol"),
                1 => out.push_str("nop"),
                2 => out.push_str("mss"),
                3 => out.push_str("ws"),
                4 => out.push_str("sok"),
                5 => out.push_str("sack"),
                8 => out.push_str("ts"),
                k => {
                    out.push('?');
                    out.push_str(&k.to_string());
                }
            }
        }
        out
    }
}

impl TcpInfo {
    /// The option order as p0f writes it: `mss,nop,ws,sok,ts,eol`; unknown kinds as `?N`.
    ///
    /// Passive OS fingerprinting keys on this order, so it is kept exactly as on the wire.
    #[must_use]
    pub fn options_layout(&self) -> String {
        self.options.layout()
    }

    /// Flags as letters in tcpdump's order of significance: `FSRPAUEC` plus `N` for NS.
    #[must_use]
    pub fn flags_string(&self) -> String {
        const LETTERS: [(u16, char); 9] = [
            (tcp_flags::FIN, 'F'),
            (tcp_flags::SYN, 'S'),
            (tcp_flags::RST, 'R'),
            (tcp_flags::PSH, 'P'),
            (tcp_flags::ACK, 'A'),
            (tcp_flags::URG, 'U'),
            (tcp_flags::ECE, 'E'),
            (tcp_flags::CWR, 'C'),
            (tcp_flags::NS, 'N'),
        ];
        LETTERS
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, c)| *c)
            .collect()
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length field (header + payload).
    pub length: u16,
}

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpInfo {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Echo identifier and sequence, for echo request/reply.
    pub echo: Option<(u16, u16)>,
    /// For error messages (unreachable, time exceeded, ...): the quoted original header.
    pub quoted: Option<QuotedPacket>,
    /// ICMPv6 neighbour discovery: target address (NS/NA/redirect).
    pub nd_target: Option<std::net::Ipv6Addr>,
    /// ICMPv6 neighbour discovery: source or target link-layer address option.
    pub nd_lladdr: Option<MacAddr>,
}

/// The original packet's headers quoted inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedPacket {
    /// Original source.
    pub src: IpAddr,
    /// Original destination.
    pub dst: IpAddr,
    /// Original protocol.
    pub protocol: u8,
    /// Original ports (TCP/UDP), when the quote reaches them.
    pub ports: Option<(u16, u16)>,
    /// Original TCP sequence number, when quoted.
    pub tcp_seq: Option<u32>,
    /// Original TCP acknowledgement number, when the quote reaches it (RFC 792 guarantees
    /// only 8 bytes; ICMPv6 errors and many routers quote more).
    pub tcp_ack: Option<u32>,
}

/// The layer at which decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// The capture's link layer (Ethernet, SLL, 802.11, radiotap, PPP, null).
    Link,
    /// LLC/SNAP.
    Llc,
    /// An 802.1Q / 802.1ad tag.
    Vlan,
    /// An MPLS label.
    Mpls,
    /// PPPoE.
    Pppoe,
    /// ARP.
    Arp,
    /// IPv4.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Ext,
    /// A tunnel header (GRE, VXLAN, Geneve, ERSPAN, Teredo).
    Tunnel,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// An application protocol hint.
    App,
}

impl Layer {
    /// Lower-case name used in output and summaries.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Llc => "llc",
            Layer::Vlan => "vlan",
            Layer::Mpls => "mpls",
            Layer::Pppoe => "pppoe",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Ext => "ipv6-ext",
            Layer::Tunnel => "tunnel",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
            Layer::App => "app",
        }
    }
}

/// Why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StopReason {
    /// The header needs more bytes than the frame has (snap length or damage).
    Truncated {
        /// Bytes the header needs from its start.
        needed: u32,
        /// Bytes available from its start.
        available: u32,
    },
    /// A field holds a value the format does not allow.
    Malformed(&'static str),
    /// The link type is not one trident decodes.
    UnsupportedLinkType(u16),
    /// An ether type trident does not decode (LLDP, EAPOL, ...). Not damage.
    UnsupportedEtherType(u16),
    /// An IP protocol trident does not decode (OSPF, ESP, ...). Not damage.
    UnsupportedProtocol(u8),
    /// Something else trident does not decode yet, named (e.g. "802.11 management frame").
    Unsupported(&'static str),
    /// Tunnels nested deeper than [`MAX_TUNNEL_DEPTH`].
    TooDeep,
}

impl StopReason {
    /// True when the stop means the bytes are damaged or cut, not merely a protocol we
    /// leave undecoded.
    #[must_use]
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            StopReason::Truncated { .. } | StopReason::Malformed(_) | StopReason::TooDeep
        )
    }

    /// A stable short key for summaries: `truncated`, `malformed:<what>`,
    /// `unsupported-linktype:<n>`, `unsupported-ethertype:0x88cc`, `unsupported-protocol:89`.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            StopReason::Truncated { .. } => "truncated".to_owned(),
            StopReason::Malformed(what) => format!("malformed:{what}"),
            StopReason::UnsupportedLinkType(n) => format!("unsupported-linktype:{n}"),
            StopReason::UnsupportedEtherType(t) => format!("unsupported-ethertype:0x{t:04x}"),
            StopReason::UnsupportedProtocol(p) => format!("unsupported-protocol:{p}"),
            StopReason::Unsupported(what) => format!("unsupported:{what}"),
            StopReason::TooDeep => "too-deep".to_owned(),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} available")
            }
            StopReason::Malformed(what) => write!(f, "malformed: {what}"),
            StopReason::UnsupportedLinkType(n) => write!(f, "link type {n} not decoded"),
            StopReason::UnsupportedEtherType(t) => write!(f, "ether type 0x{t:04x} not decoded"),
            StopReason::UnsupportedProtocol(p) => write!(f, "IP protocol {p} not decoded"),
            StopReason::Unsupported(what) => write!(f, "{what} not decoded"),
            StopReason::TooDeep => write!(f, "tunnels nested deeper than {MAX_TUNNEL_DEPTH}"),
        }
    }
}

/// Where decoding stopped: the layer, the byte offset of that layer's header from the
/// start of the frame, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// The layer being decoded.
    pub layer: Layer,
    /// Offset of that layer's first byte in the frame.
    pub offset: usize,
    /// Why it stopped.
    pub reason: StopReason,
}
