//! A minimal pcapng writer: one section, one interface, nanosecond timestamps.
//!
//! Written here rather than through a library because live capture needs exactly four block
//! types (SHB, IDB, EPB, ISB), the per-packet path must not allocate, and the end-of-capture
//! statistics block must carry libpcap's counters. Blocks are little-endian; readers detect
//! the byte order from the section header's byte-order magic.
//!
//! Layout follows draft-ietf-opsawg-pcapng (sections 4.1 SHB, 4.2 IDB, 4.3 EPB, 4.6 ISB).

use std::io::{self, Write};

use trident_types::{LinkType, Timestamp};

/// Section Header Block type.
const BLOCK_SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block type.
const BLOCK_IDB: u32 = 0x0000_0001;
/// Interface Statistics Block type.
const BLOCK_ISB: u32 = 0x0000_0005;
/// Enhanced Packet Block type.
const BLOCK_EPB: u32 = 0x0000_0006;
/// Byte-order magic written in the SHB.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// pcapng major version.
const VERSION_MAJOR: u16 = 1;
/// pcapng minor version.
const VERSION_MINOR: u16 = 0;
/// "Section length unknown" (we stream).
const SECTION_LENGTH_UNKNOWN: i64 = -1;

/// `opt_endofopt`.
const OPT_END: u16 = 0;
/// SHB `shb_userappl`: the application that wrote the file.
const SHB_USERAPPL: u16 = 4;
/// IDB `if_name`.
const IF_NAME: u16 = 2;
/// IDB `if_description`.
const IF_DESCRIPTION: u16 = 3;
/// IDB `if_tsresol`.
const IF_TSRESOL: u16 = 9;
/// `if_tsresol` value: 10^-9 s (nanoseconds).
const TSRESOL_NANOS: u8 = 9;
/// ISB `isb_starttime`.
const ISB_STARTTIME: u16 = 2;
/// ISB `isb_endtime`.
const ISB_ENDTIME: u16 = 3;
/// ISB `isb_ifrecv`: packets received.
const ISB_IFRECV: u16 = 4;
/// ISB `isb_ifdrop`: packets dropped by the interface (libpcap's `ps_ifdrop`).
const ISB_IFDROP: u16 = 5;
/// ISB `isb_osdrop`: packets dropped by the operating system (libpcap's `ps_drop`).
const ISB_OSDROP: u16 = 7;
/// ISB `isb_usrdeliv`: packets delivered to the writer.
const ISB_USRDELIV: u16 = 8;

/// Block fields are padded to this alignment.
const ALIGN: usize = 4;
/// Block type + block total length (head) or block total length (tail).
const BLOCK_HEAD_LEN: usize = 8;
/// The trailing copy of the block total length.
const BLOCK_TAIL_LEN: usize = 4;
/// EPB fixed fields after the head: interface id, ts high, ts low, caplen, origlen.
const EPB_FIXED_LEN: usize = 20;
/// Zero bytes used for padding.
const PAD: [u8; ALIGN] = [0; ALIGN];
/// The longest option value accepted; longer strings are cut (option lengths are u16).
const MAX_OPTION_LEN: usize = 0xFFF0;

/// What the IDB says about the capturing interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDescription {
    /// Link type of every packet in the file.
    pub link_type: LinkType,
    /// Snap length the capture used (0 = unlimited).
    pub snaplen: u32,
    /// Interface name (`if_name`), e.g. `eth0`.
    pub name: String,
    /// Free-text description (`if_description`): filter, truncation, host.
    pub description: String,
}

/// End-of-capture statistics, written as an ISB when a file is closed.
///
/// libpcap's counters are cumulative since the capture started, so every file of a rotating
/// capture carries the counters as they were when it was closed, with `start` the start of
/// the whole capture, as the pcapng ISB defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndStats {
    /// When the capture started.
    pub start: Timestamp,
    /// When these counters were read.
    pub end: Timestamp,
    /// Packets received (libpcap `ps_recv`: packets that passed the filter).
    pub received: u64,
    /// Packets dropped by the kernel for lack of buffer space (libpcap `ps_drop`).
    pub dropped_kernel: u64,
    /// Packets dropped by the interface or its driver (libpcap `ps_ifdrop`).
    pub dropped_interface: u64,
    /// Packets trident received from libpcap.
    pub delivered: u64,
}

/// Streams one pcapng section with one interface into `W`.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    bytes: u64,
    packets: u64,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header and interface description; packets follow.
    pub fn new(mut out: W, iface: &InterfaceDescription) -> io::Result<Self> {
        let mut bytes = 0u64;
        // SHB.
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&VERSION_MAJOR.to_le_bytes());
        body.extend_from_slice(&VERSION_MINOR.to_le_bytes());
        body.extend_from_slice(&SECTION_LENGTH_UNKNOWN.to_le_bytes());
        let appl = concat!("trident ", env!("CARGO_PKG_VERSION"));
        push_option(&mut body, SHB_USERAPPL, appl.as_bytes());
        push_option(&mut body, OPT_END, &[]);
        bytes += write_block(&mut out, BLOCK_SHB, &body)?;
        // IDB.
        body.clear();
        body.extend_from_slice(&iface.link_type.0.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&iface.snaplen.to_le_bytes());
        if !iface.name.is_empty() {
            push_option(&mut body, IF_NAME, iface.name.as_bytes());
        }
        if !iface.description.is_empty() {
            push_option(&mut body, IF_DESCRIPTION, iface.description.as_bytes());
        }
        push_option(&mut body, IF_TSRESOL, &[TSRESOL_NANOS]);
        push_option(&mut body, OPT_END, &[]);
        bytes += write_block(&mut out, BLOCK_IDB, &body)?;
        Ok(PcapngWriter {
            out,
            bytes,
            packets: 0,
        })
    }

    /// Writes one packet as an EPB. `data` is what was kept, `origlen` the length on the
    /// wire. Does not allocate.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8], origlen: u32) -> io::Result<()> {
        let caplen = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too long"))?;
        let pad = padding(data.len());
        let total = BLOCK_HEAD_LEN + EPB_FIXED_LEN + data.len() + pad + BLOCK_TAIL_LEN;
        let total32 = u32::try_from(total)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too long"))?;
        // Timestamps before 1970 cannot be written in pcapng's unsigned field: clamp to 0.
        let nanos = u64::try_from(ts.as_nanos()).unwrap_or(0);
        let mut head = [0u8; BLOCK_HEAD_LEN + EPB_FIXED_LEN];
        let fields: [u32; 7] = [
            BLOCK_EPB,
            total32,
            0,
            (nanos >> 32) as u32,
            nanos as u32,
            caplen,
            origlen,
        ];
        for (chunk, v) in head.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        self.out.write_all(&head)?;
        self.out.write_all(data)?;
        self.out.write_all(PAD.get(..pad).unwrap_or(&[]))?;
        self.out.write_all(&total32.to_le_bytes())?;
        self.bytes += total as u64;
        self.packets += 1;
        Ok(())
    }

    /// Bytes written so far (the file size once flushed).
    #[must_use]
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Packets written so far.
    #[must_use]
    pub fn packets_written(&self) -> u64 {
        self.packets
    }

    /// Writes the statistics block, flushes, and hands back the sink.
    pub fn finish(mut self, stats: &EndStats) -> io::Result<W> {
        let mut body = Vec::new();
        let end = u64::try_from(stats.end.as_nanos()).unwrap_or(0);
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&((end >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(end as u32).to_le_bytes());
        let start = u64::try_from(stats.start.as_nanos()).unwrap_or(0);
        push_option(&mut body, ISB_STARTTIME, &ts_option(start));
        push_option(&mut body, ISB_ENDTIME, &ts_option(end));
        push_option(&mut body, ISB_IFRECV, &stats.received.to_le_bytes());
        push_option(
            &mut body,
            ISB_IFDROP,
            &stats.dropped_interface.to_le_bytes(),
        );
        push_option(&mut body, ISB_OSDROP, &stats.dropped_kernel.to_le_bytes());
        push_option(&mut body, ISB_USRDELIV, &stats.delivered.to_le_bytes());
        push_option(&mut body, OPT_END, &[]);
        self.bytes += write_block(&mut self.out, BLOCK_ISB, &body)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A pcapng timestamp option: high 32 bits, then low 32 bits, each in the file's byte order.
fn ts_option(nanos: u64) -> [u8; 8] {
    let mut v = [0u8; 8];
    let (hi, lo) = v.split_at_mut(4);
    hi.copy_from_slice(&((nanos >> 32) as u32).to_le_bytes());
    lo.copy_from_slice(&(nanos as u32).to_le_bytes());
    v
}

/// Bytes of padding after `len` bytes to reach the 4-byte alignment.
const fn padding(len: usize) -> usize {
    (ALIGN - len % ALIGN) % ALIGN
}

/// Appends one option (code, length, value, padding).
fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    let value = value.get(..MAX_OPTION_LEN).unwrap_or(value);
    body.extend_from_slice(&code.to_le_bytes());
    // MAX_OPTION_LEN fits a u16.
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.extend_from_slice(PAD.get(..padding(value.len())).unwrap_or(&[]));
}

/// Writes a block around an already padded body; returns its total length.
fn write_block<W: Write>(out: &mut W, block_type: u32, body: &[u8]) -> io::Result<u64> {
    let total = BLOCK_HEAD_LEN + body.len() + BLOCK_TAIL_LEN;
    let total32 = u32::try_from(total)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too long"))?;
    out.write_all(&block_type.to_le_bytes())?;
    out.write_all(&total32.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total32.to_le_bytes())?;
    Ok(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trident_capture::CaptureReader;

    fn iface() -> InterfaceDescription {
        InterfaceDescription {
            link_type: LinkType::ETHERNET,
            snaplen: 262_144,
            name: "veth-test".into(),
            description: "test interface".into(),
        }
    }

    /// Writes frames of every length 0..=9 (every padding case) and reads them back with
    /// trident's own reader: data, lengths and nanosecond timestamps survive.
    #[test]
    fn round_trip_through_trident_reader() {
        let mut w = PcapngWriter::new(Vec::new(), &iface()).unwrap();
        let base = Timestamp::from_secs_nanos(1_700_000_000, 123_456_789);
        for len in 0u8..10 {
            let data: Vec<u8> = (0..len).collect();
            let ts = Timestamp(base.as_nanos() + i64::from(len));
            w.write_packet(ts, &data, u32::from(len) + 100).unwrap();
        }
        assert_eq!(w.packets_written(), 10);
        let written = w.bytes_written();
        let stats = EndStats {
            start: base,
            end: Timestamp(base.as_nanos() + 5_000_000_000),
            received: 12,
            dropped_kernel: 1,
            dropped_interface: 1,
            delivered: 10,
        };
        let bytes = w.finish(&stats).unwrap();
        assert!(bytes.len() as u64 > written);
        assert_eq!(bytes.len() % ALIGN, 0);
        let mut r =
            CaptureReader::from_reader("mem", Box::new(std::io::Cursor::new(bytes))).unwrap();
        let mut n = 0u8;
        while let Some(f) = r.next_frame().unwrap() {
            let expect: Vec<u8> = (0..n).collect();
            assert_eq!(f.data, expect.as_slice());
            assert_eq!(f.origlen, u32::from(n) + 100);
            assert_eq!(f.ts.as_nanos(), base.as_nanos() + i64::from(n));
            assert_eq!(f.link_type, LinkType::ETHERNET);
            n += 1;
        }
        assert_eq!(n, 10);
        let ifs = r.interfaces();
        assert_eq!(ifs.len(), 1);
    }

    /// Every block's leading and trailing total length agree and blocks tile the file.
    #[test]
    fn blocks_are_well_formed() {
        let mut w = PcapngWriter::new(Vec::new(), &iface()).unwrap();
        w.write_packet(Timestamp(1), &[1, 2, 3], 3).unwrap();
        let bytes = w.finish(&EndStats::default()).unwrap();
        let mut rest = bytes.as_slice();
        let mut types = Vec::new();
        while !rest.is_empty() {
            let t = u32::from_le_bytes(rest[0..4].try_into().unwrap());
            let len = u32::from_le_bytes(rest[4..8].try_into().unwrap()) as usize;
            let tail = u32::from_le_bytes(rest[len - 4..len].try_into().unwrap()) as usize;
            assert_eq!(len, tail);
            assert_eq!(len % ALIGN, 0);
            types.push(t);
            rest = &rest[len..];
        }
        assert_eq!(types, vec![BLOCK_SHB, BLOCK_IDB, BLOCK_EPB, BLOCK_ISB]);
    }
}
