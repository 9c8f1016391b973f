//! Prints one line per frame of a capture as decoded: `trident-decode` seen from outside.
//!
//! `cargo run -p trident-decode --example dump -- FILE` — a debugging aid for comparing the
//! decoder with `tshark -T fields` line by line.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;

use trident_decode::{DecodeOptions, Transport, decode_with};

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dump FILE");
        std::process::exit(2);
    };
    for f in common::read_frames(std::path::Path::new(&path)) {
        let p = decode_with(f.link_type, &f.data, DecodeOptions::headers_only());
        let mut line = format!("{}\t", f.number);
        if let Some(e) = p.eth {
            let _ = write!(line, "eth {}>{} {:04x} ", e.src, e.dst, e.ether_type);
        }
        if !p.vlans.is_empty() {
            let _ = write!(line, "vlan {:?} ", p.vlans.as_slice());
        }
        if !p.mpls.as_slice().is_empty() {
            let _ = write!(line, "mpls {:?} ", p.mpls.as_slice());
        }
        if let Some(a) = p.arp {
            let _ = write!(line, "arp {} {}>{} ", a.operation, a.sender_ip, a.target_ip);
        }
        if let Some(t) = p.tunnel {
            let _ = write!(
                line,
                "tunnel {} {}>{} ports {:?} id {:?} depth {} inner_eth {:?} ",
                t.kind.name(),
                t.outer.src,
                t.outer.dst,
                t.outer_ports,
                t.id,
                t.depth,
                t.inner_eth.map(|e| format!("{}>{}", e.src, e.dst))
            );
        }
        if let Some(ip) = p.ip {
            let _ = write!(
                line,
                "ip {}>{} proto {} frag {}{} ",
                ip.src,
                ip.dst,
                ip.protocol,
                ip.fragment_offset,
                if ip.more_fragments { "+" } else { "" }
            );
        }
        match p.transport {
            Some(Transport::Tcp(t)) => {
                let _ = write!(
                    line,
                    "tcp {}>{} seq {} flags {} opts {} ",
                    t.src_port,
                    t.dst_port,
                    t.seq,
                    t.flags_string(),
                    t.options_layout()
                );
            }
            Some(Transport::Udp(u)) => {
                let _ = write!(line, "udp {}>{} ", u.src_port, u.dst_port);
            }
            Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
                let _ = write!(line, "icmp {}/{} echo {:?} ", i.icmp_type, i.code, i.echo);
                if let Some(q) = i.quoted {
                    let _ = write!(line, "quote {}>{} {:?} ", q.src, q.dst, q.ports);
                }
                if let Some(t) = i.nd_target {
                    let _ = write!(line, "nd {t} {:?} ", i.nd_lladdr.map(|m| m.to_string()));
                }
            }
            Some(_) | None => {}
        }
        let _ = write!(line, "payload {}", p.payload.len());
        if let Some(s) = p.stop {
            let _ = write!(line, " STOP {}@{} {}", s.layer.name(), s.offset, s.reason);
        }
        println!("{line}");
    }
}
