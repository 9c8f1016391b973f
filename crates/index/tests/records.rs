//! The embedded store's hosts, flows, traffic and predictions, against what `trident flows`
//! and `trident hosts` compute for the same captures (real SQLite, real captures).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_possible_truncation
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use trident_capture::{CaptureReader, Input};
use trident_decode::decode;
use trident_flow::{FlowConfig, FlowRecord, FlowTable};
use trident_host::{HostInventory, HostRecord};
use trident_index::records::{
    FlowFilter, HostFilter, HostSort, Prediction, RecordOptions, RoleProb, SortOrder, Subnet,
    TrafficQuery, host_key, parse_rfc3339, read_capture_with,
};
use trident_index::{AggOptions, IngestOutcome, SqliteStore, Store};
use trident_types::Timestamp;

/// What ingest counts for the embedded store.
const OPTS: AggOptions = AggOptions {
    per_packet_fields: false,
    app_fields: true,
    isn: true,
};

/// The repository's `samples/` directory.
fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

/// The shared corpus (`../shared/corpus` beside the repository, or `$TRIDENT_SHARED`).
fn corpus() -> PathBuf {
    let p = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpus");
    assert!(
        p.join("MANIFEST.tsv").is_file(),
        "corpus not found at {} (set TRIDENT_SHARED)",
        p.display()
    );
    p
}

/// Captures with a varied mix: the samples, IoT devices with roles, a busy app capture.
fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(samples())
        .expect("samples dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    let c = corpus();
    for p in [
        "iot-sentinel/captures/Aria/Setup-A-1-STA.pcap",
        "iot-sentinel/captures/D-LinkCam/Setup-A-1-STA.pcap",
        "ndpi/alexa-app.pcapng",
        "pcapplusplus/many-protocols.pcap",
    ] {
        let p = c.join(p);
        assert!(p.is_file(), "corpus capture missing: {}", p.display());
        v.push(p);
    }
    v
}

/// A fresh directory for one test's store, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let d = std::env::temp_dir().join(format!("trident-records-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `trident flows` and `trident hosts` compute for one capture (the same decode,
/// flow table and inventory, driven the same way).
fn cli_view(path: &Path) -> (Vec<FlowRecord>, Vec<HostRecord>) {
    let mut reader = CaptureReader::open(&Input::File(path.to_owned())).unwrap();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut inv = HostInventory::new();
    let mut flows = Vec::new();
    let mut ended = Vec::new();
    while let Ok(Some(frame)) = reader.next_frame() {
        let p = decode(frame.link_type, frame.data);
        table.process(frame.ts, frame.origlen, &p, &mut ended);
        inv.add_packet(frame.ts, &p);
        for f in ended.drain(..) {
            inv.add(&f);
            flows.push(f);
        }
    }
    table.flush(&mut ended);
    for f in ended.drain(..) {
        inv.add(&f);
        flows.push(f);
    }
    (flows, inv.finish())
}

fn ingest(store: &mut SqliteStore, path: &Path, sensor: &str, force: bool) -> IngestOutcome {
    let r = read_capture_with(
        path,
        Some(sensor),
        OPTS,
        Some(RecordOptions::all().unwrap()),
        None,
    )
    .unwrap();
    store
        .ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), force)
        .unwrap()
}

/// Every page of a host listing, checking paging as it goes.
fn all_hosts(store: &SqliteStore, f: &HostFilter) -> Vec<trident_index::records::HostSummary> {
    let mut out = Vec::new();
    let mut f = f.clone();
    f.limit = 7;
    f.offset = 0;
    loop {
        let page = store.hosts(&f).unwrap();
        assert_eq!(page.offset, f.offset);
        assert!(page.items.len() <= 7);
        let n = page.items.len();
        out.extend(page.items);
        if n < 7 {
            assert_eq!(out.len() as u64, page.total, "paging total");
            break;
        }
        f.offset += 7;
    }
    let keys: BTreeSet<&str> = out.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys.len(), out.len(), "a host on two pages");
    out
}

fn all_flows(store: &SqliteStore, f: &FlowFilter) -> Vec<trident_index::records::FlowRow> {
    let mut out = Vec::new();
    let mut f = f.clone();
    f.limit = 1000;
    f.offset = 0;
    loop {
        let page = store.flows(&f).unwrap();
        let n = page.items.len();
        out.extend(page.items);
        if n < 1000 {
            assert_eq!(out.len() as u64, page.total, "paging total");
            break;
        }
        f.offset += 1000;
    }
    out
}

/// Rows a file left in each per-file table.
fn rows_of_file(dir: &Path, id: i64) -> BTreeMap<&'static str, i64> {
    let c = rusqlite::Connection::open(dir.join("index.sqlite")).unwrap();
    let mut m = BTreeMap::new();
    for (t, col) in [
        ("files", "id"),
        ("counts", "file_id"),
        ("isn", "file_id"),
        ("flows", "file_id"),
        ("host_files", "file_id"),
        ("host_ips", "file_id"),
        ("traffic", "file_id"),
        ("predictions", "file_id"),
        ("file_records", "file_id"),
    ] {
        let n: i64 = c
            .query_row(
                &format!("SELECT COUNT(*) FROM {t} WHERE {col} = ?1"),
                [id],
                |r| r.get(0),
            )
            .unwrap();
        m.insert(t, n);
    }
    m
}

#[test]
fn each_capture_matches_flows_and_hosts() {
    for path in captures() {
        let dir = TempDir::new("match");
        let mut store = SqliteStore::open(&dir.0).unwrap();
        assert!(matches!(
            ingest(&mut store, &path, "s1", false),
            IngestOutcome::Ingested { .. }
        ));
        let (flows, hosts) = cli_view(&path);
        let name = path.display();

        // Flows: the same set, the same fields.
        let rows = all_flows(&store, &FlowFilter::default());
        assert_eq!(rows.len(), flows.len(), "{name}: flows");
        let by_id: BTreeMap<&str, &FlowRecord> = flows.iter().map(|f| (f.id.as_str(), f)).collect();
        for r in &rows {
            let f = by_id
                .get(r.id.as_str())
                .unwrap_or_else(|| panic!("{name}: flow {}", r.id));
            let mut want = serde_json::to_value(f).unwrap();
            want.as_object_mut().unwrap().remove("id");
            assert_eq!(serde_json::Value::Object(r.record.clone()), want, "{name}");
            assert_eq!(r.sensor, "s1");
        }
        // Newest first.
        assert!(
            rows.windows(2)
                .all(|w| w[0].record["first_ts"].as_str() >= w[1].record["first_ts"].as_str())
        );

        // Hosts: one row per key, with the inventory's figures.
        let listed = all_hosts(&store, &HostFilter::default());
        let want: BTreeMap<String, &HostRecord> = hosts
            .iter()
            .filter_map(|h| host_key(h).map(|k| (k, h)))
            .collect();
        assert_eq!(listed.len(), want.len(), "{name}: hosts");
        for h in &listed {
            let w = want[&h.key];
            assert_eq!(h.packets, w.pkts_out + w.pkts_in, "{name} {}", h.key);
            assert_eq!(h.bytes, w.bytes_out + w.bytes_in, "{name} {}", h.key);
            assert_eq!(h.first_seen, w.first_ts);
            assert_eq!(h.last_seen, w.last_ts);
            assert_eq!(h.vendor, w.vendor);
            assert_eq!(h.os.as_deref(), w.os);
            assert_eq!(h.ips.first().cloned(), w.ip.map(|i| i.to_string()));
            let mut want_ips: BTreeSet<String> = w.ipv4.iter().map(ToString::to_string).collect();
            want_ips.extend(w.ipv6.iter().map(ToString::to_string));
            want_ips.extend(w.ip.iter().map(ToString::to_string));
            assert_eq!(h.ips.iter().cloned().collect::<BTreeSet<_>>(), want_ips);
            assert_eq!(h.sensors, ["s1"]);
            // Detail: the record is the inventory's, as `trident hosts --format json`.
            let d = store.host(&h.key).unwrap().unwrap();
            assert_eq!(
                d.record,
                serde_json::to_value(w).unwrap(),
                "{name} {}",
                h.key
            );
            assert_eq!(d.services_offered.len(), w.services_offered.len());
            // The host's traffic, spread from its flows, adds up to its flows' packets.
            let host_flows = all_flows(
                &store,
                &FlowFilter {
                    host: Some(h.key.clone()),
                    ..FlowFilter::default()
                },
            );
            let pk: u64 = host_flows
                .iter()
                .map(|f| {
                    f.record["orig_pkts"].as_u64().unwrap()
                        + f.record["resp_pkts"].as_u64().unwrap()
                })
                .sum();
            let tp: u64 = d.traffic.points.iter().map(|p| p.packets).sum();
            assert_eq!(tp, pk, "{name} {}", h.key);
        }

        // Traffic and summary agree with the capture's packets.
        let caps = store.captures().unwrap();
        assert_eq!(caps.len(), 1);
        assert_eq!(caps[0].flows, flows.len() as u64);
        assert_eq!(caps[0].hosts, hosts.len() as u64);
        let t = store.traffic(&TrafficQuery::default()).unwrap();
        assert!(t.bucket_seconds >= 60 && t.bucket_seconds % 60 == 0);
        assert!(t.points.len() as i64 <= trident_index::records::MAX_TRAFFIC_POINTS);
        let packets: u64 = t.points.iter().map(|p| p.packets).sum();
        assert_eq!(packets, caps[0].packets, "{name}");
        let s = store.summary(None, None).unwrap();
        assert_eq!(s.packets, caps[0].packets);
        assert_eq!(s.flows, flows.len() as u64);
        assert_eq!(s.hosts, want.len() as u64);
        assert_eq!(s.files, u64::from(caps[0].packets > 0));
        let hourly = store
            .traffic(&TrafficQuery {
                bucket_seconds: 3600,
                ..TrafficQuery::default()
            })
            .unwrap();
        assert_eq!(
            hourly.points.iter().map(|p| p.packets).sum::<u64>(),
            packets
        );
        let daily = store
            .traffic(&TrafficQuery {
                bucket_seconds: 86_400,
                ..TrafficQuery::default()
            })
            .unwrap();
        assert_eq!(daily.bucket_seconds % 86_400, 0);
        assert!(daily.points.iter().all(|p| p.ts.secs() % 86_400 == 0));
        assert_eq!(daily.points.iter().map(|p| p.packets).sum::<u64>(), packets);
        assert_eq!(
            daily.points.iter().map(|p| p.bytes).sum::<u64>(),
            t.points.iter().map(|p| p.bytes).sum::<u64>()
        );
        // Days of the summary have the day's packets.
        let mut by_day = 0;
        for day in &s.days {
            let d = trident_index::parse_day(day).unwrap();
            by_day += store.summary(Some("s1"), Some(d)).unwrap().packets;
        }
        assert_eq!(by_day, packets);
    }
}

#[test]
fn predictions_are_stored_per_host() {
    let dir = TempDir::new("pred");
    let mut store = SqliteStore::open(&dir.0).unwrap();
    let path = corpus().join("iot-sentinel/captures/D-LinkCam/Setup-A-1-STA.pcap");
    ingest(&mut store, &path, "iot", false);
    let listed = all_hosts(&store, &HostFilter::default());
    let classified: Vec<_> = listed.iter().filter(|h| h.role.is_some()).collect();
    assert!(!classified.is_empty(), "no host was classified");
    for h in &classified {
        let p = store.predictions(&h.key).unwrap();
        assert_eq!(p.len(), 1);
        let p = &p[0];
        assert!(p.model.starts_with("networkml-0.6.19"), "{}", p.model);
        assert!(!p.top.is_empty() && p.top.len() <= 3);
        assert!(
            p.top
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability)
        );
        assert_eq!(Some(&p.role), h.role.as_ref());
        assert_eq!(p.reason.is_some(), p.role == "Unknown");
        assert!(p.capture.is_some());
        // Role filter finds it.
        let by_role = all_hosts(
            &store,
            &HostFilter {
                role: Some(p.role.clone()),
                ..HostFilter::default()
            },
        );
        assert!(by_role.iter().any(|x| x.key == h.key));
        assert!(by_role.iter().all(|x| x.role.as_ref() == Some(&p.role)));
    }
    // A later prediction on demand becomes the host's role and is kept as history.
    let key = classified[0].key.clone();
    let p = Prediction {
        ts: parse_rfc3339("2030-01-01T00:00:00Z").unwrap(),
        model: "test v1".to_owned(),
        host: key.to_uppercase(),
        top: vec![RoleProb {
            role: "Printer".to_owned(),
            probability: 0.9,
        }],
        role: "Printer".to_owned(),
        confidence: 0.9,
        reason: None,
        capture: None,
    };
    store.add_prediction(&p).unwrap();
    let hist = store.predictions(&key).unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[0].role, "Printer");
    assert_eq!(hist[0].capture, None);
    let d = store.host(&key).unwrap().unwrap();
    assert_eq!(d.summary.role.as_deref(), Some("Printer"));
    assert_eq!(d.predictions.len(), 2);
    let s = store.summary(None, None).unwrap();
    assert!(s.roles.iter().any(|r| r.role == "Printer" && r.count == 1));
    // Removing the capture removes its prediction, keeps the one made on demand.
    let id = store.captures().unwrap()[0].id;
    assert!(store.remove_file(id).unwrap());
    let hist = store.predictions(&key).unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].model, "test v1");
    assert!(store.host(&key).unwrap().is_none());
    assert!(!store.remove_file(id).unwrap());
}

#[test]
fn filters_select_what_they_say() {
    let dir = TempDir::new("filters");
    let mut store = SqliteStore::open(&dir.0).unwrap();
    for (i, p) in captures().iter().enumerate() {
        ingest(
            &mut store,
            p,
            if i % 2 == 0 { "even" } else { "odd" },
            false,
        );
    }
    let every = all_hosts(&store, &HostFilter::default());
    assert!(every.len() > 20, "{} hosts", every.len());

    // Sorting: every key, both directions, a total order with the key as tie-break.
    for sort in HostSort::ALL {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let f = HostFilter {
                sort,
                order: Some(order),
                ..HostFilter::default()
            };
            let v = all_hosts(&store, &f);
            assert_eq!(v.len(), every.len());
            if sort == HostSort::Packets {
                let ok = v.windows(2).all(|w| match order {
                    SortOrder::Asc => w[0].packets <= w[1].packets,
                    SortOrder::Desc => w[0].packets >= w[1].packets,
                });
                assert!(ok, "packets {order:?}");
            }
        }
    }
    // Vendor text, case-insensitive.
    let with_vendor: Vec<_> = every.iter().filter(|h| h.vendor.is_some()).collect();
    assert!(!with_vendor.is_empty());
    let word: String = with_vendor[0]
        .vendor
        .clone()
        .unwrap()
        .chars()
        .take(5)
        .collect();
    let got = all_hosts(
        &store,
        &HostFilter {
            vendor: Some(word.to_uppercase()),
            ..HostFilter::default()
        },
    );
    let want = every
        .iter()
        .filter(|h| {
            h.vendor
                .as_ref()
                .is_some_and(|v| v.to_lowercase().contains(&word.to_lowercase()))
        })
        .count();
    assert_eq!(got.len(), want);
    assert!(want > 0);
    // Subnets, IPv4 and IPv6.
    for net in [
        "192.168.0.0/16",
        "10.0.0.0/8",
        "0.0.0.0/0",
        "fe80::/10",
        "::/0",
        "2001::/16",
    ] {
        let subnet: Subnet = net.parse().unwrap();
        let got = all_hosts(
            &store,
            &HostFilter {
                subnet: Some(subnet),
                ..HostFilter::default()
            },
        );
        let want: Vec<&str> = every
            .iter()
            .filter(|h| h.ips.iter().any(|ip| subnet.contains(ip.parse().unwrap())))
            .map(|h| h.key.as_str())
            .collect();
        let got: Vec<&str> = got.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(got.len(), want.len(), "{net}");
        if net.ends_with("/0") {
            assert!(!want.is_empty(), "{net}");
        }
    }
    assert!("10.0.0.0/33".parse::<Subnet>().is_err());
    assert!("nonsense".parse::<Subnet>().is_err());
    // Text: part of an address.
    let some = every.iter().find(|h| !h.ips.is_empty()).unwrap();
    let got = all_hosts(
        &store,
        &HostFilter {
            q: Some(some.ips[0].clone()),
            ..HostFilter::default()
        },
    );
    assert!(got.iter().any(|h| h.key == some.key));
    // Sensor.
    let odd = all_hosts(
        &store,
        &HostFilter {
            sensor: Some("odd".to_owned()),
            ..HostFilter::default()
        },
    );
    assert!(odd.iter().all(|h| h.sensors.iter().any(|s| s == "odd")));
    assert_eq!(
        odd.len(),
        every
            .iter()
            .filter(|h| h.sensors.iter().any(|s| s == "odd"))
            .count()
    );

    // Flows: port, protocol, time range, host.
    let flows = all_flows(&store, &FlowFilter::default());
    let port = |f: &trident_index::records::FlowRow, k: &str| {
        f.record.get(k).and_then(serde_json::Value::as_u64)
    };
    for p in [53u16, 443, 80] {
        let got = all_flows(
            &store,
            &FlowFilter {
                port: Some(p),
                ..FlowFilter::default()
            },
        );
        let want = flows
            .iter()
            .filter(|f| {
                port(f, "orig_port") == Some(u64::from(p))
                    || port(f, "resp_port") == Some(u64::from(p))
            })
            .count();
        assert_eq!(got.len(), want, "port {p}");
    }
    for proto in [6u8, 17, 1] {
        let got = all_flows(
            &store,
            &FlowFilter {
                protocol: Some(proto),
                ..FlowFilter::default()
            },
        );
        let want = flows
            .iter()
            .filter(|f| f.record["protocol"] == proto)
            .count();
        assert_eq!(got.len(), want, "protocol {proto}");
    }
    let ts = |f: &trident_index::records::FlowRow, k: &str| {
        parse_rfc3339(f.record[k].as_str().unwrap()).unwrap()
    };
    let mid = ts(&flows[flows.len() / 2], "first_ts");
    let later = Timestamp::from_secs_nanos(mid.secs() + 3600, 0);
    let got = all_flows(
        &store,
        &FlowFilter {
            from: Some(mid),
            to: Some(later),
            ..FlowFilter::default()
        },
    );
    let want = flows
        .iter()
        .filter(|f| ts(f, "last_ts") >= mid && ts(f, "first_ts") < later)
        .count();
    assert_eq!(got.len(), want);
    assert!(want > 0);
    let h = &every[0];
    let got = all_flows(
        &store,
        &FlowFilter {
            host: Some(h.ips[0].clone()),
            ..FlowFilter::default()
        },
    );
    assert!(
        got.iter().all(|f| f.record["orig_ip"] == h.ips[0].as_str()
            || f.record["resp_ip"] == h.ips[0].as_str())
    );
    let odd_flows = all_flows(
        &store,
        &FlowFilter {
            sensor: Some("odd".to_owned()),
            ..FlowFilter::default()
        },
    );
    assert_eq!(
        odd_flows.len(),
        flows.iter().filter(|f| f.sensor == "odd").count()
    );

    // Sensors and summaries.
    let sensors = store.sensors().unwrap();
    let names: Vec<&str> = sensors.iter().map(|s| s.sensor.as_str()).collect();
    assert_eq!(names, ["even", "odd"]);
    let total: u64 = store.captures().unwrap().iter().map(|c| c.packets).sum();
    assert_eq!(sensors.iter().map(|s| s.packets).sum::<u64>(), total);
    assert_eq!(store.summary(None, None).unwrap().packets, total);
    assert_eq!(store.summary(None, None).unwrap().flows, flows.len() as u64);
}

#[test]
fn force_and_remove_leave_no_rows_of_the_file() {
    let caps = captures();
    let (a, b) = (&caps[caps.len() - 1], &caps[caps.len() - 3]);
    let dir = TempDir::new("remove");
    let mut store = SqliteStore::open(&dir.0).unwrap();
    ingest(&mut store, a, "s", false);
    ingest(&mut store, b, "s", false);
    let hosts_ab = all_hosts(&store, &HostFilter::default());
    let id_a = store.captures().unwrap()[0].id;
    let before = rows_of_file(&dir.0, id_a);
    assert!(before["flows"] > 0 && before["host_files"] > 0 && before["traffic"] > 0);
    // Already ingested: skipped, nothing changes.
    assert_eq!(ingest(&mut store, a, "s", false), IngestOutcome::Skipped);
    // --force: the old rows go, the same number come back under a new id.
    assert!(matches!(
        ingest(&mut store, a, "s", true),
        IngestOutcome::Replaced { .. }
    ));
    assert!(rows_of_file(&dir.0, id_a).values().all(|n| *n == 0));
    let id_a2 = store
        .captures()
        .unwrap()
        .iter()
        .map(|c| c.id)
        .max()
        .unwrap();
    let mut after = rows_of_file(&dir.0, id_a2);
    let mut before_cmp = before.clone();
    after.remove("files");
    before_cmp.remove("files");
    assert_eq!(after, before_cmp);
    assert_eq!(all_hosts(&store, &HostFilter::default()), hosts_ab);
    // Removing a leaves exactly what b alone gives.
    assert!(store.remove_file(id_a2).unwrap());
    assert!(rows_of_file(&dir.0, id_a2).values().all(|n| *n == 0));
    let c = rusqlite::Connection::open(dir.0.join("index.sqlite")).unwrap();
    let orphans: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM flow_records WHERE rowid NOT IN (SELECT rowid FROM flows)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "flow records left behind");
    let only_b = TempDir::new("remove-b");
    let mut store_b = SqliteStore::open(&only_b.0).unwrap();
    ingest(&mut store_b, b, "s", false);
    assert_eq!(
        all_hosts(&store, &HostFilter::default()),
        all_hosts(&store_b, &HostFilter::default())
    );
    assert_eq!(
        all_flows(&store, &FlowFilter::default()).len(),
        all_flows(&store_b, &FlowFilter::default()).len()
    );
    assert_eq!(
        store.traffic(&TrafficQuery::default()).unwrap(),
        store_b.traffic(&TrafficQuery::default()).unwrap()
    );
}

#[test]
fn a_failed_ingest_writes_nothing() {
    let caps = captures();
    let dir = TempDir::new("atomic");
    let mut store = SqliteStore::open(&dir.0).unwrap();
    // Make the last table an ingest writes fail, after counts, flows and hosts are in.
    let c = rusqlite::Connection::open(dir.0.join("index.sqlite")).unwrap();
    c.execute_batch(
        "CREATE TRIGGER fail_records BEFORE INSERT ON file_records
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    let path = &caps[caps.len() - 1];
    let r = read_capture_with(
        path,
        Some("s"),
        OPTS,
        Some(RecordOptions::all().unwrap()),
        None,
    )
    .unwrap();
    let err = store.ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), false);
    assert!(err.is_err());
    for t in [
        "files",
        "counts",
        "flows",
        "host_files",
        "host_ips",
        "hosts",
        "traffic",
        "predictions",
    ] {
        let n: i64 = c
            .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{t}");
    }
    c.execute_batch("DROP TRIGGER fail_records").unwrap();
    assert!(matches!(
        store
            .ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), false)
            .unwrap(),
        IngestOutcome::Ingested { .. }
    ));
}

#[test]
fn readers_run_beside_the_writer() {
    let caps = captures();
    let dir = TempDir::new("readers");
    let mut store = SqliteStore::open(&dir.0).unwrap();
    ingest(&mut store, &caps[0], "s", false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let r = SqliteStore::open_read_only(&dir.0).unwrap();
                    let mut last = 0;
                    for _ in 0..50 {
                        let page = r.hosts(&HostFilter::default()).unwrap();
                        // Files appear whole: the total never goes down.
                        assert!(page.total >= last);
                        last = page.total;
                        r.summary(None, None).unwrap();
                    }
                })
            })
            .collect();
        for p in &caps[1..] {
            ingest(&mut store, p, "s", false);
        }
        for r in readers {
            r.join().unwrap();
        }
    });
}

#[test]
fn without_records_only_counts_are_written() {
    let caps = captures();
    let dir = TempDir::new("plain");
    let mut store = SqliteStore::open(&dir.0).unwrap();
    let mut opts = RecordOptions::traffic_only();
    opts.flows = false;
    let r = read_capture_with(&caps[0], Some("s"), OPTS, Some(opts), None).unwrap();
    let rec = r.records.as_ref().unwrap();
    assert!(rec.flows.is_empty() && rec.hosts.is_empty() && rec.predictions.is_empty());
    assert!(!rec.traffic.is_empty());
    store
        .ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), false)
        .unwrap();
    assert_eq!(store.hosts(&HostFilter::default()).unwrap().total, 0);
    assert_eq!(store.flows(&FlowFilter::default()).unwrap().total, 0);
    assert!(store.summary(None, None).unwrap().packets > 0);
    // The plain Store::ingest path still works and keeps no records.
    let r2 = read_capture_with(&caps[1], Some("s"), OPTS, None, None).unwrap();
    assert!(r2.records.is_none());
    store.ingest(&r2.meta, &r2.agg, false).unwrap();
    assert_eq!(store.captures().unwrap().len(), 2);
}
