//! `trident flows`: captures in, one record per bidirectional flow out (ndjson or csv), a
//! summary on stderr.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use trident_capture::RawFrame;

use crate::inputs::{FrameSink, InputProblems, Inputs};
use crate::output::json_cell as cell;
use trident_decode::{DecodeOptions, decode_with};
use trident_flow::{COLUMNS, FlowConfig, FlowRecord, FlowTable, TableStats};

use crate::{EXIT_DAMAGED, EXIT_OK, EXIT_USAGE};

/// Output formats of `trident flows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per flow per line; absent fields are omitted.
    Ndjson,
    /// Comma-separated values with a header line, every column in a stable order; lists
    /// are joined with `|`.
    Csv,
    /// Build the flows and count them, write nothing (for measuring).
    None,
}

#[derive(Args)]
#[command(
    after_help = "Flows end after --idle-timeout seconds without a packet, at their first \
packet after --active-timeout seconds, shortly after a TCP close (both FINs or a RST), or when \
the table is full (the least recently active flow is evicted). Time is the packets' own \
timestamps, so the same capture always gives the same flows in the same order.

Examples:
  trident flows capture.pcap                        ndjson on stdout
  trident flows --format csv dir/ > flows.csv
  trident flows --idle-timeout 60 --max-flows 100000 big.pcap.zst"
)]
pub struct FlowsArgs {
    /// Capture files (pcap/pcapng, optionally .gz/.zst), directories (walked recursively, in
    /// sorted order), or `-` for stdin. All inputs feed one flow table, in order.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Seconds without a packet after which a flow ends.
    #[arg(long, value_name = "S", default_value_t = trident_flow::DEFAULT_IDLE_TIMEOUT_SECS as f64)]
    idle_timeout: f64,
    /// Seconds after its first packet at which a flow ends (its next packet starts a new one).
    #[arg(long, value_name = "S", default_value_t = trident_flow::DEFAULT_ACTIVE_TIMEOUT_SECS as f64)]
    active_timeout: f64,
    /// Seconds a closed TCP flow keeps collecting late packets (final ACK, repeated RST).
    #[arg(long, value_name = "S", default_value_t = trident_flow::DEFAULT_CLOSE_LINGER_SECS as f64)]
    close_linger: f64,
    /// Most flows held at once; beyond it the least recently active flow is evicted.
    #[arg(long, value_name = "N", default_value_t = trident_flow::DEFAULT_MAX_FLOWS)]
    max_flows: usize,
    /// Leave VLAN ids out of the flow key: for trunk captures of routed traffic, where the
    /// two directions of a conversation travel on different VLANs.
    #[arg(long)]
    ignore_vlan: bool,
    /// Skip application hints (DNS, DHCP, TLS, HTTP, SSDP): faster, fewer columns.
    #[arg(long)]
    no_hints: bool,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    publish: crate::consume_cmd::PublishArgs,
}

/// Turns a seconds option into a duration, or explains why it cannot be one.
fn seconds(name: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| format!("--{name} must be a number of seconds >= 0, not {s}"))
}

/// Where records go.
enum Sink<W: Write> {
    Ndjson(W),
    Csv(Box<csv::Writer<W>>),
    None,
    Publish(Box<crate::consume_cmd::FlowPublisher>),
}

impl<W: Write> Sink<W> {
    fn new(format: Format, out: W) -> Result<Self> {
        Ok(match format {
            Format::Ndjson => Sink::Ndjson(out),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(COLUMNS)?;
                Sink::Csv(Box::new(w))
            }
            Format::None => Sink::None,
        })
    }

    fn write(&mut self, records: &mut Vec<FlowRecord>) -> Result<()> {
        match self {
            Sink::Ndjson(out) => {
                for r in records.iter() {
                    serde_json::to_writer(&mut *out, r)?;
                    out.write_all(b"\n")?;
                }
            }
            Sink::Csv(w) => {
                for r in records.iter() {
                    let serde_json::Value::Object(map) = serde_json::to_value(r)? else {
                        bail!("a flow record did not serialize to an object");
                    };
                    for col in COLUMNS {
                        w.write_field(cell(map.get(*col)))?;
                    }
                    w.write_record(None::<&[u8]>)?;
                }
            }
            Sink::None => {}
            Sink::Publish(p) => p.publish(records)?,
        }
        records.clear();
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        match self {
            Sink::Ndjson(out) => out.flush()?,
            Sink::Csv(w) => w.flush()?,
            Sink::None => {}
            Sink::Publish(p) => p.finish()?,
        }
        Ok(())
    }
}

/// Counters for the summary.
#[derive(Default)]
struct Summary {
    files: u64,
    records: u64,
}

/// Decodes each frame into the flow table and writes finished flows in batches.
struct FlowSink<W: Write> {
    options: DecodeOptions,
    table: FlowTable,
    records: Vec<FlowRecord>,
    sink: Sink<W>,
    written: u64,
}

impl<W: Write> FrameSink for FlowSink<W> {
    fn frame(&mut self, _name: &str, frame: &RawFrame<'_>) -> Result<()> {
        let packet = decode_with(frame.link_type, frame.data, self.options);
        self.table
            .process(frame.ts, frame.origlen, &packet, &mut self.records);
        if self.records.len() >= WRITE_BATCH {
            self.written += self.records.len() as u64;
            self.sink
                .write(&mut self.records)
                .context("writing flows")?;
        }
        Ok(())
    }
}

/// Records are written in batches of this many (or at the end).
const WRITE_BATCH: usize = 1024;

pub fn run(args: &FlowsArgs) -> Result<u8> {
    let config = match (
        seconds("idle-timeout", args.idle_timeout),
        seconds("active-timeout", args.active_timeout),
        seconds("close-linger", args.close_linger),
    ) {
        (Ok(idle), Ok(active), Ok(linger)) if args.max_flows > 0 => FlowConfig::default()
            .with_idle_timeout(idle)
            .with_active_timeout(active)
            .with_close_linger(linger)
            .with_max_flows(args.max_flows)
            .with_vlan_in_key(!args.ignore_vlan),
        (Err(msg), _, _) | (_, Err(msg), _) | (_, _, Err(msg)) => {
            eprintln!("trident flows: {msg}");
            return Ok(EXIT_USAGE);
        }
        _ => {
            eprintln!("trident flows: --max-flows must be at least 1");
            return Ok(EXIT_USAGE);
        }
    };
    let mut inputs = Inputs::expand(&args.paths)?;
    let mut sum = Summary::default();
    let mut options = DecodeOptions::default();
    options.app_hints = !args.no_hints;
    let sink = match crate::consume_cmd::FlowPublisher::open(&args.publish)? {
        Some(p) => Sink::Publish(Box::new(p)),
        None => Sink::new(args.format, BufWriter::new(io::stdout().lock()))?,
    };
    let started = Instant::now();
    let mut flows = FlowSink {
        options,
        table: FlowTable::new(config),
        records: Vec::with_capacity(WRITE_BATCH),
        sink,
        written: 0,
    };
    sum.files = inputs.read_all(&mut flows, || {})?;
    let FlowSink {
        mut table,
        mut records,
        mut sink,
        written,
        ..
    } = flows;
    sum.records = written;
    table.flush(&mut records);
    sum.records += records.len() as u64;
    sink.write(&mut records).context("writing flows")?;
    sink.finish().context("writing flows")?;
    if !args.quiet {
        print_summary(&sum, &inputs.problems, &table.stats(), started.elapsed());
    }
    Ok(if inputs.problems.is_clean() {
        EXIT_OK
    } else {
        EXIT_DAMAGED
    })
}

fn print_summary(sum: &Summary, problems: &InputProblems, st: &TableStats, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "trident flows: {} files, {} packets, {} flows in {:.3} s ({:.0} packets/s)",
        sum.files,
        st.packets,
        sum.records,
        secs,
        st.packets as f64 / secs
    );
    let _ = writeln!(
        err,
        "  packets without IP: {}; most flows held at once: {}; evicted (table full): {}",
        st.non_ip_packets, st.peak_flows, st.evicted
    );
    if st.fragments_joined + st.fragments_unjoined > 0 {
        let _ = writeln!(
            err,
            "  later IP fragments: {} joined to their flow, {} without their first fragment",
            st.fragments_joined, st.fragments_unjoined
        );
    }
    problems.print(&mut err);
}
