//! Output formats of `trident decode`: ndjson and csv over the shared column schema, and
//! potiron's per-file JSON.

pub mod columns;
pub mod potiron;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use trident_types::{MacAddr, Timestamp};

use columns::{Column, Row, Val};

/// Writes one value as JSON.
fn json_val(out: &mut Vec<u8>, v: &Val<'_>) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::U(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Val::I(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Val::B(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::S(s) => json_str(out, s),
        Val::Owned(s) => json_str(out, s),
        Val::Ip(_) | Val::Mac(_) | Val::Ts(_) | Val::TcpFlags(_) | Val::TcpOpts(_) => {
            out.push(b'"');
            plain_val(out, v);
            out.push(b'"');
        }
        Val::U16s(l) => json_list(out, l.iter().map(|&x| u64::from(x))),
        Val::U32s(l) => json_list(out, l.iter().map(|&x| u64::from(x))),
        Val::Disp(d) => {
            let text = d.to_string();
            json_str(out, &text);
        }
        Val::Strs(l) => {
            out.push(b'[');
            for (i, s) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(out, s);
            }
            out.push(b']');
        }
    }
}

fn json_list(out: &mut Vec<u8>, items: impl Iterator<Item = u64>) {
    out.push(b'[');
    let mut buf = itoa::Buffer::new();
    for (i, n) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(buf.format(n).as_bytes());
    }
    out.push(b']');
}

/// Writes a JSON string with escapes (serde_json does the escaping).
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Writes a value as plain text (csv cells, and the inside of JSON strings for addresses).
fn plain_val(out: &mut Vec<u8>, v: &Val<'_>) {
    match v {
        Val::Null => {}
        Val::U(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Val::I(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Val::B(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::S(s) => out.extend_from_slice(s.as_bytes()),
        Val::Owned(s) => out.extend_from_slice(s.as_bytes()),
        Val::Ip(IpAddr::V4(a)) => write_ipv4(out, *a),
        Val::Ip(a) => {
            let _ = write!(out, "{a}");
        }
        Val::Mac(m) => write_mac(out, m),
        Val::Disp(d) => {
            let _ = write!(out, "{d}");
        }
        Val::TcpFlags(f) => {
            for (bit, c) in TCP_FLAG_LETTERS {
                if f & bit != 0 {
                    out.push(c);
                }
            }
        }
        Val::TcpOpts(t) => {
            for (i, k) in t.options.as_slice().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match TCP_OPTION_NAMES.get(usize::from(*k)).copied().flatten() {
                    Some(name) => out.extend_from_slice(name.as_bytes()),
                    None => {
                        out.push(b'?');
                        out.extend_from_slice(itoa::Buffer::new().format(*k).as_bytes());
                    }
                }
            }
        }
        Val::Ts(t) => write_ts(out, *t),
        Val::U16s(l) => plain_list(out, l.iter().map(|&x| u64::from(x))),
        Val::U32s(l) => plain_list(out, l.iter().map(|&x| u64::from(x))),
        Val::Strs(l) => {
            for (i, s) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b'|');
                }
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// Dotted quad without `core::fmt` (the ndjson hot path writes two per packet).
fn write_ipv4(out: &mut Vec<u8>, a: Ipv4Addr) {
    let mut buf = itoa::Buffer::new();
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(buf.format(o).as_bytes());
    }
}

/// TCP flag bits and letters, in `TcpInfo::flags_string`'s order.
const TCP_FLAG_LETTERS: [(u16, u8); 9] = [
    (0x001, b'F'),
    (0x002, b'S'),
    (0x004, b'R'),
    (0x008, b'P'),
    (0x010, b'A'),
    (0x020, b'U'),
    (0x040, b'E'),
    (0x080, b'C'),
    (0x100, b'N'),
];

/// TCP option names by kind, as `TcpInfo::options_layout` writes them.
const TCP_OPTION_NAMES: [Option<&str>; 9] = [
    Some("eol"),
    Some("nop"),
    Some("mss"),
    Some("ws"),
    Some("sok"),
    Some("sack"),
    None,
    None,
    Some("ts"),
];

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `aa:bb:cc:dd:ee:ff`, lower case, as `MacAddr`'s `Display` writes it.
fn write_mac(out: &mut Vec<u8>, m: &MacAddr) {
    for (i, b) in m.0.into_iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// Appends `n` as exactly `width` decimal digits (zero-padded, high digits dropped).
fn push_digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// RFC 3339 UTC with nanoseconds, as `Timestamp`'s `Display` writes it.
fn write_ts(out: &mut Vec<u8>, t: Timestamp) {
    let (y, mo, d, h, mi, s) = t.utc_civil();
    if !(0..=9999).contains(&y) {
        let _ = write!(out, "{t}");
        return;
    }
    push_digits(out, y as u64, 4);
    out.push(b'-');
    push_digits(out, mo.into(), 2);
    out.push(b'-');
    push_digits(out, d.into(), 2);
    out.push(b'T');
    push_digits(out, h.into(), 2);
    out.push(b':');
    push_digits(out, mi.into(), 2);
    out.push(b':');
    push_digits(out, s.into(), 2);
    out.push(b'.');
    push_digits(out, t.subsec_nanos().into(), 9);
    out.push(b'Z');
}

fn plain_list(out: &mut Vec<u8>, items: impl Iterator<Item = u64>) {
    let mut buf = itoa::Buffer::new();
    for (i, n) in items.enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        out.extend_from_slice(buf.format(n).as_bytes());
    }
}

pub use trident_stream::dataset::json_cell;

/// A sink for packet rows.
pub trait RowWriter {
    /// Writes one packet.
    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()>;
    /// Called before each input file's first packet.
    fn begin_file(&mut self, _file: &str) -> io::Result<()> {
        Ok(())
    }
    /// Called after each input file, with its name (potiron closes its document here).
    fn end_file(&mut self, _file: &str) -> io::Result<()> {
        Ok(())
    }
    /// Flushes everything.
    fn finish(&mut self) -> io::Result<()>;
}

/// Buffer size before a write to the underlying stream.
const FLUSH_AT: usize = 256 * 1024;

/// One JSON object per line; null columns are omitted.
pub struct Ndjson<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// Each selected column with its group and its key already rendered as `,"name":`, so a
    /// field costs one copy for its key.
    cols: Vec<(&'static Column, u32, Vec<u8>)>,
}

impl<W: Write> Ndjson<W> {
    pub fn new(out: W, cols: Vec<&'static Column>) -> Self {
        let cols = cols
            .into_iter()
            .map(|c| {
                (
                    c,
                    columns::group_of(c.name),
                    format!(",\"{}\":", c.name).into_bytes(),
                )
            })
            .collect();
        Ndjson {
            out,
            buf: Vec::with_capacity(FLUSH_AT * 2),
            cols,
        }
    }
}

impl<W: Write> RowWriter for Ndjson<W> {
    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()> {
        let start = self.buf.len();
        let present = columns::groups_present(row.packet);
        for (c, group, key) in &self.cols {
            if group & present == 0 {
                continue;
            }
            let v = (c.get)(row);
            if matches!(v, Val::Null) {
                continue;
            }
            self.buf.extend_from_slice(key);
            json_val(&mut self.buf, &v);
        }
        // The first key's leading comma becomes the object's opening brace.
        match self.buf.get_mut(start) {
            Some(b) => *b = b'{',
            None => self.buf.push(b'{'),
        }
        self.buf.extend_from_slice(b"}\n");
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

/// RFC 4180 csv with a header line; lists are joined with `|`.
pub struct Csv<W: Write> {
    out: csv::Writer<W>,
    cols: Vec<&'static Column>,
    cell: Vec<u8>,
}

impl<W: Write> Csv<W> {
    pub fn new(out: W, cols: Vec<&'static Column>) -> io::Result<Self> {
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(FLUSH_AT)
            .from_writer(out);
        out.write_record(cols.iter().map(|c| c.name))
            .map_err(csv_io)?;
        Ok(Csv {
            out,
            cols,
            cell: Vec::with_capacity(256),
        })
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> RowWriter for Csv<W> {
    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()> {
        for c in &self.cols {
            self.cell.clear();
            plain_val(&mut self.cell, &(c.get)(row));
            self.out.write_field(&self.cell).map_err(csv_io)?;
        }
        self.out.write_record(None::<&[u8]>).map_err(csv_io)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Decodes and counts but writes nothing (`--format none`, for measuring).
pub struct Discard;

impl RowWriter for Discard {
    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()> {
        std::hint::black_box(row);
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use columns::Val;

    #[test]
    fn fast_formatters_agree_with_display() {
        let mut out = Vec::new();
        for ns in [
            0_i64,
            1,
            1_409_061_600_123_456_789,
            4_294_967_295_999_999_999,
            951_782_400_000_000_000,
        ] {
            out.clear();
            write_ts(&mut out, Timestamp(ns));
            assert_eq!(String::from_utf8_lossy(&out), Timestamp(ns).to_string());
        }
        for flags in 0..0x200u16 {
            let t = trident_decode::TcpInfo {
                flags,
                ..Default::default()
            };
            out.clear();
            plain_val(&mut out, &Val::TcpFlags(flags));
            assert_eq!(String::from_utf8_lossy(&out), t.flags_string());
        }
        let mut t = trident_decode::TcpInfo::default();
        for k in [2, 1, 3, 1, 1, 8, 4, 5, 0, 30, 254] {
            t.options.push(k);
        }
        out.clear();
        plain_val(&mut out, &Val::TcpOpts(&t));
        assert_eq!(String::from_utf8_lossy(&out), t.options_layout());
        let m = MacAddr([0x00, 0x1b, 0x21, 0xa3, 0xff, 0x0c]);
        out.clear();
        write_mac(&mut out, &m);
        assert_eq!(String::from_utf8_lossy(&out), m.to_string());
        for a in [Ipv4Addr::new(0, 0, 0, 0), Ipv4Addr::new(192, 168, 10, 255)] {
            out.clear();
            write_ipv4(&mut out, a);
            assert_eq!(String::from_utf8_lossy(&out), a.to_string());
        }
    }
}
