//! Application hints against tshark 4.0 over the shared corpus.
//!
//! For every capture whose MANIFEST features name a protocol with a hint, tshark prints, per
//! frame, the innermost TCP/UDP ports and payload and the fields the hints mirror
//! (`dns.qry.name`, `tls.handshake.ja3_full`, `http.user_agent`, ...). The payload goes through
//! [`trident_decode::app::hint`] and the hint's fields are compared with tshark's.
//!
//! tshark runs with TCP reassembly and IP defragmentation off, because a hint sees one packet:
//! with them on, tshark reports a ClientHello or an HTTP header block on the frame that
//! completes it, which no per-packet decoder can match.
//!
//! These tests need the shared corpus (`CARGO_MANIFEST_DIR/../../../shared`, or the directory
//! in `TRIDENT_SHARED`) and `tshark` on the PATH; without them they fail with a message saying
//! so rather than pass having checked nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use trident_decode::app::{AppHint, MAX_DNS_QUESTIONS, MAX_DNS_RECORDS, hint};
use trident_decode::{TcpInfo, Transport, UdpInfo};

/// Separates the occurrences of one field in tshark's output (a byte no field value holds:
/// tshark escapes control characters).
const AGG: char = '\u{1f}';

/// tshark fields printed per frame, in this order.
const FIELDS: &[&str] = &[
    "frame.number",
    "udp.srcport",
    "udp.dstport",
    "udp.payload",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.payload",
    "icmp.type",
    "icmpv6.type",
    "dns.qry.name",
    "dns.resp.name",
    "dns.resp.type",
    "dns.a",
    "dns.aaaa",
    "tls.handshake.type",
    "tls.handshake.extensions_server_name",
    "tls.handshake.ja3_full",
    "tls.handshake.ja3",
    "http.request.method",
    "http.response.code",
    "http.host",
    "http.user_agent",
    "http.server",
    "http.location",
    "dhcp.option.dhcp",
    "dhcp.option.hostname",
    "dhcp.option.request_list_item",
    "dhcp.hw.mac_addr",
    "dhcpv6.msgtype",
    "dhcpv6.xid",
    "dhcpv6.requested_option_code",
    "dhcpv6.iaaddr.ip",
];

/// The MANIFEST features whose captures are compared.
const FEATURES: &[&str] = &[
    "dns",
    "mdns",
    "dhcp",
    "dhcpv6",
    "ssdp",
    "http-request",
    "tls-clienthello",
];

fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("TRIDENT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        dir.join("corpus/MANIFEST.tsv").is_file(),
        "the app parity tests need the shared corpus: no corpus/MANIFEST.tsv under {} \
         (set TRIDENT_SHARED to the shared directory)",
        dir.display()
    );
    dir
}

/// A corpus capture to compare.
struct Capture {
    path: PathBuf,
    /// Under `damaged/` or tagged `fuzz-crash`/`malformed`: tshark's lenient dissection of
    /// garbled bytes is reported but not required to match.
    damaged: bool,
    /// An uncompressed pcap or pcapng (MANIFEST format `pcap-*` or `pcapng`), which the test
    /// reader in `common` reads, and whose records tshark numbers the same way (not tagged
    /// `count-mismatch`: tshark counts some pcapng custom blocks as frames; nor `tshark-rc=2`:
    /// tshark stops early).
    plain: bool,
}

/// Corpus captures whose features include one of `wanted`.
fn corpus_files(wanted: &[&str]) -> Vec<Capture> {
    let corpus = shared_dir().join("corpus");
    let manifest =
        std::fs::read_to_string(corpus.join("MANIFEST.tsv")).expect("read corpus MANIFEST.tsv");
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(format), Some(features)) = (cols.first(), cols.get(1), cols.get(5))
        else {
            continue;
        };
        let features: Vec<&str> = features.split(',').collect();
        if !features.iter().any(|f| wanted.contains(f)) || path.ends_with(".zst") {
            continue;
        }
        let damaged = path.starts_with("damaged/")
            || features
                .iter()
                .any(|f| *f == "fuzz-crash" || *f == "malformed");
        out.push(Capture {
            path: corpus.join(path),
            damaged,
            plain: format.starts_with("pcap")
                && !features
                    .iter()
                    .any(|f| f.starts_with("count-mismatch") || f.starts_with("tshark-rc=")),
        });
    }
    assert!(
        !out.is_empty(),
        "no corpus captures with features {wanted:?}"
    );
    out
}

/// One frame as tshark printed it: field name -> occurrences.
struct Frame {
    fields: BTreeMap<&'static str, Vec<String>>,
}

impl Frame {
    fn all(&self, name: &str) -> &[String] {
        self.fields.get(name).map_or(&[], Vec::as_slice)
    }
    fn first(&self, name: &str) -> Option<&str> {
        self.all(name).first().map(String::as_str)
    }
    fn last(&self, name: &str) -> Option<&str> {
        self.all(name).last().map(String::as_str)
    }
    fn number(&self) -> &str {
        self.first("frame.number").unwrap_or("?")
    }

    /// The innermost transport and its payload, when the frame has exactly one kind (TCP or
    /// UDP), is not an ICMP error quoting one, and the payload is there.
    fn transport_payload(&self) -> Option<(Transport, Vec<u8>)> {
        if self.first("icmp.type").is_some() || self.first("icmpv6.type").is_some() {
            return None;
        }
        let udp = self.last("udp.srcport").is_some();
        let tcp = self.last("tcp.srcport").is_some();
        let (transport, payload_field) = match (udp, tcp) {
            (true, false) => (
                Transport::Udp(UdpInfo {
                    src_port: self.last("udp.srcport")?.parse().ok()?,
                    dst_port: self.last("udp.dstport")?.parse().ok()?,
                    length: 0,
                }),
                "udp.payload",
            ),
            (false, true) => (
                Transport::Tcp(TcpInfo {
                    src_port: self.last("tcp.srcport")?.parse().ok()?,
                    dst_port: self.last("tcp.dstport")?.parse().ok()?,
                    ..TcpInfo::default()
                }),
                "tcp.payload",
            ),
            _ => return None,
        };
        // With tunnels each layer prints its ports; the payload must belong to the last.
        let ports = self
            .all(if udp { "udp.srcport" } else { "tcp.srcport" })
            .len();
        let payloads = self.all(payload_field);
        if payloads.len() != ports {
            return None;
        }
        Some((transport, unhex(payloads.last()?)?))
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.replace(':', "");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// tshark's frames per capture, shared by the tests running in parallel (they overlap in
/// captures, and tshark is the slow part).
static TSHARK_CACHE: Mutex<BTreeMap<PathBuf, Arc<Vec<Frame>>>> = Mutex::new(BTreeMap::new());

/// tshark's frames of one capture, in file order (run once per capture per test binary).
fn tshark_frames(path: &Path) -> Arc<Vec<Frame>> {
    let cached = TSHARK_CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(path)
        .cloned();
    if let Some(frames) = cached {
        return frames;
    }
    let frames = Arc::new(run_tshark(path));
    TSHARK_CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(path.to_owned(), Arc::clone(&frames));
    frames
}

/// Runs tshark over one capture; frames in file order.
fn run_tshark(path: &Path) -> Vec<Frame> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .args(["-o", "tcp.desegment_tcp_streams:FALSE"])
        .args(["-o", "ip.defragment:FALSE"])
        .args(["-o", "ipv6.defragment:FALSE"])
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "occurrence=a", "-E", "separator=/t"])
        .arg(format!("-Eaggregator={AGG}"));
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("the app parity tests need tshark on the PATH: {e}"));
    // Damaged captures make tshark exit 2 after printing what it could read.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(|line| {
            let mut fields = BTreeMap::new();
            for (name, value) in FIELDS.iter().zip(line.split('\t')) {
                if !value.is_empty() {
                    fields.insert(*name, value.split(AGG).map(str::to_owned).collect());
                }
            }
            Frame { fields }
        })
        .collect()
}

/// Agreement counts for one compared field.
#[derive(Default)]
struct Tally {
    compared: usize,
    agreed: usize,
    damaged_compared: usize,
    damaged_agreed: usize,
    /// tshark has the field on a packet the hint's dispatch covers, but there is no hint.
    missing: usize,
    /// Packets left out of the comparison, by the documented reason.
    excluded: BTreeMap<&'static str, usize>,
    examples: Vec<String>,
}

/// Examples of disagreement printed per field.
const MAX_EXAMPLES: usize = 12;

impl Tally {
    fn add(&mut self, damaged: bool, ours: &str, theirs: &str, at: &str) {
        let ok = ours == theirs;
        if damaged {
            self.damaged_compared += 1;
            self.damaged_agreed += usize::from(ok);
        } else {
            self.compared += 1;
            self.agreed += usize::from(ok);
        }
        if !ok && self.examples.len() < MAX_EXAMPLES {
            self.examples.push(format!(
                "{at}{}: ours {ours:?} tshark {theirs:?}",
                if damaged { " (damaged)" } else { "" }
            ));
        }
    }
}

/// All tallies of one run, by field name.
#[derive(Default)]
struct Report {
    tallies: BTreeMap<&'static str, Tally>,
}

impl Report {
    fn tally(&mut self, field: &'static str) -> &mut Tally {
        self.tallies.entry(field).or_default()
    }

    /// Counts a packet tshark has the field on, in the hint's dispatch, without a hint.
    fn missing(&mut self, field: &'static str, damaged: bool, at: &str) {
        let t = self.tally(field);
        if damaged {
            *t.excluded
                .entry("no hint on a damaged capture")
                .or_default() += 1;
            return;
        }
        t.missing += 1;
        if t.examples.len() < MAX_EXAMPLES {
            t.examples.push(format!("{at}: no hint"));
        }
    }

    /// Counts a packet left out of the comparison of `field` for `reason`.
    fn exclude(&mut self, field: &'static str, reason: &'static str) {
        *self.tally(field).excluded.entry(reason).or_default() += 1;
    }

    fn render(&self) -> String {
        let mut s = String::new();
        for (field, t) in &self.tallies {
            let _ = writeln!(
                s,
                "{field}: clean {}/{} agree, damaged {}/{} agree, missing hints {}, excluded {:?}",
                t.agreed, t.compared, t.damaged_agreed, t.damaged_compared, t.missing, t.excluded
            );
            for e in &t.examples {
                let _ = writeln!(s, "    {e}");
            }
        }
        s
    }

    /// Fails unless every value from a clean capture agrees, no clean packet lacks its hint,
    /// and at least `min` values were compared.
    fn assert_clean(&self, field: &'static str, min: usize) {
        let t = self.tallies.get(field);
        let (compared, agreed, missing) =
            t.map_or((0, 0, 0), |t| (t.compared, t.agreed, t.missing));
        assert_eq!(missing, 0, "{field}: hints missing\n{}", self.render());
        assert!(
            compared >= min,
            "{field}: only {compared} values compared (want >= {min})\n{}",
            self.render()
        );
        assert_eq!(
            agreed,
            compared,
            "{field}: hints disagree with tshark\n{}",
            self.render()
        );
    }
}

fn is_udp_port(t: &Transport, ports: &[u16]) -> bool {
    matches!(t, Transport::Udp(u) if ports.contains(&u.src_port) || ports.contains(&u.dst_port))
}

/// Compares every hint field against tshark over the captures with `features`.
fn run(features: &[&str]) -> Report {
    let mut report = Report::default();
    for Capture { path, damaged, .. } in corpus_files(features) {
        let name = path
            .strip_prefix(shared_dir().join("corpus"))
            .unwrap_or(&path)
            .display()
            .to_string();
        for frame in tshark_frames(&path).iter() {
            let Some((transport, payload)) = frame.transport_payload() else {
                continue;
            };
            let at = format!("{name}#{}", frame.number());
            let h = hint(&transport, &payload);
            compare_dns(&mut report, damaged, &at, frame, &transport, h.as_ref());
            compare_tls(&mut report, damaged, &at, frame, &transport, h.as_ref());
            compare_http(
                &mut report,
                damaged,
                &at,
                frame,
                &transport,
                &payload,
                h.as_ref(),
            );
            compare_dhcp(&mut report, damaged, &at, frame, &transport, h.as_ref());
            compare_dhcpv6(&mut report, damaged, &at, frame, &transport, h.as_ref());
        }
    }
    eprintln!("{}", report.render());
    report
}

fn compare_dns(
    r: &mut Report,
    damaged: bool,
    at: &str,
    frame: &Frame,
    transport: &Transport,
    h: Option<&AppHint>,
) {
    let theirs = frame.all("dns.qry.name");
    let covered = is_udp_port(transport, &[53, 5353])
        || matches!(transport, Transport::Tcp(t) if t.src_port == 53 || t.dst_port == 53);
    if theirs.is_empty() || !covered {
        return;
    }
    let Some(AppHint::Dns(d)) = h else {
        r.missing("dns.qry.name", damaged, at);
        return;
    };
    // A TCP segment may hold several messages; the hint reads the first. A datagram holds
    // one, so every name tshark shows must be there.
    let udp = matches!(transport, Transport::Udp(_));
    let count = if udp {
        MAX_DNS_QUESTIONS
    } else {
        d.questions.len().max(1)
    };
    for (i, theirs) in theirs.iter().enumerate().take(count) {
        let ours = d.questions.get(i).map_or("", |q| q.name.as_str());
        r.tally("dns.qry.name").add(damaged, ours, theirs, at);
    }
    if !udp {
        return;
    }
    // Records: tshark lists owner names and types of every record, OPT included, which the
    // hint skips; A and AAAA data in order.
    let types = frame.all("dns.resp.type");
    let names = frame.all("dns.resp.name");
    if types.len() != names.len() {
        r.exclude(
            "dns.resp.name",
            "tshark prints no dns.resp.name for some types (SRV, RRSIG)",
        );
        return;
    }
    let theirs: Vec<&str> = names
        .iter()
        .zip(types)
        .filter(|(_, t)| t.as_str() != "41")
        .map(|(n, _)| n.as_str())
        .take(MAX_DNS_RECORDS)
        .collect();
    let ours: Vec<&str> = d.answers.iter().map(|a| a.name.as_str()).collect();
    r.tally("dns.resp.name")
        .add(damaged, &ours.join(","), &theirs.join(","), at);
    for (field, rtype) in [("dns.a", 1), ("dns.aaaa", 28)] {
        if theirs.len() == names.len().min(MAX_DNS_RECORDS) {
            let ours: Vec<&str> = d
                .answers
                .iter()
                .filter(|a| a.rtype == rtype)
                .map(|a| a.data.as_str())
                .collect();
            r.tally(field)
                .add(damaged, &ours.join(","), &frame.all(field).join(","), at);
        }
    }
}

fn compare_tls(
    r: &mut Report,
    damaged: bool,
    at: &str,
    frame: &Frame,
    transport: &Transport,
    h: Option<&AppHint>,
) {
    let Some(ja3_full) = frame.first("tls.handshake.ja3_full") else {
        return;
    };
    if !matches!(transport, Transport::Tcp(_)) {
        // QUIC carries its ClientHello in encrypted CRYPTO frames; hints are TCP only.
        r.exclude("tls.handshake.ja3_full", "ClientHello in QUIC");
        return;
    }
    let Some(AppHint::Tls(t)) = h else {
        r.missing("tls.handshake.ja3_full", damaged, at);
        return;
    };
    r.tally("tls.handshake.ja3_full")
        .add(damaged, &t.ja3, ja3_full, at);
    let ja3 = frame.first("tls.handshake.ja3").unwrap_or("");
    r.tally("tls.handshake.ja3")
        .add(damaged, &t.ja3_hash, ja3, at);
    let sni = frame
        .first("tls.handshake.extensions_server_name")
        .unwrap_or("");
    r.tally("tls.handshake.extensions_server_name").add(
        damaged,
        t.sni.as_deref().unwrap_or(""),
        sni,
        at,
    );
}

/// True when the payload's first line is not a complete `METHOD target HTTP/1.x` line: cut by
/// the segment end (very long URLs) or HTTP/0.9 (`GET /`). The hint needs the whole line.
fn request_line_incomplete(payload: &[u8]) -> bool {
    let line_end = payload.iter().position(|&b| b == b'\n');
    let line = line_end.map_or(payload, |end| &payload[..end]);
    line_end.is_none() || !line.windows(7).any(|w| w == b"HTTP/1.")
}

/// True when `name` is the header on the payload's last line and that line is cut (no line
/// end): tshark shows the part present, the hint keeps only complete header lines.
fn header_line_cut(payload: &[u8], name: &str) -> bool {
    let start = payload
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let last = &payload[start..];
    last.len() > name.len() && last[..name.len()].eq_ignore_ascii_case(name.as_bytes())
}

fn compare_http(
    r: &mut Report,
    damaged: bool,
    at: &str,
    frame: &Frame,
    transport: &Transport,
    payload: &[u8],
    h: Option<&AppHint>,
) {
    match (transport, h) {
        (Transport::Tcp(_), h) => {
            let Some(method) = frame.first("http.request.method") else {
                return;
            };
            let Some(AppHint::Http(ours)) = h else {
                if request_line_incomplete(payload) {
                    r.exclude("http.request.method", "request line cut or HTTP/0.9");
                } else {
                    r.missing("http.request.method", damaged, at);
                }
                return;
            };
            r.tally("http.request.method")
                .add(damaged, &ours.method, method, at);
            for (field, ours, header) in [
                ("http.host", &ours.host, "Host:"),
                ("http.user_agent", &ours.user_agent, "User-Agent:"),
            ] {
                let theirs = frame.first(field).unwrap_or("");
                if ours.is_none() && !theirs.is_empty() && header_line_cut(payload, header) {
                    r.exclude(field, "header line cut by the segment end");
                    continue;
                }
                r.tally(field)
                    .add(damaged, ours.as_deref().unwrap_or(""), theirs, at);
            }
        }
        (Transport::Udp(_), h) if is_udp_port(transport, &[1900]) => {
            let kind = match (
                frame.first("http.request.method"),
                frame.first("http.response.code"),
            ) {
                (Some(m), _) => m,
                (None, Some(_)) => "RESPONSE",
                (None, None) => return,
            };
            let Some(AppHint::Ssdp(ours)) = h else {
                r.missing("ssdp.kind", damaged, at);
                return;
            };
            r.tally("ssdp.kind").add(damaged, &ours.kind, kind, at);
            for (field, value) in [
                ("ssdp.server", (&ours.server, "http.server")),
                ("ssdp.location", (&ours.location, "http.location")),
                ("ssdp.user_agent", (&ours.user_agent, "http.user_agent")),
            ] {
                let theirs = frame.first(value.1).unwrap_or("");
                r.tally(field)
                    .add(damaged, value.0.as_deref().unwrap_or(""), theirs, at);
            }
        }
        _ => {}
    }
}

fn compare_dhcp(
    r: &mut Report,
    damaged: bool,
    at: &str,
    frame: &Frame,
    transport: &Transport,
    h: Option<&AppHint>,
) {
    if !is_udp_port(transport, &[67, 68]) || frame.first("dhcp.hw.mac_addr").is_none() {
        return;
    }
    let Some(AppHint::Dhcp(d)) = h else {
        r.missing("dhcp.hw.mac_addr", damaged, at);
        return;
    };
    r.tally("dhcp.hw.mac_addr").add(
        damaged,
        &d.client_mac.to_string(),
        frame.first("dhcp.hw.mac_addr").unwrap_or(""),
        at,
    );
    let msg_type = d.message_type.map(|t| t.to_string()).unwrap_or_default();
    r.tally("dhcp.option.dhcp").add(
        damaged,
        &msg_type,
        frame.first("dhcp.option.dhcp").unwrap_or(""),
        at,
    );
    r.tally("dhcp.option.hostname").add(
        damaged,
        d.hostname.as_deref().unwrap_or(""),
        frame.first("dhcp.option.hostname").unwrap_or(""),
        at,
    );
    r.tally("dhcp.option.request_list_item").add(
        damaged,
        &d.fingerprint(),
        &frame.all("dhcp.option.request_list_item").join(","),
        at,
    );
}

fn compare_dhcpv6(
    r: &mut Report,
    damaged: bool,
    at: &str,
    frame: &Frame,
    transport: &Transport,
    h: Option<&AppHint>,
) {
    if !is_udp_port(transport, &[546, 547]) {
        return;
    }
    // Relayed messages print the relay's type first; the hint describes the innermost.
    let Some(msg_type) = frame.last("dhcpv6.msgtype") else {
        return;
    };
    let Some(AppHint::Dhcpv6(d)) = h else {
        r.missing("dhcpv6.msgtype", damaged, at);
        return;
    };
    r.tally("dhcpv6.msgtype")
        .add(damaged, &d.message_type.to_string(), msg_type, at);
    let xid = frame
        .last("dhcpv6.xid")
        .and_then(|x| u32::from_str_radix(x.trim_start_matches("0x"), 16).ok())
        .map(|x| x.to_string())
        .unwrap_or_default();
    r.tally("dhcpv6.xid")
        .add(damaged, &d.xid.to_string(), &xid, at);
    let oro: Vec<String> = d.option_request.iter().map(u16::to_string).collect();
    r.tally("dhcpv6.requested_option_code").add(
        damaged,
        &oro.join(","),
        &frame.all("dhcpv6.requested_option_code").join(","),
        at,
    );
    let addrs: Vec<String> = d.addresses.iter().map(ToString::to_string).collect();
    r.tally("dhcpv6.iaaddr.ip").add(
        damaged,
        &addrs.join(","),
        &frame.all("dhcpv6.iaaddr.ip").join(","),
        at,
    );
}

#[test]
fn dns_names_match_tshark() {
    let r = run(&["dns", "mdns"]);
    r.assert_clean("dns.qry.name", 500);
    r.assert_clean("dns.resp.name", 500);
    r.assert_clean("dns.a", 500);
    r.assert_clean("dns.aaaa", 500);
}

#[test]
fn tls_sni_and_ja3_match_tshark() {
    let r = run(&["tls-clienthello"]);
    r.assert_clean("tls.handshake.ja3_full", 50);
    r.assert_clean("tls.handshake.ja3", 50);
    r.assert_clean("tls.handshake.extensions_server_name", 50);
}

#[test]
fn http_host_and_user_agent_match_tshark() {
    let r = run(&["http-request"]);
    r.assert_clean("http.request.method", 100);
    r.assert_clean("http.host", 100);
    r.assert_clean("http.user_agent", 100);
}

#[test]
fn dhcp_hostname_and_fingerprint_match_tshark() {
    let r = run(&["dhcp"]);
    r.assert_clean("dhcp.hw.mac_addr", 20);
    r.assert_clean("dhcp.option.dhcp", 20);
    r.assert_clean("dhcp.option.hostname", 20);
    r.assert_clean("dhcp.option.request_list_item", 20);
}

#[test]
fn dhcpv6_matches_tshark() {
    let r = run(&["dhcpv6"]);
    r.assert_clean("dhcpv6.msgtype", 5);
    r.assert_clean("dhcpv6.xid", 5);
    r.assert_clean("dhcpv6.requested_option_code", 5);
    r.assert_clean("dhcpv6.iaaddr.ip", 5);
}

#[test]
fn ssdp_matches_tshark() {
    let r = run(&["ssdp"]);
    r.assert_clean("ssdp.kind", 10);
    r.assert_clean("ssdp.server", 10);
    r.assert_clean("ssdp.location", 10);
    r.assert_clean("ssdp.user_agent", 10);
}

/// The same hints through the whole decoder: each clean, uncompressed capture is read with
/// the test reader in `common`, every frame goes through [`trident_decode::decode`], and its
/// `app` hint must equal the hint made from the payload tshark found for that frame. This
/// checks that the header decoders hand `app::hint` the same transport and payload.
///
/// Frames where the decoder's transport ports differ from tshark's innermost ones (a tunnel
/// tshark unwraps and the decoder does not, such as CAPWAP) are counted apart: there the
/// decoder rightly hints on the outer packet.
#[test]
fn decode_gives_the_same_hints_as_tshark_payloads() {
    let mut compared = 0usize;
    let mut hinted = 0usize;
    let mut other_transport = 0usize;
    let mut differ = Vec::new();
    for Capture {
        path,
        damaged,
        plain,
    } in corpus_files(FEATURES)
    {
        if damaged || !plain {
            continue;
        }
        let frames = common::read_frames(&path);
        let tshark = tshark_frames(&path);
        assert_eq!(
            frames.len(),
            tshark.len(),
            "{}: frame counts",
            path.display()
        );
        for (frame, t) in frames.iter().zip(tshark.iter()) {
            let Some((transport, payload)) = t.transport_payload() else {
                continue;
            };
            let packet = trident_decode::decode(frame.link_type, &frame.data);
            if packet.transport.and_then(|t| t.ports()) != transport.ports() {
                other_transport += 1;
                continue;
            }
            let expected = hint(&transport, &payload);
            let got = packet.app.as_deref();
            compared += 1;
            hinted += usize::from(expected.is_some());
            if got != expected.as_ref() {
                differ.push(format!(
                    "{}#{}: decode {got:?}\n    tshark payload {expected:?}",
                    path.display(),
                    frame.number,
                ));
            }
        }
    }
    eprintln!(
        "{compared} frames compared, {hinted} with hints; {other_transport} with other ports"
    );
    assert!(hinted > 1000, "only {hinted} hinted frames");
    assert!(
        differ.is_empty(),
        "{} frames: decode and tshark payloads give different hints:\n{}",
        differ.len(),
        differ
            .iter()
            .take(MAX_EXAMPLES)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The one published JA4 for a corpus capture: suricata-verify's `tests/ja4-tls` README
/// (OISF/suricata-verify) gives the output of FoxIO's reference `ja4` binary for
/// `tests/ja4-tls/input.pcap`: `ja4: t12i1810s1_27d4652c4487_06a4338d0495`.
#[test]
fn ja4_matches_the_reference_implementation() {
    let path = shared_dir().join("corpus/suricata-verify/ja4-tls/input.pcap");
    let mut found = Vec::new();
    for frame in tshark_frames(&path).iter() {
        if let Some((t, p)) = frame.transport_payload()
            && let Some(AppHint::Tls(h)) = hint(&t, &p)
        {
            found.push(h.ja4);
        }
    }
    assert_eq!(found, ["t12i1810s1_27d4652c4487_06a4338d0495"]);
}

/// Hint throughput over the corpus payloads that carry hints, and over payloads that do not.
/// Run with `cargo test --release -p trident-decode --test app_parity -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release by hand"]
fn hint_throughput() {
    const MIN_SECONDS: f64 = 1.0;
    let mut by_kind: BTreeMap<&'static str, Vec<(Transport, Vec<u8>)>> = BTreeMap::new();
    for Capture { path, damaged, .. } in corpus_files(FEATURES) {
        if damaged {
            continue;
        }
        for frame in tshark_frames(&path).iter() {
            if let Some((t, p)) = frame.transport_payload() {
                let kind = hint(&t, &p).map_or("none", |h| h.name());
                by_kind.entry(kind).or_default().push((t, p));
            }
        }
    }
    for (kind, items) in &by_kind {
        let start = Instant::now();
        let mut calls = 0usize;
        let mut found = 0usize;
        while start.elapsed().as_secs_f64() < MIN_SECONDS {
            for (t, p) in items {
                found += usize::from(std::hint::black_box(hint(t, p)).is_some());
            }
            calls += items.len();
        }
        let rate = calls as f64 / start.elapsed().as_secs_f64();
        eprintln!(
            "{kind:>7}: {:>6} payloads, {rate:>12.0} hints/s ({found} found)",
            items.len()
        );
    }
}
