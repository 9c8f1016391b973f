//! Prometheus metrics (`/metrics`), named as docs/METRICS.md lists them.
//!
//! Counters are bumped where things happen (one HTTP request, one ingested upload); the
//! gauges describing the store (hosts, flows, roles, size) are read from the store when
//! `/metrics` is scraped, so they also cover files ingested by another process. Every label
//! takes a bounded set of values: route templates (never raw paths), methods, status codes,
//! roles of the model, outcome and reason names defined here.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::state::AppState;

/// Labels of an HTTP request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of an HTTP latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    method: String,
    route: String,
}

/// One label named `outcome`, `reason` or `role`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    pub(crate) outcome: String,
}

/// Decode errors by reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub(crate) reason: String,
}

/// Hosts or classifications by role.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RoleLabel {
    pub(crate) role: String,
}

/// Classifications by role and confidence band.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RoleConfidenceLabel {
    pub(crate) role: String,
    pub(crate) confidence: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms .. about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric of the server.
pub(crate) struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: HistogramFamily,
    pub(crate) ingest_files: Family<OutcomeLabel, Counter>,
    pub(crate) ingest_packets: Counter,
    pub(crate) ingest_bytes: Counter,
    pub(crate) decode_errors: Family<ReasonLabel, Counter>,
    pub(crate) upload_bytes: Counter,
    pub(crate) uploads: Family<OutcomeLabel, Counter>,
    pub(crate) classifications: Family<RoleConfidenceLabel, Counter>,
    hosts: Gauge,
    flows: Gauge,
    captures: Gauge,
    hosts_by_role: Family<RoleLabel, Gauge>,
    store_size: Gauge<u64, AtomicU64>,
    /// Serializes scrapes so two do not interleave gauge updates.
    scrape: Mutex<()>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "trident_http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "trident_http_request_duration",
            "Time to answer an HTTP request (until the response head), by method and route template",
            Unit::Seconds,
            http_latency.clone(),
        );
        let ingest_files = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "trident_ingest_files",
            "Captures this server ingested, by outcome (ingested, skipped, failed)",
            ingest_files.clone(),
        );
        let ingest_packets = Counter::default();
        registry.register(
            "trident_ingest_packets",
            "Packets read from captures this server ingested",
            ingest_packets.clone(),
        );
        let ingest_bytes = Counter::default();
        registry.register_with_unit(
            "trident_ingest",
            "Capture bytes this server ingested",
            Unit::Bytes,
            ingest_bytes.clone(),
        );
        let decode_errors = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "trident_ingest_decode_errors",
            "Damage met while ingesting captures, by reason",
            decode_errors.clone(),
        );
        let upload_bytes = Counter::default();
        registry.register_with_unit(
            "trident_upload",
            "Bytes received in capture uploads",
            Unit::Bytes,
            upload_bytes.clone(),
        );
        let uploads = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "trident_uploads",
            "Capture uploads, by outcome (accepted, too_large, not_a_capture, failed)",
            uploads.clone(),
        );
        let classifications = Family::<RoleConfidenceLabel, Counter>::default();
        registry.register(
            "trident_classifications",
            "On-demand host classifications, by role and confidence band (low < 0.5 <= medium < 0.8 <= high)",
            classifications.clone(),
        );
        let hosts = Gauge::default();
        registry.register("trident_hosts", "Hosts tracked in the store", hosts.clone());
        let flows = Gauge::default();
        registry.register("trident_flows", "Flows tracked in the store", flows.clone());
        let captures = Gauge::default();
        registry.register(
            "trident_captures",
            "Captures ingested in the store",
            captures.clone(),
        );
        let hosts_by_role = Family::<RoleLabel, Gauge>::default();
        registry.register(
            "trident_hosts_by_role",
            "Hosts by the role of their latest prediction",
            hosts_by_role.clone(),
        );
        let store_size = Gauge::<u64, AtomicU64>::default();
        registry.register_with_unit(
            "trident_store_size",
            "Size of the embedded store's files on disk (database and write-ahead log)",
            Unit::Bytes,
            store_size.clone(),
        );
        // Outcomes are known in advance: show them at zero from the first scrape.
        for o in ["ingested", "skipped", "failed"] {
            let _ = ingest_files.get_or_create(&OutcomeLabel {
                outcome: o.to_owned(),
            });
        }
        for o in ["accepted", "too_large", "not_a_capture", "failed"] {
            let _ = uploads.get_or_create(&OutcomeLabel {
                outcome: o.to_owned(),
            });
        }
        Metrics {
            registry,
            http_requests,
            http_latency,
            ingest_files,
            ingest_packets,
            ingest_bytes,
            decode_errors,
            upload_bytes,
            uploads,
            classifications,
            hosts,
            flows,
            captures,
            hosts_by_role,
            store_size,
            scrape: Mutex::new(()),
        }
    }

    /// Counts one file's ingest outcome.
    pub(crate) fn file(&self, outcome: &str) {
        self.ingest_files
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts one upload's outcome.
    pub(crate) fn upload(&self, outcome: &str) {
        self.uploads
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts one on-demand classification.
    pub(crate) fn classified(&self, role: &str, confidence: f64) {
        let band = if confidence >= 0.8 {
            "high"
        } else if confidence >= 0.5 {
            "medium"
        } else {
            "low"
        };
        self.classifications
            .get_or_create(&RoleConfidenceLabel {
                role: role.to_owned(),
                confidence: band,
            })
            .inc();
    }

    /// Sets the store gauges and renders everything in Prometheus' text format.
    pub(crate) fn render(&self, snapshot: &StoreSnapshot) -> String {
        let _one = self
            .scrape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = snapshot.summary.as_ref() {
            self.hosts.set(i64::try_from(s.hosts).unwrap_or(i64::MAX));
            self.flows.set(i64::try_from(s.flows).unwrap_or(i64::MAX));
            self.captures
                .set(i64::try_from(s.files).unwrap_or(i64::MAX));
            self.hosts_by_role.clear();
            for r in &s.roles {
                self.hosts_by_role
                    .get_or_create(&RoleLabel {
                        role: r.role.clone(),
                    })
                    .set(i64::try_from(r.count).unwrap_or(i64::MAX));
            }
        }
        self.store_size.set(snapshot.store_bytes);
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%e, "encoding metrics");
        }
        out
    }
}

/// What a scrape reads from the store.
#[derive(Default)]
pub(crate) struct StoreSnapshot {
    pub(crate) summary: Option<trident_index::records::Summary>,
    pub(crate) store_bytes: u64,
}

/// Middleware: counts every request and times it, by route template.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Unknown methods (HTTP allows any token) share one label value.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let resp = next.run(req).await;
    let m = &state.inner.metrics;
    m.http_latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    m.http_requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
