//! The engine end to end without a switch: real Faucet events replayed through a real Unix
//! socket by a single-client server that behaves like Faucet (drops the connection, splits
//! lines across writes, sends malformed lines and heartbeats), mirrors written into a copy
//! of the shared faucet.yaml, the HTTP API checked against Poseidon's shape, and a restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tower::ServiceExt;
use trident_sdn::api::{self, Network, NetworkFull};
use trident_sdn::yaml::FaucetYaml;
use trident_sdn::{Engine, EngineHandle, MirrorControl, SdnConfig, State};

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/poseidon")
        .join(name)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trident-sdn-test-")
        .tempdir()
        .unwrap()
}

fn config(dir: &Path) -> SdnConfig {
    let mut c = SdnConfig::default();
    c.event_socket = Some(dir.join("faucet.sock"));
    c.data_dir = dir.join("data");
    c.mirror_ports.insert("sw1".into(), 3);
    c.max_concurrent_reinvestigations = 1;
    c.capture_seconds = 1;
    c.reinvestigation_frequency = 3600;
    c
}

async fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get(app: &axum::Router, uri: &str) -> (axum::http::StatusCode, String, Vec<u8>) {
    let resp = app
        .clone()
        .oneshot(axum::http::Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ct, body)
}

fn mirror_list(path: &Path) -> Vec<u32> {
    FaucetYaml::new(path)
        .with_check(None)
        .mirror_list("sw1", 3)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_through_socket_mirror_api_restart() {
    let dir = tempdir();
    let yaml_path = dir.path().join("faucet.yaml");
    std::fs::copy(shared("faucet.yaml"), &yaml_path).unwrap();
    let events = std::fs::read_to_string(shared("faucet-events.ndjson")).unwrap();
    let lines: Vec<String> = events.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 5);
    let cfg = config(dir.path());
    let listener = UnixListener::bind(cfg.event_socket.as_ref().unwrap()).unwrap();

    // Faucet-like server: first connection gets the first two events, a line cut in two
    // writes, then closes mid-line; the second gets malformed lines, the rest, and a
    // heartbeat, then stays open.
    let server_lines = lines.clone();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        for l in &server_lines[..2] {
            s.write_all(format!("{l}\n").as_bytes()).await.unwrap();
        }
        let third = &server_lines[2];
        let (a, b) = third.split_at(third.len() / 2);
        s.write_all(a.as_bytes()).await.unwrap();
        s.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.write_all(format!("{b}\n").as_bytes()).await.unwrap();
        s.write_all(b"{\"version\": 1, \"time\": 1.0, \"dp_id\"")
            .await
            .unwrap();
        drop(s); // disconnect mid-line
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"this is not json\n").await.unwrap();
        s.write_all(b"{\"version\": 1, \"time\": 1, \"dp_id\": 1, \"dp_name\": \"sw1\", \"event_id\": 30, \"FUTURE_EVENT\": {}}\n").await.unwrap();
        s.write_all(b"\n").await.unwrap();
        for l in &server_lines[3..] {
            s.write_all(format!("{l}\n").as_bytes()).await.unwrap();
        }
        s.write_all(b"{\"version\": 1, \"time\": 2, \"dp_id\": 0, \"dp_name\": \"0\", \"event_id\": 31, \"EVENT_SOCK_HEARTBEAT\": null}\n").await.unwrap();
        // A second client while the first is connected would be refused by Faucet; we
        // just hold this one open until the test ends.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    });

    let mirror: Arc<dyn MirrorControl> = Arc::new(FaucetYaml::new(&yaml_path).with_check(None));
    let engine = Engine::open(cfg.clone(), mirror.clone()).unwrap();
    let h = engine.handle();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async move {
        let _ = stop_rx.await;
    }));

    // Start-up cleanup cleared the stale `mirror: [1]`.
    wait_for("events", 10, || {
        h.status().events.by_kind.get("EVENT_SOCK_HEARTBEAT") == Some(&1)
    })
    .await;
    let st = h.status();
    println!(
        "status after replay: {}",
        serde_json::to_string(&st).unwrap()
    );
    assert!(st.events.malformed.get("not_json").copied().unwrap_or(0) >= 1);
    assert!(
        st.events
            .malformed
            .get("truncated_line")
            .copied()
            .unwrap_or(0)
            >= 1
    );
    assert_eq!(st.events.unknown, 1);
    assert_eq!(st.events.by_kind.get("L2_LEARN"), Some(&2));
    assert!(st.events.last_seen.contains_key("L2_LEARN"));
    assert_eq!(st.source_connects, 2, "expected one reconnect");
    // One endpoint: 56:f8:a0:89:58:d1 on sw1 port 2 (learned twice); the L2_EXPIRE is for
    // a MAC never learned here.
    let eps = h.endpoints();
    assert_eq!(eps.len(), 1, "{eps:?}");
    let e = &eps[0];
    assert_eq!(e.id, "b3340f2b9116f9118cf9f958a6a49fdb07b2b661");
    assert_eq!(e.ipv4.unwrap().to_string(), "10.0.0.2");
    assert!(e.active, "re-learned after the port came back");
    // Re-learned at the last line, so it is active again and gets scheduled.
    // The state changes before the unmirror reaches faucet.yaml: wait for both.
    wait_for("a mirror and its removal", 15, || {
        let e = &h.endpoints()[0];
        e.captures >= 1 && e.state != State::Operating && mirror_list(&yaml_path).is_empty()
    })
    .await;
    assert_eq!(mirror_list(&yaml_path), Vec::<u32>::new());
    let hist = h.history(&e.id).unwrap();
    let kinds: Vec<&str> = hist.iter().map(|x| x.kind.as_str()).collect();
    println!("history kinds: {kinds:?}");
    assert!(kinds.contains(&"mirror") && kinds.contains(&"unmirror"));
    // While operating, port 2 was in the mirror list: check via the yaml history.
    assert!(
        hist.iter()
            .any(|x| x.kind == "mirror" && x.detail == "sw1 port 2")
    );

    // HTTP API: Poseidon's shape.
    let app = api::router(h.clone());
    let (s, ct, body) = get(&app, "/v1").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/plain"));
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"["/v1","/v1/info","/v1/network","/v1/network/{ip}","/v1/network_full"]"#
    );
    let (_, _, body) = get(&app, "/v1/info").await;
    assert_eq!(String::from_utf8(body).unwrap(), r#"{"version":"0.18.2"}"#);
    let (s, ct, body) = get(&app, "/v1/network").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("application/json"));
    let text = String::from_utf8(body.clone()).unwrap();
    let keys_in_order = [
        "hash_id",
        "mac",
        "ipv4_address",
        "ipv6_address",
        "ipv4_subnet",
        "ipv6_subnet",
        "tenant",
        "segment",
        "port",
        "state",
        "ignore",
        "top_role",
        "top_confidence",
        "ipv4_os",
        "ipv6_os",
        "ipv4_rdns",
        "ipv6_rdns",
        "ether_vendor",
        "controller_type",
        "acls",
    ];
    let mut at = 0;
    for k in keys_in_order {
        let pos = text[at..]
            .find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} missing or out of order in {text}"));
        at += pos;
    }
    let net: Network = serde_json::from_slice(&body).unwrap();
    assert_eq!(net.dataset.len(), 1);
    let n = &net.dataset[0];
    assert_eq!(n.tenant, "VLAN100");
    assert_eq!(n.segment, "sw1");
    assert_eq!(n.port, "2");
    assert_eq!(n.ignore, "False");
    assert_eq!(n.ipv4_subnet, "10.0.0.0/24");
    assert_eq!(n.ipv6_subnet, "NO DATA");
    assert_eq!(n.controller_type, "faucet");
    assert_eq!(n.acls, "[]");
    assert_eq!(net.configuration.fields.len(), 20);
    assert_eq!(net.configuration.fields[0].display_name, "ID");
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        raw["configuration"]["fields"][1],
        serde_json::json!({"path": ["mac"], "displayName": "MAC Address", "groupable": "true"})
    );
    // {ip} is applied.
    let (_, _, body) = get(&app, "/v1/network/10.0.0.2").await;
    assert_eq!(
        serde_json::from_slice::<Network>(&body)
            .unwrap()
            .dataset
            .len(),
        1
    );
    let (_, _, body) = get(&app, "/v1/network/10.9.9.9").await;
    assert_eq!(
        serde_json::from_slice::<Network>(&body)
            .unwrap()
            .dataset
            .len(),
        0
    );
    let (_, _, body) = get(&app, "/v1/network_full").await;
    let full: NetworkFull = serde_json::from_slice(&body).unwrap();
    assert_eq!(full.dataset.len(), 1);
    let (s, _, body) = get(&app, "/api/v1/sdn/metrics").await;
    assert_eq!(s, 200);
    let metrics = String::from_utf8(body).unwrap();
    assert!(
        metrics.contains("trident_sdn_events_total{kind=\"L2_LEARN\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("trident_sdn_endpoints{state="));

    // Commands through the handle.
    assert_eq!(h.ignore("10.0.0.2").await.unwrap().len(), 1);
    assert!(h.endpoints()[0].ignore);
    h.clear(&e.id).await.unwrap();
    assert!(h.change("nope", trident_sdn::Trigger::Known).await.is_err());
    h.change(&e.id, trident_sdn::Trigger::Known).await.unwrap();
    assert_eq!(h.endpoints()[0].state, State::Known);

    // Bad faucet.yaml: clear error, table intact, file untouched.
    let good = std::fs::read_to_string(&yaml_path).unwrap();
    std::fs::write(&yaml_path, "dps:\n  sw1: [\n").unwrap();
    let err = mirror
        .add_port_mirror("sw1", 2, 3)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("faucet.yaml") && err.contains("line"), "{err}");
    let err = FaucetYaml::new(&yaml_path).with_check(None).apply(
        "sw1",
        3,
        trident_sdn::yaml::Edit::Add(2),
    );
    assert!(err.is_err());
    assert_eq!(
        std::fs::read_to_string(&yaml_path).unwrap(),
        "dps:\n  sw1: [\n"
    );
    h.change(&e.id, trident_sdn::Trigger::Operate)
        .await
        .unwrap();
    let st = h.status();
    assert!(st.last_error.unwrap_or_default().contains("faucet.yaml"));
    assert_eq!(h.endpoints().len(), 1);
    assert_ne!(h.endpoints()[0].state, State::Operating);
    std::fs::write(&yaml_path, &good).unwrap();

    // Shutdown: every mirror removed; restart restores the table.
    let _ = stop_tx.send(());
    task.await.unwrap().unwrap();
    assert_eq!(mirror_list(&yaml_path), Vec::<u32>::new());
    let before = h.endpoints();
    let engine = Engine::open(cfg.clone(), mirror.clone()).unwrap();
    let h2: EngineHandle = engine.handle();
    let after = h2.endpoints();
    assert_eq!(after.len(), before.len());
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].captures, before[0].captures);
    assert!(h2.history(&after[0].id).unwrap().len() >= hist.len());
    server.abort();
}

/// faucet.yaml edits on the shared file change only the mirror list (everything else
/// parses to the same document, and the text outside that line is byte-identical).
#[test]
fn shared_faucet_yaml_round_trip() {
    let dir = tempdir();
    let path = dir.path().join("faucet.yaml");
    std::fs::copy(shared("faucet.yaml"), &path).unwrap();
    let original = std::fs::read_to_string(&path).unwrap();
    let y = FaucetYaml::new(&path).with_check(None);
    y.apply("sw1", 3, trident_sdn::yaml::Edit::Add(2)).unwrap();
    assert_eq!(y.mirror_list("sw1", 3).unwrap(), vec![1, 2]);
    let edited = std::fs::read_to_string(&path).unwrap();
    let diff: Vec<(&str, &str)> = original
        .lines()
        .zip(edited.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        diff,
        vec![("        mirror: [1]", "        mirror: [1, 2]")]
    );
    y.apply("sw1", 3, trident_sdn::yaml::Edit::Remove(2))
        .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    y.apply("sw1", 3, trident_sdn::yaml::Edit::Clear).unwrap();
    assert_eq!(y.mirror_list("sw1", 3).unwrap(), Vec::<u32>::new());
    y.apply("sw1", 3, trident_sdn::yaml::Edit::Add(1)).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    // Missing mirror port / DP: a clear error naming them.
    let e = y
        .apply("sw1", 9, trident_sdn::yaml::Edit::Add(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("sw1") && e.contains('9'), "{e}");
    // With Faucet's own checker when it is installed.
    if let Some(check) = FaucetYaml::new(&path).check_command() {
        println!("validating with {}", check.display());
        let y = FaucetYaml::new(&path);
        y.apply("sw1", 3, trident_sdn::yaml::Edit::Add(2)).unwrap();
        y.apply("sw1", 3, trident_sdn::yaml::Edit::Remove(2))
            .unwrap();
    }
}

/// A crash mid-capture (the engine task is aborted: no shutdown, the mirror stays in
/// faucet.yaml) followed by a restart: the endpoint is still there, the stale mirror is
/// cleared at start-up, the capture is redone, and a clean stop leaves no mirror.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_capture_then_restart() {
    let dir = tempdir();
    let yaml_path = dir.path().join("faucet.yaml");
    std::fs::copy(shared("faucet.yaml"), &yaml_path).unwrap();
    let mut cfg = config(dir.path());
    cfg.capture_seconds = 60;
    let sock = cfg.event_socket.clone().unwrap();
    let listener = UnixListener::bind(&sock).unwrap();
    let learn = std::fs::read_to_string(shared("faucet-events.ndjson"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let server = tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(format!("{learn}\n").as_bytes()).await.unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(60)).await;
                drop(s);
            });
        }
    });
    let mirror: Arc<dyn MirrorControl> = Arc::new(FaucetYaml::new(&yaml_path).with_check(None));
    let engine = Engine::open(cfg.clone(), mirror.clone()).unwrap();
    let h = engine.handle();
    let task = tokio::spawn(engine.run(std::future::pending::<()>()));
    wait_for("operating", 10, || {
        h.endpoints()
            .first()
            .is_some_and(|e| e.state == State::Operating)
    })
    .await;
    assert_eq!(mirror_list(&yaml_path), vec![2]);
    task.abort(); // crash: no cleanup
    let _ = task.await;
    drop(h);
    assert_eq!(
        mirror_list(&yaml_path),
        vec![2],
        "the crash left the mirror"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let engine = Engine::open(cfg.clone(), mirror.clone()).unwrap();
    let h = engine.handle();
    let eps = h.endpoints();
    assert_eq!(eps.len(), 1, "endpoint lost across the crash");
    assert_eq!(
        eps[0].state,
        State::Queued,
        "an interrupted capture is queued again"
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async move {
        let _ = rx.await;
    }));
    wait_for("re-capture", 10, || {
        h.endpoints()
            .first()
            .is_some_and(|e| e.state == State::Operating && e.captures >= 2)
    })
    .await;
    assert_eq!(mirror_list(&yaml_path), vec![2]);
    let _ = tx.send(());
    task.await.unwrap().unwrap();
    assert_eq!(
        mirror_list(&yaml_path),
        Vec::<u32>::new(),
        "mirror left behind"
    );
    server.abort();
}
