//! Decode throughput: loads the frames of a few corpus captures into memory and decodes
//! them repeatedly, headers only and with application hints.
//!
//! `cargo run --release -p trident-decode --example throughput [FILE...]` — with no files,
//! uses plain TCP/UDP Ethernet captures from the shared corpus.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use trident_decode::{DecodeOptions, decode_with};

/// Corpus files of ordinary Ethernet TCP/UDP traffic.
const DEFAULT_FILES: [&str; 3] = [
    "pcapplusplus/many-protocols.pcap",
    "zeek/tunnels/Teredo.pcap",
    "ndpi/1kxun.pcap",
];
/// How long each measurement runs (many passes over the frames).
const MEASURE: Duration = Duration::from_secs(3);

fn main() {
    let args: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let paths = if args.is_empty() {
        DEFAULT_FILES.iter().map(|f| common::corpus(f)).collect()
    } else {
        args
    };
    let mut frames = Vec::new();
    for p in &paths {
        frames.extend(common::read_frames(p));
    }
    let bytes: usize = frames.iter().map(|f| f.data.len()).sum();
    println!(
        "{} frames, {} bytes from {} files",
        frames.len(),
        bytes,
        paths.len()
    );
    println!(
        "size of Packet: {} bytes",
        std::mem::size_of::<trident_decode::Packet<'_>>()
    );
    // A fixed number of header-only passes, for instruction counting under callgrind
    // (wall-clock rates are meaningless on a loaded machine).
    if let Some(passes) = std::env::var("TRIDENT_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        for _ in 0..passes {
            for f in &frames {
                black_box(decode_with(
                    f.link_type,
                    black_box(&f.data),
                    DecodeOptions::headers_only(),
                ));
            }
        }
        println!("{} decodes", u64::from(passes) * frames.len() as u64);
        return;
    }
    for (name, options) in [
        ("headers only", DecodeOptions::headers_only()),
        ("with hints", DecodeOptions::default()),
    ] {
        // The best of several short windows: on a shared machine the average mostly
        // measures the neighbours.
        let mut best = f64::MAX;
        let start = Instant::now();
        let mut stops = 0;
        while start.elapsed() < MEASURE {
            let window = Instant::now();
            stops = 0;
            for f in &frames {
                let p = decode_with(f.link_type, black_box(&f.data), options);
                stops += usize::from(p.stop.is_some());
                black_box(&p);
            }
            best = best.min(window.elapsed().as_secs_f64() / frames.len() as f64);
        }
        println!(
            "{name:>13}: {:.1} M packets/s, {:.0} ns/packet (best pass; {stops} stops per pass)",
            1e-6 / best,
            best * 1e9
        );
    }
}
