//! `trident dataset` to Parquet and `trident dataset build` end to end on a bundled sample:
//! records from `trident dataset` (CSV and Parquet) and `trident decode --format csv`,
//! labelled by IP, port and time rules; label counts recomputed here from the CSV text,
//! metadata hashes checked with `sha256sum`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::trident;
use trident_stream::dataset::build::read_rows;
use trident_stream::dataset::parquet::Cells;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "trident-dataset-cli.{name}.{}.{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn table(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut h = Vec::new();
    let mut rows = Vec::new();
    read_rows(p, |c| {
        match c {
            Cells::Header(x) => h = x.to_vec(),
            Cells::Row(x) => rows.push(x.to_vec()),
        }
        Ok(())
    })
    .unwrap();
    (h, rows)
}

fn sha256sum(p: &Path) -> String {
    let out = Command::new("sha256sum").arg(p).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

fn ok(args: &[&str]) -> String {
    let out = trident(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "trident {args:?} failed: {err}");
    err
}

#[test]
fn dataset_parquet_and_build_from_sample() {
    let sample = common::repo().join("samples/wikipedia.pcap");
    let d = tmp("build");
    let csv = d.join("wiki.csv");
    let pq = d.join("wiki.parquet");
    ok(&[
        "dataset",
        "-q",
        "-o",
        csv.to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    ok(&[
        "dataset",
        "-q",
        "-o",
        pq.to_str().unwrap(),
        "--save-after",
        "50",
        sample.to_str().unwrap(),
    ]);
    let (ch, crows) = table(&csv);
    let (ph, prows) = table(&pq);
    assert_eq!(ch, ph);
    assert_eq!(crows, prows, "Parquet rows differ from CSV rows");
    assert!(crows.len() > 100, "{} rows", crows.len());

    // Build from the CSV and the Parquet (same columns), rules by IP+port, then time.
    let rules = d.join("rules.toml");
    std::fs::write(
        &rules,
        r#"[[rule]]
label = "wiki_http"
attack_type = "none"
ip = ["208.80.152.0/24"]
port = [80]

[[rule]]
label = "dns"
port = [53]
"#,
    )
    .unwrap();
    let out = d.join("out");
    let err = ok(&[
        "dataset",
        "build",
        "--rules",
        rules.to_str().unwrap(),
        "--default-label",
        "other",
        "--output-dir",
        out.to_str().unwrap(),
        "--name",
        "wiki",
        csv.to_str().unwrap(),
        pq.to_str().unwrap(),
    ]);
    // Independent count from the CSV text, first match wins.
    let col = |n: &str| ch.iter().position(|c| c == n).unwrap();
    let (s, t) = (col("ip_src"), col("ip_dst"));
    let ports = [
        col("tcp_sport"),
        col("tcp_dport"),
        col("udp_sport"),
        col("udp_dport"),
    ];
    let (mut wiki, mut dns, mut other) = (0u64, 0u64, 0u64);
    for r in &crows {
        let has_port = |p: &str| ports.iter().any(|&i| r[i] == p);
        if (r[s].starts_with("208.80.152.") || r[t].starts_with("208.80.152.")) && has_port("80") {
            wiki += 1;
        } else if has_port("53") {
            dns += 1;
        } else {
            other += 1;
        }
    }
    println!("wikipedia.pcap x2: wiki_http {wiki}, dns {dns}, other {other} per copy; {err}");
    assert!(wiki > 0 && other > 0);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("wiki_metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["label_counts"]["wiki_http"], 2 * wiki);
    assert_eq!(meta["label_counts"]["dns"], 2 * dns);
    assert_eq!(meta["label_counts"]["other"], 2 * other);
    assert_eq!(meta["unmatched_rows"], 2 * other);
    assert!(
        err.contains(&format!("{} rows matched no rule", 2 * other)),
        "{err}"
    );
    assert_eq!(meta["sources"][0]["sha256"], sha256sum(&csv));
    assert_eq!(meta["sources"][1]["sha256"], sha256sum(&pq));
    assert_eq!(meta["sources"][1]["format"], "parquet");
    assert_eq!(meta["rules"]["sha256"], sha256sum(&rules));
    assert_eq!(
        meta["full"]["sha256"],
        sha256sum(&out.join("wiki_full.csv"))
    );
    assert_eq!(
        meta["cleaned"]["sha256"],
        sha256sum(&out.join("wiki_cleaned.csv"))
    );
    assert_eq!(meta["full"]["rows"], 2 * crows.len() as u64);
    let (fh, frows) = table(&out.join("wiki_full.csv"));
    assert_eq!(fh.last().unwrap(), "attack_type");
    assert_eq!(frows.len(), 2 * crows.len());

    // Records from `trident decode --format csv`, labelled by a time range.
    let dec = ok_stdout(&["decode", "--format", "csv", sample.to_str().unwrap()]);
    let dec_path = d.join("decoded.csv");
    std::fs::write(&dec_path, &dec).unwrap();
    let trules = d.join("time.yaml");
    std::fs::write(
        &trules,
        "rule:\n  - label: early\n    start: \"2011-03-18T19:06:07Z\"\n    end: \"2011-03-18 19:06:09\"\n",
    )
    .unwrap();
    let out2 = d.join("out2");
    ok(&[
        "dataset",
        "build",
        "--rules",
        trules.to_str().unwrap(),
        "--default-label",
        "late",
        "-o",
        out2.to_str().unwrap(),
        "--format",
        "parquet",
        "--fill",
        "",
        dec_path.to_str().unwrap(),
    ]);
    let (dh, drows) = table(&dec_path);
    let ts = dh.iter().position(|c| c == "ts").unwrap();
    // RFC 3339 UTC text of one width: comparing strings compares times.
    let early = drows
        .iter()
        .filter(|r| {
            r[ts].as_str() >= "2011-03-18T19:06:07" && r[ts].as_str() < "2011-03-18T19:06:09"
        })
        .count() as u64;
    println!("decoded: {} rows, {early} early", drows.len());
    assert!(early > 0 && early < drows.len() as u64);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("dataset_metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["label_counts"]["early"], early);
    assert_eq!(meta["label_counts"]["late"], drows.len() as u64 - early);
    assert_eq!(meta["unparsed_times"], 0);
    let (_, prow) = table(&out2.join("dataset_full.parquet"));
    assert_eq!(prow.len(), drows.len());
}

fn ok_stdout(args: &[&str]) -> Vec<u8> {
    let out = trident(args);
    assert!(
        out.status.success(),
        "trident {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn bad_rules_file_is_named_with_its_line() {
    let d = tmp("bad");
    let csv = d.join("x.csv");
    std::fs::write(&csv, "ip_src,tcp_dport\n10.0.0.1,80\n").unwrap();
    let rules = d.join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nlabel = \"a\"\nport = [\"80-70\"]\n").unwrap();
    let out = trident(&[
        "dataset",
        "build",
        "--rules",
        rules.to_str().unwrap(),
        "--default-label",
        "b",
        "-o",
        d.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("rules.toml") && err.contains("line 3") && err.contains("80-70"),
        "{err}"
    );
}
