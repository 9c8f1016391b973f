//! The shared corpus of real captures (`../shared/corpus`, or `$TRIDENT_SHARED/corpus`):
//! every file's packet count, format and link types against its MANIFEST row (written from
//! capinfos and tshark), and timestamps of a selection against tshark.
//!
//! These tests fail, loudly, when the corpus is absent: a silent skip would pass CI without
//! testing anything.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic by design
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use trident_capture::{CaptureErrorKind, CaptureReader, Input};

/// One MANIFEST row.
struct Row {
    path: String,
    format: String,
    link_types: String,
    /// capinfos' packet count; `None` for `?` (capinfos could not read the file).
    packets: Option<u64>,
    features: String,
}

fn corpus_dir() -> PathBuf {
    let dir = shared_dir().join("corpus");
    let manifest = dir.join("MANIFEST.tsv");
    assert!(
        manifest.is_file(),
        "the shared corpus is missing: {} not found. Put the shared data at ../shared \
         beside the repository or set TRIDENT_SHARED.",
        manifest.display()
    );
    dir
}

fn manifest(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("MANIFEST header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST has no {name} column"))
    };
    let (path, format, link_types, packets, features) = (
        col("path"),
        col("format"),
        col("link_types"),
        col("packets"),
        col("features"),
    );
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("").to_owned();
            Row {
                path: get(path),
                format: get(format),
                link_types: get(link_types),
                packets: get(packets).parse().ok(),
                features: get(features),
            }
        })
        .collect()
}

/// What reading one file gave.
struct Outcome {
    format: &'static str,
    frames: Vec<Frame>,
    error: Option<trident_capture::CaptureError>,
    open_error: Option<trident_capture::CaptureError>,
}

fn read_file(path: &Path, keep_data: bool) -> Outcome {
    let mut out = Outcome {
        format: "",
        frames: Vec::new(),
        error: None,
        open_error: None,
    };
    let mut r = match CaptureReader::open(&Input::File(path.to_path_buf())) {
        Ok(r) => r,
        Err(e) => {
            out.open_error = Some(e);
            return out;
        }
    };
    out.format = r.format_label();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => out.frames.push(Frame {
                number: f.number,
                ts: f.ts.as_nanos(),
                link_type: f.link_type.0,
                interface: f.interface,
                caplen: f.caplen,
                origlen: f.origlen,
                offset: f.offset,
                data: if keep_data {
                    f.data.to_vec()
                } else {
                    Vec::new()
                },
            }),
            Ok(None) => break,
            Err(e) => {
                out.error = Some(e);
                break;
            }
        }
    }
    out
}

#[test]
fn corpus_counts_match_manifest() {
    let dir = corpus_dir();
    let rows = manifest(&dir);
    assert!(rows.len() > 100, "MANIFEST has only {} rows", rows.len());
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut totals = (0usize, 0u64);
    for row in &rows {
        let path = dir.join(&row.path);
        let name = path.display().to_string();
        let out = read_file(&path, false);
        let got = out.frames.len() as u64;
        totals.0 += 1;
        totals.1 += got;
        let mut problem = |msg: String| problems.push(format!("{}: {msg}", row.path));
        let damaged = row
            .format
            .strip_prefix("damaged(")
            .and_then(|f| f.strip_suffix(')'));
        let capinfos_failed = row.features.contains("capinfos-error");

        if let Some(e) = &out.open_error {
            // Only unknown formats and files damaged in their headers may fail to open.
            let unknown = damaged.is_some_and(|f| f.starts_with("unknown"));
            let ok = match &e.kind {
                CaptureErrorKind::UnknownFormat { .. } => unknown,
                _ => damaged.is_some() && !unknown && row.packets.is_none(),
            };
            if !ok {
                problem(format!("open failed: {e}"));
            }
            if e.source_name != name {
                problem(format!("error names {:?}", e.source_name));
            }
            notes.push(format!("{}: open error: {e}", row.path));
            continue;
        }
        if damaged.is_some_and(|f| f.starts_with("unknown")) {
            problem(format!(
                "opened as {} but the MANIFEST says {}",
                out.format, row.format
            ));
            continue;
        }
        let expect_format = damaged.unwrap_or(&row.format);
        if out.format != expect_format {
            problem(format!(
                "format {} but the MANIFEST says {expect_format}",
                out.format
            ));
        }
        // Link types we have names for must be among those the MANIFEST lists.
        let listed: BTreeSet<&str> = row.link_types.split('+').collect();
        let ours: BTreeSet<&str> = out
            .frames
            .iter()
            .map(|f| trident_capture::LinkType(f.link_type).name())
            .filter(|n| *n != "other")
            .collect();
        if !ours.is_subset(&listed) {
            problem(format!(
                "link types {ours:?} but the MANIFEST lists {listed:?}"
            ));
        }
        if damaged.is_some() || capinfos_failed {
            // Damaged: at least what capinfos read, then an error naming file and offset.
            if let Some(n) = row.packets {
                if got < n {
                    problem(format!("{got} frames, capinfos read {n}"));
                }
            }
            match &out.error {
                Some(e) => {
                    if e.source_name != name {
                        problem(format!("error names {:?}", e.source_name));
                    }
                    notes.push(format!("{}: {got} frames, then: {e}", row.path));
                }
                None if damaged.is_some() => problem(format!("{got} frames and no error")),
                None => notes.push(format!(
                    "{}: {got} frames, no error (capinfos failed: {:?} packets)",
                    row.path, row.packets
                )),
            }
        } else {
            if let Some(e) = &out.error {
                problem(format!("error after {got} frames: {e}"));
            }
            match row.packets {
                Some(n) if n != got => problem(format!("{got} frames, the MANIFEST says {n}")),
                Some(_) => {}
                None => notes.push(format!(
                    "{}: {got} frames (MANIFEST count unknown)",
                    row.path
                )),
            }
        }
    }
    for n in &notes {
        println!("{n}");
    }
    println!("read {} files, {} frames", totals.0, totals.1);
    assert!(
        problems.is_empty(),
        "{} corpus files disagree with the MANIFEST:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn corpus_timestamps_match_tshark() {
    let dir = corpus_dir();
    // One file per variant: pcap byte orders and resolutions, modified pcap, pcapng with
    // nanosecond, 2^-8 and default resolutions, several interfaces and link types, several
    // sections of both byte orders with simple packet blocks and custom blocks, gzip, zstd,
    // timestamps past 2038 and 2106.
    let files = [
        "zeek/wikipedia.pcap",
        "ndpi/nfsv2.pcap",
        "pcapplusplus/nanosecs_big_endian.pcap",
        "tcpdump/tcp-handshake-nano.pcap",
        "pcap-parser/modified-format.pcap",
        "ndpi/sites.pcapng",
        "gopacket/pcapgo/tests/be/test902.pcapng",
        "gopacket/pcapgo/tests/le/test902.pcapng",
        "pcapplusplus/many_interfaces-1.pcapng",
        "pcapng-test-generator/output_be/difficult/test202.pcapng",
        "pcapng-test-generator/output_le/advanced/test102.pcapng",
        "made/sites.pcapng.gz",
        "pcapplusplus/file_heuristics/pcapng-example.pcapng.zst",
        "tcpdump/time_2107.pcapng",
        "damaged/tcpdump/time_2038_overflow.pcap",
        "damaged/tcpdump/time_2106_overflow.pcapng",
    ];
    for f in files {
        let path = dir.join(f);
        let out = read_file(&path, false);
        assert!(
            out.open_error.is_none() && out.error.is_none(),
            "{f}: {:?} {:?}",
            out.open_error,
            out.error
        );
        assert!(!out.frames.is_empty(), "{f}: no frames");
        let pcapng = out.format.ends_with("pcapng");
        // Beyond year 2262 a Timestamp saturates (see trident_types::Timestamp); tshark
        // prints what the file says. Compare the frames before the first such one.
        let in_range = out.frames.iter().take_while(|f| f.ts != i64::MAX).count();
        if in_range < out.frames.len() {
            println!(
                "{f}: frame {} is past the Timestamp range; compared {in_range} frames",
                in_range + 1
            );
        }
        if !compare_with_tshark(f, &path, pcapng, &out.frames, Some(in_range)) {
            return;
        }
    }
}

#[test]
fn corpus_compressed_copies_match_originals() {
    let dir = corpus_dir();
    for (compressed, plain) in [
        ("made/wikipedia.pcap.gz", "zeek/wikipedia.pcap"),
        ("made/sites.pcapng.gz", "ndpi/sites.pcapng"),
        (
            "pcapplusplus/file_heuristics/pcapng-example.pcapng.zst",
            "pcapplusplus/pcapng-example.pcapng",
        ),
    ] {
        let a = read_file(&dir.join(compressed), true);
        let b = read_file(&dir.join(plain), true);
        assert!(a.error.is_none() && b.error.is_none(), "{compressed}");
        assert!(!a.frames.is_empty());
        assert!(a.frames == b.frames, "{compressed} and {plain} differ");
    }
}
