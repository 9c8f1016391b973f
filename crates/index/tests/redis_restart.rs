//! Exactly once against a Redis that fails: a server killed and restarted while files are
//! ingested (the ingest retries with backoff and ends with every file counted once), a server
//! that stays down (a clear error naming the URL), and `--force` (a file's earlier
//! contribution removed before the new one is added).
//!
//! Uses private redis-servers on free loopback ports (see `redis_support`), killed and
//! removed at the end.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;
mod redis_support;

use std::time::Duration;

use redis_support::{RedisServer, tempdir, zsets};
use trident_index::{IndexError, IngestOutcome, RedisStore, Store};

/// The sorted sets that ingesting the three goldens into an empty database gives.
fn reference() -> Vec<String> {
    let server = RedisServer::start(&tempdir("reference"), &[]);
    let mut store = RedisStore::open(&server.url()).expect("private server");
    for name in common::GOLDEN {
        let (meta, agg) = common::read(&common::golden_capture(name));
        store.ingest(&meta, &agg, false).expect("ingest");
    }
    zsets(store.connection())
}

#[test]
fn server_killed_and_restarted_mid_ingest_counts_each_file_once() {
    let want = reference();
    let files: Vec<_> = common::GOLDEN
        .iter()
        .map(|n| common::read(&common::golden_capture(n)))
        .collect();
    for delay_ms in [0u64, 5, 20] {
        let mut server = RedisServer::start(&tempdir("restart"), &[]);
        let mut store = RedisStore::open(&server.url())
            .expect("private server")
            .with_retry_budget(Duration::from_secs(30));
        let outcomes = std::thread::scope(|s| {
            let ingest = s.spawn(|| {
                files
                    .iter()
                    .map(|(meta, agg)| store.ingest(meta, agg, false).expect("ingest retried"))
                    .collect::<Vec<_>>()
            });
            std::thread::sleep(Duration::from_millis(delay_ms));
            server.kill();
            std::thread::sleep(Duration::from_millis(300));
            server.restart();
            ingest.join().expect("ingest thread")
        });
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, IngestOutcome::Ingested { .. })),
            "{outcomes:?}"
        );
        let mut check = RedisStore::open(&server.url()).expect("private server");
        assert_eq!(
            zsets(check.connection()),
            want,
            "kill after {delay_ms} ms: counts lost or doubled"
        );
        // And again: every file is recorded, nothing changes.
        for (meta, agg) in &files {
            assert_eq!(
                check.ingest(meta, agg, false).expect("ingest"),
                IngestOutcome::Skipped
            );
        }
        assert_eq!(zsets(check.connection()), want);
    }
}

#[test]
fn server_down_is_a_clear_error_after_the_retry_budget() {
    let mut server = RedisServer::start(&tempdir("down"), &[]);
    let url = server.url();
    let mut store = RedisStore::open(&url)
        .expect("private server")
        .with_retry_budget(Duration::from_millis(700));
    server.kill();
    let (meta, agg) = common::read(&common::golden_capture("iphone"));
    let started = std::time::Instant::now();
    let err = store
        .ingest(&meta, &agg, false)
        .expect_err("server is down");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, IndexError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&url) && text.contains("attempts"),
        "unclear error: {text}"
    );
}

#[test]
fn force_replaces_a_files_contribution() {
    let mut server = RedisServer::start(&tempdir("force"), &[]);
    let mut store = RedisStore::open(&server.url()).expect("private server");
    let (iphone_meta, iphone) = common::read(&common::golden_capture("iphone"));
    let (honeypot_meta, honeypot) = common::read(&common::golden_capture("honeypot"));
    let (nintendo_meta, nintendo) = common::read(&common::golden_capture("nintendo"));
    store.ingest(&iphone_meta, &iphone, false).unwrap();
    store.ingest(&honeypot_meta, &honeypot, false).unwrap();
    let before = zsets(store.connection());
    // Same content again with --force: removed then added, nothing changes.
    assert!(matches!(
        store.ingest(&iphone_meta, &iphone, true).unwrap(),
        IngestOutcome::Replaced { .. }
    ));
    assert_eq!(zsets(store.connection()), before);
    // Other content under the iphone file's name: the iphone counts go, the new ones come.
    let mut renamed = nintendo_meta.clone();
    renamed.name.clone_from(&iphone_meta.name);
    renamed.sensor.clone_from(&iphone_meta.sensor);
    store.ingest(&renamed, &nintendo, true).unwrap();
    let got = zsets(store.connection());

    let other = RedisServer::start(&tempdir("force-ref"), &[]);
    let mut fresh = RedisStore::open(&other.url()).expect("private server");
    fresh.ingest(&honeypot_meta, &honeypot, false).unwrap();
    fresh.ingest(&renamed, &nintendo, false).unwrap();
    let want = zsets(fresh.connection());
    assert_eq!(got, want, "--force left counts of the earlier contribution");
    server.kill();
}
