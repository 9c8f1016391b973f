//! potiron's per-file JSON document (`trident decode --format potiron`).
//!
//! Reproduces what CIRCL potiron (current version, standard format) writes with
//! `parse_pcap_files.py -ej`, byte for byte: a one-line JSON array, Python's `", "` and
//! `": "` separators, a header object, then one object per IPv4 packet whose destination is
//! not 255.255.255.255, with potiron's quirks kept on purpose because its consumers depend on
//! them: present values are strings (`"64"`, `"0x00"`), absent ones are integers (`-1`, or
//! `255` for ICMP type/code, `0` for TOS), the protocol is an integer, and TCP ports win over
//! UDP ports.
//!
//! potiron gets these values from `tshark -E occurrence=f`, i.e. the *first* occurrence of
//! each field in the frame. trident reproduces that from its layered decode: the IP fields
//! come from the outermost IPv4 header (the carrier of a tunnel), the ports and sequence
//! numbers from the first TCP (else UDP) header, which for an ICMP error is the quoted one
//! (potiron's quirk Q10). Days and times are UTC (potiron uses the local zone; its goldens
//! were made with `TZ=UTC`).

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use trident_decode::{IpInfo, Packet, Transport};
use trident_types::Timestamp;

use super::RowWriter;
use super::columns::Row;
use super::json_str;

/// potiron's `JSON_FIELDS`, in order.
const JSON_FIELDS: [&str; 12] = [
    "length", "protocol", "ipsrc", "ipdst", "ipttl", "iptos", "sport", "dport", "tcpseq", "tcpack",
    "icmpcode", "icmptype",
];

/// Where potiron documents go.
pub enum Target<W: Write> {
    /// All documents to one stream, each followed by a newline.
    Stream(W),
    /// One file per capture under `ROOT/YYYY/MM/DD/NAME.json`, as potiron lays them out.
    Dir(PathBuf),
}

/// Writes potiron documents.
pub struct Potiron<W: Write> {
    target: Target<W>,
    doc: Vec<u8>,
    packet_id: u64,
    first_ts: Option<Timestamp>,
    file: String,
}

impl<W: Write> Potiron<W> {
    pub fn new(target: Target<W>) -> Self {
        Potiron {
            target,
            doc: Vec::new(),
            packet_id: 0,
            first_ts: None,
            file: String::new(),
        }
    }
}

/// potiron's sensor name: the first three of exactly four `-`-separated parts of the base
/// name, else `None` (written as JSON `null`).
pub fn sensor_name(base: &str) -> Option<String> {
    let parts: Vec<&str> = base.split('-').collect();
    match parts.as_slice() {
        [a, b, c, _] => Some(format!("{a}-{b}-{c}")),
        _ => None,
    }
}

fn base_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The first IPv4 header of the frame, as tshark's first occurrence of `ip.*` sees it.
fn first_ipv4(p: &Packet<'_>) -> Option<IpInfo> {
    match (p.tunnel, p.ip) {
        (Some(t), _) if t.outer.src.is_ipv4() => Some(t.outer),
        (_, Some(ip)) if ip.src.is_ipv4() => Some(ip),
        _ => None,
    }
}

const BROADCAST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::BROADCAST);

/// tshark's `ip.dst ne 255.255.255.255` is true only when *no* `ip.dst` in the frame is the
/// broadcast address (outer, inner and ICMP-quoted headers all count).
fn passes_filter(p: &Packet<'_>) -> bool {
    let quoted = match &p.transport {
        Some(Transport::Icmp(i)) => i.quoted.map(|q| q.dst),
        _ => None,
    };
    let dsts = [p.tunnel.map(|t| t.outer.dst), p.ip.map(|i| i.dst), quoted];
    !dsts.iter().flatten().any(|d| *d == BROADCAST)
}

impl<W: Write> Potiron<W> {
    fn packet(&mut self, ts: Timestamp, p: &Packet<'_>) {
        let Some(ip) = first_ipv4(p) else { return };
        if !passes_filter(p) {
            return;
        }
        let d = &mut self.doc;
        let (y, mo, day, h, mi, s) = ts.utc_civil();
        let _ = write!(
            d,
            ", {{\"timestamp\": \"{y:04}-{mo:02}-{day:02} {h:02}:{mi:02}:{s:02}.{:06}\"",
            ts.subsec_nanos() / 1000
        );
        let _ = write!(
            d,
            ", \"length\": \"{}\", \"protocol\": {}, \"ipsrc\": \"{}\", \"ipdst\": \"{}\", \"ipttl\": \"{}\", \"iptos\": \"0x{:02x}\"",
            ip.total_len,
            ip.protocol,
            ip.src,
            ip.dst,
            ip.ttl,
            (ip.dscp << 2) | ip.ecn
        );
        // First TCP header: the packet's own, else the one an ICMP error quotes.
        let (tcp_ports, seq, ack) = match &p.transport {
            Some(Transport::Tcp(t)) => (
                Some((t.src_port, t.dst_port)),
                Some(t.seq),
                // tshark 4.0 prints tcp.ack whatever the ACK flag says (a SYN gives "0").
                Some(t.ack),
            ),
            Some(Transport::Icmp(i)) => match i.quoted {
                Some(q) if q.protocol == 6 => (q.ports, q.tcp_seq, None),
                _ => (None, None, None),
            },
            _ => (None, None, None),
        };
        // First UDP header: a UDP tunnel's carrier, else the packet's own, else the quote.
        let udp_ports = match (&p.tunnel, &p.transport) {
            (Some(t), _) if t.outer_ports.is_some() && t.outer.src.is_ipv4() => t.outer_ports,
            (_, Some(Transport::Udp(u))) => Some((u.src_port, u.dst_port)),
            (_, Some(Transport::Icmp(i))) => {
                i.quoted.filter(|q| q.protocol == 17).and_then(|q| q.ports)
            }
            _ => None,
        };
        let opt = |d: &mut Vec<u8>, key: &str, v: Option<u32>, absent: i32| {
            let _ = match v {
                Some(v) => write!(d, ", \"{key}\": \"{v}\""),
                None => write!(d, ", \"{key}\": {absent}"),
            };
        };
        opt(d, "tcpseq", seq, -1);
        opt(d, "tcpack", ack, -1);
        let icmp = match &p.transport {
            Some(Transport::Icmp(i)) => Some((i.code, i.icmp_type)),
            _ => None,
        };
        opt(d, "icmpcode", icmp.map(|i| i.0.into()), 255);
        opt(d, "icmptype", icmp.map(|i| i.1.into()), 255);
        let ports = tcp_ports.or(udp_ports);
        opt(d, "sport", ports.map(|p| p.0.into()), -1);
        opt(d, "dport", ports.map(|p| p.1.into()), -1);
        let _ = write!(
            d,
            ", \"packet_id\": {}, \"type\": 2, \"state\": 0}}",
            self.packet_id
        );
        self.packet_id += 1;
    }
}

impl<W: Write> RowWriter for Potiron<W> {
    fn begin_file(&mut self, file: &str) -> io::Result<()> {
        self.doc.clear();
        self.packet_id = 0;
        self.first_ts = None;
        self.file = file.to_owned();
        let base = base_name(file);
        self.doc
            .extend_from_slice(b"[{\"type\": 1, \"sensorname\": ");
        match sensor_name(&base) {
            Some(s) => json_str(&mut self.doc, &s),
            None => self.doc.extend_from_slice(b"null"),
        }
        self.doc.extend_from_slice(b", \"filename\": ");
        json_str(&mut self.doc, &base);
        self.doc.extend_from_slice(
            b", \"format\": \"standard\", \"tshark_filter\": \"\", \"json_fields\": [",
        );
        for (i, f) in JSON_FIELDS.iter().enumerate() {
            if i > 0 {
                self.doc.extend_from_slice(b", ");
            }
            json_str(&mut self.doc, f);
        }
        self.doc.extend_from_slice(b"]}");
        Ok(())
    }

    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()> {
        self.first_ts.get_or_insert(row.frame.ts);
        self.packet(row.frame.ts, row.packet);
        Ok(())
    }

    fn end_file(&mut self, file: &str) -> io::Result<()> {
        self.doc.push(b']');
        match &mut self.target {
            Target::Stream(w) => {
                w.write_all(&self.doc)?;
                w.write_all(b"\n")?;
            }
            Target::Dir(root) => {
                let path = root.join(doc_path(&base_name(file), self.first_ts));
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, &self.doc)?;
            }
        }
        self.doc.clear();
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stream(w) => w.flush(),
            Target::Dir(_) => Ok(()),
        }
    }
}

/// potiron's document path `YYYY/MM/DD/NAME.json`: the date from the file name's last
/// `-` part (`…-20140826140000.cap.gz`), NAME the base name without `.cap.gz`. Where potiron
/// would refuse the name (its quirk Q7), trident uses the first packet's UTC date and the
/// base name without its last extension, so every capture gets a document.
pub fn doc_path(base: &str, first_ts: Option<Timestamp>) -> PathBuf {
    let stem = base.replace(".cap.gz", "").replace(".json", "");
    let date = stem
        .rsplit('-')
        .next()
        .filter(|d| {
            d.len() == 14 && d.bytes().all(|b| b.is_ascii_digit()) && stem.split('-').count() == 4
        })
        .map(|d| (d[0..4].to_owned(), d[4..6].to_owned(), d[6..8].to_owned()));
    let (stem, (y, m, d)) = match date {
        Some(ymd) => (stem.clone(), ymd),
        None => {
            let stem = Path::new(base)
                .file_stem()
                .map_or_else(|| base.to_owned(), |s| s.to_string_lossy().into_owned());
            let (y, m, d, ..) = first_ts.unwrap_or_default().utc_civil();
            (
                stem,
                (format!("{y:04}"), format!("{m:02}"), format!("{d:02}")),
            )
        }
    };
    PathBuf::from(y)
        .join(m)
        .join(d)
        .join(format!("{stem}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_names_follow_potiron() {
        assert_eq!(
            sensor_name("test-honeypot-1-20140826000000.cap.gz").as_deref(),
            Some("test-honeypot-1")
        );
        assert_eq!(sensor_name("sensorname-20200223104232.pcap"), None);
    }

    #[test]
    fn doc_paths() {
        assert_eq!(
            doc_path("test-iphone-1-20200223104232.cap.gz", None),
            PathBuf::from("2020/02/23/test-iphone-1-20200223104232.json")
        );
        assert_eq!(
            doc_path("x.pcap", Some(Timestamp::from_secs_nanos(1_409_061_600, 0))),
            PathBuf::from("2014/08/26/x.json")
        );
    }
}
