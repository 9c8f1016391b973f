//! HTTP: Poseidon's read API (`/v1/...`, shape exactly as poseidon-api 0.18.2 serves it,
//! reference 4.1) fed by the engine's endpoints, and trident's control routes under
//! `/api/v1/sdn/` that `trident sdn show|ignore|clear|change|remove` use.
//!
//! Differences from Poseidon, on purpose: `/v1/network/{ip}` applies its filter (an IPv4 or
//! IPv6 address, a MAC or an endpoint id); values come from the live endpoint table, not
//! Prometheus label values, so there is exactly one node per endpoint.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, NO_DATA, subnet_v4, subnet_v6};
use crate::engine::EngineHandle;
use crate::error::SdnError;
use crate::state::Trigger;

/// The version `/v1/info` reports (Poseidon's last release, for client compatibility).
pub const POSEIDON_API_VERSION: &str = "0.18.2";

/// The routes `/v1` lists.
pub const V1_ROUTES: [&str; 5] = [
    "/v1",
    "/v1/info",
    "/v1/network",
    "/v1/network/{ip}",
    "/v1/network_full",
];

/// The router: Poseidon's `/v1` routes plus `/api/v1/sdn/...`.
pub fn router(handle: EngineHandle) -> Router {
    Router::new()
        .route("/v1", get(v1))
        .route("/v1/", get(v1))
        .route("/v1/info", get(info))
        .route("/v1/network", get(network))
        .route("/v1/network/{ip}", get(network_ip))
        .route("/v1/network_full", get(network_full))
        .route("/api/v1/sdn/status", get(status))
        .route("/api/v1/sdn/metrics", get(metrics))
        .route("/api/v1/sdn/endpoints", get(list))
        .route("/api/v1/sdn/endpoints/{id}", get(what).delete(remove))
        .route("/api/v1/sdn/endpoints/{id}/history", get(history))
        .route("/api/v1/sdn/endpoints/{id}/ignore", post(ignore))
        .route("/api/v1/sdn/endpoints/{id}/clear", post(clear))
        .route("/api/v1/sdn/endpoints/{id}/change", post(change))
        .with_state(handle)
}

/// The one error type at the HTTP edge.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl From<SdnError> for ApiError {
    fn from(e: SdnError) -> Self {
        match e {
            SdnError::NoSuchEndpoint(_) => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            SdnError::Invalid(_) => ApiError(StatusCode::CONFLICT, e.to_string()),
            other => {
                tracing::warn!(%other, "SDN API error");
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn text_json<T: Serialize>(v: &T) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        serde_json::to_string(v).unwrap_or_default(),
    )
        .into_response()
}

async fn v1() -> Response {
    text_json(&V1_ROUTES)
}

async fn info() -> Response {
    text_json(&serde_json::json!({ "version": POSEIDON_API_VERSION }))
}

/// A `/v1/network` node: Poseidon's keys in Poseidon's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Endpoint id.
    pub hash_id: String,
    /// MAC.
    pub mac: String,
    /// IPv4 or "".
    pub ipv4_address: String,
    /// IPv6 or "".
    pub ipv6_address: String,
    /// /24 or "NO DATA".
    pub ipv4_subnet: String,
    /// /64 or "NO DATA".
    pub ipv6_subnet: String,
    /// `"VLAN<vid>"`.
    pub tenant: String,
    /// Switch.
    pub segment: String,
    /// Port, as a string.
    pub port: String,
    /// State.
    pub state: String,
    /// "True"/"False".
    pub ignore: String,
    /// Top role or "NO DATA".
    pub top_role: String,
    /// Its confidence, 0 when none.
    pub top_confidence: f64,
    /// OS or "NO DATA".
    pub ipv4_os: String,
    /// Always "NO DATA" (as Poseidon).
    pub ipv6_os: String,
    /// Reverse DNS (not looked up): "NO DATA".
    pub ipv4_rdns: String,
    /// Reverse DNS: "NO DATA".
    pub ipv6_rdns: String,
    /// OUI vendor or "NO DATA".
    pub ether_vendor: String,
    /// "faucet".
    pub controller_type: String,
    /// ACL history, "[]".
    pub acls: String,
}

/// A `/v1/network_full` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullNode {
    /// See [`Node`].
    pub hash_id: String,
    /// See [`Node`].
    pub mac: String,
    /// See [`Node`].
    pub ipv4_address: String,
    /// See [`Node`].
    pub ipv6_address: String,
    /// See [`Node`].
    pub ipv4_subnet: String,
    /// See [`Node`].
    pub ipv6_subnet: String,
    /// See [`Node`].
    pub segment: String,
    /// See [`Node`].
    pub port: String,
    /// See [`Node`].
    pub tenant: String,
    /// Pending trigger or "None".
    pub next_state: String,
    /// See [`Node`].
    pub state: String,
    /// Previous state or "None".
    pub prev_state: String,
    /// See [`Node`].
    pub ignore: String,
    /// See [`Node`].
    pub top_role: String,
    /// See [`Node`].
    pub top_confidence: f64,
    /// See [`Node`].
    pub ipv4_os: String,
    /// See [`Node`].
    pub ipv6_os: String,
    /// See [`Node`].
    pub ipv4_rdns: String,
    /// See [`Node`].
    pub ipv6_rdns: String,
    /// See [`Node`].
    pub ether_vendor: String,
    /// See [`Node`].
    pub controller_type: String,
    /// See [`Node`].
    pub acls: String,
}

/// One `configuration.fields` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// `[key]`.
    pub path: Vec<String>,
    /// Label.
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// Always "true".
    pub groupable: String,
}

/// Poseidon's labels, in `/v1/network` key order.
pub const FIELDS: [(&str, &str); 20] = [
    ("hash_id", "ID"),
    ("mac", "MAC Address"),
    ("ipv4_address", "IPv4"),
    ("ipv6_address", "IPv6"),
    ("ipv4_subnet", "IPv4 Subnet"),
    ("ipv6_subnet", "IPv6 Subnet"),
    ("tenant", "VLAN"),
    ("segment", "Switch"),
    ("port", "Port"),
    ("state", "State"),
    ("ignore", "Ignored"),
    ("top_role", "Role (NetworkML)"),
    ("top_confidence", "Role Confidence (NetworkML)"),
    ("ipv4_os", "IPv4 OS (p0f)"),
    ("ipv6_os", "IPv6 OS (p0f)"),
    ("ipv4_rdns", "IPv4 rDNS"),
    ("ipv6_rdns", "IPv6 rDNS"),
    ("ether_vendor", "Ethernet Vendor"),
    ("controller_type", "SDN Controller Type"),
    ("acls", "ACL History"),
];

/// `/v1/network`'s body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Nodes.
    pub dataset: Vec<Node>,
    /// Field descriptions.
    pub configuration: Configuration,
}

/// `configuration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// One per node key.
    pub fields: Vec<Field>,
}

/// `/v1/network_full`'s body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkFull {
    /// Nodes.
    pub dataset: Vec<FullNode>,
}

fn or_no_data(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or(NO_DATA).to_string()
}

/// The `/v1/network` node of an endpoint.
#[must_use]
pub fn node(e: &Endpoint) -> Node {
    let top = e.role_label();
    Node {
        hash_id: e.id.clone(),
        mac: e.mac.clone(),
        ipv4_address: e.ipv4.map(|i| i.to_string()).unwrap_or_default(),
        ipv6_address: e.ipv6.map(|i| i.to_string()).unwrap_or_default(),
        ipv4_subnet: subnet_v4(e.ipv4),
        ipv6_subnet: subnet_v6(e.ipv6),
        tenant: e.tenant(),
        segment: e.segment.clone(),
        port: e.port.to_string(),
        state: e.state.as_str().to_string(),
        ignore: if e.ignore { "True" } else { "False" }.to_string(),
        top_role: or_no_data(top.as_ref().map(|r| r.0.as_str())),
        top_confidence: top.map_or(0.0, |r| r.1),
        ipv4_os: or_no_data(e.os.as_deref()),
        ipv6_os: NO_DATA.to_string(),
        ipv4_rdns: or_no_data(e.rdns_v4.as_deref()),
        ipv6_rdns: or_no_data(e.rdns_v6.as_deref()),
        ether_vendor: or_no_data(e.vendor.as_deref()),
        controller_type: "faucet".to_string(),
        acls: serde_json::to_string(&e.acls).unwrap_or_else(|_| "[]".to_string()),
    }
}

/// The `/v1/network_full` node of an endpoint.
#[must_use]
pub fn full_node(e: &Endpoint) -> FullNode {
    let n = node(e);
    FullNode {
        hash_id: n.hash_id,
        mac: n.mac,
        ipv4_address: n.ipv4_address,
        ipv6_address: n.ipv6_address,
        ipv4_subnet: n.ipv4_subnet,
        ipv6_subnet: n.ipv6_subnet,
        segment: n.segment,
        port: n.port,
        tenant: n.tenant,
        next_state: e
            .next_state
            .map_or("None".to_string(), |t| t.as_str().to_string()),
        state: n.state,
        prev_state: e
            .prev_state
            .map_or("None".to_string(), |s| s.as_str().to_string()),
        ignore: n.ignore,
        top_role: n.top_role,
        top_confidence: n.top_confidence,
        ipv4_os: n.ipv4_os,
        ipv6_os: n.ipv6_os,
        ipv4_rdns: n.ipv4_rdns,
        ipv6_rdns: n.ipv6_rdns,
        ether_vendor: n.ether_vendor,
        controller_type: n.controller_type,
        acls: n.acls,
    }
}

/// `configuration.fields`.
#[must_use]
pub fn fields() -> Vec<Field> {
    FIELDS
        .iter()
        .map(|(k, label)| Field {
            path: vec![(*k).to_string()],
            display_name: (*label).to_string(),
            groupable: "true".to_string(),
        })
        .collect()
}

/// Nodes built from the embedded store's hosts (trident's passive inventory), for when no
/// SDN endpoint is known: without Faucet, `/v1/network` still lists what captures showed.
/// The id is Poseidon's key with the switch and VLAN `missing`, as Poseidon hashes absent
/// parts; the SDN-only fields are `NO DATA`.
#[must_use]
pub fn store_nodes(data_dir: &std::path::Path) -> Vec<Node> {
    let Ok(store) = trident_index::SqliteStore::open_read_only(data_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut filter = trident_index::records::HostFilter {
        limit: trident_index::records::MAX_PAGE,
        ..Default::default()
    };
    // Bounded: at most this many hosts are listed.
    for _ in 0..100 {
        let Ok(page) = store.hosts(&filter) else {
            break;
        };
        let n = page.items.len();
        for hsum in page.items {
            let v4 = hsum
                .ips
                .iter()
                .find_map(|i| i.parse::<std::net::Ipv4Addr>().ok());
            let v6 = hsum
                .ips
                .iter()
                .find_map(|i| i.parse::<std::net::Ipv6Addr>().ok());
            let mac = hsum.mac.clone().unwrap_or_default();
            out.push(Node {
                hash_id: crate::endpoint::endpoint_key(None, hsum.mac.as_deref(), None, None),
                mac,
                ipv4_address: v4.map(|i| i.to_string()).unwrap_or_default(),
                ipv6_address: v6.map(|i| i.to_string()).unwrap_or_default(),
                ipv4_subnet: subnet_v4(v4),
                ipv6_subnet: subnet_v6(v6),
                tenant: NO_DATA.to_string(),
                segment: NO_DATA.to_string(),
                port: NO_DATA.to_string(),
                state: or_no_data(hsum.state.as_deref()),
                ignore: "False".to_string(),
                top_role: or_no_data(hsum.role.as_deref()),
                top_confidence: hsum.confidence.unwrap_or(0.0),
                ipv4_os: or_no_data(hsum.os.as_deref()),
                ipv6_os: NO_DATA.to_string(),
                ipv4_rdns: NO_DATA.to_string(),
                ipv6_rdns: NO_DATA.to_string(),
                ether_vendor: or_no_data(hsum.vendor.as_deref()),
                controller_type: NO_DATA.to_string(),
                acls: "[]".to_string(),
            });
        }
        if n == 0 || filter.offset + n as u64 >= page.total {
            break;
        }
        filter.offset += n as u64;
    }
    out
}

async fn network(State(h): State<EngineHandle>) -> axum::Json<Network> {
    let dir = h.config().data_dir.clone();
    network_of(h.endpoints(), dir, None).await
}

async fn network_ip(State(h): State<EngineHandle>, Path(ip): Path<String>) -> axum::Json<Network> {
    let dir = h.config().data_dir.clone();
    network_of(h.endpoints(), dir, Some(ip)).await
}

/// `/v1/network`'s answer: the SDN endpoints matching `query` (all when `None`) or, when
/// there are no endpoints at all, the store's hosts matching it ([`store_nodes`]).
async fn network_of(
    endpoints: Vec<Endpoint>,
    data_dir: std::path::PathBuf,
    query: Option<String>,
) -> axum::Json<Network> {
    let dataset = if endpoints.is_empty() {
        tokio::task::spawn_blocking(move || {
            let mut nodes = store_nodes(&data_dir);
            if let Some(q) = &query {
                nodes.retain(|n| node_matches(n, q));
            }
            nodes
        })
        .await
        .unwrap_or_default()
    } else {
        endpoints
            .iter()
            .filter(|e| query.as_deref().is_none_or(|q| e.matches(q)))
            .map(node)
            .collect()
    };
    axum::Json(Network {
        dataset,
        configuration: Configuration { fields: fields() },
    })
}

async fn network_full(State(h): State<EngineHandle>) -> axum::Json<NetworkFull> {
    axum::Json(NetworkFull {
        dataset: h.endpoints().iter().map(full_node).collect(),
    })
}

async fn status(State(h): State<EngineHandle>) -> Response {
    axum::Json(h.status()).into_response()
}

async fn metrics(State(h): State<EngineHandle>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&h),
    )
        .into_response()
}

/// Filters for the endpoint list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `known`, `unknown`, `operating`, `queued`, `active`, `inactive`, `ignored`.
    pub state: Option<String>,
    /// Top role, case-insensitive, `-` for spaces.
    pub role: Option<String>,
    /// OS, case-insensitive substring.
    pub os: Option<String>,
}

fn norm_role(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '_'], "-")
}

/// Does an endpoint pass the list filters?
#[must_use]
pub fn list_filter(e: &Endpoint, q: &ListQuery) -> bool {
    if let Some(s) = &q.state {
        let ok = match s.as_str() {
            "active" => e.active,
            "inactive" => !e.active,
            "ignored" => e.ignore,
            "all" => true,
            other => e.state.as_str() == other,
        };
        if !ok {
            return false;
        }
    }
    if let Some(r) = &q.role {
        let have = e
            .role_label()
            .map_or("unknown".to_string(), |t| norm_role(&t.0));
        if have != norm_role(r) {
            return false;
        }
    }
    if let Some(o) = &q.os {
        let have = e.os.as_deref().unwrap_or("").to_ascii_lowercase();
        if !have.contains(&o.to_ascii_lowercase()) {
            return false;
        }
    }
    true
}

async fn list(
    State(h): State<EngineHandle>,
    Query(q): Query<ListQuery>,
) -> axum::Json<Vec<Endpoint>> {
    axum::Json(
        h.endpoints()
            .into_iter()
            .filter(|e| list_filter(e, &q))
            .collect(),
    )
}

async fn what(
    State(h): State<EngineHandle>,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<Endpoint>>, ApiError> {
    let v = h.find(&id);
    if v.is_empty() {
        return Err(SdnError::NoSuchEndpoint(id).into());
    }
    Ok(axum::Json(v))
}

async fn history(
    State(h): State<EngineHandle>,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<serde_json::Value>>, ApiError> {
    let v = h.find(&id);
    if v.is_empty() {
        return Err(SdnError::NoSuchEndpoint(id).into());
    }
    let mut out = Vec::new();
    for e in v {
        out.push(serde_json::json!({ "id": e.id, "history": h.history(&e.id)? }));
    }
    Ok(axum::Json(out))
}

/// What a command changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    /// The endpoint ids.
    pub ids: Vec<String>,
}

async fn ignore(
    State(h): State<EngineHandle>,
    Path(id): Path<String>,
) -> Result<axum::Json<Changed>, ApiError> {
    Ok(axum::Json(Changed {
        ids: h.ignore(&id).await?,
    }))
}

async fn clear(
    State(h): State<EngineHandle>,
    Path(id): Path<String>,
) -> Result<axum::Json<Changed>, ApiError> {
    Ok(axum::Json(Changed {
        ids: h.clear(&id).await?,
    }))
}

async fn remove(
    State(h): State<EngineHandle>,
    Path(id): Path<String>,
) -> Result<axum::Json<Changed>, ApiError> {
    Ok(axum::Json(Changed {
        ids: h.remove(&id).await?,
    }))
}

/// Body of a change request.
#[derive(Debug, Deserialize)]
pub struct ChangeBody {
    /// Trigger or state name (`known`, `unknown`, `operate`/`operating`, `queue`/`queued`).
    pub to: String,
}

async fn change(
    State(h): State<EngineHandle>,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<ChangeBody>,
) -> Result<axum::Json<Changed>, ApiError> {
    let t = Trigger::parse(&body.to).ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown state {:?}: use known, unknown, operate, queue",
                body.to
            ),
        )
    })?;
    Ok(axum::Json(Changed {
        ids: h.change(&id, t).await?,
    }))
}

/// Poseidon's read API (`/v1`, `/v1/info`, `/v1/network`, `/v1/network/{ip}`,
/// `/v1/network_full`) without a running engine, for `trident serve`: endpoints come from
/// `<data_dir>/sdn.sqlite` as the last `trident sdn run` left them, and when there are none,
/// from the hosts of the embedded store ([`store_nodes`]). Read on every request, so a
/// `trident sdn run` beside the server shows up without a restart.
pub fn poseidon_router(data_dir: std::path::PathBuf) -> Router {
    Router::new()
        .route("/v1", get(v1))
        .route("/v1/", get(v1))
        .route("/v1/info", get(info))
        .route("/v1/network", get(stored_network))
        .route("/v1/network/{ip}", get(stored_network_ip))
        .route("/v1/network_full", get(stored_network_full))
        .with_state(std::sync::Arc::new(data_dir))
}

type DataDir = std::sync::Arc<std::path::PathBuf>;

/// Endpoints persisted by an engine, or none when no `sdn.sqlite` exists (never created
/// here: a read must not leave files behind).
fn stored_endpoints(dir: &std::path::Path) -> Vec<Endpoint> {
    if !dir.join(crate::store::FILE_NAME).exists() {
        return Vec::new();
    }
    crate::store::Store::open(dir)
        .and_then(|s| s.load())
        .unwrap_or_default()
}

/// True when `query` (an IPv4/IPv6 address, a MAC or an id) names a node built from a
/// host; endpoints are matched by [`Endpoint::matches`].
fn node_matches(n: &Node, query: &str) -> bool {
    let q = query.trim().to_ascii_lowercase();
    let same_ip = |a: &str| {
        !a.is_empty()
            && match (a.parse::<std::net::IpAddr>(), q.parse::<std::net::IpAddr>()) {
                (Ok(x), Ok(y)) => x == y,
                _ => false,
            }
    };
    n.hash_id == q
        || (!n.mac.is_empty() && n.mac.to_ascii_lowercase() == q)
        || same_ip(&n.ipv4_address)
        || same_ip(&n.ipv6_address)
}

async fn stored_network(State(dir): State<DataDir>) -> axum::Json<Network> {
    stored_network_of(dir, None).await
}

async fn stored_network_ip(
    State(dir): State<DataDir>,
    Path(ip): Path<String>,
) -> axum::Json<Network> {
    stored_network_of(dir, Some(ip)).await
}

async fn stored_network_of(dir: DataDir, query: Option<String>) -> axum::Json<Network> {
    let d = dir.clone();
    let endpoints = tokio::task::spawn_blocking(move || stored_endpoints(&d))
        .await
        .unwrap_or_default();
    network_of(endpoints, dir.as_ref().clone(), query).await
}

async fn stored_network_full(State(dir): State<DataDir>) -> axum::Json<NetworkFull> {
    let dataset =
        tokio::task::spawn_blocking(move || stored_endpoints(&dir).iter().map(full_node).collect())
            .await
            .unwrap_or_default();
    axum::Json(NetworkFull { dataset })
}
