//! networkML's `host` featurizer (reference §3–§4): per-packet intermediates, the choice of
//! the canonical MAC, and the 221 model features plus the dropped extras of one host.

use std::collections::{HashMap, HashSet};

/// The per-host maps and sets of the features (ports, addresses): foldhash, seeded per map,
/// in place of SipHash. Nothing reads them in iteration order.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use trident_types::MacAddr;

use super::fields::{FrameFields, IpFlagsEncoding};
use super::names::{
    N_FEATURES, N_RATIOS, PORT_PROTOS, PRIV_PORT_LIMIT, STAT_FIELDS, WK_NONPRIV_PORTS,
    WK_PRIV_PORTS, feature_index, slots,
};
use crate::numpy::ColumnStats;
use crate::pyfmt::epoch_seconds;

/// Ether types networkML counts as IP (`tshark_nonip` is any other type).
const ETH_IP_TYPES: [u16; 3] = [0x0806, 0x0800, 0x86dd];
/// IPX, for `tshark_ipx`.
const ETH_TYPE_IPX: u16 = 0x8137;
/// Nanoseconds per second, for `frame.time_delta_displayed`.
const NANOS_PER_SEC: f64 = 1e9;

/// An address as networkML's `_srcip`/`_dstip` holds it: `'None'` or an `ipaddress` object
/// built from an integer, so an IPv6 address below 2^32 becomes IPv4 (`::1` → `0.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum NetIp {
    /// No address (`ip.version` absent, or the address field absent).
    #[default]
    None,
    /// IPv4.
    V4(Ipv4Addr),
    /// IPv6 (at least 2^32 as an integer).
    V6(Ipv6Addr),
}

impl NetIp {
    fn from_v6(a: Ipv6Addr) -> NetIp {
        let n = u128::from(a);
        match u32::try_from(n) {
            Ok(small) => NetIp::V4(Ipv4Addr::from(small)),
            Err(_) => NetIp::V6(a),
        }
    }

    /// Python 3.8's `is_private`.
    fn is_private(self) -> bool {
        match self {
            NetIp::None => false,
            NetIp::V4(a) => {
                let n = u32::from(a);
                PRIVATE_V4.iter().any(|&(net, len)| in_net4(n, net, len))
            }
            NetIp::V6(a) => {
                let n = u128::from(a);
                PRIVATE_V6.iter().any(|&(net, len)| in_net6(n, net, len))
            }
        }
    }

    /// The string Python's `str()` gives (`'None'` for no address); IPv6 compressed as
    /// `ipaddress` does it, IPv4-mapped addresses included (`::ffff:102:304`).
    pub fn write_python_str(self, out: &mut String) {
        match self {
            NetIp::None => out.push_str("None"),
            NetIp::V4(a) => {
                let _ = write!(out, "{a}");
            }
            NetIp::V6(a) => write_ipv6_python(a, out),
        }
    }

    /// [`NetIp::write_python_str`] as a new string.
    #[must_use]
    pub fn python_str(self) -> String {
        let mut s = String::new();
        self.write_python_str(&mut s);
        s
    }
}

/// Python 3.8 `ipaddress` private IPv4 networks (network, prefix length).
const PRIVATE_V4: [(u32, u32); 14] = [
    (0x0000_0000, 8),
    (0x0a00_0000, 8),
    (0x7f00_0000, 8),
    (0xa9fe_0000, 16),
    (0xac10_0000, 12),
    (0xc000_0000, 29),
    (0xc000_00aa, 31),
    (0xc000_0200, 24),
    (0xc0a8_0000, 16),
    (0xc612_0000, 15),
    (0xc633_6400, 24),
    (0xcb00_7100, 24),
    (0xf000_0000, 4),
    (0xffff_ffff, 32),
];
/// Python 3.8 `ipaddress` private IPv6 networks.
const PRIVATE_V6: [(u128, u32); 10] = [
    (1, 128),
    (0, 128),
    (0xffff_0000_0000, 96),
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64),
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23),
    (0x2001_0002_0000_0000_0000_0000_0000_0000, 48),
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32),
    (0x2001_0010_0000_0000_0000_0000_0000_0000, 28),
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10),
];

fn in_net4(n: u32, net: u32, len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    n & mask == net
}

fn in_net6(n: u128, net: u128, len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    n & mask == net
}

/// IPv6 text as Python's `ipaddress` writes it: lower-case hextets without leading zeros,
/// the first longest run of two or more zero hextets as `::`.
fn write_ipv6_python(a: Ipv6Addr, out: &mut String) {
    let h = a.segments();
    let (mut best_start, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < h.len() {
        if h.get(i) == Some(&0) {
            let start = i;
            while h.get(i) == Some(&0) {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = usize::MAX;
    }
    let mut i = 0;
    while i < h.len() {
        if i == best_start {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        let _ = write!(out, "{:x}", h.get(i).copied().unwrap_or(0));
        i += 1;
        if i < h.len() {
            out.push(':');
        }
    }
}

/// One packet as networkML's featurizer sees it after import and the per-row intermediates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRow {
    /// `frame.time_epoch` in nanoseconds.
    pub ts_nanos: i64,
    /// `frame.time_delta_displayed` in nanoseconds.
    pub delta_nanos: i64,
    /// `frame.len`.
    pub frame_len: u32,
    /// `eth.src`.
    pub eth_src: MacAddr,
    /// `eth.dst`.
    pub eth_dst: MacAddr,
    /// `eth.type`.
    pub eth_type: Option<u16>,
    /// `vlan.id` present.
    pub tagged: bool,
    /// `ip.version`.
    pub ip_version: Option<u8>,
    /// `_srcip`.
    pub src_ip: NetIp,
    /// `_dstip`.
    pub dst_ip: NetIp,
    /// `_both_private_ip`.
    pub both_private: bool,
    /// `_ipv4_multicast`.
    pub ipv4_multicast: bool,
    /// `_protos_int`.
    pub protocols: u8,
    /// `ip.dsfield`.
    pub dsfield: Option<u8>,
    /// `ip.flags` in the chosen encoding.
    pub ip_flags: Option<u16>,
    /// `tcp.flags`.
    pub tcp_flags: Option<u16>,
    /// `ip.proto`; in trident's mode, the upper-layer protocol of the innermost IP header
    /// of either version.
    pub ip_proto: Option<u8>,
    /// `tcp.srcport`, `tcp.dstport`.
    pub tcp_ports: (Option<u16>, Option<u16>),
    /// `udp.srcport`, `udp.dstport`.
    pub udp_ports: (Option<u16>, Option<u16>),
}

impl PacketRow {
    /// The row networkML builds from a frame's fields; `None` when the frame lacks an
    /// Ethernet address (networkML cannot handle such a row). With `ipv6_ports`, an IPv6
    /// packet's `ip_proto` is its upper-layer protocol, so its TCP/UDP ports count in the
    /// port features (networkML leaves them out).
    #[must_use]
    pub fn from_fields(
        f: &FrameFields,
        encoding: IpFlagsEncoding,
        ipv6_ports: bool,
    ) -> Option<PacketRow> {
        let (src, dst) = match f.ip_version {
            None => (NetIp::None, NetIp::None),
            Some(4) => (
                f.ip_src.map_or(NetIp::None, NetIp::V4),
                f.ip_dst.map_or(NetIp::None, NetIp::V4),
            ),
            // networkML reads ipv6.* for every version other than 4.
            Some(_) => (
                f.ipv6_src.map_or(NetIp::None, NetIp::from_v6),
                f.ipv6_dst.map_or(NetIp::None, NetIp::from_v6),
            ),
        };
        let both_present = src != NetIp::None && dst != NetIp::None;
        Some(PacketRow {
            ts_nanos: f.ts_nanos,
            delta_nanos: f.delta_nanos,
            frame_len: f.frame_len,
            eth_src: f.eth_src?,
            eth_dst: f.eth_dst?,
            eth_type: f.eth_type,
            tagged: f.vlan_id.is_some(),
            ip_version: f.ip_version,
            src_ip: src,
            dst_ip: dst,
            both_private: both_present && src.is_private() && dst.is_private(),
            ipv4_multicast: both_present && matches!(dst, NetIp::V4(a) if a.is_multicast()),
            protocols: f.protocols,
            dsfield: f.ip_dsfield,
            ip_flags: f.ip_flags(encoding),
            tcp_flags: f.tcp_flags,
            ip_proto: if ipv6_ports && f.ip_version == Some(6) {
                f.ipv6_upper_proto
            } else {
                f.ip_proto
            },
            tcp_ports: (f.tcp_srcport, f.tcp_dstport),
            udp_ports: (f.udp_srcport, f.udp_dstport),
        })
    }
}

/// True for a MAC networkML classifies: not broadcast, group bit clear.
#[must_use]
pub fn is_unicast(mac: MacAddr) -> bool {
    !mac.is_broadcast() && !mac.is_multicast()
}

/// The canonical source MAC (networkML's default `srcmacid`): among source MACs, the one
/// with the fewest distinct source IPs (the `'None'` of non-IP frames counts as one), ties
/// to the numerically smallest MAC. `None` for an empty table.
#[must_use]
pub fn canonical_mac(rows: &[PacketRow]) -> Option<MacAddr> {
    let mut per_mac: HashMap<MacAddr, HashSet<NetIp>> = HashMap::new();
    for r in rows {
        per_mac.entry(r.eth_src).or_default().insert(r.src_ip);
    }
    per_mac
        .into_iter()
        .map(|(mac, ips)| (ips.len(), mac))
        .min()
        .map(|(_, mac)| mac)
}

/// Every unicast MAC seen as source or destination, ascending.
#[must_use]
pub fn unicast_macs(rows: &[PacketRow]) -> Vec<MacAddr> {
    let mut macs: Vec<MacAddr> = rows
        .iter()
        .flat_map(|r| [r.eth_src, r.eth_dst])
        .filter(|m| is_unicast(*m))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    macs.sort_unstable();
    macs
}

/// One host's feature row: what networkML writes to its feature CSV for a MAC.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFeatures {
    /// The host (`host_key`).
    pub mac: MacAddr,
    /// The 221 model features in model order ([`super::feature_names`]), as the featurizer
    /// computed them (before the CSV round trip).
    pub values: Vec<f64>,
    /// The 58 ratio features ([`super::ratio_names`] order), computed and dropped by networkML.
    pub ratios: Vec<f64>,
    /// `tshark_frame_epoch`: the latest `frame.time_epoch` of the host's packets.
    pub frame_epoch: f64,
    /// `tshark_srcips`: distinct source IPs of the host's packets, in first-seen order
    /// (networkML's order is a Python set's, random per run). `source_ip` is the first.
    pub source_ips: Vec<NetIp>,
    /// Packets sent by the host per source IP, most frequent first (ties: first seen),
    /// for trident's own choice of a stable `source_ip`.
    pub source_ip_counts: Vec<(NetIp, u64)>,
    /// Packets to or from the host.
    pub packets: u64,
}

/// Sets `values[slot]` (a slot past the end is ignored).
fn put(values: &mut [f64], slot: usize, v: f64) {
    if let Some(x) = values.get_mut(slot) {
        *x = v;
    }
}

/// Computes the feature row of `mac` from all rows of the capture (§3.3–§4).
#[must_use]
pub fn host_features(rows: &[PacketRow], mac: MacAddr) -> HostFeatures {
    let mine: Vec<&PacketRow> = rows
        .iter()
        .filter(|r| r.eth_src == mac || r.eth_dst == mac)
        .collect();
    host_features_of(mac, &mine)
}

/// The rows of every unicast MAC, in capture order, gathered in one pass (a frame between
/// two unicast MACs belongs to both).
#[must_use]
pub fn rows_by_host(rows: &[PacketRow]) -> Vec<(MacAddr, Vec<&PacketRow>)> {
    /// No host on this side of the row.
    const NONE: u32 = u32::MAX;
    // First pass: a number per MAC, each row's two host numbers, and each host's row count,
    // so the second pass fills lists of exact size (no regrowing a few hundred thousand
    // references per busy host).
    let mut number: HashMap<MacAddr, u32, foldhash::fast::FixedState> = HashMap::default();
    let mut macs: Vec<MacAddr> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    let mut sides: Vec<[u32; 2]> = Vec::with_capacity(rows.len());
    for r in rows {
        let mut pair = [NONE; 2];
        for (side, mac) in pair.iter_mut().zip([r.eth_src, r.eth_dst]) {
            if !is_unicast(mac) {
                continue;
            }
            *side = *number.entry(mac).or_insert_with(|| {
                macs.push(mac);
                counts.push(0);
                u32::try_from(macs.len() - 1).unwrap_or(NONE)
            });
        }
        // A frame a host sends to itself is in no list (the host is still listed): what
        // the grouping this replaces did, and what the goldens were checked against.
        if r.eth_src == r.eth_dst {
            pair = [NONE; 2];
        }
        for &n in &pair {
            if let Some(c) = counts.get_mut(n as usize) {
                *c += 1;
            }
        }
        sides.push(pair);
    }
    let mut lists: Vec<Vec<&PacketRow>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (r, pair) in rows.iter().zip(&sides) {
        for &n in pair {
            if let Some(list) = lists.get_mut(n as usize) {
                list.push(r);
            }
        }
    }
    let mut hosts: Vec<(MacAddr, Vec<&PacketRow>)> = macs.into_iter().zip(lists).collect();
    hosts.sort_unstable_by_key(|(mac, _)| *mac);
    hosts
}

/// Computes the feature row of `mac` from its rows (those it sent or received, in capture
/// order).
#[must_use]
pub fn host_features_of(mac: MacAddr, mine: &[&PacketRow]) -> HostFeatures {
    let mut values = vec![0.0f64; N_FEATURES];
    let mut ratios = vec![0.0f64; N_RATIOS];
    let index = feature_index();
    let slots = slots();
    let mut scratch = Vec::new();
    let mut column = Vec::new();
    let mut dir: Vec<&PacketRow> = Vec::new();
    for (d, out) in slots.dirs.iter().zip([true, false]) {
        dir.clear();
        dir.extend(mine.iter().copied().filter(|r| (r.eth_src == mac) == out));
        for (field, stat_slots) in STAT_FIELDS.iter().zip(&d.stats) {
            column.clear();
            if *field == "frame_len" {
                column.extend(dir.iter().map(|r| f64::from(r.frame_len)));
            } else {
                // float("0.000027000"): the exact decimal, correctly rounded.
                column.extend(dir.iter().map(|r| r.delta_nanos as f64 / NANOS_PER_SEC));
            }
            let st = ColumnStats::of(&column, &mut scratch);
            let stat_values = [
                st.max,
                st.min,
                st.count,
                st.total,
                st.average,
                st.median,
                st.variance,
                st.q25,
                st.q75,
            ];
            for (&slot, v) in stat_slots.iter().zip(stat_values) {
                put(&mut values, slot, v);
            }
        }
        let or_bits = |get: &dyn Fn(&PacketRow) -> Option<u16>| {
            dir.iter().filter_map(|r| get(r)).fold(0u16, |a, b| a | b)
        };
        let ds = or_bits(&|r| r.dsfield.map(u16::from));
        for (bit, &slot) in d.dsfield.iter().enumerate() {
            put(&mut values, slot, f64::from(ds >> bit & 1));
        }
        for (bits, col_slots) in [or_bits(&|r| r.ip_flags), or_bits(&|r| r.tcp_flags)]
            .into_iter()
            .zip(&d.flags)
        {
            for (bit, &slot) in col_slots.iter().enumerate() {
                put(&mut values, slot, f64::from(bits >> bit & 1));
            }
        }
        for (p, (proto, number)) in PORT_PROTOS.into_iter().enumerate() {
            let ports = |r: &PacketRow| {
                if proto == "tcp" {
                    r.tcp_ports
                } else {
                    r.udp_ports
                }
            };
            let proto_rows = || dir.iter().filter(|r| r.ip_proto == Some(number));
            let any_src = proto_rows().any(|r| ports(r).0.is_some());
            let any_dst = proto_rows().any(|r| ports(r).1.is_some());
            let lowest: FastSet<u16> = if any_src && any_dst {
                proto_rows()
                    .filter_map(|r| match ports(r) {
                        (Some(s), Some(d)) => Some(s.min(d)),
                        _ => None,
                    })
                    .collect()
            } else {
                FastSet::default()
            };
            let (Some(priv_slots), Some(nonpriv_slots), Some(other_slots)) =
                (d.priv_ports.get(p), d.nonpriv_ports.get(p), d.other.get(p))
            else {
                continue;
            };
            for ((wk, port_slots, is_side), &other_slot) in [
                (
                    &WK_PRIV_PORTS[..],
                    &priv_slots[..],
                    (|p: u16| p < PRIV_PORT_LIMIT) as fn(u16) -> bool,
                ),
                (&WK_NONPRIV_PORTS[..], &nonpriv_slots[..], |p: u16| {
                    p >= PRIV_PORT_LIMIT
                }),
            ]
            .into_iter()
            .zip(other_slots)
            {
                let side_ports: Vec<u16> = lowest.iter().copied().filter(|p| is_side(*p)).collect();
                for (port, &slot) in wk.iter().zip(port_slots) {
                    put(
                        &mut values,
                        slot,
                        f64::from(u8::from(side_ports.contains(port))),
                    );
                }
                let other = !lowest.is_empty() && side_ports.iter().any(|p| !wk.contains(p));
                put(&mut values, other_slot, f64::from(u8::from(other)));
            }
        }
    }
    let set = |values: &mut [f64], name: &str, v: f64| {
        if let Some(&i) = index.get(name) {
            put(values, i, v);
        }
    };
    let flag = |b: bool| f64::from(u8::from(b));
    set(
        &mut values,
        "tshark_ipv4",
        flag(mine.iter().any(|r| r.ip_version == Some(4))),
    );
    set(
        &mut values,
        "tshark_ipv6",
        flag(mine.iter().any(|r| r.ip_version == Some(6))),
    );
    set(
        &mut values,
        "tshark_ipx",
        flag(mine.iter().any(|r| r.eth_type == Some(ETH_TYPE_IPX))),
    );
    set(
        &mut values,
        "tshark_nonip",
        flag(
            mine.iter()
                .any(|r| r.eth_type.is_some_and(|t| !ETH_IP_TYPES.contains(&t))),
        ),
    );
    set(
        &mut values,
        "tshark_both_private_ip",
        flag(mine.iter().any(|r| r.both_private)),
    );
    set(
        &mut values,
        "tshark_ipv4_multicast",
        flag(mine.iter().any(|r| r.ipv4_multicast)),
    );
    set(
        &mut values,
        "tshark_tagged_vlan",
        flag(mine.iter().any(|r| r.tagged)),
    );
    let protos = mine.iter().fold(0u8, |a, r| a | r.protocols);
    for (bit, &slot) in slots.wk_protos.iter().enumerate() {
        put(&mut values, slot, f64::from(protos >> bit & 1));
    }
    // Unique IPs over the packets the host sent ('None' counts).
    let mut src_seen: Vec<NetIp> = Vec::new();
    let mut src_counts: FastMap<NetIp, u64> = FastMap::default();
    let mut dst_set: FastSet<NetIp> = FastSet::default();
    for r in mine.iter().filter(|r| r.eth_src == mac) {
        if !src_counts.contains_key(&r.src_ip) {
            src_seen.push(r.src_ip);
        }
        *src_counts.entry(r.src_ip).or_default() += 1;
        dst_set.insert(r.dst_ip);
    }
    set(&mut values, "tshark_unique_srcips", src_seen.len() as f64);
    set(&mut values, "tshark_unique_dstips", dst_set.len() as f64);
    let source_ips: Vec<NetIp> = src_seen
        .iter()
        .copied()
        .filter(|ip| *ip != NetIp::None)
        .collect();
    let mut source_ip_counts: Vec<(NetIp, u64)> = source_ips
        .iter()
        .map(|ip| (*ip, src_counts.get(ip).copied().unwrap_or(0)))
        .collect();
    source_ip_counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    ratio_features(mine, &mut ratios);
    let frame_epoch = mine
        .iter()
        .map(|r| r.ts_nanos)
        .max()
        .map_or(f64::NAN, epoch_seconds);
    HostFeatures {
        mac,
        values,
        ratios,
        frame_epoch,
        source_ips,
        source_ip_counts,
        packets: mine.len() as u64,
    }
}

/// The 58 `*_packet_ratio_io_port_*` features (§4.7): per listed port, packets from it over
/// packets to it; for `other`, the same over unlisted ports of that range. One pass over the
/// host's packets counts every source and destination port; the ratios are read off those
/// counts (the same values as counting each listed port over the packets again).
fn ratio_features(mine: &[&PacketRow], ratios: &mut [f64]) {
    let slots = slots();
    for (p, (proto, number)) in PORT_PROTOS.into_iter().enumerate() {
        // Packets per port, as a source and as a destination.
        let (mut src, mut dst): (FastMap<u16, usize>, FastMap<u16, usize>) =
            (FastMap::default(), FastMap::default());
        for r in mine.iter().filter(|r| r.ip_proto == Some(number)) {
            let (s, d) = if proto == "tcp" {
                r.tcp_ports
            } else {
                r.udp_ports
            };
            if let Some(p) = s {
                *src.entry(p).or_insert(0) += 1;
            }
            if let Some(p) = d {
                *dst.entry(p).or_insert(0) += 1;
            }
        }
        let (Some(priv_slots), Some(nonpriv_slots), Some(other_slots)) = (
            slots.ratio_priv.get(p),
            slots.ratio_nonpriv.get(p),
            slots.ratio_other.get(p),
        ) else {
            continue;
        };
        for ((wk, port_slots, in_range), &other_slot) in [
            (
                &WK_PRIV_PORTS[..],
                &priv_slots[..],
                (|p: u16| p < PRIV_PORT_LIMIT) as fn(u16) -> bool,
            ),
            (&WK_NONPRIV_PORTS[..], &nonpriv_slots[..], |p: u16| {
                p >= PRIV_PORT_LIMIT
            }),
        ]
        .into_iter()
        .zip(other_slots)
        {
            let listed = |counts: &FastMap<u16, usize>, port: u16| {
                if in_range(port) {
                    counts.get(&port).copied().unwrap_or(0)
                } else {
                    0
                }
            };
            let other = |counts: &FastMap<u16, usize>| {
                counts
                    .iter()
                    .filter(|&(&p, _)| in_range(p) && !wk.contains(&p))
                    .map(|(_, &n)| n)
                    .sum::<usize>()
            };
            for (&port, &slot) in wk.iter().zip(port_slots) {
                let (s, d) = (listed(&src, port), listed(&dst, port));
                // Counts of zero are missing (None) in networkML: ratio only when both exist.
                let ratio = if s > 0 && d > 0 {
                    s as f64 / d as f64
                } else {
                    0.0
                };
                put(ratios, slot, ratio);
            }
            let (s, d) = (other(&src), other(&dst));
            let ratio = if d > 0 {
                s as f64 / d as f64
            } else if s > 0 {
                1.0
            } else {
                0.0
            };
            put(ratios, other_slot, ratio);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: i64, src: u8, dst: u8) -> PacketRow {
        // 0xff: broadcast; otherwise a unicast MAC ending in the number.
        let mac = |b: u8| {
            if b == 0xff {
                MacAddr([0xff; 6])
            } else {
                MacAddr([0, 0, 0, 0, 0, b])
            }
        };
        PacketRow {
            ts_nanos: ts,
            delta_nanos: 0,
            frame_len: 60,
            eth_src: mac(src),
            eth_dst: mac(dst),
            eth_type: Some(0x0800),
            tagged: false,
            ip_version: Some(4),
            src_ip: NetIp::None,
            dst_ip: NetIp::None,
            both_private: false,
            ipv4_multicast: false,
            protocols: 0,
            dsfield: None,
            ip_flags: None,
            tcp_flags: None,
            ip_proto: None,
            tcp_ports: (None, None),
            udp_ports: (None, None),
        }
    }

    /// The grouping agrees with the plain per-row definition: every unicast MAC is a host;
    /// a row is in the lists of its unicast source and destination, in capture order,
    /// except a frame a host sent to itself, which is in none.
    #[test]
    fn rows_by_host_matches_the_definition() {
        let pairs = [
            (1, 2),
            (2, 1),
            (3, 3),
            (1, 0xff),
            (4, 1),
            (2, 3),
            (5, 5),
            (1, 2),
            (0xff, 6),
        ];
        let rows: Vec<PacketRow> = pairs
            .iter()
            .enumerate()
            .map(|(i, &(s, d))| row(i as i64, s, d))
            .collect();
        let got: Vec<(MacAddr, Vec<i64>)> = rows_by_host(&rows)
            .into_iter()
            .map(|(m, rs)| (m, rs.iter().map(|r| r.ts_nanos).collect()))
            .collect();
        let mut want: Vec<(MacAddr, Vec<i64>)> = Vec::new();
        for b in [1u8, 2, 3, 4, 5, 6] {
            let mac = MacAddr([0, 0, 0, 0, 0, b]);
            let ts = rows
                .iter()
                .filter(|r| r.eth_src != r.eth_dst && (r.eth_src == mac || r.eth_dst == mac))
                .map(|r| r.ts_nanos)
                .collect();
            want.push((mac, ts));
        }
        assert_eq!(got, want);
        // Host 5 only ever sent to itself: listed, with no rows.
        assert!(got.iter().any(|(m, rs)| m.0[5] == 5 && rs.is_empty()));
    }

    #[test]
    fn ipv6_text_matches_python() {
        // Expected strings: str(ipaddress.ip_address(...)) in CPython 3.8.
        let cases = [
            (
                "2a00:d40:1:3:7aac:c0ff:fea7:d4c",
                "2a00:d40:1:3:7aac:c0ff:fea7:d4c",
            ),
            ("::ffff:1.2.3.4", "::ffff:102:304"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("fe80::", "fe80::"),
            ("1::", "1::"),
        ];
        for (input, want) in cases {
            let a: Ipv6Addr = input.parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
            assert_eq!(NetIp::V6(a).python_str(), want);
        }
    }

    #[test]
    fn small_ipv6_becomes_ipv4_and_private_follows_python_38() {
        assert_eq!(NetIp::from_v6(Ipv6Addr::LOCALHOST).python_str(), "0.0.0.1");
        assert!(NetIp::V4(Ipv4Addr::new(10, 1, 2, 3)).is_private());
        assert!(!NetIp::V4(Ipv4Addr::new(100, 64, 0, 1)).is_private());
        assert!(NetIp::V4(Ipv4Addr::new(192, 0, 0, 171)).is_private());
        assert!(!NetIp::V4(Ipv4Addr::new(192, 0, 0, 172)).is_private());
        let ula: Ipv6Addr = "fd00::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert!(NetIp::V6(ula).is_private());
        let global: Ipv6Addr = "2a00:d40::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert!(!NetIp::V6(global).is_private());
    }
}
