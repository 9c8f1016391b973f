//! `trident classify`: what kind of device is each host? networkML 0.6.19's answer, exactly
//! (`--compat networkml`), or trident's: every host, with an honest `Unknown`.

use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use trident_capture::{CaptureErrorKind, CaptureReader, Input, expand_inputs};
use trident_classify::hosts::{HostOptions, HostSelector, HostVerdict, classify_hosts};
use trident_classify::networkml::output::basename;
use trident_classify::networkml::{
    FileResult, IpFlagsEncoding, NetworkMlOptions, PredictMeta, Prediction, check_model,
    host_features, predict, predict_json, read_capture, result_json,
};
use trident_classify::{Model, python_float_repr};
use trident_types::MacAddr;

use crate::{EXIT_DAMAGED, EXIT_OK, EXIT_USAGE};

/// Compatibility modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Compat {
    /// networkML 0.6.19 with its default options: one canonical host per capture, its
    /// features and quirks reproduced, the same output.
    Networkml,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (default without --compat).
    Table,
    /// JSON: with --compat networkml, networkML's result JSON (one line per PATH, default);
    /// otherwise one JSON object per host per line.
    Json,
    /// networkML's predict.json document, one per PATH.
    PredictJson,
}

/// `ip.flags` encodings (networkML decodes the value with TCP flag names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlagsEncoding {
    /// TShark 4.x: the three flag bits (0x02 = don't fragment). The networkML goldens.
    Tshark4,
    /// The 16-bit flags and fragment offset word (0x4000 = don't fragment), as in the
    /// model's training data.
    Word16,
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident classify capture.pcap                         every host, as a table
  trident classify --mac 00:12:79:80:69:60 capture.pcap one host
  trident classify --compat networkml capture.pcap      networkML 0.6.19's result JSON
  trident classify --compat networkml --format predict-json capture.pcap > predict.json

Without --compat, IPv6 packets' TCP and UDP ports count in the port features (networkML's
test `ip.proto` is IPv4-only, so it never sees an IPv6 host's services); everything else is
the same 221 features, so the built-in model and models from `trident train` apply to both.

With --compat networkml the environment variables `id` and `file_path` fill predict.json's
id/uid and file_path as they do for networkML under Poseidon.")]
pub struct ClassifyArgs {
    /// Capture files (pcap/pcapng, optionally .gz/.zst), directories (walked recursively),
    /// or `-` for stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Reproduce another tool exactly.
    #[arg(long, value_enum)]
    compat: Option<Compat>,
    /// Output format (default: json with --compat networkml, table otherwise).
    #[arg(long, short, value_enum)]
    format: Option<Format>,
    /// How `ip.flags` is read (default: tshark4 with --compat networkml, as the goldens;
    /// word16 otherwise, as the model was trained).
    #[arg(long, value_enum)]
    ip_flags_encoding: Option<FlagsEncoding>,
    /// A trident model file instead of the built-in networkML 0.6.19 model. Models from
    /// `trident train` carry a temperature (reported confidences are calibrated) and a
    /// novelty threshold (hosts unlike every training host are Unknown, with the distance).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Classify only this MAC (repeatable; not with --compat).
    #[arg(long, value_name = "MAC")]
    mac: Vec<String>,
    /// Classify only the host(s) that sent from this IP (repeatable; not with --compat).
    #[arg(long, value_name = "IP")]
    ip: Vec<String>,
    /// Hosts with a feature further than this many training standard deviations out are
    /// Unknown (not with --compat).
    #[arg(long, default_value_t = trident_classify::hosts::DEFAULT_MAX_ABS_Z)]
    max_z: f64,
    /// Hosts with fewer packets are Unknown (not with --compat).
    #[arg(long, default_value_t = trident_classify::hosts::DEFAULT_MIN_PACKETS)]
    min_packets: u64,
}

fn parse_mac(s: &str) -> Option<MacAddr> {
    let bytes: Vec<u8> = s
        .split([':', '-'])
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<_>>()?;
    if bytes.len() != 6 {
        return None;
    }
    MacAddr::from_slice(&bytes)
}

fn encoding(flag: Option<FlagsEncoding>, compat: bool) -> IpFlagsEncoding {
    match flag {
        Some(FlagsEncoding::Tshark4) => IpFlagsEncoding::Tshark4,
        Some(FlagsEncoding::Word16) => IpFlagsEncoding::Word16,
        None if compat => IpFlagsEncoding::Tshark4,
        None => IpFlagsEncoding::Word16,
    }
}

pub fn run(args: &ClassifyArgs) -> Result<u8> {
    let compat = args.compat.is_some();
    if compat && (!args.mac.is_empty() || !args.ip.is_empty()) {
        eprintln!(
            "trident classify: --mac/--ip select hosts in trident's mode; networkML classifies one canonical host"
        );
        return Ok(EXIT_USAGE);
    }
    let mut selector = HostSelector::default();
    for m in &args.mac {
        match parse_mac(m) {
            Some(mac) => selector.macs.push(mac),
            None => {
                eprintln!("trident classify: --mac {m:?} is not a MAC address");
                return Ok(EXIT_USAGE);
            }
        }
    }
    for ip in &args.ip {
        match IpAddr::from_str(ip) {
            Ok(ip) => selector.ips.push(ip),
            Err(_) => {
                eprintln!("trident classify: --ip {ip:?} is not an IP address");
                return Ok(EXIT_USAGE);
            }
        }
    }
    let model = match &args.model {
        Some(path) => Model::from_file(path),
        None => Model::networkml_0_6_19(),
    }
    .context("loading the model")?;
    check_model(&model).context("checking the model")?;
    let format = args
        .format
        .unwrap_or(if compat { Format::Json } else { Format::Table });
    let ip_flags = encoding(args.ip_flags_encoding, compat);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = false;
    if !compat && format == Format::Table {
        writeln!(
            out,
            "{:<24} {:<17} {:<39} {:>8} {:<26} {:>10}  reason",
            "capture", "mac", "source_ip", "packets", "role", "confidence"
        )?;
    }
    for path in &args.paths {
        let mut files = Vec::new();
        let mut verdicts: Vec<(String, HostVerdict)> = Vec::new();
        for (input, name) in captures(path, &mut failed) {
            let mut reader = match CaptureReader::open(&input) {
                Ok(r) => r,
                Err(e)
                    if !explicit(path, &input)
                        && matches!(e.kind, CaptureErrorKind::UnknownFormat { .. }) =>
                {
                    continue;
                }
                Err(e) => {
                    eprintln!("trident classify: {e}");
                    failed = true;
                    continue;
                }
            };
            let options = NetworkMlOptions {
                ip_flags,
                strict: compat,
                ipv6_ports: !compat,
            };
            let table = match read_capture(&mut reader, options) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("trident classify: {e}");
                    failed = true;
                    continue;
                }
            };
            if let Some(damage) = &table.damage {
                eprintln!("trident classify: {damage} (classified the frames before it)");
                failed = true;
            }
            if compat {
                let prediction = table.canonical_host().and_then(|mac| {
                    predict(&model, &host_features(&table.rows, mac)).map(|(p, _)| p)
                });
                match prediction {
                    Ok(p) => files.push(FileResult {
                        filename: format!("{}.csv.gz", basename(&name)),
                        predictions: vec![p],
                    }),
                    Err(e) => {
                        eprintln!("trident classify: {e}");
                        failed = true;
                    }
                }
            } else {
                let host_options = HostOptions {
                    ip_flags,
                    max_abs_z: args.max_z,
                    min_packets: args.min_packets,
                };
                match classify_hosts(&table, &model, &host_options, &selector) {
                    Ok(v) => verdicts.extend(v.into_iter().map(|v| (name.clone(), v))),
                    Err(e) => {
                        eprintln!("trident classify: {e}");
                        failed = true;
                    }
                }
            }
        }
        let path_text = path.display().to_string();
        if compat {
            write_compat(&mut out, format, &path_text, &files, &model)?;
        } else {
            write_hosts(&mut out, format, &path_text, &verdicts, &model)?;
        }
    }
    out.flush().context("writing the output")?;
    Ok(if failed { EXIT_DAMAGED } else { EXIT_OK })
}

/// The captures under one PATH argument, with the name each is known by.
fn captures(path: &Path, failed: &mut bool) -> Vec<(Input, String)> {
    let (inputs, errors) = expand_inputs(&[path]);
    for e in errors {
        eprintln!("trident classify: {e}");
        *failed = true;
    }
    inputs
        .into_iter()
        .map(|i| {
            let name = i.name();
            (i, name)
        })
        .collect()
}

fn explicit(path: &Path, input: &Input) -> bool {
    match input {
        Input::File(p) => p == path,
        Input::Stdin => true,
    }
}

/// networkML's shapes: the result JSON or predict.json for one PATH argument.
fn write_compat(
    out: &mut impl Write,
    format: Format,
    path: &str,
    files: &[FileResult],
    model: &Model,
) -> Result<()> {
    match format {
        Format::Json => {
            if !files.is_empty() {
                writeln!(out, "{}", result_json(files))?;
            }
        }
        Format::PredictJson => {
            if !files.is_empty() {
                let meta = PredictMeta {
                    id: std::env::var("id").ok(),
                    file_path: std::env::var("file_path").unwrap_or_else(|_| path.to_owned()),
                };
                writeln!(
                    out,
                    "{}",
                    predict_json(&meta, files, &|c| model.display_name(c).to_owned())
                )?;
            }
        }
        Format::Table => {
            for file in files {
                for p in &file.predictions {
                    let roles: Vec<String> = p
                        .role_list
                        .iter()
                        .map(|(r, prob)| format!("{r} {}", python_float_repr(*prob)))
                        .collect();
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        file.filename.trim_end_matches(".csv.gz"),
                        p.source_mac,
                        p.source_ip.as_deref().unwrap_or("-"),
                        p.top_role,
                        roles.join(", ")
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// trident's shapes for the hosts found under one PATH argument.
fn write_hosts(
    out: &mut impl Write,
    format: Format,
    path: &str,
    verdicts: &[(String, HostVerdict)],
    model: &Model,
) -> Result<()> {
    match format {
        Format::Table => {
            for (capture, v) in verdicts {
                let confidence = v.top.first().map_or(0.0, |t| t.1);
                writeln!(
                    out,
                    "{:<24} {:<17} {:<39} {:>8} {:<26} {:>10.4}  {}",
                    basename(capture),
                    v.mac.to_string(),
                    v.source_ip.as_deref().unwrap_or("-"),
                    v.packets,
                    v.role,
                    confidence,
                    v.unknown_reason
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )?;
            }
        }
        Format::Json => {
            for (capture, v) in verdicts {
                let value = serde_json::json!({
                    "capture": capture,
                    "mac": v.mac.to_string(),
                    "source_ip": v.source_ip,
                    "source_ips": v.source_ips.iter().map(|(ip, n)| serde_json::json!({"ip": ip, "packets": n})).collect::<Vec<_>>(),
                    "packets": v.packets,
                    "role": v.role,
                    "unknown_reason": v.unknown_reason.as_ref().map(ToString::to_string),
                    "top": v.top.iter().map(|(r, p)| serde_json::json!({"role": r, "probability": p})).collect::<Vec<_>>(),
                    "timestamp": v.timestamp,
                });
                writeln!(out, "{value}")?;
            }
        }
        Format::PredictJson => {
            if verdicts.is_empty() {
                return Ok(());
            }
            let files: Vec<FileResult> = verdicts
                .iter()
                .map(|(capture, v)| FileResult {
                    filename: format!("{}.csv.gz", basename(capture)),
                    predictions: vec![Prediction {
                        top_role: v.role.clone(),
                        role_list: v.top.clone(),
                        source_mac: v.mac.to_string(),
                        source_ip: v.source_ip.clone(),
                        timestamp: v.timestamp,
                    }],
                })
                .collect();
            let meta = PredictMeta {
                id: None,
                file_path: path.to_owned(),
            };
            writeln!(
                out,
                "{}",
                predict_json(&meta, &files, &|c| model.display_name(c).to_owned())
            )?;
        }
    }
    Ok(())
}
