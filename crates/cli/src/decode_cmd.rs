//! `trident decode`: captures in, one record per packet out, a summary on stderr.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use trident_capture::{CaptureErrorKind, CaptureReader, Input, expand_inputs};
use trident_decode::{DecodeOptions, Layer, StopReason, decode_with};

use crate::output::columns::{COLUMNS, Row, select};
use crate::output::potiron::{Potiron, Target};
use crate::output::{Csv, Discard, Ndjson, RowWriter};
use crate::{EXIT_DAMAGED, EXIT_OK, EXIT_USAGE};

/// Output formats of `trident decode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per packet per line; absent fields are omitted.
    Ndjson,
    /// Comma-separated values with a header line, every column in a stable order.
    Csv,
    /// potiron's per-file JSON document (standard format), byte-compatible with potiron.
    Potiron,
    /// Decode and count, write nothing (for measuring).
    None,
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident decode capture.pcap                       ndjson on stdout
  trident decode --format csv --fields ts,ip_src,ip_dst,sport,dport,app dir/ > out.csv
  trident decode --format potiron --potiron-dir json/ test-honeypot-1-20140826140000.cap.gz
  tcpdump -w - -i eth0 | trident decode -            read a stream from stdin
  trident decode --list-fields                      every column with its meaning")]
pub struct DecodeArgs {
    /// Capture files (pcap/pcapng, optionally .gz/.zst), directories (walked recursively, in
    /// sorted order), or `-` for stdin.
    #[arg(required_unless_present = "list_fields")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Comma-separated columns to write (ndjson and csv); default all.
    #[arg(long)]
    fields: Option<String>,
    /// List the available columns and exit.
    #[arg(long)]
    list_fields: bool,
    /// With `--format potiron`: write one document per capture under DIR/YYYY/MM/DD/, as
    /// potiron does, instead of to stdout.
    #[arg(long, value_name = "DIR")]
    potiron_dir: Option<PathBuf>,
    /// Skip application hints (DNS, DHCP, TLS, HTTP, SSDP): headers only, faster.
    #[arg(long)]
    no_hints: bool,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Counters for the summary.
#[derive(Default)]
struct Summary {
    files: u64,
    packets: u64,
    bytes: u64,
    decoded: u64,
    stopped: HashMap<(Layer, StopReason), u64>,
    damaged: Vec<String>,
    /// Files found by walking a directory that are not captures (README, .txt, ...).
    not_captures: Vec<String>,
}

/// How often the progress line is refreshed, in packets.
const PROGRESS_EVERY: u64 = 1 << 16;

pub fn run(args: &DecodeArgs) -> Result<u8> {
    if args.list_fields {
        let mut out = io::stdout().lock();
        for c in COLUMNS {
            writeln!(out, "{:<20} {}", c.name, c.help)?;
        }
        return Ok(EXIT_OK);
    }
    let cols = match select(args.fields.as_deref()) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("trident decode: {msg}");
            return Ok(EXIT_USAGE);
        }
    };
    if args.potiron_dir.is_some() && args.format != Format::Potiron {
        eprintln!("trident decode: --potiron-dir needs --format potiron");
        return Ok(EXIT_USAGE);
    }
    let stdout = io::stdout().lock();
    let mut writer: Box<dyn RowWriter> = match args.format {
        Format::Ndjson => Box::new(Ndjson::new(stdout, cols)),
        Format::Csv => Box::new(Csv::new(stdout, cols)?),
        Format::None => Box::new(Discard),
        Format::Potiron => Box::new(Potiron::new(match &args.potiron_dir {
            Some(d) => Target::Dir(d.clone()),
            None => Target::Stream(stdout),
        })),
    };
    let (inputs, errors) = expand_inputs(&args.paths);
    let mut sum = Summary::default();
    for e in errors {
        sum.damaged.push(e.to_string());
    }
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        bail!("`-` (stdin) given more than once");
    }
    let mut options = DecodeOptions::default();
    options.app_hints = !args.no_hints;
    let progress = progress_bar(inputs.len(), args.quiet);
    let started = Instant::now();
    for input in &inputs {
        // A file met while walking a directory may be anything; one named on the command
        // line must be a capture.
        let explicit = match input {
            Input::File(p) => args.paths.contains(p),
            Input::Stdin => true,
        };
        decode_one(
            input,
            explicit,
            options,
            writer.as_mut(),
            &mut sum,
            &progress,
        )?;
        progress.inc(1);
    }
    writer.finish()?;
    progress.finish_and_clear();
    if !args.quiet {
        print_summary(&sum, started.elapsed());
    }
    Ok(if sum.damaged.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGED
    })
}

fn progress_bar(files: usize, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn decode_one(
    input: &Input,
    explicit: bool,
    options: DecodeOptions,
    writer: &mut dyn RowWriter,
    sum: &mut Summary,
    progress: &ProgressBar,
) -> Result<()> {
    let name = input.name();
    let mut reader = match CaptureReader::open(input) {
        Ok(r) => r,
        Err(e) if !explicit && matches!(e.kind, CaptureErrorKind::UnknownFormat { .. }) => {
            sum.not_captures.push(name);
            return Ok(());
        }
        Err(e) => {
            sum.damaged.push(e.to_string());
            return Ok(());
        }
    };
    sum.files += 1;
    writer.begin_file(&name).with_context(|| "writing output")?;
    let started = Instant::now();
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                let packet = decode_with(frame.link_type, frame.data, options);
                sum.packets += 1;
                sum.bytes += u64::from(frame.caplen);
                match &packet.stop {
                    None => sum.decoded += 1,
                    Some(stop) => *sum.stopped.entry((stop.layer, stop.reason)).or_default() += 1,
                }
                writer.row(&Row {
                    file: &name,
                    frame: &frame,
                    packet: &packet,
                })?;
                if sum.packets % PROGRESS_EVERY == 0 {
                    let secs = started.elapsed().as_secs_f64().max(1e-9);
                    progress.set_message(format!(
                        "{name}: {} packets, {:.0} MB/s",
                        sum.packets,
                        reader.stats().bytes as f64 / secs / 1e6
                    ));
                }
            }
            Ok(None) => break,
            Err(e) => {
                sum.damaged.push(e.to_string());
                break;
            }
        }
    }
    writer.end_file(&name)?;
    Ok(())
}

fn print_summary(sum: &Summary, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "trident decode: {} files, {} packets, {:.1} MB in {:.3} s ({:.0} packets/s, {:.1} MB/s)",
        sum.files,
        sum.packets,
        sum.bytes as f64 / 1e6,
        secs,
        sum.packets as f64 / secs,
        sum.bytes as f64 / 1e6 / secs
    );
    let _ = writeln!(err, "  decoded to the last layer present: {}", sum.decoded);
    if !sum.stopped.is_empty() {
        let _ = writeln!(err, "  stopped early, by reason:");
        // Merge reasons that print alike (truncations differ only in their byte counts).
        let mut rows: HashMap<String, u64> = HashMap::new();
        for ((layer, reason), n) in &sum.stopped {
            *rows
                .entry(format!("{} ({})", reason.key(), layer.name()))
                .or_default() += n;
        }
        let mut rows: Vec<_> = rows.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (k, n) in rows {
            let _ = writeln!(err, "    {n:>10}  {k}");
        }
    }
    if !sum.not_captures.is_empty() {
        let _ = writeln!(
            err,
            "  skipped {} file(s) in directories that are not captures: {}",
            sum.not_captures.len(),
            sum.not_captures.join(", ")
        );
    }
    if !sum.damaged.is_empty() {
        let _ = writeln!(err, "  inputs missing or damaged ({}):", sum.damaged.len());
        for d in &sum.damaged {
            let _ = writeln!(err, "    {d}");
        }
    }
}
