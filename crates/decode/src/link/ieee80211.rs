//! IEEE 802.11 data frames, bare (link type 105) or behind a radiotap header (127).
//!
//! Only data frames carry IP; management and control frames, and protected (encrypted)
//! data, end the decode with an `Unsupported` stop, which is not damage. The addresses are
//! picked the way the distribution-system bits say, so [`crate::EthernetInfo`] holds the
//! frame's real source and destination, as an Ethernet capture of the same packet would.

use crate::dispatch::{Next, Span, Walker, array};
use crate::{EthernetInfo, Layer, MacAddr, StopReason};

/// The fixed radiotap header: version, pad, length, first presence word.
const RADIOTAP_MIN: usize = 8;
/// Presence bit for the 8-byte TSFT field, the only field before Flags.
const RADIOTAP_TSFT: u32 = 1 << 0;
/// Presence bit for the Flags byte.
const RADIOTAP_FLAGS: u32 = 1 << 1;
/// Presence bit saying another presence word follows.
const RADIOTAP_EXT: u32 = 1 << 31;
/// The most presence words read; each vendor namespace adds one, real headers have < 4.
pub const MAX_RADIOTAP_PRESENCE_WORDS: usize = 8;
/// TSFT's size and alignment.
const RADIOTAP_TSFT_LEN: usize = 8;
/// Radiotap flag: the frame ends with a 4-byte FCS.
const RADIOTAP_FLAG_FCS: u8 = 0x10;
/// Radiotap flag: padding between the 802.11 header and the payload to a 4-byte boundary.
const RADIOTAP_FLAG_DATAPAD: u8 = 0x20;
/// The frame check sequence.
const FCS_LEN: usize = 4;
/// Frame control field.
const FRAME_CONTROL: usize = 2;
/// A data header with three addresses and sequence control.
const DATA_HEADER: usize = 24;
/// The fourth address of a frame inside a wireless distribution system.
const ADDR4_LEN: usize = 6;
/// QoS control field of QoS data subtypes.
const QOS_CONTROL: usize = 2;
/// HT control field, present in QoS frames with the order (+HTC) bit.
const HT_CONTROL: usize = 4;
/// An A-MSDU subframe header: destination, source, length.
const AMSDU_SUBFRAME_HEADER: usize = 14;
/// Frame type: management.
const TYPE_MANAGEMENT: u8 = 0;
/// Frame type: control.
const TYPE_CONTROL: u8 = 1;
/// Frame type: data.
const TYPE_DATA: u8 = 2;
/// Data subtype bit: QoS.
const SUBTYPE_QOS: u8 = 0x08;
/// Data subtype bit: no data (null function frames).
const SUBTYPE_NO_DATA: u8 = 0x04;
/// Flags: to the distribution system.
const FLAG_TO_DS: u8 = 0x01;
/// Flags: from the distribution system.
const FLAG_FROM_DS: u8 = 0x02;
/// Flags: protected (encrypted) frame.
const FLAG_PROTECTED: u8 = 0x40;
/// Flags: order, meaning +HTC in QoS data frames.
const FLAG_ORDER: u8 = 0x80;
/// QoS control: the payload is an A-MSDU.
const QOS_AMSDU: u8 = 0x80;

/// A radiotap header (little-endian), then an 802.11 frame.
pub(crate) fn radiotap<'a>(w: &mut Walker<'a, '_>, s: Span<'a>) -> Next<'a> {
    let Some(&[version, _, l0, l1, _, _, _, _]) = s.bytes.first_chunk::<RADIOTAP_MIN>() else {
        return s.truncated(Layer::Link, RADIOTAP_MIN);
    };
    if version != 0 {
        return s.stop(Layer::Link, StopReason::Malformed("radiotap version"));
    }
    let len = usize::from(u16::from_le_bytes([l0, l1]));
    if len < RADIOTAP_MIN {
        return s.stop(Layer::Link, StopReason::Malformed("radiotap length"));
    }
    let Some(header) = s.bytes.get(..len) else {
        return s.truncated(Layer::Link, len);
    };
    let flags = radiotap_flags(header).unwrap_or(0);
    let mut body = s.skip(len);
    if flags & RADIOTAP_FLAG_FCS != 0 {
        body = body.take(body.len().saturating_sub(FCS_LEN));
    }
    frame(w, body, flags & RADIOTAP_FLAG_DATAPAD != 0, false)
}

/// The radiotap Flags byte, when present: it follows the presence words and, if present,
/// the 8-byte-aligned TSFT field (alignment counts from the radiotap header's start).
fn radiotap_flags(header: &[u8]) -> Option<u8> {
    let first = u32::from_le_bytes(array(header, 4)?);
    let mut word = first;
    let mut offset = RADIOTAP_MIN;
    for _ in 0..MAX_RADIOTAP_PRESENCE_WORDS {
        if word & RADIOTAP_EXT == 0 {
            break;
        }
        word = u32::from_le_bytes(array(header, offset)?);
        offset += 4;
    }
    if word & RADIOTAP_EXT != 0 || first & RADIOTAP_FLAGS == 0 {
        return None;
    }
    if first & RADIOTAP_TSFT != 0 {
        offset = offset.next_multiple_of(RADIOTAP_TSFT_LEN) + RADIOTAP_TSFT_LEN;
    }
    header.get(offset).copied()
}

/// An 802.11 frame; `datapad` is radiotap's "payload padded to 4 bytes" flag, `swapped_fc`
/// says the two frame-control bytes come in the other order (CAPWAP from Cisco access
/// points).
pub(crate) fn frame<'a>(
    w: &mut Walker<'a, '_>,
    s: Span<'a>,
    datapad: bool,
    swapped_fc: bool,
) -> Next<'a> {
    let Some(&[b0, b1]) = s.bytes.first_chunk::<FRAME_CONTROL>() else {
        return s.truncated(Layer::Link, FRAME_CONTROL);
    };
    let (fc0, fc1) = if swapped_fc { (b1, b0) } else { (b0, b1) };
    if fc0 & 0x03 != 0 {
        return s.stop(Layer::Link, StopReason::Malformed("802.11 version"));
    }
    let frame_type = (fc0 >> 2) & 0x03;
    let subtype = fc0 >> 4;
    match frame_type {
        TYPE_DATA => {}
        TYPE_MANAGEMENT => {
            return s.stop(
                Layer::Link,
                StopReason::Unsupported("802.11 management frame"),
            );
        }
        TYPE_CONTROL => {
            return s.stop(Layer::Link, StopReason::Unsupported("802.11 control frame"));
        }
        _ => {
            return s.stop(
                Layer::Link,
                StopReason::Unsupported("802.11 extension frame"),
            );
        }
    }
    let to_ds = fc1 & FLAG_TO_DS != 0;
    let from_ds = fc1 & FLAG_FROM_DS != 0;
    let qos = subtype & SUBTYPE_QOS != 0;
    let mut header_len = DATA_HEADER;
    if to_ds && from_ds {
        header_len += ADDR4_LEN;
    }
    let qos_at = header_len;
    if qos {
        header_len += QOS_CONTROL;
        if fc1 & FLAG_ORDER != 0 {
            header_len += HT_CONTROL;
        }
    }
    if s.len() < header_len {
        return s.truncated(Layer::Link, header_len);
    }
    let b = s.bytes;
    let mac = |at: usize| array(b, at).map(MacAddr).unwrap_or_default();
    // Address 1 is the receiver, 2 the transmitter; which of them (or 3, 4) are the
    // frame's own destination and source depends on the DS bits (802.11-2020 table 9-30).
    let (dst, src) = match (to_ds, from_ds) {
        (false, false) => (mac(4), mac(10)),
        (false, true) => (mac(4), mac(16)),
        (true, false) => (mac(16), mac(10)),
        (true, true) => (mac(16), mac(24)),
    };
    w.set_eth(EthernetInfo {
        src,
        dst,
        ether_type: 0,
    });
    if fc1 & FLAG_PROTECTED != 0 {
        return s.stop(
            Layer::Link,
            StopReason::Unsupported("802.11 protected frame"),
        );
    }
    if subtype & SUBTYPE_NO_DATA != 0 {
        return Next::Done;
    }
    let amsdu = qos && b.get(qos_at).is_some_and(|q| q & QOS_AMSDU != 0);
    if datapad {
        header_len = header_len.next_multiple_of(4);
    }
    let body = s.skip(header_len);
    if amsdu {
        // Decode the first subframe; the others are further packets in the same frame.
        let Some(&[_, _, _, _, _, _, _, _, _, _, _, _, l0, l1]) =
            body.bytes.first_chunk::<AMSDU_SUBFRAME_HEADER>()
        else {
            return body.truncated(Layer::Link, AMSDU_SUBFRAME_HEADER);
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        return Next::Llc(body.skip(AMSDU_SUBFRAME_HEADER).take(len));
    }
    Next::Llc(body)
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "tests panic on unexpected shapes")]
mod tests {
    use super::*;
    use crate::dispatch::testkit::*;
    use crate::{DecodeOptions, LinkType, Packet, StopReason, decode_with};

    fn dec(link: LinkType, frame: &[u8]) -> Packet<'static> {
        decode_with(link, leak(frame), DecodeOptions::headers_only())
    }

    const AP: [u8; 6] = [0x44, 0x2b, 0x03, 0xaa, 0xab, 0x8d];
    const STA: [u8; 6] = [0x90, 0x72, 0x40, 0x97, 0xb6, 0xf5];
    const FAR: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];

    /// An 802.11 data header (IEEE 802.11-2020 9.3.2.1): frame control (type 2 data,
    /// `subtype`, `flags`), duration, addresses 1-3, sequence control, then address 4 when
    /// both DS bits are set, QoS control for QoS subtypes and HT control for +HTC.
    fn data_header(subtype: u8, flags: u8, addrs: [[u8; 6]; 4], qos: Option<u16>) -> Vec<u8> {
        let mut h = vec![(subtype << 4) | (TYPE_DATA << 2), flags, 0x2c, 0x00];
        for a in &addrs[..3] {
            h.extend_from_slice(a);
        }
        h.extend_from_slice(&[0x10, 0x00]);
        if flags & 0x03 == 0x03 {
            h.extend_from_slice(&addrs[3]);
        }
        if let Some(q) = qos {
            h.extend_from_slice(&q.to_le_bytes());
            if flags & FLAG_ORDER != 0 {
                h.extend_from_slice(&[0x0f, 0, 0, 0]);
            }
        }
        h
    }

    /// RFC 1042 LLC/SNAP for IPv4.
    const SNAP_IPV4: [u8; 8] = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];

    fn ip_udp() -> Vec<u8> {
        v4(17, V4_A, V4_B, &[], &udp_dg(61738, 53, b"q"))
    }

    #[test]
    fn ds_bits_pick_source_and_destination() {
        // (to_ds, from_ds) → (dst, src) per table 9-30.
        let cases = [
            (0x00, [STA, FAR, AP, [0; 6]], STA, FAR),
            (0x01, [AP, STA, FAR, [0; 6]], FAR, STA),
            (0x02, [STA, AP, FAR, [0; 6]], STA, FAR),
            (0x03, [AP, STA, FAR, [9; 6]], FAR, [9; 6]),
        ];
        for (flags, addrs, dst, src) in cases {
            let f = cat(&[&data_header(0, flags, addrs, None), &SNAP_IPV4, &ip_udp()]);
            let p = dec(LinkType::IEEE802_11, &f);
            let e = p.eth.expect("addresses");
            assert_eq!(
                (e.dst.0, e.src.0, e.ether_type),
                (dst, src, 0x0800),
                "flags {flags}"
            );
            assert_eq!(
                p.transport.and_then(|t| t.ports()),
                Some((61738, 53)),
                "flags {flags}"
            );
        }
    }

    #[test]
    fn qos_htc_and_amsdu() {
        // QoS data (subtype 8) with +HTC: 24 + 2 + 4 header bytes.
        let f = cat(&[
            &data_header(8, 0x01 | FLAG_ORDER, [AP, STA, FAR, [0; 6]], Some(0)),
            &SNAP_IPV4,
            &ip_udp(),
        ]);
        assert!(dec(LinkType::IEEE802_11, &f).ip.is_some());
        // A-MSDU (QoS control bit 7): the first subframe's DA, SA, length, then LLC.
        let body = cat(&[&SNAP_IPV4, &ip_udp()]);
        let mut sub = cat(&[&FAR, &STA]);
        sub.extend_from_slice(&(body.len() as u16).to_be_bytes());
        let f = cat(&[
            &data_header(8, 0x01, [AP, STA, FAR, [0; 6]], Some(0x0080)),
            &sub,
            &body,
            &[0, 0],
        ]);
        let p = dec(LinkType::IEEE802_11, &f);
        assert!(p.ip.is_some() && p.stop.is_none(), "{:?}", p.stop);
    }

    #[test]
    fn non_data_and_protected_frames_are_unsupported() {
        let beacon = [0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let s = dec(LinkType::IEEE802_11, &beacon).stop.expect("stop");
        assert_eq!(s.reason, StopReason::Unsupported("802.11 management frame"));
        let ack = [0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6];
        let s = dec(LinkType::IEEE802_11, &ack).stop.expect("stop");
        assert_eq!(s.reason, StopReason::Unsupported("802.11 control frame"));
        let f = cat(&[
            &data_header(8, 0x41, [AP, STA, FAR, [0; 6]], Some(0)),
            &[0; 40],
        ]);
        let p = dec(LinkType::IEEE802_11, &f);
        assert_eq!(
            p.stop.map(|s| s.reason),
            Some(StopReason::Unsupported("802.11 protected frame"))
        );
        // Addresses are still known.
        assert_eq!(p.eth.map(|e| e.src.0), Some(STA));
        // Null function (subtype 4): no payload, nothing more to decode.
        let p = dec(
            LinkType::IEEE802_11,
            &data_header(4, 0x01, [AP, STA, AP, [0; 6]], None),
        );
        assert!(p.stop.is_none() && p.ip.is_none());
    }

    /// Radiotap (radiotap.org): version 0, presence TSFT|Flags|Rate, TSFT at 8, flags at
    /// 16, rate at 17, padded to 20 bytes.
    fn radiotap_header(flags: u8) -> Vec<u8> {
        let mut h = vec![0, 0, 20, 0, 0x07, 0, 0, 0];
        h.extend_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
        h.extend_from_slice(&[flags, 0x0c, 0, 0]);
        h
    }

    #[test]
    fn radiotap_fcs_and_datapad() {
        let frame = cat(&[
            &data_header(0, 0x01, [AP, STA, FAR, [0; 6]], None),
            &SNAP_IPV4,
            &ip_udp(),
        ]);
        let with_fcs = cat(&[
            &radiotap_header(RADIOTAP_FLAG_FCS),
            &frame,
            &[0xde, 0xad, 0xbe, 0xef],
        ]);
        let p = dec(LinkType::IEEE802_11_RADIOTAP, &with_fcs);
        assert_eq!(p.payload, b"q", "FCS must not reach the payload");
        // Without the flag the same 4 bytes are payload.
        let no_flag = cat(&[&radiotap_header(0), &frame, &[0xde, 0xad, 0xbe, 0xef]]);
        assert_eq!(
            dec(LinkType::IEEE802_11_RADIOTAP, &no_flag).payload.len(),
            1
        );
        // QoS header of 26 bytes padded to 28 when DATAPAD is set.
        let qos = data_header(8, 0x01, [AP, STA, FAR, [0; 6]], Some(0));
        let padded = cat(&[
            &radiotap_header(RADIOTAP_FLAG_DATAPAD),
            &qos,
            &[0, 0],
            &SNAP_IPV4,
            &ip_udp(),
        ]);
        assert!(dec(LinkType::IEEE802_11_RADIOTAP, &padded).ip.is_some());
    }

    #[test]
    fn radiotap_flags_after_extended_presence() {
        // Presence word 1 has TSFT|Flags and bit 31; word 2 is empty. Fields start at 12,
        // TSFT aligns to 16 and ends at 24, Flags at 24; length 28.
        let mut h = vec![0, 0, 28, 0, 0x03, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0];
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&[RADIOTAP_FLAG_FCS, 0, 0, 0]);
        assert_eq!(radiotap_flags(&h), Some(RADIOTAP_FLAG_FCS));
        let frame = cat(&[
            &h,
            &data_header(0, 0x01, [AP, STA, FAR, [0; 6]], None),
            &SNAP_IPV4,
            &ip_udp(),
            &[1, 2, 3, 4],
        ]);
        assert_eq!(dec(LinkType::IEEE802_11_RADIOTAP, &frame).payload, b"q");
    }

    #[test]
    fn truncation_radiotap_wlan_llc_ip_udp() {
        let f = cat(&[
            &radiotap_header(0),
            &data_header(8, 0x01, [AP, STA, FAR, [0; 6]], Some(0)),
            &SNAP_IPV4,
            &ip_udp(),
        ]);
        // The 802.11 header first needs its frame control (2 bytes), then all 26.
        assert_truncations(
            LinkType::IEEE802_11_RADIOTAP,
            &f,
            &[
                (Layer::Link, 0, 20),
                (Layer::Link, 20, 26),
                (Layer::Llc, 46, 8),
                (Layer::Ipv4, 54, 20),
                (Layer::Udp, 74, 8),
            ],
        );
    }
}
