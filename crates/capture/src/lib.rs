//! Capture sources: pcap and pcapng files (plain, gzip or zstd), directories and stdin, read
//! as a stream of borrowed [`RawFrame`]s with bounded memory.
//!
//! # Why a lending reader
//!
//! [`CaptureReader::next_frame`] returns a frame that borrows the reader's buffer, so a
//! frame costs no copy and memory stays at one buffer per open file however large the file
//! is. The price is that a frame must be used (decoded, counted) before the next call, which
//! is exactly how a one-way pipeline consumes them.
//!
//! Parsing is shared with `pcap-parser` (pcap headers and records, pcapng section and
//! interface blocks); this crate adds what a tool needs around it: format and compression
//! detection by magic (never by name), per-interface link types and exact timestamp
//! conversion for pcapng, simple and obsolete packet blocks, pre-2.4 pcap files with swapped
//! lengths, a hard cap on declared lengths checked before anything is buffered, and errors
//! that name the source and the byte offset of the damage. See `buffer.rs` and `pcapng.rs`
//! for why the buffer and the packet blocks are handled here.
//!
//! # Damage
//!
//! A truncated or garbled file yields every frame before the damage, then one
//! [`CaptureError`] whose offset is the start of the bad record or block in the
//! (decompressed) stream. An end of file exactly between records is a clean end. In a
//! compressed file, corruption inside the compressed data is only certain when the
//! decompressor notices it (gzip checks its CRC at the end of each member), so frames
//! decoded from the damaged part may have been delivered before the error.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod buffer;
mod decompress;
mod error;
mod input;
mod pcap;
mod pcapng;
mod reader;

pub use error::{CaptureError, CaptureErrorKind};
pub use input::{Input, expand_inputs};
pub use reader::{CaptureReader, Compression, Container, InterfaceInfo, ReadStats};
pub use trident_types::{LinkType, Timestamp};

/// The largest record (captured length) accepted. Larger declared lengths are damage: the
/// reader reports them instead of allocating. 256 KiB is libpcap's `MAXIMUM_SNAPLEN`; we
/// allow 4× that for jumbo/offloaded frames.
pub const MAX_RECORD_LEN: u32 = 1 << 20;

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// 1-based frame number within its source, counting every packet record (as tshark's
    /// `frame.number` does).
    pub number: u64,
    /// Capture time (UTC, nanoseconds).
    pub ts: Timestamp,
    /// Link type of the frame's interface.
    pub link_type: LinkType,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// Bytes captured (the length of `data`).
    pub caplen: u32,
    /// Length of the packet on the wire.
    pub origlen: u32,
    /// Byte offset of the record in the (decompressed) stream.
    pub offset: u64,
    /// The captured bytes.
    pub data: &'a [u8],
}
