//! Readable annotations for ranked values: the service of a well-known port, the name of an
//! IP protocol (potiron's charts annotate bubbles the same way).

use trident_index::Field;

/// Well-known ports and their services (IANA names, the common ones only).
const PORTS: &[(u16, &str)] = &[
    (20, "ftp-data"),
    (21, "ftp"),
    (22, "ssh"),
    (23, "telnet"),
    (25, "smtp"),
    (53, "domain"),
    (67, "bootps"),
    (68, "bootpc"),
    (69, "tftp"),
    (80, "http"),
    (88, "kerberos"),
    (110, "pop3"),
    (123, "ntp"),
    (135, "msrpc"),
    (137, "netbios-ns"),
    (138, "netbios-dgm"),
    (139, "netbios-ssn"),
    (143, "imap"),
    (161, "snmp"),
    (162, "snmptrap"),
    (179, "bgp"),
    (389, "ldap"),
    (443, "https"),
    (445, "microsoft-ds"),
    (465, "smtps"),
    (500, "isakmp"),
    (514, "syslog"),
    (520, "rip"),
    (546, "dhcpv6-client"),
    (547, "dhcpv6-server"),
    (554, "rtsp"),
    (587, "submission"),
    (631, "ipp"),
    (636, "ldaps"),
    (853, "domain-s"),
    (993, "imaps"),
    (995, "pop3s"),
    (1194, "openvpn"),
    (1433, "ms-sql-s"),
    (1723, "pptp"),
    (1883, "mqtt"),
    (1900, "ssdp"),
    (3306, "mysql"),
    (3389, "ms-wbt-server"),
    (4500, "ipsec-nat-t"),
    (5060, "sip"),
    (5222, "xmpp-client"),
    (5353, "mdns"),
    (5355, "llmnr"),
    (5432, "postgresql"),
    (5672, "amqp"),
    (6379, "redis"),
    (6653, "openflow"),
    (8080, "http-alt"),
    (8443, "https-alt"),
    (8883, "secure-mqtt"),
];

/// The service name of a well-known port.
#[must_use]
pub(crate) fn port_name(port: u16) -> Option<&'static str> {
    PORTS
        .binary_search_by_key(&port, |(p, _)| *p)
        .ok()
        .and_then(|i| PORTS.get(i))
        .map(|(_, n)| *n)
}

/// The name of an IP protocol number.
#[must_use]
pub(crate) fn protocol_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmpv6",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// The annotation of a ranked value of a field, when there is one.
#[must_use]
pub(crate) fn annotate(field: Field, value: &str) -> Option<&'static str> {
    match field {
        Field::Sport | Field::Dport => value.parse().ok().and_then(port_name),
        Field::Protocol => value.parse().ok().and_then(protocol_name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_sorted_and_found() {
        assert!(PORTS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(annotate(Field::Dport, "443"), Some("https"));
        assert_eq!(annotate(Field::Protocol, "17"), Some("udp"));
        assert_eq!(annotate(Field::Ipsrc, "10.0.0.1"), None);
    }
}
