//! Flow keys: which packets belong together.
//!
//! A key is the bidirectional 5-tuple plus the VLAN tags, with the two endpoints in a
//! canonical order (the smaller `(address, port)` first), so both directions of a
//! conversation hash to the same key. Who is the originator is not part of the key: the
//! table remembers it per flow (the sender of the first packet).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use trident_decode::{IpInfo, Packet, Transport};

/// ICMP echo request / reply types (RFC 792), whose identifier keys echo flows.
const ICMP_ECHO_TYPES: [u8; 2] = [8, 0];
/// ICMPv6 echo request / reply types (RFC 4443).
const ICMPV6_ECHO_TYPES: [u8; 2] = [128, 129];

/// Which side of a flow sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the originator (the sender of the flow's first packet) to the responder.
    Orig,
    /// From the responder back to the originator.
    Resp,
}

impl Direction {
    /// 0 for [`Direction::Orig`], 1 for [`Direction::Resp`]: the index of per-direction arrays.
    #[must_use]
    pub const fn index(self) -> usize {
        match self {
            Direction::Orig => 0,
            Direction::Resp => 1,
        }
    }
}

/// One endpoint of a flow: an address and a port (0 when the protocol has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// TCP/UDP port; for ICMP echo, the echo identifier; otherwise 0.
    pub port: u16,
}

/// The canonical, direction-free identity of a flow.
///
/// Stored packed (addresses as 128-bit words, ports and the rest in two integers) because a
/// key is built, hashed and compared once per packet; fields are private so every key is
/// canonical. Build one with [`FlowKey::new`] or [`FlowKey::from_packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    lo_addr: u128,
    hi_addr: u128,
    /// `lo_port << 16 | hi_port`.
    ports: u32,
    /// `protocol | ipv6 << 8 | outer_vlan << 16 | inner_vlan << 32`.
    meta: u64,
}

/// An address as one 128-bit word plus a family flag (true for IPv6).
fn addr_word(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), false),
        IpAddr::V6(a) => (u128::from(a), true),
    }
}

/// The address a word stands for.
fn word_addr(w: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(w))
    } else {
        IpAddr::V4(Ipv4Addr::from(w as u32))
    }
}

impl FlowKey {
    /// Builds the canonical key of a packet from `src` to `dst`. Returns the key and whether
    /// `src` is the key's first endpoint ([`FlowKey::lo`]). The endpoints must be of one
    /// address family (an IPv4 endpoint is read as IPv6 otherwise).
    #[must_use]
    pub fn new(src: Endpoint, dst: Endpoint, protocol: u8, vlan: [u16; 2]) -> (Self, bool) {
        let (s, v6) = addr_word(src.ip);
        let (d, d6) = addr_word(dst.ip);
        Self::from_words((s, src.port), (d, dst.port), v6 || d6, protocol, vlan)
    }

    #[inline]
    fn from_words(
        src: (u128, u16),
        dst: (u128, u16),
        v6: bool,
        protocol: u8,
        vlan: [u16; 2],
    ) -> (Self, bool) {
        let src_is_lo = src <= dst;
        let (lo, hi) = if src_is_lo { (src, dst) } else { (dst, src) };
        (
            FlowKey {
                lo_addr: lo.0,
                hi_addr: hi.0,
                ports: u32::from(lo.1) << 16 | u32::from(hi.1),
                meta: u64::from(protocol)
                    | u64::from(v6) << 8
                    | u64::from(vlan[0]) << 16
                    | u64::from(vlan[1]) << 32,
            },
            src_is_lo,
        )
    }

    /// The key of a decoded packet, from its innermost IP header and transport, or `None`
    /// for frames without IP (ARP, LLDP, STP, ...).
    ///
    /// TCP and UDP key on ports; ICMP and ICMPv6 echo on the echo identifier (in both port
    /// slots, so a request and its reply meet); other protocols on addresses alone. Later IP
    /// fragments carry no transport header: `fragment_ports` supplies the ports their first
    /// fragment had, when it was seen.
    #[must_use]
    pub fn from_packet(
        pkt: &Packet<'_>,
        fragment_ports: Option<(u16, u16)>,
    ) -> Option<(Self, bool)> {
        let ip = pkt.ip.as_ref()?;
        let (sport, dport) = match (&pkt.transport, fragment_ports) {
            (Some(t), _) => transport_ports(t).unwrap_or((0, 0)),
            (None, Some(p)) => p,
            (None, None) => (0, 0),
        };
        let vlans = pkt.vlans.as_slice();
        let vlan = [
            vlans.first().copied().unwrap_or(0),
            vlans.get(1).copied().unwrap_or(0),
        ];
        let (s, v6) = addr_word(ip.src);
        let (d, _) = addr_word(ip.dst);
        Some(Self::from_words(
            (s, sport),
            (d, dport),
            v6,
            ip.protocol,
            vlan,
        ))
    }

    fn is_v6(&self) -> bool {
        self.meta >> 8 & 1 == 1
    }

    /// The endpoint that sorts first.
    #[must_use]
    pub fn lo(&self) -> Endpoint {
        Endpoint {
            ip: word_addr(self.lo_addr, self.is_v6()),
            port: (self.ports >> 16) as u16,
        }
    }

    /// The endpoint that sorts second.
    #[must_use]
    pub fn hi(&self) -> Endpoint {
        Endpoint {
            ip: word_addr(self.hi_addr, self.is_v6()),
            port: self.ports as u16,
        }
    }

    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...).
    #[must_use]
    pub const fn protocol(&self) -> u8 {
        self.meta as u8
    }

    /// The same key with the VLAN ids cleared.
    #[must_use]
    pub const fn without_vlan(mut self) -> Self {
        self.meta &= 0xffff;
        self
    }

    /// Outer and inner VLAN id, 0 when absent.
    #[must_use]
    pub const fn vlan(&self) -> [u16; 2] {
        [(self.meta >> 16) as u16, (self.meta >> 32) as u16]
    }

    /// A fixed 64-bit mix of the key (for shard selection): the same on every platform,
    /// process and library version, and a handful of multiplies instead of a byte loop.
    pub(crate) fn stable_hash(&self) -> u64 {
        const SEED: u64 = 0x243f_6a88_85a3_08d3;
        const MUL: u64 = 0x9e37_79b9_7f4a_7c15;
        let words = [
            self.lo_addr as u64,
            (self.lo_addr >> 64) as u64,
            self.hi_addr as u64,
            (self.hi_addr >> 64) as u64,
            u64::from(self.ports),
            self.meta,
        ];
        let mut h = SEED;
        for w in words {
            h = (h ^ w).wrapping_mul(MUL);
            h ^= h >> 29;
        }
        h ^ h >> 32
    }

    /// Bytes that identify the key independently of platform and library versions, for the
    /// stable flow id: family (twice), addresses (16 bytes each), ports, protocol, VLANs.
    pub(crate) fn stable_bytes(&self) -> [u8; 44] {
        let mut out = [0u8; 44];
        let v6 = u8::from(self.is_v6());
        let [outer, inner] = self.vlan();
        let mut w = Writer {
            buf: &mut out,
            at: 0,
        };
        w.put(&[v6, v6]);
        w.put(&self.lo_addr.to_be_bytes());
        w.put(&self.hi_addr.to_be_bytes());
        w.put(&((self.ports >> 16) as u16).to_be_bytes());
        w.put(&(self.ports as u16).to_be_bytes());
        w.put(&[self.protocol(), 0]);
        w.put(&outer.to_be_bytes());
        w.put(&inner.to_be_bytes());
        out
    }
}

/// Appends into a fixed buffer; bytes past its end are dropped (never happens for the
/// fixed layout above, and dropping beats panicking).
struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        for b in bytes {
            if let Some(slot) = self.buf.get_mut(self.at) {
                *slot = *b;
            }
            self.at += 1;
        }
    }
}

/// Ports of a transport header, or the echo identifier for ICMP echo.
fn transport_ports(t: &Transport) -> Option<(u16, u16)> {
    match t {
        Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
        Transport::Udp(u) => Some((u.src_port, u.dst_port)),
        Transport::Icmp(i) if ICMP_ECHO_TYPES.contains(&i.icmp_type) => {
            i.echo.map(|(id, _)| (id, id))
        }
        Transport::Icmpv6(i) if ICMPV6_ECHO_TYPES.contains(&i.icmp_type) => {
            i.echo.map(|(id, _)| (id, id))
        }
        _ => None,
    }
}

/// The identity of an IP datagram's fragments: source, destination, protocol and IP id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragmentKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

impl FragmentKey {
    /// The fragment key of a packet that is a fragment (first or later), else `None`.
    pub(crate) fn of(ip: &IpInfo) -> Option<Self> {
        if !ip.more_fragments && ip.fragment_offset == 0 {
            return None;
        }
        Some(FragmentKey {
            src: ip.src,
            dst: ip.dst,
            protocol: ip.protocol,
            id: ip.id?,
        })
    }
}

/// Ports of the transport header of a packet, if it has one (for remembering first
/// fragments).
pub(crate) fn packet_ports(pkt: &Packet<'_>) -> Option<(u16, u16)> {
    pkt.transport.as_ref().and_then(transport_ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: [u8; 4], port: u16) -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::from(ip)),
            port,
        }
    }

    #[test]
    fn both_directions_share_a_key() {
        let a = ep([10, 0, 0, 2], 40000);
        let b = ep([10, 0, 0, 1], 80);
        let (k1, lo1) = FlowKey::new(a, b, 6, [0, 0]);
        let (k2, lo2) = FlowKey::new(b, a, 6, [0, 0]);
        assert_eq!(k1, k2);
        assert_ne!(lo1, lo2);
        assert_eq!(k1.lo(), b);
        // Another VLAN or protocol is another flow.
        assert_ne!(k1, FlowKey::new(a, b, 6, [10, 0]).0);
        assert_ne!(k1, FlowKey::new(a, b, 17, [0, 0]).0);
    }

    #[test]
    fn stable_bytes_separate_families() {
        // ::ffff:10.0.0.1 and 10.0.0.1 are different flows and must have different ids.
        let v4 = Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port: 1,
        };
        let v6 = Endpoint {
            ip: IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped()),
            port: 1,
        };
        let other = Endpoint {
            ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
            port: 2,
        };
        let k4 = FlowKey::new(v4, v4, 17, [0, 0]).0;
        let k6 = FlowKey::new(v6, other, 17, [0, 0]).0;
        assert_ne!(k4.stable_bytes(), k6.stable_bytes());
        assert_eq!(k4.stable_bytes().first(), Some(&0));
    }
}
