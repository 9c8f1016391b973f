//! Helpers for the broker tests: real Redis (DB 5, unique keys) and RabbitMQ (guest/guest,
//! unique names), failing loudly when a broker is missing.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use trident_stream::{Record, RecordKind};

/// The Redis the tests use: the machine's, database 5 (crates/index uses 7-15).
pub const REDIS: &str = "redis://127.0.0.1:6379/5";
/// The RabbitMQ the tests use.
pub const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("trident-test.{prefix}.{}.{ns}", std::process::id())
}

/// Panics with a clear message when Redis does not answer.
pub fn require_redis(url: &str) -> redis::Connection {
    let client = redis::Client::open(url).unwrap();
    client
        .get_connection_with_timeout(std::time::Duration::from_secs(2))
        .unwrap_or_else(|e| {
            panic!("Redis at {url} is required for this test (.ci/run starts it): {e}")
        })
}

/// Panics with a clear message when RabbitMQ does not answer.
pub fn require_amqp() {
    if std::net::TcpStream::connect("127.0.0.1:5672").is_err() {
        panic!(
            "RabbitMQ on 127.0.0.1:5672 is required for this test (.ci/setup.d/25-rabbitmq.sh starts it)"
        );
    }
}

/// Deletes Redis keys.
pub fn redis_del(url: &str, keys: &[String]) {
    let mut c = require_redis(url);
    let _: () = redis::cmd("DEL").arg(keys).query(&mut c).unwrap();
}

/// `n` distinct packet-like records with ids `prefix:i`.
pub fn records(prefix: &str, n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            id: format!("{prefix}:{i}"),
            kind: RecordKind::Packet,
            body: format!(r#"{{"n":{i},"src":"{prefix}","ip_src":"10.0.0.1","len":60}}"#),
        })
        .collect()
}

/// A fresh temporary directory.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&d).unwrap();
    d
}
