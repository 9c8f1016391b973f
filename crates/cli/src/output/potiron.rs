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
//! The per-packet values (which header each comes from, potiron's defaults for absent ones)
//! are `trident_index::potiron::Normalizer`, shared with `trident ingest` so the JSON and the
//! index agree. Days and times are UTC (potiron uses the local zone; its goldens were made
//! with `TZ=UTC`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use trident_decode::Packet;
use trident_index::potiron::{
    ABSENT, ABSENT_ICMP, JSON_FIELDS, Normalizer, base_name, sensor_name,
};
use trident_types::Timestamp;

use super::RowWriter;
use super::columns::Row;
use super::json_str;

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
    /// potiron's view of this file's packets (tshark's IPv4 reassembly spans the file).
    normalizer: Normalizer,
}

impl<W: Write> Potiron<W> {
    pub fn new(target: Target<W>) -> Self {
        Potiron {
            target,
            doc: Vec::new(),
            packet_id: 0,
            first_ts: None,
            file: String::new(),
            normalizer: Normalizer::default(),
        }
    }
}

impl<W: Write> Potiron<W> {
    fn packet(&mut self, ts: Timestamp, p: &Packet<'_>) {
        let Some(pp) = self.normalizer.normalize(p) else {
            return;
        };
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
            pp.length, pp.protocol, pp.ipsrc, pp.ipdst, pp.ipttl, pp.iptos
        );
        let opt = |d: &mut Vec<u8>, key: &str, v: Option<u32>, absent: i64| {
            let _ = match v {
                Some(v) => write!(d, ", \"{key}\": \"{v}\""),
                None => write!(d, ", \"{key}\": {absent}"),
            };
        };
        let icmp_absent = i64::from(ABSENT_ICMP);
        opt(d, "tcpseq", pp.tcpseq, ABSENT);
        opt(d, "tcpack", pp.tcpack, ABSENT);
        opt(d, "icmpcode", pp.icmp.map(|i| i.0.into()), icmp_absent);
        opt(d, "icmptype", pp.icmp.map(|i| i.1.into()), icmp_absent);
        opt(d, "sport", pp.ports.map(|p| p.0.into()), ABSENT);
        opt(d, "dport", pp.ports.map(|p| p.1.into()), ABSENT);
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
        self.normalizer = Normalizer::default();
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
