//! Publish + consume throughput and latency through a real broker.
//!
//! `throughput BROKER_URL N [RATE] [--store DIR]`: one publisher thread sends N packet-sized
//! records (batched, confirmed) while one consumer thread reads them (consumer group or
//! queue, acknowledged per fetch) into a counting sink, or into the SQLite record store with
//! `--store`. With RATE (records/s) the publisher is paced and the consumer reports the
//! end-to-end latency percentiles. Prints one line of `key=value` pairs.
//!
//! `throughput outage N [DOWN_S]`: a publisher sends N records to a Redis port where nothing
//! listens; after DOWN_S seconds (default 5) it reports how many records were accepted and
//! the RSS, then starts redis-server on that port and reports what was published once the
//! broker came back (the queue is bounded: publish blocks, memory stays flat).
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use trident_stream::amqp::{AmqpConsumer, AmqpPublisher, Topology};
use trident_stream::consume::Source;
use trident_stream::publish::Transport;
use trident_stream::redis_streams::{StreamConsumer, StreamPublisher};
use trident_stream::sink::{RecordSink, SqliteSink};
use trident_stream::{
    Broker, ConsumeOptions, Decoder, Endpoint, Publisher, PublisherOptions, Record, RecordKind,
    StreamError, consume,
};

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Counts records and measures latency from the `t` field the publisher wrote.
struct Counting {
    n: u64,
    lat: Vec<u64>,
    inner: Option<SqliteSink>,
}

impl RecordSink for Counting {
    fn write(&mut self, records: &[Record]) -> Result<u64, StreamError> {
        let now = now_ns();
        for r in records {
            if let Some(t) = r
                .body
                .strip_prefix("{\"t\":")
                .and_then(|s| s.split(',').next())
            {
                if let Ok(t) = t.parse::<u64>() {
                    self.lat.push(now.saturating_sub(t));
                }
            }
        }
        self.n += records.len() as u64;
        match &mut self.inner {
            Some(s) => s.write(records),
            None => Ok(records.len() as u64),
        }
    }
    fn committed(&self) -> bool {
        true
    }
    fn commit(&mut self) -> Result<bool, StreamError> {
        Ok(true)
    }
}

/// A decode-sized packet record (about 330 bytes of JSON).
fn record(i: u64, t: u64) -> Record {
    Record {
        id: format!("p:bench.pcap#{i}"),
        kind: RecordKind::Packet,
        body: format!(
            "{{\"t\":{t},\"file\":\"bench.pcap\",\"frame\":{i},\"ts\":\"2024-05-01T12:00:00.000000000Z\",\
\"caplen\":74,\"len\":74,\"eth_src\":\"00:1b:21:a3:ff:0c\",\"eth_dst\":\"00:50:56:c0:00:08\",\
\"ethertype\":2048,\"ip_version\":4,\"ip_src\":\"192.168.10.20\",\"ip_dst\":\"93.184.216.34\",\
\"ip_proto\":6,\"ttl\":64,\"ip_id\":{},\"sport\":{},\"dport\":443,\"tcp_flags\":\"S\",\
\"tcp_seq\":{},\"tcp_win\":64240,\"tcp_opts\":\"mss,sok,ts,nop,ws\"}}",
            i % 65536,
            32768 + i % 28000,
            i.wrapping_mul(2_654_435_761) % 4_294_967_296
        ),
    }
}

/// Resident set size of this process in KiB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `throughput outage N`: publish N records to a Redis port where nothing listens for
/// `down` seconds, sampling RSS, then start redis-server there and let the publisher drain.
fn outage(n: u64, down: f64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let accepted = AtomicU64::new(0);
    let rss_before = rss_kb();
    let dir = std::env::temp_dir().join(format!("trident-outage.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = PublisherOptions::default();
    let (stats, rss_down, accepted_down, mut server, total) = std::thread::scope(|s| {
        let t0 = Instant::now();
        let publisher = s.spawn(|| {
            let mut p = Publisher::start(
                Box::new(StreamPublisher::new(&url, "outage", 10_000_000)),
                opts,
            );
            for i in 0..n {
                p.publish(record(i, now_ns())).unwrap();
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            p.finish().unwrap()
        });
        std::thread::sleep(Duration::from_secs_f64(down));
        let rss_down = rss_kb();
        let accepted_down = accepted.load(Ordering::Relaxed);
        let server = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server");
        let stats = publisher.join().unwrap();
        (
            stats,
            rss_down,
            accepted_down,
            server,
            t0.elapsed().as_secs_f64(),
        )
    });
    let mut c = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let entries: u64 = redis::cmd("XLEN").arg("outage").query(&mut c).unwrap();
    println!(
        "broker=redis-streams-outage records={n} down_s={down} queue_records={} rss_before_kb={rss_before} \
accepted_while_down={accepted_down} rss_while_down_kb={rss_down} published_after_restart={} \
stream_entries={entries} retries={} total_s={total:.2} rss_end_kb={}",
        opts.queue_batches * opts.batch,
        stats.records,
        stats.retries,
        rss_kb()
    );
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("outage") {
        let n = args
            .get(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        let down = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5.0);
        outage(n, down);
        return;
    }
    let url = args
        .get(1)
        .expect("usage: throughput URL N [RATE] [--store DIR]");
    let n: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rate: Option<f64> = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .filter(|r: &f64| *r > 0.0);
    let store = args
        .iter()
        .position(|a| a == "--store")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let name = format!("trident-bench.{}.{}", std::process::id(), now_ns());
    let ep = Endpoint::parse(url, &name).unwrap();
    let (transport, mut source): (Box<dyn Transport>, Box<dyn Source>) = match &ep.broker {
        Broker::Redis(u) => (
            Box::new(StreamPublisher::new(u, &name, 1_000_000)),
            Box::new(
                StreamConsumer::open(u, &name, "bench", "c1", Duration::from_secs(30)).unwrap(),
            ),
        ),
        Broker::Amqp(u) => (
            Box::new(AmqpPublisher::new(u, Topology::trident(&name))),
            Box::new(AmqpConsumer::open(u, Topology::trident(&name), 512, "c1").unwrap()),
        ),
    };
    let started = Instant::now();
    let (pub_secs, stats, sink) = std::thread::scope(|s| {
        let publisher = s.spawn(move || {
            let mut p = Publisher::start(transport, PublisherOptions::default());
            let t0 = Instant::now();
            for i in 0..n {
                if let Some(r) = rate {
                    let due = Duration::from_secs_f64(i as f64 / r);
                    if let Some(wait) = due.checked_sub(t0.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                p.publish(record(i, now_ns())).unwrap();
            }
            p.finish().unwrap();
            t0.elapsed().as_secs_f64()
        });
        let mut sink = Counting {
            n: 0,
            lat: Vec::with_capacity(n as usize),
            inner: store.as_ref().map(|d| SqliteSink::open(d).unwrap()),
        };
        let opts = ConsumeOptions {
            fetch: 64,
            wait: Duration::from_millis(20),
            idle_exit: Some(Duration::from_secs(10)),
            max_records: Some(n),
        };
        let stats = consume(
            source.as_mut(),
            Decoder::Native,
            &mut sink,
            opts,
            &AtomicBool::new(false),
        )
        .unwrap();
        (publisher.join().unwrap(), stats, sink)
    });
    let total = started.elapsed().as_secs_f64();
    let mut lat = sink.lat;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |&ns| ns as f64 / 1e6)
    };
    println!(
        "broker={} records={} consumed={} publish_s={pub_secs:.3} total_s={total:.3} records_per_s={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} store={}",
        match ep.broker {
            Broker::Redis(_) => "redis-streams",
            Broker::Amqp(_) => "rabbitmq-confirms",
        },
        n,
        stats.records,
        sink.n as f64 / total,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        store.is_some()
    );
    // Clean up the broker side.
    match &ep.broker {
        Broker::Redis(u) => {
            let mut c = redis::Client::open(u.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            let _: () = redis::cmd("DEL").arg(&name).query(&mut c).unwrap();
        }
        Broker::Amqp(u) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let c = lapin::Connection::connect(u, lapin::ConnectionProperties::default())
                    .await
                    .unwrap();
                let ch = c.create_channel().await.unwrap();
                let _ = ch
                    .queue_delete(name.as_str().into(), Default::default())
                    .await;
                let _ = ch
                    .exchange_delete(name.as_str().into(), Default::default())
                    .await;
            });
        }
    }
}
