//! The dataset builder on AntiNex's own data: labels from rules (counts recomputed here
//! from the raw CSV), AntiNex's cleaned set reproduced byte for byte, metadata hashes equal
//! to `sha256sum`'s, clear errors for differing columns and bad rules.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use trident_stream::dataset::build::{BuildOptions, build};
use trident_stream::sink::DatasetFormat;

fn antinex() -> PathBuf {
    let d = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("antinex");
    assert!(
        d.join("v1_django_full_attack.csv").is_file(),
        "AntiNex data not found at {}",
        d.display()
    );
    d
}

fn sha256sum(p: &Path) -> String {
    let out = Command::new("sha256sum").arg(p).output().unwrap();
    assert!(out.status.success(), "sha256sum failed");
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

fn opts(inputs: Vec<PathBuf>, rules: PathBuf, out: &Path) -> BuildOptions {
    BuildOptions {
        inputs,
        rules,
        default_label: "not_attack".into(),
        default_value: 0,
        fill: "-1.0".into(),
        out_dir: out.to_owned(),
        name: "django".into(),
        format: DatasetFormat::Csv,
        drop_incomplete_rows: false,
    }
}

/// Rows of a CSV as maps of column → cell.
fn rows(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(p).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (h, rows)
}

#[test]
fn reproduces_antinex_v1_cleaned_set() {
    let a = antinex();
    let dir = common::tempdir("build-v1");
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nlabel = \"attack\"\nvalue = 1\nip = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let input = a.join("v1_django_full_attack.csv");
    // AntiNex labels the whole capture "attack": rows without a loopback address (63 of
    // them carry no IP) get it as the default label.
    let mut o = opts(vec![input.clone()], rules.clone(), &dir.join("out"));
    o.default_label = "attack".into();
    o.default_value = 1;
    let r = build(&o).unwrap();

    // Independent count: rows with 127.0.0.1 in ip_src or ip_dst.
    let (h, raw) = rows(&input);
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (s, d) = (col("ip_src"), col("ip_dst"));
    let attack = raw
        .iter()
        .filter(|r| r[s] == "127.0.0.1" || r[d] == "127.0.0.1")
        .count() as u64;
    println!("v1 django: {} rows, {attack} attack by rule", raw.len());
    assert_eq!(r.rows, raw.len() as u64);
    assert!(attack > 8000);
    assert_eq!(r.labels["attack"], raw.len() as u64);
    assert_eq!(r.meta["rules"]["matched_rows"][0], attack);
    assert_eq!(r.unmatched, raw.len() as u64 - attack);
    assert_eq!(r.meta["unmatched_rows"], raw.len() as u64 - attack);
    // All rows attack, as in AntiNex: the full set is the input unchanged and the cleaned
    // set is AntiNex's own, byte for byte.
    assert_eq!(
        std::fs::read(&r.full).unwrap(),
        std::fs::read(&input).unwrap()
    );
    assert_eq!(
        std::fs::read(&r.cleaned).unwrap(),
        std::fs::read(a.join("v1_django_cleaned_attack.csv")).unwrap(),
        "cleaned set differs from AntiNex's v1_django_cleaned_attack.csv"
    );
    // Metadata: hashes as sha256sum computes them.
    let m = &r.meta;
    assert_eq!(m["sources"][0]["sha256"], sha256sum(&input));
    assert_eq!(m["sources"][0]["rows"], 9000);
    assert_eq!(m["rules"]["sha256"], sha256sum(&rules));
    assert_eq!(m["full"]["sha256"], sha256sum(&r.full));
    assert_eq!(m["cleaned"]["sha256"], sha256sum(&r.cleaned));
    assert_eq!(m["cleaned"]["columns"].as_array().unwrap().len(), 25);
    assert_eq!(m["version"], env!("CARGO_PKG_VERSION"));
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&r.metadata).unwrap()).unwrap();
    assert_eq!(&on_disk, m);
}

#[test]
fn combines_and_labels_by_port_and_time_from_golden_csv() {
    let a = antinex();
    let dir = common::tempdir("build-golden");
    let golden = a.join("golden-flatten-django-1100/netdata-2018-01-28-23-06-05.csv");
    // Two copies under different names: combined, one labelled by file name too.
    let second = dir.join("replay.csv");
    std::fs::copy(&golden, &second).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "rule:\n  - label: scanner\n    attack_type: zap_spider\n    port: [54050, \"54400-54420\"]\n  - label: replay\n    file: [\"replay*\"]\n",
    )
    .unwrap();
    let r = build(&opts(
        vec![golden.clone(), second.clone()],
        rules,
        &dir.join("out"),
    ))
    .unwrap();
    let (h, raw) = rows(&golden);
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (sp, dp) = (col("tcp_sport"), col("tcp_dport"));
    let in_range = |c: &str| {
        c.parse::<u32>()
            .is_ok_and(|p| p == 54050 || (54400..=54420).contains(&p))
    };
    let scan = raw
        .iter()
        .filter(|r| in_range(&r[sp]) || in_range(&r[dp]))
        .count() as u64;
    let n = raw.len() as u64;
    println!("golden x2: {} rows, scanner {} per copy", 2 * n, scan);
    assert!(scan > 0 && scan < n);
    assert_eq!(r.rows, 2 * n);
    assert_eq!(r.labels["scanner"], 2 * scan);
    assert_eq!(r.labels["replay"], n - scan);
    assert_eq!(r.labels["not_attack"], n - scan);
    assert_eq!(r.unmatched, n - scan);
    assert_eq!(r.meta["attack_type_counts"]["zap_spider"], 2 * scan);
    assert_eq!(r.meta["label_values"]["scanner"], 1);
    assert_eq!(r.meta["label_values"]["replay"], 2);
    // Full set: inputs' columns then the labels; empty cells filled.
    let (fh, frows) = rows(&r.full);
    assert_eq!(&fh[..h.len()], &h[..]);
    assert_eq!(&fh[h.len()..], ["label_name", "label_value", "attack_type"]);
    // (attack_type, last, is empty where the rule gives none.)
    assert!(
        frows
            .iter()
            .all(|r| r[..r.len() - 1].iter().all(|c| !c.is_empty()))
    );
    // Cleaned: no addresses or payloads.
    let (ch, _) = rows(&r.cleaned);
    for gone in ["ip_src", "eth_dst", "raw_load", "pad_load"] {
        assert!(!ch.iter().any(|c| c == gone), "{gone} in cleaned set");
    }
    assert!(ch.iter().any(|c| c == "label_name"));

    // The same build as Parquet holds the same values.
    let mut o = opts(
        vec![golden.clone(), second],
        dir.join("rules.yaml"),
        &dir.join("pq"),
    );
    o.format = DatasetFormat::Parquet;
    let p = build(&o).unwrap();
    let mut prow = Vec::new();
    trident_stream::dataset::build::read_rows(&p.full, |c| {
        if let trident_stream::dataset::parquet::Cells::Row(x) = c {
            prow.push(x.to_vec());
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(prow.len(), frows.len());
    for (x, y) in prow.iter().zip(&frows) {
        for (a, b) in x.iter().zip(y) {
            let same = a == b
                || a.parse::<f64>()
                    .ok()
                    .zip(b.parse::<f64>().ok())
                    .is_some_and(|(p, q)| p == q);
            assert!(same, "{a} vs {b}");
        }
    }
    assert_eq!(p.labels, r.labels);
}

#[test]
fn differing_columns_and_bad_rules_are_named() {
    let a = antinex();
    let dir = common::tempdir("build-errors");
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nlabel = \"attack\"\nip = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let golden = a.join("golden-flatten-django-1100/netdata-2018-01-28-23-06-05.csv");
    let full = a.join("v1_django_full_attack.csv");
    let e = build(&opts(vec![golden, full.clone()], rules.clone(), &dir))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("v1_django_full_attack.csv") && e.contains("label_name"),
        "{e}"
    );

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[rule]]\nlabel = \"attack\"\nip = [\"127.0.0.1\"]\n\n[[rule]]\nlabel = \"x\"\nip = [\"10.0.0.300\"]\n",
    )
    .unwrap();
    let e = build(&opts(vec![full.clone()], bad, &dir))
        .err()
        .unwrap()
        .to_string();
    println!("{e}");
    assert!(
        e.contains("bad.toml") && e.contains("line 7") && e.contains("10.0.0.300"),
        "{e}"
    );

    let typo = dir.join("typo.yaml");
    std::fs::write(&typo, "rule:\n  - label: attack\n    prot: [80]\n").unwrap();
    let e = build(&opts(vec![full.clone()], typo, &dir))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("typo.yaml") && e.contains("prot") && e.contains("line 3"),
        "{e}"
    );

    let notime = dir.join("time.toml");
    std::fs::write(
        &notime,
        "[[rule]]\nlabel = \"a\"\nstart = \"2018-01-28 23:00:00\"\n",
    )
    .unwrap();
    let e = build(&opts(vec![full], notime, &dir))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("rule 1") && e.contains("time"), "{e}");
}
