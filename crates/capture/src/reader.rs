//! The streaming reader: detection, then one frame per call, borrowed from the buffer.
use std::fs::File;
use std::io::{self, Cursor, Read};

use flate2::read::MultiGzDecoder;

use crate::buffer::StreamBuf;
use crate::decompress::{self, MAGIC_LEN, ZstdReader};
use crate::pcap::{GLOBAL_HEADER_LEN, PcapFraming, PcapStep};
use crate::pcapng::{
    BLOCK_HEADER_LEN, BlockKind, MAX_BLOCK_LEN, NgState, SHB_PREFIX_LEN, SHB_TYPE, check_block_len,
    section_byte_order, u32_at,
};
use crate::{CaptureError, CaptureErrorKind, Input, LinkType, RawFrame, Timestamp};

/// The container format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// Classic libpcap.
    Pcap {
        /// Big-endian header (written on a big-endian machine).
        big_endian: bool,
        /// Nanosecond timestamps (magic `a1b23c4d`).
        nanosecond: bool,
    },
    /// pcapng (byte order of the first section).
    PcapNg {
        /// Big-endian section.
        big_endian: bool,
    },
    /// Alexey Kuznetzov's "modified" libpcap (magic `a1b2cd34`, 24-byte record headers),
    /// written by old patched Linux tcpdumps; little-endian, microseconds. (`pcap-parser`
    /// has no big-endian variant of it, so that one is reported as an unknown format.)
    PcapModified,
}

/// How the source was compressed, detected from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard.
    Zstd,
}

/// One capture interface (pcap files have exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Link type of its frames.
    pub link_type: LinkType,
    /// Snap length.
    pub snaplen: u32,
    /// pcapng `if_name`.
    pub name: Option<String>,
    /// pcapng `if_description`.
    pub description: Option<String>,
    /// Timestamp units per second (1_000_000 by default; from `if_tsresol`).
    pub ts_units_per_sec: u64,
    /// pcapng `if_tsoffset`, seconds added to every timestamp.
    pub ts_offset_secs: i64,
}

/// Counters of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Packet records delivered.
    pub frames: u64,
    /// Bytes of the (decompressed) stream consumed.
    pub bytes: u64,
    /// Blocks skipped because they carry no packets (statistics, name resolution, unknown).
    pub skipped_blocks: u64,
}

/// Where a frame lies in the buffer, and what is known about it; the reader turns it into a
/// [`RawFrame`] once no other borrow of the buffer is live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameMeta {
    pub(crate) ts: Timestamp,
    pub(crate) link_type: LinkType,
    pub(crate) interface: u32,
    pub(crate) caplen: u32,
    pub(crate) origlen: u32,
    /// Offset of the packet bytes from the record start.
    pub(crate) data_start: usize,
    /// Length of the whole record or block.
    pub(crate) record_len: usize,
}

/// How the records are framed.
#[derive(Debug)]
enum Framing {
    Pcap(PcapFraming),
    PcapNg(NgState),
}

/// One pcapng block's outcome.
enum NgStep {
    Frame(FrameMeta),
    Block,
    End,
}

/// A streaming reader over one capture source.
///
/// Memory is one buffer (64 KiB, growing to 1 MiB for long streams and, for a single record,
/// to at most [`crate::MAX_RECORD_LEN`] plus its block overhead) plus the decompressor's
/// window (32 KiB for gzip; for Zstandard the frame's window, refused above 128 MiB).
pub struct CaptureReader {
    name: String,
    src: Box<dyn Read + Send>,
    buf: StreamBuf,
    compression: Compression,
    container: Container,
    framing: Framing,
    interfaces: Vec<InterfaceInfo>,
    frames: u64,
    skipped_blocks: u64,
    /// Length of the record last returned; consumed at the next call, once its borrow ended.
    pending: usize,
    finished: bool,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format_label())
            .field("offset", &self.buf.pos())
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a file or stdin and detects compression and container from the magic bytes.
    pub fn open(input: &Input) -> Result<Self, CaptureError> {
        let name = input.name();
        let src: Box<dyn Read + Send> = match input {
            Input::Stdin => Box::new(io::stdin()),
            Input::File(path) => match File::open(path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    return Err(CaptureError {
                        source_name: name,
                        offset: 0,
                        kind: CaptureErrorKind::Io(e),
                    });
                }
            },
        };
        Self::from_reader(name, src)
    }

    /// Reads a capture from any byte stream; `name` is used in errors.
    pub fn from_reader(
        name: impl Into<String>,
        mut reader: Box<dyn Read + Send>,
    ) -> Result<Self, CaptureError> {
        let name = name.into();
        let fail = |kind| CaptureError {
            source_name: name.clone(),
            offset: 0,
            kind,
        };
        let mut magic = [0u8; MAGIC_LEN];
        let got =
            read_prefix(&mut *reader, &mut magic).map_err(|e| fail(CaptureErrorKind::Io(e)))?;
        let head = magic.get(..got).unwrap_or_default();
        let compression = decompress::detect(head);
        let rejoined = Cursor::new(head.to_vec()).chain(reader);
        let src: Box<dyn Read + Send> = match compression {
            Compression::None => Box::new(rejoined),
            Compression::Gzip => Box::new(MultiGzDecoder::new(rejoined)),
            Compression::Zstd => Box::new(ZstdReader::new(rejoined)),
        };
        let mut r = CaptureReader {
            name,
            src,
            buf: StreamBuf::new(),
            compression,
            container: Container::PcapNg { big_endian: false },
            framing: Framing::PcapNg(NgState::default()),
            interfaces: Vec::new(),
            frames: 0,
            skipped_blocks: 0,
            pending: 0,
            finished: false,
        };
        r.detect_container()?;
        Ok(r)
    }

    /// Reads the container's magic and header.
    fn detect_container(&mut self) -> Result<(), CaptureError> {
        /// pcap magics as stored: LE/BE microsecond, LE/BE nanosecond, LE modified.
        const PCAP_MAGICS: [[u8; 4]; 5] = [
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
            [0x34, 0xcd, 0xb2, 0xa1],
        ];
        self.fill(0, MAGIC_LEN)?;
        let head = self.buf.avail();
        let magic = head.first_chunk::<4>().copied();
        match magic {
            Some(m) if PCAP_MAGICS.contains(&m) => {
                if !self.fill(0, GLOBAL_HEADER_LEN)? {
                    return Err(self.error(
                        0,
                        CaptureErrorKind::Truncated {
                            what: "global header",
                        },
                    ));
                }
                let (framing, container, info) =
                    PcapFraming::from_header(self.buf.avail()).map_err(|k| self.error(0, k))?;
                self.buf.consume(GLOBAL_HEADER_LEN);
                self.framing = Framing::Pcap(framing);
                self.container = container;
                self.interfaces.push(info);
                Ok(())
            }
            Some(m) if u32::from_le_bytes(m) == SHB_TYPE => {
                if !self.fill(0, SHB_PREFIX_LEN)? {
                    return Err(self.error(
                        0,
                        CaptureErrorKind::Truncated {
                            what: "section header block",
                        },
                    ));
                }
                let big_endian =
                    section_byte_order(self.buf.avail()).map_err(|k| self.error(0, k))?;
                self.container = Container::PcapNg { big_endian };
                // Read the section header now, so that a broken one fails `open`.
                match self.ng_next()? {
                    NgStep::Block => Ok(()),
                    NgStep::Frame(_) | NgStep::End => Err(self.error(
                        0,
                        CaptureErrorKind::Malformed("no section header block".to_owned()),
                    )),
                }
            }
            _ => {
                let magic = head.get(..MAGIC_LEN).unwrap_or(head).to_vec();
                Err(self.error(0, CaptureErrorKind::UnknownFormat { magic }))
            }
        }
    }

    /// The next frame, `Ok(None)` at the end. After an error every later call returns
    /// `Ok(None)`: frames before the damage have all been delivered.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        self.buf.consume(std::mem::take(&mut self.pending));
        let meta = match self.advance() {
            Ok(Some(meta)) => meta,
            Ok(None) => {
                self.finish();
                return Ok(None);
            }
            Err(e) => {
                self.finish();
                return Err(e);
            }
        };
        self.pending = meta.record_len;
        self.frames += 1;
        let data_end = meta.data_start + meta.caplen as usize;
        let data = self
            .buf
            .avail()
            .get(meta.data_start..data_end)
            .unwrap_or_default();
        Ok(Some(RawFrame {
            number: self.frames,
            ts: meta.ts,
            link_type: meta.link_type,
            interface: meta.interface,
            caplen: meta.caplen,
            origlen: meta.origlen,
            offset: self.buf.pos(),
            data,
        }))
    }

    /// Frames the next packet record, skipping other blocks.
    #[inline]
    fn advance(&mut self) -> Result<Option<FrameMeta>, CaptureError> {
        loop {
            match &self.framing {
                Framing::Pcap(framing) => {
                    let at = self.buf.pos();
                    match framing.step(self.buf.avail()) {
                        Ok(PcapStep::Frame(meta)) => return Ok(Some(meta)),
                        Ok(PcapStep::Need { total, what }) => {
                            if !self.fill(at, total)? {
                                if self.buf.avail().is_empty() {
                                    return Ok(None);
                                }
                                return Err(self.error(at, CaptureErrorKind::Truncated { what }));
                            }
                        }
                        Err(kind) => return Err(self.error(at, kind)),
                    }
                }
                Framing::PcapNg(_) => match self.ng_next()? {
                    NgStep::Frame(meta) => return Ok(Some(meta)),
                    NgStep::Block => {}
                    NgStep::End => return Ok(None),
                },
            }
        }
    }

    /// Reads one pcapng block: a frame, or a block handled and consumed, or the end.
    fn ng_next(&mut self) -> Result<NgStep, CaptureError> {
        let at = self.buf.pos();
        if !self.fill(at, BLOCK_HEADER_LEN)? {
            if self.buf.avail().is_empty() {
                return Ok(NgStep::End);
            }
            return Err(self.truncated(at, "block header"));
        }
        let Framing::PcapNg(ng) = &self.framing else {
            return Ok(NgStep::End);
        };
        let mut big_endian = ng.big_endian;
        let kind = BlockKind::of(u32_at(self.buf.avail(), 0, big_endian));
        if kind == BlockKind::Section {
            // A section may change the byte order: its length is in its own order.
            if !self.fill(at, SHB_PREFIX_LEN)? {
                return Err(self.truncated(at, "block header"));
            }
            big_endian = section_byte_order(self.buf.avail()).map_err(|k| self.error(at, k))?;
        }
        let len = u32_at(self.buf.avail(), 4, big_endian);
        check_block_len(kind, len).map_err(|k| self.error(at, k))?;
        let len_usize = len as usize;
        if len > MAX_BLOCK_LEN {
            // Only skippable blocks get here (check_block_len): stream past them.
            return self.skip_block(at, len, big_endian);
        }
        if !self.fill(at, len_usize)? {
            return Err(self.truncated(at, "block"));
        }
        let block = self.buf.avail().get(..len_usize).unwrap_or_default();
        let trailer = u32_at(block, len_usize - 4, big_endian);
        if trailer != len {
            return Err(self.error(at, trailer_mismatch(len, trailer)));
        }
        let Framing::PcapNg(ng) = &mut self.framing else {
            return Ok(NgStep::End);
        };
        let outcome = match kind {
            BlockKind::Enhanced => {
                return ng
                    .packet(block, false)
                    .map(NgStep::Frame)
                    .map_err(|k| self.error(at, k));
            }
            BlockKind::Obsolete => {
                return ng
                    .packet(block, true)
                    .map(NgStep::Frame)
                    .map_err(|k| self.error(at, k));
            }
            BlockKind::Simple => {
                return ng
                    .simple_packet(block)
                    .map(NgStep::Frame)
                    .map_err(|k| self.error(at, k));
            }
            BlockKind::Section => ng.on_section(block).map(|()| {
                self.interfaces.clear();
            }),
            BlockKind::Interface => ng
                .on_interface(block)
                .map(|info| self.interfaces.push(info)),
            BlockKind::Other => {
                self.skipped_blocks += 1;
                Ok(())
            }
        };
        outcome.map_err(|k| self.error(at, k))?;
        self.buf.consume(len_usize);
        Ok(NgStep::Block)
    }

    /// Streams past a block too large to buffer, then checks its trailing length.
    fn skip_block(&mut self, at: u64, len: u32, big_endian: bool) -> Result<NgStep, CaptureError> {
        const TRAILER_LEN: usize = 4;
        let body = u64::from(len) - TRAILER_LEN as u64;
        let skipped = self
            .buf
            .skip(&mut *self.src, body)
            .map_err(|e| self.read_error(at, e))?;
        if !skipped || !self.fill(at, TRAILER_LEN)? {
            return Err(self.truncated(at, "block"));
        }
        let trailer = u32_at(self.buf.avail(), 0, big_endian);
        if trailer != len {
            return Err(self.error(at, trailer_mismatch(len, trailer)));
        }
        self.buf.consume(TRAILER_LEN);
        self.skipped_blocks += 1;
        Ok(NgStep::Block)
    }

    /// Makes `need` bytes available; `Ok(false)` at the end of the stream. A read failure is
    /// reported at `at`, the start of the record being read.
    #[inline]
    fn fill(&mut self, at: u64, need: usize) -> Result<bool, CaptureError> {
        self.buf
            .fill(&mut *self.src, need)
            .map_err(|e| self.read_error(at, e))
    }

    /// Ends the stream: later calls return `Ok(None)`, and the buffer is freed.
    fn finish(&mut self) {
        self.finished = true;
        self.pending = 0;
        self.buf.release();
    }

    fn error(&self, offset: u64, kind: CaptureErrorKind) -> CaptureError {
        CaptureError {
            source_name: self.name.clone(),
            offset,
            kind,
        }
    }

    fn truncated(&self, offset: u64, what: &'static str) -> CaptureError {
        self.error(offset, CaptureErrorKind::Truncated { what })
    }

    /// A read failure: a decompressor's complaint is damage of the compressed stream, any
    /// other error is the operating system's.
    fn read_error(&self, offset: u64, e: io::Error) -> CaptureError {
        let from_decoder = self.compression != Compression::None
            && matches!(
                e.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::Other
            );
        let kind = if from_decoder {
            CaptureErrorKind::Decompress(e.to_string())
        } else {
            CaptureErrorKind::Io(e)
        };
        self.error(offset, kind)
    }

    /// The source's name (path or `-`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container format.
    #[must_use]
    pub fn container(&self) -> Container {
        self.container
    }

    /// The compression detected.
    #[must_use]
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The format as the corpus MANIFEST's `format` column spells it: `pcap-le-us`,
    /// `pcap-be-ns`, `pcap-le-modified`, `pcapng`, with `gz+` or `zst+` in front when
    /// compressed.
    #[must_use]
    pub fn format_label(&self) -> &'static str {
        let index = match self.container {
            Container::Pcap {
                big_endian: false,
                nanosecond: false,
            } => 0,
            Container::Pcap {
                big_endian: true,
                nanosecond: false,
            } => 1,
            Container::Pcap {
                big_endian: false,
                nanosecond: true,
            } => 2,
            Container::Pcap {
                big_endian: true,
                nanosecond: true,
            } => 3,
            Container::PcapModified => 4,
            Container::PcapNg { .. } => 5,
        };
        const LABELS: [[&str; 6]; 3] = [
            [
                "pcap-le-us",
                "pcap-be-us",
                "pcap-le-ns",
                "pcap-be-ns",
                "pcap-le-modified",
                "pcapng",
            ],
            [
                "gz+pcap-le-us",
                "gz+pcap-be-us",
                "gz+pcap-le-ns",
                "gz+pcap-be-ns",
                "gz+pcap-le-modified",
                "gz+pcapng",
            ],
            [
                "zst+pcap-le-us",
                "zst+pcap-be-us",
                "zst+pcap-le-ns",
                "zst+pcap-be-ns",
                "zst+pcap-le-modified",
                "zst+pcapng",
            ],
        ];
        let row = match self.compression {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Zstd => 2,
        };
        LABELS
            .get(row)
            .and_then(|r| r.get(index))
            .copied()
            .unwrap_or("unknown")
    }

    /// Interfaces of the current section (pcapng may add more as it goes, and a new section
    /// starts a new list); a pcap file has exactly one.
    #[must_use]
    pub fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> ReadStats {
        ReadStats {
            frames: self.frames,
            bytes: self.buf.pos() + self.pending as u64,
            skipped_blocks: self.skipped_blocks,
        }
    }
}

/// A block whose trailing length differs from its leading one.
fn trailer_mismatch(len: u32, trailer: u32) -> CaptureErrorKind {
    CaptureErrorKind::Malformed(format!(
        "block trailer length {trailer} differs from its header length {len}"
    ))
}

/// Reads up to `out.len()` bytes, stopping early only at the end of the stream.
fn read_prefix(r: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while let Some(space) = out.get_mut(got..).filter(|s| !s.is_empty()) {
        match r.read(space) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
