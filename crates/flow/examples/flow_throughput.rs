//! Flow-table throughput: loads a capture's frames into memory, then measures decode alone
//! and decode + flow table (with application hints, as `trident flows` runs), best of
//! several windows (on a shared machine the average mostly measures the neighbours).
//!
//! `cargo run --release -p trident-flow --example flow_throughput FILE...`
//!
//! With `TRIDENT_BENCH_PASSES=N` it instead runs N decode + flow passes and prints the
//! flow count, for instruction counting under callgrind.

use std::hint::black_box;
use std::time::{Duration, Instant};

use trident_capture::{CaptureReader, Input};
use trident_decode::{DecodeOptions, LinkType, Timestamp, decode_with};
use trident_flow::{FlowConfig, FlowTable};

/// How long each measurement runs.
const MEASURE: Duration = Duration::from_secs(4);
/// Length of one timed window inside a measurement.
const WINDOW_MIN: Duration = Duration::from_millis(200);

struct Frame {
    ts: Timestamp,
    link_type: LinkType,
    origlen: u32,
    data: Vec<u8>,
}

fn load(path: &str) -> Vec<Frame> {
    let mut out = Vec::new();
    let Ok(mut r) = CaptureReader::open(&Input::File(path.into())) else {
        eprintln!("cannot open {path}");
        return out;
    };
    while let Ok(Some(f)) = r.next_frame() {
        out.push(Frame {
            ts: f.ts,
            link_type: f.link_type,
            origlen: f.origlen,
            data: f.data.to_vec(),
        });
    }
    out
}

/// One pass: decode every frame, optionally through a fresh flow table; returns flows.
fn pass(frames: &[Frame], flows: bool) -> usize {
    let options = DecodeOptions::default();
    if !flows {
        let mut n = 0;
        for f in frames {
            let p = decode_with(f.link_type, black_box(&f.data), options);
            n += usize::from(p.ip.is_some());
            black_box(&p);
        }
        return n;
    }
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = Vec::new();
    let mut n = 0;
    for f in frames {
        let p = decode_with(f.link_type, black_box(&f.data), options);
        table.process(f.ts, f.origlen, &p, &mut out);
        n += out.len();
        out.clear();
    }
    table.flush(&mut out);
    n + out.len()
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: flow_throughput FILE...");
        return;
    }
    let frames: Vec<Frame> = paths.iter().flat_map(|p| load(p)).collect();
    println!("{} frames from {} files", frames.len(), paths.len());
    if let Some(passes) = std::env::var("TRIDENT_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        let mut n = 0;
        for _ in 0..passes {
            n += pass(&frames, true);
        }
        println!("{n} flows");
        return;
    }
    for (name, flows) in [("decode only", false), ("decode + flows", true)] {
        let mut best = f64::MAX;
        let start = Instant::now();
        let mut result = 0;
        while start.elapsed() < MEASURE {
            let w = Instant::now();
            let mut passes = 0u32;
            while w.elapsed() < WINDOW_MIN {
                result = pass(&frames, flows);
                passes += 1;
            }
            best = best.min(w.elapsed().as_secs_f64() / f64::from(passes));
        }
        println!(
            "{name:>15}: {:>6.0} ns/packet, {:>5.2} M packets/s ({result})",
            best * 1e9 / frames.len() as f64,
            frames.len() as f64 / best / 1e6
        );
    }
}
