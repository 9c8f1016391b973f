//! Prometheus text for the SDN engine: Poseidon's `poseidon_endpoint_*` equivalents under
//! trident's names (mapping in `docs/METRICS.md`, "Poseidon equivalents"), plus event,
//! mirror and capture counters. Per-endpoint series carry the current values only (no
//! stale label sets, unlike Poseidon's timestamp-valued gauges).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::endpoint::NO_DATA;
use crate::engine::EngineHandle;
use crate::state::STATES;

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge_by(out: &mut String, name: &str, help: &str, label: &str, m: &BTreeMap<String, u64>) {
    family(out, name, "gauge", help);
    for (k, v) in m {
        let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {v}", esc(k));
    }
}

/// Renders every SDN metric.
#[must_use]
pub fn render(h: &EngineHandle) -> String {
    let mut out = String::with_capacity(4096);
    let eps = h.endpoints();
    let mut states: BTreeMap<String, u64> =
        STATES.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let mut roles = BTreeMap::new();
    let mut oses = BTreeMap::new();
    let mut vlans = BTreeMap::new();
    let mut port_hosts: BTreeMap<String, u64> = BTreeMap::new();
    let mut ignored = 0u64;
    let mut active = 0u64;
    for e in &eps {
        *states.entry(e.state.as_str().to_string()).or_default() += 1;
        let role = e.role_label().map_or(NO_DATA.to_string(), |r| r.0);
        *roles.entry(role).or_default() += 1;
        *oses
            .entry(e.os.clone().unwrap_or_else(|| NO_DATA.into()))
            .or_default() += 1;
        *vlans.entry(e.tenant()).or_default() += 1;
        *port_hosts
            .entry(format!("{}\u{0}{}", e.segment, e.port))
            .or_default() += 1;
        ignored += u64::from(e.ignore);
        active += u64::from(e.active);
    }
    family(
        &mut out,
        "trident_sdn_info",
        "gauge",
        "trident SDN engine (poseidon_version_info)",
    );
    let _ = writeln!(
        out,
        "trident_sdn_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    gauge_by(
        &mut out,
        "trident_sdn_endpoints",
        "Endpoints per state (poseidon_endpoint_current_states)",
        "state",
        &states,
    );
    family(
        &mut out,
        "trident_sdn_endpoints_ignored",
        "gauge",
        "Ignored endpoints",
    );
    let _ = writeln!(out, "trident_sdn_endpoints_ignored {ignored}");
    family(
        &mut out,
        "trident_sdn_endpoints_active",
        "gauge",
        "Endpoints Faucet reports present",
    );
    let _ = writeln!(out, "trident_sdn_endpoints_active {active}");
    gauge_by(
        &mut out,
        "trident_sdn_endpoint_roles",
        "Endpoints per top role (poseidon_endpoint_roles)",
        "role",
        &roles,
    );
    gauge_by(
        &mut out,
        "trident_sdn_endpoint_oses",
        "Endpoints per OS (poseidon_endpoint_oses)",
        "os",
        &oses,
    );
    gauge_by(
        &mut out,
        "trident_sdn_endpoint_vlans",
        "Endpoints per VLAN (poseidon_endpoint_vlans)",
        "tenant",
        &vlans,
    );
    family(
        &mut out,
        "trident_sdn_endpoint_port_hosts",
        "gauge",
        "Endpoints per switch port (poseidon_endpoint_port_hosts)",
    );
    for (k, v) in &port_hosts {
        let (sw, port) = k.split_once('\u{0}').unwrap_or((k, ""));
        let _ = writeln!(
            out,
            "trident_sdn_endpoint_port_hosts{{segment=\"{}\",port=\"{}\"}} {v}",
            esc(sw),
            esc(port)
        );
    }
    family(
        &mut out,
        "trident_sdn_endpoint_info",
        "gauge",
        "One series per endpoint, current labels only (poseidon_endpoint_metadata)",
    );
    for e in &eps {
        let _ = writeln!(
            out,
            "trident_sdn_endpoint_info{{hash_id=\"{}\",mac=\"{}\",segment=\"{}\",port=\"{}\",tenant=\"{}\",state=\"{}\",ignore=\"{}\",ipv4_address=\"{}\",ipv6_address=\"{}\",top_role=\"{}\",ipv4_os=\"{}\",ether_vendor=\"{}\"}} {}",
            e.id,
            esc(&e.mac),
            esc(&e.segment),
            e.port,
            e.tenant(),
            e.state.as_str(),
            if e.ignore { "True" } else { "False" },
            e.ipv4.map(|i| i.to_string()).unwrap_or_default(),
            e.ipv6.map(|i| i.to_string()).unwrap_or_default(),
            esc(&e.role_label().map_or(NO_DATA.to_string(), |r| r.0)),
            esc(e.os.as_deref().unwrap_or(NO_DATA)),
            esc(e.vendor.as_deref().unwrap_or(NO_DATA)),
            e.last_seen
        );
    }
    family(
        &mut out,
        "trident_sdn_role_confidence",
        "gauge",
        "Role confidences, rank 1-3 (poseidon_role_confidence_top/second/third)",
    );
    for e in &eps {
        if let Some(c) = &e.classification {
            for (i, r) in c.roles.iter().take(3).enumerate() {
                let _ = writeln!(
                    out,
                    "trident_sdn_role_confidence{{hash_id=\"{}\",rank=\"{}\",role=\"{}\"}} {}",
                    e.id,
                    i + 1,
                    esc(&r.role),
                    r.confidence
                );
            }
        }
    }
    let st = h.status();
    family(
        &mut out,
        "trident_sdn_events_total",
        "counter",
        "Faucet events parsed, by type",
    );
    for (k, v) in &st.events.by_kind {
        let _ = writeln!(out, "trident_sdn_events_total{{kind=\"{}\"}} {v}", esc(k));
    }
    family(
        &mut out,
        "trident_sdn_event_last_seen_seconds",
        "gauge",
        "Unix time each event type was last seen (poseidon_last_rabbitmq_routing_key_time)",
    );
    for (k, v) in &st.events.last_seen {
        let _ = writeln!(
            out,
            "trident_sdn_event_last_seen_seconds{{kind=\"{}\"}} {v}",
            esc(k)
        );
    }
    family(
        &mut out,
        "trident_sdn_events_unknown_total",
        "counter",
        "Events of an unknown type",
    );
    let _ = writeln!(
        out,
        "trident_sdn_events_unknown_total {}",
        st.events.unknown
    );
    family(
        &mut out,
        "trident_sdn_events_malformed_total",
        "counter",
        "Lines that were not events, by class",
    );
    for (k, v) in &st.events.malformed {
        let _ = writeln!(
            out,
            "trident_sdn_events_malformed_total{{class=\"{}\"}} {v}",
            esc(k)
        );
    }
    family(
        &mut out,
        "trident_sdn_event_id_gaps_total",
        "counter",
        "Faucet event_id jumps (events lost)",
    );
    let _ = writeln!(out, "trident_sdn_event_id_gaps_total {}", st.events.id_gaps);
    family(
        &mut out,
        "trident_sdn_event_id_restarts_total",
        "counter",
        "Faucet event_id went down (Faucet restarted)",
    );
    let _ = writeln!(
        out,
        "trident_sdn_event_id_restarts_total {}",
        st.events.id_restarts
    );
    let c = h.counters();
    family(
        &mut out,
        "trident_sdn_source_connects_total",
        "counter",
        "Event source connections made",
    );
    let _ = writeln!(
        out,
        "trident_sdn_source_connects_total {}",
        c.source_connects.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "trident_sdn_source_disconnects_total",
        "counter",
        "Event source connections lost",
    );
    let _ = writeln!(
        out,
        "trident_sdn_source_disconnects_total {}",
        c.source_disconnects.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "trident_sdn_mirror_operations_total",
        "counter",
        "Mirror back-end operations, by result",
    );
    for (k, v) in &st.mirror {
        let _ = writeln!(out, "trident_sdn_mirror_operations_total{{op=\"{k}\"}} {v}");
    }
    family(
        &mut out,
        "trident_sdn_mirrored_endpoints",
        "gauge",
        "Endpoints mirrored now",
    );
    let _ = writeln!(out, "trident_sdn_mirrored_endpoints {}", st.operating);
    family(
        &mut out,
        "trident_sdn_captures_total",
        "counter",
        "Per-endpoint captures (poseidon_ncapture_count), by outcome",
    );
    for (k, v) in &st.captures {
        let _ = writeln!(out, "trident_sdn_captures_total{{result=\"{k}\"}} {v}");
    }
    let cs = h.core_stats();
    family(
        &mut out,
        "trident_sdn_learns_total",
        "counter",
        "L2_LEARN/L3_LEARN events, used or filtered",
    );
    let _ = writeln!(
        out,
        "trident_sdn_learns_total{{result=\"used\"}} {}",
        cs.learns_used
    );
    let _ = writeln!(
        out,
        "trident_sdn_learns_total{{result=\"filtered\"}} {}",
        cs.learns_filtered
    );
    family(
        &mut out,
        "trident_sdn_unmirror_reasons_total",
        "counter",
        "Operating endpoints unmirrored early",
    );
    let _ = writeln!(
        out,
        "trident_sdn_unmirror_reasons_total{{reason=\"left\"}} {}",
        cs.left_while_operating
    );
    let _ = writeln!(
        out,
        "trident_sdn_unmirror_reasons_total{{reason=\"timeout\"}} {}",
        cs.operating_timeouts
    );
    out
}
