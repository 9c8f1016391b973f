//! `trident decode`: captures in, one record per packet out, a summary on stderr.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use trident_capture::RawFrame;
use trident_decode::{DecodeOptions, Layer, StopReason, decode_with};

use crate::inputs::{FrameSink, InputProblems, Inputs};
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
    #[command(flatten)]
    publish: crate::consume_cmd::PublishArgs,
}

/// Counters for the summary.
#[derive(Default)]
struct Summary {
    files: u64,
    packets: u64,
    bytes: u64,
    decoded: u64,
    stopped: HashMap<(Layer, StopReason), u64>,
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
    let publisher = args.publish.open()?;
    let mut writer: Box<dyn RowWriter> = match (publisher, args.format) {
        (Some(p), _) => Box::new(crate::consume_cmd::PacketPublisher::new(p, &args.publish)?),
        (None, format) => match format {
            Format::Ndjson => Box::new(Ndjson::new(stdout, cols)),
            Format::Csv => Box::new(Csv::new(stdout, cols)?),
            Format::None => Box::new(Discard),
            Format::Potiron => Box::new(Potiron::new(match &args.potiron_dir {
                Some(d) => Target::Dir(d.clone()),
                None => Target::Stream(stdout),
            })),
        },
    };
    let mut inputs = Inputs::expand(&args.paths)?;
    let mut options = DecodeOptions::default();
    options.app_hints = !args.no_hints;
    let progress = progress_bar(inputs.len(), args.quiet);
    let started = Instant::now();
    let mut sink = DecodeSink {
        options,
        writer: writer.as_mut(),
        sum: Summary::default(),
        progress: &progress,
        file_started: started,
    };
    sink.sum.files = inputs.read_all(&mut sink, || progress.inc(1))?;
    sink.writer.finish()?;
    progress.finish_and_clear();
    if !args.quiet {
        print_summary(&sink.sum, &inputs.problems, started.elapsed());
    }
    Ok(if inputs.problems.is_clean() {
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

/// Decodes each frame and hands it to the output writer, counting for the summary.
struct DecodeSink<'w, 'p> {
    options: DecodeOptions,
    writer: &'w mut dyn RowWriter,
    sum: Summary,
    progress: &'p ProgressBar,
    file_started: Instant,
}

impl FrameSink for DecodeSink<'_, '_> {
    fn begin_file(&mut self, name: &str) -> Result<()> {
        self.file_started = Instant::now();
        self.writer.begin_file(name).context("writing output")
    }

    fn frame(&mut self, name: &str, frame: &RawFrame<'_>) -> Result<()> {
        let packet = decode_with(frame.link_type, frame.data, self.options);
        let sum = &mut self.sum;
        sum.packets += 1;
        sum.bytes += u64::from(frame.caplen);
        match &packet.stop {
            None => sum.decoded += 1,
            Some(stop) => *sum.stopped.entry((stop.layer, stop.reason)).or_default() += 1,
        }
        self.writer.row(&Row {
            file: name,
            frame,
            packet: &packet,
        })?;
        if sum.packets % PROGRESS_EVERY == 0 {
            let secs = self.file_started.elapsed().as_secs_f64().max(1e-9);
            self.progress.set_message(format!(
                "{name}: {} packets, {:.0} MB/s",
                sum.packets,
                frame.offset as f64 / secs / 1e6
            ));
        }
        Ok(())
    }

    fn end_file(&mut self, name: &str) -> Result<()> {
        self.writer.end_file(name).context("writing output")
    }
}

fn print_summary(sum: &Summary, problems: &InputProblems, elapsed: Duration) {
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
    problems.print(&mut err);
}
