//! Potiron parity: ingesting each golden capture with trident into its own Redis database
//! gives exactly the keys, members and scores that the real potiron wrote (its
//! `std/redis_dump.tsv`, made with `parse_pcap_files.py -ej`; and with combined keys, its
//! `ck/redis_dump.tsv`, made with `-ck`), apart from the two `PARAMETERS` entries that
//! describe potiron's own `-ej -o json/` command line.
//!
//! Needs a Redis server at 127.0.0.1:6379 (or `$TRIDENT_TEST_REDIS`); uses databases 3-4 and
//! 7-13 and flushes them before and after.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use trident_index::{IngestOutcome, RedisLayout, RedisStore, Store};

/// `PARAMETERS` fields that describe potiron's JSON output options (`-ej -o json/`), which
/// trident's ingest does not have: potiron wrote `True` and `json/`, trident `False`, `None`.
const DOCUMENTED_DIFFERENCES: [&str; 2] = [
    "hash\tPARAMETERS\tenable_json\t",
    "hash\tPARAMETERS\trootdir\t",
];

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

/// The database in the golden's dump format, sorted; trident's own contribution records
/// (`trident:contrib:<file>`, see the crate docs) left out.
fn dump(con: &mut dyn redis::ConnectionLike) -> Vec<String> {
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(con).expect("KEYS");
    let mut out = Vec::new();
    for k in keys {
        if k.starts_with("trident:contrib:") {
            continue;
        }
        let t: String = redis::cmd("TYPE").arg(&k).query(con).expect("TYPE");
        let ek = escape(&k);
        match t.as_str() {
            "zset" => {
                let m: Vec<(String, String)> = redis::cmd("ZRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(con)
                    .expect("ZRANGE");
                out.extend(
                    m.into_iter()
                        .map(|(m, s)| format!("zset\t{ek}\t{}\t{s}", escape(&m))),
                );
            }
            "set" => {
                let m: Vec<String> = redis::cmd("SMEMBERS").arg(&k).query(con).expect("SMEMBERS");
                out.extend(
                    m.into_iter()
                        .map(|m| format!("set\t{ek}\t{}\t", escape(&m))),
                );
            }
            "hash" => {
                let m: Vec<(String, String)> =
                    redis::cmd("HGETALL").arg(&k).query(con).expect("HGETALL");
                out.extend(
                    m.into_iter()
                        .map(|(f, v)| format!("hash\t{ek}\t{}\t{}", escape(&f), escape(&v))),
                );
            }
            "list" => {
                let m: Vec<String> = redis::cmd("LRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .query(con)
                    .expect("LRANGE");
                out.extend(
                    m.into_iter()
                        .enumerate()
                        .map(|(i, v)| format!("list\t{ek}\t{i:06}\t{}", escape(&v))),
                );
            }
            "string" => {
                let v: String = redis::cmd("GET").arg(&k).query(con).expect("GET");
                out.push(format!("string\t{ek}\t\t{}", escape(&v)));
            }
            other => panic!("unexpected type {other} for {k}"),
        }
    }
    out.sort();
    out
}

fn flush(con: &mut dyn redis::ConnectionLike) {
    let () = redis::cmd("FLUSHDB").query(con).expect("FLUSHDB");
}

fn documented(line: &str) -> bool {
    DOCUMENTED_DIFFERENCES.iter().any(|p| line.starts_with(p))
}

fn parity(name: &str, db: u8, combined: bool) {
    let cap = common::golden_capture(name);
    let mut store = RedisStore::open(&common::redis_url(db)).expect("redis reachable");
    flush(store.connection());
    let mut store = store.with_combined_keys(combined);
    let (meta, agg) = common::read(&cap);
    let outcome = store.ingest(&meta, &agg, false).expect("ingest");
    assert!(
        matches!(outcome, IngestOutcome::Ingested { .. }),
        "{outcome:?}"
    );
    // Exactly once: the same file again changes nothing.
    let before = dump(store.connection());
    assert_eq!(
        store.ingest(&meta, &agg, false).expect("ingest"),
        IngestOutcome::Skipped
    );
    assert_eq!(
        dump(store.connection()),
        before,
        "second ingest changed the database"
    );

    let golden_path = common::shared()
        .join("potiron/golden")
        .join(name)
        .join(if combined { "ck" } else { "std" })
        .join("redis_dump.tsv");
    let golden = std::fs::read_to_string(&golden_path).expect("golden dump");
    let want: Vec<&str> = golden.lines().filter(|l| !documented(l)).collect();
    let got: Vec<&str> = before
        .iter()
        .map(String::as_str)
        .filter(|l| !documented(l))
        .collect();
    flush(store.connection());
    if got != want {
        let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).take(10).collect();
        let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).take(10).collect();
        panic!(
            "{name}: {} lines from trident, {} in potiron's dump\nmissing (first 10): {missing:#?}\nextra (first 10): {extra:#?}",
            got.len(),
            want.len()
        );
    }
    // The documented differences are exactly the two PARAMETERS entries, with trident's values.
    let ours: Vec<&String> = before.iter().filter(|l| documented(l)).collect();
    assert_eq!(
        ours,
        [
            "hash\tPARAMETERS\tenable_json\tFalse",
            "hash\tPARAMETERS\trootdir\tNone"
        ]
    );
}

#[test]
fn honeypot_matches_potiron_std_dump() {
    parity("honeypot", 11, false);
}

#[test]
fn iphone_matches_potiron_std_dump() {
    parity("iphone", 12, false);
}

#[test]
fn nintendo_matches_potiron_std_dump() {
    // Crosses midnight: two days of keys, and the file-name day in `_DAYS`.
    parity("nintendo", 13, false);
}

#[test]
fn honeypot_combined_keys_match_potiron_ck_dump() {
    parity("honeypot", 8, true);
}

#[test]
fn iphone_combined_keys_match_potiron_ck_dump() {
    parity("iphone", 9, true);
}

#[test]
fn nintendo_combined_keys_match_potiron_ck_dump() {
    parity("nintendo", 10, true);
}

#[test]
fn plain_and_combined_keys_are_not_mixed() {
    let cap = common::golden_capture("iphone");
    let mut store = RedisStore::open(&common::redis_url(7)).expect("redis reachable");
    flush(store.connection());
    let (meta, agg) = common::read(&cap);
    let mut store = store.with_combined_keys(true);
    store.ingest(&meta, &agg, false).expect("ingest");
    let mut other = meta.clone();
    other.name = "another-name.pcap".to_owned();
    let mut store = store.with_combined_keys(false);
    let err = store.ingest(&other, &agg, false);
    flush(store.connection());
    assert!(
        matches!(err, Err(trident_index::IndexError::Incompatible(_))),
        "{err:?}"
    );
}

/// potiron's legacy direct import (`potiron-json-tshark.py -dj`, golden `leg_dj`, and with
/// `-ck`, `leg_dj_ck`): exactly its keys, members and scores, no documented difference.
fn legacy_parity(db: u8, combined: bool) {
    for name in common::GOLDEN {
        let cap = common::golden_capture(name);
        let mut store = RedisStore::open(&common::redis_url(db)).expect("redis reachable");
        flush(store.connection());
        let mut store = store
            .with_layout(RedisLayout::Legacy)
            .with_combined_keys(combined);
        let (meta, agg) = common::read(&cap);
        store.ingest(&meta, &agg, false).expect("ingest");
        assert_eq!(
            store.ingest(&meta, &agg, false).expect("ingest"),
            IngestOutcome::Skipped
        );
        let got = dump(store.connection());
        flush(store.connection());
        let golden_path = common::shared()
            .join("potiron/golden")
            .join(name)
            .join(if combined { "leg_dj_ck" } else { "leg_dj" })
            .join("redis_dump.tsv");
        let golden = std::fs::read_to_string(&golden_path).expect("golden dump");
        let want: Vec<&str> = golden.lines().collect();
        let got: Vec<&str> = got.iter().map(String::as_str).collect();
        if got != want {
            let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).take(10).collect();
            let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).take(10).collect();
            panic!(
                "{name} legacy: {} lines from trident, {} in potiron's dump\nmissing (first 10): {missing:#?}\nextra (first 10): {extra:#?}",
                got.len(),
                want.len()
            );
        }
    }
}

#[test]
fn legacy_layout_matches_potiron_leg_dj_dumps() {
    legacy_parity(3, false);
}

#[test]
fn legacy_combined_keys_match_potiron_leg_dj_ck_dumps() {
    legacy_parity(4, true);
}
