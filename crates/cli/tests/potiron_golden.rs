//! `trident decode --format potiron` reproduces potiron's own per-file JSON byte for byte,
//! for every golden capture in `../shared/potiron/golden` (made by the real potiron).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed expectation is a failed test

mod common;

use std::fs;

#[test]
fn potiron_std_json_matches_golden_byte_for_byte() {
    let golden = common::shared().join("potiron/golden");
    let out = tempdir("potiron-golden");
    let mut compared = 0;
    for (dir, date) in [
        ("honeypot", "2014/08/26"),
        ("iphone", "2020/02/23"),
        ("nintendo", "2017/07/22"),
    ] {
        let caps = fs::read_dir(golden.join("captures")).expect("captures dir");
        let cap = caps
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains(&format!("-{dir}-")))
            .unwrap_or_else(|| panic!("no capture for {dir}"));
        let o = common::trident(&[
            "decode",
            "--quiet",
            "--format",
            "potiron",
            "--potiron-dir",
            out.to_str().expect("utf-8 temp path"),
            cap.to_str().expect("utf-8 path"),
        ]);
        assert!(
            o.status.success(),
            "trident failed on {}: {}",
            cap.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let name = cap
            .file_name()
            .expect("name")
            .to_string_lossy()
            .replace(".cap.gz", ".json");
        let want = fs::read(golden.join(dir).join("std/json").join(date).join(&name))
            .expect("golden json");
        let got = fs::read(out.join(date).join(&name))
            .unwrap_or_else(|e| panic!("trident wrote no {date}/{name}: {e}"));
        if got != want {
            let (g, w) = (
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
            );
            let first = g
                .split("}, {")
                .zip(w.split("}, {"))
                .enumerate()
                .find(|(_, (a, b))| a != b);
            panic!(
                "{dir}: potiron JSON differs ({} vs {} bytes); first differing element: {first:?}",
                got.len(),
                want.len()
            );
        }
        compared += 1;
    }
    assert_eq!(compared, 3);
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trident-test-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("temp dir");
    d
}
