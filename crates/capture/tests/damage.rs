//! Damaged input: every truncation point of small files, garbled fields, failing readers.
//! The contract: every frame before the damage, then one error naming the source and the
//! offset of the bad record or block; a clean end only at a record boundary; no panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design
mod common;

use std::io::{self, Read, Write};

use common::*;
use trident_capture::{CaptureErrorKind, MAX_RECORD_LEN};

fn pcap_sample() -> PcapWriter {
    let mut w = PcapWriter::new(false, false, 1, 65535);
    w.record(1, 1, &payload(20, 1), 20);
    w.record(2, 2, &payload(7, 2), 60);
    w.record(3, 3, &[], 0);
    w.record(4, 4, &payload(33, 3), 33);
    w
}

/// Big-endian multi-interface pcapng with every packet block kind, a skipped block and a
/// second, little-endian section.
fn pcapng_sample() -> NgWriter {
    let mut w = NgWriter::new(true);
    w.interface(1, 0, &[(OPT_NAME, b"a".to_vec())]);
    w.interface(0, 128, &[(OPT_TSRESOL, vec![9])]);
    w.enhanced(1, 10, &payload(13, 1), 13, &[]);
    w.block(5, &[0; 8]);
    w.simple(9, &payload(9, 2));
    w.obsolete(1, 0, 11, &payload(5, 3), 5);
    w.section(false, 1, 0);
    w.interface(101, 0, &[]);
    w.enhanced(0, 12, &payload(21, 4), 21, &[(1, b"note".to_vec())]);
    w
}

/// The largest boundary at or before `k`, and whether `k` is one.
fn boundary_at(boundaries: &[usize], k: usize) -> (usize, bool) {
    let start = boundaries
        .iter()
        .copied()
        .filter(|&b| b <= k)
        .max()
        .unwrap_or(0);
    (start, boundaries.contains(&k))
}

#[test]
fn pcap_truncated_at_every_byte() {
    let w = pcap_sample();
    let full = read_bytes(&w.bytes);
    assert!(full.any_error().is_none());
    assert_eq!(full.frames.len(), 4);
    for k in 0..=w.bytes.len() {
        let cut = &w.bytes[..k];
        let run = read_bytes(cut);
        if k < 4 {
            let e = run.open_error.expect("short magic");
            assert!(
                matches!(&e.kind, CaptureErrorKind::UnknownFormat { magic } if magic == cut),
                "{k}: {e}"
            );
            continue;
        }
        if k < 24 {
            let e = run.open_error.expect("short header");
            assert!(
                matches!(
                    e.kind,
                    CaptureErrorKind::Truncated {
                        what: "global header"
                    }
                ),
                "{k}: {e}"
            );
            assert_eq!(e.offset, 0);
            continue;
        }
        let whole = w.boundaries.iter().filter(|&&b| b <= k).count() - 1;
        assert_eq!(run.frames, full.frames[..whole], "cut at {k}");
        let (start, clean) = boundary_at(&w.boundaries, k);
        match (&run.error, clean) {
            (None, true) => {}
            (Some(e), false) => {
                let what = if k - start < 16 {
                    "record header"
                } else {
                    "record data"
                };
                assert!(
                    matches!(e.kind, CaptureErrorKind::Truncated { what: w } if w == what),
                    "{k}: {e}"
                );
                assert_eq!(e.offset, start as u64, "cut at {k}");
                assert_eq!(e.source_name, "mem");
                assert!(
                    e.to_string()
                        .starts_with(&format!("mem: at byte {start}: ")),
                    "{e}"
                );
            }
            (e, _) => panic!("cut at {k}: clean end expected {clean}, got {e:?}"),
        }
    }
}

#[test]
fn pcapng_truncated_at_every_byte() {
    let w = pcapng_sample();
    let full = read_bytes(&w.bytes);
    assert!(full.any_error().is_none(), "{:?}", full.any_error());
    assert_eq!(full.frames.len(), 4);
    // Where each frame's block ends.
    let frame_ends: Vec<usize> = full
        .frames
        .iter()
        .map(|f| {
            *w.boundaries
                .iter()
                .find(|&&b| b > f.offset as usize)
                .unwrap()
        })
        .collect();
    let shb_end = w.boundaries[0];
    for k in 0..=w.bytes.len() {
        let cut = &w.bytes[..k];
        let run = read_bytes(cut);
        if k < 4 {
            assert!(matches!(
                run.open_error.unwrap().kind,
                CaptureErrorKind::UnknownFormat { .. }
            ));
            continue;
        }
        if k < shb_end {
            let e = run.open_error.expect("section header cut");
            let what = if k < 12 {
                "section header block"
            } else {
                "block"
            };
            assert!(
                matches!(e.kind, CaptureErrorKind::Truncated { what: w } if w == what),
                "{k}: {e}"
            );
            assert_eq!(e.offset, 0);
            continue;
        }
        let whole = frame_ends.iter().filter(|&&end| end <= k).count();
        assert_eq!(run.frames, full.frames[..whole], "cut at {k}");
        let (start, clean) = boundary_at(&w.boundaries, k);
        match (&run.error, clean) {
            (None, true) => {}
            (Some(e), false) => {
                // A section header's length can only be read with its byte-order magic.
                let header = if w.bytes[start..].starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
                    12
                } else {
                    8
                };
                let what = if k - start < header {
                    "block header"
                } else {
                    "block"
                };
                assert!(
                    matches!(e.kind, CaptureErrorKind::Truncated { what: w } if w == what),
                    "{k}: {e}"
                );
                assert_eq!(e.offset, start as u64, "cut at {k}");
            }
            (e, _) => panic!("cut at {k}: clean end expected {clean}, got {e:?}"),
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A cut compressed stream: a prefix of the frames, then an error (never a clean end).
fn check_compressed_cuts(compressed: &[u8], full: &[Frame]) {
    for k in 0..compressed.len() {
        let run = read_bytes(&compressed[..k]);
        assert!(run.frames.len() <= full.len());
        assert_eq!(run.frames, full[..run.frames.len()], "cut at {k}");
        let e = run
            .any_error()
            .unwrap_or_else(|| panic!("cut at {k}: no error"));
        assert!(
            matches!(
                e.kind,
                CaptureErrorKind::Decompress(_)
                    | CaptureErrorKind::Truncated { .. }
                    | CaptureErrorKind::UnknownFormat { .. }
            ),
            "cut at {k}: {e}"
        );
    }
}

#[test]
fn gzip_truncated_at_every_byte() {
    let w = pcap_sample();
    let full = read_bytes(&w.bytes).frames;
    let gz = gzip(&w.bytes);
    assert_eq!(read_bytes(&gz).frames, full);
    check_compressed_cuts(&gz, &full);
    // A cut in the middle of the deflate data, far from the end, is a decompression error.
    let run = read_bytes(&gz[..gz.len() - 20]);
    assert!(matches!(
        run.error.unwrap().kind,
        CaptureErrorKind::Decompress(_)
    ));
}

#[test]
fn zstd_truncated_at_every_byte() {
    let zst = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/three-records-2frames.pcap.zst"
    ))
    .unwrap();
    let full = read_bytes(&zst);
    assert!(full.any_error().is_none());
    assert_eq!(full.frames.len(), 3);
    check_compressed_cuts(&zst, &full.frames);
}

#[test]
fn garbled_pcap_caplen() {
    let mut w = pcap_sample();
    let at = w.boundaries[2];
    w.bytes[at + 8..at + 12].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let run = read_bytes(&w.bytes);
    assert_eq!(run.frames.len(), 2);
    let e = run.error.unwrap();
    assert_eq!(e.offset, at as u64);
    assert!(
        matches!(e.kind, CaptureErrorKind::RecordTooLarge { declared: 0x7fff_fff0, limit } if limit == u64::from(MAX_RECORD_LEN)),
        "{e}"
    );
    // One byte over the limit, with the bytes actually present: still refused.
    let mut w = PcapWriter::new(true, false, 1, 0);
    w.record(1, 0, &[1], 1);
    w.record(
        2,
        0,
        &vec![0; MAX_RECORD_LEN as usize + 1],
        MAX_RECORD_LEN + 1,
    );
    let run = read_bytes(&w.bytes);
    assert_eq!(run.frames.len(), 1);
    assert!(matches!(
        run.error.unwrap().kind,
        CaptureErrorKind::RecordTooLarge { .. }
    ));
}

/// Offset of block `i` (0 = the first section header).
fn block_start(w: &NgWriter, i: usize) -> usize {
    if i == 0 { 0 } else { w.boundaries[i - 1] }
}

fn ng_error(bytes: &[u8]) -> (usize, trident_capture::CaptureError) {
    let run = read_bytes(bytes);
    let n = run.frames.len();
    (n, run.error.or(run.open_error).expect("an error"))
}

#[test]
fn garbled_pcapng_lengths() {
    let w = pcapng_sample();
    // Block 3 (first EPB) length made 65533: not a multiple of 4.
    let mut b = w.bytes.clone();
    let at = block_start(&w, 3);
    b[at + 4..at + 8].copy_from_slice(&65533u32.to_be_bytes());
    let (n, e) = ng_error(&b);
    assert_eq!(n, 0);
    assert_eq!(e.offset, at as u64);
    assert!(matches!(e.kind, CaptureErrorKind::Malformed(_)), "{e}");
    // Its trailer changed: a mismatch.
    let mut b = w.bytes.clone();
    let end = w.boundaries[3];
    b[end - 1] ^= 4;
    let (n, e) = ng_error(&b);
    assert_eq!((n, e.offset), (0, at as u64));
    assert!(e.to_string().contains("trailer"), "{e}");
    // Its caplen larger than the block.
    let mut b = w.bytes.clone();
    b[at + 20..at + 24].copy_from_slice(&200u32.to_be_bytes());
    let (n, e) = ng_error(&b);
    assert_eq!((n, e.offset), (0, at as u64));
    assert!(
        matches!(
            e.kind,
            CaptureErrorKind::RecordTooLarge {
                declared: 200,
                limit: 16
            }
        ),
        "{e}"
    );
    // A packet block declaring 4 GiB in a small file: refused before any read.
    let mut b = w.bytes.clone();
    b[at + 4..at + 8].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    let (_, e) = ng_error(&b);
    assert!(
        matches!(
            e.kind,
            CaptureErrorKind::RecordTooLarge {
                declared: 0xffff_fff0,
                ..
            }
        ),
        "{e}"
    );
    // A skippable block declaring 60 MiB in a small file: streamed to the end, truncated.
    let isb = block_start(&w, 4);
    let mut b = w.bytes.clone();
    b[isb + 4..isb + 8].copy_from_slice(&(60u32 << 20).to_be_bytes());
    let (n, e) = ng_error(&b);
    assert_eq!((n, e.offset), (1, isb as u64));
    assert!(
        matches!(e.kind, CaptureErrorKind::Truncated { what: "block" }),
        "{e}"
    );
    // And one declaring more than any block may: refused.
    b[isb + 4..isb + 8].copy_from_slice(&(1000u32 << 20).to_be_bytes());
    let (n, e) = ng_error(&b);
    assert_eq!((n, e.offset), (1, isb as u64));
    assert!(
        matches!(e.kind, CaptureErrorKind::RecordTooLarge { .. }),
        "{e}"
    );
}

#[test]
fn pcapng_interfaces_must_exist() {
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.enhanced(0, 1, &[1], 1, &[]);
    w.enhanced(5, 2, &[2], 1, &[]);
    let (n, e) = ng_error(&w.bytes);
    assert_eq!((n, e.offset), (1, w.boundaries[2] as u64));
    assert!(
        matches!(e.kind, CaptureErrorKind::UnknownInterface(5)),
        "{e}"
    );
    // A simple packet block before any interface.
    let mut w = NgWriter::new(true);
    w.simple(4, &[1, 2, 3, 4]);
    let (n, e) = ng_error(&w.bytes);
    assert_eq!((n, e.offset), (0, 28));
    assert!(
        matches!(e.kind, CaptureErrorKind::UnknownInterface(0)),
        "{e}"
    );
    // A new section forgets the interfaces of the previous one.
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.interface(1, 0, &[]);
    w.enhanced(1, 1, &[1], 1, &[]);
    w.section(true, 1, 0);
    w.interface(1, 0, &[]);
    w.enhanced(1, 2, &[2], 1, &[]);
    let (n, e) = ng_error(&w.bytes);
    assert_eq!((n, e.offset), (1, w.boundaries[5] as u64));
    assert!(
        matches!(e.kind, CaptureErrorKind::UnknownInterface(1)),
        "{e}"
    );
}

#[test]
fn pcapng_bad_sections_and_options() {
    // Section 2 with an unknown major version (gopacket's test901 has one): the packets
    // of section 1, then an error at the section header, as Wireshark does.
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.enhanced(0, 1, &[1], 1, &[]);
    w.section(false, 2, 0);
    w.interface(1, 0, &[]);
    w.enhanced(0, 2, &[2], 1, &[]);
    let (n, e) = ng_error(&w.bytes);
    assert_eq!((n, e.offset), (1, w.boundaries[2] as u64));
    assert!(e.to_string().contains("version 2.0"), "{e}");
    // A section whose byte-order magic is garbage.
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[]);
    w.enhanced(0, 1, &[1], 1, &[]);
    let at = w.bytes.len();
    w.section(false, 1, 0);
    w.bytes[at + 8] ^= 0xff;
    let (n, e) = ng_error(&w.bytes);
    assert_eq!((n, e.offset), (1, at as u64));
    assert!(e.to_string().contains("byte-order"), "{e}");
    // The same in the first section fails open.
    let mut w = NgWriter::new(false);
    w.bytes[9] ^= 0xff;
    let e = read_bytes(&w.bytes).open_error.unwrap();
    assert_eq!(e.offset, 0);
    // if_tsresol beyond what a u64 holds.
    let mut w = NgWriter::new(false);
    w.interface(1, 0, &[(OPT_TSRESOL, vec![20])]);
    let (_, e) = ng_error(&w.bytes);
    assert_eq!(e.offset, 28);
    assert!(e.to_string().contains("if_tsresol"), "{e}");
}

#[test]
fn empty_and_header_only_files() {
    let e = read_bytes(&[]).open_error.unwrap();
    assert!(matches!(&e.kind, CaptureErrorKind::UnknownFormat { magic } if magic.is_empty()));
    let e = read_bytes(b"GET / HTTP/1.1\r\n").open_error.unwrap();
    assert!(matches!(&e.kind, CaptureErrorKind::UnknownFormat { magic } if magic == b"GET "));
    assert!(e.to_string().contains("47 45 54 20"), "{e}");
    let w = PcapWriter::new(false, false, 1, 0);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none() && run.frames.is_empty());
    let w = NgWriter::new(true);
    let run = read_bytes(&w.bytes);
    assert!(run.any_error().is_none() && run.frames.is_empty());
    assert_eq!(run.format, "pcapng");
}

#[test]
fn corrupt_compressed_streams() {
    // zstd magic followed by garbage.
    let e = read_bytes(&[0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff])
        .any_error()
        .map(|e| e.to_string());
    assert!(e.unwrap().contains("decompression failed"));
    // gzip with a flipped bit in its deflate data. Whatever the inflater made of it may
    // already have been delivered (gzip's CRC is only checked at the end of a member), but
    // the damage is reported.
    let w = pcap_sample();
    let mut gz = gzip(&w.bytes);
    let mid = gz.len() - 12;
    gz[mid] ^= 0x10;
    let run = read_bytes(&gz);
    let e = run.any_error().expect("corruption noticed");
    assert!(
        matches!(
            e.kind,
            CaptureErrorKind::Decompress(_)
                | CaptureErrorKind::Truncated { .. }
                | CaptureErrorKind::RecordTooLarge { .. }
        ),
        "{e}"
    );
}

/// Serves `data`, then fails with `kind`.
struct Failing {
    data: io::Cursor<Vec<u8>>,
    kind: io::ErrorKind,
}

impl Read for Failing {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.data.read(out)? {
            0 => Err(io::Error::new(self.kind, "disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn read_errors_keep_earlier_frames() {
    let w = pcap_sample();
    let cut = w.boundaries[2] + 5;
    let src = Failing {
        data: io::Cursor::new(w.bytes[..cut].to_vec()),
        kind: io::ErrorKind::PermissionDenied,
    };
    let run = read_source("failing", Box::new(src));
    assert_eq!(run.frames.len(), 2);
    let e = run.error.unwrap();
    assert_eq!(e.offset, w.boundaries[2] as u64);
    assert!(
        matches!(&e.kind, CaptureErrorKind::Io(io) if io.kind() == io::ErrorKind::PermissionDenied)
    );
    assert!(std::error::Error::source(&e).is_some());
}
