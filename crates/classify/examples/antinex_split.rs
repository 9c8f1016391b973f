//! How AntiNex's per-packet rows leak across a random split (BENCHMARKS.md "Attack model").
//!
//! `../shared/antinex/v1_django_cleaned_attack.csv` holds one class only (every row is
//! `attack`: OWASP ZAP against a Django app), so no attack detector can be trained on it.
//! What it does hold is two capture sessions: rows 0-7899 (netdata-2018-01-28-23-12-13) and
//! rows 7900-8999 (netdata-2018-01-28-23-06-05, the golden file). AntiNex's two classes also
//! came from two different sessions, so "which session is this packet from?" is exactly the
//! question its 99.8% answered. This example trains trident's forest (and softmax) on that
//! question with AntiNex's numeric columns and three splits:
//!
//! * random: 80/20 over rows (AntiNex's way): packets of one TCP connection, and the
//!   loopback double-captured exact duplicates, land on both sides;
//! * connection: 80/20 over TCP connections (the client port), whole connections held out;
//! * time: the first 80% of each session (by `idx`) trains, the last 20% tests.
//!
//! usage: cargo run --release -p trident-classify --example antinex_split [-- CSV]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::collections::{BTreeSet, HashSet};

use trident_classify::eval::EvalReport;
use trident_classify::model::FeatureSchema;
use trident_classify::train::{Candidate, fit_rows};

const SEED: u64 = 42;
const ALL: &[&str] = &[
    "idx",
    "ip_len",
    "tcp_dport",
    "tcp_sport",
    "tcp_seq",
    "tcp_fields_options.MSS",
    "tcp_fields_options.WScale",
    "tcp_fields_options.Timestamp",
];
/// Without the row position and the TCP timestamp value, which name a session outright.
const NO_IDX_TS: &[&str] = &[
    "ip_len",
    "tcp_dport",
    "tcp_sport",
    "tcp_seq",
    "tcp_fields_options.MSS",
    "tcp_fields_options.WScale",
];

struct Row {
    session: String,
    idx: f64,
    conn: u64,
    values: Vec<(String, f64)>,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn feature(r: &Row, name: &str) -> f64 {
    r.values
        .iter()
        .find(|(k, _)| k == name)
        .map_or(-1.0, |(_, v)| *v)
}

fn run(rows: &[Row], features: &[&str], split: &str, candidate: Candidate) -> String {
    let mut state = SEED;
    let test: Vec<bool> = match split {
        "random" => rows.iter().map(|_| splitmix(&mut state) % 5 == 0).collect(),
        "connection" => {
            let conns: BTreeSet<u64> = rows.iter().map(|r| r.conn).collect();
            let held: HashSet<u64> = conns
                .into_iter()
                .filter(|_| splitmix(&mut state) % 5 == 0)
                .collect();
            rows.iter().map(|r| held.contains(&r.conn)).collect()
        }
        _ => {
            // time: the last 20% of each session by idx.
            rows.iter()
                .map(|r| {
                    let n = rows.iter().filter(|o| o.session == r.session).count() as f64;
                    r.idx >= 0.8 * n
                })
                .collect()
        }
    };
    let x = |r: &Row| features.iter().map(|f| feature(r, f)).collect::<Vec<f64>>();
    let (mut tx, mut ty, mut ex, mut ey) = (vec![], vec![], vec![], vec![]);
    for (r, t) in rows.iter().zip(&test) {
        if *t {
            ex.push(x(r));
            ey.push(r.session.clone());
        } else {
            tx.push(x(r));
            ty.push(r.session.clone());
        }
    }
    let seen: HashSet<Vec<u64>> = tx
        .iter()
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect();
    let dup = ex
        .iter()
        .filter(|r| seen.contains(&r.iter().map(|v| v.to_bits()).collect::<Vec<_>>()))
        .count();
    let schema = FeatureSchema {
        name: "antinex-v1-cleaned-numeric".into(),
        features: features.iter().map(|s| (*s).to_owned()).collect(),
    };
    let model = fit_rows(
        &tx,
        &ty,
        schema,
        candidate,
        SEED,
        "antinex-session",
        serde_json::Value::Null,
    )
    .expect("fit");
    let pred: Vec<String> = ex
        .iter()
        .map(|r| {
            let p = model.predict_proba(r).unwrap();
            let i = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            model.classes()[i].clone()
        })
        .collect();
    let rep = EvalReport::new(&ey, &pred);
    let majority = {
        let s1 = ey.iter().filter(|s| *s == "S1").count();
        s1.max(ey.len() - s1) as f64 / ey.len() as f64
    };
    let cm = &rep.confusion;
    format!(
        "| {split} | {} | {candidate} | {} / {} | {:.1}% | {:.2}% | {:.4} | {:.2}% | {:?} |",
        if features.len() == ALL.len() {
            "all 8"
        } else {
            "6 (no idx, TSval)"
        },
        tx.len(),
        ex.len(),
        100.0 * dup as f64 / ex.len().max(1) as f64,
        100.0 * rep.accuracy,
        rep.weighted_f1,
        100.0 * majority,
        cm
    )
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/antinex/v1_django_cleaned_attack.csv".into());
    let mut reader = csv::Reader::from_path(&path).expect("open the AntiNex CSV");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.expect("row");
        let values: Vec<(String, f64)> = header
            .iter()
            .zip(rec.iter())
            .filter_map(|(k, v)| v.parse::<f64>().ok().map(|v| (k.clone(), v)))
            .collect();
        let mut r = Row {
            session: if i < 7900 { "S1".into() } else { "S2".into() },
            idx: 0.0,
            conn: 0,
            values,
        };
        r.idx = feature(&r, "idx");
        let (sport, dport) = (feature(&r, "tcp_sport"), feature(&r, "tcp_dport"));
        let client = if (dport - 8080.0).abs() < 0.5 {
            sport
        } else {
            dport
        };
        // A connection: the client port within its session.
        r.conn = (client as u64) * 2 + u64::from(i >= 7900);
        rows.push(r);
    }
    println!(
        "{path}: {} rows, session S1 (rows 0-7899) vs S2 (rows 7900-8999)",
        rows.len()
    );
    println!(
        "| split | features | model | train / test rows | test rows with an exact duplicate in train | accuracy | weighted F1 | majority baseline | confusion [S1,S2] |"
    );
    println!("|---|---|---|---|---:|---:|---:|---:|---|");
    for features in [ALL, NO_IDX_TS] {
        for split in ["random", "connection", "time"] {
            for candidate in [
                Candidate::Forest {
                    trees: 100,
                    max_depth: None,
                },
                Candidate::Softmax { alpha: 0.1 },
            ] {
                println!("{}", run(&rows, features, split, candidate));
            }
        }
    }
}
