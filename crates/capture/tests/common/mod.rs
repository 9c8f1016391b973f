//! Shared test support: capture writers that follow the file-format specs (libpcap's
//! pcap(5), draft-ietf-opsawg-pcapng), a reader harness, and a tshark bridge.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use trident_capture::{CaptureError, CaptureReader, InterfaceInfo, ReadStats};

/// Writes classic pcap files; remembers where every record ends.
pub struct PcapWriter {
    pub bytes: Vec<u8>,
    big_endian: bool,
    modified: bool,
    /// Offset just past the global header and past each record.
    pub boundaries: Vec<usize>,
}

impl PcapWriter {
    /// A file with the magic for the byte order and resolution, version 2.4.
    pub fn new(big_endian: bool, nanosecond: bool, link_type: u32, snaplen: u32) -> Self {
        let magic: u32 = if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        Self::with_magic(magic, big_endian, false, link_type, snaplen)
    }

    /// Kuznetzov's modified format (little-endian only).
    pub fn modified(link_type: u32, snaplen: u32) -> Self {
        Self::with_magic(0xa1b2_cd34, false, true, link_type, snaplen)
    }

    fn with_magic(magic: u32, big_endian: bool, modified: bool, link: u32, snaplen: u32) -> Self {
        let mut w = PcapWriter {
            bytes: Vec::new(),
            big_endian,
            modified,
            boundaries: Vec::new(),
        };
        w.u32(magic);
        w.u16(2);
        w.u16(4);
        w.u32(0); // thiszone
        w.u32(0); // sigfigs
        w.u32(snaplen);
        w.u32(link);
        w.boundaries.push(w.bytes.len());
        w
    }

    /// Sets the header's minor version (2.x).
    pub fn minor_version(&mut self, minor: u16) -> &mut Self {
        let b = if self.big_endian {
            minor.to_be_bytes()
        } else {
            minor.to_le_bytes()
        };
        self.bytes[6..8].copy_from_slice(&b);
        self
    }

    /// A record with the two lengths in the order given (for pre-2.4 files).
    pub fn raw_record(
        &mut self,
        sec: u32,
        frac: u32,
        first: u32,
        second: u32,
        data: &[u8],
    ) -> &mut Self {
        for v in [sec, frac, first, second] {
            self.u32(v);
        }
        self.bytes.extend_from_slice(data);
        self.boundaries.push(self.bytes.len());
        self
    }

    pub fn u32(&mut self, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }

    fn u16(&mut self, v: u16) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }

    /// A record: seconds, fraction (µs or ns per the magic), data, original length.
    pub fn record(&mut self, sec: u32, frac: u32, data: &[u8], origlen: u32) -> &mut Self {
        self.u32(sec);
        self.u32(frac);
        self.u32(data.len() as u32);
        self.u32(origlen);
        if self.modified {
            self.u32(7); // ifindex
            self.u16(0x0800); // protocol
            self.bytes.push(0); // packet type
            self.bytes.push(0); // padding
        }
        self.bytes.extend_from_slice(data);
        self.boundaries.push(self.bytes.len());
        self
    }
}

/// Writes pcapng files; remembers where every block ends.
pub struct NgWriter {
    pub bytes: Vec<u8>,
    big_endian: bool,
    /// Offset just past each block.
    pub boundaries: Vec<usize>,
}

/// `if_tsresol`.
pub const OPT_TSRESOL: u16 = 9;
/// `if_tsoffset`.
pub const OPT_TSOFFSET: u16 = 14;
/// `if_name`.
pub const OPT_NAME: u16 = 2;
/// `if_description`.
pub const OPT_DESCRIPTION: u16 = 3;

impl NgWriter {
    /// A file starting with a version 1.0 section in the given byte order.
    pub fn new(big_endian: bool) -> Self {
        let mut w = NgWriter {
            bytes: Vec::new(),
            big_endian,
            boundaries: Vec::new(),
        };
        w.section(big_endian, 1, 0);
        w
    }

    fn u32b(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u16b(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Options in this section's byte order, padded, with `opt_endofopt`.
    pub fn options(&self, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        if opts.is_empty() {
            return out;
        }
        for (code, value) in opts {
            out.extend_from_slice(&self.u16b(*code));
            out.extend_from_slice(&self.u16b(value.len() as u16));
            out.extend_from_slice(value);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        }
        out.extend_from_slice(&[0, 0, 0, 0]);
        out
    }

    /// A block: type, total length, body (padded here), total length.
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let mut body = body.to_vec();
        while body.len() % 4 != 0 {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        let t = self.u32b(block_type);
        let l = self.u32b(len);
        self.bytes.extend_from_slice(&t);
        self.bytes.extend_from_slice(&l);
        self.bytes.extend_from_slice(&body);
        self.bytes.extend_from_slice(&l);
        self.boundaries.push(self.bytes.len());
        self
    }

    /// A section header block; later blocks use its byte order.
    pub fn section(&mut self, big_endian: bool, major: u16, minor: u16) -> &mut Self {
        self.big_endian = big_endian;
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(0x1a2b_3c4d));
        body.extend_from_slice(&self.u16b(major));
        body.extend_from_slice(&self.u16b(minor));
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        self.block(0x0a0d_0d0a, &body)
    }

    /// An interface description block.
    pub fn interface(
        &mut self,
        link_type: u16,
        snaplen: u32,
        opts: &[(u16, Vec<u8>)],
    ) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16b(link_type));
        body.extend_from_slice(&self.u16b(0));
        body.extend_from_slice(&self.u32b(snaplen));
        body.extend(self.options(opts));
        self.block(1, &body)
    }

    /// An enhanced packet block.
    pub fn enhanced(
        &mut self,
        iface: u32,
        ts: u64,
        data: &[u8],
        origlen: u32,
        opts: &[(u16, Vec<u8>)],
    ) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(iface));
        body.extend_from_slice(&self.u32b((ts >> 32) as u32));
        body.extend_from_slice(&self.u32b(ts as u32));
        body.extend_from_slice(&self.u32b(data.len() as u32));
        body.extend_from_slice(&self.u32b(origlen));
        body.extend_from_slice(data);
        while body.len() % 4 != 0 {
            body.push(0);
        }
        body.extend(self.options(opts));
        self.block(6, &body)
    }

    /// A simple packet block with `data` (its length is the block's data, before padding).
    pub fn simple(&mut self, origlen: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(origlen));
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    /// An obsolete (pcapng 1.0) packet block.
    pub fn obsolete(
        &mut self,
        iface: u16,
        drops: u16,
        ts: u64,
        data: &[u8],
        origlen: u32,
    ) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16b(iface));
        body.extend_from_slice(&self.u16b(drops));
        body.extend_from_slice(&self.u32b((ts >> 32) as u32));
        body.extend_from_slice(&self.u32b(ts as u32));
        body.extend_from_slice(&self.u32b(data.len() as u32));
        body.extend_from_slice(&self.u32b(origlen));
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    /// An `if_tsoffset` option value in this section's byte order.
    pub fn tsoffset(&self, secs: i64) -> Vec<u8> {
        if self.big_endian {
            secs.to_be_bytes().to_vec()
        } else {
            secs.to_le_bytes().to_vec()
        }
    }
}

/// A frame copied out of the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub number: u64,
    pub ts: i64,
    pub link_type: u16,
    pub interface: u32,
    pub caplen: u32,
    pub origlen: u32,
    pub offset: u64,
    pub data: Vec<u8>,
}

/// Everything a read produced.
#[derive(Debug)]
pub struct Run {
    /// `open` failed with this.
    pub open_error: Option<CaptureError>,
    pub frames: Vec<Frame>,
    /// The read ended with this error.
    pub error: Option<CaptureError>,
    pub format: &'static str,
    pub interfaces: Vec<InterfaceInfo>,
    pub stats: ReadStats,
}

impl Run {
    /// The error, whichever step raised it.
    pub fn any_error(&self) -> Option<&CaptureError> {
        self.open_error.as_ref().or(self.error.as_ref())
    }
}

/// Reads a whole source, checking the reader's contract on the way: frame numbers count
/// from 1, `caplen` is the data length, and after the end or an error it stays ended.
pub fn read_source(name: &str, src: Box<dyn Read + Send>) -> Run {
    let mut run = Run {
        open_error: None,
        frames: Vec::new(),
        error: None,
        format: "",
        interfaces: Vec::new(),
        stats: ReadStats::default(),
    };
    let mut reader = match CaptureReader::from_reader(name, src) {
        Ok(r) => r,
        Err(e) => {
            run.open_error = Some(e);
            return run;
        }
    };
    run.format = reader.format_label();
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => {
                assert_eq!(
                    f.number,
                    run.frames.len() as u64 + 1,
                    "frame numbers count from 1"
                );
                assert_eq!(f.caplen as usize, f.data.len(), "caplen is the data length");
                run.frames.push(Frame {
                    number: f.number,
                    ts: f.ts.as_nanos(),
                    link_type: f.link_type.0,
                    interface: f.interface,
                    caplen: f.caplen,
                    origlen: f.origlen,
                    offset: f.offset,
                    data: f.data.to_vec(),
                });
                if run.interfaces.len() < reader.interfaces().len() {
                    run.interfaces = reader.interfaces().to_vec();
                }
            }
            Ok(None) => break,
            Err(e) => {
                run.error = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(reader.next_frame(), Ok(None)),
        "a finished reader stays finished"
    );
    if run.interfaces.is_empty() {
        run.interfaces = reader.interfaces().to_vec();
    }
    run.stats = reader.stats();
    run
}

/// Reads bytes held in memory.
pub fn read_bytes(bytes: &[u8]) -> Run {
    read_source("mem", Box::new(std::io::Cursor::new(bytes.to_vec())))
}

/// A temporary file that is removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(tag: &str, bytes: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("trident-capture-{}-{tag}", std::process::id()));
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `tshark -r path -T fields -e ...`; `None` if tshark is not installed.
pub fn tshark_fields(
    path: &Path,
    fields: &[&str],
    count: Option<usize>,
) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    if let Some(c) = count {
        cmd.args(["-c", &c.to_string()]);
    }
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect(),
    )
}

/// A timestamp as tshark prints `frame.time_epoch`: seconds, a dot, nine digits.
pub fn epoch(ns: i64) -> String {
    format!(
        "{}.{:09}",
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000)
    )
}

/// Checks our frames against tshark's reading of the same bytes: count, timestamps,
/// lengths and (for pcapng) interface ids. Returns false if tshark is not installed.
pub fn agree_with_tshark(tag: &str, bytes: &[u8], frames: &[Frame]) -> bool {
    let file = TempFile::new(tag, bytes);
    let pcapng = bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]);
    compare_with_tshark(tag, &file.0, pcapng, frames, None)
}

/// Checks `frames` (all of them, or the first `limit`) against tshark's reading of `path`.
/// Returns false if tshark is not installed.
pub fn compare_with_tshark(
    tag: &str,
    path: &Path,
    pcapng: bool,
    frames: &[Frame],
    limit: Option<usize>,
) -> bool {
    let Some(rows) = tshark_fields(
        path,
        &[
            "frame.time_epoch",
            "frame.cap_len",
            "frame.len",
            "frame.interface_id",
        ],
        None,
    ) else {
        eprintln!("tshark not installed: {tag} not cross-checked");
        return false;
    };
    // tshark lists pcapng custom blocks as records without an interface; they are not
    // packets (capinfos does not count them either).
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| !pcapng || r.get(3).is_some_and(|i| !i.is_empty()))
        .collect();
    let mut frames = frames;
    if let Some(n) = limit {
        rows.truncate(n);
        frames = &frames[..n.min(frames.len())];
    }
    assert_eq!(
        rows.len(),
        frames.len(),
        "{tag}: tshark sees {} frames",
        rows.len()
    );
    for (row, f) in rows.iter().zip(frames) {
        // Simple packet blocks have no timestamp: tshark prints none, we say 0.
        if !(row[0].is_empty() && f.ts == 0) {
            assert_eq!(row[0], epoch(f.ts), "{tag}: frame {} time", f.number);
        }
        assert_eq!(
            row[1],
            f.caplen.to_string(),
            "{tag}: frame {} caplen",
            f.number
        );
        assert_eq!(
            row[2],
            f.origlen.to_string(),
            "{tag}: frame {} len",
            f.number
        );
        let iface = row.get(3).map(String::as_str).unwrap_or("");
        if !iface.is_empty() {
            assert_eq!(
                iface,
                f.interface.to_string(),
                "{tag}: frame {} interface",
                f.number
            );
        }
    }
    true
}

/// Deterministic filler bytes.
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// The directory of shared test data (`../shared` beside the repository, or
/// `$TRIDENT_SHARED`).
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("TRIDENT_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}
