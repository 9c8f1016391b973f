//! The dashboard in a real headless Chromium: starts `trident serve` on a free loopback
//! port over a fresh data directory filled from the bundled samples and two corpus captures,
//! then runs `crates/serve/tests/browser/run.mjs` (playwright-core driving Debian's
//! /usr/bin/chromium), which walks every page, fails on any console error or failed
//! request, and saves a screenshot of each page in `target/screenshots/` (or
//! `$TRIDENT_SCREENSHOTS`).
//!
//! Needs node, /usr/bin/chromium and `npm ci` in crates/serve/tests/browser; all three are
//! installed by `.ci/setup.d/20-browser.sh`. A missing one fails the test with that message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, passed or not.
struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding a free loopback port");
    l.local_addr().unwrap().port()
}

/// A plain HTTP/1.1 GET on loopback; returns (status, body) or None if nothing answers.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1.to_string())?;
    Some((status, body))
}

fn require_tools(browser_dir: &Path) {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node is not installed: the dashboard browser test needs Node.js 20+ (.ci/setup.d/20-browser.sh)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("TRIDENT_CHROMIUM").is_some(),
        "/usr/bin/chromium is missing: install Debian's chromium (.ci/setup.d/20-browser.sh)"
    );
    assert!(
        browser_dir
            .join("node_modules/playwright-core/package.json")
            .is_file(),
        "playwright-core is not installed: run `npm ci` in {} (.ci/setup.d/20-browser.sh)",
        browser_dir.display()
    );
}

#[test]
fn browser_dashboard_end_to_end() {
    let repo = common::repo();
    let browser_dir = repo.join("crates/serve/tests/browser");
    require_tools(&browser_dir);
    let shared = common::shared();

    let mut inputs: Vec<PathBuf> = [
        "samples/wikipedia.pcap",
        "samples/chrome-34-google.pcap",
        "samples/pppoe-session-http.pcap",
        "samples/vxlan-encapsulated-http.pcap",
    ]
    .iter()
    .map(|p| repo.join(p))
    .collect();
    inputs.push(shared.join("corpus/ndpi/sites.pcapng"));
    inputs.push(shared.join("corpus/pcapplusplus/many-protocols.pcap"));
    for p in &inputs {
        assert!(p.is_file(), "missing test capture {}", p.display());
    }
    // Uploaded through the page, so not ingested at start.
    let upload = repo.join("samples/dns-edns-ecs.pcap");

    let dir = std::env::temp_dir().join(format!("trident-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trident"));
    cmd.arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--ingest")
        .args(&inputs)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("server.log")).unwrap(),
        ));
    let child = cmd.spawn().expect("starting trident serve");
    let mut server = Server {
        child,
        dir: dir.clone(),
    };
    let log = || std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();

    // Up, and done ingesting: every capture finished, and some data to show.
    let start = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("trident serve exited with {status}:\n{}", log());
        }
        let ready = http_get(port, "/api/v1/health").is_some_and(|(s, _)| s == 200)
            && http_get(port, "/api/v1/captures").is_some_and(|(s, b)| {
                s == 200 && !b.contains("\"queued\"") && !b.contains("\"ingesting\"")
            })
            && http_get(port, "/api/v1/sensors")
                .is_some_and(|(s, b)| s == 200 && b.contains("\"days\""));
        if ready {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "trident serve was not ready within 120 s:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let shots = std::env::var_os("TRIDENT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/screenshots"));
    let out = Command::new("node")
        .current_dir(&browser_dir)
        .arg("run.mjs")
        .arg(format!("http://127.0.0.1:{port}/"))
        .arg(&shots)
        .arg(&upload)
        .output()
        .expect("running node run.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the browser run failed ({}):\n{stdout}\n{stderr}\nserver log:\n{}",
        out.status,
        log()
    );
    for name in [
        "01-overview",
        "02-hosts",
        "04-host",
        "05-top-bubbles",
        "06-series",
        "10-captures",
    ] {
        assert!(
            shots.join(format!("{name}.png")).is_file(),
            "no screenshot {name}.png in {}",
            shots.display()
        );
    }
    drop(server);
}
