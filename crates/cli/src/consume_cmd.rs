//! `trident consume`: records from a broker into the record store or a dataset; and the
//! `--publish` options shared by `decode`, `flows` and `capture`.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use trident_stream::amqp::{AmqpConsumer, AmqpPublisher, Topology};
use trident_stream::antinex::{self, Compat};
use trident_stream::consume::Source;
use trident_stream::publish::Transport;
use trident_stream::record::{Record, RecordKind, packet_id};
use trident_stream::redis_list::{ListConsumer, ListPublisher};
use trident_stream::redis_streams::{DEFAULT_MAXLEN, StreamConsumer, StreamPublisher};
use trident_stream::sink::{DatasetLayout, DatasetSink, RecordSink, SqliteSink};
use trident_stream::{
    Broker, ConsumeOptions, Decoder, Endpoint, Publisher, PublisherOptions, consume,
};
use trident_types::{LinkType, Timestamp};

use crate::ingest_cmd::DEFAULT_DATA_DIR;
use crate::output::columns::{Row, select};
use crate::output::{Ndjson, RowWriter};
use crate::{EXIT_OK, EXIT_USAGE};

/// AntiNex compatibility levels on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompatArg {
    /// AntiNex's transport, names and columns, with correct values.
    Antinex,
    /// Also AntiNex's known defects (stale-key fields, DNS defaults, pandas formatting).
    AntinexBugs,
}

impl CompatArg {
    pub fn level(self) -> Compat {
        match self {
            CompatArg::Antinex => Compat::Antinex,
            CompatArg::AntinexBugs => Compat::AntinexBugs,
        }
    }
}

/// `--publish` and its options, shared by `decode`, `flows` and `capture`.
#[derive(Args, Clone, Debug, Default)]
pub struct PublishArgs {
    /// Send records to a broker instead of stdout: redis://host:port[/db] (Redis Streams;
    /// with --compat antinex a kombu list) or amqp://user:pass@host:port/vhost (RabbitMQ).
    #[arg(long, value_name = "URL")]
    pub publish: Option<String>,
    /// Stream key (Redis) or exchange and queue (RabbitMQ) [default: trident.records, or
    /// NEW_PACKETS with --compat].
    #[arg(long, value_name = "NAME")]
    pub topic: Option<String>,
    /// Publish AntiNex packet envelopes on AntiNex's transport (packet records only).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub compat: Option<CompatArg>,
    /// Redis Streams: keep about this many entries (batches) in the stream (XADD MAXLEN ~).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAXLEN)]
    pub maxlen: u64,
    /// Records per broker message.
    #[arg(long, value_name = "N", default_value_t = trident_stream::DEFAULT_BATCH)]
    pub batch: usize,
    /// AntiNex envelopes' `source` field.
    #[arg(long, value_name = "NAME", default_value = "trident")]
    pub source_name: String,
}

impl PublishArgs {
    fn topic(&self) -> String {
        self.topic.clone().unwrap_or_else(|| {
            if self.compat.is_some() {
                antinex::NEW_PACKETS.to_owned()
            } else {
                trident_stream::DEFAULT_NAME.to_owned()
            }
        })
    }

    /// The publisher, when `--publish` was given.
    pub fn open(&self) -> Result<Option<Publisher>> {
        let Some(url) = &self.publish else {
            return Ok(None);
        };
        let ep = Endpoint::parse(url, &self.topic())?;
        let transport: Box<dyn Transport> = match (&ep.broker, self.compat) {
            (Broker::Redis(u), None) => Box::new(StreamPublisher::new(u, &ep.name, self.maxlen)),
            (Broker::Redis(u), Some(_)) => Box::new(ListPublisher::new(u, &ep.name)),
            (Broker::Amqp(u), None) => Box::new(AmqpPublisher::new(u, Topology::trident(&ep.name))),
            (Broker::Amqp(u), Some(_)) => {
                Box::new(AmqpPublisher::new(u, Topology::antinex(&ep.name)))
            }
        };
        let options = PublisherOptions {
            batch: self.batch.max(1),
            ..PublisherOptions::default()
        };
        Ok(Some(Publisher::start(transport, options)))
    }
}

/// A `Write` into a shared buffer (to take each ndjson row as it is written).
#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) as AntiNex's `created`, from the packet's own time.
fn created(ts: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = ts.utc_civil();
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// Publishes packet rows: trident's ndjson record, or AntiNex's envelope with `--compat`.
pub struct PacketPublisher {
    publisher: Option<Publisher>,
    ndjson: Ndjson<SharedBuf>,
    buf: SharedBuf,
    compat: Option<Compat>,
    source: String,
    /// Records published.
    pub published: u64,
    /// Frames AntiNex cannot describe (not Ethernet), skipped with --compat.
    pub skipped: u64,
    /// Never block on a full queue: drop the batch and count it (live capture).
    drop_when_full: bool,
    /// Records dropped because the queue was full (only with `drop_when_full`).
    pub dropped: u64,
}

impl PacketPublisher {
    pub fn new(publisher: Publisher, args: &PublishArgs) -> Result<Self> {
        let buf = SharedBuf::default();
        let cols = select(None).map_err(anyhow::Error::msg)?;
        Ok(PacketPublisher {
            publisher: Some(publisher),
            ndjson: Ndjson::new(buf.clone(), cols),
            buf,
            compat: args.compat.map(CompatArg::level),
            source: args.source_name.clone(),
            published: 0,
            skipped: 0,
            drop_when_full: false,
            dropped: 0,
        })
    }

    /// Live capture: never block on a slow broker; a batch that finds the queue full is
    /// dropped and counted in [`PacketPublisher::dropped`] (`published` counts only the
    /// records queued).
    pub fn drop_when_full(&mut self) {
        self.drop_when_full = true;
    }

    /// Hands a partly filled batch to the publisher without blocking (live capture, light
    /// traffic); dropped and counted when the queue is full.
    pub fn flush_partial(&mut self) -> Result<()> {
        if let Some(p) = self.publisher.as_mut() {
            let n = p.flush_or_drop().context("publishing")? as u64;
            self.dropped += n;
            self.published -= n;
        }
        Ok(())
    }

    fn send(&mut self, r: Record) -> io::Result<()> {
        let p = self
            .publisher
            .as_mut()
            .ok_or_else(|| io::Error::other("publisher already finished"))?;
        if self.drop_when_full {
            let n = p.publish_or_drop(r).map_err(io::Error::other)? as u64;
            // The record counts as queued; a dropped batch takes back its records.
            self.published += 1;
            self.published -= n;
            self.dropped += n;
        } else {
            p.publish(r).map_err(io::Error::other)?;
            self.published += 1;
        }
        Ok(())
    }

    /// Waits for the broker to confirm everything.
    pub fn close(&mut self) -> Result<()> {
        if let Some(p) = self.publisher.take() {
            let stats = p.finish().context("publishing")?;
            tracing::debug!(
                "published {} records in {} batches",
                stats.records,
                stats.batches
            );
        }
        Ok(())
    }
}

impl RowWriter for PacketPublisher {
    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()> {
        let id = packet_id(row.file, row.frame.number);
        let record = match self.compat {
            Some(level) => {
                let data = (row.frame.link_type == LinkType::ETHERNET)
                    .then(|| antinex::packet::frame_data(row.frame.data, level))
                    .flatten();
                let Some(data) = data else {
                    self.skipped += 1;
                    return Ok(());
                };
                antinex::kombu::envelope(&id, &created(row.frame.ts), &self.source, data)
            }
            None => {
                self.ndjson.row(row)?;
                self.ndjson.finish()?;
                let mut b = self.buf.0.borrow_mut();
                while b.last() == Some(&b'\n') {
                    b.pop();
                }
                let body = String::from_utf8_lossy(&b).into_owned();
                b.clear();
                Record {
                    id,
                    kind: RecordKind::Packet,
                    body,
                }
            }
        };
        self.send(record)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.close().map_err(io::Error::other)
    }
}

/// Where `trident consume` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Packet records (decode's columns).
    Packet,
    /// Flow records (flows' columns).
    Flow,
    /// Host records (hosts' columns).
    Host,
}

#[derive(Args)]
#[command(
    after_help = "Messages are acknowledged only after their records are durable in the \
sink, and the sink ignores record ids it already holds: a consumer killed at any point, or a \
broker restart, loses and doubles nothing. Malformed messages are counted and copied with \
their reason to NAME.dead (a stream, list or queue), then acknowledged.

Redis Streams: consumers of one --group share the stream; entries a dead consumer left \
pending are claimed after --claim-idle-ms. RabbitMQ: consumers of one queue compete; \
--prefetch bounds the unacknowledged messages each holds.

Examples:
  trident consume redis://127.0.0.1:6379/0 --group store --data-dir /var/lib/trident
  trident consume amqp://guest:guest@127.0.0.1:5672/%2f --to-store
  trident consume redis://127.0.0.1:6379/15 --compat antinex --dataset netdata.csv --save-after 100"
)]
pub struct ConsumeArgs {
    /// Broker URL: redis://host:port[/db] or amqp://user:pass@host:port/vhost.
    url: String,
    /// Stream key (Redis) or queue (RabbitMQ) [default: trident.records, or NEW_PACKETS
    /// with --compat].
    #[arg(long, value_name = "NAME")]
    topic: Option<String>,
    /// Redis Streams consumer group.
    #[arg(long, short, default_value = "trident")]
    group: String,
    /// This consumer's name within its group [default: trident-HOST-PID]; a restarted
    /// consumer with the same name first takes back its own pending entries.
    #[arg(long, value_name = "NAME")]
    consumer: Option<String>,
    /// Write records to the record store in the data directory (the default).
    #[arg(long)]
    to_store: bool,
    /// Data directory of the record store (default `$TRIDENT_DATA`, else ./trident-data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Write a dataset instead: CSV, or Parquet for a .parquet name (appended every
    /// --save-after records).
    #[arg(long, value_name = "FILE")]
    dataset: Option<PathBuf>,
    /// Record kind of a trident (non-AntiNex) dataset, which decides its columns.
    #[arg(long, value_enum, default_value_t = KindArg::Packet)]
    kind: KindArg,
    /// Read AntiNex packet envelopes (NEW_PACKETS; kombu on Redis lists, or RabbitMQ).
    #[arg(long, value_enum, value_name = "LEVEL")]
    compat: Option<CompatArg>,
    /// Dataset rows per save.
    #[arg(long, value_name = "N", default_value_t = 100)]
    save_after: usize,
    /// Text of a missing cell in an --compat antinex dataset (AntiNex's builder uses -1.0).
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "",
        allow_hyphen_values = true
    )]
    fill: String,
    /// RabbitMQ: unacknowledged messages a consumer may hold.
    #[arg(long, value_name = "N", default_value_t = 256)]
    prefetch: u16,
    /// Redis Streams: claim entries another consumer left pending this long.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    claim_idle_ms: u64,
    /// Stop after this many seconds without a message.
    #[arg(long, value_name = "S")]
    idle_exit: Option<f64>,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    max_records: Option<u64>,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn default_consumer() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    format!("trident-{host}-{}", std::process::id())
}

fn open_source(args: &ConsumeArgs, name: &str) -> Result<Box<dyn Source>> {
    let ep = Endpoint::parse(&args.url, name)?;
    let consumer = args.consumer.clone().unwrap_or_else(default_consumer);
    Ok(match (&ep.broker, args.compat) {
        (Broker::Redis(u), None) => Box::new(StreamConsumer::open(
            u,
            &ep.name,
            &args.group,
            &consumer,
            Duration::from_millis(args.claim_idle_ms),
        )?),
        (Broker::Redis(u), Some(_)) => Box::new(ListConsumer::open(u, &ep.name, &consumer)?),
        (Broker::Amqp(u), compat) => {
            let topology = if compat.is_some() {
                Topology::antinex(&ep.name)
            } else {
                Topology::trident(&ep.name)
            };
            Box::new(AmqpConsumer::open(
                u,
                topology,
                args.prefetch.max(1),
                &consumer,
            )?)
        }
    })
}

fn columns_of(kind: KindArg) -> Result<Vec<String>> {
    Ok(match kind {
        KindArg::Packet => select(None)
            .map_err(anyhow::Error::msg)?
            .into_iter()
            .map(|c| c.name.to_owned())
            .collect(),
        KindArg::Flow => trident_flow::COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
        KindArg::Host => trident_host::COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    })
}

/// The dataset layout for a compat level (or trident's columns of a record kind).
pub fn dataset_layout(
    compat: Option<CompatArg>,
    fill: &str,
    kind: KindArg,
) -> Result<DatasetLayout> {
    Ok(match compat {
        Some(CompatArg::Antinex) => DatasetLayout::Antinex {
            fill: fill.to_owned(),
        },
        Some(CompatArg::AntinexBugs) => DatasetLayout::AntinexBugs,
        None => DatasetLayout::Columns(columns_of(kind)?),
    })
}

pub fn run(args: &ConsumeArgs) -> Result<u8> {
    if args.dataset.is_some() && (args.to_store || args.data_dir.is_some()) {
        eprintln!("trident consume: --dataset and --to-store/--data-dir are exclusive");
        return Ok(EXIT_USAGE);
    }
    let idle_exit = match args.idle_exit {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
        Some(_) => bail!("--idle-exit must be a number of seconds >= 0"),
        None => None,
    };
    let name = args.topic.clone().unwrap_or_else(|| {
        if args.compat.is_some() {
            antinex::NEW_PACKETS.to_owned()
        } else {
            trident_stream::DEFAULT_NAME.to_owned()
        }
    });
    let mut sink: Box<dyn RecordSink> = match &args.dataset {
        Some(path) => Box::new(
            DatasetSink::open_as(
                path,
                dataset_layout(args.compat, &args.fill, args.kind)?,
                args.save_after,
                // A .parquet name writes Parquet, as `trident dataset` does.
                if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
                {
                    trident_stream::sink::DatasetFormat::Parquet
                } else {
                    trident_stream::sink::DatasetFormat::Csv
                },
            )
            .with_context(|| format!("opening dataset {}", path.display()))?,
        ),
        None => {
            let dir = args
                .data_dir
                .clone()
                .or_else(|| std::env::var_os("TRIDENT_DATA").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
            Box::new(open_store(&dir)?)
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Another command in this process may have installed it already; a second install
    // fails harmlessly.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    // A bad URL is a usage error; an unreachable broker at start is retried like one lost
    // later: backoff, a log line per attempt.
    Endpoint::parse(&args.url, &name)?;
    let mut wait = Duration::from_millis(100);
    let mut source = loop {
        match open_source(args, &name) {
            Ok(s) => break s,
            Err(e) if !stop.load(Ordering::Relaxed) => {
                eprintln!(
                    "trident: broker {} unreachable: {e:#}; retrying in {} ms",
                    trident_stream::redact(&args.url),
                    wait.as_millis()
                );
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    };
    let options = ConsumeOptions {
        idle_exit,
        max_records: args.max_records,
        ..ConsumeOptions::default()
    };
    let decoder = if args.compat.is_some() {
        Decoder::Antinex
    } else {
        Decoder::Native
    };
    let started = Instant::now();
    let stats = consume(source.as_mut(), decoder, sink.as_mut(), options, &stop)?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        eprintln!(
            "trident consume: {} messages, {} records ({} new) in {secs:.3} s ({:.0} records/s); \
             {} dead-lettered, {} reconnects",
            stats.messages,
            stats.records,
            stats.new_records,
            stats.records as f64 / secs,
            stats.dead_lettered,
            stats.reconnects
        );
    }
    Ok(EXIT_OK)
}

fn open_store(dir: &Path) -> Result<SqliteSink> {
    SqliteSink::open(dir).with_context(|| format!("opening the record store in {}", dir.display()))
}

/// Publishes flow records (`trident flows --publish`).
pub struct FlowPublisher {
    publisher: Option<Publisher>,
    seq: trident_stream::record::Sequencer,
}

impl FlowPublisher {
    /// The flow publisher for `--publish`, or `None` without it.
    pub fn open(args: &PublishArgs) -> Result<Option<Self>> {
        if args.compat.is_some() && args.publish.is_some() {
            bail!(
                "--compat antinex publishes packet records (decode, capture); AntiNex has no flow records"
            );
        }
        Ok(args.open()?.map(|p| FlowPublisher {
            publisher: Some(p),
            seq: trident_stream::record::Sequencer::new(),
        }))
    }

    /// Publishes flows; ids are the flow's own id plus a sequence.
    pub fn publish(&mut self, records: &[trident_flow::FlowRecord]) -> Result<()> {
        let Some(p) = self.publisher.as_mut() else {
            bail!("publisher already finished");
        };
        for r in records {
            p.publish(Record {
                id: self.seq.flow_id(&r.id),
                kind: RecordKind::Flow,
                body: serde_json::to_string(r)?,
            })?;
        }
        Ok(())
    }

    /// Waits for the broker to confirm everything.
    pub fn finish(&mut self) -> Result<()> {
        if let Some(p) = self.publisher.take() {
            p.finish().context("publishing")?;
        }
        Ok(())
    }
}
