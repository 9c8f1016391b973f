//! Helpers shared by the index tests.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use trident_index::{AggOptions, FileAgg, FileMeta, read_capture};

/// The shared data folder (`../shared` beside the repository, or `$TRIDENT_SHARED`).
pub fn shared() -> PathBuf {
    let p = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("potiron/golden/COMMANDS.md").is_file(),
        "shared data not found at {} (set TRIDENT_SHARED)",
        p.display()
    );
    p
}

/// The golden capture of one potiron scenario directory (`honeypot`, `iphone`, `nintendo`).
pub fn golden_capture(name: &str) -> PathBuf {
    let dir = shared().join("potiron/golden/captures");
    std::fs::read_dir(&dir)
        .expect("captures dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(&format!("-{name}-")))
        .unwrap_or_else(|| panic!("no golden capture for {name}"))
}

/// The three golden captures' names.
pub const GOLDEN: [&str; 3] = ["honeypot", "iphone", "nintendo"];

/// Everything counted (what the Redis store needs).
pub const ALL: AggOptions = AggOptions {
    per_packet_fields: true,
    app_fields: true,
    isn: true,
};

/// Reads a capture, failing the test on any error or damage.
pub fn read(path: &std::path::Path) -> (FileMeta, FileAgg) {
    let (meta, agg, damage) = read_capture(path, None, ALL).expect("read capture");
    assert!(damage.is_none(), "damaged: {damage:?}");
    (meta, agg)
}

/// A fresh empty directory under the system temp dir.
pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trident-index-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Redis URL for a test database number (`$TRIDENT_TEST_REDIS` overrides the server).
pub fn redis_url(db: u8) -> String {
    let base =
        std::env::var("TRIDENT_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    format!("{base}/{db}")
}
