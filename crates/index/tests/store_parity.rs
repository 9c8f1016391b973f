//! The same captures ingested into the embedded store and into Redis (potiron's current
//! layout with combined keys, and its legacy layout) answer every query the same: top for
//! every potiron field the embedded store keeps, per day, month and day range, per protocol;
//! series and per-protocol series of the top values; the parallel-coordinates table of each
//! month.
//!
//! Needs a Redis server at 127.0.0.1:6379 (or `$TRIDENT_TEST_REDIS`); uses databases 3 and 4,
//! flushed before and after.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::collections::BTreeSet;

use trident_index::{Day, Field, Period, RedisLayout, RedisStore, SqliteStore, Store, TopQuery};

fn flush(con: &mut dyn redis::ConnectionLike) {
    let () = redis::cmd("FLUSHDB").query(con).expect("FLUSHDB");
}

fn fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| f.is_potiron() && !f.is_per_packet() && *f != Field::Iptos)
        .collect()
}

fn compare(sql: &mut dyn Store, red: &mut dyn Store, days: &BTreeSet<Day>, what: &str) {
    let months: BTreeSet<u32> = days.iter().map(|d| d / 100).collect();
    let (first, last) = (*days.first().unwrap(), *days.last().unwrap());
    let mut periods: Vec<Period> = days.iter().map(|d| Period::Day(*d)).collect();
    periods.extend(months.iter().map(|m| Period::Month(*m)));
    periods.push(Period::Range(first, last));
    periods.push(Period::Range(first + 1, last));
    let skip = ["-1".to_owned()];
    for period in &periods {
        for field in fields() {
            for (limit, skip) in [(0, &[][..]), (5, &skip[..])] {
                for sensor in [None, Some("test-honeypot-1")] {
                    let q = TopQuery {
                        field,
                        sensor,
                        period: *period,
                        limit,
                        skip,
                    };
                    let top = sql.top(&q).unwrap();
                    assert_eq!(top, red.top(&q).unwrap(), "{what}: top {q:?}");
                    assert_eq!(
                        sql.top_per_protocol(&q).unwrap(),
                        red.top_per_protocol(&q).unwrap(),
                        "{what}: per-protocol top {q:?}"
                    );
                    for row in top.iter().take(3) {
                        assert_eq!(
                            sql.series(field, &row.value, sensor, *period).unwrap(),
                            red.series(field, &row.value, sensor, *period).unwrap(),
                            "{what}: series {field} {} {period:?}",
                            row.value
                        );
                        assert_eq!(
                            sql.series_per_protocol(field, &row.value, sensor, *period)
                                .unwrap(),
                            red.series_per_protocol(field, &row.value, sensor, *period)
                                .unwrap(),
                            "{what}: per-protocol series {field} {} {period:?}",
                            row.value
                        );
                    }
                }
            }
        }
    }
    for m in &months {
        for field in [Field::Dport, Field::Ipsrc, Field::Protocol] {
            for limit in [0, 5] {
                let a = sql.parallel(field, None, *m, limit, &[]).unwrap();
                assert!(!a.rows.is_empty());
                assert_eq!(
                    a,
                    red.parallel(field, None, *m, limit, &[]).unwrap(),
                    "{what}: parallel {field} {m}"
                );
            }
        }
    }
}

#[test]
fn embedded_and_redis_answer_every_query_alike() {
    let dir = common::tempdir("parity");
    let mut sql = SqliteStore::open(&dir).unwrap();
    let mut current = RedisStore::open(&common::redis_url(3))
        .unwrap()
        .with_combined_keys(true);
    flush(current.connection());
    let mut legacy = RedisStore::open(&common::redis_url(4))
        .unwrap()
        .with_layout(RedisLayout::Legacy)
        .with_combined_keys(true);
    flush(legacy.connection());
    let mut days = BTreeSet::new();
    for name in common::GOLDEN {
        let (meta, agg) = common::read(&common::golden_capture(name));
        days.extend(agg.days.iter().copied());
        sql.ingest(&meta, &agg, false).unwrap();
        current.ingest(&meta, &agg, false).unwrap();
        legacy.ingest(&meta, &agg, false).unwrap();
    }
    compare(&mut sql, &mut current, &days, "current layout");
    // A store opened on the legacy database finds its layout by itself.
    let mut reopened = RedisStore::open(&common::redis_url(4)).unwrap();
    assert_eq!(reopened.layout(), RedisLayout::Legacy);
    compare(&mut sql, &mut reopened, &days, "legacy layout");
    flush(current.connection());
    flush(legacy.connection());
    let _ = std::fs::remove_dir_all(&dir);
}
