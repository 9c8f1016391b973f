//! The scheduling core: a pure, clock-driven model of every endpoint and its state.
//!
//! Nothing here does I/O or reads the wall clock: every method takes `now` (Unix seconds)
//! and returns the [`Action`]s the engine must carry out (mirror, unmirror, persist). That
//! is what makes the property tests possible and a replay deterministic.
//!
//! Poseidon 0.18's scheduling, with what its users asked for:
//!
//! * every pass: active, non-ignored `unknown` endpoints are `queued` (pending `operate`);
//!   while fewer than `max_concurrent` are `operating`, the oldest queued one is mirrored;
//! * a capture result moves the endpoint to `known` when the top role's confidence is at
//!   least `known_confidence`, else back to `unknown`, where it waits
//!   `reinvestigation_frequency` before being queued again (0.18 re-queues at once and
//!   re-captures every host in turn forever);
//! * `known` endpoints are re-checked (queued) after `recheck_seconds`;
//! * an `operating` endpoint whose host leaves (port down, switch gone, or expired by
//!   Faucet and not re-learned within `expire_grace`) is unmirrored at once; so is one
//!   that is ignored or not observed for 2 x `reinvestigation_frequency` (0.18 left those
//!   mirrored);
//! * an `operating` endpoint is unmirrored after `operating_timeout` whatever happens;
//! * a mirror change makes Faucet warm-restart the port, which expires and re-learns the
//!   host: an `L2_EXPIRE` alone never drops or unmirrors an endpoint.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use crate::config::SdnConfig;
use crate::endpoint::{Classification, Endpoint, EndpointId, endpoint_key, is_public};
use crate::events::{EventBody, FaucetEvent};
use crate::state::{self, State, Trigger};

/// What the engine must do after a call into [`Core`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Mirror this endpoint's (switch, port) and start its capture.
    Mirror {
        /// Endpoint.
        id: EndpointId,
        /// Switch it was learned on.
        switch: String,
        /// Port it was learned on.
        port: u32,
        /// MAC, for the capture filter.
        mac: String,
    },
    /// Stop its capture and unmirror (switch, port) as recorded when it was mirrored.
    Unmirror {
        /// Endpoint.
        id: EndpointId,
        /// Switch.
        switch: String,
        /// Port.
        port: u32,
        /// Trunk ports are never unmirrored.
        trunk: bool,
    },
}

/// Timing and filtering options (from [`SdnConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// At most this many `operating`.
    pub max_concurrent: usize,
    /// Poseidon's `reinvestigation_frequency` (s).
    pub reinvestigation_frequency: f64,
    /// Capture length (s).
    pub capture_seconds: f64,
    /// An `operating` endpoint is unmirrored after this long whatever happens (s).
    pub operating_timeout: f64,
    /// An expired host not re-learned within this long has left (s).
    pub expire_grace: f64,
    /// An `operating` endpoint without any Faucet event for this long is timed out (s):
    /// 2 x `reinvestigation_frequency`, or more when Faucet's own host `timeout` is longer
    /// (a present host is only re-learned, and so re-reported, every `timeout` seconds).
    pub not_observed: f64,
    /// Confidence at or above which a result makes the endpoint `known`.
    pub known_confidence: f64,
    /// `known` endpoints are re-checked after this long (s).
    pub recheck_seconds: f64,
    /// `ignore_vlans`.
    pub ignore_vlans: Vec<u16>,
    /// `ignore_ports`: (switch, port).
    pub ignore_ports: Vec<(String, u32)>,
    /// Mirror ports and proxy mirror ports: learns there are not hosts.
    pub mirror_ports: Vec<(String, u32)>,
    /// `trunk_ports`.
    pub trunk_ports: Vec<(String, u32)>,
    /// `learn_public_addresses`.
    pub learn_public_addresses: bool,
}

impl Options {
    /// From the configuration.
    #[must_use]
    pub fn from_config(c: &SdnConfig) -> Options {
        let f = c.reinvestigation_frequency.max(1) as f64;
        let cap = c.capture_seconds.max(1) as f64;
        let mut mirror_ports: Vec<(String, u32)> = c
            .mirror_ports
            .iter()
            .map(|(s, p)| (s.clone(), *p))
            .collect();
        mirror_ports.extend(
            c.proxy_mirror_ports
                .values()
                .map(|p| (p.switch.clone(), p.port)),
        );
        Options {
            max_concurrent: c.max_concurrent_reinvestigations,
            reinvestigation_frequency: f,
            capture_seconds: cap,
            operating_timeout: 2.0 * cap + 30.0,
            expire_grace: 2.0 * cap + 10.0,
            not_observed: 2.0 * f,
            known_confidence: c.known_confidence,
            recheck_seconds: c.recheck_seconds.max(1) as f64,
            ignore_vlans: c.ignore_vlans.clone(),
            ignore_ports: c
                .ignore_ports
                .iter()
                .map(|(s, p)| (s.clone(), *p))
                .collect(),
            mirror_ports,
            trunk_ports: c.trunk_ports.iter().map(|(s, p)| (s.clone(), *p)).collect(),
            learn_public_addresses: c.learn_public_addresses,
        }
    }
}

/// Counters the core keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoreStats {
    /// `L2_LEARN`s that created or updated an endpoint.
    pub learns_used: u64,
    /// `L2_LEARN`s filtered out (stack, ignored VLAN/port, mirror port, public address).
    pub learns_filtered: u64,
    /// Mirror actions issued (captures started).
    pub mirrors: u64,
    /// Unmirror actions issued.
    pub unmirrors: u64,
    /// Operating endpoints unmirrored because their host left.
    pub left_while_operating: u64,
    /// Operating endpoints that timed out.
    pub operating_timeouts: u64,
}

/// Every endpoint and the scheduling state.
#[derive(Debug, Clone)]
pub struct Core {
    opts: Options,
    endpoints: HashMap<EndpointId, Endpoint>,
    /// MAC -> endpoint ids (a MAC on several switches/VLANs is several endpoints).
    by_mac: HashMap<String, Vec<EndpointId>>,
    /// Operating endpoints.
    operating: BTreeSet<EndpointId>,
    /// Expired, not re-learned: id -> expire time.
    expired: HashMap<EndpointId, f64>,
    dirty: BTreeSet<EndpointId>,
    /// Seen again without a change worth an immediate write (last_seen only).
    touched: BTreeSet<EndpointId>,
    removed: Vec<EndpointId>,
    /// Counters.
    pub stats: CoreStats,
}

impl Core {
    /// An empty core.
    #[must_use]
    pub fn new(opts: Options) -> Core {
        Core {
            opts,
            endpoints: HashMap::new(),
            by_mac: HashMap::new(),
            operating: BTreeSet::new(),
            expired: HashMap::new(),
            dirty: BTreeSet::new(),
            touched: BTreeSet::new(),
            removed: Vec::new(),
            stats: CoreStats::default(),
        }
    }

    /// The options.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Widens the not-observed timeout to at least `secs` (Faucet's host `timeout` read at
    /// start-up, plus a margin).
    pub fn widen_not_observed(&mut self, secs: f64) {
        if secs > self.opts.not_observed {
            self.opts.not_observed = secs;
        }
    }

    /// Loads persisted endpoints at start-up. Mirrors do not survive a restart (the engine
    /// clears the mirror ports first), so an `operating` endpoint goes back to `queued`
    /// with `operate` pending (Poseidon: back to `unknown` and re-queued); `known`,
    /// `queued`, `unknown`, ignore flags and classifications are kept.
    pub fn restore(&mut self, endpoints: Vec<Endpoint>, now: f64) {
        for mut e in endpoints {
            if e.state == State::Operating {
                e.prev_state = Some(State::Operating);
                e.state = State::Queued;
                e.next_state = Some(Trigger::Operate);
                e.state_time = now;
                e.note(now, "state", "operating -> queued (restart)".into());
                self.dirty.insert(e.id.clone());
            }
            e.mirrored_at = None;
            self.by_mac
                .entry(e.mac.clone())
                .or_default()
                .push(e.id.clone());
            self.endpoints.insert(e.id.clone(), e);
        }
    }

    /// One endpoint.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.get(id)
    }

    /// Every endpoint, unordered.
    pub fn iter(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.values()
    }

    /// Number of endpoints.
    #[must_use]
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// No endpoints?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Endpoints now mirrored.
    #[must_use]
    pub fn operating_count(&self) -> usize {
        self.operating.len()
    }

    /// Ids whose endpoint changed since the last call, and ids removed.
    pub fn take_dirty(&mut self) -> (Vec<EndpointId>, Vec<EndpointId>) {
        let dirty = std::mem::take(&mut self.dirty).into_iter().collect();
        (dirty, std::mem::take(&mut self.removed))
    }

    /// Marks an endpoint changed (saved by the next persist).
    pub fn mark_dirty(&mut self, id: &str) {
        if self.endpoints.contains_key(id) {
            self.dirty.insert(id.to_string());
        }
    }

    /// Ids only touched (last_seen) since the last call.
    pub fn take_touched(&mut self) -> Vec<EndpointId> {
        std::mem::take(&mut self.touched).into_iter().collect()
    }

    /// Mutable access for the engine (history bookkeeping).
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Endpoint> {
        self.endpoints.get_mut(id)
    }

    /// The mirror for an operating endpoint could not be set up: back to `unknown`
    /// (retried after `reinvestigation_frequency`), with no unmirror to do.
    pub fn mirror_failed(&mut self, id: &str, why: &str, now: f64) {
        if let Some(e) = self.endpoints.get_mut(id)
            && e.state == State::Operating
        {
            e.mirrored_at = None;
            e.note(now, "mirror_failed", why.to_string());
            self.transition(id, Trigger::Unknown, now, "mirror failed");
        }
    }

    /// Ids matching a query (id, id prefix, MAC, IP).
    #[must_use]
    pub fn find(&self, query: &str) -> Vec<EndpointId> {
        if self.endpoints.contains_key(query) {
            return vec![query.to_string()];
        }
        let mut v: Vec<_> = self
            .endpoints
            .values()
            .filter(|e| e.matches(query))
            .map(|e| e.id.clone())
            .collect();
        v.sort();
        v
    }

    fn transition(&mut self, id: &str, trigger: Trigger, now: f64, why: &str) -> bool {
        let Some(e) = self.endpoints.get_mut(id) else {
            return false;
        };
        let Some(to) = state::next(e.state, trigger) else {
            return false;
        };
        let from = e.state;
        e.prev_state = Some(from);
        e.state = to;
        e.state_time = now;
        e.note(now, "state", format!("{from} -> {to} ({why})"));
        if to == State::Operating {
            self.operating.insert(id.to_string());
        } else {
            self.operating.remove(id);
        }
        self.dirty.insert(id.to_string());
        true
    }

    /// Unmirror an operating endpoint and move it with `trigger`.
    fn stop_operating(&mut self, id: &str, trigger: Trigger, now: f64, why: &str) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(e) = self.endpoints.get_mut(id)
            && e.state == State::Operating
        {
            if let Some((switch, port)) = e.mirrored_at.take() {
                out.push(Action::Unmirror {
                    id: id.to_string(),
                    switch: switch.clone(),
                    port,
                    trunk: e.trunk,
                });
                e.note(now, "unmirror", format!("{switch} port {port} ({why})"));
                self.stats.unmirrors += 1;
            }
            e.next_state = None;
        }
        self.transition(id, trigger, now, why);
        out
    }

    fn start_operating(&mut self, id: &str, now: f64, why: &str) -> Vec<Action> {
        if !self.transition(id, Trigger::Operate, now, why) {
            return Vec::new();
        }
        let Some(e) = self.endpoints.get_mut(id) else {
            return Vec::new();
        };
        e.next_state = None;
        e.mirrored_at = Some((e.segment.clone(), e.port));
        e.captures += 1;
        e.note(now, "mirror", format!("{} port {}", e.segment, e.port));
        self.stats.mirrors += 1;
        vec![Action::Mirror {
            id: id.to_string(),
            switch: e.segment.clone(),
            port: e.port,
            mac: e.mac.clone(),
        }]
    }

    /// Applies one Faucet event.
    pub fn apply_event(&mut self, ev: &FaucetEvent, now: f64) -> Vec<Action> {
        match &ev.body {
            EventBody::L2Learn(l) => self.learn(
                &ev.dp_name,
                l.port_no,
                l.vid,
                &l.eth_src,
                l.l3_src_ip,
                l.stack_descr.is_some(),
                now,
            ),
            EventBody::L3Learn(l) => self.learn(
                &ev.dp_name,
                l.port_no,
                l.vid,
                &l.eth_src,
                l.l3_src_ip,
                false,
                now,
            ),
            EventBody::L2Expire(x) => {
                let tenant = format!("VLAN{}", x.vid);
                let id = endpoint_key(Some(&tenant), Some(&x.eth_src), Some(&ev.dp_name), None);
                if let Some(e) = self.endpoints.get_mut(&id)
                    && e.active
                {
                    e.active = false;
                    e.note(now, "expire", format!("port {}", x.port_no));
                    self.expired.insert(id.clone(), now);
                    self.dirty.insert(id);
                }
                Vec::new()
            }
            EventBody::PortChange(p) if !p.status || p.reason == "DELETE" => {
                self.port_gone(&ev.dp_name, Some(p.port_no), now, "port down")
            }
            EventBody::DpChange { reason } if reason == "disconnect" => {
                self.port_gone(&ev.dp_name, None, now, "switch disconnected")
            }
            _ => Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn learn(
        &mut self,
        switch: &str,
        port: u32,
        vid: u16,
        mac: &str,
        ip: Option<IpAddr>,
        via_stack: bool,
        now: f64,
    ) -> Vec<Action> {
        let on = |list: &[(String, u32)]| list.iter().any(|(s, p)| s == switch && *p == port);
        if via_stack
            || self.opts.ignore_vlans.contains(&vid)
            || on(&self.opts.ignore_ports)
            || on(&self.opts.mirror_ports)
            || (!self.opts.learn_public_addresses && ip.is_some_and(is_public))
        {
            self.stats.learns_filtered += 1;
            return Vec::new();
        }
        self.stats.learns_used += 1;
        let mac = mac.to_ascii_lowercase();
        let tenant = format!("VLAN{vid}");
        let trunk = on(&self.opts.trunk_ports);
        let id = if trunk {
            let v4 = ip.filter(IpAddr::is_ipv4).map(|i| i.to_string());
            let v6 = ip.filter(IpAddr::is_ipv6).map(|i| i.to_string());
            endpoint_key(
                Some(&tenant),
                Some(&mac),
                Some(switch),
                Some((v4.as_deref(), v6.as_deref())),
            )
        } else {
            endpoint_key(Some(&tenant), Some(&mac), Some(switch), None)
        };
        self.expired.remove(&id);
        let mut changed = false;
        match self.endpoints.get_mut(&id) {
            Some(e) => {
                e.last_seen = now;
                if !e.active {
                    e.active = true;
                    e.note(now, "back", format!("{switch} port {port}"));
                    changed = true;
                }
                if e.port != port {
                    e.note(now, "moved", format!("port {} -> {port}", e.port));
                    e.port = port;
                    changed = true;
                }
                if let Some(ip) = ip
                    && e.set_ip(ip)
                {
                    e.note(now, "ip", ip.to_string());
                    changed = true;
                }
            }
            None => {
                let mut e = Endpoint::new(id.clone(), &mac, switch, port, vid, now);
                e.trunk = trunk;
                if let Some(ip) = ip {
                    e.set_ip(ip);
                }
                self.by_mac.entry(mac).or_default().push(id.clone());
                self.endpoints.insert(id.clone(), e);
                changed = true;
            }
        }
        if changed {
            self.dirty.insert(id);
        } else {
            self.touched.insert(id);
        }
        Vec::new()
    }

    fn port_gone(&mut self, switch: &str, port: Option<u32>, now: f64, why: &str) -> Vec<Action> {
        let ids: Vec<EndpointId> = self
            .endpoints
            .values()
            .filter(|e| e.segment == switch && port.is_none_or(|p| p == e.port) && e.active)
            .map(|e| e.id.clone())
            .collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(e) = self.endpoints.get_mut(&id) {
                e.active = false;
                e.note(now, "left", why.to_string());
                self.dirty.insert(id.clone());
            }
            if self.operating.contains(&id) {
                self.stats.left_while_operating += 1;
                out.extend(self.stop_operating(&id, Trigger::Unknown, now, why));
            }
        }
        out
    }

    /// One scheduler pass (the engine calls it every second).
    pub fn tick(&mut self, now: f64) -> Vec<Action> {
        let mut out = Vec::new();
        let f = self.opts.reinvestigation_frequency;
        // Expired and not re-learned within the grace: the host left.
        let gone: Vec<EndpointId> = self
            .expired
            .iter()
            .filter(|(_, t)| now - **t >= self.opts.expire_grace)
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.expired.remove(&id);
            if self.operating.contains(&id) {
                self.stats.left_while_operating += 1;
                out.extend(self.stop_operating(&id, Trigger::Unknown, now, "expired, left"));
            }
        }
        // Operating too long, or not observed for 2F.
        let stale: Vec<(EndpointId, &'static str)> = self
            .operating
            .iter()
            .filter_map(|id| {
                let e = self.endpoints.get(id)?;
                if now - e.state_time >= self.opts.operating_timeout {
                    Some((id.clone(), "operating timeout"))
                } else if now - e.last_seen > self.opts.not_observed {
                    Some((id.clone(), "not observed"))
                } else {
                    None
                }
            })
            .collect();
        for (id, why) in stale {
            self.stats.operating_timeouts += 1;
            out.extend(self.stop_operating(&id, Trigger::Unknown, now, why));
        }
        // Queue: unknown (waiting F after an inconclusive result) and due known endpoints.
        let to_queue: Vec<EndpointId> = self
            .endpoints
            .values()
            .filter(|e| !e.ignore && e.active)
            .filter(|e| match e.state {
                State::Unknown => e.captures == 0 || now - e.state_time >= f,
                State::Known => now - e.state_time >= self.opts.recheck_seconds,
                _ => false,
            })
            .map(|e| e.id.clone())
            .collect();
        for id in to_queue {
            if self.transition(&id, Trigger::Queue, now, "scheduled")
                && let Some(e) = self.endpoints.get_mut(&id)
            {
                e.next_state = Some(Trigger::Operate);
            }
        }
        // Fill the free slots, oldest queued first.
        let budget = self
            .opts
            .max_concurrent
            .saturating_sub(self.operating.len());
        if budget > 0 {
            let mut queued: Vec<(f64, &EndpointId)> = self
                .endpoints
                .values()
                .filter(|e| {
                    e.state == State::Queued
                        && !e.ignore
                        && e.active
                        && e.next_state == Some(Trigger::Operate)
                })
                .map(|e| (e.state_time, &e.id))
                .collect();
            queued.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
            let chosen: Vec<EndpointId> = queued
                .into_iter()
                .take(budget)
                .map(|(_, id)| id.clone())
                .collect();
            for id in chosen {
                out.extend(self.start_operating(&id, now, "scheduled"));
            }
        }
        out
    }

    /// A capture finished (with a classification, or `None` when it failed).
    pub fn capture_done(
        &mut self,
        id: &str,
        result: Option<Classification>,
        now: f64,
    ) -> Vec<Action> {
        let Some(e) = self.endpoints.get_mut(id) else {
            return Vec::new();
        };
        if e.state != State::Operating {
            return Vec::new();
        }
        let confident = result.as_ref().is_some_and(|c| {
            c.roles
                .first()
                .is_some_and(|r| r.confidence >= self.opts.known_confidence)
                && c.unknown_reason.is_none()
        });
        match &result {
            Some(c) => {
                let top = c.roles.first().map_or("Unknown".to_string(), |r| {
                    format!("{} {:.3}", r.role, r.confidence)
                });
                e.note(now, "classified", format!("{top}; {} packets", c.packets));
                if c.os.is_some() {
                    e.os.clone_from(&c.os);
                }
                e.classification = result;
            }
            None => e.note(now, "classified", "capture failed".into()),
        }
        let trigger = if confident {
            Trigger::Known
        } else {
            Trigger::Unknown
        };
        self.stop_operating(id, trigger, now, "capture done")
    }

    /// Sets the ignore flag; an operating endpoint is unmirrored.
    pub fn ignore(&mut self, id: &str, now: f64) -> Vec<Action> {
        let Some(e) = self.endpoints.get_mut(id) else {
            return Vec::new();
        };
        e.ignore = true;
        e.next_state = None;
        e.note(now, "ignore", String::new());
        self.dirty.insert(id.to_string());
        if self.operating.contains(id) {
            self.stop_operating(id, Trigger::Unknown, now, "ignored")
        } else {
            Vec::new()
        }
    }

    /// Clears the ignore flag.
    pub fn clear(&mut self, id: &str, now: f64) -> Vec<Action> {
        if let Some(e) = self.endpoints.get_mut(id) {
            e.ignore = false;
            if e.state == State::Queued {
                e.next_state = Some(Trigger::Operate);
            }
            e.note(now, "clear", String::new());
            self.dirty.insert(id.to_string());
        }
        Vec::new()
    }

    /// Poseidon's `task set <dev> <trigger>`: an operating endpoint is unmirrored first;
    /// `operate` mirrors at once when a slot is free, else queues with `operate` pending.
    pub fn change(&mut self, id: &str, trigger: Trigger, now: f64) -> Result<Vec<Action>, String> {
        let Some(e) = self.endpoints.get(id) else {
            return Err(format!("no endpoint {id}"));
        };
        if e.ignore && matches!(trigger, Trigger::Operate | Trigger::Queue) {
            return Err(format!("{id} is ignored: clear it first"));
        }
        let from = e.state;
        let mut out = Vec::new();
        if from == State::Operating {
            out.extend(self.stop_operating(id, Trigger::Unknown, now, "changed by user"));
        }
        let cur = self.endpoints.get(id).map_or(State::Unknown, |e| e.state);
        match trigger {
            Trigger::Operate if self.operating.len() < self.opts.max_concurrent => {
                out.extend(self.start_operating(id, now, "changed by user"));
            }
            Trigger::Operate | Trigger::Queue => {
                if cur != State::Queued && !self.transition(id, Trigger::Queue, now, "user") {
                    return Err(format!("cannot {} from {cur}", trigger.as_str()));
                }
                if let Some(e) = self.endpoints.get_mut(id) {
                    e.next_state = Some(Trigger::Operate);
                }
            }
            t => {
                self.transition(id, t, now, "changed by user");
            }
        }
        Ok(out)
    }

    /// Forgets an endpoint (until Faucet reports it again); an operating one is unmirrored.
    pub fn remove(&mut self, id: &str, now: f64) -> Vec<Action> {
        let out = if self.operating.contains(id) {
            self.stop_operating(id, Trigger::Unknown, now, "removed")
        } else {
            Vec::new()
        };
        if let Some(e) = self.endpoints.remove(id) {
            if let Some(v) = self.by_mac.get_mut(&e.mac) {
                v.retain(|x| x != id);
                if v.is_empty() {
                    self.by_mac.remove(&e.mac);
                }
            }
            self.expired.remove(id);
            self.dirty.remove(id);
            self.removed.push(id.to_string());
        }
        out
    }

    /// Shutdown: unmirror everything, leaving the endpoints `queued` with `operate`
    /// pending so the next run resumes them.
    pub fn shutdown(&mut self, now: f64) -> Vec<Action> {
        let ids: Vec<EndpointId> = self.operating.iter().cloned().collect();
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.stop_operating(&id, Trigger::Unknown, now, "shutdown"));
            self.transition(&id, Trigger::Queue, now, "shutdown");
            if let Some(e) = self.endpoints.get_mut(&id) {
                e.next_state = Some(Trigger::Operate);
            }
        }
        out
    }

    /// Merges passive-inventory facts into the endpoint with this MAC (all of them).
    pub fn enrich(&mut self, mac: &str, names: &[String], services: &[String], os: Option<&str>) {
        let Some(ids) = self.by_mac.get(&mac.to_ascii_lowercase()) else {
            return;
        };
        for id in ids {
            if let Some(e) = self.endpoints.get_mut(id) {
                let mut changed = false;
                for n in names {
                    if !e.names.contains(n) {
                        e.names.push(n.clone());
                        changed = true;
                    }
                }
                for s in services {
                    if !e.services.contains(s) {
                        e.services.push(s.clone());
                        changed = true;
                    }
                }
                if e.os.is_none()
                    && let Some(os) = os
                {
                    e.os = Some(os.to_string());
                    changed = true;
                }
                if changed {
                    self.dirty.insert(id.clone());
                }
            }
        }
    }
}
