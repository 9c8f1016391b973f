//! Shared setup of the API tests: a store filled from the repository's samples and a few
//! corpus captures, and one-request helpers over `oneshot`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use trident_serve::{AppState, DataSource, ServeOptions};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared corpus (`../shared/corpus` beside the repository).
pub fn corpus() -> PathBuf {
    repo().join("../shared/corpus")
}

/// A fresh, empty directory under the system's temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "trident-serve-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The captures every filled store holds: the samples and three corpus captures.
pub fn fill_paths() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("samples"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    for rel in [
        "made/sites.pcapng.gz",
        "ndpi/dns.pcap",
        "ndpi/443-chrome.pcap",
    ] {
        let p = corpus().join(rel);
        assert!(p.is_file(), "corpus capture {} is missing", p.display());
        v.push(p);
    }
    v
}

/// A data directory filled with [`fill_paths`].
pub fn filled_dir(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let mut store = trident_index::SqliteStore::open(&dir).unwrap();
    for p in fill_paths() {
        let (o, _) = trident_serve::ingest_path(&mut store, &p, None).unwrap();
        assert!(
            matches!(o, trident_serve::PathOutcome::Ingested { .. }),
            "{}",
            p.display()
        );
    }
    dir
}

/// Options over a data directory.
pub fn options(dir: &Path) -> ServeOptions {
    ServeOptions {
        source: DataSource::Dir(dir.to_owned()),
        token: None,
        max_upload_bytes: 64 * 1024 * 1024,
    }
}

/// The application over these options.
pub fn app_with(opts: ServeOptions) -> Router {
    trident_serve::app(AppState::new(opts).unwrap())
}

/// One answer: status, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts an error answer of this status and code, returns its detail.
    pub fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let j = self.json();
        assert_eq!(j["error"], code, "{j}");
        let d = j["detail"].as_str().unwrap().to_owned();
        assert!(!d.is_empty());
        d
    }
}

/// Sends one request.
pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// GET a path.
pub async fn get(app: &Router, path: &str) -> Answer {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

/// GET a path, expecting 200 and JSON.
pub async fn get_ok(app: &Router, path: &str) -> serde_json::Value {
    let a = get(app, path).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

/// A request with a method and a body.
pub async fn call(app: &Router, method: &str, path: &str, body: Vec<u8>) -> Answer {
    send(
        app,
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/octet-stream")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}
