//! `trident ingest` / `top` / `series` end to end on potiron's golden captures, with the
//! expected rankings taken from potiron's own Redis dump (not from trident).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::fs;

fn golden_capture(name: &str) -> String {
    let dir = common::shared().join("potiron/golden/captures");
    fs::read_dir(&dir)
        .expect("captures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(&format!("-{name}-")))
        .expect("golden capture")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn ingest_twice_then_top_matches_potiron() {
    let data = std::env::temp_dir().join(format!("trident-ingest-cli-{}", std::process::id()));
    let _ = fs::remove_dir_all(&data);
    let data_s = data.to_str().expect("utf-8");
    let cap = golden_capture("honeypot");
    let o = common::trident(&["ingest", "--data-dir", data_s, &cap]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("sensor test-honeypot-1"), "{err}");
    assert!(err.contains("3905 packets"), "{err}");
    // Second time: skipped, with the reason.
    let o = common::trident(&["ingest", "--data-dir", data_s, &cap]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("skipped: already ingested"), "{err}");
    // Recognised by its hash without being decoded: no packet count for it.
    assert!(!err.contains("3905 packets"), "{err}");

    let o = common::trident(&[
        "top",
        "--data-dir",
        data_s,
        "--field",
        "dport",
        "--day",
        "2014-08-26",
        "--limit",
        "5",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = String::from_utf8_lossy(&o.stdout).into_owned();

    // potiron's dump, ranked by count desc then value asc.
    let dump =
        fs::read_to_string(common::shared().join("potiron/golden/honeypot/std/redis_dump.tsv"))
            .expect("dump");
    let mut rows: Vec<(u64, String)> = dump
        .lines()
        .filter_map(|l| l.strip_prefix("zset\ttest-honeypot-1:20140826:dport\t"))
        .map(|r| {
            let (v, n) = r.split_once('\t').expect("member and score");
            (n.parse().expect("score"), v.to_owned())
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut want = String::from("value,count\n");
    for (n, v) in rows.iter().take(5) {
        want.push_str(&format!("{v},{n}\n"));
    }
    // The third column holds annotations (IANA service names), checked in trident-index.
    assert!(got.starts_with("value,count,annotation\n"), "{got}");
    let two_columns: String = got
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.splitn(3, ',').collect();
            format!("{},{}\n", cols[0], cols.get(1).unwrap_or(&""))
        })
        .collect();
    assert_eq!(two_columns, want);

    let o = common::trident(&[
        "series",
        "--data-dir",
        data_s,
        "--field",
        "dport",
        "--value",
        &rows[0].1,
        "--month",
        "2014-08",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        v,
        serde_json::json!([{ "day": "2014-08-26", "count": rows[0].0 }])
    );
    let _ = fs::remove_dir_all(&data);
}

#[test]
fn top_rejects_unknown_field_and_bad_day() {
    let o = common::trident(&["top", "--field", "nope", "--day", "2014-08-26"]);
    assert_eq!(o.status.code(), Some(2));
    let o = common::trident(&["top", "--field", "dport", "--day", "2014-8"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Redis identifies a file by its name (as potiron does): a second ingest of a known name
/// skips the file without reading it, so not even its bytes matter; `--force` reads it.
#[test]
fn redis_skips_a_known_file_name_unread() {
    let url = "redis://127.0.0.1:6379/12";
    let mut con = redis::Client::open(url)
        .unwrap()
        .get_connection()
        .expect("a Redis server for the tests (.ci/run starts one)");
    let () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
    let dir = std::env::temp_dir().join(format!("trident-ingest-redis-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("test-honeypot-1-20140826000000.cap");
    fs::copy(golden_capture("honeypot"), &cap).unwrap();
    let cap_s = cap.to_str().unwrap();
    let top = |con: &mut redis::Connection| -> Vec<(String, f64)> {
        redis::cmd("ZRANGE")
            .arg("test-honeypot-1:20140826:dport")
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query(con)
            .unwrap()
    };

    let o = common::trident(&["ingest", "--store", url, cap_s]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("3905 packets"), "{err}");
    let counted = top(&mut con);
    assert!(!counted.is_empty());

    // The same name with other bytes (not even a capture): skipped by name, unread.
    fs::write(&cap, b"not a capture at all").unwrap();
    let o = common::trident(&["ingest", "--store", url, cap_s]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("skipped: already ingested (FILES has test-honeypot-1-20140826000000.cap)"),
        "{err}"
    );
    assert!(
        !err.contains("not a capture") && !err.contains("packets ("),
        "{err}"
    );
    assert_eq!(top(&mut con), counted, "a skipped file changes no count");

    // --force reads the file, which is now not a capture: an error naming it, counts kept.
    let o = common::trident(&["ingest", "--force", "--store", url, cap_s]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("test-honeypot-1-20140826000000.cap"), "{err}");
    assert_eq!(top(&mut con), counted);

    let () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
    let _ = fs::remove_dir_all(&dir);
}
