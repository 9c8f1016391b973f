//! Host inventories of named corpus captures, with the expected values read from the same
//! captures by tshark 4.0 (`eth.src_resolved` for vendors, `dhcp.option.*` for DHCP, the
//! senders of SYN/ACKs and DNS answers for offered services, the SYN's TTL, window and
//! option kinds for OS guesses).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use trident_capture::{CaptureReader, Input};
use trident_decode::decode;
use trident_flow::{FlowConfig, FlowRecord, FlowTable};
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

fn flows(rel: &str) -> Vec<FlowRecord> {
    let path = corpus(rel);
    let mut reader = CaptureReader::open(&Input::File(path.clone())).unwrap();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        table.process(
            frame.ts,
            frame.origlen,
            &decode(frame.link_type, frame.data),
            &mut out,
        );
    }
    table.flush(&mut out);
    out
}

fn hosts(rel: &str) -> Vec<HostRecord> {
    let mut inv = HostInventory::new();
    for f in flows(rel) {
        inv.add(&f);
    }
    inv.finish()
}

fn by_mac<'h>(hosts: &'h [HostRecord], mac: &str) -> &'h HostRecord {
    hosts
        .iter()
        .find(|h| h.mac.is_some_and(|m| m.to_string() == mac))
        .unwrap_or_else(|| panic!("no host {mac}"))
}

fn by_ip<'h>(hosts: &'h [HostRecord], ip: &str) -> &'h HostRecord {
    hosts
        .iter()
        .find(|h| h.mac.is_none() && h.ip.is_some_and(|i| i.to_string() == ip))
        .unwrap_or_else(|| panic!("no IP-only host {ip}"))
}

/// tshark's fields for the packets matching `filter`, one line per packet.
fn tshark(rel: &str, filter: &str, fields: &[&str], extra: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(corpus(rel)).args(extra);
    cmd.args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("tshark is needed for these tests (apt install tshark): {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn services(h: &HostRecord, proto: &str) -> BTreeSet<String> {
    h.services_offered
        .iter()
        .map(ToString::to_string)
        .filter(|s| s.starts_with(proto))
        .collect()
}

/// Lower-case letters and digits only.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Where Wireshark's manuf file names a block differently from the IEEE registry:
/// (MAC prefix, tshark's name, why).
const MANUF_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "08:00:27",
    "PcsCompu",
    "manuf keeps the block's earlier owner, PCS Computer Systems GmbH (VirtualBox's OUI); \
     the IEEE registry lists PCS Systemtechnik GmbH",
)];

#[test]
fn vendors_agree_with_tshark_manuf() {
    // Wireshark's manuf names are the IEEE names cut to 8 characters without spaces
    // ("D-LinkIn", "IntelCor"): every host's vendor must start with tshark's name.
    let mut checked = 0;
    let mut excepted = 0;
    for file in [
        "iot-sentinel/captures/D-LinkCam/Setup-A-1-STA.pcap",
        "zeek/wikipedia.pcap",
        "ndpi/gnutella.pcap",
        "ndpi/iphone.pcap",
    ] {
        let hs = hosts(file);
        let rows = tshark(file, "eth", &["eth.src", "eth.src_resolved"], &["-N", "m"]);
        for row in rows {
            let [mac, resolved] = row.as_slice() else {
                continue;
            };
            let Some((name, _)) = resolved.split_once('_') else {
                continue; // not in Wireshark's table: nothing to compare
            };
            let Some(h) = hs
                .iter()
                .find(|h| h.mac.is_some_and(|m| m.to_string() == *mac))
            else {
                continue; // sent no IP traffic
            };
            let vendor = h.vendor.as_deref().unwrap_or("");
            if h.mac_local {
                // Wireshark's manuf also names a few locally administered ranges (QEMU's
                // 52:54:00 as "RealtekU"); the IEEE assigned them to no one, and trident
                // reports no vendor for them.
                assert_eq!(h.vendor, None, "{mac}");
                continue;
            }
            if let Some((_, _, why)) = MANUF_EXCEPTIONS
                .iter()
                .find(|(p, n, _)| mac.starts_with(p) && name == *n)
            {
                assert!(vendor.starts_with("PCS"), "{mac}: {vendor} ({why})");
                excepted += 1;
                continue;
            }
            assert!(
                squash(vendor).starts_with(&squash(name)),
                "{file}: {mac}: trident {vendor:?}, tshark {name:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} packets' vendors compared");
    assert!(
        excepted > 0,
        "an exception below no longer applies: remove it"
    );
}

#[test]
fn dlink_camera() {
    // An IoT Sentinel setup capture of a D-Link DCS-935L camera behind a gateway.
    let file = "iot-sentinel/captures/D-LinkCam/Setup-A-1-STA.pcap";
    let hs = hosts(file);
    let cam = by_mac(&hs, "b0:c5:54:25:5b:0e");
    // DHCP, as tshark dissects the camera's DISCOVER/REQUEST.
    let dhcp = tshark(
        file,
        "dhcp.option.hostname and dhcp.hw.mac_addr == b0:c5:54:25:5b:0e",
        &[
            "dhcp.option.hostname",
            "dhcp.option.vendor_class_id",
            "dhcp.option.request_list_item",
        ],
        &[],
    );
    let first = dhcp
        .first()
        .expect("tshark finds the camera's DHCP request");
    assert_eq!(cam.dhcp_hostname.as_deref(), Some(first[0].as_str()));
    assert_eq!(cam.dhcp_hostname.as_deref(), Some("DCS-935L"));
    assert_eq!(cam.dhcp_vendor_class.as_deref(), Some(first[1].as_str()));
    assert_eq!(cam.dhcp_fingerprint.as_deref(), Some(first[2].as_str()));
    // Offered services: the ports the camera sent SYN/ACKs from.
    let synacks: BTreeSet<String> = tshark(
        file,
        "tcp.flags.syn == 1 and tcp.flags.ack == 1 and eth.src == b0:c5:54:25:5b:0e",
        &["tcp.srcport"],
        &[],
    )
    .into_iter()
    .map(|r| format!("tcp/{}", r[0]))
    .collect();
    assert_eq!(services(cam, "tcp"), synacks);
    assert!(synacks.contains("tcp/80"));
    // OS: its SYNs have TTL 64 and options mss,sok,ts,nop,ws (kinds 2,4,8,1,3): Linux.
    let syns = tshark(
        file,
        "tcp.flags.syn == 1 and tcp.flags.ack == 0 and eth.src == b0:c5:54:25:5b:0e",
        &["ip.ttl", "tcp.option_kind"],
        &[],
    );
    assert!(
        syns.iter().all(|r| r[0] == "64" && r[1] == "2,4,8,1,3"),
        "{syns:?}"
    );
    assert_eq!(cam.os, Some("Linux"));
    assert_eq!(cam.os_source, Some("syn"));
    assert_eq!(cam.os_hops, Some(0));
    assert!(
        cam.vendor
            .as_deref()
            .is_some_and(|v| v.starts_with("D-Link"))
    );
    assert!(cam.ipv4.iter().any(|a| a.to_string() == "10.10.10.37"));
    // The gateway forwards the cloud servers: a router, and the servers are hosts of
    // their own behind it, offering the HTTPS the camera used.
    let gw = by_mac(&hs, "28:b2:bd:c3:41:79");
    assert!(gw.router);
    let server = by_ip(&hs, "52.8.178.58");
    assert_eq!(server.behind_router, gw.mac);
    assert_eq!(
        services(server, "tcp"),
        BTreeSet::from(["tcp/443".to_owned()])
    );
    assert!(cam.services_used.iter().any(|s| s.to_string() == "tcp/443"));
}

#[test]
fn wikipedia_router_and_servers() {
    let file = "zeek/wikipedia.pcap";
    let hs = hosts(file);
    let cisco = by_mac(&hs, "00:13:7f:be:8c:ff");
    assert!(cisco.router);
    assert_eq!(cisco.vendor.as_deref(), Some("Cisco Systems, Inc"));
    // Every SYN/ACK and every DNS answer comes through the Cisco from a remote address;
    // each of those addresses is a host behind it offering exactly those ports.
    let mut expected: Vec<(String, String)> = tshark(
        file,
        "tcp.flags.syn == 1 and tcp.flags.ack == 1",
        &["ip.src", "tcp.srcport"],
        &[],
    )
    .into_iter()
    .map(|r| (r[0].clone(), format!("tcp/{}", r[1])))
    .collect();
    expected.extend(
        tshark(file, "udp.srcport == 53", &["ip.src"], &[])
            .into_iter()
            .map(|r| (r[0].clone(), "udp/53".to_owned())),
    );
    expected.sort();
    expected.dedup();
    assert_eq!(expected.len(), 5);
    for (ip, service) in &expected {
        let h = by_ip(&hs, ip);
        assert_eq!(h.behind_router, cisco.mac, "{ip}");
        assert!(
            h.services_offered.iter().any(|s| s.to_string() == *service),
            "{ip}: {:?}",
            h.services_offered
        );
    }
    // The client's SYNs: TTL 64, window 5840, options 2,4,8,1,3: Linux.
    let client = by_mac(&hs, "00:24:7e:e0:1d:b5");
    assert_eq!(client.os, Some("Linux"));
    assert!(
        client
            .os_fingerprint
            .as_deref()
            .is_some_and(|f| f.contains(":5840,"))
    );
}

#[test]
fn os_guesses_for_windows_and_apple() {
    // gnutella.pcap: a Windows 10 VM; SYNs with TTL 128, window 64240, options
    // mss,nop,ws,nop,nop,sok (kinds 2,1,3,1,1,4); DHCP host name MSEDGEWIN10.
    let win = tshark(
        "ndpi/gnutella.pcap",
        "tcp.flags.syn == 1 and tcp.flags.ack == 0 and ip.src == 10.0.2.15",
        &["ip.ttl", "tcp.window_size_value", "tcp.option_kind"],
        &[],
    );
    assert!(win.iter().all(|r| r == &["128", "64240", "2,1,3,1,1,4"]));
    let hs = hosts("ndpi/gnutella.pcap");
    let h = by_mac(&hs, "08:00:27:e6:e5:59");
    assert_eq!(h.os, Some("Windows 10/11"));
    assert_eq!(h.dhcp_hostname.as_deref(), Some("MSEDGEWIN10"));
    // iphone.pcap: SYNs with TTL 64, window 65535, options 2,1,3,1,1,8,4,0,0 (macOS/iOS);
    // DHCP host name Lucas-iPhone.
    let apple = tshark(
        "ndpi/iphone.pcap",
        "tcp.flags.syn == 1 and tcp.flags.ack == 0 and eth.src == c4:61:8b:35:82:a9",
        &["ip.ttl", "tcp.option_kind"],
        &[],
    );
    assert!(!apple.is_empty());
    assert!(apple.iter().all(|r| r == &["64", "2,1,3,1,1,8,4,0,0"]));
    let dhcp = tshark(
        "ndpi/iphone.pcap",
        "dhcp.hw.mac_addr == c4:61:8b:35:82:a9 and dhcp.option.hostname",
        &["dhcp.option.hostname"],
        &[],
    );
    let hs = hosts("ndpi/iphone.pcap");
    let phone = by_mac(&hs, "c4:61:8b:35:82:a9");
    assert_eq!(phone.os, Some("macOS/iOS"));
    assert_eq!(
        phone.dhcp_hostname.as_deref(),
        dhcp.first().map(|r| r[0].as_str())
    );
    assert_eq!(phone.dhcp_hostname.as_deref(), Some("Lucas-iPhone"));
    assert_eq!(phone.vendor.as_deref(), Some("Apple, Inc."));
}

#[test]
fn dhcp_server_options_are_not_the_clients() {
    // dhcp.pcap: the client 90:b1:1c:99:49:29 asks as "btest.is.cool"; the server's
    // OFFER and ACK carry vendor class "ArubaAP", which describes the server, not the
    // client.
    let server_vc = tshark(
        "zeek/dhcp/dhcp.pcap",
        "dhcp.option.vendor_class_id",
        &["dhcp.type"],
        &[],
    );
    assert!(
        server_vc.iter().all(|r| r[0] == "2"),
        "only replies: {server_vc:?}"
    );
    let hs = hosts("zeek/dhcp/dhcp.pcap");
    let c = by_mac(&hs, "90:b1:1c:99:49:29");
    assert_eq!(c.dhcp_hostname.as_deref(), Some("btest.is.cool"));
    assert_eq!(c.dhcp_vendor_class, None);
    // The address the server assigned in its ACK (yiaddr) is the client's.
    let acked = tshark(
        "zeek/dhcp/dhcp.pcap",
        "dhcp.option.dhcp == 5",
        &["dhcp.ip.your"],
        &[],
    );
    let acked = &acked.first().expect("an ACK")[0];
    assert!(c.ipv4.iter().any(|a| a.to_string() == *acked));
}

#[test]
fn fold_order_does_not_matter() {
    let f = flows("ndpi/iphone.pcap");
    let mut a = HostInventory::new();
    let mut b = HostInventory::new();
    for r in &f {
        a.add(r);
    }
    for r in f.iter().rev() {
        b.add(r);
    }
    assert_eq!(a.finish(), b.finish());
}
