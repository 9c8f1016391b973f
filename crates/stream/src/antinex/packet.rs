//! An Ethernet frame as AntiNex's capture agents describe it: a dict of layers
//! (`ether`, `arp`, `ip`, `ipv6`, `tcp`, `udp`, `icmp`, `dns`, `raw`, `padding`), each a
//! dict of kamene's field names.
//!
//! The frame is read here from its bytes (not from trident's decoder) because AntiNex's
//! fields include what trident's records leave out on purpose (checksums, option order),
//! and its defects are defined on those raw fields.

use serde_json::{Map, Value, json};

use super::Compat;

/// Ethernet header length.
const ETH_LEN: usize = 14;
/// ARP body for Ethernet/IPv4.
const ARP_LEN: usize = 28;
/// Fixed IPv6 header.
const IPV6_LEN: usize = 40;
/// UDP header.
const UDP_LEN: usize = 8;
/// Fixed ICMP header.
const ICMP_LEN: usize = 8;
/// DNS header.
const DNS_LEN: usize = 12;
/// UDP ports kamene hands to a protocol layer AntiNex's processor drops (DHCP, NTP, SNMP,
/// ISAKMP, RIP, L2TP, HSRP, RADIUS, LLMNR, ...): such datagrams carry no `raw` layer.
const UDP_DISSECTED: [u16; 13] = [
    67, 68, 123, 161, 162, 500, 520, 1701, 1812, 1813, 1985, 4500, 5355,
];
/// UDP ports whose payload kamene decodes as DNS.
const DNS_PORTS: [u16; 2] = [53, 5353];

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ipv4(b: &[u8]) -> String {
    match b {
        [a, b, c, d] => format!("{a}.{b}.{c}.{d}"),
        _ => String::new(),
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// kamene's stale-key defect: the last non-zero of the values, or the first when all are
/// zero (the first is the ordinary field the special ones overwrite).
fn last_nonzero(values: &[u64]) -> u64 {
    let first = values.first().copied().unwrap_or(0);
    values
        .iter()
        .rev()
        .copied()
        .find(|&v| v != 0)
        .unwrap_or(first)
}

/// A payload layer: `load` when the bytes are UTF-8 text, `hex_field_load` otherwise; both
/// hold hex (AntiNex re-encodes text loads as the hex of their bytes).
fn load_layer(bytes: &[u8]) -> Value {
    let key = if std::str::from_utf8(bytes).is_ok() {
        "load"
    } else {
        "hex_field_load"
    };
    json!({ key: hex(bytes) })
}

/// The layer dict of an Ethernet frame, or `None` when it is too short to hold an
/// Ethernet header (AntiNex forwards only frames with an Ethernet layer).
#[must_use]
pub fn frame_data(frame: &[u8], compat: Compat) -> Option<Map<String, Value>> {
    let bugs = compat.bugs();
    let dst = frame.get(..6)?;
    let src = frame.get(6..12)?;
    let mut ether_type = u16_at(frame, 12)?;
    let mut data = Map::new();
    data.insert(
        "ether".into(),
        json!({"dst": mac(dst), "src": mac(src), "type": ether_type}),
    );
    let mut at = ETH_LEN;
    // 802.1Q tags are a layer of their own (dot1q), which AntiNex drops.
    while matches!(ether_type, 0x8100 | 0x88a8) {
        ether_type = u16_at(frame, at + 2)?;
        at += 4;
    }
    let rest = frame.get(at..).unwrap_or_default();
    let padding = match ether_type {
        0x0806 => arp(rest, &mut data),
        0x0800 => ipv4_layer(rest, bugs, &mut data),
        0x86dd => ipv6_layer(rest, bugs, &mut data),
        _ => {
            if !rest.is_empty() {
                data.insert("raw".into(), load_layer(rest));
            }
            None
        }
    };
    if let Some(p) = padding.filter(|p| !p.is_empty()) {
        data.insert("padding".into(), load_layer(p));
    }
    Some(data)
}

fn arp<'a>(b: &'a [u8], data: &mut Map<String, Value>) -> Option<&'a [u8]> {
    let body = b.get(..ARP_LEN)?;
    data.insert(
        "arp".into(),
        json!({
            "hwtype": u16_at(body, 0)?,
            "ptype": u16_at(body, 2)?,
            "hwlen": body.get(4)?,
            "plen": body.get(5)?,
            "op": u16_at(body, 6)?,
            "hwsrc": mac(body.get(8..14)?),
            "psrc": ipv4(body.get(14..18)?),
            "hwdst": mac(body.get(18..24)?),
            "pdst": ipv4(body.get(24..28)?),
        }),
    );
    b.get(ARP_LEN..)
}

/// The IPv4 layer and what it carries; returns the bytes after the IP packet (padding).
fn ipv4_layer<'a>(b: &'a [u8], bugs: bool, data: &mut Map<String, Value>) -> Option<&'a [u8]> {
    let vihl = *b.first()?;
    let ihl = usize::from(vihl & 0x0f);
    let hlen = ihl * 4;
    let total = u16_at(b, 2)?;
    let id = u16_at(b, 4)?;
    let flags_frag = u16_at(b, 6)?;
    let ttl = *b.get(8)?;
    let proto = *b.get(9)?;
    let chksum = u16_at(b, 10)?;
    let len = if bugs {
        last_nonzero(&[
            u64::from(total),
            u64::from(id),
            u64::from(flags_frag >> 13),
            u64::from(flags_frag & 0x1fff),
            u64::from(ttl),
            u64::from(proto),
            u64::from(chksum),
        ])
    } else {
        u64::from(total)
    };
    data.insert(
        "ip".into(),
        json!({
            "version": vihl >> 4,
            "ihl": ihl,
            "tos": b.get(1)?,
            "len": len,
            "src": ipv4(b.get(12..16)?),
            "dst": ipv4(b.get(16..20)?),
        }),
    );
    let end = usize::from(total).clamp(hlen.min(b.len()), b.len());
    let payload = b.get(hlen..end).unwrap_or_default();
    if flags_frag & 0x1fff != 0 {
        if !payload.is_empty() {
            data.insert("raw".into(), load_layer(payload));
        }
    } else if !transport(proto, payload, bugs, data) {
        return None;
    }
    b.get(end..)
}

fn ipv6_layer<'a>(b: &'a [u8], bugs: bool, data: &mut Map<String, Value>) -> Option<&'a [u8]> {
    let head = u32_at(b, 0)?;
    let plen = u16_at(b, 4)?;
    let nh = *b.get(6)?;
    let src: [u8; 16] = b.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = b.get(24..40)?.try_into().ok()?;
    data.insert(
        "ipv6".into(),
        json!({
            "version": head >> 28,
            "tc": (head >> 20) & 0xff,
            "fl": head & 0xf_ffff,
            "plen": plen,
            "nh": nh,
            "hlim": b.get(7)?,
            "src": std::net::Ipv6Addr::from(src).to_string(),
            "dst": std::net::Ipv6Addr::from(dst).to_string(),
        }),
    );
    let end = (IPV6_LEN + usize::from(plen)).min(b.len());
    let payload = b.get(IPV6_LEN..end).unwrap_or_default();
    // ICMPv6 and extension headers are layers AntiNex drops.
    if matches!(nh, 6 | 17) && !transport(nh, payload, bugs, data) {
        return None;
    }
    b.get(end..)
}

/// Adds the transport layer and its payload; false when a DNS layer ended the conversion
/// (AntiNex loses every later layer, padding included).
fn transport(proto: u8, b: &[u8], bugs: bool, data: &mut Map<String, Value>) -> bool {
    match proto {
        6 => tcp(b, bugs, data),
        17 => udp(b, bugs, data),
        1 => {
            icmp(b, bugs, data);
            true
        }
        _ => {
            if !b.is_empty() {
                data.insert("raw".into(), load_layer(b));
            }
            true
        }
    }
}

fn tcp(b: &[u8], bugs: bool, data: &mut Map<String, Value>) -> bool {
    let (Some(sport), Some(dport), Some(seq), Some(ack), Some(off), Some(flags)) = (
        u16_at(b, 0),
        u16_at(b, 2),
        u32_at(b, 4),
        u32_at(b, 8),
        b.get(12),
        b.get(13),
    ) else {
        if !b.is_empty() {
            data.insert("raw".into(), load_layer(b));
        }
        return true;
    };
    let (Some(window), Some(chksum), Some(urg)) = (u16_at(b, 14), u16_at(b, 16), u16_at(b, 18))
    else {
        return true;
    };
    let dataofs = usize::from(off >> 4);
    let seq_value = if bugs {
        last_nonzero(&[
            u64::from(seq),
            u64::from(ack),
            dataofs as u64,
            u64::from((off >> 1) & 7),
            (u64::from(off & 1) << 8) | u64::from(*flags),
            u64::from(window),
            u64::from(chksum),
        ])
    } else {
        u64::from(seq)
    };
    let mut layer = Map::new();
    layer.insert("sport".into(), json!(sport));
    layer.insert("dport".into(), json!(dport));
    layer.insert("seq".into(), json!(seq_value));
    let hlen = (dataofs * 4).clamp(20, b.len().max(20));
    let options = tcp_options(b.get(20..hlen).unwrap_or_default());
    if !options.is_empty() {
        layer.insert("fields_options".into(), Value::Object(options));
    }
    if urg != 0 {
        layer.insert("fields_urgptr".into(), json!(urg));
    }
    data.insert("tcp".into(), Value::Object(layer));
    let payload = b.get(hlen..).unwrap_or_default();
    if sport == 53 || dport == 53 {
        return dns(payload, bugs, true, data);
    }
    if !payload.is_empty() {
        data.insert("raw".into(), load_layer(payload));
    }
    true
}

/// TCP options as AntiNex keeps them (duplicates collapse, Timestamp is TSval).
fn tcp_options(mut b: &[u8]) -> Map<String, Value> {
    let mut m = Map::new();
    while let Some((&kind, rest)) = b.split_first() {
        match kind {
            0 => {
                m.insert("EOL".into(), Value::Null);
                break;
            }
            1 => {
                m.insert("NOP".into(), Value::Null);
                b = rest;
                continue;
            }
            _ => {}
        }
        let Some(&len) = rest.first() else { break };
        let len = usize::from(len);
        let Some(body) = b.get(2..len.max(2)) else {
            break;
        };
        match (kind, body.len()) {
            (2, 2) => {
                m.insert("MSS".into(), json!(u16_at(body, 0)));
            }
            (3, 1) => {
                m.insert("WScale".into(), json!(body.first()));
            }
            (4, 0) => {
                m.insert("SAckOK".into(), json!(""));
            }
            (5, _) => {
                let edges: Vec<u32> = body.chunks_exact(4).filter_map(|c| u32_at(c, 0)).collect();
                m.insert("SAck".into(), json!(edges));
            }
            (8, 8) => {
                m.insert("Timestamp".into(), json!(u32_at(body, 0)));
            }
            (14, 1) => {
                m.insert("AltChkSum".into(), json!(body.first()));
            }
            _ => {}
        }
        if len < 2 {
            break;
        }
        b = b.get(len..).unwrap_or_default();
    }
    m
}

fn udp(b: &[u8], bugs: bool, data: &mut Map<String, Value>) -> bool {
    let (Some(sport), Some(dport), Some(len), Some(chksum)) =
        (u16_at(b, 0), u16_at(b, 2), u16_at(b, 4), u16_at(b, 6))
    else {
        if !b.is_empty() {
            data.insert("raw".into(), load_layer(b));
        }
        return true;
    };
    let len_value = if bugs {
        last_nonzero(&[u64::from(len), u64::from(chksum)])
    } else {
        u64::from(len)
    };
    data.insert(
        "udp".into(),
        json!({"sport": sport, "dport": dport, "len": len_value}),
    );
    let end = usize::from(len).clamp(UDP_LEN.min(b.len()), b.len());
    let payload = b.get(UDP_LEN..end).unwrap_or_default();
    if DNS_PORTS.contains(&sport) || DNS_PORTS.contains(&dport) {
        return dns(payload, bugs, false, data);
    }
    if UDP_DISSECTED.contains(&sport) || UDP_DISSECTED.contains(&dport) {
        return true;
    }
    if !payload.is_empty() {
        data.insert("raw".into(), load_layer(payload));
    }
    true
}

fn icmp(b: &[u8], bugs: bool, data: &mut Map<String, Value>) {
    let (Some(&t), Some(&code), Some(chksum)) = (b.first(), b.get(1), u16_at(b, 2)) else {
        return;
    };
    let echo_like = matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18);
    let id = u16_at(b, 4).filter(|_| echo_like);
    let seq = u16_at(b, 6).filter(|_| echo_like);
    let code_value = if bugs {
        last_nonzero(&[
            u64::from(code),
            u64::from(chksum),
            u64::from(id.unwrap_or(0)),
        ])
    } else {
        u64::from(code)
    };
    let ts = |at: usize| u32_at(b, at).filter(|_| matches!(t, 13 | 14));
    let gw = b.get(4..8).filter(|_| t == 5).map(ipv4);
    let ptr = b.get(4).copied().filter(|_| t == 12);
    let reserved = u32_at(b, 4).map(|v| v & 0x00ff_ffff).filter(|_| t == 12);
    let ptr_value = match (ptr, reserved) {
        (Some(_), Some(r)) if bugs && r != 0 => Some(u64::from(r)),
        (p, _) => p.map(u64::from),
    };
    let addr_mask = b.get(8..12).filter(|_| matches!(t, 17 | 18)).map(ipv4);
    let unused =
        u32_at(b, 4).filter(|_| !matches!(t, 0 | 5 | 8 | 12 | 13 | 14 | 15 | 16 | 17 | 18));
    data.insert(
        "icmp".into(),
        json!({
            "type": t,
            "code": code_value,
            "seq": seq,
            "ts_ori": ts(8),
            "ts_rx": ts(12),
            "ts_tx": ts(16),
            "gw": gw,
            "ptr": ptr_value,
            "addr_mask": addr_mask,
            "unused": unused,
        }),
    );
    // Errors quote an IP header (a layer AntiNex drops); others carry data.
    if !matches!(t, 3 | 4 | 5 | 11 | 12) {
        let hlen = if matches!(t, 13 | 14) { 20 } else { ICMP_LEN };
        if let Some(p) = b.get(hlen..).filter(|p| !p.is_empty()) {
            data.insert("raw".into(), load_layer(p));
        }
    }
}

/// The DNS layer. With the defects it holds scapy's class defaults and ends the
/// conversion (returns false); otherwise the header's real values under the same names.
fn dns(b: &[u8], bugs: bool, over_tcp: bool, data: &mut Map<String, Value>) -> bool {
    const FLAGS: [&str; 8] = ["qr", "opcode", "aa", "tc", "rd", "ra", "z", "ad"];
    let mut layer = Map::new();
    if bugs {
        layer.insert("default_length".into(), Value::Null);
        layer.insert("default_id".into(), json!(0));
        for f in FLAGS.iter().chain(&["cd", "rcode"]) {
            layer.insert(format!("default_{f}"), json!(0));
        }
    } else {
        let (len, h) = if over_tcp {
            (
                u16_at(b, 0).map(Value::from),
                b.get(2..).unwrap_or_default(),
            )
        } else {
            (None, b)
        };
        if h.len() < DNS_LEN {
            if !b.is_empty() {
                data.insert("raw".into(), load_layer(b));
            }
            return true;
        }
        let flags = u16_at(h, 2).unwrap_or(0);
        layer.insert("default_length".into(), len.unwrap_or(Value::Null));
        layer.insert("default_id".into(), json!(u16_at(h, 0)));
        let bits = [
            flags >> 15,
            (flags >> 11) & 0xf,
            (flags >> 10) & 1,
            (flags >> 9) & 1,
            (flags >> 8) & 1,
            (flags >> 7) & 1,
            (flags >> 6) & 1,
            (flags >> 5) & 1,
        ];
        for (f, v) in FLAGS.iter().zip(bits) {
            layer.insert(format!("default_{f}"), json!(v));
        }
        layer.insert("default_cd".into(), json!((flags >> 4) & 1));
        layer.insert("default_rcode".into(), json!(flags & 0xf));
    }
    for (i, f) in ["qdcount", "ancount", "nscount", "arcount"]
        .iter()
        .enumerate()
    {
        let v = if bugs {
            Value::Null
        } else {
            let h = if over_tcp {
                b.get(2..).unwrap_or_default()
            } else {
                b
            };
            json!(u16_at(h, 4 + 2 * i))
        };
        layer.insert(format!("default_{f}"), v);
    }
    for f in ["qd", "an", "ns", "ar"] {
        layer.insert(format!("default_{f}"), Value::Null);
    }
    data.insert("dns".into(), Value::Object(layer));
    !bugs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden file's first packet rebuilt as bytes: loopback TCP 8080 -> 54050 with
    /// NOP, NOP, Timestamp, no payload; IP checksum 4050 (0x0fd2), TCP checksum 65064.
    fn golden_like() -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let ip = [
            0x45, 0, 0, 52, 0x12, 0x34, 0x40, 0, 64, 6, 0x0f, 0xd2, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        f.extend_from_slice(&ip);
        let mut tcp = vec![0x1f, 0x90, 0xd3, 0x22];
        tcp.extend_from_slice(&1000u32.to_be_bytes());
        tcp.extend_from_slice(&2000u32.to_be_bytes());
        tcp.extend_from_slice(&[0x80, 0x10, 0x01, 0x56]);
        tcp.extend_from_slice(&65064u16.to_be_bytes());
        tcp.extend_from_slice(&[0, 0]);
        tcp.extend_from_slice(&[1, 1, 8, 10]);
        tcp.extend_from_slice(&3_269_735_087u32.to_be_bytes());
        tcp.extend_from_slice(&7u32.to_be_bytes());
        f.extend_from_slice(&tcp);
        f
    }

    #[test]
    fn stale_keys_only_with_bugs() {
        let f = golden_like();
        let d = frame_data(&f, Compat::AntinexBugs).unwrap();
        assert_eq!(d["ip"]["len"], 4050);
        assert_eq!(d["tcp"]["seq"], 65064);
        assert_eq!(d["tcp"]["fields_options"]["Timestamp"], 3_269_735_087u32);
        assert_eq!(d["tcp"]["fields_options"]["NOP"], Value::Null);
        assert!(d.get("raw").is_none());
        let d = frame_data(&f, Compat::Antinex).unwrap();
        assert_eq!(d["ip"]["len"], 52);
        assert_eq!(d["tcp"]["seq"], 1000);
    }

    #[test]
    fn no_panic_on_any_prefix() {
        let f = golden_like();
        for n in 0..=f.len() {
            let _ = frame_data(&f[..n], Compat::AntinexBugs);
            let _ = frame_data(&f[..n], Compat::Antinex);
        }
    }
}
