//! Header-only truncation, as Poseidon's ncapture does it.
//!
//! ncapture (libwdcap's privacy settings) keeps every L2/L3/L4 header and the first 4 bytes
//! of application payload, 12 for DNS (the DNS header: id, flags and the four counts). The
//! packet's original length is kept, so volumes stay right while contents are gone. The L4
//! header's end is found with trident's own decoder: [`trident_decode::Packet::payload`] is a
//! subslice of the frame, so its offset in the frame is where the payload starts.

use trident_decode::{DecodeOptions, LinkType, Transport, decode_with};

/// Application payload bytes kept after the L4 header (ncapture's default).
pub const APP_PAYLOAD_KEEP: usize = 4;
/// Payload bytes kept for DNS: its 12-byte header (ncapture's default).
pub const DNS_PAYLOAD_KEEP: usize = 12;
/// Ports whose UDP/TCP payload is DNS-shaped: DNS, mDNS, LLMNR.
pub const DNS_PORTS: [u16; 3] = [53, 5353, 5355];
/// Bytes kept of a frame without a decoded transport header (ARP, IP fragments after the
/// first, protocols trident does not decode): enough for an Ethernet header, two VLAN tags
/// and an IPv6 header, so the addresses survive while little payload can.
pub const NO_TRANSPORT_KEEP: usize = 64;

/// How many leading bytes of `frame` `--headers-only` keeps.
///
/// Never more than `frame.len()`. A frame whose transport header is itself cut short is kept
/// whole (it is all header).
#[must_use]
pub fn headers_only_len(link_type: LinkType, frame: &[u8]) -> usize {
    let pkt = decode_with(link_type, frame, DecodeOptions::headers_only());
    let Some(transport) = pkt.transport.as_ref() else {
        return frame.len().min(NO_TRANSPORT_KEEP);
    };
    let Some(offset) = offset_in(frame, pkt.payload) else {
        // No payload located (the header itself was truncated, or there is no payload):
        // what was captured is headers and link padding.
        return frame.len();
    };
    let keep = if is_dns(transport) {
        DNS_PAYLOAD_KEEP
    } else {
        APP_PAYLOAD_KEEP
    };
    offset
        .saturating_add(keep.min(pkt.payload.len()))
        .min(frame.len())
}

/// The offset of `inner` within `outer`, when `inner` is a non-empty subslice of it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    if inner.is_empty() {
        return None;
    }
    let start = outer.as_ptr() as usize;
    let at = inner.as_ptr() as usize;
    let offset = at.checked_sub(start)?;
    (offset.checked_add(inner.len())? <= outer.len()).then_some(offset)
}

/// Whether the transport carries DNS by port.
fn is_dns(transport: &Transport) -> bool {
    transport
        .ports()
        .is_some_and(|(s, d)| DNS_PORTS.contains(&s) || DNS_PORTS.contains(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH_LEN: usize = 14;
    const IPV4_LEN: usize = 20;
    const UDP_LEN: usize = 8;
    const TCP_LEN: usize = 20;
    const ICMP_LEN: usize = 8;

    fn ipv4(proto: u8, l4: &[u8]) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        let total = (IPV4_LEN + l4.len()) as u16;
        f.extend_from_slice(&[0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0]);
        f[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[10, 231, 0, 1, 10, 231, 0, 2]);
        f.extend_from_slice(l4);
        f
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = Vec::new();
        u.extend_from_slice(&sport.to_be_bytes());
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&((UDP_LEN + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        ipv4(17, &u)
    }

    #[test]
    fn udp_keeps_four_payload_bytes() {
        let f = udp(40000, 9999, &[0xAA; 100]);
        assert_eq!(
            headers_only_len(LinkType::ETHERNET, &f),
            ETH_LEN + IPV4_LEN + UDP_LEN + APP_PAYLOAD_KEEP
        );
    }

    #[test]
    fn dns_keeps_its_header() {
        let f = udp(40000, 53, &[0xBB; 60]);
        assert_eq!(
            headers_only_len(LinkType::ETHERNET, &f),
            ETH_LEN + IPV4_LEN + UDP_LEN + DNS_PAYLOAD_KEEP
        );
    }

    #[test]
    fn short_payload_is_kept_whole() {
        let f = udp(40000, 9999, &[1, 2]);
        assert_eq!(headers_only_len(LinkType::ETHERNET, &f), f.len());
    }

    #[test]
    fn tcp_keeps_header_with_options() {
        let mut t = vec![0u8; TCP_LEN + 12];
        t[0..2].copy_from_slice(&443u16.to_be_bytes());
        t[2..4].copy_from_slice(&50000u16.to_be_bytes());
        t[12] = (((TCP_LEN + 12) / 4) << 4) as u8;
        t[13] = 0x18;
        // 12 bytes of NOP options.
        for b in &mut t[TCP_LEN..] {
            *b = 1;
        }
        t.extend_from_slice(&[0xCC; 500]);
        let f = ipv4(6, &t);
        assert_eq!(
            headers_only_len(LinkType::ETHERNET, &f),
            ETH_LEN + IPV4_LEN + TCP_LEN + 12 + APP_PAYLOAD_KEEP
        );
    }

    #[test]
    fn icmp_echo_keeps_header_plus_four() {
        let mut i = vec![8, 0, 0, 0, 0, 1, 0, 1];
        i.extend_from_slice(&[0x5A; 56]);
        let f = ipv4(1, &i);
        assert_eq!(
            headers_only_len(LinkType::ETHERNET, &f),
            ETH_LEN + IPV4_LEN + ICMP_LEN + APP_PAYLOAD_KEEP
        );
    }

    #[test]
    fn no_transport_is_bounded() {
        // An unknown ether type with a long body.
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xB5]);
        f.extend_from_slice(&[0xEE; 300]);
        assert_eq!(headers_only_len(LinkType::ETHERNET, &f), NO_TRANSPORT_KEEP);
    }

    /// Never more than the frame, never a panic, on every prefix and on noise.
    #[test]
    fn bounded_on_any_input() {
        let f = udp(40000, 53, &[0xBB; 60]);
        for n in 0..=f.len() {
            let p = f.get(..n).unwrap();
            assert!(headers_only_len(LinkType::ETHERNET, p) <= n);
        }
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            let len = (x % 200) as usize;
            let mut buf = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                buf.push(x as u8);
            }
            for lt in [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL] {
                assert!(headers_only_len(lt, &buf) <= buf.len());
            }
        }
    }
}
