//! Tunnels: GRE (with ERSPAN types I, II and III, WCCP redirection, Cisco MetaData, Aruba
//! 802.11 and PPTP's PPP), VXLAN, VXLAN-GPE, Geneve, GRE-in-UDP, MPLS-in-UDP, IP-in-IP, 6in4,
//! Teredo, AYIYA and CAPWAP's data channel.
//!
//! A tunnel is unwrapped only once its header has been read and names a payload trident
//! decodes; `Walker::enter_tunnel` then moves the carrier's IP header into
//! [`crate::TunnelInfo`] and the walk continues with the inner packet. A UDP datagram on a
//! tunnel port that does not look like that tunnel (VXLAN without its I flag, Teredo
//! without a plausible IPv6 header) stays plain UDP.

use crate::dispatch::{Next, Origin, Span, Walker, be16, be32};
use crate::link::{
    ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTICAST, ETHERTYPE_TEB,
};
use crate::{Layer, StopReason, TunnelKind, UdpInfo};

/// IP protocol: IPv4 in IP.
pub const PROTO_IPIP: u8 = 4;
/// IP protocol: IPv6 in IP.
pub const PROTO_IPV6: u8 = 41;
/// IP protocol: GRE.
pub const PROTO_GRE: u8 = 47;
/// VXLAN's IANA port (destination).
pub const VXLAN_PORT: u16 = 4789;
/// VXLAN-GPE's IANA port (destination).
pub const VXLAN_GPE_PORT: u16 = 4790;
/// VXLAN-GPE flag: the next-protocol field is present.
const VXLAN_GPE_FLAG_P: u8 = 0x04;
/// Geneve's IANA port (destination).
pub const GENEVE_PORT: u16 = 6081;
/// GRE-in-UDP (RFC 8086) port (destination).
pub const GRE_IN_UDP_PORT: u16 = 4754;
/// Teredo's port (either side: servers and relays listen on it).
pub const TEREDO_PORT: u16 = 3544;
/// MPLS-in-UDP port (RFC 7510, destination).
pub const MPLS_IN_UDP_PORT: u16 = 6635;
/// AYIYA port (source or destination).
pub const AYIYA_PORT: u16 = 5072;
/// CAPWAP's data channel (RFC 5415; source or destination). The control channel (5246) is
/// left as UDP.
pub const CAPWAP_DATA_PORT: u16 = 5247;
/// CAPWAP's fixed header: preamble, lengths and flags, fragment id and offset.
const CAPWAP_HEADER: usize = 8;
/// CAPWAP wireless binding: IEEE 802.11.
const CAPWAP_WBID_80211: u32 = 1;
/// AYIYA's fixed header: lengths, methods, opcode, next header, epoch time.
const AYIYA_HEADER: usize = 8;
/// AYIYA opcode: forward (the payload is a packet).
const AYIYA_FORWARD: u8 = 1;

/// ERSPAN type II (or type I without the GRE sequence number).
const ETHERTYPE_ERSPAN_II: u16 = 0x88be;
/// ERSPAN type III.
const ETHERTYPE_ERSPAN_III: u16 = 0x22eb;
/// WCCP redirection (Cisco), IPv4 after an optional 4-byte redirect header.
const ETHERTYPE_WCCP: u16 = 0x883e;
/// GRE protocol type: PPP (PPTP).
const ETHERTYPE_PPP: u16 = 0x880b;
/// PPTP's GRE header before its optional fields: flags and version, protocol type, payload
/// length, call id.
const PPTP_GRE_BASE: usize = 8;
/// GRE flag (PPTP, RFC 2637): acknowledgement number present.
const GRE_ACK: u16 = 0x0080;
/// GRE protocol type: Cisco MetaData (a security group tag before the payload).
const ETHERTYPE_CISCO_METADATA: u16 = 0x8909;
/// Cisco MetaData in GRE: payload ether type, version, length, option type, SGT.
const CISCO_METADATA_HEADER: usize = 8;
/// GRE protocol types Aruba access points use to carry 802.11 frames (without FCS) to their
/// controller: 0x8200 to 0x8370 in steps of 0x10, as Wireshark registers them.
const GRE_ARUBA_FIRST: u16 = 0x8200;
/// The last Aruba GRE protocol type.
const GRE_ARUBA_LAST: u16 = 0x8370;
/// The step between Aruba GRE protocol types.
const GRE_ARUBA_STEP: u16 = 0x10;
/// GRE's fixed header: flags and version, protocol type.
const GRE_BASE: usize = 4;
/// Each optional GRE field (checksum+reserved, key, sequence) is 4 bytes.
const GRE_FIELD: usize = 4;
/// GRE flag: checksum present.
const GRE_CHECKSUM: u16 = 0x8000;
/// GRE flag (RFC 1701): routing present.
const GRE_ROUTING: u16 = 0x4000;
/// GRE flag: key present.
const GRE_KEY: u16 = 0x2000;
/// GRE flag: sequence number present.
const GRE_SEQUENCE: u16 = 0x1000;
/// GRE version bits.
const GRE_VERSION_MASK: u16 = 0x0007;
/// GRE version 1: enhanced GRE of PPTP, carrying PPP.
const GRE_VERSION_PPTP: u16 = 1;
/// ERSPAN type II header.
const ERSPAN_II_HEADER: usize = 8;
/// ERSPAN type III header without the platform-specific subheader.
const ERSPAN_III_HEADER: usize = 12;
/// ERSPAN type III platform-specific subheader, present when the O bit is set.
const ERSPAN_III_PLATFORM: usize = 8;
/// ERSPAN version field of type II.
const ERSPAN_VERSION_II: u8 = 1;
/// ERSPAN version field of type III.
const ERSPAN_VERSION_III: u8 = 2;
/// ERSPAN session id bits.
const ERSPAN_SESSION_MASK: u16 = 0x03ff;
/// ERSPAN III frame type: Ethernet.
const ERSPAN_FT_ETHERNET: u8 = 0;
/// ERSPAN III frame type: IP (no Ethernet header).
const ERSPAN_FT_IP: u8 = 2;
/// WCCPv2 redirect header.
const WCCP_REDIRECT_HEADER: usize = 4;
/// VXLAN header.
const VXLAN_HEADER: usize = 8;
/// VXLAN I flag: the VNI is valid.
const VXLAN_FLAG_I: u8 = 0x08;
/// Geneve fixed header.
const GENEVE_HEADER: usize = 8;
/// Teredo authentication indicator type.
const TEREDO_AUTH: [u8; 2] = [0x00, 0x01];
/// Teredo origin indication type.
const TEREDO_ORIGIN: [u8; 2] = [0x00, 0x00];
/// Authentication indicator before the client id and authentication value.
const TEREDO_AUTH_FIXED: usize = 4;
/// Nonce and confirmation byte after them.
const TEREDO_AUTH_TRAILER: usize = 9;
/// Origin indication: type, obfuscated port, obfuscated address.
const TEREDO_ORIGIN_LEN: usize = 8;
/// The IPv6 header Teredo carries.
const IPV6_HEADER: usize = 40;

/// What a tunnel header says follows it.
#[derive(Debug, Clone, Copy)]
enum Inner {
    /// An Ethernet frame.
    Ethernet,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// IPv4 or IPv6 by the first nibble.
    Ip,
    /// What an ether type names: MPLS (unicast or multicast), or the payload of a Cisco
    /// MetaData header.
    EtherType(u16),
    /// An 802.11 frame without FCS (Aruba's GRE).
    Ieee80211,
    /// An 802.11 frame whose two frame-control bytes are swapped (CAPWAP from Cisco access
    /// points; what tshark assumes by default, its `capwap.swap_fc`).
    Ieee80211SwappedFc,
    /// A PPP frame, with or without HDLC address and control (PPTP).
    Ppp,
}

/// Unwraps a tunnel whose header `s` said `inner` starts at `body`.
fn unwrap<'a>(
    w: &mut Walker<'a, '_>,
    kind: TunnelKind,
    outer_ports: Option<(u16, u16)>,
    id: Option<u32>,
    s: Span<'a>,
    inner: Inner,
    body: Span<'a>,
) -> Next<'a> {
    if let Err(stop) = w.enter_tunnel(kind, outer_ports, id, s.at) {
        return stop;
    }
    match inner {
        Inner::Ethernet => Next::Ethernet(body),
        Inner::Ipv4 => Next::Ipv4(body),
        Inner::Ipv6 => Next::Ipv6(body),
        Inner::Ip => match body.bytes.first().map(|b| b >> 4) {
            Some(6) => Next::Ipv6(body),
            _ => Next::Ipv4(body),
        },
        Inner::EtherType(ether_type) => Next::EtherType {
            ether_type,
            body,
            from: Origin {
                layer: Layer::Tunnel,
                at: s.at,
            },
        },
        Inner::Ieee80211 => crate::link::ieee80211::frame(w, body, false, false),
        Inner::Ieee80211SwappedFc => crate::link::ieee80211::frame(w, body, false, true),
        Inner::Ppp => crate::link::ppp::in_tunnel(
            body,
            Origin {
                layer: Layer::Tunnel,
                at: s.at,
            },
        ),
    }
}

/// A GRE header (RFC 2784/2890) in IP or, with `outer_ports`, in UDP.
pub(crate) fn gre<'a>(
    w: &mut Walker<'a, '_>,
    s: Span<'a>,
    outer_ports: Option<(u16, u16)>,
) -> Next<'a> {
    let b = s.bytes;
    let (Some(flags), Some(protocol)) = (be16(b, 0), be16(b, 2)) else {
        return s.truncated(Layer::Tunnel, GRE_BASE);
    };
    match flags & GRE_VERSION_MASK {
        0 => {}
        GRE_VERSION_PPTP => return pptp(w, s, outer_ports),
        _ => return s.stop(Layer::Tunnel, StopReason::Malformed("GRE version")),
    }
    if flags & GRE_ROUTING != 0 {
        return s.stop(Layer::Tunnel, StopReason::Unsupported("GRE source routing"));
    }
    let key_at = GRE_BASE + gre_field(flags, GRE_CHECKSUM);
    let header_len = key_at + gre_field(flags, GRE_KEY) + gre_field(flags, GRE_SEQUENCE);
    if b.len() < header_len {
        return s.truncated(Layer::Tunnel, header_len);
    }
    let key = if flags & GRE_KEY != 0 {
        be32(b, key_at)
    } else {
        None
    };
    let body = s.skip(header_len);
    let inner = match protocol {
        ETHERTYPE_IPV4 => Inner::Ipv4,
        ETHERTYPE_IPV6 => Inner::Ipv6,
        ETHERTYPE_TEB => Inner::Ethernet,
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => Inner::EtherType(protocol),
        ETHERTYPE_PPP => Inner::Ppp,
        ETHERTYPE_CISCO_METADATA => {
            // The ether type of what follows, then version, length, an option and the SGT.
            let Some(next) = be16(body.bytes, 0).filter(|_| body.len() >= CISCO_METADATA_HEADER)
            else {
                return body.truncated(Layer::Tunnel, CISCO_METADATA_HEADER);
            };
            return unwrap(
                w,
                TunnelKind::Gre,
                outer_ports,
                key,
                s,
                Inner::EtherType(next),
                body.skip(CISCO_METADATA_HEADER),
            );
        }
        GRE_ARUBA_FIRST..=GRE_ARUBA_LAST if protocol % GRE_ARUBA_STEP == 0 => Inner::Ieee80211,
        ETHERTYPE_ERSPAN_II if flags & GRE_SEQUENCE != 0 => return erspan_ii(w, outer_ports, body),
        // ERSPAN type I has no sequence number and no ERSPAN header.
        ETHERTYPE_ERSPAN_II => {
            return unwrap(
                w,
                TunnelKind::Erspan,
                outer_ports,
                None,
                s,
                Inner::Ethernet,
                body,
            );
        }
        ETHERTYPE_ERSPAN_III => return erspan_iii(w, outer_ports, body),
        ETHERTYPE_WCCP => {
            // WCCPv1 puts the IPv4 packet right after GRE; v2 adds a redirect header, whose
            // first nibble is never 4.
            let body = match body.bytes.first() {
                Some(b) if b >> 4 == 4 => body,
                _ => body.skip(WCCP_REDIRECT_HEADER),
            };
            return unwrap(w, TunnelKind::Gre, outer_ports, key, s, Inner::Ipv4, body);
        }
        other => return s.stop(Layer::Tunnel, StopReason::UnsupportedEtherType(other)),
    };
    unwrap(w, TunnelKind::Gre, outer_ports, key, s, inner, body)
}

/// The length of an optional GRE field (4 bytes) when its flag `bit` is set in `flags`.
fn gre_field(flags: u16, bit: u16) -> usize {
    if flags & bit != 0 { GRE_FIELD } else { 0 }
}

/// PPTP's enhanced GRE (RFC 2637, version 1): payload length and call id in place of the
/// key, optional sequence and acknowledgement numbers, then a PPP frame. An
/// acknowledgement-only packet has no payload and is just the carrier.
fn pptp<'a>(w: &mut Walker<'a, '_>, s: Span<'a>, outer_ports: Option<(u16, u16)>) -> Next<'a> {
    let b = s.bytes;
    let (Some(flags), Some(protocol), Some(payload_len), Some(call_id)) =
        (be16(b, 0), be16(b, 2), be16(b, 4), be16(b, 6))
    else {
        return s.truncated(Layer::Tunnel, PPTP_GRE_BASE);
    };
    if protocol != ETHERTYPE_PPP {
        return s.stop(Layer::Tunnel, StopReason::UnsupportedEtherType(protocol));
    }
    if flags & GRE_KEY == 0 || flags & (GRE_CHECKSUM | GRE_ROUTING) != 0 {
        return s.stop(Layer::Tunnel, StopReason::Malformed("PPTP GRE flags"));
    }
    let header_len = PPTP_GRE_BASE + gre_field(flags, GRE_SEQUENCE) + gre_field(flags, GRE_ACK);
    if b.len() < header_len {
        return s.truncated(Layer::Tunnel, header_len);
    }
    if payload_len == 0 {
        return Next::Done;
    }
    let body = s.skip(header_len).take(usize::from(payload_len));
    unwrap(
        w,
        TunnelKind::Gre,
        outer_ports,
        Some(u32::from(call_id)),
        s,
        Inner::Ppp,
        body,
    )
}

/// An ERSPAN type II header, then the mirrored Ethernet frame.
fn erspan_ii<'a>(w: &mut Walker<'a, '_>, outer_ports: Option<(u16, u16)>, s: Span<'a>) -> Next<'a> {
    let Some(&[v0, _, s0, s1, _, _, _, _]) = s.bytes.first_chunk::<ERSPAN_II_HEADER>() else {
        return s.truncated(Layer::Tunnel, ERSPAN_II_HEADER);
    };
    if v0 >> 4 != ERSPAN_VERSION_II {
        return s.stop(Layer::Tunnel, StopReason::Malformed("ERSPAN II version"));
    }
    let session = u16::from_be_bytes([s0, s1]) & ERSPAN_SESSION_MASK;
    let body = s.skip(ERSPAN_II_HEADER);
    unwrap(
        w,
        TunnelKind::Erspan,
        outer_ports,
        Some(u32::from(session)),
        s,
        Inner::Ethernet,
        body,
    )
}

/// An ERSPAN type III header (with the platform subheader when the O bit says so), then
/// the mirrored Ethernet frame or IP packet.
fn erspan_iii<'a>(
    w: &mut Walker<'a, '_>,
    outer_ports: Option<(u16, u16)>,
    s: Span<'a>,
) -> Next<'a> {
    let Some(&[v0, _, s0, s1, _, _, _, _, _, _, f0, f1]) =
        s.bytes.first_chunk::<ERSPAN_III_HEADER>()
    else {
        return s.truncated(Layer::Tunnel, ERSPAN_III_HEADER);
    };
    if v0 >> 4 != ERSPAN_VERSION_III {
        return s.stop(Layer::Tunnel, StopReason::Malformed("ERSPAN III version"));
    }
    let session = u16::from_be_bytes([s0, s1]) & ERSPAN_SESSION_MASK;
    let header_len = if f1 & 0x01 != 0 {
        ERSPAN_III_HEADER + ERSPAN_III_PLATFORM
    } else {
        ERSPAN_III_HEADER
    };
    if s.len() < header_len {
        return s.truncated(Layer::Tunnel, header_len);
    }
    let inner = match (f0 >> 2) & 0x1f {
        ERSPAN_FT_ETHERNET => Inner::Ethernet,
        ERSPAN_FT_IP => Inner::Ip,
        _ => {
            return s.stop(
                Layer::Tunnel,
                StopReason::Unsupported("ERSPAN III frame type"),
            );
        }
    };
    let body = s.skip(header_len);
    unwrap(
        w,
        TunnelKind::Erspan,
        outer_ports,
        Some(u32::from(session)),
        s,
        inner,
        body,
    )
}

/// The UDP-based tunnels, by port; `body` is the UDP payload (bounded by UDP's length).
pub(crate) fn udp<'a>(w: &mut Walker<'a, '_>, udp: UdpInfo, body: Span<'a>) -> Next<'a> {
    let ports = Some((udp.src_port, udp.dst_port));
    match udp.dst_port {
        VXLAN_PORT => return vxlan(w, ports, body),
        VXLAN_GPE_PORT => return vxlan_gpe(w, ports, body),
        GENEVE_PORT => return geneve(w, ports, body),
        GRE_IN_UDP_PORT => return gre(w, body, ports),
        // No header of its own: the label stack starts the payload.
        MPLS_IN_UDP_PORT => {
            return unwrap(
                w,
                TunnelKind::MplsUdp,
                ports,
                None,
                body,
                Inner::EtherType(ETHERTYPE_MPLS),
                body,
            );
        }
        _ => {}
    }
    if udp.src_port == TEREDO_PORT || udp.dst_port == TEREDO_PORT {
        return teredo(w, ports, body, udp.length);
    }
    if udp.src_port == AYIYA_PORT || udp.dst_port == AYIYA_PORT {
        return ayiya(w, ports, body);
    }
    if udp.src_port == CAPWAP_DATA_PORT || udp.dst_port == CAPWAP_DATA_PORT {
        return capwap_data(w, ports, body);
    }
    Next::Done
}

/// A CAPWAP data packet (RFC 5415 §4.3): a header of HLEN 4-byte words, then an 802.3 frame
/// (T clear) or an 802.11 frame (T set, binding 1). DTLS-protected packets, keep-alives,
/// fragments and other bindings stay plain UDP (tshark reassembles fragments; trident reads
/// one packet at a time).
fn capwap_data<'a>(w: &mut Walker<'a, '_>, ports: Option<(u16, u16)>, s: Span<'a>) -> Next<'a> {
    let Some(&[preamble, b1, b2, b3, _, _, _, _]) = s.bytes.first_chunk::<CAPWAP_HEADER>() else {
        return Next::Done;
    };
    // Version 0, type 0 (a CAPWAP header; type 1 is a DTLS record).
    if preamble != 0 {
        return Next::Done;
    }
    let bits = u32::from_be_bytes([0, b1, b2, b3]);
    let hlen = ((bits >> 19) & 0x1f) as usize * 4;
    let wbid = (bits >> 9) & 0x1f;
    let native = bits & (1 << 8) != 0;
    let fragment = bits & (1 << 7) != 0;
    let keep_alive = bits & (1 << 3) != 0;
    if hlen < CAPWAP_HEADER || fragment || keep_alive {
        return Next::Done;
    }
    if s.len() < hlen {
        return s.truncated(Layer::Tunnel, hlen);
    }
    let inner = match (native, wbid) {
        (false, _) => Inner::Ethernet,
        (true, CAPWAP_WBID_80211) => Inner::Ieee80211SwappedFc,
        (true, _) => return Next::Done,
    };
    let body = s.skip(hlen);
    unwrap(w, TunnelKind::Capwap, ports, None, s, inner, body)
}

/// AYIYA (draft-massar-v6ops-ayiya): identity of 2^n bytes and a signature of n 4-byte words
/// after the fixed header; a forwarded IPv6 or IPv4 packet follows. Other opcodes
/// (heartbeats, queries) and other payloads leave the datagram as plain UDP, as in tshark.
fn ayiya<'a>(w: &mut Walker<'a, '_>, ports: Option<(u16, u16)>, s: Span<'a>) -> Next<'a> {
    let Some(&[id, sig, op, next, _, _, _, _]) = s.bytes.first_chunk::<AYIYA_HEADER>() else {
        return Next::Done;
    };
    if op & 0x0f != AYIYA_FORWARD {
        return Next::Done;
    }
    let inner = match next {
        PROTO_IPV6 => Inner::Ipv6,
        PROTO_IPIP => Inner::Ipv4,
        _ => return Next::Done,
    };
    let header_len = AYIYA_HEADER + (1usize << (id >> 4)) + usize::from(sig >> 4) * 4;
    if s.len() < header_len {
        return s.truncated(Layer::Tunnel, header_len);
    }
    let body = s.skip(header_len);
    unwrap(w, TunnelKind::Ayiya, ports, None, s, inner, body)
}

/// A VXLAN header (RFC 7348), then Ethernet.
fn vxlan<'a>(w: &mut Walker<'a, '_>, ports: Option<(u16, u16)>, s: Span<'a>) -> Next<'a> {
    let Some(&[flags, _, _, _, v0, v1, v2, _]) = s.bytes.first_chunk::<VXLAN_HEADER>() else {
        return s.truncated(Layer::Tunnel, VXLAN_HEADER);
    };
    if flags & VXLAN_FLAG_I == 0 {
        return Next::Done;
    }
    let vni = u32::from_be_bytes([0, v0, v1, v2]);
    let body = s.skip(VXLAN_HEADER);
    unwrap(
        w,
        TunnelKind::Vxlan,
        ports,
        Some(vni),
        s,
        Inner::Ethernet,
        body,
    )
}

/// A VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe): VXLAN's, with a next-protocol byte (P
/// flag) naming IPv4 (1), IPv6 (2), Ethernet (3), NSH (4) or MPLS (5). Without the P flag the
/// payload is Ethernet, as in VXLAN; an unknown protocol leaves the datagram as plain UDP.
fn vxlan_gpe<'a>(w: &mut Walker<'a, '_>, ports: Option<(u16, u16)>, s: Span<'a>) -> Next<'a> {
    let Some(&[flags, _, _, next, v0, v1, v2, _]) = s.bytes.first_chunk::<VXLAN_HEADER>() else {
        return s.truncated(Layer::Tunnel, VXLAN_HEADER);
    };
    let inner = match (flags & VXLAN_GPE_FLAG_P != 0, next) {
        (false, _) | (true, 3) => Inner::Ethernet,
        (true, 1) => Inner::Ipv4,
        (true, 2) => Inner::Ipv6,
        (true, 4) => Inner::EtherType(crate::link::ETHERTYPE_NSH),
        (true, 5) => Inner::EtherType(ETHERTYPE_MPLS),
        _ => return Next::Done,
    };
    let vni = (flags & VXLAN_FLAG_I != 0).then(|| u32::from_be_bytes([0, v0, v1, v2]));
    unwrap(
        w,
        TunnelKind::VxlanGpe,
        ports,
        vni,
        s,
        inner,
        s.skip(VXLAN_HEADER),
    )
}

/// A Geneve header (RFC 8926) and its options, then the payload its protocol type names.
fn geneve<'a>(w: &mut Walker<'a, '_>, ports: Option<(u16, u16)>, s: Span<'a>) -> Next<'a> {
    let Some(&[ver_optlen, _, p0, p1, v0, v1, v2, _]) = s.bytes.first_chunk::<GENEVE_HEADER>()
    else {
        return s.truncated(Layer::Tunnel, GENEVE_HEADER);
    };
    if ver_optlen >> 6 != 0 {
        return s.stop(Layer::Tunnel, StopReason::Malformed("Geneve version"));
    }
    let header_len = GENEVE_HEADER + usize::from(ver_optlen & 0x3f) * 4;
    if s.len() < header_len {
        return s.truncated(Layer::Tunnel, header_len);
    }
    let inner = match u16::from_be_bytes([p0, p1]) {
        ETHERTYPE_TEB => Inner::Ethernet,
        ETHERTYPE_IPV4 => Inner::Ipv4,
        ETHERTYPE_IPV6 => Inner::Ipv6,
        other => return s.stop(Layer::Tunnel, StopReason::UnsupportedEtherType(other)),
    };
    let vni = u32::from_be_bytes([0, v0, v1, v2]);
    let body = s.skip(header_len);
    unwrap(w, TunnelKind::Geneve, ports, Some(vni), s, inner, body)
}

/// Teredo (RFC 4380): optional authentication and origin indication, then IPv6.
///
/// Port 3544 carries Teredo's own qualification traffic too, so the payload is taken as
/// IPv6 only when it is plausibly one: version 6, a whole fixed header, and a payload
/// length that fits in the UDP datagram (bubbles may carry trailing bytes, which tshark
/// and Zeek still decode as Teredo).
fn teredo<'a>(
    w: &mut Walker<'a, '_>,
    ports: Option<(u16, u16)>,
    s: Span<'a>,
    udp_length: u16,
) -> Next<'a> {
    let b = s.bytes;
    let mut at = 0;
    if b.first_chunk::<2>() == Some(&TEREDO_AUTH) {
        let (Some(&id_len), Some(&auth_len)) = (b.get(2), b.get(3)) else {
            return Next::Done;
        };
        at = TEREDO_AUTH_FIXED + usize::from(id_len) + usize::from(auth_len) + TEREDO_AUTH_TRAILER;
    }
    if b.get(at..at + 2) == Some(&TEREDO_ORIGIN[..]) {
        at += TEREDO_ORIGIN_LEN;
    }
    let inner = s.skip(at);
    let ipv6_total = be16(inner.bytes, 4).map(|p| usize::from(p) + IPV6_HEADER);
    let udp_payload = usize::from(udp_length).saturating_sub(crate::transport::UDP_HEADER);
    let plausible = inner.len() >= IPV6_HEADER
        && inner.bytes.first().is_some_and(|v| v >> 4 == 6)
        && ipv6_total.is_some_and(|t| t <= udp_payload.saturating_sub(at));
    if !plausible {
        return Next::Done;
    }
    unwrap(w, TunnelKind::Teredo, ports, None, s, Inner::Ipv6, inner)
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests panic on unexpected shapes")]
mod tests {
    use super::*;
    use crate::dispatch::testkit::*;
    use crate::link::ETHERTYPE_VLAN;
    use crate::{LinkType, MAX_TUNNEL_DEPTH, Packet, Transport};

    const IN_A: [u8; 4] = [10, 0, 0, 1];
    const IN_B: [u8; 4] = [10, 0, 0, 2];
    const INNER_MAC: [u8; 6] = [0xba, 0x09, 0x2b, 0x6e, 0xf8, 0xbe];

    fn outer_v4(protocol: u8, payload: &[u8]) -> Vec<u8> {
        ether(
            MAC_B,
            MAC_A,
            ETHERTYPE_IPV4,
            &v4(protocol, V4_A, V4_B, &[], payload),
        )
    }

    fn inner_ip() -> Vec<u8> {
        v4(
            6,
            IN_A,
            IN_B,
            &[],
            &tcp_seg(33000, 80, 5, 0x18, &[], b"GET /"),
        )
    }

    fn inner_eth() -> Vec<u8> {
        ether(
            [0xff; 6],
            INNER_MAC,
            ETHERTYPE_VLAN,
            &tag(99, ETHERTYPE_IPV4, &inner_ip()),
        )
    }

    /// GRE (RFC 2784, 2890): flags word, protocol, optional checksum, key, sequence.
    fn gre(flags: u16, protocol: u16, key: Option<u32>, seq: Option<u32>) -> Vec<u8> {
        let mut h = flags.to_be_bytes().to_vec();
        h.extend_from_slice(&protocol.to_be_bytes());
        if flags & GRE_CHECKSUM != 0 {
            h.extend_from_slice(&[0; 4]);
        }
        if let Some(k) = key {
            h.extend_from_slice(&k.to_be_bytes());
        }
        if let Some(s) = seq {
            h.extend_from_slice(&s.to_be_bytes());
        }
        h
    }

    fn assert_inner(p: &Packet<'_>) {
        let ip = p.ip.expect("inner ip");
        assert_eq!(
            (ip.src.to_string(), ip.dst.to_string()),
            ("10.0.0.1".into(), "10.0.0.2".into())
        );
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((33000, 80)));
        assert_eq!(p.payload, b"GET /");
        assert!(p.stop.is_none(), "{:?}", p.stop);
    }

    #[test]
    fn gre_with_checksum_key_and_sequence() {
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0xb000, ETHERTYPE_IPV4, Some(42), Some(7)), &inner_ip()]),
        );
        let p = dec(&f);
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!(
            (t.kind, t.id, t.depth, t.outer_ports, t.inner_eth),
            (TunnelKind::Gre, Some(42), 1, None, None)
        );
        assert_eq!(t.outer.src.to_string(), "192.0.2.1");
        assert_eq!(t.outer.protocol, PROTO_GRE);
        // The outer Ethernet stays the packet's.
        assert_eq!(p.eth.map(|e| e.src.0), Some(MAC_A));
    }

    #[test]
    fn gre_transparent_ethernet_keeps_inner_ethernet_apart() {
        let f = ether(
            MAC_B,
            MAC_A,
            ETHERTYPE_VLAN,
            &tag(
                5,
                ETHERTYPE_IPV4,
                &v4(
                    PROTO_GRE,
                    V4_A,
                    V4_B,
                    &[],
                    &cat(&[&gre(0, ETHERTYPE_TEB, None, None), &inner_eth()]),
                ),
            ),
        );
        let p = dec(&f);
        assert_inner(&p);
        assert_eq!(p.vlans.as_slice(), &[5], "inner VLAN 99 is not the link's");
        let t = p.tunnel.expect("tunnel");
        let e = t.inner_eth.expect("inner eth");
        assert_eq!((e.src.0, e.ether_type), (INNER_MAC, ETHERTYPE_IPV4));
        assert_eq!(
            p.eth.map(|e| (e.src.0, e.ether_type)),
            Some((MAC_A, ETHERTYPE_IPV4))
        );
    }

    /// The 802.11 station behind an access point in the frames of [`wlan_to_ds`].
    const WLAN_STA: [u8; 6] = INNER_MAC;
    /// The destination those frames name.
    const WLAN_DST: [u8; 6] = [0x00, 0x1a, 0x1e, 9, 9, 9];

    /// An 802.11 data frame without FCS, To DS (address 1 the BSSID, 2 [`WLAN_STA`] the
    /// source, 3 [`WLAN_DST`] the destination), frame control bytes `fc` as on the wire,
    /// then LLC/SNAP and [`inner_ip`].
    fn wlan_to_ds(fc: [u8; 2]) -> Vec<u8> {
        let bssid = [0x00, 0x0b, 0x86, 1, 2, 3];
        let mut wlan = vec![fc[0], fc[1], 0, 0];
        for a in [bssid, WLAN_STA, WLAN_DST] {
            wlan.extend_from_slice(&a);
        }
        wlan.extend_from_slice(&[0x10, 0x00]); // sequence control
        wlan.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]); // LLC/SNAP, IPv4
        wlan.extend_from_slice(&inner_ip());
        wlan
    }

    /// Aruba's GRE (protocol 0x8200-0x8370 by 0x10) carries an 802.11 data frame without
    /// FCS: its addresses become the inner link layer, LLC/SNAP leads to the inner IP.
    #[test]
    fn gre_aruba_carries_802_11() {
        let wlan = wlan_to_ds([0x08, 0x01]);
        for protocol in [0x8200, 0x8210, 0x8370] {
            let p = dec(&outer_v4(
                PROTO_GRE,
                &cat(&[&gre(0, protocol, None, None), &wlan]),
            ));
            assert_inner(&p);
            let t = p.tunnel.expect("tunnel");
            assert_eq!(t.kind, TunnelKind::Gre);
            let e = t.inner_eth.expect("the 802.11 addresses");
            assert_eq!(
                (e.src.0, e.dst.0, e.ether_type),
                (WLAN_STA, WLAN_DST, ETHERTYPE_IPV4)
            );
        }
        // Between the registered values: not Aruba's.
        let p = dec(&outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0, 0x8201, None, None), &wlan]),
        ));
        assert_eq!(
            p.stop.map(|s| s.reason),
            Some(StopReason::UnsupportedEtherType(0x8201))
        );
    }

    /// Cisco MetaData (GRE protocol 0x8909): an 8-byte header whose first field names the
    /// payload's ether type.
    #[test]
    fn gre_cisco_metadata() {
        let cmd = [0x08, 0x00, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00];
        let p = dec(&outer_v4(
            PROTO_GRE,
            &cat(&[&gre(GRE_KEY, 0x8909, Some(0x28), None), &cmd, &inner_ip()]),
        ));
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!((t.kind, t.id), (TunnelKind::Gre, Some(0x28)));
        let p = dec(&outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0, 0x8909, None, None), &cmd[..5]]),
        ));
        assert_truncated(&p);
    }

    #[test]
    fn erspan_types() {
        // Type II (draft-foschiano-erspan 4.1): version 1, VLAN 0, session 0x123, index 0.
        let erspan2 = [0x10, 0x00, 0x01, 0x23, 0, 0, 0, 0];
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[
                &gre(0x1000, ETHERTYPE_ERSPAN_II, None, Some(1)),
                &erspan2,
                &inner_eth(),
            ]),
        );
        let p = dec(&f);
        assert_inner(&p);
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.id)),
            Some((TunnelKind::Erspan, Some(0x123)))
        );
        // Type I: 0x88be without the sequence bit, no ERSPAN header.
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0, ETHERTYPE_ERSPAN_II, None, None), &inner_eth()]),
        );
        let p = dec(&f);
        assert_inner(&p);
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.id)),
            Some((TunnelKind::Erspan, None))
        );
        // Type III (4.2): version 2, session 5, timestamp, SGT, frame type 0 (Ethernet),
        // O bit set: an 8-byte platform-specific subheader follows.
        let erspan3 = [
            0x20, 0x00, 0x00, 0x05, 0, 0, 0x14, 0x58, 0, 0, 0x80, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[
                &gre(0x1000, ETHERTYPE_ERSPAN_III, None, Some(9)),
                &erspan3,
                &inner_eth(),
            ]),
        );
        let p = dec(&f);
        assert_inner(&p);
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.id)),
            Some((TunnelKind::Erspan, Some(5)))
        );
        // Frame type 2: an IP packet without Ethernet.
        let erspan3_ip = [0x20, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0x88, 0x00];
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[
                &gre(0x1000, ETHERTYPE_ERSPAN_III, None, Some(9)),
                &erspan3_ip,
                &inner_ip(),
            ]),
        );
        assert_inner(&dec(&f));
    }

    #[test]
    fn gre_versions_and_unknown_payloads() {
        // PPTP (RFC 2637): version 1, key = payload length and call id, sequence and
        // acknowledgement numbers, then PPP with HDLC address and control.
        let ppp = cat(&[&[0xff, 3, 0, 0x21], &inner_ip()]);
        let len = u32::try_from(ppp.len()).expect("small");
        let mut pptp = gre(
            0x3001 | GRE_ACK,
            ETHERTYPE_PPP,
            Some(len << 16 | 6016),
            Some(1),
        );
        pptp.extend_from_slice(&539_254u32.to_be_bytes());
        let p = dec(&outer_v4(PROTO_GRE, &cat(&[&pptp, &ppp])));
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!((t.kind, t.id), (TunnelKind::Gre, Some(6016)));
        // Without address and control (RFC 1661 allows it), and in version 0 GRE.
        let p = dec(&outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0, ETHERTYPE_PPP, None, None), &ppp[2..]]),
        ));
        assert_inner(&p);
        // Acknowledgement only: no payload, the carrier is the packet.
        let ack = gre(0x2001 | GRE_ACK, ETHERTYPE_PPP, Some(6016), None);
        let p = dec(&outer_v4(PROTO_GRE, &cat(&[&ack, &[0, 8, 0x3a, 0x76]])));
        assert!(p.tunnel.is_none() && p.stop.is_none(), "{p:?}");
        assert!(p.ip.is_some(), "the carrier stays the packet");
        // Cut inside the acknowledgement number.
        let p = dec(&outer_v4(PROTO_GRE, &cat(&[&ack, &[0, 8]])));
        assert_truncated(&p);
        let s = dec(&outer_v4(
            PROTO_GRE,
            &gre(0x0002, ETHERTYPE_IPV4, None, None),
        ))
        .stop
        .expect("stop");
        assert_eq!(s.reason, StopReason::Malformed("GRE version"));
        let s = dec(&outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0, 0x2000, None, None), &[0; 8]]),
        ))
        .stop
        .expect("stop");
        assert_eq!(s.reason, StopReason::UnsupportedEtherType(0x2000));
    }

    /// VXLAN (RFC 7348 section 5): flags with I, 24 reserved bits, VNI, 8 reserved bits.
    fn vxlan(flags: u8, vni: u32) -> Vec<u8> {
        let mut h = vec![flags, 0, 0, 0];
        h.extend_from_slice(&(vni << 8).to_be_bytes());
        h
    }

    #[test]
    fn vxlan_gpe_next_protocols() {
        let gpe = |flags: u8, next: u8| vec![flags, 0, 0, next, 0, 0, 7, 0];
        // IPv4 directly, VNI 7.
        let f = outer_v4(
            17,
            &udp_dg(1, VXLAN_GPE_PORT, &cat(&[&gpe(0x0c, 1), &inner_ip()])),
        );
        let p = dec(&f);
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!((t.kind, t.id), (TunnelKind::VxlanGpe, Some(7)));
        assert_eq!(TunnelKind::VxlanGpe.name(), "vxlan-gpe");
        // NSH (MD type 1, 24 bytes) then IPv4.
        let mut nsh = vec![0x00, 0x06, 0x01, 0x01, 0, 0, 1, 0xff];
        nsh.extend_from_slice(&[0; 16]);
        let f = outer_v4(
            17,
            &udp_dg(1, VXLAN_GPE_PORT, &cat(&[&gpe(0x0c, 4), &nsh, &inner_ip()])),
        );
        assert_inner(&dec(&f));
        // Ethernet, by next protocol 3 or without the P flag.
        for (flags, next) in [(0x0c, 3), (0x08, 0)] {
            let f = outer_v4(
                17,
                &udp_dg(1, VXLAN_GPE_PORT, &cat(&[&gpe(flags, next), &inner_eth()])),
            );
            let p = dec(&f);
            assert_inner(&p);
            assert_eq!(
                p.tunnel.and_then(|t| t.inner_eth).map(|e| e.src.0),
                Some(INNER_MAC)
            );
        }
        // An unknown next protocol: plain UDP.
        let f = outer_v4(
            17,
            &udp_dg(1, VXLAN_GPE_PORT, &cat(&[&gpe(0x0c, 0x7f), &inner_ip()])),
        );
        let p = dec(&f);
        assert!(p.tunnel.is_none() && p.stop.is_none(), "{:?}", p.stop);
    }

    #[test]
    fn vxlan_and_geneve() {
        let f = outer_v4(
            17,
            &udp_dg(
                49152,
                VXLAN_PORT,
                &cat(&[&vxlan(0x08, 5_569_041), &inner_eth()]),
            ),
        );
        let p = dec(&f);
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!(
            (t.kind, t.id, t.outer_ports),
            (
                TunnelKind::Vxlan,
                Some(5_569_041),
                Some((49152, VXLAN_PORT))
            )
        );
        assert_eq!(t.inner_eth.map(|e| e.src.0), Some(INNER_MAC));
        // Without the I flag it is not VXLAN: plain UDP.
        let f = outer_v4(
            17,
            &udp_dg(49152, VXLAN_PORT, &cat(&[&vxlan(0, 1), &inner_eth()])),
        );
        let p = dec(&f);
        assert!(
            p.tunnel.is_none()
                && matches!(p.transport, Some(Transport::Udp(_)))
                && p.stop.is_none()
        );
        // Geneve (RFC 8926): version 0, 8 bytes of options (opt len 2), protocol TEB, VNI 10.
        let mut geneve = vec![0x02, 0x00, 0x65, 0x58, 0, 0, 10, 0];
        geneve.extend_from_slice(&[0x01, 0x02, 0x80, 0x01, 0xaa, 0xbb, 0xcc, 0xdd]);
        let f = outer_v4(
            17,
            &udp_dg(12618, GENEVE_PORT, &cat(&[&geneve, &inner_eth()])),
        );
        let p = dec(&f);
        assert_inner(&p);
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.id)),
            Some((TunnelKind::Geneve, Some(10)))
        );
        // Geneve carrying IPv4 directly (protocol 0x0800).
        let geneve_ip = [0x00, 0x00, 0x08, 0x00, 0, 0, 11, 0];
        assert_inner(&dec(&outer_v4(
            17,
            &udp_dg(1, GENEVE_PORT, &cat(&[&geneve_ip, &inner_ip()])),
        )));
        // GRE in UDP (RFC 8086).
        let f = outer_v4(
            17,
            &udp_dg(
                50000,
                GRE_IN_UDP_PORT,
                &cat(&[&gre(0, ETHERTYPE_IPV4, None, None), &inner_ip()]),
            ),
        );
        let p = dec(&f);
        assert_inner(&p);
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.outer_ports)),
            Some((TunnelKind::Gre, Some((50000, GRE_IN_UDP_PORT))))
        );
    }

    #[test]
    fn ip_in_ip_kinds() {
        // IPv4 in IPv4 (RFC 2003).
        let p = dec(&outer_v4(PROTO_IPIP, &inner_ip()));
        assert_inner(&p);
        assert_eq!(p.tunnel.map(|t| t.kind), Some(TunnelKind::IpInIp));
        // IPv6 in IPv4 (RFC 4213): 6in4.
        let inner6 = v6(17, V6_A, V6_B, &udp_dg(30000, 13000, b"x"));
        let p = dec(&outer_v4(PROTO_IPV6, &inner6));
        assert_eq!(p.tunnel.map(|t| t.kind), Some(TunnelKind::SixInFour));
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((30000, 13000)));
        // IPv6 in IPv6 and IPv4 in IPv6 (RFC 2473): IP-in-IP.
        let p = dec(&ether(
            MAC_B,
            MAC_A,
            0x86dd,
            &v6(PROTO_IPV6, V6_B, V6_A, &inner6),
        ));
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.outer.version())),
            Some((TunnelKind::IpInIp, 6))
        );
        let p = dec(&ether(
            MAC_B,
            MAC_A,
            0x86dd,
            &v6(PROTO_IPIP, V6_B, V6_A, &inner_ip()),
        ));
        assert_inner(&p);
        assert_eq!(p.tunnel.map(|t| t.kind), Some(TunnelKind::IpInIp));
    }

    /// AYIYA on UDP 5072: a 16-byte identity (length code 4) and a 20-byte signature (5
    /// words) before the forwarded packet; heartbeats (opcode 0) stay plain UDP.
    #[test]
    fn ayiya_forwards_ip() {
        let mut hdr = vec![0x41, 0x52, 0x11, PROTO_IPIP, 0x4a, 0xf6, 0x4b, 0xfd];
        hdr.extend_from_slice(&[0x20; 16]);
        hdr.extend_from_slice(&[0xee; 20]);
        let p = dec(&outer_v4(
            crate::transport::PROTO_UDP,
            &udp_dg(AYIYA_PORT, 53796, &cat(&[&hdr, &inner_ip()])),
        ));
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!(
            (t.kind, t.outer_ports),
            (TunnelKind::Ayiya, Some((AYIYA_PORT, 53796)))
        );
        // A heartbeat: opcode 0, nothing forwarded.
        hdr[2] = 0x10;
        let p = dec(&outer_v4(
            crate::transport::PROTO_UDP,
            &udp_dg(53796, AYIYA_PORT, &hdr),
        ));
        assert!(p.tunnel.is_none() && p.stop.is_none(), "{p:?}");
        assert_eq!(
            p.transport.and_then(|t| t.ports()),
            Some((53796, AYIYA_PORT))
        );
        // Forward, but cut inside the signature.
        hdr[2] = 0x11;
        let p = dec(&outer_v4(
            crate::transport::PROTO_UDP,
            &udp_dg(AYIYA_PORT, 1, &hdr[..30]),
        ));
        assert_truncated(&p);
    }

    /// IPv6 carrying IPv4 carrying GRE: the carrier is the IPv6 header, and the IPv4 header
    /// between (tshark's first `ip.*`) is kept as `first_ipv4`.
    #[test]
    fn nested_tunnels_in_ipv6_keep_the_first_ipv4() {
        let middle = v4(
            PROTO_GRE,
            V4_A,
            V4_B,
            &[],
            &cat(&[&gre(0, ETHERTYPE_IPV4, None, None), &inner_ip()]),
        );
        let f = ether(
            MAC_B,
            MAC_A,
            crate::link::ETHERTYPE_IPV6,
            &v6(PROTO_IPIP, V6_A, V6_B, &middle),
        );
        let p = dec(&f);
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert!(t.outer.src.is_ipv6());
        assert_eq!(t.depth, 2);
        let first = t.first_ipv4.expect("the IPv4 header between");
        assert_eq!(
            (first.src.to_string(), first.protocol),
            ("192.0.2.1".to_owned(), PROTO_GRE)
        );
        // An IPv4 carrier is itself the first IPv4 header: nothing more is kept.
        let p = dec(&outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0, ETHERTYPE_IPV4, None, None), &inner_ip()]),
        ));
        assert_eq!(p.tunnel.map(|t| t.first_ipv4), Some(None));
    }

    /// MPLS in UDP (RFC 7510): one label (bottom of stack), then IPv4.
    #[test]
    fn mpls_in_udp() {
        let label = [0x00, 0x01, 0x51, 0x3f]; // label 21, bottom of stack, TTL 63
        let p = dec(&outer_v4(
            crate::transport::PROTO_UDP,
            &udp_dg(58699, MPLS_IN_UDP_PORT, &cat(&[&label, &inner_ip()])),
        ));
        assert_inner(&p);
        let t = p.tunnel.expect("tunnel");
        assert_eq!(
            (t.kind, t.outer_ports),
            (TunnelKind::MplsUdp, Some((58699, MPLS_IN_UDP_PORT)))
        );
        assert!(
            p.mpls.as_slice().is_empty(),
            "the inner labels are not the link's"
        );
    }

    #[test]
    fn teredo_plausibility() {
        // Origin indication (RFC 4380 5.1.1): 0x0000, obfuscated port and address; then an
        // IPv6 router solicitation.
        let inner = v6(58, V6_A, V6_B, &[133, 0, 0, 0, 0, 0, 0, 0]);
        let payload = cat(&[&[0, 0, 0xf2, 0x2a, 0xbe, 0xc8, 0x61, 0xaf], &inner]);
        let p = dec(&outer_v4(17, &udp_dg(TEREDO_PORT, 3797, &payload)));
        assert_eq!(
            p.tunnel.map(|t| (t.kind, t.outer_ports)),
            Some((TunnelKind::Teredo, Some((TEREDO_PORT, 3797))))
        );
        assert!(matches!(p.transport, Some(Transport::Icmpv6(_))));
        // Authentication (5.1.2) with a 2-byte client id and no value, then IPv6.
        let auth = [0, 1, 2, 0, 0xc1, 0xc2, 1, 2, 3, 4, 5, 6, 7, 8, 0];
        let p = dec(&outer_v4(
            17,
            &udp_dg(3797, TEREDO_PORT, &cat(&[&auth, &inner])),
        ));
        assert_eq!(p.tunnel.map(|t| t.kind), Some(TunnelKind::Teredo));
        // A qualification packet that is not IPv6 stays UDP, without a stop.
        let p = dec(&outer_v4(17, &udp_dg(3797, TEREDO_PORT, &[0x45; 48])));
        assert!(
            p.tunnel.is_none()
                && p.stop.is_none()
                && matches!(p.transport, Some(Transport::Udp(_)))
        );
        // An IPv6 payload length larger than the datagram is not plausible either.
        let mut big = inner.clone();
        big[4..6].copy_from_slice(&500u16.to_be_bytes());
        assert!(
            dec(&outer_v4(17, &udp_dg(3797, TEREDO_PORT, &big)))
                .tunnel
                .is_none()
        );
    }

    #[test]
    fn nesting_depth_is_capped() {
        // IPv4 in IPv4 nested MAX_TUNNEL_DEPTH + 1 times.
        let mut pkt = inner_ip();
        for _ in 0..=MAX_TUNNEL_DEPTH {
            pkt = v4(PROTO_IPIP, V4_A, V4_B, &[], &pkt);
        }
        let p = dec(&ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &pkt));
        let s = p.stop.expect("stop");
        assert_eq!((s.layer, s.reason), (Layer::Tunnel, StopReason::TooDeep));
        assert_eq!(s.offset, 14 + 20 * (MAX_TUNNEL_DEPTH + 1));
        assert_eq!(
            p.tunnel.map(|t| usize::from(t.depth)),
            Some(MAX_TUNNEL_DEPTH)
        );
        // One level less decodes fully, and depth counts every level.
        let mut pkt = inner_ip();
        for _ in 0..MAX_TUNNEL_DEPTH {
            pkt = v4(PROTO_IPIP, V4_A, V4_B, &[], &pkt);
        }
        let p = dec(&ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &pkt));
        assert_inner(&p);
        assert_eq!(
            p.tunnel.map(|t| usize::from(t.depth)),
            Some(MAX_TUNNEL_DEPTH)
        );
    }

    #[test]
    fn truncation_gre_erspan_vxlan_geneve() {
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[&gre(0x3000, ETHERTYPE_IPV4, Some(1), Some(2)), &inner_ip()]),
        );
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 20),
                (Layer::Tunnel, 34, 12),
                (Layer::Ipv4, 46, 20),
                (Layer::Tcp, 66, 20),
            ],
        );
        let erspan2 = [0x10, 0x00, 0x01, 0x23, 0, 0, 0, 0];
        let f = outer_v4(
            PROTO_GRE,
            &cat(&[
                &gre(0x1000, ETHERTYPE_ERSPAN_II, None, Some(1)),
                &erspan2,
                &inner_eth(),
            ]),
        );
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 20),
                (Layer::Tunnel, 34, 8),
                (Layer::Tunnel, 42, 8),
                (Layer::Link, 50, 14),
                (Layer::Vlan, 64, 4),
                (Layer::Ipv4, 68, 20),
                (Layer::Tcp, 88, 20),
            ],
        );
        let f = outer_v4(
            17,
            &udp_dg(1, VXLAN_PORT, &cat(&[&vxlan(0x08, 7), &inner_eth()])),
        );
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 20),
                (Layer::Udp, 34, 8),
                (Layer::Tunnel, 42, 8),
                (Layer::Link, 50, 14),
                (Layer::Vlan, 64, 4),
                (Layer::Ipv4, 68, 20),
                (Layer::Tcp, 88, 20),
            ],
        );
        let geneve = [0x01, 0x00, 0x65, 0x58, 0, 0, 10, 0, 1, 2, 3, 4];
        let f = outer_v4(17, &udp_dg(1, GENEVE_PORT, &cat(&[&geneve, &inner_eth()])));
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 20),
                (Layer::Udp, 34, 8),
                (Layer::Tunnel, 42, 12),
                (Layer::Link, 54, 14),
                (Layer::Vlan, 68, 4),
                (Layer::Ipv4, 72, 20),
                (Layer::Tcp, 92, 20),
            ],
        );
    }

    /// CAPWAP's data channel (UDP 5247): a header of HLEN words, then an 802.11 frame whose
    /// frame-control bytes are swapped (T set, binding 1; tshark's default `swap_fc`) or an
    /// 802.3 frame (T clear). DTLS records, keep-alives and fragments stay plain UDP.
    #[test]
    fn capwap_data_carries_802_11_or_802_3() {
        // Frame control swapped on the wire (0x08 0x01 as 0x01 0x08).
        let wlan = wlan_to_ds([0x01, 0x08]);
        // Preamble 0; HLEN 4 words, RID 1, WBID 1, T and W set; fragment id and offset 0;
        // wireless information (length 1, 4 bytes and padding).
        let hdr = [
            0x00, 0x20, 0x43, 0x20, 0, 0, 0, 0, 0x01, 0x04, 0xed, 0x4d, 0, 0, 0, 0,
        ];
        let capwap = |hdr: &[u8], body: &[u8], sport: u16, dport: u16| {
            dec(&outer_v4(
                crate::transport::PROTO_UDP,
                &udp_dg(sport, dport, &cat(&[hdr, body])),
            ))
        };
        for (sport, dport) in [(12380, CAPWAP_DATA_PORT), (CAPWAP_DATA_PORT, 12380)] {
            let p = capwap(&hdr, &wlan, sport, dport);
            assert_inner(&p);
            let t = p.tunnel.expect("tunnel");
            assert_eq!(
                (t.kind, t.outer_ports),
                (TunnelKind::Capwap, Some((sport, dport)))
            );
            let e = t.inner_eth.expect("the 802.11 addresses");
            assert_eq!(
                (e.src.0, e.dst.0, e.ether_type),
                (WLAN_STA, WLAN_DST, ETHERTYPE_IPV4)
            );
        }
        // T clear: an Ethernet frame (HLEN 2 words, no wireless information).
        let p = capwap(
            &[0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0],
            &inner_eth(),
            12380,
            5247,
        );
        assert_inner(&p);
        assert_eq!(p.tunnel.map(|t| t.kind), Some(TunnelKind::Capwap));
        assert!(p.tunnel.and_then(|t| t.inner_eth).is_some());
        // A DTLS record (preamble type 1), a keep-alive (K), a fragment (F): plain UDP.
        let mut dtls = hdr;
        dtls[0] = 0x01;
        let mut keep_alive = hdr;
        keep_alive[3] |= 0x08;
        let mut fragment = hdr;
        fragment[3] |= 0x80;
        for h in [dtls, keep_alive, fragment] {
            let p = capwap(&h, &wlan, 12380, CAPWAP_DATA_PORT);
            assert!(p.tunnel.is_none() && p.stop.is_none(), "{p:?}");
            assert_eq!(
                p.transport.and_then(|t| t.ports()),
                Some((12380, CAPWAP_DATA_PORT))
            );
        }
        // Cut inside the wireless information: truncated at the tunnel header.
        let p = capwap(&hdr[..12], &[], 12380, CAPWAP_DATA_PORT);
        assert_truncated(&p);
    }
}
