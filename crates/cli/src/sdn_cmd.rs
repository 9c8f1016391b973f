//! `trident sdn`: Poseidon's job on a Faucet network (`trident_sdn`). `run` starts the engine
//! and its HTTP API (plus `trident serve`'s API and dashboard over the same data directory);
//! `show`, `ignore`, `clear`, `change` and `remove` talk to a running instance over HTTP,
//! like Poseidon's shell.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use trident_sdn::config::MirrorBackend;
use trident_sdn::endpoint::{Endpoint, NO_DATA};
use trident_sdn::{Engine, MirrorControl, SdnConfig};

use crate::{EXIT_OK, EXIT_USAGE};

/// Default API address of a running `trident sdn run`.
const DEFAULT_API: &str = "http://127.0.0.1:5000";

#[derive(Args)]
#[command(after_help = "Examples:
  trident sdn run --config trident.toml
  trident sdn run --poseidon-config /opt/poseidon/poseidon.config --listen 127.0.0.1:5000
  trident sdn show all
  trident sdn show state operating
  trident sdn show role developer-workstation
  trident sdn show where 10.0.0.2
  trident sdn show history 56:f8:a0:89:58:d1
  trident sdn ignore 10.0.0.2
  trident sdn change 10.0.0.2 known
  trident sdn acls --rules rules.yaml --faucet-config /etc/faucet/faucet.yaml --dry-run")]
pub struct SdnArgs {
    #[command(subcommand)]
    command: SdnCommand,
}

#[derive(Subcommand)]
enum SdnCommand {
    /// Run the engine: learn endpoints from Faucet, mirror, capture, classify; serve the API.
    Run(RunArgs),
    /// Show endpoints of a running instance.
    Show(ShowArgs),
    /// Ignore endpoints (id, MAC or IP): never scheduled, unmirrored now.
    Ignore(DeviceArgs),
    /// Clear the ignore flag.
    Clear(DeviceArgs),
    /// Fire a state trigger: known, unknown, operate, queue (Poseidon's `task set`).
    Change(ChangeArgs),
    /// Forget endpoints until Faucet reports them again.
    Remove(DeviceArgs),
    /// Apply a Poseidon rules file's ACLs to the ports of a running instance's endpoints
    /// (faucet.yaml `acls_in`), or with --dry-run print the change.
    Acls(AclsArgs),
}

#[derive(Args)]
struct AclsArgs {
    /// Poseidon's rules.yaml (`include`, `rules`).
    #[arg(long, value_name = "FILE")]
    rules: PathBuf,
    /// faucet.yaml to edit.
    #[arg(long, value_name = "FILE")]
    faucet_config: PathBuf,
    /// Print the change (a line diff of faucet.yaml), write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Read endpoints from this data directory's store instead of a running instance.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// `check_faucet_config` to validate with (default: from PATH if there is one).
    #[arg(long, value_name = "FILE")]
    check_faucet_config: Option<PathBuf>,
    #[command(flatten)]
    api: ApiArg,
}

#[derive(Args)]
struct RunArgs {
    /// trident's TOML (the `[sdn]` table).
    #[arg(long, conflicts_with = "poseidon_config")]
    config: Option<PathBuf>,
    /// Poseidon's poseidon.config, read as-is.
    #[arg(long, value_name = "FILE")]
    poseidon_config: Option<PathBuf>,
    /// HTTP address (default: the config's `listen`, 127.0.0.1:5000).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory (endpoint store, captures); overrides the config.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Faucet's event socket; overrides the config (and `FAUCET_EVENT_SOCK`).
    #[arg(long)]
    event_socket: Option<PathBuf>,
    /// faucet.yaml to edit (selects the faucet.yaml mirror back-end).
    #[arg(long)]
    faucet_config: Option<PathBuf>,
    /// Look up reverse DNS names of endpoint addresses (system resolver, cached).
    #[arg(long)]
    rdns: bool,
    /// Automated ACLs: log the `acls_in` changes the rules file asks for, change nothing.
    #[arg(long)]
    acls_dry_run: bool,
    /// Faucet's pid file: send it SIGHUP after each change so it reloads at once.
    #[arg(long, value_name = "FILE")]
    faucet_pid_file: Option<PathBuf>,
    /// Serve only the SDN routes, not `trident serve`'s API and dashboard (loopback only:
    /// these routes are then served without the token check).
    #[arg(long)]
    sdn_only: bool,
    /// Token for every route but /metrics and /api/v1/health (default `$TRIDENT_TOKEN`;
    /// generated and printed when listening on a non-loopback address without one).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
}

#[derive(Args)]
struct ApiArg {
    /// Address of the running instance.
    #[arg(long, default_value = DEFAULT_API)]
    api: String,
}

#[derive(Args)]
struct ShowArgs {
    /// all | state S | role R | os O | what DEV | where DEV | history DEV | status
    #[arg(required = true, num_args = 1..=2)]
    what: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    api: ApiArg,
}

#[derive(Args)]
struct DeviceArgs {
    /// Endpoint id (or 8+ leading digits), MAC or IP.
    device: String,
    #[command(flatten)]
    api: ApiArg,
}

#[derive(Args)]
struct ChangeArgs {
    /// Endpoint id, MAC or IP.
    device: String,
    /// known, unknown, operate (operating), queue (queued).
    state: String,
    #[command(flatten)]
    api: ApiArg,
}

pub fn run(args: &SdnArgs) -> Result<u8> {
    match &args.command {
        SdnCommand::Run(a) => run_engine(a),
        SdnCommand::Show(a) => show(a),
        SdnCommand::Ignore(a) => post(&a.api.api, &a.device, "ignore", None),
        SdnCommand::Clear(a) => post(&a.api.api, &a.device, "clear", None),
        SdnCommand::Change(a) => post(&a.api.api, &a.device, "change", Some(&a.state)),
        SdnCommand::Remove(a) => delete(&a.api.api, &a.device),
        SdnCommand::Acls(a) => acls(a),
    }
}

fn acls(a: &AclsArgs) -> Result<u8> {
    let rules = match trident_sdn::acl::Rules::from_file(&a.rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trident sdn acls: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let endpoints: Vec<Endpoint> = match &a.data_dir {
        Some(dir) => trident_sdn::store::Store::open(dir)?.load()?,
        None => {
            let url = format!("{}/api/v1/sdn/endpoints", a.api.api.trim_end_matches('/'));
            let (status, v) = get_json(&url)?;
            if status != 200 {
                return api_error(status, &v);
            }
            serde_json::from_value(v).with_context(|| format!("reading endpoints from {url}"))?
        }
    };
    let yaml = trident_sdn::yaml::FaucetYaml::new(&a.faucet_config);
    let yaml = match &a.check_faucet_config {
        Some(c) => yaml.with_check(Some(c.clone())),
        None => yaml,
    };
    let report = match trident_sdn::acl::apply_yaml(&rules, &endpoints, &yaml, a.dry_run) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trident sdn acls: {e}");
            return Ok(2);
        }
    };
    let verb = if a.dry_run { "would set" } else { "set" };
    for c in &report.changes {
        println!("{verb} {c}");
    }
    if report.changes.is_empty() {
        println!(
            "no acls_in change needed ({} endpoints, {} rules)",
            endpoints.len(),
            rules.rules.len()
        );
    }
    if a.dry_run {
        for name in &report.includes {
            println!("would copy an included ACL file to {name}");
        }
        print!(
            "{}",
            trident_sdn::acl::line_diff(&report.before, &report.after)
        );
        println!("(dry run: {} unchanged)", a.faucet_config.display());
    }
    Ok(EXIT_OK)
}

fn load_config(a: &RunArgs) -> Result<SdnConfig> {
    let mut cfg = match (&a.config, &a.poseidon_config) {
        (Some(p), _) => SdnConfig::from_toml_file(p)?,
        (None, Some(p)) => SdnConfig::from_poseidon_file(p)?,
        (None, None) => SdnConfig::default(),
    };
    if let Some(d) = &a.data_dir {
        cfg.data_dir = d.clone();
    }
    if let Some(s) = &a.event_socket {
        cfg.event_socket = Some(s.clone());
    }
    if cfg.event_socket.is_none()
        && let Ok(v) = std::env::var("FAUCET_EVENT_SOCK")
        && !v.is_empty()
        && v != "0"
    {
        cfg.event_socket = Some(if v == "1" {
            PathBuf::from("/var/run/faucet/faucet.sock")
        } else {
            PathBuf::from(v)
        });
    }
    if let Some(f) = &a.faucet_config {
        cfg.faucet_config = Some(f.clone());
        cfg.mirror_backend = MirrorBackend::FaucetYaml;
    }
    if let Some(l) = a.listen {
        cfg.listen = l.to_string();
    }
    if a.rdns {
        cfg.rdns = true;
    }
    if a.acls_dry_run {
        cfg.acls_dry_run = true;
    }
    if let Some(p) = &a.faucet_pid_file {
        cfg.faucet_pid_file = Some(p.clone());
    }
    Ok(cfg)
}

fn run_engine(a: &RunArgs) -> Result<u8> {
    let cfg = load_config(a)?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(match cfg.logger_level.to_ascii_uppercase().as_str() {
            "DEBUG" => tracing::Level::DEBUG,
            "WARNING" | "WARN" | "ERROR" | "CRITICAL" => tracing::Level::WARN,
            _ => tracing::Level::INFO,
        })
        .try_init();
    if cfg.event_socket.is_none() && cfg.rabbit.is_none() {
        eprintln!(
            "trident sdn run: no event source: set event_socket (or FAUCET_EVENT_SOCK, --event-socket) or rabbit"
        );
        return Ok(EXIT_USAGE);
    }
    let listen: SocketAddr = cfg
        .listen
        .parse()
        .with_context(|| format!("listen address {:?}", cfg.listen))?;
    if a.sdn_only && !listen.ip().is_loopback() {
        eprintln!(
            "trident sdn run: --sdn-only serves without a token, so it listens on loopback only"
        );
        return Ok(EXIT_USAGE);
    }
    let token = a
        .token
        .clone()
        .or_else(|| std::env::var("TRIDENT_TOKEN").ok())
        .filter(|t| !t.is_empty());
    let token = match token {
        Some(t) => Some(t),
        None if listen.ip().is_loopback() => None,
        None => {
            let t = trident_serve::generate_token().context("generating a token")?;
            eprintln!(
                "trident sdn: token {t} (send `Authorization: Bearer {t}`; set TRIDENT_TOKEN for `trident sdn show`)"
            );
            Some(t)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mirror: Arc<dyn MirrorControl> = match cfg.mirror_backend {
            MirrorBackend::FaucetYaml => {
                let Some(path) = cfg.faucet_config.clone() else {
                    bail!(
                        "the faucet_yaml mirror back-end needs faucet_config (or --faucet-config)"
                    );
                };
                let y = trident_sdn::yaml::FaucetYaml::new(path);
                let y = match &cfg.check_faucet_config {
                    Some(c) => y.with_check(Some(c.clone())),
                    None => y,
                };
                Arc::new(y)
            }
            MirrorBackend::Faucetconfrpc => Arc::new(
                trident_sdn::rpc::ConfRpcClient::connect(&cfg.faucetconfrpc)
                    .await
                    .context("connecting to faucetconfrpc")?,
            ),
        };
        let data_dir = cfg.data_dir.clone();
        let engine = Engine::open(cfg, mirror)?;
        let handle = engine.handle();
        let sdn_routes = trident_sdn::api::router(handle);
        let app = if a.sdn_only {
            sdn_routes
        } else {
            let opts = trident_serve::ServeOptions {
                source: trident_serve::DataSource::Dir(data_dir),
                token: token.clone(),
                max_upload_bytes: trident_serve::DEFAULT_MAX_UPLOAD_MB.saturating_mul(1 << 20),
            };
            let state = trident_serve::AppState::new(opts)
                .map_err(|e| anyhow::anyhow!("opening the data directory: {e}"))?;
            trident_serve::app_with(state, Some(sdn_routes))
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        eprintln!("trident sdn: API on http://{listen}/v1/network");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut stop_engine = stop_rx.clone();
        let engine_task = tokio::spawn(engine.run(async move {
            let _ = stop_engine.wait_for(|v| *v).await;
        }));
        let mut stop_http = stop_rx;
        let http = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_http.wait_for(|v| *v).await;
                })
                .await
        });
        trident_serve::shutdown_signal().await;
        eprintln!("trident sdn: shutting down (removing mirrors)");
        let _ = stop_tx.send(true);
        engine_task.await.context("engine task")??;
        let _ = http.await;
        anyhow::Ok(())
    })?;
    Ok(EXIT_OK)
}

/// `Authorization` for the control routes: `Bearer $TRIDENT_TOKEN` (empty when unset; a
/// loopback instance needs none).
fn bearer() -> String {
    std::env::var("TRIDENT_TOKEN")
        .map(|t| format!("Bearer {t}"))
        .unwrap_or_default()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into()
}

fn get_json(url: &str) -> Result<(u16, serde_json::Value)> {
    let mut resp = agent()
        .get(url)
        .header("Authorization", bearer())
        .call()
        .with_context(|| format!("GET {url} (is `trident sdn run` running?)"))?;
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp
        .body_mut()
        .read_json()
        .with_context(|| format!("reading the answer of {url}"))?;
    Ok((status, v))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn api_error(status: u16, v: &serde_json::Value) -> Result<u8> {
    let msg = v["error"].as_str().unwrap_or("request failed");
    eprintln!("trident sdn: {msg} (HTTP {status})");
    Ok(if status == 404 { 1 } else { 2 })
}

fn show(a: &ShowArgs) -> Result<u8> {
    let base = a.api.api.trim_end_matches('/');
    let kind = a.what[0].as_str();
    let arg = a.what.get(1).map(String::as_str);
    let (url, single) = match (kind, arg) {
        ("all", None) => (format!("{base}/api/v1/sdn/endpoints"), false),
        ("status", None) => (format!("{base}/api/v1/sdn/status"), true),
        ("state", Some(s)) => (
            format!("{base}/api/v1/sdn/endpoints?state={}", enc(s)),
            false,
        ),
        ("role", Some(r)) => (
            format!("{base}/api/v1/sdn/endpoints?role={}", enc(r)),
            false,
        ),
        ("os", Some(o)) => (format!("{base}/api/v1/sdn/endpoints?os={}", enc(o)), false),
        ("what" | "where", Some(d)) => (format!("{base}/api/v1/sdn/endpoints/{}", enc(d)), false),
        ("history", Some(d)) => (
            format!("{base}/api/v1/sdn/endpoints/{}/history", enc(d)),
            true,
        ),
        _ => {
            eprintln!(
                "trident sdn show: use all | state S | role R | os O | what DEV | where DEV | history DEV | status"
            );
            return Ok(EXIT_USAGE);
        }
    };
    let (status, v) = get_json(&url)?;
    if status != 200 {
        return api_error(status, &v);
    }
    if a.json || single && kind == "status" {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(EXIT_OK);
    }
    if kind == "history" {
        for item in v.as_array().into_iter().flatten() {
            println!("{}", item["id"].as_str().unwrap_or(""));
            for h in item["history"].as_array().into_iter().flatten() {
                println!(
                    "  {:<17.3} {:<14} {}",
                    h["time"].as_f64().unwrap_or(0.0),
                    h["kind"].as_str().unwrap_or(""),
                    h["detail"].as_str().unwrap_or("")
                );
            }
        }
        return Ok(EXIT_OK);
    }
    let eps: Vec<Endpoint> = serde_json::from_value(v).context("decoding endpoints")?;
    if kind == "where" {
        println!(
            "{:<8} {:>5} {:<9} {:<15} {:<25} MAC Address",
            "Switch", "Port", "VLAN", "IPv4", "IPv6"
        );
        for e in &eps {
            println!(
                "{:<8} {:>5} {:<9} {:<15} {:<25} {}",
                e.segment,
                e.port,
                e.tenant(),
                e.ipv4.map(|i| i.to_string()).unwrap_or_default(),
                e.ipv6.map(|i| i.to_string()).unwrap_or_default(),
                e.mac
            );
        }
        return Ok(EXIT_OK);
    }
    if kind == "what" {
        for e in &eps {
            println!("{}", serde_json::to_string_pretty(e)?);
        }
        return Ok(EXIT_OK);
    }
    println!(
        "{:<12} {:<17} {:<15} {:<8} {:>4} {:<9} {:<8} {:<28} {:>6} {:<12} Vendor",
        "ID", "MAC Address", "IPv4", "Switch", "Port", "State", "Ignored", "Role", "Conf", "OS"
    );
    for e in &eps {
        let top = e.role_label();
        println!(
            "{:<12} {:<17} {:<15} {:<8} {:>4} {:<9} {:<8} {:<28} {:>6} {:<12} {}",
            &e.id[..e.id.len().min(12)],
            e.mac,
            e.ipv4
                .map(|i| i.to_string())
                .unwrap_or_else(|| NO_DATA.into()),
            e.segment,
            e.port,
            e.state.as_str(),
            if e.ignore { "True" } else { "False" },
            top.as_ref().map_or(NO_DATA, |r| r.0.as_str()),
            top.as_ref()
                .map_or(String::new(), |r| format!("{:.3}", r.1)),
            e.os.as_deref().unwrap_or(NO_DATA),
            e.vendor.as_deref().unwrap_or(NO_DATA)
        );
    }
    Ok(EXIT_OK)
}

fn post(api: &str, device: &str, action: &str, to: Option<&str>) -> Result<u8> {
    let url = format!(
        "{}/api/v1/sdn/endpoints/{}/{action}",
        api.trim_end_matches('/'),
        enc(device)
    );
    let body = match to {
        Some(t) => serde_json::json!({ "to": t }),
        None => serde_json::json!({}),
    };
    let mut resp = agent()
        .post(&url)
        .header("Authorization", bearer())
        .send_json(&body)
        .with_context(|| format!("POST {url} (is `trident sdn run` running?)"))?;
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
    if status != 200 {
        return api_error(status, &v);
    }
    for id in v["ids"].as_array().into_iter().flatten() {
        println!("{action} {}", id.as_str().unwrap_or(""));
    }
    Ok(EXIT_OK)
}

fn delete(api: &str, device: &str) -> Result<u8> {
    let url = format!(
        "{}/api/v1/sdn/endpoints/{}",
        api.trim_end_matches('/'),
        enc(device)
    );
    let mut resp = agent()
        .delete(&url)
        .header("Authorization", bearer())
        .call()
        .with_context(|| format!("DELETE {url} (is `trident sdn run` running?)"))?;
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
    if status != 200 {
        return api_error(status, &v);
    }
    for id in v["ids"].as_array().into_iter().flatten() {
        println!("removed {}", id.as_str().unwrap_or(""));
    }
    Ok(EXIT_OK)
}
