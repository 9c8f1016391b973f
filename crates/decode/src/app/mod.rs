//! Application-layer hints: the few fields of DNS, DHCP, TLS, HTTP and SSDP that say what a
//! host is and what it talks to.
//!
//! A hint is looked for only on the ports its protocol uses (or, for TLS and HTTP, when the
//! payload starts like one), so ordinary packets pay a couple of comparisons and allocate
//! nothing. Each parser is a maintained crate (hickory-proto for DNS, dhcproto for DHCPv4 and
//! DHCPv6, tls-parser for TLS, httparse for HTTP and SSDP); a payload those parsers reject
//! yields no hint, not an error, and a payload cut by the snap length or the segment end yields
//! whatever decoded before the cut.
//!
//! Where a crate trusts the wire more than a hint may (hickory's recursive compression-pointer
//! walk, dhcproto's unchecked option-length arithmetic), the input is checked first: see the
//! `Guards` sections of the module sources. Nothing here catches panics; nothing should need to.
//!
//! Text taken from the wire (names, user agents, SNI) is escaped the way tshark prints it:
//! control characters as C escapes, invalid UTF-8 as U+FFFD. So hints are safe to log, and the
//! corpus tests compare them with `tshark -T fields` output byte for byte.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::{MacAddr, Transport};

mod dhcp;
mod dhcpv6;
mod dns;
mod http;
mod ssdp;
mod text;
mod tls;

/// DNS, over UDP and TCP.
const DNS_PORT: u16 = 53;
/// Multicast DNS.
const MDNS_PORT: u16 = 5353;
/// DHCPv4 server and client.
const DHCP_SERVER_PORT: u16 = 67;
const DHCP_CLIENT_PORT: u16 = 68;
/// DHCPv6 client and server.
const DHCPV6_CLIENT_PORT: u16 = 546;
const DHCPV6_SERVER_PORT: u16 = 547;
/// SSDP.
const SSDP_PORT: u16 = 1900;
/// The highest UDP port that has a hint: datagrams between two higher ports are passed over
/// after one comparison.
const MAX_HINT_UDP_PORT: u16 = MDNS_PORT;

/// Questions kept per DNS message. mDNS queries ask for up to a few dozen services at once.
pub const MAX_DNS_QUESTIONS: usize = 32;
/// Resource records (answer, authority and additional, in order) kept per DNS message.
pub const MAX_DNS_RECORDS: usize = 32;
/// DHCPv4 parameter request list entries kept (one option holds at most 255).
pub const MAX_DHCP_PARAMS: usize = 255;
/// DHCPv6 option request list entries kept.
pub const MAX_DHCPV6_OPTION_REQUESTS: usize = 128;
/// DHCPv6 IA_NA/IA_TA addresses kept.
pub const MAX_DHCPV6_ADDRESSES: usize = 16;
/// ALPN protocol names kept from a ClientHello.
pub const MAX_TLS_ALPN: usize = 16;

/// The application hint of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppHint {
    /// DNS or mDNS.
    Dns(DnsHint),
    /// DHCPv4 (BOOTP on UDP 67/68).
    Dhcp(DhcpHint),
    /// DHCPv6 (UDP 546/547).
    Dhcpv6(Dhcpv6Hint),
    /// A TLS ClientHello.
    Tls(TlsHint),
    /// An HTTP/1.x request.
    Http(HttpHint),
    /// SSDP / UPnP discovery (HTTP over UDP 1900).
    Ssdp(SsdpHint),
}

impl AppHint {
    /// Short protocol name: `dns`, `mdns`, `dhcp`, `dhcpv6`, `tls`, `http`, `ssdp`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            AppHint::Dns(d) if d.mdns => "mdns",
            AppHint::Dns(_) => "dns",
            AppHint::Dhcp(_) => "dhcp",
            AppHint::Dhcpv6(_) => "dhcpv6",
            AppHint::Tls(_) => "tls",
            AppHint::Http(_) => "http",
            AppHint::Ssdp(_) => "ssdp",
        }
    }
}

/// A DNS or mDNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsHint {
    /// True when carried on UDP 5353 (multicast DNS).
    pub mdns: bool,
    /// Message id.
    pub id: u16,
    /// QR bit: true for responses.
    pub response: bool,
    /// Opcode.
    pub opcode: u8,
    /// Response code.
    pub rcode: u8,
    /// Questions, in message order.
    pub questions: Vec<DnsQuestion>,
    /// Answer, authority and additional records, in message order (capped).
    pub answers: Vec<DnsRecord>,
}

/// One DNS question.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsQuestion {
    /// Name without the trailing dot, as tshark prints `dns.qry.name`.
    pub name: String,
    /// Query type (1 A, 28 AAAA, 12 PTR, 33 SRV, 16 TXT, ...).
    pub qtype: u16,
}

/// One DNS resource record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsRecord {
    /// Owner name without the trailing dot.
    pub name: String,
    /// Record type.
    pub rtype: u16,
    /// TTL in seconds.
    pub ttl: u32,
    /// Data as text: an address for A/AAAA, a name for CNAME/PTR/NS, `prio weight port
    /// target` for SRV, the strings for TXT; empty for types not rendered.
    pub data: String,
}

/// A DHCPv4 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpHint {
    /// BOOTP op: 1 request, 2 reply.
    pub op: u8,
    /// Option 53 message type (1 DISCOVER ... 8 INFORM), if present.
    pub message_type: Option<u8>,
    /// Transaction id.
    pub xid: u32,
    /// `chaddr` (the client's MAC, for Ethernet).
    pub client_mac: MacAddr,
    /// `ciaddr`.
    pub client_ip: Ipv4Addr,
    /// `yiaddr`.
    pub your_ip: Ipv4Addr,
    /// Option 12 host name.
    pub hostname: Option<String>,
    /// Option 60 vendor class identifier.
    pub vendor_class: Option<String>,
    /// Option 55 parameter request list, in order: the DHCP fingerprint.
    pub param_request_list: Vec<u8>,
    /// Option 50 requested IP address.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 81 client FQDN name, if present.
    pub client_fqdn: Option<String>,
}

impl DhcpHint {
    /// The DHCP fingerprint as fingerbank writes it: option 55 as decimal, comma-separated.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        join_decimal(&self.param_request_list)
    }
}

/// A DHCPv6 message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dhcpv6Hint {
    /// Message type (1 SOLICIT, 3 REQUEST, 7 REPLY, 11 INFORMATION-REQUEST, ...).
    pub message_type: u8,
    /// Transaction id (24 bits).
    pub xid: u32,
    /// Client DUID as lower-case hex.
    pub client_duid: Option<String>,
    /// Option 39 client FQDN.
    pub fqdn: Option<String>,
    /// Option 16 vendor class: enterprise number and the first data string.
    pub vendor_class: Option<String>,
    /// Option 6 option request list, in order (the DHCPv6 fingerprint).
    pub option_request: Vec<u16>,
    /// Addresses from IA_NA/IA_TA options.
    pub addresses: Vec<Ipv6Addr>,
    /// True when the message came wrapped in RELAY-FORW/RELAY-REPL; the fields above are
    /// those of the innermost (client or server) message.
    pub relayed: bool,
}

/// A TLS ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsHint {
    /// Server name indication.
    pub sni: Option<String>,
    /// ALPN protocols offered, in order.
    pub alpn: Vec<String>,
    /// The ClientHello's legacy version field (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// supported_versions extension, GREASE removed, in order.
    pub supported_versions: Vec<u16>,
    /// The JA3 string: `version,ciphers,extensions,curves,point_formats` (GREASE removed).
    pub ja3: String,
    /// MD5 of [`TlsHint::ja3`], lower-case hex.
    pub ja3_hash: String,
    /// The JA4 fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`).
    pub ja4: String,
    /// True when the ClientHello was cut (by the segment or the snap length) before its end.
    /// The fields that parsed before the cut are set; `ja3`, `ja3_hash` and `ja4` are empty,
    /// because a fingerprint over part of the extensions would be a different fingerprint.
    pub truncated: bool,
}

/// An HTTP/1.x request line and the headers trident keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpHint {
    /// Method (`GET`, `POST`, ...).
    pub method: String,
    /// Request target as sent.
    pub path: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Host header.
    pub host: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
}

/// An SSDP message: a NOTIFY or M-SEARCH request, or a search response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsdpHint {
    /// `NOTIFY`, `M-SEARCH` or `RESPONSE`.
    pub kind: String,
    /// SERVER header (the device's OS and UPnP stack).
    pub server: Option<String>,
    /// LOCATION header (URL of the device description).
    pub location: Option<String>,
    /// NT (notify) or ST (search) target.
    pub target: Option<String>,
    /// USN header.
    pub usn: Option<String>,
    /// USER-AGENT header (on M-SEARCH).
    pub user_agent: Option<String>,
}

/// Joins numbers with commas, no spaces.
pub(crate) fn join_decimal<T: std::fmt::Display>(items: &[T]) -> String {
    let mut out = String::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&v.to_string());
    }
    out
}

/// Looks for an application hint in a transport payload.
///
/// `transport` gives the protocol and ports; `payload` is what follows its header (possibly
/// cut by the snap length). Returns `None` when the payload is not one of the protocols
/// above or does not parse.
///
/// Which parser runs is decided by the transport and ports alone (UDP 53 DNS, 5353 mDNS, 67/68
/// DHCP, 546/547 DHCPv6, 1900 SSDP; TCP 53 DNS with its length prefix) or, on any TCP port, by
/// the first bytes (a TLS handshake record holding a ClientHello, possibly after a
/// ChangeCipherSpec record; an HTTP method and a space).
/// Where both ports name a protocol, the lower port wins.
#[must_use]
pub fn hint(transport: &Transport, payload: &[u8]) -> Option<AppHint> {
    if payload.is_empty() {
        return None;
    }
    match transport {
        Transport::Udp(u) => udp_hint(u.src_port, u.dst_port, payload),
        Transport::Tcp(t) => tcp_hint(t.src_port, t.dst_port, payload),
        _ => None,
    }
}

/// The UDP protocols with a hint.
#[derive(Clone, Copy)]
enum UdpService {
    Dns,
    Mdns,
    Dhcp,
    Dhcpv6,
    Ssdp,
}

fn udp_service(port: u16) -> Option<UdpService> {
    match port {
        DNS_PORT => Some(UdpService::Dns),
        MDNS_PORT => Some(UdpService::Mdns),
        DHCP_SERVER_PORT | DHCP_CLIENT_PORT => Some(UdpService::Dhcp),
        DHCPV6_CLIENT_PORT | DHCPV6_SERVER_PORT => Some(UdpService::Dhcpv6),
        SSDP_PORT => Some(UdpService::Ssdp),
        _ => None,
    }
}

#[inline]
fn udp_hint(src: u16, dst: u16, payload: &[u8]) -> Option<AppHint> {
    let (low, high) = if src <= dst { (src, dst) } else { (dst, src) };
    if low > MAX_HINT_UDP_PORT {
        return None;
    }
    match udp_service(low).or_else(|| udp_service(high))? {
        UdpService::Dns => dns::parse_udp(payload, false).map(AppHint::Dns),
        UdpService::Mdns => dns::parse_udp(payload, true).map(AppHint::Dns),
        UdpService::Dhcp => dhcp::parse(payload).map(AppHint::Dhcp),
        UdpService::Dhcpv6 => dhcpv6::parse(payload).map(AppHint::Dhcpv6),
        UdpService::Ssdp => ssdp::parse(payload).map(AppHint::Ssdp),
    }
}

#[inline]
fn tcp_hint(src: u16, dst: u16, payload: &[u8]) -> Option<AppHint> {
    if src == DNS_PORT || dst == DNS_PORT {
        return dns::parse_tcp(payload).map(AppHint::Dns);
    }
    match *payload.first()? {
        tls::CONTENT_HANDSHAKE | tls::CONTENT_CHANGE_CIPHER_SPEC => {
            tls::parse(payload).map(AppHint::Tls)
        }
        b'C'..=b'T' if http::starts_with_method(payload) => http::parse(payload).map(AppHint::Http),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
mod tests {
    use super::*;
    use crate::{TcpInfo, UdpInfo};

    fn udp(src: u16, dst: u16) -> Transport {
        Transport::Udp(UdpInfo {
            src_port: src,
            dst_port: dst,
            length: 0,
        })
    }

    fn tcp(src: u16, dst: u16) -> Transport {
        Transport::Tcp(TcpInfo {
            src_port: src,
            dst_port: dst,
            ..TcpInfo::default()
        })
    }

    #[test]
    fn dispatch_by_port() {
        let q = dns::tests::query();
        assert_eq!(hint(&udp(40000, 53), &q).map(|h| h.name()), Some("dns"));
        assert_eq!(hint(&udp(53, 40000), &q).map(|h| h.name()), Some("dns"));
        assert_eq!(hint(&udp(5353, 5353), &q).map(|h| h.name()), Some("mdns"));
        assert_eq!(hint(&udp(40000, 5353), &q).map(|h| h.name()), Some("mdns"));
        // The lower port wins: a query from 5353 to 53 is plain DNS.
        assert_eq!(hint(&udp(5353, 53), &q).map(|h| h.name()), Some("dns"));
        assert_eq!(hint(&udp(40000, 40001), &q), None);
        assert_eq!(hint(&udp(40000, 54), &q), None);

        let d = dhcp::tests::discover();
        assert_eq!(hint(&udp(68, 67), &d).map(|h| h.name()), Some("dhcp"));
        let s = dhcpv6::tests::solicit();
        assert_eq!(hint(&udp(546, 547), &s).map(|h| h.name()), Some("dhcpv6"));
        assert_eq!(
            hint(&udp(50000, 1900), ssdp::tests::SEARCH).map(|h| h.name()),
            Some("ssdp")
        );
        // SSDP is UDP only; HTTP is TCP only.
        assert_eq!(hint(&tcp(50000, 1900), ssdp::tests::SEARCH), None);
        assert_eq!(hint(&udp(50000, 80), http::tests::REQUEST), None);
    }

    #[test]
    fn dispatch_by_content_on_tcp() {
        let ch = tls::tests::ja4_spec_example();
        assert_eq!(hint(&tcp(50000, 8443), &ch).map(|h| h.name()), Some("tls"));
        assert_eq!(
            hint(&tcp(50000, 8080), http::tests::REQUEST).map(|h| h.name()),
            Some("http")
        );
        let q = dns::tests::query();
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        assert_eq!(
            hint(&tcp(50000, 53), &framed).map(|h| h.name()),
            Some("dns")
        );
        assert_eq!(hint(&tcp(50000, 80), b"\x00\x01binary"), None);
        assert_eq!(hint(&tcp(50000, 80), b""), None);
        assert_eq!(hint(&udp(50000, 53), b""), None);
    }

    #[test]
    fn non_tcp_udp_transports_have_no_hint() {
        let icmp = Transport::Icmp(crate::IcmpInfo {
            icmp_type: 8,
            code: 0,
            echo: None,
            quoted: None,
            nd_target: None,
            nd_lladdr: None,
        });
        assert_eq!(hint(&icmp, &dns::tests::query()), None);
    }

    /// xorshift64*: a seeded generator, so failures replay.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Every transport that reaches a parser.
    fn transports() -> Vec<Transport> {
        vec![
            udp(53, 40000),
            udp(5353, 5353),
            udp(67, 68),
            udp(546, 547),
            udp(1900, 50000),
            tcp(50000, 53),
            tcp(50000, 443),
        ]
    }

    /// Random bytes of random lengths through every parser: must not panic. TCP payloads are
    /// also given a TLS or HTTP start so the deeper parsers see them.
    #[test]
    fn random_bytes_never_panic() {
        const ROUNDS: usize = 20_000;
        const MAX_LEN: usize = 700;
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let mut hinted = 0;
        for round in 0..ROUNDS {
            let len = rng.below(MAX_LEN);
            let mut buf: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            match round % 3 {
                1 if buf.len() > 6 => buf[..6].copy_from_slice(&[0x16, 3, 1, 0x02, 0x00, 1]),
                2 if buf.len() > 4 => buf[..4].copy_from_slice(b"GET "),
                _ => {}
            }
            for t in transports() {
                if hint(&t, &buf).is_some() {
                    hinted += 1;
                }
            }
        }
        // DNS headers are any 12 bytes, so random data does produce hints: the parsers ran.
        assert!(hinted > ROUNDS / 2, "{hinted}");
    }

    /// Valid messages with random bytes overwritten, inserted or cut: must not panic.
    #[test]
    fn mutated_messages_never_panic() {
        const ROUNDS: usize = 4_000;
        const MAX_EDITS: usize = 8;
        let samples: Vec<(Transport, Vec<u8>)> = vec![
            (udp(53, 40000), dns::tests::query()),
            (udp(53, 40000), dns::tests::response()),
            (udp(68, 67), dhcp::tests::discover()),
            (udp(546, 547), dhcpv6::tests::solicit()),
            (udp(50000, 1900), ssdp::tests::NOTIFY.to_vec()),
            (udp(50000, 1900), ssdp::tests::RESPONSE.to_vec()),
            (tcp(50000, 443), tls::tests::ja4_spec_example()),
            (tcp(50000, 80), http::tests::REQUEST.to_vec()),
        ];
        let mut rng = Rng(0x5eed_1234_abcd_0002);
        for _ in 0..ROUNDS {
            for (t, sample) in &samples {
                let mut buf = sample.clone();
                for _ in 0..=rng.below(MAX_EDITS) {
                    let at = rng.below(buf.len().max(1));
                    match rng.below(4) {
                        0 | 1 => {
                            if let Some(b) = buf.get_mut(at) {
                                *b = rng.next() as u8;
                            }
                        }
                        2 => buf.insert(at.min(buf.len()), rng.next() as u8),
                        _ => buf.truncate(at),
                    }
                }
                let _ = hint(t, &buf);
            }
        }
    }
}
