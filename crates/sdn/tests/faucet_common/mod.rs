//! A private Faucet network for one test: Open vSwitch (userspace) + Faucet in a network
//! namespace, three hosts in namespaces, a collector NIC on the mirror port, and
//! faucetconfrpc on loopback with throw-away certificates. Built by the scripts in
//! `tests/faucet/` (see its README); torn down on drop.
//!
//! Needs root and what `.ci/setup.d/40-faucet.sh` installs; without them it panics with
//! a message saying so (these tests never skip silently).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Faucet's DP name and OpenFlow ports in the generated `faucet.yaml`.
pub const DP: &str = "sw1";
/// The mirror (collector) port.
pub const MIRROR_PORT: u32 = 4;
/// Host ports 1..=3; host `i` has MAC `02:54:00:00:00:0i` and IPv4 `10.0.0.i`.
pub const HOSTS: [u32; 3] = [1, 2, 3];

/// Where faucet and faucetconfrpc live (`.ci/setup.d/40-faucet.sh`).
fn venv_root() -> PathBuf {
    std::env::var_os("TRIDENT_FAUCET_ROOT")
        .map_or_else(|| "/opt/trident-faucet".into(), PathBuf::from)
}

/// The repository's `tests/faucet` directory.
pub fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/faucet")
}

/// The MAC of host `i`.
pub fn mac(i: u32) -> String {
    format!("02:54:00:00:00:{i:02x}")
}

/// The IPv4 address of host `i`.
pub fn ip(i: u32) -> String {
    format!("10.0.0.{i}")
}

/// Prints one verified step (the issue asks each test to say what it checked).
pub fn step(start: Instant, what: impl std::fmt::Display) {
    println!("[faucet {:6.2}s] ok: {what}", start.elapsed().as_secs_f64());
}

/// Fails loudly when the machine cannot run these tests.
fn require_environment() {
    let uid = Command::new("id").arg("-u").output().expect("run id -u");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "the faucet integration tests need root (network namespaces, veth, Open vSwitch)"
    );
    for tool in [
        "ovs-vswitchd",
        "ovsdb-server",
        "ovs-vsctl",
        "ip",
        "openssl",
        "tcpdump",
        "ping",
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "{tool} is missing: run .ci/setup.d/40-faucet.sh as root"
        );
    }
    for bin in ["faucet/bin/faucet", "confrpc/bin/faucetconfrpc_server"] {
        let path = venv_root().join(bin);
        assert!(
            path.exists(),
            "{} is missing: run .ci/setup.d/40-faucet.sh as root",
            path.display()
        );
    }
}

/// A free TCP port on 127.0.0.1 (bound then released; good enough for a test).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One private Faucet network; everything is named with a unique prefix.
pub struct FaucetNet {
    /// Temp dir with every file of the run.
    pub dir: tempfile::TempDir,
    /// Name prefix of namespaces and interfaces.
    pub prefix: String,
    /// faucetconfrpc's gRPC port on 127.0.0.1.
    pub rpc_port: u16,
    confrpc: Option<Child>,
    traffic: Vec<Child>,
    torn_down: bool,
}

impl FaucetNet {
    /// Brings up OVS + Faucet + hosts (net-up.sh), certificates (certs.sh) and faucetconfrpc.
    pub fn up(start: Instant) -> FaucetNet {
        let mut net = FaucetNet::bring_up(start, "net-up.sh");
        net.start_confrpc();
        step(
            start,
            format!(
                "faucetconfrpc listening on 127.0.0.1:{} (mutual TLS)",
                net.rpc_port
            ),
        );
        net
    }

    /// Brings up the two-switch stack of `net-up-stack.sh` (sw1 root with h1 and the
    /// collector NIC on port 3, sw2 with h2, h3 and a loopback plug on port 3); no
    /// faucetconfrpc.
    pub fn up_stack(start: Instant) -> FaucetNet {
        FaucetNet::bring_up(start, "net-up-stack.sh")
    }

    fn bring_up(start: Instant, script: &str) -> FaucetNet {
        require_environment();
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "tf{:x}{}",
            std::process::id() & 0xffff,
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::Builder::new()
            .prefix("trident-faucet-")
            .tempdir()
            .unwrap();
        let net = FaucetNet {
            dir,
            prefix,
            rpc_port: 0,
            confrpc: None,
            traffic: Vec::new(),
            torn_down: false,
        };
        // certificates and faucetconfrpc first: Python's start-up overlaps Faucet's.
        run(
            Command::new("bash")
                .arg(scripts().join("certs.sh"))
                .arg(net.path("certs")),
            "tests/faucet/certs.sh",
        );
        std::fs::create_dir_all(net.path("conf")).unwrap();
        let up = Command::new("bash")
            .arg(scripts().join(script))
            .arg(net.dir.path())
            .arg(&net.prefix)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        if !up.status.success() {
            let log = std::fs::read_to_string(net.path("faucet.log")).unwrap_or_default();
            panic!(
                "tests/faucet/{script} failed: {}\n{}\nfaucet.log:\n{log}",
                String::from_utf8_lossy(&up.stdout),
                String::from_utf8_lossy(&up.stderr)
            );
        }
        step(
            start,
            format!(
                "{script}: OVS (netdev) connected to Faucet, hosts h1-h3 up (prefix {})",
                net.prefix
            ),
        );
        net
    }

    /// A path in the run's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Faucet's config file (the only file of faucetconfrpc's config dir).
    pub fn faucet_yaml(&self) -> PathBuf {
        self.path("conf/faucet.yaml")
    }

    /// Faucet's event socket (`FAUCET_EVENT_SOCK`).
    pub fn event_socket(&self) -> PathBuf {
        self.path("faucet.sock")
    }

    /// The collector NIC (far end of the mirror port), in this namespace.
    pub fn collector_nic(&self) -> String {
        format!("{}-mir", self.prefix)
    }

    /// The namespace of host `i`.
    pub fn host_ns(&self, i: u32) -> String {
        format!("{}-h{i}", self.prefix)
    }

    /// An `RpcConfig` for our faucetconfrpc with the test certificates.
    pub fn rpc_config(&self) -> trident_sdn::config::RpcConfig {
        trident_sdn::config::RpcConfig {
            address: format!("127.0.0.1:{}", self.rpc_port),
            client_name: "client".into(),
            cert_dir: self.path("certs"),
            client_cert: Some(self.path("certs/client.crt")),
            client_key: Some(self.path("certs/client.key")),
            ca_cert: Some(self.path("certs/ca.crt")),
            server_name: None,
        }
    }

    /// Starts faucetconfrpc again on the same port (after [`FaucetNet::stop_confrpc`]).
    pub fn restart_confrpc(&mut self) {
        self.stop_confrpc();
        self.start_confrpc_on(self.rpc_port);
    }

    fn start_confrpc(&mut self) {
        self.start_confrpc_on(free_port());
    }

    fn start_confrpc_on(&mut self, port: u16) {
        let prom = free_port();
        let certs = self.path("certs");
        let log = std::fs::File::create(self.path("confrpc.log")).unwrap();
        let child = Command::new(venv_root().join("confrpc/bin/faucetconfrpc_server"))
            // It looks for --default_config relative to its working directory.
            .current_dir(self.path("conf"))
            .arg(format!("--config_dir={}", self.path("conf").display()))
            .arg("--default_config=faucet.yaml")
            .arg(format!("--key={}", certs.join("server.key").display()))
            .arg(format!("--cert={}", certs.join("server.crt").display()))
            .arg(format!("--cacert={}", certs.join("ca.crt").display()))
            .arg("--host=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--prom_port={prom}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start faucetconfrpc_server");
        self.confrpc = Some(child);
        self.rpc_port = port;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(Ok(Some(status))) = self.confrpc.as_mut().map(Child::try_wait) {
                panic!(
                    "faucetconfrpc_server exited ({status}):\n{}",
                    std::fs::read_to_string(self.path("confrpc.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "faucetconfrpc did not listen on {addr} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops faucetconfrpc (for the "unreachable" checks).
    pub fn stop_confrpc(&mut self) {
        if let Some(mut child) = self.confrpc.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts steady traffic: every host pings the other two every 0.2 s, and h1 and h3
    /// fetch a page from a small HTTP server on h2 every second (a little TCP).
    pub fn start_traffic(&mut self) {
        let server = self.in_host(
            2,
            &["python3", "-m", "http.server", "8000", "--bind", "10.0.0.2"],
        );
        self.traffic.push(server);
        for i in HOSTS {
            for j in HOSTS {
                if i != j {
                    let child = self.in_host(i, &["ping", "-q", "-i", "0.2", &ip(j)]);
                    self.traffic.push(child);
                }
            }
        }
        for i in [1, 3] {
            let script = "while :; do exec 3<>/dev/tcp/10.0.0.2/8000 && \
                          printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3 >/dev/null; \
                          exec 3<&-; sleep 1; done";
            let child = self.in_host(i, &["bash", "-c", script]);
            self.traffic.push(child);
        }
    }

    /// Starts pings every 0.2 s from host `i` to host `j` for each `(i, j)` (stopped by
    /// [`FaucetNet::stop_traffic`]).
    pub fn start_pings(&mut self, pairs: &[(u32, u32)]) {
        for &(i, j) in pairs {
            let child = self.in_host(i, &["ping", "-q", "-i", "0.2", &ip(j)]);
            self.traffic.push(child);
        }
    }

    fn in_host(&self, i: u32, argv: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.host_ns(i)])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {argv:?} in {}: {e}", self.host_ns(i)))
    }

    /// Stops the traffic generators.
    pub fn stop_traffic(&mut self) {
        for mut child in self.traffic.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The flows of bridge `bridge` (a name in the switch namespace), as
    /// `ovs-ofctl -O OpenFlow13 dump-flows --no-stats` prints them, one per line.
    pub fn flows(&self, bridge: &str) -> Vec<String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &format!("{}-sw", self.prefix)])
            .arg("env")
            .arg(format!("OVS_RUNDIR={}", self.dir.path().display()))
            .args([
                "ovs-ofctl",
                "-O",
                "OpenFlow13",
                "dump-flows",
                "--no-stats",
                bridge,
            ])
            .output()
            .expect("ovs-ofctl dump-flows");
        assert!(
            out.status.success(),
            "ovs-ofctl dump-flows {bridge}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The `mirror` list of the mirror port, read from `faucet.yaml` on disk.
    pub fn mirror_list(&self) -> Vec<u32> {
        mirror_list_of(&std::fs::read_to_string(self.faucet_yaml()).unwrap())
    }

    /// Captures on the collector NIC for `secs` seconds with tcpdump; returns one
    /// `(src MAC, dst MAC)` pair per frame.
    pub fn capture_collector(&self, secs: u64) -> Vec<(String, String)> {
        let file = self.path(&format!(
            "collector-{}.pcap",
            SEQ_CAPTURE.fetch_add(1, Ordering::Relaxed)
        ));
        let mut dump = Command::new("tcpdump")
            .args(["-i", &self.collector_nic(), "-w"])
            .arg(&file)
            .args(["-U", "-s", "128"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tcpdump");
        std::thread::sleep(Duration::from_secs(secs));
        let _ = Command::new("kill")
            .args(["-INT", &dump.id().to_string()])
            .status();
        let _ = dump.wait();
        frames_in(&file)
    }

    /// Tears everything down (also done on drop); returns net-down.sh's success.
    pub fn down(&mut self) -> bool {
        if self.torn_down {
            return true;
        }
        self.torn_down = true;
        self.stop_traffic();
        self.stop_confrpc();
        Command::new("bash")
            .arg(scripts().join("net-down.sh"))
            .arg(self.dir.path())
            .arg(&self.prefix)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// What is left of this run in the system: namespaces and links named with the prefix.
    pub fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        for (args, skip) in [
            (&["netns", "list"][..], 0usize),
            (&["-o", "link", "show"][..], 1),
        ] {
            let out = Command::new("ip").args(args).output().unwrap();
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let name = line
                    .split([' ', ':', '@'])
                    .filter(|s| !s.is_empty())
                    .nth(skip)
                    .unwrap_or("");
                if name.starts_with(&format!("{}-", self.prefix)) {
                    left.push(name.to_owned());
                }
            }
        }
        left
    }
}

impl Drop for FaucetNet {
    fn drop(&mut self) {
        self.down();
    }
}

static SEQ_CAPTURE: AtomicU32 = AtomicU32::new(0);

/// `(src, dst)` MACs of every frame in a pcap, read back through tcpdump.
pub fn frames_in(file: &Path) -> Vec<(String, String)> {
    let out = Command::new("tcpdump")
        .args(["-nn", "-e", "-r"])
        .arg(file)
        .output()
        .expect("tcpdump -r");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            // "12:00:00.000000 02:54:00:00:00:01 > 02:54:00:00:00:02, ethertype ..."
            let mut words = line.split_whitespace().skip(1);
            let src = words.next()?.to_owned();
            let _ = words.next()?;
            let dst = words.next()?.trim_end_matches(',').to_owned();
            Some((src, dst))
        })
        .collect()
}

/// The `mirror` list of the mirror port in a faucet.yaml text.
pub fn mirror_list_of(yaml: &str) -> Vec<u32> {
    let doc: serde_norway::Value = serde_norway::from_str(yaml).unwrap();
    let port = &doc["dps"][DP]["interfaces"][MIRROR_PORT as usize];
    match &port["mirror"] {
        serde_norway::Value::Sequence(items) => items
            .iter()
            .filter_map(|v| v.as_u64())
            .map(|v| v as u32)
            .collect(),
        serde_norway::Value::Null => Vec::new(),
        other => panic!("mirror is not a list: {other:?}"),
    }
}

/// Waits until `f` is true, polling every 100 ms, or panics after `limit` naming `what`.
pub fn wait_for(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// True when the `(src MAC, dst MAC)` frame is from or to `mac`.
pub fn involves(frame: &(String, String), mac: &str) -> bool {
    frame.0 == mac || frame.1 == mac
}

/// The unicast frames that are neither from nor to `mac`: what a mirror of that host alone
/// must not bring to the collector.
pub fn foreign_unicast<'a>(frames: &'a [(String, String)], mac: &str) -> Vec<&'a (String, String)> {
    frames
        .iter()
        .filter(|f| !involves(f, mac) && !is_group(&f.1))
        .collect()
}

/// Captures 2 s on the collector NIC and panics, naming `when`, if any frame arrived.
pub fn assert_collector_silent(net: &FaucetNet, when: &str) {
    let frames = net.capture_collector(2);
    assert!(
        frames.is_empty(),
        "collector NIC saw frames {when}: {frames:?}"
    );
}

/// Captures on the collector NIC in 2-second slices until `pred` holds for a slice (Faucet
/// applies a config change a moment after the file is written), at most `tries` slices;
/// returns that slice or panics naming `what` and the last slice.
pub fn capture_until(
    net: &FaucetNet,
    tries: u32,
    what: &str,
    pred: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let mut last = Vec::new();
    for _ in 0..tries {
        last = net.capture_collector(2);
        if pred(&last) {
            return last;
        }
    }
    panic!("the collector NIC never showed {what}; last slice: {last:?}");
}

/// True when the frame is to or from a broadcast/multicast address (group bit set).
pub fn is_group(mac: &str) -> bool {
    u8::from_str_radix(mac.get(..2).unwrap_or("00"), 16).is_ok_and(|b| b & 1 == 1)
}
