//! `trident ingest`: captures in, per sensor/day/field value counts out, into the embedded
//! SQLite store (default) or a Redis server in potiron's layout.
//!
//! The embedded store also gets each capture's flows, hosts, per-minute traffic and host
//! role predictions (`--no-flows`, `--no-hosts` leave them out), built in the same pass and
//! written in the same transaction as the counts.
//!
//! Files are read in parallel (one reader thread per core, each file counted in memory) and
//! written by this thread one whole file at a time, so each file's contribution is atomic.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use trident_capture::{CaptureErrorKind, Input, expand_inputs};
use trident_index::records::{CaptureRead, RecordOptions, read_capture_with};
use trident_index::{
    AggOptions, FileMeta, IndexError, IngestOutcome, RedisLayout, RedisStore, SqliteStore, Store,
    file_meta_unhashed, read_capture_unhashed,
};

/// potiron's Redis key layouts (`--redis-layout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RedisLayoutArg {
    /// potiron's current importer (2019).
    Current,
    /// potiron's legacy importer (≤ 2018), read by its exporters.
    Legacy,
}

use crate::{EXIT_DAMAGED, EXIT_OK, EXIT_USAGE};

/// The data directory when neither `--data-dir` nor `TRIDENT_DATA` is given.
pub const DEFAULT_DATA_DIR: &str = "./trident-data";

/// Where the index lives; shared by `ingest` and the query commands.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Store URL: `redis://host:port[/db]` or `unix:///path.sock` for Redis (potiron's key
    /// layout); default the embedded store in the data directory.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Data directory of the embedded store (default `$TRIDENT_DATA`, else ./trident-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// True when the store is Redis.
    fn is_redis(&self) -> bool {
        self.store
            .as_deref()
            .is_some_and(|u| u.starts_with("redis") || u.starts_with("unix:"))
    }

    /// Opens the store named by the arguments (queries follow the layout in the store).
    pub fn open(&self) -> Result<Box<dyn Store>> {
        self.open_for_ingest(None, None)
    }

    /// The embedded store's data directory (`--data-dir`, else `$TRIDENT_DATA`, else the
    /// default).
    fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| std::env::var_os("TRIDENT_DATA").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// Opens the store; `combined` and `layout` choose potiron's combined keys and key
    /// layout when writing to Redis.
    fn open_for_ingest(
        &self,
        combined: Option<bool>,
        layout: Option<RedisLayout>,
    ) -> Result<Box<dyn Store>> {
        match self.store.as_deref() {
            Some(url) if self.is_redis() => {
                let mut store =
                    RedisStore::open(url).with_context(|| format!("connecting to {url}"))?;
                if let Some(l) = layout {
                    store = store.with_layout(l);
                }
                Ok(Box::new(match combined {
                    Some(ck) => store.with_combined_keys(ck),
                    None => store,
                }))
            }
            Some(other) => bail!(
                "unknown store {other:?}: use redis://host:port[/db], unix:///path.sock, or --data-dir for the embedded store"
            ),
            None => {
                let dir = self.data_dir();
                Ok(Box::new(SqliteStore::open(&dir).with_context(|| {
                    format!("opening the store in {}", dir.display())
                })?))
            }
        }
    }
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident ingest captures/                               embedded store in ./trident-data
  trident ingest --sensor dmz --data-dir /srv/idx a.pcap
  trident ingest --store redis://127.0.0.1:6379/0 test-honeypot-1-20140826140000.cap.gz")]
pub struct IngestArgs {
    /// Capture files (pcap/pcapng, optionally .gz/.zst) or directories (walked recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Sensor name; default potiron's file-name convention (PREFIX-SENSOR-INSTANCE-DATE),
    /// else the file name.
    #[arg(long)]
    sensor: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
    /// With a Redis store: write potiron's combined keys (its `-ck`: one set of keys per IP
    /// protocol, `<sensor>:<protocol>:<day>:<field>`) instead of the plain ones.
    #[arg(long = "combined-keys", visible_alias = "ck")]
    combined_keys: bool,
    /// With a Redis store: potiron's key layout to write, `current` (its 2019
    /// `parse_pcap_files.py`) or `legacy` (its ≤ 2018 importer, read by its CSV exporters,
    /// bokeh and parallel-coordinate scripts).
    #[arg(long, value_enum, default_value_t = RedisLayoutArg::Current)]
    redis_layout: RedisLayoutArg,
    /// Also keep TCP ISN samples (time, ports, seq, ack of every TCP packet) for `trident
    /// isn`; embedded store only (one row per TCP packet, so off by default).
    #[arg(long)]
    isn: bool,
    /// Re-ingest files already ingested, first removing their earlier contribution. A file
    /// is already ingested when the embedded store holds its content hash (SHA-256), or when
    /// a Redis store's `FILES` holds its name (potiron's identity); either way it is skipped
    /// without being decoded.
    #[arg(long)]
    force: bool,
    /// Embedded store: do not keep the captures' flows (hosts and traffic are still kept).
    #[arg(long)]
    no_flows: bool,
    /// Embedded store: do not keep the captures' hosts nor classify them.
    #[arg(long)]
    no_hosts: bool,
    /// Reader threads (default: one per core).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// No progress or per-file lines, only errors.
    #[arg(long, short)]
    quiet: bool,
}

/// A file as a worker hands it over: its path, the seconds spent reading it, and what was
/// read, or `Recognised` when the store already held its bytes and it was not decoded.
type ReadResult = (PathBuf, f64, Read);

/// What a worker made of a file.
enum Read {
    /// Decoded (or failed to be); boxed, one per file.
    Decoded(Box<Result<CaptureRead, IndexError>>),
    /// Hashed only: the store held these bytes when the ingest started.
    Recognised(FileMeta),
}

/// Where ingest writes: the embedded store gets the records too.
enum Target {
    Embedded(SqliteStore),
    Other(Box<dyn Store>),
}

/// Files read ahead of the writer per reader thread (bounds memory).
const READ_AHEAD: usize = 1;

/// Why a file is skipped, naming what identified it: its content hash, or for a store
/// that goes by names (an unhashed file), its name.
fn already_ingested(meta: &FileMeta) -> String {
    if meta.sha256.is_empty() {
        format!(
            "skipped: already ingested (FILES has {}); --force to re-ingest",
            meta.name
        )
    } else {
        format!(
            "skipped: already ingested (sha256 {}); --force to re-ingest",
            meta.sha256
        )
    }
}

pub fn run(args: &IngestArgs) -> Result<u8> {
    let (inputs, errors) = expand_inputs(&args.paths);
    let mut damaged: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let files: Vec<PathBuf> = inputs
        .into_iter()
        .filter_map(|i| match i {
            Input::File(p) => Some(p),
            Input::Stdin => None,
        })
        .collect();
    if files.is_empty() {
        eprintln!(
            "trident ingest: no capture files given (stdin cannot be ingested: it has no content hash)"
        );
        return Ok(EXIT_USAGE);
    }
    if args.isn && args.store.is_redis() {
        eprintln!(
            "trident ingest: --isn applies to the embedded store (potiron keeps ISN samples in a database of their own format)"
        );
        return Ok(EXIT_USAGE);
    }
    if args.combined_keys && !args.store.is_redis() {
        eprintln!("trident ingest: --combined-keys applies to a Redis store (--store redis://...)");
        return Ok(EXIT_USAGE);
    }
    if (args.no_flows || args.no_hosts) && args.store.is_redis() {
        eprintln!(
            "trident ingest: --no-flows/--no-hosts apply to the embedded store (Redis keeps only counts)"
        );
        return Ok(EXIT_USAGE);
    }
    let mut target = if args.store.is_redis() {
        Target::Other(args.store.open_for_ingest(
            Some(args.combined_keys),
            Some(match args.redis_layout {
                RedisLayoutArg::Current => RedisLayout::Current,
                RedisLayoutArg::Legacy => RedisLayout::Legacy,
            }),
        )?)
    } else {
        let dir = args.store.data_dir();
        Target::Embedded(
            SqliteStore::open(&dir)
                .with_context(|| format!("opening the store in {}", dir.display()))?,
        )
    };
    let records = match &target {
        Target::Embedded(_) => {
            let mut r = if args.no_hosts {
                RecordOptions::traffic_only()
            } else {
                RecordOptions::all().context("loading the built-in model")?
            };
            r.flows = !args.no_flows;
            Some(r)
        }
        Target::Other(_) => None,
    };
    let opts = AggOptions {
        // potiron's layout counts TCP sequence numbers; the embedded store does not keep them.
        per_packet_fields: args.store.is_redis(),
        // potiron's layouts have no place for the application and link-layer fields.
        app_fields: !args.store.is_redis(),
        isn: args.isn,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, files.len());
    let progress = progress_bar(files.len(), args.quiet);
    let started = Instant::now();
    let (mut packets, mut bytes, mut ingested, mut skipped) = (0u64, 0u64, 0usize, 0usize);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<ReadResult>(jobs * READ_AHEAD);
    let sensor = args.sensor.as_deref();
    // Files the embedded store already holds are recognised by hashing them first when
    // their name and size match a stored file's: a second run over the same directory
    // reads each file once, without decoding it. (Redis identifies a file by its name.)
    let known = match (&target, args.force) {
        (Target::Embedded(store), false) => Some(
            store
                .known_files()
                .context("reading the store's ingested files")?,
        ),
        _ => None,
    };
    // A store that goes by file names (Redis, as potiron) needs no hash: its files are
    // read by the decoder alone, and those it already has are skipped unread.
    let by_name = matches!(&target, Target::Other(store) if store.identifies_by_name());
    let mut named: HashMap<PathBuf, FileMeta> = HashMap::new();
    if let (Target::Other(store), true, false) = (&mut target, by_name, args.force) {
        for path in &files {
            if let Ok(meta) = file_meta_unhashed(path, sensor) {
                if store.is_ingested(&meta)? {
                    named.insert(path.clone(), meta);
                }
            }
        }
    }
    let read = |path: &PathBuf, records: &Option<RecordOptions>| {
        if by_name {
            read_capture_unhashed(path, sensor, opts, None)
        } else {
            read_capture_with(path, sensor, opts, records.clone(), None)
        }
    };
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (files, next, records, known, named) = (&files, &next, &records, &known, &named);
            s.spawn(move || {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let t = Instant::now();
                    let seen = named
                        .get(path)
                        .cloned()
                        .or_else(|| known.as_ref().and_then(|k| k.recognise(path, sensor)));
                    let r = match seen {
                        Some(meta) => Read::Recognised(meta),
                        None => Read::Decoded(Box::new(read(path, records))),
                    };
                    if tx
                        .send((path.clone(), t.elapsed().as_secs_f64(), r))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (path, mut read_secs, r) in rx {
            progress.inc(1);
            let r = match r {
                Read::Decoded(r) => *r,
                Read::Recognised(meta) => {
                    let held = match &mut target {
                        Target::Embedded(store) => store.is_ingested(&meta)?,
                        Target::Other(store) => store.is_ingested(&meta)?,
                    };
                    if held {
                        skipped += 1;
                        log(
                            &progress,
                            args.quiet,
                            &format!(
                                "{}: sensor {}, {}",
                                meta.path,
                                meta.sensor,
                                already_ingested(&meta)
                            ),
                        );
                        continue;
                    }
                    // Removed from the store since the ingest started: read it after all.
                    let t = Instant::now();
                    let r = read(&path, &records);
                    read_secs += t.elapsed().as_secs_f64();
                    r
                }
            };
            let CaptureRead {
                meta,
                agg,
                records: recs,
                damage,
            } = match r {
                Ok(x) => x,
                Err(IndexError::Capture { source, .. })
                    if !args.paths.contains(&path)
                        && matches!(source.kind, CaptureErrorKind::UnknownFormat { .. }) =>
                {
                    // A file met while walking a directory may be anything (README, .txt).
                    log(
                        &progress,
                        args.quiet,
                        &format!("{}: skipped, not a capture", path.display()),
                    );
                    continue;
                }
                Err(e) => {
                    log(
                        &progress,
                        args.quiet,
                        &format!("{}: not ingested: {e}", path.display()),
                    );
                    damaged.push(e.to_string());
                    continue;
                }
            };
            if let Some(d) = damage {
                log(
                    &progress,
                    args.quiet,
                    &format!("{}: damaged, counted up to the damage: {d}", meta.path),
                );
                damaged.push(d.to_string());
            }
            packets += agg.packets;
            bytes += meta.size;
            let write_started = Instant::now();
            let outcome = match &mut target {
                Target::Embedded(store) => {
                    store.ingest_with_records(&meta, &agg, recs.as_ref(), args.force)
                }
                Target::Other(store) => store.ingest(&meta, &agg, args.force),
            }
            .with_context(|| format!("ingesting {}", meta.path))?;
            let extra = recs.as_ref().map_or_else(String::new, |r| {
                let mut s = format!(
                    ", {} flows, {} hosts, {} predictions",
                    r.flows.len(),
                    r.hosts.len(),
                    r.predictions.len()
                );
                if let Some(e) = &r.classify_error {
                    s.push_str(&format!(" (not classified: {e})"));
                }
                s
            });
            let write_secs = write_started.elapsed().as_secs_f64();
            let what = match &outcome {
                IngestOutcome::Ingested { rows } => {
                    ingested += 1;
                    format!("ingested, {rows} counts{extra}")
                }
                IngestOutcome::Replaced { rows } => {
                    ingested += 1;
                    format!("re-ingested (--force), {rows} counts{extra}")
                }
                IngestOutcome::Skipped => {
                    skipped += 1;
                    already_ingested(&meta)
                }
            };
            log(
                &progress,
                args.quiet,
                &format!(
                    "{}: sensor {}, {} packets ({} counted), {what} (read {read_secs:.3} s, write {write_secs:.3} s)",
                    meta.path, meta.sensor, agg.packets, agg.counted
                ),
            );
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            progress.set_message(format!(
                "{packets} packets, {:.1} MB/s",
                bytes as f64 / secs / 1e6
            ));
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        let _ = writeln!(
            io::stderr(),
            "trident ingest: {} files ({ingested} ingested, {skipped} skipped), {packets} packets, {:.1} MB in {secs:.3} s ({:.0} packets/s); days are UTC",
            files.len(),
            bytes as f64 / 1e6,
            packets as f64 / secs
        );
    }
    Ok(if damaged.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGED
    })
}

fn log(progress: &ProgressBar, quiet: bool, line: &str) {
    if quiet {
        return;
    }
    if progress.is_hidden() {
        let _ = writeln!(io::stderr(), "trident ingest: {line}");
    } else {
        progress.println(line);
    }
}

fn progress_bar(files: usize, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  ETA {eta}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
