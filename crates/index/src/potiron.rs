//! potiron's view of one packet (current version, standard format), shared by the index and
//! by `trident decode --format potiron`, so both agree on every value.
//!
//! potiron gets its values from `tshark -E occurrence=f -Y 'ip.dst ne 255.255.255.255'`, i.e.
//! the *first* occurrence of each field in the frame. trident reproduces that from its layered
//! decode: the IP fields come from the outermost IPv4 header (the carrier of a tunnel, or the
//! first IPv4 header inside an IPv6 carrier of nested tunnels), the ports and sequence
//! numbers from the first TCP (else UDP) header, which for an ICMP error is the quoted one
//! (potiron's quirk Q10; ICMPv6 errors in an IPv4 tunnel too). Absent values keep potiron's
//! defaults: `-1` for ports and sequence numbers, `255` for ICMP type and code.
//!
//! tshark also reassembles IPv4 fragments (`ip.defragment`, on by default): the transport
//! fields of a fragmented datagram appear on the frame that completes it, and on no other
//! fragment. That needs the packets of a file in order, so it is [`Normalizer`]'s job;
//! [`normalize`] alone sees one packet.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use trident_decode::{IpInfo, Packet, Transport, TunnelInfo};

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
        (
            Some(TunnelInfo {
                first_ipv4: Some(ip),
                ..
            }),
            _,
        ) => Some(ip),
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
    // First TCP header: the packet's own, else the one an ICMP (or, in a 6in4 tunnel, an
    // ICMPv6) error quotes. tshark 4.0 stops an ICMP quote after the sequence number even
    // when the router quoted the whole TCP header (ndpi/alexa-app.pcapng, redirects), but
    // dissects an ICMPv6 quote whole, acknowledgement number included.
    let (tcp_ports, tcpseq, tcpack) = match &p.transport {
        Some(Transport::Tcp(t)) => (Some((t.src_port, t.dst_port)), Some(t.seq), Some(t.ack)),
        Some(Transport::Icmp(i)) => match i.quoted {
            Some(q) if q.protocol == 6 => (q.ports, q.tcp_seq, None),
            _ => (None, None, None),
        },
        Some(Transport::Icmpv6(i)) => match i.quoted {
            Some(q) if q.protocol == 6 => (q.ports, q.tcp_seq, q.tcp_ack),
            _ => (None, None, None),
        },
        _ => (None, None, None),
    };
    // First UDP header: a UDP tunnel's carrier, else the packet's own, else the quote.
    let udp_ports = match (&p.tunnel, &p.transport) {
        (Some(t), _) if t.outer_ports.is_some() && t.outer.src.is_ipv4() => t.outer_ports,
        (_, Some(Transport::Udp(u))) => Some((u.src_port, u.dst_port)),
        (_, Some(Transport::Icmp(i) | Transport::Icmpv6(i))) => {
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

/// What tshark finds above the IP layer of a packet: the fields IPv4 reassembly moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Upper {
    ports: Option<(u16, u16)>,
    tcpseq: Option<u32>,
    tcpack: Option<u32>,
    icmp: Option<(u8, u8)>,
}

impl PotironPacket {
    const fn upper(&self) -> Upper {
        Upper {
            ports: self.ports,
            tcpseq: self.tcpseq,
            tcpack: self.tcpack,
            icmp: self.icmp,
        }
    }

    const fn with_upper(self, u: Upper) -> Self {
        PotironPacket {
            ports: u.ports,
            tcpseq: u.tcpseq,
            tcpack: u.tcpack,
            icmp: u.icmp,
            ..self
        }
    }
}

/// A fragmented datagram: source, destination, protocol and identification of its IPv4
/// header (tshark keys its reassembly table on the same, plus the VLAN id).
type FragKey = (Ipv4Addr, Ipv4Addr, u8, u32);

/// The fragments of one datagram seen so far.
#[derive(Debug, Default, Clone)]
struct Datagram {
    /// Payload byte ranges `[start, end)` of the fragments.
    parts: Vec<(u32, u32)>,
    /// Payload size, known once the last fragment (more-fragments clear) is seen.
    size: Option<u32>,
    /// The upper-layer fields of the first fragment (offset 0), as decoded from it.
    first: Option<Upper>,
}

impl Datagram {
    /// True when the fragments cover the whole payload (tshark then dissects the
    /// reassembled datagram in the frame that completed it).
    fn complete(&mut self) -> bool {
        let Some(size) = self.size else { return false };
        self.parts.sort_unstable();
        let mut reach = 0;
        for &(start, end) in &self.parts {
            if start > reach {
                return false;
            }
            reach = reach.max(end);
            if reach >= size {
                return true;
            }
        }
        false
    }
}

/// The IPv4 header that is fragmented in this frame: the carrier of a tunnel, else the
/// packet's own.
fn fragmented_ipv4(p: &Packet<'_>) -> Option<IpInfo> {
    let fragmented = |i: &IpInfo| i.src.is_ipv4() && (i.more_fragments || i.fragment_offset != 0);
    match (p.tunnel, p.ip) {
        (Some(t), _) if fragmented(&t.outer) => Some(t.outer),
        (_, Some(ip)) if fragmented(&ip) => Some(ip),
        _ => None,
    }
}

/// potiron's normalization of the packets of one capture, in capture order: [`normalize`]
/// plus tshark's IPv4 reassembly. A fragment of a datagram that is not complete yet has no
/// ports, sequence numbers or ICMP type (tshark only shows "Fragmented IP protocol"); the
/// fragment that completes it gets those of the datagram (decoded from its first
/// fragment), whatever its own offset. Fragments of datagrams never completed keep none.
/// Use one per capture file: tshark's reassembly table lives as long as its run.
#[derive(Debug, Default, Clone)]
pub struct Normalizer {
    datagrams: HashMap<FragKey, Datagram>,
}

impl Normalizer {
    /// The next packet of the capture as potiron sees it, or `None` when potiron would not
    /// see it (see [`normalize`]).
    pub fn normalize(&mut self, p: &Packet<'_>) -> Option<PotironPacket> {
        let pp = normalize(p);
        let Some(ip) = fragmented_ipv4(p) else {
            return pp;
        };
        let payload = ip.total_len.saturating_sub(u32::from(ip.header_len));
        if payload == 0 {
            // tshark reassembles only fragments with a payload; it dissects such a first
            // fragment as it is, as trident does.
            return pp;
        }
        let key = (v4(ip.src), v4(ip.dst), ip.protocol, ip.id.unwrap_or(0));
        let d = self.datagrams.entry(key).or_default();
        let start = u32::from(ip.fragment_offset);
        d.parts.push((start, start + payload));
        if !ip.more_fragments {
            d.size = Some(start + payload);
        }
        if start == 0 {
            d.first = pp.map(|x| x.upper());
        }
        if d.complete() {
            let first = d.first.unwrap_or_default();
            self.datagrams.remove(&key);
            pp.map(|x| x.with_upper(first))
        } else {
            pp.map(|x| x.with_upper(Upper::default()))
        }
    }
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
    use trident_decode::{LinkType, decode};

    /// An Ethernet frame carrying one IPv4 header (no options) and `payload`.
    fn ipv4_frame(proto: u8, id: u16, more: bool, offset: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        let total = u16::try_from(20 + payload.len()).unwrap();
        let flags = (if more { 0x2000 } else { 0 }) | (offset / 8);
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&flags.to_be_bytes());
        f.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(payload);
        f
    }

    /// A UDP datagram 123 -> 137 with `len` payload bytes.
    fn udp(len: usize) -> Vec<u8> {
        let mut d = vec![0, 123, 0, 137];
        d.extend_from_slice(&u16::try_from(8 + len).unwrap().to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.resize(8 + len, 0xab);
        d
    }

    fn ports(n: &mut Normalizer, frame: &[u8]) -> Option<(u16, u16)> {
        n.normalize(&decode(LinkType::ETHERNET, frame))
            .expect("an IPv4 packet")
            .ports
    }

    #[test]
    fn fragments_get_ports_where_tshark_reassembles() {
        // One 56-byte UDP datagram in two fragments: tshark shows "Fragmented IP protocol"
        // on the first and the reassembled UDP header on the second.
        let dgram = udp(48);
        let first = ipv4_frame(17, 7, true, 0, &dgram[..32]);
        let last = ipv4_frame(17, 7, false, 32, &dgram[32..]);
        // Without the file's context the first fragment shows its own UDP header.
        assert_eq!(
            normalize(&decode(LinkType::ETHERNET, &first))
                .unwrap()
                .ports,
            Some((123, 137))
        );
        let mut n = Normalizer::default();
        assert_eq!(ports(&mut n, &first), None);
        assert_eq!(ports(&mut n, &last), Some((123, 137)));
        // The datagram is done: the same identification starts a new one.
        assert_eq!(ports(&mut n, &first), None);
        // Fragments arriving last-first: the first fragment completes the datagram.
        let mut n = Normalizer::default();
        assert_eq!(ports(&mut n, &last), None);
        assert_eq!(ports(&mut n, &first), Some((123, 137)));
        // A datagram never completed (zeek/ipv4/fragmented-3.pcap): no ports anywhere.
        let mut n = Normalizer::default();
        let middle = ipv4_frame(17, 8, true, 32, &dgram[32..40]);
        assert_eq!(
            ports(&mut n, &ipv4_frame(17, 8, true, 0, &dgram[..32])),
            None
        );
        assert_eq!(ports(&mut n, &middle), None);
        // Another identification is another datagram; unfragmented packets are untouched.
        assert_eq!(
            ports(&mut n, &ipv4_frame(17, 9, false, 0, &dgram)),
            Some((123, 137))
        );
    }

    /// An IPv6 header with `next` and `payload_len`, 2001:db8::1 -> 2001:db8::2.
    fn ipv6_header(next: u8, payload_len: usize) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&u16::try_from(payload_len).unwrap().to_be_bytes());
        h.extend_from_slice(&[next, 64]);
        for last in [1, 2] {
            h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            h.extend_from_slice(&[0; 11]);
            h.push(last);
        }
        h
    }

    #[test]
    fn icmpv6_error_in_6in4_reports_the_quoted_tcp_header() {
        // As ndpi/6in4tunnel.pcap frame 3: IPv4 (protocol 41) carrying an ICMPv6 destination
        // unreachable that quotes an IPv6 TCP segment 993 -> 60491. tshark's first
        // tcp.srcport/tcp.dstport/tcp.seq are the quoted ones.
        let mut tcp = vec![0x03, 0xe1, 0xec, 0x4b];
        tcp.extend_from_slice(&1_392_213_373u32.to_be_bytes());
        tcp.extend_from_slice(&426_776_216u32.to_be_bytes());
        tcp.extend_from_slice(&[0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
        let mut icmp = vec![1, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend(ipv6_header(6, tcp.len()));
        icmp.extend(tcp);
        let mut inner = ipv6_header(58, icmp.len());
        inner.extend(icmp);
        let frame = ipv4_frame(41, 1, false, 0, &inner);
        let pp = normalize(&decode(LinkType::ETHERNET, &frame)).unwrap();
        assert_eq!(pp.protocol, 41);
        assert_eq!(pp.ports, Some((993, 60491)));
        assert_eq!(pp.tcpseq, Some(1_392_213_373));
        assert_eq!(pp.tcpack, Some(426_776_216));
        // tshark's icmp.type is ICMP (v4) only.
        assert_eq!(pp.icmp, None);
    }

    #[test]
    fn fragmented_icmp_echo_has_its_type_on_the_last_fragment() {
        let mut echo = vec![8, 0, 0, 0, 0, 1, 0, 1];
        echo.resize(64, 0x61);
        let mut n = Normalizer::default();
        let a = n.normalize(&decode(
            LinkType::ETHERNET,
            &ipv4_frame(1, 3, true, 0, &echo[..40]),
        ));
        let b = n.normalize(&decode(
            LinkType::ETHERNET,
            &ipv4_frame(1, 3, false, 40, &echo[40..]),
        ));
        assert_eq!(a.unwrap().icmp, None);
        assert_eq!(b.unwrap().icmp, Some((0, 8)));
    }

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
