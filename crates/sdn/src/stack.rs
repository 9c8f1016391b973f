//! What trident reads from (and, for stacking, writes into) Faucet's config at start-up.
//!
//! **Stacking** (reference 2.2, Poseidon's "tunnel" design). One collector NIC sits on the
//! stack root's mirror port. Every other switch listed in `mirror_ports` has a port with a
//! physical loopback plug: trident mirrors a host port of that switch into its loopback
//! port (the ordinary `mirror` list, so [`crate::mirror::MirrorBook`] needs nothing
//! special); the plug sends the copies back in, and that port's `acls_in` (the tunnel ACL,
//! named `tunnel_name`) carries them over the stack in VLAN `tunnel_vlan` to the root's
//! mirror port.
//!
//! Poseidon's shape (the reference; what Poseidon 0.18 and faucetconfrpc's
//! `SetRemoteMirrorPort` write):
//!
//! * `acls: <tunnel_name>:` rule 1 `vlan_vid: <tunnel_vlan>` -> `allow: 0` (loop guard);
//!   rule 2 -> `allow: 0, output: {tunnel: {type: vlan, tunnel_id: <tunnel_vlan>, dp: <root>,
//!   port: <root's mirror port>}}`;
//! * the root's mirror port: `output_only: true` (its `mirror` list kept);
//! * each other switch's mirror port: `description: "Poseidon remote mirror (loopback
//!   plug)"`, `acls_in: [<tunnel_name>]`, `coprocessor: {strategy: vlan_vid}` (its `name`,
//!   `number` and `mirror` kept, nothing else).
//!
//! [`stack_plan`] writes the same ACL and loopback ports, but **the root's mirror port gets
//! the loopback ports' shape too** (`acls_in: [<tunnel_name>]`, `coprocessor: {strategy:
//! vlan_vid}`, description [`ROOT_MIRROR_DESCRIPTION`], no `output_only`). Why: Faucet
//! 1.10.12 installs a tunnel's exit flow on the destination DP (`dl_vlan=<vid>,
//! dl_vlan_pcp=3 -> pop_vlan, output:<port>`) only from `ValveStackManager.add_tunnel_acls`
//! (`faucet/valve_stack.py`), which runs when a stack port changes state
//! (`valve_lldp.py`, `update_stack_link_state`), at the end of a *warm* config change
//! (`valve.py`, `_apply_config_changes`), or from `ValveStackManager.add_port` for a
//! non-stack port that has a tunnel ACL in `acls_in`. Written into a running Faucet whose
//! stack is already up (trident's start-up write), Poseidon's shape adds the `port_acl`
//! table to the root, so the root cold-starts (`_pipeline_change` -> `dp_init`, reconnect)
//! with its stack port still `UP`, and none of the three paths runs there: the source DP
//! tunnels the copies (its loopback port has the ACL) but the root has no exit flow and
//! drops them (seen on OVS 3.1 + Faucet 1.10.12; it only works when Faucet starts with the
//! tunnel already in its config, or after a stack flap). With the ACL in the root port's own
//! `acls_in`, every time that port comes up (each cold start, reconnect or port flap)
//! `add_port` installs the root's tunnel flows. The root port is then also a tunnel source of
//! its own: what the collector NIC sends in is "tunnelled" to its own port, i.e. output to
//! its in-port, which OpenFlow drops, so the collector still cannot inject traffic (what
//! `output_only` was for); local mirrors into it work as before (Faucet allows mirroring into
//! a coprocessor port). Verified end to end by `crates/sdn/tests/faucet_stack.rs`.
//!
//! The root is the DP with a `stack: {priority: N}` (the lowest N when several). Faucet
//! reports stacked learns on every DP, with `stack_descr` on the non-local ones; the
//! scheduler drops those, so an endpoint's switch is where it really is and its mirror goes
//! through that switch's loopback port. Captures use `collector_nic` (the NIC on the
//! root's mirror port) for every switch without its own `collector_nics` entry.
//!
//! **Timeouts** (reference 1.6, 2.2, 3.6). Poseidon wrote `timeout: 2F+1` and
//! `arp_neighbor_timeout: F` into every mirror switch because a present host is only
//! re-learned (re-reported) every `timeout` seconds, and it declares endpoints gone after
//! 2F without a report. trident reads both at start-up ([`timeouts`]), widens its own
//! not-observed window when Faucet's `timeout` is longer, and writes Poseidon's values only
//! with `write_faucet_timeouts` ([`with_poseidon_timeouts`]).

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

use crate::config::SdnConfig;

/// `description` [`stack_plan`] writes on each non-root switch's mirror (loopback plug) port.
pub const PLUG_DESCRIPTION: &str = "Poseidon remote mirror (loopback plug)";
/// `description` [`stack_plan`] writes on the root's mirror (collector) port.
pub const ROOT_MIRROR_DESCRIPTION: &str = "trident local mirror (tunnel exit)";

/// Faucet's default host learning `timeout` (s) when a DP does not set one.
pub const FAUCET_DEFAULT_TIMEOUT: u64 = 300;
/// Faucet's default `arp_neighbor_timeout` (s).
pub const FAUCET_DEFAULT_ARP_NEIGHBOR_TIMEOUT: u64 = 30;

/// One DP's timeouts as configured (`None` = Faucet's default applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DpTimeouts {
    /// `timeout`: L2 host learning timeout (s).
    pub timeout: Option<u64>,
    /// `arp_neighbor_timeout` (s).
    pub arp_neighbor_timeout: Option<u64>,
}

impl DpTimeouts {
    /// The host timeout in effect.
    #[must_use]
    pub fn effective_timeout(&self) -> u64 {
        self.timeout.unwrap_or(FAUCET_DEFAULT_TIMEOUT)
    }
}

fn dps(doc: &Value) -> Option<&Mapping> {
    doc.get("dps").and_then(Value::as_mapping)
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// The timeouts of every DP in the config.
#[must_use]
pub fn timeouts(doc: &Value) -> BTreeMap<String, DpTimeouts> {
    let mut out = BTreeMap::new();
    if let Some(d) = dps(doc) {
        for (k, v) in d {
            let Some(name) = k.as_str() else { continue };
            out.insert(
                name.to_string(),
                DpTimeouts {
                    timeout: v.get("timeout").and_then(as_u64),
                    arp_neighbor_timeout: v.get("arp_neighbor_timeout").and_then(as_u64),
                },
            );
        }
    }
    out
}

/// The stack root: the DP with `stack: {priority}`, lowest priority first (ties: name).
#[must_use]
pub fn stack_root(doc: &Value) -> Option<String> {
    dps(doc)?
        .iter()
        .filter_map(|(k, v)| {
            let p = v.get("stack")?.get("priority").and_then(as_u64)?;
            Some((p, k.as_str()?.to_string()))
        })
        .min()
        .map(|(_, n)| n)
}

/// The config with Poseidon's `timeout: 2F+1` / `arp_neighbor_timeout: F` on every mirror
/// switch present in it (`None`: already so).
#[must_use]
pub fn with_poseidon_timeouts(doc: &Value, config: &SdnConfig) -> Option<Value> {
    let f = config.reinvestigation_frequency;
    let mut out = doc.clone();
    let mut changed = false;
    let d = out.get_mut("dps").and_then(Value::as_mapping_mut)?;
    for sw in config.mirror_ports.keys() {
        let Some(dp) = d
            .get_mut(Value::String(sw.clone()))
            .and_then(Value::as_mapping_mut)
        else {
            continue;
        };
        for (k, v) in [("timeout", 2 * f + 1), ("arp_neighbor_timeout", f)] {
            if dp.get(k).and_then(as_u64) != Some(v) {
                dp.insert(Value::String(k.into()), Value::Number(v.into()));
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

fn interface_mut<'a>(doc: &'a mut Value, dp: &str, port: u32) -> Option<(Value, &'a mut Mapping)> {
    let ifaces = doc
        .get_mut("dps")?
        .get_mut(dp)?
        .get_mut("interfaces")?
        .as_mapping_mut()?;
    let want = u64::from(port);
    let key = ifaces
        .iter()
        .find(|(k, v)| as_u64(k) == Some(want) || v.get("number").and_then(as_u64) == Some(want))
        .map(|(k, _)| k.clone())?;
    let m = ifaces.get_mut(&key)?.as_mapping_mut()?;
    Some((key, m))
}

/// The tunnel setup for a stacked Faucet: Poseidon's, with the root's mirror port shaped like
/// the loopback ports so Faucet 1.10.12 installs the tunnel exit (module docs). `Ok(None)`
/// when there is nothing to do: no `tunnel_vlan`, no stack root, or the config already has
/// that shape.
///
/// # Errors
/// The stack root has no mirror port in `mirror_ports`, or a mirror port is missing from the
/// config.
pub fn stack_plan(doc: &Value, config: &SdnConfig) -> Result<Option<Value>, String> {
    let Some(vid) = config.tunnel_vlan else {
        return Ok(None);
    };
    let Some(root) = stack_root(doc) else {
        return Ok(None);
    };
    let Some(&root_port) = config.mirror_ports.get(&root) else {
        return Err(format!(
            "stack root {root:?} has no mirror port in mirror_ports (controller_mirror_ports); the collector must sit on the root"
        ));
    };
    let mut out = doc.clone();
    let name = config.tunnel_name.clone();
    let acl: Value = serde_norway::from_str(&format!(
        "- rule:\n    vlan_vid: {vid}\n    actions:\n      allow: 0\n- rule:\n    actions:\n      allow: 0\n      output:\n        tunnel:\n          type: vlan\n          tunnel_id: {vid}\n          dp: {root:?}\n          port: {root_port}\n"
    ))
    .map_err(|e| format!("building the tunnel ACL: {e}"))?;
    let top = out
        .as_mapping_mut()
        .ok_or("faucet config is not a mapping")?;
    let acls = top
        .entry(Value::String("acls".into()))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    let acls = acls
        .as_mapping_mut()
        .ok_or("faucet config: `acls` is not a mapping")?;
    acls.insert(Value::String(name.clone()), acl);
    for (sw, &port) in &config.mirror_ports {
        if dps(doc).is_none_or(|d| !d.contains_key(sw.as_str())) {
            continue; // a switch not in this config (Poseidon skips those too)
        }
        let (_, iface) = interface_mut(&mut out, sw, port)
            .ok_or_else(|| format!("DP {sw:?} has no mirror port {port} in the config"))?;
        let description = if *sw == root {
            ROOT_MIRROR_DESCRIPTION
        } else {
            PLUG_DESCRIPTION
        };
        let mut block = Mapping::new();
        for keep in ["name", "number", "mirror"] {
            if let Some(v) = iface.get(keep) {
                block.insert(Value::String(keep.into()), v.clone());
            }
        }
        block.insert(
            Value::String("description".into()),
            Value::String(description.into()),
        );
        block.insert(
            Value::String("acls_in".into()),
            Value::Sequence(vec![Value::String(name.clone())]),
        );
        let mut copro = Mapping::new();
        copro.insert(
            Value::String("strategy".into()),
            Value::String("vlan_vid".into()),
        );
        block.insert(Value::String("coprocessor".into()), Value::Mapping(copro));
        *iface = block;
    }
    Ok((out != *doc).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_timeouts() {
        let doc: Value = serde_norway::from_str(
            "dps:\n  a:\n    timeout: 61\n    stack: {priority: 2}\n  b:\n    stack: {priority: 1}\n    arp_neighbor_timeout: 7\n  c: {}\n",
        )
        .unwrap();
        assert_eq!(stack_root(&doc).as_deref(), Some("b"));
        let t = timeouts(&doc);
        assert_eq!(t["a"].effective_timeout(), 61);
        assert_eq!(t["b"].arp_neighbor_timeout, Some(7));
        assert_eq!(t["c"].effective_timeout(), FAUCET_DEFAULT_TIMEOUT);
    }
}
