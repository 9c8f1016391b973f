//! Replay throughput: 10,000 endpoints, their events served as fast as a Unix socket takes
//! them, engine and source on one thread (a current-thread runtime = one core). Target
//! from the issue: 1,000 events/s without falling behind. Prints the measured rate.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use trident_sdn::yaml::FaucetYaml;
use trident_sdn::{Engine, MirrorControl, SdnConfig};

const ENDPOINTS: u32 = 10_000;
const ROUNDS: u32 = 5;

fn line(id: u64, i: u32, port: u32) -> String {
    format!(
        "{{\"version\": 1, \"time\": 1795359842.941942, \"dp_id\": 1, \"dp_name\": \"sw1\", \"event_id\": {id}, \"L2_LEARN\": {{\"port_no\": {port}, \"previous_port_no\": null, \"vid\": 100, \"eth_src\": \"0e:00:00:{:02x}:{:02x}:{:02x}\", \"eth_dst\": \"ff:ff:ff:ff:ff:ff\", \"eth_type\": 2054, \"l3_src_ip\": \"10.{}.{}.{}\", \"l3_dst_ip\": \"10.0.0.1\"}}}}\n",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff,
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff,
    )
}

#[tokio::test(flavor = "current_thread")]
async fn replay_10k_endpoints_throughput() {
    let dir = tempfile::Builder::new()
        .prefix("trident-sdn-bench-")
        .tempdir()
        .unwrap();
    let yaml = dir.path().join("faucet.yaml");
    std::fs::write(
        &yaml,
        "dps:\n  sw1:\n    dp_id: 1\n    interfaces:\n      1:\n        native_vlan: 100\n      3:\n        output_only: true\n",
    )
    .unwrap();
    let mut cfg = SdnConfig::default();
    cfg.event_socket = Some(dir.path().join("faucet.sock"));
    cfg.data_dir = dir.path().join("data");
    cfg.mirror_ports.insert("sw1".into(), 3);
    cfg.max_concurrent_reinvestigations = 2;
    cfg.capture_seconds = 600;
    let mut events = String::new();
    let mut id = 0u64;
    for round in 0..ROUNDS {
        for i in 0..ENDPOINTS {
            id += 1;
            // Every fifth round moves hosts to another port (an update, not just a touch).
            let port = 1 + (i + round / 4) % 40;
            events.push_str(&line(id, i, port));
        }
    }
    let total = u64::from(ENDPOINTS * ROUNDS);
    let listener = UnixListener::bind(cfg.event_socket.as_ref().unwrap()).unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(events.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
    let mirror: Arc<dyn MirrorControl> = Arc::new(FaucetYaml::new(&yaml).with_check(None));
    let engine = Engine::open(cfg, mirror).unwrap();
    let h = engine.handle();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async move {
        let _ = rx.await;
    }));
    let start = Instant::now();
    loop {
        let n: u64 = h.status().events.by_kind.values().sum();
        if n >= total {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "stalled at {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = total as f64 / secs;
    println!(
        "replayed {total} events for {ENDPOINTS} endpoints in {secs:.2} s on one thread: {rate:.0} events/s"
    );
    assert_eq!(h.endpoints().len(), ENDPOINTS as usize);
    assert!(h.status().operating <= 2);
    let _ = tx.send(());
    task.await.unwrap().unwrap();
    server.abort();
    assert!(
        rate >= 1_000.0,
        "{rate:.0} events/s is below the 1,000/s target"
    );
}
