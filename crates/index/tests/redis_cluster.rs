//! Redis Cluster: three masters on free loopback ports (`redis-server --cluster-enabled yes`
//! joined by `redis-cli --cluster create --cluster-yes`), the three goldens ingested into it,
//! and every query answered as from a single server; then the cluster is torn down.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;
mod redis_support;

use std::process::Command;
use std::time::{Duration, Instant};

use redis_support::{RedisServer, tempdir};
use trident_index::{Field, IngestOutcome, Period, RedisStore, Store, TopQuery};

fn cluster_ok(port: u16) -> bool {
    Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "cluster",
            "info",
        ])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
}

#[test]
fn cluster_of_three_masters_answers_like_one_server() {
    let base = tempdir("cluster");
    let nodes: Vec<RedisServer> = (0..3)
        .map(|i| {
            RedisServer::start(
                &base.join(format!("n{i}")),
                &["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"],
            )
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let out = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(&addrs)
        .arg("--cluster-yes")
        .output()
        .expect("redis-cli must be installed (see .ci/run)");
    assert!(
        out.status.success(),
        "cluster create: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let t = Instant::now();
    while !nodes.iter().all(|n| cluster_ok(n.port)) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "cluster never became ok"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut cluster = RedisStore::open(&format!("redis+cluster://{}", addrs.join(",")))
        .expect("cluster reachable")
        .with_combined_keys(true);
    let mut single = RedisStore::open(&common::redis_url(4))
        .expect("redis reachable")
        .with_combined_keys(true);
    let () = redis::cmd("FLUSHDB").query(single.connection()).unwrap();
    let mut days = std::collections::BTreeSet::new();
    for name in common::GOLDEN {
        let (meta, agg) = common::read(&common::golden_capture(name));
        days.extend(agg.days.iter().copied());
        assert!(matches!(
            cluster.ingest(&meta, &agg, false).unwrap(),
            IngestOutcome::Ingested { .. }
        ));
        assert_eq!(
            cluster.ingest(&meta, &agg, false).unwrap(),
            IngestOutcome::Skipped
        );
        single.ingest(&meta, &agg, false).unwrap();
    }
    // The data is spread over the masters.
    let holding = nodes
        .iter()
        .filter(|n| {
            let mut c = redis::Client::open(format!("redis://127.0.0.1:{}", n.port))
                .unwrap()
                .get_connection()
                .unwrap();
            let size: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
            size > 0
        })
        .count();
    assert!(holding >= 2, "all keys on {holding} node(s)");

    let mut periods: Vec<Period> = days.iter().map(|d| Period::Day(*d)).collect();
    periods.extend(days.iter().map(|d| Period::Month(d / 100)));
    for period in periods {
        for field in Field::ALL.into_iter().filter(|f| f.is_potiron()) {
            let q = TopQuery {
                field,
                sensor: None,
                period,
                limit: 0,
                skip: &[],
            };
            assert_eq!(
                cluster.top(&q).unwrap(),
                single.top(&q).unwrap(),
                "{field} {period:?}"
            );
            assert_eq!(
                cluster.top_per_protocol(&q).unwrap(),
                single.top_per_protocol(&q).unwrap(),
                "{field} {period:?} per protocol"
            );
        }
        assert_eq!(
            cluster.series(Field::Dport, "53", None, period).unwrap(),
            single.series(Field::Dport, "53", None, period).unwrap()
        );
    }
    let () = redis::cmd("FLUSHDB").query(single.connection()).unwrap();
    drop(nodes);
    let _ = std::fs::remove_dir_all(&base);
}
