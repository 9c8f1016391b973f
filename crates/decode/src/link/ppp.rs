//! PPP (link type 9, with or without HDLC address/control, and Cisco HDLC which shares the
//! link type in practice), PPPoE sessions (ether type 0x8864 and link type 51) and the PPP
//! protocol field.

use crate::dispatch::{Next, Origin, Span, Walker};
use crate::{Layer, StopReason};

/// PPP protocol: IPv4.
pub const PPP_IPV4: u16 = 0x0021;
/// PPP protocol: IPv6.
pub const PPP_IPV6: u16 = 0x0057;
/// PPP protocol: MPLS unicast.
pub const PPP_MPLS: u16 = 0x0281;
/// PPP protocol: MPLS multicast.
pub const PPP_MPLS_MULTICAST: u16 = 0x0283;
/// PPP protocols from here up are control protocols (LCP, IPCP, PAP, CHAP, ...).
const PPP_CONTROL_FIRST: u16 = 0x8000;
/// RFC 1662 HDLC-like framing: all-stations address and unnumbered-information control.
const HDLC_ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];
/// Cisco HDLC: address (unicast 0x0f or broadcast 0x8f), control 0, then an ether type.
const CHDLC_HEADER: usize = 4;
/// Cisco HDLC unicast address.
const CHDLC_UNICAST: u8 = 0x0f;
/// Cisco HDLC broadcast address.
const CHDLC_BROADCAST: u8 = 0x8f;
/// The PPPoE header: version/type, code, session id, length.
const PPPOE_HEADER: usize = 6;
/// Version 1, type 1: the only PPPoE there is.
const PPPOE_VERSION_TYPE: u8 = 0x11;
/// The PPPoE code of session data.
const PPPOE_CODE_SESSION: u8 = 0x00;
/// A PPP protocol field is two bytes unless compressed to one (RFC 1661 PFC).
const PPP_PROTOCOL: usize = 2;

/// A frame of link type PPP: HDLC-framed or bare PPP, or Cisco HDLC.
pub(crate) fn link(s: Span<'_>) -> Next<'_> {
    let from = Origin {
        layer: Layer::Link,
        at: s.at,
    };
    match s.bytes.first_chunk::<2>() {
        Some(&HDLC_ADDRESS_CONTROL) => Next::Ppp {
            body: s.skip(HDLC_ADDRESS_CONTROL.len()),
            from,
        },
        Some(&[CHDLC_UNICAST | CHDLC_BROADCAST, 0]) => chdlc(s),
        _ => Next::Ppp { body: s, from },
    }
}

/// A PPP frame inside a tunnel (PPTP's GRE): HDLC address and control, when present, then
/// the protocol.
pub(crate) fn in_tunnel(s: Span<'_>, from: Origin) -> Next<'_> {
    let body = if s.bytes.starts_with(&HDLC_ADDRESS_CONTROL) {
        s.skip(HDLC_ADDRESS_CONTROL.len())
    } else {
        s
    };
    Next::Ppp { body, from }
}

/// A frame of link type Cisco HDLC (104): address, control, ether type.
pub(crate) fn chdlc(s: Span<'_>) -> Next<'_> {
    let Some(&[_, _, t0, t1]) = s.bytes.first_chunk::<CHDLC_HEADER>() else {
        return s.truncated(Layer::Link, CHDLC_HEADER);
    };
    Next::EtherType {
        ether_type: u16::from_be_bytes([t0, t1]),
        body: s.skip(CHDLC_HEADER),
        from: Origin {
            layer: Layer::Link,
            at: s.at,
        },
    }
}

/// A PPPoE header. `bare` is link type 51, where discovery frames may appear too; behind
/// ether type 0x8864 only session frames may.
pub(crate) fn pppoe(s: Span<'_>, bare: bool) -> Next<'_> {
    let Some(&[version_type, code, _, _, l0, l1]) = s.bytes.first_chunk::<PPPOE_HEADER>() else {
        return s.truncated(Layer::Pppoe, PPPOE_HEADER);
    };
    if version_type != PPPOE_VERSION_TYPE {
        return s.stop(Layer::Pppoe, StopReason::Malformed("PPPoE version/type"));
    }
    if code != PPPOE_CODE_SESSION {
        return s.stop(
            Layer::Pppoe,
            if bare {
                StopReason::Unsupported("PPPoE discovery")
            } else {
                StopReason::Malformed("PPPoE session code")
            },
        );
    }
    let length = usize::from(u16::from_be_bytes([l0, l1]));
    Next::Ppp {
        body: s.skip(PPPOE_HEADER).take(length),
        from: Origin {
            layer: Layer::Pppoe,
            at: s.at,
        },
    }
}

/// The PPP protocol field (`body` starts at it) and the payload it names.
///
/// A cut protocol field is reported at the header that carried it (`from`), counting the
/// bytes from there, so the offset names a header start like every other stop.
pub(crate) fn protocol<'a>(w: &mut Walker<'a, '_>, body: Span<'a>, from: Origin) -> Next<'a> {
    let lead = body.at.saturating_sub(from.at);
    let (protocol, len) = match (body.bytes.first(), body.bytes.first_chunk::<PPP_PROTOCOL>()) {
        // An odd first byte is a compressed one-byte protocol.
        (Some(&b), _) if b & 1 == 1 => (u16::from(b), 1),
        (_, Some(&p)) => (u16::from_be_bytes(p), PPP_PROTOCOL),
        _ => {
            return Next::Stop(crate::Stop {
                layer: from.layer,
                offset: from.at,
                reason: crate::dispatch::truncated(lead + PPP_PROTOCOL, lead + body.len()),
            });
        }
    };
    let rest = body.skip(len);
    match protocol {
        PPP_IPV4 => Next::Ipv4(rest),
        PPP_IPV6 => Next::Ipv6(rest),
        PPP_MPLS | PPP_MPLS_MULTICAST => super::mpls(w, rest),
        p if p >= PPP_CONTROL_FIRST => from.stop(StopReason::Unsupported("PPP control protocol")),
        _ => from.stop(StopReason::Unsupported("PPP protocol")),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests panic on unexpected shapes")]
mod tests {
    use super::*;
    use crate::dispatch::testkit::*;
    use crate::link::{ETHERTYPE_PPPOE_DISCOVERY, ETHERTYPE_PPPOE_SESSION, ETHERTYPE_QINQ};
    use crate::{DecodeOptions, LinkType, Packet, decode_with};

    fn dec(link: LinkType, frame: &[u8]) -> Packet<'static> {
        decode_with(link, leak(frame), DecodeOptions::headers_only())
    }

    fn ip_udp() -> Vec<u8> {
        v4(17, V4_A, V4_B, &[], &udp_dg(514, 514, b"log"))
    }

    /// A PPPoE session header (RFC 2516 section 4): ver/type 0x11, code 0, session 0x1234,
    /// length of the PPP protocol field and payload.
    fn pppoe_session(ppp: &[u8]) -> Vec<u8> {
        let mut h = vec![0x11, 0x00, 0x12, 0x34];
        h.extend_from_slice(&(ppp.len() as u16).to_be_bytes());
        h.extend_from_slice(ppp);
        h
    }

    #[test]
    fn ppp_framings() {
        let ip = ip_udp();
        // RFC 1662 HDLC-like framing, bare protocol field, compressed one-byte protocol.
        for prefix in [&[0xff, 0x03, 0x00, 0x21][..], &[0x00, 0x21], &[0x21]] {
            let p = dec(LinkType::PPP, &cat(&[prefix, &ip]));
            assert_eq!(
                p.transport.and_then(|t| t.ports()),
                Some((514, 514)),
                "{prefix:?}"
            );
        }
        let v6 = v6(17, V6_A, V6_B, &udp_dg(1, 2, &[]));
        assert!(
            dec(LinkType::PPP, &cat(&[&[0xff, 0x03, 0x00, 0x57], &v6]))
                .ip
                .is_some()
        );
        // Cisco HDLC on the PPP link type and on its own.
        let p = dec(LinkType::PPP, &cat(&[&[0x0f, 0x00, 0x08, 0x00], &ip]));
        assert!(p.ip.is_some());
        assert!(
            dec(
                crate::link::LINKTYPE_C_HDLC,
                &cat(&[&[0x8f, 0x00, 0x08, 0x00], &ip])
            )
            .ip
            .is_some()
        );
        // LCP is a control protocol: named, not damage.
        let s = dec(LinkType::PPP, &[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4])
            .stop
            .expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason),
            (
                Layer::Link,
                0,
                StopReason::Unsupported("PPP control protocol")
            )
        );
    }

    #[test]
    fn pppoe_session_in_qinq_with_padding() {
        let session = pppoe_session(&cat(&[&[0x00, 0x21], &ip_udp()]));
        // Ethernet pads short frames; the PPPoE length must cut the padding off.
        let padded = cat(&[&session, &[0; 12]]);
        let f = ether(
            MAC_B,
            MAC_A,
            ETHERTYPE_QINQ,
            &tag(10, 0x8100, &tag(20, ETHERTYPE_PPPOE_SESSION, &padded)),
        );
        let p = dec(LinkType::ETHERNET, &f);
        assert_eq!(p.vlans.as_slice(), &[10, 20]);
        assert_eq!(p.eth.map(|e| e.ether_type), Some(ETHERTYPE_PPPOE_SESSION));
        assert_eq!(p.payload, b"log");
        // LINKTYPE_PPP_ETHER: the same PPPoE header without Ethernet.
        assert_eq!(dec(LinkType::PPP_ETHER, &session).payload, b"log");
    }

    #[test]
    fn pppoe_discovery_and_bad_headers() {
        // PADI (code 0x09).
        let padi = [0x11, 0x09, 0, 0, 0, 0];
        let s = dec(
            LinkType::ETHERNET,
            &ether([0xff; 6], MAC_A, ETHERTYPE_PPPOE_DISCOVERY, &padi),
        )
        .stop
        .expect("stop");
        assert_eq!(
            (s.layer, s.offset, s.reason.is_damage()),
            (Layer::Pppoe, 14, false)
        );
        let s = dec(LinkType::PPP_ETHER, &padi).stop.expect("stop");
        assert_eq!(s.reason, StopReason::Unsupported("PPPoE discovery"));
        let s = dec(
            LinkType::ETHERNET,
            &ether(MAC_B, MAC_A, ETHERTYPE_PPPOE_SESSION, &padi),
        )
        .stop
        .expect("stop");
        assert_eq!(s.reason, StopReason::Malformed("PPPoE session code"));
        let s = dec(LinkType::PPP_ETHER, &[0x22, 0, 0, 0, 0, 0])
            .stop
            .expect("stop");
        assert_eq!(s.reason, StopReason::Malformed("PPPoE version/type"));
    }

    #[test]
    fn truncation_pppoe_and_ppp() {
        let f = ether(
            MAC_B,
            MAC_A,
            ETHERTYPE_PPPOE_SESSION,
            &pppoe_session(&cat(&[&[0x00, 0x21], &ip_udp()])),
        );
        // The PPP protocol field counts as part of the PPPoE header.
        assert_truncations(
            LinkType::ETHERNET,
            &f,
            &[
                (Layer::Link, 0, 14),
                (Layer::Pppoe, 14, 8),
                (Layer::Ipv4, 22, 20),
                (Layer::Udp, 42, 8),
            ],
        );
        let f = cat(&[&[0xff, 0x03, 0x00, 0x21], &ip_udp()]);
        // One byte [0xff] is odd: a compressed protocol 0xff, not truncation.
        let p = dec(LinkType::PPP, &f[..1]);
        assert!(p.stop.is_some_and(|s| !s.reason.is_damage()));
        assert_truncations(
            LinkType::PPP,
            &f[2..],
            &[
                (Layer::Link, 0, 2),
                (Layer::Ipv4, 2, 20),
                (Layer::Udp, 22, 8),
            ],
        );
    }
}
