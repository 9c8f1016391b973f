//! `trident capture`'s packet sinks: live analysis into the embedded store (`--analyze`)
//! and live publishing to a broker (`--publish`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use trident_capture::RawFrame;
use trident_decode::{DecodeOptions, decode_with};
use trident_index::records::{RecordOptions, Records, RecordsBuilder};
use trident_index::{AggOptions, FileAgg, FileMeta, IngestOutcome, SqliteStore};
use trident_live::{CapturedPacket, LiveError, PacketSink};

use crate::consume_cmd::PacketPublisher;
use crate::output::RowWriter;
use crate::output::columns::Row;

/// A partly filled batch is handed to the broker after this long (light traffic).
pub const PUBLISH_FLUSH_EVERY: Duration = Duration::from_millis(200);

/// The frame a sink decodes: the packet as written, numbered within the run.
fn frame<'a>(p: &CapturedPacket<'a>) -> RawFrame<'a> {
    RawFrame {
        number: p.number,
        ts: p.ts,
        link_type: p.link_type,
        interface: 0,
        caplen: u32::try_from(p.data.len()).unwrap_or(u32::MAX),
        origlen: p.origlen,
        offset: 0,
        data: p.data,
    }
}

/// What a live analysis wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyzeStats {
    /// Flushes committed (one transaction each).
    pub flushes: u64,
    /// Flows written.
    pub flows: u64,
    /// Host rows written (a host seen in several flushes is merged by the store).
    pub hosts: u64,
    /// Predictions written (at the end of the run).
    pub predictions: u64,
}

/// `--analyze`: the packets go through the same decode → flow → host → index path as
/// `trident ingest`, and every `--flush-seconds` (monotonic clock) what is ready is
/// committed to the embedded store as one segment of the run, in one transaction (see
/// [`RecordsBuilder::segment`]). Flows end by packet time only (idle and active timeouts
/// measured on packet timestamps), so a replay of the written capture ends the same flows
/// at the same packets; the last flush ends the flows still open, as the end of a file
/// does, and classifies the run's hosts.
pub struct Analyzer {
    store: SqliteStore,
    builder: Option<RecordsBuilder>,
    agg: FileAgg,
    agg_opts: AggOptions,
    decode: DecodeOptions,
    flush_every: Duration,
    last_flush: Instant,
    run: String,
    sensor: String,
    segment: u64,
    segment_packets: u64,
    segment_bytes: u64,
    /// What was written so far.
    pub stats: AnalyzeStats,
}

impl Analyzer {
    /// Opens the store in `data_dir`; segments are named `RUN-NNNNN` under `sensor`.
    pub fn open(data_dir: &Path, run: &str, sensor: &str, flush_every: Duration) -> Result<Self> {
        let store = SqliteStore::open(data_dir)
            .with_context(|| format!("opening the store in {}", data_dir.display()))?;
        let records = RecordOptions::all().context("loading the built-in model")?;
        let mut decode = DecodeOptions::default();
        // As ingest: hosts need the application hints (names, fingerprints).
        decode.app_hints = true;
        Ok(Analyzer {
            store,
            builder: Some(RecordsBuilder::new(records, run)),
            agg: FileAgg::default(),
            agg_opts: AggOptions {
                per_packet_fields: false,
                app_fields: true,
                isn: false,
            },
            decode,
            flush_every,
            last_flush: Instant::now(),
            run: run.to_owned(),
            sensor: sensor.to_owned(),
            segment: 0,
            segment_packets: 0,
            segment_bytes: 0,
            stats: AnalyzeStats::default(),
        })
    }

    /// Commits what is ready as the next segment (nothing when there is nothing new).
    fn flush(&mut self) -> Result<()> {
        let Some(b) = self.builder.as_mut() else {
            return Ok(());
        };
        let recs = b.segment();
        self.write(&recs)
    }

    /// Ends the run: ends every open flow, classifies the hosts, commits the last segment.
    pub fn finish(&mut self) -> Result<AnalyzeStats> {
        if let Some(b) = self.builder.take() {
            let recs = b.finish();
            if let Some(e) = &recs.classify_error {
                eprintln!("trident capture: --analyze: hosts not classified: {e}");
            }
            self.write(&recs)?;
        }
        Ok(self.stats)
    }

    fn write(&mut self, recs: &Records) -> Result<()> {
        self.last_flush = Instant::now();
        let empty = recs.flows.is_empty()
            && recs.hosts.is_empty()
            && recs.traffic.is_empty()
            && recs.predictions.is_empty();
        if empty && self.segment_packets == 0 {
            return Ok(());
        }
        self.segment += 1;
        let name = format!("{}-{:05}", self.run, self.segment);
        let meta = FileMeta {
            path: format!("live:{name}"),
            // Unique per segment: the store keys files by content hash.
            sha256: format!("live-{name}"),
            name,
            sensor: self.sensor.clone(),
            file_day: None,
            size: self.segment_bytes,
        };
        let agg = std::mem::take(&mut self.agg);
        let outcome = self
            .store
            .ingest_with_records(&meta, &agg, Some(recs), false)
            .with_context(|| format!("writing {} to the store", meta.name))?;
        if outcome == IngestOutcome::Skipped {
            anyhow::bail!("the store already holds a segment named {}", meta.name);
        }
        self.stats.flushes += 1;
        self.stats.flows += recs.flows.len() as u64;
        self.stats.hosts += recs.hosts.len() as u64;
        self.stats.predictions += recs.predictions.len() as u64;
        self.segment_packets = 0;
        self.segment_bytes = 0;
        Ok(())
    }
}

impl PacketSink for Analyzer {
    fn packet(&mut self, p: &CapturedPacket<'_>) -> Result<(), LiveError> {
        let f = frame(p);
        let pkt = decode_with(f.link_type, f.data, self.decode);
        self.agg.add(f.ts, f.caplen, &pkt, self.agg_opts);
        if let Some(b) = &mut self.builder {
            b.add(&f, &pkt);
        }
        self.segment_packets += 1;
        self.segment_bytes += u64::from(f.caplen);
        Ok(())
    }

    fn tick(&mut self, now: Instant) -> Result<(), LiveError> {
        if now.saturating_duration_since(self.last_flush) >= self.flush_every {
            self.flush().map_err(|e| LiveError::Sink {
                what: "live analysis",
                message: format!("{e:#}"),
            })?;
        }
        Ok(())
    }
}

/// `--publish` during the capture: one packet record per captured packet (the columns
/// of `trident decode`, or AntiNex's envelope with `--compat`), through the publisher's
/// bounded queue. The capture loop never blocks on the broker: a batch that finds the
/// queue full is dropped and counted (the pcapng files still hold every packet, and can
/// be published again later with `trident decode --publish`).
pub struct LivePublish {
    writer: PacketPublisher,
    run: String,
    decode: DecodeOptions,
    last_flush: Instant,
}

impl LivePublish {
    /// Publishes through `writer`; record ids are derived from `run` and packet numbers.
    pub fn new(mut writer: PacketPublisher, run: &str) -> Self {
        writer.drop_when_full();
        LivePublish {
            writer,
            run: run.to_owned(),
            decode: DecodeOptions::default(),
            last_flush: Instant::now(),
        }
    }

    /// Waits until the broker confirmed what was queued; returns (published, dropped).
    pub fn finish(&mut self) -> Result<(u64, u64)> {
        self.writer.close()?;
        Ok((self.writer.published, self.writer.dropped))
    }
}

impl PacketSink for LivePublish {
    fn packet(&mut self, p: &CapturedPacket<'_>) -> Result<(), LiveError> {
        let f = frame(p);
        let pkt = decode_with(f.link_type, f.data, self.decode);
        self.writer
            .row(&Row {
                file: &self.run,
                frame: &f,
                packet: &pkt,
            })
            .map_err(|e| LiveError::Sink {
                what: "live publishing",
                message: e.to_string(),
            })
    }

    fn tick(&mut self, now: Instant) -> Result<(), LiveError> {
        if now.saturating_duration_since(self.last_flush) >= PUBLISH_FLUSH_EVERY {
            self.last_flush = now;
            self.writer.flush_partial().map_err(|e| LiveError::Sink {
                what: "live publishing",
                message: format!("{e:#}"),
            })?;
        }
        Ok(())
    }
}
