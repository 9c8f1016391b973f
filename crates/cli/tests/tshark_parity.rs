//! tshark parity: on every intact capture of the shared corpus, the header fields trident
//! writes per packet must equal what tshark 4.0 dissects from the same frame.
//!
//! # What is compared
//!
//! tshark runs once per file (`-T fields -E occurrence=a`) and trident once per file (ndjson,
//! the columns below). Frames are joined by their position among packet records (tshark also
//! numbers pcapng custom blocks as frames; those rows are dropped). For each packet and each
//! field the comparison is made only when *both* tools have a value; a value only one side has
//! is counted and printed ("tshark only", "trident only") but is not a failure, because the
//! two tools legitimately stop at different depths (tshark knows a thousand protocols).
//!
//! # Which tshark occurrence is trident's value
//!
//! tshark lists every IP header of a frame in `ip.src` (and `ipv6.src`), outermost first,
//! including the headers quoted inside ICMP errors and the inner headers of tunnels. trident
//! reports the *innermost* IP of the tunnels it unwraps in `ip_*`, the outermost carrier in
//! `tunnel_src`/`tunnel_dst`, and an ICMP error's quoted header in `icmp_orig_*`. The test
//! rebuilds that model from tshark's own layer list (`frame.protocols`, e.g.
//! `eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp`): it walks the IP headers from the
//! outside in, and steps from one IP header to the next only when the layers between them are
//! one of the tunnels trident decodes ([`tunnel_between`]). The k-th `ip` token of the layer
//! list is the k-th `ip.src` occurrence, and likewise for `ipv6`, `tcp`, `udp`, `icmp`,
//! `icmpv6`, `vlan` and `ieee8021ad`; when a field has fewer occurrences than its layer has
//! tokens (a truncated header), the occurrence cannot be pinned and the value is counted as
//! "unaligned" rather than guessed. IPv6's protocol is the next-header of the last extension
//! header (`ipv6.hopopts.nxt`, ...), as trident reports the upper-layer protocol. VLAN ids
//! are the tags of the capture's own link, before the first IP header (tags inside VXLAN or
//! GRE belong to the tunnelled frame in both tools' models). The application fields compare
//! whole-packet values: `dns.qry.name`'s every occurrence against `dns_qnames`, and the first
//! `tls.handshake.extensions_server_name` / `http.host` against `tls_sni` / `http_host` (trident
//! reads the first ClientHello or request of a segment).
//!
//! # tshark options, and why
//!
//! trident decodes each packet on its own, so tshark is told to as well: no TCP stream
//! reassembly (`tcp.desegment_tcp_streams:FALSE`: otherwise an HTTP Host or TLS SNI split over
//! segments would be shown on the last segment) and no IP reassembly (`ip.defragment`,
//! `ipv6.defragment`: otherwise a fragmented datagram's ports move to its last fragment).
//! Sequence numbers are absolute (`tcp.relative_sequence_numbers:FALSE`), as trident writes
//! them. The VNC dissector is off: it is pathologically slow on some captures and decodes
//! nothing compared here. tshark runs with an empty personal configuration folder
//! (`WIRESHARK_CONFIG_DIR`), so a developer's own decode-as rules cannot change the result.
//!
//! # Exceptions
//!
//! Where the two tools legitimately differ, the difference is listed in [`EXCEPTIONS`] with
//! what, why and which files. An exception that no longer matches any disagreement fails the
//! test too, so the list cannot silently outlive the difference it excuses. Everything else
//! must agree 100%.
//!
//! The full report (per-field counts, coverage, every disagreement) is written to
//! `$CARGO_TARGET_TMPDIR/tshark-parity-report.txt` and printed (`cargo test -p trident-cli
//! --test tshark_parity -- --nocapture` to see it on success).

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

/// Where CI (Debian's `tshark` package) installs tshark; `$PATH` is searched when it is not
/// there. The expectations were checked against tshark 4.0.17 (Debian 12).
const TSHARK: &str = "/usr/bin/tshark";
/// At least this many corpus files must be compared, or the corpus is not the one expected.
const MIN_FILES: usize = 200;
/// Files are processed by this many threads (CI has two cores).
const WORKERS: usize = 2;
/// Joins multiple occurrences of one field in tshark's output. A control character no DNS
/// name, host or SNI in the corpus contains (tshark's default ',' could appear in names).
const AGGREGATOR: char = '\u{1f}';
/// At most this many disagreements (excused or not) are printed per exception / in total;
/// all are counted.
const MAX_PRINTED: usize = 300;
/// At most this many (file, field) groups of one-sided values are printed.
const MAX_PRINTED_GROUPS: usize = 60;

/// tshark options shared by every run (see the module doc for why each is there).
const TSHARK_OPTIONS: &[&str] = &[
    "-n",
    "--disable-protocol",
    "vnc",
    "-o",
    "tcp.relative_sequence_numbers:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-T",
    "fields",
    "-E",
    "occurrence=a",
    "-E",
    "separator=/t",
];

/// The tshark fields read, in output column order.
const TS_FIELDS: &[&str] = &[
    "frame.number",
    "frame.encap_type",
    "frame.cap_len",
    "frame.len",
    "frame.protocols",
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ip.ttl",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.nxt",
    "ipv6.hlim",
    "ipv6.hopopts.nxt",
    "ipv6.routing.nxt",
    "ipv6.fraghdr.nxt",
    "ipv6.dstopts.nxt",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq",
    "tcp.ack",
    "udp.srcport",
    "udp.dstport",
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
    "vlan.id",
    "ieee8021ad.id",
    "dns.qry.name",
    "tls.handshake.extensions_server_name",
    "http.host",
];

/// IPv6 extension headers as tshark names them in `frame.protocols`; each has a `<name>.nxt`.
const IPV6_EXT_TOKENS: &[&str] = &[
    "ipv6.hopopts",
    "ipv6.routing",
    "ipv6.fraghdr",
    "ipv6.dstopts",
];

/// The kind of a compared value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ip,
    Num,
    Str,
    Nums,
    Strs,
}

/// The trident columns compared, with their kind. Order is the report's order.
const COMPARED: &[(&str, Kind)] = &[
    ("caplen", Kind::Num),
    ("origlen", Kind::Num),
    ("ip_src", Kind::Ip),
    ("ip_dst", Kind::Ip),
    ("ip_proto", Kind::Num),
    ("ip_ttl", Kind::Num),
    ("sport", Kind::Num),
    ("dport", Kind::Num),
    ("tcp_flags", Kind::Num),
    ("tcp_seq", Kind::Num),
    ("tcp_ack", Kind::Num),
    ("icmp_type", Kind::Num),
    ("icmp_code", Kind::Num),
    ("icmp_orig_src", Kind::Ip),
    ("icmp_orig_dst", Kind::Ip),
    ("icmp_orig_proto", Kind::Num),
    ("icmp_orig_sport", Kind::Num),
    ("icmp_orig_dport", Kind::Num),
    ("vlan", Kind::Nums),
    ("tunnel", Kind::Str),
    ("tunnel_src", Kind::Ip),
    ("tunnel_dst", Kind::Ip),
    ("dns_qnames", Kind::Strs),
    ("tls_sni", Kind::Str),
    ("http_host", Kind::Str),
];

/// trident columns requested: the compared ones plus context for the report.
const TRIDENT_EXTRA: &[&str] = &[
    "frame",
    "link_type",
    "tunnel_depth",
    "app",
    "stop_layer",
    "stop_reason",
];

/// Link types (trident's names) that must have had packets compared.
const REQUIRED_LINK_TYPES: &[&[&str]] = &[
    &["ether"],
    &["null"],
    &["ppp"],
    &["rawip", "rawip4", "rawip6"],
    &["ieee-802-11"],
    &["ieee-802-11-radiotap"],
    &["linux-sll"],
    &["linux-sll2"],
];
/// Tunnel kinds (trident's names) that must have had packets compared.
const REQUIRED_TUNNELS: &[&str] = &[
    "gre",
    "erspan",
    "vxlan",
    "geneve",
    "ipip",
    "6in4",
    "teredo",
    "ayiya",
    "mpls-udp",
    "vxlan-gpe",
];
/// tshark layers that must have appeared in compared packets (`qinq` = two tags or more;
/// `avsp`: Arista's timestamp header, `nsh`: RFC 8300, `cfp`: Cisco FabricPath).
const REQUIRED_LAYERS: &[&str] = &["vlan", "qinq", "mpls", "pppoes", "avsp", "nsh", "cfp"];
/// MANIFEST.tsv features / link types the selected files must include (the brief's list).
const REQUIRED_MANIFEST: &[&str] = &[
    "vlan",
    "qinq",
    "mpls",
    "gre",
    "erspan",
    "vxlan",
    "geneve",
    "ip-in-ip",
    "6in4",
    "teredo",
    "pppoe-session",
    "ieee-802-11",
    "ieee-802-11-radiotap",
    "linux-sll",
    "linux-sll2",
    "null",
    "rawip",
    "ppp",
];

/// A documented, legitimate difference between tshark and trident.
struct Exception {
    /// Short id printed next to each excused disagreement.
    id: &'static str,
    /// The difference.
    what: &'static str,
    /// Why it is legitimate (not a trident bug).
    why: &'static str,
    /// Corpus paths (relative to corpus/) it applies to.
    files: &'static [&'static str],
    /// trident columns it applies to (`frames` for the per-file packet count).
    fields: &'static [&'static str],
    /// Further narrowing on the disagreement itself.
    applies: fn(&Disagreement) -> bool,
}

/// The documented exceptions. Each must match at least one disagreement.
const EXCEPTIONS: &[Exception] = &[
    Exception {
        id: "ipv4-source-route",
        what: "IPv4 with a strict/loose source-route option: tshark's ip.dst is the route's \
               final destination (from the option), trident's ip_dst the header's destination \
               field (tshark shows that one as ip.cur_rt)",
        why: "trident reports the addresses on the wire, the ones a flow of this packet is keyed \
              on; tshark substitutes the source route's last hop for display",
        files: &["pcapplusplus/ipv4-options.pcap"],
        fields: &["ip_dst"],
        applies: |_| true,
    },
    Exception {
        id: "pbb-customer-vlan",
        what: "802.1ah provider backbone bridging: tshark's vlan.id also lists the customer \
               frame's tag inside the I-TAG (ether type 0x88e7), trident's vlan only the \
               backbone tag of the capture's own link",
        why: "trident decodes the customer frame like a tunnelled one: its addresses and tags \
              are not the capture link's (crates/decode/src/link.rs, ETHERTYPE_PBB sets \
              Slot::Discard), just as VLAN tags inside VXLAN or GRE are not in vlan",
        files: &["zeek/pbb.pcap"],
        fields: &["vlan"],
        applies: |d| d.protocols.contains("ieee8021ah:ethertype:vlan"),
    },
    Exception {
        id: "truncated-ipv6-ext",
        what: "an IPv6 destination-options header cut short (declares 40 bytes, 36 captured): \
               tshark's protocol is that header's next-header field (17), trident's the \
               extension header itself (60)",
        why: "trident reports the upper-layer protocol only once it has walked the whole \
              extension chain; when a header is truncated it stops there (stop_layer ipv6-ext) \
              and reports the header it could not skip, rather than trusting a field of a \
              damaged header",
        files: &["zeek/ipv6-mobility-dst-opts.pcap"],
        fields: &["ip_proto"],
        applies: |d| d.stop.starts_with("ipv6-ext: truncated"),
    },
];

/// A value, typed so that `2001:db8::1` and `2001:0db8::1` or `0x12` and `18` compare equal.
#[derive(Clone, Debug, PartialEq, Eq)]
enum V {
    Ip(IpAddr),
    Num(u64),
    Str(String),
    Nums(Vec<u64>),
    Strs(Vec<String>),
}

impl fmt::Display for V {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V::Ip(a) => write!(f, "{a}"),
            V::Num(n) => write!(f, "{n}"),
            V::Str(s) => write!(f, "{s:?}"),
            V::Nums(l) => write!(f, "{l:?}"),
            V::Strs(l) => write!(f, "{l:?}"),
        }
    }
}

/// What tshark says a field should be.
enum Expected {
    /// tshark has no value for it.
    Absent,
    /// tshark has values but not one per layer token: the occurrence cannot be pinned.
    Unaligned,
    /// The value.
    Value(V),
}

/// One field that differs.
#[derive(Clone, Debug)]
struct Disagreement {
    file: String,
    frame: u64,
    field: &'static str,
    tshark: V,
    trident: V,
    /// tshark's layer list, for the report.
    protocols: String,
    /// Where trident stopped decoding (`layer: reason`), empty when it did not.
    stop: String,
}

/// Per-field counters.
#[derive(Default, Clone)]
struct FieldStats {
    compared: u64,
    agreed: u64,
    excused: u64,
    disagreed: u64,
    only_tshark: u64,
    only_trident: u64,
    unaligned: u64,
}

/// Everything one file contributes.
#[derive(Default)]
struct FileResult {
    path: String,
    tshark_packets: u64,
    trident_packets: u64,
    packets_compared: u64,
    fields: BTreeMap<&'static str, FieldStats>,
    disagreements: Vec<Disagreement>,
    /// (field, side) -> (count, first frame).
    one_sided: BTreeMap<(&'static str, &'static str), (u64, u64)>,
    coverage: BTreeMap<String, u64>,
    errors: Vec<String>,
}

/// One tshark row: each field's occurrences.
struct TsRow {
    cells: Vec<Vec<String>>,
}

impl TsRow {
    fn parse(line: &str) -> Option<TsRow> {
        let cells: Vec<Vec<String>> = line
            .split('\t')
            .map(|c| {
                if c.is_empty() {
                    Vec::new()
                } else {
                    c.split(AGGREGATOR).map(str::to_owned).collect()
                }
            })
            .collect();
        (cells.len() == TS_FIELDS.len()).then_some(TsRow { cells })
    }

    fn field(&self, name: &str) -> &[String] {
        TS_FIELDS
            .iter()
            .position(|f| *f == name)
            .and_then(|i| self.cells.get(i))
            .map_or(&[], Vec::as_slice)
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.field(name).first().map(String::as_str)
    }
}

/// IP version of a header in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ver {
    V4,
    V6,
}

/// One token of `frame.protocols` with its occurrence index among tokens of the same name.
#[derive(Clone, Debug)]
struct Token {
    name: String,
    occ: usize,
}

/// An IP header in the model: which occurrence, and where its upper-layer protocol is.
#[derive(Clone, Debug)]
struct IpRef {
    ver: Ver,
    occ: usize,
    /// (tshark field, layer token, occurrence) of the final protocol number.
    proto: (String, String, usize),
    /// Index in the token list of the first token after the header and its extensions.
    after: usize,
}

/// A transport header in the model.
#[derive(Clone, Debug)]
struct TransRef {
    token: String,
    occ: usize,
}

/// trident's view of a frame, rebuilt from tshark's layer list.
#[derive(Default, Debug)]
struct Model {
    tokens: Vec<Token>,
    counts: BTreeMap<String, usize>,
    inner: Option<IpRef>,
    outer: Option<IpRef>,
    tunnel: Option<&'static str>,
    transport: Option<TransRef>,
    quoted: Option<IpRef>,
    quoted_transport: Option<TransRef>,
    /// (token, occurrence) of each VLAN tag before the first IP header, outer first.
    vlans: Vec<(String, usize)>,
}

fn is_ip(name: &str) -> bool {
    name == "ip" || name == "ipv6"
}

/// True when `rest` is an Ethernet header, optionally followed by VLAN tags, as tshark names
/// them: `eth:ethertype(:vlan:ethertype)*`.
fn is_l2(rest: &[&str]) -> bool {
    match rest {
        ["eth", "ethertype", tail @ ..] => {
            tail.len() % 2 == 0
                && tail
                    .chunks(2)
                    .all(|c| c == ["vlan", "ethertype"] || c == ["ieee8021ad", "ethertype"])
        }
        _ => false,
    }
}

/// The tunnel trident decodes between two IP headers, from the layers tshark shows between
/// them; `None` when trident does not step into the next IP header (ICMP quotes, GTP,
/// L2TP, ...).
///
/// This is trident's documented tunnel set (`trident_decode::TunnelKind` and the
/// `trident_decode::tunnel` module doc): GRE (with an Ethernet payload for transparent
/// bridging, 802.11 for Aruba's protocol types, PPP for PPTP, or after a Cisco MetaData
/// header), GRE in UDP (RFC 8086, port 4754), MPLS in UDP (RFC 7510, port 6635), ERSPAN in
/// GRE, VXLAN and Geneve (Ethernet payload; Geneve may carry IP directly), IP directly in IP
/// (`6in4` when IPv6 rides on IPv4, `ipip` otherwise), Teredo, AYIYA, VXLAN-GPE and CAPWAP's
/// data channel (802.11 or 802.3 frames).
fn tunnel_between(between: &[&str], outer: Ver, inner: Ver) -> Option<&'static str> {
    match between {
        [] if outer == Ver::V4 && inner == Ver::V6 => Some("6in4"),
        [] => Some("ipip"),
        ["gre"] | ["udp", "gre"] => Some("gre"),
        ["udp", "gre", rest @ ..] | ["gre", rest @ ..] if is_l2(rest) => Some("gre"),
        ["gre", "wlan", "llc"] | ["gre", "cmd"] | ["gre", "ppp"] => Some("gre"),
        ["gre", "erspan", rest @ ..] if is_l2(rest) => Some("erspan"),
        ["udp", "vxlan", rest @ ..] if is_l2(rest) => Some("vxlan"),
        ["udp", "geneve"] => Some("geneve"),
        ["udp", "geneve", rest @ ..] if is_l2(rest) => Some("geneve"),
        ["udp", "teredo"] => Some("teredo"),
        ["udp", "ayiya"] => Some("ayiya"),
        ["udp", "mpls"] => Some("mpls-udp"),
        ["udp", "capwap.data", "wlan", "llc"] => Some("capwap"),
        ["udp", "capwap.data", rest @ ..] if is_l2(rest) => Some("capwap"),
        // tshark 4.0 lists VXLAN-GPE carrying NSH as `udp:nsh`.
        ["udp", "nsh"] => Some("vxlan-gpe"),
        _ => None,
    }
}

/// The tunnel trident enters when the layers after the last IP header are a tunnel carrying
/// an Ethernet frame that holds no IP (ARP, CDP in VXLAN or GRE): trident still reports the
/// tunnel and its carrier, with no inner IP.
fn tunnel_into_l2(after: &[&str]) -> Option<&'static str> {
    match after {
        ["udp", "gre", "eth", ..] | ["gre", "eth", ..] => Some("gre"),
        ["gre", "erspan", "eth", ..] => Some("erspan"),
        ["udp", "vxlan", "eth", ..] => Some("vxlan"),
        ["udp", "geneve", "eth", ..] => Some("geneve"),
        ["udp", "capwap.data", "wlan" | "eth", ..] => Some("capwap"),
        _ => None,
    }
}

impl Model {
    fn build(protocols: &str) -> Model {
        let mut m = Model::default();
        for name in protocols.split(':').filter(|s| !s.is_empty()) {
            let c = m.counts.entry(name.to_owned()).or_default();
            m.tokens.push(Token {
                name: name.to_owned(),
                occ: *c,
            });
            *c += 1;
        }
        let first_ip = m.tokens.iter().position(|t| is_ip(&t.name));
        let before_ip = first_ip.unwrap_or(m.tokens.len());
        m.vlans = m
            .tokens
            .iter()
            .take(before_ip)
            .filter(|t| t.name == "vlan" || t.name == "ieee8021ad")
            .map(|t| (t.name.clone(), t.occ))
            .collect();
        let Some(mut cur) = first_ip.and_then(|i| m.ip_ref(i)) else {
            return m;
        };
        let names: Vec<&str> = m.tokens.iter().map(|t| t.name.as_str()).collect();
        loop {
            let next = (cur.after..names.len()).find(|&k| names.get(k).is_some_and(|n| is_ip(n)));
            let between = next.map_or(names.get(cur.after..).unwrap_or(&[]), |k| {
                names.get(cur.after..k).unwrap_or(&[])
            });
            if let Some(next_ref) = next.and_then(|k| m.ip_ref(k)) {
                if let Some(kind) = tunnel_between(between, cur.ver, next_ref.ver) {
                    if m.outer.is_none() {
                        m.outer = Some(cur.clone());
                        m.tunnel = Some(kind);
                    }
                    cur = next_ref;
                    continue;
                }
            }
            if next.is_none() {
                if let Some(kind) = tunnel_into_l2(between) {
                    if m.outer.is_none() {
                        m.outer = Some(cur);
                        m.tunnel = Some(kind);
                    }
                    return m;
                }
            }
            m.transport = m.trans_ref(cur.after);
            let is_icmp = matches!(between, ["icmp"] | ["icmpv6"]);
            if is_icmp {
                m.quoted = next.and_then(|k| m.ip_ref(k));
                m.quoted_transport = m.quoted.as_ref().and_then(|q| m.trans_ref(q.after));
            }
            m.inner = Some(cur);
            return m;
        }
    }

    /// The IP header at token index `i`, with its extension headers.
    fn ip_ref(&self, i: usize) -> Option<IpRef> {
        let t = self.tokens.get(i)?;
        match t.name.as_str() {
            "ip" => Some(IpRef {
                ver: Ver::V4,
                occ: t.occ,
                proto: ("ip.proto".into(), "ip".into(), t.occ),
                after: i + 1,
            }),
            "ipv6" => {
                let mut proto = ("ipv6.nxt".to_owned(), "ipv6".to_owned(), t.occ);
                let mut j = i + 1;
                while let Some(e) = self
                    .tokens
                    .get(j)
                    .filter(|e| IPV6_EXT_TOKENS.contains(&e.name.as_str()))
                {
                    proto = (format!("{}.nxt", e.name), e.name.clone(), e.occ);
                    j += 1;
                }
                Some(IpRef {
                    ver: Ver::V6,
                    occ: t.occ,
                    proto,
                    after: j,
                })
            }
            _ => None,
        }
    }

    fn trans_ref(&self, i: usize) -> Option<TransRef> {
        self.tokens
            .get(i)
            .filter(|t| matches!(t.name.as_str(), "tcp" | "udp" | "icmp" | "icmpv6"))
            .map(|t| TransRef {
                token: t.name.clone(),
                occ: t.occ,
            })
    }

    fn count(&self, token: &str) -> usize {
        self.counts.get(token).copied().unwrap_or(0)
    }

    /// Whether `name` appears among the layers.
    fn has(&self, name: &str) -> bool {
        self.counts.contains_key(name)
    }
}

fn parse_as(kind: Kind, s: &str) -> V {
    let num = |s: &str| -> Option<u64> {
        match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    };
    match kind {
        Kind::Ip => s.parse().map_or_else(|_| V::Str(s.to_owned()), V::Ip),
        Kind::Num => num(s).map_or_else(|| V::Str(s.to_owned()), V::Num),
        _ => V::Str(s.to_owned()),
    }
}

/// Occurrence `occ` of a tshark field whose occurrences are one per `token` layer.
fn occurrence(
    row: &TsRow,
    m: &Model,
    field: &str,
    token: &str,
    occ: usize,
    kind: Kind,
) -> Expected {
    let vals = row.field(field);
    if vals.is_empty() {
        return Expected::Absent;
    }
    if vals.len() != m.count(token) {
        return Expected::Unaligned;
    }
    vals.get(occ)
        .map_or(Expected::Absent, |s| Expected::Value(parse_as(kind, s)))
}

fn ip_field(row: &TsRow, m: &Model, ip: Option<&IpRef>, what: &str, kind: Kind) -> Expected {
    let Some(ip) = ip else {
        return Expected::Absent;
    };
    let (field, token) = match (ip.ver, what) {
        (_, "proto") => return occurrence(row, m, &ip.proto.0, &ip.proto.1, ip.proto.2, kind),
        (Ver::V4, "ttl") => ("ip.ttl", "ip"),
        (Ver::V6, "ttl") => ("ipv6.hlim", "ipv6"),
        (Ver::V4, w) => (if w == "src" { "ip.src" } else { "ip.dst" }, "ip"),
        (Ver::V6, w) => (if w == "src" { "ipv6.src" } else { "ipv6.dst" }, "ipv6"),
    };
    occurrence(row, m, field, token, ip.occ, kind)
}

fn port_field(row: &TsRow, m: &Model, t: Option<&TransRef>, src: bool) -> Expected {
    match t {
        Some(t) if t.token == "tcp" || t.token == "udp" => {
            let field = format!("{}.{}", t.token, if src { "srcport" } else { "dstport" });
            occurrence(row, m, &field, &t.token, t.occ, Kind::Num)
        }
        _ => Expected::Absent,
    }
}

/// tshark's value of one trident column for this packet.
fn expected(row: &TsRow, m: &Model, column: &str) -> Expected {
    let tcp = m.transport.as_ref().filter(|t| t.token == "tcp");
    let icmp = m
        .transport
        .as_ref()
        .filter(|t| t.token == "icmp" || t.token == "icmpv6");
    let tcp_field = |f: &str| match tcp {
        Some(t) => occurrence(row, m, f, "tcp", t.occ, Kind::Num),
        None => Expected::Absent,
    };
    let icmp_field = |f: &str| match icmp {
        Some(t) => occurrence(
            row,
            m,
            &format!("{}.{f}", t.token),
            &t.token,
            t.occ,
            Kind::Num,
        ),
        None => Expected::Absent,
    };
    let first = |f: &str| {
        row.first(f)
            .map_or(Expected::Absent, |s| Expected::Value(V::Str(s.to_owned())))
    };
    match column {
        "caplen" => row.first("frame.cap_len").map_or(Expected::Absent, |s| {
            Expected::Value(parse_as(Kind::Num, s))
        }),
        "origlen" => row.first("frame.len").map_or(Expected::Absent, |s| {
            Expected::Value(parse_as(Kind::Num, s))
        }),
        "ip_src" => ip_field(row, m, m.inner.as_ref(), "src", Kind::Ip),
        "ip_dst" => ip_field(row, m, m.inner.as_ref(), "dst", Kind::Ip),
        "ip_proto" => ip_field(row, m, m.inner.as_ref(), "proto", Kind::Num),
        "ip_ttl" => ip_field(row, m, m.inner.as_ref(), "ttl", Kind::Num),
        "sport" => port_field(row, m, m.transport.as_ref(), true),
        "dport" => port_field(row, m, m.transport.as_ref(), false),
        "tcp_flags" => tcp_field("tcp.flags"),
        "tcp_seq" => tcp_field("tcp.seq"),
        "tcp_ack" => tcp_field("tcp.ack"),
        "icmp_type" => icmp_field("type"),
        "icmp_code" => icmp_field("code"),
        "icmp_orig_src" => ip_field(row, m, m.quoted.as_ref(), "src", Kind::Ip),
        "icmp_orig_dst" => ip_field(row, m, m.quoted.as_ref(), "dst", Kind::Ip),
        "icmp_orig_proto" => ip_field(row, m, m.quoted.as_ref(), "proto", Kind::Num),
        "icmp_orig_sport" => port_field(row, m, m.quoted_transport.as_ref(), true),
        "icmp_orig_dport" => port_field(row, m, m.quoted_transport.as_ref(), false),
        "vlan" => {
            let mut ids = Vec::new();
            for (token, occ) in &m.vlans {
                let field = if token == "vlan" {
                    "vlan.id"
                } else {
                    "ieee8021ad.id"
                };
                match occurrence(row, m, field, token, *occ, Kind::Num) {
                    Expected::Value(V::Num(n)) => ids.push(n),
                    Expected::Absent => return Expected::Absent,
                    _ => return Expected::Unaligned,
                }
            }
            if ids.is_empty() {
                Expected::Absent
            } else {
                Expected::Value(V::Nums(ids))
            }
        }
        "tunnel" => m
            .tunnel
            .map_or(Expected::Absent, |k| Expected::Value(V::Str(k.to_owned()))),
        "tunnel_src" => ip_field(row, m, m.outer.as_ref(), "src", Kind::Ip),
        "tunnel_dst" => ip_field(row, m, m.outer.as_ref(), "dst", Kind::Ip),
        "dns_qnames" => {
            let names = row.field("dns.qry.name");
            if names.is_empty() {
                Expected::Absent
            } else {
                Expected::Value(V::Strs(names.to_vec()))
            }
        }
        "tls_sni" => first("tls.handshake.extensions_server_name"),
        "http_host" => first("http.host"),
        other => panic!("no tshark mapping for trident column {other}"),
    }
}

/// trident's value of one column from its ndjson record (absent, or an empty list: `None`).
fn actual(rec: &Value, column: &str, kind: Kind) -> Option<V> {
    let v = rec.get(column)?;
    match kind {
        Kind::Ip => v.as_str().map(|s| parse_as(Kind::Ip, s)),
        Kind::Num => v.as_u64().map(V::Num),
        Kind::Str => v.as_str().map(|s| V::Str(s.to_owned())),
        Kind::Nums => {
            let l: Vec<u64> = v.as_array()?.iter().filter_map(Value::as_u64).collect();
            (!l.is_empty()).then_some(V::Nums(l))
        }
        Kind::Strs => {
            let l: Vec<String> = v
                .as_array()?
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            (!l.is_empty()).then_some(V::Strs(l))
        }
    }
}

/// tshark's path: [`TSHARK`], or the first `tshark` on `$PATH`.
fn tshark_path() -> Option<PathBuf> {
    let default = PathBuf::from(TSHARK);
    if default.is_file() {
        return Some(default);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("tshark"))
        .find(|p| p.is_file())
}

/// An empty personal configuration folder for tshark, so that a developer's own
/// preferences (decode-as rules, disabled protocols) cannot change what is compared.
fn tshark_config_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tshark-parity-empty-config");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

fn run_tshark(tshark: &Path, path: &Path) -> Result<Vec<TsRow>, String> {
    let mut cmd = Command::new(tshark);
    cmd.env("WIRESHARK_CONFIG_DIR", tshark_config_dir());
    cmd.arg("-r").arg(path).args(TSHARK_OPTIONS);
    cmd.arg("-E").arg(format!("aggregator={AGGREGATOR}"));
    for f in TS_FIELDS {
        cmd.arg("-e").arg(f);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("running {}: {e}", tshark.display()))?;
    // tshark exits 2 on a damaged tail after printing every frame it could read; the frames
    // it printed are still comparable, so only the absence of output is an error here.
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    for line in text.lines() {
        let row = TsRow::parse(line)
            .ok_or_else(|| format!("tshark line with a wrong column count: {line:?}"))?;
        // pcapng custom blocks and other non-packet records have no encapsulation type.
        if !row.field("frame.encap_type").is_empty() {
            rows.push(row);
        }
    }
    Ok(rows)
}

fn run_trident(path: &Path) -> Result<Vec<Value>, String> {
    let fields: Vec<&str> = COMPARED
        .iter()
        .map(|(c, _)| *c)
        .chain(TRIDENT_EXTRA.iter().copied())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_trident"))
        .args([
            "decode",
            "-q",
            "--format",
            "ndjson",
            "--fields",
            &fields.join(","),
        ])
        .arg(path)
        .output()
        .map_err(|e| format!("running trident: {e}"))?;
    // 0: read to the end; 1: input damaged (frames before the damage were written).
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "trident exited with {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).map_err(|e| format!("trident wrote invalid JSON ({e}): {l}"))
        })
        .collect()
}

fn compare_file(tshark: &Path, corpus: &Path, rel: &str) -> FileResult {
    let mut res = FileResult {
        path: rel.to_owned(),
        ..FileResult::default()
    };
    let path = corpus.join(rel);
    let ts = match run_tshark(tshark, &path) {
        Ok(r) => r,
        Err(e) => {
            res.errors.push(format!("{rel}: {e}"));
            return res;
        }
    };
    let tr = match run_trident(&path) {
        Ok(r) => r,
        Err(e) => {
            res.errors.push(format!("{rel}: {e}"));
            return res;
        }
    };
    res.tshark_packets = ts.len() as u64;
    res.trident_packets = tr.len() as u64;
    if res.tshark_packets != res.trident_packets {
        res.disagreements.push(Disagreement {
            file: rel.to_owned(),
            frame: 0,
            field: "frames",
            tshark: V::Num(res.tshark_packets),
            trident: V::Num(res.trident_packets),
            protocols: String::new(),
            stop: String::new(),
        });
    }
    for (i, (row, rec)) in ts.iter().zip(&tr).enumerate() {
        let frame = i as u64 + 1;
        if rec.get("frame").and_then(Value::as_u64) != Some(frame) {
            res.errors.push(format!(
                "{rel}: trident record {frame} has frame {:?}",
                rec.get("frame")
            ));
            continue;
        }
        res.packets_compared += 1;
        let protocols = row.first("frame.protocols").unwrap_or("");
        let m = Model::build(protocols);
        for &(column, kind) in COMPARED {
            let st = res.fields.entry(column).or_default();
            let got = actual(rec, column, kind);
            match (expected(row, &m, column), got) {
                (Expected::Value(want), Some(got)) => {
                    st.compared += 1;
                    if want == got {
                        st.agreed += 1;
                        if column == "ip_src" {
                            note_coverage(&mut res.coverage, rec, &m);
                        }
                    } else {
                        res.disagreements.push(Disagreement {
                            file: rel.to_owned(),
                            frame,
                            field: column,
                            tshark: want,
                            trident: got,
                            protocols: protocols.to_owned(),
                            stop: stop_of(rec),
                        });
                    }
                }
                (Expected::Value(_), None) => {
                    st.only_tshark += 1;
                    res.one_sided
                        .entry((column, "tshark only"))
                        .or_insert((0, frame))
                        .0 += 1;
                }
                (Expected::Absent, Some(_)) => {
                    st.only_trident += 1;
                    res.one_sided
                        .entry((column, "trident only"))
                        .or_insert((0, frame))
                        .0 += 1;
                }
                (Expected::Unaligned, Some(_)) => {
                    st.unaligned += 1;
                    res.one_sided
                        .entry((column, "unaligned"))
                        .or_insert((0, frame))
                        .0 += 1;
                }
                (Expected::Unaligned | Expected::Absent, None) => {}
            }
        }
    }
    res
}

/// trident's `stop_layer: stop_reason`, or empty.
fn stop_of(rec: &Value) -> String {
    match (
        rec.get("stop_layer").and_then(Value::as_str),
        rec.get("stop_reason").and_then(Value::as_str),
    ) {
        (Some(l), Some(r)) => format!("{l}: {r}"),
        _ => String::new(),
    }
}

/// Counts what a packet whose inner source address agreed exercised.
fn note_coverage(cov: &mut BTreeMap<String, u64>, rec: &Value, m: &Model) {
    let mut add = |k: String| *cov.entry(k).or_default() += 1;
    if let Some(lt) = rec.get("link_type").and_then(Value::as_str) {
        add(format!("link:{lt}"));
    }
    if let Some(t) = m.tunnel {
        add(format!("tunnel:{t}"));
    }
    for layer in ["vlan", "mpls", "pppoes", "avsp", "nsh", "cfp"] {
        if m.has(layer) {
            add(format!("layer:{layer}"));
        }
    }
    if m.vlans.len() >= 2 {
        add("layer:qinq".to_owned());
    }
}

/// Corpus files to compare: every intact capture (MANIFEST.tsv rows outside damaged/ and not
/// marked fuzz-crash), with their link types and features for the coverage check.
fn select_files(corpus: &Path) -> Vec<(String, String)> {
    let manifest = fs::read_to_string(corpus.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("reading {}: {e}", corpus.join("MANIFEST.tsv").display()));
    manifest
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let (path, format, links, features) =
                (cols.first()?, cols.get(1)?, cols.get(2)?, cols.get(5)?);
            let skip = path.starts_with("damaged/")
                || format.starts_with("damaged")
                || features.contains("fuzz-crash");
            (!skip).then(|| (path.to_string(), format!("{links},{features}")))
        })
        .collect()
}

fn check_manifest_coverage(selected: &[(String, String)]) -> Vec<String> {
    REQUIRED_MANIFEST
        .iter()
        .filter(|want| {
            !selected.iter().any(|(_, tags)| {
                tags.split([',', '+'])
                    .any(|t| t == **want || (**want == "rawip" && t.starts_with("rawip")))
            })
        })
        .map(|w| format!("no selected corpus file has feature/link type {w}"))
        .collect()
}

fn exception_for(d: &Disagreement) -> Option<&'static Exception> {
    EXCEPTIONS.iter().find(|e| {
        e.files.contains(&d.file.as_str()) && e.fields.contains(&d.field) && (e.applies)(d)
    })
}

fn fmt_disagreement(d: &Disagreement) -> String {
    let stop = if d.stop.is_empty() {
        String::new()
    } else {
        format!(" (trident stopped at {})", d.stop)
    };
    format!(
        "{} frame {} {}: tshark {} trident {}   [{}]{stop}",
        d.file, d.frame, d.field, d.tshark, d.trident, d.protocols
    )
}

#[test]
fn tshark_parity() {
    let Some(tshark) = tshark_path() else {
        panic!(
            "tshark not found ({TSHARK} or on $PATH): install it (Debian/Ubuntu: \
             `apt-get install -y tshark`); the parity test compares trident against tshark 4.0 \
             and cannot pass without it"
        );
    };
    let version = Command::new(&tshark)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default();
    let corpus: PathBuf = common::shared().join("corpus");
    let selected = select_files(&corpus);
    let mut failures = check_manifest_coverage(&selected);
    assert!(
        selected.len() >= MIN_FILES,
        "only {} intact corpus files found in {}; the parity test needs at least {MIN_FILES}",
        selected.len(),
        corpus.display()
    );

    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((rel, _)) = selected.get(i) else {
                        break;
                    };
                    let r = compare_file(&tshark, &corpus, rel);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(r);
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by(|a, b| a.path.cmp(&b.path));

    // Merge.
    let mut fields: BTreeMap<&str, FieldStats> = BTreeMap::new();
    let mut coverage: BTreeMap<String, u64> = BTreeMap::new();
    let mut excused: BTreeMap<&str, Vec<Disagreement>> = BTreeMap::new();
    let mut unexcused: Vec<Disagreement> = Vec::new();
    let mut one_sided: Vec<(String, &str, &str, u64, u64)> = Vec::new();
    let (mut packets, mut files_with_packets) = (0u64, 0usize);
    for r in &results {
        failures.extend(r.errors.iter().cloned());
        packets += r.packets_compared;
        files_with_packets += usize::from(r.packets_compared > 0);
        for (k, v) in &r.coverage {
            *coverage.entry(k.clone()).or_default() += v;
        }
        for (f, st) in &r.fields {
            let t = fields.entry(f).or_default();
            t.compared += st.compared;
            t.agreed += st.agreed;
            t.only_tshark += st.only_tshark;
            t.only_trident += st.only_trident;
            t.unaligned += st.unaligned;
        }
        for ((field, side), (n, frame)) in &r.one_sided {
            one_sided.push((r.path.clone(), field, side, *n, *frame));
        }
        for d in &r.disagreements {
            let st = fields.entry(d.field).or_default();
            match exception_for(d) {
                Some(e) => {
                    st.excused += 1;
                    excused.entry(e.id).or_default().push(d.clone());
                }
                None => {
                    st.disagreed += 1;
                    unexcused.push(d.clone());
                }
            }
        }
    }

    // Report.
    let mut rep = String::new();
    let mut line = |s: String| {
        rep.push_str(&s);
        rep.push('\n');
    };
    line(format!("{} against {version}", tshark.display()));
    line(format!(
        "tshark parity: {} files selected, {} with packets compared, {} packets compared, {:.1} s",
        selected.len(),
        files_with_packets,
        packets,
        started.elapsed().as_secs_f64()
    ));
    line(format!(
        "{:<16} {:>9} {:>9} {:>7} {:>9} {:>12} {:>12} {:>9}",
        "field",
        "compared",
        "agreed",
        "excused",
        "disagreed",
        "tshark-only",
        "trident-only",
        "unaligned"
    ));
    for (column, _) in COMPARED.iter().copied().chain([("frames", Kind::Num)]) {
        let st = fields.get(column).cloned().unwrap_or_default();
        let compared = if column == "frames" {
            results.len() as u64
        } else {
            st.compared
        };
        let agreed = if column == "frames" {
            compared - st.excused - st.disagreed
        } else {
            st.agreed
        };
        line(format!(
            "{column:<16} {compared:>9} {agreed:>9} {:>7} {:>9} {:>12} {:>12} {:>9}",
            st.excused, st.disagreed, st.only_tshark, st.only_trident, st.unaligned
        ));
    }
    line("coverage (packets whose inner ip_src was compared and agreed):".to_owned());
    for (k, n) in &coverage {
        line(format!("  {k:<32} {n:>8}"));
    }
    for e in EXCEPTIONS {
        let hits = excused.get(e.id).map_or(&[][..], Vec::as_slice);
        line(format!(
            "exception {} ({} disagreements): {}",
            e.id,
            hits.len(),
            e.what
        ));
        line(format!("  why: {}", e.why));
        line(format!("  files: {}", e.files.join(", ")));
        for d in hits.iter().take(MAX_PRINTED) {
            line(format!("    {}", fmt_disagreement(d)));
        }
        if hits.is_empty() {
            failures.push(format!(
                "exception {} matches no disagreement any more: remove it",
                e.id
            ));
        }
    }
    // One-sided values are not failures, but the rarer sides (trident has a value tshark's
    // model lacks, or the occurrence could not be pinned) are all printed: they are where a
    // decoder bug would hide. "tshark only" groups (protocols trident leaves alone) are many.
    one_sided.sort_by(|a, b| a.2.cmp(b.2).then(b.3.cmp(&a.3)).then_with(|| a.0.cmp(&b.0)));
    for side in ["trident only", "unaligned", "tshark only"] {
        let groups: Vec<_> = one_sided.iter().filter(|g| g.2 == side).collect();
        let shown = if side == "tshark only" {
            MAX_PRINTED_GROUPS
        } else {
            groups.len()
        };
        line(format!(
            "one-sided values, {side} (not failures): {} (file, field) groups, {shown} shown",
            groups.len()
        ));
        for (file, field, _, n, frame) in groups.iter().take(shown) {
            line(format!("  {file} {field}: x{n} (first frame {frame})"));
        }
    }
    line(format!(
        "disagreements outside the exceptions: {}",
        unexcused.len()
    ));
    for d in unexcused.iter().take(MAX_PRINTED) {
        line(format!("  {}", fmt_disagreement(d)));
    }
    for (group, want) in [
        ("link", REQUIRED_LINK_TYPES.to_vec()),
        (
            "tunnel",
            REQUIRED_TUNNELS.iter().map(std::slice::from_ref).collect(),
        ),
        (
            "layer",
            REQUIRED_LAYERS.iter().map(std::slice::from_ref).collect(),
        ),
    ] {
        for alts in want {
            if !alts
                .iter()
                .any(|a| coverage.contains_key(&format!("{group}:{a}")))
            {
                failures.push(format!(
                    "no agreeing packet compared for {group} {}",
                    alts.join("|")
                ));
            }
        }
    }
    let report_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tshark-parity-report.txt");
    let _ = fs::write(&report_path, &rep);
    println!("{rep}");
    println!("report written to {}", report_path.display());

    if !unexcused.is_empty() {
        failures.push(format!(
            "{} disagreements outside the documented exceptions (listed above)",
            unexcused.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "tshark parity failed:\n  {}",
        failures.join("\n  ")
    );
}

/// The harness's own model, checked on layer lists and rows written by hand (no tshark
/// needed): if it picked the wrong occurrence, the parity test would compare the wrong values.
mod model {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> TsRow {
        let cells = TS_FIELDS
            .iter()
            .map(|f| {
                pairs
                    .iter()
                    .find(|(k, _)| k == f)
                    .map_or_else(Vec::new, |(_, v)| v.split(',').map(str::to_owned).collect())
            })
            .collect();
        TsRow { cells }
    }

    fn value(e: Expected) -> Option<V> {
        match e {
            Expected::Value(v) => Some(v),
            _ => None,
        }
    }

    fn ip(s: &str) -> Option<V> {
        s.parse().ok().map(V::Ip)
    }

    #[test]
    fn vxlan_reports_the_inner_ip_and_the_outer_as_tunnel() {
        let p = "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp";
        let r = row(&[
            ("frame.protocols", p),
            ("ip.src", "192.0.2.1,10.0.0.1"),
            ("ip.dst", "192.0.2.2,10.0.0.2"),
            ("udp.srcport", "4000"),
            ("udp.dstport", "4789"),
            ("tcp.srcport", "1234"),
            ("tcp.dstport", "80"),
        ]);
        let m = Model::build(p);
        assert_eq!(value(expected(&r, &m, "ip_src")), ip("10.0.0.1"));
        assert_eq!(value(expected(&r, &m, "tunnel_src")), ip("192.0.2.1"));
        assert_eq!(
            value(expected(&r, &m, "tunnel")),
            Some(V::Str("vxlan".into()))
        );
        // The outer UDP header is not trident's transport: the inner TCP one is.
        assert_eq!(value(expected(&r, &m, "sport")), Some(V::Num(1234)));
    }

    #[test]
    fn icmp_error_quote_goes_to_icmp_orig_not_ip() {
        let p = "eth:ethertype:ip:gre:ip:icmp:ip:udp:dns";
        let r = row(&[
            ("frame.protocols", p),
            ("ip.src", "192.0.2.1,10.0.0.1,10.0.0.2"),
            ("ip.dst", "192.0.2.2,10.0.0.9,10.0.0.1"),
            ("ip.proto", "47,1,17"),
            ("icmp.type", "3"),
            ("udp.srcport", "5353"),
            ("udp.dstport", "53"),
        ]);
        let m = Model::build(p);
        assert_eq!(value(expected(&r, &m, "ip_src")), ip("10.0.0.1"));
        assert_eq!(value(expected(&r, &m, "ip_proto")), Some(V::Num(1)));
        assert_eq!(value(expected(&r, &m, "icmp_orig_src")), ip("10.0.0.2"));
        assert_eq!(value(expected(&r, &m, "icmp_orig_dport")), Some(V::Num(53)));
        assert!(value(expected(&r, &m, "sport")).is_none());
    }

    #[test]
    fn ipv6_protocol_is_the_last_extension_headers_next_header() {
        let p = "eth:ethertype:ipv6:ipv6.hopopts:ipv6.routing:udp";
        let r = row(&[
            ("frame.protocols", p),
            ("ipv6.nxt", "0"),
            ("ipv6.hopopts.nxt", "43"),
            ("ipv6.routing.nxt", "17"),
        ]);
        assert_eq!(
            value(expected(&r, &Model::build(p), "ip_proto")),
            Some(V::Num(17))
        );
    }

    #[test]
    fn tunnel_without_inner_ip_keeps_the_carrier_only() {
        let p = "eth:ethertype:ip:gre:eth:ethertype:arp";
        let r = row(&[("frame.protocols", p), ("ip.src", "192.0.2.1")]);
        let m = Model::build(p);
        assert!(value(expected(&r, &m, "ip_src")).is_none());
        assert_eq!(value(expected(&r, &m, "tunnel_src")), ip("192.0.2.1"));
    }

    #[test]
    fn protocols_trident_does_not_unwrap_stop_at_the_outer_ip() {
        for p in [
            "eth:ethertype:ip:udp:gtp:ip:udp",
            "eth:ethertype:ip:udp:l2tp:ppp:ip:udp",
        ] {
            let m = Model::build(p);
            assert_eq!(m.inner.as_ref().map(|i| i.occ), Some(0), "{p}");
            assert!(m.tunnel.is_none(), "{p}");
        }
    }

    #[test]
    fn a_missing_occurrence_is_unaligned_not_guessed() {
        // Two TCP layers (the second quoted) but one tcp.flags: which one is missing is unknown.
        let p = "eth:ethertype:ip:tcp:ip:tcp";
        let r = row(&[("frame.protocols", p), ("tcp.flags", "0x0012")]);
        assert!(matches!(
            expected(&r, &Model::build(p), "tcp_flags"),
            Expected::Unaligned
        ));
    }

    #[test]
    fn vlan_tags_are_listed_outer_first_across_802_1ad_and_802_1q() {
        let p = "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp";
        let r = row(&[
            ("frame.protocols", p),
            ("ieee8021ad.id", "100"),
            ("vlan.id", "30"),
        ]);
        assert_eq!(
            value(expected(&r, &Model::build(p), "vlan")),
            Some(V::Nums(vec![100, 30]))
        );
    }
}
