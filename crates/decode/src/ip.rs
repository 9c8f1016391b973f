//! IPv4 and IPv6 headers, IPv6 extension headers and fragments.
//!
//! Lengths in IP headers are trusted only as upper bounds: a total length larger than what
//! was captured means the snap length cut the packet, and decoding goes on with the bytes
//! there are; a smaller one means the frame carries padding (Ethernet pads to 60 bytes),
//! which is cut off so it is not mistaken for payload.
//!
//! The header readers (`ipv4_header`, `ipv6_header`, `ipv6_extensions`) are pure and
//! shared with the ICMP error decoders, which read the quoted original header with them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::dispatch::{Next, Origin, Span, Walker, array, be16, be32};
use crate::{IpInfo, Layer, StopReason};

/// IPv6 "no next header": nothing follows.
pub const PROTO_NO_NEXT_HEADER: u8 = 59;
/// IPv6 hop-by-hop options.
const EXT_HOP_BY_HOP: u8 = 0;
/// IPv6 routing header.
const EXT_ROUTING: u8 = 43;
/// IPv6 fragment header.
const EXT_FRAGMENT: u8 = 44;
/// IPsec authentication header (its length counts 4-byte words).
const EXT_AH: u8 = 51;
/// IPv6 destination options.
const EXT_DEST_OPTS: u8 = 60;
/// Shim6 (RFC 5533), same length format.
const EXT_SHIM6: u8 = 140;
/// The most IPv6 extension headers walked; RFC 8200 expects at most one of each (about
/// eight), so a longer chain is crafted and stops as malformed.
pub const MAX_IPV6_EXT_HEADERS: usize = 12;
/// The IPv4 header without options.
const IPV4_MIN_HEADER: usize = 20;
/// The IPv6 fixed header.
const IPV6_HEADER: usize = 40;
/// The IPv6 fragment header.
const FRAGMENT_HEADER: usize = 8;
/// IPv4 flags: reserved bit.
const IPV4_FLAG_RESERVED: u16 = 0x8000;
/// IPv4 flags: don't fragment.
const IPV4_FLAG_DF: u16 = 0x4000;
/// IPv4 flags: more fragments.
const IPV4_FLAG_MF: u16 = 0x2000;
/// IPv4 fragment offset bits (8-byte units).
const IPV4_OFFSET_MASK: u16 = 0x1fff;

/// An IPv4 header's fields and its length in bytes (IHL × 4).
///
/// Errors when there are fewer than 20 bytes, the version is not 4, or IHL is below 5;
/// the options themselves may be cut (the caller checks `header_len` against what it has).
pub(crate) fn ipv4_header(b: &[u8]) -> Result<(IpInfo, usize), StopReason> {
    // A wrong version is malformed however few bytes there are.
    if b.first().is_some_and(|v| v >> 4 != 4) {
        return Err(StopReason::Malformed("IPv4 version"));
    }
    let Some(hdr) = b.first_chunk::<IPV4_MIN_HEADER>() else {
        return Err(crate::dispatch::truncated(IPV4_MIN_HEADER, b.len()));
    };
    let [
        version_ihl,
        tos,
        l0,
        l1,
        i0,
        i1,
        f0,
        f1,
        ttl,
        protocol,
        _,
        _,
        s0,
        s1,
        s2,
        s3,
        d0,
        d1,
        d2,
        d3,
    ] = *hdr;
    if version_ihl >> 4 != 4 {
        return Err(StopReason::Malformed("IPv4 version"));
    }
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER {
        return Err(StopReason::Malformed("IPv4 header length < 20"));
    }
    let flags = u16::from_be_bytes([f0, f1]);
    let info = IpInfo {
        src: IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3)),
        dst: IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3)),
        ttl,
        dscp: tos >> 2,
        ecn: tos & 0x03,
        id: Some(u32::from(u16::from_be_bytes([i0, i1]))),
        dont_fragment: flags & IPV4_FLAG_DF != 0,
        more_fragments: flags & IPV4_FLAG_MF != 0,
        reserved_flag: flags & IPV4_FLAG_RESERVED != 0,
        fragment_offset: (flags & IPV4_OFFSET_MASK) << 3,
        protocol,
        total_len: u32::from(u16::from_be_bytes([l0, l1])),
        // IHL is at most 15, so this fits.
        header_len: u16::from(version_ihl & 0x0f) * 4,
        flow_label: 0,
    };
    Ok((info, header_len))
}

/// An IPv6 fixed header: `protocol` is its next header, `header_len` 40.
pub(crate) fn ipv6_header(b: &[u8]) -> Result<IpInfo, StopReason> {
    if b.first().is_some_and(|v| v >> 4 != 6) {
        return Err(StopReason::Malformed("IPv6 version"));
    }
    let (Some(fixed), Some(src), Some(dst)) =
        (array::<8>(b, 0), array::<16>(b, 8), array::<16>(b, 24))
    else {
        return Err(crate::dispatch::truncated(IPV6_HEADER, b.len()));
    };
    let [v0, v1, v2, v3, p0, p1, next_header, hop_limit] = fixed;
    if v0 >> 4 != 6 {
        return Err(StopReason::Malformed("IPv6 version"));
    }
    let word = u32::from_be_bytes([v0, v1, v2, v3]);
    let traffic_class = ((word >> 20) & 0xff) as u8;
    Ok(IpInfo {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        ttl: hop_limit,
        dscp: traffic_class >> 2,
        ecn: traffic_class & 0x03,
        id: None,
        dont_fragment: false,
        more_fragments: false,
        reserved_flag: false,
        fragment_offset: 0,
        protocol: next_header,
        total_len: u32::from(u16::from_be_bytes([p0, p1])) + IPV6_HEADER as u32,
        header_len: IPV6_HEADER as u16,
        flow_label: word & 0x000f_ffff,
    })
}

/// The result of walking an IPv6 extension header chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtChain {
    /// The first header that is not an extension header (the upper-layer protocol), or the
    /// extension header where the walk stopped.
    pub protocol: u8,
    /// Bytes from the IPv6 header's start to `protocol`'s header.
    pub header_len: usize,
    /// The fragment header's identification, offset in bytes and M bit.
    pub fragment: Option<(u32, u16, bool)>,
    /// Where (from the IPv6 header's start) and why the walk stopped early.
    pub stop: Option<(usize, StopReason)>,
}

/// Walks the extension headers of an IPv6 packet `b` (from its fixed header on, at most
/// as long as its payload length allows) starting with `next_header`.
///
/// Stops after a fragment header with a non-zero offset: what follows is the middle of
/// the original packet, not headers.
pub(crate) fn ipv6_extensions(b: &[u8], next_header: u8) -> ExtChain {
    let mut chain = ExtChain {
        protocol: next_header,
        header_len: IPV6_HEADER,
        fragment: None,
        stop: None,
    };
    for _ in 0..MAX_IPV6_EXT_HEADERS {
        let at = chain.header_len;
        let available = b.len().saturating_sub(at);
        let kind = chain.protocol;
        let len = match kind {
            // The Mobility Header (135) and HIP (139) are upper-layer protocols that merely
            // share the extension-header layout; their "payload proto" is 59 by RFC 6275
            // §6.1.1, so walking past them would report every mobility message as protocol
            // 59. tshark, tcpdump and Linux stop at them; so does trident.
            EXT_HOP_BY_HOP | EXT_ROUTING | EXT_DEST_OPTS | EXT_SHIM6 => {
                b.get(at + 1).map(|&l| (usize::from(l) + 1) * 8)
            }
            EXT_AH => b.get(at + 1).map(|&l| (usize::from(l) + 2) * 4),
            EXT_FRAGMENT => Some(FRAGMENT_HEADER),
            _ => return chain,
        };
        let (Some(len), Some(&next)) = (len, b.get(at)) else {
            chain.stop = Some((at, crate::dispatch::truncated(2, available)));
            return chain;
        };
        if available < len {
            chain.stop = Some((at, crate::dispatch::truncated(len, available)));
            return chain;
        }
        chain.protocol = next;
        chain.header_len = at + len;
        if kind == EXT_FRAGMENT {
            let (Some(offset_flags), Some(id)) = (be16(b, at + 2), be32(b, at + 4)) else {
                chain.stop = Some((at, crate::dispatch::truncated(len, available)));
                return chain;
            };
            // The offset is in 8-byte units in the top 13 bits, so masking gives bytes.
            let offset = offset_flags & 0xfff8;
            chain.fragment = Some((id, offset, offset_flags & 1 != 0));
            if offset != 0 {
                return chain;
            }
        }
    }
    if matches!(
        chain.protocol,
        EXT_HOP_BY_HOP | EXT_ROUTING | EXT_FRAGMENT | EXT_AH | EXT_DEST_OPTS | EXT_SHIM6
    ) {
        chain.stop = Some((
            chain.header_len,
            StopReason::Malformed("IPv6 extension header chain too long"),
        ));
    }
    chain
}

/// An IPv4 header and, unless it is a later fragment, its payload.
pub(crate) fn ipv4<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let (info, header_len) = match ipv4_header(s.bytes) {
        Ok(v) => v,
        Err(reason) => return s.stop(Layer::Ipv4, reason),
    };
    let total = info.total_len as usize;
    w.set_ip(info);
    if s.len() < header_len {
        return s.truncated(Layer::Ipv4, header_len);
    }
    // A total length of 0 is what TCP segmentation offload leaves in captures taken on
    // the sending host; like Wireshark, take the captured bytes as the packet.
    if total != 0 && total < header_len {
        return s.stop(
            Layer::Ipv4,
            StopReason::Malformed("IPv4 total length < header length"),
        );
    }
    if info.is_later_fragment() {
        return Next::Done;
    }
    let body = if total == 0 { s } else { s.take(total) };
    Next::IpPayload {
        protocol: info.protocol,
        body: body.skip(header_len),
        from: Origin {
            layer: Layer::Ipv4,
            at: s.at,
        },
    }
}

/// An IPv6 header, its extension headers and, unless it is a later fragment, its payload.
pub(crate) fn ipv6<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let mut info = match ipv6_header(s.bytes) {
        Ok(v) => v,
        Err(reason) => return s.stop(Layer::Ipv6, reason),
    };
    // Payload length 0 is a jumbogram or, far more often, segmentation offload: use what
    // was captured.
    let bounded = if info.total_len as usize == IPV6_HEADER {
        s
    } else {
        s.take(info.total_len as usize)
    };
    let chain = ipv6_extensions(bounded.bytes, info.protocol);
    info.protocol = chain.protocol;
    info.header_len = u16::try_from(chain.header_len).unwrap_or(u16::MAX);
    if let Some((id, offset, more)) = chain.fragment {
        info.id = Some(id);
        info.fragment_offset = offset;
        info.more_fragments = more;
    }
    w.set_ip(info);
    if let Some((at, reason)) = chain.stop {
        return s.skip(at).stop(Layer::Ipv6Ext, reason);
    }
    if info.is_later_fragment() {
        return Next::Done;
    }
    Next::IpPayload {
        protocol: chain.protocol,
        body: bounded.skip(chain.header_len),
        from: Origin {
            layer: Layer::Ipv6,
            at: s.at,
        },
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests panic on unexpected shapes")]
mod tests {
    use super::*;
    use crate::dispatch::testkit::*;
    use crate::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
    use crate::{LinkType, Transport};

    fn v4_frame(ip: &[u8]) -> Vec<u8> {
        ether(MAC_B, MAC_A, ETHERTYPE_IPV4, ip)
    }

    fn v6_frame(ip: &[u8]) -> Vec<u8> {
        ether(MAC_B, MAC_A, ETHERTYPE_IPV6, ip)
    }

    #[test]
    fn ipv4_fields_and_options() {
        // Options: record route (7, length 7, pointer 4, one empty slot) + EOL (RFC 791).
        let opts = [7, 7, 4, 0, 0, 0, 0, 0];
        let f = v4_frame(&v4(17, V4_A, V4_B, &opts, &udp_dg(1, 2, b"x")));
        let p = dec(&f);
        let ip = p.ip.expect("ip");
        assert_eq!(ip.src.to_string(), "192.0.2.1");
        assert_eq!(ip.dst.to_string(), "198.51.100.7");
        // TOS 0xb8 = DSCP 46 (EF), ECN 0.
        assert_eq!((ip.ttl, ip.dscp, ip.ecn, ip.id), (64, 46, 0, Some(0x1234)));
        assert!(ip.dont_fragment && !ip.more_fragments && !ip.reserved_flag);
        assert_eq!((ip.protocol, ip.header_len, ip.total_len), (17, 28, 28 + 9));
        assert_eq!(p.payload, b"x");
    }

    #[test]
    fn ipv4_bad_lengths() {
        let mut ip = v4(6, V4_A, V4_B, &[], &[]);
        ip[0] = 0x44; // IHL 4
        let s = dec(&v4_frame(&ip)).stop.expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason),
            (
                Layer::Ipv4,
                14,
                StopReason::Malformed("IPv4 header length < 20")
            )
        );
        let mut ip = v4(6, V4_A, V4_B, &[], &[0; 20]);
        ip[2..4].copy_from_slice(&19u16.to_be_bytes());
        let p = dec(&v4_frame(&ip));
        assert_eq!(
            p.stop.map(|s| s.reason),
            Some(StopReason::Malformed("IPv4 total length < header length"))
        );
        assert!(p.ip.is_some(), "addresses are kept");
    }

    #[test]
    fn ipv4_length_bounds_payload_both_ways() {
        // Ethernet padding after a short UDP datagram is not payload.
        let ip = v4(17, V4_A, V4_B, &[], &udp_dg(1, 2, b"ab"));
        let f = v4_frame(&cat(&[&ip, &[0xee; 16]]));
        assert_eq!(dec(&f).payload, b"ab");
        // A snap length shorter than the total length: decode what is there, no stop.
        let ip = v4(
            6,
            V4_A,
            V4_B,
            &[],
            &tcp_seg(1, 2, 3, 0x10, &[], &[0x55; 100]),
        );
        let f = v4_frame(&ip[..ip.len() - 60]);
        let p = dec(&f);
        assert_eq!(p.payload.len(), 40);
        assert!(p.stop.is_none());
        // Total length 0 (segmentation offload): the captured bytes are the packet.
        let mut ip = v4(17, V4_A, V4_B, &[], &udp_dg(1, 2, b"tso"));
        ip[2..4].copy_from_slice(&[0, 0]);
        assert_eq!(dec(&v4_frame(&ip)).payload, b"tso");
    }

    #[test]
    fn ipv4_fragments() {
        let t = tcp_seg(1000, 80, 7, 0x002, &[], &[0; 8]);
        let mut first = v4(6, V4_A, V4_B, &[], &t);
        first[6] = 0x20; // MF, offset 0
        let p = dec(&v4_frame(&first));
        let ip = p.ip.expect("ip");
        assert!(ip.more_fragments && !ip.is_later_fragment());
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((1000, 80)));
        let mut later = v4(6, V4_A, V4_B, &[], &[0xaa; 16]);
        later[6..8].copy_from_slice(&(0x2000u16 | 185).to_be_bytes()); // MF, offset 1480
        let p = dec(&v4_frame(&later));
        let ip = p.ip.expect("ip");
        assert_eq!(ip.fragment_offset, 1480);
        assert!(
            p.transport.is_none() && p.stop.is_none(),
            "later fragments are not damage"
        );
    }

    /// Hop-by-hop (PadN to 8 bytes), routing type 4 with one address (24 bytes), fragment
    /// (offset 0, M set, id 0xdeadbeef), destination options (8), then UDP.
    fn ext_chain() -> Vec<u8> {
        let mut b = vec![EXT_ROUTING, 0, 1, 4, 0, 0, 0, 0];
        b.extend_from_slice(&[EXT_FRAGMENT, 2, 4, 1, 0, 0, 0, 0]);
        b.extend_from_slice(&V6_B);
        b.extend_from_slice(&[EXT_DEST_OPTS, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        b.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        b.extend_from_slice(&udp_dg(546, 547, b"dhcp"));
        b
    }

    #[test]
    fn ipv6_extension_chain() {
        let f = v6_frame(&v6(EXT_HOP_BY_HOP, V6_A, V6_B, &ext_chain()));
        let p = dec(&f);
        let ip = p.ip.expect("ip");
        assert_eq!((ip.protocol, ip.header_len), (17, 40 + 8 + 24 + 8 + 8));
        assert_eq!(
            (ip.id, ip.fragment_offset, ip.more_fragments),
            (Some(0xdead_beef), 0, true)
        );
        assert_eq!((ip.flow_label, ip.ttl), (0x12345, 64));
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((546, 547)));
        assert!(p.stop.is_none());
    }

    #[test]
    fn ipv6_later_fragment_and_ah() {
        // Fragment offset 1448 bytes (181 units), M clear.
        let mut b = vec![17, 0];
        b.extend_from_slice(&(181u16 << 3).to_be_bytes());
        b.extend_from_slice(&7u32.to_be_bytes());
        b.extend_from_slice(&[0x99; 30]);
        let p = dec(&v6_frame(&v6(EXT_FRAGMENT, V6_A, V6_B, &b)));
        let ip = p.ip.expect("ip");
        assert_eq!(
            (ip.fragment_offset, ip.more_fragments, ip.protocol),
            (1448, false, 17)
        );
        assert!(p.transport.is_none() && p.stop.is_none());
        // AH (RFC 4302): payload length 4 → (4 + 2) * 4 = 24 bytes, then TCP.
        let mut b = vec![6, 4, 0, 0];
        b.extend_from_slice(&[0; 20]);
        b.extend_from_slice(&tcp_seg(22, 40000, 1, 0x18, &[], b"ssh"));
        let p = dec(&v6_frame(&v6(EXT_AH, V6_A, V6_B, &b)));
        assert_eq!(p.ip.map(|i| i.header_len), Some(64));
        assert!(matches!(p.transport, Some(Transport::Tcp(_))));
    }

    #[test]
    fn ipv6_chain_cap_and_unsupported_protocol() {
        let mut b = Vec::new();
        for _ in 0..MAX_IPV6_EXT_HEADERS + 1 {
            b.extend_from_slice(&[EXT_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0]);
        }
        let s = dec(&v6_frame(&v6(EXT_DEST_OPTS, V6_A, V6_B, &b)))
            .stop
            .expect("stop");
        assert_eq!(s.layer, Layer::Ipv6Ext);
        assert_eq!(
            s.reason,
            StopReason::Malformed("IPv6 extension header chain too long")
        );
        // ESP (50) is named, not damage, and reported at the IPv6 header.
        let s = dec(&v6_frame(&v6(50, V6_A, V6_B, &[0; 16])))
            .stop
            .expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason),
            (Layer::Ipv6, 14, StopReason::UnsupportedProtocol(50))
        );
        // No next header: done.
        let p = dec(&v6_frame(&v6(PROTO_NO_NEXT_HEADER, V6_A, V6_B, &[])));
        assert!(p.stop.is_none() && p.ip.is_some());
    }

    #[test]
    fn truncation_ipv4_options_and_ipv6_extensions() {
        let opts = [1, 1, 1, 0];
        let f = v4_frame(&v4(17, V4_A, V4_B, &opts, &udp_dg(1, 2, b"z")));
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 24),
                (Layer::Udp, 38, 8),
            ],
        );
        let f = v6_frame(&v6(EXT_HOP_BY_HOP, V6_A, V6_B, &ext_chain()));
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv6, 14, 40),
                (Layer::Ipv6Ext, 54, 8),
                (Layer::Ipv6Ext, 62, 24),
                (Layer::Ipv6Ext, 86, 8),
                (Layer::Ipv6Ext, 94, 8),
                (Layer::Udp, 102, 8),
            ],
        );
    }
}
