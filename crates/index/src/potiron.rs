//! potiron's view of one packet (current version, standard format), shared by the index and
//! by `trident decode --format potiron`, so both agree on every value.
//!
//! potiron gets its values from `tshark -E occurrence=f -Y 'ip.dst ne 255.255.255.255'`, i.e.
//! the *first* occurrence of each field in the frame. trident reproduces that from its layered
//! decode: the IP fields come from the outermost IPv4 header (the carrier of a tunnel), the
//! ports and sequence numbers from the first TCP (else UDP) header, which for an ICMP error is
//! the quoted one (potiron's quirk Q10). Absent values keep potiron's defaults: `-1` for ports
//! and sequence numbers, `255` for ICMP type and code.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use trident_decode::{IpInfo, Packet, Transport};

/// potiron's `JSON_FIELDS`, in potiron's order: the fields it indexes per packet.
pub const JSON_FIELDS: [&str; 12] = [
    "length", "protocol", "ipsrc", "ipdst", "ipttl", "iptos", "sport", "dport", "tcpseq", "tcpack",
    "icmpcode", "icmptype",
];

/// potiron's `FIELDS`: the raw tshark columns of the standard format, in order.
pub const RAW_FIELDS: [&str; 15] = [
    "timestamp",
    "length",
    "protocol",
    "ipsrc",
    "ipdst",
    "ipttl",
    "iptos",
    "tsport",
    "usport",
    "tdport",
    "udport",
    "tcpseq",
    "tcpack",
    "icmpcode",
    "icmptype",
];

/// The value potiron writes for an absent port, sequence or acknowledgement number.
pub const ABSENT: i64 = -1;
/// The value potiron writes for an absent ICMP type or code.
pub const ABSENT_ICMP: u8 = 255;

/// One packet as potiron's standard format indexes it. Every IPv4 field is present because
/// only IPv4 packets pass potiron's filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PotironPacket {
    /// `ip.len` of the first IPv4 header.
    pub length: u32,
    /// `ip.proto`.
    pub protocol: u8,
    /// `ip.src`.
    pub ipsrc: Ipv4Addr,
    /// `ip.dst`.
    pub ipdst: Ipv4Addr,
    /// `ip.ttl`.
    pub ipttl: u8,
    /// `ip.dsfield` (DSCP and ECN), written `0x..` by potiron.
    pub iptos: u8,
    /// First TCP, else first UDP, ports as (source, destination).
    pub ports: Option<(u16, u16)>,
    /// First TCP sequence number (absolute).
    pub tcpseq: Option<u32>,
    /// First TCP acknowledgement number (tshark 4.0 prints it whatever the ACK flag says).
    pub tcpack: Option<u32>,
    /// ICMP (code, type) of the packet itself.
    pub icmp: Option<(u8, u8)>,
}

/// The first IPv4 header of the frame, as tshark's first occurrence of `ip.*` sees it.
fn first_ipv4(p: &Packet<'_>) -> Option<IpInfo> {
    match (p.tunnel, p.ip) {
        (Some(t), _) if t.outer.src.is_ipv4() => Some(t.outer),
        (_, Some(ip)) if ip.src.is_ipv4() => Some(ip),
        _ => None,
    }
}

const BROADCAST: IpAddr = IpAddr::V4(Ipv4Addr::BROADCAST);

/// tshark's `ip.dst ne 255.255.255.255` is true only when *no* `ip.dst` in the frame is the
/// broadcast address (outer, inner and ICMP-quoted headers all count).
fn passes_filter(p: &Packet<'_>) -> bool {
    let quoted = match &p.transport {
        Some(Transport::Icmp(i)) => i.quoted.map(|q| q.dst),
        _ => None,
    };
    let dsts = [p.tunnel.map(|t| t.outer.dst), p.ip.map(|i| i.dst), quoted];
    !dsts.iter().flatten().any(|d| *d == BROADCAST)
}

const fn v4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

/// potiron's normalization of one decoded packet, or `None` when potiron would not see it
/// (no IPv4 header, or a destination of 255.255.255.255 anywhere in the frame).
#[must_use]
pub fn normalize(p: &Packet<'_>) -> Option<PotironPacket> {
    let ip = first_ipv4(p)?;
    if !passes_filter(p) {
        return None;
    }
    // First TCP header: the packet's own, else the one an ICMP error quotes.
    let (tcp_ports, tcpseq, tcpack) = match &p.transport {
        Some(Transport::Tcp(t)) => (Some((t.src_port, t.dst_port)), Some(t.seq), Some(t.ack)),
        Some(Transport::Icmp(i)) => match i.quoted {
            Some(q) if q.protocol == 6 => (q.ports, q.tcp_seq, None),
            _ => (None, None, None),
        },
        _ => (None, None, None),
    };
    // First UDP header: a UDP tunnel's carrier, else the packet's own, else the quote.
    let udp_ports = match (&p.tunnel, &p.transport) {
        (Some(t), _) if t.outer_ports.is_some() && t.outer.src.is_ipv4() => t.outer_ports,
        (_, Some(Transport::Udp(u))) => Some((u.src_port, u.dst_port)),
        (_, Some(Transport::Icmp(i))) => {
            i.quoted.filter(|q| q.protocol == 17).and_then(|q| q.ports)
        }
        _ => None,
    };
    let icmp = match &p.transport {
        Some(Transport::Icmp(i)) => Some((i.code, i.icmp_type)),
        _ => None,
    };
    Some(PotironPacket {
        length: ip.total_len,
        protocol: ip.protocol,
        ipsrc: v4(ip.src),
        ipdst: v4(ip.dst),
        ipttl: ip.ttl,
        iptos: (ip.dscp << 2) | ip.ecn,
        ports: tcp_ports.or(udp_ports),
        tcpseq,
        tcpack,
        icmp,
    })
}

/// Protocol keywords for potiron's combined keys (`<sensor>:<name>:<day>:<field>`): the
/// IANA protocol keywords as Debian's `netbase` lists them in `/etc/protocols` (lower case,
/// the first keyword of a number). potiron reads its own copy (`doc/protocols`), whose names
/// agree for the protocols in its goldens (icmp, igmp, tcp, udp).
const PROTOCOL_NAMES: [(u8, &str); 56] = [
    (0, "ip"),
    (1, "icmp"),
    (2, "igmp"),
    (3, "ggp"),
    (4, "ipencap"),
    (5, "st"),
    (6, "tcp"),
    (8, "egp"),
    (9, "igp"),
    (12, "pup"),
    (17, "udp"),
    (20, "hmp"),
    (22, "xns-idp"),
    (27, "rdp"),
    (29, "iso-tp4"),
    (33, "dccp"),
    (36, "xtp"),
    (37, "ddp"),
    (38, "idpr-cmtp"),
    (41, "ipv6"),
    (43, "ipv6-route"),
    (44, "ipv6-frag"),
    (45, "idrp"),
    (46, "rsvp"),
    (47, "gre"),
    (50, "esp"),
    (51, "ah"),
    (57, "skip"),
    (58, "ipv6-icmp"),
    (59, "ipv6-nonxt"),
    (60, "ipv6-opts"),
    (73, "rspf"),
    (81, "vmtp"),
    (88, "eigrp"),
    (89, "ospf"),
    (93, "ax.25"),
    (94, "ipip"),
    (97, "etherip"),
    (98, "encap"),
    (99, "#"),
    (103, "pim"),
    (108, "ipcomp"),
    (112, "vrrp"),
    (115, "l2tp"),
    (124, "isis"),
    (132, "sctp"),
    (133, "fc"),
    (135, "mobility-header"),
    (136, "udplite"),
    (137, "mpls-in-ip"),
    (138, "manet"),
    (139, "hip"),
    (140, "shim6"),
    (141, "wesp"),
    (142, "rohc"),
    (143, "ethernet"),
];

/// The protocol name potiron's combined keys use for an IP protocol number (`99` is `#`, as
/// in potiron). potiron fails on numbers missing from its table (its quirk Q15); trident
/// uses the decimal number instead, so every packet is counted.
#[must_use]
pub fn protocol_key_name(protocol: u8) -> std::borrow::Cow<'static, str> {
    PROTOCOL_NAMES
        .iter()
        .find(|(n, _)| *n == protocol)
        .map_or_else(
            || std::borrow::Cow::Owned(protocol.to_string()),
            |(_, name)| std::borrow::Cow::Borrowed(*name),
        )
}

/// potiron's sensor name: the first three of exactly four `-`-separated parts of the base
/// name (`test-honeypot-1-20140826140000.cap.gz` → `test-honeypot-1`), else `None`.
#[must_use]
pub fn sensor_name(base: &str) -> Option<String> {
    let mut parts = base.split('-');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some(a), Some(b), Some(c), Some(_), None) => Some(format!("{a}-{b}-{c}")),
        _ => None,
    }
}

/// The length of potiron's file-name timestamp `YYYYMMDDhhmmss`.
const NAME_STAMP_LEN: usize = 14;

/// The day potiron reads from a file name's last `-` part (`…-20140826140000.cap.gz` →
/// `20140826`), which it adds to `<sensor>_DAYS` even when no packet falls on it.
#[must_use]
pub fn file_name_day(base: &str) -> Option<u32> {
    sensor_name(base)?;
    let last = base.rsplit('-').next()?;
    let stamp = last.get(..NAME_STAMP_LEN)?;
    if !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stamp.get(..8)?.parse().ok()
}

/// The base name of a path as potiron records it in `FILES`.
#[must_use]
pub fn base_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_names_follow_potiron() {
        assert_eq!(
            sensor_name("test-honeypot-1-20140826000000.cap.gz").as_deref(),
            Some("test-honeypot-1")
        );
        assert_eq!(sensor_name("sensorname-20200223104232.pcap"), None);
        assert_eq!(sensor_name("a-b-c-d-e"), None);
    }

    #[test]
    fn file_name_days() {
        assert_eq!(
            file_name_day("test-nintendo-1-20170722235946.cap.gz"),
            Some(20_170_722)
        );
        assert_eq!(file_name_day("x.pcap"), None);
        assert_eq!(file_name_day("a-b-c-2017.cap.gz"), None);
    }
}
