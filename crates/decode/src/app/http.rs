//! HTTP/1.x requests, read with httparse.
//!
//! A request whose headers continue in the next segment makes httparse return `Partial`; it has
//! by then filled in the request line and every header line it completed, so those are kept.
//! The same holds when it stops on an invalid header line or on more headers than
//! [`MAX_HTTP_HEADERS`]: what came before is kept.

use super::HttpHint;
use super::text::display;

/// Header slots given to httparse; headers past them are not read.
pub(crate) const MAX_HTTP_HEADERS: usize = 64;

/// The request methods recognised at the start of a TCP payload, each with its space.
const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// True when `payload` starts with one of the methods above and a space: the cheap test
/// [`super::hint`] runs before parsing.
#[must_use]
pub(crate) fn starts_with_method(payload: &[u8]) -> bool {
    METHODS.iter().any(|m| payload.starts_with(m))
}

/// Parses a request at the start of a TCP payload. `None` unless the request line is complete
/// (method, target and `HTTP/1.x`).
pub(crate) fn parse(payload: &[u8]) -> Option<HttpHint> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HTTP_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    // Complete, Partial or an error part way: whatever httparse filled in is used.
    let _ = req.parse(payload);
    let mut hint = HttpHint {
        method: req.method?.to_owned(),
        path: display(req.path?.as_bytes()),
        version: req.version?,
        host: None,
        user_agent: None,
    };
    for h in req.headers.iter().take_while(|h| !h.name.is_empty()) {
        if hint.host.is_none() && h.name.eq_ignore_ascii_case("host") {
            hint.host = Some(display(h.value));
        } else if hint.user_agent.is_none() && h.name.eq_ignore_ascii_case("user-agent") {
            hint.user_agent = Some(display(h.value));
        }
    }
    Some(hint)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
pub(crate) mod tests {
    use super::*;

    pub(crate) const REQUEST: &[u8] = b"GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.com\r\n\
        Accept: */*\r\nUser-Agent: curl/8.5.0\r\nConnection: close\r\n\r\n";

    #[test]
    fn request_fields() {
        let h = parse(REQUEST).expect("valid request");
        assert_eq!(h.method, "GET");
        assert_eq!(h.path, "/index.html?q=1");
        assert_eq!(h.version, 1);
        assert_eq!(h.host.as_deref(), Some("www.example.com"));
        assert_eq!(h.user_agent.as_deref(), Some("curl/8.5.0"));
    }

    #[test]
    fn every_prefix_keeps_the_complete_lines() {
        let request_line_end = REQUEST.windows(2).position(|w| w == b"\r\n").expect("crlf") + 2;
        let host_line_end = request_line_end + b"Host: www.example.com\r\n".len();
        let ua_line_end = REQUEST
            .windows(12)
            .position(|w| w == b"curl/8.5.0\r\n")
            .expect("ua")
            + 12;
        for n in 0..=REQUEST.len() {
            let h = parse(&REQUEST[..n]);
            if n < request_line_end - 2 {
                // Until `HTTP/1.1` is complete there is no version.
                assert!(h.is_none(), "prefix {n}");
                continue;
            }
            let Some(h) = h else {
                assert!(
                    n < request_line_end,
                    "prefix {n}: the request line is complete"
                );
                continue;
            };
            assert_eq!(h.path, "/index.html?q=1");
            if n >= host_line_end {
                assert_eq!(h.host.as_deref(), Some("www.example.com"), "prefix {n}");
            } else {
                assert_eq!(h.host, None, "prefix {n}: a cut header line is not kept");
            }
            if n >= ua_line_end {
                assert_eq!(h.user_agent.as_deref(), Some("curl/8.5.0"), "prefix {n}");
            }
        }
    }

    #[test]
    fn method_detection() {
        assert!(starts_with_method(b"GET / HTTP/1.1"));
        assert!(starts_with_method(b"OPTIONS * HTTP/1.1"));
        assert!(!starts_with_method(b"GETX / HTTP/1.1"));
        assert!(!starts_with_method(b"HTTP/1.1 200 OK"));
        assert!(!starts_with_method(b"GE"));
    }

    #[test]
    fn headers_before_an_invalid_line_are_kept() {
        let h = parse(b"POST /x HTTP/1.0\r\nHost: a.example\r\nBad Header\r\n\r\n").expect("line");
        assert_eq!(h.method, "POST");
        assert_eq!(h.version, 0);
        assert_eq!(h.host.as_deref(), Some("a.example"));
    }
}
