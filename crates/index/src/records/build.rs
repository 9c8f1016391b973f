//! Building one capture's records during the ingest pass: flows, hosts, the per-minute
//! traffic histogram and each host's role prediction.

use std::collections::BTreeMap;
use std::sync::Arc;

use trident_capture::RawFrame;
use trident_classify::Model;
use trident_classify::hosts::{HostOptions, HostSelector, HostVerdict, classify_hosts};
use trident_classify::networkml::{FieldExtractor, PacketRow, PacketTable};
use trident_decode::Packet;
use trident_flow::{FlowConfig, FlowRecord, FlowTable};
use trident_host::{HostInventory, HostRecord};
use trident_types::Timestamp;

use super::{Prediction, RoleProb, UNKNOWN_ROLE};

/// Packets kept for classification per capture. A packet row takes about 100 bytes, so a
/// capture's classification holds at most about 400 MB; hosts of a longer capture are
/// classified on its first packets (the count is in [`Records::classified_packets`]).
pub const MAX_CLASSIFY_PACKETS: usize = 4_000_000;

/// Capture bytes per classification row assumed by [`RecordsBuilder::expect_bytes`]: a
/// record header and a short frame (the benchmark capture averages 188).
const BYTES_PER_ROW_GUESS: u64 = 128;

/// Capture bytes per flow assumed by [`RecordsBuilder::expect_bytes`] (the benchmark
/// capture averages about 4,400; scans and DNS-heavy captures run lower).
const BYTES_PER_FLOW_GUESS: u64 = 2048;

/// At most this many flows are reserved ahead (about 900 MB of address space, touched only
/// as flows end); a longer capture's list grows as usual past it.
const MAX_RESERVED_FLOWS: usize = 1 << 20;

/// What ingest builds besides the counts.
#[derive(Clone)]
pub struct RecordOptions {
    /// Keep the capture's flows.
    pub flows: bool,
    /// Keep the capture's host inventory.
    pub hosts: bool,
    /// Classify the hosts with this model (trident's default mode); `None`: no predictions.
    pub model: Option<Arc<Model>>,
    /// How flows are cut (`trident flows`' defaults unless changed).
    pub flow_config: FlowConfig,
}

impl std::fmt::Debug for RecordOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordOptions")
            .field("flows", &self.flows)
            .field("hosts", &self.hosts)
            .field("model", &self.model.as_ref().map(|m| model_name(m)))
            .finish_non_exhaustive()
    }
}

impl RecordOptions {
    /// Everything on: flows, hosts, and predictions with networkML 0.6.19's model.
    ///
    /// # Errors
    /// The built-in model failed to load (a build defect).
    pub fn all() -> Result<Self, trident_classify::ClassifyError> {
        Ok(RecordOptions {
            flows: true,
            hosts: true,
            model: Some(Arc::new(Model::networkml_0_6_19()?)),
            flow_config: FlowConfig::default(),
        })
    }

    /// Only the traffic histogram.
    #[must_use]
    pub fn traffic_only() -> Self {
        RecordOptions {
            flows: false,
            hosts: false,
            model: None,
            flow_config: FlowConfig::default(),
        }
    }

    fn needs_flows(&self) -> bool {
        self.flows || self.hosts
    }
}

/// One capture's records, ready for [`crate::SqliteStore::ingest_with_records`].
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// Flows, in the order they ended (empty unless [`RecordOptions::flows`]).
    pub flows: Vec<FlowRecord>,
    /// Hosts (empty unless [`RecordOptions::hosts`]).
    pub hosts: Vec<HostRecord>,
    /// Packets and wire bytes per minute, in time order.
    pub traffic: Vec<MinuteTraffic>,
    /// One prediction per unicast MAC that sent or received Ethernet frames.
    pub predictions: Vec<Prediction>,
    /// Packets the predictions rest on (at most [`MAX_CLASSIFY_PACKETS`]).
    pub classified_packets: u64,
    /// Why classification gave no prediction, if it failed for the whole capture.
    pub classify_error: Option<String>,
}

/// One minute of a capture's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteTraffic {
    /// Start of the minute, seconds since the epoch.
    pub minute: i64,
    /// Packets.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// First packet in the minute.
    pub first: Timestamp,
    /// Last packet in the minute.
    pub last: Timestamp,
}

/// Folds packets into [`Records`]; one per capture.
pub struct RecordsBuilder {
    opts: RecordOptions,
    table: Option<FlowTable>,
    /// Ended flows, in the order they ended: the flow table ends them straight into this
    /// list, which is kept as the records' flows (or cleared, when only hosts want them).
    flows: Vec<FlowRecord>,
    /// How many of `flows` the inventory has seen.
    inventoried: usize,
    inventory: Option<HostInventory>,
    minutes: BTreeMap<i64, MinuteTraffic>,
    /// The minute packets are arriving in, folded into `minutes` when another starts
    /// (packets come mostly in time order: one map lookup per minute, not per packet).
    minute: Option<MinuteTraffic>,
    extractor: Option<FieldExtractor>,
    rows: Vec<PacketRow>,
    source_name: String,
}

/// The name a prediction records for a model: its name and file version.
#[must_use]
pub fn model_name(model: &Model) -> String {
    let f = model.file();
    format!("{} v{}", f.name, f.version)
}

/// The key of a host: its MAC, or its main IP when it has none.
#[must_use]
pub fn host_key(h: &HostRecord) -> Option<String> {
    h.mac
        .map(|m| m.to_string())
        .or_else(|| h.ip.map(|ip| ip.to_string()))
}

/// Turns a verdict of `trident_classify::hosts` into a stored [`Prediction`] for `host`.
#[must_use]
pub fn prediction_of(model: &Model, v: &HostVerdict, ts: Timestamp) -> Prediction {
    let top: Vec<RoleProb> = v
        .top
        .iter()
        .map(|(role, probability)| RoleProb {
            role: role.clone(),
            probability: *probability,
        })
        .collect();
    Prediction {
        ts,
        model: model_name(model),
        host: v.mac.to_string(),
        confidence: top.first().map_or(0.0, |t| t.probability),
        top,
        role: if v.unknown_reason.is_some() {
            UNKNOWN_ROLE.to_owned()
        } else {
            v.role.clone()
        },
        reason: v.unknown_reason.as_ref().map(ToString::to_string),
        capture: None,
    }
}

/// Classifies the hosts of one capture file on demand (trident's default mode), as ingest
/// does: one prediction per unicast MAC, stamped with the host's last packet time. With
/// `mac`, only that host. Store them with [`crate::SqliteStore::add_prediction`].
///
/// # Errors
/// The capture cannot be read, has no unicast host, or `mac` is not in it.
pub fn classify_capture(
    path: &std::path::Path,
    model: &Model,
    mac: Option<trident_types::MacAddr>,
) -> Result<Vec<Prediction>, crate::IndexError> {
    let input = trident_capture::Input::File(path.to_owned());
    let mut reader = trident_capture::CaptureReader::open(&input).map_err(|source| {
        crate::IndexError::Capture {
            path: path.to_owned(),
            source,
        }
    })?;
    let options = trident_classify::networkml::NetworkMlOptions {
        ip_flags: HostOptions::default().ip_flags,
        strict: false,
        ipv6_ports: true,
    };
    let classify_err =
        |e: trident_classify::ClassifyError| crate::IndexError::Unsupported(e.to_string());
    let table =
        trident_classify::networkml::read_capture(&mut reader, options).map_err(classify_err)?;
    let selector = HostSelector {
        macs: mac.into_iter().collect(),
        ips: Vec::new(),
    };
    let verdicts =
        classify_hosts(&table, model, &HostOptions::default(), &selector).map_err(classify_err)?;
    Ok(verdicts
        .iter()
        .map(|v| prediction_of(model, v, verdict_ts(v.timestamp)))
        .collect())
}

/// A verdict's time (seconds as a float) as a [`Timestamp`], to the microsecond.
fn verdict_ts(secs: f64) -> Timestamp {
    let whole = secs.floor();
    // Rounded to the microsecond: the float carries no more.
    let micros = ((secs - whole) * 1e6).round().clamp(0.0, 999_999.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Timestamp::from_secs_nanos(whole as i64, (micros as u32) * 1000)
}

impl RecordsBuilder {
    /// A builder for one capture named `source_name`.
    #[must_use]
    pub fn new(opts: RecordOptions, source_name: &str) -> Self {
        RecordsBuilder {
            table: opts.needs_flows().then(|| FlowTable::new(opts.flow_config)),
            inventory: opts.hosts.then(HostInventory::new),
            extractor: (opts.hosts && opts.model.is_some()).then(FieldExtractor::new),
            opts,
            flows: Vec::new(),
            inventoried: 0,
            minutes: BTreeMap::new(),
            minute: None,
            rows: Vec::new(),
            source_name: source_name.to_owned(),
        }
    }

    /// Makes room for the classification rows and the flows of a capture of `bytes` bytes
    /// (one row per `BYTES_PER_ROW_GUESS` bytes, at most [`MAX_CLASSIFY_PACKETS`]; one
    /// flow per `BYTES_PER_FLOW_GUESS`, at most `MAX_RESERVED_FLOWS`), so the lists
    /// are not moved each time they double: a move copies the list onto freshly faulted
    /// pages. A smaller estimate only means a list grows as usual; the memory is reserved,
    /// and touched only as it is filled.
    pub fn expect_bytes(&mut self, bytes: u64) {
        let guess =
            |per: u64, max: usize| usize::try_from(bytes / per).unwrap_or(usize::MAX).min(max);
        if self.extractor.is_some() {
            let rows = guess(BYTES_PER_ROW_GUESS, MAX_CLASSIFY_PACKETS);
            self.rows.reserve(rows.saturating_sub(self.rows.len()));
        }
        if self.opts.flows {
            let flows = guess(BYTES_PER_FLOW_GUESS, MAX_RESERVED_FLOWS);
            self.flows.reserve(flows.saturating_sub(self.flows.len()));
        }
    }

    /// Folds one frame and its decoded packet in.
    pub fn add(&mut self, frame: &RawFrame<'_>, packet: &Packet<'_>) {
        let minute = frame.ts.secs().div_euclid(i64::from(super::BUCKET_SECONDS))
            * i64::from(super::BUCKET_SECONDS);
        if self.minute.is_some_and(|m| m.minute != minute) {
            self.fold_minute();
        }
        let m = self.minute.get_or_insert(MinuteTraffic {
            minute,
            packets: 0,
            bytes: 0,
            first: frame.ts,
            last: frame.ts,
        });
        m.packets += 1;
        m.bytes += u64::from(frame.origlen);
        m.first = m.first.min(frame.ts);
        m.last = m.last.max(frame.ts);
        if let Some(table) = &mut self.table {
            table.process(frame.ts, frame.origlen, packet, &mut self.flows);
        }
        // ARP claims and DHCPv6 reach the inventory per packet, as in `trident hosts`.
        if let Some(inv) = &mut self.inventory {
            inv.add_packet(frame.ts, packet);
        }
        self.drain();
        if let Some(ex) = &mut self.extractor {
            let f = ex.extract(
                frame.number,
                frame.ts.as_nanos(),
                frame.origlen,
                frame.link_type,
                frame.data,
            );
            if self.rows.len() < MAX_CLASSIFY_PACKETS {
                if let Some(row) = PacketRow::from_fields(&f, HostOptions::default().ip_flags, true)
                {
                    self.rows.push(row);
                }
            }
        }
    }

    /// Folds the current minute into `minutes`.
    fn fold_minute(&mut self) {
        if let Some(cur) = self.minute.take() {
            let m = self.minutes.entry(cur.minute).or_insert(MinuteTraffic {
                packets: 0,
                bytes: 0,
                ..cur
            });
            m.packets += cur.packets;
            m.bytes += cur.bytes;
            m.first = m.first.min(cur.first);
            m.last = m.last.max(cur.last);
        }
    }

    /// Hands the flows ended since the last call to the inventory; drops them unless the
    /// records keep flows.
    fn drain(&mut self) {
        let Some(new) = self.flows.get(self.inventoried..).filter(|n| !n.is_empty()) else {
            return;
        };
        if let Some(inv) = &mut self.inventory {
            for f in new {
                inv.add(f);
            }
        }
        if self.opts.flows {
            self.inventoried = self.flows.len();
        } else {
            self.flows.clear();
            self.inventoried = 0;
        }
    }

    /// Takes what is ready without ending the flows still open, for a live capture that
    /// flushes to the store periodically: the flows ended so far, the hosts seen in them
    /// and in this segment's packets (a fresh inventory starts for the next segment; the
    /// store merges a host's rows across segments as it does across files), and this
    /// segment's traffic minutes. No predictions: classification rows keep accumulating
    /// and [`RecordsBuilder::finish`] classifies the whole run, as ingesting the run's
    /// capture would. The segments' flows together are exactly [`RecordsBuilder::finish`]'s
    /// flows over the same packets.
    #[must_use]
    pub fn segment(&mut self) -> Records {
        self.drain();
        self.inventoried = 0;
        let hosts = match &mut self.inventory {
            Some(inv) => std::mem::replace(inv, HostInventory::new()).finish(),
            None => Vec::new(),
        };
        Records {
            flows: std::mem::take(&mut self.flows),
            hosts,
            traffic: {
                self.fold_minute();
                std::mem::take(&mut self.minutes).into_values().collect()
            },
            ..Records::default()
        }
    }

    /// Ends every open flow and builds the records.
    #[must_use]
    pub fn finish(mut self) -> Records {
        if let Some(table) = &mut self.table {
            table.flush(&mut self.flows);
        }
        self.drain();
        let hosts = self
            .inventory
            .take()
            .map(HostInventory::finish)
            .unwrap_or_default();
        let mut out = Records {
            flows: std::mem::take(&mut self.flows),
            hosts,
            traffic: {
                self.fold_minute();
                self.minutes.values().copied().collect()
            },
            ..Records::default()
        };
        if let (Some(model), true) = (&self.opts.model, self.extractor.is_some()) {
            out.classified_packets = self.rows.len() as u64;
            let table = PacketTable {
                source_name: self.source_name.clone(),
                frames: self.rows.len() as u64,
                rows: std::mem::take(&mut self.rows),
                ..PacketTable::default()
            };
            if !table.rows.is_empty() {
                match classify_hosts(
                    &table,
                    model,
                    &HostOptions::default(),
                    &HostSelector::default(),
                ) {
                    Ok(verdicts) => {
                        out.predictions = verdicts
                            .iter()
                            .map(|v| prediction_of(model, v, verdict_ts(v.timestamp)))
                            .collect();
                    }
                    Err(e) => out.classify_error = Some(e.to_string()),
                }
            }
        }
        out
    }
}

/// Seconds as a float, for a verdict's time (kept for tests of [`verdict_ts`]).
#[cfg(test)]
fn secs_f64(t: Timestamp) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let v = t.as_nanos() as f64 / 1e9;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_times_keep_microseconds() {
        let t = Timestamp::from_secs_nanos(1_406_894_400, 123_456_000);
        assert_eq!(verdict_ts(secs_f64(t)), t);
    }
}
