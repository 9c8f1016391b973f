//! schemathesis against the real server: property-based requests generated from the
//! OpenAPI document the server serves, every check on (`--checks all`). Needs schemathesis
//! (`.ci/setup.d/30-schemathesis.sh` installs it in /opt/trident-venv; `TRIDENT_SCHEMATHESIS`
//! names another executable); fails when it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use trident_serve::AppState;

fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("TRIDENT_SCHEMATHESIS") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from("/opt/trident-venv/bin/schemathesis");
    assert!(
        p.is_file(),
        "schemathesis is not installed at {}: run `bash .ci/setup.d/30-schemathesis.sh` (or set TRIDENT_SCHEMATHESIS)",
        p.display()
    );
    p
}

#[test]
fn schemathesis_against_running_server() {
    let exe = schemathesis();
    let dir = filled_dir("schemathesis");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(options(&dir)).unwrap();
    rt.spawn(async move {
        axum::serve(listener, trident_serve::app(state))
            .await
            .unwrap();
    });
    let url = format!("http://{addr}/api/v1/openapi.json");
    let config = repo().join("crates/serve/tests/schemathesis.toml");
    let out = Command::new(&exe)
        .arg("--config-file")
        .arg(&config)
        .args([
            "run",
            &url,
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--workers",
            "1",
        ])
        .args(["--request-timeout", "20", "--no-color"])
        .current_dir(repo().join("crates/serve/tests"))
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    rt.shutdown_background();
    let _ = std::fs::remove_dir_all(dir);
}
