//! Link layers: the capture's link types, Ethernet II and 802.3 with LLC/SNAP, VLAN tags,
//! MPLS, ARP, Linux cooked captures, BSD loopback, raw IP, and (in submodules) 802.11 with
//! radiotap and PPP/PPPoE.
//!
//! Every function here reads one header from a `Span`, records what it found in the
//! `Walker` and returns the `Next` step. Ether types are dispatched in one place,
//! `ether_type`, whichever header carried them (Ethernet, a VLAN tag, SNAP, SLL, Cisco
//! HDLC, GRE), so every carrier reaches the same set of payloads.

pub(crate) mod ieee80211;
pub(crate) mod ppp;

use crate::dispatch::{Next, Origin, Span, Walker, array};
use crate::{ArpInfo, EthernetInfo, Layer, LinkType, MacAddr, StopReason};
use std::net::Ipv4Addr;

/// IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// Reverse ARP (same layout as ARP).
pub const ETHERTYPE_RARP: u16 = 0x8035;
/// IEEE 802.1Q customer VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// IEEE 802.1ad service VLAN tag (QinQ outer tag).
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The pre-standard QinQ outer tag some switches still send.
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// MPLS unicast.
pub const ETHERTYPE_MPLS: u16 = 0x8847;
/// MPLS multicast.
pub const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// PPPoE discovery stage.
pub const ETHERTYPE_PPPOE_DISCOVERY: u16 = 0x8863;
/// PPPoE session stage (carries PPP).
pub const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// Transparent Ethernet bridging: an Ethernet frame (GRE, Geneve).
pub const ETHERTYPE_TEB: u16 = 0x6558;
/// IEEE 802.1ah provider backbone bridging: an I-TAG, then the customer's Ethernet frame.
pub const ETHERTYPE_PBB: u16 = 0x88e7;
/// Cisco VN-Tag: a 4-byte tag, then the next ether type.
pub const ETHERTYPE_VNTAG: u16 = 0x8926;
/// IEEE 802.1BR E-Tag: a 6-byte tag, then the next ether type.
pub const ETHERTYPE_ETAG: u16 = 0x893f;
/// Cisco FabricPath: the outer addresses are switch ids; after FTAG and TTL comes the
/// host's Ethernet frame.
pub const ETHERTYPE_FABRICPATH: u16 = 0x8903;
/// Network Service Header (RFC 8300), for service function chaining.
pub const ETHERTYPE_NSH: u16 = 0x894f;
/// Arista's vendor-specific protocol (AVSP): a timestamp header, then the next ether type.
pub const ETHERTYPE_ARISTA: u16 = 0xd28b;

/// Ethernet II header length: two MACs and the type.
const ETHERNET_HEADER: usize = 14;
/// The largest 802.3 length field; 1536 (0x0600) and up are ether types.
const MAX_8023_LENGTH: u16 = 1500;
/// The smallest ether type.
const MIN_ETHER_TYPE: u16 = 0x0600;
/// An 802.2 LLC header with a one-byte (unnumbered) control field.
const LLC_HEADER: usize = 3;
/// LLC plus the SNAP OUI and protocol id.
const LLC_SNAP_HEADER: usize = 8;
/// The SNAP SAP value (DSAP/SSAP 0xAA).
const SAP_SNAP: u8 = 0xaa;
/// LLC unnumbered-information control field, the only one SNAP uses.
const LLC_CONTROL_UI: u8 = 0x03;
/// An 802.1Q/802.1ad tag: TCI then the inner type.
const VLAN_TAG: usize = 4;
/// The 802.1ah I-TAG (flags and 24-bit service id) before the customer frame.
const PBB_ITAG: usize = 4;
/// The VN-Tag before the next ether type.
const VNTAG: usize = 4;
/// The E-Tag before the next ether type.
const ETAG: usize = 6;
/// FabricPath's FTAG and TTL, before the inner Ethernet frame.
const FABRICPATH_TAG: usize = 2;
/// NSH base and service path headers, the least an NSH header's length can say.
const NSH_MIN: usize = 8;
/// AVSP sub type and version, before the timestamp.
const ARISTA_HEADER: usize = 4;
/// AVSP sub type of a timestamp header, the only one decoded (as tshark 4.0).
const ARISTA_TIMESTAMP: u16 = 1;
/// VLAN id bits of the TCI.
const VLAN_ID_MASK: u16 = 0x0fff;
/// One MPLS label stack entry.
const MPLS_ENTRY: usize = 4;
/// The most MPLS stack entries walked before calling the stack malformed; real stacks
/// have two to four.
pub const MAX_MPLS_WALK: usize = 16;
/// The pseudowire control word before an Ethernet frame in MPLS (RFC 4448).
const PW_CONTROL_WORD: usize = 4;
/// MPLS reserved label "IPv4 explicit null": the payload is IPv4.
const MPLS_LABEL_IPV4_NULL: u32 = 0;
/// MPLS reserved label "IPv6 explicit null": the payload is IPv6.
const MPLS_LABEL_IPV6_NULL: u32 = 2;
/// ARP's fixed part before the addresses.
const ARP_FIXED: usize = 8;
/// ARP for 6-byte hardware and 4-byte protocol addresses.
const ARP_ETHER_IPV4: usize = 28;
/// ARP hardware type Ethernet.
const ARP_HTYPE_ETHERNET: u16 = 1;
/// ARP hardware type IEEE 802 (used by some 802.x stacks with 6-byte MACs too).
const ARP_HTYPE_IEEE802: u16 = 6;
/// Linux cooked capture v1 header.
const SLL_HEADER: usize = 16;
/// Linux cooked capture v2 header.
const SLL2_HEADER: usize = 20;
/// SLL protocol value: a raw 802.3 frame (Novell IPX without LLC).
const SLL_PROTO_8023_NOVELL: u16 = 0x0001;
/// SLL protocol value: an 802.2 LLC frame.
const SLL_PROTO_LLC: u16 = 0x0004;
/// ARPHRD type of netlink captures, whose SLL protocol field is a netlink family.
const ARPHRD_NETLINK: u16 = 824;
/// BSD loopback: the 4-byte address family.
const NULL_HEADER: usize = 4;
/// AF_INET on every BSD and Linux.
const AF_INET: u32 = 2;
/// AF_INET6 on NetBSD/OpenBSD (24), FreeBSD (28) and macOS (30).
const AF_INET6: [u32; 3] = [24, 28, 30];
/// Address families are small numbers; a larger value means the other byte order.
const AF_MAX_PLAUSIBLE: u32 = 0xffff;

/// Cisco HDLC (`LINKTYPE_C_HDLC`), not among [`LinkType`]'s named constants.
pub const LINKTYPE_C_HDLC: LinkType = LinkType(104);
/// Linux netfilter log messages (`LINKTYPE_NFLOG`): a header and TLVs, one of which holds
/// the logged IP packet.
pub const LINKTYPE_NFLOG: LinkType = LinkType(239);
/// NFLOG header: address family, version, resource id.
const NFLOG_HEADER: usize = 4;
/// NFLOG TLV header: length (including itself) and type.
const NFLOG_TLV_HEADER: usize = 4;
/// NFLOG TLV type of the logged packet.
const NFULA_PAYLOAD: u16 = 9;
/// The type bits of an NFLOG TLV type (the top bit flags nested attributes).
const NFLOG_TYPE_MASK: u16 = 0x7fff;
/// The most NFLOG TLVs walked looking for the payload; netfilter emits about a dozen.
pub const MAX_NFLOG_TLVS: usize = 64;
/// The largest NFLOG TLV type (there are about twenty); used to tell the byte order.
const NFLOG_MAX_TYPE: u16 = 0xff;
/// Linux AF_INET, the NFLOG family for IPv4.
const LINUX_AF_INET: u8 = 2;
/// Linux AF_INET6, the NFLOG family for IPv6.
const LINUX_AF_INET6: u8 = 10;

/// Starts decoding a frame of `link_type`.
pub(crate) fn start<'a>(w: &mut Walker<'a, '_>, link_type: LinkType, s: Span<'a>) -> Next<'a> {
    match link_type {
        LinkType::ETHERNET => Next::Ethernet(s),
        LinkType::LINUX_SLL => sll(w, s),
        LinkType::LINUX_SLL2 => sll2(w, s),
        LinkType::RAW | LinkType::RAW_LEGACY | LinkType(14) => raw(s),
        LinkType::IPV4 => Next::Ipv4(s),
        LinkType::IPV6 => Next::Ipv6(s),
        LinkType::NULL => null(s, false),
        LinkType::LOOP => null(s, true),
        LinkType::IEEE802_11 => ieee80211::frame(w, s, false, false),
        LinkType::IEEE802_11_RADIOTAP => ieee80211::radiotap(w, s),
        LinkType::PPP => ppp::link(s),
        LinkType::PPP_ETHER => ppp::pppoe(s, true),
        LINKTYPE_C_HDLC => ppp::chdlc(s),
        LINKTYPE_NFLOG => nflog(s),
        LinkType(other) => s.stop(Layer::Link, StopReason::UnsupportedLinkType(other)),
    }
}

/// An Ethernet II or 802.3 header.
pub(crate) fn ethernet<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let Some(hdr) = s.bytes.first_chunk::<ETHERNET_HEADER>() else {
        return s.truncated(Layer::Link, ETHERNET_HEADER);
    };
    let [d0, d1, d2, d3, d4, d5, s0, s1, s2, s3, s4, s5, t0, t1] = *hdr;
    let type_or_len = u16::from_be_bytes([t0, t1]);
    w.set_eth(EthernetInfo {
        src: MacAddr([s0, s1, s2, s3, s4, s5]),
        dst: MacAddr([d0, d1, d2, d3, d4, d5]),
        ether_type: if type_or_len >= MIN_ETHER_TYPE {
            type_or_len
        } else {
            0
        },
    });
    let body = s.skip(ETHERNET_HEADER);
    if type_or_len <= MAX_8023_LENGTH {
        // 802.3: a length, so everything past it is padding.
        let body = body.take(usize::from(type_or_len));
        if body.bytes.starts_with(&[0xff, 0xff]) {
            return s.stop(
                Layer::Link,
                StopReason::Unsupported("Novell raw 802.3 (IPX)"),
            );
        }
        return Next::Llc(body);
    }
    if type_or_len < MIN_ETHER_TYPE {
        return s.stop(
            Layer::Link,
            StopReason::Malformed("Ethernet type/length between 1500 and 1536"),
        );
    }
    Next::EtherType {
        ether_type: type_or_len,
        body,
        from: Origin {
            layer: Layer::Link,
            at: s.at,
        },
    }
}

/// The payload named by an ether type. VLAN tags are peeled here one per step.
pub(crate) fn ether_type<'a>(
    w: &mut Walker<'a, '_>,
    ether_type: u16,
    body: Span<'a>,
    from: Origin,
) -> Next<'a> {
    if matches!(
        ether_type,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
    ) {
        let Some(&[c0, c1, t0, t1]) = body.bytes.first_chunk::<VLAN_TAG>() else {
            return body.truncated(Layer::Vlan, VLAN_TAG);
        };
        w.push_vlan(u16::from_be_bytes([c0, c1]) & VLAN_ID_MASK);
        return Next::EtherType {
            ether_type: u16::from_be_bytes([t0, t1]),
            body: body.skip(VLAN_TAG),
            from: Origin {
                layer: Layer::Vlan,
                at: body.at,
            },
        };
    }
    // Port-extender tags and Arista's timestamp carry no VLAN id to keep: skip them like a
    // tag.
    if let Some(tag) = match ether_type {
        ETHERTYPE_VNTAG => Some(VNTAG),
        ETHERTYPE_ETAG => Some(ETAG),
        ETHERTYPE_ARISTA => match arista_len(body) {
            Ok(n) => Some(n),
            Err(stop) => return stop,
        },
        _ => None,
    } {
        let Some(next) = crate::dispatch::be16(body.bytes, tag) else {
            return body.truncated(Layer::Vlan, tag + 2);
        };
        return Next::EtherType {
            ether_type: next,
            body: body.skip(tag + 2),
            from: Origin {
                layer: Layer::Vlan,
                at: body.at,
            },
        };
    }
    w.set_ether_type(ether_type);
    match ether_type {
        ETHERTYPE_IPV4 => Next::Ipv4(body),
        ETHERTYPE_IPV6 => Next::Ipv6(body),
        ETHERTYPE_ARP | ETHERTYPE_RARP => arp(w, body),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => mpls(w, body),
        ETHERTYPE_PPPOE_SESSION => ppp::pppoe(body, false),
        ETHERTYPE_NSH => nsh(w, body),
        ETHERTYPE_FABRICPATH => {
            if body.len() < FABRICPATH_TAG {
                return body.truncated(Layer::Vlan, FABRICPATH_TAG);
            }
            // As for 802.1ah below: the host's frame, whose addresses are not this link's.
            w.slot = crate::dispatch::Slot::Discard;
            Next::Ethernet(body.skip(FABRICPATH_TAG))
        }
        ETHERTYPE_PBB => {
            if body.len() < PBB_ITAG {
                return body.truncated(Layer::Vlan, PBB_ITAG);
            }
            // The customer's frame: its addresses are not this link's.
            w.slot = crate::dispatch::Slot::Discard;
            Next::Ethernet(body.skip(PBB_ITAG))
        }
        ETHERTYPE_PPPOE_DISCOVERY => {
            body.stop(Layer::Pppoe, StopReason::Unsupported("PPPoE discovery"))
        }
        other => from.stop(StopReason::UnsupportedEtherType(other)),
    }
}

/// A Network Service Header (RFC 8300): version 0, its length in 4-byte words (base, service
/// path and context headers), then what its next protocol names: IPv4, IPv6, Ethernet (the
/// classified frame, whose addresses are not this link's) or MPLS.
pub(crate) fn nsh<'a>(w: &mut Walker<'a, '_>, body: Span<'a>) -> Next<'a> {
    let Some(&[b0, b1, _, next]) = body.bytes.first_chunk::<4>() else {
        return body.truncated(Layer::Tunnel, NSH_MIN);
    };
    if b0 >> 6 != 0 {
        return body.stop(Layer::Tunnel, StopReason::Unsupported("NSH version"));
    }
    let len = usize::from(b1 & 0x3f) * 4;
    if len < NSH_MIN {
        return body.stop(
            Layer::Tunnel,
            StopReason::Malformed("NSH length below its 8-byte base"),
        );
    }
    if body.len() < len {
        return body.truncated(Layer::Tunnel, len);
    }
    let inner = body.skip(len);
    match next {
        1 => Next::Ipv4(inner),
        2 => Next::Ipv6(inner),
        3 => {
            w.slot = crate::dispatch::Slot::Discard;
            Next::Ethernet(inner)
        }
        5 => mpls(w, inner),
        _ => body.stop(Layer::Tunnel, StopReason::Unsupported("NSH next protocol")),
    }
}

/// The length of an Arista (AVSP) header before its next ether type: sub type 1
/// (timestamp), a version whose low byte gives the timestamp's size (0x10: 64-bit seconds
/// and nanoseconds, 0x20: 48-bit), then the timestamp. Other sub types and versions are
/// not decoded, as in tshark 4.0.
fn arista_len(body: Span<'_>) -> Result<usize, Next<'_>> {
    let (Some(sub_type), Some(version)) = (
        crate::dispatch::be16(body.bytes, 0),
        crate::dispatch::be16(body.bytes, 2),
    ) else {
        return Err(body.truncated(Layer::Vlan, ARISTA_HEADER));
    };
    let timestamp = match (sub_type, version & 0xff) {
        (ARISTA_TIMESTAMP, 0x10) => 8,
        (ARISTA_TIMESTAMP, 0x20) => 6,
        _ => {
            return Err(body.stop(
                Layer::Vlan,
                StopReason::Unsupported("Arista header (sub type or version)"),
            ));
        }
    };
    Ok(ARISTA_HEADER + timestamp)
}

/// An IEEE 802.2 LLC header, with SNAP when DSAP and SSAP say so.
pub(crate) fn llc(s: Span<'_>) -> Next<'_> {
    let Some(&[dsap, ssap, control]) = s.bytes.first_chunk::<LLC_HEADER>() else {
        return s.truncated(Layer::Llc, LLC_HEADER);
    };
    // The low bit of the SSAP is command/response, not part of the SAP.
    if dsap == SAP_SNAP && ssap & 0xfe == SAP_SNAP && control == LLC_CONTROL_UI {
        let Some(&[_, _, _, o0, o1, o2, p0, p1]) = s.bytes.first_chunk::<LLC_SNAP_HEADER>() else {
            return s.truncated(Layer::Llc, LLC_SNAP_HEADER);
        };
        let pid = u16::from_be_bytes([p0, p1]);
        return match [o0, o1, o2] {
            // OUI 0 is RFC 1042 encapsulation, 00-00-f8 is 802.1H bridge tunnel: both
            // carry an ether type.
            [0, 0, 0] | [0, 0, 0xf8] => Next::EtherType {
                ether_type: pid,
                body: s.skip(LLC_SNAP_HEADER),
                from: Origin {
                    layer: Layer::Llc,
                    at: s.at,
                },
            },
            [0, 0, 0x0c] => s.stop(
                Layer::Llc,
                StopReason::Unsupported("Cisco SNAP (CDP, VTP, PVST)"),
            ),
            _ => s.stop(
                Layer::Llc,
                StopReason::Unsupported("SNAP organisation code"),
            ),
        };
    }
    let what = match dsap & 0xfe {
        0x42 => "STP (LLC)",
        0xfe => "OSI over LLC (IS-IS, ES-IS)",
        0xe0 => "IPX over LLC",
        0xf0 => "NetBIOS over LLC",
        _ => "LLC SAP",
    };
    s.stop(Layer::Llc, StopReason::Unsupported(what))
}

/// An MPLS label stack down to the bottom-of-stack bit, then a guess at the payload.
///
/// MPLS does not say what it carries; like tcpdump and Wireshark we take the explicit-null
/// labels at their word, then the first nibble: 4 or 6 is IP, 0 is a pseudowire control
/// word followed by an Ethernet frame (RFC 4448).
pub(crate) fn mpls<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let mut rest = s;
    let mut bottom_label = None;
    for _ in 0..MAX_MPLS_WALK {
        let Some(&entry) = rest.bytes.first_chunk::<MPLS_ENTRY>() else {
            return rest.truncated(Layer::Mpls, MPLS_ENTRY);
        };
        let entry = u32::from_be_bytes(entry);
        let label = entry >> 12;
        w.push_mpls(label);
        rest = rest.skip(MPLS_ENTRY);
        if entry & 0x100 != 0 {
            bottom_label = Some(label);
            break;
        }
    }
    let Some(label) = bottom_label else {
        return rest.stop(
            Layer::Mpls,
            StopReason::Malformed("MPLS label stack too deep"),
        );
    };
    let Some(&first) = rest.bytes.first() else {
        return rest.truncated(Layer::Mpls, 1);
    };
    match (label, first >> 4) {
        (MPLS_LABEL_IPV4_NULL, _) | (_, 4) => Next::Ipv4(rest),
        (MPLS_LABEL_IPV6_NULL, _) | (_, 6) => Next::Ipv6(rest),
        (_, 0) => {
            if rest.len() < PW_CONTROL_WORD {
                return rest.truncated(Layer::Mpls, PW_CONTROL_WORD);
            }
            // The pseudowire's Ethernet frame is a customer's, not this link's.
            w.slot = crate::dispatch::Slot::Discard;
            Next::Ethernet(rest.skip(PW_CONTROL_WORD))
        }
        _ => rest.stop(Layer::Mpls, StopReason::Unsupported("MPLS payload")),
    }
}

/// ARP for Ethernet and IPv4; other hardware or protocol types are left undecoded.
pub(crate) fn arp<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let Some(&[h0, h1, p0, p1, hlen, plen, o0, o1]) = s.bytes.first_chunk::<ARP_FIXED>() else {
        return s.truncated(Layer::Arp, ARP_FIXED);
    };
    let htype = u16::from_be_bytes([h0, h1]);
    let ptype = u16::from_be_bytes([p0, p1]);
    if !matches!(htype, ARP_HTYPE_ETHERNET | ARP_HTYPE_IEEE802)
        || ptype != ETHERTYPE_IPV4
        || hlen != 6
        || plen != 4
    {
        return s.stop(
            Layer::Arp,
            StopReason::Unsupported("ARP for other than Ethernet/IPv4"),
        );
    }
    if s.len() < ARP_ETHER_IPV4 {
        return s.truncated(Layer::Arp, ARP_ETHER_IPV4);
    }
    let b = s.bytes;
    let info = || {
        Some(ArpInfo {
            operation: u16::from_be_bytes([o0, o1]),
            sender_mac: MacAddr(array(b, 8)?),
            sender_ip: Ipv4Addr::from(array::<4>(b, 14)?),
            target_mac: MacAddr(array(b, 18)?),
            target_ip: Ipv4Addr::from(array::<4>(b, 24)?),
        })
    };
    if w.pkt.arp.is_none() {
        w.pkt.arp = info();
    }
    Next::Done
}

/// Linux cooked capture v1: packet type, ARPHRD type, address length, 8 address bytes,
/// protocol.
fn sll<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let Some(hdr) = s.bytes.first_chunk::<SLL_HEADER>() else {
        return s.truncated(Layer::Link, SLL_HEADER);
    };
    let [_, _, h0, h1, l0, l1, a0, a1, a2, a3, a4, a5, _, _, p0, p1] = *hdr;
    let arphrd = u16::from_be_bytes([h0, h1]);
    let addr_len = u16::from_be_bytes([l0, l1]);
    let protocol = u16::from_be_bytes([p0, p1]);
    cooked(
        w,
        s,
        SLL_HEADER,
        arphrd,
        addr_len,
        [a0, a1, a2, a3, a4, a5],
        protocol,
    )
}

/// Linux cooked capture v2: protocol, reserved, interface index, ARPHRD type, packet type,
/// address length, 8 address bytes.
fn sll2<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let Some(hdr) = s.bytes.first_chunk::<SLL2_HEADER>() else {
        return s.truncated(Layer::Link, SLL2_HEADER);
    };
    let [
        p0,
        p1,
        _,
        _,
        _,
        _,
        _,
        _,
        h0,
        h1,
        _,
        addr_len,
        a0,
        a1,
        a2,
        a3,
        a4,
        a5,
        _,
        _,
    ] = *hdr;
    let arphrd = u16::from_be_bytes([h0, h1]);
    let protocol = u16::from_be_bytes([p0, p1]);
    cooked(
        w,
        s,
        SLL2_HEADER,
        arphrd,
        u16::from(addr_len),
        [a0, a1, a2, a3, a4, a5],
        protocol,
    )
}

/// What SLL and SLL2 share once their fields are read.
fn cooked<'a>(
    w: &mut Walker<'a, '_>,
    s: Span<'a>,
    header_len: usize,
    arphrd: u16,
    addr_len: u16,
    addr: [u8; 6],
    protocol: u16,
) -> Next<'a> {
    // Only a 6-byte address is a MAC; loopback has none and tunnels have IP addresses.
    if addr_len == 6 {
        w.set_eth(EthernetInfo {
            src: MacAddr(addr),
            dst: MacAddr::default(),
            ether_type: if protocol >= MIN_ETHER_TYPE {
                protocol
            } else {
                0
            },
        });
    }
    let body = s.skip(header_len);
    if arphrd == ARPHRD_NETLINK {
        return s.stop(Layer::Link, StopReason::Unsupported("netlink"));
    }
    match protocol {
        SLL_PROTO_LLC => Next::Llc(body),
        SLL_PROTO_8023_NOVELL => s.stop(
            Layer::Link,
            StopReason::Unsupported("Novell raw 802.3 (IPX)"),
        ),
        p if p < MIN_ETHER_TYPE => s.stop(Layer::Link, StopReason::Unsupported("SLL protocol")),
        p => Next::EtherType {
            ether_type: p,
            body,
            from: Origin {
                layer: Layer::Link,
                at: s.at,
            },
        },
    }
}

/// Raw IP whose version is read from the first nibble.
fn raw(s: Span<'_>) -> Next<'_> {
    match s.bytes.first().map(|b| b >> 4) {
        None => s.truncated(Layer::Link, 1),
        Some(4) => Next::Ipv4(s),
        Some(6) => Next::Ipv6(s),
        Some(_) => s.stop(Layer::Link, StopReason::Malformed("raw IP version")),
    }
}

/// BSD loopback (`network_order == false`: the capturing host's byte order, so try both)
/// and OpenBSD loop (network order).
fn null(s: Span<'_>, network_order: bool) -> Next<'_> {
    let Some(&af) = s.bytes.first_chunk::<NULL_HEADER>() else {
        return s.truncated(Layer::Link, NULL_HEADER);
    };
    let be = u32::from_be_bytes(af);
    let family = if network_order || be <= AF_MAX_PLAUSIBLE {
        be
    } else {
        u32::from_le_bytes(af)
    };
    let body = s.skip(NULL_HEADER);
    let [_, _, t0, t1] = af;
    if family == AF_INET {
        Next::Ipv4(body)
    } else if AF_INET6.contains(&family) {
        Next::Ipv6(body)
    } else if u16::from_be_bytes([t0, t1]) == ETHERTYPE_IPV4 {
        // Some old Linux captures put two stray bytes and an ether type where the family
        // goes; Wireshark reads those as the ether type too.
        Next::Ipv4(body)
    } else if u16::from_be_bytes([t0, t1]) == ETHERTYPE_IPV6 {
        Next::Ipv6(body)
    } else {
        s.stop(
            Layer::Link,
            StopReason::Unsupported("loopback address family"),
        )
    }
}

/// NFLOG: find the payload TLV and decode it by the header's address family.
///
/// TLV lengths and types are in the capturing host's byte order. Types are small numbers,
/// so the byte order that gives a small type is the right one. A TLV list cut before the
/// payload is a truncated link header; a cut payload is a truncated IP packet.
fn nflog(s: Span<'_>) -> Next<'_> {
    let Some(&[family, _, _, _]) = s.bytes.first_chunk::<NFLOG_HEADER>() else {
        return s.truncated(Layer::Link, NFLOG_HEADER);
    };
    let mut at = NFLOG_HEADER;
    for _ in 0..MAX_NFLOG_TLVS {
        let tlv = s.skip(at);
        if tlv.len() == 0 {
            break;
        }
        let Some(&[l0, l1, t0, t1]) = tlv.bytes.first_chunk::<NFLOG_TLV_HEADER>() else {
            return s.truncated(Layer::Link, at + NFLOG_TLV_HEADER);
        };
        let (len, kind) = if u16::from_le_bytes([t0, t1]) & NFLOG_TYPE_MASK <= NFLOG_MAX_TYPE {
            (u16::from_le_bytes([l0, l1]), u16::from_le_bytes([t0, t1]))
        } else {
            (u16::from_be_bytes([l0, l1]), u16::from_be_bytes([t0, t1]))
        };
        let len = usize::from(len);
        if len < NFLOG_TLV_HEADER {
            return tlv.stop(Layer::Link, StopReason::Malformed("NFLOG TLV length"));
        }
        if kind & NFLOG_TYPE_MASK == NFULA_PAYLOAD {
            let body = tlv.take(len).skip(NFLOG_TLV_HEADER);
            return match family {
                LINUX_AF_INET => Next::Ipv4(body),
                LINUX_AF_INET6 => Next::Ipv6(body),
                _ => s.stop(Layer::Link, StopReason::Unsupported("NFLOG address family")),
            };
        }
        // Values are padded to 4 bytes.
        let padded = len.next_multiple_of(4);
        if tlv.len() < len {
            return s.truncated(Layer::Link, at + len);
        }
        at = at.saturating_add(padded);
    }
    s.stop(
        Layer::Link,
        StopReason::Unsupported("NFLOG without payload"),
    )
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests panic on unexpected shapes")]
mod tests {
    use super::*;
    use crate::dispatch::testkit::*;
    use crate::{DecodeOptions, Packet, StopReason, decode_with};

    fn dec(link: LinkType, frame: &[u8]) -> Packet<'static> {
        decode_with(link, leak(frame), DecodeOptions::headers_only())
    }

    fn udp_v4() -> Vec<u8> {
        v4(17, V4_A, V4_B, &[], &udp_dg(5353, 53, b"abcd"))
    }

    #[test]
    fn ethernet_ii_to_udp() {
        let f = ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &udp_v4());
        let p = dec(LinkType::ETHERNET, &f);
        let e = p.eth.expect("ethernet");
        assert_eq!((e.src.0, e.dst.0, e.ether_type), (MAC_A, MAC_B, 0x0800));
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((5353, 53)));
        assert_eq!(p.payload, b"abcd");
        assert!(p.stop.is_none());
    }

    #[test]
    fn vlan_stacks_keep_every_id_outer_first() {
        // 802.1ad S-tag 100, old QinQ 0x9100 tag 200, 802.1Q C-tag 300 (PCP bits set, which
        // must not leak into the id).
        let inner = tag(300 | 0xe000, ETHERTYPE_IPV4, &udp_v4());
        let mid = tag(200, ETHERTYPE_VLAN, &inner);
        let outer = tag(100, ETHERTYPE_QINQ_OLD, &mid);
        let f = ether(MAC_B, MAC_A, ETHERTYPE_QINQ, &outer);
        let p = dec(LinkType::ETHERNET, &f);
        assert_eq!(p.vlans.as_slice(), &[100, 200, 300]);
        assert_eq!(p.eth.map(|e| e.ether_type), Some(ETHERTYPE_IPV4));
        assert!(p.ip.is_some() && p.stop.is_none());
    }

    #[test]
    fn vlan_overflow_is_counted() {
        let mut body = udp_v4();
        let mut et = ETHERTYPE_IPV4;
        for id in (1..=6).rev() {
            body = tag(id, et, &body);
            et = ETHERTYPE_VLAN;
        }
        let f = ether(MAC_B, MAC_A, et, &body);
        let p = dec(LinkType::ETHERNET, &f);
        assert_eq!(p.vlans.as_slice(), &[1, 2, 3, 4]);
        assert_eq!(p.vlans.dropped, 2);
        assert!(p.ip.is_some());
    }

    #[test]
    fn unsupported_ether_type_is_reported_at_the_naming_header() {
        // LLDP (0x88cc) directly, then behind a VLAN tag at offset 14.
        let p = dec(LinkType::ETHERNET, &ether(MAC_B, MAC_A, 0x88cc, &[0; 20]));
        let s = p.stop.expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason),
            (Layer::Link, 0, StopReason::UnsupportedEtherType(0x88cc))
        );
        assert!(!s.reason.is_damage());
        let f = ether(MAC_B, MAC_A, ETHERTYPE_VLAN, &tag(7, 0x88cc, &[0; 20]));
        let s = dec(LinkType::ETHERNET, &f).stop.expect("stop");
        assert_eq!((s.layer, s.offset), (Layer::Vlan, 14));
    }

    #[test]
    fn ieee8023_llc_snap_and_padding() {
        // 802.3 length 8 + 28 (LLC/SNAP + IPv4/UDP 28 bytes), then 10 bytes of padding the
        // length field excludes.
        let ip = v4(17, V4_A, V4_B, &[], &udp_dg(1, 2, &[]));
        let mut llc = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        llc.extend_from_slice(&ip);
        let len = llc.len() as u16;
        llc.extend_from_slice(&[0xee; 10]);
        let f = ether(MAC_B, MAC_A, len, &llc);
        let p = dec(LinkType::ETHERNET, &f);
        assert_eq!(p.eth.map(|e| e.ether_type), Some(0x0800));
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((1, 2)));
        assert!(p.payload.is_empty() && p.stop.is_none());
    }

    #[test]
    fn llc_without_snap_is_named() {
        // Spanning tree: DSAP/SSAP 0x42, UI control (IEEE 802.1D clause 7.12).
        let f = ether(
            [0x01, 0x80, 0xc2, 0, 0, 0],
            MAC_A,
            38,
            &[0x42, 0x42, 0x03, 0, 0, 0],
        );
        let s = dec(LinkType::ETHERNET, &f).stop.expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason),
            (Layer::Llc, 14, StopReason::Unsupported("STP (LLC)"))
        );
        // Cisco SNAP (CDP: OUI 00-00-0c, pid 0x2000).
        let f = ether(
            MAC_B,
            MAC_A,
            30,
            &[0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00, 1, 2],
        );
        let s = dec(LinkType::ETHERNET, &f).stop.expect("stop");
        assert_eq!(s.layer, Layer::Llc);
        assert!(!s.reason.is_damage());
    }

    /// Cisco FabricPath: FTAG and TTL, then the host's frame; the link keeps the outer
    /// (switch) addresses, as with 802.1ah.
    #[test]
    fn fabricpath_inner_frame() {
        let inner = ether([0x0a; 6], [0x0b; 6], ETHERTYPE_IPV4, &udp_v4());
        let mut body = vec![0x00, 0x3f];
        body.extend_from_slice(&inner);
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_FABRICPATH, &body),
        );
        assert_reached_ip(&p, 4);
        assert_eq!(p.eth.map(|e| e.src.0), Some(MAC_A));
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_FABRICPATH, &[0x00]),
        );
        assert_truncated(&p);
    }

    /// NSH (RFC 8300) over Ethernet: MD type 1 (24 bytes) before IPv4, MD type 2 with a
    /// context TLV before IPv6; a cut header is truncation, a wrong version unsupported.
    #[test]
    fn nsh_headers() {
        let mut body = vec![0x00, 0x06, 0x01, 0x01, 0, 0, 1, 0xff];
        body.extend_from_slice(&[0; 16]);
        body.extend_from_slice(&udp_v4());
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_NSH, &body),
        );
        assert_reached_ip(&p, 4);
        let mut body = vec![0x30, 0x04, 0x02, 0x02, 0, 0, 1, 0xff];
        body.extend_from_slice(&[0x01, 0x02, 0x01, 0x04, 0x12, 0x34]);
        body.resize(16, 0);
        body.extend_from_slice(&v6(17, V6_A, V6_B, &udp_dg(1, 2, &[])));
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_NSH, &body),
        );
        assert_reached_ip(&p, 6);
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_NSH, &[0x00, 0x06, 0x01, 0x01, 0, 0]),
        );
        assert_truncated(&p);
        let p = dec(
            LinkType::ETHERNET,
            &ether(
                MAC_B,
                MAC_A,
                ETHERTYPE_NSH,
                &[0x40, 0x02, 0x01, 0x01, 0, 0, 1, 0xff],
            ),
        );
        let s = p.stop.expect("stop");
        assert!(p.ip.is_none() && !s.reason.is_damage(), "{s:?}");
    }

    /// Arista's timestamp header (ether type 0xd28b), both timestamp sizes, then what its
    /// ether type names; an unknown version stops there, as in tshark.
    #[test]
    fn arista_timestamp_header() {
        let ip = udp_v4();
        for (version, ts) in [(0x0010u16, 8usize), (0x0110, 8), (0x0020, 6), (0x0120, 6)] {
            let mut body = vec![0, 1];
            body.extend_from_slice(&version.to_be_bytes());
            body.extend(std::iter::repeat_n(0x5c, ts));
            body.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            body.extend_from_slice(&[0x00, 0x64, 0x08, 0x00]);
            body.extend_from_slice(&ip);
            let p = dec(
                LinkType::ETHERNET,
                &ether(MAC_B, MAC_A, ETHERTYPE_ARISTA, &body),
            );
            assert!(
                p.ip.is_some() && p.stop.is_none(),
                "{version:#x}: {:?}",
                p.stop
            );
            assert_eq!(p.vlans.as_slice(), &[100], "{version:#x}");
        }
        let mut body = vec![0, 1, 0, 0x11];
        body.extend_from_slice(&[0; 10]);
        body.extend_from_slice(&ip);
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_ARISTA, &body),
        );
        let s = p.stop.expect("stop");
        assert!(p.ip.is_none() && !s.reason.is_damage(), "{s:?}");
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_ARISTA, &[0, 1, 0, 0x10, 0x5c]),
        );
        assert_truncated(&p);
    }

    #[test]
    fn mpls_stack_then_guessed_payload() {
        // Two labels (RFC 3032): 1000 then 2000 with bottom-of-stack, TTL 64.
        let ip = udp_v4();
        let mut body = Vec::new();
        body.extend_from_slice(&((1000u32 << 12) | 64).to_be_bytes());
        body.extend_from_slice(&((2000u32 << 12) | 0x100 | 64).to_be_bytes());
        body.extend_from_slice(&ip);
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_MPLS, &body),
        );
        assert_eq!(p.mpls.as_slice(), &[1000, 2000]);
        assert_reached_ip(&p, 4);
        // IPv6 explicit null label 2, whatever the nibble says.
        let v6 = v6(17, V6_A, V6_B, &udp_dg(1, 2, &[]));
        let mut body = ((2u32 << 12) | 0x100).to_be_bytes().to_vec();
        body.extend_from_slice(&v6);
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_MPLS, &body),
        );
        assert!(p.ip.is_some_and(|i| i.version() == 6));
    }

    #[test]
    fn mpls_pseudowire_ethernet_keeps_outer_addresses() {
        // RFC 4448: label, zero control word, customer Ethernet frame.
        let inner = ether([0x0a; 6], [0x0b; 6], ETHERTYPE_IPV4, &udp_v4());
        let mut body = ((77u32 << 12) | 0x100 | 1).to_be_bytes().to_vec();
        body.extend_from_slice(&[0, 0, 0, 0]);
        body.extend_from_slice(&inner);
        let p = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_MPLS, &body),
        );
        assert_eq!(p.eth.map(|e| e.src.0), Some(MAC_A));
        assert_eq!(p.mpls.as_slice(), &[77]);
        assert!(p.ip.is_some() && p.stop.is_none());
    }

    #[test]
    fn mpls_without_bottom_of_stack_is_malformed() {
        let body: Vec<u8> = (0..MAX_MPLS_WALK as u32 + 2)
            .flat_map(|l| (l << 12).to_be_bytes())
            .collect();
        let s = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_MPLS, &body),
        )
        .stop
        .expect("stop");
        assert_eq!(s.reason, StopReason::Malformed("MPLS label stack too deep"));
    }

    /// An ARP request (RFC 826) from 192.0.2.1 for 198.51.100.7.
    fn arp_request() -> Vec<u8> {
        let mut a = vec![0, 1, 0x08, 0x00, 6, 4, 0, 1];
        a.extend_from_slice(&MAC_A);
        a.extend_from_slice(&V4_A);
        a.extend_from_slice(&[0; 6]);
        a.extend_from_slice(&V4_B);
        a
    }

    #[test]
    fn arp_fields() {
        let p = dec(
            LinkType::ETHERNET,
            &ether([0xff; 6], MAC_A, ETHERTYPE_ARP, &arp_request()),
        );
        let a = p.arp.expect("arp");
        assert_eq!(a.operation, 1);
        assert_eq!((a.sender_mac.0, a.sender_ip.octets()), (MAC_A, V4_A));
        assert_eq!((a.target_mac.0, a.target_ip.octets()), ([0; 6], V4_B));
        assert!(p.stop.is_none());
        // ARP for a 16-bit hardware address (e.g. ARCnet style) is not decoded.
        let mut odd = arp_request();
        odd[4] = 2;
        let s = dec(
            LinkType::ETHERNET,
            &ether([0xff; 6], MAC_A, ETHERTYPE_ARP, &odd),
        )
        .stop
        .expect("stop");
        assert_eq!((s.layer, s.offset), (Layer::Arp, 14));
        assert!(!s.reason.is_damage());
    }

    /// Linux SLL (v1): packet type 0 (to us), ARPHRD_ETHER, 6-byte address, protocol.
    fn sll_header(protocol: u16) -> Vec<u8> {
        let mut h = vec![0, 0, 0, 1, 0, 6];
        h.extend_from_slice(&MAC_A);
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&protocol.to_be_bytes());
        h
    }

    /// Linux SLL2: protocol, reserved, ifindex 3, ARPHRD_ETHER, packet type 4 (outgoing),
    /// 6-byte address padded to 8.
    fn sll2_header(protocol: u16) -> Vec<u8> {
        let mut h = protocol.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 4, 6]);
        h.extend_from_slice(&MAC_A);
        h.extend_from_slice(&[0, 0]);
        h
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        for (link, hdr) in [
            (LinkType::LINUX_SLL, sll_header(0x0800)),
            (LinkType::LINUX_SLL2, sll2_header(0x0800)),
        ] {
            let f = cat(&[&hdr, &udp_v4()]);
            let p = dec(link, &f);
            let e = p.eth.expect("address");
            assert_eq!(
                (e.src.0, e.dst.0, e.ether_type),
                (MAC_A, [0; 6], 0x0800),
                "{link}"
            );
            assert!(p.transport.is_some() && p.stop.is_none(), "{link}");
        }
        // Protocol 0x0004: an 802.2 frame follows (here SNAP carrying IPv4).
        let f = cat(&[
            &sll_header(0x0004),
            &[0xaa, 0xaa, 3, 0, 0, 0, 8, 0],
            &udp_v4(),
        ]);
        assert!(dec(LinkType::LINUX_SLL, &f).ip.is_some());
    }

    #[test]
    fn bsd_loopback_byte_orders() {
        let v4 = udp_v4();
        let v6 = v6(17, V6_A, V6_B, &udp_dg(1, 2, &[]));
        // DLT_NULL in little-endian (AF_INET 2), big-endian (AF_INET6 30, macOS), and
        // DLT_LOOP (network order, AF_INET6 24).
        let cases: [(LinkType, [u8; 4], &[u8], u8); 3] = [
            (LinkType::NULL, 2u32.to_le_bytes(), &v4, 4),
            (LinkType::NULL, 30u32.to_be_bytes(), &v6, 6),
            (LinkType::LOOP, 24u32.to_be_bytes(), &v6, 6),
        ];
        for (link, af, body, version) in cases {
            let p = dec(link, &cat(&[&af, body]));
            assert_eq!(p.ip.map(|i| i.version()), Some(version), "{link} {af:?}");
        }
        let s = dec(LinkType::NULL, &cat(&[&7u32.to_le_bytes(), &v4]))
            .stop
            .expect("stop");
        assert_eq!(s.reason, StopReason::Unsupported("loopback address family"));
    }

    #[test]
    fn raw_ip_link_types() {
        let v4 = udp_v4();
        let v6 = v6(17, V6_A, V6_B, &udp_dg(1, 2, &[]));
        for link in [LinkType::RAW, LinkType::RAW_LEGACY, LinkType(14)] {
            assert_eq!(dec(link, &v4).ip.map(|i| i.version()), Some(4));
            assert_eq!(dec(link, &v6).ip.map(|i| i.version()), Some(6));
        }
        assert_eq!(dec(LinkType::IPV4, &v4).ip.map(|i| i.version()), Some(4));
        assert_eq!(dec(LinkType::IPV6, &v6).ip.map(|i| i.version()), Some(6));
        let s = dec(LinkType::RAW, &[0x50; 30]).stop.expect("stop");
        assert_eq!(
            (s.layer, s.reason),
            (Layer::Link, StopReason::Malformed("raw IP version"))
        );
        // Raw IPv6-only link type given IPv4 bytes: the IPv6 decoder says so.
        let s = dec(LinkType::IPV6, &v4).stop.expect("stop");
        assert_eq!(
            (s.layer, s.reason),
            (Layer::Ipv6, StopReason::Malformed("IPv6 version"))
        );
    }

    #[test]
    fn unknown_link_type() {
        let s = dec(LinkType(147), &[1, 2, 3]).stop.expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason),
            (Layer::Link, 0, StopReason::UnsupportedLinkType(147))
        );
    }

    #[test]
    fn nflog_payload_tlv() {
        // NFLOG (Linux nfnetlink_log): AF_INET, version 0, resource 0; a prefix TLV
        // (type 10, 7 bytes + 1 pad) then the payload TLV (type 9), little-endian TLVs.
        let ip = udp_v4();
        let mut f = vec![2, 0, 0, 0, 7, 0, 10, 0, b'f', b'w', b'\0', 0];
        f.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
        f.extend_from_slice(&9u16.to_le_bytes());
        f.extend_from_slice(&ip);
        let p = dec(LINKTYPE_NFLOG, &f);
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((5353, 53)));
    }

    #[test]
    fn truncation_ethernet_vlan_ipv4_tcp() {
        let t = tcp_seg(1234, 80, 1, 0x002, &[2, 4, 5, 0xb4], b"xy");
        let f = ether(
            MAC_B,
            MAC_A,
            ETHERTYPE_VLAN,
            &tag(5, ETHERTYPE_IPV4, &v4(6, V4_A, V4_B, &[], &t)),
        );
        let n = assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Vlan, 14, 4),
                (Layer::Ipv4, 18, 20),
                (Layer::Tcp, 38, 24),
            ],
        );
        assert_eq!(n, 62);
    }

    #[test]
    fn truncation_llc_snap_mpls_arp() {
        let llc = cat(&[&[0xaa, 0xaa, 3, 0, 0, 0, 8, 6], &arp_request()]);
        let f = ether(MAC_B, MAC_A, llc.len() as u16, &llc);
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Llc, 14, 8),
                (Layer::Arp, 22, 28),
            ],
        );
        let mut body = ((1u32 << 12) | 0x100).to_be_bytes().to_vec();
        body.extend_from_slice(&udp_v4());
        let f = ether(MAC_B, MAC_A, ETHERTYPE_MPLS, &body);
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Mpls, 14, 4),
                (Layer::Mpls, 18, 1),
                (Layer::Ipv4, 18, 20),
                (Layer::Udp, 38, 8),
            ],
        );
    }

    #[test]
    fn truncation_cooked_null_nflog() {
        let ip = udp_v4();
        let mut nflog = vec![2, 0, 0, 0, 7, 0, 10, 0, b'f', b'w', b'\0', 0];
        nflog.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
        nflog.extend_from_slice(&9u16.to_le_bytes());
        let cases = [
            (LinkType::LINUX_SLL, sll_header(0x0800)),
            (LinkType::LINUX_SLL2, sll2_header(0x0800)),
            (LinkType::NULL, 2u32.to_le_bytes().to_vec()),
        ];
        for (link, hdr) in cases {
            let f = cat(&[&hdr, &ip]);
            let at = hdr.len();
            let headers = [
                (Layer::Link, 0, at),
                (Layer::Ipv4, at, 20),
                (Layer::Udp, at + 20, 8),
            ];
            assert_truncations(link, &f, &headers);
        }
        // NFLOG: a message may legitimately end without a payload TLV, so a prefix ending
        // between TLVs is "no payload"; one cutting a TLV is truncated.
        let f = cat(&[&nflog, &ip]);
        let at = nflog.len();
        assert_truncations(LINKTYPE_NFLOG, &f[..4], &[(Layer::Link, 0, 4)]);
        for n in 4..at {
            let s = dec(LINKTYPE_NFLOG, &f[..n]).stop.expect("stop");
            match s.reason {
                StopReason::Truncated { needed, available } => {
                    assert_eq!((s.offset, available as usize), (0, n));
                    assert!(needed as usize > n && needed as usize <= at);
                }
                other => assert!(matches!(n, 4 | 11 | 12), "prefix {n}: {other:?}"),
            }
        }
        let rest = [(Layer::Ipv4, at, 20), (Layer::Udp, at + 20, 8)];
        for n in at..at + 28 {
            let p = dec(LINKTYPE_NFLOG, &f[..n]);
            let (layer, from, _) = rest
                .iter()
                .rev()
                .find(|h| h.1 <= n)
                .copied()
                .expect("header");
            let s = p.stop.expect("stop");
            assert_eq!((s.layer, s.offset), (layer, from), "prefix {n}");
        }
    }
}
