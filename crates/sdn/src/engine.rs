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
        });
        Ok(Engine {
            shared,
            book,
            cmd_rx,
            cmd_tx,
            model: Arc::new(model),
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
        for e in self.book.clear_all().await {
            self.error(format!("start-up mirror cleanup: {e}"));
        }
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
        let mut captures: HashMap<EndpointId, Arc<AtomicBool>> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_touch_flush = now();
        let mut inputs_open = !sources.is_empty();
        tokio::pin!(shutdown);
        loop {
            let mut pending_reply: Option<(Reply, Result<Vec<EndpointId>, SdnError>)> = None;
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
                            self.inputs(batch)
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
                _ = tick.tick() => {
                    let t = now();
                    let mut core = self.shared.core.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                    core.tick(t)
                },
            };
            self.execute(actions, &mut captures, &cap_tx).await;
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
                    if let Err(e) = self.book.mirror(&switch, port).await {
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
                    self.start_capture(id, switch, mac, generation, captures, cap_tx);
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
                    if let Err(e) = self.book.unmirror(&switch, port, trunk).await {
                        self.error(format!("unmirror {id} ({switch} port {port}): {e}"));
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
