//! Private Redis servers for tests that kill, restart or cluster them: each on a free
//! loopback port, in its own temporary directory, killed when dropped. `redis-server` and
//! `redis-cli` must be installed (`.ci/run` installs them); a test fails loudly if not.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (and its cluster bus port, +10000, free too).
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// One redis-server child.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    /// Its working directory (AOF, cluster config).
    pub dir: PathBuf,
    extra: Vec<String>,
}

fn ping(port: u16) -> bool {
    Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "ping"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
}

impl RedisServer {
    /// Starts a server with an append-only file synced at every write (so a kill loses
    /// nothing acknowledged), plus `extra` arguments.
    pub fn start(dir: &Path, extra: &[&str]) -> RedisServer {
        std::fs::create_dir_all(dir).expect("server dir");
        let mut s = RedisServer {
            child: None,
            port: free_port(),
            dir: dir.to_owned(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        s.launch();
        s
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                &self.dir.to_string_lossy(),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (see .ci/run)");
        self.child = Some(child);
        let t = Instant::now();
        while !ping(self.port) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "redis-server on port {} did not answer",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: no shutdown save).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and directory (it reloads its append-only file).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh temporary directory.
pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "trident-redis-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Every sorted-set member of a database as sorted `key\tmember\tscore` lines, from a
/// single server.
pub fn zsets(con: &mut dyn redis::ConnectionLike) -> Vec<String> {
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(con).expect("KEYS");
    let mut out = Vec::new();
    for k in keys {
        let t: String = redis::cmd("TYPE").arg(&k).query(con).expect("TYPE");
        if t != "zset" {
            continue;
        }
        let m: Vec<(String, String)> = redis::cmd("ZRANGE")
            .arg(&k)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query(con)
            .expect("ZRANGE");
        out.extend(m.into_iter().map(|(m, s)| format!("{k}\t{m}\t{s}")));
    }
    out.sort();
    out
}
