//! `trident capture`: a live interface in, rotating pcapng files out (one capture, or one
//! per host), optionally analysed into the embedded store and published to a broker as the
//! packets arrive.

mod sinks;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use trident_live::{CaptureConfig, EndReason, PacketSink, Progress, RotatePolicy};

use crate::EXIT_OK;

/// Bytes in a megabyte for the status line.
const MB: f64 = 1_000_000.0;

#[derive(Args)]
#[command(
    after_help = "Packets are read through libpcap (BPF filters as in tcpdump) and \
written as pcapng with nanosecond timestamps, an interface description and, when each file \
is closed, an interface statistics block (received, dropped by the kernel, dropped by the \
interface). SIGINT and SIGTERM close every file cleanly. Capturing needs CAP_NET_RAW (root, \
or `setcap cap_net_raw,cap_net_admin=eip` on the binary).

--headers-only keeps each packet's link, IP and transport headers plus 4 payload bytes (12 \
for DNS), as Poseidon's ncapture does; the original length is kept in each record.

--per-host writes one capture per host into the -w directory, named \
trident-IFACE-START-HOST-NNNNN.pcapng with HOST the MAC (02-00-5e-00-53-01) or, for a MAC \
seen with 8 or more distinct IP addresses (a router), the IP address behind it. A packet goes \
to the files of its source and its destination. At most --max-open-files are open; the least \
recently written is closed (complete, with its statistics block) and its host continues in \
the next numbered file. --rotate-mb, --rotate-seconds and --max-files apply per host.

--analyze feeds the packets as written through ingest's decode, flow, host and index path \
into the embedded store (--data-dir), committing one transaction every --flush-seconds, so \
`trident serve` on the same directory shows the live network. Flows end by packet time, and \
the last flush ends the open flows and classifies the hosts: the store then holds the same \
flows as `trident ingest` of the written capture.

--publish sends one packet record per captured packet while capturing, through a bounded \
queue: when the broker is slower than the capture, whole batches are dropped and counted in \
the summary (the capture never waits for the broker; the files keep every packet).

Examples:
  trident capture -i eth0 -w eth0.pcapng --count 1000
  trident capture -i eth0 -w /var/captures/ --headers-only --rotate-seconds 300 --max-files 48
  trident capture -i eth0 -w web.pcapng --filter 'tcp port 443' --duration 60
  trident capture -i eth0 -w /var/captures/hosts/ --per-host --headers-only --max-open-files 128
  trident capture -i eth0 -w eth0.pcapng --analyze --data-dir /srv/trident --flush-seconds 5
  trident capture -i eth0 -w eth0.pcapng --publish redis://127.0.0.1:6379/0 --topic sensor1"
)]
pub struct CaptureArgs {
    /// Interface to capture on.
    #[arg(long, short)]
    interface: String,
    /// Output file, or an existing directory (files are then named
    /// trident-IFACE-STARTTIME-NNNNN.pcapng). With rotation, a file name gets -NNNNN inserted.
    #[arg(long = "output", short = 'w')]
    output: PathBuf,
    /// BPF filter expression (tcpdump syntax).
    #[arg(long, short)]
    filter: Option<String>,
    /// Bytes captured per packet [default: 262144, or 512 with --headers-only].
    #[arg(long, short)]
    snaplen: Option<u32>,
    /// Keep headers plus 4 payload bytes (12 for DNS); original lengths are kept.
    #[arg(long)]
    headers_only: bool,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promiscuous: bool,
    /// Kernel capture buffer in MiB.
    #[arg(long, default_value_t = 32)]
    buffer_mb: u32,
    /// Start a new file every this many seconds.
    #[arg(long)]
    rotate_seconds: Option<u64>,
    /// Start a new file once the current one reaches this many megabytes (10^6 bytes).
    #[arg(long)]
    rotate_mb: Option<u64>,
    /// Keep at most this many files of this run, deleting the oldest.
    #[arg(long)]
    max_files: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Stop after this many packets.
    #[arg(long, short)]
    count: Option<u64>,
    /// No status line and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// One capture per host (MAC, or IP behind a router) in the -w directory.
    #[arg(long)]
    per_host: bool,
    /// With --per-host: files open at once; the least recently written is closed and its
    /// host continues in a new numbered file.
    #[arg(long, value_name = "N", default_value_t = trident_live::per_host::DEFAULT_MAX_OPEN_FILES)]
    max_open_files: usize,
    /// Analyse the packets live into the embedded store (flows, hosts, traffic, counts).
    #[arg(long)]
    analyze: bool,
    /// With --analyze: data directory of the embedded store (default `$TRIDENT_DATA`, else
    /// ./trident-data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// With --analyze: commit to the store every this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    flush_seconds: f64,
    /// With --analyze: sensor name the store files the capture under [default: the
    /// interface].
    #[arg(long)]
    sensor: Option<String>,
    /// With --publish, one packet record per captured packet is published while capturing.
    #[command(flatten)]
    publish: crate::consume_cmd::PublishArgs,
}

pub fn run(args: &CaptureArgs) -> Result<u8> {
    if args.rotate_seconds == Some(0) || args.rotate_mb == Some(0) {
        bail!("--rotate-seconds and --rotate-mb must be at least 1");
    }
    if args.max_files == Some(0) {
        bail!("--max-files must be at least 1");
    }
    let duration = match args.duration {
        Some(d) if d.is_finite() && d > 0.0 => Some(Duration::from_secs_f64(d)),
        Some(_) => bail!("--duration must be a positive number of seconds"),
        None => None,
    };
    let mut config = CaptureConfig::new(args.interface.clone(), args.output.clone());
    config.filter = args.filter.clone();
    config.snaplen = args.snaplen;
    config.headers_only = args.headers_only;
    config.promiscuous = !args.no_promiscuous;
    config.buffer_bytes = args.buffer_mb.saturating_mul(1 << 20);
    config.rotate = RotatePolicy {
        every: args.rotate_seconds.map(Duration::from_secs),
        max_bytes: args
            .rotate_mb
            .map(|mb| mb.saturating_mul(trident_live::output::BYTES_PER_MB)),
        max_files: args.max_files,
    };
    config.duration = duration;
    config.count = args.count;
    if args.per_host {
        if args.max_open_files == 0 {
            bail!("--max-open-files must be at least 1");
        }
        config.per_host = Some(args.max_open_files);
    }
    let flush_every = if args.flush_seconds.is_finite() && args.flush_seconds > 0.0 {
        Duration::from_secs_f64(args.flush_seconds)
    } else {
        bail!("--flush-seconds must be a positive number of seconds");
    };
    // The run's name: record ids (publishing) and store segments (analysis) derive from it.
    let run_name = run_name(&args.interface);
    let mut analyzer = if args.analyze {
        let dir = args
            .data_dir
            .clone()
            .or_else(|| std::env::var_os("TRIDENT_DATA").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(crate::ingest_cmd::DEFAULT_DATA_DIR));
        let sensor = args.sensor.as_deref().unwrap_or(&args.interface);
        Some(sinks::Analyzer::open(&dir, &run_name, sensor, flush_every)?)
    } else {
        None
    };
    let mut publisher = match args.publish.open()? {
        Some(p) => Some(sinks::LivePublish::new(
            crate::consume_cmd::PacketPublisher::new(p, &args.publish)?,
            &run_name,
        )),
        None => None,
    };

    // ctrlc with its "termination" feature handles SIGINT, SIGTERM and SIGHUP on a thread
    // of its own; the handler only sets a flag the capture loop polls.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("installing the SIGINT/SIGTERM handler")?;

    let status = !args.quiet && std::io::stderr().is_terminal();
    let mut last = Progress::default();
    let mut report = |p: &Progress| {
        if status {
            let secs = p.elapsed.saturating_sub(last.elapsed).as_secs_f64();
            let rate = if secs > 0.0 {
                (p.bytes.saturating_sub(last.bytes)) as f64 / MB / secs
            } else {
                0.0
            };
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[K{}: {} packets, {} dropped by kernel, {} by interface, {rate:.1} MB/s, {} file{}",
                args.interface,
                p.packets,
                p.dropped_kernel,
                p.dropped_interface,
                p.files,
                if p.files == 1 { "" } else { "s" }
            );
            let _ = err.flush();
        }
        last = *p;
    };
    let summary = {
        let mut sinks: Vec<Box<dyn PacketSink + '_>> = Vec::new();
        if let Some(a) = analyzer.as_mut() {
            sinks.push(Box::new(a));
        }
        if let Some(p) = publisher.as_mut() {
            sinks.push(Box::new(p));
        }
        trident_live::run_with(&config, &stop, &mut report, &mut sinks)
    };
    // The sinks finish whatever ended the capture: what was captured is analysed and
    // published.
    let analyzed = analyzer.as_mut().map(sinks::Analyzer::finish);
    let published = publisher.as_mut().map(sinks::LivePublish::finish);
    let summary = summary?;
    if status {
        eprintln!();
    }
    if !args.quiet {
        let p = summary.progress;
        let why = match summary.ended_by {
            EndReason::Stopped => "stopped by signal",
            EndReason::Duration => "duration reached",
            EndReason::Count => "count reached",
            _ => "ended",
        };
        eprintln!(
            "trident capture: {} packets written to {} file(s) ({why}); received {}, \
             dropped by kernel {}, dropped by interface {}",
            p.packets, p.files, p.received, p.dropped_kernel, p.dropped_interface
        );
        if args.per_host {
            eprintln!(
                "trident capture: {} hosts, {} files closed to stay within {} open, {} packets \
                 of no host",
                p.hosts, p.evictions, args.max_open_files, p.unfiled
            );
        }
        for f in &summary.files {
            eprintln!("  {}", f.display());
        }
    }
    if let Some(a) = analyzed {
        let a = a?;
        if !args.quiet {
            eprintln!(
                "trident capture: analysed into the store: {} flushes, {} flows, {} host rows, \
                 {} predictions",
                a.flushes, a.flows, a.hosts, a.predictions
            );
        }
    }
    if let Some(p) = published {
        let (n, dropped) = p?;
        if !args.quiet {
            eprintln!(
                "trident capture: {n} packet records published, {dropped} dropped (broker too slow)"
            );
        }
    }
    Ok(EXIT_OK)
}

/// `live-IFACE-YYYYMMDDTHHMMSSZ-PID` from the wall clock at the start (names only; packet
/// times come from the kernel); the process id keeps two runs started in the same second
/// apart.
fn run_name(interface: &str) -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let t = trident_live::Timestamp::from_secs_nanos(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    );
    let (y, mo, da, h, mi, s) = t.utc_civil();
    format!(
        "live-{interface}-{y:04}{mo:02}{da:02}T{h:02}{mi:02}{s:02}Z-{}",
        std::process::id()
    )
}
