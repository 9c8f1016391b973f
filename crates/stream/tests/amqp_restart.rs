//! RabbitMQ killed (-9) and restarted mid-stream: a private rabbitmq-server node of its own
//! (own node name, port, data and log directories in a temporary directory), so the
//! machine's broker and the other tests are never touched. The publisher retries and resends
//! what was not confirmed, the consumer reconnects and gets again what it had not
//! acknowledged; the store must end with every record exactly once.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::{records, tempdir};
use trident_stream::amqp::{AmqpConsumer, AmqpPublisher, Topology};
use trident_stream::sink::SqliteSink;
use trident_stream::{ConsumeOptions, Decoder, Publisher, PublisherOptions, consume};

/// The Debian script that runs the broker as the calling user (the `/usr/sbin` wrapper
/// switches to the `rabbitmq` user, which cannot write our temporary directory).
const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private broker node.
struct Node {
    dir: PathBuf,
    port: u16,
    dist_port: u16,
    name: String,
    child: Option<Child>,
}

impl Node {
    fn new(dir: &Path) -> Self {
        let port = free_port();
        let dist_port = free_port();
        for d in ["home", "mnesia", "log"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        std::fs::write(dir.join("enabled_plugins"), "[].\n").unwrap();
        // An empty env file: the machine's /etc/rabbitmq/rabbitmq-env.conf names its own node.
        std::fs::write(dir.join("env.conf"), "").unwrap();
        // Our own config: the machine's binds 5672.
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.1 = 127.0.0.1:{port}\n"),
        )
        .unwrap();
        Node {
            dir: dir.to_owned(),
            port,
            dist_port,
            name: format!("trident-test-{port}@localhost"),
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Starts the node (on the same data as before, after a kill) and waits for its port.
    fn start(&mut self) {
        let d = &self.dir;
        let log = std::fs::File::create(d.join("server.log")).unwrap();
        let child = Command::new(SERVER)
            .env("HOME", d.join("home"))
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq.conf"))
            .env("RABBITMQ_CONF_ENV_FILE", d.join("env.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_FEATURE_FLAGS_FILE", d.join("feature_flags"))
            .env("RABBITMQ_PLUGINS_EXPAND_DIR", d.join("plugins-expand"))
            .env("RABBITMQ_PID_FILE", d.join("pid"))
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{SERVER} (Debian's rabbitmq-server) is required for this test: {e}")
            });
        self.child = Some(child);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(180) {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                println!(
                    "private rabbitmq node {} up on port {} after {:?}",
                    self.name,
                    self.port,
                    t0.elapsed()
                );
                return;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                let log = std::fs::read_to_string(d.join("server.log")).unwrap_or_default();
                panic!("rabbitmq-server exited with {status} before listening:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "rabbitmq-server did not listen on {} within 180 s (log: {})",
            self.port,
            d.join("server.log").display()
        );
    }

    /// SIGKILL to the node's process group and to every descendant (erl_child_setup makes
    /// its own session).
    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let mut pids = Vec::new();
        descendants(child.id(), &mut pids);
        let _ = Command::new("kill")
            .arg("-9")
            .arg("--")
            .arg(format!("-{}", child.id()))
            .status();
        for p in pids {
            // Most are gone with the group already.
            let _ = Command::new("kill")
                .arg("-9")
                .arg(p.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let _ = child.wait();
        // The port is free again once the node is gone.
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && t0.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every descendant of `pid`, from /proc.
fn descendants(pid: u32, out: &mut Vec<u32>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for t in tasks.flatten() {
        let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            out.push(c);
            descendants(c, out);
        }
    }
}

#[test]
fn broker_killed_and_restarted_mid_stream_loses_and_doubles_nothing() {
    let dir = tempdir("amqprestart");
    let mut node = Node::new(&dir.join("node"));
    node.start();
    let url = node.url();
    let name = "restart.records";
    const N: usize = 60_000;
    let store = dir.join("store");
    // Declare the queue before anyone publishes.
    drop(AmqpConsumer::open(&url, Topology::trident(name), 1, "declare").unwrap());
    let published = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        let publisher = s.spawn(|| {
            let mut p = Publisher::start(
                Box::new(AmqpPublisher::new(&url, Topology::trident(name))),
                PublisherOptions {
                    batch: 100,
                    confirm_every: 8,
                    ..PublisherOptions::default()
                },
            );
            for (i, r) in records("r", N).into_iter().enumerate() {
                p.publish(r).unwrap();
                published.store(i as u64 + 1, std::sync::atomic::Ordering::Relaxed);
                if i % 1000 == 0 {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            p.finish().unwrap()
        });
        let consumer = s.spawn(|| {
            let mut src = AmqpConsumer::open(&url, Topology::trident(name), 64, "c1").unwrap();
            let mut sink = SqliteSink::open(&store).unwrap();
            let opts = ConsumeOptions {
                idle_exit: Some(Duration::from_secs(15)),
                ..ConsumeOptions::default()
            };
            consume(
                &mut src,
                Decoder::Native,
                &mut sink,
                opts,
                &AtomicBool::new(false),
            )
            .unwrap()
        });
        // Kill the broker mid-stream (some records confirmed, most not yet published),
        // then bring it back on the same port and data.
        let t0 = Instant::now();
        while published.load(std::sync::atomic::Ordering::Relaxed) < (N / 4) as u64
            && t0.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let at = published.load(std::sync::atomic::Ordering::Relaxed);
        node.kill();
        println!("killed the broker (-9) after {at} of {N} records were handed to the publisher");
        std::thread::sleep(Duration::from_secs(1));
        node.start();
        let ps = publisher.join().unwrap();
        let cs = consumer.join().unwrap();
        println!("publisher {ps:?}\nconsumer {cs:?}");
        assert!(at < N as u64, "the kill came mid-stream");
        assert!(ps.retries > 0, "the publisher noticed the restart");
        assert!(cs.reconnects > 0, "the consumer noticed the restart");
    });
    let n = SqliteSink::open(&store).unwrap().count(None).unwrap();
    println!(
        "compared {n} records in the store with {N} published across a broker kill -9 and restart"
    );
    assert_eq!(n, N as u64);
    let ids: u64 = rusqlite::Connection::open(store.join(trident_stream::sink::STORE_FILE))
        .unwrap()
        .query_row(
            "SELECT COUNT(DISTINCT id) FROM records WHERE id LIKE 'r:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ids, N as u64, "every record id r:0..r:{N} once");
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
