//! Faucet events through a real RabbitMQ (127.0.0.1:5672, guest/guest), published as
//! Poseidon's event adapter does (topic exchange, key `FAUCET.Event`, one event per body).
//! The exchange name is unique to the run and deleted at the end; the engine's queue is
//! exclusive and auto-deleted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ExchangeDeclareOptions, ExchangeDeleteOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};
use trident_sdn::config::RabbitConfig;
use trident_sdn::yaml::FaucetYaml;
use trident_sdn::{Engine, MirrorControl, SdnConfig};

const URI: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faucet_events_from_rabbitmq() {
    let dir = tempfile::Builder::new()
        .prefix("trident-sdn-rabbit-")
        .tempdir()
        .unwrap();
    let exchange = format!(
        "trident-sdn-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let conn = Connection::connect(URI, ConnectionProperties::default())
        .await
        .expect("RabbitMQ must be running on 127.0.0.1:5672 (see .ci/setup.d/25-rabbitmq.sh)");
    let ch = conn.create_channel().await.unwrap();
    ch.exchange_declare(
        exchange.as_str().into(),
        ExchangeKind::Topic,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();

    let yaml = dir.path().join("faucet.yaml");
    std::fs::write(
        &yaml,
        "dps:\n  sw1:\n    interfaces:\n      2:\n        native_vlan: 100\n      3:\n        output_only: true\n",
    )
    .unwrap();
    let mut cfg = SdnConfig::default();
    cfg.data_dir = dir.path().join("data");
    cfg.rabbit = Some(RabbitConfig {
        uri: URI.into(),
        exchange: exchange.clone(),
        routing_key: "FAUCET.Event".into(),
        queue: String::new(),
    });
    cfg.mirror_ports.insert("sw1".into(), 3);
    let mirror: Arc<dyn MirrorControl> = Arc::new(FaucetYaml::new(&yaml).with_check(None));
    let engine = Engine::open(cfg, mirror).unwrap();
    let h = engine.handle();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async move {
        let _ = rx.await;
    }));
    let start = Instant::now();
    while h.status().source_connects == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never connected: {:?}",
            h.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/poseidon/faucet-events.ndjson"),
    )
    .unwrap();
    for line in events.lines() {
        ch.basic_publish(
            exchange.as_str().into(),
            "FAUCET.Event".into(),
            BasicPublishOptions::default(),
            line.as_bytes(),
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    // Not an event: counted as malformed, not fatal.
    ch.basic_publish(
        exchange.as_str().into(),
        "FAUCET.Event".into(),
        BasicPublishOptions::default(),
        b"garbage",
        BasicProperties::default(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    while h.status().events.by_kind.get("L2_LEARN") != Some(&2)
        || h.status().events.malformed_total() != 1
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            h.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let eps = h.endpoints();
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0].id, "b3340f2b9116f9118cf9f958a6a49fdb07b2b661");
    println!(
        "via RabbitMQ: {}",
        serde_json::to_string(&h.status().events).unwrap()
    );
    let _ = tx.send(());
    task.await.unwrap().unwrap();
    ch.exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
        .await
        .unwrap();
    let _ = conn.close(200, "bye".into()).await;
}
