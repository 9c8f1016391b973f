//! AntiNex's transport against the real brokers: the golden archive's packets published
//! as AntiNex's capture agents do (kombu envelopes on the `NEW_PACKETS` Redis list, or on
//! RabbitMQ's topic exchange) and consumed into a `--compat antinex-bugs` dataset give the
//! processor's CSV byte for byte.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{AMQP, REDIS, redis_del, require_amqp, require_redis, tempdir, unique};
use trident_stream::amqp::{AmqpConsumer, AmqpPublisher, Topology};
use trident_stream::consume::Source;
use trident_stream::redis_list::{ListConsumer, ListPublisher};
use trident_stream::sink::{DatasetLayout, DatasetSink, archive_records};
use trident_stream::{ConsumeOptions, Decoder, Publisher, PublisherOptions, consume};

fn golden() -> PathBuf {
    let d = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("antinex/golden-flatten-django-1100");
    assert!(
        d.is_dir(),
        "golden AntiNex data not found at {}",
        d.display()
    );
    d
}

fn run_into_dataset(src: &mut dyn Source, out: &std::path::Path) -> trident_stream::ConsumeStats {
    let mut sink = DatasetSink::open(out, DatasetLayout::AntinexBugs, 100).unwrap();
    let opts = ConsumeOptions {
        idle_exit: Some(Duration::from_secs(2)),
        ..ConsumeOptions::default()
    };
    consume(
        src,
        Decoder::Antinex,
        &mut sink,
        opts,
        &AtomicBool::new(false),
    )
    .unwrap()
}

#[test]
fn golden_through_kombu_redis_list() {
    let mut conn = require_redis(REDIS);
    let dir = golden();
    let records = archive_records(&dir.join("packets-netdata-2018-01-28-23-06-05.json")).unwrap();
    let expected = std::fs::read(dir.join("netdata-2018-01-28-23-06-05.csv")).unwrap();
    let queue = unique("NEW_PACKETS");
    let mut p = Publisher::start(
        Box::new(ListPublisher::new(REDIS, &queue)),
        PublisherOptions::default(),
    );
    for r in records.iter().cloned() {
        p.publish(r).unwrap();
    }
    p.finish().unwrap();
    let len: usize = redis::cmd("LLEN").arg(&queue).query(&mut conn).unwrap();
    assert_eq!(len, 1100);
    // A consumer that dies holding messages: its processing list is replayed on restart.
    let mut dead = ListConsumer::open(REDIS, &queue, "c1").unwrap();
    let held = dead.fetch(50, Duration::from_millis(200)).unwrap();
    assert_eq!(held.len(), 50);
    drop(dead);
    let out = tempdir("kombu").join("netdata.csv");
    let mut src = ListConsumer::open(REDIS, &queue, "c1").unwrap();
    let stats = run_into_dataset(&mut src, &out);
    println!("{stats:?}");
    let got = std::fs::read(&out).unwrap();
    println!(
        "compared {} packets through a kombu Redis list: CSV {} bytes",
        records.len(),
        got.len()
    );
    assert!(got == expected, "CSV differs from the golden file");
    let left: usize = redis::cmd("LLEN")
        .arg(format!("{queue}.trident.processing.c1"))
        .query(&mut conn)
        .unwrap();
    assert_eq!(left, 0, "every message acknowledged");
    redis_del(
        REDIS,
        &[
            queue.clone(),
            format!("_kombu.binding.{queue}"),
            format!("{queue}.trident.processing.c1"),
        ],
    );
}

#[test]
fn golden_through_rabbitmq_topic_exchange() {
    require_amqp();
    let dir = golden();
    let records = archive_records(&dir.join("packets-netdata-2018-01-28-23-06-05.json")).unwrap();
    let expected = std::fs::read(dir.join("netdata-2018-01-28-23-06-05.csv")).unwrap();
    let name = unique("NEW_PACKETS");
    let mut src = AmqpConsumer::open(AMQP, Topology::antinex(&name), 256, "c1").unwrap();
    let mut p = Publisher::start(
        Box::new(AmqpPublisher::new(AMQP, Topology::antinex(&name))),
        PublisherOptions::default(),
    );
    for r in records.iter().cloned() {
        p.publish(r).unwrap();
    }
    p.finish().unwrap();
    let out = tempdir("amqpantinex").join("netdata.csv");
    let stats = run_into_dataset(&mut src, &out);
    println!("{stats:?}");
    let got = std::fs::read(&out).unwrap();
    println!(
        "compared {} packets through RabbitMQ: CSV {} bytes",
        records.len(),
        got.len()
    );
    assert!(got == expected, "CSV differs from the golden file");
    drop(src);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = lapin::Connection::connect(AMQP, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let ch = c.create_channel().await.unwrap();
        let _ = ch
            .queue_delete(name.as_str().into(), Default::default())
            .await;
        let _ = ch
            .exchange_delete(name.as_str().into(), Default::default())
            .await;
    });
}
