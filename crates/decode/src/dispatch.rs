//! The decode entry points: pick the link-layer decoder and walk down the layers.
//!
//! # How the walk is organised
//!
//! Each layer's decoder (in [`crate::link`], [`crate::ip`], [`crate::tunnel`] and
//! [`crate::transport`]) reads one header from a `Span` (the bytes from that header's first
//! byte, plus its offset in the frame), records what it found in the `Walker`, and returns
//! a `Next`: the layer that follows and where it starts, or the reason to stop. The loop in
//! `decode_with` runs those steps until one says `Next::Done` or `Next::Stop`, and
//! gives up after `MAX_LAYERS` steps, so no crafted frame (an MPLS pseudowire carrying
//! itself, say) can keep it busy. A flat loop instead of recursion keeps the stack shallow
//! and puts the nesting limits in one place.

use crate::{
    EthernetInfo, IpInfo, Layer, LinkType, MAX_TUNNEL_DEPTH, Packet, Stop, StopReason, Transport,
    TunnelInfo, TunnelKind, app,
};

/// The most layer steps (headers) decoded in one frame; a frame with more stops with
/// `Malformed("too many layers")`. Real traffic needs about ten (Ethernet, two VLAN tags,
/// IPv4, GRE, Ethernet, IPv4, UDP, VXLAN, Ethernet, IPv4, TCP), so 32 leaves room without
/// letting a self-similar frame loop for long.
pub const MAX_LAYERS: usize = 32;

/// What [`decode_with`] does beyond headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Look for application hints (DNS, DHCP, TLS, HTTP, SSDP). On by default.
    pub app_hints: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { app_hints: true }
    }
}

impl DecodeOptions {
    /// Headers only: no application hints (the fastest setting, allocation-free).
    #[must_use]
    pub const fn headers_only() -> Self {
        DecodeOptions { app_hints: false }
    }
}

/// Decodes one frame of the given link type with default options. Never fails, never panics.
#[must_use]
pub fn decode(link_type: LinkType, frame: &[u8]) -> Packet<'_> {
    decode_with(link_type, frame, DecodeOptions::default())
}

/// Decodes one frame of the given link type. Never fails, never panics.
///
/// Decoding goes as far as the bytes allow; [`Packet::stop`] says where and why it ended
/// early. Application hints are looked for only when `options.app_hints` is set, the
/// innermost transport is TCP or UDP, and there is payload to look at.
#[must_use]
pub fn decode_with(link_type: LinkType, frame: &[u8], options: DecodeOptions) -> Packet<'_> {
    // The packet is built in place and the walker borrows it, so the 400-byte result is
    // not copied between the layers and the caller.
    let mut pkt = Packet {
        link_type,
        ..Packet::default()
    };
    walk(&mut pkt, link_type, frame);
    if options.app_hints && !pkt.payload.is_empty() {
        if let Some(t @ (Transport::Tcp(_) | Transport::Udp(_))) = &pkt.transport {
            pkt.app = app::hint(t, pkt.payload).map(Box::new);
        }
    }
    pkt
}

/// Runs the layer steps over `frame`, filling `pkt`.
fn walk<'a>(pkt: &mut Packet<'a>, link_type: LinkType, frame: &'a [u8]) {
    let mut w = Walker {
        pkt,
        slot: Slot::Outer,
        depth: 0,
    };
    let mut next = crate::link::start(&mut w, link_type, Span::new(frame, 0));
    let mut steps = 0usize;
    loop {
        if steps >= MAX_LAYERS {
            let (layer, offset) = next.position().unwrap_or((Layer::Link, 0));
            w.pkt.stop = Some(Stop {
                layer,
                offset,
                reason: StopReason::Malformed("too many layers"),
            });
            break;
        }
        steps += 1;
        next = match next {
            Next::Done => break,
            Next::Stop(stop) => {
                w.pkt.stop = Some(stop);
                break;
            }
            Next::Ethernet(s) => crate::link::ethernet(&mut w, s),
            Next::EtherType {
                ether_type,
                body,
                from,
            } => crate::link::ether_type(&mut w, ether_type, body, from),
            Next::Llc(s) => crate::link::llc(s),
            Next::Ppp { body, from } => crate::link::ppp::protocol(&mut w, body, from),
            Next::Ipv4(s) => crate::ip::ipv4(&mut w, s),
            Next::Ipv6(s) => crate::ip::ipv6(&mut w, s),
            Next::IpPayload {
                protocol,
                body,
                from,
            } => ip_payload(&mut w, protocol, body, from),
        };
    }
}

/// Hands an IP payload to its protocol's decoder: a transport, or a tunnel.
fn ip_payload<'a>(w: &mut Walker<'a, '_>, protocol: u8, body: Span<'a>, from: Origin) -> Next<'a> {
    use crate::transport;
    match protocol {
        transport::PROTO_TCP => transport::tcp(w, body),
        transport::PROTO_UDP => transport::udp(w, body, false),
        transport::PROTO_UDPLITE => transport::udp(w, body, true),
        transport::PROTO_ICMP => transport::icmp(w, body),
        transport::PROTO_ICMPV6 => transport::icmpv6(w, body),
        crate::tunnel::PROTO_GRE => crate::tunnel::gre(w, body, None),
        crate::tunnel::PROTO_IPIP => {
            match w.enter_tunnel(TunnelKind::IpInIp, None, None, body.at) {
                Ok(()) => Next::Ipv4(body),
                Err(stop) => stop,
            }
        }
        crate::tunnel::PROTO_IPV6 => {
            let kind = match w.pkt.ip {
                Some(ip) if ip.version() == 4 => TunnelKind::SixInFour,
                _ => TunnelKind::IpInIp,
            };
            match w.enter_tunnel(kind, None, None, body.at) {
                Ok(()) => Next::Ipv6(body),
                Err(stop) => stop,
            }
        }
        crate::ip::PROTO_NO_NEXT_HEADER => Next::Done,
        p => from.stop(StopReason::UnsupportedProtocol(p)),
    }
}

/// A header's bytes and where they start in the frame.
///
/// `bytes` runs from the header's first byte to the end of what its enclosing layer allows
/// (the frame's end, or an IP/UDP length bound); `at` is that first byte's offset in the
/// frame, which is what [`Stop::offset`] reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span<'a> {
    /// The bytes from the header's start.
    pub bytes: &'a [u8],
    /// Offset of `bytes[0]` in the frame.
    pub at: usize,
}

impl<'a> Span<'a> {
    /// A span of `bytes` starting at frame offset `at`.
    pub(crate) const fn new(bytes: &'a [u8], at: usize) -> Self {
        Span { bytes, at }
    }

    /// The bytes after the first `n` (empty when `n` is past the end).
    pub(crate) fn skip(self, n: usize) -> Span<'a> {
        Span {
            bytes: self.bytes.get(n..).unwrap_or(&[]),
            at: self.at.saturating_add(n),
        }
    }

    /// At most the first `n` bytes: used to apply a length field as an upper bound.
    pub(crate) fn take(self, n: usize) -> Span<'a> {
        Span {
            bytes: self.bytes.get(..n).unwrap_or(self.bytes),
            at: self.at,
        }
    }

    /// Number of bytes available.
    pub(crate) const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The stop "this header needs `needed` bytes" at this span's start.
    pub(crate) fn truncated(&self, layer: Layer, needed: usize) -> Next<'a> {
        Next::Stop(Stop {
            layer,
            offset: self.at,
            reason: truncated(needed, self.len()),
        })
    }

    /// A stop at this span's start.
    pub(crate) const fn stop(&self, layer: Layer, reason: StopReason) -> Next<'a> {
        Next::Stop(Stop {
            layer,
            offset: self.at,
            reason,
        })
    }
}

/// `StopReason::Truncated` from byte counts, saturating at `u32::MAX`.
pub(crate) fn truncated(needed: usize, available: usize) -> StopReason {
    StopReason::Truncated {
        needed: u32::try_from(needed).unwrap_or(u32::MAX),
        available: u32::try_from(available).unwrap_or(u32::MAX),
    }
}

/// The header that named the next layer (by ether type, PPP protocol or IP protocol): an
/// unsupported value is reported at that header, since that is where the unknown number is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    /// Layer of the naming header.
    pub layer: Layer,
    /// Its offset in the frame.
    pub at: usize,
}

impl Origin {
    /// Stop at this header for `reason`.
    pub(crate) const fn stop<'a>(self, reason: StopReason) -> Next<'a> {
        Next::Stop(Stop {
            layer: self.layer,
            offset: self.at,
            reason,
        })
    }
}

/// The next decoding step.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Next<'a> {
    /// Every layer present was decoded.
    Done,
    /// Decoding ends here.
    Stop(Stop),
    /// An Ethernet II / 802.3 header (an inner one in L2 tunnels and pseudowires).
    Ethernet(Span<'a>),
    /// A payload identified by an ether type.
    EtherType {
        /// The ether type.
        ether_type: u16,
        /// The payload.
        body: Span<'a>,
        /// The header carrying the ether type.
        from: Origin,
    },
    /// An IEEE 802.2 LLC header.
    Llc(Span<'a>),
    /// A PPP protocol field and what follows it.
    Ppp {
        /// From the protocol field on.
        body: Span<'a>,
        /// The header that said "PPP" (link or PPPoE).
        from: Origin,
    },
    /// An IPv4 header.
    Ipv4(Span<'a>),
    /// An IPv6 header.
    Ipv6(Span<'a>),
    /// The payload of the innermost IP header.
    IpPayload {
        /// IP protocol / IPv6 next header.
        protocol: u8,
        /// The payload, bounded by the IP length.
        body: Span<'a>,
        /// The IP header.
        from: Origin,
    },
}

impl Next<'_> {
    /// The layer and offset this step would decode, for the "too many layers" stop.
    fn position(&self) -> Option<(Layer, usize)> {
        match self {
            Next::Done | Next::Stop(_) => None,
            Next::Ethernet(s) => Some((Layer::Link, s.at)),
            Next::EtherType { from, .. } | Next::Ppp { from, .. } => Some((from.layer, from.at)),
            Next::Llc(s) => Some((Layer::Llc, s.at)),
            Next::Ipv4(s) => Some((Layer::Ipv4, s.at)),
            Next::Ipv6(s) => Some((Layer::Ipv6, s.at)),
            Next::IpPayload { from, .. } => Some((from.layer, from.at)),
        }
    }
}

/// Which Ethernet-like header the link-level facts being decoded belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The capture's own link layer: fills [`Packet::eth`], VLAN ids and MPLS labels.
    Outer,
    /// The first L2 header inside a tunnel: fills [`TunnelInfo::inner_eth`].
    Inner,
    /// Deeper L2 headers (nested L2 tunnels, pseudowires): decoded, not kept.
    Discard,
}

/// The packet being built plus the walk's context.
#[derive(Debug)]
pub(crate) struct Walker<'a, 'p> {
    /// The result so far.
    pub pkt: &'p mut Packet<'a>,
    /// Where Ethernet addresses, VLAN ids and MPLS labels go.
    pub slot: Slot,
    /// Tunnels unwrapped so far.
    pub depth: u8,
}

impl<'a> Walker<'a, '_> {
    /// Records an Ethernet-like header in the current slot. An inner header when one is
    /// already kept moves the slot to [`Slot::Discard`].
    pub(crate) fn set_eth(&mut self, eth: EthernetInfo) {
        match self.slot {
            Slot::Outer => {
                if self.pkt.eth.is_none() {
                    self.pkt.eth = Some(eth);
                }
            }
            Slot::Inner => match &mut self.pkt.tunnel {
                Some(t) if t.inner_eth.is_none() => t.inner_eth = Some(eth),
                _ => self.slot = Slot::Discard,
            },
            Slot::Discard => {}
        }
    }

    /// Updates the ether type of the current slot's Ethernet-like header (after VLAN tags
    /// and LLC/SNAP the payload's type is known).
    pub(crate) fn set_ether_type(&mut self, ether_type: u16) {
        let eth = match self.slot {
            Slot::Outer => self.pkt.eth.as_mut(),
            Slot::Inner => self.pkt.tunnel.as_mut().and_then(|t| t.inner_eth.as_mut()),
            Slot::Discard => None,
        };
        if let Some(eth) = eth {
            eth.ether_type = ether_type;
        }
    }

    /// Keeps a VLAN id when it belongs to the outer link layer.
    pub(crate) fn push_vlan(&mut self, id: u16) {
        if self.slot == Slot::Outer {
            self.pkt.vlans.push(id);
        }
    }

    /// Keeps an MPLS label when it belongs to the outer link layer.
    pub(crate) fn push_mpls(&mut self, label: u32) {
        if self.slot == Slot::Outer {
            self.pkt.mpls.push(label);
        }
    }

    /// Records an IP header: it becomes [`Packet::ip`] (the innermost so far).
    pub(crate) fn set_ip(&mut self, ip: IpInfo) {
        self.pkt.ip = Some(ip);
    }

    /// Unwraps one tunnel whose inner header starts at frame offset `at`.
    ///
    /// The first tunnel becomes [`Packet::tunnel`] with the current IP header as its outer
    /// header; deeper ones only raise its depth. The carrier's IP and transport are cleared
    /// so that [`Packet::ip`] and [`Packet::transport`] end up describing the inner packet
    /// (or nothing, when the inner packet is not IP). Refuses, with the stop to return, when
    /// that would nest deeper than [`MAX_TUNNEL_DEPTH`].
    pub(crate) fn enter_tunnel(
        &mut self,
        kind: TunnelKind,
        outer_ports: Option<(u16, u16)>,
        id: Option<u32>,
        at: usize,
    ) -> Result<(), Next<'a>> {
        if usize::from(self.depth) >= MAX_TUNNEL_DEPTH {
            return Err(Next::Stop(Stop {
                layer: Layer::Tunnel,
                offset: at,
                reason: StopReason::TooDeep,
            }));
        }
        self.depth += 1;
        match (&mut self.pkt.tunnel, self.pkt.ip) {
            (Some(t), ip) => {
                t.depth = self.depth;
                if t.first_ipv4.is_none() && !t.outer.src.is_ipv4() {
                    t.first_ipv4 = ip.filter(|ip| ip.src.is_ipv4());
                }
            }
            (None, Some(outer)) => {
                self.pkt.tunnel = Some(TunnelInfo {
                    kind,
                    outer,
                    outer_ports,
                    id,
                    depth: self.depth,
                    inner_eth: None,
                    first_ipv4: None,
                });
            }
            // Tunnels are only entered from an IP payload, so there is always an outer IP
            // header; without one there is nothing to describe the carrier with.
            (None, None) => {}
        }
        self.pkt.ip = None;
        self.pkt.transport = None;
        self.pkt.payload = &[];
        // L2 headers inside the tunnel are the inner ones.
        self.slot = match self.pkt.tunnel {
            Some(TunnelInfo {
                inner_eth: None, ..
            }) => Slot::Inner,
            _ => Slot::Discard,
        };
        Ok(())
    }
}

/// `N` bytes of `b` from `at`, or `None` when `b` is shorter. Decoders check a header's
/// length once and then read fields with this, so no read can go out of bounds.
#[inline]
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..)?.first_chunk::<N>().copied()
}

/// A big-endian `u16` at `at`.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

/// A big-endian `u32` at `at`.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

/// Frame builders and the truncation check shared by the decoders' unit tests.
///
/// Every builder lays its header out as the RFC or IEEE standard named in its doc comment
/// says; checksums are left zero (trident does not verify them).
#[cfg(test)]
pub(crate) mod testkit {
    use crate::{Layer, LinkType, StopReason, decode_with};

    use super::DecodeOptions;

    /// Ethernet II (IEEE 802.3 clause 3): destination, source, ether type.
    pub(crate) fn ether(dst: [u8; 6], src: [u8; 6], ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&dst);
        f.extend_from_slice(&src);
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// An 802.1Q tag (TCI with PCP 0) and the next ether type.
    pub(crate) fn tag(id: u16, ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// IPv4 (RFC 791) with IHL 5 + `options`, TTL 64, id 0x1234, DF, the right total length.
    pub(crate) fn v4(
        protocol: u8,
        src: [u8; 4],
        dst: [u8; 4],
        options: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        assert!(options.len() % 4 == 0 && options.len() <= 40);
        let ihl = 5 + options.len() / 4;
        let total = ihl * 4 + payload.len();
        let mut f = vec![0x40 | ihl as u8, 0xb8];
        f.extend_from_slice(&(total as u16).to_be_bytes());
        f.extend_from_slice(&[0x12, 0x34, 0x40, 0x00, 64, protocol, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(options);
        f.extend_from_slice(payload);
        f
    }

    /// IPv6 (RFC 8200): traffic class 0, flow label 0x12345, hop limit 64.
    pub(crate) fn v6(next: u8, src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x60, 0x01, 0x23, 0x45];
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        f.extend_from_slice(&[next, 64]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(payload);
        f
    }

    /// TCP (RFC 9293): data offset from `options` (padded by the caller to 4 bytes), window
    /// 65535, urgent 0.
    pub(crate) fn tcp_seg(
        sport: u16,
        dport: u16,
        seq: u32,
        flags: u16,
        options: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        assert!(options.len() % 4 == 0 && options.len() <= 40);
        let doff = (5 + options.len() / 4) as u8;
        let mut f = Vec::new();
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&0x0102_0304u32.to_be_bytes());
        f.push((doff << 4) | (flags >> 8) as u8);
        f.push(flags as u8);
        f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(options);
        f.extend_from_slice(payload);
        f
    }

    /// UDP (RFC 768) with the right length.
    pub(crate) fn udp_dg(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f
    }

    /// A copy of `frame` that lives for the rest of the test run, so a test can keep the
    /// decoded packet without juggling lifetimes.
    pub(crate) fn leak(frame: &[u8]) -> &'static [u8] {
        Box::leak(frame.to_vec().into_boxed_slice())
    }

    /// Decodes an Ethernet frame, headers only, as the per-layer tests do.
    pub(crate) fn dec(frame: &[u8]) -> crate::Packet<'static> {
        decode_with(
            LinkType::ETHERNET,
            leak(frame),
            DecodeOptions::headers_only(),
        )
    }

    /// Concatenates parts.
    pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    /// Source and destination MACs used throughout.
    pub(crate) const MAC_A: [u8; 6] = [0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x5c];
    /// Second MAC.
    pub(crate) const MAC_B: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01];
    /// IPv4 address 192.0.2.1 (TEST-NET-1).
    pub(crate) const V4_A: [u8; 4] = [192, 0, 2, 1];
    /// IPv4 address 198.51.100.7 (TEST-NET-2).
    pub(crate) const V4_B: [u8; 4] = [198, 51, 100, 7];
    /// IPv6 2001:db8::1.
    pub(crate) const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    /// IPv6 2001:db8::2.
    pub(crate) const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    /// Asserts `p` was decoded to its end and reached an IP header of `version`.
    #[track_caller]
    pub(crate) fn assert_reached_ip(p: &crate::Packet<'_>, version: u8) {
        assert!(
            p.ip.is_some_and(|i| i.version() == version) && p.stop.is_none(),
            "{:?}",
            p.stop
        );
    }

    /// Asserts decoding of `p` stopped because its frame ended inside a header.
    #[track_caller]
    pub(crate) fn assert_truncated(p: &crate::Packet<'_>) {
        assert!(
            matches!(p.stop.map(|s| s.reason), Some(StopReason::Truncated { .. })),
            "{:?}",
            p.stop
        );
    }

    /// Decodes every prefix of `frame` and checks the stop of each prefix that ends inside
    /// one of `headers` — `(layer, offset, length)`, in wire order — is `Truncated` at that
    /// layer and offset, with `available` the bytes present from the header's start and
    /// `needed` more than that but no more than the header's length. Prefixes ending on a
    /// header boundary must not stop as truncated at all. Returns how many prefixes were
    /// checked against a header.
    pub(crate) fn assert_truncations(
        link: LinkType,
        frame: &[u8],
        headers: &[(Layer, usize, usize)],
    ) -> usize {
        let mut checked = 0;
        for n in 0..frame.len() {
            let p = decode_with(link, &frame[..n], DecodeOptions::headers_only());
            let inside = headers.iter().find(|(_, at, len)| *at <= n && n < at + len);
            match (inside, p.stop) {
                (Some(&(layer, at, len)), Some(stop)) => {
                    checked += 1;
                    assert_eq!(
                        (stop.layer, stop.offset),
                        (layer, at),
                        "prefix {n}: {stop:?}"
                    );
                    let StopReason::Truncated { needed, available } = stop.reason else {
                        panic!("prefix {n}: expected truncated, got {stop:?}");
                    };
                    assert_eq!(available as usize, n - at, "prefix {n}: {stop:?}");
                    assert!(
                        needed > available && needed as usize <= len,
                        "prefix {n}: {stop:?}"
                    );
                }
                (Some(h), None) => panic!("prefix {n} cuts {h:?} but decoding did not stop"),
                (None, Some(stop)) => assert!(
                    !matches!(stop.reason, StopReason::Truncated { .. }),
                    "prefix {n} ends on a header boundary but stopped: {stop:?}"
                ),
                (None, None) => {}
            }
        }
        checked
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::testkit::*;
    use super::*;
    use crate::link::{
        ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_PPPOE_SESSION, ETHERTYPE_QINQ,
        ETHERTYPE_VLAN,
    };

    /// Every link type with a decoder, plus one without.
    const LINK_TYPES: [u16; 17] = [
        0, 1, 9, 12, 14, 51, 101, 104, 105, 108, 113, 127, 228, 229, 239, 276, 147,
    ];

    /// Valid frames of many shapes, for mutation: each reaches deep into some decoder.
    fn seeds() -> Vec<(LinkType, Vec<u8>)> {
        let tcp = tcp_seg(
            40000,
            443,
            1,
            0x002,
            &[
                2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
            ],
            b"\x16\x03\x01",
        );
        let ip4 = v4(6, V4_A, V4_B, &[1, 1, 1, 0], &tcp);
        let ip6 = v6(
            0,
            V6_A,
            V6_B,
            &cat(&[&[44, 0, 1, 4, 0, 0, 0, 0], &[6, 0, 0, 1, 0, 0, 0, 9], &tcp]),
        );
        let inner_eth = ether(MAC_A, MAC_B, ETHERTYPE_VLAN, &tag(3, ETHERTYPE_IPV4, &ip4));
        let vxlan = v4(
            17,
            V4_A,
            V4_B,
            &[],
            &udp_dg(1, 4789, &cat(&[&[8, 0, 0, 0, 0, 0, 1, 0], &inner_eth])),
        );
        let gre = v4(
            47,
            V4_A,
            V4_B,
            &[],
            &cat(&[
                &[0x30, 0, 0x88, 0xbe, 0, 0, 0, 1, 0, 0, 0, 2],
                &[0x10, 0, 0, 5, 0, 0, 0, 0],
                &inner_eth,
            ]),
        );
        let geneve = v4(
            17,
            V4_A,
            V4_B,
            &[],
            &udp_dg(
                1,
                6081,
                &cat(&[&[1, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3, 4], &inner_eth]),
            ),
        );
        let teredo = v4(
            17,
            V4_A,
            V4_B,
            &[],
            &udp_dg(
                3544,
                1,
                &cat(&[
                    &[0, 0, 1, 2, 3, 4, 5, 6],
                    &v6(58, V6_A, V6_B, &[133, 0, 0, 0, 0, 0, 0, 0]),
                ]),
            ),
        );
        let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
        ns.extend_from_slice(&V6_B);
        ns.extend_from_slice(&[1, 1, 1, 2, 3, 4, 5, 6]);
        let icmp_err = v4(
            1,
            V4_A,
            V4_B,
            &[],
            &cat(&[&[3, 3, 0, 0, 0, 0, 0, 0], &ip4[..32]]),
        );
        let mpls = cat(&[&[0, 1, 0x11, 64], &[0, 0, 0, 0], &inner_eth]);
        let pppoe = cat(&[&[0x11, 0, 0, 1, 0, 0x80], &[0, 0x21], &ip4]);
        let radiotap = cat(&[
            &[
                0, 0, 20, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0,
            ],
            &[0x88, 0x81, 0, 0],
            &[1; 18],
            &[0, 0, 0, 0, 0, 0, 0, 0],
            &[0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x00],
            &ip4,
            &[0xfc, 0x5f, 0xc5, 0xcf],
        ]);
        vec![
            (
                LinkType::ETHERNET,
                ether(
                    MAC_B,
                    MAC_A,
                    ETHERTYPE_QINQ,
                    &tag(1, ETHERTYPE_VLAN, &tag(2, ETHERTYPE_IPV4, &ip4)),
                ),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV6, &ip6),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &vxlan),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &gre),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &geneve),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &teredo),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV6, &v6(58, V6_A, V6_B, &ns)),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_IPV4, &icmp_err),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_MPLS, &mpls),
            ),
            (
                LinkType::ETHERNET,
                ether(MAC_B, MAC_A, ETHERTYPE_PPPOE_SESSION, &pppoe),
            ),
            (
                LinkType::ETHERNET,
                ether(
                    MAC_B,
                    MAC_A,
                    60,
                    &cat(&[
                        &[0xaa, 0xaa, 3, 0, 0, 0, 8, 6],
                        &[0, 1, 8, 0, 6, 4, 0, 1],
                        &[0; 20],
                    ]),
                ),
            ),
            (LinkType::IEEE802_11_RADIOTAP, radiotap),
            (LinkType::PPP, cat(&[&[0xff, 3, 0, 0x21], &ip4])),
            (
                LinkType::LINUX_SLL2,
                cat(&[
                    &[
                        0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
                    ],
                    &ip6,
                ]),
            ),
            (LinkType::NULL, cat(&[&2u32.to_le_bytes(), &ip4])),
        ]
    }

    /// What must hold for any input: the stop points into the frame, the payload is part
    /// of the frame, the nesting limits hold.
    fn check_invariants(frame: &[u8], p: &Packet<'_>) -> Result<(), TestCaseError> {
        if let Some(stop) = p.stop {
            prop_assert!(stop.offset <= frame.len(), "stop past the end: {stop:?}");
        }
        let start = frame.as_ptr() as usize;
        let at = p.payload.as_ptr() as usize;
        prop_assert!(
            p.payload.is_empty() || (at >= start && at + p.payload.len() <= start + frame.len())
        );
        prop_assert!(
            p.tunnel
                .is_none_or(|t| usize::from(t.depth) <= MAX_TUNNEL_DEPTH)
        );
        prop_assert!(p.vlans.as_slice().len() <= crate::MAX_VLANS);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(lt in prop::sample::select(&LINK_TYPES[..]), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let p = decode_with(LinkType(lt), &bytes, DecodeOptions::headers_only());
            check_invariants(&bytes, &p)?;
        }

        #[test]
        fn mutated_frames_never_panic(
            which in any::<prop::sample::Index>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
            hints in any::<bool>(),
        ) {
            let seeds = seeds();
            let (lt, mut frame) = seeds[which.index(seeds.len())].clone();
            for (pos, value) in edits {
                let i = pos.index(frame.len());
                frame[i] = value;
            }
            frame.truncate(cut.index(frame.len() + 1).max(frame.len() / 2));
            let options = if hints { DecodeOptions::default() } else { DecodeOptions::headers_only() };
            let p = decode_with(lt, &frame, options);
            check_invariants(&frame, &p)?;
        }
    }

    #[test]
    fn seeds_decode_cleanly() {
        // The mutation seeds are themselves valid: each decodes to the end without a stop
        // (except the ARP-over-SNAP one, which has no IP).
        for (lt, frame) in seeds() {
            let p = decode_with(lt, &frame, DecodeOptions::headers_only());
            assert!(p.stop.is_none(), "{lt}: {:?} {:02x?}", p.stop, frame);
            assert!(p.ip.is_some() || p.arp.is_some(), "{lt}: nothing decoded");
        }
    }

    #[test]
    fn too_many_layers_names_a_position() {
        // VLAN tags beyond the layer budget: each tag is a step.
        let mut body = v4(17, V4_A, V4_B, &[], &udp_dg(1, 2, &[]));
        let mut et = ETHERTYPE_IPV4;
        for _ in 0..MAX_LAYERS {
            body = tag(1, et, &body);
            et = ETHERTYPE_VLAN;
        }
        let f = ether(MAC_B, MAC_A, et, &body);
        let p = decode_with(LinkType::ETHERNET, &f, DecodeOptions::headers_only());
        let stop = p.stop.map(|s| (s.layer, s.reason));
        assert_eq!(
            stop,
            Some((Layer::Vlan, StopReason::Malformed("too many layers")))
        );
    }
}
