//! Redis Streams against the real Redis (database 5, unique keys, deleted afterwards):
//! two publishers and two consumers, a malformed message, a broker restart.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::{REDIS, records, redis_del, require_redis, tempdir, unique};
use trident_stream::consume::Source;
use trident_stream::redis_streams::{StreamConsumer, StreamPublisher};
use trident_stream::sink::SqliteSink;
use trident_stream::{ConsumeOptions, Decoder, Publisher, PublisherOptions, consume};

fn publish(url: &str, key: &str, recs: Vec<trident_stream::Record>) -> u64 {
    let mut p = Publisher::start(
        Box::new(StreamPublisher::new(url, key, 1_000_000)),
        PublisherOptions::default(),
    );
    for r in recs {
        p.publish(r).unwrap();
    }
    p.finish().unwrap().records
}

fn consume_until_idle(
    url: &str,
    key: &str,
    name: &str,
    dir: &std::path::Path,
) -> trident_stream::ConsumeStats {
    let mut src = StreamConsumer::open(url, key, "g", name, Duration::from_millis(500)).unwrap();
    let mut sink = SqliteSink::open(dir).unwrap();
    let opts = ConsumeOptions {
        idle_exit: Some(Duration::from_secs(2)),
        ..ConsumeOptions::default()
    };
    consume(
        &mut src,
        Decoder::Native,
        &mut sink,
        opts,
        &AtomicBool::new(false),
    )
    .unwrap()
}

#[test]
fn two_publishers_two_consumers_exactly_once() {
    require_redis(REDIS);
    let key = unique("streams2x2");
    let dir = tempdir("streams2x2");
    const N: usize = 20_000;
    let started = Instant::now();
    std::thread::scope(|s| {
        let pa = s.spawn(|| {
            let mut recs = records("a", N);
            // A publisher that retries after an unconfirmed send repeats records: the
            // sink must absorb them.
            recs.extend(records("a", 1000));
            publish(REDIS, &key, recs)
        });
        let pb = s.spawn(|| publish(REDIS, &key, records("b", N)));
        let c1 = s.spawn(|| consume_until_idle(REDIS, &key, "c1", &dir));
        let c2 = s.spawn(|| consume_until_idle(REDIS, &key, "c2", &dir));
        assert_eq!(pa.join().unwrap(), (N + 1000) as u64);
        assert_eq!(pb.join().unwrap(), N as u64);
        let (s1, s2) = (c1.join().unwrap(), c2.join().unwrap());
        println!("consumer 1: {s1:?}\nconsumer 2: {s2:?}");
        assert!(
            s1.records > 0 && s2.records > 0,
            "both consumers took a share"
        );
        assert_eq!(s1.new_records + s2.new_records, 2 * N as u64);
    });
    let sink = SqliteSink::open(&dir).unwrap();
    let n = sink.count(None).unwrap();
    println!(
        "compared {n} records in the store with {} published (+1000 repeats) in {:?}",
        2 * N,
        started.elapsed()
    );
    assert_eq!(n, 2 * N as u64);
    redis_del(REDIS, &[key.clone(), format!("{key}.dead")]);
}

#[test]
fn malformed_messages_are_dead_lettered() {
    let mut conn = require_redis(REDIS);
    let key = unique("streamsbad");
    let dir = tempdir("streamsbad");
    publish(REDIS, &key, records("ok", 10));
    // A raw entry with a broken line, and one without the `d` field.
    let _: String = redis::cmd("XADD")
        .arg(&key)
        .arg("*")
        .arg("n")
        .arg(2)
        .arg("d")
        .arg("{\"id\":\"ok:99\",\"kind\":\"packet\",\"record\":{\"n\":99}}\nnot json at all\n")
        .query(&mut conn)
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(&key)
        .arg("*")
        .arg("x")
        .arg("y")
        .query(&mut conn)
        .unwrap();
    let stats = consume_until_idle(REDIS, &key, "c1", &dir);
    println!("{stats:?}");
    assert_eq!(stats.new_records, 11);
    assert_eq!(stats.dead_lettered, 2);
    let dead: Vec<redis::Value> = redis::cmd("XRANGE")
        .arg(format!("{key}.dead"))
        .arg("-")
        .arg("+")
        .query(&mut conn)
        .unwrap();
    assert_eq!(dead.len(), 2);
    let pending: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(&key)
        .arg("g")
        .arg("-")
        .arg("+")
        .arg(10)
        .query(&mut conn)
        .unwrap();
    assert!(pending.is_empty(), "everything acknowledged");
    println!("compared 11 records and 2 dead letters");
    redis_del(REDIS, &[key.clone(), format!("{key}.dead")]);
}

#[test]
fn a_dead_consumers_pending_entries_are_claimed() {
    require_redis(REDIS);
    let key = unique("streamsclaim");
    let dir = tempdir("streamsclaim");
    publish(REDIS, &key, records("c", 5000));
    // "Dead" consumer: fetches and never acknowledges.
    let mut dead =
        StreamConsumer::open(REDIS, &key, "g", "dead", Duration::from_millis(500)).unwrap();
    let got = dead.fetch(8, Duration::from_millis(100)).unwrap();
    assert!(!got.is_empty());
    drop(dead);
    let stats = consume_until_idle(REDIS, &key, "alive", &dir);
    let n = SqliteSink::open(&dir).unwrap().count(None).unwrap();
    println!("compared {n} records (claimed from the dead consumer: yes) {stats:?}");
    assert_eq!(n, 5000);
    redis_del(REDIS, &[key.clone(), format!("{key}.dead")]);
}

/// A free TCP port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_redis(port: u16, dir: &std::path::Path) -> std::process::Child {
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir.display().to_string(),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("redis-server is required for the restart test: {e}"));
    let url = format!("redis://127.0.0.1:{port}/0");
    for _ in 0..100 {
        if redis::Client::open(url.as_str())
            .unwrap()
            .get_connection_with_timeout(Duration::from_millis(100))
            .is_ok()
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server on port {port} did not start");
}

#[test]
fn broker_restart_mid_stream_loses_and_doubles_nothing() {
    let port = free_port();
    let dir = tempdir("redisrestart");
    let data = dir.join("redis");
    std::fs::create_dir_all(&data).unwrap();
    let url = format!("redis://127.0.0.1:{port}/0");
    let mut server = start_redis(port, &data);
    let key = "restart.records";
    const N: usize = 60_000;
    let store = dir.join("store");
    std::thread::scope(|s| {
        let publisher = s.spawn(|| {
            let mut p = Publisher::start(
                Box::new(StreamPublisher::new(&url, key, 1_000_000)),
                PublisherOptions {
                    batch: 100,
                    ..PublisherOptions::default()
                },
            );
            for (i, r) in records("r", N).into_iter().enumerate() {
                p.publish(r).unwrap();
                if i % 1000 == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            p.finish().unwrap()
        });
        let consumer = s.spawn(|| {
            let mut src =
                StreamConsumer::open(&url, key, "g", "c1", Duration::from_secs(1)).unwrap();
            let mut sink = SqliteSink::open(&store).unwrap();
            let opts = ConsumeOptions {
                idle_exit: Some(Duration::from_secs(4)),
                ..ConsumeOptions::default()
            };
            consume(
                &mut src,
                Decoder::Native,
                &mut sink,
                opts,
                &AtomicBool::new(false),
            )
            .unwrap()
        });
        // Kill the broker mid-stream, then bring it back on the same port and data.
        std::thread::sleep(Duration::from_millis(150));
        server.kill().unwrap();
        server.wait().unwrap();
        std::thread::sleep(Duration::from_millis(700));
        server = start_redis(port, &data);
        let ps = publisher.join().unwrap();
        let cs = consumer.join().unwrap();
        println!("publisher {ps:?}\nconsumer {cs:?}");
        assert!(
            ps.retries > 0 || cs.reconnects > 0,
            "the restart was noticed"
        );
    });
    let n = SqliteSink::open(&store).unwrap().count(None).unwrap();
    println!("compared {n} records in the store with {N} published across a broker restart");
    assert_eq!(n, N as u64);
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
