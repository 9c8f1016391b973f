//! One real capture per link type and tunnel kind, with the values tshark 4.0 reports for
//! chosen frames written down as expectations.
//!
//! Each row was read off `tshark -n -r FILE -T fields -E occurrence=a -e frame.number
//! -e frame.protocols -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.srcport
//! -e tcp.dstport -e udp.srcport -e udp.dstport -e vlan.id -e ieee8021ad.id -e mpls.label
//! -e vxlan.vni -e geneve.vni -e gre.key -e erspan.spanid -e wlan.sa -e wlan.da`, taking the
//! innermost IP header and its transport (tshark lists outer first). The live comparison
//! in `crates/cli/tests/tshark_parity.rs` checks whole files end to end; these rows pin one file per kind.
//!
//! The corpus lives outside the repository; these tests panic with a clear message when it
//! is missing (see `common::shared_dir`).

mod common;

use std::net::IpAddr;

use trident_decode::{DecodeOptions, MacAddr, Packet, Transport, TunnelKind, decode_with};

/// What tshark reported for one frame.
struct Expect {
    /// Corpus path.
    file: &'static str,
    /// 1-based frame number.
    frame: usize,
    /// Innermost IP source and destination.
    ip: (&'static str, &'static str),
    /// Innermost TCP/UDP ports, if any.
    ports: Option<(u16, u16)>,
    /// Outer VLAN ids (802.1ad and 802.1Q), outer first.
    vlans: &'static [u16],
    /// Outermost tunnel kind, id (VNI, key, session) and depth.
    tunnel: Option<(TunnelKind, Option<u32>, u8)>,
}

const fn row(
    file: &'static str,
    frame: usize,
    ip: (&'static str, &'static str),
    ports: Option<(u16, u16)>,
    vlans: &'static [u16],
    tunnel: Option<(TunnelKind, Option<u32>, u8)>,
) -> Expect {
    Expect {
        file,
        frame,
        ip,
        ports,
        vlans,
        tunnel,
    }
}

/// The table; comments name the feature each row covers.
const EXPECTED: &[Expect] = &[
    // 802.1Q stacks.
    row(
        "zeek/q-in-q.pcap",
        1,
        ("172.19.51.37", "172.19.51.63"),
        Some((47808, 47808)),
        &[13, 10],
        None,
    ),
    row(
        "zeek/vlan-qinqinq.pcap",
        1,
        ("141.142.228.5", "192.150.187.43"),
        Some((59856, 80)),
        &[30, 20, 10],
        None,
    ),
    // MPLS in a VLAN.
    row(
        "zeek/mpls-in-vlan.pcap",
        2,
        ("65.65.65.65", "65.65.65.65"),
        Some((80, 32828)),
        &[0],
        None,
    ),
    // PPP (HDLC framing) carrying MPLS, and an ICMP error quoting the original.
    row(
        "tcpdump/mpls-traceroute.pcap",
        1,
        ("12.4.4.4", "12.1.1.1"),
        Some((42315, 33435)),
        &[],
        None,
    ),
    row(
        "tcpdump/mpls-traceroute.pcap",
        2,
        ("10.5.0.1", "12.4.4.4"),
        None,
        &[],
        None,
    ),
    // GRE, GRE in GRE, GRE in UDP (RFC 8086), WCCP redirection in GRE.
    row(
        "zeek/tunnels/gre-sample.pcap",
        1,
        ("66.59.111.190", "172.28.2.3"),
        None,
        &[],
        Some((TunnelKind::Gre, None, 1)),
    ),
    row(
        "zeek/tunnels/gre-within-gre.pcap",
        1,
        ("10.10.25.1", "192.168.1.2"),
        None,
        &[],
        Some((TunnelKind::Gre, None, 2)),
    ),
    row(
        "zeek/tunnels/gre-over-udp-4754.pcap",
        1,
        ("172.17.0.2", "1.1.1.1"),
        Some((51714, 53)),
        &[],
        Some((TunnelKind::Gre, None, 1)),
    ),
    row(
        "tcpdump/wccp_redirect_gre.pcap",
        1,
        ("10.254.127.195", "10.254.108.228"),
        Some((1291, 445)),
        &[],
        Some((TunnelKind::Gre, None, 1)),
    ),
    // ERSPAN types I, II (session 100) and III (session 0, inner VLAN not kept as outer).
    row(
        "zeek/erspanI.pcap",
        1,
        ("172.16.133.2", "172.217.11.78"),
        None,
        &[],
        Some((TunnelKind::Erspan, None, 1)),
    ),
    row(
        "zeek/erspanII.pcap",
        1,
        ("23.0.0.2", "23.0.0.3"),
        None,
        &[],
        Some((TunnelKind::Erspan, Some(100), 1)),
    ),
    row(
        "zeek/erspanIII.pcap",
        1,
        ("192.168.15.47", "1.1.1.1"),
        None,
        &[],
        Some((TunnelKind::Erspan, Some(0), 1)),
    ),
    row(
        "tcpdump/erspan-type-iii-ft-0.pcap",
        1,
        ("10.29.11.1", "10.29.20.21"),
        None,
        &[],
        Some((TunnelKind::Erspan, Some(0), 1)),
    ),
    // VXLAN (VNI 5569041) and Geneve (VNI 10).
    row(
        "suricata-verify/vxlan-decoder-03/vxlan.pcap",
        1,
        ("172.31.0.238", "78.46.93.39"),
        Some((60631, 123)),
        &[],
        Some((TunnelKind::Vxlan, Some(5_569_041), 1)),
    ),
    row(
        "tcpdump/geneve.pcap",
        1,
        ("30.0.0.1", "30.0.0.2"),
        None,
        &[],
        Some((TunnelKind::Geneve, Some(10), 1)),
    ),
    // IP in IP, IPv4 in IPv6, IPv6 in IPv4 (6in4), Teredo.
    row(
        "zeek/tunnels/4in4.pcap",
        1,
        ("10.0.0.1", "10.0.0.2"),
        Some((30000, 13000)),
        &[],
        Some((TunnelKind::IpInIp, None, 1)),
    ),
    row(
        "zeek/tunnels/4in6.pcap",
        1,
        ("70.55.213.211", "192.88.99.1"),
        Some((31337, 80)),
        &[],
        Some((TunnelKind::IpInIp, None, 1)),
    ),
    row(
        "zeek/tunnels/6in4.pcap",
        1,
        ("dead::beef", "cafe::babe"),
        Some((30000, 13000)),
        &[],
        Some((TunnelKind::SixInFour, None, 1)),
    ),
    row(
        "zeek/tunnels/Teredo.pcap",
        6,
        ("fe80::8000:ffff:ffff:fffd", "ff02::2"),
        None,
        &[],
        Some((TunnelKind::Teredo, None, 1)),
    ),
    // 802.11 bare and behind radiotap (one with an HT control field).
    row(
        "zeek/wlanmon.pcap",
        1,
        ("172.17.156.76", "208.67.220.220"),
        Some((61738, 53)),
        &[],
        None,
    ),
    row(
        "zeek/radiotap.pcap",
        1,
        ("172.17.156.76", "208.67.220.220"),
        Some((61738, 53)),
        &[],
        None,
    ),
    row(
        "tcpdump/ieee802.11_htc.pcap",
        1,
        ("0.0.0.0", "255.255.255.255"),
        Some((68, 67)),
        &[],
        None,
    ),
    // Linux cooked v1 and v2.
    row(
        "pcapplusplus/sll.pcap",
        1,
        ("10.0.0.138", "10.0.0.255"),
        Some((520, 520)),
        &[],
        None,
    ),
    row(
        "zeek/linux_dlt_sll2.pcap",
        1,
        ("192.0.2.1", "192.0.2.1"),
        None,
        &[],
        None,
    ),
    // PPPoE, PPPoE over QinQ, bare PPP.
    row(
        "suricata-verify/bug-4810/pppoe-session-http.pcap",
        1,
        ("10.100.0.0", "142.250.179.131"),
        Some((57013, 80)),
        &[],
        None,
    ),
    row(
        "zeek/pppoe-over-qinq.pcap",
        1,
        ("1.1.1.1", "2.2.2.2"),
        Some((20394, 443)),
        &[3704, 2474],
        None,
    ),
    row(
        "ndpi/dlt_ppp.pcap",
        1,
        ("193.167.0.252", "193.167.100.100"),
        Some((44083, 443)),
        &[],
        None,
    ),
    // BSD loopback (IPv6 and IPv4), raw IPv6 (101), raw IPv4 (228).
    row(
        "pcapplusplus/null_loopback.pcap",
        1,
        ("::1", "::1"),
        Some((49888, 81)),
        &[],
        None,
    ),
    row(
        "pcapplusplus/null_loopback.pcap",
        2,
        ("172.16.1.117", "172.16.1.255"),
        Some((55369, 8612)),
        &[],
        None,
    ),
    row(
        "tcpdump/LINKTYPE_RAW_ipv6.pcap",
        1,
        ("2001:db8::1", "2620:fe::9"),
        Some((12345, 53)),
        &[],
        None,
    ),
    row(
        "tcpdump/LINKTYPE_IPV4.pcap",
        1,
        ("192.168.1.100", "9.9.9.9"),
        Some((12345, 53)),
        &[],
        None,
    ),
];

fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("bad address {s} in the table: {e}"))
}

/// Decodes frame `n` of `file` and hands the packet to `check`.
fn with_frame(file: &str, n: usize, check: impl FnOnce(&Packet<'_>)) {
    let frames = common::read_frames(&common::corpus(file));
    let Some(f) = frames.get(n - 1) else {
        panic!("{file}: no frame {n} (has {})", frames.len());
    };
    let p = decode_with(f.link_type, &f.data, DecodeOptions::headers_only());
    check(&p);
}

#[test]
fn corpus_rows_match_tshark() {
    for e in EXPECTED {
        with_frame(e.file, e.frame, |p| {
            let at = format!("{} frame {}", e.file, e.frame);
            let Some(got) = p.ip else {
                panic!("{at}: no IP decoded (stop {:?})", p.stop);
            };
            assert_eq!(
                (got.src, got.dst),
                (ip(e.ip.0), ip(e.ip.1)),
                "{at}: inner IP"
            );
            assert_eq!(p.transport.and_then(|t| t.ports()), e.ports, "{at}: ports");
            assert_eq!(p.vlans.as_slice(), e.vlans, "{at}: VLAN ids");
            let tunnel = p.tunnel.map(|t| (t.kind, t.id, t.depth));
            assert_eq!(tunnel, e.tunnel, "{at}: tunnel");
            assert!(p.stop.is_none(), "{at}: unexpected stop {:?}", p.stop);
        });
    }
}

#[test]
fn mpls_labels_and_icmp_quote() {
    // tshark: mpls.label 16106 under VLAN 0.
    with_frame("zeek/mpls-in-vlan.pcap", 2, |p| {
        assert_eq!(p.mpls.as_slice(), &[16106]);
    });
    // tshark: mpls.label 100704 over PPP.
    with_frame("tcpdump/mpls-traceroute.pcap", 1, |p| {
        assert_eq!(p.mpls.as_slice(), &[100_704]);
    });
    // tshark frame 2: icmp quoting ip 12.4.4.4 > 12.1.1.1 udp 42315 > 33435.
    with_frame("tcpdump/mpls-traceroute.pcap", 2, |p| {
        let Some(Transport::Icmp(icmp)) = p.transport else {
            panic!("expected ICMP, got {:?}", p.transport);
        };
        let Some(q) = icmp.quoted else {
            panic!("no quote in {icmp:?}");
        };
        assert_eq!((q.src, q.dst), (ip("12.4.4.4"), ip("12.1.1.1")));
        assert_eq!(q.ports, Some((42315, 33435)));
    });
}

#[test]
fn wlan_addresses_follow_ds_bits() {
    // tshark: wlan.sa 90:72:40:97:b6:f5, wlan.da 44:2b:03:aa:ab:8d (frame 1, both files).
    for file in ["zeek/wlanmon.pcap", "zeek/radiotap.pcap"] {
        with_frame(file, 1, |p| {
            let Some(eth) = p.eth else {
                panic!("{file}: no addresses");
            };
            assert_eq!(eth.src.to_string(), "90:72:40:97:b6:f5", "{file}");
            assert_eq!(eth.dst.to_string(), "44:2b:03:aa:ab:8d", "{file}");
            assert_eq!(eth.ether_type, 0x0800, "{file}");
        });
    }
}

#[test]
fn sll_source_mac() {
    // tshark: sll.src.eth 30:46:9a:23:fb:fa.
    with_frame("pcapplusplus/sll.pcap", 1, |p| {
        assert_eq!(
            p.eth.map(|e| e.src),
            Some(MacAddr([0x30, 0x46, 0x9a, 0x23, 0xfb, 0xfa]))
        );
    });
}

#[test]
fn l2_tunnels_keep_arp_and_inner_ethernet() {
    // tshark: vxlan.vni 123, arp.src.proto_ipv4 10.0.0.1, inner eth.src ba:09:2b:6e:f8:be.
    with_frame("zeek/tunnels/vxlan.pcap", 1, |p| {
        let Some(t) = p.tunnel else {
            panic!("no tunnel: {:?}", p.stop);
        };
        assert_eq!(
            (t.kind, t.id, t.outer_ports),
            (TunnelKind::Vxlan, Some(123), Some((39924, 4789)))
        );
        assert_eq!(
            t.inner_eth.map(|e| e.src.to_string()),
            Some("ba:09:2b:6e:f8:be".to_owned())
        );
        assert_eq!(
            p.arp.map(|a| a.sender_ip.to_string()),
            Some("10.0.0.1".to_owned())
        );
        assert!(p.ip.is_none() && p.stop.is_none());
    });
    // tshark: ieee8021ah carrying ARP from 10.199.245.2; the customer frame's VLAN is not
    // the link's.
    with_frame("zeek/pbb.pcap", 2, |p| {
        assert_eq!(p.vlans.as_slice(), &[4051]);
        assert_eq!(
            p.arp.map(|a| a.sender_ip.to_string()),
            Some("10.199.245.2".to_owned())
        );
    });
}

#[test]
fn mpls_pseudowire_loop_stops_as_too_many_layers() {
    // suricata-verify's decode-too-many-layers: MPLS, PW control word, Ethernet, MPLS, ...
    // repeated (tshark shows the chain repeating). The walk must end with a named stop.
    with_frame(
        "suricata-verify/decode-too-many-layers/input.pcap",
        1,
        |p| {
            let Some(stop) = p.stop else {
                panic!("no stop");
            };
            assert_eq!(
                stop.reason,
                trident_decode::StopReason::Malformed("too many layers")
            );
        },
    );
}
