//! `trident capture`: a live interface in, rotating pcapng files out.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use trident_live::{CaptureConfig, EndReason, Progress, RotatePolicy};

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

Examples:
  trident capture -i eth0 -w eth0.pcapng --count 1000
  trident capture -i eth0 -w /var/captures/ --headers-only --rotate-seconds 300 --max-files 48
  trident capture -i eth0 -w web.pcapng --filter 'tcp port 443' --duration 60"
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
    /// With --publish, the packets of the files written are published when the capture
    /// ends (trident decode --publish on them).
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
    let summary = trident_live::run(&config, &stop, &mut report)?;
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
        for f in &summary.files {
            eprintln!("  {}", f.display());
        }
    }
    if args.publish.publish.is_some() {
        let n = crate::consume_cmd::publish_files(&args.publish, &summary.files)?;
        if !args.quiet {
            eprintln!("trident capture: {n} packet records published");
        }
    }
    Ok(EXIT_OK)
}
