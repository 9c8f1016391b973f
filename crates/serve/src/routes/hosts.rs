//! What the embedded store keeps beside the counts: summary, sensors, traffic, hosts,
//! flows and predictions (`trident_index::records`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use trident_index::records::{
    FlowFilter, FlowRow, HostDetail, HostFilter, HostSort, HostSummary, MAX_PAGE, Page, Prediction,
    SensorDays, SortOrder, Subnet, Summary, Traffic, TrafficQuery,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::params;
use crate::state::AppState;

/// Answer of `GET /api/v1/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// trident's version.
    pub version: String,
}

/// Liveness: answers without touching the store (no token needed).
#[utoipa::path(get, path = "/api/v1/health", tag = "meta",
    responses((status = 200, description = "The server is up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// Query of `GET /api/v1/summary`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SummaryParams {
    /// Only this sensor.
    sensor: Option<String>,
    /// Only this day.
    #[param(schema_with = params::day_schema)]
    day: Option<String>,
}

/// Totals of the store, of a sensor and/or a day.
#[utoipa::path(get, path = "/api/v1/summary", tag = "records", params(SummaryParams),
    responses(
        (status = 200, description = "Totals", body = Summary),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn summary(
    State(state): State<AppState>,
    q: Result<Query<SummaryParams>, QueryRejection>,
) -> ApiResult<Json<Summary>> {
    let Query(p) = q?;
    let day = p
        .day
        .as_deref()
        .map(|d| params::day("day", d))
        .transpose()?;
    let sensor = p.sensor;
    let s = state
        .read(move |c| Ok(c.sqlite()?.summary(sensor.as_deref(), day)?))
        .await?;
    Ok(Json(s))
}

/// Sensors and the days each has traffic on.
#[utoipa::path(get, path = "/api/v1/sensors", tag = "records",
    responses(
        (status = 200, description = "Sensors", body = [SensorDays]),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn sensors(State(state): State<AppState>) -> ApiResult<Json<Vec<SensorDays>>> {
    Ok(Json(state.read(|c| Ok(c.sqlite()?.sensors()?)).await?))
}

/// Query of `GET /api/v1/traffic`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrafficParams {
    /// Only this sensor.
    sensor: Option<String>,
    /// One UTC day (overrides `from`/`to`).
    #[param(schema_with = params::day_schema)]
    day: Option<String>,
    /// From this time on.
    #[param(schema_with = params::time_schema)]
    from: Option<String>,
    /// Before this time.
    #[param(schema_with = params::time_schema)]
    to: Option<String>,
    /// Only this host's flows (key or IP address).
    host: Option<String>,
    /// Bucket width in seconds, a multiple of 60 (default 60).
    #[param(minimum = 60, maximum = 86400, multiple_of = 60)]
    bucket_seconds: Option<u32>,
}

/// Nanoseconds in a day.
const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Packets and bytes over time.
#[utoipa::path(get, path = "/api/v1/traffic", tag = "records", params(TrafficParams),
    responses(
        (status = 200, description = "Buckets with traffic, in time order", body = Traffic),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn traffic(
    State(state): State<AppState>,
    q: Result<Query<TrafficParams>, QueryRejection>,
) -> ApiResult<Json<Traffic>> {
    let Query(p) = q?;
    let bucket = match p.bucket_seconds {
        None => 60,
        Some(b) if (60..=86_400).contains(&b) && b % 60 == 0 => b,
        Some(b) => {
            return Err(ApiError::param(
                "bucket_seconds",
                format!("{b} is not a multiple of 60 in 60..=86400"),
            ));
        }
    };
    // Every parameter given is validated, even one that `day` overrides.
    let given_from = p
        .from
        .as_deref()
        .map(|s| params::time("from", s))
        .transpose()?;
    let given_to = p.to.as_deref().map(|s| params::time("to", s)).transpose()?;
    let (from, to) = if let Some(d) = &p.day {
        let d = params::day("day", d)?;
        let start =
            trident_index::records::parse_rfc3339(&format!("{}T00:00:00Z", params::day_string(d)))
                .ok_or_else(|| ApiError::param("day", "out of range"))?;
        (
            Some(start),
            Some(trident_types::Timestamp(
                start.as_nanos().saturating_add(NANOS_PER_DAY),
            )),
        )
    } else {
        (given_from, given_to)
    };
    let q = TrafficQuery {
        sensor: p.sensor,
        from,
        to,
        host: p.host,
        bucket_seconds: bucket,
    };
    Ok(Json(
        state.read(move |c| Ok(c.sqlite()?.traffic(&q)?)).await?,
    ))
}

/// Query of `GET /api/v1/hosts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HostsParams {
    /// Role of the latest prediction, exactly (`Unknown` included).
    role: Option<String>,
    /// Text in the vendor name.
    vendor: Option<String>,
    /// One of its addresses is in this network (CIDR, or one address).
    subnet: Option<String>,
    /// Text in the OS guess.
    os: Option<String>,
    /// SDN state (kept outside the index: only hosts with that state match).
    state: Option<String>,
    /// Text in MAC, IP addresses, names or vendor.
    q: Option<String>,
    /// Seen by this sensor.
    sensor: Option<String>,
    /// Sort key (default `last_seen`).
    sort: Option<HostSort>,
    /// Direction (default descending for times and counts, ascending for text).
    order: Option<SortOrder>,
    /// Rows to skip.
    #[param(minimum = 0)]
    offset: Option<u64>,
    /// Rows in the page (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(trident_index::records::DEFAULT_PAGE),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::param(
            "limit",
            format!("{l} is not in 1..={MAX_PAGE}"),
        )),
    }
}

/// Maximum rows skipped (SQLite takes a signed 64-bit offset).
const MAX_OFFSET: u64 = i64::MAX as u64;

fn offset(o: Option<u64>) -> ApiResult<u64> {
    let o = o.unwrap_or(0);
    if o > MAX_OFFSET {
        return Err(ApiError::param("offset", format!("{o} is too large")));
    }
    Ok(o)
}

/// Hosts, paged, filtered and sorted.
#[utoipa::path(get, path = "/api/v1/hosts", tag = "records", params(HostsParams),
    responses(
        (status = 200, description = "A page of hosts", body = inline(Page<HostSummary>)),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn hosts(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    q: Result<Query<HostsParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(p) = q?;
    let subnet = p
        .subnet
        .as_deref()
        .map(|s| {
            s.parse::<Subnet>()
                .map_err(|e| ApiError::param("subnet", e))
        })
        .transpose()?;
    let f = HostFilter {
        role: p.role,
        vendor: p.vendor,
        subnet,
        os: p.os,
        q: p.q,
        sensor: p.sensor,
        sort: p.sort.unwrap_or_default(),
        order: p.order,
        offset: offset(p.offset)?,
        limit: page_limit(p.limit)?,
    };
    let sdn_state = p.state;
    let key = format!("hosts?{}", raw.unwrap_or_default());
    let st = state.clone();
    state
        .cached(key, move || async move {
            let mut page = st.read(move |c| Ok(c.sqlite()?.hosts(&f)?)).await?;
            if sdn_state.is_some() {
                // The index keeps no SDN state: no host has one, so none matches.
                page.items
                    .retain(|h| h.state.is_some() && h.state == sdn_state);
                page.total = page.items.len() as u64;
            }
            serde_json::to_vec(&page)
                .map(Bytes::from)
                .map_err(ApiError::internal)
        })
        .await
}

/// A host key in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct HostKey {
    /// The host's key: its MAC, or its IP address for a host seen only behind a router.
    key: String,
}

fn no_host(key: &str) -> ApiError {
    ApiError::NotFound(format!("no host {key}"))
}

/// One host: inventory, services, predictions, traffic.
#[utoipa::path(get, path = "/api/v1/hosts/{key}", tag = "records", params(HostKey),
    responses(
        (status = 200, description = "The host", body = HostDetail),
        (status = 404, description = "No such host", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn host(
    State(state): State<AppState>,
    k: Result<Path<HostKey>, PathRejection>,
) -> ApiResult<Json<HostDetail>> {
    let Path(HostKey { key }) = k?;
    let k2 = key.clone();
    state
        .read(move |c| Ok(c.sqlite()?.host(&k2)?))
        .await?
        .map(Json)
        .ok_or_else(|| no_host(&key))
}

/// Query of a host's flows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// Rows to skip.
    #[param(minimum = 0)]
    offset: Option<u64>,
    /// Rows in the page (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

async fn host_exists(state: &AppState, key: &str) -> ApiResult<()> {
    let k = key.to_owned();
    let found = state
        .read(move |c| Ok(c.sqlite()?.host(&k)?.is_some()))
        .await?;
    if found { Ok(()) } else { Err(no_host(key)) }
}

/// A host's flows, newest first.
#[utoipa::path(get, path = "/api/v1/hosts/{key}/flows", tag = "records", params(HostKey, PageParams),
    responses(
        (status = 200, description = "A page of flows", body = inline(Page<FlowRow>)),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 404, description = "No such host", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn host_flows(
    State(state): State<AppState>,
    k: Result<Path<HostKey>, PathRejection>,
    q: Result<Query<PageParams>, QueryRejection>,
) -> ApiResult<Json<Page<FlowRow>>> {
    let Path(HostKey { key }) = k?;
    let Query(p) = q?;
    let f = FlowFilter {
        host: Some(key.clone()),
        offset: offset(p.offset)?,
        limit: page_limit(p.limit)?,
        ..FlowFilter::default()
    };
    host_exists(&state, &key).await?;
    Ok(Json(state.read(move |c| Ok(c.sqlite()?.flows(&f)?)).await?))
}

/// A host's predictions, newest first.
#[utoipa::path(get, path = "/api/v1/hosts/{key}/predictions", tag = "records", params(HostKey),
    responses(
        (status = 200, description = "Predictions", body = [Prediction]),
        (status = 404, description = "No such host", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn host_predictions(
    State(state): State<AppState>,
    k: Result<Path<HostKey>, PathRejection>,
) -> ApiResult<Json<Vec<Prediction>>> {
    let Path(HostKey { key }) = k?;
    host_exists(&state, &key).await?;
    Ok(Json(
        state
            .read(move |c| Ok(c.sqlite()?.predictions(&key)?))
            .await?,
    ))
}

/// Query of `GET /api/v1/flows`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FlowsParams {
    /// Either endpoint is this host (key or IP address).
    host: Option<String>,
    /// Either endpoint's port.
    #[param(minimum = 0, maximum = 65535)]
    port: Option<u16>,
    /// IP protocol.
    #[param(schema_with = params::protocol_schema)]
    protocol: Option<String>,
    /// Flows active at or after this time.
    #[param(schema_with = params::time_schema)]
    from: Option<String>,
    /// Flows active before this time.
    #[param(schema_with = params::time_schema)]
    to: Option<String>,
    /// Of captures of this sensor.
    sensor: Option<String>,
    /// Rows to skip.
    #[param(minimum = 0)]
    offset: Option<u64>,
    /// Rows in the page (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Flows, newest first, filtered.
#[utoipa::path(get, path = "/api/v1/flows", tag = "records", params(FlowsParams),
    responses(
        (status = 200, description = "A page of flows", body = inline(Page<FlowRow>)),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn flows(
    State(state): State<AppState>,
    q: Result<Query<FlowsParams>, QueryRejection>,
) -> ApiResult<Json<Page<FlowRow>>> {
    let Query(p) = q?;
    let f = FlowFilter {
        host: p.host,
        port: p.port,
        protocol: p
            .protocol
            .as_deref()
            .map(|s| params::protocol("protocol", s))
            .transpose()?,
        from: p
            .from
            .as_deref()
            .map(|s| params::time("from", s))
            .transpose()?,
        to: p.to.as_deref().map(|s| params::time("to", s)).transpose()?,
        sensor: p.sensor,
        offset: offset(p.offset)?,
        limit: page_limit(p.limit)?,
    };
    Ok(Json(state.read(move |c| Ok(c.sqlite()?.flows(&f)?)).await?))
}
