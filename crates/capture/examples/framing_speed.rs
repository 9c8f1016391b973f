//! Frames per second of `CaptureReader` on a file, beside `pcap-parser`'s own streaming
//! reader on the same file (the framing ceiling), so the two can be compared in one run.
//!
//! `cargo run --release -p trident-capture --example framing_speed -- FILE [RUNS]`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool, not library code

use std::fs::File;
use std::time::Instant;

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};
use trident_capture::{CaptureReader, Input};

/// Buffer of the `pcap-parser` loop (as large as ours when it has grown).
const PARSER_BUF: usize = 1 << 20;

fn ours(path: &str) -> (u64, u64) {
    let mut r = CaptureReader::open(&Input::File(path.into())).expect("open");
    let (mut frames, mut bytes) = (0u64, 0u64);
    while let Some(f) = r.next_frame().expect("read") {
        frames += 1;
        bytes += u64::from(f.caplen) + u64::from(f.data.first().copied().unwrap_or(0));
    }
    (frames, bytes)
}

fn parser(path: &str, pcapng: bool) -> (u64, u64) {
    let file = File::open(path).expect("open");
    let mut reader: Box<dyn PcapReaderIterator> = if pcapng {
        Box::new(PcapNGReader::new(PARSER_BUF, file).expect("pcapng"))
    } else {
        Box::new(LegacyPcapReader::new(PARSER_BUF, file).expect("pcap"))
    };
    let (mut frames, mut bytes) = (0u64, 0u64);
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                let data: Option<&[u8]> = match block {
                    PcapBlockOwned::Legacy(b) => Some(b.data),
                    PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(b)) => {
                        Some(&b.data[..(b.caplen as usize).min(b.data.len())])
                    }
                    _ => None,
                };
                if let Some(d) = data {
                    frames += 1;
                    bytes += d.len() as u64 + u64::from(d.first().copied().unwrap_or(0));
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("{e:?}"),
        }
    }
    (frames, bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: framing_speed FILE [RUNS]");
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let pcapng = {
        let r = CaptureReader::open(&Input::File(path.into())).expect("open");
        println!("{path}: {}", r.format_label());
        if r.format_label().contains('+') {
            None
        } else {
            Some(r.format_label() == "pcapng")
        }
    };
    let mut best_ours = f64::MAX;
    let mut best_parser = f64::MAX;
    let mut counts = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        counts = ours(path);
        best_ours = best_ours.min(t.elapsed().as_secs_f64());
        if let Some(ng) = pcapng {
            let t = Instant::now();
            let theirs = parser(path, ng);
            best_parser = best_parser.min(t.elapsed().as_secs_f64());
            assert_eq!(theirs, counts, "both readers see the same frames");
        }
    }
    let frames = counts.0 as f64;
    println!(
        "trident-capture: {} frames in {:.3} s = {:.1} M frames/s",
        counts.0,
        best_ours,
        frames / best_ours / 1e6
    );
    if pcapng.is_some() {
        println!(
            "pcap-parser:     {} frames in {:.3} s = {:.1} M frames/s",
            counts.0,
            best_parser,
            frames / best_parser / 1e6
        );
    }
}
