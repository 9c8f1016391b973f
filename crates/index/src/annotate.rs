//! Names for ranked values: IANA service names for ports and IANA keywords for IP protocol
//! numbers, from tables bundled in the binary (`data/services.tsv.gz`, `data/protocols.tsv.gz`,
//! derived from the IANA registries as Debian's `netbase` lists them; see `data/README.md`).
//! Nothing is fetched at run time.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::OnceLock;

use crate::agg::Field;

const SERVICES_GZ: &[u8] = include_bytes!("../data/services.tsv.gz");
const PROTOCOLS_GZ: &[u8] = include_bytes!("../data/protocols.tsv.gz");

struct Tables {
    /// (port, transport) → service name.
    services: HashMap<(u16, &'static str), &'static str>,
    /// IP protocol number → keyword.
    protocols: HashMap<u8, &'static str>,
}

/// Decompresses a bundled table; the text lives as long as the program (read once).
fn text(gz: &[u8]) -> &'static str {
    let mut s = String::new();
    // The tables are part of the binary and checked by the tests; a corrupt one gives
    // no names rather than a failure.
    if flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut s)
        .is_err()
    {
        s.clear();
    }
    Box::leak(s.into_boxed_str())
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut services = HashMap::new();
        for line in text(SERVICES_GZ).lines() {
            let mut c = line.split('\t');
            if let (Some(port), Some(tr), Some(name)) = (c.next(), c.next(), c.next())
                && let Ok(port) = port.parse::<u16>()
            {
                services.entry((port, tr)).or_insert(name);
            }
        }
        let mut protocols = HashMap::new();
        for line in text(PROTOCOLS_GZ).lines() {
            if let Some((n, name)) = line.split_once('\t')
                && let Ok(n) = n.parse::<u8>()
            {
                protocols.entry(n).or_insert(name);
            }
        }
        Tables {
            services,
            protocols,
        }
    })
}

/// The IANA service name of a port for a transport (`tcp`, `udp`, `sctp`); with no
/// transport, the TCP name, else the UDP one. `443` → `https`, `53` → `domain`.
#[must_use]
pub fn service_name(port: u16, transport: Option<&str>) -> Option<&'static str> {
    let t = tables();
    match transport {
        Some(tr) => t.services.get(&(port, tr)).copied(),
        None => t
            .services
            .get(&(port, "tcp"))
            .or_else(|| t.services.get(&(port, "udp")))
            .copied(),
    }
}

/// The IANA keyword of an IP protocol number: `6` → `tcp`, `17` → `udp`, `1` → `icmp`.
#[must_use]
pub fn protocol_name(protocol: u8) -> Option<&'static str> {
    tables().protocols.get(&protocol).copied()
}

/// The annotation of a ranked value, when there is one: the service name of a port
/// (`sport`, `dport`; for the transport `protocol` when it is a per-protocol row), the name
/// of an IP protocol number (`protocol`).
#[must_use]
pub fn annotation(field: Field, value: &str, protocol: Option<&str>) -> Option<&'static str> {
    match field {
        Field::Sport | Field::Dport => {
            let port: u16 = value.parse().ok()?;
            let tr = protocol.filter(|p| matches!(*p, "tcp" | "udp" | "sctp"));
            service_name(port, tr)
        }
        Field::Protocol => protocol_name(value.parse().ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_ports_and_protocols() {
        assert_eq!(service_name(443, None), Some("https"));
        assert_eq!(service_name(22, Some("tcp")), Some("ssh"));
        assert_eq!(service_name(53, Some("udp")), Some("domain"));
        assert_eq!(service_name(123, None), Some("ntp"));
        assert_eq!(service_name(5353, Some("udp")), Some("mdns"));
        assert_eq!(service_name(65_000, None), None);
        assert_eq!(protocol_name(6), Some("tcp"));
        assert_eq!(protocol_name(17), Some("udp"));
        assert_eq!(protocol_name(1), Some("icmp"));
        assert_eq!(protocol_name(47), Some("gre"));
        assert_eq!(annotation(Field::Dport, "443", None), Some("https"));
        assert_eq!(annotation(Field::Sport, "80", Some("tcp")), Some("http"));
        assert_eq!(annotation(Field::Dport, "-1", None), None);
        assert_eq!(annotation(Field::Protocol, "17", None), Some("udp"));
        assert_eq!(annotation(Field::Ipsrc, "10.0.0.1", None), None);
    }
}
