//! The token check for non-loopback listeners.
//!
//! Every route but `/metrics` and `/api/v1/health` needs the token, as
//! `Authorization: Bearer <token>`, as the `trident_token` cookie, or as `?token=` once: a
//! request carrying the right `?token=` also gets the cookie (HttpOnly, SameSite=Strict), so a
//! browser opening the printed URL keeps working without the token in later URLs.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The cookie that carries the token for the dashboard.
pub const COOKIE: &str = "trident_token";

/// Routes open without a token.
const OPEN_PATHS: [&str; 2] = ["/metrics", "/api/v1/health"];

/// Bytes of a generated token (hex-encoded: twice as many characters).
const TOKEN_BYTES: usize = 24;

/// A fresh random token.
///
/// # Errors
/// The system's random source failed.
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut b = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Compares without an early exit, so timing tells nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn cookie(req: &Request) -> Option<&str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

fn query_token(req: &Request) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let v = kv.strip_prefix("token=")?;
        Some(percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if c == b'+' { b' ' } else { c });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Middleware: lets a request through when no token is configured, the path is open, or
/// the request carries the token.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = state.inner.opts.token.clone() else {
        return next.run(req).await;
    };
    if OPEN_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let t = token.as_bytes();
    if bearer(&req).is_some_and(|b| same(b.as_bytes(), t))
        || cookie(&req).is_some_and(|c| same(c.as_bytes(), t))
    {
        return next.run(req).await;
    }
    if query_token(&req).is_some_and(|q| same(q.as_bytes(), t)) {
        let mut resp = next.run(req).await;
        let c = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        return resp;
    }
    ApiError::Unauthorized(
        "this server needs a token: send `Authorization: Bearer <token>` (the token was printed when the server started, or set with --token / TRIDENT_TOKEN)".to_owned(),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_and_decode() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(
            generate_token().map(|t| t.len()).ok(),
            Some(TOKEN_BYTES * 2)
        );
    }
}
