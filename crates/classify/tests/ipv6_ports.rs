//! IPv6 ports: networkML's port features test `ip.proto`, an IPv4-only field, so an IPv6
//! host's TCP and UDP ports never count (its mode, kept for parity); trident's own mode reads
//! the upper-layer protocol after the IPv6 extension headers and counts them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::frames::{eth, ipv4, ipv6, tcp, udp, write_pcap};
use trident_capture::{CaptureReader, Input};
use trident_classify::networkml::{
    IpFlagsEncoding, NetworkMlOptions, feature_names, host_features, read_capture,
};
use trident_types::MacAddr;

/// 00:66:77:88:99:aa, the source MAC of every crafted frame.
const HOST: [u8; 6] = [0x00, 0x66, 0x77, 0x88, 0x99, 0xaa];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "trident-classify-ipv6-ports-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn features(path: &Path, ipv6_ports: bool) -> Vec<(String, f64)> {
    let mut reader = CaptureReader::open(&Input::File(path.to_path_buf())).unwrap();
    let options = NetworkMlOptions {
        ip_flags: IpFlagsEncoding::Word16,
        strict: false,
        ipv6_ports,
    };
    let table = read_capture(&mut reader, options).unwrap();
    let host = host_features(&table.rows, MacAddr::from_slice(&HOST).unwrap());
    feature_names()
        .iter()
        .map(|n| n.to_string())
        .zip(host.values)
        .collect()
}

fn value(features: &[(String, f64)], name: &str) -> f64 {
    features
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
        .1
}

#[test]
fn ipv6_ports_count_in_trident_mode_only() {
    let dir = scratch("ipv6");
    let path = dir.join("ipv6-https.pcap");
    // An IPv6 host: HTTPS (TCP 51000 -> 443) and DNS over UDP behind a destination-options
    // extension header (UDP 53000 -> 53).
    let dest_opts = [17u8, 0, 1, 4, 0, 0, 0, 0];
    let frames: Vec<(Vec<u8>, u32)> = (0..6)
        .flat_map(|_| {
            [
                eth(0x86dd, &ipv6(6, &tcp(51000, 443, 5))),
                eth(
                    0x86dd,
                    &ipv6(60, &[dest_opts.as_slice(), &udp(53000, 53, &[])].concat()),
                ),
            ]
        })
        .map(|f| {
            let n = u32::try_from(f.len()).unwrap();
            (f, n)
        })
        .collect();
    write_pcap(&path, &frames);

    let networkml = features(&path, false);
    let trident = features(&path, true);
    for name in [
        "tshark_tcp_priv_port_443_out",
        "tshark_udp_priv_port_53_out",
    ] {
        assert_eq!(value(&networkml, name), 0.0, "networkML mode: {name}");
        assert_eq!(value(&trident, name), 1.0, "trident mode: {name}");
    }
    // Nothing else about the host changes.
    assert_eq!(value(&networkml, "tshark_ipv6"), 1.0);
    assert_eq!(value(&trident, "tshark_ipv6"), 1.0);
    let changed: Vec<&str> = networkml
        .iter()
        .zip(&trident)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((n, _), _)| n.as_str())
        .collect();
    assert!(
        changed
            .iter()
            .all(|n| n.starts_with("tshark_tcp_") || n.starts_with("tshark_udp_")),
        "only port features may differ: {changed:?}"
    );
    println!("features that differ between the modes: {changed:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ipv4_features_are_the_same_in_both_modes() {
    let dir = scratch("ipv4");
    let path = dir.join("ipv4.pcap");
    let frames: Vec<(Vec<u8>, u32)> = (0..5)
        .map(|_| {
            let f = eth(0x0800, &ipv4(6, 0x4000, &[], &tcp(40000, 80, 5)));
            let n = u32::try_from(f.len()).unwrap();
            (f, n)
        })
        .collect();
    write_pcap(&path, &frames);
    let networkml = features(&path, false);
    let trident = features(&path, true);
    assert_eq!(value(&networkml, "tshark_tcp_priv_port_80_out"), 1.0);
    assert_eq!(networkml, trident);
    let _ = std::fs::remove_dir_all(&dir);
}
