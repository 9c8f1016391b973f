//! The background ingest worker and on-demand classification: the same reading path as
//! `trident ingest` (`trident_index::read_capture` + the records builder, then one store
//! transaction per file).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use trident_index::records::{Prediction, RecordOptions, format_rfc3339_ms};
use trident_index::{AggOptions, IndexError, IngestOutcome};
use trident_types::Timestamp;

use crate::captures::CaptureStatus;
use crate::error::{ApiError, ApiResult};
use crate::metrics::ReasonLabel;
use crate::state::AppState;

/// The wall clock as a [`Timestamp`] (upload and prediction times are wall-clock times).
pub(crate) fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(i64::try_from(d.as_secs()).unwrap_or(0), d.subsec_nanos())
}

/// The wall clock in RFC 3339 with milliseconds.
pub(crate) fn now_string() -> String {
    format_rfc3339_ms(now())
}

/// What reading a file for the store gives.
pub(crate) struct ReadFile {
    pub(crate) meta: trident_index::FileMeta,
    pub(crate) agg: trident_index::FileAgg,
    pub(crate) records: trident_index::records::Records,
    pub(crate) damage: Option<IndexError>,
}

/// The records every server ingest builds (flows, hosts, predictions); the model is
/// loaded once.
fn record_options() -> Result<RecordOptions, String> {
    static OPTS: std::sync::OnceLock<Result<RecordOptions, String>> = std::sync::OnceLock::new();
    OPTS.get_or_init(|| RecordOptions::all().map_err(|e| format!("loading the role model: {e}")))
        .clone()
}

/// Reads one capture like `trident ingest` does (counts, flows, hosts, predictions),
/// reporting the bytes consumed in `progress`.
pub(crate) fn read_file(
    path: &Path,
    sensor: Option<&str>,
    progress: &AtomicU64,
) -> Result<ReadFile, IndexError> {
    let opts = AggOptions {
        per_packet_fields: false,
        app_fields: true,
        isn: true,
    };
    let rec = record_options().map_err(IndexError::Unsupported)?;
    let r =
        trident_index::records::read_capture_with(path, sensor, opts, Some(rec), Some(progress))?;
    Ok(ReadFile {
        meta: r.meta,
        agg: r.agg,
        records: r.records.unwrap_or_default(),
        damage: r.damage,
    })
}

/// Runs the worker: ingests queued uploads one at a time until the queue closes.
pub(crate) async fn worker(state: AppState, mut rx: tokio::sync::mpsc::UnboundedReceiver<String>) {
    while let Some(id) = rx.recv().await {
        let s = state.clone();
        let id2 = id.clone();
        let r = tokio::task::spawn_blocking(move || ingest_upload(&s, &id2)).await;
        if let Err(e) = r {
            tracing::error!(id, error = %e, "ingest task failed");
            state.inner.uploads.update(&id, |i| {
                i.status = CaptureStatus::Failed;
                i.error =
                    Some("ingestion stopped unexpectedly; the server log has details".to_owned());
            });
        }
    }
}

/// Ingests one upload (on a blocking thread).
fn ingest_upload(state: &AppState, id: &str) {
    let uploads = &state.inner.uploads;
    let Some((path, read)) = uploads.file_of(id) else {
        return; // deleted while queued
    };
    let Some(info) = uploads.get(id) else {
        return;
    };
    uploads.update(id, |i| {
        i.status = CaptureStatus::Ingesting;
        i.error = None;
    });
    read.store(0, Ordering::Relaxed);
    let m = &state.inner.metrics;
    let sensor = info
        .sensor
        .clone()
        .or_else(|| trident_index::potiron::sensor_name(&info.name));
    let sensor = sensor.unwrap_or_else(|| "upload".to_owned());
    let result = read_file(&path, Some(&sensor), &read);
    let mut f = match result {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(id, error = %e, "upload not ingested");
            m.file("failed");
            let reason = match &e {
                IndexError::Capture { source, .. } => format!("{:?}", source.kind)
                    .split([' ', '{', '('])
                    .next()
                    .unwrap_or("capture")
                    .to_owned(),
                _ => "store".to_owned(),
            };
            m.decode_errors
                .get_or_create(&ReasonLabel {
                    reason: to_snake(&reason),
                })
                .inc();
            uploads.update(id, |i| {
                i.status = CaptureStatus::Failed;
                i.error = Some(public_error(&e, &info.name));
            });
            return;
        }
    };
    // The name the client gave is what the store records (metadata only).
    f.meta.name.clone_from(&info.name);
    f.meta.path.clone_from(&info.name);
    f.meta.file_day = trident_index::potiron::file_name_day(&info.name);
    if let Some(d) = &f.damage {
        let reason = match d {
            IndexError::Capture { source, .. } => to_snake(
                format!("{:?}", source.kind)
                    .split([' ', '{', '('])
                    .next()
                    .unwrap_or("capture"),
            ),
            _ => "damaged".to_owned(),
        };
        m.decode_errors.get_or_create(&ReasonLabel { reason }).inc();
    }
    let (meta, agg, records) = (f.meta, f.agg, f.records);
    let outcome = state.write_blocking(|s| {
        let o = s.ingest_with_records(&meta, &agg, Some(&records), false)?;
        let store_id = s.capture_id(&meta.sha256)?;
        let cap = store_id.map(|id| s.capture(id)).transpose()?.flatten();
        Ok((o, store_id, cap))
    });
    match outcome {
        Ok((o, store_id, cap)) => {
            let skipped = matches!(o, IngestOutcome::Skipped);
            m.file(if skipped { "skipped" } else { "ingested" });
            if !skipped {
                m.ingest_packets.inc_by(agg.packets);
                m.ingest_bytes.inc_by(meta.size);
            }
            let damage = f.damage.as_ref().map(|d| public_error(d, &info.name));
            uploads.update(id, |i| {
                i.status = if skipped {
                    CaptureStatus::Skipped
                } else {
                    CaptureStatus::Done
                };
                i.progress = 1.0;
                i.bytes_read = i.size;
                i.sha256 = Some(meta.sha256.clone());
                i.sensor = Some(meta.sensor.clone());
                i.packets = Some(agg.packets);
                i.store_id = store_id;
                i.flows = cap.as_ref().map(|c| c.flows);
                i.hosts = cap.as_ref().map(|c| c.hosts);
                i.ingested_at = Some(now_string());
                i.error = if skipped {
                    Some(format!(
                        "the same bytes were already ingested as capture {}",
                        store_id.map_or_else(|| "?".to_owned(), |n| n.to_string())
                    ))
                } else {
                    damage
                };
            });
        }
        Err(e) => {
            tracing::error!(id, error = %e, "writing an upload to the store");
            m.file("failed");
            uploads.update(id, |i| {
                i.status = CaptureStatus::Failed;
                i.error = Some("the store failed; the server log has details".to_owned());
            });
        }
    }
}

fn to_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        }
    }
    if out.is_empty() {
        "unknown".to_owned()
    } else {
        out
    }
}

/// An ingest error as the client may see it: the capture error names the client's file
/// name and the byte offset, never the server's path.
fn public_error(e: &IndexError, name: &str) -> String {
    match e {
        IndexError::Capture { source, .. } => format!("{name}: {source}"),
        _ => "the store failed; the server log has details".to_owned(),
    }
}

/// Classifies the hosts of a capture file again (on demand; only `mac` when given) and
/// stores each prediction in its host's history, timed now. Returns the predictions.
pub(crate) fn classify_file(
    state: &AppState,
    path: &Path,
    mac: Option<trident_types::MacAddr>,
) -> ApiResult<Vec<Prediction>> {
    let opts = record_options().map_err(ApiError::internal)?;
    let Some(model) = opts.model.as_deref() else {
        return Err(ApiError::internal("no role model loaded"));
    };
    let mut preds =
        trident_index::records::classify_capture(path, model, mac).map_err(|e| match e {
            IndexError::Capture { source, .. } => ApiError::Conflict(format!(
                "the capture's file can no longer be read: {source}"
            )),
            IndexError::Sqlite(_) | IndexError::Io { .. } | IndexError::Redis(_) => {
                ApiError::internal(e)
            }
            other => ApiError::Conflict(format!("the capture cannot be classified: {other}")),
        })?;
    let ts = now();
    state.write_blocking(|s| {
        for p in &mut preds {
            p.ts = ts;
            p.capture = None;
            s.add_prediction(p)?;
        }
        Ok(())
    })?;
    for p in &preds {
        state.inner.metrics.classified(&p.role, p.confidence);
    }
    Ok(preds)
}

/// What [`ingest_path`] did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathOutcome {
    /// Ingested: packets read, flows and hosts stored.
    Ingested {
        /// Packets read.
        packets: u64,
    },
    /// Already in the store (same bytes).
    Skipped,
}

/// Ingests one capture file into the embedded store the way the server ingests uploads
/// (counts, ISN samples, flows, hosts, predictions), skipping it when already ingested. A
/// damaged capture is stored up to the damage, which is returned beside the outcome.
///
/// # Errors
/// The file cannot be read as a capture, or the store failed.
pub fn ingest_path(
    store: &mut trident_index::SqliteStore,
    path: &Path,
    sensor: Option<&str>,
) -> Result<(PathOutcome, Option<IndexError>), IndexError> {
    // Hashing is much faster than decoding: a file with the name and size of a stored one
    // is hashed first, and skipped when its bytes are stored (as `trident ingest` does).
    // Other files are hashed once, as they are decoded.
    if store.known_files()?.recognise(path, sensor).is_some() {
        return Ok((PathOutcome::Skipped, None));
    }
    let progress = AtomicU64::new(0);
    let f = read_file(path, sensor, &progress)?;
    let o = store.ingest_with_records(&f.meta, &f.agg, Some(&f.records), false)?;
    let out = match o {
        IngestOutcome::Skipped => PathOutcome::Skipped,
        _ => PathOutcome::Ingested {
            packets: f.agg.packets,
        },
    };
    Ok((out, f.damage))
}
