//! Classic libpcap files: the global header and the record framing.
use pcap_parser::nom::{self, Needed};
use pcap_parser::{
    LegacyPcapBlock, PcapError, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified,
    parse_pcap_header,
};

use crate::reader::FrameMeta;
use crate::{CaptureErrorKind, Container, InterfaceInfo, LinkType, MAX_RECORD_LEN, Timestamp};

/// Length of the pcap global header.
pub(crate) const GLOBAL_HEADER_LEN: usize = 24;
/// Length of a record header.
const RECORD_HEADER_LEN: usize = 16;
/// Length of a record header in Kuznetzov's "modified" format (adds ifindex, protocol,
/// packet type and padding).
const MODIFIED_RECORD_HEADER_LEN: usize = 24;
/// The link type is the low 16 bits of the header's link-type field; the high bits carry
/// the FCS length (tcpdump.org LINKTYPE_ registry, "LinkType and additional information").
const LINK_TYPE_MASK: u32 = 0xffff;
/// Nanoseconds per microsecond.
const NANOS_PER_MICRO: i64 = 1_000;
/// Units per second of microsecond and nanosecond files.
const MICROS_PER_SEC: u64 = 1_000_000;
/// Units per second of nanosecond files.
const NANOS_PER_SEC_U64: u64 = 1_000_000_000;
/// The file format version from which the record header has `incl_len` before `orig_len`.
/// libpcap's sf-pcap.c: "In file format version 2.3, the order of the incl_len and orig_len
/// fields in the per-packet header was reversed"; files of 2.3 itself may be either.
const FIRST_UNSWAPPED_MINOR: u16 = 4;
/// The version whose lengths may or may not be swapped.
const MAYBE_SWAPPED_MINOR: u16 = 3;
/// The only major version with these rules (older ones are "archaic" to libpcap).
const MAJOR_VERSION: u16 = 2;

/// The order of the two lengths in a record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LengthOrder {
    /// `incl_len`, `orig_len` (version 2.4 and later): framed by `pcap-parser`.
    Normal,
    /// `orig_len`, `incl_len` (before 2.3).
    Swapped,
    /// Either (2.3): the smaller is the captured length, as libpcap decides.
    MaybeSwapped,
}

/// One of `pcap-parser`'s record parsers, chosen by the magic number.
type RecordParser =
    for<'a> fn(&'a [u8]) -> nom::IResult<&'a [u8], LegacyPcapBlock<'a>, PcapError<&'a [u8]>>;

/// What a pcap file's header fixes for all its records.
#[derive(Debug)]
pub(crate) struct PcapFraming {
    parse: RecordParser,
    lengths: LengthOrder,
    big_endian: bool,
    header_len: usize,
    /// Multiplier from the header's fraction unit to nanoseconds.
    frac_to_nanos: i64,
    link_type: LinkType,
}

/// What the reader does next with a pcap stream.
#[derive(Debug)]
pub(crate) enum PcapStep {
    /// A whole record is available.
    Frame(FrameMeta),
    /// This many bytes must be available to go on (more than are now).
    Need {
        /// Total bytes needed from the record start.
        total: usize,
        /// What those bytes are, for a truncation error.
        what: &'static str,
    },
}

impl PcapFraming {
    /// Parses the global header (`head` holds at least [`GLOBAL_HEADER_LEN`] bytes).
    pub(crate) fn from_header(
        head: &[u8],
    ) -> Result<(Self, Container, InterfaceInfo), CaptureErrorKind> {
        let (_, hdr) = parse_pcap_header(head).map_err(|e| {
            CaptureErrorKind::Malformed(format!("pcap global header not recognised: {e:?}"))
        })?;
        let big_endian = hdr.is_bigendian();
        let nanosecond = hdr.is_nanosecond_precision();
        let (parse, header_len, container): (RecordParser, _, _) = if hdr.is_modified_format() {
            (
                parse_pcap_frame_modified,
                MODIFIED_RECORD_HEADER_LEN,
                Container::PcapModified,
            )
        } else if big_endian {
            (
                parse_pcap_frame_be,
                RECORD_HEADER_LEN,
                Container::Pcap {
                    big_endian,
                    nanosecond,
                },
            )
        } else {
            (
                parse_pcap_frame,
                RECORD_HEADER_LEN,
                Container::Pcap {
                    big_endian,
                    nanosecond,
                },
            )
        };
        // The field is read as i32 by pcap-parser; reinterpret its bits.
        let link_type = LinkType((hdr.network.0 as u32 & LINK_TYPE_MASK) as u16);
        let info = InterfaceInfo {
            link_type,
            snaplen: hdr.snaplen,
            name: None,
            description: None,
            ts_units_per_sec: if nanosecond {
                NANOS_PER_SEC_U64
            } else {
                MICROS_PER_SEC
            },
            ts_offset_secs: 0,
        };
        let lengths = match (hdr.version_major, hdr.version_minor) {
            _ if hdr.is_modified_format() => LengthOrder::Normal,
            (MAJOR_VERSION, MAYBE_SWAPPED_MINOR) => LengthOrder::MaybeSwapped,
            (MAJOR_VERSION, minor) if minor < FIRST_UNSWAPPED_MINOR => LengthOrder::Swapped,
            _ => LengthOrder::Normal,
        };
        let framing = PcapFraming {
            parse,
            lengths,
            big_endian,
            header_len,
            frac_to_nanos: if nanosecond { 1 } else { NANOS_PER_MICRO },
            link_type,
        };
        Ok((framing, container, info))
    }

    /// Frames the record at the start of `avail`.
    #[inline]
    pub(crate) fn step(&self, avail: &[u8]) -> Result<PcapStep, CaptureErrorKind> {
        if self.lengths != LengthOrder::Normal {
            return self.step_old(avail);
        }
        match (self.parse)(avail) {
            Ok((rest, rec)) => {
                let ts = Timestamp(
                    i64::from(rec.ts_sec) * Timestamp::NANOS_PER_SEC
                        + i64::from(rec.ts_usec) * self.frac_to_nanos,
                );
                Ok(PcapStep::Frame(FrameMeta {
                    ts,
                    link_type: self.link_type,
                    interface: 0,
                    caplen: rec.caplen,
                    origlen: rec.origlen,
                    data_start: self.header_len,
                    record_len: avail.len() - rest.len(),
                }))
            }
            Err(nom::Err::Incomplete(needed)) => {
                let more = match needed {
                    Needed::Size(n) => n.get(),
                    Needed::Unknown => 1,
                };
                let total = avail.len().saturating_add(more);
                if avail.len() < self.header_len {
                    return Ok(PcapStep::Need {
                        total,
                        what: "record header",
                    });
                }
                // The header is complete, so pcap-parser asked for the declared caplen.
                let declared = total - self.header_len;
                if declared > MAX_RECORD_LEN as usize {
                    return Err(CaptureErrorKind::RecordTooLarge {
                        declared: declared as u64,
                        limit: u64::from(MAX_RECORD_LEN),
                    });
                }
                Ok(PcapStep::Need {
                    total,
                    what: "record data",
                })
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(CaptureErrorKind::Malformed(
                format!("pcap record: {}", short_error(&e)),
            )),
        }
    }

    /// Frames a record of a pre-2.4 file, whose lengths `pcap-parser` would read in the
    /// wrong order.
    fn step_old(&self, avail: &[u8]) -> Result<PcapStep, CaptureErrorKind> {
        let Some(header) = avail.first_chunk::<RECORD_HEADER_LEN>() else {
            return Ok(PcapStep::Need {
                total: RECORD_HEADER_LEN,
                what: "record header",
            });
        };
        let field = |i: usize| {
            let b = header
                .get(i * 4..)
                .and_then(|s| s.first_chunk::<4>())
                .copied()
                .unwrap_or_default();
            if self.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let (ts_sec, ts_frac, first, second) = (field(0), field(1), field(2), field(3));
        let (caplen, origlen) = match self.lengths {
            LengthOrder::MaybeSwapped if first <= second => (first, second),
            LengthOrder::MaybeSwapped | LengthOrder::Swapped => (second, first),
            LengthOrder::Normal => (first, second),
        };
        if caplen > MAX_RECORD_LEN {
            return Err(CaptureErrorKind::RecordTooLarge {
                declared: u64::from(caplen),
                limit: u64::from(MAX_RECORD_LEN),
            });
        }
        let record_len = RECORD_HEADER_LEN + caplen as usize;
        if avail.len() < record_len {
            return Ok(PcapStep::Need {
                total: record_len,
                what: "record data",
            });
        }
        Ok(PcapStep::Frame(FrameMeta {
            ts: Timestamp(
                i64::from(ts_sec) * Timestamp::NANOS_PER_SEC
                    + i64::from(ts_frac) * self.frac_to_nanos,
            ),
            link_type: self.link_type,
            interface: 0,
            caplen,
            origlen,
            data_start: RECORD_HEADER_LEN,
            record_len,
        }))
    }
}

/// A `pcap-parser` error without the input bytes it carries.
pub(crate) fn short_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("{kind:?} check failed")
        }
        other => format!("{other:?}"),
    }
}
