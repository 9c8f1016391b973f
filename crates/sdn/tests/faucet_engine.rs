//! trident's SDN engine against a real Faucet + Open vSwitch, mirrors through a real
//! faucetconfrpc (the integration test):
//!
//! * `faucet_engine_learns_mirrors_captures_classifies`: hosts talk; the engine learns all
//!   three from Faucet's event socket, mirrors at most N at a time, captures each on the
//!   collector NIC (only that host's frames in its capture), classifies it, unmirrors
//!   (faucet.yaml back to its original mirror list), and `/v1/network` lists the three
//!   with roles.
//! * `faucet_engine_restart_mid_capture`: a clean stop and a crash mid-capture; nothing
//!   is lost (endpoints come back from the store) and no mirror is left behind.
//! * `faucet_engine_bad_mirror_input`: a mirror port missing from faucet.yaml, then
//!   faucetconfrpc unreachable: clear errors, the endpoint table intact.
//!
//! Needs root and `.ci/setup.d/40-faucet.sh`; `cargo test -p trident-sdn faucet`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faucet_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faucet_common::{DP, FaucetNet, HOSTS, MIRROR_PORT, frames_in, mac, step};
use http_body_util::BodyExt;
use tower::ServiceExt;
use trident_sdn::config::MirrorBackend;
use trident_sdn::rpc::ConfRpcClient;
use trident_sdn::{Endpoint, Engine, EngineHandle, MirrorControl, SdnConfig, State, Trigger};

/// At most this many hosts mirrored at once.
const N: usize = 2;
/// Seconds before an endpoint whose capture failed or was inconclusive is tried again (a
/// loaded machine can apply a mirror too late for a short capture; Poseidon's 900 s would
/// outlast the test).
const REINVESTIGATION: u64 = 10;

/// The engine's configuration as trident TOML (the `[sdn]` table `trident sdn run` reads).
fn config_toml(net: &FaucetNet, data_dir: &Path, capture_seconds: u64, mirror_port: u32) -> String {
    let rpc = net.rpc_config();
    let path = |p: Option<std::path::PathBuf>| format!("{:?}", p.unwrap().display().to_string());
    format!(
        "[sdn]\n\
         event_socket = {:?}\n\
         data_dir = {:?}\n\
         collector_nic = {:?}\n\
         max_concurrent_reinvestigations = {N}\n\
         capture_seconds = {capture_seconds}\n\
         reinvestigation_frequency = {REINVESTIGATION}\n\
         mirror_backend = \"faucetconfrpc\"\n\
         [sdn.mirror_ports]\n\
         {DP} = {mirror_port}\n\
         [sdn.faucetconfrpc]\n\
         address = {:?}\n\
         client_cert = {}\n\
         client_key = {}\n\
         ca_cert = {}\n",
        net.event_socket().display().to_string(),
        data_dir.display().to_string(),
        net.collector_nic(),
        rpc.address,
        path(rpc.client_cert),
        path(rpc.client_key),
        path(rpc.ca_cert),
    )
}

fn config(net: &FaucetNet, data_dir: &Path, capture_seconds: u64) -> SdnConfig {
    let text = config_toml(net, data_dir, capture_seconds, MIRROR_PORT);
    let c = SdnConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(c.mirror_backend, MirrorBackend::Faucetconfrpc);
    c
}

/// A running engine on its own runtime, so that a "crash" can drop every task it spawned
/// (event source, captures) at once, as a killed process would.
struct Running {
    rt: Option<tokio::runtime::Runtime>,
    handle: EngineHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), trident_sdn::SdnError>>>,
}

impl Running {
    fn start(config: SdnConfig) -> Running {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let rpc = config.faucetconfrpc.clone();
        let mirror: Arc<dyn MirrorControl> = Arc::new(
            rt.block_on(ConfRpcClient::connect(&rpc))
                .expect("connect to faucetconfrpc"),
        );
        let engine = Engine::open(config, mirror).expect("open the engine");
        let handle = engine.handle();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = rt.spawn(engine.run(async move {
            let _ = stop_rx.await;
        }));
        Running {
            rt: Some(rt),
            handle,
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// A clean stop: returns once the engine has removed its mirrors.
    fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let task = self.task.take().unwrap();
        let rt = self.rt.take().unwrap();
        let res = rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), task).await });
        res.expect("engine stopped within 30 s")
            .expect("engine task")
            .expect("engine run");
        rt.shutdown_timeout(Duration::from_secs(5));
    }

    /// Drops the engine without its shutdown (used where faucetconfrpc is already gone).
    fn abandon(mut self) {
        let rt = self.rt.take().unwrap();
        rt.shutdown_background();
    }

    /// `GET path` on Poseidon's API router, as JSON.
    fn get(&self, path: &str) -> serde_json::Value {
        let app = trident_sdn::api::router(self.handle.clone());
        let rt = self.rt.as_ref().unwrap();
        rt.block_on(async {
            let req = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice(&bytes).unwrap()
        })
    }
}

/// The endpoints of our three hosts, by host number.
fn hosts(handle: &EngineHandle) -> Vec<(u32, Endpoint)> {
    handle
        .endpoints()
        .into_iter()
        .filter_map(|e| HOSTS.iter().find(|&&i| e.mac == mac(i)).map(|&i| (i, e)))
        .collect()
}

/// Watches the engine until `done`, checking at every poll that no more than N hosts are
/// operating and no more than N ports are in faucet.yaml's mirror list. Returns the set
/// of ports ever mirrored.
fn watch(
    net: &FaucetNet,
    handle: &EngineHandle,
    limit: Duration,
    what: &str,
    mut done: impl FnMut(&[(u32, Endpoint)]) -> bool,
) -> BTreeSet<u32> {
    let deadline = Instant::now() + limit;
    let mut mirrored = BTreeSet::new();
    loop {
        let list = net.mirror_list();
        assert!(list.len() <= N, "more than {N} ports mirrored: {list:?}");
        mirrored.extend(list);
        let hs = hosts(handle);
        let operating = hs
            .iter()
            .filter(|(_, e)| e.state == State::Operating)
            .count();
        assert!(
            operating <= N,
            "{operating} endpoints operating (limit {N})"
        );
        if done(&hs) {
            return mirrored;
        }
        if Instant::now() > deadline {
            let status = handle.status();
            panic!(
                "timed out after {limit:?} waiting for {what}; endpoints: {:#?}\nstatus: {status:#?}",
                hs.iter()
                    .map(|(i, e)| (i, e.state, e.classification.is_some(), &e.history))
                    .collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn classified(hs: &[(u32, Endpoint)]) -> bool {
    hs.len() == 3 && hs.iter().all(|(_, e)| e.classification.is_some())
}

/// Every capture file the engine wrote for endpoint `id` holds only frames to or from
/// `mac` (the `ether host` filter); returns how many frames they hold.
fn check_captures(data_dir: &Path, id: &str, mac: &str) -> usize {
    let dir = data_dir.join("captures").join(id);
    let mut frames = 0;
    for entry in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(Result::unwrap)
    {
        for (src, dst) in frames_in(&entry.path()) {
            assert!(
                src == mac || dst == mac,
                "{}: frame {src} > {dst} is not host {mac}'s",
                entry.path().display()
            );
            frames += 1;
        }
    }
    frames
}

#[test]
fn faucet_engine_learns_mirrors_captures_classifies() {
    let start = Instant::now();
    let mut net = FaucetNet::up(start);
    let original = net.mirror_list();
    net.start_traffic();
    let data = tempfile::tempdir().unwrap();
    let engine = Running::start(config(&net, data.path(), 4));
    step(
        start,
        format!("engine started: faucetconfrpc back-end, N = {N}, 4 s captures"),
    );

    watch(
        &net,
        &engine.handle,
        Duration::from_secs(30),
        "three hosts learned",
        |hs| hs.len() == 3,
    );
    let hs = hosts(&engine.handle);
    for (i, e) in &hs {
        assert_eq!((e.segment.as_str(), e.port, e.vlan), (DP, *i, 100));
    }
    step(
        start,
        "learned h1, h2, h3 from Faucet's event socket (sw1, ports 1-3, VLAN 100)",
    );

    let mirrored = watch(
        &net,
        &engine.handle,
        Duration::from_secs(90),
        "all three classified",
        classified,
    );
    step(
        start,
        format!(
            "all three captured and classified; never more than {N} mirrored (ports seen in faucet.yaml: {mirrored:?})"
        ),
    );

    for (i, e) in hosts(&engine.handle) {
        let frames = check_captures(data.path(), &e.id, &mac(i));
        assert!(frames > 0, "h{i}: empty capture");
        let c = e.classification.as_ref().unwrap();
        step(
            start,
            format!(
                "h{i}: {frames} frames captured, all its own; role {:?} ({} packets{})",
                c.roles.first().map(|r| (&r.role, r.confidence)),
                c.packets,
                c.unknown_reason
                    .as_ref()
                    .map(|r| format!(", unknown: {r}"))
                    .unwrap_or_default()
            ),
        );
    }

    let network = engine.get("/v1/network");
    let nodes = network["dataset"].as_array().unwrap();
    for i in HOSTS {
        let node = nodes
            .iter()
            .find(|n| n["mac"] == mac(i))
            .unwrap_or_else(|| panic!("h{i} missing from /v1/network: {network}"));
        let role = node["top_role"].as_str().unwrap();
        assert_ne!(role, "NO DATA", "h{i} has no role in /v1/network: {node}");
        assert_eq!(node["segment"], DP);
        assert_eq!(node["port"], i.to_string());
    }
    step(start, "/v1/network lists h1, h2, h3 with roles");

    engine.stop();
    assert_eq!(net.mirror_list(), original);
    step(
        start,
        "engine stopped: faucet.yaml back to its original mirror list",
    );
    assert!(net.down());
    assert!(net.leftovers().is_empty());
}

#[test]
fn faucet_engine_restart_mid_capture() {
    let start = Instant::now();
    let mut net = FaucetNet::up(start);
    net.start_traffic();
    let data = tempfile::tempdir().unwrap();

    // Run 1: long captures; stop cleanly while one is running.
    let engine = Running::start(config(&net, data.path(), 60));
    watch(
        &net,
        &engine.handle,
        Duration::from_secs(40),
        "3 learned, one capture running",
        |hs| hs.len() == 3 && hs.iter().any(|(_, e)| e.state == State::Operating),
    );
    wait_mirror_nonempty(&net);
    let ids: BTreeSet<String> = hosts(&engine.handle)
        .into_iter()
        .map(|(_, e)| e.id)
        .collect();
    engine.stop();
    assert!(
        net.mirror_list().is_empty(),
        "clean stop left {:?}",
        net.mirror_list()
    );
    step(
        start,
        "run 1 stopped cleanly mid-capture: no mirror left in faucet.yaml",
    );

    // Run 2: a separate process (this test binary, running `faucet_engine_crash_child`),
    // killed with SIGKILL mid-capture: a real crash, captures and sockets included.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "faucet_engine_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_CONFIG,
            config_toml(&net, data.path(), 60, MIRROR_PORT),
        )
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_mirror_nonempty(&net);
    child.kill().unwrap();
    let _ = child.wait();
    // faucetconfrpc may still be finishing a write the child asked for.
    std::thread::sleep(Duration::from_millis(1500));
    let left = net.mirror_list();
    assert!(
        !left.is_empty(),
        "the killed engine left no mirror to clean up"
    );
    step(
        start,
        format!("run 2 (own process) killed mid-capture, leaving mirror {left:?} in faucet.yaml"),
    );

    // Run 3: everything restored from the store; start-up cleanup removes the stale mirror;
    // then every host gets classified.
    let engine = Running::start(config(&net, data.path(), 3));
    let restored: BTreeSet<String> = hosts(&engine.handle)
        .into_iter()
        .map(|(_, e)| e.id)
        .collect();
    assert_eq!(restored, ids, "endpoints lost across a stop and a crash");
    step(start, "run 3: the three endpoints restored from the store");
    faucet_common::wait_for(Duration::from_secs(10), "start-up ClearPortMirror", || {
        engine
            .handle
            .status()
            .mirror
            .get("cleared")
            .copied()
            .unwrap_or(0)
            >= 1
    });
    step(
        start,
        format!("run 3: start-up ClearPortMirror removed the stale mirror {left:?}"),
    );
    watch(
        &net,
        &engine.handle,
        Duration::from_secs(90),
        "all three classified after the crash",
        classified,
    );
    step(start, "run 3: nothing lost, all three classified");
    engine.stop();
    assert!(net.mirror_list().is_empty(), "left {:?}", net.mirror_list());
    step(start, "run 3 stopped: no mirror left behind");
    assert!(net.down());
}

/// The environment variable that turns `faucet_engine_crash_child` into an engine process.
const CHILD_CONFIG: &str = "TRIDENT_FAUCET_CHILD_CONFIG";

/// Not a test on its own: `faucet_engine_restart_mid_capture` runs it in a child process
/// (with the engine's TOML in `TRIDENT_FAUCET_CHILD_CONFIG`) and kills it mid-capture.
/// Without that variable it returns at once.
#[test]
fn faucet_engine_crash_child() {
    let Ok(text) = std::env::var(CHILD_CONFIG) else {
        return;
    };
    let config = SdnConfig::from_toml_str(&text).unwrap();
    let engine = Running::start(config);
    // Runs until killed.
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let _ = engine.handle.status();
    }
}

fn wait_mirror_nonempty(net: &FaucetNet) {
    faucet_common::wait_for(Duration::from_secs(10), "a port in the mirror list", || {
        !net.mirror_list().is_empty()
    });
}

#[test]
fn faucet_engine_bad_mirror_input() {
    let start = Instant::now();
    let mut net = FaucetNet::up(start);
    net.start_traffic();
    let data = tempfile::tempdir().unwrap();
    let before = std::fs::read_to_string(net.faucet_yaml()).unwrap();

    // Mirror port 9 is not in faucet.yaml.
    let mut c = config(&net, data.path(), 2);
    c.mirror_ports.insert(DP.into(), 9);
    let engine = Running::start(c);
    watch(
        &net,
        &engine.handle,
        Duration::from_secs(40),
        "mirror failures on all three",
        |hs| {
            hs.len() == 3
                && hs
                    .iter()
                    .all(|(_, e)| e.history.iter().any(|h| h.kind == "mirror_failed"))
        },
    );
    let status = engine.handle.status();
    let err = status.last_error.clone().unwrap_or_default();
    assert!(err.contains("no port 9"), "last error: {err}");
    assert_eq!(std::fs::read_to_string(net.faucet_yaml()).unwrap(), before);
    assert_eq!(hosts(&engine.handle).len(), 3);
    step(
        start,
        format!("mirror port missing: {err}; faucet.yaml untouched, 3 endpoints kept"),
    );
    engine.stop();

    // faucetconfrpc gone while the engine runs (after its start-up cleanup went through).
    let engine = Running::start(config(&net, data.path(), 2));
    assert_eq!(hosts(&engine.handle).len(), 3);
    faucet_common::wait_for(Duration::from_secs(20), "start-up ClearPortMirror", || {
        engine
            .handle
            .status()
            .mirror
            .get("cleared")
            .copied()
            .unwrap_or(0)
            >= 1
    });
    net.stop_confrpc();
    let rpc_address = net.rpc_config().address;
    // Endpoints whose mirror failed wait a reinvestigation period before the scheduler
    // tries again; ask for a capture now, as `trident sdn change <mac> operate` does.
    let changed = engine
        .rt
        .as_ref()
        .unwrap()
        .block_on(engine.handle.change(&mac(1), Trigger::Operate))
        .expect("change h1 to operate");
    assert_eq!(changed.len(), 1);
    watch(
        &net,
        &engine.handle,
        Duration::from_secs(40),
        "a mirror attempt failing as unreachable",
        |hs| {
            hs.iter().any(|(_, e)| {
                e.history.iter().any(|h| {
                    h.kind == "mirror_failed"
                        && h.detail.contains("unreachable")
                        && h.detail.contains(&rpc_address)
                })
            })
        },
    );
    let err = engine.handle.status().last_error.unwrap_or_default();
    assert!(err.contains("unreachable"), "last error: {err}");
    step(start, format!("faucetconfrpc unreachable: {err}"));
    assert_eq!(hosts(&engine.handle).len(), 3, "endpoint table changed");
    step(
        start,
        "endpoint table intact (3 endpoints) while faucetconfrpc is down",
    );
    engine.abandon();
    assert!(net.down());
}
