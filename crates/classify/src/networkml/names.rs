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
pub(crate) fn feature_index() -> &'static HashMap<&'static str, usize, foldhash::fast::FixedState> {
    // A fixed table of our own names: no untrusted keys, so a fixed seed.
    static INDEX: OnceLock<HashMap<&'static str, usize, foldhash::fast::FixedState>> =
        OnceLock::new();
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

/// Model positions of the features one direction (`out`, `in`) of a host sets, looked up by
/// name once so featurizing a host formats no names.
pub(crate) struct DirSlots {
    /// `tshark_{stat}_{field}_{suffix}`, by [`STAT_FIELDS`] then [`STATS`] index.
    pub stats: [[usize; STATS.len()]; STAT_FIELDS.len()],
    /// `tshark_ip_dsfield_{bit}_{suffix}`, by bit.
    pub dsfield: [usize; DSFIELD_BITS.len()],
    /// `tshark_{ip_flags,tcp_flags}_{bit}_{suffix}`, by column then bit.
    pub flags: [[usize; TCP_FLAG_BITS.len()]; 2],
    /// `tshark_{proto}_priv_port_{port}_{suffix}`, by [`PORT_PROTOS`] then port index.
    pub priv_ports: [[usize; WK_PRIV_PORTS.len()]; PORT_PROTOS.len()],
    /// `tshark_{proto}_nonpriv_port_{port}_{suffix}`.
    pub nonpriv_ports: [[usize; WK_NONPRIV_PORTS.len()]; PORT_PROTOS.len()],
    /// `tshark_{proto}_{priv,nonpriv}_port_other_{suffix}`, by protocol then side.
    pub other: [[usize; 2]; PORT_PROTOS.len()],
}

/// Model and ratio positions of every feature [`crate::networkml::featurize`] sets in loops.
pub(crate) struct Slots {
    /// Per direction, [`SUFFIXES`] order.
    pub dirs: [DirSlots; SUFFIXES.len()],
    /// `tshark_wk_ip_protocol_{proto}`, by [`WK_PROTOS`] bit.
    pub wk_protos: [usize; WK_PROTOS.len()],
    /// `tshark_{proto}_priv_packet_ratio_io_port_{port}` in the ratios.
    pub ratio_priv: [[usize; WK_PRIV_PORTS.len()]; PORT_PROTOS.len()],
    /// `tshark_{proto}_nonpriv_packet_ratio_io_port_{port}` in the ratios.
    pub ratio_nonpriv: [[usize; WK_NONPRIV_PORTS.len()]; PORT_PROTOS.len()],
    /// `tshark_{proto}_{priv,nonpriv}_packet_ratio_io_port_other` in the ratios.
    pub ratio_other: [[usize; 2]; PORT_PROTOS.len()],
}

/// The slot table, built once from the names.
pub(crate) fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        // Every name built here is one of `feature_names()`/`ratio_names()` (same loops);
        // `names_and_slots_agree` checks it. An unknown name would take slot usize::MAX,
        // which `get_mut` ignores.
        let f = |name: String| {
            feature_index()
                .get(name.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        };
        let r = |name: String| {
            ratio_index()
                .get(name.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        };
        let dir = |suffix: &str| DirSlots {
            stats: STAT_FIELDS
                .map(|field| STATS.map(|stat| f(format!("tshark_{stat}_{field}_{suffix}")))),
            dsfield: DSFIELD_BITS.map(|bit| f(format!("tshark_ip_dsfield_{bit}_{suffix}"))),
            flags: ["ip_flags", "tcp_flags"]
                .map(|col| TCP_FLAG_BITS.map(|bit| f(format!("tshark_{col}_{bit}_{suffix}")))),
            priv_ports: PORT_PROTOS.map(|(proto, _)| {
                WK_PRIV_PORTS.map(|port| f(format!("tshark_{proto}_priv_port_{port}_{suffix}")))
            }),
            nonpriv_ports: PORT_PROTOS.map(|(proto, _)| {
                WK_NONPRIV_PORTS
                    .map(|port| f(format!("tshark_{proto}_nonpriv_port_{port}_{suffix}")))
            }),
            other: PORT_PROTOS.map(|(proto, _)| {
                ["priv", "nonpriv"]
                    .map(|side| f(format!("tshark_{proto}_{side}_port_other_{suffix}")))
            }),
        };
        Slots {
            dirs: SUFFIXES.map(dir),
            wk_protos: WK_PROTOS.map(|proto| f(format!("tshark_wk_ip_protocol_{proto}"))),
            ratio_priv: PORT_PROTOS.map(|(proto, _)| {
                WK_PRIV_PORTS
                    .map(|port| r(format!("tshark_{proto}_priv_packet_ratio_io_port_{port}")))
            }),
            ratio_nonpriv: PORT_PROTOS.map(|(proto, _)| {
                WK_NONPRIV_PORTS.map(|port| {
                    r(format!(
                        "tshark_{proto}_nonpriv_packet_ratio_io_port_{port}"
                    ))
                })
            }),
            ratio_other: PORT_PROTOS.map(|(proto, _)| {
                ["priv", "nonpriv"]
                    .map(|side| r(format!("tshark_{proto}_{side}_packet_ratio_io_port_other")))
            }),
        }
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

    /// Every slot is a real position, and together the slots cover each name exactly once
    /// (with the nine single features looked up by name).
    #[test]
    fn names_and_slots_agree() {
        let s = slots();
        let mut seen = vec![0u32; N_FEATURES];
        let mut mark = |i: usize| {
            assert!(i < N_FEATURES, "unknown feature slot {i}");
            seen[i] += 1;
        };
        for d in &s.dirs {
            d.stats.iter().flatten().for_each(|&i| mark(i));
            d.dsfield.iter().for_each(|&i| mark(i));
            d.flags.iter().flatten().for_each(|&i| mark(i));
            d.priv_ports.iter().flatten().for_each(|&i| mark(i));
            d.nonpriv_ports.iter().flatten().for_each(|&i| mark(i));
            d.other.iter().flatten().for_each(|&i| mark(i));
        }
        s.wk_protos.iter().for_each(|&i| mark(i));
        let singles = seen.iter().filter(|&&n| n == 0).count();
        assert_eq!(singles, 9, "the nine single features are set by name");
        assert!(seen.iter().all(|&n| n <= 1));
        let mut ratios = vec![0u32; N_RATIOS];
        for i in s
            .ratio_priv
            .iter()
            .flatten()
            .chain(s.ratio_nonpriv.iter().flatten())
            .chain(s.ratio_other.iter().flatten())
        {
            assert!(*i < N_RATIOS);
            ratios[*i] += 1;
        }
        assert!(ratios.iter().all(|&n| n == 1));
    }
}
