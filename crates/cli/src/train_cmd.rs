//! `trident train` and `trident eval`: a role model from the user's own labelled captures,
//! and how well a model does on labelled captures.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use trident_classify::Model;
use trident_classify::calibration::expected_calibration_error;
use trident_classify::eval::{EvalReport, predict_samples};
use trident_classify::networkml::{FEATURE_SCHEMA, feature_names};
use trident_classify::train::{
    Collected, DEFAULT_FOLDS, DEFAULT_SEED, ECE_BINS, Family, Labels, TrainOptions,
    collect_samples, family_grid, train,
};

/// Model families `trident train --model` can restrict the grid to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelFamily {
    /// Every family of the grid; the best by cross-validated weighted F1 wins.
    All,
    /// Random forests (100 and 300 trees).
    Forest,
    /// Softmax regression (an MLP without hidden layers).
    Softmax,
    /// Multi-layer perceptrons with ReLU hidden layers (networkML's family).
    Mlp,
}

use crate::EXIT_OK;

mod flow_level;

/// What one training sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// One sample per host per capture: the device-role model (networkML's features).
    Host,
    /// One sample per flow: the attack model, labelled by `--labels` attack windows
    /// (`start,end,src,dst,label` lines, as bench/attack-traffic.sh writes them).
    Flow,
}

/// What a flow-level model learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlowTarget {
    /// The attack type of each flow's window, or `benign`.
    Type,
    /// `attack` or `benign`.
    Binary,
}

/// How many confusions the summaries list.
const HARDEST_CONFUSIONS: usize = 10;

#[derive(Args)]
#[command(after_help = "Labels: either networkML's file-name convention \
(Role-deviceID-time-duration-flags.pcap: the capture's main host gets Role), or --labels FILE \
with lines `mac,role`, `ip,role` or `capture,mac-or-ip,role` (comma or tab; # comments; an \
optional header line).

Examples:
  trident train captures/ -o my-model.json
  trident train --labels labels.csv captures/ -o my-model.json --cv-report cv.json
  trident train --model mlp --labels labels.csv captures/ -o my-mlp.json
  trident classify --model my-model.json new.pcap

Flow level (the attack model): one sample per flow; labels are attack windows, lines
`start,end,src,dst,label` (epoch seconds; a flow is the attack when src originated it, dst
answered it and its first packet is in the window; every other flow is `benign`). One
candidate of the family is fitted (forest of 100 trees for `all`); evaluate on another session:
  trident train --level flow --labels a.labels.csv a.pcap -o attack.json
  trident eval --level flow --model attack.json --labels b.labels.csv b.pcap")]
pub struct TrainArgs {
    /// Capture files or directories (walked recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Labels file (otherwise roles come from the file names).
    #[arg(long, short, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Where to write the model.
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
    /// Cross-validation folds (captures are never split between folds).
    #[arg(long, default_value_t = DEFAULT_FOLDS)]
    folds: usize,
    /// Cross-validation repeats with different fold assignments.
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    /// Seed: the same seed and data give the same model file.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// The model's name.
    #[arg(long, default_value = "trident-trained")]
    name: String,
    /// Restrict the grid to one model family.
    #[arg(long, value_enum, default_value_t = ModelFamily::All)]
    model: ModelFamily,
    /// Write the chosen model's cross-validation report (scores, confusion matrix, every
    /// out-of-fold prediction, and the grid's scores) as JSON (host level).
    #[arg(long, value_name = "FILE")]
    cv_report: Option<PathBuf>,
    /// One sample per host (device roles) or per flow (the attack model).
    #[arg(long, value_enum, default_value_t = Level::Host)]
    level: Level,
    /// Flow level: learn attack types or attack vs benign.
    #[arg(long, value_enum, default_value_t = FlowTarget::Type)]
    target: FlowTarget,
}

#[derive(Args)]
#[command(after_help = "Examples:
  trident eval --model my-model.json test-captures/
  trident eval --model my-model.json --labels labels.csv test/ --json report.json
  trident eval --level flow --model attack.json --labels b.labels.csv b.pcap")]
pub struct EvalArgs {
    /// Capture files or directories (walked recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The model file.
    #[arg(long, short, value_name = "FILE")]
    model: PathBuf,
    /// Labels file (otherwise roles come from the file names).
    #[arg(long, short, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Also write the report as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// One sample per host (device roles) or per flow (the attack model; --labels holds
    /// attack windows).
    #[arg(long, value_enum, default_value_t = Level::Host)]
    level: Level,
}

fn collect(cmd: &str, paths: &[PathBuf], labels: Option<&Path>) -> Result<Collected> {
    let labels = labels.map(Labels::from_file).transpose()?;
    let collected = collect_samples(paths, labels.as_ref())?;
    for w in &collected.warnings {
        eprintln!("trident {cmd}: warning: {w}");
    }
    Ok(collected)
}

fn confusions_text(report: &EvalReport) -> String {
    let mut o = String::from("hardest confusions (true -> predicted: samples)\n");
    for (t, p, n) in report.hardest_confusions(HARDEST_CONFUSIONS) {
        o.push_str(&format!("  {t} -> {p}: {n}\n"));
    }
    o
}

/// Runs `trident train`.
pub fn run_train(args: &TrainArgs) -> Result<u8> {
    if args.level == Level::Flow {
        if args.cv_report.is_some() {
            anyhow::bail!("--cv-report is for --level host");
        }
        let target = match args.target {
            FlowTarget::Type => trident_classify::attack::Target::Type,
            FlowTarget::Binary => trident_classify::attack::Target::Binary,
        };
        return flow_level::run_train(
            &args.paths,
            args.labels.as_deref(),
            target,
            args.model,
            args.seed,
            &args.name,
            &args.out,
        );
    }
    let collected = collect("train", &args.paths, args.labels.as_deref())?;
    eprintln!(
        "trident train: {} labelled hosts from {} captures",
        collected.samples.len(),
        collected.captures
    );
    let options = TrainOptions {
        folds: args.folds,
        repeats: args.repeats,
        seed: args.seed,
        name: args.name.clone(),
        grid: family_grid(match args.model {
            ModelFamily::All => None,
            ModelFamily::Forest => Some(Family::Forest),
            ModelFamily::Softmax => Some(Family::Softmax),
            ModelFamily::Mlp => Some(Family::Mlp),
        }),
        ..TrainOptions::default()
    };
    let outcome = train(&collected.samples, &options)?;
    for (i, s) in outcome.scores.iter().enumerate() {
        let mark = if i == outcome.chosen { "*" } else { " " };
        eprintln!(
            "{mark} {:<36} cv weighted F1 {:.4}  accuracy {:.4}  ECE {:.4}",
            s.description, s.weighted_f1, s.accuracy, s.ece
        );
    }
    if let Some(c) = &outcome.model.calibration {
        eprintln!(
            "calibration: temperature {:.3} fitted on {} held-out predictions; expected \
             calibration error {:.4} before, {:.4} after (cross-fitted); NLL {:.4} -> {:.4}",
            c.temperature, c.samples, c.ece_before, c.ece_after, c.nll_before, c.nll_after
        );
    }
    let n = &outcome.novelty;
    eprintln!(
        "novelty: threshold {:.2} (the {} quantile of {} held-out nearest-training-host \
         distances); {} held-out hosts have a feature beyond {} standard deviations",
        n.threshold,
        n.quantile,
        n.held_out,
        n.held_out_beyond_max_z,
        trident_classify::hosts::DEFAULT_MAX_ABS_Z
    );
    print!("{}", outcome.cv_report.to_text());
    print!("{}", confusions_text(&outcome.cv_report));
    std::fs::write(&args.out, outcome.model.to_json())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if let Some(path) = &args.cv_report {
        let doc = serde_json::json!({
            "report": outcome.cv_report,
            "hardest_confusions": outcome.cv_report.hardest_confusions(HARDEST_CONFUSIONS),
            "grid": outcome.scores,
            "chosen": outcome.chosen,
            "predictions": outcome.cv_predictions,
        });
        std::fs::write(path, format!("{doc:#}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("trident train: model written to {}", args.out.display());
    Ok(EXIT_OK)
}

/// Runs `trident eval`.
pub fn run_eval(args: &EvalArgs) -> Result<u8> {
    if args.level == Level::Flow {
        return flow_level::run_eval(
            &args.paths,
            &args.model,
            args.labels.as_deref(),
            args.json.as_deref(),
        );
    }
    let model = Model::from_file(&args.model)?;
    let names: Vec<&str> = feature_names().iter().map(String::as_str).collect();
    model.check_schema(FEATURE_SCHEMA, &names)?;
    let collected = collect("eval", &args.paths, args.labels.as_deref())?;
    if collected.samples.is_empty() {
        anyhow::bail!("no labelled host in the captures");
    }
    let predicted = predict_samples(&model, &collected.samples);
    let truth: Vec<String> = collected.samples.iter().map(|s| s.role.clone()).collect();
    let report = EvalReport::new(&truth, &predicted);
    print!("{}", report.to_text());
    print!("{}", confusions_text(&report));
    // Calibration on these samples: raw probabilities and, if the model has a temperature,
    // the calibrated ones `trident classify` reports.
    let class_of = |role: &str| {
        model
            .classes()
            .iter()
            .position(|c| c == role)
            .unwrap_or(usize::MAX)
    };
    let truth_idx: Vec<usize> = truth.iter().map(|t| class_of(t)).collect();
    let raw: Vec<Vec<f64>> = collected
        .samples
        .iter()
        .map(|s| model.predict_proba(&s.features).unwrap_or_default())
        .collect();
    let calibrated: Vec<Vec<f64>> = collected
        .samples
        .iter()
        .map(|s| model.predict_calibrated(&s.features).unwrap_or_default())
        .collect();
    let ece_raw = expected_calibration_error(&raw, &truth_idx, ECE_BINS);
    let ece_calibrated = expected_calibration_error(&calibrated, &truth_idx, ECE_BINS);
    println!(
        "expected calibration error: {ece_raw:.4} raw, {ece_calibrated:.4} calibrated{}",
        model
            .file()
            .calibration
            .as_ref()
            .map(|c| format!(" (temperature {:.3})", c.temperature))
            .unwrap_or_else(|| " (the model has no temperature)".to_owned())
    );
    if let Some(path) = &args.json {
        let mut value = serde_json::to_value(&report)?;
        if let Some(map) = value.as_object_mut() {
            map.insert("ece_raw".into(), ece_raw.into());
            map.insert("ece_calibrated".into(), ece_calibrated.into());
        }
        let json = serde_json::to_string_pretty(&value)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(EXIT_OK)
}
