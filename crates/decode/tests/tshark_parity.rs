//! Live differential test against tshark over every corpus capture whose MANIFEST
//! features name a link type, VLAN/MPLS/PPP layer or tunnel trident decodes.
//!
//! For each frame the innermost IP addresses, TCP/UDP ports and outer VLAN ids must match
//! tshark's (see `common::tshark` for how tshark's layer lists are aligned with trident's).
//! Files where the two legitimately differ are listed in [`EXCUSED`] with the reason.
//! Runs only when `tshark` is installed; the corpus must be present either way.

mod common;

use std::fs;

/// MANIFEST features selecting the files to compare.
const FEATURES: &[&str] = &[
    "vlan",
    "qinq",
    "mpls",
    "gre",
    "erspan",
    "vxlan",
    "geneve",
    "ip-in-ip",
    "6in4",
    "4in6",
    "6in6",
    "teredo",
    "802.11",
    "radiotap",
    "linux-sll",
    "linux-sll2",
    "ppp",
    "pppoe-session",
    "bsd-null",
    "loop",
    "nflog",
    "ipv6-fraghdr",
    "ipv6-routing",
    "ipv6-hopopts",
    "icmpv6-nd",
];

/// Parallel tshark runs.
const WORKERS: usize = 2;

/// Files where trident and tshark differ by design, and why.
const EXCUSED: &[(&str, &str)] = &[
    (
        "tcpdump/arista_ether.pcap",
        "Arista vendor ether type 0xd28b is not decoded",
    ),
    (
        "tcpdump/various_gre.pcap",
        "GRE carrying Cisco metadata (0x8909) is not decoded",
    ),
    (
        "zeek/cisco-fabric-path.pcap",
        "Cisco FabricPath is not decoded",
    ),
    ("zeek/tunnels/ayiya3.pcap", "AYIYA tunnels are not decoded"),
    (
        "pcapplusplus/ipv4-options.pcap",
        "tshark reports the source-route destination",
    ),
];

#[test]
fn tshark_agrees_on_tunnel_and_link_captures() {
    let shared = common::shared_dir();
    assert!(
        common::tshark::available(),
        "tshark is not installed: install it (Debian: apt-get install tshark); CI does"
    );
    let manifest = fs::read_to_string(shared.join("corpus/MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("reading MANIFEST.tsv: {e}"));
    let mut selected = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(format), Some(features)) = (cols.first(), cols.get(1), cols.get(5))
        else {
            continue;
        };
        // Damaged and compressed files are the capture reader's business; the synthetic
        // pcapng format tests carry frames pcap-parser and tshark count differently.
        if path.starts_with("damaged/")
            || format.contains("gz")
            || format.contains("zst")
            || path.starts_with("pcapng-test-generator/")
            || EXCUSED.iter().any(|(f, _)| f == path)
        {
            continue;
        }
        if features.split(',').any(|f| FEATURES.contains(&f)) {
            selected.push((*path).to_owned());
        }
    }
    assert!(
        selected.len() > 50,
        "only {} corpus files selected: MANIFEST changed?",
        selected.len()
    );
    // tshark's start-up dominates; two workers keep both cores busy.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(path) = selected.get(i) else { break };
                    let problems = common::tshark::compare(&common::corpus(path));
                    if !problems.is_empty() {
                        let line = format!(
                            "{path}: {} frames differ:\n    {}",
                            problems.len(),
                            problems.join("\n    ")
                        );
                        failures
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(line);
                    }
                }
            });
        }
    });
    let failures = failures
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    assert!(
        failures.is_empty(),
        "trident and tshark differ on {} of {} files:\n{}",
        failures.len(),
        selected.len(),
        failures.join("\n")
    );
    eprintln!("tshark parity: {} files agree", selected.len());
}
