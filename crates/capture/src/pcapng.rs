//! pcapng: block framing, sections, interfaces and packet blocks.
//!
//! The reader frames blocks itself (type, length, trailer) so that it can check a declared
//! length against [`crate::MAX_RECORD_LEN`] *before* buffering it; `pcap-parser` then parses
//! section headers and interface descriptions (with their options). The three packet blocks
//! are read here, field by field, because:
//!
//! * `pcap-parser` 0.17 collects an enhanced packet block's options into a `Vec`, an
//!   allocation per packet for the one EPB in sixteen that carries options (flags, comments)
//!   in the shared corpus; trident uses none of them;
//! * it has no parser for the obsolete packet block (type 2) and returns it as unknown;
//! * it does not verify the trailing length of simple packet blocks.
use pcap_parser::{
    InterfaceDescriptionBlock, PcapNGOption, nom, parse_interfacedescriptionblock_be,
    parse_interfacedescriptionblock_le, parse_sectionheaderblock,
};

use crate::pcap::short_error;
use crate::reader::FrameMeta;
use crate::{CaptureErrorKind, InterfaceInfo, LinkType, MAX_RECORD_LEN, Timestamp};

/// Section header block type (a palindrome, so readable before the byte order is known).
pub(crate) const SHB_TYPE: u32 = 0x0a0d_0d0a;
/// Byte-order magic as read little-endian from a little-endian section.
const BOM_LE: u32 = 0x1a2b_3c4d;
/// Interface description block type.
const IDB_TYPE: u32 = 1;
/// Obsolete packet block type (pcapng 1.0, superseded by the EPB).
const OPB_TYPE: u32 = 2;
/// Simple packet block type.
const SPB_TYPE: u32 = 3;
/// Enhanced packet block type.
const EPB_TYPE: u32 = 6;

/// Block type and total length.
pub(crate) const BLOCK_HEADER_LEN: usize = 8;
/// Bytes needed to read a section header's byte-order magic.
pub(crate) const SHB_PREFIX_LEN: usize = 12;
/// Smallest block: type, length, trailing length.
const MIN_BLOCK_LEN: u32 = 12;
/// Blocks are padded to 32 bits.
const BLOCK_ALIGN: u32 = 4;
/// Smallest section header: 12 + byte-order magic, versions, section length.
const MIN_SHB_LEN: u32 = 28;
/// Smallest interface description: 12 + link type, reserved, snap length.
const MIN_IDB_LEN: u32 = 20;
/// Smallest enhanced or obsolete packet block: 12 + interface, timestamp, lengths.
const MIN_EPB_LEN: u32 = 32;
/// Smallest simple packet block: 12 + original length.
const MIN_SPB_LEN: u32 = 16;
/// Offset of the packet data in an enhanced or obsolete packet block.
const EPB_DATA_OFFSET: usize = 28;
/// Offset of the packet data in a simple packet block.
const SPB_DATA_OFFSET: usize = 12;
/// Room allowed around a maximal record in a block we buffer: headers and options.
const BLOCK_OVERHEAD: u32 = 64 * 1024;
/// Largest block that is buffered whole (packet, section and interface blocks).
pub(crate) const MAX_BLOCK_LEN: u32 = MAX_RECORD_LEN + BLOCK_OVERHEAD;
/// Largest block skipped by streaming past it (statistics, name resolution, secrets,
/// custom): large enough for any real one, small enough that a garbled length is caught.
pub(crate) const MAX_SKIPPED_BLOCK_LEN: u32 = 64 << 20;
/// Interfaces allowed per section: far above real captures (hundreds), low enough that a
/// hostile file cannot make the interface table big.
const MAX_INTERFACES: usize = 16 * 1024;
/// Longest `if_name` / `if_description` kept, in bytes.
const MAX_IF_TEXT: usize = 256;

/// `if_name` option code.
const OPT_IF_NAME: u16 = 2;
/// `if_description` option code.
const OPT_IF_DESCRIPTION: u16 = 3;
/// `if_tsresol` option code.
const OPT_IF_TSRESOL: u16 = 9;
/// `if_tsoffset` option code.
const OPT_IF_TSOFFSET: u16 = 14;
/// `opt_endofopt`: options after it are not options.
const OPT_END: u16 = 0;
/// Default interface resolution: microseconds.
const DEFAULT_UNITS_PER_SEC: u64 = 1_000_000;
/// `if_tsresol` high bit: the exponent is of 2, not 10.
const TSRESOL_BINARY: u8 = 0x80;
/// Largest power of 10 that fits a u64.
const MAX_DECIMAL_EXPONENT: u8 = 19;
/// Largest power of 2 that fits a u64.
const MAX_BINARY_EXPONENT: u8 = 63;
/// Nanoseconds per second, for the timestamp arithmetic.
const NANOS: i128 = 1_000_000_000;

/// What a block is, from its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// Section header.
    Section,
    /// Interface description.
    Interface,
    /// Enhanced packet block.
    Enhanced,
    /// Simple packet block.
    Simple,
    /// Obsolete packet block.
    Obsolete,
    /// Anything else: skipped.
    Other,
}

impl BlockKind {
    /// Classifies a block type.
    pub(crate) fn of(block_type: u32) -> Self {
        match block_type {
            SHB_TYPE => BlockKind::Section,
            IDB_TYPE => BlockKind::Interface,
            EPB_TYPE => BlockKind::Enhanced,
            SPB_TYPE => BlockKind::Simple,
            OPB_TYPE => BlockKind::Obsolete,
            _ => BlockKind::Other,
        }
    }

    /// The smallest valid total length of a block of this kind.
    fn min_len(self) -> u32 {
        match self {
            BlockKind::Section => MIN_SHB_LEN,
            BlockKind::Interface => MIN_IDB_LEN,
            BlockKind::Enhanced | BlockKind::Obsolete => MIN_EPB_LEN,
            BlockKind::Simple => MIN_SPB_LEN,
            BlockKind::Other => MIN_BLOCK_LEN,
        }
    }
}

/// Reads a u32 at `at` in the given byte order; 0 if out of range (callers check lengths).
#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let bytes = b
        .get(at..)
        .and_then(|s| s.first_chunk::<4>())
        .copied()
        .unwrap_or_default();
    if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    }
}

/// Reads a u16 at `at` in the given byte order; 0 if out of range.
#[inline]
fn u16_at(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let bytes = b
        .get(at..)
        .and_then(|s| s.first_chunk::<2>())
        .copied()
        .unwrap_or_default();
    if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    }
}

/// The byte order of a section from the byte-order magic at offset 8 of its header.
pub(crate) fn section_byte_order(head: &[u8]) -> Result<bool, CaptureErrorKind> {
    match u32_at(head, 8, false) {
        BOM_LE => Ok(false),
        b if b == BOM_LE.swap_bytes() => Ok(true),
        b => Err(CaptureErrorKind::Malformed(format!(
            "section header byte-order magic {b:08x} is neither 1a2b3c4d nor 4d3c2b1a"
        ))),
    }
}

/// Checks a block's declared total length before anything is buffered.
pub(crate) fn check_block_len(kind: BlockKind, len: u32) -> Result<(), CaptureErrorKind> {
    if len < kind.min_len() || len % BLOCK_ALIGN != 0 {
        return Err(CaptureErrorKind::Malformed(format!(
            "block length {len} is not a multiple of {BLOCK_ALIGN} of at least {}",
            kind.min_len()
        )));
    }
    let limit = if kind == BlockKind::Other {
        MAX_SKIPPED_BLOCK_LEN
    } else {
        MAX_BLOCK_LEN
    };
    if len > limit {
        return Err(CaptureErrorKind::RecordTooLarge {
            declared: u64::from(len),
            limit: u64::from(limit),
        });
    }
    Ok(())
}

/// One interface as the packet path needs it.
#[derive(Debug, Clone, Copy)]
struct FastIface {
    link_type: LinkType,
    snaplen: u32,
    units_per_sec: u64,
    offset_secs: i64,
}

/// pcapng state: the current section's byte order and interfaces.
#[derive(Debug, Default)]
pub(crate) struct NgState {
    /// Byte order of the current section.
    pub(crate) big_endian: bool,
    ifaces: Vec<FastIface>,
}

impl NgState {
    /// Starts a section (the block is complete and its length checked). The caller clears
    /// its interface list too.
    pub(crate) fn on_section(&mut self, block: &[u8]) -> Result<(), CaptureErrorKind> {
        let (_, shb) =
            parse_sectionheaderblock(block).map_err(|e| parse_error("section header", &e))?;
        if shb.major_version != 1 {
            return Err(CaptureErrorKind::Malformed(format!(
                "unsupported pcapng version {}.{}",
                shb.major_version, shb.minor_version
            )));
        }
        self.big_endian = shb.big_endian();
        self.ifaces.clear();
        Ok(())
    }

    /// Adds an interface (the block is complete and its length checked).
    pub(crate) fn on_interface(&mut self, block: &[u8]) -> Result<InterfaceInfo, CaptureErrorKind> {
        if self.ifaces.len() >= MAX_INTERFACES {
            return Err(CaptureErrorKind::Malformed(format!(
                "more than {MAX_INTERFACES} interfaces in one section"
            )));
        }
        let parsed = if self.big_endian {
            parse_interfacedescriptionblock_be(block)
        } else {
            parse_interfacedescriptionblock_le(block)
        };
        let (_, idb) = parsed.map_err(|e| parse_error("interface description", &e))?;
        let info = interface_info(&idb, self.big_endian)?;
        self.ifaces.push(FastIface {
            link_type: info.link_type,
            snaplen: info.snaplen,
            units_per_sec: info.ts_units_per_sec,
            offset_secs: info.ts_offset_secs,
        });
        Ok(info)
    }

    /// Frames an enhanced (`obsolete == false`) or obsolete packet block.
    #[inline]
    pub(crate) fn packet(
        &self,
        block: &[u8],
        obsolete: bool,
    ) -> Result<FrameMeta, CaptureErrorKind> {
        let be = self.big_endian;
        let interface = if obsolete {
            u32::from(u16_at(block, 8, be))
        } else {
            u32_at(block, 8, be)
        };
        let ts = (u64::from(u32_at(block, 12, be)) << 32) | u64::from(u32_at(block, 16, be));
        let caplen = u32_at(block, 20, be);
        let origlen = u32_at(block, 24, be);
        let room = block.len().saturating_sub(EPB_DATA_OFFSET + 4);
        if caplen as usize > room || caplen > MAX_RECORD_LEN {
            return Err(CaptureErrorKind::RecordTooLarge {
                declared: u64::from(caplen),
                limit: (room as u64).min(u64::from(MAX_RECORD_LEN)),
            });
        }
        let iface = self
            .ifaces
            .get(interface as usize)
            .ok_or(CaptureErrorKind::UnknownInterface(interface))?;
        Ok(FrameMeta {
            ts: to_timestamp(ts, iface.units_per_sec, iface.offset_secs),
            link_type: iface.link_type,
            interface,
            caplen,
            origlen,
            data_start: EPB_DATA_OFFSET,
            record_len: block.len(),
        })
    }

    /// Frames a simple packet block: interface 0, no timestamp, and a captured length that
    /// is the smallest of the original length, the snap length and the data present.
    #[inline]
    pub(crate) fn simple_packet(&self, block: &[u8]) -> Result<FrameMeta, CaptureErrorKind> {
        let iface = self
            .ifaces
            .first()
            .ok_or(CaptureErrorKind::UnknownInterface(0))?;
        let origlen = u32_at(block, 8, self.big_endian);
        let room = u32::try_from(block.len().saturating_sub(SPB_DATA_OFFSET + 4)).unwrap_or(0);
        let mut caplen = origlen.min(room).min(MAX_RECORD_LEN);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        Ok(FrameMeta {
            ts: Timestamp(0),
            link_type: iface.link_type,
            interface: 0,
            caplen,
            origlen,
            data_start: SPB_DATA_OFFSET,
            record_len: block.len(),
        })
    }
}

/// A `pcap-parser` failure on a block that is complete (so "incomplete" means a field runs
/// past the block's end).
fn parse_error(what: &str, e: &nom::Err<pcap_parser::PcapError<&[u8]>>) -> CaptureErrorKind {
    let why = match e {
        nom::Err::Incomplete(_) => "a field runs past the end of the block".to_owned(),
        nom::Err::Error(e) | nom::Err::Failure(e) => short_error(e),
    };
    CaptureErrorKind::Malformed(format!("{what} block: {why}"))
}

/// The public description of an interface, with its options decoded in the section's byte
/// order (`pcap-parser` 0.17 reads `if_tsoffset` little-endian whatever the section's order,
/// so the options are decoded here).
fn interface_info(
    idb: &InterfaceDescriptionBlock<'_>,
    big_endian: bool,
) -> Result<InterfaceInfo, CaptureErrorKind> {
    let mut info = InterfaceInfo {
        link_type: LinkType(idb.linktype.0 as u16),
        snaplen: idb.snaplen,
        name: None,
        description: None,
        ts_units_per_sec: DEFAULT_UNITS_PER_SEC,
        ts_offset_secs: 0,
    };
    for opt in &idb.options {
        let Ok(value) = opt.as_bytes() else { continue };
        match opt.code.0 {
            OPT_END => break,
            OPT_IF_NAME => info.name = Some(option_text(value)),
            OPT_IF_DESCRIPTION => info.description = Some(option_text(value)),
            OPT_IF_TSRESOL => {
                if let [resol] = value {
                    info.ts_units_per_sec = units_per_sec(*resol)?;
                }
            }
            OPT_IF_TSOFFSET => {
                if let Some(offset) = option_i64(opt, big_endian) {
                    info.ts_offset_secs = offset;
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

/// An 8-byte option value as an i64 in the section's byte order.
fn option_i64(opt: &PcapNGOption<'_>, big_endian: bool) -> Option<i64> {
    let bytes = *opt.as_bytes().ok()?.first_chunk::<8>()?;
    if opt.len != 8 {
        return None;
    }
    Some(if big_endian {
        i64::from_be_bytes(bytes)
    } else {
        i64::from_le_bytes(bytes)
    })
}

/// A UTF-8 option as a string: lossy, without trailing NULs, at most [`MAX_IF_TEXT`] bytes.
fn option_text(value: &[u8]) -> String {
    let value = value.get(..MAX_IF_TEXT).unwrap_or(value);
    let end = value.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(value.get(..end).unwrap_or_default()).into_owned()
}

/// Timestamp units per second for an `if_tsresol` value: `10^v`, or `2^(v & 0x7f)` when the
/// high bit is set. Values whose unit does not fit a u64 are damage.
pub(crate) fn units_per_sec(resol: u8) -> Result<u64, CaptureErrorKind> {
    let exponent = resol & !TSRESOL_BINARY;
    let units = if resol & TSRESOL_BINARY != 0 {
        (exponent <= MAX_BINARY_EXPONENT).then(|| 1u64 << exponent)
    } else {
        (exponent <= MAX_DECIMAL_EXPONENT).then(|| 10u64.pow(u32::from(exponent)))
    };
    units.ok_or_else(|| {
        CaptureErrorKind::Malformed(format!("if_tsresol {resol:#04x} is out of range"))
    })
}

/// A pcapng timestamp in `units_per_sec` units since the epoch (plus `offset_secs`) as
/// nanoseconds, exactly: integer arithmetic, the sub-nanosecond remainder truncated, as
/// Wireshark does. Saturates at the ends of the i64 range.
#[inline]
pub(crate) fn to_timestamp(ts: u64, units_per_sec: u64, offset_secs: i64) -> Timestamp {
    const MICROS: u64 = 1_000_000;
    const NANOS_U64: u64 = 1_000_000_000;
    let ts = i128::from(ts);
    let nanos = match units_per_sec {
        MICROS => ts * 1_000,
        NANOS_U64 => ts,
        units => {
            let units = i128::from(units.max(1));
            (ts / units) * NANOS + (ts % units) * NANOS / units
        }
    };
    let total = nanos + i128::from(offset_secs) * NANOS;
    Timestamp(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_units() {
        assert_eq!(units_per_sec(6).unwrap(), 1_000_000);
        assert_eq!(units_per_sec(9).unwrap(), 1_000_000_000);
        assert_eq!(units_per_sec(0).unwrap(), 1);
        assert_eq!(units_per_sec(19).unwrap(), 10_000_000_000_000_000_000);
        assert!(units_per_sec(20).is_err());
        assert_eq!(units_per_sec(0x88).unwrap(), 256);
        assert_eq!(units_per_sec(0x80 | 63).unwrap(), 1 << 63);
        assert!(units_per_sec(0x80 | 64).is_err());
    }

    #[test]
    fn timestamps_exact() {
        // The pcapng spec's ISB example: 97c30400 aa47ca64 (high, low) in microseconds is
        // 2012-06-29 07:28:25.298858 UTC.
        let ts = (0x0004_c397u64 << 32) | 0x64ca_47aa;
        assert_eq!(
            to_timestamp(ts, 1_000_000, 0),
            Timestamp::from_secs_nanos(1_340_954_905, 298_858_000)
        );
        // 2^-8 s units: 1.5 s is 384 units; 1/256 s is exactly 3_906_250 ns.
        assert_eq!(to_timestamp(384, 256, 0), Timestamp(1_500_000_000));
        assert_eq!(to_timestamp(1, 256, 0), Timestamp(3_906_250));
        // 2^-30 s units: one unit is 0.93 ns, truncated to 0; 2^30 units are one second.
        assert_eq!(to_timestamp(1, 1 << 30, 0), Timestamp(0));
        assert_eq!(to_timestamp(3 << 30, 1 << 30, 0), Timestamp(3_000_000_000));
        // Picoseconds: truncated to whole nanoseconds.
        assert_eq!(to_timestamp(1_999, 1_000_000_000_000, 0), Timestamp(1));
        // Whole seconds, with a negative offset.
        assert_eq!(to_timestamp(10, 1, -20), Timestamp(-10_000_000_000));
        // Saturation rather than wrap-around.
        assert_eq!(to_timestamp(u64::MAX, 1, i64::MAX), Timestamp(i64::MAX));
        assert_eq!(to_timestamp(0, 1, i64::MIN), Timestamp(i64::MIN));
    }

    #[test]
    fn block_length_checks() {
        assert!(check_block_len(BlockKind::Other, 12).is_ok());
        assert!(check_block_len(BlockKind::Other, 8).is_err());
        assert!(check_block_len(BlockKind::Enhanced, 28).is_err());
        assert!(check_block_len(BlockKind::Enhanced, 34).is_err());
        assert!(matches!(
            check_block_len(BlockKind::Enhanced, MAX_BLOCK_LEN + 4),
            Err(CaptureErrorKind::RecordTooLarge { .. })
        ));
        assert!(check_block_len(BlockKind::Other, MAX_BLOCK_LEN + 4).is_ok());
        assert!(check_block_len(BlockKind::Other, MAX_SKIPPED_BLOCK_LEN + 4).is_err());
    }

    #[test]
    fn option_text_trims_and_caps() {
        assert_eq!(option_text(b"eth0\0\0"), "eth0");
        assert_eq!(option_text(&[b'a'; 1000]).len(), MAX_IF_TEXT);
        assert_eq!(option_text(&[0xff, b'x']), "\u{fffd}x");
    }
}
