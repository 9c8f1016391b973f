//! Stacked remote mirroring, end to end on a real Faucet 1.10.12 driving a real Open vSwitch
//! (userspace): two switches (sw1 the stack root with the collector NIC on port 3, sw2 with
//! a loopback plug on port 3), trident's `stack_plan` writes the tunnel into the running
//! Faucet's `faucet.yaml` after the stack is up, a host on sw2 is mirrored into sw2's
//! loopback port with the ordinary `faucet.yaml` mirror back-end, and its packets (and only
//! its packets) arrive on the root's collector NIC through the VLAN tunnel; unmirrored,
//! they stop and the mirror lists are as before. A host on the root is mirrored locally into
//! the same port. Network: `tests/faucet/net-up-stack.sh`.
//!
//! Needs root and `.ci/setup.d/40-faucet.sh`; run with `cargo test -p trident-sdn faucet`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faucet_common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use faucet_common::{
    FaucetNet, assert_collector_silent, capture_until, foreign_unicast, involves, mac, step,
    wait_for,
};
use trident_sdn::stack::{ROOT_MIRROR_DESCRIPTION, stack_plan, stack_root};
use trident_sdn::yaml::{FaucetYaml, parse};
use trident_sdn::{MirrorControl, SdnConfig};

/// The mirror port on both switches (collector on sw1, loopback plug on sw2).
const MIRROR: u32 = 3;
/// The tunnel VLAN.
const VID: u16 = 999;

fn checker() -> PathBuf {
    let root = std::env::var_os("TRIDENT_FAUCET_ROOT")
        .map_or_else(|| PathBuf::from("/opt/trident-faucet"), PathBuf::from);
    let p = root.join("faucet/bin/check_faucet_config");
    assert!(
        p.exists(),
        "{} is missing: run .ci/setup.d/40-faucet.sh as root",
        p.display()
    );
    p
}

/// The mirror list of port [`MIRROR`] on `dp` in faucet.yaml.
fn mirror_list(yaml: &FaucetYaml, dp: &str) -> Vec<u32> {
    yaml.mirror_list(dp, MIRROR).unwrap()
}

fn faucet_log(net: &FaucetNet) -> String {
    std::fs::read_to_string(net.path("faucet.log")).unwrap_or_default()
}

#[test]
fn faucet_stack_remote_mirror_through_the_tunnel() {
    let start = Instant::now();
    let mut net = FaucetNet::up_stack(start);
    let (b1, b2) = (format!("{}-b1", net.prefix), format!("{}-b2", net.prefix));

    // 1. The stack comes up by LLDP both ways.
    wait_for(
        Duration::from_secs(60),
        "stack ports UP on sw1 and sw2",
        || {
            let log = faucet_log(&net);
            log.contains("sw1 Stack Port 4 state UP") && log.contains("sw2 Stack Port 1 state UP")
        },
    );
    step(start, "stack sw1 port 4 <-> sw2 port 1 UP both ways (LLDP)");

    // 2. trident's start-up write, as the engine does it: read the config through the
    //    back-end, plan the tunnel, write the whole file back (validated).
    let yaml = FaucetYaml::new(net.faucet_yaml()).with_check(Some(checker()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let text = rt.block_on(yaml.get_config()).unwrap();
    let doc = parse(&text).unwrap();
    assert_eq!(stack_root(&doc).as_deref(), Some("sw1"));
    let before = (mirror_list(&yaml, "sw1"), mirror_list(&yaml, "sw2"));
    assert_eq!(before, (vec![], vec![]));
    let mut cfg = SdnConfig::default();
    cfg.mirror_ports.insert("sw1".into(), MIRROR);
    cfg.mirror_ports.insert("sw2".into(), MIRROR);
    cfg.tunnel_vlan = Some(VID);
    cfg.tunnel_name = "trident_tunnel".into();
    let planned = stack_plan(&doc, &cfg).unwrap().expect("a tunnel to write");
    let ups_before = faucet_log(&net).matches("state UP (previous").count();
    rt.block_on(yaml.set_config_file("", &serde_norway::to_string(&planned).unwrap()))
        .unwrap();
    let written = parse(&std::fs::read_to_string(net.faucet_yaml()).unwrap()).unwrap();
    let tunnel = &written["acls"]["trident_tunnel"][1]["rule"]["actions"]["output"]["tunnel"];
    assert_eq!(tunnel["dp"].as_str(), Some("sw1"));
    assert_eq!(tunnel["port"].as_u64(), Some(u64::from(MIRROR)));
    assert_eq!(tunnel["tunnel_id"].as_u64(), Some(u64::from(VID)));
    for dp in ["sw1", "sw2"] {
        let port = &written["dps"][dp]["interfaces"][MIRROR as usize];
        assert_eq!(port["acls_in"][0].as_str(), Some("trident_tunnel"), "{dp}");
        assert_eq!(port["coprocessor"]["strategy"].as_str(), Some("vlan_vid"));
    }
    assert_eq!(
        written["dps"]["sw1"]["interfaces"][MIRROR as usize]["description"].as_str(),
        Some(ROOT_MIRROR_DESCRIPTION)
    );
    step(
        start,
        "stack_plan wrote the tunnel ACL (vid 999 -> sw1 port 3) on both mirror ports; check_faucet_config accepted it",
    );

    // 3. Faucet programs both ends of the tunnel: sw2 tags what comes back from the
    //    plug with VID 999 (PCP 3) towards the stack; sw1 pops it and outputs to the collector.
    let vid_field = format!("set_field:{}->vlan_vid", 4096 + u32::from(VID));
    wait_for(
        Duration::from_secs(30),
        "tunnel flows on sw2 (entry) and sw1 (exit)",
        || {
            let entry = net.flows(&b2).iter().any(|l| {
                l.contains("in_port=3 ") && l.contains(&vid_field) && l.ends_with("output:1")
            });
            let exit = net.flows(&b1).iter().any(|l| {
                l.contains(&format!("dl_vlan={VID},dl_vlan_pcp=3"))
                    && l.ends_with("pop_vlan,output:3")
            });
            entry && exit
        },
    );
    let ups_after = faucet_log(&net).matches("state UP (previous").count();
    step(
        start,
        format!(
            "flows: sw2 in_port=3 -> push VLAN {VID} PCP 3 -> output:1 (stack); sw1 dl_vlan={VID},pcp=3 -> pop_vlan,output:3 (stack ports went UP {} more time(s) during the reload)",
            ups_after - ups_before
        ),
    );

    // 4. Nothing is mirrored yet: the collector hears nothing while all hosts talk.
    net.start_pings(&[(2, 1), (1, 2), (3, 1), (1, 3), (2, 3)]);
    std::thread::sleep(Duration::from_secs(1));
    assert_collector_silent(&net, "with no mirror");
    step(
        start,
        "hosts talking, nothing mirrored: collector NIC silent",
    );

    // 5. Mirror h2 (sw2 port 2) into sw2's loopback port, as trident's MirrorBook does.
    rt.block_on(yaml.add_port_mirror("sw2", 2, MIRROR)).unwrap();
    assert_eq!(mirror_list(&yaml, "sw2"), [2]);
    assert_eq!(mirror_list(&yaml, "sw1"), Vec::<u32>::new());
    step(start, "faucet.yaml: sw2 port 3 mirror: [2]");
    let (h1, h2, h3) = (mac(1), mac(2), mac(3));
    // Wait for a slice the mirror covered from its start: the first slice with any of h2's
    // frames may have begun before Faucet applied the change.
    let count = |f: &[(String, String)], a: &str, b: &str| {
        f.iter().filter(|x| x.0 == a && x.1 == b).count()
    };
    let frames = capture_until(
        &net,
        10,
        "h2 <-> h1 through the tunnel (3 each way) and h2 -> h3",
        |f| count(f, &h2, &h1) >= 3 && count(f, &h1, &h2) >= 3 && count(f, &h2, &h3) > 0,
    );
    let foreign = foreign_unicast(&frames, &h2);
    assert!(
        foreign.is_empty(),
        "unicast frames not to or from h2 reached the collector: {foreign:?}"
    );
    let (to_h1, from_h1) = (count(&frames, &h2, &h1), count(&frames, &h1, &h2));
    assert!(
        to_h1 >= 3 && from_h1 >= 3,
        "too few: {to_h1} h2->h1, {from_h1} h1->h2"
    );
    assert!(frames.iter().any(|x| x.0 == h2 && x.1 == h3));
    step(
        start,
        format!(
            "collector NIC on sw1 sees h2 (on sw2) through the tunnel: {to_h1} h2->h1, {from_h1} h1->h2 in 2 s, h2->h3 too, {} frames, no unicast of h1<->h3",
            frames.len()
        ),
    );

    // 6. Unmirror: the lists are as before and the copies stop.
    rt.block_on(yaml.remove_port_mirror("sw2", 2, MIRROR))
        .unwrap();
    assert_eq!(
        (mirror_list(&yaml, "sw1"), mirror_list(&yaml, "sw2")),
        before
    );
    capture_until(&net, 10, "silence after unmirroring h2", |f| {
        !f.iter().any(|x| involves(x, &h2))
    });
    assert_collector_silent(&net, "after unmirroring");
    step(
        start,
        "unmirrored: sw1 and sw2 mirror lists back to [] and the collector NIC is silent",
    );

    // 7. The root's mirror port, now a tunnel-ACL port, still takes local mirrors.
    rt.block_on(yaml.add_port_mirror("sw1", 1, MIRROR)).unwrap();
    let frames = capture_until(&net, 10, "h1's packets mirrored locally on sw1", |f| {
        f.iter().any(|x| x.0 == h1 && x.1 == h3) && f.iter().any(|x| x.0 == h3 && x.1 == h1)
    });
    let foreign = foreign_unicast(&frames, &h1);
    assert!(foreign.is_empty(), "not h1's: {foreign:?}");
    rt.block_on(yaml.remove_port_mirror("sw1", 1, MIRROR))
        .unwrap();
    assert_eq!(
        (mirror_list(&yaml, "sw1"), mirror_list(&yaml, "sw2")),
        before
    );
    step(
        start,
        format!(
            "local mirror of h1 into sw1 port 3 works ({} frames, all h1's or broadcast); removed, lists back to []",
            frames.len()
        ),
    );

    // 8. Tear down; nothing left behind.
    net.stop_traffic();
    assert!(net.down(), "net-down.sh failed");
    let left = net.leftovers();
    assert!(left.is_empty(), "left behind: {left:?}");
    step(start, "network torn down, no namespace or link left");
}
