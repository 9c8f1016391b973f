//! `/v1/network` with no SDN endpoint yet: nodes come from the embedded store's hosts
//! (trident's passive inventory of ingested captures), in Poseidon's shape.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;
use trident_index::records::{RecordOptions, read_capture_with};
use trident_index::{AggOptions, SqliteStore};
use trident_sdn::api::Network;
use trident_sdn::yaml::FaucetYaml;
use trident_sdn::{Engine, MirrorControl, SdnConfig};

#[tokio::test]
async fn network_falls_back_to_store_hosts() {
    let capture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/ndpi/sites.pcapng");
    assert!(capture.is_file(), "{} is missing", capture.display());
    let dir = tempfile::Builder::new()
        .prefix("trident-sdn-fallback-")
        .tempdir()
        .unwrap();
    let opts = AggOptions {
        per_packet_fields: false,
        app_fields: true,
        isn: false,
    };
    let r = read_capture_with(
        &capture,
        None,
        opts,
        Some(RecordOptions::all().unwrap()),
        None,
    )
    .unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store
        .ingest_with_records(&r.meta, &r.agg, r.records.as_ref(), false)
        .unwrap();
    drop(store);
    let mut cfg = SdnConfig::default();
    cfg.data_dir = dir.path().to_path_buf();
    let mirror: Arc<dyn MirrorControl> =
        Arc::new(FaucetYaml::new(dir.path().join("faucet.yaml")).with_check(None));
    let engine = Engine::open(cfg, mirror).unwrap();
    let app = trident_sdn::api::router(engine.handle());
    let resp = app
        .oneshot(
            axum::http::Request::get("/v1/network")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let net: Network = serde_json::from_slice(&body).unwrap();
    println!("{} nodes from the store", net.dataset.len());
    assert!(!net.dataset.is_empty());
    for n in &net.dataset {
        assert_eq!(n.hash_id.len(), 40);
        assert_eq!(n.segment, "NO DATA");
        assert_eq!(n.acls, "[]");
    }
    assert_eq!(net.configuration.fields.len(), 20);
}
