//! Poseidon's endpoint: what Faucet told us about one (VLAN, MAC, switch), where it is in the
//! state machine, and what classification said about it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ripemd::{Digest, Ripemd160};
use serde::{Deserialize, Serialize};

use crate::state::{State, Trigger};

/// Poseidon's endpoint key: 40 lower-case hex digits.
pub type EndpointId = String;

/// Poseidon's placeholder for "nothing known".
pub const NO_DATA: &str = "NO DATA";

/// At most this many history entries are kept in memory per endpoint (all are in the store).
pub const HISTORY_IN_MEMORY: usize = 32;

/// Poseidon's key: `hex(RIPEMD-160(tenant + mac + segment [+ ipv4 + ipv6 on a trunk]))`,
/// with `missing` for an absent part.
#[must_use]
pub fn endpoint_key(
    tenant: Option<&str>,
    mac: Option<&str>,
    segment: Option<&str>,
    trunk_ips: Option<(Option<&str>, Option<&str>)>,
) -> EndpointId {
    let mut h = Ripemd160::new();
    for part in [tenant, mac, segment] {
        h.update(part.unwrap_or("missing").as_bytes());
    }
    if let Some((v4, v6)) = trunk_ips {
        h.update(v4.unwrap_or("missing").as_bytes());
        h.update(v6.unwrap_or("missing").as_bytes());
    }
    let out = h.finalize();
    let mut s = String::with_capacity(40);
    for b in out {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One role with its confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleConfidence {
    /// Role label.
    pub role: String,
    /// Probability, 0..1.
    pub confidence: f64,
}

/// What a capture's classification said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// When (Unix seconds).
    pub time: f64,
    /// Top three roles, best first.
    pub roles: Vec<RoleConfidence>,
    /// OS guess from the capture, if any.
    pub os: Option<String>,
    /// Packets in the capture.
    pub packets: u64,
    /// Why the verdict is Unknown, if it is.
    pub unknown_reason: Option<String>,
}

/// One line of an endpoint's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (Unix seconds).
    pub time: f64,
    /// `created`, `state`, `moved`, `ip`, `classified`, `mirror`, `unmirror`, `ignore`, ...
    pub kind: String,
    /// Human-readable detail.
    pub detail: String,
}

/// An endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Poseidon's key ([`endpoint_key`]).
    pub id: EndpointId,
    /// MAC (`eth_src`), lower case as Faucet writes it.
    pub mac: String,
    /// Switch (`dp_name`), Poseidon's `segment`.
    pub segment: String,
    /// Port the MAC was last learned on.
    pub port: u32,
    /// VLAN id.
    pub vlan: u16,
    /// Newest IPv4 address seen as `l3_src_ip`.
    pub ipv4: Option<Ipv4Addr>,
    /// Newest IPv6 address seen as `l3_src_ip`.
    pub ipv6: Option<Ipv6Addr>,
    /// First Faucet event (Unix seconds, our clock).
    pub first_seen: f64,
    /// Last Faucet event touching it (Poseidon's `observed_time`).
    pub last_seen: f64,
    /// Faucet says it is present (false after `L2_EXPIRE`/port down, until re-learned).
    pub active: bool,
    /// State.
    pub state: State,
    /// When the state last changed.
    pub state_time: f64,
    /// The state before the last scheduled transition.
    pub prev_state: Option<State>,
    /// The pending trigger.
    pub next_state: Option<Trigger>,
    /// Never scheduled while set.
    pub ignore: bool,
    /// On a configured trunk port (keyed with its IPs, never unmirrored).
    pub trunk: bool,
    /// Latest classification.
    pub classification: Option<Classification>,
    /// OS: from classification or the passive inventory.
    pub os: Option<String>,
    /// OUI vendor.
    pub vendor: Option<String>,
    /// Names from the passive inventory (DHCP, mDNS).
    pub names: Vec<String>,
    /// Services offered, `proto/port`, from the passive inventory.
    pub services: Vec<String>,
    /// ACLs the rules file applied to its port (automated ACLs).
    #[serde(default)]
    pub acls: Vec<String>,
    /// Reverse DNS name of `ipv4` (with `rdns` on).
    #[serde(default)]
    pub rdns_v4: Option<String>,
    /// Reverse DNS name of `ipv6` (with `rdns` on).
    #[serde(default)]
    pub rdns_v6: Option<String>,
    /// Where it is mirrored right now: (switch, port) actually mirrored (proxy applied).
    pub mirrored_at: Option<(String, u32)>,
    /// Captures made.
    pub captures: u64,
    /// Newest history entries (all of them are in the store).
    pub history: Vec<HistoryEntry>,
    /// History entries not yet written to the store (the newest ones).
    #[serde(skip)]
    pub unsaved_history: usize,
}

impl Endpoint {
    /// A new endpoint in `unknown`.
    #[must_use]
    pub fn new(id: EndpointId, mac: &str, segment: &str, port: u32, vlan: u16, now: f64) -> Self {
        let vendor = parse_mac(mac)
            .and_then(|m| trident_host::oui::vendor(&m))
            .map(str::to_string);
        let mut e = Endpoint {
            id,
            mac: mac.to_string(),
            segment: segment.to_string(),
            port,
            vlan,
            ipv4: None,
            ipv6: None,
            first_seen: now,
            last_seen: now,
            active: true,
            state: State::Unknown,
            state_time: now,
            prev_state: None,
            next_state: None,
            ignore: false,
            trunk: false,
            classification: None,
            os: None,
            vendor,
            names: Vec::new(),
            services: Vec::new(),
            acls: Vec::new(),
            rdns_v4: None,
            rdns_v6: None,
            mirrored_at: None,
            captures: 0,
            history: Vec::new(),
            unsaved_history: 0,
        };
        e.note(now, "created", format!("{segment} port {port} VLAN{vlan}"));
        e
    }

    /// Poseidon's `tenant`: `"VLAN" + vid`.
    #[must_use]
    pub fn tenant(&self) -> String {
        format!("VLAN{}", self.vlan)
    }

    /// Records a history entry (in memory; the engine persists it).
    pub fn note(&mut self, time: f64, kind: &str, detail: String) {
        self.history.push(HistoryEntry {
            time,
            kind: kind.to_string(),
            detail,
        });
        self.unsaved_history += 1;
        if self.history.len() > HISTORY_IN_MEMORY {
            let excess = self.history.len() - HISTORY_IN_MEMORY;
            self.history.drain(..excess);
        }
    }

    /// The history entries not yet saved, oldest first; marks them saved.
    pub fn take_unsaved_history(&mut self) -> Vec<HistoryEntry> {
        let n = self.unsaved_history.min(self.history.len());
        self.unsaved_history = 0;
        self.history[self.history.len() - n..].to_vec()
    }

    /// Sets the newest address of its family.
    pub fn set_ip(&mut self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) if self.ipv4 != Some(v4) => {
                self.ipv4 = Some(v4);
                true
            }
            IpAddr::V6(v6) if self.ipv6 != Some(v6) => {
                self.ipv6 = Some(v6);
                true
            }
            _ => false,
        }
    }

    /// The top role, if classified.
    #[must_use]
    pub fn top_role(&self) -> Option<&RoleConfidence> {
        self.classification.as_ref().and_then(|c| c.roles.first())
    }

    /// The role to report: the top role, or `Unknown` (with the top role's confidence) when
    /// the classifier said the host is unlike its training data or too quiet.
    #[must_use]
    pub fn role_label(&self) -> Option<(String, f64)> {
        let c = self.classification.as_ref()?;
        let top = c.roles.first();
        let conf = top.map_or(0.0, |r| r.confidence);
        match (&c.unknown_reason, top) {
            (None, Some(r)) => Some((r.role.clone(), conf)),
            _ => Some(("Unknown".to_string(), conf)),
        }
    }

    /// Does `query` (an id, id prefix of 8+ digits, MAC or IP) name this endpoint?
    #[must_use]
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_ascii_lowercase();
        if q.is_empty() {
            return false;
        }
        if self.id == q || (q.len() >= 8 && self.id.starts_with(&q)) || self.mac == q {
            return true;
        }
        match q.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => self.ipv4 == Some(v4),
            Ok(IpAddr::V6(v6)) => self.ipv6 == Some(v6),
            Err(_) => false,
        }
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
#[must_use]
pub fn parse_mac(s: &str) -> Option<trident_types::MacAddr> {
    let mut bytes = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut bytes {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    trident_types::MacAddr::from_slice(&bytes)
}

/// Poseidon's `/24` or `/64` subnet string, or `NO DATA`.
#[must_use]
pub fn subnet_v4(ip: Option<Ipv4Addr>) -> String {
    ip.map_or_else(
        || NO_DATA.to_string(),
        |ip| {
            let o = ip.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        },
    )
}

/// Poseidon's `/64` subnet string, or `NO DATA`.
#[must_use]
pub fn subnet_v6(ip: Option<Ipv6Addr>) -> String {
    ip.map_or_else(
        || NO_DATA.to_string(),
        |ip| {
            let s = ip.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        },
    )
}

/// Is this address globally routable (Poseidon's `learn_public_addresses` test)?
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let s0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s0 & 0xffc0) == 0xfe80
                || (s0 & 0xfe00) == 0xfc00)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poseidon_key_test_vector() {
        assert_eq!(
            endpoint_key(
                Some("VLAN100"),
                Some("56:f8:a0:89:58:d1"),
                Some("sw1"),
                None
            ),
            "b3340f2b9116f9118cf9f958a6a49fdb07b2b661"
        );
        // Missing parts hash as the literal "missing".
        assert_eq!(
            endpoint_key(None, Some("56:f8:a0:89:58:d1"), Some("sw1"), None),
            endpoint_key(
                Some("missing"),
                Some("56:f8:a0:89:58:d1"),
                Some("sw1"),
                None
            )
        );
        let trunk = endpoint_key(
            Some("VLAN100"),
            Some("56:f8:a0:89:58:d1"),
            Some("sw1"),
            Some((Some("10.0.0.2"), None)),
        );
        assert_ne!(trunk, "b3340f2b9116f9118cf9f958a6a49fdb07b2b661");
    }

    #[test]
    fn subnets_and_public() {
        assert_eq!(subnet_v4(Some(Ipv4Addr::new(10, 0, 0, 2))), "10.0.0.0/24");
        assert_eq!(subnet_v4(None), NO_DATA);
        assert_eq!(
            subnet_v6(Some("fe80::9c3c:5ff:fe58:cf2e".parse().unwrap())),
            "fe80::/64"
        );
        assert!(!is_public("10.0.0.2".parse().unwrap()));
        assert!(!is_public("fe80::1".parse().unwrap()));
        assert!(is_public("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn matching() {
        let mut e = Endpoint::new(
            endpoint_key(
                Some("VLAN100"),
                Some("56:f8:a0:89:58:d1"),
                Some("sw1"),
                None,
            ),
            "56:f8:a0:89:58:d1",
            "sw1",
            2,
            100,
            1.0,
        );
        e.set_ip("10.0.0.2".parse().unwrap());
        assert!(e.matches("10.0.0.2"));
        assert!(e.matches("56:F8:A0:89:58:D1"));
        assert!(e.matches("b3340f2b"));
        assert!(!e.matches("b334"));
        assert_eq!(e.tenant(), "VLAN100");
    }
}
