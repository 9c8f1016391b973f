//! Per-endpoint capture and classification.
//!
//! One capture per operating endpoint, on its collector NIC, headers only, with the BPF
//! filter `ether host <mac>` that Poseidon's ncapture forgot to apply (so only that host's
//! packets are in the file even when several ports are mirrored at once). Then:
//!
//! * the capture is classified with trident's model (networkML-compatible features, the
//!   built-in networkML 0.6.19 model or the user's), giving the top three roles and
//!   confidences or an honest Unknown;
//! * the same capture goes through trident's passive host inventory (DHCP/mDNS names,
//!   services offered, OS guess) to enrich the endpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use trident_capture::{CaptureReader, Input};
use trident_classify::Model;
use trident_classify::hosts::{HostOptions, HostSelector, classify_hosts};
use trident_classify::networkml::{IpFlagsEncoding, NetworkMlOptions, read_capture};
use trident_flow::{FlowConfig, FlowTable};
use trident_host::HostInventory;

use crate::endpoint::{Classification, RoleConfidence, parse_mac};

/// What a capture job needs.
#[derive(Debug, Clone)]
pub struct CaptureJob {
    /// Endpoint id (file names).
    pub id: String,
    /// MAC for the BPF filter and the classification selector.
    pub mac: String,
    /// Interface.
    pub nic: String,
    /// Capture length.
    pub duration: Duration,
    /// Directory for the capture file.
    pub dir: PathBuf,
}

/// Passive-inventory facts about the endpoint from its capture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enrichment {
    /// DHCP host name, mDNS names.
    pub names: Vec<String>,
    /// Services offered, `tcp/80`.
    pub services: Vec<String>,
    /// OS guess.
    pub os: Option<String>,
}

/// The outcome of a job.
#[derive(Debug, Clone)]
pub struct CaptureOutcome {
    /// The classification, or why there is none.
    pub result: Result<Classification, String>,
    /// Inventory facts.
    pub enrichment: Enrichment,
    /// The capture file.
    pub file: Option<PathBuf>,
}

/// Runs one capture to completion (blocking; call from `spawn_blocking`). `stop` ends it
/// early (shutdown, endpoint left).
#[must_use]
pub fn run_job(
    job: &CaptureJob,
    model: &Model,
    stop: &Arc<AtomicBool>,
    now: f64,
) -> CaptureOutcome {
    let dir = job.dir.join(&job.id);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return CaptureOutcome {
            result: Err(format!("creating {}: {e}", dir.display())),
            enrichment: Enrichment::default(),
            file: None,
        };
    }
    let mut cfg = trident_live::CaptureConfig::new(job.nic.clone(), dir.clone());
    cfg.filter = Some(format!("ether host {}", job.mac));
    cfg.headers_only = true;
    cfg.duration = Some(job.duration);
    let summary = trident_live::run(&cfg, stop, &mut |_| {});
    let file = match summary {
        Ok(_) => newest_file(&dir),
        Err(e) => {
            return CaptureOutcome {
                result: Err(format!("capture on {}: {e}", job.nic)),
                enrichment: Enrichment::default(),
                file: None,
            };
        }
    };
    let Some(file) = file else {
        return CaptureOutcome {
            result: Err(format!("no capture file in {}", dir.display())),
            enrichment: Enrichment::default(),
            file: None,
        };
    };
    let (result, enrichment) = analyse(&file, &job.mac, model, now);
    CaptureOutcome {
        result,
        enrichment,
        file: Some(file),
    }
}

fn newest_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pcapng"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// Classifies `mac` in a capture file and folds it through the host inventory.
pub fn analyse(
    file: &Path,
    mac: &str,
    model: &Model,
    now: f64,
) -> (Result<Classification, String>, Enrichment) {
    (classify(file, mac, model, now), enrich(file, mac))
}

fn classify(file: &Path, mac: &str, model: &Model, now: f64) -> Result<Classification, String> {
    let input = Input::File(file.to_path_buf());
    let mut reader = CaptureReader::open(&input).map_err(|e| e.to_string())?;
    let options = NetworkMlOptions {
        ip_flags: IpFlagsEncoding::Word16,
        strict: false,
        ipv6_ports: true,
    };
    let table = read_capture(&mut reader, options).map_err(|e| e.to_string())?;
    let mac_addr = parse_mac(mac).ok_or_else(|| format!("bad MAC {mac:?}"))?;
    let selector = HostSelector {
        macs: vec![mac_addr],
        ips: Vec::new(),
    };
    let verdicts = classify_hosts(&table, model, &HostOptions::default(), &selector)
        .map_err(|e| e.to_string())?;
    let v = verdicts
        .into_iter()
        .next()
        .ok_or_else(|| format!("{mac} not in the capture"))?;
    Ok(Classification {
        time: now,
        roles: v
            .top
            .iter()
            .take(3)
            .map(|(role, confidence)| RoleConfidence {
                role: role.clone(),
                confidence: *confidence,
            })
            .collect(),
        os: None,
        packets: v.packets,
        unknown_reason: v.unknown_reason.map(|r| r.to_string()),
    })
}

fn enrich(file: &Path, mac: &str) -> Enrichment {
    let input = Input::File(file.to_path_buf());
    let Ok(mut reader) = CaptureReader::open(&input) else {
        return Enrichment::default();
    };
    let mut table = FlowTable::new(FlowConfig::default());
    let mut inventory = HostInventory::new();
    let mut ended = Vec::new();
    while let Ok(Some(frame)) = reader.next_frame() {
        let packet = trident_decode::decode(frame.link_type, frame.data);
        table.process(frame.ts, frame.origlen, &packet, &mut ended);
        for f in ended.drain(..) {
            inventory.add(&f);
        }
    }
    table.flush(&mut ended);
    for f in ended.drain(..) {
        inventory.add(&f);
    }
    let want = parse_mac(mac);
    let mut out = Enrichment::default();
    for h in inventory.finish() {
        if h.mac.is_none() || h.mac != want {
            continue;
        }
        if let Some(n) = &h.dhcp_hostname
            && !out.names.contains(n)
        {
            out.names.push(n.clone());
        }
        for n in &h.mdns_names {
            if !out.names.contains(n) {
                out.names.push(n.clone());
            }
        }
        for s in &h.services_offered {
            let proto = match s.protocol {
                6 => "tcp".to_string(),
                17 => "udp".to_string(),
                p => p.to_string(),
            };
            let name = format!("{proto}/{}", s.port);
            if !out.services.contains(&name) {
                out.services.push(name);
            }
        }
        if out.os.is_none() {
            out.os = h.os.map(str::to_string);
        }
    }
    out
}

/// Sets a stop flag (helper for the engine).
pub fn stop(flag: &AtomicBool) {
    flag.store(true, Ordering::SeqCst);
}
