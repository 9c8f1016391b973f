//! `trident flows` end to end: formats, options, exit codes. (Flow semantics are tested
//! against tshark in `crates/flow/tests/corpus.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{shared, trident};

fn wikipedia() -> String {
    shared()
        .join("corpus/zeek/wikipedia.pcap")
        .display()
        .to_string()
}

#[test]
fn ndjson_one_object_per_flow() {
    let out = trident(&["flows", "-q", &wikipedia()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // tshark -z conv,tcp / conv,udp: 10 + 24 conversations; plus ICMP and other IP flows.
    let tcp = rows.iter().filter(|r| r["protocol"] == 6).count();
    let udp = rows.iter().filter(|r| r["protocol"] == 17).count();
    assert_eq!((tcp, udp), (10, 24));
    // Every row names its flow and has its identity.
    for r in &rows {
        assert_eq!(r["id"].as_str().map(str::len), Some(16));
        assert!(r["orig_ip"].is_string() && r["first_ts"].is_string());
    }
    // The HTTP flows carry their Host header.
    assert!(rows.iter().any(|r| {
        r["http_host"]
            .as_str()
            .is_some_and(|h| h.contains("wikipedia"))
    }));
}

#[test]
fn csv_has_every_column_in_schema_order() {
    let out = trident(&["flows", "-q", "--format", "csv", &wikipedia()]);
    assert_eq!(out.status.code(), Some(0));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, trident_flow::COLUMNS);
    let ndjson = trident(&["flows", "-q", &wikipedia()]);
    let rows = reader.records().count();
    assert_eq!(
        rows,
        String::from_utf8_lossy(&ndjson.stdout).lines().count()
    );
}

#[test]
fn bad_options_are_usage_errors() {
    for args in [
        ["flows", "--idle-timeout", "-1"],
        ["flows", "--max-flows", "0"],
        ["flows", "--active-timeout", "nan"],
    ] {
        let mut a: Vec<&str> = args.to_vec();
        let w = wikipedia();
        a.push(&w);
        let out = trident(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn missing_input_is_reported_and_the_rest_still_runs() {
    let out = trident(&["flows", "-q", "/nonexistent.pcap", &wikipedia()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stdout.is_empty());
}

#[test]
fn every_json_key_is_a_csv_column() {
    // The csv writer picks columns by name from the JSON form: a field missing from
    // `COLUMNS` would silently vanish from csv.
    for file in ["corpus/ndpi/iphone.pcap", "corpus/zeek/dhcp/dhcp.pcap"] {
        let path = shared().join(file).display().to_string();
        let out = trident(&["flows", "-q", &path]);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for k in v.as_object().unwrap().keys() {
                assert!(trident_flow::COLUMNS.contains(&k.as_str()), "flows: {k}");
            }
        }
        let out = trident(&["hosts", "-q", "--format", "json", &path]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for host in v.as_array().unwrap() {
            for k in host.as_object().unwrap().keys() {
                assert!(trident_host::COLUMNS.contains(&k.as_str()), "hosts: {k}");
            }
        }
    }
}

#[test]
fn hosts_formats() {
    let table = trident(&["hosts", "-q", &wikipedia()]);
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("MAC "));
    assert!(text.contains("Cisco Systems, Inc"));
    let csv_out = trident(&["hosts", "-q", "--format", "csv", &wikipedia()]);
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, trident_host::COLUMNS);
    let json = trident(&["hosts", "-q", "--format", "json", &wikipedia()]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(reader.records().count()));
}
