//! [`MirrorBook`]: reference counting per (switch, port) and Poseidon's routing rules over a
//! raw [`MirrorControl`].
//!
//! * The mirror port is `mirror_ports[switch]`; a switch listed in `proxy_mirror_ports` is
//!   mirrored as the proxy (switch, port) instead (a switch without its own mirror port).
//! * Several endpoints can share a port (a hub, a VM host): the port is added to the mirror
//!   list when its count goes 0 -> 1 and removed when it goes back to 0.
//! * Trunk ports are mirrored but never unmirrored (Poseidon's rule); shutdown and start-up
//!   clear every mirror port anyway.
//! * With Faucet stacking, each non-root switch's mirror port is the loopback-plug port
//!   whose tunnel ACL carries the copies to the root's mirror port (reference 2.2); the
//!   mirror list changed is still that switch's own, so nothing differs here.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::MirrorControl;
use crate::config::{ProxyMirror, SdnConfig};
use crate::error::MirrorError;

/// Counters of mirror operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorStats {
    /// Successful AddPortMirror calls.
    pub added: u64,
    /// Successful RemovePortMirror calls.
    pub removed: u64,
    /// Successful ClearPortMirror calls.
    pub cleared: u64,
    /// Failed calls.
    pub errors: u64,
}

/// Where a (switch, port) is mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// DP whose mirror list changes.
    pub dp_name: String,
    /// Port to copy.
    pub port_no: u32,
    /// Mirror port on that DP.
    pub mirror_port_no: u32,
}

/// Reference-counted mirrors.
pub struct MirrorBook {
    control: Arc<dyn MirrorControl>,
    mirror_ports: BTreeMap<String, u32>,
    proxy: BTreeMap<String, ProxyMirror>,
    counts: BTreeMap<(String, u32), usize>,
    /// Counters.
    pub stats: MirrorStats,
}

impl MirrorBook {
    /// A book over `control` with the configuration's mirror and proxy ports.
    #[must_use]
    pub fn new(control: Arc<dyn MirrorControl>, config: &SdnConfig) -> MirrorBook {
        MirrorBook {
            control,
            mirror_ports: config.mirror_ports.clone(),
            proxy: config.proxy_mirror_ports.clone(),
            counts: BTreeMap::new(),
            stats: MirrorStats::default(),
        }
    }

    /// The back-end itself (for config reads, ACLs and start-up writes).
    #[must_use]
    pub fn control(&self) -> &Arc<dyn MirrorControl> {
        &self.control
    }

    /// Would mirroring (switch, port) change Faucet's config (no endpoint mirrored there yet)?
    #[must_use]
    pub fn is_first(&self, switch: &str, port: u32) -> bool {
        self.target(switch, port)
            .is_ok_and(|t| !self.counts.contains_key(&(t.dp_name, t.port_no)))
    }

    /// The back-end name.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        self.control.backend()
    }

    /// Where (switch, port) is mirrored, after proxy substitution.
    pub fn target(&self, switch: &str, port: u32) -> Result<Target, MirrorError> {
        let (dp, p) = match self.proxy.get(switch) {
            Some(px) => (px.switch.as_str(), px.port),
            None => (switch, port),
        };
        let mirror_port_no =
            *self
                .mirror_ports
                .get(dp)
                .ok_or_else(|| MirrorError::MissingPort {
                    backend: self.control.backend(),
                    dp_name: dp.to_string(),
                    port_no: 0,
                })?;
        Ok(Target {
            dp_name: dp.to_string(),
            port_no: p,
            mirror_port_no,
        })
    }

    /// Current reference counts, (switch, port) -> endpoints mirrored there.
    #[must_use]
    pub fn counts(&self) -> &BTreeMap<(String, u32), usize> {
        &self.counts
    }

    /// Mirrors (switch, port) for one more endpoint.
    pub async fn mirror(&mut self, switch: &str, port: u32) -> Result<Target, MirrorError> {
        let t = self.target(switch, port)?;
        let key = (t.dp_name.clone(), t.port_no);
        let n = self.counts.get(&key).copied().unwrap_or(0);
        if n == 0 {
            let r = self
                .control
                .add_port_mirror(&t.dp_name, t.port_no, t.mirror_port_no)
                .await;
            if let Err(e) = r {
                self.stats.errors += 1;
                return Err(e);
            }
            self.stats.added += 1;
        }
        self.counts.insert(key, n + 1);
        Ok(t)
    }

    /// One endpoint fewer on (switch, port); the port is unmirrored at zero (never a trunk).
    pub async fn unmirror(
        &mut self,
        switch: &str,
        port: u32,
        trunk: bool,
    ) -> Result<(), MirrorError> {
        let t = self.target(switch, port)?;
        let key = (t.dp_name.clone(), t.port_no);
        let n = self.counts.get(&key).copied().unwrap_or(0);
        if n > 1 {
            self.counts.insert(key, n - 1);
            return Ok(());
        }
        self.counts.remove(&key);
        if trunk {
            return Ok(());
        }
        match self
            .control
            .remove_port_mirror(&t.dp_name, t.port_no, t.mirror_port_no)
            .await
        {
            Ok(()) => {
                self.stats.removed += 1;
                Ok(())
            }
            Err(e) => {
                self.stats.errors += 1;
                Err(e)
            }
        }
    }

    /// Clears every configured mirror port (start-up cleanup, shutdown); returns the
    /// failures.
    pub async fn clear_all(&mut self) -> Vec<MirrorError> {
        self.counts.clear();
        let mut errs = Vec::new();
        for (dp, port) in self.mirror_ports.clone() {
            match self.control.clear_port_mirror(&dp, port).await {
                Ok(()) => self.stats.cleared += 1,
                Err(e) => {
                    self.stats.errors += 1;
                    errs.push(e);
                }
            }
        }
        errs
    }
}
