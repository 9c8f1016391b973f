//! Transport headers: TCP with its options, UDP and UDP-Lite, ICMP and ICMPv6 (echo, the
//! original header quoted in errors, neighbour discovery).
//!
//! A header cut short still yields what it has when that includes the ports (the first
//! four bytes): a flow can be placed by its ports even when the snap length cut its
//! sequence numbers. Such a partial header comes with a `Truncated` stop, so nobody takes
//! its zeroed fields for real ones.

use std::net::{IpAddr, Ipv6Addr};

use crate::dispatch::{Next, Span, Walker, array, be16, be32};
use crate::{IcmpInfo, Layer, MacAddr, QuotedPacket, StopReason, TcpInfo, Transport, UdpInfo};

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;
/// IP protocol number of UDP-Lite (RFC 3828), which shares UDP's layout.
pub const PROTO_UDPLITE: u8 = 136;

/// Source and destination port: the part of a TCP/UDP header worth keeping when cut.
const PORTS_LEN: usize = 4;
/// TCP header without options.
const TCP_MIN_HEADER: usize = 20;
/// Smallest valid TCP data offset (in 4-byte words).
const TCP_MIN_DATA_OFFSET: u8 = 5;
/// The most option bytes a TCP header can have (data offset 15 → 60 bytes − 20).
const TCP_MAX_OPTION_BYTES: usize = 40;
/// UDP header.
pub(crate) const UDP_HEADER: usize = 8;
/// ICMP and ICMPv6 header: type, code, checksum, four type-specific bytes.
const ICMP_HEADER: usize = 8;
/// Type and code: the part of an ICMP header worth keeping when cut.
const ICMP_TYPE_CODE: usize = 2;
/// The part of the original datagram's payload RFC 792 guarantees in an ICMP error.
const QUOTED_PAYLOAD: usize = 8;
/// The most ND options walked; an option is at least 8 bytes, so a 1500-byte message has
/// under 190, and real ones have one to four.
pub const MAX_ND_OPTIONS: usize = 64;
/// ND options are counted in units of 8 bytes.
const ND_OPTION_UNIT: usize = 8;
/// ND option: source link-layer address.
const ND_OPT_SOURCE_LLADDR: u8 = 1;
/// ND option: target link-layer address.
const ND_OPT_TARGET_LLADDR: u8 = 2;

/// TCP option kinds with a fixed meaning.
mod opt {
    /// End of option list.
    pub const EOL: u8 = 0;
    /// No-operation (padding).
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale.
    pub const WS: u8 = 3;
    /// SACK permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// Selective acknowledgement blocks.
    pub const SACK: u8 = 5;
    /// Timestamps.
    pub const TIMESTAMPS: u8 = 8;
}

/// A TCP header. Options are walked over whatever of them was captured.
pub(crate) fn tcp<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let b = s.bytes;
    let (Some(src_port), Some(dst_port)) = (be16(b, 0), be16(b, 2)) else {
        return s.truncated(Layer::Tcp, TCP_MIN_HEADER);
    };
    let mut info = TcpInfo {
        src_port,
        dst_port,
        ..TcpInfo::default()
    };
    let Some(hdr) = b.first_chunk::<TCP_MIN_HEADER>() else {
        // Keep every field the cut header still holds; the Truncated stop's `available`
        // says which (writers leave out the fields past it).
        if let Some(seq) = be32(b, 4) {
            info.seq = seq;
        }
        if let Some(ack) = be32(b, 8) {
            info.ack = ack;
        }
        if let (Some(&offset_ns), Some(&flags)) = (b.get(12), b.get(13)) {
            info.flags = (u16::from(offset_ns & 0x01) << 8) | u16::from(flags);
            info.header_len = (offset_ns >> 4) * 4;
        }
        if let Some(window) = be16(b, 14) {
            info.window = window;
        }
        w.pkt.transport = Some(Transport::Tcp(info));
        return s.truncated(Layer::Tcp, TCP_MIN_HEADER);
    };
    let [
        _,
        _,
        _,
        _,
        q0,
        q1,
        q2,
        q3,
        a0,
        a1,
        a2,
        a3,
        offset_ns,
        flags,
        w0,
        w1,
        _,
        _,
        u0,
        u1,
    ] = *hdr;
    let data_offset = offset_ns >> 4;
    let header_len = usize::from(data_offset) * 4;
    info.seq = u32::from_be_bytes([q0, q1, q2, q3]);
    info.ack = u32::from_be_bytes([a0, a1, a2, a3]);
    info.flags = (u16::from(offset_ns & 0x01) << 8) | u16::from(flags);
    info.window = u16::from_be_bytes([w0, w1]);
    info.header_len = data_offset * 4;
    info.urgent = u16::from_be_bytes([u0, u1]);
    if data_offset < TCP_MIN_DATA_OFFSET {
        w.pkt.transport = Some(Transport::Tcp(info));
        return s.stop(Layer::Tcp, StopReason::Malformed("TCP data offset < 5"));
    }
    let options = b
        .get(TCP_MIN_HEADER..header_len.min(b.len()))
        .unwrap_or(&[]);
    walk_tcp_options(options, &mut info);
    if b.len() < header_len {
        info.options_truncated = true;
        w.pkt.transport = Some(Transport::Tcp(info));
        return s.truncated(Layer::Tcp, header_len);
    }
    w.pkt.transport = Some(Transport::Tcp(info));
    w.pkt.payload = b.get(header_len..).unwrap_or(&[]);
    Next::Done
}

/// Walks TCP options in wire order, recording every kind (p0f's layout needs the exact
/// order, NOPs included) and the values of the options trident reports.
///
/// A kind is recorded before its length is checked, as p0f does. An option whose length
/// is impossible or runs past the area sets `options_truncated` and ends the walk; so
/// does EOL, after which the rest is padding.
fn walk_tcp_options(options: &[u8], info: &mut TcpInfo) {
    let mut rest = options;
    for _ in 0..TCP_MAX_OPTION_BYTES {
        let Some((&kind, after)) = rest.split_first() else {
            return;
        };
        info.options.push(kind);
        match kind {
            opt::EOL => return,
            opt::NOP => {
                rest = after;
                continue;
            }
            _ => {}
        }
        let Some(len) = after.first().map(|&l| usize::from(l)) else {
            info.options_truncated = true;
            return;
        };
        let Some(value) = rest.get(2..len) else {
            // Shorter than its own kind and length bytes, or longer than the area.
            info.options_truncated = true;
            return;
        };
        match (kind, value) {
            (opt::MSS, &[m0, m1]) => info.mss = Some(u16::from_be_bytes([m0, m1])),
            (opt::WS, &[shift]) => info.window_scale = Some(shift),
            (opt::SACK_PERMITTED, &[]) => info.sack_permitted = true,
            (opt::SACK, blocks) if !blocks.is_empty() && blocks.len() % 8 == 0 => {}
            (opt::TIMESTAMPS, &[t0, t1, t2, t3, e0, e1, e2, e3]) => {
                info.timestamps = Some((
                    u32::from_be_bytes([t0, t1, t2, t3]),
                    u32::from_be_bytes([e0, e1, e2, e3]),
                ));
            }
            (opt::MSS | opt::WS | opt::SACK_PERMITTED | opt::SACK | opt::TIMESTAMPS, _) => {
                // A known option with the wrong length: the rest cannot be trusted.
                info.options_truncated = true;
                return;
            }
            _ => {}
        }
        rest = rest.get(len..).unwrap_or(&[]);
    }
}

/// A UDP or UDP-Lite header, then the UDP-based tunnels.
///
/// UDP's length field bounds the payload (trailing bytes are padding); UDP-Lite's is a
/// checksum coverage, so its payload runs to the IP length.
pub(crate) fn udp<'a>(w: &mut Walker<'a, '_>, s: Span<'a>, lite: bool) -> Next<'a> {
    let b = s.bytes;
    let (Some(src_port), Some(dst_port)) = (be16(b, 0), be16(b, 2)) else {
        return s.truncated(Layer::Udp, UDP_HEADER);
    };
    let Some(length) = be16(b, 4).filter(|_| b.len() >= UDP_HEADER) else {
        w.pkt.transport = Some(Transport::Udp(UdpInfo {
            src_port,
            dst_port,
            length: 0,
        }));
        return s.truncated(Layer::Udp, UDP_HEADER);
    };
    let info = UdpInfo {
        src_port,
        dst_port,
        length,
    };
    w.pkt.transport = Some(Transport::Udp(info));
    let mut body = s.skip(UDP_HEADER);
    if !lite {
        match usize::from(length) {
            // Zero is what jumbograms and segmentation offload leave: no bound.
            0 => {}
            n if n < UDP_HEADER => {
                w.pkt.payload = body.bytes;
                return s.stop(Layer::Udp, StopReason::Malformed("UDP length < 8"));
            }
            n => body = body.take(n - UDP_HEADER),
        }
    }
    w.pkt.payload = body.bytes;
    if lite {
        return Next::Done;
    }
    crate::tunnel::udp(w, info, body)
}

/// An ICMP (v4) message.
pub(crate) fn icmp<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    icmp_common(w, s, false)
}

/// An ICMPv6 message.
pub(crate) fn icmpv6<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    icmp_common(w, s, true)
}

/// ICMP and ICMPv6 share the 8-byte header; the types differ.
fn icmp_common<'a>(w: &mut Walker<'a, '_>, s: Span<'a>, v6: bool) -> Next<'a> {
    let layer = if v6 { Layer::Icmpv6 } else { Layer::Icmp };
    let wrap = if v6 {
        Transport::Icmpv6
    } else {
        Transport::Icmp
    };
    let b = s.bytes;
    let Some(&[icmp_type, code]) = b.first_chunk::<ICMP_TYPE_CODE>() else {
        return s.truncated(layer, ICMP_HEADER);
    };
    let mut info = IcmpInfo {
        icmp_type,
        code,
        echo: None,
        quoted: None,
        nd_target: None,
        nd_lladdr: None,
    };
    let Some(&[_, _, _, _, i0, i1, q0, q1]) = b.first_chunk::<ICMP_HEADER>() else {
        w.pkt.transport = Some(wrap(info));
        return s.truncated(layer, ICMP_HEADER);
    };
    let body = b.get(ICMP_HEADER..).unwrap_or(&[]);
    w.pkt.payload = body;
    let echo = Some((u16::from_be_bytes([i0, i1]), u16::from_be_bytes([q0, q1])));
    let mut next = Next::Done;
    if v6 {
        match icmp_type {
            icmpv6::ECHO_REQUEST | icmpv6::ECHO_REPLY => info.echo = echo,
            icmpv6::DEST_UNREACHABLE..=icmpv6::PARAMETER_PROBLEM => info.quoted = quote_v6(body),
            icmpv6::ROUTER_SOLICITATION..=icmpv6::REDIRECT => {
                next = neighbour_discovery(s, &mut info);
            }
            _ => {}
        }
    } else {
        match icmp_type {
            icmpv4::ECHO_REPLY | icmpv4::ECHO_REQUEST => info.echo = echo,
            icmpv4::DEST_UNREACHABLE
            | icmpv4::SOURCE_QUENCH
            | icmpv4::REDIRECT
            | icmpv4::TIME_EXCEEDED
            | icmpv4::PARAMETER_PROBLEM => info.quoted = quote_v4(body),
            _ => {}
        }
    }
    w.pkt.transport = Some(wrap(info));
    next
}

/// ICMP (v4) types trident reads.
mod icmpv4 {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: u8 = 3;
    /// Source quench (deprecated, still seen).
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 12;
}

/// ICMPv6 types trident reads.
mod icmpv6 {
    /// Destination unreachable (first error type).
    pub const DEST_UNREACHABLE: u8 = 1;
    /// Parameter problem (last error type quoting a packet).
    pub const PARAMETER_PROBLEM: u8 = 4;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Router solicitation (first neighbour discovery type).
    pub const ROUTER_SOLICITATION: u8 = 133;
    /// Router advertisement.
    pub const ROUTER_ADVERTISEMENT: u8 = 134;
    /// Neighbour solicitation.
    pub const NEIGHBOR_SOLICITATION: u8 = 135;
    /// Neighbour advertisement.
    pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
    /// Redirect (last neighbour discovery type).
    pub const REDIRECT: u8 = 137;
}

/// The quoted IPv4 header and first payload bytes of an ICMP error.
fn quote_v4(b: &[u8]) -> Option<QuotedPacket> {
    let (ip, header_len) = crate::ip::ipv4_header(b).ok()?;
    let upper = if ip.is_later_fragment() {
        &[][..]
    } else {
        b.get(header_len..).unwrap_or(&[])
    };
    Some(quoted(ip.src, ip.dst, ip.protocol, upper))
}

/// The quoted IPv6 header (and extension headers) and first payload bytes of an ICMPv6
/// error.
fn quote_v6(b: &[u8]) -> Option<QuotedPacket> {
    let ip = crate::ip::ipv6_header(b).ok()?;
    let chain = crate::ip::ipv6_extensions(b, ip.protocol);
    let later_fragment = chain.fragment.is_some_and(|(_, offset, _)| offset != 0);
    let upper = if chain.stop.is_some() || later_fragment {
        &[][..]
    } else {
        b.get(chain.header_len..).unwrap_or(&[])
    };
    Some(quoted(ip.src, ip.dst, chain.protocol, upper))
}

/// A quote's ports (TCP, UDP, UDP-Lite) and TCP sequence and acknowledgement numbers, as
/// far as `upper` (the quoted transport header) reaches.
fn quoted(src: IpAddr, dst: IpAddr, protocol: u8, upper: &[u8]) -> QuotedPacket {
    let tcp_ack = if protocol == PROTO_TCP {
        be32(upper, QUOTED_PAYLOAD)
    } else {
        None
    };
    let upper = upper.get(..QUOTED_PAYLOAD).unwrap_or(upper);
    let has_ports = matches!(protocol, PROTO_TCP | PROTO_UDP | PROTO_UDPLITE);
    let ports = match (be16(upper, 0), be16(upper, 2)) {
        (Some(sp), Some(dp)) if has_ports && upper.len() >= PORTS_LEN => Some((sp, dp)),
        _ => None,
    };
    QuotedPacket {
        src,
        dst,
        protocol,
        ports,
        tcp_seq: if protocol == PROTO_TCP {
            be32(upper, 4)
        } else {
            None
        },
        tcp_ack,
    }
}

/// Neighbour discovery (RFC 4861): the target address and the first link-layer address
/// option. `s` starts at the ICMPv6 header.
fn neighbour_discovery<'a>(s: Span<'a>, info: &mut IcmpInfo) -> Next<'a> {
    // Where the fixed part ends and options begin, per message type.
    let (options_at, has_target) = match info.icmp_type {
        icmpv6::ROUTER_SOLICITATION => (8, false),
        icmpv6::ROUTER_ADVERTISEMENT => (16, false),
        icmpv6::NEIGHBOR_SOLICITATION | icmpv6::NEIGHBOR_ADVERTISEMENT => (24, true),
        _ => (40, true),
    };
    let b = s.bytes;
    if b.len() < options_at {
        return s.truncated(Layer::Icmpv6, options_at);
    }
    if has_target {
        info.nd_target = array::<16>(b, ICMP_HEADER).map(Ipv6Addr::from);
    }
    let mut rest = b.get(options_at..).unwrap_or(&[]);
    for _ in 0..MAX_ND_OPTIONS {
        let Some(&[kind, units]) = rest.first_chunk::<2>() else {
            break;
        };
        let len = usize::from(units) * ND_OPTION_UNIT;
        if len == 0 {
            return s.stop(Layer::Icmpv6, StopReason::Malformed("ND option length 0"));
        }
        if matches!(kind, ND_OPT_SOURCE_LLADDR | ND_OPT_TARGET_LLADDR)
            && len == ND_OPTION_UNIT
            && info.nd_lladdr.is_none()
        {
            info.nd_lladdr = array(rest, 2).map(MacAddr);
        }
        // A cut option ends the walk: options are message body, not a header.
        let Some(after) = rest.get(len..) else {
            break;
        };
        rest = after;
    }
    Next::Done
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests panic on unexpected shapes")]
mod tests {
    use super::*;
    use crate::dispatch::testkit::*;
    use crate::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
    use crate::{LinkType, Packet, tcp_flags};

    fn over_v4(protocol: u8, l4: &[u8]) -> Vec<u8> {
        ether(
            MAC_B,
            MAC_A,
            ETHERTYPE_IPV4,
            &v4(protocol, V4_A, V4_B, &[], l4),
        )
    }

    fn over_v6(protocol: u8, l4: &[u8]) -> Vec<u8> {
        ether(MAC_B, MAC_A, ETHERTYPE_IPV6, &v6(protocol, V6_A, V6_B, l4))
    }

    fn tcp_info(p: &Packet<'_>) -> TcpInfo {
        match p.transport {
            Some(Transport::Tcp(t)) => t,
            other => panic!("expected TCP, got {other:?} (stop {:?})", p.stop),
        }
    }

    fn icmp_info(p: &Packet<'_>) -> IcmpInfo {
        match p.transport {
            Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => i,
            other => panic!("expected ICMP, got {other:?} (stop {:?})", p.stop),
        }
    }

    /// A Linux SYN's options (RFC 9293, 7323, 2018): MSS 1460, SACK permitted,
    /// timestamps (1, 0), NOP, window scale 7 — p0f writes `mss,sok,ts,nop,ws`.
    const LINUX_SYN_OPTIONS: [u8; 20] = [
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];

    #[test]
    fn tcp_header_and_options_in_wire_order() {
        let f = over_v4(
            6,
            &tcp_seg(
                40000,
                443,
                0xdead_beef,
                tcp_flags::SYN,
                &LINUX_SYN_OPTIONS,
                &[],
            ),
        );
        let p = dec(&f);
        let t = tcp_info(&p);
        assert_eq!(
            (t.src_port, t.dst_port, t.seq, t.ack),
            (40000, 443, 0xdead_beef, 0x0102_0304)
        );
        assert_eq!(
            (t.flags, t.window, t.header_len, t.urgent),
            (tcp_flags::SYN, 65535, 40, 0)
        );
        assert_eq!(
            (t.mss, t.window_scale, t.sack_permitted, t.timestamps),
            (Some(1460), Some(7), true, Some((1, 0)))
        );
        assert_eq!(t.options.as_slice(), &[2, 4, 8, 1, 3]);
        assert_eq!(t.options_layout(), "mss,sok,ts,nop,ws");
        assert!(!t.options_truncated && p.stop.is_none() && p.payload.is_empty());
    }

    #[test]
    fn tcp_flags_include_ns() {
        let flags = tcp_flags::NS | tcp_flags::CWR | tcp_flags::ECE | tcp_flags::SYN;
        let t = tcp_info(&dec(&over_v4(6, &tcp_seg(1, 2, 3, flags, &[], b"data"))));
        assert_eq!(t.flags, flags);
        assert_eq!(t.flags_string(), "SECN");
    }

    #[test]
    fn tcp_option_walk_edge_cases() {
        // EOL ends the walk: the bytes after it are padding, even if they look like options.
        let t = tcp_info(&dec(&over_v4(
            6,
            &tcp_seg(1, 2, 3, 2, &[1, 1, 0, 2, 4, 5, 0xb4, 0], &[]),
        )));
        assert_eq!(
            (t.options.as_slice(), t.mss, t.options_truncated),
            (&[1u8, 1, 0][..], None, false)
        );
        // Unknown kind 30 (MPTCP) skipped by its length, SACK with one block.
        let opts = [30, 4, 0, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1];
        let t = tcp_info(&dec(&over_v4(6, &tcp_seg(1, 2, 3, 0x10, &opts, &[]))));
        assert_eq!(
            (t.options.as_slice(), t.options_truncated),
            (&[30u8, 5, 1, 1][..], false)
        );
        assert_eq!(t.options_layout(), "?30,sack,nop,nop");
        // MSS with length 3: the kind is kept, the walk stops, the header stays.
        let t = tcp_info(&dec(&over_v4(6, &tcp_seg(1, 2, 3, 2, &[2, 3, 5, 1], &[]))));
        assert_eq!(
            (t.options.as_slice(), t.mss, t.options_truncated),
            (&[2u8][..], None, true)
        );
        // Length running past the option area.
        let t = tcp_info(&dec(&over_v4(6, &tcp_seg(1, 2, 3, 2, &[1, 8, 10, 0], &[]))));
        assert_eq!(
            (t.options.as_slice(), t.options_truncated),
            (&[1u8, 8][..], true)
        );
        // Length 0 or 1 can never be right.
        let t = tcp_info(&dec(&over_v4(6, &tcp_seg(1, 2, 3, 2, &[99, 1, 0, 0], &[]))));
        assert!(t.options_truncated);
    }

    #[test]
    fn tcp_bad_data_offset_keeps_ports() {
        let mut seg = tcp_seg(80, 1234, 1, 0x10, &[], &[]);
        seg[12] = 0x40; // data offset 4
        let p = dec(&over_v4(6, &seg));
        assert_eq!(p.transport.and_then(|t| t.ports()), Some((80, 1234)));
        assert_eq!(
            p.stop.map(|s| (s.layer, s.offset, s.reason)),
            Some((Layer::Tcp, 34, StopReason::Malformed("TCP data offset < 5")))
        );
    }

    #[test]
    fn udp_length_and_udplite() {
        let mut dg = udp_dg(5353, 5353, b"mdns-and-more");
        dg[4..6].copy_from_slice(&12u16.to_be_bytes()); // covers 4 payload bytes
        let p = dec(&over_v4(17, &dg));
        assert_eq!(p.payload, b"mdns");
        let u = match p.transport {
            Some(Transport::Udp(u)) => u,
            other => panic!("{other:?}"),
        };
        assert_eq!((u.src_port, u.dst_port, u.length), (5353, 5353, 12));
        // UDP-Lite: the field is checksum coverage (here 8: header only), not a length.
        let p = dec(&over_v4(
            PROTO_UDPLITE,
            &dg.iter()
                .enumerate()
                .map(|(i, b)| if i == 5 { 8 } else { *b })
                .collect::<Vec<_>>(),
        ));
        assert_eq!(p.payload, b"mdns-and-more");
        // Length 5 is impossible.
        dg[4..6].copy_from_slice(&5u16.to_be_bytes());
        let s = dec(&over_v4(17, &dg)).stop.expect("stop");
        assert_eq!(
            (s.layer, s.reason),
            (Layer::Udp, StopReason::Malformed("UDP length < 8"))
        );
    }

    #[test]
    fn icmp_echo_and_quoted_tcp() {
        // Echo request (RFC 792): id 0x0d3d, seq 1, 4 data bytes.
        let echo = [8, 0, 0, 0, 0x0d, 0x3d, 0, 1, 1, 2, 3, 4];
        let p = dec(&over_v4(1, &echo));
        let i = icmp_info(&p);
        assert_eq!((i.icmp_type, i.code, i.echo), (8, 0, Some((0x0d3d, 1))));
        assert_eq!(p.payload, &[1, 2, 3, 4]);
        // Port unreachable quoting the original IPv4 header and 8 bytes of TCP.
        let original = v4(
            6,
            V4_B,
            V4_A,
            &[],
            &tcp_seg(51000, 25, 0x0badf00d, 2, &[], &[]),
        );
        let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&original[..28]);
        let i = icmp_info(&dec(&over_v4(1, &err)));
        let q = i.quoted.expect("quote");
        assert_eq!(
            (q.src.to_string().as_str(), q.dst.to_string().as_str()),
            ("198.51.100.7", "192.0.2.1")
        );
        assert_eq!(
            (q.protocol, q.ports, q.tcp_seq, q.tcp_ack),
            (6, Some((51000, 25)), Some(0x0bad_f00d), None)
        );
        assert_eq!(i.echo, None);
        // A router quoting the whole TCP header: the acknowledgement number too.
        let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&original[..40]);
        let q = icmp_info(&dec(&over_v4(1, &err))).quoted.expect("quote");
        assert_eq!(
            (q.tcp_seq, q.tcp_ack),
            (Some(0x0bad_f00d), Some(0x0102_0304))
        );
        // Time exceeded quoting only 4 bytes past the header: ports, no sequence number.
        let original = v4(17, V4_A, V4_B, &[], &udp_dg(33434, 33435, &[]));
        let mut err = vec![11, 0, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&original[..24]);
        let q = icmp_info(&dec(&over_v4(1, &err))).quoted.expect("quote");
        assert_eq!((q.ports, q.tcp_seq), (Some((33434, 33435)), None));
    }

    #[test]
    fn icmpv6_echo_errors_and_neighbour_discovery() {
        let p = dec(&over_v6(58, &[128, 0, 0, 0, 0, 7, 0, 9]));
        assert_eq!(icmp_info(&p).echo, Some((7, 9)));
        assert!(matches!(p.transport, Some(Transport::Icmpv6(_))));
        // Packet too big (type 2) quoting IPv6 + hop-by-hop + UDP.
        let mut inner = vec![17, 0, 1, 4, 0, 0, 0, 0];
        inner.extend_from_slice(&udp_dg(500, 4500, &[]));
        let original = v6(0, V6_B, V6_A, &inner);
        let mut err = vec![2, 0, 0, 0, 0, 0, 5, 0xdc];
        err.extend_from_slice(&original);
        let q = icmp_info(&dec(&over_v6(58, &err))).quoted.expect("quote");
        assert_eq!((q.protocol, q.ports), (17, Some((500, 4500))));
        assert_eq!(q.src.to_string(), "2001:db8::2");
        // Neighbour solicitation (RFC 4861 4.3) for 2001:db8::2 with a source link-layer
        // address option.
        let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
        ns.extend_from_slice(&V6_B);
        ns.extend_from_slice(&[1, 1]);
        ns.extend_from_slice(&MAC_A);
        let i = icmp_info(&dec(&over_v6(58, &ns)));
        assert_eq!(i.nd_target.map(|t| t.octets()), Some(V6_B));
        assert_eq!(i.nd_lladdr.map(|m| m.0), Some(MAC_A));
        // Neighbour advertisement with a target link-layer address after an unknown
        // option (nonce, type 14, 8 bytes).
        let mut na = vec![136, 0, 0, 0, 0x60, 0, 0, 0];
        na.extend_from_slice(&V6_B);
        na.extend_from_slice(&[14, 1, 0, 0, 0, 0, 0, 0, 2, 1]);
        na.extend_from_slice(&MAC_B);
        let i = icmp_info(&dec(&over_v6(58, &na)));
        assert_eq!(i.nd_lladdr.map(|m| m.0), Some(MAC_B));
        // Router advertisement (16-byte fixed part), source LLA, no target.
        let mut ra = vec![134, 0, 0, 0, 64, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
        ra.extend_from_slice(&MAC_A);
        let i = icmp_info(&dec(&over_v6(58, &ra)));
        assert_eq!((i.nd_target, i.nd_lladdr.map(|m| m.0)), (None, Some(MAC_A)));
        // An option of length 0 would loop forever in a naive walker.
        let mut bad = vec![133, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        bad.extend_from_slice(&MAC_A);
        let s = dec(&over_v6(58, &bad)).stop.expect("stop");
        assert_eq!(
            (s.layer, s.reason),
            (Layer::Icmpv6, StopReason::Malformed("ND option length 0"))
        );
    }

    #[test]
    fn truncation_tcp_udp_icmp() {
        let f = over_v4(6, &tcp_seg(1, 2, 3, 2, &LINUX_SYN_OPTIONS, b"p"));
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 20),
                (Layer::Tcp, 34, 40),
            ],
        );
        // Cut options still give the header, flagged.
        let p = dec(&f[..34 + 30]);
        let t = tcp_info(&p);
        assert!(t.options_truncated && t.mss == Some(1460));
        let f = over_v6(17, &udp_dg(1, 2, b"p"));
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv6, 14, 40),
                (Layer::Udp, 54, 8),
            ],
        );
        let f = over_v4(1, &[8, 0, 0, 0, 0, 1, 0, 1, 0xaa]);
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv4, 14, 20),
                (Layer::Icmp, 34, 8),
            ],
        );
        let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
        ns.extend_from_slice(&V6_B);
        let f = over_v6(58, &ns);
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Ipv6, 14, 40),
                (Layer::Icmpv6, 54, 24),
            ],
        );
    }
}
