//! The fold: flows into per-endpoint accumulators, accumulators into host records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use trident_decode::{AppHint, Packet, app::Dhcpv6Hint};
use trident_flow::{FlowRecord, TcpFingerprint};
use trident_types::{MacAddr, Timestamp};

use crate::os::guess;
use crate::record::{HostRecord, Service};
use crate::{
    MAX_ADDRS_PER_HOST, MAX_ENDPOINTS, MAX_FINGERPRINTS_PER_HOST, MAX_NAMES_PER_HOST,
    MAX_SERVICES_PER_HOST, ROUTER_MIN_FOREIGN_NETWORKS, oui,
};

/// Protocol numbers.
const TCP: u8 = 6;
const UDP: u8 = 17;
/// Ports whose queries are a host resolving names: DNS and LLMNR.
const RESOLVER_PORTS: [u16; 2] = [53, 5355];
/// mDNS.
const MDNS_PORT: u16 = 5353;
/// Prefix lengths of a network: /24 for IPv4, /64 for IPv6.
const HOME_V4_BITS: u32 = 24;
const HOME_V6_BITS: u32 = 64;

/// A capped, sorted set: keeps the smallest `cap` items, so what is kept does not depend on
/// the order items arrive in.
fn add_capped<T: Ord>(set: &mut BTreeSet<T>, item: T, cap: usize) {
    set.insert(item);
    if set.len() > cap {
        set.pop_last();
    }
}

/// The earliest value wins, so the result does not depend on fold order.
fn earliest(slot: &mut Option<(Timestamp, String)>, ts: Timestamp, v: Option<&str>) {
    let Some(v) = v else { return };
    match slot {
        Some((t, old)) if (*t, old.as_str()) <= (ts, v) => {}
        _ => *slot = Some((ts, v.to_owned())),
    }
}

/// What one (MAC, IP) endpoint did.
#[derive(Debug, Default)]
struct Accum {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    flows: u64,
    pkts_out: u64,
    pkts_in: u64,
    bytes_out: u64,
    bytes_in: u64,
    offered: BTreeSet<Service>,
    used: BTreeSet<Service>,
    dns: BTreeSet<String>,
    mdns: BTreeSet<String>,
    ssdp_servers: BTreeSet<String>,
    ssdp_locations: BTreeSet<String>,
    sni: BTreeSet<String>,
    ja3: BTreeSet<String>,
    ja4: BTreeSet<String>,
    user_agents: BTreeSet<String>,
    /// SYN (index 0) and SYN/ACK (1) fingerprints, by text form, with counts.
    fingerprints: [BTreeMap<String, (u64, TcpFingerprint)>; 2],
}

impl Accum {
    fn span(&mut self, first: Timestamp, last: Timestamp) {
        self.first = Some(self.first.map_or(first, |f| f.min(first)));
        self.last = Some(self.last.map_or(last, |l| l.max(last)));
    }

    fn fingerprint(&mut self, which: usize, fp: &TcpFingerprint) {
        let Some(map) = self.fingerprints.get_mut(which) else {
            return;
        };
        let key = fp.to_string();
        if let Some(e) = map.get_mut(&key) {
            e.0 += 1;
        } else if map.len() < MAX_FINGERPRINTS_PER_HOST {
            map.insert(key, (1, *fp));
        }
    }

    fn merge(&mut self, other: &Accum) {
        if let (Some(f), Some(l)) = (other.first, other.last) {
            self.span(f, l);
        }
        self.flows += other.flows;
        self.pkts_out += other.pkts_out;
        self.pkts_in += other.pkts_in;
        self.bytes_out += other.bytes_out;
        self.bytes_in += other.bytes_in;
        for s in &other.offered {
            add_capped(&mut self.offered, *s, MAX_SERVICES_PER_HOST);
        }
        for s in &other.used {
            add_capped(&mut self.used, *s, MAX_SERVICES_PER_HOST);
        }
        for (mine, theirs) in [
            (&mut self.dns, &other.dns),
            (&mut self.mdns, &other.mdns),
            (&mut self.ssdp_servers, &other.ssdp_servers),
            (&mut self.ssdp_locations, &other.ssdp_locations),
            (&mut self.sni, &other.sni),
            (&mut self.ja3, &other.ja3),
            (&mut self.ja4, &other.ja4),
            (&mut self.user_agents, &other.user_agents),
        ] {
            for n in theirs {
                add_capped(mine, n.clone(), MAX_NAMES_PER_HOST);
            }
        }
        for (mine, theirs) in self.fingerprints.iter_mut().zip(&other.fingerprints) {
            for (k, (n, fp)) in theirs {
                if let Some(e) = mine.get_mut(k) {
                    e.0 += n;
                } else if mine.len() < MAX_FINGERPRINTS_PER_HOST {
                    mine.insert(k.clone(), (*n, *fp));
                }
            }
        }
    }
}

/// What DHCP said about one client MAC.
#[derive(Debug, Default)]
struct DhcpAccum {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    hostname: Option<(Timestamp, String)>,
    vendor_class: Option<(Timestamp, String)>,
    fingerprint: Option<(Timestamp, String)>,
    addrs: BTreeSet<Ipv4Addr>,
}

/// What a MAC said outside IP flows: ARP claims and DHCPv6.
#[derive(Debug, Default)]
struct LinkAccum {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// IPv4 addresses it claimed as ARP sender.
    arp_ips: BTreeSet<Ipv4Addr>,
    duid: Option<(Timestamp, String)>,
    fqdn: Option<(Timestamp, String)>,
    vendor_class: Option<(Timestamp, String)>,
    fingerprint: Option<(Timestamp, String)>,
    /// Addresses a DHCPv6 server assigned it (REPLY).
    v6_addrs: BTreeSet<Ipv6Addr>,
}

impl LinkAccum {
    fn seen(&mut self, ts: Timestamp) {
        self.first = Some(self.first.map_or(ts, |t| t.min(ts)));
        self.last = Some(self.last.map_or(ts, |t| t.max(ts)));
    }
}

/// DHCPv6 message types a client sends (RFC 8415 §7.3): SOLICIT, REQUEST, CONFIRM, RENEW,
/// REBIND, RELEASE, DECLINE, INFORMATION-REQUEST.
const DHCPV6_CLIENT_MESSAGES: [u8; 8] = [1, 3, 4, 5, 6, 8, 9, 11];
/// DHCPv6 message types a server sends to a client: ADVERTISE, REPLY, RECONFIGURE.
const DHCPV6_SERVER_MESSAGES: [u8; 3] = [2, 7, 10];
/// DHCPv6 REPLY: its IA addresses are the client's.
const DHCPV6_REPLY: u8 = 7;
/// ARP hardware type of Ethernet, as DUID-LL/LLT carry it.
const HWTYPE_ETHERNET: u16 = 1;

/// The Ethernet address inside a DUID-LLT (type 1) or DUID-LL (type 3), from its hex form.
fn duid_mac(duid_hex: &str) -> Option<MacAddr> {
    let bytes: Vec<u8> = (0..duid_hex.len() / 2)
        .map(|i| {
            duid_hex
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<_>>()?;
    let (head, rest) = bytes.split_at_checked(4)?;
    let kind = u16::from_be_bytes([*head.first()?, *head.get(1)?]);
    let hwtype = u16::from_be_bytes([*head.get(2)?, *head.get(3)?]);
    let addr = match kind {
        1 => rest.get(4..)?,
        3 => rest,
        _ => return None,
    };
    if hwtype != HWTYPE_ETHERNET || addr.len() != 6 {
        return None;
    }
    MacAddr::from_slice(addr)
}

/// A MAC that can name a host: unicast and not all zeros.
fn host_mac(mac: MacAddr) -> bool {
    !mac.is_multicast() && mac != MacAddr::default()
}

/// Counters of one inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InventoryStats {
    /// Flows folded.
    pub flows: u64,
    /// Endpoints not kept because [`MAX_ENDPOINTS`] were already held.
    pub endpoints_dropped: u64,
}

/// The host inventory being folded. See the crate documentation.
#[derive(Debug, Default)]
pub struct HostInventory {
    endpoints: HashMap<(Option<MacAddr>, IpAddr), Accum>,
    dhcp: BTreeMap<MacAddr, DhcpAccum>,
    link: BTreeMap<MacAddr, LinkAccum>,
    stats: InventoryStats,
}

/// True for addresses that name one host: not unspecified, multicast or the IPv4 limited
/// broadcast.
fn unicast_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
    }
}

/// True for addresses that are local wherever they are seen: private (RFC 1918), shared
/// (RFC 6598), link-local, loopback, unique-local.
fn always_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [b0, b1, ..] = a.octets();
            a.is_private() || a.is_link_local() || a.is_loopback() || (b0 == 100 && b1 & 0xc0 == 64)
        }
        IpAddr::V6(a) => {
            let s0 = a.segments()[0];
            a.is_loopback() || s0 & 0xfe00 == 0xfc00 || s0 & 0xffc0 == 0xfe80
        }
    }
}

/// The home-network prefix an address falls in (family-tagged).
fn network(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a) >> (32 - HOME_V4_BITS))),
        IpAddr::V6(a) => (true, u128::from(a) >> (128 - HOME_V6_BITS)),
    }
}

impl HostInventory {
    /// An empty inventory.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> InventoryStats {
        self.stats
    }

    fn endpoint(&mut self, mac: Option<MacAddr>, ip: IpAddr) -> Option<&mut Accum> {
        if !unicast_ip(ip) || mac.is_some_and(|m| m.is_multicast()) {
            return None;
        }
        let key = (mac, ip);
        if !self.endpoints.contains_key(&key) && self.endpoints.len() >= MAX_ENDPOINTS {
            self.stats.endpoints_dropped += 1;
            return None;
        }
        Some(self.endpoints.entry(key).or_default())
    }

    /// Folds in what a packet says outside IP flows: the MAC and IPv4 address an ARP
    /// sender claims, and a DHCPv6 client's DUID, FQDN, vendor class, option request list
    /// and assigned addresses. Call it for every packet (it looks at two fields of packets
    /// that are neither). A MAC seen only this way still becomes a host
    /// ([`HostRecord::link_only`]).
    ///
    /// DHCPv6 messages are attributed to the client: the Ethernet source of a client
    /// message, the Ethernet destination of a server's; for relayed messages (the relay's
    /// MAC is not the client's), the Ethernet address inside a DUID-LL/LLT, if any.
    pub fn add_packet(&mut self, ts: Timestamp, packet: &Packet<'_>) {
        if let Some(arp) = &packet.arp {
            if host_mac(arp.sender_mac) {
                if let Some(e) = self.link_entry(arp.sender_mac) {
                    e.seen(ts);
                    if unicast_ip(IpAddr::V4(arp.sender_ip)) {
                        add_capped(&mut e.arp_ips, arp.sender_ip, MAX_ADDRS_PER_HOST);
                    }
                }
            }
            return;
        }
        let Some(AppHint::Dhcpv6(d)) = packet.app.as_deref() else {
            return;
        };
        self.add_dhcpv6(ts, packet, d);
    }

    fn link_entry(&mut self, mac: MacAddr) -> Option<&mut LinkAccum> {
        if !self.link.contains_key(&mac) && self.link.len() >= MAX_ENDPOINTS {
            self.stats.endpoints_dropped += 1;
            return None;
        }
        Some(self.link.entry(mac).or_default())
    }

    fn add_dhcpv6(&mut self, ts: Timestamp, packet: &Packet<'_>, d: &Dhcpv6Hint) {
        let client = DHCPV6_CLIENT_MESSAGES.contains(&d.message_type);
        let server = DHCPV6_SERVER_MESSAGES.contains(&d.message_type);
        let mac = if d.relayed {
            d.client_duid.as_deref().and_then(duid_mac)
        } else if client {
            packet.eth.map(|e| e.src)
        } else if server {
            packet.eth.map(|e| e.dst)
        } else {
            None
        };
        let Some(mac) = mac.filter(|m| host_mac(*m)) else {
            return;
        };
        let Some(e) = self.link_entry(mac) else {
            return;
        };
        e.seen(ts);
        earliest(&mut e.duid, ts, d.client_duid.as_deref());
        if client {
            earliest(&mut e.fqdn, ts, d.fqdn.as_deref().filter(|f| !f.is_empty()));
            earliest(&mut e.vendor_class, ts, d.vendor_class.as_deref());
            if !d.option_request.is_empty() {
                let fp = d
                    .option_request
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                earliest(&mut e.fingerprint, ts, Some(&fp));
            }
        }
        if d.message_type == DHCPV6_REPLY {
            for a in &d.addresses {
                if unicast_ip(IpAddr::V6(*a)) {
                    add_capped(&mut e.v6_addrs, *a, MAX_ADDRS_PER_HOST);
                }
            }
        }
    }

    /// Folds one flow in.
    pub fn add(&mut self, f: &FlowRecord) {
        self.stats.flows += 1;
        for d in &f.dhcp {
            if d.client_mac.is_multicast() || d.client_mac == MacAddr::default() {
                continue;
            }
            let e = self.dhcp.entry(d.client_mac).or_default();
            e.first = Some(e.first.map_or(f.first_ts, |t| t.min(f.first_ts)));
            e.last = Some(e.last.map_or(f.last_ts, |t| t.max(f.last_ts)));
            earliest(&mut e.hostname, f.first_ts, d.hostname.as_deref());
            earliest(&mut e.vendor_class, f.first_ts, d.vendor_class.as_deref());
            earliest(&mut e.fingerprint, f.first_ts, d.fingerprint.as_deref());
            for a in [d.assigned_ip, d.requested_ip].into_iter().flatten() {
                if unicast_ip(IpAddr::V4(a)) {
                    add_capped(&mut e.addrs, a, MAX_ADDRS_PER_HOST);
                }
            }
        }
        let tcp = f.protocol == TCP;
        let answered = if tcp {
            f.resp_synack.is_some()
        } else {
            f.resp_pkts > 0
        };
        let resp_service = f.resp_port.map(|port| Service {
            protocol: f.protocol,
            port,
        });
        // Only a side that sent something is known to exist (a flow first seen at its
        // SYN/ACK has a silent originator).
        let orig = if f.orig_pkts > 0 {
            self.endpoint(f.orig_mac, f.orig_ip)
        } else {
            None
        };
        if let Some(o) = orig {
            o.span(f.first_ts, f.last_ts);
            o.flows += 1;
            o.pkts_out += f.orig_pkts;
            o.pkts_in += f.resp_pkts;
            o.bytes_out += f.orig_bytes;
            o.bytes_in += f.resp_bytes;
            if let Some(s) = resp_service.filter(|_| answered && (tcp || f.protocol == UDP)) {
                add_capped(&mut o.used, s, MAX_SERVICES_PER_HOST);
            }
            if f.resp_port.is_some_and(|p| RESOLVER_PORTS.contains(&p)) {
                for q in &f.dns_queries {
                    add_capped(&mut o.dns, q.clone(), MAX_NAMES_PER_HOST);
                }
            }
            if f.orig_port == Some(MDNS_PORT) {
                for n in &f.mdns_names {
                    add_capped(&mut o.mdns, n.clone(), MAX_NAMES_PER_HOST);
                }
            }
            for (set, v) in [
                (&mut o.ssdp_servers, &f.ssdp_server),
                (&mut o.ssdp_locations, &f.ssdp_location),
                (&mut o.sni, &f.tls_sni),
                (&mut o.ja3, &f.tls_ja3),
                (&mut o.ja4, &f.tls_ja4),
                (&mut o.user_agents, &f.http_user_agent),
            ] {
                if let Some(v) = v {
                    add_capped(set, v.clone(), MAX_NAMES_PER_HOST);
                }
            }
            if let Some(fp) = &f.orig_syn {
                o.fingerprint(0, fp);
            }
        }
        if f.resp_pkts == 0 {
            return;
        }
        if let Some(r) = self.endpoint(f.resp_mac, f.resp_ip) {
            r.span(f.first_ts, f.last_ts);
            r.flows += 1;
            r.pkts_out += f.resp_pkts;
            r.pkts_in += f.orig_pkts;
            r.bytes_out += f.resp_bytes;
            r.bytes_in += f.orig_bytes;
            if let Some(s) = resp_service.filter(|_| answered && (tcp || f.protocol == UDP)) {
                add_capped(&mut r.offered, s, MAX_SERVICES_PER_HOST);
            }
            if f.resp_port == Some(MDNS_PORT) {
                for n in &f.mdns_names {
                    add_capped(&mut r.mdns, n.clone(), MAX_NAMES_PER_HOST);
                }
            }
            if let Some(fp) = &f.resp_synack {
                r.fingerprint(1, fp);
            }
        }
    }

    /// The host records, sorted: hosts with a MAC by MAC, then IP-only hosts by address.
    #[must_use]
    pub fn finish(self) -> Vec<HostRecord> {
        let mut by_mac: BTreeMap<Option<MacAddr>, Vec<(IpAddr, Accum)>> = BTreeMap::new();
        for ((mac, ip), acc) in self.endpoints {
            by_mac.entry(mac).or_default().push((ip, acc));
        }
        let shared = shared_networks(&by_mac);
        let mut dhcp = self.dhcp;
        let mut link = self.link;
        let mut hosts = Vec::new();
        let mut ip_only = Vec::new();
        for (mac, mut entries) in by_mac {
            entries.sort_by_key(|e| e.0);
            let Some(mac) = mac else {
                // No link layer: one host per address.
                for (ip, acc) in entries {
                    ip_only.push(build(None, None, false, &[(ip, acc)], None, None));
                }
                continue;
            };
            let foreign = foreign_addrs(&entries, &shared);
            let foreign_nets: BTreeSet<_> = foreign.iter().map(|ip| network(*ip)).collect();
            let router = foreign_nets.len() >= ROUTER_MIN_FOREIGN_NETWORKS;
            let (own, behind): (Vec<_>, Vec<_>) = entries
                .into_iter()
                .partition(|(ip, _)| !router || !foreign.contains(ip));
            for (ip, acc) in behind {
                ip_only.push(build(None, Some(mac), false, &[(ip, acc)], None, None));
            }
            hosts.push(build(
                Some(mac),
                None,
                router,
                &own,
                dhcp.remove(&mac),
                link.remove(&mac),
            ));
        }
        // Clients seen only in DHCP (broadcasts from 0.0.0.0, no other traffic), ARP or
        // DHCPv6.
        for (mac, d) in dhcp {
            let l = link.remove(&mac);
            hosts.push(build(Some(mac), None, false, &[], Some(d), l));
        }
        for (mac, l) in link {
            hosts.push(build(Some(mac), None, false, &[], None, Some(l)));
        }
        hosts.sort_by_key(|h| h.mac);
        ip_only.sort_by_key(|h| h.ip);
        hosts.extend(ip_only);
        hosts
    }
}

/// The addresses of a MAC that are foreign to it: not always-local, and in a network (/24,
/// /64) that no other MAC sends from.
fn foreign_addrs(
    entries: &[(IpAddr, Accum)],
    shared: &BTreeMap<(bool, u128), bool>,
) -> BTreeSet<IpAddr> {
    entries
        .iter()
        .map(|(ip, _)| *ip)
        .filter(|ip| !always_local(*ip) && !shared.get(&network(*ip)).copied().unwrap_or(false))
        .collect()
}

/// For every network some MAC sends from: whether more than one MAC does.
fn shared_networks(
    by_mac: &BTreeMap<Option<MacAddr>, Vec<(IpAddr, Accum)>>,
) -> BTreeMap<(bool, u128), bool> {
    let mut first_mac: BTreeMap<(bool, u128), (MacAddr, bool)> = BTreeMap::new();
    for (mac, entries) in by_mac {
        let Some(mac) = mac else { continue };
        for (ip, _) in entries {
            let e = first_mac.entry(network(*ip)).or_insert((*mac, false));
            if e.0 != *mac {
                e.1 = true;
            }
        }
    }
    first_mac
        .into_iter()
        .map(|(k, (_, shared))| (k, shared))
        .collect()
}

/// One host record from the endpoints it is made of.
fn build(
    mac: Option<MacAddr>,
    behind_router: Option<MacAddr>,
    router: bool,
    entries: &[(IpAddr, Accum)],
    dhcp: Option<DhcpAccum>,
    link: Option<LinkAccum>,
) -> HostRecord {
    let mut acc = Accum::default();
    for (_, a) in entries {
        acc.merge(a);
    }
    // The main address: most packets sent, then the lowest.
    let ip = entries
        .iter()
        .max_by(|a, b| a.1.pkts_out.cmp(&b.1.pkts_out).then(b.0.cmp(&a.0)))
        .map(|e| e.0);
    let mut ipv4 = BTreeSet::new();
    let mut ipv6 = BTreeSet::new();
    for (a, _) in entries {
        match a {
            IpAddr::V4(v) => add_capped(&mut ipv4, *v, MAX_ADDRS_PER_HOST),
            IpAddr::V6(v) => add_capped(&mut ipv6, *v, MAX_ADDRS_PER_HOST),
        }
    }
    let (mut first, mut last) = (acc.first, acc.last);
    let mut dhcp_fields = (None, None, None);
    if let Some(d) = dhcp {
        for a in d.addrs {
            add_capped(&mut ipv4, a, MAX_ADDRS_PER_HOST);
        }
        first = first.min(d.first).or(first).or(d.first);
        last = last.max(d.last);
        dhcp_fields = (
            d.hostname.map(|v| v.1),
            d.vendor_class.map(|v| v.1),
            d.fingerprint.map(|v| v.1),
        );
    }
    let mut v6_fields = (None, None, None, None);
    if let Some(l) = link {
        for a in l.arp_ips {
            add_capped(&mut ipv4, a, MAX_ADDRS_PER_HOST);
        }
        for a in l.v6_addrs {
            add_capped(&mut ipv6, a, MAX_ADDRS_PER_HOST);
        }
        first = first.min(l.first).or(first).or(l.first);
        last = last.max(l.last);
        v6_fields = (
            l.duid.map(|v| v.1),
            l.fqdn.map(|v| v.1),
            l.vendor_class.map(|v| v.1),
            l.fingerprint.map(|v| v.1),
        );
    }
    // OS: the most frequent SYN, else the most frequent SYN/ACK (ties: smallest text).
    let pick = |m: &BTreeMap<String, (u64, TcpFingerprint)>| {
        m.iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)))
            .map(|(_, (_, fp))| *fp)
    };
    let [syns, synacks] = &acc.fingerprints;
    let os = match (pick(syns), pick(synacks)) {
        (Some(fp), _) => Some((guess(&fp), "syn")),
        (None, Some(fp)) => Some((guess(&fp), "synack")),
        (None, None) => None,
    };
    let vendor = mac.and_then(|m| oui::vendor(&m)).map(str::to_owned);
    HostRecord {
        mac,
        ip: if mac.is_none() {
            ip
        } else {
            ip.or(ipv4.first().map(|a| IpAddr::V4(*a)))
                .or(ipv6.first().map(|a| IpAddr::V6(*a)))
        },
        behind_router,
        router,
        vendor,
        mac_local: mac.is_some_and(|m| oui::is_locally_administered(&m)),
        ipv4: ipv4.into_iter().collect(),
        ipv6: ipv6.into_iter().collect(),
        first_ts: first.unwrap_or_default(),
        last_ts: last.unwrap_or_default(),
        dhcp_hostname: dhcp_fields.0,
        dhcp_vendor_class: dhcp_fields.1,
        dhcp_fingerprint: dhcp_fields.2,
        dhcpv6_duid: v6_fields.0,
        dhcpv6_fqdn: v6_fields.1,
        dhcpv6_vendor_class: v6_fields.2,
        dhcpv6_fingerprint: v6_fields.3,
        // A router whose addresses are all foreign keeps none of its own, but sent IP.
        link_only: mac.is_some() && entries.is_empty() && !router,
        mdns_names: acc.mdns.into_iter().collect(),
        ssdp_servers: acc.ssdp_servers.into_iter().collect(),
        ssdp_locations: acc.ssdp_locations.into_iter().collect(),
        dns_queries: acc.dns.into_iter().collect(),
        services_offered: acc.offered.into_iter().collect(),
        services_used: acc.used.into_iter().collect(),
        tls_sni: acc.sni.into_iter().collect(),
        tls_ja3: acc.ja3.into_iter().collect(),
        tls_ja4: acc.ja4.into_iter().collect(),
        http_user_agents: acc.user_agents.into_iter().collect(),
        os: os.as_ref().map(|(g, _)| g.os),
        os_basis: os.as_ref().map(|(g, _)| g.basis.name()),
        os_source: os.as_ref().map(|(_, s)| *s),
        os_hops: os.as_ref().map(|(g, _)| g.hops),
        os_fingerprint: os.map(|(g, _)| g.fingerprint),
        flows: acc.flows,
        pkts_out: acc.pkts_out,
        pkts_in: acc.pkts_in,
        bytes_out: acc.bytes_out,
        bytes_in: acc.bytes_in,
    }
}
