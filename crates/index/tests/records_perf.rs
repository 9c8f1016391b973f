//! Ingest speed with and without records, and query latency of `hosts`, `flows` and `top`
//! on a store of about 10 M packets. Ignored by default (minutes, gigabytes of temp files);
//! run in release:
//!
//! ```text
//! cargo test --release -p trident-index --test records_perf -- --ignored --nocapture
//! ```
//!
//! `TRIDENT_PERF_PCAP` names the capture (default `bench/out/bench.pcap`, made by
//! `bench/run.sh`); `TRIDENT_PERF_COPIES` how many time-shifted copies to ingest (default 13,
//! about 10 M packets from the 787 k-packet bench capture).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trident_index::records::{
    FlowFilter, HostFilter, HostSort, RecordOptions, TrafficQuery, read_capture_with,
};
use trident_index::{AggOptions, Field, Period, SqliteStore, Store, TopQuery};

const OPTS: AggOptions = AggOptions {
    per_packet_fields: false,
    app_fields: true,
    isn: false,
};

/// Seconds each query kind is run for.
const QUERY_SECS: u64 = 5;
/// Reader threads.
const READERS: usize = 4;

/// Copies a classic pcap with every timestamp moved `days` days later (so each copy has its
/// own content hash and its own days).
fn shifted_copy(src: &Path, dst: &Path, days: u32) {
    let mut r = BufReader::with_capacity(1 << 20, std::fs::File::open(src).unwrap());
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(dst).unwrap());
    let mut gh = [0u8; 24];
    r.read_exact(&mut gh).unwrap();
    let le = match gh[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => panic!("{} is not a classic pcap", src.display()),
    };
    w.write_all(&gh).unwrap();
    let mut buf = vec![0u8; 1 << 18];
    let mut h = [0u8; 16];
    while r.read_exact(&mut h).is_ok() {
        let rd = |b: &[u8]| {
            let a: [u8; 4] = b.try_into().unwrap();
            if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            }
        };
        let ts = rd(&h[0..4]) + days * 86_400;
        let incl = rd(&h[8..12]) as usize;
        h[0..4].copy_from_slice(&if le {
            ts.to_le_bytes()
        } else {
            ts.to_be_bytes()
        });
        w.write_all(&h).unwrap();
        r.read_exact(&mut buf[..incl]).unwrap();
        w.write_all(&buf[..incl]).unwrap();
    }
    w.flush().unwrap();
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `q` on READERS threads for QUERY_SECS and prints req/s, p50 and p99.
fn load(dir: &Path, name: &str, q: &(dyn Fn(&mut SqliteStore, usize) + Sync)) {
    let deadline = Instant::now() + Duration::from_secs(QUERY_SECS);
    let lat: Vec<Duration> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..READERS)
            .map(|t| {
                s.spawn(move || {
                    let mut st = SqliteStore::open_read_only(dir).unwrap();
                    let mut v = Vec::new();
                    let mut i = t;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        q(&mut st, i);
                        v.push(t0.elapsed());
                        i += READERS;
                    }
                    v
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut lat = lat;
    let n = lat.len();
    println!(
        "{name:<28} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        n as f64 / QUERY_SECS as f64,
        pct(&mut lat, 0.5).as_secs_f64() * 1e3,
        pct(&mut lat, 0.99).as_secs_f64() * 1e3
    );
}

#[test]
#[ignore = "minutes and gigabytes: run by hand in release"]
fn ingest_and_query_speed() {
    let pcap = std::env::var_os("TRIDENT_PERF_PCAP").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/out/bench.pcap"),
        PathBuf::from,
    );
    assert!(
        pcap.is_file(),
        "{} missing (run bench/run.sh)",
        pcap.display()
    );
    let copies: u32 = std::env::var("TRIDENT_PERF_COPIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(13);
    let work = std::env::temp_dir().join(format!("trident-records-perf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    // `TRIDENT_PERF_STORE=DIR` keeps the big store there and reuses it on the next run.
    let keep = std::env::var_os("TRIDENT_PERF_STORE").map(PathBuf::from);
    let reuse = keep
        .as_ref()
        .is_some_and(|d| d.join("index.sqlite").is_file());

    // Ingest speed of one file: counts only, then counts + records.
    for (label, rec) in if reuse {
        vec![]
    } else {
        vec![
            ("counts only", None),
            ("counts + traffic", Some(RecordOptions::traffic_only())),
            ("counts + records", Some(RecordOptions::all().unwrap())),
        ]
    } {
        let dir = work.join(format!("one-{}", label.replace(' ', "")));
        let mut store = SqliteStore::open(&dir).unwrap();
        let t = Instant::now();
        let r = read_capture_with(&pcap, Some("s"), OPTS, rec, None).unwrap();
        let read = t.elapsed().as_secs_f64();
        let t = Instant::now();
        store
            .ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), false)
            .unwrap();
        let write = t.elapsed().as_secs_f64();
        println!(
            "ingest {label:<18}: {} packets, read {read:.2} s + write {write:.2} s = {:.0} packets/s{}",
            r.agg.packets,
            r.agg.packets as f64 / (read + write),
            r.records.as_ref().map_or_else(String::new, |x| format!(
                " ({} flows, {} hosts, {} predictions)",
                x.flows.len(),
                x.hosts.len(),
                x.predictions.len()
            ))
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    // A store of `copies` time-shifted copies, two files read at once as `trident ingest`.
    let dir = keep.clone().unwrap_or_else(|| work.join("big"));
    let mut store = SqliteStore::open(&dir).unwrap();
    let t = Instant::now();
    let mut packets = 0;
    for k in 0..if reuse { 0 } else { copies } {
        let copy = work.join(format!("copy-{k}.pcap"));
        shifted_copy(&pcap, &copy, k);
        let r = read_capture_with(
            &copy,
            Some(if k % 2 == 0 { "s1" } else { "s2" }),
            OPTS,
            Some(RecordOptions::all().unwrap()),
            None,
        )
        .unwrap();
        packets += r.agg.packets;
        store
            .ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), false)
            .unwrap();
        std::fs::remove_file(&copy).unwrap();
    }
    println!(
        "store of {copies} copies: {packets} packets in {:.1} s; {} hosts, {} flows; {:.0} MB",
        t.elapsed().as_secs_f64(),
        store.hosts(&HostFilter::default()).unwrap().total,
        store.flows(&FlowFilter::default()).unwrap().total,
        std::fs::metadata(dir.join("index.sqlite")).unwrap().len() as f64 / 1e6
    );
    let some_host = store.hosts(&HostFilter::default()).unwrap().items[0]
        .key
        .clone();
    let days = store.summary(None, None).unwrap().days;
    // The month with the most days of traffic.
    let mut months = std::collections::BTreeMap::new();
    for d in &days {
        *months.entry(&d[..7]).or_insert(0) += 1;
    }
    let busiest = months.iter().max_by_key(|m| *m.1).unwrap().0;
    let month = trident_index::parse_month(busiest).unwrap();
    println!("top over {busiest}");
    println!("days {} .. {}", days[0], days[days.len() - 1]);
    drop(store);

    load(&dir, "hosts (default page)", &|s, _| {
        s.hosts(&HostFilter::default()).unwrap();
    });
    let sorts = HostSort::ALL;
    load(&dir, "hosts (page, sorts)", &|s, i| {
        let p = s
            .hosts(&HostFilter {
                sort: sorts[i % sorts.len()],
                offset: (i % 5) as u64 * 50,
                ..HostFilter::default()
            })
            .unwrap();
        assert!(p.total > 0);
    });
    load(&dir, "hosts (q, subnet)", &|s, i| {
        let f = if i % 2 == 0 {
            HostFilter {
                q: Some("192.168".to_owned()),
                ..HostFilter::default()
            }
        } else {
            HostFilter {
                subnet: Some("10.0.0.0/8".parse().unwrap()),
                ..HostFilter::default()
            }
        };
        s.hosts(&f).unwrap();
    });
    load(&dir, "host detail", &|s, _| {
        s.host(&some_host).unwrap().unwrap();
    });
    let fields = [Field::Dport, Field::Ipsrc, Field::Protocol, Field::TlsSni];
    load(&dir, "top (month)", &|s, i| {
        s.top(&TopQuery {
            field: fields[i % fields.len()],
            sensor: None,
            period: Period::Month(month),
            limit: 10,
            skip: &[],
        })
        .unwrap();
    });
    load(&dir, "flows (page)", &|s, i| {
        s.flows(&FlowFilter {
            offset: (i % 5) as u64 * 50,
            ..FlowFilter::default()
        })
        .unwrap();
    });
    load(&dir, "flows (port 443)", &|s, _| {
        s.flows(&FlowFilter {
            port: Some(443),
            ..FlowFilter::default()
        })
        .unwrap();
    });
    load(&dir, "summary", &|s, _| {
        s.summary(None, None).unwrap();
    });
    load(&dir, "traffic", &|s, _| {
        s.traffic(&TrafficQuery::default()).unwrap();
    });
    let _ = std::fs::remove_dir_all(&work);
}
