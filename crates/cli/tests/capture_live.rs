//! Live tests of `trident capture` in network namespaces joined by a veth pair.
//!
//! Each test builds its own pair of namespaces (names unique per process and test), sends
//! known traffic between 10.231.7.1 (namespace A) and 10.231.7.2 (namespace B), captures on
//! B's end with `trident capture`, and checks the file with trident's reader, tshark and
//! capinfos. Nothing leaves the namespaces; a guard deletes them even when a test fails.
//! The tests need root (CI runs as root) and iproute2, tcpdump, tshark; they say so and
//! pass vacuously when not root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use trident_capture::{CaptureReader, Input};
use trident_decode::{Transport, decode};

const ADDR_A: &str = "10.231.7.1";
const ADDR_B: &str = "10.231.7.2";
const PREFIX: &str = "24";
/// How long to wait for a capture process to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a capture process to exit after SIGTERM.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after the traffic so the last replies are captured before SIGTERM.
const SETTLE: Duration = Duration::from_millis(500);
/// Sizes from the protocol specs.
const ETH_HEADER: usize = 14;
const IPV4_HEADER: usize = 20;
const UDP_HEADER: usize = 8;
const ICMP_HEADER: usize = 8;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn trident() -> &'static str {
    env!("CARGO_BIN_EXE_trident")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Two namespaces joined by a veth pair, removed on drop; plus a scratch directory.
struct Lab {
    a: String,
    b: String,
    veth_a: String,
    veth_b: String,
    dir: PathBuf,
}

impl Lab {
    fn new() -> Option<Lab> {
        assert!(
            is_root(),
            "live capture tests need root (network namespaces and veth pairs); CI runs as root"
        );
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}{n}", std::process::id() % 100_000);
        let lab = Lab {
            a: format!("trh-a-{tag}"),
            b: format!("trh-b-{tag}"),
            veth_a: format!("tha{tag}"),
            veth_b: format!("thb{tag}"),
            dir: std::env::temp_dir().join(format!("trident-capture-test-{tag}")),
        };
        let veth_a = lab.veth_a.clone();
        let _ = std::fs::remove_dir_all(&lab.dir);
        std::fs::create_dir_all(&lab.dir).unwrap();
        run_ok(Command::new("ip").args(["netns", "add", &lab.a]));
        run_ok(Command::new("ip").args(["netns", "add", &lab.b]));
        run_ok(Command::new("ip").args([
            "link",
            "add",
            &veth_a,
            "netns",
            &lab.a,
            "type",
            "veth",
            "peer",
            "name",
            &lab.veth_b,
            "netns",
            &lab.b,
        ]));
        for (ns, dev, addr) in [(&lab.a, &veth_a, ADDR_A), (&lab.b, &lab.veth_b, ADDR_B)] {
            // No IPv6 on the test link: no router solicitations or MLD reports in the counts.
            run_ok(Command::new("ip").args([
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
            ]));
            run_ok(Command::new("ip").args([
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/{PREFIX}"),
                "dev",
                dev,
            ]));
            run_ok(Command::new("ip").args(["-n", ns, "link", "set", dev, "up"]));
            run_ok(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]));
        }
        Some(lab)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Starts `trident capture` on B's interface; returns once its output file exists.
    fn start_capture(&self, out: &Path, extra: &[&str]) -> Proc {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.b,
            trident(),
            "capture",
            "-i",
            &self.veth_b,
            "-w",
        ])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let p = Proc { child: Some(child) };
        p.wait_for_file(out);
        p
    }

    /// Starts tcpdump on B's interface with the same filter; returns once it is writing.
    fn start_tcpdump(&self, out: &Path, filter: &str) -> Proc {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.b,
                "tcpdump",
                "-n",
                "-U",
                "--immediate-mode",
                "-i",
                &self.veth_b,
                "-w",
            ])
            .arg(out)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let p = Proc { child: Some(child) };
        p.wait_for_file(out);
        p
    }

    /// Pings B from A: `count` echo requests of `size` data bytes.
    fn ping(&self, count: u32, size: u32) {
        run_ok(Command::new("ip").args([
            "netns",
            "exec",
            &self.a,
            "ping",
            "-q",
            "-c",
            &count.to_string(),
            "-i",
            "0.05",
            "-s",
            &size.to_string(),
            "-W",
            "2",
            ADDR_B,
        ]));
    }

    /// Sends `count` UDP datagrams with `payload` from A to B's `port` (bash's /dev/udp:
    /// one write, one datagram).
    fn udp(&self, count: u32, port: u16, payload: &str) {
        let script = format!(
            "for i in $(seq {count}); do printf '%s' '{payload}' > /dev/udp/{ADDR_B}/{port}; done"
        );
        run_ok(Command::new("ip").args(["netns", "exec", &self.a, "bash", "-c", &script]));
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.a]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.b]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child process, killed on drop if still running.
struct Proc {
    child: Option<Child>,
}

impl Proc {
    fn wait_for_file(&self, path: &Path) {
        let start = Instant::now();
        while !path.exists() {
            assert!(
                start.elapsed() < READY_TIMEOUT,
                "{} never appeared",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The file is created after the filter is set; give the ring a moment.
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Sends SIGTERM and waits for the exit; returns the output.
    fn terminate(mut self) -> Output {
        let child = self.child.take().unwrap();
        run_ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
        wait_bounded(child)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_bounded(mut child: Child) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > EXIT_TIMEOUT {
            let _ = child.kill();
            panic!("capture did not exit within {EXIT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One captured record: lengths and data.
struct Rec {
    caplen: usize,
    origlen: usize,
    data: Vec<u8>,
}

/// Reads every record with trident's reader; any read error fails the test.
fn read_all(path: &Path) -> Vec<Rec> {
    let mut r = CaptureReader::open(&Input::File(path.to_path_buf()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(f) = r
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        out.push(Rec {
            caplen: f.caplen as usize,
            origlen: f.origlen as usize,
            data: f.data.to_vec(),
        });
    }
    out
}

fn icmp_type(data: &[u8]) -> Option<u8> {
    match decode(trident_decode::LinkType::ETHERNET, data).transport {
        Some(Transport::Icmp(i)) => Some(i.icmp_type),
        _ => None,
    }
}

fn count_icmp(recs: &[Rec], ty: u8) -> usize {
    recs.iter()
        .filter(|r| icmp_type(&r.data) == Some(ty))
        .count()
}

/// tshark's count of packets matching a display filter.
fn tshark_count(path: &Path, filter: &str) -> usize {
    let out = run_ok(
        Command::new("tshark")
            .arg("-r")
            .arg(path)
            .args(["-Y", filter]),
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// The interface statistics block's options: (code, value) pairs.
fn isb_options(path: &Path) -> Vec<(u16, u64)> {
    let bytes = std::fs::read(path).unwrap();
    let mut rest = bytes.as_slice();
    let mut found = Vec::new();
    while rest.len() >= 12 {
        let t = u32::from_le_bytes(rest[0..4].try_into().unwrap());
        let len = u32::from_le_bytes(rest[4..8].try_into().unwrap()) as usize;
        assert!(len >= 12 && len <= rest.len(), "bad block length {len}");
        if t == 5 {
            let mut opts = &rest[20..len - 4];
            while opts.len() >= 4 {
                let code = u16::from_le_bytes([opts[0], opts[1]]);
                let olen = u16::from_le_bytes([opts[2], opts[3]]) as usize;
                if code == 0 {
                    break;
                }
                let v = &opts[4..4 + olen];
                let value = if olen == 8 {
                    u64::from_le_bytes(v.try_into().unwrap())
                } else {
                    0
                };
                found.push((code, value));
                opts = &opts[4 + olen.div_ceil(4) * 4..];
            }
        }
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "trailing bytes after the last block");
    found
}

#[test]
fn ping_counts_match_sent_and_tcpdump_and_close_on_sigterm() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("ping.pcapng");
    let tcpdump_file = lab.path("tcpdump.pcap");
    let cap = lab.start_capture(&file, &["--filter", "icmp"]);
    let td = lab.start_tcpdump(&tcpdump_file, "icmp");
    const SENT: usize = 20;
    lab.ping(SENT as u32, 56);
    std::thread::sleep(SETTLE);
    let out = cap.terminate();
    let _ = td.terminate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "trident failed: {stderr}");
    assert!(stderr.contains("stopped by signal"), "{stderr}");

    let ours = read_all(&file);
    let theirs = read_all(&tcpdump_file);
    assert_eq!(count_icmp(&ours, 8), SENT, "echo requests");
    assert_eq!(count_icmp(&ours, 0), SENT, "echo replies");
    assert_eq!(count_icmp(&ours, 8), count_icmp(&theirs, 8));
    assert_eq!(count_icmp(&ours, 0), count_icmp(&theirs, 0));
    assert_eq!(ours.len(), theirs.len());
    // Full packets: 56 data bytes, as sent.
    for r in &ours {
        assert_eq!(r.caplen, r.origlen);
        assert_eq!(r.origlen, ETH_HEADER + IPV4_HEADER + ICMP_HEADER + 56);
    }
    // tshark agrees, and sees the interface description.
    assert_eq!(tshark_count(&file, "icmp.type == 8"), SENT);
    assert_eq!(tshark_count(&file, "icmp.type == 0"), SENT);
    let name = run_ok(Command::new("tshark").arg("-r").arg(&file).args([
        "-c",
        "1",
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
    ]));
    assert_eq!(String::from_utf8_lossy(&name.stdout).trim(), lab.veth_b);
    let info = run_ok(Command::new("capinfos").arg("-M").arg(&file));
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains(&format!("Number of packets:   {}", 2 * SENT)),
        "{info}"
    );
    assert!(info.contains("nanoseconds"), "{info}");
    // The statistics block: received counts what passed the filter; nothing dropped.
    let isb = isb_options(&file);
    let get = |code| isb.iter().find(|(c, _)| *c == code).map(|(_, v)| *v);
    assert!(get(4).is_some_and(|v| v >= 2 * SENT as u64), "{isb:?}");
    assert_eq!(get(5), Some(0), "interface drops");
    assert_eq!(get(7), Some(0), "kernel drops");
    assert_eq!(get(8), Some(2 * SENT as u64), "delivered");
}

#[test]
fn headers_only_keeps_headers_and_original_lengths() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("hdr.pcapng");
    let cap = lab.start_capture(&file, &["--filter", "udp or icmp", "--headers-only"]);
    const PINGS: usize = 5;
    const PING_DATA: usize = 200;
    const DATAGRAMS: usize = 5;
    let app = "TRIDENT-PAYLOAD-".repeat(6);
    let dns = "D".repeat(60);
    lab.ping(PINGS as u32, PING_DATA as u32);
    lab.udp(DATAGRAMS as u32, 9999, &app);
    lab.udp(DATAGRAMS as u32, 53, &dns);
    std::thread::sleep(SETTLE);
    let out = cap.terminate();
    assert!(out.status.success());
    let recs = read_all(&file);
    let l4 = ETH_HEADER + IPV4_HEADER;
    let (mut echo, mut app_n, mut dns_n, mut other_icmp) = (0, 0, 0, 0);
    for r in &recs {
        let pkt = decode(trident_decode::LinkType::ETHERNET, &r.data);
        match pkt.transport {
            Some(Transport::Icmp(i)) if i.icmp_type == 8 || i.icmp_type == 0 => {
                echo += 1;
                assert_eq!(r.caplen, l4 + ICMP_HEADER + 4);
                assert_eq!(r.origlen, l4 + ICMP_HEADER + PING_DATA);
            }
            Some(Transport::Icmp(_)) => {
                // Port unreachable from B, quoting our datagram: header + 4 bytes.
                other_icmp += 1;
                assert_eq!(r.caplen, l4 + ICMP_HEADER + 4);
                assert!(r.origlen > r.caplen);
            }
            Some(Transport::Udp(u)) if u.dst_port == 9999 => {
                app_n += 1;
                assert_eq!(r.caplen, l4 + UDP_HEADER + 4);
                assert_eq!(r.origlen, l4 + UDP_HEADER + app.len());
                assert_eq!(&r.data[l4 + UDP_HEADER..], &app.as_bytes()[..4]);
            }
            Some(Transport::Udp(u)) if u.dst_port == 53 => {
                dns_n += 1;
                assert_eq!(r.caplen, l4 + UDP_HEADER + 12);
                assert_eq!(r.origlen, l4 + UDP_HEADER + dns.len());
            }
            _ => panic!("unexpected packet of {} bytes", r.origlen),
        }
    }
    assert_eq!(echo, 2 * PINGS);
    assert_eq!(app_n, DATAGRAMS);
    assert_eq!(dns_n, DATAGRAMS);
    // B answers each datagram with a port unreachable, but the kernel rate-limits them.
    assert!(
        other_icmp <= 2 * DATAGRAMS,
        "at most one unreachable per datagram"
    );
    // tshark reads the same lengths.
    let out = run_ok(Command::new("tshark").arg("-r").arg(&file).args([
        "-T",
        "fields",
        "-e",
        "frame.cap_len",
        "-e",
        "frame.len",
    ]));
    let rows: Vec<(usize, usize)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (a, b) = l.split_once('\t').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    let ours: Vec<(usize, usize)> = recs.iter().map(|r| (r.caplen, r.origlen)).collect();
    assert_eq!(rows, ours);
}

#[test]
fn bpf_filter_applies() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("filter.pcapng");
    let cap = lab.start_capture(&file, &["--filter", "udp dst port 9999"]);
    lab.ping(5, 56);
    lab.udp(7, 9999, "wanted");
    lab.udp(4, 9998, "unwanted");
    std::thread::sleep(SETTLE);
    assert!(cap.terminate().status.success());
    let recs = read_all(&file);
    assert_eq!(recs.len(), 7);
    for r in &recs {
        let pkt = decode(trident_decode::LinkType::ETHERNET, &r.data);
        assert_eq!(
            pkt.transport.and_then(|t| t.ports()).map(|p| p.1),
            Some(9999)
        );
    }
    assert_eq!(tshark_count(&file, "udp.dstport == 9999"), 7);
}

#[test]
fn count_and_duration_end_by_themselves() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("count.pcapng");
    let cap = lab.start_capture(&file, &["--filter", "icmp", "--count", "10"]);
    lab.ping(10, 56);
    let out = wait_bounded(cap_into_child(cap));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("count reached"));
    assert_eq!(read_all(&file).len(), 10);

    let quiet = lab.path("quiet.pcapng");
    let started = Instant::now();
    // An idle interface: the capture must still end on time.
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.b,
            trident(),
            "capture",
            "-i",
            "lo",
            "-w",
        ])
        .arg(&quiet)
        .args(["--duration", "0.5"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(child);
    assert!(out.status.success());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duration reached"));
    assert_eq!(read_all(&quiet).len(), 0);
    run_ok(Command::new("capinfos").arg(&quiet));
}

fn cap_into_child(mut p: Proc) -> Child {
    p.child.take().unwrap()
}

#[test]
fn size_rotation_keeps_max_files() {
    let Some(lab) = Lab::new() else { return };
    let dir = lab.path("rot");
    std::fs::create_dir_all(&dir).unwrap();
    // The directory is the output; readiness is the first file appearing.
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        &lab.b,
        trident(),
        "capture",
        "-i",
        &lab.veth_b,
        "-w",
    ])
    .arg(&dir)
    .args(["--filter", "icmp", "--rotate-mb", "1", "--max-files", "2"])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let cap = Proc {
        child: Some(cmd.spawn().unwrap()),
    };
    let start = Instant::now();
    while std::fs::read_dir(&dir).unwrap().next().is_none() {
        assert!(start.elapsed() < READY_TIMEOUT);
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // 1500 requests and replies of 1042 bytes: about 3.1 MB, so at least 3 files.
    run_ok(Command::new("ip").args([
        "netns", "exec", &lab.a, "ping", "-q", "-f", "-c", "1500", "-s", "1000", ADDR_B,
    ]));
    std::thread::sleep(SETTLE);
    let out = cap.terminate();
    assert!(out.status.success());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let total: usize = files.iter().map(|f| read_all(f).len()).sum();
    assert!(total > 0 && total < 3000, "{total}");
    for f in &files {
        // Each closed file is at most one packet over the limit.
        assert!(std::fs::metadata(f).unwrap().len() < 1_000_000 + 2_000);
        run_ok(Command::new("capinfos").arg(f));
        assert!(!isb_options(f).is_empty());
    }
    assert!(stderr.contains("file(s)"), "{stderr}");
}

#[test]
fn bad_filter_is_a_clear_error() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("bad.pcapng");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.b,
            trident(),
            "capture",
            "-i",
            "lo",
            "-w",
        ])
        .arg(&file)
        .args(["--filter", "tcp port"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad capture filter \"tcp port\""),
        "{stderr}"
    );
    // libpcap's own message is quoted.
    assert!(stderr.contains("syntax error"), "{stderr}");
    assert!(!file.exists(), "no file for a capture that never started");
}

#[test]
fn missing_privileges_name_cap_net_raw() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("priv.pcapng");
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.b, "setpriv", "--inh-caps=-all"])
        .args([
            "--bounding-set=-net_raw,-net_admin",
            "--",
            trident(),
            "capture",
        ])
        .args(["-i", "lo", "-w"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CAP_NET_RAW"), "{stderr}");
}

#[test]
fn time_rotation_happens_on_an_idle_interface() {
    let Some(lab) = Lab::new() else { return };
    let out_file = lab.path("timed.pcapng");
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.b,
            trident(),
            "capture",
            "-i",
            "lo",
            "-w",
        ])
        .arg(&out_file)
        .args(["--rotate-seconds", "1", "--duration", "2.5"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(child);
    assert!(out.status.success());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&lab.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("timed-"))
        .collect();
    files.sort();
    // Files opened at about 0 s, 1 s and 2 s.
    assert!((2..=4).contains(&files.len()), "{files:?}");
    assert!(files[0].ends_with("timed-00001.pcapng"));
    for f in &files {
        assert_eq!(read_all(f).len(), 0);
        run_ok(Command::new("capinfos").arg(f));
        assert!(!isb_options(f).is_empty());
    }
}

/// Runs a command in a namespace.
fn ns_run(ns: &str, args: &[&str]) -> Output {
    run_ok(Command::new("ip").args(["netns", "exec", ns]).args(args))
}

/// (eth.src, eth.dst, ip.src, ip.dst) of every packet, read by tshark; any read error fails.
fn tshark_addrs(path: &Path) -> Vec<[String; 4]> {
    let out = run_ok(Command::new("tshark").arg("-r").arg(path).args([
        "-T", "fields", "-e", "eth.src", "-e", "eth.dst", "-e", "ip.src", "-e", "ip.dst",
    ]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .all(|l| l.trim().is_empty() || l.contains("Running as user")),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut f = l.split('\t').map(str::to_owned);
            std::array::from_fn(|_| f.next().unwrap_or_default())
        })
        .collect()
}

/// The MAC of a namespace's interface.
fn mac_of(ns: &str, dev: &str) -> String {
    let out = ns_run(ns, &["cat", &format!("/sys/class/net/{dev}/address")]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Open files of process `pid` under `dir`.
fn open_files_under(pid: u32, dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    rd.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.starts_with(dir))
        .count()
}

/// `--per-host`: six macvlan hosts and one "router" MAC carrying ten addresses talk to B,
/// with at most three files open. Every file reads cleanly with tshark and capinfos after
/// SIGTERM, holds only its host's packets, B's files hold every echo request, the router's
/// later packets are filed by IP, and no more than three files were ever open.
#[test]
fn per_host_files_hold_only_their_host_within_the_open_bound() {
    let Some(lab) = Lab::new() else { return };
    const HOSTS: usize = 6;
    const ROUTER_IPS: usize = 10;
    const MAX_OPEN: usize = 3;
    const PINGS: usize = 2;
    const ROUNDS: usize = 2;
    // One ARP answer per address, from the interface that owns it.
    ns_run(&lab.a, &["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"]);
    ns_run(
        &lab.a,
        &["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
    );
    let mut macs = Vec::new();
    for i in 0..HOSTS {
        let dev = format!("mv{i}");
        let addr = format!("10.231.7.{}/{PREFIX}", 11 + i);
        ns_run(
            &lab.a,
            &[
                "ip",
                "link",
                "add",
                &dev,
                "link",
                &lab.veth_a,
                "type",
                "macvlan",
                "mode",
                "bridge",
            ],
        );
        ns_run(&lab.a, &["ip", "addr", "add", &addr, "dev", &dev]);
        ns_run(&lab.a, &["ip", "link", "set", &dev, "up"]);
        macs.push(mac_of(&lab.a, &dev));
    }
    let router_ips: Vec<String> = (0..ROUTER_IPS)
        .map(|i| format!("10.231.7.{}", 100 + i))
        .collect();
    for ip in &router_ips {
        ns_run(
            &lab.a,
            &["ip", "addr", "add", &format!("{ip}/32"), "dev", &lab.veth_a],
        );
    }
    let router_mac = mac_of(&lab.a, &lab.veth_a);
    let b_mac = mac_of(&lab.b, &lab.veth_b);
    let dir = lab.path("hosts");
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        &lab.b,
        trident(),
        "capture",
        "-i",
        &lab.veth_b,
        "-w",
    ])
    .arg(&dir)
    .args([
        "--per-host",
        "--max-open-files",
        &MAX_OPEN.to_string(),
        "--filter",
        "icmp or arp",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let cap = Proc { child: Some(child) };
    let start = Instant::now();
    while !dir.exists() {
        assert!(start.elapsed() < READY_TIMEOUT);
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Sample the open files while the traffic runs.
    let done = std::sync::atomic::AtomicBool::new(false);
    let max_seen = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut max = 0;
            while !done.load(Ordering::Relaxed) {
                max = max.max(open_files_under(pid, &dir));
                std::thread::sleep(Duration::from_millis(2));
            }
            max
        });
        for _ in 0..ROUNDS {
            for i in 0..HOSTS {
                ns_run(
                    &lab.a,
                    &[
                        "ping",
                        "-q",
                        "-c",
                        &PINGS.to_string(),
                        "-i",
                        "0.02",
                        "-I",
                        &format!("mv{i}"),
                        ADDR_B,
                    ],
                );
            }
        }
        for ip in &router_ips {
            ns_run(&lab.a, &["ping", "-q", "-c", "1", "-I", ip, ADDR_B]);
        }
        std::thread::sleep(SETTLE);
        done.store(true, Ordering::Relaxed);
        sampler.join().unwrap()
    });
    let out = cap.terminate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("stopped by signal"), "{stderr}");
    assert!(
        (1..=MAX_OPEN).contains(&max_seen),
        "at most {MAX_OPEN} open, saw {max_seen}"
    );

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let label = |key: &str| key.replace(':', "-");
    let files_of = |key: &str| -> Vec<PathBuf> {
        files
            .iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .contains(&format!("-{}-", label(key)))
            })
            .cloned()
            .collect()
    };
    let (mut checked_files, mut checked_packets) = (0, 0);
    for f in &files {
        run_ok(Command::new("capinfos").arg(f));
        assert!(
            !isb_options(f).is_empty(),
            "{}: statistics block",
            f.display()
        );
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let rows = tshark_addrs(f);
        assert_eq!(rows.len(), read_all(f).len());
        assert!(!rows.is_empty(), "{name}: a file is opened for a packet");
        // The host is the name between the prefix and the number.
        let mac_host = [&b_mac, &router_mac]
            .into_iter()
            .chain(macs.iter())
            .find(|m| name.contains(&format!("-{}-", label(m))));
        let ip_host = router_ips
            .iter()
            .find(|ip| name.contains(&format!("-{ip}-")));
        for r in &rows {
            match (mac_host, ip_host) {
                (Some(m), None) => assert!(&r[0] == m || &r[1] == m, "{name}: {r:?}"),
                (None, Some(ip)) => assert!(&r[2] == ip || &r[3] == ip, "{name}: {r:?}"),
                _ => panic!("{name}: not a known host's file"),
            }
        }
        checked_files += 1;
        checked_packets += rows.len();
    }
    // B answers everyone: its files hold every echo request sent.
    let sent = ROUNDS * HOSTS * PINGS + ROUTER_IPS;
    let b_requests: usize = files_of(&b_mac)
        .iter()
        .map(|f| tshark_count(f, "icmp.type == 8"))
        .sum();
    assert_eq!(b_requests, sent);
    // Each macvlan host: its echo requests, split over numbered files when it was evicted.
    for m in &macs {
        let n: usize = files_of(m)
            .iter()
            .map(|f| tshark_count(f, "icmp.type == 8"))
            .sum();
        assert_eq!(n, ROUNDS * PINGS, "{m}");
    }
    assert!(
        macs.iter().any(|m| files_of(m).len() >= 2),
        "an evicted host continues in a new numbered file: {files:?}"
    );
    // The router rule: the last addresses' packets are filed by IP, not under the MAC.
    let last = router_ips.last().unwrap();
    assert_eq!(
        files_of(last)
            .iter()
            .map(|f| tshark_count(f, "icmp.type == 8"))
            .sum::<usize>(),
        1,
        "{files:?}"
    );
    assert!(
        stderr.contains(&format!("within {MAX_OPEN} open")),
        "{stderr}"
    );
    println!(
        "per-host: {checked_files} files, {checked_packets} packet records checked with tshark; \
         at most {max_seen} files open (bound {MAX_OPEN})"
    );
}

/// Every flow of a store, as (id, its record), sorted.
fn store_flows(dir: &Path) -> Vec<(String, serde_json::Map<String, serde_json::Value>)> {
    let store = trident_index::SqliteStore::open_read_only(dir).unwrap();
    let page = store
        .flows(&trident_index::records::FlowFilter {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert!(page.total < 1000);
    let mut v: Vec<_> = page.items.into_iter().map(|f| (f.id, f.record)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Every host key of a store, sorted.
fn store_hosts(dir: &Path) -> Vec<String> {
    let store = trident_index::SqliteStore::open_read_only(dir).unwrap();
    let page = store
        .hosts(&trident_index::records::HostFilter {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    let mut v: Vec<String> = page.items.into_iter().map(|h| h.key).collect();
    v.sort();
    v
}

/// `--analyze`: flows reach the store while the capture runs (periodic flushes), and after
/// SIGTERM the store holds exactly the flows, with the same records, and the same hosts,
/// as `trident ingest` of the capture the run wrote.
#[test]
fn analyze_store_matches_ingest_of_the_written_capture() {
    let Some(lab) = Lab::new() else { return };
    let file = lab.path("live.pcapng");
    let live = lab.path("live-data");
    let replay = lab.path("replay-data");
    let cap = lab.start_capture(
        &file,
        &[
            "--analyze",
            "--data-dir",
            live.to_str().unwrap(),
            "--flush-seconds",
            "0.5",
        ],
    );
    lab.ping(10, 56);
    lab.udp(5, 9999, "first");
    // UDP flows end by idle timeout in packet time; wait for a flush and look.
    std::thread::sleep(Duration::from_millis(1500));
    let mid = trident_index::SqliteStore::open_read_only(&live)
        .unwrap()
        .captures()
        .unwrap()
        .len();
    assert!(mid >= 1, "segments committed while capturing");
    lab.udp(5, 9998, "second");
    lab.ping(5, 100);
    std::thread::sleep(SETTLE);
    let out = cap.terminate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("analysed into the store"), "{stderr}");

    let out = run_ok(
        Command::new(trident())
            .args(["ingest", "-q", "--data-dir"])
            .arg(&replay)
            .arg(&file),
    );
    assert!(out.status.success());
    let ours = store_flows(&live);
    let theirs = store_flows(&replay);
    assert!(ours.len() >= 4, "{ours:?}");
    assert_eq!(
        ours.iter().map(|f| &f.0).collect::<Vec<_>>(),
        theirs.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "flow ids"
    );
    assert_eq!(ours, theirs, "flow records");
    let hosts = store_hosts(&live);
    assert_eq!(hosts, store_hosts(&replay), "host keys");
    println!(
        "analyze: {} flows and {} hosts compared with ingest of the written capture ({} packets)",
        ours.len(),
        hosts.len(),
        read_all(&file).len()
    );
}

/// `--publish` during the capture: Redis Streams receives one record per captured packet.
/// The capture runs inside namespace B, whose loopback has no Redis, so the test starts a
/// private redis-server on a Unix socket (reachable from every network namespace).
#[test]
fn live_publish_delivers_every_captured_packet() {
    let Some(lab) = Lab::new() else { return };
    let sock = lab.path("redis.sock");
    let server = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--save",
            "",
            "--appendonly",
            "no",
            "--unixsocket",
        ])
        .arg(&sock)
        .args(["--unixsocketperm", "777"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("redis-server is required (.ci/run installs it): {e}"));
    let _server = Proc {
        child: Some(server),
    };
    let url = format!("unix://{}", sock.display());
    let client = redis::Client::open(url.as_str()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        match client.get_connection() {
            Ok(c) => break c,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("private redis-server on {url} did not start: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let key = format!("trident-test.live-publish.{}", std::process::id());
    let file = lab.path("pub.pcapng");
    let cap = lab.start_capture(&file, &["--publish", &url, "--topic", &key]);
    lab.ping(20, 56);
    lab.udp(10, 9999, "published");
    std::thread::sleep(SETTLE);
    // Published while capturing: the stream has entries before the capture ends.
    let before: u64 = redis::cmd("XLEN").arg(&key).query(&mut conn).unwrap();
    let out = cap.terminate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let captured = read_all(&file).len() as u64;
    type Entries = Vec<(String, Vec<(String, Vec<u8>)>)>;
    let entries: Entries = redis::cmd("XRANGE")
        .arg(&key)
        .arg("-")
        .arg("+")
        .query(&mut conn)
        .unwrap();
    let delivered: u64 = entries
        .iter()
        .map(|(_, fields)| {
            fields
                .iter()
                .find(|(k, _)| k == "n")
                .map(|(_, v)| String::from_utf8_lossy(v).parse::<u64>().unwrap())
                .unwrap()
        })
        .sum();
    let _: () = redis::cmd("DEL").arg(&key).query(&mut conn).unwrap();
    println!(
        "live publish: {delivered} records delivered, {captured} packets captured, {before} entries before the end"
    );
    assert!(before > 0, "records are published while capturing");
    assert!(captured >= 50, "{captured}");
    assert_eq!(delivered, captured);
    assert!(
        stderr.contains(&format!("{captured} packet records published, 0 dropped")),
        "{stderr}"
    );
}
