//! Every supported container, byte order, resolution and compression, hand-built from the
//! format specs, read back, and (when tshark is installed) checked against tshark.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design
mod common;

use std::io::{Read, Write};

use common::*;
use trident_capture::{CaptureReader, Compression, Container, MAX_RECORD_LEN};

/// Ethernet.
const ETHER: u32 = 1;
/// BSD loopback.
const NULL: u16 = 0;
/// Raw IP.
const RAW: u16 = 101;

/// Three records: a plain one, one cut by the snap length, an empty one.
fn three_records(w: &mut PcapWriter, nanos: bool) {
    let frac = if nanos { 123_456_789 } else { 123_456 };
    w.record(1_400_000_000, frac, &payload(60, 1), 60);
    w.record(1_400_000_001, 0, &payload(64, 2), 1514);
    w.record(4_000_000_000, frac, &[], 0);
}

fn check_pcap(big_endian: bool, nanos: bool, label: &str) {
    let mut w = PcapWriter::new(big_endian, nanos, ETHER, 65535);
    three_records(&mut w, nanos);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{label}: {:?}", run.any_error());
    assert_eq!(run.format, label);
    let frac_ns: i64 = if nanos { 123_456_789 } else { 123_456_000 };
    let expect_ts = [
        1_400_000_000 * 1_000_000_000 + frac_ns,
        1_400_000_001 * 1_000_000_000,
        4_000_000_000 * 1_000_000_000 + frac_ns,
    ];
    let ts: Vec<i64> = run.frames.iter().map(|f| f.ts).collect();
    assert_eq!(ts, expect_ts, "{label}");
    let f = &run.frames;
    assert_eq!(f.len(), 3);
    assert_eq!((f[0].caplen, f[0].origlen, f[0].offset), (60, 60, 24));
    assert_eq!(
        (f[1].caplen, f[1].origlen, f[1].offset),
        (64, 1514, 24 + 16 + 60)
    );
    assert_eq!(
        (f[2].caplen, f[2].origlen, f[2].offset),
        (0, 0, 24 + 32 + 124)
    );
    assert_eq!(f[1].data, payload(64, 2));
    assert!(f.iter().all(|f| f.link_type == 1 && f.interface == 0));
    assert_eq!(run.interfaces.len(), 1);
    assert_eq!(run.interfaces[0].snaplen, 65535);
    assert_eq!(
        run.interfaces[0].ts_units_per_sec,
        if nanos { 1_000_000_000 } else { 1_000_000 }
    );
    assert_eq!(run.stats.frames, 3);
    assert_eq!(run.stats.bytes, w.bytes.len() as u64);
    agree_with_tshark(label, &w.bytes, &run.frames);
}

#[test]
fn pcap_le_us() {
    check_pcap(false, false, "pcap-le-us");
}

#[test]
fn pcap_be_us() {
    check_pcap(true, false, "pcap-be-us");
}

#[test]
fn pcap_le_ns() {
    check_pcap(false, true, "pcap-le-ns");
}

#[test]
fn pcap_be_ns() {
    check_pcap(true, true, "pcap-be-ns");
}

#[test]
fn pcap_container_and_link_type_bits() {
    // FCS-length bits above the 16-bit link type are not part of it.
    let mut w = PcapWriter::new(true, true, 0x3000_0084, 100);
    w.record(1, 2, &[9; 4], 4);
    let bytes = w.bytes.clone();
    let mut r = CaptureReader::from_reader("x", Box::new(std::io::Cursor::new(bytes))).unwrap();
    assert_eq!(
        r.container(),
        Container::Pcap {
            big_endian: true,
            nanosecond: true
        }
    );
    assert_eq!(r.compression(), Compression::None);
    assert_eq!(r.name(), "x");
    let f = r.next_frame().unwrap().unwrap();
    assert_eq!(f.link_type.0, 0x84);
    assert_eq!(f.ts.as_nanos(), 1_000_000_002);
}

#[test]
fn pcap_old_versions_swap_lengths() {
    // Before 2.3 the record header holds orig_len, then incl_len (libpcap sf-pcap.c).
    for big_endian in [false, true] {
        let mut w = PcapWriter::new(big_endian, false, ETHER, 65535);
        w.minor_version(2);
        w.raw_record(1, 0, 1514, 40, &payload(40, 1));
        w.raw_record(2, 0, 30, 30, &payload(30, 2));
        let run = read_bytes(&w.bytes);
        assert!(run.any_error().is_none(), "{:?}", run.any_error());
        let lens: Vec<(u32, u32)> = run.frames.iter().map(|f| (f.caplen, f.origlen)).collect();
        assert_eq!(lens, vec![(40, 1514), (30, 30)]);
        assert_eq!(run.frames[1].data, payload(30, 2));
        agree_with_tshark(
            if big_endian { "v2.2-be" } else { "v2.2-le" },
            &w.bytes,
            &run.frames,
        );
    }
    // In 2.3 either order occurs: the smaller length is the captured one.
    let mut w = PcapWriter::new(false, true, ETHER, 65535);
    w.minor_version(3);
    w.raw_record(1, 0, 1514, 40, &payload(40, 1));
    w.raw_record(2, 0, 20, 60, &payload(20, 2));
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    let lens: Vec<(u32, u32)> = run.frames.iter().map(|f| (f.caplen, f.origlen)).collect();
    assert_eq!(lens, vec![(40, 1514), (20, 60)]);
    agree_with_tshark("v2.3", &w.bytes, &run.frames);
    // A swapped captured length beyond the limit is refused like any other.
    let mut w = PcapWriter::new(false, false, ETHER, 0);
    w.minor_version(0);
    w.raw_record(1, 0, 10, 0x7fff_0000, &[]);
    let run = read_bytes(&w.bytes);
    assert!(matches!(
        run.error.unwrap().kind,
        trident_capture::CaptureErrorKind::RecordTooLarge {
            declared: 0x7fff_0000,
            ..
        }
    ));
}

#[test]
fn pcap_modified_format() {
    let mut w = PcapWriter::modified(ETHER, 65535);
    w.record(1_000_000_000, 5, &payload(42, 3), 42);
    w.record(1_000_000_001, 6, &payload(10, 4), 99);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.format, "pcap-le-modified");
    assert_eq!(run.frames.len(), 2);
    assert_eq!(run.frames[0].data, payload(42, 3));
    assert_eq!(run.frames[1].data, payload(10, 4));
    assert_eq!(run.frames[1].origlen, 99);
    assert_eq!(run.frames[1].offset, 24 + 24 + 42);
    assert_eq!(run.frames[0].ts, 1_000_000_000_000_005_000);
    agree_with_tshark("modified", &w.bytes, &run.frames);
}

fn check_pcapng_basic(big_endian: bool) {
    let mut w = NgWriter::new(big_endian);
    w.interface(1, 0, &[]);
    // Default resolution: microseconds since the epoch.
    w.enhanced(0, 1_400_000_000_123_456, &payload(61, 5), 61, &[]);
    // With options (epb_flags, a comment): skipped without harm.
    w.enhanced(
        0,
        1_400_000_001_000_000,
        &payload(3, 6),
        1500,
        &[(2, vec![1, 0, 0, 0]), (1, b"hello".to_vec())],
    );
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.format, "pcapng");
    let r =
        CaptureReader::from_reader("x", Box::new(std::io::Cursor::new(w.bytes.clone()))).unwrap();
    assert_eq!(r.container(), Container::PcapNg { big_endian });
    let f = &run.frames;
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].ts, 1_400_000_000_123_456_000);
    assert_eq!(f[1].ts, 1_400_000_001_000_000_000);
    assert_eq!(f[0].data, payload(61, 5));
    assert_eq!((f[1].caplen, f[1].origlen), (3, 1500));
    // The first EPB follows the SHB (28) and IDB (20).
    assert_eq!(f[0].offset, 48);
    assert_eq!(f[1].offset as usize, w.boundaries[2]);
    agree_with_tshark(
        if big_endian { "ng-be" } else { "ng-le" },
        &w.bytes,
        &run.frames,
    );
}

#[test]
fn pcapng_le() {
    check_pcapng_basic(false);
}

#[test]
fn pcapng_be() {
    check_pcapng_basic(true);
}

/// Three interfaces with different link types, resolutions and offsets.
fn multi_interface(big_endian: bool) -> NgWriter {
    let mut w = NgWriter::new(big_endian);
    w.interface(
        1,
        65535,
        &[
            (OPT_NAME, b"eth0".to_vec()),
            (OPT_DESCRIPTION, b"wired\0".to_vec()),
        ],
    );
    w.interface(NULL, 262144, &[(OPT_TSRESOL, vec![9])]);
    let off = w.tsoffset(1_000_000_000);
    w.interface(RAW, 0, &[(OPT_TSRESOL, vec![0x88]), (OPT_TSOFFSET, off)]);
    w.enhanced(2, 384, &payload(20, 7), 20, &[]); // 1.5 s after the offset
    w.enhanced(1, 1_500_000_000_987_654_321, &payload(30, 8), 30, &[]);
    w.enhanced(0, 1_500_000_000_000_001, &payload(40, 9), 40, &[]);
    w
}

fn check_multi_interface(big_endian: bool) {
    let w = multi_interface(big_endian);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    let got: Vec<(u32, u16, i64)> = run
        .frames
        .iter()
        .map(|f| (f.interface, f.link_type, f.ts))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, RAW, 1_000_000_001_500_000_000),
            (1, NULL, 1_500_000_000_987_654_321),
            (0, 1, 1_500_000_000_000_001_000),
        ]
    );
    let i = &run.interfaces;
    assert_eq!(i.len(), 3);
    assert_eq!(i[0].name.as_deref(), Some("eth0"));
    assert_eq!(i[0].description.as_deref(), Some("wired"));
    assert_eq!(
        (i[1].snaplen, i[1].ts_units_per_sec),
        (262144, 1_000_000_000)
    );
    assert_eq!(
        (i[2].ts_units_per_sec, i[2].ts_offset_secs),
        (256, 1_000_000_000)
    );
    agree_with_tshark(
        if big_endian { "multi-be" } else { "multi-le" },
        &w.bytes,
        &run.frames,
    );
}

#[test]
fn pcapng_multi_interface_le() {
    check_multi_interface(false);
}

#[test]
fn pcapng_multi_interface_be() {
    check_multi_interface(true);
}

#[test]
fn pcapng_simple_packet_blocks() {
    // As the spec writes them: data = min(original length, snap length), padded.
    let mut w = NgWriter::new(false);
    w.interface(1, 64, &[]);
    w.simple(100, &payload(64, 1));
    w.simple(10, &payload(10, 2));
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    let lens: Vec<(u32, u32)> = run.frames.iter().map(|f| (f.caplen, f.origlen)).collect();
    assert_eq!(lens, vec![(64, 100), (10, 10)]);
    assert_eq!(run.frames[0].data, payload(64, 1));
    assert!(
        run.frames
            .iter()
            .all(|f| f.interface == 0 && f.link_type == 1 && f.ts == 0)
    );
    agree_with_tshark("spb", &w.bytes, &run.frames);
    // Snap length 0 means unlimited.
    let mut w = NgWriter::new(true);
    w.interface(1, 0, &[]);
    w.simple(100, &payload(100, 1));
    let run = read_bytes(&w.bytes);
    assert_eq!(run.frames[0].caplen, 100);
    agree_with_tshark("spb-be", &w.bytes, &run.frames);
}

#[test]
fn pcapng_simple_packet_blocks_off_spec() {
    // Blocks that hold more or less than min(original length, snap length): Wireshark
    // rejects them; we take the smallest of the three so no byte outside the block is read.
    let mut w = NgWriter::new(false);
    w.interface(1, 64, &[]);
    w.simple(100, &payload(100, 1));
    w.simple(200, &payload(40, 3));
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    let lens: Vec<(u32, u32)> = run.frames.iter().map(|f| (f.caplen, f.origlen)).collect();
    assert_eq!(lens, vec![(64, 100), (40, 200)]);
    assert_eq!(run.frames[1].data, payload(40, 3));
}

#[test]
fn pcapng_obsolete_packet_blocks() {
    for big_endian in [false, true] {
        let mut w = NgWriter::new(big_endian);
        w.interface(1, 0, &[]);
        w.interface(NULL, 0, &[(OPT_TSRESOL, vec![3])]);
        w.obsolete(1, 7, 1_234_567_890_123, &payload(33, 4), 50);
        w.obsolete(0, 0, 1_000_000, &payload(8, 5), 8);
        let run = read_bytes(&w.bytes);
        assert!(run.any_error().is_none(), "{:?}", run.any_error());
        let f = &run.frames;
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].interface, f[0].link_type), (1, NULL));
        assert_eq!(f[0].ts, 1_234_567_890_123_000_000); // milliseconds
        assert_eq!((f[0].caplen, f[0].origlen), (33, 50));
        assert_eq!(f[0].data, payload(33, 4));
        assert_eq!((f[1].interface, f[1].ts), (0, 1_000_000_000));
        agree_with_tshark(
            if big_endian { "opb-be" } else { "opb-le" },
            &w.bytes,
            &run.frames,
        );
    }
}

#[test]
fn pcapng_other_blocks_skipped_and_counted() {
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.block(4, &[0, 0, 0, 0]); // name resolution, empty
    w.enhanced(0, 1, &payload(10, 1), 10, &[]);
    w.block(5, &[0; 12]); // interface statistics
    w.block(0x0bad, &[0x78, 0x56, 0x34, 0x12, 1, 2, 3]); // custom
    w.block(0x1234_5678, &[]); // unknown
    w.enhanced(0, 2, &payload(10, 2), 10, &[]);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames.len(), 2);
    assert_eq!(run.stats.skipped_blocks, 4);
    assert_eq!(run.frames[1].offset as usize, w.boundaries[6]);
    agree_with_tshark("skipped", &w.bytes, &run.frames);
}

#[test]
fn pcapng_sections_change_byte_order_and_reset_interfaces() {
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.interface(NULL, 0, &[]);
    w.enhanced(1, 5, &payload(4, 1), 4, &[]);
    w.section(true, 1, 0);
    w.interface(RAW, 0, &[(OPT_TSRESOL, vec![9])]);
    w.enhanced(0, 7, &payload(5, 2), 5, &[]);
    w.section(false, 1, 2);
    w.interface(NULL, 0, &[]);
    w.enhanced(0, 9, &payload(6, 3), 6, &[]);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    let got: Vec<(u16, i64, u32)> = run
        .frames
        .iter()
        .map(|f| (f.link_type, f.ts, f.caplen))
        .collect();
    assert_eq!(got, vec![(NULL, 5_000, 4), (RAW, 7, 5), (NULL, 9_000, 6)]);
    agree_with_tshark("sections", &w.bytes, &run.frames);
}

#[test]
fn pcapng_binary_and_fine_resolutions() {
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[(OPT_TSRESOL, vec![0x80 | 20])]); // 2^-20 s
    w.enhanced(0, (1_600_000_000u64 << 20) + 3, &[1], 1, &[]);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    // 3 units of 2^-20 s = 2861.02... ns, truncated.
    assert_eq!(run.frames[0].ts, 1_600_000_000_000_002_861);
    agree_with_tshark("binary-resolution", &w.bytes, &run.frames);
    // Picoseconds (a u64 of them spans 213 days). Not checked against tshark: Wireshark 4.0
    // computes `(ts % units) * 10^9` in 64 bits, which overflows for units above ~1.8e10
    // and prints 12345678.015790852 for this one.
    let mut w = NgWriter::new(true);
    w.interface(1, 0, &[(OPT_TSRESOL, vec![12])]);
    w.enhanced(0, 12_345_678_901_234_567_891, &[2], 1, &[]);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames[0].ts, 12_345_678_901_234_567);
}

fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(part).unwrap();
        out.extend(enc.finish().unwrap());
    }
    out
}

#[test]
fn gzip_single_and_multi_member() {
    let mut w = PcapWriter::new(false, false, ETHER, 65535);
    three_records(&mut w, false);
    let plain = read_bytes(&w.bytes);
    let run = read_bytes(&gzip(&[&w.bytes]));
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.format, "gz+pcap-le-us");
    assert_eq!(run.frames, plain.frames);
    // Two members split inside a record: one stream.
    let (a, b) = w.bytes.split_at(50);
    let run = read_bytes(&gzip(&[a, b]));
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames, plain.frames);
    // pcapng inside gzip.
    let ng = multi_interface(true);
    let run = read_bytes(&gzip(&[&ng.bytes]));
    assert_eq!(run.format, "gz+pcapng");
    assert_eq!(run.frames, read_bytes(&ng.bytes).frames);
}

/// The pcap compressed in `tests/data/three-records.pcap.zst` (by the `zstd` tool).
fn zstd_fixture_source() -> Vec<u8> {
    let mut w = PcapWriter::new(false, false, ETHER, 65535);
    three_records(&mut w, false);
    w.bytes
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn zstd_single_multi_and_skippable_frames() {
    let plain = read_bytes(&zstd_fixture_source());
    let single = fixture("three-records.pcap.zst");
    let run = read_bytes(&single);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.format, "zst+pcap-le-us");
    assert_eq!(run.frames, plain.frames);
    // Two frames, split inside the second record (as `cat a.zst b.zst` makes).
    let run = read_bytes(&fixture("three-records-2frames.pcap.zst"));
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames, plain.frames);
    // `zstd --long` (from a pipe, so the 128 MiB window is kept): above ruzstd's own limit.
    let run = read_bytes(&fixture("three-records-long.pcap.zst"));
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames, plain.frames);
    // A skippable frame after the data frame is ignored.
    let mut with_skip = single.clone();
    with_skip.extend_from_slice(&[0x5f, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 0xaa, 0xbb]);
    let run = read_bytes(&with_skip);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames, plain.frames);
}

/// Regenerates the zstd fixtures' source; run with `--ignored` and compress with `zstd`.
#[test]
#[ignore = "writes the source of tests/data/*.zst"]
fn write_zstd_fixture_source() {
    let bytes = zstd_fixture_source();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::write(dir.join("three-records.pcap"), &bytes).unwrap();
    std::fs::write(dir.join("part1.pcap"), &bytes[..50]).unwrap();
    std::fs::write(dir.join("part2.pcap"), &bytes[50..]).unwrap();
}

#[test]
fn record_at_the_size_limit() {
    let big = payload(MAX_RECORD_LEN as usize, 9);
    let mut w = PcapWriter::new(false, false, ETHER, MAX_RECORD_LEN);
    w.record(1, 0, &[1, 2, 3], 3);
    w.record(2, 0, &big, MAX_RECORD_LEN);
    w.record(3, 0, &[4], 1);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames.len(), 3);
    assert!(run.frames[1].data == big);
    let mut ng = NgWriter::new(false);
    ng.interface(1, 0, &[]);
    ng.enhanced(0, 1, &big, MAX_RECORD_LEN, &[(1, vec![b'c'; 1000])]);
    ng.enhanced(0, 2, &[5], 1, &[]);
    let run = read_bytes(&ng.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames.len(), 2);
    assert!(run.frames[0].data == big);
}

#[test]
fn large_metadata_block_is_streamed_past() {
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.enhanced(0, 1, &[1], 1, &[]);
    // A 3 MiB custom block: larger than any buffered block may be.
    w.block(0x0bad, &vec![7u8; 3 << 20]);
    w.enhanced(0, 2, &[2], 1, &[]);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames.len(), 2);
    assert_eq!(run.stats.skipped_blocks, 1);
    assert_eq!(run.frames[1].offset as usize, w.boundaries[3]);
    // Through a trickling reader too.
    let run = read_source("t", Box::new(Trickle::new(w.bytes.clone(), 4093)));
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    assert_eq!(run.frames.len(), 2);
}

/// Hands out at most `chunk` bytes per read.
struct Trickle {
    data: std::io::Cursor<Vec<u8>>,
    chunk: usize,
}

impl Trickle {
    fn new(data: Vec<u8>, chunk: usize) -> Self {
        Trickle {
            data: std::io::Cursor::new(data),
            chunk,
        }
    }
}

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.chunk);
        self.data.read(&mut out[..n])
    }
}

#[test]
fn short_reads_change_nothing() {
    let mut w = PcapWriter::new(true, false, ETHER, 65535);
    three_records(&mut w, false);
    let ng = multi_interface(false);
    for bytes in [&w.bytes, &ng.bytes] {
        let whole = read_bytes(bytes);
        for chunk in [1, 2, 3, 7, 64] {
            let run = read_source("t", Box::new(Trickle::new(bytes.to_vec(), chunk)));
            assert!(
                run.any_error().is_none(),
                "chunk {chunk}: {:?}",
                run.any_error()
            );
            assert_eq!(run.frames, whole.frames, "chunk {chunk}");
        }
        let gz = gzip(&[bytes]);
        let run = read_source("t", Box::new(Trickle::new(gz, 1)));
        assert_eq!(run.frames, whole.frames);
    }
}

#[test]
fn many_frames_across_buffer_refills() {
    // ~3 MB: several refills of the 1 MiB buffer, records straddling every boundary.
    let mut w = PcapWriter::new(false, true, ETHER, 65535);
    let mut expect = Vec::new();
    for i in 0..20_000u32 {
        let len = (i * 7919) % 301;
        w.record(i, i, &payload(len as usize, i as u8), len + 1);
        expect.push((i64::from(i) * 1_000_000_001, len));
    }
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none(), "{:?}", run.any_error());
    let got: Vec<(i64, u32)> = run.frames.iter().map(|f| (f.ts, f.caplen)).collect();
    assert_eq!(got, expect);
    for (i, f) in run.frames.iter().enumerate() {
        assert_eq!(f.data, payload(f.caplen as usize, i as u8));
        assert_eq!(f.offset as usize, w.boundaries[i]);
    }
}
