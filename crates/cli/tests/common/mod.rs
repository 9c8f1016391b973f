//! Helpers shared by the end-to-end tests.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The shared data folder (`../shared` beside the repository, or `$TRIDENT_SHARED`).
/// Panics with a clear message when it is absent: corpus-wide suites must not pass silently.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("TRIDENT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        p.join("corpus/MANIFEST.tsv").is_file(),
        "shared data not found at {} (set TRIDENT_SHARED to the folder holding corpus/, potiron/, ...)",
        p.display()
    );
    p
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the trident binary with arguments.
pub fn trident(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trident"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running trident: {e}"))
}
