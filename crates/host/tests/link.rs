//! Hosts known from ARP and DHCPv6 ([`HostInventory::add_packet`]), on named corpus
//! captures, with the expected values read from the same captures by tshark 4.0
//! (`arp.src.*` for ARP claims, `dhcpv6.*` for DHCPv6 options).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use trident_capture::{CaptureReader, Input};
use trident_decode::decode;
use trident_flow::{FlowConfig, FlowTable};
use trident_host::{HostInventory, HostRecord};

fn corpus(rel: &str) -> PathBuf {
    let dir = std::env::var_os("TRIDENT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let p = dir.join("corpus").join(rel);
    assert!(
        p.is_file(),
        "corpus file missing: {} (set TRIDENT_SHARED to the folder holding corpus/)",
        p.display()
    );
    p
}

/// The inventory of a capture: flows and every packet, as `trident hosts` folds them.
fn hosts(rel: &str) -> Vec<HostRecord> {
    let mut reader = CaptureReader::open(&Input::File(corpus(rel))).unwrap();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut inv = HostInventory::new();
    let mut ended = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        let packet = decode(frame.link_type, frame.data);
        table.process(frame.ts, frame.origlen, &packet, &mut ended);
        inv.add_packet(frame.ts, &packet);
    }
    table.flush(&mut ended);
    for f in &ended {
        inv.add(f);
    }
    inv.finish()
}

fn by_mac<'h>(hosts: &'h [HostRecord], mac: &str) -> &'h HostRecord {
    hosts
        .iter()
        .find(|h| h.mac.is_some_and(|m| m.to_string() == mac))
        .unwrap_or_else(|| panic!("no host {mac}"))
}

/// tshark's fields for the packets matching `filter`, one line per packet.
fn tshark(rel: &str, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(corpus(rel));
    cmd.args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("tshark is needed for these tests (apt install tshark): {e}"));
    assert!(out.status.success(), "tshark failed on {rel}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Every MAC that sends ARP but no IP frame gets a host with the IPv4 addresses it
/// claimed, marked `link_only`, with no traffic of its own; MACs that also send IP keep
/// their ARP-claimed address among their addresses.
#[test]
fn arp_only_hosts() {
    for (rel, ip_src_mac) in [
        ("made/wikipedia.pcap.gz", "eth.src"),
        ("tcpdump/802.1ad_QinQ.pcap", "eth.src"),
        // Linux cooked capture: no Ethernet header, the ARP body still names the MAC.
        ("zeek/linuxsll-arp.pcap", "sll.src.eth"),
    ] {
        let mut claims: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in tshark(rel, "arp", &["arp.src.hw_mac", "arp.src.proto_ipv4"]) {
            let [mac, ip] = row.as_slice() else { continue };
            let e = claims.entry(mac.clone()).or_default();
            if ip != "0.0.0.0" {
                e.insert(ip.clone());
            }
        }
        let ip_senders: BTreeSet<String> = tshark(rel, "ip or ipv6", &[ip_src_mac])
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        let hosts = hosts(rel);
        let mut arp_only = 0;
        for (mac, ips) in &claims {
            let h = by_mac(&hosts, mac);
            let v4: BTreeSet<String> = h.ipv4.iter().map(ToString::to_string).collect();
            assert!(v4.is_superset(ips), "{rel} {mac}: {v4:?} lacks {ips:?}");
            if !ip_senders.contains(mac) {
                arp_only += 1;
                assert!(h.link_only, "{rel} {mac}");
                assert_eq!((h.pkts_out, h.flows), (0, 0), "{rel} {mac}");
                assert_eq!(
                    h.ip.map(|i| i.to_string()),
                    ips.first().cloned(),
                    "{rel} {mac}"
                );
                assert!(h.first_ts.0 > 0, "{rel} {mac}: no first-seen time");
            } else {
                assert!(!h.link_only, "{rel} {mac}");
            }
        }
        assert!(arp_only > 0, "{rel}: expected an ARP-only MAC");
    }
}

/// DHCPv6 client DUID, FQDN, vendor class and option request list, attributed to the
/// client MAC; tshark's `dhcpv6.*` fields give the expected values.
#[test]
fn dhcpv6_client_options() {
    for (rel, mac, fqdn) in [
        ("ndpi/gnutella.pcap", "08:00:27:e6:e5:59", "MSEDGEWIN10"),
        (
            "pcapplusplus/many-protocols.pcap",
            "6c:f0:49:b2:de:6e",
            "Bichman",
        ),
    ] {
        let filter = format!("dhcpv6 && eth.src == {mac}");
        let rows = tshark(
            rel,
            &filter,
            &[
                "dhcpv6.duid.bytes",
                "dhcpv6.client_domain",
                "dhcpv6.vendorclass.enterprise",
                "dhcpv6.vendorclass.data",
                "dhcpv6.requested_option_code",
            ],
        );
        let first = rows.first().unwrap_or_else(|| panic!("{rel}: no DHCPv6"));
        let all = hosts(rel);
        let h = by_mac(&all, mac);
        // The client's own DUID is the first (its Client Identifier).
        let duid = first[0].split(',').next().unwrap();
        assert_eq!(h.dhcpv6_duid.as_deref(), Some(duid), "{rel}");
        assert_eq!(first[1], fqdn);
        assert_eq!(h.dhcpv6_fqdn.as_deref(), Some(fqdn), "{rel}");
        let vendor = format!("{} {}", first[2], first[3]);
        assert_eq!(
            h.dhcpv6_vendor_class.as_deref(),
            Some(vendor.as_str()),
            "{rel}"
        );
        assert_eq!(
            h.dhcpv6_fingerprint.as_deref(),
            Some(first[4].as_str()),
            "{rel}"
        );
        assert!(!h.link_only, "{rel}: the client also sent IP traffic");
    }
}

/// A server's ADVERTISE/REPLY describes the client it is sent to: the client gets its DUID
/// and the address the REPLY assigns; the server gets neither.
#[test]
fn dhcpv6_reply_goes_to_the_client() {
    let rel = "tcpdump/dhcpv6-ia-na.pcap";
    let replies = tshark(
        rel,
        "dhcpv6.msgtype == 7",
        &["eth.src", "eth.dst", "dhcpv6.iaaddr.ip"],
    );
    let [server, client, addr] = replies.first().unwrap().as_slice() else {
        panic!("no REPLY in {rel}");
    };
    let solicit = tshark(rel, "dhcpv6.msgtype == 1", &["dhcpv6.duid.bytes"]);
    let hosts = hosts(rel);
    let c = by_mac(&hosts, client);
    assert_eq!(c.dhcpv6_duid.as_deref(), Some(solicit[0][0].as_str()));
    assert!(
        c.ipv6.iter().any(|a| a.to_string() == *addr),
        "{:?} lacks {addr}",
        c.ipv6
    );
    let s = by_mac(&hosts, server);
    assert_eq!(s.dhcpv6_duid, None);
    assert!(!s.ipv6.iter().any(|a| a.to_string() == *addr));
}
