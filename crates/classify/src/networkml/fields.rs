//! Per-frame extraction of the packet fields networkML reads, as TShark 4.0.17 shows them.
//!
//! # Why a walker of its own instead of `trident_decode::Packet`
//!
//! networkML flattens tshark's full dissection of each frame into one dictionary in which a
//! later occurrence of a field overwrites an earlier one. So `ip.src` is the address of the
//! *last* IPv4 header tshark dissected in the frame (the header quoted inside an ICMP error,
//! or the inner header of a tunnel), `ip.dsfield` and `ip.flags` likewise, `eth.src` the
//! inner Ethernet header of a VXLAN packet, while `ip.version` may come from an IPv6 header
//! that follows an outer IPv4 one. trident's decoder deliberately keeps the innermost IP
//! header and the outermost tunnel, which is the right model for flows but cannot express
//! per-field "last occurrence". It also does not emulate tshark's IPv4/IPv6 reassembly
//! (the transport fields of a fragmented datagram appear on the frame that completes it),
//! tshark's choice between the two UDP ports, or dissectors such as UDP-encapsulated ESP
//! that only matter for networkML's protocol bits. This module walks the frame bytes with
//! exactly those rules, for exactly the fields networkML uses, and nothing else.
//!
//! Each rule was checked against `tshark -T fields -E occurrence=l` (the same
//! last-occurrence view) on crafted frames and on the corpus; the tests in
//! `tests/tshark_fields.rs` repeat that comparison whenever tshark is installed.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};

use trident_types::{LinkType, MacAddr};

use super::tshark_udp_ports::TSHARK_UDP_PORTS;

/// Bits of networkML's well-known protocol mask (`tcp`=0 ... `ah`=7, §4.1), set when tshark
/// would list the protocol in `frame.protocols` or emit one of its fields.
pub mod proto_bits {
    /// TCP.
    pub const TCP: u8 = 1 << 0;
    /// UDP (and UDP-Lite, whose fields tshark names `udp.*`).
    pub const UDP: u8 = 1 << 1;
    /// ICMP.
    pub const ICMP: u8 = 1 << 2;
    /// ARP and RARP.
    pub const ARP: u8 = 1 << 3;
    /// ICMPv6.
    pub const ICMPV6: u8 = 1 << 4;
    /// GRE.
    pub const GRE: u8 = 1 << 5;
    /// ESP, including UDP-encapsulated ESP (NAT-T, UDP 4500).
    pub const ESP: u8 = 1 << 6;
    /// AH.
    pub const AH: u8 = 1 << 7;
}

/// The deepest nesting of headers followed in one frame (tunnels in tunnels, ICMP errors
/// quoting tunnelled packets). Deeper frames keep what was extracted so far.
pub const MAX_DEPTH: usize = 24;
/// The most MPLS labels or IPv6 extension headers walked in one stack.
pub const MAX_STACK: usize = 16;
/// The most datagrams waiting for missing fragments; the oldest is dropped beyond this.
pub const MAX_PENDING_DATAGRAMS: usize = 4096;
/// The most bytes held in fragments waiting for reassembly; the oldest datagrams are
/// dropped beyond this, so a capture of endless first fragments cannot exhaust memory.
pub const MAX_PENDING_BYTES: usize = 64 << 20;
/// The largest reassembled datagram accepted (offset + length of a fragment).
pub const MAX_DATAGRAM_LEN: usize = 1 << 17;

/// wiretap caps a record's original length at this (`frame.len` of a record claiming 4 GB
/// is 2147483647).
const MAX_FRAME_LEN: u32 = 0x7fff_ffff;
/// The most options an IPv4 header can hold (40 option bytes).
const MAX_IPV4_OPTIONS: usize = 40;
/// The most TLV options looked at in one IPv6 options header (2 KiB of Pad1 at most).
const MAX_IPV6_OPTIONS: usize = 2048;
/// Ethernet header length.
const ETH_HEADER_LEN: usize = 14;
/// The largest 802.3 length value; type/length fields up to this are lengths.
const IEEE_802_3_MAX_LEN: u16 = 1500;
/// The smallest Ethernet II type; values between 1501 and this are neither.
const ETHERNET_II_MIN_TYPE: u16 = 0x0600;
/// The minimum IPv4 header length.
const IPV4_MIN_HEADER: usize = 20;
/// The IPv6 fixed header length.
const IPV6_HEADER: usize = 40;
/// The TCP header length tshark needs before it shows `tcp.flags`.
const TCP_MIN_HEADER: usize = 20;
/// The UDP header length.
const UDP_HEADER: usize = 8;
/// VXLAN header length.
const VXLAN_HEADER: usize = 8;
/// ICMP and ICMPv6 error messages: the quoted packet starts after this header.
const ICMP_ERROR_HEADER: usize = 8;
/// ICMP redirect.
const ICMP_REDIRECT: u8 = 5;
/// Bytes of the original datagram's payload an ICMP redirect quote is cut to.
const ICMP_QUOTED_PAYLOAD: usize = 8;
/// IPv4 "more fragments" bit of the flags/offset word.
const IPV4_MF: u16 = 0x2000;
/// IPv4 fragment offset mask (in 8-byte units).
const IPV4_OFFSET_MASK: u16 = 0x1fff;

/// How networkML's `ip.flags` column is filled (reference §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum IpFlagsEncoding {
    /// What TShark 4.x prints: the three flag bits shifted down (`0x02` = DF, `0x01` = MF,
    /// `0x04` = reserved). The networkML goldens were made this way.
    #[default]
    Tshark4,
    /// The raw 16-bit flags + fragment-offset word (`0x4000` = DF), as the tshark that
    /// produced networkML's training data printed it.
    Word16,
}

impl IpFlagsEncoding {
    /// The `ip.flags` value for a raw IPv4 flags/offset word.
    #[must_use]
    pub const fn encode(self, ip_off: u16) -> u16 {
        match self {
            IpFlagsEncoding::Tshark4 => (ip_off >> 13) & 0x7,
            IpFlagsEncoding::Word16 => ip_off,
        }
    }
}

/// The fields of one frame networkML imports (§3.1), with tshark's last-occurrence rule
/// applied. `None` means tshark would leave the CSV cell empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameFields {
    /// 1-based frame number in its capture.
    pub number: u64,
    /// `frame.time_epoch`, in nanoseconds.
    pub ts_nanos: i64,
    /// `frame.time_delta_displayed`: nanoseconds since the previous frame (0 for the first).
    pub delta_nanos: i64,
    /// `frame.len`: the original (wire) length.
    pub frame_len: u32,
    /// `eth.src`.
    pub eth_src: Option<MacAddr>,
    /// `eth.dst`.
    pub eth_dst: Option<MacAddr>,
    /// `eth.type` (Ethernet II only; 802.3 length frames have none).
    pub eth_type: Option<u16>,
    /// `vlan.id` of the last 802.1Q tag.
    pub vlan_id: Option<u16>,
    /// `ip.version` of the last IP header of either version.
    pub ip_version: Option<u8>,
    /// `ip.src` of the last IPv4 header.
    pub ip_src: Option<Ipv4Addr>,
    /// `ip.dst` of the last IPv4 header.
    pub ip_dst: Option<Ipv4Addr>,
    /// `ipv6.src` of the last IPv6 header.
    pub ipv6_src: Option<Ipv6Addr>,
    /// `ipv6.dst` of the last IPv6 header.
    pub ipv6_dst: Option<Ipv6Addr>,
    /// `ip.proto` of the last IPv4 header.
    pub ip_proto: Option<u8>,
    /// The upper-layer protocol of the last IPv6 header, after its extension headers
    /// (networkML has no such column; trident's own mode reads IPv6 ports with it).
    pub ipv6_upper_proto: Option<u8>,
    /// `ip.dsfield` (the TOS byte) of the last IPv4 header.
    pub ip_dsfield: Option<u8>,
    /// The raw flags/fragment-offset word of the last IPv4 header; `ip.flags` is
    /// [`IpFlagsEncoding::encode`] of it.
    pub ip_off: Option<u16>,
    /// `tcp.flags` (12 bits) of the last complete TCP header.
    pub tcp_flags: Option<u16>,
    /// `tcp.srcport`.
    pub tcp_srcport: Option<u16>,
    /// `tcp.dstport`.
    pub tcp_dstport: Option<u16>,
    /// `udp.srcport`.
    pub udp_srcport: Option<u16>,
    /// `udp.dstport`.
    pub udp_dstport: Option<u16>,
    /// `arp.opcode`.
    pub arp_opcode: Option<u16>,
    /// `icmp.code`.
    pub icmp_code: Option<u8>,
    /// `icmpv6.code`.
    pub icmpv6_code: Option<u8>,
    /// `gre.proto`.
    pub gre_proto: Option<u16>,
    /// Well-known protocols present ([`proto_bits`]).
    pub protocols: u8,
}

impl FrameFields {
    /// `ip.flags` as networkML reads it under `encoding`.
    #[must_use]
    pub fn ip_flags(&self, encoding: IpFlagsEncoding) -> Option<u16> {
        self.ip_off.map(|w| encoding.encode(w))
    }
}

/// Extracts [`FrameFields`] from the frames of one capture, in order. It keeps the state
/// tshark keeps across frames: the previous timestamp and fragments awaiting reassembly.
#[derive(Debug, Default)]
pub struct FieldExtractor {
    prev_ts: Option<i64>,
    reassembler: Reassembler,
}

impl FieldExtractor {
    /// A fresh extractor for a new capture.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The fields of the next frame. Frames of a link type other than Ethernet get only
    /// their frame fields (networkML cannot use them; the featurizer reports that).
    pub fn extract(
        &mut self,
        number: u64,
        ts_nanos: i64,
        origlen: u32,
        link_type: LinkType,
        data: &[u8],
    ) -> FrameFields {
        let mut fields = FrameFields {
            number,
            ts_nanos,
            delta_nanos: self.prev_ts.map_or(0, |prev| ts_nanos.saturating_sub(prev)),
            frame_len: origlen.min(MAX_FRAME_LEN),
            ..FrameFields::default()
        };
        self.prev_ts = Some(ts_nanos);
        if link_type == LinkType::ETHERNET {
            let reported = usize::try_from(origlen)
                .unwrap_or(usize::MAX)
                .max(data.len());
            let mut walker = Walker {
                f: &mut fields,
                reassembler: &mut self.reassembler,
                depth: 0,
                in_error: false,
            };
            walker.ethernet(Span::new(data, reported));
        }
        fields
    }
}

/// A header's captured bytes and its reported (wire) length, as a tshark tvb has both.
#[derive(Debug, Clone, Copy)]
struct Span<'a> {
    /// Captured bytes, never longer than `reported`.
    bytes: &'a [u8],
    /// Length on the wire.
    reported: usize,
}

impl<'a> Span<'a> {
    fn new(bytes: &'a [u8], reported: usize) -> Self {
        Span {
            bytes: bytes.get(..reported).unwrap_or(bytes),
            reported,
        }
    }
    fn len(&self) -> usize {
        self.bytes.len()
    }
    fn u8(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?.first_chunk::<4>()?;
        Some(u32::from_be_bytes(*b))
    }
    /// The bytes after the first `n`.
    fn skip(&self, n: usize) -> Span<'a> {
        Span {
            bytes: self.bytes.get(n..).unwrap_or(&[]),
            reported: self.reported.saturating_sub(n),
        }
    }
    /// tshark's `set_actual_length`: shrink (never grow) the reported length.
    fn limit(&self, n: usize) -> Span<'a> {
        if n >= self.reported {
            return *self;
        }
        Span::new(self.bytes, n)
    }
}

/// What an IPv6 extension-header walk carries along.
#[derive(Debug, Clone, Copy)]
struct Chain {
    src: [u8; 16],
    dst: [u8; 16],
    /// Bytes the IPv6 payload length says remain from the current header on.
    declared: usize,
}

/// One frame's walk: where fields are written, the capture's reassembly state, and the
/// nesting depth.
struct Walker<'f> {
    f: &'f mut FrameFields,
    reassembler: &'f mut Reassembler,
    depth: usize,
    /// Inside the packet quoted by an ICMP error: tshark does not reassemble there.
    in_error: bool,
}

impl Walker<'_> {
    /// Runs `step` one level deeper, unless the frame is already [`MAX_DEPTH`] deep.
    fn nested(&mut self, step: impl FnOnce(&mut Self)) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        step(self);
        self.depth -= 1;
    }

    fn ethernet(&mut self, s: Span<'_>) {
        // tshark shows no Ethernet field at all for fewer than 14 bytes.
        let (Some(dst), Some(src), Some(kind)) = (
            s.bytes.get(0..6).and_then(MacAddr::from_slice),
            s.bytes.get(6..12).and_then(MacAddr::from_slice),
            s.u16(12),
        ) else {
            return;
        };
        // Cisco ISL: the "Ethernet" header is ISL's, the frame inside is the real one.
        const ISL_HEADER: usize = 26;
        if kind <= IEEE_802_3_MAX_LEN
            && matches!(
                s.bytes.get(0..5),
                Some([0x01 | 0x0c, 0x00, 0x0c, 0x00, 0x00])
            )
        {
            if s.u8(5).map(|b| b >> 4) == Some(0) {
                self.nested(|w| w.ethernet(s.skip(ISL_HEADER)));
            }
            return;
        }
        self.f.eth_dst = Some(dst);
        self.f.eth_src = Some(src);
        let payload = s.skip(ETH_HEADER_LEN);
        // Type 0 is Cisco MDS "Vegas" framing, which tshark treats as Ethernet II.
        if kind == 0 {
            self.f.eth_type = Some(0);
        } else if kind <= IEEE_802_3_MAX_LEN {
            self.nested(|w| w.ieee8023(payload.limit(usize::from(kind))));
        } else if kind >= ETHERNET_II_MIN_TYPE {
            self.f.eth_type = Some(kind);
            self.nested(|w| w.ether_type(kind, payload));
        }
    }

    /// An 802.3 payload: Novell raw IPX, or LLC with SNAP carrying an ether type.
    fn ieee8023(&mut self, s: Span<'_>) {
        const SNAP_SAP: u8 = 0xaa;
        const LLC_UI: u8 = 0x03;
        const SNAP_HEADER: usize = 8;
        if s.u16(0) == Some(0xffff) {
            return; // Novell raw 802.3 (IPX)
        }
        if s.u8(0) == Some(SNAP_SAP) && s.u8(1) == Some(SNAP_SAP) && s.u8(2) == Some(LLC_UI) {
            let oui = s.bytes.get(3..6);
            if let (Some([0, 0, 0 | 0xf8]), Some(pid)) = (oui, s.u16(6)) {
                self.nested(|w| w.ether_type(pid, s.skip(SNAP_HEADER)));
            }
        }
    }

    fn ether_type(&mut self, kind: u16, s: Span<'_>) {
        match kind {
            0x0800 => self.ip(s),
            0x86dd => self.ipv6(s),
            0x0806 | 0x8035 => self.arp(s),
            0x8100 | 0x9100 => self.vlan(s, true),
            0x88a8 => self.vlan(s, false),
            0x8847 | 0x8848 => self.mpls(s),
            0x8864 => self.pppoe(s),
            0x6558 => self.nested(|w| w.ethernet(s)),
            // Tags that carry an ether type after a fixed header: VN-Tag (4 bytes), 802.1BR
            // E-Tag (6 bytes), 802.1ah I-Tag (4 bytes, then customer addresses, which tshark
            // shows under ieee8021ah names).
            0x8926 => self.tagged(s, 6),
            0x893f => self.tagged(s, 8),
            0x88e7 => self.tagged(s, 18),
            0x880b => self.nested(|w| w.ppp(s)),
            0x894f => self.nsh(s),
            _ => {}
        }
    }

    /// An 802.1Q tag (`vlan.id`, `vlan.etype`), or an 802.1ad S-tag, which tshark's
    /// `ieee8021ad` dissector shows under other field names.
    fn vlan(&mut self, s: Span<'_>, is_8021q: bool) {
        const TAG_LEN: usize = 4;
        let (Some(tci), Some(kind)) = (s.u16(0), s.u16(2)) else {
            return;
        };
        if is_8021q {
            self.f.vlan_id = Some(tci & 0x0fff);
        }
        let payload = s.skip(TAG_LEN);
        if kind <= IEEE_802_3_MAX_LEN {
            self.nested(|w| w.ieee8023(payload.limit(usize::from(kind))));
        } else if kind >= ETHERNET_II_MIN_TYPE {
            self.nested(|w| w.ether_type(kind, payload));
        }
    }

    /// A tag of `len` bytes (counted from after the ether type that announced it) whose
    /// last two bytes are the next ether type.
    fn tagged(&mut self, s: Span<'_>, len: usize) {
        if let Some(kind) = len.checked_sub(2).and_then(|at| s.u16(at)) {
            let payload = s.skip(len);
            self.nested(|w| w.ether_type(kind, payload));
        }
    }

    /// Network Service Header: its length, then IPv4, IPv6, Ethernet, NSH or MPLS.
    fn nsh(&mut self, s: Span<'_>) {
        let (Some(b1), Some(next)) = (s.u8(1), s.u8(3)) else {
            return;
        };
        let payload = s.skip(usize::from(b1 & 0x3f) * 4);
        self.nested(|w| w.next_protocol(next, payload));
    }

    /// The next-protocol numbers of NSH and VXLAN-GPE.
    fn next_protocol(&mut self, next: u8, s: Span<'_>) {
        match next {
            1 => self.ipv4(s),
            2 => self.ipv6(s),
            3 => self.ethernet(s),
            4 => self.nsh(s),
            5 => self.mpls(s),
            _ => {}
        }
    }

    /// MPLS: labels to the bottom of the stack, then IPv4/IPv6 by the first nibble, or a
    /// pseudowire control word and Ethernet when it is 0 (tshark's `pwethheuristic`).
    fn mpls(&mut self, s: Span<'_>) {
        const LABEL_LEN: usize = 4;
        const BOTTOM_OF_STACK: u32 = 0x100;
        let mut rest = s;
        for _ in 0..MAX_STACK {
            let Some(entry) = rest.u32(0) else {
                return;
            };
            rest = rest.skip(LABEL_LEN);
            if entry & BOTTOM_OF_STACK != 0 {
                match rest.u8(0).map(|b| b >> 4) {
                    Some(4) => self.nested(|w| w.ipv4(rest)),
                    Some(6) => self.nested(|w| w.ipv6(rest)),
                    Some(0) => self.nested(|w| w.ethernet(rest.skip(LABEL_LEN))),
                    _ => {}
                }
                return;
            }
        }
    }

    /// PPPoE session data, then PPP.
    fn pppoe(&mut self, s: Span<'_>) {
        const PPPOE_HEADER: usize = 6;
        let Some(len) = s.u16(4) else {
            return;
        };
        let payload = s.skip(PPPOE_HEADER).limit(usize::from(len));
        self.nested(|w| w.ppp(payload));
    }

    /// PPP (optional HDLC address/control, 1- or 2-byte protocol) carrying IPv4 or IPv6.
    fn ppp(&mut self, s: Span<'_>) {
        let s = if s.u16(0) == Some(0xff03) {
            s.skip(2)
        } else {
            s
        };
        let (protocol, payload) = match s.u8(0) {
            Some(b) if b & 1 == 1 => (u16::from(b), s.skip(1)),
            Some(_) => match s.u16(0) {
                Some(p) => (p, s.skip(2)),
                None => return,
            },
            None => return,
        };
        match protocol {
            0x0021 => self.nested(|w| w.ip(payload)),
            0x0057 => self.nested(|w| w.ipv6(payload)),
            _ => {}
        }
    }

    fn arp(&mut self, s: Span<'_>) {
        const ARP_FIXED: usize = 8;
        const ATMARP_FIXED: usize = 12;
        const HW_ATM: u16 = 19;
        self.f.protocols |= proto_bits::ARP;
        if s.u16(0) == Some(HW_ATM) {
            // ATMARP shows its fields only when every address it announces was captured.
            let (Some(shtl), Some(sstl), Some(spln), Some(thtl), Some(tstl), Some(tpln)) =
                (s.u8(4), s.u8(5), s.u8(8), s.u8(9), s.u8(10), s.u8(11))
            else {
                return;
            };
            let total = ATMARP_FIXED
                + usize::from(shtl & 0x3f)
                + usize::from(sstl & 0x3f)
                + usize::from(spln)
                + usize::from(thtl & 0x3f)
                + usize::from(tstl & 0x3f)
                + usize::from(tpln);
            if s.len() < total {
                return;
            }
        } else if s.len() < ARP_FIXED {
            return;
        }
        if let Some(op) = s.u16(6) {
            self.f.arp_opcode = Some(op);
        }
    }

    /// tshark's `ip` dissector: IPv4 or IPv6 by the version nibble; any other version
    /// shows only `ip.version`.
    fn ip(&mut self, s: Span<'_>) {
        match s.u8(0).map(|b| b >> 4) {
            Some(4) => self.ipv4(s),
            Some(6) => self.ipv6(s),
            Some(v) => self.f.ip_version = Some(v),
            None => {}
        }
    }

    fn ipv4(&mut self, s: Span<'_>) {
        let Some(b0) = s.u8(0) else {
            return;
        };
        self.f.ip_version = Some(b0 >> 4);
        let header_len = usize::from(b0 & 0x0f) * 4;
        if header_len < IPV4_MIN_HEADER {
            return; // bogus header length: tshark stops after ip.version
        }
        // Fields appear in header order, each only if its bytes were captured (tshark
        // throws at the first one that is not).
        let Some(tos) = s.u8(1) else {
            return;
        };
        self.f.ip_dsfield = Some(tos);
        let Some(total_len) = s.u16(2) else {
            return;
        };
        // A zero total length is TCP segmentation offload: tshark uses the frame's length.
        let total_len = match usize::from(total_len) {
            0 => s.reported,
            n if n < header_len => return, // bogus total length
            n => n,
        };
        let Some(ip_off) = s.u16(6) else {
            return;
        };
        self.f.ip_off = Some(ip_off);
        let Some(protocol) = s.u8(9) else {
            return;
        };
        self.f.ip_proto = Some(protocol);
        let Some(src) = s.u32(12).map(Ipv4Addr::from) else {
            return;
        };
        self.f.ip_src = Some(src);
        // With a source route option the destination is the route's last hop; finding it
        // reads the options, so options cut by the snap length hide ip.dst altogether.
        let Some(dst_off) = source_route_offset(&s, header_len) else {
            return;
        };
        let Some(dst) = s.u32(16 + dst_off).map(Ipv4Addr::from) else {
            return;
        };
        self.f.ip_dst = Some(dst);
        if s.len() < header_len {
            return; // options cut off: tshark throws before the payload
        }
        // tshark trims the tvb to the total length only when that fits the frame.
        let s = if total_len <= s.reported {
            s.limit(total_len)
        } else {
            s
        };
        let payload = s.skip(header_len);
        let more = ip_off & IPV4_MF != 0;
        let offset = usize::from(ip_off & IPV4_OFFSET_MASK) * 8;
        if more || offset != 0 {
            if !self.in_error && total_len > header_len && payload.len() >= total_len - header_len {
                // tshark mixes the VLAN id into the key only for private/link-local pairs.
                let local = |a: Ipv4Addr| a.is_private() || a.is_link_local();
                let vlan = if local(src) || local(dst) {
                    self.f.vlan_id.unwrap_or(0)
                } else {
                    0
                };
                let key = FragKey::V4 {
                    src: src.octets(),
                    dst: dst.octets(),
                    id: s.u16(4).unwrap_or(0),
                    protocol,
                    vlan,
                };
                let data = payload
                    .bytes
                    .get(..total_len - header_len)
                    .unwrap_or(payload.bytes);
                if let Some(datagram) = self.reassembler.add(key, offset, data, more) {
                    let whole = Span::new(&datagram, datagram.len());
                    self.nested(|w| w.ip_payload(protocol, whole));
                }
                return;
            }
            if offset != 0 {
                return; // a later fragment that cannot be reassembled
            }
        }
        if payload.reported > 0 {
            self.nested(|w| w.ip_payload(protocol, payload));
        }
    }

    fn ipv6(&mut self, s: Span<'_>) {
        let Some(b0) = s.u8(0) else {
            return;
        };
        self.f.ip_version = Some(b0 >> 4);
        if b0 >> 4 != 6 {
            return;
        }
        let (Some(src), Some(dst)) = (
            s.bytes.get(8..24).and_then(|b| b.first_chunk::<16>()),
            s.bytes.get(24..40).and_then(|b| b.first_chunk::<16>()),
        ) else {
            if let Some(src) = s.bytes.get(8..24).and_then(|b| b.first_chunk::<16>()) {
                self.f.ipv6_src = Some(Ipv6Addr::from(*src));
            }
            return;
        };
        let (src, dst) = (*src, *dst);
        self.f.ipv6_src = Some(Ipv6Addr::from(src));
        self.f.ipv6_dst = Some(Ipv6Addr::from(dst));
        let payload_len = usize::from(s.u16(4).unwrap_or(0));
        let next = s.u8(6).unwrap_or(0);
        let (s, declared) = if payload_len == 0 {
            (s, s.reported.saturating_sub(IPV6_HEADER))
        } else {
            (s.limit(IPV6_HEADER + payload_len), payload_len)
        };
        let chain = Chain { src, dst, declared };
        self.nested(|w| w.ipv6_chain(next, s.skip(IPV6_HEADER), chain));
    }

    /// IPv6 extension headers, then the upper-layer protocol.
    fn ipv6_chain(&mut self, mut next: u8, mut s: Span<'_>, mut chain: Chain) {
        const FRAG_HEADER: usize = 8;
        for _ in 0..MAX_STACK {
            match next {
                // Hop-by-hop, routing, destination options, HIP, shim6.
                0 | 43 | 60 | 139 | 140 => {
                    let (Some(n), Some(len)) = (s.u8(0), s.u8(1)) else {
                        return;
                    };
                    let len = (usize::from(len) + 1) * 8;
                    if s.len() < len {
                        return;
                    }
                    if matches!(next, 0 | 60) && !options_fit(s.bytes.get(2..len).unwrap_or(&[])) {
                        return; // an option overruns its header: tshark throws here
                    }
                    next = n;
                    s = s.skip(len);
                    chain.declared = chain.declared.saturating_sub(len);
                }
                44 => {
                    let (Some(n), Some(off_m), Some(id)) = (s.u8(0), s.u16(2), s.u32(4)) else {
                        return;
                    };
                    let offset = usize::from(off_m & 0xfff8);
                    let more = off_m & 1 != 0;
                    let payload = s.skip(FRAG_HEADER);
                    chain.declared = chain.declared.saturating_sub(FRAG_HEADER);
                    if offset != 0 || more {
                        if !self.in_error && chain.declared > 0 && payload.len() >= chain.declared {
                            let key = FragKey::V6 {
                                src: chain.src,
                                dst: chain.dst,
                                id,
                                vlan: self.f.vlan_id.unwrap_or(0),
                            };
                            let data = payload.bytes.get(..chain.declared).unwrap_or(payload.bytes);
                            if let Some(datagram) = self.reassembler.add(key, offset, data, more) {
                                let whole = Span::new(&datagram, datagram.len());
                                let inner = Chain {
                                    declared: datagram.len(),
                                    ..chain
                                };
                                self.nested(|w| w.ipv6_chain(n, whole, inner));
                            }
                            return;
                        }
                        if offset != 0 {
                            return;
                        }
                    }
                    next = n;
                    s = payload;
                }
                51 => {
                    self.f.protocols |= proto_bits::AH;
                    let (Some(n), Some(len)) = (s.u8(0), s.u8(1)) else {
                        return;
                    };
                    let len = (usize::from(len) + 2) * 4;
                    if s.len() < len {
                        return;
                    }
                    next = n;
                    s = s.skip(len);
                    chain.declared = chain.declared.saturating_sub(len);
                }
                50 => {
                    self.f.protocols |= proto_bits::ESP;
                    return;
                }
                // No next header; the mobility header ends tshark's walk too.
                59 | 135 => return,
                p => {
                    self.f.ipv6_upper_proto = Some(p);
                    self.ip_payload(p, s);
                    return;
                }
            }
        }
    }

    /// The protocol carried by an IP header (IPv4 `protocol`, or IPv6's last next header).
    fn ip_payload(&mut self, protocol: u8, s: Span<'_>) {
        match protocol {
            1 => self.icmp(s),
            58 => self.icmpv6(s),
            6 => self.tcp(s),
            17 | 136 => self.udp(s),
            4 => self.nested(|w| w.ip(s)),
            41 => self.nested(|w| w.ipv6(s)),
            47 => self.gre(s),
            50 => self.f.protocols |= proto_bits::ESP,
            51 => self.ah(s),
            97 => self.nested(|w| w.ethernet(s.skip(2))),
            _ => {}
        }
    }

    fn icmp(&mut self, s: Span<'_>) {
        self.f.protocols |= proto_bits::ICMP;
        let (Some(kind), Some(code)) = (s.u8(0), s.u8(1)) else {
            return;
        };
        self.f.icmp_code = Some(code);
        // Unreachable, source quench, redirect, time exceeded, parameter problem quote the
        // offending datagram, which tshark dissects as IP.
        if matches!(kind, 3 | 4 | 5 | 11 | 12) && s.len() > ICMP_ERROR_HEADER {
            let mut quoted = s.skip(ICMP_ERROR_HEADER);
            if kind == ICMP_REDIRECT {
                // tshark hands on only the quoted IP header and 8 bytes of its payload.
                let ihl = quoted.u8(0).map_or(0, |b| usize::from(b & 0x0f) * 4);
                quoted = quoted.limit(ihl + ICMP_QUOTED_PAYLOAD);
            }
            self.quoted(|w| w.ip(quoted));
        }
    }

    fn icmpv6(&mut self, s: Span<'_>) {
        self.f.protocols |= proto_bits::ICMPV6;
        let (Some(kind), Some(code)) = (s.u8(0), s.u8(1)) else {
            return;
        };
        self.f.icmpv6_code = Some(code);
        // Destination unreachable, packet too big, time exceeded, parameter problem.
        if matches!(kind, 1..=4) && s.len() > ICMP_ERROR_HEADER {
            self.quoted(|w| w.ipv6(s.skip(ICMP_ERROR_HEADER)));
        }
    }

    /// Walks the packet quoted in an ICMP error, where tshark does not reassemble.
    fn quoted(&mut self, step: impl FnOnce(&mut Self)) {
        let saved = self.in_error;
        self.in_error = true;
        self.nested(step);
        self.in_error = saved;
    }

    fn tcp(&mut self, s: Span<'_>) {
        self.f.protocols |= proto_bits::TCP;
        let Some(src) = s.u16(0) else {
            return;
        };
        self.f.tcp_srcport = Some(src);
        let Some(dst) = s.u16(2) else {
            return;
        };
        self.f.tcp_dstport = Some(dst);
        // tshark shows the flags only for a complete 20-byte header with a valid length.
        if let (true, Some(off), Some(flags)) = (s.len() >= TCP_MIN_HEADER, s.u8(12), s.u8(13)) {
            if usize::from(off >> 4) * 4 >= TCP_MIN_HEADER {
                self.f.tcp_flags = Some((u16::from(off & 0x0f) << 8) | u16::from(flags));
            }
        }
    }

    fn udp(&mut self, s: Span<'_>) {
        self.f.protocols |= proto_bits::UDP;
        let Some(src) = s.u16(0) else {
            return;
        };
        self.f.udp_srcport = Some(src);
        let Some(dst) = s.u16(2) else {
            return;
        };
        self.f.udp_dstport = Some(dst);
        let Some(len) = s.u16(4).map(usize::from) else {
            return;
        };
        if len < UDP_HEADER || s.len() < UDP_HEADER {
            return;
        }
        let payload = s.limit(len).skip(UDP_HEADER);
        // tshark tries the lower port's dissector first, then the higher one.
        let (low, high) = if src > dst { (dst, src) } else { (src, dst) };
        for port in [low, high] {
            let handled = match port {
                0 => false,
                4500 => {
                    self.udpencap(payload);
                    true
                }
                4789 => {
                    self.nested(|w| w.ethernet(payload.skip(VXLAN_HEADER)));
                    true
                }
                4790 => {
                    if let Some(next) = payload.u8(3) {
                        self.nested(|w| w.next_protocol(next, payload.skip(VXLAN_HEADER)));
                    }
                    true
                }
                6635 => {
                    self.nested(|w| w.mpls(payload));
                    true
                }
                4754 => {
                    self.nested(|w| w.gre(payload));
                    true
                }
                5072 => {
                    self.ayiya(payload);
                    true
                }
                5247 => {
                    self.capwap_data(payload);
                    true
                }
                6081 => {
                    self.geneve(payload);
                    true
                }
                3544 => {
                    self.teredo(payload);
                    true
                }
                2152 => {
                    self.gtp_u(payload);
                    true
                }
                1701 => {
                    self.l2tp(payload);
                    true
                }
                p => TSHARK_UDP_PORTS.binary_search(&p).is_ok(),
            };
            if handled {
                return;
            }
        }
    }

    /// UDP 4500 (NAT traversal): a 1-byte keepalive, IKE after a zero non-ESP marker, or ESP.
    fn udpencap(&mut self, s: Span<'_>) {
        if s.len() == 1 && s.u8(0) == Some(0xff) {
            return;
        }
        if let Some(spi) = s.u32(0) {
            if spi != 0 {
                self.f.protocols |= proto_bits::ESP;
            }
        }
    }

    fn geneve(&mut self, s: Span<'_>) {
        const GENEVE_HEADER: usize = 8;
        let (Some(b0), Some(kind)) = (s.u8(0), s.u16(2)) else {
            return;
        };
        let payload = s.skip(GENEVE_HEADER + usize::from(b0 & 0x3f) * 4);
        self.nested(|w| w.ether_type(kind, payload));
    }

    /// Teredo: optional authentication and origin indication, then IPv6.
    fn teredo(&mut self, s: Span<'_>) {
        const ORIGIN_LEN: usize = 8;
        const AUTH_FIXED: usize = 13;
        let mut s = s;
        if s.u16(0) == Some(0x0001) {
            let (Some(id_len), Some(au_len)) = (s.u8(2), s.u8(3)) else {
                return;
            };
            s = s.skip(AUTH_FIXED + usize::from(id_len) + usize::from(au_len));
        }
        if s.u16(0) == Some(0x0000) {
            s = s.skip(ORIGIN_LEN);
        }
        self.nested(|w| w.ipv6(s));
    }

    /// CAPWAP's data channel (UDP 5247): a header of HLEN 4-byte words, then an 802.11 frame
    /// with its frame-control bytes swapped (T set, binding 1: tshark's default
    /// `capwap.swap_fc`) or an 802.3 frame (T clear). DTLS records, keep-alives and fragments
    /// show no inner field (tshark reassembles fragments; one frame is read at a time).
    fn capwap_data(&mut self, s: Span<'_>) {
        const FIXED: usize = 8;
        let (Some(preamble), Some(bits)) = (s.u8(0), s.u32(0)) else {
            return;
        };
        let bits = bits & 0x00ff_ffff;
        let hlen = ((bits >> 19) & 0x1f) as usize * 4;
        let wbid = (bits >> 9) & 0x1f;
        let native = bits & (1 << 8) != 0;
        let fragment = bits & (1 << 7) != 0;
        let keep_alive = bits & (1 << 3) != 0;
        if preamble != 0 || hlen < FIXED || fragment || keep_alive || s.len() < hlen {
            return;
        }
        let body = s.skip(hlen);
        match (native, wbid) {
            (false, _) => self.nested(|w| w.ethernet(body)),
            (true, 1) => self.nested(|w| w.wlan_data(body, true)),
            _ => {}
        }
    }

    /// An 802.11 data frame without FCS (`swapped_fc`: its two frame-control bytes in the
    /// other order): LLC/SNAP after the header leads on by ether type. Management, control,
    /// protected and null frames carry nothing networkML reads.
    fn wlan_data(&mut self, s: Span<'_>, swapped_fc: bool) {
        const DATA_HEADER: usize = 24;
        const ADDR4: usize = 6;
        const QOS: usize = 2;
        const HT: usize = 4;
        const SNAP: [u8; 3] = [0xaa, 0xaa, 0x03];
        let (Some(b0), Some(b1)) = (s.u8(0), s.u8(1)) else {
            return;
        };
        let (fc0, fc1) = if swapped_fc { (b1, b0) } else { (b0, b1) };
        let (version, kind, subtype) = (fc0 & 0x03, (fc0 >> 2) & 0x03, fc0 >> 4);
        // Version 0, data; subtypes 4-7 and 12-15 are null (no body).
        if version != 0 || kind != 2 || subtype & 0x04 != 0 || fc1 & 0x40 != 0 {
            return;
        }
        let mut header = DATA_HEADER;
        if fc1 & 0x03 == 0x03 {
            header += ADDR4;
        }
        if subtype & 0x08 != 0 {
            header += QOS;
            if fc1 & 0x80 != 0 {
                header += HT;
            }
        }
        let llc = s.skip(header);
        if llc.bytes.get(..3) != Some(&SNAP[..]) {
            return;
        }
        if let Some(kind) = llc.u16(6) {
            self.ether_type(kind, llc.skip(8));
        }
    }

    /// AYIYA (anything in anything, UDP 5072): a forwarded packet of the protocol its next
    /// header names.
    fn ayiya(&mut self, s: Span<'_>) {
        const AYIYA_FIXED: usize = 8;
        const OPCODE_FORWARD: u8 = 1;
        let (Some(b0), Some(b1), Some(b2), Some(next)) = (s.u8(0), s.u8(1), s.u8(2), s.u8(3))
        else {
            return;
        };
        if b2 & 0x0f != OPCODE_FORWARD {
            return;
        }
        let id_len = 1usize << (b0 >> 4);
        let sig_len = usize::from(b1 >> 4) * 4;
        let payload = s.skip(AYIYA_FIXED + id_len + sig_len);
        self.nested(|w| w.ip_payload(next, payload));
    }

    /// GTP-U version 1 T-PDU carrying IPv4 or IPv6.
    fn gtp_u(&mut self, s: Span<'_>) {
        const GTP_HEADER: usize = 8;
        const GTP_OPTIONAL: usize = 4;
        const T_PDU: u8 = 0xff;
        let (Some(flags), Some(kind)) = (s.u8(0), s.u8(1)) else {
            return;
        };
        if flags >> 5 != 1 || kind != T_PDU {
            return;
        }
        let mut at = GTP_HEADER;
        if flags & 0x07 != 0 {
            let Some(mut next_ext) = s.u8(GTP_HEADER + 3) else {
                return;
            };
            at += GTP_OPTIONAL;
            for _ in 0..MAX_STACK {
                if next_ext == 0 {
                    break;
                }
                let Some(units) = s.u8(at).filter(|u| *u != 0) else {
                    return;
                };
                let len = usize::from(units) * 4;
                let Some(n) = s.u8(at + len - 1) else {
                    return;
                };
                next_ext = n;
                at += len;
            }
        }
        let payload = s.skip(at);
        match payload.u8(0).map(|b| b >> 4) {
            Some(4) => self.nested(|w| w.ipv4(payload)),
            Some(6) => self.nested(|w| w.ipv6(payload)),
            _ => {}
        }
    }

    /// L2TPv2 data messages carry PPP.
    fn l2tp(&mut self, s: Span<'_>) {
        const CONTROL: u16 = 0x8000;
        const LENGTH: u16 = 0x4000;
        const SEQUENCE: u16 = 0x0800;
        const OFFSET: u16 = 0x0200;
        let Some(bits) = s.u16(0) else {
            return;
        };
        if bits & 0x000f != 2 || bits & CONTROL != 0 {
            return;
        }
        let mut at = 2;
        if bits & LENGTH != 0 {
            at += 2;
        }
        at += 4; // tunnel and session ids
        if bits & SEQUENCE != 0 {
            at += 4;
        }
        if bits & OFFSET != 0 {
            let Some(pad) = s.u16(at) else {
                return;
            };
            at += 2 + usize::from(pad);
        }
        let payload = s.skip(at);
        self.nested(|w| w.ppp(payload));
    }

    fn gre(&mut self, s: Span<'_>) {
        const CHECKSUM: u16 = 0x8000;
        const ROUTING: u16 = 0x4000;
        const KEY: u16 = 0x2000;
        const SEQUENCE: u16 = 0x1000;
        const ACK: u16 = 0x0080;
        self.f.protocols |= proto_bits::GRE;
        let (Some(bits), Some(kind)) = (s.u16(0), s.u16(2)) else {
            return;
        };
        self.f.gre_proto = Some(kind);
        if bits & ROUTING != 0 {
            return;
        }
        let mut at = 4;
        match bits & 0x7 {
            0 => {
                for flag in [CHECKSUM, KEY, SEQUENCE] {
                    if bits & flag != 0 {
                        at += 4;
                    }
                }
                let payload = s.skip(at);
                match kind {
                    // ERSPAN type I (no sequence number) has no header of its own, type II
                    // an 8-byte one, type III 12 bytes plus an optional 8-byte subheader.
                    0x88be if bits & SEQUENCE == 0 => self.nested(|w| w.ethernet(payload)),
                    0x88be => self.nested(|w| w.ethernet(payload.skip(8))),
                    0x22eb => {
                        let extra = if payload.u8(11).is_some_and(|b| b & 1 == 1) {
                            8
                        } else {
                            0
                        };
                        self.nested(|w| w.ethernet(payload.skip(12 + extra)));
                    }
                    // WCCP: IPv4 directly, or after a 4-byte redirect header.
                    0x883e => {
                        let inner = if payload.u8(0).map(|b| b >> 4) == Some(4) {
                            payload
                        } else {
                            payload.skip(4)
                        };
                        self.nested(|w| w.ip(inner));
                    }
                    _ => self.nested(|w| w.ether_type(kind, payload)),
                }
            }
            1 => {
                // Enhanced GRE (PPTP): key always, sequence and acknowledgement optional.
                at += 4;
                for flag in [SEQUENCE, ACK] {
                    if bits & flag != 0 {
                        at += 4;
                    }
                }
                let payload = s.skip(at);
                self.nested(|w| w.ppp(payload));
            }
            _ => {}
        }
    }

    fn ah(&mut self, s: Span<'_>) {
        self.f.protocols |= proto_bits::AH;
        let (Some(next), Some(len)) = (s.u8(0), s.u8(1)) else {
            return;
        };
        let len = (usize::from(len) + 2) * 4;
        if s.len() < len {
            return;
        }
        self.nested(|w| w.ip_payload(next, s.skip(len)));
    }
}

/// True when the TLV options of a hop-by-hop or destination options header each end within
/// it (Pad1 is a single byte; tshark reads a Home Address option's 16 bytes whatever its
/// length byte says).
fn options_fit(mut opts: &[u8]) -> bool {
    const PAD1: u8 = 0;
    const HOME_ADDRESS: u8 = 0xc9;
    const HOME_ADDRESS_LEN: usize = 16;
    for _ in 0..MAX_IPV6_OPTIONS {
        match opts {
            [] => return true,
            [PAD1, rest @ ..] => opts = rest,
            [HOME_ADDRESS, _, rest @ ..] => match rest.get(HOME_ADDRESS_LEN..) {
                Some(after) => opts = after,
                None => return false,
            },
            [_, len, rest @ ..] => match rest.get(usize::from(*len)..) {
                Some(after) => opts = after,
                None => return false,
            },
            [_] => return false,
        }
    }
    true
}

/// tshark's `get_dst_offset`: where the real destination is, relative to the header's
/// destination field, when a strict or loose source route option is present (0 otherwise).
/// `None` when the options it needs to read were not captured.
fn source_route_offset(s: &Span<'_>, header_len: usize) -> Option<usize> {
    const EOOL: u8 = 0;
    const NOP: u8 = 1;
    const LSRR: u8 = 0x83;
    const SSRR: u8 = 0x89;
    let mut length = header_len.checked_sub(IPV4_MIN_HEADER)?;
    let mut at = IPV4_MIN_HEADER;
    for _ in 0..MAX_IPV4_OPTIONS {
        if length == 0 {
            break;
        }
        let opt = s.u8(at)?;
        length -= 1;
        if opt != EOOL && opt != NOP {
            if length == 0 {
                return Some(0);
            }
            let len = usize::from(s.u8(at + 1)?);
            length -= 1;
            if len < 2 || len - 2 > length {
                return Some(0);
            }
            if opt == SSRR || opt == LSRR {
                let ptr = usize::from(s.u8(at + 2)?);
                if ptr < 4 || ptr & 3 != 0 || ptr > len {
                    return Some(0);
                }
                return Some(at - IPV4_MIN_HEADER + len);
            }
            at += len;
            length -= len - 2;
        } else {
            at += 1;
        }
        if opt == EOOL {
            return Some(0);
        }
    }
    Some(0)
}

/// What identifies the fragments of one datagram (tshark keys on addresses, id, protocol
/// and VLAN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FragKey {
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
        id: u16,
        protocol: u8,
        vlan: u16,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        id: u32,
        vlan: u16,
    },
}

/// Fragments of one datagram seen so far.
#[derive(Debug, Default)]
struct Pending {
    /// (offset, bytes) in arrival order.
    parts: Vec<(usize, Vec<u8>)>,
    /// Known once the last fragment (more = false) arrived.
    total: Option<usize>,
    /// Bytes held.
    size: usize,
    /// Insertion generation, to match eviction-queue entries.
    generation: u64,
}

/// IP reassembly the way tshark does it in one pass: a datagram is delivered on the frame
/// whose fragment completes it, in whatever order the fragments came.
#[derive(Debug, Default)]
struct Reassembler {
    pending: HashMap<FragKey, Pending>,
    /// Datagrams in the order they were started, for dropping the oldest.
    order: VecDeque<(FragKey, u64)>,
    held: usize,
    generation: u64,
}

impl Reassembler {
    /// Adds a fragment; returns the datagram's payload if this fragment completed it.
    fn add(&mut self, key: FragKey, offset: usize, data: &[u8], more: bool) -> Option<Vec<u8>> {
        let end = offset.checked_add(data.len())?;
        if end > MAX_DATAGRAM_LEN {
            return None;
        }
        if !self.pending.contains_key(&key) {
            self.generation += 1;
            self.order.push_back((key, self.generation));
            self.pending.insert(
                key,
                Pending {
                    generation: self.generation,
                    ..Pending::default()
                },
            );
        }
        let entry = self.pending.get_mut(&key)?;
        entry.parts.push((offset, data.to_vec()));
        entry.size += data.len();
        self.held += data.len();
        if !more {
            entry.total = Some(end);
        }
        let complete = entry.total.and_then(|total| {
            let mut parts: Vec<&(usize, Vec<u8>)> = entry.parts.iter().collect();
            parts.sort_by_key(|(off, _)| *off);
            let mut covered = 0usize;
            for (off, bytes) in &parts {
                if *off > covered {
                    return None;
                }
                covered = covered.max(off + bytes.len());
            }
            (covered >= total).then_some(total)
        });
        if let Some(total) = complete {
            let done = self.pending.remove(&key)?;
            self.held -= done.size;
            let mut datagram = vec![0u8; total];
            let mut parts = done.parts;
            parts.sort_by_key(|(off, _)| *off);
            for (off, bytes) in parts.iter().rev() {
                let end = (off + bytes.len()).min(total);
                if let (Some(dst), Some(src)) = (
                    datagram.get_mut(*off..end),
                    bytes.get(..end.saturating_sub(*off)),
                ) {
                    dst.copy_from_slice(src);
                }
            }
            return Some(datagram);
        }
        self.evict();
        None
    }

    /// Drops the oldest incomplete datagrams while over the limits.
    fn evict(&mut self) {
        while self.pending.len() > MAX_PENDING_DATAGRAMS || self.held > MAX_PENDING_BYTES {
            let Some((key, generation)) = self.order.pop_front() else {
                return;
            };
            if self
                .pending
                .get(&key)
                .is_some_and(|p| p.generation == generation)
            {
                if let Some(p) = self.pending.remove(&key) {
                    self.held -= p.size;
                }
            }
        }
        // Keep the queue from growing with entries of completed datagrams.
        if self.order.len() > 2 * MAX_PENDING_DATAGRAMS {
            let pending = &self.pending;
            self.order
                .retain(|(k, g)| pending.get(k).is_some_and(|p| p.generation == *g));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa,
        ];
        f.extend_from_slice(&kind.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn ipv4(protocol: u8, flags_off: u16, id: u16, payload: &[u8]) -> Vec<u8> {
        let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
        let mut h = vec![0x45, 0x00];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&id.to_be_bytes());
        h.extend_from_slice(&flags_off.to_be_bytes());
        h.extend_from_slice(&[64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        h.extend_from_slice(payload);
        h
    }

    fn extract(frames: &[Vec<u8>]) -> Vec<FrameFields> {
        let mut x = FieldExtractor::new();
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = u64::try_from(i).unwrap_or(0) + 1;
                let len = u32::try_from(f.len()).unwrap_or(0);
                x.extract(
                    n,
                    1_000_000_000 * i64::try_from(n).unwrap_or(0),
                    len,
                    LinkType::ETHERNET,
                    f,
                )
            })
            .collect()
    }

    #[test]
    fn reassembly_delivers_transport_on_the_completing_frame() {
        // A UDP datagram 1111 -> 2222 with 40 payload bytes, split at 24 bytes, the second
        // fragment sent first. tshark shows udp ports only on the frame that completes it.
        let mut udp = vec![0x04, 0x57, 0x08, 0xae, 0, 48, 0, 0];
        udp.extend_from_slice(&[b'x'; 40]);
        let (a, b) = udp.split_at(24);
        let frames = [
            eth(0x0800, &ipv4(17, 3, 7, b)),
            eth(0x0800, &ipv4(17, 0x2000, 7, a)),
        ];
        let got = extract(&frames);
        assert_eq!(got.first().and_then(|f| f.udp_srcport), None);
        assert_eq!(got.get(1).and_then(|f| f.udp_srcport), Some(1111));
        assert_eq!(got.get(1).and_then(|f| f.udp_dstport), Some(2222));
        assert_eq!(
            got.get(1).map(|f| f.ip_flags(IpFlagsEncoding::Tshark4)),
            Some(Some(1))
        );
        assert_eq!(
            got.first().map(|f| f.ip_flags(IpFlagsEncoding::Word16)),
            Some(Some(3))
        );
    }

    #[test]
    fn icmp_error_quote_overwrites_ip_fields() {
        let quoted = ipv4(17, 0, 9, &[0x13, 0x88, 0x00, 0x35, 0, 8, 0, 0]);
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&quoted);
        let got = extract(&[eth(0x0800, &ipv4(1, 0x4000, 1, &icmp))]);
        let f = got.first().copied().unwrap_or_default();
        assert_eq!(f.ip_proto, Some(17));
        assert_eq!(f.udp_dstport, Some(53));
        assert_eq!(f.ip_off, Some(0));
        assert_eq!(f.protocols, proto_bits::ICMP | proto_bits::UDP);
    }

    #[test]
    fn short_frames_have_no_ethernet_fields() {
        let got = extract(&[vec![0u8; 13]]);
        assert_eq!(got.first().and_then(|f| f.eth_src), None);
        assert_eq!(got.first().map(|f| f.frame_len), Some(13));
    }

    #[test]
    fn reassembler_is_bounded() {
        let mut r = Reassembler::default();
        for id in 0..(MAX_PENDING_DATAGRAMS as u16 + 10) {
            let key = FragKey::V4 {
                src: [1; 4],
                dst: [2; 4],
                id,
                protocol: 17,
                vlan: 0,
            };
            assert!(r.add(key, 0, &[0; 8], true).is_none());
        }
        assert!(r.pending.len() <= MAX_PENDING_DATAGRAMS);
        assert!(r.order.len() <= 2 * MAX_PENDING_DATAGRAMS + 1);
    }
}
