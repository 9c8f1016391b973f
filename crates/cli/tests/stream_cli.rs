//! `trident consume`, `--publish` and `trident dataset` end to end, against the real Redis
//! (database 5, unique keys) and RabbitMQ (guest/guest, unique names): a consumer killed
//! with SIGKILL mid-stream and restarted leaves every record exactly once in the store.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use trident_stream::amqp::{AmqpPublisher, Topology};
use trident_stream::publish::Transport;
use trident_stream::redis_streams::StreamPublisher;
use trident_stream::sink::SqliteSink;
use trident_stream::{Publisher, PublisherOptions, Record, RecordKind};

const REDIS: &str = "redis://127.0.0.1:6379/5";
const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn unique(prefix: &str) -> String {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("trident-test.{prefix}.{}.{ns}", std::process::id())
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn require_redis() -> redis::Connection {
    redis::Client::open(REDIS)
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("Redis at {REDIS} is required (.ci/run starts it): {e}"))
}

fn require_amqp() {
    assert!(
        std::net::TcpStream::connect("127.0.0.1:5672").is_ok(),
        "RabbitMQ on 127.0.0.1:5672 is required (.ci/setup.d/25-rabbitmq.sh starts it)"
    );
}

fn publish_all(transport: Box<dyn Transport>, n: usize) {
    let mut p = Publisher::start(transport, PublisherOptions::default());
    for i in 0..n {
        p.publish(Record {
            id: format!("k:{i}"),
            kind: RecordKind::Packet,
            body: format!(r#"{{"frame":{i},"ip_src":"10.1.2.3","ip_dst":"10.3.2.1","len":1500}}"#),
        })
        .unwrap();
    }
    p.finish().unwrap();
}

fn consumer(url: &str, topic: &str, data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trident"))
        .args([
            "consume",
            url,
            "--topic",
            topic,
            "--group",
            "g",
            "--consumer",
            "c1",
        ])
        .args(["--claim-idle-ms", "1000", "--idle-exit", "3", "--data-dir"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn store_count(data: &Path) -> u64 {
    if !data.join("stream.sqlite").exists() {
        return 0;
    }
    SqliteSink::open(data)
        .and_then(|s| s.count(None))
        .unwrap_or(0)
}

/// Starts a consumer, SIGKILLs it once it has stored some but not all records, restarts
/// it, and checks the store holds each record exactly once.
fn kill_and_restart(url: &str, topic: &str, n: u64) {
    let data = tempdir("kill9");
    let mut c = consumer(url, topic, &data);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut at_kill = 0;
    while Instant::now() < deadline {
        at_kill = store_count(&data);
        if at_kill > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    c.kill().unwrap(); // SIGKILL
    c.wait().unwrap();
    assert!(
        at_kill > 0 && at_kill < n,
        "killed mid-stream ({at_kill} of {n} stored)"
    );
    let c = consumer(url, topic, &data);
    let out = c.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let got = store_count(&data);
    println!(
        "{url}: killed with {at_kill} of {n} stored; after restart compared {got} records: {}",
        err.trim()
    );
    assert_eq!(got, n, "every record exactly once");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn redis_streams_consumer_killed_mid_stream() {
    let mut conn = require_redis();
    let key = unique("kill9");
    const N: usize = 300_000;
    publish_all(Box::new(StreamPublisher::new(REDIS, &key, 1_000_000)), N);
    kill_and_restart(REDIS, &key, N as u64);
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg(format!("{key}.dead"))
        .query(&mut conn)
        .unwrap();
}

#[test]
fn rabbitmq_consumer_killed_mid_stream() {
    require_amqp();
    let name = unique("kill9");
    const N: usize = 300_000;
    // The publisher declares the durable queue, so messages wait for the consumer.
    publish_all(
        Box::new(AmqpPublisher::new(AMQP, Topology::trident(&name))),
        N,
    );
    kill_and_restart(AMQP, &name, N as u64);
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

#[test]
fn decode_and_flows_publish_then_consume() {
    let mut conn = require_redis();
    let pcap = common::shared().join("corpus/pcapplusplus/many-protocols.pcap");
    let data = tempdir("pubcons");
    let key = unique("pubcons");
    for cmd in ["decode", "flows"] {
        let out = common::trident(&[
            cmd,
            "-q",
            "--publish",
            REDIS,
            "--topic",
            &key,
            pcap.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = common::trident(&[
        "consume",
        REDIS,
        "--topic",
        &key,
        "--idle-exit",
        "1",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flows = common::trident(&["flows", "-q", pcap.to_str().unwrap()]);
    let n_flows = String::from_utf8_lossy(&flows.stdout).lines().count() as u64;
    let sink = SqliteSink::open(&data).unwrap();
    let packets = sink.count(Some(RecordKind::Packet)).unwrap();
    let flow_records = sink.count(Some(RecordKind::Flow)).unwrap();
    println!(
        "compared {packets} packet records (4709 in the capture) and {flow_records} flow records ({n_flows} from trident flows)"
    );
    assert_eq!(packets, 4709);
    assert_eq!(flow_records, n_flows);
    // Publishing the same capture again adds nothing: the ids are the same.
    let out = common::trident(&[
        "decode",
        "-q",
        "--publish",
        REDIS,
        "--topic",
        &key,
        pcap.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let out = common::trident(&[
        "consume",
        REDIS,
        "--topic",
        &key,
        "--idle-exit",
        "1",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(
        SqliteSink::open(&data)
            .unwrap()
            .count(Some(RecordKind::Packet))
            .unwrap(),
        4709
    );
    let _: () = redis::cmd("DEL").arg(&key).query(&mut conn).unwrap();
}

fn golden() -> PathBuf {
    common::shared().join("antinex/golden-flatten-django-1100")
}

#[test]
fn dataset_from_golden_archive_is_byte_identical() {
    let out = tempdir("dataset").join("netdata.csv");
    let r = common::trident(&[
        "dataset",
        "--compat",
        "antinex-bugs",
        "--save-after",
        "100",
        "-o",
        out.to_str().unwrap(),
        golden()
            .join("packets-netdata-2018-01-28-23-06-05.json")
            .to_str()
            .unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let expected = std::fs::read(golden().join("netdata-2018-01-28-23-06-05.csv")).unwrap();
    let got = std::fs::read(&out).unwrap();
    println!(
        "compared {} bytes (1100 packets) with the golden CSV",
        expected.len()
    );
    assert!(got == expected);
}

#[test]
fn antinex_publish_and_consume_through_kombu_list() {
    let mut conn = require_redis();
    let pcap = common::shared().join("corpus/pcapplusplus/many-protocols.pcap");
    let queue = unique("NEW_PACKETS");
    let out = common::trident(&[
        "decode",
        "-q",
        "--publish",
        REDIS,
        "--compat",
        "antinex",
        "--topic",
        &queue,
        pcap.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queued: u64 = redis::cmd("LLEN").arg(&queue).query(&mut conn).unwrap();
    // One item in AntiNex's format: kombu's envelope around a base64 packet envelope.
    let item: Vec<u8> = redis::cmd("LINDEX")
        .arg(&queue)
        .arg(-1)
        .query(&mut conn)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&item).unwrap();
    assert_eq!(v["properties"]["body_encoding"], "base64");
    assert_eq!(v["content-type"], "application/json");
    let csv = tempdir("antinexds").join("netdata.csv");
    let r = common::trident(&[
        "consume",
        REDIS,
        "--compat",
        "antinex",
        "--topic",
        &queue,
        "--idle-exit",
        "1",
        "--dataset",
        csv.to_str().unwrap(),
        "--fill",
        "-1.0",
        "--consumer",
        "c1",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows = text.lines().count() as u64 - 1;
    println!("compared {rows} dataset rows with {queued} AntiNex messages");
    assert_eq!(rows, queued);
    assert!(text.starts_with("idx,arp_hwdst,"));
    let _: () = redis::cmd("DEL")
        .arg(&queue)
        .arg(format!("_kombu.binding.{queue}"))
        .arg(format!("{queue}.trident.processing.c1"))
        .query(&mut conn)
        .unwrap();
}
