//! Property and unit tests of the state machine and scheduler ([`trident_sdn::scheduler`]).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use trident_sdn::config::SdnConfig;
use trident_sdn::endpoint::{Classification, RoleConfidence};
use trident_sdn::events::{EventBody, FaucetEvent, L2Expire, L2Learn, PortChange};
use trident_sdn::scheduler::{Action, Core, Options};
use trident_sdn::state::{STATES, State, Trigger};

const MACS: usize = 10;

fn mac(i: usize) -> String {
    format!("0e:00:00:00:00:{i:02x}")
}

fn ev(body: EventBody) -> FaucetEvent {
    FaucetEvent {
        version: 1,
        time: 0.0,
        dp_id: 1,
        dp_name: "sw1".into(),
        event_id: 1,
        body,
    }
}

fn learn(i: usize, port: u32) -> FaucetEvent {
    ev(EventBody::L2Learn(L2Learn {
        port_no: port,
        previous_port_no: None,
        vid: 100,
        eth_src: mac(i),
        eth_dst: None,
        eth_type: Some(2054),
        l3_src_ip: Some(format!("10.0.0.{}", i + 1).parse().unwrap()),
        l3_dst_ip: None,
        stack_descr: None,
    }))
}

fn options(n: usize) -> Options {
    let mut c = SdnConfig::default();
    c.max_concurrent_reinvestigations = n;
    c.reinvestigation_frequency = 60;
    c.capture_seconds = 20;
    c.recheck_seconds = 300;
    c.mirror_ports.insert("sw1".into(), 99);
    Options::from_config(&c)
}

fn result(conf: f64) -> Classification {
    Classification {
        time: 0.0,
        roles: vec![RoleConfidence {
            role: "Developer workstation".into(),
            confidence: conf,
        }],
        os: None,
        packets: 100,
        unknown_reason: None,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Learn(usize, u32),
    Expire(usize),
    PortDown(u32),
    Tick(u32),
    Done(usize, bool),
    Ignore(usize),
    Clear(usize),
    Change(usize, usize),
    Remove(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..MACS, 1u32..6).prop_map(|(m, p)| Op::Learn(m, p)),
        1 => (0..MACS).prop_map(Op::Expire),
        1 => (1u32..6).prop_map(Op::PortDown),
        5 => (0u32..40).prop_map(Op::Tick),
        3 => (0..MACS, any::<bool>()).prop_map(|(m, c)| Op::Done(m, c)),
        1 => (0..MACS).prop_map(Op::Ignore),
        1 => (0..MACS).prop_map(Op::Clear),
        1 => (0..MACS, 0..4usize).prop_map(|(m, t)| Op::Change(m, t)),
        1 => (0..MACS).prop_map(Op::Remove),
    ]
}

/// Tracks mirrors from actions, checking each unmirror matches a mirror.
#[derive(Default)]
struct Mirrors {
    live: BTreeMap<String, f64>,
}

impl Mirrors {
    fn apply(&mut self, actions: Vec<Action>, now: f64) {
        for a in actions {
            match a {
                Action::Mirror { id, .. } => {
                    assert!(self.live.insert(id, now).is_none(), "mirrored twice");
                }
                Action::Unmirror { id, .. } => {
                    assert!(self.live.remove(&id).is_some(), "unmirror without mirror");
                }
            }
        }
    }
}

fn id_of(core: &Core, i: usize) -> Option<String> {
    core.find(&mac(i)).into_iter().next()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Never more than N mirrored; mirrors and operating endpoints always agree; no mirror
    /// outlives the operating timeout; ignored endpoints are never mirrored; shutdown
    /// removes every mirror.
    #[test]
    fn scheduler_invariants(n in 1usize..4, ops in proptest::collection::vec(op(), 1..120)) {
        let opts = options(n);
        let timeout = opts.operating_timeout;
        let mut core = Core::new(opts);
        let mut m = Mirrors::default();
        let mut now = 1_000.0;
        for o in ops {
            let actions = match o {
                Op::Learn(i, p) => core.apply_event(&learn(i, p), now),
                Op::Expire(i) => core.apply_event(&ev(EventBody::L2Expire(L2Expire { port_no: 1, vid: 100, eth_src: mac(i) })), now),
                Op::PortDown(p) => core.apply_event(&ev(EventBody::PortChange(PortChange { port_no: p, reason: "MODIFY".into(), state: 1, status: false })), now),
                Op::Tick(dt) => { now += f64::from(dt); core.tick(now) }
                Op::Done(i, confident) => match id_of(&core, i) {
                    Some(id) => core.capture_done(&id, Some(result(if confident { 0.9 } else { 0.1 })), now),
                    None => vec![],
                },
                Op::Ignore(i) => id_of(&core, i).map(|id| core.ignore(&id, now)).unwrap_or_default(),
                Op::Clear(i) => id_of(&core, i).map(|id| core.clear(&id, now)).unwrap_or_default(),
                Op::Change(i, t) => match id_of(&core, i) {
                    Some(id) => core.change(&id, [Trigger::Operate, Trigger::Queue, Trigger::Known, Trigger::Unknown][t], now).unwrap_or_default(),
                    None => vec![],
                },
                Op::Remove(i) => id_of(&core, i).map(|id| core.remove(&id, now)).unwrap_or_default(),
            };
            m.apply(actions, now);
            prop_assert!(core.operating_count() <= n, "{} operating > {n}", core.operating_count());
            let operating: Vec<String> = {
                let mut v: Vec<String> = core.iter().filter(|e| e.state == State::Operating).map(|e| e.id.clone()).collect();
                v.sort();
                v
            };
            let mirrored: Vec<String> = m.live.keys().cloned().collect();
            prop_assert_eq!(&operating, &mirrored);
            for (id, since) in &m.live {
                prop_assert!(now - since < timeout, "{id} mirrored since {since}, now {now}");
                prop_assert!(!core.get(id).unwrap().ignore, "ignored endpoint mirrored");
            }
        }
        let actions = core.shutdown(now);
        m.apply(actions, now);
        prop_assert!(m.live.is_empty());
        prop_assert_eq!(core.operating_count(), 0);
    }

    /// Every mirror is eventually removed: with no more events and no results, time alone
    /// unmirrors everything, and every endpoint is captured in turn.
    #[test]
    fn every_mirror_eventually_removed(n in 1usize..4, hosts in 1usize..MACS) {
        let opts = options(n);
        let timeout = opts.operating_timeout;
        let mut core = Core::new(opts);
        let mut m = Mirrors::default();
        let mut now = 0.0;
        for i in 0..hosts {
            m.apply(core.apply_event(&learn(i, 1 + (i as u32 % 5)), now), now);
        }
        let mut captured = std::collections::BTreeSet::new();
        for _ in 0..(hosts as u32 * (timeout as u32 + 2)) {
            now += 1.0;
            let a = core.tick(now);
            for x in &a {
                if let Action::Mirror { id, .. } = x { captured.insert(id.clone()); }
            }
            m.apply(a, now);
            // Results arrive after the capture time for even hosts only.
            let due: Vec<String> = m.live.iter().filter(|(_, t)| now - **t >= 20.0).map(|(id, _)| id.clone()).collect();
            for id in due {
                let e = core.get(&id).unwrap();
                if e.mac.ends_with(['0', '2', '4', '6', '8']) {
                    let a = core.capture_done(&id, Some(result(0.9)), now);
                    m.apply(a, now);
                }
            }
            for since in m.live.values() { prop_assert!(now - since < timeout); }
        }
        prop_assert_eq!(captured.len(), hosts);
        let a = core.shutdown(now);
        m.apply(a, now);
        prop_assert!(m.live.is_empty());
    }
}

/// Drives an endpoint into `target`.
fn reach(core: &mut Core, id: &str, target: State, now: f64) -> Vec<Action> {
    match target {
        State::Unknown => vec![],
        State::Queued => core.change(id, Trigger::Queue, now).unwrap(),
        State::Operating => core.change(id, Trigger::Operate, now).unwrap(),
        State::Known => core.change(id, Trigger::Known, now).unwrap(),
    }
}

#[test]
fn every_state_can_be_ignored_and_cleared() {
    for s in STATES {
        let mut core = Core::new(options(1));
        let mut m = Mirrors::default();
        m.apply(core.apply_event(&learn(0, 1), 0.0), 0.0);
        let id = id_of(&core, 0).unwrap();
        m.apply(reach(&mut core, &id, s, 0.0), 0.0);
        assert_eq!(core.get(&id).unwrap().state, s);
        m.apply(core.ignore(&id, 1.0), 1.0);
        assert!(m.live.is_empty(), "{s}: ignoring did not unmirror");
        for t in 2..2000 {
            m.apply(core.tick(f64::from(t)), f64::from(t));
            assert!(m.live.is_empty(), "{s}: ignored endpoint mirrored");
        }
        m.apply(core.clear(&id, 2000.0), 2000.0);
        let mut mirrored = false;
        for t in 2001..4000 {
            let a = core.tick(f64::from(t));
            mirrored |= a.iter().any(|x| matches!(x, Action::Mirror { .. }));
            m.apply(a, f64::from(t));
        }
        assert!(mirrored, "{s}: cleared endpoint never scheduled");
    }
}

#[test]
fn learn_expire_learn_keeps_endpoint_and_mirror() {
    // A mirror change warm-restarts the port: L2_EXPIRE then L2_LEARN. Not a departure.
    let mut core = Core::new(options(1));
    let mut m = Mirrors::default();
    m.apply(core.apply_event(&learn(0, 1), 0.0), 0.0);
    m.apply(core.tick(1.0), 1.0);
    assert_eq!(m.live.len(), 1);
    let expire = ev(EventBody::L2Expire(L2Expire {
        port_no: 1,
        vid: 100,
        eth_src: mac(0),
    }));
    m.apply(core.apply_event(&expire, 2.0), 2.0);
    m.apply(core.tick(3.0), 3.0);
    m.apply(core.apply_event(&learn(0, 1), 4.0), 4.0);
    for t in 5..40 {
        m.apply(core.tick(f64::from(t)), f64::from(t));
    }
    assert_eq!(m.live.len(), 1, "unmirrored on a warm-restart expire");
    assert_eq!(core.len(), 1);
}

#[test]
fn operating_endpoint_that_leaves_is_unmirrored() {
    let mut core = Core::new(options(2));
    let mut m = Mirrors::default();
    m.apply(core.apply_event(&learn(0, 1), 0.0), 0.0);
    m.apply(core.apply_event(&learn(1, 2), 0.0), 0.0);
    m.apply(core.tick(1.0), 1.0);
    assert_eq!(m.live.len(), 2);
    // Port 1 goes down: host 0 left.
    let down = ev(EventBody::PortChange(PortChange {
        port_no: 1,
        reason: "MODIFY".into(),
        state: 1,
        status: false,
    }));
    m.apply(core.apply_event(&down, 2.0), 2.0);
    assert_eq!(m.live.len(), 1);
    // Host 1 expires and does not come back within the grace.
    let expire = ev(EventBody::L2Expire(L2Expire {
        port_no: 2,
        vid: 100,
        eth_src: mac(1),
    }));
    m.apply(core.apply_event(&expire, 3.0), 3.0);
    let grace = core.options().expire_grace;
    m.apply(core.tick(3.0 + grace), 3.0 + grace);
    assert!(m.live.is_empty());
    // Neither is scheduled again while absent.
    for t in 0..500 {
        let now = 4.0 + grace + f64::from(t);
        m.apply(core.tick(now), now);
    }
    assert!(m.live.is_empty());
}

#[test]
fn confident_result_makes_known_then_rechecked() {
    let mut core = Core::new(options(1));
    let mut m = Mirrors::default();
    m.apply(core.apply_event(&learn(0, 1), 0.0), 0.0);
    m.apply(core.tick(1.0), 1.0);
    let id = id_of(&core, 0).unwrap();
    m.apply(core.capture_done(&id, Some(result(0.9)), 21.0), 21.0);
    assert_eq!(core.get(&id).unwrap().state, State::Known);
    assert!(m.live.is_empty());
    // Stays known (not re-captured) until recheck_seconds (300) pass.
    for t in 22..300 {
        m.apply(core.tick(f64::from(t)), f64::from(t));
        assert!(m.live.is_empty(), "re-captured a known endpoint at {t}");
    }
    m.apply(core.tick(400.0), 400.0);
    assert_eq!(m.live.len(), 1, "known endpoint not re-checked");
}

#[test]
fn filters_stack_ignored_vlan_and_mirror_port() {
    let mut c = SdnConfig::default();
    c.ignore_vlans = vec![200];
    c.ignore_ports.insert("sw1".into(), 4);
    c.mirror_ports.insert("sw1".into(), 3);
    let mut core = Core::new(Options::from_config(&c));
    let mut stack = learn(0, 1);
    if let EventBody::L2Learn(l) = &mut stack.body {
        l.stack_descr = Some("remote DP sw2 Port 1".into());
    }
    core.apply_event(&stack, 0.0);
    let mut vlan = learn(1, 1);
    if let EventBody::L2Learn(l) = &mut vlan.body {
        l.vid = 200;
    }
    core.apply_event(&vlan, 0.0);
    core.apply_event(&learn(2, 4), 0.0);
    core.apply_event(&learn(3, 3), 0.0);
    let mut public = learn(4, 1);
    if let EventBody::L2Learn(l) = &mut public.body {
        l.l3_src_ip = Some("8.8.8.8".parse().unwrap());
    }
    core.apply_event(&public, 0.0);
    assert_eq!(core.len(), 0);
    assert_eq!(core.stats.learns_filtered, 5);
    core.apply_event(&learn(5, 1), 0.0);
    assert_eq!(core.len(), 1);
}
