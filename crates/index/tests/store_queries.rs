//! Queries from the embedded store against potiron's own counts, exactly-once ingest, and the
//! same answers from the embedded store and from Redis.
//!
//! The expected rankings are built from potiron's `std/redis_dump.tsv` goldens (made by the
//! real potiron), not from trident. The Redis test needs a server at 127.0.0.1:6379 (or
//! `$TRIDENT_TEST_REDIS`) and uses databases 14 (plain keys) and 15 (combined keys), flushed
//! before and after.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::collections::{BTreeSet, HashMap};

use trident_index::{
    Day, Field, IngestOutcome, Period, RedisStore, SqliteStore, Store, TopQuery, TopRow, rank,
};

/// potiron's fields the embedded store keeps (all but TCP sequence/acknowledgement numbers).
fn stored_potiron_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| f.is_potiron() && !f.is_per_packet())
        .collect()
}

/// potiron's counts from a golden dump: (sensor, day, field) -> value -> count.
fn golden_counts(name: &str) -> HashMap<(String, Day, String), HashMap<String, u64>> {
    let path = common::shared()
        .join("potiron/golden")
        .join(name)
        .join("std/redis_dump.tsv");
    let text = std::fs::read_to_string(path).expect("golden dump");
    let mut out: HashMap<_, HashMap<String, u64>> = HashMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let ["zset", key, member, score] = cols.as_slice() else {
            continue;
        };
        let parts: Vec<&str> = key.split(':').collect();
        let [sensor, day, field] = parts.as_slice() else {
            panic!("unexpected key {key}");
        };
        out.entry((sensor.to_string(), day.parse().unwrap(), field.to_string()))
            .or_default()
            .insert(member.to_string(), score.parse().unwrap());
    }
    out
}

fn top(store: &mut dyn Store, field: Field, sensor: Option<&str>, period: Period) -> Vec<TopRow> {
    store
        .top(&TopQuery {
            field,
            sensor,
            period,
            limit: 0,
            skip: &[],
        })
        .expect("top")
}

#[test]
fn embedded_top_matches_potiron_counts_for_every_field_and_day() {
    let dir = common::tempdir("golden-top");
    let mut store = SqliteStore::open(&dir).expect("open");
    let mut checked = 0;
    for name in common::GOLDEN {
        let (meta, agg) = common::read(&common::golden_capture(name));
        store.ingest(&meta, &agg, false).expect("ingest");
        for ((sensor, day, field), counts) in golden_counts(name) {
            let f = Field::parse(&field).expect("potiron field");
            if f.is_per_packet() {
                continue;
            }
            let want = rank(counts, &[], 0);
            let got = top(&mut store, f, Some(&sensor), Period::Day(day));
            assert_eq!(got, want, "{sensor} {day} {field}");
            checked += 1;
        }
    }
    // 3 captures, 4 sensor-days, 10 fields each.
    assert_eq!(checked, 40);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn embedded_month_and_series_span_midnight() {
    // nintendo crosses midnight: 2017-07-22 and 2017-07-23 in potiron's keys.
    let dir = common::tempdir("series");
    let mut store = SqliteStore::open(&dir).expect("open");
    let (meta, agg) = common::read(&common::golden_capture("nintendo"));
    store.ingest(&meta, &agg, false).expect("ingest");
    let golden = golden_counts("nintendo");
    let per_day = |day: Day, v: &str| {
        golden
            .get(&("test-nintendo-1".to_owned(), day, "protocol".to_owned()))
            .and_then(|m| m.get(v).copied())
    };
    for proto in ["1", "6", "17"] {
        let want: Vec<(Day, u64)> = [20_170_722, 20_170_723]
            .into_iter()
            .filter_map(|d| per_day(d, proto).map(|n| (d, n)))
            .collect();
        let got = store
            .series(Field::Protocol, proto, None, Period::Month(201_707))
            .expect("series");
        assert_eq!(got, want, "protocol {proto}");
    }
    // A month's top is the sum of its days.
    let mut sums: HashMap<String, u64> = HashMap::new();
    for ((_, _, field), counts) in &golden {
        if field == "dport" {
            for (v, n) in counts {
                *sums.entry(v.clone()).or_default() += n;
            }
        }
    }
    let skip = ["-1".to_owned(), "53".to_owned()];
    let got = store
        .top(&TopQuery {
            field: Field::Dport,
            sensor: Some("test-nintendo-1"),
            period: Period::Month(201_707),
            limit: 5,
            skip: &skip,
        })
        .expect("top");
    assert_eq!(got, rank(sums, &skip, 5));
    assert_eq!(got.len(), 5);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn embedded_ingest_is_exactly_once_and_force_replaces() {
    let dir = common::tempdir("once");
    let mut store = SqliteStore::open(&dir).expect("open");
    let (meta, agg) = common::read(&common::golden_capture("iphone"));
    let day = Period::Day(20_200_223);
    assert!(!store.is_ingested(&meta).expect("is_ingested"));
    assert!(matches!(
        store.ingest(&meta, &agg, false).expect("ingest"),
        IngestOutcome::Ingested { .. }
    ));
    assert!(store.is_ingested(&meta).expect("is_ingested"));
    let first: Vec<Vec<TopRow>> = stored_potiron_fields()
        .into_iter()
        .map(|f| top(&mut store, f, None, day))
        .collect();
    assert_eq!(
        store.ingest(&meta, &agg, false).expect("ingest"),
        IngestOutcome::Skipped
    );
    assert!(matches!(
        store.ingest(&meta, &agg, true).expect("ingest"),
        IngestOutcome::Replaced { .. }
    ));
    // Reopen: what is on disk counts the file once.
    drop(store);
    let mut store = SqliteStore::open(&dir).expect("reopen");
    let again: Vec<Vec<TopRow>> = stored_potiron_fields()
        .into_iter()
        .map(|f| top(&mut store, f, None, day))
        .collect();
    assert_eq!(first, again);
    let files = store.files().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, meta.sha256);
    assert_eq!(files[0].3, 500, "iphone.pcap has 500 packets");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn embedded_store_from_before_file_days_migrates_and_force_still_replaces() {
    let dir = common::tempdir("migrate");
    let mut store = SqliteStore::open(&dir).expect("open");
    let (meta, agg) = common::read(&common::golden_capture("iphone"));
    let day = Period::Day(20_200_223);
    store.ingest(&meta, &agg, false).expect("ingest");
    let first: Vec<Vec<TopRow>> = stored_potiron_fields()
        .into_iter()
        .map(|f| top(&mut store, f, None, day))
        .collect();
    drop(store);
    // A store written before `file_days`: no days per file, an index of counts by file.
    let db = dir.join(trident_index::DB_FILE);
    let rows = |sql: &str| -> i64 {
        let c = rusqlite::Connection::open(&db).expect("sqlite");
        c.query_row(sql, [], |r| r.get(0)).expect("query")
    };
    {
        let c = rusqlite::Connection::open(&db).expect("sqlite");
        c.execute_batch("DELETE FROM file_days; CREATE INDEX counts_file ON counts (file_id);")
            .expect("make an old store");
    }
    let counts = rows("SELECT COUNT(*) FROM counts");
    assert!(counts > 0);
    let mut store = SqliteStore::open(&dir).expect("reopen");
    assert_eq!(
        rows("SELECT COUNT(*) FROM sqlite_master WHERE name = 'counts_file'"),
        0,
        "the old index is dropped"
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM file_days"),
        rows("SELECT COUNT(DISTINCT day) FROM counts"),
        "file_days filled from the counts"
    );
    assert!(matches!(
        store.ingest(&meta, &agg, true).expect("force"),
        IngestOutcome::Replaced { .. }
    ));
    assert_eq!(
        rows("SELECT COUNT(*) FROM counts"),
        counts,
        "replaced, not added"
    );
    let again: Vec<Vec<TopRow>> = stored_potiron_fields()
        .into_iter()
        .map(|f| top(&mut store, f, None, day))
        .collect();
    assert_eq!(first, again);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn embedded_and_redis_answer_the_same() {
    let dir = common::tempdir("equal");
    let mut sqlite = SqliteStore::open(&dir).expect("open");
    let mut redis = RedisStore::open(&common::redis_url(14)).expect("redis reachable");
    let () = redis::cmd("FLUSHDB")
        .query(redis.connection())
        .expect("FLUSHDB");
    let mut ck = RedisStore::open(&common::redis_url(15)).expect("redis reachable");
    let () = redis::cmd("FLUSHDB")
        .query(ck.connection())
        .expect("FLUSHDB");
    let mut ck = ck.with_combined_keys(true);
    let mut days = BTreeSet::new();
    for name in common::GOLDEN {
        let (meta, agg) = common::read(&common::golden_capture(name));
        days.extend(agg.days.iter().copied());
        sqlite.ingest(&meta, &agg, false).expect("sqlite ingest");
        redis.ingest(&meta, &agg, false).expect("redis ingest");
        ck.ingest(&meta, &agg, false).expect("redis ck ingest");
    }
    // A fresh connection reads the layout from PARAMETERS.
    let mut ck = RedisStore::open(&common::redis_url(15)).expect("redis reachable");
    let sensors = [
        None,
        Some("test-honeypot-1"),
        Some("test-iphone-1"),
        Some("test-nintendo-1"),
    ];
    let mut periods: Vec<Period> = days.iter().map(|d| Period::Day(*d)).collect();
    periods.extend(days.iter().map(|d| Period::Month(d / 100)));
    let mut compared = 0;
    for field in stored_potiron_fields() {
        for sensor in sensors {
            for period in &periods {
                let a = top(&mut sqlite, field, sensor, *period);
                let b = top(&mut redis, field, sensor, *period);
                assert_eq!(a, b, "{field} {sensor:?} {period:?}");
                let c = top(&mut ck, field, sensor, *period);
                assert_eq!(a, c, "combined keys: {field} {sensor:?} {period:?}");
                compared += usize::from(!a.is_empty());
                // The series of the top value agrees too.
                if let Some(first) = a.first() {
                    let m = Period::Month(period.bounds().0 / 100);
                    let sa = sqlite
                        .series(field, &first.value, sensor, m)
                        .expect("series");
                    let sb = redis
                        .series(field, &first.value, sensor, m)
                        .expect("series");
                    assert_eq!(sa, sb, "series {field} {} {sensor:?}", first.value);
                    let sc = ck.series(field, &first.value, sensor, m).expect("series");
                    assert_eq!(sa, sc, "ck series {field} {} {sensor:?}", first.value);
                }
            }
        }
    }
    assert!(compared > 100, "only {compared} non-empty comparisons");
    let () = redis::cmd("FLUSHDB")
        .query(redis.connection())
        .expect("FLUSHDB");
    let () = redis::cmd("FLUSHDB")
        .query(ck.connection())
        .expect("FLUSHDB");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn embedded_isn_samples_match_potiron_isn_json() {
    // potiron's `--isn` JSON for honeypot lists every TCP sample (time, ports, seq, ack).
    let dir = common::tempdir("isn");
    let mut store = SqliteStore::open(&dir).expect("open");
    let (meta, agg) = common::read(&common::golden_capture("honeypot"));
    store.ingest(&meta, &agg, false).expect("ingest");
    let got = store
        .isn(Some("test-honeypot-1"), 20_140_826, 0)
        .expect("isn");
    let json =
        std::fs::read_to_string(common::shared().join(
            "potiron/golden/honeypot/isn/json/2014/08/26/test-honeypot-1-20140826140000.json",
        ))
        .expect("isn json");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let want: Vec<String> = doc
        .as_array()
        .expect("array")
        .iter()
        .skip(1)
        .map(|p| {
            format!(
                "{} {} {} {} {}",
                p["timestamp"].as_str().expect("ts"),
                p["sport"].as_str().expect("sport"),
                p["dport"].as_str().expect("dport"),
                p["tcpseq"].as_str().expect("seq"),
                p["tcpack"].as_str().expect("ack"),
            )
        })
        .collect();
    let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    let got: Vec<String> = got
        .iter()
        .map(|s| {
            let t = trident_types::Timestamp::from_secs_nanos(
                s.ts_us.div_euclid(1_000_000),
                u32::try_from(s.ts_us.rem_euclid(1_000_000)).unwrap() * 1000,
            );
            let (y, mo, d, h, mi, sec) = t.utc_civil();
            format!(
                "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{sec:02}.{:06} {} {} {} {}",
                s.ts_us.rem_euclid(1_000_000),
                opt(s.sport.map(u32::from)),
                opt(s.dport.map(u32::from)),
                opt(s.seq),
                opt(s.ack)
            )
        })
        .collect();
    assert_eq!(want.len(), 2153, "the reference says 2153 ISN packets");
    assert_eq!(got, want);
    let first3 = store.isn(None, 20_140_826, 3).expect("isn");
    assert_eq!(first3.len(), 3);
    let _ = std::fs::remove_dir_all(dir);
}
