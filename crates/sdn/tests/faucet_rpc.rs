//! faucetconfrpc through trident's tonic client, against a real Faucet + Open vSwitch:
//! `AddPortMirror` changes `faucet.yaml` and the host's packets appear on the mirror port;
//! `RemovePortMirror`/`ClearPortMirror` restore it; missing ports, an unreachable server
//! and a client certificate from another CA are clear errors that change nothing.
//!
//! Needs root and `.ci/setup.d/40-faucet.sh`; run with `cargo test -p trident-sdn faucet`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faucet_common;

use std::time::{Duration, Instant};

use faucet_common::{
    DP, FaucetNet, MIRROR_PORT, assert_collector_silent, capture_until, foreign_unicast, involves,
    mac, mirror_list_of, step,
};
use trident_sdn::MirrorControl;
use trident_sdn::MirrorError;
use trident_sdn::rpc::ConfRpcClient;

#[test]
fn faucet_rpc_mirror_round_trip_and_errors() {
    let start = Instant::now();
    let mut net = FaucetNet::up(start);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt
        .block_on(ConfRpcClient::connect(&net.rpc_config()))
        .expect("connect to faucetconfrpc");
    assert_eq!(client.backend(), "faucetconfrpc");
    step(start, "tonic client connected (mutual TLS, test CA)");

    let original = std::fs::read_to_string(net.faucet_yaml()).unwrap();
    assert!(mirror_list_of(&original).is_empty());
    let served = rt.block_on(client.get_config_file("")).unwrap();
    assert!(mirror_list_of(&served).is_empty());
    let dps = rt.block_on(client.dp_info(DP)).unwrap();
    assert_eq!(dps.len(), 1);
    assert_eq!(dps[0].interfaces.len(), 4);
    step(
        start,
        "GetConfigFile and GetDpInfo: sw1 with ports 1-4, mirror port 4 empty",
    );

    net.start_traffic();
    let h1 = mac(1);
    assert_collector_silent(&net, "with no mirror");
    step(
        start,
        "hosts talking; nothing reaches the collector NIC while nothing is mirrored",
    );

    rt.block_on(client.add_port_mirror(DP, 1, MIRROR_PORT))
        .unwrap();
    assert_eq!(net.mirror_list(), [1]);
    step(
        start,
        "AddPortMirror(sw1, 1, 4): faucet.yaml now has mirror: [1]",
    );

    let frames = capture_until(&net, 6, "h1's packets in both directions", |f| {
        f.iter().any(|x| x.0 == h1) && f.iter().any(|x| x.1 == h1)
    });
    let foreign = foreign_unicast(&frames, &h1);
    assert!(
        foreign.is_empty(),
        "unicast frames of other hosts mirrored: {foreign:?}"
    );
    step(
        start,
        format!(
            "collector NIC sees h1 both ways ({} frames in 2 s) and no other host's unicast",
            frames.len()
        ),
    );

    rt.block_on(client.add_port_mirror(DP, 1, MIRROR_PORT))
        .unwrap();
    assert_eq!(net.mirror_list(), [1]);
    step(start, "AddPortMirror again: idempotent, still mirror: [1]");

    rt.block_on(client.remove_port_mirror(DP, 1, MIRROR_PORT))
        .unwrap();
    assert!(net.mirror_list().is_empty());
    capture_until(&net, 6, "silence after RemovePortMirror", |f| {
        !f.iter().any(|x| involves(x, &h1))
    });
    step(
        start,
        "RemovePortMirror: mirror list back to [] and h1's packets stop",
    );

    rt.block_on(client.add_port_mirror(DP, 1, MIRROR_PORT))
        .unwrap();
    rt.block_on(client.add_port_mirror(DP, 3, MIRROR_PORT))
        .unwrap();
    assert_eq!(net.mirror_list(), [1, 3]);
    rt.block_on(client.clear_port_mirror(DP, MIRROR_PORT))
        .unwrap();
    assert!(net.mirror_list().is_empty());
    step(start, "two mirrors then ClearPortMirror: mirror list []");

    // Bad input: nothing may be written.
    let before = std::fs::read_to_string(net.faucet_yaml()).unwrap();
    let cases: [(&str, Result<(), MirrorError>, &str, u32); 4] = [
        (
            "mirror port 9",
            rt.block_on(client.add_port_mirror(DP, 1, 9)),
            DP,
            9,
        ),
        (
            "host port 7",
            rt.block_on(client.add_port_mirror(DP, 7, MIRROR_PORT)),
            DP,
            7,
        ),
        (
            "ClearPortMirror of port 9",
            rt.block_on(client.clear_port_mirror(DP, 9)),
            DP,
            9,
        ),
        (
            "DP swX",
            rt.block_on(client.remove_port_mirror("swX", 1, MIRROR_PORT)),
            "swX",
            1,
        ),
    ];
    for (what, result, dp, port) in cases {
        match result {
            Err(MirrorError::MissingPort {
                dp_name, port_no, ..
            }) => {
                assert_eq!((dp_name.as_str(), port_no), (dp, port), "{what}");
            }
            other => panic!("{what}: expected MissingPort, got {other:?}"),
        }
    }
    assert_eq!(std::fs::read_to_string(net.faucet_yaml()).unwrap(), before);
    step(
        start,
        "missing mirror port, host port, DP: MissingPort naming DP and port; faucet.yaml untouched",
    );

    // A change Faucet's own validator rejects (port 2 carries a VLAN, so it cannot be a
    // mirror port): faucetconfrpc refuses it and writes nothing.
    match rt.block_on(client.add_port_mirror(DP, 1, 2)) {
        Err(MirrorError::Refused {
            op,
            port_no,
            detail,
            ..
        }) => {
            assert_eq!((op, port_no), ("AddPortMirror", 1));
            assert!(detail.contains("Invalid config"), "{detail}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(net.faucet_yaml()).unwrap(), before);
    step(
        start,
        "AddPortMirror into a VLAN port: Refused with Faucet's validation error; faucet.yaml untouched",
    );

    // Automated ACLs through faucetconfrpc: SetConfigFile adds an ACL to the config (Faucet
    // validates it), SetPortAcl puts it on port 1's acls_in, an unknown ACL is refused.
    let acls_in = |yaml: &str| -> Vec<String> {
        let doc: serde_norway::Value = serde_norway::from_str(yaml).unwrap();
        match &doc["dps"][DP]["interfaces"][1]["acls_in"] {
            serde_norway::Value::Sequence(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let with_acl = format!(
        "{}\nacls:\n  quarantine:\n    - rule:\n        actions:\n          allow: 0\n",
        before.trim_end()
    );
    rt.block_on(client.set_config_file("", &with_acl)).unwrap();
    let acl_names = ["quarantine".to_owned()];
    rt.block_on(client.set_port_acls(DP, 1, &acl_names))
        .unwrap();
    let applied = std::fs::read_to_string(net.faucet_yaml()).unwrap();
    assert_eq!(acls_in(&applied), ["quarantine"]);
    match rt.block_on(client.set_port_acls(DP, 1, &["nosuch".to_owned()])) {
        Err(MirrorError::Refused { op, .. }) => assert_eq!(op, "SetPortAcl"),
        other => panic!("expected Refused for an unknown ACL, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(net.faucet_yaml()).unwrap(), applied);
    rt.block_on(client.set_port_acls(DP, 1, &[])).unwrap();
    assert!(acls_in(&std::fs::read_to_string(net.faucet_yaml()).unwrap()).is_empty());
    rt.block_on(client.set_config_file("", &before)).unwrap();
    assert!(net.mirror_list().is_empty());
    step(
        start,
        "SetConfigFile adds ACL quarantine; SetPortAcl(sw1, 1) sets acls_in: [quarantine]; \
         an unknown ACL is Refused and nothing written; SetPortAcl with none clears it",
    );

    // A client certificate from another CA: the server refuses the handshake.
    let other = net.path("other-ca");
    let status = std::process::Command::new("bash")
        .arg(faucet_common::scripts().join("certs.sh"))
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let mut wrong = net.rpc_config();
    wrong.client_cert = Some(other.join("client.crt"));
    wrong.client_key = Some(other.join("client.key"));
    let refused = rt.block_on(async {
        let c = ConfRpcClient::connect(&wrong).await?;
        c.add_port_mirror(DP, 1, MIRROR_PORT).await
    });
    let text = refused.unwrap_err().to_string();
    assert!(text.contains("faucetconfrpc"), "{text}");
    assert!(net.mirror_list().is_empty());
    step(
        start,
        format!("client certificate from another CA refused: {text}"),
    );

    // faucetconfrpc gone: Unreachable, naming the address.
    net.stop_confrpc();
    let address = client.address().to_owned();
    let t = Instant::now();
    let err = rt
        .block_on(client.add_port_mirror(DP, 1, MIRROR_PORT))
        .unwrap_err();
    assert!(
        matches!(err, MirrorError::Unreachable { .. }),
        "expected Unreachable, got {err:?}"
    );
    assert!(err.to_string().contains(&address), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let err = rt
        .block_on(ConfRpcClient::connect(&net.rpc_config()))
        .unwrap_err();
    assert!(matches!(err, MirrorError::Unreachable { .. }), "{err:?}");
    step(start, format!("faucetconfrpc stopped: {err}"));

    // faucetconfrpc back on the same port: the same client works again (tonic reconnects).
    net.restart_confrpc();
    rt.block_on(client.add_port_mirror(DP, 2, MIRROR_PORT))
        .expect("the old client after faucetconfrpc restarted");
    assert_eq!(net.mirror_list(), [2]);
    rt.block_on(client.clear_port_mirror(DP, MIRROR_PORT))
        .unwrap();
    assert!(net.mirror_list().is_empty());
    step(
        start,
        "faucetconfrpc restarted: the same client reconnects and works",
    );

    let mut missing = net.rpc_config();
    missing.ca_cert = Some(net.path("certs/nope.crt"));
    let err = ConfRpcClient::connect_lazy(&missing)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope.crt"), "{err}");
    step(start, format!("missing CA file: {err}"));

    assert!(net.down());
    let left = net.leftovers();
    assert!(left.is_empty(), "left behind: {left:?}");
    step(start, "torn down: no namespace or interface left");
}
