//! [`Engine`]: one task that owns the scheduling core, the mirror book and the store, fed by
//! the event sources, the capture jobs, a one-second tick and commands from
//! [`EngineHandle`]s (the HTTP API, the CLI, tests).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use trident_classify::Model;

use crate::MirrorControl;
use crate::capture::{CaptureJob, CaptureOutcome};
use crate::config::SdnConfig;
use crate::endpoint::{Endpoint, EndpointId, HistoryEntry};
use crate::error::SdnError;
use crate::events::{EventStats, parse_line};
use crate::mirror::{MirrorBook, MirrorStats};
use crate::scheduler::{Action, Core, Options};
use crate::source::{self, Input};
use crate::state::Trigger;
use crate::store::Store;

/// Lines handled per batch before the tick and commands get a turn.
pub const BATCH: usize = 2048;
/// Queue between sources and the engine.
pub const INPUT_QUEUE: usize = 16_384;
/// `last_seen`-only changes are written at most this often.
pub const TOUCH_FLUSH: Duration = Duration::from_secs(30);

/// Wall-clock seconds since the epoch.
#[must_use]
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Counters the engine keeps besides the core's and the mirror book's.
#[derive(Debug, Default)]
pub struct Counters {
    /// Captures started.
    pub captures_started: AtomicU64,
    /// Captures that produced a classification.
    pub captures_classified: AtomicU64,
    /// Captures that failed (no NIC, capture error, host absent from the capture).
    pub captures_failed: AtomicU64,
    /// Source connections made.
    pub source_connects: AtomicU64,
    /// Source connections lost.
    pub source_disconnects: AtomicU64,
    /// Lines received from sources.
    pub lines: AtomicU64,
}

/// Engine state readable from any handle.
pub(crate) struct Shared {
    pub(crate) core: RwLock<Core>,
    pub(crate) events: Mutex<EventStats>,
    pub(crate) store: Mutex<Store>,
    pub(crate) mirror_stats: Mutex<MirrorStats>,
    pub(crate) mirror_backend: &'static str,
    pub(crate) last_error: Mutex<Option<String>>,
    pub(crate) counters: Counters,
    pub(crate) config: SdnConfig,
    pub(crate) started: f64,
    pub(crate) source_state: Mutex<String>,
    pub(crate) faucet: Mutex<FaucetInfo>,
}

/// What the engine learnt about Faucet's configuration at start-up, and how mirror changes
/// were applied.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaucetInfo {
    /// Each DP's `timeout` / `arp_neighbor_timeout` as read from the config at start-up.
    pub timeouts: std::collections::BTreeMap<String, crate::stack::DpTimeouts>,
    /// The stack root, if Faucet is stacked.
    pub stack_root: Option<String>,
    /// Seconds without a Faucet event after which an operating endpoint is timed out.
    pub not_observed_seconds: f64,
    /// Captures started after Faucet reported the mirror change applied.
    pub mirror_applied: u64,
    /// Captures started after `mirror_apply_wait` ran out without that report.
    pub mirror_apply_timeouts: u64,
    /// `acls_in` changes made (or, dry-run, that would have been made) by automated ACLs.
    pub acl_changes: u64,
    /// The last automated-ACL changes, newest last (at most 32).
    pub acl_log: Vec<String>,
}

/// A command for the engine task.
enum Command {
    Ignore(String),
    Clear(String),
    Change(String, Trigger),
    Remove(String),
    Lines(Vec<Vec<u8>>),
}

type Reply = oneshot::Sender<Result<Vec<EndpointId>, SdnError>>;

/// Status for the API and `trident sdn show`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Engine start (Unix seconds).
    pub started: f64,
    /// Endpoints known.
    pub endpoints: usize,
    /// Endpoints mirrored now.
    pub operating: usize,
    /// Event source state, e.g. `connected: socket /run/faucet.sock`.
    pub source: String,
    /// Event source connections made.
    pub source_connects: u64,
    /// Event source connections lost.
    pub source_disconnects: u64,
    /// Event counters and last-seen times.
    pub events: EventStats,
    /// Mirror back-end name.
    pub mirror_backend: &'static str,
    /// Mirror operations: added, removed, cleared, errors.
    pub mirror: BTreeCounts,
    /// Captures started / classified / failed.
    pub captures: BTreeCounts,
    /// The last error worth showing.
    pub last_error: Option<String>,
    /// Faucet's config as read at start-up, mirror-apply and ACL counters.
    pub faucet: FaucetInfo,
}

/// A small sorted name -> count map.
pub type BTreeCounts = std::collections::BTreeMap<&'static str, u64>;

/// A cheap, cloneable handle to query and command a running (or not yet started) engine.
#[derive(Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
    cmd: mpsc::Sender<(Command, Reply)>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle").finish_non_exhaustive()
    }
}

/// The SDN engine. Build with [`Engine::open`], run with [`Engine::run`].
pub struct Engine {
    shared: Arc<Shared>,
    book: MirrorBook,
    cmd_rx: mpsc::Receiver<(Command, Reply)>,
    cmd_tx: mpsc::Sender<(Command, Reply)>,
    model: Arc<Model>,
    /// Captures waiting for Faucet to apply their mirror.
    pending: Vec<Pending>,
    /// DPs for which a `CONFIG_CHANGE` arrived since the last look (`*`: controller-wide).
    applied: Mutex<Vec<String>>,
    rules: Option<crate::acl::Rules>,
    /// Per (switch, port): the rule ACLs last reconciled.
    acl_seen: HashMap<(String, u32), crate::acl::Matches>,
    rdns: Option<Arc<crate::rdns::Rdns>>,
    rdns_inflight: std::collections::HashSet<std::net::IpAddr>,
}

/// A capture waiting for Faucet to apply its mirror.
struct Pending {
    id: EndpointId,
    switch: String,
    mac: String,
    generation: u64,
    dp: String,
    since: std::time::Instant,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Engine {
    /// Opens the store in `config.data_dir`, restores its endpoints and loads the model.
    /// Nothing touches Faucet until [`Engine::run`].
    pub fn open(config: SdnConfig, mirror: Arc<dyn MirrorControl>) -> Result<Engine, SdnError> {
        let store = Store::open(&config.data_dir)?;
        let mut core = Core::new(Options::from_config(&config));
        core.restore(store.load()?, now());
        let model = match &config.model {
            Some(p) => Model::from_file(p),
            None => Model::networkml_0_6_19(),
        }
        .map_err(|e| SdnError::Config {
            path: config.model.clone().unwrap_or_default(),
            detail: format!("loading the model: {e}"),
        })?;
        let book = MirrorBook::new(mirror, &config);
        let (cmd_tx, cmd_rx) = mpsc::channel(256);
        let shared = Arc::new(Shared {
            core: RwLock::new(core),
            events: Mutex::new(EventStats::default()),
            store: Mutex::new(store),
            mirror_stats: Mutex::new(MirrorStats::default()),
            mirror_backend: book.backend(),
            last_error: Mutex::new(None),
            counters: Counters::default(),
            config,
            started: now(),
            source_state: Mutex::new("not started".into()),
            faucet: Mutex::new(FaucetInfo::default()),
        });
        let rdns = shared.config.rdns.then(|| {
            Arc::new(crate::rdns::Rdns::new(Duration::from_millis(
                shared.config.rdns_timeout_ms.max(1),
            )))
        });
        Ok(Engine {
            shared,
            book,
            cmd_rx,
            cmd_tx,
            model: Arc::new(model),
            pending: Vec::new(),
            applied: Mutex::new(Vec::new()),
            rules: None,
            acl_seen: HashMap::new(),
            rdns,
            rdns_inflight: std::collections::HashSet::new(),
        })
    }

    /// A handle for queries and commands.
    #[must_use]
    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            shared: self.shared.clone(),
            cmd: self.cmd_tx.clone(),
        }
    }

    /// Runs until `shutdown` completes: clears the mirror ports, connects the event
    /// source(s), schedules, mirrors, captures; on shutdown stops captures, unmirrors
    /// everything and saves.
    pub async fn run(mut self, shutdown: impl Future<Output = ()> + Send) -> Result<(), SdnError> {
        let cfg = self.shared.config.clone();
        self.startup_config().await;
        for e in self.book.clear_all().await {
            self.error(format!("start-up mirror cleanup: {e}"));
        }
        self.nudge_faucet();
        self.sync_mirror_stats();
        let (stop_tx, stop_rx) = watch::channel(false);
        let (in_tx, mut in_rx) = mpsc::channel::<Input>(INPUT_QUEUE);
        let mut sources = Vec::new();
        if let Some(path) = &cfg.event_socket {
            let hb = std::env::var("FAUCET_EVENT_SOCK_HEARTBEAT")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|v| *v > 0)
                .map(Duration::from_secs);
            sources.push(tokio::spawn(source::run_socket(
                path.clone(),
                hb,
                in_tx.clone(),
                stop_rx.clone(),
            )));
        }
        if let Some(r) = &cfg.rabbit {
            sources.push(tokio::spawn(source::run_rabbit(
                r.clone(),
                in_tx.clone(),
                stop_rx.clone(),
            )));
        }
        drop(in_tx);
        let (cap_tx, mut cap_rx) = mpsc::channel::<(EndpointId, u64, CaptureOutcome)>(64);
        let (rdns_tx, mut rdns_rx) = mpsc::channel::<(std::net::IpAddr, Option<String>)>(256);
        let mut captures: HashMap<EndpointId, Arc<AtomicBool>> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_touch_flush = now();
        let mut inputs_open = !sources.is_empty();
        tokio::pin!(shutdown);
        loop {
            let mut pending_reply: Option<(Reply, Result<Vec<EndpointId>, SdnError>)> = None;
            let mut ticked = false;
            let actions = tokio::select! {
                () = &mut shutdown => break,
                input = in_rx.recv(), if inputs_open => {
                    match input {
                        None => { inputs_open = false; Vec::new() }
                        Some(first) => {
                            let mut batch = vec![first];
                            while batch.len() < BATCH {
                                match in_rx.try_recv() {
                                    Ok(i) => batch.push(i),
                                    Err(_) => break,
                                }
                            }
                            let before = self.endpoint_count();
                            let actions = self.inputs(batch);
                            // A new host: schedule it now rather than at the next tick.
                            if self.endpoint_count() > before {
                                tick.reset_immediately();
                            }
                            actions
                        }
                    }
                }
                cmd = self.cmd_rx.recv() => match cmd {
                    Some((c, reply)) => {
                        let (res, actions) = self.command(c);
                        pending_reply = Some((reply, res));
                        actions
                    }
                    None => Vec::new(),
                },
                done = cap_rx.recv() => match done {
                    Some((id, generation, outcome)) => {
                        captures.remove(&id);
                        self.capture_done(&id, generation, outcome)
                    }
                    None => Vec::new(),
                },
                named = rdns_rx.recv() => {
                    if let Some((ip, name)) = named {
                        self.rdns_done(ip, name);
                    }
                    Vec::new()
                },
                _ = tick.tick() => {
                    let t = now();
                    let actions = {
                        let mut core = self.shared.core.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                        core.tick(t)
                    };
                    self.rdns_schedule(&rdns_tx);
                    ticked = true;
                    actions
                },
            };
            self.execute(actions, &mut captures, &cap_tx).await;
            self.release_pending(&mut captures, &cap_tx);
            if ticked {
                self.reconcile_acls().await;
            }
            // Commands are answered once their mirror changes are done.
            if let Some((reply, res)) = pending_reply {
                let _ = reply.send(res);
            }
            let flush_touched = now() - last_touch_flush >= TOUCH_FLUSH.as_secs_f64();
            if flush_touched {
                last_touch_flush = now();
            }
            self.persist(flush_touched);
        }
        // Shutdown.
        let _ = stop_tx.send(true);
        for flag in captures.values() {
            flag.store(true, Ordering::SeqCst);
        }
        let actions = {
            let mut core = self
                .shared
                .core
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            core.shutdown(now())
        };
        self.execute(actions, &mut captures, &cap_tx).await;
        for e in self.book.clear_all().await {
            self.error(format!("shutdown mirror cleanup: {e}"));
        }
        self.sync_mirror_stats();
        self.persist(true);
        for s in sources {
            let _ = s.await;
        }
        Ok(())
    }

    fn error(&self, msg: String) {
        tracing::warn!("{msg}");
        *lock(&self.shared.last_error) = Some(msg);
    }

    fn sync_mirror_stats(&self) {
        *lock(&self.shared.mirror_stats) = self.book.stats.clone();
    }

    fn inputs(&self, batch: Vec<Input>) -> Vec<Action> {
        let t = now();
        let mut actions = Vec::new();
        let mut stats = lock(&self.shared.events);
        let mut core = self
            .shared
            .core
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for input in batch {
            match input {
                Input::Line(line) => {
                    self.shared.counters.lines.fetch_add(1, Ordering::Relaxed);
                    match parse_line(&line) {
                        Ok(ev) => {
                            stats.record(&ev, t);
                            if let crate::events::EventBody::ConfigChange(c) = &ev.body {
                                let who = if ev.dp_id == 0 {
                                    (c.success == Some(true)).then(|| "*".to_string())
                                } else {
                                    Some(ev.dp_name.clone())
                                };
                                if let Some(w) = who {
                                    lock(&self.applied).push(w);
                                }
                            }
                            actions.extend(core.apply_event(&ev, t));
                        }
                        Err(e) => stats.record_malformed(&e, "event source"),
                    }
                }
                Input::Broken(class) => {
                    *stats.malformed.entry(class.to_string()).or_default() += 1;
                }
                Input::Connected(what) => {
                    self.shared
                        .counters
                        .source_connects
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(what, "event source connected");
                    *lock(&self.shared.source_state) = format!("connected: {what}");
                }
                Input::Disconnected(why) => {
                    self.shared
                        .counters
                        .source_disconnects
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(why, "event source lost");
                    *lock(&self.shared.source_state) = format!("disconnected: {why}");
                }
            }
        }
        actions
    }

    fn command(&self, c: Command) -> (Result<Vec<EndpointId>, SdnError>, Vec<Action>) {
        let t = now();
        if let Command::Lines(lines) = c {
            let n = lines.len();
            let actions = self.inputs(lines.into_iter().map(Input::Line).collect());
            return (Ok(vec![n.to_string()]), actions);
        }
        let mut core = self
            .shared
            .core
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let query = match &c {
            Command::Ignore(q) | Command::Clear(q) | Command::Change(q, _) | Command::Remove(q) => {
                q.clone()
            }
            Command::Lines(_) => String::new(),
        };
        let ids = core.find(&query);
        if ids.is_empty() {
            return (Err(SdnError::NoSuchEndpoint(query)), Vec::new());
        }
        let mut actions = Vec::new();
        for id in &ids {
            match &c {
                Command::Ignore(_) => actions.extend(core.ignore(id, t)),
                Command::Clear(_) => actions.extend(core.clear(id, t)),
                Command::Remove(_) => actions.extend(core.remove(id, t)),
                Command::Change(_, trig) => match core.change(id, *trig, t) {
                    Ok(a) => actions.extend(a),
                    Err(e) => return (Err(SdnError::Invalid(e)), actions),
                },
                Command::Lines(_) => {}
            }
        }
        (Ok(ids), actions)
    }

    fn capture_done(&self, id: &str, generation: u64, outcome: CaptureOutcome) -> Vec<Action> {
        let t = now();
        let mut core = self
            .shared
            .core
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(e) = core.get(id) else {
            return Vec::new();
        };
        let mac = e.mac.clone();
        let current = e.captures == generation;
        let en = &outcome.enrichment;
        core.enrich(&mac, &en.names, &en.services, en.os.as_deref());
        let result = match outcome.result {
            Ok(c) => {
                self.shared
                    .counters
                    .captures_classified
                    .fetch_add(1, Ordering::Relaxed);
                Some(c)
            }
            Err(why) => {
                self.shared
                    .counters
                    .captures_failed
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(id, why, "capture produced no classification");
                if let Some(e) = core.get_mut(id) {
                    e.note(t, "capture_failed", why);
                }
                None
            }
        };
        if !current {
            return Vec::new();
        }
        core.capture_done(id, result, t)
    }

    async fn execute(
        &mut self,
        actions: Vec<Action>,
        captures: &mut HashMap<EndpointId, Arc<AtomicBool>>,
        cap_tx: &mpsc::Sender<(EndpointId, u64, CaptureOutcome)>,
    ) {
        if actions.is_empty() {
            return;
        }
        for a in actions {
            match a {
                Action::Mirror {
                    id,
                    switch,
                    port,
                    mac,
                } => {
                    let first = self.book.is_first(&switch, port);
                    if first {
                        // Reports of reloads that began before this change do not count.
                        lock(&self.applied).clear();
                    }
                    let target = self.book.mirror(&switch, port).await;
                    if let Err(e) = target {
                        self.error(format!("mirror {id} ({switch} port {port}): {e}"));
                        let mut core = self
                            .shared
                            .core
                            .write()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        core.mirror_failed(&id, &e.to_string(), now());
                        continue;
                    }
                    let generation = {
                        let core = self
                            .shared
                            .core
                            .read()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        core.get(&id).map_or(0, |e| e.captures)
                    };
                    let wait = self.shared.config.mirror_apply_wait;
                    let dp = target.map(|t| t.dp_name).unwrap_or_default();
                    if first {
                        self.nudge_faucet();
                    }
                    if wait > 0 && (first || self.pending.iter().any(|p| p.dp == dp)) {
                        self.pending.push(Pending {
                            id,
                            switch,
                            mac,
                            generation,
                            dp,
                            since: std::time::Instant::now(),
                        });
                    } else {
                        self.start_capture(id, switch, mac, generation, captures, cap_tx);
                    }
                }
                Action::Unmirror {
                    id,
                    switch,
                    port,
                    trunk,
                } => {
                    if let Some(flag) = captures.remove(&id) {
                        flag.store(true, Ordering::SeqCst);
                    }
                    self.pending.retain(|p| p.id != id);
                    let changed_before = self.book.stats.removed;
                    if let Err(e) = self.book.unmirror(&switch, port, trunk).await {
                        self.error(format!("unmirror {id} ({switch} port {port}): {e}"));
                    }
                    if self.book.stats.removed != changed_before {
                        self.nudge_faucet();
                    }
                }
            }
        }
        self.sync_mirror_stats();
    }

    fn start_capture(
        &self,
        id: EndpointId,
        switch: String,
        mac: String,
        generation: u64,
        captures: &mut HashMap<EndpointId, Arc<AtomicBool>>,
        cap_tx: &mpsc::Sender<(EndpointId, u64, CaptureOutcome)>,
    ) {
        let cfg = &self.shared.config;
        self.shared
            .counters
            .captures_started
            .fetch_add(1, Ordering::Relaxed);
        let duration = Duration::from_secs(cfg.capture_seconds.max(1));
        let tx = cap_tx.clone();
        let Some(nic) = cfg.collector_nic_for(&switch).map(str::to_string) else {
            // Nothing to capture with: the slot is held for the capture time, then freed.
            tokio::spawn(async move {
                tokio::time::sleep(duration).await;
                let outcome = CaptureOutcome {
                    result: Err("no collector_nic configured".into()),
                    enrichment: crate::capture::Enrichment::default(),
                    file: None,
                };
                let _ = tx.send((id, generation, outcome)).await;
            });
            return;
        };
        let stop = Arc::new(AtomicBool::new(false));
        captures.insert(id.clone(), stop.clone());
        let job = CaptureJob {
            id: id.clone(),
            mac,
            nic,
            duration,
            dir: cfg.data_dir.join("captures"),
        };
        let model = self.model.clone();
        tokio::spawn(async move {
            let outcome = tokio::task::spawn_blocking(move || {
                crate::capture::run_job(&job, &model, &stop, now())
            })
            .await
            .unwrap_or_else(|e| CaptureOutcome {
                result: Err(format!("capture task failed: {e}")),
                enrichment: crate::capture::Enrichment::default(),
                file: None,
            });
            let _ = tx.send((id, generation, outcome)).await;
        });
    }

    fn endpoint_count(&self) -> usize {
        self.shared
            .core
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Starts the captures whose mirror Faucet reported applied (a `CONFIG_CHANGE` for their
    /// DP, or a successful controller-wide one, after the change), or whose wait ran out.
    fn release_pending(
        &mut self,
        captures: &mut HashMap<EndpointId, Arc<AtomicBool>>,
        cap_tx: &mpsc::Sender<(EndpointId, u64, CaptureOutcome)>,
    ) {
        if self.pending.is_empty() {
            lock(&self.applied).clear();
            return;
        }
        let applied: Vec<String> = std::mem::take(&mut *lock(&self.applied));
        let wait = Duration::from_secs(self.shared.config.mirror_apply_wait);
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            let done = applied.iter().any(|a| a == "*" || *a == p.dp);
            let late = p.since.elapsed() >= wait;
            if !(done || late) {
                self.pending.push(p);
                continue;
            }
            {
                let mut f = lock(&self.shared.faucet);
                if done {
                    f.mirror_applied += 1;
                } else {
                    f.mirror_apply_timeouts += 1;
                }
            }
            if !done {
                tracing::warn!(
                    id = p.id,
                    dp = p.dp,
                    "no CONFIG_CHANGE from Faucet within {wait:?} of the mirror change; capturing anyway"
                );
            }
            self.start_capture(p.id, p.switch, p.mac, p.generation, captures, cap_tx);
        }
    }

    /// Sends `SIGHUP` to Faucet (pid from `faucet_pid_file`) so it reloads its config now.
    fn nudge_faucet(&self) {
        let Some(pid_file) = &self.shared.config.faucet_pid_file else {
            return;
        };
        let pid = match std::fs::read_to_string(pid_file) {
            Ok(t) => t.trim().to_string(),
            Err(e) => {
                self.error(format!(
                    "reading Faucet's pid file {}: {e}",
                    pid_file.display()
                ));
                return;
            }
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            self.error(format!(
                "Faucet's pid file {} holds {pid:?}, not a pid",
                pid_file.display()
            ));
            return;
        }
        // The shell's own `kill` (no procps needed).
        match std::process::Command::new("sh")
            .args(["-c", "kill -HUP \"$1\"", "sh", &pid])
            .stderr(std::process::Stdio::null())
            .status()
        {
            Ok(s) if s.success() => {}
            Ok(s) => self.error(format!("kill -HUP {pid} (Faucet): {s}")),
            Err(e) => self.error(format!("running kill -HUP {pid}: {e}")),
        }
    }

    /// Start-up reading (and optional writing) of Faucet's config: timeouts, stacking,
    /// automated-ACL rules and their included ACL files.
    async fn startup_config(&mut self) {
        let cfg = self.shared.config.clone();
        let control = self.book.control().clone();
        let text = match control.get_config().await {
            Ok(t) => t,
            Err(e) => {
                tracing::info!("not reading Faucet's config at start-up: {e}");
                if cfg.automated_acls {
                    self.error(format!("automated ACLs disabled: {e}"));
                }
                return;
            }
        };
        let mut doc = match crate::yaml::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                self.error(format!("Faucet config at start-up: {e}"));
                return;
            }
        };
        let mut write = false;
        if cfg.write_faucet_timeouts
            && let Some(d) = crate::stack::with_poseidon_timeouts(&doc, &cfg)
        {
            doc = d;
            write = true;
        }
        match crate::stack::stack_plan(&doc, &cfg) {
            Ok(Some(d)) => {
                doc = d;
                write = true;
            }
            Ok(None) => {}
            Err(e) => self.error(format!("Faucet stacking: {e}")),
        }
        if write {
            match serde_norway::to_string(&doc) {
                Ok(t) => {
                    if let Err(e) = control.set_config_file("", &t).await {
                        self.error(format!("writing Faucet's config at start-up: {e}"));
                    }
                }
                Err(e) => self.error(format!("serialising Faucet's config: {e}")),
            }
        }
        let timeouts = crate::stack::timeouts(&doc);
        let f = cfg.reinvestigation_frequency.max(1) as f64;
        let longest = cfg
            .mirror_ports
            .keys()
            .filter_map(|sw| timeouts.get(sw))
            .map(crate::stack::DpTimeouts::effective_timeout)
            .max();
        let not_observed = {
            let mut core = self
                .shared
                .core
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(t) = longest {
                if t as f64 > 2.0 * f {
                    tracing::warn!(
                        "Faucet's host timeout {t} s is longer than 2 x reinvestigation_frequency ({} s): a present host is re-reported only every {t} s, so trident waits {} s before calling it not observed (Poseidon wrote timeout = 2F+1; see write_faucet_timeouts)",
                        2.0 * f,
                        t + 10
                    );
                }
                core.widen_not_observed(t as f64 + 10.0);
            }
            core.options().not_observed
        };
        {
            let mut info = lock(&self.shared.faucet);
            info.timeouts = timeouts;
            info.stack_root = crate::stack::stack_root(&doc);
            info.not_observed_seconds = not_observed;
        }
        if cfg.automated_acls {
            self.load_rules(&control, &doc).await;
        }
    }

    async fn load_rules(&mut self, control: &Arc<dyn MirrorControl>, doc: &serde_norway::Value) {
        let cfg = &self.shared.config;
        let Some(path) = cfg.rules_file.clone() else {
            self.error("automated_acls is on but no rules_file is set".into());
            return;
        };
        let rules = match crate::acl::Rules::from_file(&path) {
            Ok(r) => r,
            Err(e) => {
                self.error(format!("automated ACLs disabled: {e}"));
                return;
            }
        };
        let mut defined = crate::acl::defined_acls(doc);
        let mut names = Vec::new();
        for (src, name) in rules.include_names() {
            let text = match std::fs::read_to_string(&src) {
                Ok(t) => t,
                Err(e) => {
                    self.error(format!(
                        "automated ACLs disabled: reading {} (included by {}): {e}",
                        src.display(),
                        path.display()
                    ));
                    return;
                }
            };
            match crate::yaml::parse(&text) {
                Ok(d) => defined.extend(crate::acl::defined_acls(&d)),
                Err(e) => {
                    self.error(format!("automated ACLs disabled: {}: {e}", src.display()));
                    return;
                }
            }
            if !cfg.acls_dry_run
                && let Err(e) = control.set_config_file(&name, &text).await
            {
                self.error(format!("automated ACLs disabled: writing {name}: {e}"));
                return;
            }
            names.push(name);
        }
        if let Err(e) = rules.check_defined(&defined) {
            self.error(format!("automated ACLs disabled: {e}"));
            return;
        }
        if !names.is_empty() && !cfg.acls_dry_run {
            let text = match control.get_config().await {
                Ok(t) => t,
                Err(e) => {
                    self.error(format!("automated ACLs disabled: {e}"));
                    return;
                }
            };
            match crate::acl::with_includes(&text, &names) {
                Ok(Some(t)) => {
                    if let Err(e) = control.set_config_file("", &t).await {
                        self.error(format!("automated ACLs disabled: adding include: {e}"));
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.error(format!("automated ACLs disabled: {e}"));
                    return;
                }
            }
        }
        tracing::info!(
            rules = rules.rules.len(),
            dry_run = cfg.acls_dry_run,
            "automated ACLs from {}",
            path.display()
        );
        self.rules = Some(rules);
    }

    /// Automated ACLs: for every port whose endpoints' rule ACLs changed since the last
    /// pass, bring its `acls_in` in line (or, dry-run, log what would change).
    async fn reconcile_acls(&mut self) {
        let Some(rules) = &self.rules else {
            return;
        };
        let endpoints = {
            let core = self
                .shared
                .core
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            core.iter().cloned().collect::<Vec<_>>()
        };
        let want = crate::acl::desired(rules, &endpoints);
        let changed: Vec<Endpoint> = endpoints
            .into_iter()
            .filter(|e| {
                let key = (e.segment.clone(), e.port);
                self.acl_seen.get(&key) != want.get(&key)
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        let control = self.book.control().clone();
        let text = match control.get_config().await {
            Ok(t) => t,
            Err(e) => {
                self.error(format!("automated ACLs: reading Faucet's config: {e}"));
                return;
            }
        };
        let (changes, errors) = crate::acl::plan(rules, &changed, &text);
        for e in errors {
            self.error(format!("automated ACLs: {e}"));
        }
        let dry = self.shared.config.acls_dry_run;
        let t = now();
        let mut ok_ports = Vec::new();
        for c in &changes {
            let res = if dry {
                Ok(())
            } else {
                control.set_port_acls(&c.dp, c.port, &c.new).await
            };
            match res {
                Ok(()) => {
                    let line = format!("{}{c}", if dry { "dry-run: would set " } else { "" });
                    tracing::info!("automated ACLs: {line}");
                    let mut f = lock(&self.shared.faucet);
                    f.acl_changes += 1;
                    f.acl_log.push(line);
                    if f.acl_log.len() > 32 {
                        f.acl_log.remove(0);
                    }
                    ok_ports.push((c.dp.clone(), c.port));
                }
                Err(e) => self.error(format!("automated ACLs: {} port {}: {e}", c.dp, c.port)),
            }
        }
        if !dry && !changes.is_empty() {
            self.nudge_faucet();
        }
        // Record per endpoint what its port now carries from the rules.
        {
            let mut core = self
                .shared
                .core
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for e in &changed {
                let key = (e.segment.clone(), e.port);
                let failed = changes
                    .iter()
                    .any(|c| (c.dp.clone(), c.port) == key && !ok_ports.contains(&key));
                if failed {
                    continue;
                }
                let acls = rules.acls_for(e);
                if let Some(ep) = core.get_mut(&e.id)
                    && ep.acls != acls
                    && !dry
                {
                    ep.note(t, "acl", format!("acls_in += [{}]", acls.join(", ")));
                    ep.acls = acls;
                }
            }
            for e in &changed {
                core.mark_dirty(&e.id);
            }
        }
        for e in changed {
            let key = (e.segment.clone(), e.port);
            let failed = changes
                .iter()
                .any(|c| (c.dp.clone(), c.port) == key && !ok_ports.contains(&key));
            if !failed {
                let v = want.get(&key).cloned().unwrap_or_default();
                self.acl_seen.insert(key, v);
            }
        }
    }

    /// Starts reverse DNS lookups for addresses without a name yet (a few per tick).
    fn rdns_schedule(&mut self, tx: &mpsc::Sender<(std::net::IpAddr, Option<String>)>) {
        let Some(rdns) = &self.rdns else {
            return;
        };
        let todo: Vec<std::net::IpAddr> = {
            let core = self
                .shared
                .core
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            core.iter()
                .flat_map(|e| {
                    let v4 = e
                        .ipv4
                        .filter(|_| e.rdns_v4.is_none())
                        .map(std::net::IpAddr::V4);
                    let v6 = e
                        .ipv6
                        .filter(|_| e.rdns_v6.is_none())
                        .map(std::net::IpAddr::V6);
                    v4.into_iter().chain(v6)
                })
                .filter(|ip| {
                    !self.rdns_inflight.contains(ip) && !matches!(rdns.cached(*ip), Some(None))
                })
                .take(16)
                .collect()
        };
        for ip in todo {
            self.rdns_inflight.insert(ip);
            let r = rdns.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let name = r.lookup(ip).await;
                let _ = tx.send((ip, name)).await;
            });
        }
    }

    fn rdns_done(&mut self, ip: std::net::IpAddr, name: Option<String>) {
        self.rdns_inflight.remove(&ip);
        let Some(name) = name else {
            return;
        };
        let mut core = self
            .shared
            .core
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ids: Vec<EndpointId> = core
            .iter()
            .filter(|e| {
                e.ipv4.map(std::net::IpAddr::V4) == Some(ip)
                    || e.ipv6.map(std::net::IpAddr::V6) == Some(ip)
            })
            .map(|e| e.id.clone())
            .collect();
        for id in ids {
            if let Some(e) = core.get_mut(&id) {
                let slot = if ip.is_ipv4() {
                    &mut e.rdns_v4
                } else {
                    &mut e.rdns_v6
                };
                if slot.as_deref() != Some(name.as_str()) {
                    *slot = Some(name.clone());
                    e.note(now(), "rdns", format!("{ip} {name}"));
                }
            }
            core.mark_dirty(&id);
        }
    }

    fn persist(&self, with_touched: bool) {
        let (changed, history, removed) = {
            let mut core = self
                .shared
                .core
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (mut dirty, removed) = core.take_dirty();
            if with_touched {
                dirty.extend(core.take_touched());
            }
            if dirty.is_empty() && removed.is_empty() {
                return;
            }
            let mut changed = Vec::with_capacity(dirty.len());
            let mut history = Vec::new();
            for id in dirty {
                if let Some(e) = core.get_mut(&id) {
                    for h in e.take_unsaved_history() {
                        history.push((id.clone(), h));
                    }
                    changed.push(e.clone());
                }
            }
            (changed, history, removed)
        };
        let refs: Vec<&Endpoint> = changed.iter().collect();
        let res = lock(&self.shared.store).save(&refs, &history, &removed);
        if let Err(e) = res {
            self.error(format!("saving endpoints: {e}"));
        }
    }
}

impl EngineHandle {
    fn core(&self) -> std::sync::RwLockReadGuard<'_, Core> {
        self.shared
            .core
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every endpoint, sorted by id.
    #[must_use]
    pub fn endpoints(&self) -> Vec<Endpoint> {
        let mut v: Vec<Endpoint> = self.core().iter().cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Endpoints matching a query (id, id prefix of 8+ digits, MAC, IP), sorted by id.
    #[must_use]
    pub fn find(&self, query: &str) -> Vec<Endpoint> {
        let core = self.core();
        core.find(query)
            .iter()
            .filter_map(|id| core.get(id).cloned())
            .collect()
    }

    /// The full stored history of one endpoint plus what is not yet saved.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, SdnError> {
        let mut stored = lock(&self.shared.store).history(id)?;
        let core = self.core();
        if let Some(e) = core.get(id) {
            let n = e.unsaved_history.min(e.history.len());
            stored.extend(e.history[e.history.len() - n..].iter().cloned());
        }
        Ok(stored)
    }

    /// The configuration the engine runs with.
    #[must_use]
    pub fn config(&self) -> &SdnConfig {
        &self.shared.config
    }

    /// Status: counters, source state, last error.
    #[must_use]
    pub fn status(&self) -> Status {
        let (endpoints, operating) = {
            let core = self.core();
            (core.len(), core.operating_count())
        };
        let m = lock(&self.shared.mirror_stats).clone();
        let c = &self.shared.counters;
        Status {
            started: self.shared.started,
            endpoints,
            operating,
            source: lock(&self.shared.source_state).clone(),
            source_connects: c.source_connects.load(Ordering::Relaxed),
            source_disconnects: c.source_disconnects.load(Ordering::Relaxed),
            events: lock(&self.shared.events).clone(),
            mirror_backend: self.shared.mirror_backend,
            mirror: [
                ("added", m.added),
                ("removed", m.removed),
                ("cleared", m.cleared),
                ("errors", m.errors),
            ]
            .into(),
            captures: [
                ("started", c.captures_started.load(Ordering::Relaxed)),
                ("classified", c.captures_classified.load(Ordering::Relaxed)),
                ("failed", c.captures_failed.load(Ordering::Relaxed)),
            ]
            .into(),
            last_error: lock(&self.shared.last_error).clone(),
            faucet: lock(&self.shared.faucet).clone(),
        }
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    pub(crate) fn core_stats(&self) -> crate::scheduler::CoreStats {
        self.core().stats.clone()
    }

    async fn send(&self, c: Command) -> Result<Vec<EndpointId>, SdnError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send((c, tx))
            .await
            .map_err(|_| SdnError::Invalid("the SDN engine is not running".into()))?;
        rx.await
            .map_err(|_| SdnError::Invalid("the SDN engine stopped".into()))?
    }

    /// Ignores every endpoint matching `query`; returns their ids.
    pub async fn ignore(&self, query: &str) -> Result<Vec<EndpointId>, SdnError> {
        self.send(Command::Ignore(query.into())).await
    }

    /// Clears the ignore flag of every endpoint matching `query`.
    pub async fn clear(&self, query: &str) -> Result<Vec<EndpointId>, SdnError> {
        self.send(Command::Clear(query.into())).await
    }

    /// Fires `trigger` on every endpoint matching `query` (Poseidon's `task set`).
    pub async fn change(&self, query: &str, trigger: Trigger) -> Result<Vec<EndpointId>, SdnError> {
        self.send(Command::Change(query.into(), trigger)).await
    }

    /// Forgets every endpoint matching `query` (until Faucet reports it again).
    pub async fn remove(&self, query: &str) -> Result<Vec<EndpointId>, SdnError> {
        self.send(Command::Remove(query.into())).await
    }

    /// Feeds event lines as if a source had sent them (replay, benchmarks).
    pub async fn feed(&self, lines: Vec<Vec<u8>>) -> Result<(), SdnError> {
        self.send(Command::Lines(lines)).await.map(|_| ())
    }
}
