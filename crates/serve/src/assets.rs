//! The web dashboard: hand-written HTML, CSS and JavaScript modules under `assets/`,
//! embedded in the binary at compile time so that `cargo build` alone produces the whole
//! application (no CDN, no build step, works offline).
//!
//! Every file is answered with its Content-Type, a strong `ETag` (a hash computed at compile
//! time) and `Cache-Control: no-cache`, so browsers revalidate cheaply and always see the
//! files of the running binary. `If-None-Match` answers `304 Not Modified`.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file.
struct Asset {
    /// Path under `assets/` and under the `/assets/` URL prefix.
    path: &'static str,
    /// The file's bytes.
    body: &'static [u8],
    /// Its Content-Type.
    content_type: &'static str,
    /// FNV-1a hash of the bytes, the ETag.
    hash: u64,
}

/// FNV-1a, 64 bits: evaluated at compile time for each asset's ETag.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        Asset {
            path: $path,
            body: include_bytes!(concat!("../assets/", $path)),
            content_type: $ct,
            hash: fnv1a(include_bytes!(concat!("../assets/", $path))),
        }
    };
}

/// Every file of the dashboard. A test checks this list against the `assets/` directory.
static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("app.css", CSS),
    asset!("favicon.svg", SVG),
    asset!("js/api.js", JS),
    asset!("js/app.js", JS),
    asset!("js/charts.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/fmt.js", JS),
    asset!("js/views/captures.js", JS),
    asset!("js/views/host.js", JS),
    asset!("js/views/hosts.js", JS),
    asset!("js/views/overview.js", JS),
    asset!("js/views/potiron.js", JS),
];

/// The page's Content-Security-Policy: only this origin's scripts, styles and API.
/// Inline styles are allowed because charts set SVG `style` attributes.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Answers one asset, or 304 when the client's copy is current.
fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", asset.hash);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if fresh {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if asset.content_type == HTML {
        out.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        out.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    (StatusCode::OK, out, asset.body).into_response()
}

fn not_found(path: &str) -> Response {
    // Only the asset name is echoed, and only when it is short and printable.
    let shown: String = path.chars().take(100).filter(|c| !c.is_control()).collect();
    let body = serde_json::json!({
        "error": "not_found",
        "detail": format!("no dashboard file {shown:?}"),
    });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn index(headers: HeaderMap) -> Response {
    match find("index.html") {
        Some(a) => serve(a, &headers),
        None => not_found("index.html"),
    }
}

async fn favicon(headers: HeaderMap) -> Response {
    match find("favicon.svg") {
        Some(a) => serve(a, &headers),
        None => not_found("favicon.svg"),
    }
}

async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // Lookup is in the embedded table only: no request path ever reaches the filesystem.
    match find(&path) {
        Some(a) => serve(a, &headers),
        None => not_found(&path),
    }
}

/// The dashboard's routes: `/` (and `/index.html`) for the page, `/assets/*` for its files,
/// `/favicon.ico` for the icon. Merge it into the API router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/favicon.ico", get(favicon))
        .route("/assets/{*path}", get(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use std::collections::BTreeSet;
    use tower::ServiceExt;

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
    }

    fn walk(root: &std::path::Path, sub: &std::path::Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(root.join(sub)).unwrap() {
            let entry = entry.unwrap();
            let rel = sub.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                walk(root, &rel, out);
            } else {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_is_embedded_and_every_embedded_file_exists() {
        let mut on_disk = BTreeSet::new();
        walk(&dir(), std::path::Path::new(""), &mut on_disk);
        let listed: BTreeSet<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        assert_eq!(on_disk, listed, "assets/ and ASSETS differ");
    }

    /// Every relative import and every /assets/ reference names an embedded file.
    #[test]
    fn references_resolve() {
        for a in ASSETS {
            let text = std::str::from_utf8(a.body).unwrap();
            let base = a.path.rsplit_once('/').map_or("", |(d, _)| d);
            for part in text.split("from '").skip(1) {
                let target = &part[..part.find('\'').unwrap()];
                let mut segs: Vec<&str> = if base.is_empty() {
                    vec![]
                } else {
                    base.split('/').collect()
                };
                for seg in target.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            segs.pop();
                        }
                        s => segs.push(s),
                    }
                }
                let resolved = segs.join("/");
                assert!(
                    find(&resolved).is_some(),
                    "{} imports {target} ({resolved}), not embedded",
                    a.path
                );
            }
            for part in text.split("\"/assets/").skip(1) {
                let target = &part[..part.find('"').unwrap()];
                assert!(find(target).is_some(), "{} links /assets/{target}", a.path);
            }
        }
    }

    #[test]
    fn no_third_party_urls() {
        for a in ASSETS {
            let text = std::str::from_utf8(a.body).unwrap();
            for bad in ["http://", "https://", "//cdn", "@import"] {
                let ok = text
                    .match_indices(bad)
                    .all(|(i, _)| text[i..].starts_with("http://www.w3.org/2000/svg"));
                assert!(ok, "{} refers to {bad}", a.path);
            }
        }
    }

    async fn call(uri: &str, etag: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = Request::builder().uri(uri);
        if let Some(e) = etag {
            req = req.header(header::IF_NONE_MATCH, e);
        }
        let res = router::<()>()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, headers, body)
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn serves_index_with_type_etag_and_304() {
        run(async {
            let (status, headers, body) = call("/", None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[header::CONTENT_TYPE], HTML);
            assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
            assert!(
                String::from_utf8(body)
                    .unwrap()
                    .contains("/assets/js/app.js")
            );
            let etag = headers[header::ETAG].to_str().unwrap().to_string();
            let (status, headers, body) = call("/", Some(&etag)).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED);
            assert!(body.is_empty());
            assert_eq!(headers[header::ETAG].to_str().unwrap(), etag);
            let (status, ..) = call("/", Some("\"0000000000000000\"")).await;
            assert_eq!(status, StatusCode::OK);
        });
    }

    #[test]
    fn serves_each_asset_with_its_type() {
        run(async {
            for (uri, ct) in [
                ("/assets/app.css", CSS),
                ("/assets/js/app.js", JS),
                ("/assets/js/views/hosts.js", JS),
                ("/assets/favicon.svg", SVG),
                ("/favicon.ico", SVG),
            ] {
                let (status, headers, body) = call(uri, None).await;
                assert_eq!(status, StatusCode::OK, "{uri}");
                assert_eq!(headers[header::CONTENT_TYPE], ct, "{uri}");
                assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
                assert!(!body.is_empty());
            }
        });
    }

    #[test]
    fn unknown_and_escaping_paths_are_404_json() {
        run(async {
            for uri in [
                "/assets/nope.js",
                "/assets/../Cargo.toml",
                "/assets/%2e%2e/src/lib.rs",
                "/assets/js",
                "/assets//etc/passwd",
            ] {
                let (status, headers, body) = call(uri, None).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
                assert!(
                    headers[header::CONTENT_TYPE]
                        .to_str()
                        .unwrap()
                        .starts_with("application/json")
                );
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["error"], "not_found");
            }
        });
    }
}
