//! The link-layer fields of the embedded store (trident extensions): `eth_src` and `eth_dst`
//! count every Ethernet frame per MAC address, `mac_vendor` per IEEE OUI vendor of the
//! source address. Checked against tshark (`eth.src`, `eth.dst`, `eth.src.lg`,
//! `eth.src.oui_resolved`) on the potiron golden captures, with named vendors.
//!
//! Needs tshark on PATH.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use trident_index::{
    Field, MAC_LOCAL, MAC_UNKNOWN, Period, SqliteStore, Store, TopQuery, read_capture,
};

/// Per-frame `eth.src`, `eth.dst`, `eth.src.lg`, `eth.src.oui_resolved` from tshark.
fn tshark_rows(cap: &Path) -> Vec<[String; 4]> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(cap)
        .args(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"])
        .args(["-e", "eth.src", "-e", "eth.dst", "-e", "eth.src.lg"])
        .args(["-e", "eth.src.oui_resolved"])
        .output()
        .expect("tshark must be installed (Debian package tshark) for this test");
    assert!(out.status.success(), "tshark failed on {}", cap.display());
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let mut f = l.split('\t').map(str::to_owned);
            [0; 4].map(|_| f.next().unwrap_or_default())
        })
        .collect()
}

/// Wireshark's `manuf` overrides a few IEEE names; trident's table is the IEEE registry.
fn ieee_name(wireshark: &str) -> &str {
    match wireshark {
        // 08:00:27 (VirtualBox): IEEE MA-L "PCS Systemtechnik GmbH".
        "PCS Computer Systems GmbH" => "PCS Systemtechnik GmbH",
        other => other,
    }
}

fn top_all(store: &mut SqliteStore, field: Field) -> BTreeMap<String, u64> {
    let q = TopQuery {
        field,
        sensor: None,
        period: Period::Range(19_700_101, 99_991_231),
        limit: 0,
        skip: &[],
    };
    store
        .top(&q)
        .unwrap()
        .into_iter()
        .map(|r| (r.value, r.count))
        .collect()
}

fn count<'a>(it: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for v in it {
        *m.entry(v.to_owned()).or_insert(0) += 1;
    }
    m
}

fn check(name: &str, named: &[(&str, u64)]) {
    let cap = common::golden_capture(name);
    let dir = common::tempdir(&format!("mac-{name}"));
    let (meta, agg) = common::read(&cap);
    let mut store = SqliteStore::open(&dir).unwrap();
    store.ingest(&meta, &agg, false).unwrap();
    let mut rows = tshark_rows(&cap);
    assert_eq!(
        rows.len() as u64,
        meta_packets(&cap),
        "{name}: tshark frames"
    );

    // Frames too short for both addresses (honeypot's frame 1 has 4 bytes) have no MACs.
    rows.retain(|r| !r[0].is_empty() && !r[1].is_empty());
    let src = count(rows.iter().map(|r| r[0].as_str()));
    let dst = count(rows.iter().map(|r| r[1].as_str()));
    assert_eq!(top_all(&mut store, Field::EthSrc), src, "{name}: eth_src");
    assert_eq!(top_all(&mut store, Field::EthDst), dst, "{name}: eth_dst");

    // tshark resolves locally administered blocks too (52:54:00, QEMU); trident counts
    // those as locally administered, and unresolved ones as unknown.
    let vendors = count(rows.iter().map(|r| {
        if r[2] == "1" {
            MAC_LOCAL
        } else if r[3].is_empty() {
            MAC_UNKNOWN
        } else {
            ieee_name(&r[3])
        }
    }));
    let got = top_all(&mut store, Field::MacVendor);
    assert_eq!(got, vendors, "{name}: mac_vendor");
    for (vendor, n) in named {
        assert_eq!(got.get(*vendor), Some(n), "{name}: frames from {vendor}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Frames in a capture according to trident's reader.
fn meta_packets(cap: &Path) -> u64 {
    read_capture(cap, None, common::ALL).unwrap().1.packets
}

#[test]
fn mac_fields_match_tshark_iphone() {
    check("iphone", &[("Apple, Inc.", 297), (MAC_LOCAL, 203)]);
}

#[test]
fn mac_fields_match_tshark_honeypot() {
    check(
        "honeypot",
        &[("PCS Systemtechnik GmbH", 2570), (MAC_LOCAL, 1334)],
    );
}

#[test]
fn mac_fields_match_tshark_nintendo() {
    check(
        "nintendo",
        &[
            ("Nintendo Co., Ltd.", 519),
            ("SparkLAN Communications, Inc.", 481),
        ],
    );
}

#[test]
fn mac_field_names_parse() {
    assert_eq!(Field::parse("eth_src"), Some(Field::EthSrc));
    assert_eq!(Field::parse("mac_dst"), Some(Field::EthDst));
    assert_eq!(Field::parse("mac_vendor"), Some(Field::MacVendor));
    assert!(!Field::MacVendor.is_potiron());
}
