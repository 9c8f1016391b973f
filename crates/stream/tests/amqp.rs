//! RabbitMQ against the real broker (127.0.0.1:5672, guest/guest, unique exchange and
//! queue names, deleted afterwards): two publishers and two competing consumers, a
//! malformed message, a consumer that dies holding unacknowledged messages.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::{AMQP, records, require_amqp, tempdir, unique};
use lapin::options::{BasicPublishOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use trident_stream::amqp::{AmqpConsumer, AmqpPublisher, Topology};
use trident_stream::consume::Source;
use trident_stream::sink::SqliteSink;
use trident_stream::{ConsumeOptions, Decoder, Publisher, PublisherOptions, consume};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Deletes the test's queues and exchange.
fn cleanup(name: &str) {
    rt().block_on(async {
        let c = Connection::connect(AMQP, ConnectionProperties::default())
            .await
            .unwrap();
        let ch = c.create_channel().await.unwrap();
        for q in [name.to_owned(), format!("{name}.dead")] {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = ch
            .exchange_delete(name.into(), ExchangeDeleteOptions::default())
            .await;
    });
}

fn publish(name: &str, recs: Vec<trident_stream::Record>) -> u64 {
    let mut p = Publisher::start(
        Box::new(AmqpPublisher::new(AMQP, Topology::trident(name))),
        PublisherOptions::default(),
    );
    for r in recs {
        p.publish(r).unwrap();
    }
    p.finish().unwrap().records
}

fn consume_until_idle(
    name: &str,
    tag: &str,
    dir: &std::path::Path,
) -> trident_stream::ConsumeStats {
    let mut src = AmqpConsumer::open(AMQP, Topology::trident(name), 64, tag).unwrap();
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
    require_amqp();
    let name = unique("amqp2x2");
    let dir = tempdir("amqp2x2");
    const N: usize = 20_000;
    let started = Instant::now();
    // Declare the queue before anyone publishes (a publisher's first connect does it too).
    drop(AmqpConsumer::open(AMQP, Topology::trident(&name), 1, "declare").unwrap());
    std::thread::scope(|s| {
        let pa = s.spawn(|| {
            let mut recs = records("a", N);
            recs.extend(records("a", 1000));
            publish(&name, recs)
        });
        let pb = s.spawn(|| publish(&name, records("b", N)));
        let c1 = s.spawn(|| consume_until_idle(&name, "c1", &dir));
        let c2 = s.spawn(|| consume_until_idle(&name, "c2", &dir));
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
    let n = SqliteSink::open(&dir).unwrap().count(None).unwrap();
    println!(
        "compared {n} records in the store with {} published (+1000 repeats) in {:?}",
        2 * N,
        started.elapsed()
    );
    assert_eq!(n, 2 * N as u64);
    cleanup(&name);
}

#[test]
fn unacknowledged_messages_of_a_dead_consumer_come_again() {
    require_amqp();
    let name = unique("amqpdead");
    let dir = tempdir("amqpdead");
    drop(AmqpConsumer::open(AMQP, Topology::trident(&name), 1, "declare").unwrap());
    publish(&name, records("d", 3000));
    // A consumer that takes messages and dies without acknowledging them.
    let mut dead = AmqpConsumer::open(AMQP, Topology::trident(&name), 8, "dead").unwrap();
    let got = dead.fetch(8, Duration::from_secs(2)).unwrap();
    assert!(!got.is_empty());
    drop(dead);
    let stats = consume_until_idle(&name, "alive", &dir);
    let n = SqliteSink::open(&dir).unwrap().count(None).unwrap();
    println!(
        "compared {n} records after a consumer died holding {} messages {stats:?}",
        got.len()
    );
    assert_eq!(n, 3000);
    cleanup(&name);
}

#[test]
fn malformed_messages_are_dead_lettered() {
    require_amqp();
    let name = unique("amqpbad");
    let dir = tempdir("amqpbad");
    drop(AmqpConsumer::open(AMQP, Topology::trident(&name), 1, "declare").unwrap());
    publish(&name, records("ok", 10));
    rt().block_on(async {
        let c = Connection::connect(AMQP, ConnectionProperties::default())
            .await
            .unwrap();
        let ch = c.create_channel().await.unwrap();
        for body in [&b"\xff\xfe not utf8"[..], b"", b"{\"id\":1}"] {
            ch.basic_publish(
                name.as_str().into(),
                name.as_str().into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    });
    let stats = consume_until_idle(&name, "c1", &dir);
    println!("{stats:?}");
    assert_eq!(stats.new_records, 10);
    assert_eq!(stats.dead_lettered, 3);
    let dead = AmqpConsumer::open(
        AMQP,
        Topology {
            exchange: format!("{name}.dead.x"),
            kind: lapin::ExchangeKind::Direct,
            routing_key: format!("{name}.dead"),
            queue: format!("{name}.dead"),
        },
        16,
        "dl",
    );
    let mut dead = dead.unwrap();
    // `fetch` returns what the broker has pushed so far once the first message is in:
    // keep fetching until the three letters are in or the broker has been quiet for 2 s.
    let mut letters = Vec::new();
    while letters.len() < 3 {
        let got = dead.fetch(16, Duration::from_secs(2)).unwrap();
        if got.is_empty() {
            break;
        }
        letters.extend(got);
    }
    assert_eq!(letters.len(), 3);
    let first: serde_json::Value = serde_json::from_slice(&letters[0].payload).unwrap();
    assert!(first["reason"].as_str().unwrap().contains("UTF-8"));
    println!("compared 10 records and 3 dead letters");
    drop(dead);
    cleanup(&name);
    rt().block_on(async {
        let c = Connection::connect(AMQP, ConnectionProperties::default())
            .await
            .unwrap();
        let ch = c.create_channel().await.unwrap();
        let _ = ch
            .exchange_delete(
                format!("{name}.dead.x").as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
    });
}
