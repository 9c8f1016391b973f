//! Helpers shared by the integration tests: finding the shared data, reading the networkML
//! goldens, comparing JSON text with a numeric tolerance.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use trident_classify::networkml::FrameFields;
use trident_types::MacAddr;

pub mod frames;

/// The shared data directory: `$TRIDENT_SHARED`, else `<repo>/../shared`. Panics with a
/// clear message when absent: the parity tests must not pass vacuously.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("TRIDENT_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        dir.join("networkml/golden").is_dir(),
        "shared data not found at {} (set TRIDENT_SHARED to the directory holding networkml/golden)",
        dir.display()
    );
    dir
}

/// The golden directory.
pub fn golden_dir() -> PathBuf {
    shared_dir().join("networkml/golden")
}

/// Names of the golden pcaps (the `runs/` directory names), sorted.
pub fn golden_pcaps() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(golden_dir().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "expected the six golden runs");
    names
}

/// Reads a gzip'd text file.
pub fn read_gz(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// Reads a gzip'd CSV into header + rows of name -> text.
pub fn read_csv_gz(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = read_gz(path);
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The golden `combined.csv.gz` row for a pcap (keyed by the `pcap` column).
pub fn golden_feature_row(pcap: &str) -> BTreeMap<String, String> {
    read_csv_gz(&golden_dir().join("combined.csv.gz"))
        .into_iter()
        .find(|r| r.get("pcap").map(String::as_str) == Some(pcap))
        .unwrap_or_else(|| panic!("no combined.csv.gz row for {pcap}"))
}

/// A JSON token for comparison.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Punct(char),
    Str(String),
    Num(f64, String),
    Word(String),
}

fn tokenize(s: &str) -> Vec<Token> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c == '"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Str(s[start..i].to_owned()));
        } else if c == '-' || c.is_ascii_digit() {
            let start = i;
            while i < b.len()
                && (b[i] as char == '-'
                    || b[i] as char == '+'
                    || b[i] as char == '.'
                    || b[i] as char == 'e'
                    || b[i] as char == 'E'
                    || (b[i] as char).is_ascii_digit())
            {
                i += 1;
            }
            let t = &s[start..i];
            out.push(Token::Num(t.parse().unwrap(), t.to_owned()));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && (b[i] as char).is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(s[start..i].to_owned()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// Outcome of comparing two JSON texts token by token.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonDiff {
    /// Numbers compared.
    pub numbers: usize,
    /// Numbers whose text was identical.
    pub identical_numbers: usize,
    /// Largest absolute difference between numbers.
    pub max_abs_diff: f64,
}

/// Compares `got` with `want` token by token: punctuation (so separators), strings (so
/// field names and their order) and literals must be identical, numbers within `tol`.
pub fn compare_json_text(got: &str, want: &str, tol: f64) -> Result<JsonDiff, String> {
    let (g, w) = (tokenize(got), tokenize(want));
    if g.len() != w.len() {
        return Err(format!(
            "token count {} vs {}:\n got {got}\nwant {want}",
            g.len(),
            w.len()
        ));
    }
    let mut d = JsonDiff::default();
    for (a, b) in g.iter().zip(&w) {
        match (a, b) {
            (Token::Num(x, xt), Token::Num(y, yt)) => {
                d.numbers += 1;
                if xt == yt {
                    d.identical_numbers += 1;
                }
                let diff = (x - y).abs();
                d.max_abs_diff = d.max_abs_diff.max(diff);
                if diff > tol {
                    return Err(format!("number {xt} vs {yt} differs by {diff}"));
                }
            }
            _ if a == b => {}
            _ => return Err(format!("token {a:?} vs {b:?}:\n got {got}\nwant {want}")),
        }
    }
    // Whitespace between tokens must match too (json.dumps separators).
    let strip = |s: &str| {
        s.split('"')
            .step_by(2)
            .map(|p| p.replace(|c: char| !c.is_whitespace(), ""))
            .collect::<Vec<_>>()
            .concat()
    };
    if strip(got) != strip(want) {
        return Err("whitespace outside strings differs".to_owned());
    }
    Ok(d)
}

pub fn hex(s: &str) -> Option<u16> {
    s.strip_prefix("0x")
        .and_then(|h| u16::from_str_radix(h, 16).ok())
}

pub fn nanos(s: &str) -> i64 {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let neg = secs.starts_with('-');
    let secs: i64 = secs.trim_start_matches('-').parse().unwrap();
    let frac: i64 = format!("{frac:0<9}")[..9].parse().unwrap();
    let v = secs * 1_000_000_000 + frac;
    if neg { -v } else { v }
}

pub fn mac(s: &str) -> Option<MacAddr> {
    let b: Vec<u8> = s
        .split(':')
        .map(|p| u8::from_str_radix(p, 16).unwrap())
        .collect();
    MacAddr::from_slice(&b)
}

/// Frame fields from one row of networkML's packet CSV (tshark 4.0.17 value formats).
pub fn fields_from_csv(row: &BTreeMap<String, String>) -> FrameFields {
    let get = |k: &str| row.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let int = |k: &str| get(k).map(|v| v.parse::<u64>().unwrap());
    let mut protocols = 0u8;
    let tokens: Vec<&str> = get("frame.protocols").unwrap_or("").split(':').collect();
    // Bit i of networkML's mask is protocol i of (tcp, udp, icmp, arp, icmpv6, gre, esp, ah).
    for (bit, name) in ["tcp", "udp", "icmp", "arp", "icmpv6", "gre", "esp", "ah"]
        .iter()
        .enumerate()
    {
        // Only the 30 imported columns count as row keys (§4.1).
        let key_present = match *name {
            "tcp" => get("tcp.flags")
                .or(get("tcp.srcport"))
                .or(get("tcp.dstport"))
                .is_some(),
            "udp" => get("udp.srcport").or(get("udp.dstport")).is_some(),
            "icmp" => get("icmp.code").is_some(),
            "arp" => get("arp.opcode").is_some(),
            "icmpv6" => get("icmpv6.code").is_some(),
            "gre" => get("gre.proto").is_some(),
            _ => false,
        };
        if tokens.contains(name) || key_present {
            protocols |= 1 << bit;
        }
    }
    FrameFields {
        number: 0,
        ts_nanos: nanos(get("frame.time_epoch").unwrap()),
        delta_nanos: nanos(get("frame.time_delta_displayed").unwrap()),
        frame_len: u32::try_from(int("frame.len").unwrap()).unwrap(),
        eth_src: get("eth.src").and_then(mac),
        eth_dst: get("eth.dst").and_then(mac),
        eth_type: get("eth.type").and_then(hex),
        vlan_id: int("vlan.id").map(|v| u16::try_from(v).unwrap()),
        ip_version: int("ip.version").map(|v| u8::try_from(v).unwrap()),
        ip_src: get("ip.src").map(|v| v.parse::<Ipv4Addr>().unwrap()),
        ip_dst: get("ip.dst").map(|v| v.parse::<Ipv4Addr>().unwrap()),
        ipv6_src: get("ipv6.src").map(|v| v.parse::<Ipv6Addr>().unwrap()),
        ipv6_dst: get("ipv6.dst").map(|v| v.parse::<Ipv6Addr>().unwrap()),
        ip_proto: int("ip.proto").map(|v| u8::try_from(v).unwrap()),
        // No tshark column: networkML does not read it.
        ipv6_upper_proto: None,
        ip_dsfield: get("ip.dsfield")
            .and_then(hex)
            .map(|v| u8::try_from(v).unwrap()),
        // tshark 4.0.17 prints the three flag bits; as a raw word they sit in bits 13-15.
        ip_off: get("ip.flags").and_then(hex).map(|v| v << 13),
        tcp_flags: get("tcp.flags").and_then(hex),
        tcp_srcport: int("tcp.srcport").map(|v| u16::try_from(v).unwrap()),
        tcp_dstport: int("tcp.dstport").map(|v| u16::try_from(v).unwrap()),
        udp_srcport: int("udp.srcport").map(|v| u16::try_from(v).unwrap()),
        udp_dstport: int("udp.dstport").map(|v| u16::try_from(v).unwrap()),
        arp_opcode: int("arp.opcode").map(|v| u16::try_from(v).unwrap()),
        icmp_code: int("icmp.code").map(|v| u8::try_from(v).unwrap()),
        icmpv6_code: int("icmpv6.code").map(|v| u8::try_from(v).unwrap()),
        gre_proto: get("gre.proto").and_then(hex),
        protocols,
    }
}
