//! Flows built from named corpus captures, checked against tshark 4.0.
//!
//! # The independent reference
//!
//! tshark groups packets into conversations of its own: `-z conv,tcp` lists one row per TCP
//! stream (`tcp.stream`, which starts a new stream when a SYN with a new initial sequence
//! number reuses a port pair) and `-z conv,udp` one row per address/port pair, with no
//! timeouts at all. So:
//!
//! - with timeouts too long to fire, trident's TCP and UDP flow counts must equal tshark's
//!   conversation counts ([`parity_without_timeouts`]), and each flow's packets and wire
//!   bytes must equal its tshark stream's ([`packets_and_bytes_per_flow_match_tshark`]);
//! - with the default timeouts (idle 120 s, active 1800 s), the expected count is tshark's
//!   streams cut wherever a stream is silent for more than the idle timeout or older than
//!   the active timeout: [`expected_with_timeouts`] computes that from tshark's per-packet
//!   `frame.time_epoch` and `tcp.stream`/`udp.stream`, sharing no code with the table
//!   ([`default_timeouts_split_long_silences`]).
//!
//! The expected numbers are written in the tables below (so a reader sees them, and a run
//! shows which file moved) and recomputed from tshark on every run, so they cannot drift
//! from what tshark says.
//!
//! # Where trident and tshark differ, and why
//!
//! Each difference has a test that shows it and the setting that removes it:
//!
//! - VLANs are part of trident's key; tshark ignores them. Routed traffic captured on a
//!   trunk can carry a conversation's two directions on two VLANs
//!   ([`vlan_per_direction_is_two_flows_unless_ignored`]).
//! - A closed TCP flow takes late packets for 5 s only (the close linger); tshark keeps
//!   them in the stream however late ([`close_linger_splits_very_late_packets`]).
//! - trident keys tunnelled traffic on the innermost packet; tshark also counts the
//!   carrier's UDP conversation ([`tunnels_are_keyed_on_the_inner_packet`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use trident_capture::{CaptureReader, Input};
use trident_decode::decode;
use trident_flow::{FlowConfig, FlowRecord, FlowTable, TableStats};

/// The shared data folder: `$TRIDENT_SHARED`, or `../../../shared` from this crate. A run
/// without it fails, rather than passing without having checked anything.
fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("TRIDENT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        dir.join("corpus").is_dir(),
        "shared corpus not found at {} (set TRIDENT_SHARED to the folder holding corpus/)",
        dir.display()
    );
    dir
}

fn corpus(rel: &str) -> PathBuf {
    let p = shared_dir().join("corpus").join(rel);
    assert!(p.is_file(), "corpus file missing: {}", p.display());
    p
}

/// Timeouts that never fire on the corpus (its captures span less than 60 years).
fn no_timeouts() -> FlowConfig {
    let long = Duration::from_secs(100 * 365 * 86_400);
    FlowConfig::default()
        .with_idle_timeout(long)
        .with_active_timeout(long)
}

/// Every flow of a capture, in output order, and the table's counters.
fn flows(rel: &str, config: FlowConfig) -> (Vec<FlowRecord>, TableStats) {
    let path = corpus(rel);
    let mut reader = CaptureReader::open(&Input::File(path.clone()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut table = FlowTable::new(config);
    let mut out = Vec::new();
    while let Some(frame) = reader
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        let pkt = decode(frame.link_type, frame.data);
        table.process(frame.ts, frame.origlen, &pkt, &mut out);
    }
    table.flush(&mut out);
    (out, table.stats())
}

/// (TCP flows, UDP flows).
fn counts(records: &[FlowRecord]) -> (usize, usize) {
    let tcp = records.iter().filter(|r| r.protocol == 6).count();
    let udp = records.iter().filter(|r| r.protocol == 17).count();
    (tcp, udp)
}

/// Runs tshark on a corpus file; tshark must be installed (the tests compare against it).
fn tshark(rel: &str, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(corpus(rel))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tshark is needed for these tests (apt install tshark): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// tshark's conversation count for `conv,tcp` or `conv,udp`.
fn tshark_conversations(rel: &str, proto: &str) -> usize {
    tshark(rel, &["-q", "-z", &format!("conv,{proto}")])
        .lines()
        .filter(|l| l.contains("<->"))
        .count()
}

/// One packet as tshark sees it: time, wire length, and the streams of its `proto` layers.
struct TsharkPacket {
    ts: f64,
    len: u64,
    streams: Vec<u64>,
}

fn tshark_packets(rel: &str, proto: &str) -> Vec<TsharkPacket> {
    let stream = format!("{proto}.stream");
    // ICMP errors quote a TCP or UDP header, and tshark gives the quote a stream number;
    // its conversation tables leave them out, and so does trident (they are ICMP flows).
    let filter = format!("{proto} and not icmp and not icmpv6");
    tshark(
        rel,
        &[
            "-Y",
            &filter,
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.len",
            "-e",
            &stream,
        ],
    )
    .lines()
    .filter_map(|l| {
        let mut f = l.split('\t');
        let ts = f.next()?.parse().ok()?;
        let len = f.next()?.parse().ok()?;
        let streams = f
            .next()?
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect();
        Some(TsharkPacket { ts, len, streams })
    })
    .collect()
}

/// tshark's streams cut by the idle and active timeouts: a packet more than `idle` seconds
/// after its segment's last packet, or more than `active` seconds after its first, starts
/// a new segment. Returns (packets, wire bytes) per segment, sorted.
fn expected_with_timeouts(rel: &str, proto: &str, idle: f64, active: f64) -> Vec<(u64, u64)> {
    struct Seg {
        first: f64,
        last: f64,
        pkts: u64,
        bytes: u64,
    }
    let mut open: BTreeMap<u64, Seg> = BTreeMap::new();
    let mut done = Vec::new();
    for p in tshark_packets(rel, proto) {
        for s in p.streams {
            match open.get_mut(&s) {
                Some(seg) if p.ts - seg.last <= idle && p.ts - seg.first <= active => {
                    seg.first = seg.first.min(p.ts);
                    seg.last = seg.last.max(p.ts);
                    seg.pkts += 1;
                    seg.bytes += p.len;
                }
                _ => {
                    let new = Seg {
                        first: p.ts,
                        last: p.ts,
                        pkts: 1,
                        bytes: p.len,
                    };
                    if let Some(old) = open.insert(s, new) {
                        done.push((old.pkts, old.bytes));
                    }
                }
            }
        }
    }
    done.extend(open.values().map(|s| (s.pkts, s.bytes)));
    done.sort_unstable();
    done
}

/// Asserts two lists of (packets, bytes) hold the same flows, printing only the entries that
/// differ (a whole list of 700 flows says nothing).
fn assert_same_flows(what: &str, ours: &[(u64, u64)], expected: &[(u64, u64)]) {
    let mut count: BTreeMap<(u64, u64), i64> = BTreeMap::new();
    for f in ours {
        *count.entry(*f).or_default() += 1;
    }
    for f in expected {
        *count.entry(*f).or_default() -= 1;
    }
    let diff: Vec<_> = count.into_iter().filter(|(_, n)| *n != 0).collect();
    assert!(
        diff.is_empty(),
        "{what}: (packets, bytes) per flow differ; (flow, trident count minus tshark's): {diff:?}"
    );
}

/// Files whose flows equal tshark's conversations exactly when no timeout fires:
/// (file, TCP conversations, UDP conversations), as `tshark -z conv,tcp` / `conv,udp`
/// count them. They cover Ethernet, Linux SLL, IPv6, pcapng and gzip, long captures,
/// refused connections retried with the same sequence number (gnutella: one stream in
/// tshark, one flow here) and port reuse.
const PARITY: &[(&str, usize, usize)] = &[
    ("zeek/wikipedia.pcap", 10, 24),
    ("ndpi/gnutella.pcap", 137, 613),
    ("ndpi/iphone.pcap", 15, 31),
    ("ndpi/android.pcap", 28, 31),
    ("ndpi/1kxun.pcap", 98, 99),
    ("ndpi/alexa-app.pcapng", 121, 33),
    ("ndpi/teams.pcap", 42, 40),
    ("ndpi/http_ipv6.pcap", 13, 2),
    ("ndpi/tplink_shp.pcap", 0, 8),
    ("pcapplusplus/sll.pcap", 1, 15),
    ("pcapplusplus/tls2.pcap", 334, 0),
    ("made/sites.pcapng.gz", 60, 4),
    ("zeek/echo-connections.pcap.gz", 500, 0),
];

#[test]
fn parity_without_timeouts() {
    let mut bad = Vec::new();
    for &(file, tcp, udp) in PARITY {
        let ts = (
            tshark_conversations(file, "tcp"),
            tshark_conversations(file, "udp"),
        );
        assert_eq!(
            ts,
            (tcp, udp),
            "{file}: the table above disagrees with tshark"
        );
        let (records, _) = flows(file, no_timeouts());
        let ours = counts(&records);
        println!("{file}: tshark {ts:?}, trident {ours:?}");
        if ours != ts {
            bad.push(format!(
                "{file}: tshark (tcp, udp) {ts:?}, trident {ours:?}"
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn packets_and_bytes_per_flow_match_tshark() {
    // Each flow's packet count and wire bytes, against its tshark stream's.
    for file in [
        "zeek/wikipedia.pcap",
        "ndpi/gnutella.pcap",
        "ndpi/iphone.pcap",
    ] {
        let (records, _) = flows(file, no_timeouts());
        let mut compared = 0;
        for (proto, number) in [("tcp", 6), ("udp", 17)] {
            let expected = expected_with_timeouts(file, proto, f64::INFINITY, f64::INFINITY);
            let mut ours: Vec<(u64, u64)> = records
                .iter()
                .filter(|r| r.protocol == number)
                .map(|r| (r.packets(), r.bytes()))
                .collect();
            ours.sort_unstable();
            assert_same_flows(&format!("{file} {proto}"), &ours, &expected);
            compared += ours.len();
        }
        println!("{file}: {compared} flows' packets and bytes equal tshark's");
    }
}

/// Files whose default timeouts split conversations: (file, TCP flows, UDP flows) as
/// [`expected_with_timeouts`] derives them from tshark (idle 120 s, active 1800 s). With no
/// timeouts gnutella has 613 UDP conversations and tplink_shp 8; their hosts fall silent for
/// minutes and talk again.
const WITH_DEFAULT_TIMEOUTS: &[(&str, usize, usize)] = &[
    ("ndpi/gnutella.pcap", 137, 719),
    ("ndpi/tplink_shp.pcap", 0, 16),
    ("ndpi/xiaomi.pcap", 10, 0),
    ("ndpi/nest_log_sink.pcap", 13, 4),
    ("ndpi/alexa-app.pcapng", 123, 33),
    ("pcapplusplus/ldap.pcapng", 10, 0),
    ("ndpi/srvloc.pcap", 0, 621),
    ("tcpdump/dhcp-rfc4388.pcap", 0, 6),
];

#[test]
fn default_timeouts_split_long_silences() {
    let cfg = FlowConfig::default();
    let idle = cfg.idle_timeout.as_secs_f64();
    let active = cfg.active_timeout.as_secs_f64();
    let mut bad = Vec::new();
    for &(file, tcp, udp) in WITH_DEFAULT_TIMEOUTS {
        let tcp_segments = expected_with_timeouts(file, "tcp", idle, active);
        let udp_segments = expected_with_timeouts(file, "udp", idle, active);
        let model = (tcp_segments.len(), udp_segments.len());
        assert_eq!(
            model,
            (tcp, udp),
            "{file}: the table above disagrees with tshark"
        );
        let (records, _) = flows(file, cfg);
        let ours = counts(&records);
        println!("{file}: tshark streams cut by timeouts {model:?}, trident {ours:?}");
        if ours != model {
            bad.push(format!("{file}: expected {model:?}, trident {ours:?}"));
        }
        // Splits are at the same packets: the per-flow packet counts agree too.
        let mut per_flow: Vec<(u64, u64)> = records
            .iter()
            .filter(|r| r.protocol == 17)
            .map(|r| (r.packets(), r.bytes()))
            .collect();
        per_flow.sort_unstable();
        assert_same_flows(&format!("{file} udp"), &per_flow, &udp_segments);
        assert!(records.iter().all(|r| r.duration_ms <= active * 1000.0));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn vlan_per_direction_is_two_flows_unless_ignored() {
    // syslog.pcap: 10.186.117.194:49948 -> 169.46.82.162:52173 travels on VLAN 1506, the
    // reply on VLAN 1906. modify-request.pcapng: the LDAP client's packets on VLAN 81, the
    // server's on VLAN 80. vlan-pcp-dei.pcapng: one HTTP exchange sent three times, untagged,
    // on VLAN 20 and on VLANs 10+20. tshark ignores VLANs: one conversation each.
    for (file, with_vlan) in [
        ("ndpi/syslog.pcap", 2),
        ("zeek/ldap/modify-request.pcapng", 2),
        ("zeek/vlan-pcp-dei.pcapng", 3),
    ] {
        let tshark_tcp = tshark_conversations(file, "tcp");
        assert_eq!(tshark_tcp, 1, "{file}");
        let (keyed, _) = flows(file, no_timeouts());
        assert_eq!(counts(&keyed).0, with_vlan, "{file}: VLAN in the key");
        let (ignored, _) = flows(file, no_timeouts().with_vlan_in_key(false));
        assert_eq!(counts(&ignored).0, tshark_tcp, "{file}: VLAN ignored");
    }
    // The half flows of syslog.pcap: all of one side's packets, on its VLAN. The lone packet
    // on VLAN 1906 is the server's SYN/ACK, so that half flow is turned round: its
    // originator is the client, who sent nothing on that VLAN.
    let (keyed, _) = flows("ndpi/syslog.pcap", no_timeouts());
    let mut halves: Vec<_> = keyed
        .iter()
        .filter(|r| r.protocol == 6)
        .map(|r| (r.vlan, r.orig_pkts, r.resp_pkts))
        .collect();
    halves.sort_unstable();
    assert_eq!(halves, vec![(Some(1506), 10, 0), (Some(1906), 0, 1)]);
}

#[test]
fn close_linger_splits_very_late_packets() {
    // many-protocols.pcap: 10.0.0.1:55260 <-> 212.58.244.71:80 closes with FINs both ways at
    // 13:05:06; three more packets of that connection come 22 s later. tshark keeps them in
    // the stream (126 TCP conversations); with the default 5 s linger they are a second,
    // midstream flow (127). A 60 s linger keeps them in the closed flow.
    let file = "pcapplusplus/many-protocols.pcap";
    assert_eq!(tshark_conversations(file, "tcp"), 126);
    let (records, _) = flows(file, no_timeouts());
    assert_eq!(counts(&records).0, 127);
    let late: Vec<_> = records
        .iter()
        .filter(|r| r.resp_port == Some(80) && r.orig_port == Some(55260))
        .map(|r| {
            (
                r.packets(),
                r.end_reason.name(),
                format!("{:?}", r.conn_state),
            )
        })
        .collect();
    assert_eq!(
        late,
        vec![(154, "fin", "SF".to_owned()), (3, "end", "OTH".to_owned())]
    );
    let linger = no_timeouts().with_close_linger(Duration::from_secs(60));
    let (records, _) = flows(file, linger);
    assert_eq!(counts(&records).0, 126);
}

#[test]
fn tunnels_are_keyed_on_the_inner_packet() {
    // vxlan.pcap: ICMP echo between two hosts, carried in VXLAN. tshark counts the carrier's
    // UDP conversations (4); trident keys the inner packets and names the tunnel.
    let file = "zeek/tunnels/vxlan.pcap";
    assert_eq!(tshark_conversations(file, "udp"), 4);
    let (records, _) = flows(file, no_timeouts());
    assert_eq!(counts(&records), (0, 0));
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r.tunnel == Some("vxlan")));
    // Inner ICMP flows: one per echo identifier and host pair, as tshark's inner layers show.
    let inner = tshark(file, &["-Y", "icmp", "-T", "fields", "-e", "icmp.ident"]);
    let mut idents: Vec<&str> = inner
        .lines()
        .map(|l| l.split(',').next_back().unwrap_or(""))
        .collect();
    idents.sort_unstable();
    idents.dedup();
    assert_eq!(records.len(), idents.len(), "{records:#?}");
}

#[test]
fn replay_is_deterministic() {
    // Same capture, same records in the same order, byte for byte; ids unique.
    for file in ["ndpi/gnutella.pcap", "made/sites.pcapng.gz"] {
        let run = || {
            let (records, _) = flows(file, FlowConfig::default());
            records
                .iter()
                .map(|r| serde_json::to_string(r).unwrap())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "{file}");
        let (records, _) = flows(file, FlowConfig::default());
        let mut ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), records.len(), "{file}: ids unique");
    }
}

#[test]
fn every_ip_packet_lands_in_exactly_one_flow() {
    let file = "pcapplusplus/many-protocols.pcap";
    let total: usize = tshark(file, &["-T", "fields", "-e", "frame.number"])
        .lines()
        .count();
    let non_ip = tshark(
        file,
        &[
            "-Y",
            "not ip and not ipv6",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    )
    .lines()
    .count();
    let (records, stats) = flows(file, FlowConfig::default());
    assert_eq!(stats.packets as usize, total);
    assert_eq!(stats.non_ip_packets as usize, non_ip);
    let in_flows: u64 = records.iter().map(FlowRecord::packets).sum();
    assert_eq!(in_flows as usize, total - non_ip);
}

#[test]
fn bounded_table_evicts_and_counts() {
    // 613 UDP + 137 TCP conversations through a table of 64 flows: never more than 64 held,
    // every eviction is a record, and no packet is lost. (An evicted flow that had already
    // closed keeps its reason, `fin` or `rst`, so `evicted` records are at most the count.)
    let (unbounded, _) = flows("ndpi/gnutella.pcap", no_timeouts());
    let (records, stats) = flows("ndpi/gnutella.pcap", no_timeouts().with_max_flows(64));
    assert_eq!(stats.peak_flows, 64);
    assert!(stats.evicted > 0);
    let evicted = records
        .iter()
        .filter(|r| r.end_reason == trident_flow::EndReason::Evicted)
        .count();
    assert!(evicted > 0 && evicted as u64 <= stats.evicted);
    assert_eq!(records.len() as u64, stats.flows);
    let packets = |rs: &[FlowRecord]| rs.iter().map(FlowRecord::packets).sum::<u64>();
    assert_eq!(packets(&records), packets(&unbounded));
    assert!(records.len() > unbounded.len());
}
