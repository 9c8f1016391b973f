//! `trident serve`: the REST API (`/api/v1`, described by the OpenAPI document it serves),
//! the dashboard (`/`), Prometheus metrics (`/metrics`) and Poseidon's `/v1` routes, over
//! the traffic index.
//!
//! [`app`] builds the whole application as one axum [`Router`] from an [`AppState`]; it is
//! what tests drive with `oneshot`, without a socket. [`serve`] runs it on a listener until
//! SIGINT or SIGTERM, letting requests in flight finish.
//!
//! Handlers never block the async runtime: every store call runs on tokio's blocking pool
//! with a pooled read connection (the embedded store is SQLite in WAL mode, so readers run
//! beside the ingest writer). Handlers return `Result<_, ApiError>`; [`ApiError`] is the one
//! error shape (`{"error", "detail"}`), and internal causes go to the log only.
//!
//! The OpenAPI document is generated from the handlers themselves (utoipa-axum registers a
//! route and its description together), so the document and the router cannot disagree.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod annotate;
pub mod assets;
mod auth;
mod cache;
mod captures;
mod error;
mod ingest;
mod metrics;
mod params;
mod routes;
mod sniff;
mod state;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{COOKIE, generate_token};
pub use captures::{CaptureInfo, CaptureStatus, UPLOADS_DIR};
pub use error::{ApiError, ErrorBody};
pub use ingest::{PathOutcome, ingest_path};
pub use state::{AppState, DataSource, ServeOptions};

/// Default upload limit in MiB (`--max-upload-mb`).
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 2048;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "trident",
        description = "Network-traffic analysis: counts (potiron's top, series, ISN, parallel coordinates), hosts, flows, role predictions and captures. Errors are `{\"error\", \"detail\"}`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        ErrorBody,
        trident_index::records::HostSort,
        trident_index::records::SortOrder
    )),
    tags(
        (name = "meta", description = "Health and the API itself"),
        (name = "counts", description = "Per sensor/day/field value counts (both stores)"),
        (name = "records", description = "Hosts, flows, traffic and predictions (embedded store)"),
        (name = "captures", description = "Upload, list, delete and classify captures (embedded store)"),
    )
)]
struct ApiDoc;

/// Every documented route, with its description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::hosts::health))
        .routes(routes!(openapi_json))
        .routes(routes!(metrics_text))
        .routes(routes!(routes::hosts::summary))
        .routes(routes!(routes::hosts::sensors))
        .routes(routes!(routes::counts::fields))
        .routes(routes!(routes::counts::top))
        .routes(routes!(routes::counts::series))
        .routes(routes!(routes::counts::isn))
        .routes(routes!(routes::counts::parallel))
        .routes(routes!(routes::hosts::traffic))
        .routes(routes!(routes::hosts::hosts))
        .routes(routes!(routes::hosts::host))
        .routes(routes!(routes::hosts::host_flows))
        .routes(routes!(routes::hosts::host_predictions))
        .routes(routes!(routes::captures::classify_host))
        .routes(routes!(routes::hosts::flows))
        .routes(routes!(routes::captures::list, routes::captures::upload))
        .routes(routes!(routes::captures::get, routes::captures::delete))
        .routes(routes!(routes::captures::classify))
}

/// The OpenAPI document, built once.
#[must_use]
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api_routes().split_for_parts().1)
}

fn openapi_bytes() -> &'static [u8] {
    static JSON: OnceLock<Vec<u8>> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_vec(openapi()).unwrap_or_default())
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi_bytes(),
    )
        .into_response()
}

/// Prometheus metrics (text exposition format; no token needed).
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Metrics in Prometheus' text format", content_type = "text/plain", body = String)))]
async fn metrics_text(State(state): State<AppState>) -> Response {
    let snapshot = match state.data_dir().map(std::path::Path::to_path_buf) {
        Some(dir) => {
            let s = state.clone();
            let summary = s.read(|c| Ok(c.sqlite()?.summary(None, None)?)).await;
            let store_bytes = tokio::task::spawn_blocking(move || {
                ["index.sqlite", "index.sqlite-wal"]
                    .iter()
                    .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
                    .map(|m| m.len())
                    .sum::<u64>()
            })
            .await
            .unwrap_or(0);
            metrics::StoreSnapshot {
                summary: summary.ok(),
                store_bytes,
            }
        }
        None => metrics::StoreSnapshot::default(),
    };
    let text = state.inner.metrics.render(&snapshot);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The answer for a path no route serves.
async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}

/// tower-http's length limit answers 413 in plain text; this gives it the API's shape.
async fn json_413(resp: Response) -> Response {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::TooLarge(
            "the request body is larger than this server's upload limit (--max-upload-mb)"
                .to_owned(),
        )
        .into_response();
    }
    resp
}

/// The paths and methods the API router serves, from the same registration that builds the
/// OpenAPI document (for tests comparing the two).
#[must_use]
pub fn documented_routes() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &openapi().paths.paths {
        let ops = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ];
        for (m, present) in ops {
            if present {
                out.push((m.to_owned(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

/// The whole application: API, OpenAPI document, metrics, Poseidon's routes and the
/// dashboard, behind the token check, request metrics, tracing and the body limit. Starts
/// the ingest worker on first call (needs a tokio runtime). Poseidon's `/v1/*` routes are
/// read from the data directory (`trident sdn run`'s endpoints, else the store's hosts).
pub fn app(state: AppState) -> Router {
    app_with(state, None)
}

/// [`app`] with `extra` routes merged in behind the same token check and metrics (used by
/// `trident sdn run`, whose engine serves `/v1/*` and `/api/v1/sdn/*` live; the read-only
/// Poseidon routes are then left out).
pub fn app_with(state: AppState, extra: Option<Router>) -> Router {
    if let Some(rx) = state.inner.uploads.take_queue() {
        tokio::spawn(ingest::worker(state.clone(), rx));
    }
    let (api, _) = api_routes().split_for_parts();
    let limit = usize::try_from(state.inner.opts.max_upload_bytes).unwrap_or(usize::MAX);
    let mut router: Router = Router::<AppState>::new()
        .merge(api)
        .merge(assets::router())
        .fallback(not_found)
        .with_state(state.clone());
    // Poseidon compatibility (/v1/*) comes from the sdn stage.
    match extra {
        Some(extra) => router = router.merge(extra),
        None => {
            if let Some(dir) = state.data_dir() {
                router = router.merge(trident_sdn::api::poseidon_router(dir.to_owned()));
            }
        }
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(axum::middleware::map_response(json_413))
        .layer(TraceLayer::new_for_http())
}

/// Runs the application on `listener` until SIGINT or SIGTERM; requests in flight finish.
///
/// # Errors
/// The listener failed.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
