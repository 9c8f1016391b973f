//! What potiron (tshark underneath) sees of packets where a per-packet view is not enough:
//! IPv4 fragments (tshark reassembles them and shows the transport header on the frame that
//! completes the datagram) and `<sensor>_DAYS` (days of the IPv4 packets potiron counts,
//! not of the IPv6 packets trident's own fields count).
//!
//! The `_DAYS` test needs a Redis server at 127.0.0.1:6379 (or `$TRIDENT_TEST_REDIS`); it
//! uses database 2 and flushes it before and after.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::collections::BTreeMap;

use trident_index::{Field, FileAgg, IngestOutcome, RedisStore, Store};

/// Packet counts per value of `field`, over all days and protocols.
fn counts(agg: &FileAgg, field: Field) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in agg.rows() {
        if r.field == field {
            *out.entry(r.value).or_insert(0) += r.count;
        }
    }
    out
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn fragments_count_where_tshark_reassembles() {
    // Three fragments of IPv4 id 0xf2: the first (offset 0, 18 bytes, more fragments), the
    // last (offset 48, no more fragments) and a second first fragment of 304 bytes that
    // covers the gap. tshark (so potiron) shows "Fragmented IP protocol" on frames 1 and 2
    // and the reassembled UDP 123 -> 137 on frame 3: ports -1, -1, 123.
    let cap = common::shared().join("corpus/zeek/ipv4/fragmented-1.pcap");
    let (_, agg) = common::read(&cap);
    assert_eq!(counts(&agg, Field::Sport), map(&[("-1", 2), ("123", 1)]));
    assert_eq!(counts(&agg, Field::Dport), map(&[("-1", 2), ("137", 1)]));

    // Five fragments of a TCP segment, all with "more fragments" set: never reassembled, so
    // tshark shows no TCP header at all, not even on the first fragment.
    let cap = common::shared().join("corpus/zeek/ipv4/fragmented-3.pcap");
    let (_, agg) = common::read(&cap);
    assert_eq!(counts(&agg, Field::Dport), map(&[("-1", 5)]));
    assert_eq!(counts(&agg, Field::Tcpseq), map(&[("-1", 5)]));
}

/// A pcap (microsecond, Ethernet) of `frames` given as (seconds, frame bytes).
fn pcap(frames: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (secs, data) in frames {
        let len = u32::try_from(data.len()).unwrap();
        f.extend_from_slice(&secs.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(data);
    }
    f
}

/// A DNS query for `a.example`, type A.
fn dns_query() -> Vec<u8> {
    let mut d = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 7];
    d.extend_from_slice(b"example");
    d.extend_from_slice(&[0, 0, 1, 0, 1]);
    d
}

/// UDP 40000 -> 53 around `payload` (checksum 0).
fn udp53(payload: &[u8]) -> Vec<u8> {
    let mut u = vec![0x9c, 0x40, 0, 53];
    u.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn ether(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6];
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

#[test]
fn sensor_days_are_the_days_of_ipv4_packets() {
    // 2020-01-01 12:00 UTC: an IPv6 DNS query (potiron never sees it, trident counts its
    // query name); 2020-01-02 12:00 UTC: the same query over IPv4.
    let udp = udp53(&dns_query());
    let mut v6 = vec![0x60, 0, 0, 0];
    v6.extend_from_slice(&u16::try_from(udp.len()).unwrap().to_be_bytes());
    v6.extend_from_slice(&[17, 64]);
    v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    v6.extend_from_slice(&udp);
    let mut v4 = vec![0x45, 0];
    v4.extend_from_slice(&u16::try_from(20 + udp.len()).unwrap().to_be_bytes());
    v4.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    v4.extend_from_slice(&udp);
    let dir = common::tempdir("potiron-days");
    // potiron's name convention: sensor `test-days-1`, file-name day 2019-12-31.
    let cap = dir.join("test-days-1-20191231000000.cap");
    std::fs::write(
        &cap,
        pcap(&[
            (1_577_880_000, ether(0x86dd, &v6)),
            (1_577_966_400, ether(0x0800, &v4)),
        ]),
    )
    .unwrap();
    let (meta, agg) = common::read(&cap);
    // trident's own day list (the embedded store's) has both days...
    assert_eq!(
        agg.days.iter().copied().collect::<Vec<_>>(),
        [20_200_101, 20_200_102]
    );
    // ...potiron's only the IPv4 one.
    assert_eq!(
        agg.potiron_days().into_iter().collect::<Vec<_>>(),
        [20_200_102]
    );

    let mut store = RedisStore::open(&common::redis_url(2)).expect("redis reachable");
    let () = redis::cmd("FLUSHDB")
        .query(store.connection())
        .expect("FLUSHDB");
    let outcome = store.ingest(&meta, &agg, false).expect("ingest");
    assert!(
        matches!(outcome, IngestOutcome::Ingested { .. }),
        "{outcome:?}"
    );
    let mut days: Vec<String> = redis::cmd("SMEMBERS")
        .arg("test-days-1_DAYS")
        .query(store.connection())
        .expect("SMEMBERS");
    days.sort();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("test-days-1:20200101:*")
        .query(store.connection())
        .expect("KEYS");
    let () = redis::cmd("FLUSHDB")
        .query(store.connection())
        .expect("FLUSHDB");
    let _ = std::fs::remove_dir_all(&dir);
    // The file-name day and the day of the IPv4 packet, as potiron writes them.
    assert_eq!(days, ["20191231", "20200102"]);
    assert!(keys.is_empty(), "{keys:?}");
}
