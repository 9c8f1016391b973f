//! Labelling rules: which rows of a dataset are what, decided by the traffic itself (IP,
//! MAC, port, time range, source file), never at random.
//!
//! A rules file is TOML or YAML (by extension: `.yaml`/`.yml` are YAML, anything else
//! TOML):
//!
//! ```toml
//! # Optional: which columns hold addresses, ports and time (defaults cover AntiNex's
//! # columns and `trident decode`'s).
//! [columns]
//! ip = ["ip_src", "ip_dst"]
//! time = "ts"
//!
//! [[rule]]
//! label = "attack"            # required: the label_name
//! value = 1                   # optional label_value (default: 1, 2, … by first use)
//! attack_type = "syn_scan"    # optional
//! ip = ["10.0.0.66", "10.9.0.0/16"]
//! mac = ["02:00:00:00:00:66"]
//! port = [22, "8000-8100"]
//! start = "2026-11-01T10:00:00Z"   # inclusive; RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC)
//! end = "2026-11-01T10:05:00Z"     # exclusive; or epoch seconds
//! file = ["scan-*.csv"]            # source file name (`*` matches any run)
//! ```
//!
//! A rule matches a row when every criterion it gives matches (a list matches when any
//! entry does, in any of the criterion's columns); rules are tried in order and the first
//! match wins. Unknown keys, malformed addresses, ports or times are errors naming the line.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Deserializer};

use crate::StreamError;

/// Default columns holding IP addresses.
pub const IP_COLUMNS: [&str; 10] = [
    "ip_src",
    "ip_dst",
    "ipv6_src",
    "ipv6_dst",
    "arp_psrc",
    "arp_pdst",
    "arp_sender_ip",
    "arp_target_ip",
    "src_ip",
    "dst_ip",
];
/// Default columns holding MAC addresses.
pub const MAC_COLUMNS: [&str; 8] = [
    "eth_src",
    "eth_dst",
    "arp_hwsrc",
    "arp_hwdst",
    "arp_sender_mac",
    "arp_target_mac",
    "src_mac",
    "dst_mac",
];
/// Default columns holding ports.
pub const PORT_COLUMNS: [&str; 8] = [
    "tcp_sport",
    "tcp_dport",
    "udp_sport",
    "udp_dport",
    "sport",
    "dport",
    "src_port",
    "dst_port",
];
/// Default time columns, the first present is used.
pub const TIME_COLUMNS: [&str; 5] = ["ts", "time", "timestamp", "first_ts", "created"];

/// An IP network (`addr` or `addr/prefix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `addr` or `addr/prefix`.
    ///
    /// # Errors
    /// Not an address, or a prefix longer than the address.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| format!("{s:?}: prefix must be 0..={max}"))?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }

    /// True when `ip` is in the network.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, total: u32, prefix: u8) -> u128 {
            let keep = u32::from(prefix);
            if keep == 0 { 0 } else { bits >> (total - keep) }
        }
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(u32::from(n)), 32, self.prefix)
                    == masked(u128::from(u32::from(a)), 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), 128, self.prefix) == masked(u128::from(a), 128, self.prefix)
            }
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for IpNet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IpNet::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A MAC address, normalised to lower-case `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mac(String);

impl Mac {
    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-…`, any case.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split([':', '-']).collect();
        if parts.len() != 6
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return None;
        }
        Some(Mac(parts.join(":").to_ascii_lowercase()))
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Mac::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a MAC address")))
    }
}

/// A port or an inclusive range (`22`, `"8000-8100"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange(pub u16, pub u16);

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum P {
            N(i64),
            S(String),
        }
        let bad = |s: String| {
            serde::de::Error::custom(format!(
                "{s} is not a port or port range (0-65535, \"lo-hi\")"
            ))
        };
        match P::deserialize(d)? {
            P::N(n) => u16::try_from(n)
                .map(|p| PortRange(p, p))
                .map_err(|_| bad(n.to_string())),
            P::S(s) => {
                let (a, b) = s.split_once('-').unwrap_or((&s, &s));
                match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                    (Ok(a), Ok(b)) if a <= b => Ok(PortRange(a, b)),
                    _ => Err(bad(format!("{s:?}"))),
                }
            }
        }
    }
}

/// A point in time, nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeNs(pub i128);

impl<'de> Deserialize<'de> for TimeNs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum T {
            I(i64),
            F(f64),
            S(String),
        }
        let t = T::deserialize(d)?;
        let text = match &t {
            T::I(i) => i.to_string(),
            T::F(f) => f.to_string(),
            T::S(s) => s.clone(),
        };
        parse_time(&text).map(TimeNs).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not a time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" UTC, or epoch seconds)"
            ))
        })
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a time: epoch seconds (integer or decimal), RFC 3339 (`2026-11-01T10:00:00.5Z`,
/// `+02:00` offsets), or `YYYY-MM-DD HH:MM:SS[.frac]` taken as UTC. Nanoseconds since
/// the epoch.
#[must_use]
pub fn parse_time(s: &str) -> Option<i128> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(ns) = parse_epoch(s) {
        return Some(ns);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (y, mo, d) = (i64::from(num(0..4)?), num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut frac_ns: i128 = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        let mut padded = digits.clone();
        padded.truncate(9);
        while padded.len() < 9 {
            padded.push('0');
        }
        frac_ns = padded.parse().ok()?;
        rest = r.get(digits.len()..)?;
    }
    let offset_s: i64 = match rest {
        "" | "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let oh: i64 = o.get(1..3)?.parse().ok()?;
            let om: i64 = o.get(4..6)?.parse().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(sec)
        - offset_s;
    Some(i128::from(secs) * 1_000_000_000 + frac_ns)
}

fn parse_epoch(s: &str) -> Option<i128> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty()
        || !digits.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || digits.len() > 12
    {
        return None;
    }
    let secs: i128 = int.parse().ok()?;
    let mut f: String = frac.chars().take(9).collect();
    while f.len() < 9 {
        f.push('0');
    }
    let ns: i128 = f.parse().ok()?;
    Some(if secs < 0 || int.starts_with('-') {
        secs * 1_000_000_000 - ns
    } else {
        secs * 1_000_000_000 + ns
    })
}

/// Columns named in the rules file, overriding the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnNames {
    /// Columns holding IP addresses.
    pub ip: Option<Vec<String>>,
    /// Columns holding MAC addresses.
    pub mac: Option<Vec<String>>,
    /// Columns holding ports.
    pub port: Option<Vec<String>>,
    /// The column holding each row's time.
    pub time: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The label (`label_name`).
    pub label: String,
    /// The label's value (`label_value`).
    pub value: Option<i64>,
    /// The attack type (`attack_type`).
    pub attack_type: Option<String>,
    /// Any of these addresses or networks, in any IP column.
    #[serde(default)]
    pub ip: Vec<IpNet>,
    /// Any of these MAC addresses, in any MAC column.
    #[serde(default)]
    pub mac: Vec<Mac>,
    /// Any of these ports or ranges, in any port column.
    #[serde(default)]
    pub port: Vec<PortRange>,
    /// Rows at or after this time.
    pub start: Option<TimeNs>,
    /// Rows before this time.
    pub end: Option<TimeNs>,
    /// Rows from a source file whose name matches any of these (`*` wildcards).
    #[serde(default)]
    pub file: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    columns: ColumnNames,
    #[serde(default, alias = "rules")]
    rule: Vec<Rule>,
}

/// A parsed rules file.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Column names in force.
    pub columns: ColumnNames,
    /// The rules, in order.
    pub rules: Vec<Rule>,
}

impl Rules {
    /// Parses rules from text; `name` (the file) is used in errors and picks the syntax.
    ///
    /// # Errors
    /// Syntax errors and invalid values, naming the file, line and field.
    pub fn parse(name: &str, text: &str) -> Result<Self, StreamError> {
        let yaml = Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let f: RulesFile = if yaml {
            serde_norway::from_str(text).map_err(|e| StreamError::Format(format!("{name}: {e}")))?
        } else {
            toml::from_str(text).map_err(|e| StreamError::Format(format!("{name}: {e}")))?
        };
        if f.rule.is_empty() {
            return Err(StreamError::Format(format!(
                "{name}: no rules (add [[rule]] tables with a label and ip, mac, port, start/end or file)"
            )));
        }
        for (i, r) in f.rule.iter().enumerate() {
            let where_ = format!("{name}: rule {} (label {:?})", i + 1, r.label);
            if r.label.is_empty() {
                return Err(StreamError::Format(format!(
                    "{where_}: field label is empty"
                )));
            }
            if r.ip.is_empty()
                && r.mac.is_empty()
                && r.port.is_empty()
                && r.start.is_none()
                && r.end.is_none()
                && r.file.is_empty()
            {
                return Err(StreamError::Format(format!(
                    "{where_}: no criterion (give ip, mac, port, start/end or file)"
                )));
            }
            if let (Some(s), Some(e)) = (r.start, r.end)
                && s >= e
            {
                return Err(StreamError::Format(format!(
                    "{where_}: field end is not after field start"
                )));
            }
        }
        Ok(Rules {
            columns: f.columns,
            rules: f.rule,
        })
    }

    /// Label values: each rule's `value`, else the default label's value for the default
    /// label, else 1, 2, … in order of first use. A label given two values is an error.
    ///
    /// # Errors
    /// A label with two values.
    pub fn label_values(
        &self,
        name: &str,
        default_label: &str,
        default_value: i64,
    ) -> Result<BTreeMap<String, i64>, StreamError> {
        let mut out = BTreeMap::new();
        out.insert(default_label.to_owned(), default_value);
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(v) = r.value {
                match out.get(&r.label) {
                    Some(&old) if old != v => {
                        return Err(StreamError::Format(format!(
                            "{name}: rule {}: field value {v} for label {:?}, which has value {old}",
                            i + 1,
                            r.label
                        )));
                    }
                    _ => {
                        out.insert(r.label.clone(), v);
                    }
                }
            }
        }
        let mut next = 1;
        for r in &self.rules {
            if !out.contains_key(&r.label) {
                while out.values().any(|&v| v == next) {
                    next += 1;
                }
                out.insert(r.label.clone(), next);
            }
        }
        Ok(out)
    }
}

/// True when `name` matches `pattern` (`*` matches any run of characters).
#[must_use]
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = rest.get(at + p.len()..).unwrap_or(""),
                None => return false,
            }
        }
    }
    true
}

/// Rules bound to a table's columns, ready to label its rows.
#[derive(Debug)]
pub struct Matcher {
    rules: Vec<Rule>,
    ip_cols: Vec<usize>,
    mac_cols: Vec<usize>,
    port_cols: Vec<usize>,
    time_col: Option<usize>,
    /// Rows each rule matched (first match).
    pub matched: Vec<u64>,
    /// Rows no rule matched.
    pub unmatched: u64,
    /// Rows whose time cell did not parse (a time rule cannot match them).
    pub bad_times: u64,
}

impl Matcher {
    /// Binds rules to a header. A criterion none of whose columns is in the header is an
    /// error naming the rule and the columns looked for.
    ///
    /// # Errors
    /// See above.
    pub fn new(rules: &Rules, name: &str, header: &[String]) -> Result<Self, StreamError> {
        let find = |names: &[String]| -> Vec<usize> {
            names
                .iter()
                .filter_map(|n| header.iter().position(|h| h == n))
                .collect()
        };
        let or_default = |given: &Option<Vec<String>>, def: &[&str]| -> Vec<String> {
            given
                .clone()
                .unwrap_or_else(|| def.iter().map(|s| (*s).to_owned()).collect())
        };
        let ip_names = or_default(&rules.columns.ip, &IP_COLUMNS);
        let mac_names = or_default(&rules.columns.mac, &MAC_COLUMNS);
        let port_names = or_default(&rules.columns.port, &PORT_COLUMNS);
        let time_names = match &rules.columns.time {
            Some(t) => vec![t.clone()],
            None => TIME_COLUMNS.iter().map(|s| (*s).to_owned()).collect(),
        };
        let m = Matcher {
            rules: rules.rules.clone(),
            ip_cols: find(&ip_names),
            mac_cols: find(&mac_names),
            port_cols: find(&port_names),
            time_col: find(&time_names).first().copied(),
            matched: vec![0; rules.rules.len()],
            unmatched: 0,
            bad_times: 0,
        };
        for (i, r) in m.rules.iter().enumerate() {
            let missing = |what: &str, names: &[String]| {
                StreamError::Format(format!(
                    "{name}: rule {} (label {:?}) matches by {what}, but the dataset has no {what} column (looked for: {})",
                    i + 1,
                    r.label,
                    names.join(", ")
                ))
            };
            if !r.ip.is_empty() && m.ip_cols.is_empty() {
                return Err(missing("ip", &ip_names));
            }
            if !r.mac.is_empty() && m.mac_cols.is_empty() {
                return Err(missing("mac", &mac_names));
            }
            if !r.port.is_empty() && m.port_cols.is_empty() {
                return Err(missing("port", &port_names));
            }
            if (r.start.is_some() || r.end.is_some()) && m.time_col.is_none() {
                return Err(missing("time", &time_names));
            }
        }
        Ok(m)
    }

    /// The index of the first rule matching a row from `file` (its file name), counting it.
    pub fn label(&mut self, file: &str, row: &[String]) -> Option<usize> {
        let cell = |i: &usize| row.get(*i).map_or("", String::as_str);
        let ips: Vec<IpAddr> = self
            .ip_cols
            .iter()
            .filter_map(|i| cell(i).trim().parse().ok())
            .collect();
        let macs: Vec<Mac> = self
            .mac_cols
            .iter()
            .filter_map(|i| Mac::parse(cell(i)))
            .collect();
        let ports: Vec<u16> = self
            .port_cols
            .iter()
            .filter_map(|i| {
                let t = cell(i).trim();
                t.parse::<u16>().ok().or_else(|| {
                    let f: f64 = t.parse().ok()?;
                    (f.fract() == 0.0 && (0.0..=65535.0).contains(&f)).then_some(f as u16)
                })
            })
            .collect();
        let mut time = None;
        let mut time_parsed = false;
        for (k, r) in self.rules.iter().enumerate() {
            if !r.ip.is_empty() && !r.ip.iter().any(|n| ips.iter().any(|a| n.contains(*a))) {
                continue;
            }
            if !r.mac.is_empty() && !r.mac.iter().any(|m| macs.contains(m)) {
                continue;
            }
            if !r.port.is_empty()
                && !r
                    .port
                    .iter()
                    .any(|p| ports.iter().any(|x| (p.0..=p.1).contains(x)))
            {
                continue;
            }
            if r.start.is_some() || r.end.is_some() {
                if !time_parsed {
                    time_parsed = true;
                    time = self.time_col.and_then(|i| parse_time(cell(&i)));
                    if time.is_none() {
                        self.bad_times += 1;
                    }
                }
                let Some(t) = time else { continue };
                if r.start.is_some_and(|s| t < s.0) || r.end.is_some_and(|e| t >= e.0) {
                    continue;
                }
            }
            if !r.file.is_empty() && !r.file.iter().any(|g| glob_match(g, file)) {
                continue;
            }
            if let Some(c) = self.matched.get_mut(k) {
                *c += 1;
            }
            return Some(k);
        }
        self.unmatched += 1;
        None
    }

    /// The rule at an index.
    #[must_use]
    pub fn rule(&self, k: usize) -> Option<&Rule> {
        self.rules.get(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("0"), Some(0));
        assert_eq!(parse_time("1.5"), Some(1_500_000_000));
        assert_eq!(parse_time("1970-01-02 00:00:00"), Some(86_400_000_000_000));
        assert_eq!(
            parse_time("2018-01-28T23:06:05Z"),
            Some(1_517_180_765_000_000_000)
        );
        assert_eq!(
            parse_time("2018-01-29T00:06:05.25+01:00"),
            Some(1_517_180_765_250_000_000)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2018-13-01 00:00:00"), None);
    }

    #[test]
    fn nets_macs_globs() {
        let n = IpNet::parse("10.1.0.0/16").unwrap_or_else(|e| panic!("{e}"));
        assert!(n.contains("10.1.200.3".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(!n.contains("10.2.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert_eq!(
            Mac::parse("AA-bb-cc-dd-ee-FF"),
            Some(Mac("aa:bb:cc:dd:ee:ff".into()))
        );
        assert!(glob_match("scan-*.csv", "scan-1.csv"));
        assert!(!glob_match("scan-*.csv", "benign.csv"));
        assert!(glob_match("a*b*c", "a-x-b-y-c"));
    }

    #[test]
    fn bad_rules_name_line_and_field() {
        let e = Rules::parse("r.toml", "[[rule]]\nlabel = \"x\"\nport = [70000]\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("r.toml") && e.contains("line 3"), "{e}");
        let e = Rules::parse("r.yaml", "rule:\n  - label: x\n    colour: red\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("colour") && e.contains("line 3"), "{e}");
    }
}
