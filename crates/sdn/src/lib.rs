//! `trident-sdn`: Poseidon's job on a Faucet SDN, in one process.
//!
//! Faucet tells us which hosts exist (its event socket, or RabbitMQ as Poseidon's event
//! adapter publishes it); we keep an endpoint table (persisted in SQLite, so a restart
//! loses nothing), schedule endpoints through Poseidon 0.18's state machine, ask Faucet to
//! mirror one host port at a time into the collector's port, capture that host's traffic
//! headers-only on the collector NIC, classify the capture, record the verdict in the
//! endpoint's history, and unmirror.
//!
//! # The pieces
//!
//! | module | owns |
//! |---|---|
//! | [`events`] | Faucet's event JSON, every type of the reference; counters of unknown/malformed lines |
//! | [`source`] | where events come from: Faucet's Unix socket (reconnect, heartbeat) or RabbitMQ |
//! | [`endpoint`] | Poseidon's endpoint model and key (RIPEMD-160 of tenant + MAC + segment) |
//! | [`state`] | the explicit state/trigger transition table |
//! | [`scheduler`] | pure, clock-driven scheduling: who is queued, mirrored, timed out, re-checked |
//! | [`mirror`] | reference counting per (switch, port), proxy/trunk/ignore rules over a [`MirrorControl`] |
//! | [`yaml`] | [`yaml::FaucetYaml`]: a [`MirrorControl`] that edits `faucet.yaml` directly |
//! | [`store`] | SQLite persistence of endpoints and their history (`<data-dir>/sdn.sqlite`) |
//! | [`config`] | [`SdnConfig`] from trident TOML or Poseidon's `poseidon.config` |
//! | [`capture`] | per-endpoint capture on `collector_nic` and classification |
//! | [`engine`] | [`Engine`]: wires it all together; [`EngineHandle`] to query and command it |
//! | [`api`] | Poseidon's `/v1/...` routes and trident's `/api/v1/sdn/...` control routes |
//! | [`acl`] | automated ACLs from a rules file in Poseidon's format |
//! | [`stack`] | Faucet stacking: tunnel ACL and mirror ports (Poseidon's remote mirroring), Faucet timeouts |
//! | [`rdns`] | optional reverse DNS names with a timeout and a cache |
//! | [`metrics`] | Prometheus text for `poseidon_endpoint_*` equivalents and counters |
//!
//! # Mirror control: the contract
//!
//! Two back-ends change Faucet's mirror lists: [`yaml::FaucetYaml`] (edit `faucet.yaml`,
//! let Faucet's stat-reload pick it up) and the faucetconfrpc gRPC client (module `rpc`,
//! tonic, mutual TLS). Both implement [`MirrorControl`], whose three operations are exactly
//! faucetconfrpc's `AddPortMirror`, `RemovePortMirror` and `ClearPortMirror`:
//!
//! * they are *raw*: one call is one change of one mirror port's `mirror` list. Reference
//!   counting per (switch, port), proxy mirror ports, trunk ports and ignore rules live
//!   above, in [`mirror::MirrorBook`]; a back-end never needs to know about endpoints.
//! * `add` of a port already in the list and `remove` of a port not in it succeed without
//!   a change (idempotent; a restart may repeat them).
//! * `clear` empties the list (start-up cleanup and shutdown).
//! * they are async (a gRPC round trip; a file write plus an optional `check_faucet_config`
//!   run), and object-safe: the engine holds an `Arc<dyn MirrorControl>`, so the methods
//!   return a boxed future ([`MirrorFuture`]); implement them as
//!   `Box::pin(async move { ... })`.
//! * failures are a [`MirrorError`] naming the back-end, the operation, the switch and port,
//!   and what went wrong (file and YAML position, gRPC status); the engine logs and counts
//!   them and keeps the endpoint table intact.
//!
//! The gRPC client is built from [`config::RpcConfig`] (address, client certificate, key
//! and CA paths); its constructor is expected as
//! `rpc::ConfRpcClient::connect(&RpcConfig) -> impl Future<Output = Result<ConfRpcClient, MirrorError>>`.
//!
//! # Driving the engine (what an integration test does)
//!
//! ```no_run
//! # async fn demo() -> Result<(), trident_sdn::SdnError> {
//! use std::sync::Arc;
//! use trident_sdn::{Engine, SdnConfig, MirrorControl};
//! let mut config = SdnConfig::default();
//! config.event_socket = Some("/tmp/faucet.sock".into());
//! config.data_dir = "/tmp/sdn-data".into();
//! config.collector_nic = Some("mirror0".into());
//! config.mirror_ports.insert("sw1".into(), 3);
//! config.max_concurrent_reinvestigations = 1;
//! config.capture_seconds = 5;
//! let mirror: Arc<dyn MirrorControl> = Arc::new(trident_sdn::yaml::FaucetYaml::new("/tmp/faucet.yaml"));
//! let engine = Engine::open(config, mirror)?;
//! let handle = engine.handle();              // Clone; query endpoints, send commands
//! let app = trident_sdn::api::router(handle.clone()); // serve it with axum::serve
//! # let _ = app;
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn(engine.run(async move { let _ = stop_rx.await; }));
//! // ... wait until handle.endpoints() shows what you expect ...
//! let _ = stop_tx.send(());
//! task.await.ok(); // on return every mirror the engine added has been removed
//! # Ok(()) }
//! ```
//!
//! [`Engine::run`] returns after the shutdown future completes *and* every mirror the
//! engine added is removed; dropping the task instead (a crash) leaves mirrors, which the
//! next [`Engine::run`] clears at start-up (`ClearPortMirror` on each configured mirror
//! port) before anything else. The endpoint table is in `<data_dir>/sdn.sqlite`.

#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;

pub mod acl;
pub mod api;
pub mod capture;
pub mod config;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod events;
pub mod metrics;
pub mod mirror;
pub mod rdns;
pub mod rpc;
pub mod scheduler;
pub mod source;
pub mod stack;
pub mod state;
pub mod store;
pub mod yaml;

pub use config::SdnConfig;
pub use endpoint::{Endpoint, EndpointId};
pub use engine::{Engine, EngineHandle};
pub use error::{MirrorError, SdnError};
pub use events::FaucetEvent;
pub use state::{State, Trigger};

/// The future a [`MirrorControl`] operation returns.
pub type MirrorFuture<'a> = Pin<Box<dyn Future<Output = Result<(), MirrorError>> + Send + 'a>>;

/// The future of [`MirrorControl::get_config`]: the config file's text.
pub type ConfigFuture<'a> = Pin<Box<dyn Future<Output = Result<String, MirrorError>> + Send + 'a>>;

fn unsupported(backend: &'static str, what: &str) -> MirrorError {
    MirrorError::Unreachable {
        backend,
        detail: format!("{what} is not supported by this back-end"),
    }
}

/// Changes Faucet's port mirrors: faucetconfrpc's `AddPortMirror` / `RemovePortMirror` /
/// `ClearPortMirror`, one mirror port at a time (see the crate docs for the contract).
///
/// `dp_name` is the DP name in `faucet.yaml` (`dps: <name>:`), `port_no` the host port to
/// copy, `mirror_port_no` the port whose `mirror` list is changed.
pub trait MirrorControl: Send + Sync {
    /// A short name for logs and errors, e.g. `"faucet.yaml"` or `"faucetconfrpc"`.
    fn backend(&self) -> &'static str;

    /// Adds `port_no` to the `mirror` list of `mirror_port_no` on `dp_name` (no change if
    /// already there).
    fn add_port_mirror<'a>(
        &'a self,
        dp_name: &'a str,
        port_no: u32,
        mirror_port_no: u32,
    ) -> MirrorFuture<'a>;

    /// Removes `port_no` from the `mirror` list of `mirror_port_no` on `dp_name` (no change
    /// if absent).
    fn remove_port_mirror<'a>(
        &'a self,
        dp_name: &'a str,
        port_no: u32,
        mirror_port_no: u32,
    ) -> MirrorFuture<'a>;

    /// Empties the `mirror` list of `mirror_port_no` on `dp_name`.
    fn clear_port_mirror<'a>(&'a self, dp_name: &'a str, mirror_port_no: u32) -> MirrorFuture<'a>;

    /// The text of Faucet's main config file (faucetconfrpc: `GetConfigFile`). Used at
    /// start-up (timeouts, stacking) and by automated ACLs. The default says "unsupported".
    fn get_config(&self) -> ConfigFuture<'_> {
        let b = self.backend();
        Box::pin(async move { Err(unsupported(b, "reading the config")) })
    }

    /// Replaces the `acls_in` list of `port_no` on `dp_name` (faucetconfrpc: `SetPortAcl`;
    /// an empty list leaves `acls_in: []`). The default says "unsupported".
    fn set_port_acls<'a>(
        &'a self,
        dp_name: &'a str,
        port_no: u32,
        acls: &'a [String],
    ) -> MirrorFuture<'a> {
        let _ = (dp_name, port_no, acls);
        let b = self.backend();
        Box::pin(async move { Err(unsupported(b, "SetPortAcl")) })
    }

    /// Writes a whole config file: `name` is relative to the main file's directory, empty
    /// for the main file itself (faucetconfrpc: `SetConfigFile`, replace). Validated before
    /// it is renamed into place. The default says "unsupported".
    fn set_config_file<'a>(&'a self, name: &'a str, yaml: &'a str) -> MirrorFuture<'a> {
        let _ = (name, yaml);
        let b = self.backend();
        Box::pin(async move { Err(unsupported(b, "SetConfigFile")) })
    }
}
