//! `trident dataset`: captures or AntiNex JSON archives in, an AntiNex-compatible CSV or
//! Parquet dataset out; `trident dataset build` combines and labels datasets.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use trident_capture::RawFrame;
use trident_stream::antinex;
use trident_stream::dataset::build::{BuildOptions, build};
use trident_stream::record::{Record, packet_id};
use trident_stream::sink::{DatasetFormat, DatasetSink, RecordSink, archive_records};
use trident_types::LinkType;

use crate::consume_cmd::{CompatArg, KindArg, dataset_layout};
use crate::inputs::{FrameSink, Inputs};
use crate::{EXIT_DAMAGED, EXIT_OK};

#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Columns (--compat antinex): idx, then AntiNex's 80 processor columns in \
ASCII order (eth_*, ip_*, ipv6_*, tcp_*, udp_*, icmp_*, arp_*, dns_default_*, raw_*, pad_*, and \
the ten empty *_id placeholders, ipvsix_id included), values as decoded (ip_len is the IPv4 \
length, tcp_seq the sequence number), missing cells as --fill. The file is appended every \
--save-after rows; record ids already in it (kept in FILE.ids.sqlite) are skipped.

--compat antinex-bugs reproduces AntiNex's processor byte for byte, defects included: \
stale-key fields (ip_len = IPv4 checksum, tcp_seq = TCP checksum, udp_len = UDP checksum, \
icmp_code = echo id or checksum), DNS as class defaults, only the columns seen, pandas' float \
formatting of numeric columns with empty cells; the whole file is rewritten at each save.

Parquet (--format parquet, or an output ending in .parquet): the same rows as typed columns (idx and numeric fields int64, addresses and hex payloads UTF-8, a missing cell null), one row group appended every --save-after rows: earlier row groups are never rewritten, only the small footer after them. After each save the file is complete; a crash loses at most the rows not yet saved (the footer of the last save, kept in FILE.ids.sqlite, repairs the file on the next run, and the lost rows come again with their records).

Examples:
  trident dataset --compat antinex -o netdata.csv capture.pcap
  trident dataset -o netdata.parquet --save-after 5000 capture.pcap
  trident dataset --compat antinex-bugs -o netdata.csv packets-netdata-2018-01-28-23-06-05.json
  trident dataset build --rules labels.toml --default-label not_attack -o out/ a.csv b.parquet"
)]
pub struct DatasetArgs {
    #[command(subcommand)]
    command: Option<DatasetCommand>,
    /// Captures (pcap/pcapng, directories, `-`) or AntiNex JSON archives (*.json).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output dataset (CSV, or Parquet with --format parquet or a .parquet name).
    #[arg(long, short, required = true)]
    output: Option<PathBuf>,
    /// Output format [default: parquet for a .parquet output, else csv].
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Compatibility level.
    #[arg(long, value_enum, default_value_t = CompatArg::Antinex)]
    compat: CompatArg,
    /// Rows per save.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    save_after: usize,
    /// Text of a missing cell with --compat antinex (AntiNex's builder uses -1.0).
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "",
        allow_hyphen_values = true
    )]
    fill: String,
    /// `source` of the envelopes built from captures.
    #[arg(long, value_name = "NAME", default_value = "trident")]
    source_name: String,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Frames to envelopes to the dataset.
struct Frames<'s> {
    sink: &'s mut DatasetSink,
    compat: antinex::Compat,
    source: String,
    batch: Vec<Record>,
    skipped: u64,
}

impl Frames<'_> {
    fn flush(&mut self) -> Result<()> {
        self.sink.write(&self.batch)?;
        self.batch.clear();
        Ok(())
    }
}

/// Records handed to the sink at once.
const BATCH: usize = 1024;

impl FrameSink for Frames<'_> {
    fn frame(&mut self, name: &str, frame: &RawFrame<'_>) -> Result<()> {
        if frame.link_type != LinkType::ETHERNET {
            self.skipped += 1;
            return Ok(());
        }
        let Some(data) = antinex::packet::frame_data(frame.data, self.compat) else {
            self.skipped += 1;
            return Ok(());
        };
        let (y, mo, d, h, mi, s) = frame.ts.utc_civil();
        let created = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
        self.batch.push(antinex::kombu::envelope(
            &packet_id(name, frame.number),
            &created,
            &self.source,
            data,
        ));
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

/// Dataset file formats on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values with a header line.
    Csv,
    /// Apache Parquet (typed columns, row groups appended).
    Parquet,
}

impl FormatArg {
    fn format(self) -> DatasetFormat {
        match self {
            FormatArg::Csv => DatasetFormat::Csv,
            FormatArg::Parquet => DatasetFormat::Parquet,
        }
    }
}

#[derive(Subcommand)]
enum DatasetCommand {
    /// Combine CSV/Parquet datasets, label rows from a rules file, and write the full set,
    /// the cleaned set and a metadata JSON.
    Build(BuildArgs),
}

#[derive(Args)]
#[command(
    after_help = "Rules file (TOML; YAML when named *.yaml/*.yml): [[rule]] tables tried in order, the first match wins; a rule matches when all the criteria it gives match:
  [[rule]]
  label = \"attack\"           # label_name (required)
  value = 1                  # label_value (default: 1, 2, ... by first use)
  attack_type = \"syn_scan\"   # optional; adds an attack_type column
  ip = [\"10.0.0.66\", \"10.9.0.0/16\"]   # in ip_src/ip_dst/ipv6_*/arp_p*/src_ip/dst_ip
  mac = [\"02:00:00:00:00:66\"]          # in eth_src/eth_dst/arp_hw*/src_mac/dst_mac
  port = [22, \"8000-8100\"]             # in tcp_*port/udp_*port/sport/dport
  start = \"2026-11-01T10:00:00Z\"       # inclusive; end is exclusive (time column: ts,
  end = \"2026-11-01 10:05:00\"          #   time, timestamp, first_ts or created)
  file = [\"scan-*.csv\"]                # source file name
An optional [columns] table names other columns: ip = [...], mac = [...], port = [...], time = \"...\". Rows no rule matches get --default-label (their count is reported). Labels are never random.

Outputs in --output-dir: NAME_full.EXT (all rows, the inputs' columns then label_name, label_value[, attack_type]; empty cells as --fill), NAME_cleaned.EXT (AntiNex's cleaned set: without src_file, raw_*, pad_load and the address columns, without all-empty columns and other text columns, label_name kept; with --drop-incomplete-rows also without rows holding an empty cell) and NAME_metadata.json (sources with SHA-256, rules file hash, columns, label counts, row counts, tool version, creation time). Existing outputs are replaced.

Example:
  trident dataset build --rules labels.toml --default-label not_attack -o out/ \\
      v1_django_full_attack.csv capture-records.csv"
)]
struct BuildArgs {
    /// Input datasets: CSV with a header line, or Parquet (*.parquet); same columns.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Labelling rules (TOML or YAML).
    #[arg(long, value_name = "FILE")]
    rules: PathBuf,
    /// label_name of rows no rule matches.
    #[arg(long, value_name = "LABEL")]
    default_label: String,
    /// label_value of the default label.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    default_value: i64,
    /// Text written for empty cells (AntiNex's builder: -1.0; '' keeps them empty).
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "-1.0",
        allow_hyphen_values = true
    )]
    fill: String,
    /// Output folder.
    #[arg(long, short, value_name = "DIR")]
    output_dir: PathBuf,
    /// Output file name prefix.
    #[arg(long, default_value = "dataset")]
    name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,
    /// Drop cleaned rows holding an empty cell (network-pipeline 1.2.10's dropna).
    #[arg(long)]
    drop_incomplete_rows: bool,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn run_build(a: &BuildArgs) -> Result<u8> {
    let r = build(&BuildOptions {
        inputs: a.inputs.clone(),
        rules: a.rules.clone(),
        default_label: a.default_label.clone(),
        default_value: a.default_value,
        fill: a.fill.clone(),
        out_dir: a.output_dir.clone(),
        name: a.name.clone(),
        format: a.format.format(),
        drop_incomplete_rows: a.drop_incomplete_rows,
    })?;
    if !a.quiet {
        let labels: Vec<String> = r.labels.iter().map(|(l, n)| format!("{l}={n}")).collect();
        eprintln!(
            "trident dataset build: {} rows in {} ({}); {} rows matched no rule and got {:?}; \
             {} rows in {}; metadata {}",
            r.rows,
            r.full.display(),
            labels.join(" "),
            r.unmatched,
            a.default_label,
            r.cleaned_rows,
            r.cleaned.display(),
            r.metadata.display()
        );
    }
    Ok(EXIT_OK)
}

pub fn run(args: &DatasetArgs) -> Result<u8> {
    if let Some(DatasetCommand::Build(b)) = &args.command {
        return run_build(b);
    }
    let Some(output) = &args.output else {
        bail!("--output is required");
    };
    let format = args.format.map_or_else(
        || {
            if output
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
            {
                DatasetFormat::Parquet
            } else {
                DatasetFormat::Csv
            }
        },
        FormatArg::format,
    );
    let layout = dataset_layout(Some(args.compat), &args.fill, KindArg::Packet)?;
    let mut sink = DatasetSink::open_as(output, layout, args.save_after, format)
        .with_context(|| format!("opening {}", output.display()))?;
    let (archives, captures): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.iter().cloned().partition(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        });
    let mut clean = true;
    for a in &archives {
        let records = archive_records(a)?;
        sink.write(&records)?;
    }
    let mut skipped = 0;
    if !captures.is_empty() {
        let mut inputs = Inputs::expand(&captures)?;
        let mut frames = Frames {
            sink: &mut sink,
            compat: args.compat.level(),
            source: args.source_name.clone(),
            batch: Vec::with_capacity(BATCH),
            skipped: 0,
        };
        inputs.read_all(&mut frames, || {})?;
        frames.flush()?;
        skipped = frames.skipped;
        clean = inputs.problems.is_clean();
        if !args.quiet {
            inputs.problems.print(&mut std::io::stderr().lock());
        }
    }
    sink.commit()?;
    if !args.quiet {
        eprintln!(
            "trident dataset: {} rows in {}; {} frames without Ethernet skipped; {} values outside AntiNex's columns left out",
            sink.rows(),
            output.display(),
            skipped,
            sink.dropped_values
        );
    }
    Ok(if clean { EXIT_OK } else { EXIT_DAMAGED })
}
