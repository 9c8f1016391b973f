//! `trident dataset`: captures or AntiNex JSON archives in, an AntiNex-compatible CSV out.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use trident_capture::RawFrame;
use trident_stream::antinex;
use trident_stream::record::{Record, packet_id};
use trident_stream::sink::{DatasetSink, RecordSink, archive_records};
use trident_types::LinkType;

use crate::consume_cmd::{CompatArg, KindArg, dataset_layout};
use crate::inputs::{FrameSink, Inputs};
use crate::{EXIT_DAMAGED, EXIT_OK};

#[derive(Args)]
#[command(
    after_help = "Columns (--compat antinex): idx, then AntiNex's 80 processor columns in \
ASCII order (eth_*, ip_*, ipv6_*, tcp_*, udp_*, icmp_*, arp_*, dns_default_*, raw_*, pad_*, and \
the ten empty *_id placeholders, ipvsix_id included), values as decoded (ip_len is the IPv4 \
length, tcp_seq the sequence number), missing cells as --fill. The file is appended every \
--save-after rows; record ids already in it (kept in FILE.ids.sqlite) are skipped.

--compat antinex-bugs reproduces AntiNex's processor byte for byte, defects included: \
stale-key fields (ip_len = IPv4 checksum, tcp_seq = TCP checksum, udp_len = UDP checksum, \
icmp_code = echo id or checksum), DNS as class defaults, only the columns seen, pandas' float \
formatting of numeric columns with empty cells; the whole file is rewritten at each save.

Examples:
  trident dataset --compat antinex -o netdata.csv capture.pcap
  trident dataset --compat antinex-bugs -o netdata.csv packets-netdata-2018-01-28-23-06-05.json"
)]
pub struct DatasetArgs {
    /// Captures (pcap/pcapng, directories, `-`) or AntiNex JSON archives (*.json).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output CSV.
    #[arg(long, short)]
    output: PathBuf,
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

pub fn run(args: &DatasetArgs) -> Result<u8> {
    let layout = dataset_layout(Some(args.compat), &args.fill, KindArg::Packet)?;
    let mut sink = DatasetSink::open(&args.output, layout, args.save_after)
        .with_context(|| format!("opening {}", args.output.display()))?;
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
            args.output.display(),
            skipped,
            sink.dropped_values
        );
    }
    Ok(if clean { EXIT_OK } else { EXIT_DAMAGED })
}
