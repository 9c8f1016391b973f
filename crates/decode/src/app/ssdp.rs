//! SSDP (UPnP discovery, UDP 1900): NOTIFY and M-SEARCH requests and search responses, read
//! with httparse.
//!
//! SSDP is HTTP/1.1 over UDP (UPnP Device Architecture 2.0, section 1). Header names are
//! case-insensitive and devices write them in any case (`LOCATION`, `Location`).

use super::SsdpHint;
use super::text::display;

/// Header slots given to httparse; SSDP messages carry about ten.
const MAX_SSDP_HEADERS: usize = 32;
/// How a search response starts.
const RESPONSE_PREFIX: &[u8] = b"HTTP/";
/// [`SsdpHint::kind`] of a search response.
const KIND_RESPONSE: &str = "RESPONSE";

/// Parses an SSDP message. `None` unless its first line is complete.
pub(crate) fn parse(payload: &[u8]) -> Option<SsdpHint> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_SSDP_HEADERS];
    let (kind, headers) = if payload.starts_with(RESPONSE_PREFIX) {
        let mut resp = httparse::Response::new(&mut headers);
        let _ = resp.parse(payload);
        resp.code?;
        (KIND_RESPONSE.to_owned(), resp.headers)
    } else {
        let mut req = httparse::Request::new(&mut headers);
        let _ = req.parse(payload);
        req.version?;
        (req.method?.to_owned(), req.headers)
    };
    let mut hint = SsdpHint {
        kind,
        ..SsdpHint::default()
    };
    for h in headers.iter().take_while(|h| !h.name.is_empty()) {
        let slot = if h.name.eq_ignore_ascii_case("server") {
            &mut hint.server
        } else if h.name.eq_ignore_ascii_case("location") {
            &mut hint.location
        } else if h.name.eq_ignore_ascii_case("nt") || h.name.eq_ignore_ascii_case("st") {
            &mut hint.target
        } else if h.name.eq_ignore_ascii_case("usn") {
            &mut hint.usn
        } else if h.name.eq_ignore_ascii_case("user-agent") {
            &mut hint.user_agent
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(display(h.value));
        }
    }
    Some(hint)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
pub(crate) mod tests {
    use super::*;

    /// UPnP Device Architecture 2.0, section 1.2.2 (ssdp:alive), with example values.
    pub(crate) const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\
        CACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.10:49152/desc.xml\r\n\
        NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/5.4 UPnP/2.0 MiniDLNA/1.3\r\n\
        USN: uuid:4d696e69-444c-164e-9d41-b827eb0b5a0c::upnp:rootdevice\r\n\r\n";

    /// Section 1.3.2 (M-SEARCH), with a USER-AGENT header.
    pub(crate) const SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\
        MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: Chrome/99 UPnP/1.1\r\n\r\n";

    /// Section 1.3.3 (search response).
    pub(crate) const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=100\r\n\
        Location: http://10.0.0.2:1400/xml/device_description.xml\r\nSERVER: Linux UPnP/1.0 Sonos/70.3\r\n\
        ST: urn:schemas-upnp-org:device:ZonePlayer:1\r\nUSN: uuid:RINCON_1::urn:x\r\n\r\n";

    #[test]
    fn notify() {
        let h = parse(NOTIFY).expect("NOTIFY");
        assert_eq!(h.kind, "NOTIFY");
        assert_eq!(
            h.location.as_deref(),
            Some("http://192.168.1.10:49152/desc.xml")
        );
        assert_eq!(h.target.as_deref(), Some("upnp:rootdevice"));
        assert_eq!(h.server.as_deref(), Some("Linux/5.4 UPnP/2.0 MiniDLNA/1.3"));
        assert_eq!(
            h.usn.as_deref(),
            Some("uuid:4d696e69-444c-164e-9d41-b827eb0b5a0c::upnp:rootdevice")
        );
        assert_eq!(h.user_agent, None);
    }

    #[test]
    fn search_and_response() {
        let h = parse(SEARCH).expect("M-SEARCH");
        assert_eq!(h.kind, "M-SEARCH");
        assert_eq!(h.target.as_deref(), Some("ssdp:all"));
        assert_eq!(h.user_agent.as_deref(), Some("Chrome/99 UPnP/1.1"));
        let h = parse(RESPONSE).expect("response");
        assert_eq!(h.kind, "RESPONSE");
        assert_eq!(
            h.location.as_deref(),
            Some("http://10.0.0.2:1400/xml/device_description.xml")
        );
        assert_eq!(
            h.target.as_deref(),
            Some("urn:schemas-upnp-org:device:ZonePlayer:1")
        );
    }

    #[test]
    fn every_prefix_is_safe() {
        for msg in [NOTIFY, SEARCH, RESPONSE] {
            let full = parse(msg).expect("full");
            for n in 0..=msg.len() {
                if let Some(h) = parse(&msg[..n]) {
                    assert_eq!(h.kind, full.kind);
                    // A header is either absent or complete.
                    for (part, whole) in [(&h.location, &full.location), (&h.usn, &full.usn)] {
                        assert!(part.is_none() || part == whole, "prefix {n}");
                    }
                }
            }
        }
    }
}
