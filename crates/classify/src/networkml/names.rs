//! networkML's feature names: the 221 model inputs (reference §4.8) and the 58 port ratios
//! it computes and then drops (§4.7).

use std::collections::HashMap;
use std::sync::OnceLock;

/// The nine statistics, in networkML's order.
pub(crate) const STATS: [&str; 9] = [
    "max", "min", "count", "total", "average", "median", "variance", "25q", "75q",
];
/// The two columns statistics are taken of.
pub(crate) const STAT_FIELDS: [&str; 2] = ["frame_len", "time_delta"];
/// Directions: packets sent by the host, packets sent to it.
pub(crate) const SUFFIXES: [&str; 2] = ["out", "in"];
/// `ip.dsfield` bits 0..7.
pub(crate) const DSFIELD_BITS: [&str; 8] = [
    "ecn0", "ecn1", "dscp0", "dscp1", "dscp2", "dscp3", "dscp4", "dscp5",
];
/// TCP flag names of bits 0..8, used for both `ip.flags` and `tcp.flags`.
pub(crate) const TCP_FLAG_BITS: [&str; 9] =
    ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];
/// Well-known privileged ports.
pub(crate) const WK_PRIV_PORTS: [u16; 18] = [
    22, 23, 25, 53, 67, 68, 69, 80, 88, 110, 123, 137, 138, 139, 143, 161, 443, 631,
];
/// Well-known non-privileged ports (networkML lists 5349 twice; it is a set).
pub(crate) const WK_NONPRIV_PORTS: [u16; 9] =
    [1900, 2375, 2376, 5222, 5349, 5353, 5354, 5357, 6653];
/// Ports below this are privileged in the port-presence features.
pub(crate) const PRIV_PORT_LIMIT: u16 = 1024;
/// The two transports with port features: name and IPv4 protocol number.
pub(crate) const PORT_PROTOS: [(&str, u8); 2] = [("tcp", 6), ("udp", 17)];
/// Well-known IP protocols, bit i of the protocol mask.
pub(crate) const WK_PROTOS: [&str; 8] = ["tcp", "udp", "icmp", "arp", "icmpv6", "gre", "esp", "ah"];
/// Number of model features.
pub const N_FEATURES: usize = 221;
/// Number of ratio features networkML computes but drops before the model.
pub const N_RATIOS: usize = 58;

/// The 221 model feature names in model input order (Python `sorted()`, i.e. byte order).
#[must_use]
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::with_capacity(N_FEATURES);
        for suffix in SUFFIXES {
            for field in STAT_FIELDS {
                for stat in STATS {
                    names.push(format!("tshark_{stat}_{field}_{suffix}"));
                }
            }
            for bit in DSFIELD_BITS {
                names.push(format!("tshark_ip_dsfield_{bit}_{suffix}"));
            }
            for col in ["ip_flags", "tcp_flags"] {
                for bit in TCP_FLAG_BITS {
                    names.push(format!("tshark_{col}_{bit}_{suffix}"));
                }
            }
            for (proto, _) in PORT_PROTOS {
                for port in WK_PRIV_PORTS {
                    names.push(format!("tshark_{proto}_priv_port_{port}_{suffix}"));
                }
                names.push(format!("tshark_{proto}_priv_port_other_{suffix}"));
                for port in WK_NONPRIV_PORTS {
                    names.push(format!("tshark_{proto}_nonpriv_port_{port}_{suffix}"));
                }
                names.push(format!("tshark_{proto}_nonpriv_port_other_{suffix}"));
            }
        }
        for name in [
            "ipv4",
            "ipv6",
            "ipx",
            "nonip",
            "both_private_ip",
            "ipv4_multicast",
            "tagged_vlan",
            "unique_srcips",
            "unique_dstips",
        ] {
            names.push(format!("tshark_{name}"));
        }
        for proto in WK_PROTOS {
            names.push(format!("tshark_wk_ip_protocol_{proto}"));
        }
        names.sort();
        names
    })
}

/// The 58 ratio feature names, sorted.
#[must_use]
pub fn ratio_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::with_capacity(N_RATIOS);
        for (proto, _) in PORT_PROTOS {
            for (side, ports) in [
                ("priv", &WK_PRIV_PORTS[..]),
                ("nonpriv", &WK_NONPRIV_PORTS[..]),
            ] {
                for port in ports {
                    names.push(format!("tshark_{proto}_{side}_packet_ratio_io_port_{port}"));
                }
                names.push(format!("tshark_{proto}_{side}_packet_ratio_io_port_other"));
            }
        }
        names.sort();
        names
    })
}

/// Position of each model feature name.
pub(crate) fn feature_index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        feature_names()
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect()
    })
}

/// Position of each ratio name.
pub(crate) fn ratio_index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        ratio_names()
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_order_match_the_reference() {
        let names = feature_names();
        assert_eq!(names.len(), N_FEATURES);
        assert_eq!(ratio_names().len(), N_RATIOS);
        // Spot checks against the numbered list of reference §4.8.
        let at = |i: usize| names.get(i).map(String::as_str);
        assert_eq!(at(0), Some("tshark_25q_frame_len_in"));
        assert_eq!(at(12), Some("tshark_both_private_ip"));
        assert_eq!(at(48), Some("tshark_ip_flags_syn_out"));
        assert_eq!(at(121), Some("tshark_tcp_priv_port_22_in"));
        assert_eq!(at(144), Some("tshark_tcp_priv_port_other_out"));
        assert_eq!(at(207), Some("tshark_unique_dstips"));
        assert_eq!(at(220), Some("tshark_wk_ip_protocol_udp"));
    }
}
