//! Output formats of `trident decode`: ndjson and csv over the shared column schema, and
//! potiron's per-file JSON.

pub mod columns;
pub mod potiron;

use std::io::{self, Write};

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
        Val::Ip(_) | Val::Mac(_) | Val::Ts(_) => {
            out.push(b'"');
            plain_val(out, v);
            out.push(b'"');
        }
        Val::U16s(l) => json_list(out, l.iter().map(|&x| u64::from(x))),
        Val::U32s(l) => json_list(out, l.iter().map(|&x| u64::from(x))),
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
        Val::Ip(a) => {
            let _ = write!(out, "{a}");
        }
        Val::Mac(m) => {
            let _ = write!(out, "{m}");
        }
        Val::Ts(t) => {
            let _ = write!(out, "{t}");
        }
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

fn plain_list(out: &mut Vec<u8>, items: impl Iterator<Item = u64>) {
    let mut buf = itoa::Buffer::new();
    for (i, n) in items.enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        out.extend_from_slice(buf.format(n).as_bytes());
    }
}

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
    cols: Vec<&'static Column>,
}

impl<W: Write> Ndjson<W> {
    pub fn new(out: W, cols: Vec<&'static Column>) -> Self {
        Ndjson {
            out,
            buf: Vec::with_capacity(FLUSH_AT * 2),
            cols,
        }
    }
}

impl<W: Write> RowWriter for Ndjson<W> {
    fn row(&mut self, row: &Row<'_, '_>) -> io::Result<()> {
        self.buf.push(b'{');
        let mut first = true;
        for c in &self.cols {
            let v = (c.get)(row);
            if matches!(v, Val::Null) {
                continue;
            }
            if !first {
                self.buf.push(b',');
            }
            first = false;
            self.buf.push(b'"');
            self.buf.extend_from_slice(c.name.as_bytes());
            self.buf.extend_from_slice(b"\":");
            json_val(&mut self.buf, &v);
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
