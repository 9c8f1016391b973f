//! Crafted frames and a pcap writer for tests that need packets no capture in the corpus
//! has: Ethernet from 00:66:77:88:99:aa to 00:11:22:33:44:55, IPv4 10.0.0.1 → 10.0.0.2,
//! IPv6 2001:db8::1 → 2001:db8::2.

use std::path::Path;

/// Writes a little-endian pcap of Ethernet frames (each with its original length).
pub fn write_pcap(path: &Path, frames: &[(Vec<u8>, u32)]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, (data, orig)) in frames.iter().enumerate() {
        out.extend_from_slice(&(1000 + u32::try_from(i).unwrap()).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&orig.to_le_bytes());
        out.extend_from_slice(data);
    }
    std::fs::write(path, out).unwrap();
}

pub fn eth(kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa,
    ];
    f.extend_from_slice(&kind.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn ipv4(protocol: u8, flags_off: u16, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ihl = u8::try_from(5 + options.len() / 4).unwrap();
    let total = u16::try_from(20 + options.len() + payload.len()).unwrap();
    let mut h = vec![0x40 | ihl, 0x10];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34]);
    h.extend_from_slice(&flags_off.to_be_bytes());
    h.extend_from_slice(&[64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    h.extend_from_slice(options);
    h.extend_from_slice(payload);
    h
}

pub fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    h.extend_from_slice(payload);
    h
}

pub fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&src.to_be_bytes());
    h.extend_from_slice(&dst.to_be_bytes());
    h.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(payload);
    h
}

pub fn tcp(src: u16, dst: u16, data_offset: u8) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&src.to_be_bytes());
    h.extend_from_slice(&dst.to_be_bytes());
    h.extend_from_slice(&[
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        2,
        data_offset << 4,
        0x18,
        0x10,
        0,
        0,
        0,
        0,
        0,
    ]);
    h.resize(usize::from(data_offset.max(5)) * 4, 0);
    h
}

pub fn icmp_error(kind: u8, quoted: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(quoted);
    m
}
