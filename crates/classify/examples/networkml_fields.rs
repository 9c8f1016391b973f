//! Prints, per frame, the fields networkML reads, in tshark's `-T fields` formats
//! (`-E occurrence=l`), so trident's extraction can be diffed against tshark:
//!
//! ```text
//! cargo run -p trident-classify --example networkml_fields -- capture.pcap
//! ```
//!
//! Columns: frame.len eth.src eth.dst eth.type vlan.id ip.version ip.src ip.dst ipv6.src
//! ipv6.dst ip.proto ip.dsfield ip.flags tcp.flags tcp.srcport tcp.dstport udp.srcport
//! udp.dstport arp.opcode icmp.code icmpv6.code gre.proto protocols (the networkML mask).

use std::fmt::Display;
use std::process::ExitCode;

use trident_capture::{CaptureReader, Input};
use trident_classify::networkml::{FieldExtractor, IpFlagsEncoding};

fn opt<T: Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: networkml_fields CAPTURE");
        return ExitCode::from(2);
    };
    let mut reader = match CaptureReader::open(&Input::File(path.into())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut x = FieldExtractor::new();
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let f = x.extract(
            frame.number,
            frame.ts.as_nanos(),
            frame.origlen,
            frame.link_type,
            frame.data,
        );
        let cols = [
            f.frame_len.to_string(),
            opt(f.eth_src),
            opt(f.eth_dst),
            f.eth_type.map(|t| format!("0x{t:04x}")).unwrap_or_default(),
            opt(f.vlan_id),
            opt(f.ip_version),
            opt(f.ip_src),
            opt(f.ip_dst),
            opt(f.ipv6_src),
            opt(f.ipv6_dst),
            opt(f.ip_proto),
            f.ip_dsfield
                .map(|t| format!("0x{t:02x}"))
                .unwrap_or_default(),
            f.ip_flags(IpFlagsEncoding::Tshark4)
                .map(|t| format!("0x{t:02x}"))
                .unwrap_or_default(),
            f.tcp_flags
                .map(|t| format!("0x{t:04x}"))
                .unwrap_or_default(),
            opt(f.tcp_srcport),
            opt(f.tcp_dstport),
            opt(f.udp_srcport),
            opt(f.udp_dstport),
            opt(f.arp_opcode),
            opt(f.icmp_code),
            opt(f.icmpv6_code),
            f.gre_proto
                .map(|t| format!("0x{t:04x}"))
                .unwrap_or_default(),
            f.protocols.to_string(),
        ];
        println!("{}", cols.join("\t"));
    }
    ExitCode::SUCCESS
}
