//! One file's contribution, counted in memory before any store sees it.
//!
//! Counting first and writing aggregated rows afterwards is what makes ingest fast (a store
//! gets one row per distinct value, never one per packet) and what makes it atomic (the whole
//! contribution is applied in one transaction, or not at all).

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;

use foldhash::fast::RandomState;
use trident_decode::{AppHint, Packet};
use trident_types::{MacAddr, Timestamp};

use crate::potiron::{ABSENT, ABSENT_ICMP, Normalizer, PotironPacket};

/// A field the index counts values of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Field {
    /// potiron `length`: IPv4 total length.
    Length,
    /// potiron `protocol`: IP protocol number.
    Protocol,
    /// potiron `ipsrc`.
    Ipsrc,
    /// potiron `ipdst`.
    Ipdst,
    /// potiron `ipttl`.
    Ipttl,
    /// potiron `iptos`, written `0x..`.
    Iptos,
    /// potiron `sport` (TCP wins over UDP, `-1` when absent).
    Sport,
    /// potiron `dport`.
    Dport,
    /// potiron `tcpseq` (Redis only: one distinct value per packet, useless as a ranking).
    Tcpseq,
    /// potiron `tcpack` (Redis only, like `tcpseq`).
    Tcpack,
    /// potiron `icmpcode` (`255` when absent).
    Icmpcode,
    /// potiron `icmptype` (`255` when absent).
    Icmptype,
    /// DNS query names (questions of queries and responses, lower-cased as sent).
    DnsQuery,
    /// TLS server name indication of a ClientHello.
    TlsSni,
    /// JA3 hash of a ClientHello.
    Ja3,
    /// JA4 of a ClientHello.
    Ja4,
    /// HTTP `Host` of a request.
    HttpHost,
    /// HTTP `User-Agent` of a request.
    HttpUserAgent,
    /// Source MAC address of an Ethernet frame, `aa:bb:cc:dd:ee:ff` (every frame with a
    /// link-layer address, not only IPv4; a trident extension, not in potiron's layout).
    EthSrc,
    /// Destination MAC address of an Ethernet frame (trident extension).
    EthDst,
    /// IEEE OUI vendor of the source MAC address ([`trident_host::oui::vendor`]),
    /// [`MAC_LOCAL`] for locally administered addresses and [`MAC_UNKNOWN`] for unregistered
    /// blocks (trident extension).
    MacVendor,
}

/// The `mac_vendor` value of a locally administered (randomised, virtual) source MAC.
pub const MAC_LOCAL: &str = "(locally administered)";
/// The `mac_vendor` value of a source MAC whose block is not in the IEEE registry.
pub const MAC_UNKNOWN: &str = "(unknown)";

impl Field {
    /// Every field, potiron's first and in potiron's order.
    pub const ALL: [Field; 21] = [
        Field::Length,
        Field::Protocol,
        Field::Ipsrc,
        Field::Ipdst,
        Field::Ipttl,
        Field::Iptos,
        Field::Sport,
        Field::Dport,
        Field::Tcpseq,
        Field::Tcpack,
        Field::Icmpcode,
        Field::Icmptype,
        Field::DnsQuery,
        Field::TlsSni,
        Field::Ja3,
        Field::Ja4,
        Field::HttpHost,
        Field::HttpUserAgent,
        Field::EthSrc,
        Field::EthDst,
        Field::MacVendor,
    ];

    /// The field's name: potiron's key suffix for potiron's fields.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Field::Length => "length",
            Field::Protocol => "protocol",
            Field::Ipsrc => "ipsrc",
            Field::Ipdst => "ipdst",
            Field::Ipttl => "ipttl",
            Field::Iptos => "iptos",
            Field::Sport => "sport",
            Field::Dport => "dport",
            Field::Tcpseq => "tcpseq",
            Field::Tcpack => "tcpack",
            Field::Icmpcode => "icmpcode",
            Field::Icmptype => "icmptype",
            Field::DnsQuery => "dns_query",
            Field::TlsSni => "tls_sni",
            Field::Ja3 => "ja3",
            Field::Ja4 => "ja4",
            Field::HttpHost => "http_host",
            Field::HttpUserAgent => "http_user_agent",
            Field::EthSrc => "eth_src",
            Field::EthDst => "eth_dst",
            Field::MacVendor => "mac_vendor",
        }
    }

    /// Parses a field name; `ttl` and `tos` are accepted for `ipttl` and `iptos`, `mac_src`,
    /// `mac_dst` and `vendor` for `eth_src`, `eth_dst` and `mac_vendor`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Field> {
        match s {
            "ttl" => Some(Field::Ipttl),
            "tos" => Some(Field::Iptos),
            "mac_src" => Some(Field::EthSrc),
            "mac_dst" => Some(Field::EthDst),
            "vendor" => Some(Field::MacVendor),
            _ => Field::ALL.into_iter().find(|f| f.name() == s),
        }
    }

    /// True for the fields potiron itself indexes (its `JSON_FIELDS`).
    #[must_use]
    pub const fn is_potiron(self) -> bool {
        !matches!(
            self,
            Field::DnsQuery
                | Field::TlsSni
                | Field::Ja3
                | Field::Ja4
                | Field::HttpHost
                | Field::HttpUserAgent
                | Field::EthSrc
                | Field::EthDst
                | Field::MacVendor
        )
    }

    /// True for fields that take one distinct value per packet and so are not worth a row
    /// in the embedded store (TCP sequence and acknowledgement numbers).
    #[must_use]
    pub const fn is_per_packet(self) -> bool {
        matches!(self, Field::Tcpseq | Field::Tcpack)
    }

    /// Writes a numeric value the way potiron writes it.
    fn write_num(self, v: i64, out: &mut String) {
        match self {
            Field::Ipsrc | Field::Ipdst => {
                let _ = write!(out, "{}", Ipv4Addr::from(u32::try_from(v).unwrap_or(0)));
            }
            Field::Iptos => {
                let _ = write!(out, "0x{v:02x}");
            }
            Field::EthSrc | Field::EthDst => {
                let _ = write!(out, "{}", MacAddr(mac_bytes(v)));
            }
            _ => {
                let _ = write!(out, "{v}");
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggOptions {
    /// Count `tcpseq` and `tcpack` (potiron does; the embedded store does not).
    pub per_packet_fields: bool,
    /// Count trident's extension fields: the application fields (DNS, TLS, HTTP) and the
    /// link-layer ones (source and destination MAC, source MAC vendor).
    pub app_fields: bool,
    /// Keep TCP ISN samples ([`IsnSample`], one per TCP packet: potiron's `--isn`).
    pub isn: bool,
}

/// One TCP sequence-number sample for the ISN scatter plot, as potiron's `--isn` keeps them:
/// every IPv4 packet with `ip.proto == 6` in any of its IP headers (so ICMP errors quoting
/// TCP too, potiron's quirk Q10), broadcast destinations excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsnSample {
    /// Packet time, microseconds since the Unix epoch (UTC).
    pub ts_us: i64,
    /// TCP source port (of the quoted header for an ICMP error).
    pub sport: Option<u16>,
    /// TCP destination port.
    pub dport: Option<u16>,
    /// Sequence number (absolute).
    pub seq: Option<u32>,
    /// Acknowledgement number (absent in an ICMP quote; present in an ICMPv6 one).
    pub ack: Option<u32>,
}

/// A day as `YYYYMMDD` (UTC).
pub type Day = u32;

/// The protocol number used for values that are not per protocol (application fields).
pub const NO_PROTOCOL: i16 = -1;

/// Nanoseconds per microsecond.
const NANOS_PER_MICRO: i64 = 1_000;

/// Numeric counts of one (day, IP protocol): per field (indexed by `Field as usize`), value
/// -> count. Two levels instead of one map keyed by (day, protocol, field, value): a packet's
/// ten counts share one bucket lookup, and each field's map stays small and in cache.
#[derive(Debug, Default, Clone)]
struct NumBucket {
    fields: [HashMap<i64, u64, RandomState>; Field::ALL.len()],
}
/// Key of a text count.
type TextKey = (Day, i16, Field, Box<str>);
/// Key of a link-layer count: day, source MAC, destination MAC (48-bit numbers).
type MacKey = (Day, u64, u64);
/// Frames per (day, `eth_src` or `eth_dst`, MAC as a 48-bit number).
type ByMac = HashMap<(Day, Field, i64), u64, RandomState>;
/// Frames per (day, source MAC vendor).
type ByVendor = HashMap<(Day, &'static str), u64, RandomState>;

/// A MAC address as a 48-bit number.
fn mac_num(m: &MacAddr) -> u64 {
    m.0.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
}

/// The six bytes of a 48-bit number written by [`mac_num`] (and kept in an `i64` key).
fn mac_bytes(v: i64) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// The `mac_vendor` value of a source MAC.
fn mac_vendor(m: &MacAddr) -> &'static str {
    match trident_host::oui::vendor(m) {
        Some(v) => v,
        None if trident_host::oui::is_locally_administered(m) => MAC_LOCAL,
        None => MAC_UNKNOWN,
    }
}

/// One file's counts per (day, protocol, field, value).
#[derive(Debug, Default, Clone)]
pub struct FileAgg {
    num: Vec<((Day, i16), NumBucket)>,
    /// Where each (day, protocol) bucket is in `num`.
    num_index: HashMap<(Day, i16), usize, RandomState>,
    text: HashMap<TextKey, u64, RandomState>,
    /// UTC days (`YYYYMMDD`) of the counted packets.
    pub days: BTreeSet<Day>,
    /// Packets read.
    pub packets: u64,
    /// Packets counted (the IPv4 packets potiron keeps, plus packets with application hints).
    pub counted: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// TCP ISN samples, in packet order (only with [`AggOptions::isn`]).
    pub isn: Vec<IsnSample>,
    /// Per-second cache of the day (packets arrive in time order, mostly).
    last_sec: Option<(i64, Day)>,
    /// The day last added to `days` (consecutive packets share a day).
    last_counted_day: Option<Day>,
    /// Frames per (day, source MAC, destination MAC): one map update per frame; the
    /// `eth_src`, `eth_dst` and `mac_vendor` counts are derived from it when read.
    macs: HashMap<MacKey, u64, RandomState>,
    /// potiron's view of the packets, in file order (tshark's IPv4 reassembly).
    potiron: Normalizer,
}

/// One aggregated row: `count` occurrences of `value` for `field` on `day` in protocol
/// `protocol` ([`NO_PROTOCOL`] for application fields).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AggRow {
    /// Day, `YYYYMMDD`.
    pub day: Day,
    /// IP protocol number, or [`NO_PROTOCOL`].
    pub protocol: i16,
    /// Field.
    pub field: Field,
    /// Value as potiron writes it.
    pub value: String,
    /// Occurrences.
    pub count: u64,
}

impl FileAgg {
    fn day(&mut self, ts: Timestamp) -> Day {
        let sec = ts.secs();
        if let Some((s, d)) = self.last_sec
            && s == sec
        {
            return d;
        }
        let (y, m, d, ..) = ts.utc_civil();
        let day = u32::try_from(y).unwrap_or(0) * 10_000 + m * 100 + d;
        self.last_sec = Some((sec, day));
        day
    }

    /// Counts one decoded packet.
    pub fn add(&mut self, ts: Timestamp, caplen: u32, p: &Packet<'_>, opts: AggOptions) {
        self.packets += 1;
        self.bytes += u64::from(caplen);
        let pot = self.potiron.normalize(p);
        let app = if opts.app_fields {
            p.app.as_deref()
        } else {
            None
        };
        let eth = if opts.app_fields {
            p.eth.as_ref()
        } else {
            None
        };
        if pot.is_none() && app.is_none() {
            // Link-layer counts cover every frame (ARP, IPv6, ...), but only IPv4 and
            // application packets are "counted" and make a day (potiron's `_DAYS`).
            if let Some(e) = eth {
                let day = self.day(ts);
                *self
                    .macs
                    .entry((day, mac_num(&e.src), mac_num(&e.dst)))
                    .or_insert(0) += 1;
            }
            return;
        }
        let day = self.day(ts);
        if let Some(e) = eth {
            *self
                .macs
                .entry((day, mac_num(&e.src), mac_num(&e.dst)))
                .or_insert(0) += 1;
        }
        if self.last_counted_day != Some(day) {
            self.days.insert(day);
            self.last_counted_day = Some(day);
        }
        self.counted += 1;
        if let Some(pp) = pot {
            self.add_potiron(day, &pp, opts);
            if opts.isn && (pp.protocol == 6 || pp.tcpseq.is_some()) {
                self.isn.push(IsnSample {
                    ts_us: ts.as_nanos().div_euclid(NANOS_PER_MICRO),
                    sport: pp.ports.map(|p| p.0),
                    dport: pp.ports.map(|p| p.1),
                    seq: pp.tcpseq,
                    ack: pp.tcpack,
                });
            }
        }
        if let Some(a) = app {
            self.add_app(day, a);
        }
    }

    /// UTC days of the packets counted in potiron's fields: potiron's `<sensor>_DAYS` (less
    /// the file-name day), i.e. [`FileAgg::days`] without the days that only packets with
    /// application hints (IPv6 DNS, ...) made.
    #[must_use]
    pub fn potiron_days(&self) -> BTreeSet<Day> {
        self.num.iter().map(|((day, _), _)| *day).collect()
    }

    /// The bucket of (day, protocol), made on first use.
    fn bucket(&mut self, day: Day, protocol: i16) -> &mut NumBucket {
        let i = match self.num_index.get(&(day, protocol)) {
            Some(&i) => i,
            None => {
                self.num.push(((day, protocol), NumBucket::default()));
                let i = self.num.len() - 1;
                self.num_index.insert((day, protocol), i);
                i
            }
        };
        &mut self.num[i].1
    }

    fn add_potiron(&mut self, day: Day, pp: &PotironPacket, opts: AggOptions) {
        let pr = i16::from(pp.protocol);
        let (sport, dport) = pp
            .ports
            .map_or((ABSENT, ABSENT), |(s, d)| (i64::from(s), i64::from(d)));
        let (code, typ) = pp.icmp.unwrap_or((ABSENT_ICMP, ABSENT_ICMP));
        let per_packet = opts.per_packet_fields;
        let b = self.bucket(day, pr);
        let mut bump = |field: Field, v: i64| {
            *b.fields[field as usize].entry(v).or_insert(0) += 1;
        };
        bump(Field::Length, i64::from(pp.length));
        bump(Field::Protocol, i64::from(pp.protocol));
        bump(Field::Ipsrc, i64::from(u32::from(pp.ipsrc)));
        bump(Field::Ipdst, i64::from(u32::from(pp.ipdst)));
        bump(Field::Ipttl, i64::from(pp.ipttl));
        bump(Field::Iptos, i64::from(pp.iptos));
        bump(Field::Sport, sport);
        bump(Field::Dport, dport);
        if per_packet {
            let seq = pp.tcpseq.map_or(ABSENT, i64::from);
            let ack = pp.tcpack.map_or(ABSENT, i64::from);
            bump(Field::Tcpseq, seq);
            bump(Field::Tcpack, ack);
        }
        bump(Field::Icmpcode, i64::from(code));
        bump(Field::Icmptype, i64::from(typ));
    }

    fn bump_text(&mut self, day: Day, field: Field, v: &str) {
        if v.is_empty() {
            return;
        }
        *self
            .text
            .entry((day, NO_PROTOCOL, field, v.into()))
            .or_insert(0) += 1;
    }

    fn add_app(&mut self, day: Day, a: &AppHint) {
        match a {
            AppHint::Dns(d) => {
                for q in &d.questions {
                    self.bump_text(day, Field::DnsQuery, &q.name);
                }
            }
            AppHint::Tls(t) => {
                if let Some(s) = &t.sni {
                    self.bump_text(day, Field::TlsSni, s);
                }
                self.bump_text(day, Field::Ja3, &t.ja3_hash);
                self.bump_text(day, Field::Ja4, &t.ja4);
            }
            AppHint::Http(h) => {
                if let Some(s) = &h.host {
                    self.bump_text(day, Field::HttpHost, s);
                }
                if let Some(s) = &h.user_agent {
                    self.bump_text(day, Field::HttpUserAgent, s);
                }
            }
            _ => {}
        }
    }

    /// The link-layer counts derived from the (day, source, destination) frame counts:
    /// per (day, field, MAC) for `eth_src`/`eth_dst`, and per (day, vendor).
    fn mac_counts(&self) -> (ByMac, ByVendor) {
        let mut by_mac = ByMac::default();
        let mut by_vendor = ByVendor::default();
        for (&(day, src, dst), &n) in &self.macs {
            let (s, d) = (
                i64::try_from(src).unwrap_or(0),
                i64::try_from(dst).unwrap_or(0),
            );
            *by_mac.entry((day, Field::EthSrc, s)).or_insert(0) += n;
            *by_mac.entry((day, Field::EthDst, d)).or_insert(0) += n;
        }
        for (&(day, field, v), &n) in &by_mac {
            if field == Field::EthSrc {
                let vendor = mac_vendor(&MacAddr(mac_bytes(v)));
                *by_vendor.entry((day, vendor)).or_insert(0) += n;
            }
        }
        (by_mac, by_vendor)
    }

    /// Number of distinct (day, protocol, field, value) counts.
    #[must_use]
    pub fn len(&self) -> usize {
        let link = if self.macs.is_empty() {
            0
        } else {
            let (m, v) = self.mac_counts();
            m.len() + v.len()
        };
        let num: usize = self
            .num
            .iter()
            .flat_map(|(_, b)| b.fields.iter())
            .map(HashMap::len)
            .sum();
        num + self.text.len() + link
    }

    /// True when nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` once per distinct count, with the value written as potiron writes it.
    /// The string passed is reused between calls (no allocation per row).
    pub fn for_each(&self, mut f: impl FnMut(Day, i16, Field, &str, u64)) {
        let mut buf = String::new();
        for ((day, pr), b) in &self.num {
            for field in Field::ALL {
                for (&v, &n) in &b.fields[field as usize] {
                    buf.clear();
                    field.write_num(v, &mut buf);
                    f(*day, *pr, field, &buf, n);
                }
            }
        }
        for ((day, pr, field, v), &n) in &self.text {
            f(*day, *pr, *field, v, n);
        }
        if !self.macs.is_empty() {
            let (by_mac, by_vendor) = self.mac_counts();
            for (&(day, field, v), &n) in &by_mac {
                buf.clear();
                field.write_num(v, &mut buf);
                f(day, NO_PROTOCOL, field, &buf, n);
            }
            for (&(day, vendor), &n) in &by_vendor {
                f(day, NO_PROTOCOL, Field::MacVendor, vendor, n);
            }
        }
    }

    /// Every count as a sorted list of rows (for tests and small outputs).
    #[must_use]
    pub fn rows(&self) -> Vec<AggRow> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|day, protocol, field, value, count| {
            out.push(AggRow {
                day,
                protocol,
                field,
                value: value.to_owned(),
                count,
            });
        });
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::parse(f.name()), Some(f));
        }
        assert_eq!(Field::parse("ttl"), Some(Field::Ipttl));
        assert_eq!(Field::parse("nope"), None);
    }

    #[test]
    fn values_are_written_like_potiron() {
        let mut s = String::new();
        Field::Ipsrc.write_num(i64::from(u32::from(Ipv4Addr::new(192, 168, 2, 1))), &mut s);
        assert_eq!(s, "192.168.2.1");
        s.clear();
        Field::Iptos.write_num(0, &mut s);
        assert_eq!(s, "0x00");
        s.clear();
        Field::Iptos.write_num(0xb8, &mut s);
        assert_eq!(s, "0xb8");
        s.clear();
        Field::Sport.write_num(ABSENT, &mut s);
        assert_eq!(s, "-1");
    }
}
