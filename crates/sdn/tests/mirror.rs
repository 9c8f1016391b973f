//! Reference counting per (switch, port), proxy mirror ports, trunk ports and start-up
//! clearing, through the real faucet.yaml back-end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;

use trident_sdn::config::ProxyMirror;
use trident_sdn::error::MirrorError;
use trident_sdn::mirror::MirrorBook;
use trident_sdn::yaml::FaucetYaml;
use trident_sdn::{MirrorControl, SdnConfig};

const YAML: &str = "# two switches; swX has no mirror port of its own
dps:
  sw1:
    dp_id: 1
    interfaces:
      1:
        native_vlan: 100
      2:
        native_vlan: 100
      3:
        output_only: true
        mirror: [2]
      99:
        description: link to swX
        native_vlan: 100
  swX:
    dp_id: 2
    interfaces:
      5:
        native_vlan: 100
";

#[tokio::test]
async fn refcount_proxy_trunk_clear() {
    let dir = tempfile::Builder::new()
        .prefix("trident-sdn-mirror-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("faucet.yaml");
    std::fs::write(&path, YAML).unwrap();
    let y = Arc::new(FaucetYaml::new(&path).with_check(None));
    let list = || y.mirror_list("sw1", 3).unwrap();
    let mut cfg = SdnConfig::default();
    cfg.mirror_ports.insert("sw1".into(), 3);
    cfg.proxy_mirror_ports.insert(
        "swX".into(),
        ProxyMirror {
            switch: "sw1".into(),
            port: 99,
        },
    );
    let control: Arc<dyn MirrorControl> = y.clone();
    let mut book = MirrorBook::new(control, &cfg);
    // Start-up cleanup.
    assert!(book.clear_all().await.is_empty());
    assert_eq!(list(), Vec::<u32>::new());
    // Two endpoints on one port: one mirror entry, removed with the last.
    book.mirror("sw1", 1).await.unwrap();
    book.mirror("sw1", 1).await.unwrap();
    assert_eq!(list(), vec![1]);
    book.unmirror("sw1", 1, false).await.unwrap();
    assert_eq!(list(), vec![1]);
    book.unmirror("sw1", 1, false).await.unwrap();
    assert_eq!(list(), Vec::<u32>::new());
    // A proxied switch is mirrored as its proxy port on the other switch.
    let t = book.mirror("swX", 5).await.unwrap();
    assert_eq!(
        (t.dp_name.as_str(), t.port_no, t.mirror_port_no),
        ("sw1", 99, 3)
    );
    assert_eq!(list(), vec![99]);
    book.unmirror("swX", 5, false).await.unwrap();
    assert_eq!(list(), Vec::<u32>::new());
    // Trunk ports are never unmirrored (until the shutdown/start-up clear).
    book.mirror("sw1", 2).await.unwrap();
    book.unmirror("sw1", 2, true).await.unwrap();
    assert_eq!(list(), vec![2]);
    assert!(book.clear_all().await.is_empty());
    assert_eq!(list(), Vec::<u32>::new());
    // A switch with no mirror port: a clear error, nothing written.
    let before = std::fs::read_to_string(&path).unwrap();
    let e = book.mirror("sw9", 1).await.unwrap_err();
    assert!(matches!(e, MirrorError::MissingPort { .. }), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    // Comments and the other switch are untouched by all of this.
    assert!(before.starts_with("# two switches"));
    assert!(before.contains("  swX:\n    dp_id: 2\n"));
    assert_eq!(book.stats.errors, 0);
}
