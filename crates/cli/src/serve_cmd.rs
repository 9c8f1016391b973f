//! `trident serve`: the REST API, the dashboard and Prometheus metrics over the index
//! (`trident_serve`), optionally ingesting captures first.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use trident_capture::{Input, expand_inputs};
use trident_serve::{AppState, DataSource, PathOutcome, ServeOptions};

use crate::ingest_cmd::{DEFAULT_DATA_DIR, StoreArgs};
use crate::{EXIT_OK, EXIT_USAGE};

/// Bytes per MiB.
const MIB: u64 = 1024 * 1024;

#[derive(Args)]
#[command(after_help = "Examples:
  trident serve --ingest samples/              index the bundled captures, then serve them
  trident serve --data-dir /srv/idx            serve an existing index on 127.0.0.1:8080
  trident serve --listen 0.0.0.0:8080          any address but loopback needs a token (printed)
  trident serve --store redis://127.0.0.1:6379/0   counts only, from potiron's Redis layout")]
pub struct ServeArgs {
    /// Address to listen on. Any address but loopback needs a token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Captures or directories to ingest before serving (files already ingested are skipped).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    ingest: Vec<PathBuf>,
    /// Token clients must send (`Authorization: Bearer`); default `$TRIDENT_TOKEN`, else one
    /// is generated and printed when listening on a non-loopback address.
    #[arg(long)]
    token: Option<String>,
    /// Largest accepted capture upload, in MiB.
    #[arg(long, default_value_t = trident_serve::DEFAULT_MAX_UPLOAD_MB)]
    max_upload_mb: u64,
}

pub fn run(args: &ServeArgs) -> Result<u8> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    let source = match args.store.store.as_deref() {
        Some(url) if url.starts_with("redis") || url.starts_with("unix:") => {
            if !args.ingest.is_empty() {
                eprintln!(
                    "trident serve: --ingest needs the embedded store; fill Redis with `trident ingest --store {url}`"
                );
                return Ok(EXIT_USAGE);
            }
            DataSource::Redis(url.to_owned())
        }
        Some(other) => bail!(
            "unknown store {other:?}: use redis://host:port[/db], unix:///path.sock, or --data-dir for the embedded store"
        ),
        None => DataSource::Dir(
            args.store
                .data_dir
                .clone()
                .or_else(|| std::env::var_os("TRIDENT_DATA").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        ),
    };
    if args.max_upload_mb == 0 {
        eprintln!("trident serve: --max-upload-mb must be at least 1");
        return Ok(EXIT_USAGE);
    }
    let token = args
        .token
        .clone()
        .or_else(|| std::env::var("TRIDENT_TOKEN").ok())
        .filter(|t| !t.is_empty());
    let loopback = args.listen.ip().is_loopback();
    let token = match token {
        Some(t) => Some(t),
        None if loopback => None,
        None => Some(trident_serve::generate_token().context("generating a token")?),
    };
    if let DataSource::Dir(dir) = &source {
        if !args.ingest.is_empty() {
            ingest_first(dir, &args.ingest)?;
        }
    }
    let opts = ServeOptions {
        source,
        token: token.clone(),
        max_upload_bytes: args.max_upload_mb.saturating_mul(MIB),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let state = AppState::new(opts).map_err(|e| anyhow::anyhow!("{e}"))?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().unwrap_or(args.listen);
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        match &token {
            Some(t) => {
                eprintln!("trident serve: token {t} (send `Authorization: Bearer {t}`)");
                println!("open http://{host}:{}/?token={t}", addr.port());
            }
            None => println!("open http://{host}:{}/", addr.port()),
        }
        trident_serve::serve(listener, state)
            .await
            .context("serving")?;
        anyhow::Ok(())
    })?;
    Ok(EXIT_OK)
}

/// Ingests `--ingest` paths into the embedded store before serving.
fn ingest_first(dir: &std::path::Path, paths: &[PathBuf]) -> Result<()> {
    let mut store = trident_index::SqliteStore::open(dir)
        .with_context(|| format!("opening the store in {}", dir.display()))?;
    let (inputs, errors) = expand_inputs(paths);
    for e in errors {
        eprintln!("trident serve: {e}");
    }
    for input in inputs {
        let Input::File(path) = input else {
            continue;
        };
        match trident_serve::ingest_path(&mut store, &path, None) {
            Ok((PathOutcome::Ingested { packets }, damage)) => {
                eprintln!(
                    "trident serve: ingested {} ({packets} packets)",
                    path.display()
                );
                if let Some(d) = damage {
                    eprintln!(
                        "trident serve: {}: damaged, counted up to the damage: {d}",
                        path.display()
                    );
                }
            }
            Ok((PathOutcome::Skipped, _)) => {
                eprintln!("trident serve: {} already ingested", path.display());
            }
            Err(trident_index::IndexError::Capture { source, .. })
                if !paths.contains(&path)
                    && matches!(
                        source.kind,
                        trident_capture::CaptureErrorKind::UnknownFormat { .. }
                    ) =>
            {
                // A file met while walking a directory may be anything (README, LICENSES.md).
            }
            Err(e) => eprintln!("trident serve: {}: not ingested: {e}", path.display()),
        }
    }
    Ok(())
}
