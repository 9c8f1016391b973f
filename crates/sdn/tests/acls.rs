//! What the engine reads and writes in Faucet's config besides mirrors, and optional reverse
//! DNS:
//!
//! * automated ACLs from a Poseidon rules file: parse errors, application to faucet.yaml
//!   (validated with Faucet's own `check_faucet_config` when `.ci/setup.d/40-faucet.sh`
//!   installed it), dry run, and the engine's automatic path;
//! * stacking: the reference's two-switch stack (sw1 root, sw1 port 4 <-> sw2 port 1) with
//!   Poseidon's mirror ports gets Poseidon's tunnel ACL and loopback-plug port, checked with
//!   `check_faucet_config`; an endpoint on sw2 is mirrored into sw2's loopback port;
//! * Faucet's timeouts read at start-up; reverse DNS with a timeout and a cache.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trident_sdn::acl::{Rules, apply_yaml};
use trident_sdn::endpoint::{Classification, RoleConfidence};
use trident_sdn::stack::{stack_plan, stack_root};
use trident_sdn::yaml::FaucetYaml;
use trident_sdn::yaml::parse;
use trident_sdn::{Endpoint, Engine, MirrorControl, SdnConfig};

const FAUCET: &str = "# the test switch\nvlans:\n  office:\n    vid: 100\ndps:\n  sw1:\n    dp_id: 0x1\n    hardware: \"Open vSwitch\"\n    interfaces:\n      1:\n        name: \"h1\"\n        native_vlan: office\n      2:\n        name: \"h2\"\n        native_vlan: office\n      3:\n        name: \"mirror\"\n        output_only: true\n        mirror: []\n";

const ACLS: &str = "acls:\n  office-vlan-protect:\n    - rule:\n        dl_type: 0x800\n        ipv4_dst: 10.0.0.0/8\n        actions:\n          allow: 1\n    - rule:\n        actions:\n          allow: 0\n  allow-all:\n    - rule:\n        actions:\n          allow: 1\n";

const RULES: &str = "include:\n  - acls.yaml\nrules:\n  protect-developers:\n    - rule:\n        device_key: role\n        value: developer-workstation\n        min_confidence: 50\n        acls: [office-vlan-protect]\n";

/// Faucet's validator from the test virtualenv, when installed (CI installs it).
fn checker() -> Option<PathBuf> {
    let root = std::env::var_os("TRIDENT_FAUCET_ROOT")
        .map_or_else(|| PathBuf::from("/opt/trident-faucet"), PathBuf::from);
    let p = root.join("faucet/bin/check_faucet_config");
    p.exists().then_some(p)
}

fn classified(mac: &str, port: u32, role: &str, conf: f64) -> Endpoint {
    let id = trident_sdn::endpoint::endpoint_key(Some("VLAN100"), Some(mac), Some("sw1"), None);
    let mut e = Endpoint::new(id, mac, "sw1", port, 100, 1.0);
    e.classification = Some(Classification {
        time: 2.0,
        roles: vec![RoleConfidence {
            role: role.into(),
            confidence: conf,
        }],
        os: None,
        packets: 50,
        unknown_reason: None,
    });
    e
}

fn setup(dir: &Path) -> (PathBuf, Rules) {
    std::fs::write(dir.join("faucet.yaml"), FAUCET).unwrap();
    let rdir = dir.join("rules");
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::write(rdir.join("acls.yaml"), ACLS).unwrap();
    std::fs::write(rdir.join("rules.yaml"), RULES).unwrap();
    let rules = Rules::from_file(&rdir.join("rules.yaml")).unwrap();
    (dir.join("faucet.yaml"), rules)
}

#[test]
fn rules_parse_errors_name_line_and_field() {
    let p = Path::new("rules.yaml");
    let bad_key = "rules:\n  r1:\n    - rule:\n        device_key: colour\n        value: red\n        acls: [a]\n";
    let e = Rules::parse(bad_key, p).unwrap_err();
    assert!(
        e.contains("rules.yaml") && e.contains("line 4") && e.contains("device_key"),
        "{e}"
    );
    let bad_conf = "rules:\n  r1:\n    - rule:\n        device_key: role\n        value: printer\n        min_confidence: 150\n        acls: [a]\n";
    let e = Rules::parse(bad_conf, p).unwrap_err();
    assert!(e.contains("min_confidence") && e.contains("line"), "{e}");
    let unknown_field = "rules:\n  r1:\n    - rule:\n        acls: [a]\n        colour: red\n";
    let e = Rules::parse(unknown_field, p).unwrap_err();
    assert!(e.contains("colour") && e.contains("line 5"), "{e}");
    let no_value = "rules:\n  r1:\n    - rule:\n        device_key: os\n        acls: [a]\n";
    let e = Rules::parse(no_value, p).unwrap_err();
    assert!(e.contains("needs a `value`") && e.contains("line"), "{e}");
    let e = Rules::parse("rules:\n  r1: []\n", p).unwrap_err();
    assert!(e.contains("rules.r1") && e.contains("line 2"), "{e}");
    // An ACL named by a rule but defined nowhere.
    let r = Rules::parse("rules:\n  r1:\n    - rule:\n        acls: [nowhere]\n", p).unwrap();
    let e = r.check_defined(&Default::default()).unwrap_err();
    assert!(e.contains("r1") && e.contains("nowhere"), "{e}");
    println!("ok: rules parse errors name the file, the field and the line");
}

#[test]
fn classified_endpoint_gets_the_acl_in_faucet_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let (faucet, rules) = setup(dir.path());
    let check = checker();
    let yaml = FaucetYaml::new(&faucet).with_check(check.clone());
    let dev = classified("02:54:00:00:00:02", 2, "Developer workstation", 0.8);
    let printer = classified("02:54:00:00:00:01", 1, "Printer", 0.9);
    let weak = classified("02:54:00:00:00:09", 1, "Developer workstation", 0.3);
    let report = apply_yaml(&rules, &[dev.clone(), printer.clone(), weak], &yaml, false).unwrap();
    assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    let c = &report.changes[0];
    assert_eq!((c.dp.as_str(), c.port), ("sw1", 2));
    assert_eq!(c.new, vec!["office-vlan-protect".to_string()]);
    let text = std::fs::read_to_string(&faucet).unwrap();
    assert!(
        text.starts_with("# the test switch"),
        "comments kept:\n{text}"
    );
    assert!(text.contains("acls_in: [office-vlan-protect]"), "{text}");
    assert!(text.contains("include:\n  - poseidon_acls.yaml"), "{text}");
    assert!(dir.path().join("poseidon_acls.yaml").exists());
    let doc = trident_sdn::yaml::parse(&text).unwrap();
    assert_eq!(
        trident_sdn::yaml::port_acls(&doc, "sw1", 1).unwrap(),
        Vec::<String>::new()
    );
    match &check {
        Some(ck) => {
            let out = std::process::Command::new(ck)
                .arg(&faucet)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "check_faucet_config rejected the result: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            println!("ok: the edited faucet.yaml passes {}", ck.display());
        }
        None => println!("note: check_faucet_config not installed; validated by parsing only"),
    }
    // Idempotent, and the ACL leaves when the endpoint no longer matches.
    let again = apply_yaml(&rules, &[dev.clone(), printer.clone()], &yaml, false).unwrap();
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    let mut now_printer = dev;
    now_printer.classification.as_mut().unwrap().roles[0].role = "Printer".into();
    let gone = apply_yaml(&rules, &[now_printer, printer], &yaml, false).unwrap();
    assert_eq!(gone.changes.len(), 1);
    assert!(gone.changes[0].new.is_empty());
    let text = std::fs::read_to_string(&faucet).unwrap();
    assert!(!text.contains("office-vlan-protect]"), "{text}");
    println!("ok: a matching classified endpoint gets acls_in, a changed one loses it");
}

#[test]
fn dry_run_leaves_the_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (faucet, rules) = setup(dir.path());
    let before = std::fs::read(&faucet).unwrap();
    let yaml = FaucetYaml::new(&faucet).with_check(checker());
    let dev = classified("02:54:00:00:00:02", 2, "Developer workstation", 0.8);
    let report = apply_yaml(&rules, &[dev], &yaml, true).unwrap();
    assert_eq!(report.changes.len(), 1);
    assert!(report.after.contains("acls_in: [office-vlan-protect]"));
    let diff = trident_sdn::acl::line_diff(&report.before, &report.after);
    assert!(diff.contains("+") && diff.contains("acls_in"), "{diff}");
    assert_eq!(
        std::fs::read(&faucet).unwrap(),
        before,
        "dry run wrote faucet.yaml"
    );
    assert!(!dir.path().join("poseidon_acls.yaml").exists());
    println!("ok: dry run reports\n{diff}and leaves faucet.yaml byte-identical");
}

fn learn_line(mac: &str, port: u32) -> Vec<u8> {
    format!(
        "{{\"version\": 1, \"time\": 1.0, \"dp_id\": 1, \"dp_name\": \"sw1\", \"event_id\": 1, \"L2_LEARN\": {{\"port_no\": {port}, \"previous_port_no\": null, \"vid\": 100, \"eth_src\": \"{mac}\", \"eth_dst\": \"ff:ff:ff:ff:ff:ff\", \"eth_type\": 2054, \"l3_src_ip\": \"10.0.0.{port}\", \"l3_dst_ip\": \"10.0.0.9\"}}}}"
    )
    .into_bytes()
}

/// The engine's automatic path (`automated_acls`), with a rule on the MAC (no capture
/// needed), both for real and as a dry run.
#[test]
fn engine_applies_rules_automatically() {
    for dry in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (faucet, _) = setup(dir.path());
        let rules = dir.path().join("rules/mac-rules.yaml");
        std::fs::write(
            &rules,
            "include: [acls.yaml]\nrules:\n  h2:\n    - rule:\n        device_key: mac\n        value: 02:54:00:00:00:02\n        acls: [allow-all]\n",
        )
        .unwrap();
        let before = std::fs::read_to_string(&faucet).unwrap();
        let mut config = SdnConfig::default();
        config.data_dir = dir.path().join("data");
        config.mirror_ports.insert("sw1".into(), 3);
        config.max_concurrent_reinvestigations = 0;
        config.automated_acls = true;
        config.acls_dry_run = dry;
        config.rules_file = Some(rules);
        let control: Arc<dyn MirrorControl> =
            Arc::new(FaucetYaml::new(&faucet).with_check(checker()));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let engine = Engine::open(config, control).unwrap();
        let h = engine.handle();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = rt.spawn(engine.run(async move {
            let _ = rx.await;
        }));
        rt.block_on(h.feed(vec![learn_line("02:54:00:00:00:02", 2)]))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while h.status().faucet.acl_changes == 0 {
            assert!(
                Instant::now() < deadline,
                "no ACL change: {:#?}",
                h.status()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = tx.send(());
        rt.block_on(task).unwrap().unwrap();
        let after = std::fs::read_to_string(&faucet).unwrap();
        let log = h.status().faucet.acl_log;
        if dry {
            assert_eq!(after, before, "dry run changed faucet.yaml");
            assert!(
                log[0].starts_with("dry-run: would set sw1 port 2"),
                "{log:?}"
            );
        } else {
            assert!(after.contains("acls_in: [allow-all]"), "{after}");
            assert!(after.contains("poseidon_acls.yaml"), "{after}");
            let e = &h.find("02:54:00:00:00:02")[0];
            assert_eq!(e.acls, vec!["allow-all".to_string()]);
        }
        println!("ok (dry run {dry}): {}", log.join("; "));
    }
}

const STACKED: &str = r#"vlans:
  office:
    vid: 100
dps:
  sw1:
    dp_id: 1
    hardware: "Open vSwitch"
    stack:
      priority: 1
    timeout: 1801
    arp_neighbor_timeout: 900
    interfaces:
      1:
        name: "h1"
        native_vlan: office
      3:
        name: "poseidon-mirror"
        output_only: true
        mirror: []
      4:
        name: "to-sw2"
        stack:
          dp: sw2
          port: 1
  sw2:
    dp_id: 2
    hardware: "Open vSwitch"
    interfaces:
      1:
        name: "to-sw1"
        stack:
          dp: sw1
          port: 4
      2:
        name: "h2"
        native_vlan: office
      3:
        name: "loopback-plug"
        native_vlan: office
"#;

fn stacked_config(dir: &std::path::Path) -> SdnConfig {
    let mut c = SdnConfig::default();
    c.data_dir = dir.join("data");
    c.mirror_ports.insert("sw1".into(), 3);
    c.mirror_ports.insert("sw2".into(), 3);
    c.tunnel_vlan = Some(999);
    c.tunnel_name = "poseidon_tunnel".into();
    c.max_concurrent_reinvestigations = 1;
    c.capture_seconds = 60;
    c.reinvestigation_frequency = 10;
    c.mirror_apply_wait = 0;
    c
}

#[test]
fn stacked_faucet_yaml_gets_poseidons_tunnel() {
    let doc = parse(STACKED).unwrap();
    assert_eq!(stack_root(&doc).as_deref(), Some("sw1"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = stacked_config(dir.path());
    let out = stack_plan(&doc, &cfg).unwrap().expect("a change");
    let acl = &out["acls"]["poseidon_tunnel"];
    assert_eq!(acl[0]["rule"]["vlan_vid"].as_u64(), Some(999));
    assert_eq!(acl[0]["rule"]["actions"]["allow"].as_u64(), Some(0));
    let tunnel = &acl[1]["rule"]["actions"]["output"]["tunnel"];
    assert_eq!(tunnel["dp"].as_str(), Some("sw1"));
    assert_eq!(tunnel["port"].as_u64(), Some(3));
    assert_eq!(tunnel["tunnel_id"].as_u64(), Some(999));
    assert_eq!(tunnel["type"].as_str(), Some("vlan"));
    let plug = &out["dps"]["sw2"]["interfaces"][3];
    assert_eq!(plug["acls_in"][0].as_str(), Some("poseidon_tunnel"));
    assert_eq!(plug["coprocessor"]["strategy"].as_str(), Some("vlan_vid"));
    assert!(plug.get("native_vlan").is_none());
    assert_eq!(plug["name"].as_str(), Some("loopback-plug"));
    // The root's mirror port takes the same shape (so Faucet 1.10.12 installs the tunnel's
    // exit there; see trident_sdn::stack), keeping its name and mirror list.
    let root_port = &out["dps"]["sw1"]["interfaces"][3];
    assert_eq!(root_port["acls_in"][0].as_str(), Some("poseidon_tunnel"));
    assert_eq!(
        root_port["coprocessor"]["strategy"].as_str(),
        Some("vlan_vid")
    );
    assert!(root_port.get("output_only").is_none(), "{root_port:?}");
    assert_eq!(root_port["name"].as_str(), Some("poseidon-mirror"));
    assert_eq!(root_port["mirror"].as_sequence().map(Vec::len), Some(0));
    assert_eq!(
        root_port["description"].as_str(),
        Some(trident_sdn::stack::ROOT_MIRROR_DESCRIPTION)
    );
    // Applying twice changes nothing more.
    assert_eq!(stack_plan(&out, &cfg).unwrap(), None);
    // No tunnel_vlan, or no root: nothing to do.
    let mut plain = cfg.clone();
    plain.tunnel_vlan = None;
    assert_eq!(stack_plan(&doc, &plain).unwrap(), None);
    // A root without a mirror port is an error naming it.
    let mut noroot = cfg.clone();
    noroot.mirror_ports.remove("sw1");
    assert!(stack_plan(&doc, &noroot).unwrap_err().contains("sw1"));
    println!(
        "ok: stack root sw1; tunnel ACL and loopback-plug port written as Poseidon did, root mirror port as a tunnel-ACL port"
    );

    // Validate the written file with Faucet's own checker.
    if let Some(ck) = checker() {
        let f = dir.path().join("faucet.yaml");
        std::fs::write(&f, serde_norway::to_string(&out).unwrap()).unwrap();
        let o = std::process::Command::new(&ck).arg(&f).output().unwrap();
        assert!(
            o.status.success(),
            "check_faucet_config rejected the stacked config: {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
        println!("ok: the stacked config passes {}", ck.display());
    } else {
        println!("note: check_faucet_config not installed; shape checked only");
    }
}

fn learn(dp: &str, dp_id: u32, port: u32, mac: &str, stack: bool) -> Vec<u8> {
    let descr = if stack {
        ", \"stack_descr\": \"remote DP sw2 Port 1\""
    } else {
        ""
    };
    format!(
        "{{\"version\": 1, \"time\": 1.0, \"dp_id\": {dp_id}, \"dp_name\": \"{dp}\", \"event_id\": 1, \"L2_LEARN\": {{\"port_no\": {port}, \"previous_port_no\": null, \"vid\": 100, \"eth_src\": \"{mac}\", \"eth_dst\": \"ff:ff:ff:ff:ff:ff\", \"eth_type\": 2054, \"l3_src_ip\": \"127.0.0.1\", \"l3_dst_ip\": \"10.0.0.9\"{descr}}}}}"
    )
    .into_bytes()
}

fn wait(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The engine on the stacked config: start-up writes the tunnel, reads the timeouts, and
/// an endpoint on sw2 is mirrored into sw2's loopback port (the tunnel carries it to sw1's
/// mirror port); the same MAC learnt on sw1 via the stack is ignored. Reverse DNS on.
#[test]
fn engine_on_a_stacked_faucet_mirrors_through_the_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let faucet = dir.path().join("faucet.yaml");
    std::fs::write(&faucet, STACKED).unwrap();
    let mut cfg = stacked_config(dir.path());
    cfg.rdns = true;
    cfg.rdns_timeout_ms = 1000;
    let yaml = Arc::new(FaucetYaml::new(&faucet).with_check(checker()));
    let control: Arc<dyn MirrorControl> = yaml.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let engine = Engine::open(cfg, control).unwrap();
    let h = engine.handle();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = rt.spawn(engine.run(async move {
        let _ = rx.await;
    }));
    wait(Duration::from_secs(10), "start-up", || {
        h.status().mirror.get("cleared").copied().unwrap_or(0) >= 2
    });
    let st = h.status();
    assert_eq!(st.faucet.stack_root.as_deref(), Some("sw1"));
    assert_eq!(st.faucet.timeouts["sw1"].timeout, Some(1801));
    assert_eq!(st.faucet.timeouts["sw1"].arp_neighbor_timeout, Some(900));
    assert_eq!(st.faucet.timeouts["sw2"].timeout, None);
    // sw1's 1801 s timeout is longer than 2F = 20 s: the window widens to 1811 s.
    assert!(
        (st.faucet.not_observed_seconds - 1811.0).abs() < 1e-6,
        "{st:#?}"
    );
    let text = std::fs::read_to_string(&faucet).unwrap();
    assert!(text.contains("poseidon_tunnel"), "{text}");
    println!(
        "ok: start-up read timeouts {:?}, not-observed window {} s, stack root sw1, tunnel written",
        st.faucet.timeouts, st.faucet.not_observed_seconds
    );

    rt.block_on(h.feed(vec![
        learn("sw1", 1, 4, "02:54:00:00:00:02", true),
        learn("sw2", 2, 2, "02:54:00:00:00:02", false),
    ]))
    .unwrap();
    wait(
        Duration::from_secs(10),
        "mirror on sw2's loopback port",
        || yaml.mirror_list("sw2", 3).is_ok_and(|l| l == vec![2]),
    );
    let eps = h.endpoints();
    assert_eq!(
        eps.len(),
        1,
        "the stacked learn on sw1 must be ignored: {eps:#?}"
    );
    assert_eq!(eps[0].segment, "sw2");
    assert_eq!(yaml.mirror_list("sw1", 3).unwrap(), Vec::<u32>::new());
    println!(
        "ok: endpoint on sw2 mirrored into sw2 port 3 (loopback plug -> tunnel -> sw1 port 3)"
    );

    // Reverse DNS: 127.0.0.1 is `localhost` in /etc/hosts.
    wait(Duration::from_secs(10), "reverse DNS", || {
        h.endpoints()[0].rdns_v4.as_deref() == Some("localhost")
    });
    println!("ok: reverse DNS 127.0.0.1 -> localhost");

    let _ = tx.send(());
    rt.block_on(task).unwrap().unwrap();
    assert_eq!(yaml.mirror_list("sw2", 3).unwrap(), Vec::<u32>::new());
}

#[test]
fn rdns_times_out_and_caches() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = trident_sdn::rdns::Rdns::new(Duration::from_millis(300));
    let t = Instant::now();
    let name = rt.block_on(r.lookup("127.0.0.1".parse().unwrap()));
    assert_eq!(name.as_deref(), Some("localhost"));
    assert_eq!(
        r.cached("127.0.0.1".parse().unwrap()),
        Some(Some("localhost".into()))
    );
    // TEST-NET-1: no name; bounded by the timeout whatever the resolver does offline.
    let t2 = Instant::now();
    let none = rt.block_on(r.lookup("192.0.2.1".parse().unwrap()));
    assert_eq!(none, None);
    assert!(
        t2.elapsed() < Duration::from_millis(1300),
        "{:?}",
        t2.elapsed()
    );
    assert_eq!(r.cached("192.0.2.1".parse().unwrap()), Some(None));
    println!(
        "ok: rdns localhost in {:?}; 192.0.2.1 -> none in {:?}, both cached",
        t.elapsed() - t2.elapsed(),
        t2.elapsed()
    );
}
