//! Differential check against tshark: decode every frame of a capture and compare the
//! innermost IP addresses, transport ports, outer VLAN ids and MPLS labels with what
//! `tshark -T fields` reports for the same frame.
//!
//! tshark prints every occurrence of a field, outer first, and names the protocol stack in
//! `frame.protocols`. The innermost IP header trident reports is the `depth + 1`-th IP
//! header of that stack (one per unwrapped tunnel plus the carrier), counted before any
//! ICMP token, since what follows ICMP is the quoted original packet, not a tunnel.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use trident_decode::{DecodeOptions, Packet, Transport, decode_with};

use super::read_frames;

/// tshark fields requested, in this order.
const FIELDS: [&str; 12] = [
    "frame.number",
    "frame.protocols",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "vlan.id",
    "ieee8021ad.id",
];

/// True when a `tshark` binary can be run.
#[must_use]
pub fn available() -> bool {
    Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One frame as tshark sees it.
#[derive(Debug, Default, Clone)]
pub struct TsharkFrame {
    /// `frame.protocols`, split on ':'.
    pub protocols: Vec<String>,
    /// Every IP header's (src, dst), outer first, IPv4 and IPv6 interleaved in stack order.
    pub ips: Vec<(IpAddr, IpAddr)>,
    /// TCP/UDP ports, outer first, each with the number of IP headers before it.
    pub ports: Vec<(usize, (u16, u16))>,
    /// VLAN ids (802.1Q and 802.1ad), outer first.
    pub vlans: Vec<u16>,
}

/// Runs tshark on `path` and returns its view of each frame, by frame number.
#[must_use]
pub fn frames(path: &Path) -> Vec<TsharkFrame> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path).args([
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running tshark: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().map(parse_line).collect()
}

fn list(s: &str) -> Vec<&str> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').collect()
    }
}

fn parse_line(line: &str) -> TsharkFrame {
    let cols: Vec<&str> = line.split('\t').collect();
    let col = |i: usize| cols.get(i).copied().unwrap_or("");
    let protocols: Vec<String> = col(1).split(':').map(str::to_owned).collect();
    let (v4s, v4d, v6s, v6d) = (list(col(2)), list(col(3)), list(col(4)), list(col(5)));
    let (mut i4, mut i6) = (0, 0);
    let mut ips = Vec::new();
    let mut ports = Vec::new();
    let (ts, td, us, ud) = (list(col(6)), list(col(7)), list(col(8)), list(col(9)));
    let (mut it, mut iu) = (0, 0);
    for p in &protocols {
        match p.as_str() {
            "ip" => {
                if let (Some(s), Some(d)) = (v4s.get(i4), v4d.get(i4)) {
                    if let (Ok(s), Ok(d)) = (s.parse(), d.parse()) {
                        ips.push((s, d));
                    }
                }
                i4 += 1;
            }
            "ipv6" => {
                if let (Some(s), Some(d)) = (v6s.get(i6), v6d.get(i6)) {
                    if let (Ok(s), Ok(d)) = (s.parse(), d.parse()) {
                        ips.push((s, d));
                    }
                }
                i6 += 1;
            }
            "tcp" => {
                if let (Some(Ok(s)), Some(Ok(d))) =
                    (ts.get(it).map(|v| v.parse()), td.get(it).map(|v| v.parse()))
                {
                    ports.push((ips.len(), (s, d)));
                }
                it += 1;
            }
            "udp" | "udplite" => {
                if let (Some(Ok(s)), Some(Ok(d))) =
                    (us.get(iu).map(|v| v.parse()), ud.get(iu).map(|v| v.parse()))
                {
                    ports.push((ips.len(), (s, d)));
                }
                iu += 1;
            }
            // What follows is a quoted packet (ICMP errors), not a further layer.
            "icmp" | "icmpv6" => break,
            _ => {}
        }
    }
    // 802.1Q and 802.1ad ids are separate fields; merge them in stack order.
    let (q, ad) = (list(col(10)), list(col(11)));
    let (mut iq, mut iad) = (0, 0);
    let mut vlans = Vec::new();
    for p in &protocols {
        let id = match p.as_str() {
            "vlan" => {
                iq += 1;
                q.get(iq - 1)
            }
            "ieee8021ad" => {
                iad += 1;
                ad.get(iad - 1)
            }
            _ => continue,
        };
        if let Some(Ok(id)) = id.map(|v| v.parse()) {
            vlans.push(id);
        }
    }
    TsharkFrame {
        protocols,
        ips,
        ports,
        vlans,
    }
}

/// Tokens of `frame.protocols` that mean tshark unwrapped something trident leaves as
/// payload (GTP, L2TP, PPTP, CAPWAP, ...): for such frames only the layers both decode
/// are compared.
const TSHARK_DEEPER: [&str; 8] = [
    "gtp",
    "l2tp",
    "ppp",
    "capwap",
    "nsh",
    "mpls",
    "vxlan-gpe",
    "wlan",
];

/// Compares trident with tshark on every frame of `path`; returns one line per mismatch.
#[must_use]
pub fn compare(path: &Path) -> Vec<String> {
    let ours = read_frames(path);
    let theirs = frames(path);
    let mut problems = Vec::new();
    if ours.len() != theirs.len() {
        problems.push(format!(
            "frame count: trident {} tshark {}",
            ours.len(),
            theirs.len()
        ));
    }
    for (f, t) in ours.iter().zip(&theirs) {
        let p = decode_with(f.link_type, &f.data, DecodeOptions::headers_only());
        if let Some(msg) = compare_frame(&p, t) {
            let mut line = format!("frame {}: {msg} [{}]", f.number, t.protocols.join(":"));
            if let Some(s) = p.stop {
                let _ = write!(
                    line,
                    " (trident stop {}@{}: {})",
                    s.layer.name(),
                    s.offset,
                    s.reason
                );
            }
            problems.push(line);
        }
    }
    problems
}

/// Where one frame differs, if it does.
fn compare_frame(p: &Packet<'_>, t: &TsharkFrame) -> Option<String> {
    // tshark reassembles IP fragments and dissects the whole packet at the last fragment;
    // trident decodes each fragment as it is. Only the link layer is comparable then.
    let fragmented = |ip: &trident_decode::IpInfo| ip.more_fragments || ip.fragment_offset != 0;
    if p.ip.as_ref().is_some_and(fragmented) || p.tunnel.is_some_and(|t| fragmented(&t.outer)) {
        return compare_vlans(p, t);
    }
    let deeper = t
        .protocols
        .iter()
        .skip_while(|x| !matches!(x.as_str(), "ip" | "ipv6"))
        .any(|x| TSHARK_DEEPER.contains(&x.as_str()));
    let depth = p.tunnel.map_or(0, |t| usize::from(t.depth));
    let our_ip = p.ip.map(|ip| (ip.src, ip.dst));
    // The IP header tshark has at our depth: the carrier when we unwrapped nothing.
    let their_ip = t.ips.get(depth).copied();
    let our_outer = p.tunnel.map(|t| (t.outer.src, t.outer.dst));
    if let Some(outer) = our_outer {
        if t.ips.first().copied() != Some(outer) {
            return Some(format!(
                "outer ip trident {outer:?} tshark {:?}",
                t.ips.first()
            ));
        }
    }
    match (our_ip, their_ip) {
        (Some(a), Some(b)) if a != b => return Some(format!("ip trident {a:?} tshark {b:?}")),
        (Some(a), None) => return Some(format!("ip trident {a:?} tshark none")),
        (None, Some(b)) if !(p.stop.is_some_and(|s| s.reason.is_damage()) || deeper) => {
            return Some(format!("ip trident none tshark {b:?}"));
        }
        _ => {}
    }
    if our_ip.is_some() && t.ips.len() > depth + 1 && !deeper {
        return Some(format!(
            "tshark has {} IP headers, trident unwrapped {depth} tunnels",
            t.ips.len()
        ));
    }
    let our_ports = p.transport.as_ref().and_then(Transport::ports);
    // tshark's ports for our innermost IP: those after the (depth+1)-th IP layer. With no
    // tunnel unwrapped and tshark deeper, the first transport is ours.
    let their_ports = t
        .ports
        .iter()
        .find(|(n, _)| *n == depth + 1)
        .map(|(_, p)| *p);
    match (our_ports, their_ports) {
        (Some(a), Some(b)) if a != b => return Some(format!("ports trident {a:?} tshark {b:?}")),
        (Some(a), None) => return Some(format!("ports trident {a:?} tshark none")),
        (None, Some(b)) if our_ip.is_some() && p.stop.is_none_or(|s| !s.reason.is_damage()) => {
            return Some(format!("ports trident none tshark {b:?}"));
        }
        _ => {}
    }
    compare_vlans(p, t)
}

/// Compares the outer link's VLAN ids: tshark's before its first IP/MPLS/tunnel layer.
fn compare_vlans(p: &Packet<'_>, t: &TsharkFrame) -> Option<String> {
    let outer_vlan_count = t
        .protocols
        .iter()
        .take_while(|x| {
            !matches!(
                x.as_str(),
                "ip" | "ipv6" | "mpls" | "arp" | "pppoes" | "gre" | "udp" | "ieee8021ah"
            )
        })
        .filter(|x| matches!(x.as_str(), "vlan" | "ieee8021ad"))
        .count();
    let their_vlans = t.vlans.get(..outer_vlan_count).unwrap_or(&t.vlans);
    if p.vlans.as_slice() != their_vlans {
        return Some(format!(
            "vlans trident {:?} tshark {their_vlans:?}",
            p.vlans.as_slice()
        ));
    }
    None
}
