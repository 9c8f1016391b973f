//! The host record: one row of `trident hosts`, its field names the public schema.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};
use trident_types::{MacAddr, Timestamp};

/// A transport port a host offered or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Service {
    /// IP protocol number (6 TCP, 17 UDP).
    pub protocol: u8,
    /// Port.
    pub port: u16,
}

/// `tcp/80`, `udp/53`, or `p<N>/<port>` for another protocol.
impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            6 => write!(f, "tcp/{}", self.port),
            17 => write!(f, "udp/{}", self.port),
            p => write!(f, "p{p}/{}", self.port),
        }
    }
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn ser_ts<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

fn ser_opt_mac<S: Serializer>(m: &Option<MacAddr>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.collect_str(m),
        None => s.serialize_none(),
    }
}

/// One host. Serializes (serde) to the columns of `trident hosts --format json/csv`, in
/// [`COLUMNS`] order; absent values are omitted from JSON and empty in csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRecord {
    /// The host's MAC; `None` for a host known by IP only (behind a router, or from a
    /// capture without link-layer addresses).
    #[serde(
        serialize_with = "ser_opt_mac",
        skip_serializing_if = "Option::is_none"
    )]
    pub mac: Option<MacAddr>,
    /// Its main address: the one it sent most packets from (for an IP-only host, its
    /// identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// For a host seen only through a router: the router's MAC.
    #[serde(
        serialize_with = "ser_opt_mac",
        skip_serializing_if = "Option::is_none"
    )]
    pub behind_router: Option<MacAddr>,
    /// True when this MAC forwards traffic from foreign addresses (a router or gateway).
    pub router: bool,
    /// Organization the IEEE registered the MAC's block to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// True for a locally administered (typically randomised) MAC, which has no vendor.
    pub mac_local: bool,
    /// IPv4 addresses it used, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses it used, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipv6: Vec<Ipv6Addr>,
    /// First packet of any of its flows.
    #[serde(serialize_with = "ser_ts")]
    pub first_ts: Timestamp,
    /// Last packet of any of its flows.
    #[serde(serialize_with = "ser_ts")]
    pub last_ts: Timestamp,
    /// DHCP option 12 host name (the earliest seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_hostname: Option<String>,
    /// DHCP option 60 vendor class (the earliest seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_vendor_class: Option<String>,
    /// DHCP option 55 parameter request list (fingerbank's fingerprint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_fingerprint: Option<String>,
    /// DHCPv6 client DUID, lower-case hex (the earliest seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcpv6_duid: Option<String>,
    /// DHCPv6 option 39 client FQDN (the earliest seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcpv6_fqdn: Option<String>,
    /// DHCPv6 option 16 vendor class: enterprise number and first data string (e.g.
    /// `311 MSFT 5.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcpv6_vendor_class: Option<String>,
    /// DHCPv6 option 6 option request list, decimal, comma-separated (fingerbank's DHCPv6
    /// fingerprint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcpv6_fingerprint: Option<String>,
    /// True when the host was seen only in ARP (and DHCP/DHCPv6): no IP flow of its own.
    pub link_only: bool,
    /// Names it announced over mDNS.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mdns_names: Vec<String>,
    /// SSDP SERVER headers it sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssdp_servers: Vec<String>,
    /// SSDP LOCATION headers it sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssdp_locations: Vec<String>,
    /// Names it asked DNS (and LLMNR) servers for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_queries: Vec<String>,
    /// Ports it answered on: TCP with a SYN/ACK, UDP with a reply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services_offered: Vec<Service>,
    /// Ports of other hosts that answered it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services_used: Vec<Service>,
    /// TLS server names it sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls_sni: Vec<String>,
    /// JA3 hashes of its ClientHellos.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls_ja3: Vec<String>,
    /// JA4 fingerprints of its ClientHellos.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls_ja4: Vec<String>,
    /// HTTP User-Agents it sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http_user_agents: Vec<String>,
    /// Passive OS guess (see [`crate::os`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<&'static str>,
    /// What the guess rests on: `signature` or `ttl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_basis: Option<&'static str>,
    /// The packet it was read from: `syn`, or `synack` for a host seen only as a server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_source: Option<&'static str>,
    /// Hops from the host to the capture point, from the TTL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_hops: Option<u8>,
    /// The SYN's fingerprint, `ver:ttl:mss:window,wscale:options:df`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_fingerprint: Option<String>,
    /// Flows it took part in.
    pub flows: u64,
    /// Packets it sent.
    pub pkts_out: u64,
    /// Packets it received.
    pub pkts_in: u64,
    /// Wire bytes it sent.
    pub bytes_out: u64,
    /// Wire bytes it received.
    pub bytes_in: u64,
}

/// Every column of [`HostRecord`], in output order (csv header order).
pub const COLUMNS: &[&str] = &[
    "mac",
    "ip",
    "behind_router",
    "router",
    "vendor",
    "mac_local",
    "ipv4",
    "ipv6",
    "first_ts",
    "last_ts",
    "dhcp_hostname",
    "dhcp_vendor_class",
    "dhcp_fingerprint",
    "dhcpv6_duid",
    "dhcpv6_fqdn",
    "dhcpv6_vendor_class",
    "dhcpv6_fingerprint",
    "link_only",
    "mdns_names",
    "ssdp_servers",
    "ssdp_locations",
    "dns_queries",
    "services_offered",
    "services_used",
    "tls_sni",
    "tls_ja3",
    "tls_ja4",
    "http_user_agents",
    "os",
    "os_basis",
    "os_source",
    "os_hops",
    "os_fingerprint",
    "flows",
    "pkts_out",
    "pkts_in",
    "bytes_out",
    "bytes_in",
];
