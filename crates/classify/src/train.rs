//! Training a role model on the user's own labelled captures (`trident train`).
//!
//! # What happens and why
//!
//! - **Samples** are hosts: one feature row (networkML's 221 per-host features, so a trained
//!   model plugs into `trident classify` unchanged) per labelled host per capture. Labels
//!   come from networkML's file-name convention (`Role-deviceID-time-duration-flags.pcap`,
//!   the capture's canonical host gets `Role`) or from a labels file ([`Labels`]).
//! - **Cross-validation is by capture**: every sample of one capture lands in the same fold,
//!   so no capture is in both the training and the test side (per-host rows of one capture
//!   share its timing and peers, and would leak). Folds are stratified by the captures'
//!   roles. The scaler is fitted inside each fold, on that fold's training side only.
//! - **Model selection**: a small grid over model family and size ([`default_grid`]), each
//!   candidate scored by the weighted F1 of its pooled out-of-fold predictions; the best
//!   (ties: the earlier in the grid) is refitted on everything.
//! - **Determinism**: one seed drives the fold assignment and every tree; nothing depends
//!   on the clock or on hash order, so a rerun writes the same model file byte for byte.
//!
//! # Model families
//!
//! The fitting is smartcore's (0.4): its random forest and its multinomial logistic
//! regression (L-BFGS). No maintained pure-Rust crate offers a trainable MLP classifier
//! that builds in seconds (smartcore and linfa have none; candle/burn would bring a tensor
//! framework for a 221-input model), so the neural family is the one-layer case, a
//! softmax regression, which is exactly an MLP without hidden layers and is stored as one
//! ([`Network::Mlp`] with a single identity layer). Forests are stored as
//! [`Network::Forest`]; both are applied by trident's own inference in [`crate::model`],
//! not by smartcore, so CV scores come from the same code path `classify` uses.
//!
//! smartcore's forest gives every tree the same seed (only the bootstrap differs), so
//! trident grows each tree as its own one-tree forest with a seed derived from the
//! training seed and the tree's number: a proper random forest, still reproducible.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use trident_capture::{CaptureErrorKind, CaptureReader, Input, expand_inputs};
use trident_types::MacAddr;

use crate::calibration::{expected_calibration_error, fit_temperature, mean_nll};
use crate::error::ClassifyError;
use crate::eval::EvalReport;
use crate::mlp::{MlpParams, fit_mlp};
use crate::model::{
    Activation, Calibration, Decision, DenseLayer, FeatureSchema, MODEL_FORMAT, MODEL_VERSION,
    Model, ModelFile, Network, Novelty, OutputActivation, Provenance, Scaler, Split, Tree,
    TreeNode, apply_temperature, nearest_distance,
};
use crate::networkml::{
    FEATURE_SCHEMA, IpFlagsEncoding, NetIp, NetworkMlOptions, feature_names, host_features_of,
    model_inputs, read_capture, rows_by_host,
};

/// Default number of cross-validation folds.
pub const DEFAULT_FOLDS: usize = 5;
/// Default seed.
pub const DEFAULT_SEED: u64 = 42;
/// Most folds allowed.
pub const MAX_FOLDS: usize = 100;
/// Most cross-validation repeats allowed.
pub const MAX_REPEATS: usize = 100;
/// Most lines a labels file may have.
pub const MAX_LABEL_LINES: usize = 1_000_000;
/// How many classes a model reports (`Decision::top_n`).
pub const TOP_N: usize = 3;
/// The bias given to a class absent from a fold's training side in a softmax model: its
/// probability becomes ~e^-1000, i.e. it is never predicted.
const ABSENT_CLASS_BIAS: f64 = -1000.0;
/// Default [`TrainOptions::unknown_threshold`]: a calibrated top probability of at most one
/// half is `Unknown`.
pub const DEFAULT_UNKNOWN_THRESHOLD: f64 = 0.5;
/// Default [`TrainOptions::novelty_quantile`].
pub const DEFAULT_NOVELTY_QUANTILE: f64 = 0.99;
/// Per-coordinate clip of the novelty distance, in training standard deviations.
pub const NOVELTY_CLIP: f64 = 10.0;
/// Prototypes are stored rounded to this many decimals (of a standard deviation).
const PROTOTYPE_DECIMALS: f64 = 1e4;
/// Mini-batch size of MLP training: small, because a role corpus has hundreds of hosts,
/// not thousands, and Adam needs steps.
pub const MLP_BATCH_SIZE: usize = 32;
/// Most epochs of MLP training.
pub const MLP_MAX_EPOCHS: usize = 500;
/// Epochs without validation improvement before MLP training stops.
pub const MLP_PATIENCE: usize = 30;
/// Bins of the expected calibration error.
pub const ECE_BINS: usize = 15;
/// How many unknown addresses a warning names before it says "and N more".
const MAX_NAMED_IN_WARNING: usize = 20;

/// Why training or evaluation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The labels file could not be read.
    #[error("cannot read labels file {path}: {source}")]
    LabelsIo {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A line of the labels file is not `mac,role`, `ip,role` or `capture,mac|ip,role`.
    #[error("{path}:{line}: {message}")]
    Labels {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No capture gave a labelled host.
    #[error(
        "no labelled host found: name captures Role-deviceID-....pcap or give a labels file \
         whose MACs/IPs appear in the captures"
    )]
    NoSamples,
    /// Training needs at least two roles.
    #[error("only {found} role(s) among the labelled hosts; training needs at least 2")]
    TooFewClasses {
        /// Roles found.
        found: usize,
    },
    /// Cross-validation needs at least two captures.
    #[error("{found} labelled capture(s): cross-validation needs at least 2")]
    TooFewCaptures {
        /// Captures with a labelled host.
        found: usize,
    },
    /// A bad option value.
    #[error("{0}")]
    Options(String),
    /// The learning library failed.
    #[error("fitting {candidate} failed: {message}")]
    Fit {
        /// The model being fitted.
        candidate: String,
        /// smartcore's message.
        message: String,
    },
    /// A capture or model error.
    #[error(transparent)]
    Classify(#[from] ClassifyError),
}

/// How a labels-file line names a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKey {
    /// By MAC address.
    Mac(MacAddr),
    /// By a source IP address the host used.
    Ip(IpAddr),
}

impl std::fmt::Display for LabelKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelKey::Mac(m) => write!(f, "{m}"),
            LabelKey::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// One labels-file line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRule {
    /// Only in this capture (third column form), else in every capture.
    pub capture: Option<PathBuf>,
    /// The host.
    pub key: LabelKey,
    /// Its role.
    pub role: String,
    /// 1-based line number.
    pub line: usize,
}

/// A labels file: lines `mac,role`, `ip,role` or `capture,mac|ip,role`, comma- or
/// tab-separated, `#` comments and an optional header line. The capture form exists because
/// a MAC does not always identify a role across captures (a hub's MAC carries the traffic
/// of the devices behind it); relative capture paths are relative to the labels file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// The lines, in file order.
    pub rules: Vec<LabelRule>,
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`), any case.
#[must_use]
pub fn parse_mac(text: &str) -> Option<MacAddr> {
    let mut bytes = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for b in &mut bytes {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    MacAddr::from_slice(&bytes)
}

fn parse_key(text: &str) -> Option<LabelKey> {
    parse_mac(text)
        .map(LabelKey::Mac)
        .or_else(|| text.parse::<IpAddr>().ok().map(LabelKey::Ip))
}

impl Labels {
    /// Reads a labels file.
    pub fn from_file(path: &Path) -> Result<Labels, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|source| TrainError::LabelsIo {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new(""));
        Labels::parse(&text, path, base)
    }

    /// Parses labels text; `path` names it in errors, `base` anchors relative capture paths.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Labels, TrainError> {
        let err = |line: usize, message: String| TrainError::Labels {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut rules = Vec::new();
        let mut first = true;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if line > MAX_LABEL_LINES {
                return Err(err(line, format!("more than {MAX_LABEL_LINES} lines")));
            }
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let sep = if content.contains('\t') { '\t' } else { ',' };
            let fields: Vec<&str> = content.split(sep).map(str::trim).collect();
            let (capture, key_text, role) = match fields.as_slice() {
                [key, role] => (None, *key, *role),
                [capture, key, role] => (Some(*capture), *key, *role),
                _ => {
                    return Err(err(
                        line,
                        format!(
                            "expected 2 fields (mac or ip, role) or 3 (capture, mac or ip, \
                             role), found {}",
                            fields.len()
                        ),
                    ));
                }
            };
            let was_first = std::mem::replace(&mut first, false);
            let Some(key) = parse_key(key_text) else {
                let lower = key_text.to_ascii_lowercase();
                if was_first && matches!(lower.as_str(), "mac" | "ip" | "address" | "host") {
                    continue; // the header
                }
                return Err(err(
                    line,
                    format!("{key_text:?} is neither a MAC address nor an IP address"),
                ));
            };
            if role.is_empty() {
                return Err(err(line, "empty role".into()));
            }
            rules.push(LabelRule {
                capture: capture.map(|c| base.join(c)),
                key,
                role: role.to_owned(),
                line,
            });
        }
        Ok(Labels { rules })
    }
}

/// The role in a networkML-style capture name (`Role-deviceID-time-duration-flags.pcap`):
/// the part before the first `-`, if there is one and it is not empty.
#[must_use]
pub fn role_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let (role, _) = name.split_once('-')?;
    (!role.is_empty()).then(|| role.to_owned())
}

/// One labelled host of one capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The capture it came from (its name as given).
    pub capture: String,
    /// The host.
    pub mac: MacAddr,
    /// Its role.
    pub role: String,
    /// Its features, in the schema's order.
    pub features: Vec<f64>,
}

/// The samples of some captures, and what the user should hear about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    /// One per labelled host per capture, in input order.
    pub samples: Vec<Sample>,
    /// Warnings (unknown MACs in the labels file, unreadable captures, captures without a
    /// label).
    pub warnings: Vec<String>,
    /// Captures read.
    pub captures: usize,
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

fn net_ip(ip: NetIp) -> Option<IpAddr> {
    match ip {
        NetIp::V4(a) => Some(IpAddr::V4(a)),
        NetIp::V6(a) => Some(IpAddr::V6(a)),
        NetIp::None => None,
    }
}

/// Reads captures (files or directories) and turns their labelled hosts into samples.
///
/// With `labels`, a host is labelled by the first rule for its capture, else the first
/// rule without a capture, that names its MAC or one of its source IPs; rules that match
/// no host anywhere give one warning naming their addresses. Without `labels`, each
/// capture's canonical host (networkML's choice) gets the role in the file name.
pub fn collect_samples(
    paths: &[PathBuf],
    labels: Option<&Labels>,
) -> Result<Collected, TrainError> {
    let mut out = Collected::default();
    let (inputs, errors) = expand_inputs(paths);
    out.warnings.extend(errors.iter().map(ToString::to_string));
    let mut used = vec![false; labels.map_or(0, |l| l.rules.len())];
    // Rules of captures that were read: only those (and rules without a capture) can name
    // an address that is missing from the data.
    let mut capture_read = used.clone();
    let options = NetworkMlOptions {
        ip_flags: IpFlagsEncoding::Word16,
        strict: false,
        ipv6_ports: true,
    };
    for input in inputs {
        let Input::File(path) = &input else {
            out.warnings
                .push("standard input cannot be used for training; skipped".into());
            continue;
        };
        let explicit = paths.iter().any(|p| p == path);
        let mut reader = match CaptureReader::open(&input) {
            Ok(r) => r,
            Err(e) if !explicit && matches!(e.kind, CaptureErrorKind::UnknownFormat { .. }) => {
                continue;
            }
            Err(e) => {
                out.warnings.push(e.to_string());
                continue;
            }
        };
        let table = match read_capture(&mut reader, options) {
            Ok(t) => t,
            Err(e) => {
                out.warnings.push(e.to_string());
                continue;
            }
        };
        if let Some(damage) = &table.damage {
            out.warnings
                .push(format!("{}: damaged, used up to: {damage}", input.name()));
        }
        out.captures += 1;
        let Some(labels) = labels else {
            let Some(role) = role_from_file_name(path) else {
                out.warnings.push(format!(
                    "{}: no role in the file name (Role-deviceID-....pcap); skipped",
                    input.name()
                ));
                continue;
            };
            match table.canonical_host() {
                Ok(mac) => {
                    let mine: Vec<_> = table
                        .rows
                        .iter()
                        .filter(|r| r.eth_src == mac || r.eth_dst == mac)
                        .collect();
                    let host = host_features_of(mac, &mine);
                    out.samples.push(Sample {
                        capture: input.name(),
                        mac,
                        role,
                        features: model_inputs(&host),
                    });
                }
                Err(e) => out.warnings.push(e.to_string()),
            }
            continue;
        };
        let mine: Vec<usize> = labels
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.capture.as_deref().is_some_and(|c| same_file(c, path)))
            .map(|(i, _)| i)
            .collect();
        for &i in &mine {
            if let Some(r) = capture_read.get_mut(i) {
                *r = true;
            }
        }
        let global: Vec<usize> = labels
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.capture.is_none())
            .map(|(i, _)| i)
            .collect();
        for (mac, rows) in rows_by_host(&table.rows) {
            let mut host = None;
            let mut chosen = None;
            for &i in mine.iter().chain(&global) {
                let Some(rule) = labels.rules.get(i) else {
                    continue;
                };
                let hit = match rule.key {
                    LabelKey::Mac(m) => m == mac,
                    LabelKey::Ip(ip) => {
                        let h = host.get_or_insert_with(|| host_features_of(mac, &rows));
                        h.source_ips.iter().any(|s| net_ip(*s) == Some(ip))
                    }
                };
                if hit {
                    chosen = Some(i);
                    break;
                }
            }
            let Some(i) = chosen else { continue };
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            let host = host.unwrap_or_else(|| host_features_of(mac, &rows));
            out.samples.push(Sample {
                capture: input.name(),
                mac,
                role: labels
                    .rules
                    .get(i)
                    .map(|r| r.role.clone())
                    .unwrap_or_default(),
                features: model_inputs(&host),
            });
        }
    }
    if let Some(labels) = labels {
        let unknown: Vec<String> = labels
            .rules
            .iter()
            .zip(used.iter().zip(&capture_read))
            .filter(|(r, (u, read))| !**u && (r.capture.is_none() || **read))
            .map(|(r, _)| format!("{} (line {})", r.key, r.line))
            .collect();
        if !unknown.is_empty() {
            let mut named = unknown
                .iter()
                .take(MAX_NAMED_IN_WARNING)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if unknown.len() > MAX_NAMED_IN_WARNING {
                named.push_str(&format!(
                    " and {} more",
                    unknown.len() - MAX_NAMED_IN_WARNING
                ));
            }
            out.warnings.push(format!(
                "{} labelled address(es) match no host in the captures: {named}",
                unknown.len()
            ));
        }
    }
    Ok(out)
}

/// A model family and size to try.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Candidate {
    /// A random forest.
    Forest {
        /// Number of trees.
        trees: u16,
        /// Maximum depth (`None`: grown until pure).
        max_depth: Option<u16>,
    },
    /// Softmax (multinomial logistic) regression: an MLP without hidden layers.
    Softmax {
        /// L2 penalty.
        alpha: f64,
    },
    /// A multi-layer perceptron with ReLU hidden layers of equal width (networkML's model
    /// family), trained by [`crate::mlp`].
    Mlp {
        /// Hidden layers.
        layers: u8,
        /// Units per hidden layer.
        width: u16,
        /// L2 penalty.
        alpha: f64,
    },
}

/// A model family, to restrict the grid (`trident train --model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Family {
    /// Random forests.
    Forest,
    /// Softmax regression.
    Softmax,
    /// Multi-layer perceptrons.
    Mlp,
}

impl Candidate {
    /// The candidate's family.
    #[must_use]
    pub fn family(&self) -> Family {
        match self {
            Candidate::Forest { .. } => Family::Forest,
            Candidate::Softmax { .. } => Family::Softmax,
            Candidate::Mlp { .. } => Family::Mlp,
        }
    }
}

impl std::fmt::Display for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Candidate::Forest {
                trees,
                max_depth: Some(d),
            } => write!(f, "forest({trees} trees, depth <= {d})"),
            Candidate::Forest { trees, .. } => write!(f, "forest({trees} trees)"),
            Candidate::Softmax { alpha } => write!(f, "softmax(alpha {alpha})"),
            Candidate::Mlp {
                layers,
                width,
                alpha,
            } => write!(f, "mlp({layers}x{width} relu, alpha {alpha})"),
        }
    }
}

/// The default grid: forests of 100 and 300 fully grown trees, softmax regression with a
/// light and a strong penalty, and MLPs of one hidden layer of 100 units (networkML's shape)
/// and two of 64. (Depth-limited forests were tried on the IoT Sentinel benchmark and lost
/// by 25 points of F1 at depth 8, so they are not in the default.)
#[must_use]
pub fn default_grid() -> Vec<Candidate> {
    vec![
        Candidate::Mlp {
            layers: 1,
            width: 100,
            alpha: 1e-3,
        },
        Candidate::Mlp {
            layers: 2,
            width: 64,
            alpha: 1e-2,
        },
        Candidate::Forest {
            trees: 100,
            max_depth: None,
        },
        Candidate::Forest {
            trees: 300,
            max_depth: None,
        },
        Candidate::Softmax { alpha: 0.1 },
        Candidate::Softmax { alpha: 10.0 },
    ]
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Cross-validation folds (capped at the number of captures).
    pub folds: usize,
    /// Cross-validation repeats, each with its own fold assignment; predictions are pooled.
    pub repeats: usize,
    /// The seed of fold assignment and trees.
    pub seed: u64,
    /// Candidates, in order of preference on ties.
    pub grid: Vec<Candidate>,
    /// The model's name.
    pub name: String,
    /// `Decision::unknown_threshold` of the saved model, applied to calibrated
    /// probabilities.
    pub unknown_threshold: f64,
    /// The quantile of held-out nearest-neighbour distances that becomes the model's novelty
    /// threshold ([`crate::model::Novelty`]).
    pub novelty_quantile: f64,
}

/// The grid restricted to one family (all of [`default_grid`] for `None`).
#[must_use]
pub fn family_grid(family: Option<Family>) -> Vec<Candidate> {
    default_grid()
        .into_iter()
        .filter(|c| family.is_none_or(|f| c.family() == f))
        .collect()
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            folds: DEFAULT_FOLDS,
            repeats: 1,
            seed: DEFAULT_SEED,
            grid: default_grid(),
            name: "trident-trained".into(),
            unknown_threshold: DEFAULT_UNKNOWN_THRESHOLD,
            novelty_quantile: DEFAULT_NOVELTY_QUANTILE,
        }
    }
}

/// One candidate's cross-validated scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateScore {
    /// The candidate.
    pub candidate: Candidate,
    /// Its name for people.
    pub description: String,
    /// Weighted F1 of the pooled out-of-fold predictions.
    pub weighted_f1: f64,
    /// Their accuracy.
    pub accuracy: f64,
    /// Expected calibration error of their (uncalibrated) probabilities.
    pub ece: f64,
}

/// What training produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The model refitted on all samples with the chosen candidate.
    pub model: ModelFile,
    /// Every candidate's scores, in grid order.
    pub scores: Vec<CandidateScore>,
    /// Index of the chosen candidate in `scores`.
    pub chosen: usize,
    /// The chosen candidate's out-of-fold evaluation (pooled over folds and repeats).
    pub cv_report: EvalReport,
    /// Every out-of-fold prediction of the chosen candidate.
    pub cv_predictions: Vec<CvPrediction>,
    /// How the novelty threshold was set.
    pub novelty: NoveltySummary,
}

/// One out-of-fold prediction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CvPrediction {
    /// The capture the sample came from.
    pub capture: String,
    /// The host.
    pub mac: String,
    /// Its labelled role.
    #[serde(rename = "true")]
    pub truth: String,
    /// The role predicted by the model trained without its capture.
    pub predicted: String,
}

/// splitmix64: a small, well-mixed generator for fold shuffles and per-tree seeds.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fold of each sample: captures are dealt to folds class by class after a seeded shuffle,
/// so each fold gets about the same share of every role and a capture is never split.
fn assign_folds(samples: &[Sample], folds: usize, seed: u64) -> Vec<usize> {
    // Captures in first-seen order, each with the role of its first sample.
    let mut capture_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut capture_role: Vec<&str> = Vec::new();
    for s in samples {
        capture_index.entry(&s.capture).or_insert_with(|| {
            capture_role.push(&s.role);
            capture_role.len() - 1
        });
    }
    let mut by_role: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (c, role) in capture_role.iter().enumerate() {
        by_role.entry(role).or_default().push(c);
    }
    let mut state = seed;
    let mut capture_fold = vec![0usize; capture_role.len()];
    let mut next = 0usize;
    for captures in by_role.values_mut() {
        // Fisher-Yates.
        for i in (1..captures.len()).rev() {
            let j = usize::try_from(splitmix(&mut state) % (i as u64 + 1)).unwrap_or(0);
            captures.swap(i, j);
        }
        for &c in captures.iter() {
            if let Some(f) = capture_fold.get_mut(c) {
                *f = next % folds;
            }
            next += 1;
        }
    }
    samples
        .iter()
        .map(|s| {
            capture_index
                .get(s.capture.as_str())
                .and_then(|&c| capture_fold.get(c))
                .copied()
                .unwrap_or(0)
        })
        .collect()
}

/// Fits a standard scaler (population variance, as scikit-learn; zero variance gets scale 1).
fn fit_scaler(rows: &[&[f64]], n_features: usize) -> Scaler {
    #[allow(clippy::cast_precision_loss)]
    let n = rows.len().max(1) as f64;
    let mut mean = vec![0.0f64; n_features];
    for r in rows {
        for (m, v) in mean.iter_mut().zip(*r) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= n;
    }
    let mut var = vec![0.0f64; n_features];
    for r in rows {
        for ((s, v), m) in var.iter_mut().zip(*r).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    for s in &mut var {
        *s /= n;
    }
    let scale = var
        .iter()
        .map(|v| {
            let s = v.sqrt();
            if s.is_finite() && s > 0.0 { s } else { 1.0 }
        })
        .collect();
    Scaler {
        mean,
        scale,
        var,
        n_samples_seen: rows.len() as u64,
    }
}

/// `(x - mean) / scale`, as [`Model::standardise`] computes it, so forest thresholds learnt
/// here compare exactly at inference.
fn standardise(scaler: &Scaler, row: &[f64]) -> Vec<f64> {
    row.iter()
        .zip(scaler.mean.iter().zip(&scaler.scale))
        .map(|(x, (m, s))| (x - m) / s)
        .collect()
}

/// One cell of a smartcore matrix (its `Array` trait is imported only here, because it
/// would shadow slice `get` everywhere else).
fn cell(m: &DenseMatrix<f64>, row: usize, col: usize) -> f64 {
    use smartcore::linalg::basic::arrays::Array;
    *m.get((row, col))
}

fn fit_error(candidate: Candidate, message: impl std::fmt::Display) -> TrainError {
    TrainError::Fit {
        candidate: candidate.to_string(),
        message: message.to_string(),
    }
}

/// Converts one smartcore tree (through its serde form) into trident's; `class_map` maps
/// smartcore's class indices (into the sorted training labels) to the model's classes.
fn convert_tree(
    value: &serde_json::Value,
    class_map: &[usize],
    candidate: Candidate,
) -> Result<Tree, TrainError> {
    let nodes = value
        .get("nodes")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| fit_error(candidate, "tree without nodes"))?;
    let as_index = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_u64)
            .and_then(|x| usize::try_from(x).ok())
    };
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        let output = as_index(node.get("output"))
            .and_then(|o| class_map.get(o).copied())
            .ok_or_else(|| fit_error(candidate, "tree node without a valid output"))?;
        let split = match (
            as_index(node.get("true_child")),
            as_index(node.get("false_child")),
        ) {
            (Some(le), Some(gt)) => Some(Split {
                feature: as_index(node.get("split_feature"))
                    .ok_or_else(|| fit_error(candidate, "split without feature"))?,
                threshold: node
                    .get("split_value")
                    .and_then(serde_json::Value::as_f64)
                    .ok_or_else(|| fit_error(candidate, "split without value"))?,
                le,
                gt,
            }),
            _ => None,
        };
        out.push(TreeNode {
            class: output,
            split,
        });
    }
    Ok(Tree { nodes: out })
}

/// Fits one candidate on standardised rows `x` with class indices `y` (into `n_classes`).
fn fit(
    candidate: Candidate,
    x: &[Vec<f64>],
    y: &[u32],
    n_classes: usize,
    seed: u64,
) -> Result<Network, TrainError> {
    let matrix = DenseMatrix::from_2d_vec(&x.to_vec()).map_err(|e| fit_error(candidate, e))?;
    let present: Vec<u32> = y
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let class_map: Vec<usize> = present
        .iter()
        .map(|&c| usize::try_from(c).unwrap_or(0))
        .collect();
    let y = y.to_vec();
    match candidate {
        Candidate::Mlp {
            layers,
            width,
            alpha,
        } => {
            let labels: Vec<usize> = y.iter().map(|&c| usize::try_from(c).unwrap_or(0)).collect();
            let params = MlpParams {
                hidden: vec![usize::from(width); usize::from(layers)],
                alpha,
                seed,
                batch_size: MLP_BATCH_SIZE,
                max_epochs: MLP_MAX_EPOCHS,
                patience: MLP_PATIENCE,
                ..MlpParams::default()
            };
            let fit =
                fit_mlp(x, &labels, n_classes, &params).map_err(|e| fit_error(candidate, e))?;
            Ok(Network::Mlp {
                layers: fit.layers,
                output: OutputActivation::Softmax,
            })
        }
        Candidate::Forest { trees, max_depth } => {
            let mut out = Vec::with_capacity(usize::from(trees));
            let mut state = seed;
            for _ in 0..trees {
                let mut params = RandomForestClassifierParameters::default()
                    .with_n_trees(1)
                    .with_seed(splitmix(&mut state));
                if let Some(d) = max_depth {
                    params = params.with_max_depth(d);
                }
                let forest = RandomForestClassifier::fit(&matrix, &y, params)
                    .map_err(|e| fit_error(candidate, e))?;
                let value = serde_json::to_value(&forest).map_err(|e| fit_error(candidate, e))?;
                let tree = value
                    .get("trees")
                    .and_then(|t| t.get(0))
                    .ok_or_else(|| fit_error(candidate, "forest without a tree"))?;
                out.push(convert_tree(tree, &class_map, candidate)?);
            }
            Ok(Network::Forest { trees: out })
        }
        Candidate::Softmax { alpha } => {
            if present.len() < 2 {
                return Err(fit_error(candidate, "needs at least two classes"));
            }
            let params = LogisticRegressionParameters::default().with_alpha(alpha);
            let lr = LogisticRegression::fit(&matrix, &y, params)
                .map_err(|e| fit_error(candidate, e))?;
            let coef = lr.coefficients();
            let intercept = lr.intercept();
            let n_features = x.first().map_or(0, Vec::len);
            let mut weights = vec![vec![0.0f64; n_classes]; n_features];
            let mut biases = vec![ABSENT_CLASS_BIAS; n_classes];
            if present.len() == 2 {
                // Binary: sigmoid(w·x + b) for the second class = softmax over (0, w·x + b).
                let (Some(&c0), Some(&c1)) = (class_map.first(), class_map.get(1)) else {
                    return Err(fit_error(candidate, "class map"));
                };
                for (i, row) in weights.iter_mut().enumerate() {
                    if let Some(w) = row.get_mut(c1) {
                        *w = cell(coef, 0, i);
                    }
                }
                if let Some(b) = biases.get_mut(c0) {
                    *b = 0.0;
                }
                if let Some(b) = biases.get_mut(c1) {
                    *b = cell(intercept, 0, 0);
                }
            } else {
                for (k, &c) in class_map.iter().enumerate() {
                    for (i, row) in weights.iter_mut().enumerate() {
                        if let Some(w) = row.get_mut(c) {
                            *w = cell(coef, k, i);
                        }
                    }
                    if let Some(b) = biases.get_mut(c) {
                        *b = cell(intercept, k, 0);
                    }
                }
            }
            Ok(Network::Mlp {
                layers: vec![DenseLayer {
                    weights,
                    biases,
                    activation: Activation::Identity,
                }],
                output: OutputActivation::Softmax,
            })
        }
    }
}

fn model_file(
    name: &str,
    schema: FeatureSchema,
    classes: &[String],
    scaler: Scaler,
    network: Network,
    unknown_threshold: f64,
    training: serde_json::Value,
) -> ModelFile {
    ModelFile {
        format: MODEL_FORMAT.to_owned(),
        version: MODEL_VERSION,
        name: name.to_owned(),
        feature_schema: schema,
        classes: classes.to_vec(),
        class_display_names: BTreeMap::new(),
        scaler,
        network,
        decision: Decision {
            unknown_threshold,
            top_n: TOP_N.min(classes.len()).max(1),
        },
        provenance: Provenance {
            source: format!(
                "trained by trident {} (smartcore 0.4 forests and softmax, trident's own MLP)",
                env!("CARGO_PKG_VERSION")
            ),
            licence: "NOASSERTION".into(),
            copyright: "the user who trained it".into(),
            training,
        },
        calibration: None,
        novelty: None,
    }
}

/// Fits `candidate` on the samples at `train` with a scaler fitted on them only.
fn fit_model(
    samples: &[Sample],
    train: &[usize],
    classes: &[String],
    candidate: Candidate,
    seed: u64,
    training: serde_json::Value,
    options: &TrainOptions,
) -> Result<Model, TrainError> {
    let n_features = feature_names().len();
    let rows: Vec<&[f64]> = train
        .iter()
        .filter_map(|&i| samples.get(i).map(|s| s.features.as_slice()))
        .collect();
    let scaler = fit_scaler(&rows, n_features);
    let x: Vec<Vec<f64>> = rows.iter().map(|r| standardise(&scaler, r)).collect();
    let y: Vec<u32> = train
        .iter()
        .filter_map(|&i| samples.get(i))
        .map(|s| {
            classes
                .binary_search(&s.role)
                .ok()
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(0)
        })
        .collect();
    let network = fit(candidate, &x, &y, classes.len(), seed)?;
    let file = model_file(
        &options.name,
        FeatureSchema {
            name: FEATURE_SCHEMA.to_owned(),
            features: feature_names().to_vec(),
        },
        classes,
        scaler,
        network,
        options.unknown_threshold,
        training,
    );
    Ok(Model::new(file)?)
}

/// Trains: cross-validates every candidate of the grid, picks the best by weighted F1 and
/// refits it on all samples. The samples' feature rows must follow networkML's schema.
pub fn train(samples: &[Sample], options: &TrainOptions) -> Result<TrainOutcome, TrainError> {
    if samples.is_empty() {
        return Err(TrainError::NoSamples);
    }
    if options.grid.is_empty() {
        return Err(TrainError::Options("the model grid is empty".into()));
    }
    if options.folds < 2 || options.folds > MAX_FOLDS {
        return Err(TrainError::Options(format!(
            "folds must be 2 to {MAX_FOLDS}, not {}",
            options.folds
        )));
    }
    if options.repeats == 0 || options.repeats > MAX_REPEATS {
        return Err(TrainError::Options(format!(
            "repeats must be 1 to {MAX_REPEATS}, not {}",
            options.repeats
        )));
    }
    let n_features = feature_names().len();
    if let Some(s) = samples.iter().find(|s| s.features.len() != n_features) {
        return Err(TrainError::Options(format!(
            "{}: {} features, the schema has {n_features}",
            s.capture,
            s.features.len()
        )));
    }
    let classes: Vec<String> = samples
        .iter()
        .map(|s| s.role.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.len() < 2 {
        return Err(TrainError::TooFewClasses {
            found: classes.len(),
        });
    }
    let captures = samples
        .iter()
        .map(|s| s.capture.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    if captures < 2 {
        return Err(TrainError::TooFewCaptures { found: captures });
    }
    let folds = options.folds.min(captures);
    let truth: Vec<String> = samples.iter().map(|s| s.role.clone()).collect();
    let mut scores = Vec::with_capacity(options.grid.len());
    let mut best: Option<(usize, EvalReport, Vec<CvPrediction>, HeldOut)> = None;
    for (g, &candidate) in options.grid.iter().enumerate() {
        let mut all_truth = Vec::new();
        let mut all_pred = Vec::new();
        let mut rows = Vec::new();
        let mut held_out = HeldOut::default();
        for repeat in 0..options.repeats {
            let fold_seed = options.seed.wrapping_add(repeat as u64);
            let fold_of = assign_folds(samples, folds, fold_seed);
            for fold in 0..folds {
                let (test, train): (Vec<usize>, Vec<usize>) =
                    (0..samples.len()).partition(|&i| fold_of.get(i) == Some(&fold));
                if test.is_empty() || train.is_empty() {
                    continue;
                }
                let model = fit_model(
                    samples,
                    &train,
                    &classes,
                    candidate,
                    options.seed ^ (fold as u64 + 1).wrapping_mul(0x9E37_79B9),
                    serde_json::Value::Null,
                    options,
                )?;
                for &i in &test {
                    let Some(s) = samples.get(i) else { continue };
                    let proba = model
                        .predict_proba(&s.features)
                        .unwrap_or_else(|| vec![0.0; classes.len()]);
                    let predicted = argmax(&proba)
                        .and_then(|c| classes.get(c).cloned())
                        .unwrap_or_else(|| "Unknown".to_owned());
                    rows.push(CvPrediction {
                        capture: s.capture.clone(),
                        mac: s.mac.to_string(),
                        truth: s.role.clone(),
                        predicted: predicted.clone(),
                    });
                    held_out.push(s, &classes, proba);
                    all_truth.push(s.role.clone());
                    all_pred.push(predicted);
                }
            }
        }
        let report = EvalReport::new(&all_truth, &all_pred);
        scores.push(CandidateScore {
            candidate,
            description: candidate.to_string(),
            weighted_f1: report.weighted_f1,
            accuracy: report.accuracy,
            ece: expected_calibration_error(&held_out.proba, &held_out.truth, ECE_BINS),
        });
        if best
            .as_ref()
            .is_none_or(|(_, b, _, _)| report.weighted_f1 > b.weighted_f1)
        {
            best = Some((g, report, rows, held_out));
        }
    }
    let Some((chosen, cv_report, cv_predictions, held_out)) = best else {
        return Err(TrainError::NoSamples);
    };
    let candidate = options
        .grid
        .get(chosen)
        .copied()
        .ok_or_else(|| TrainError::Options("grid".into()))?;
    let calibration = held_out.calibration();
    let (distances, beyond_z) = held_out_distances(samples, folds, options);
    let threshold = quantile(&distances, options.novelty_quantile);
    let mut class_counts: BTreeMap<&str, u64> = BTreeMap::new();
    for t in &truth {
        *class_counts.entry(t).or_default() += 1;
    }
    let novelty_summary = NoveltySummary {
        held_out: distances.len(),
        threshold,
        quantile: options.novelty_quantile,
        held_out_beyond_max_z: beyond_z,
    };
    let training = serde_json::json!({
        "trainer": format!("trident {}", env!("CARGO_PKG_VERSION")),
        "library": "smartcore 0.4 (forest, softmax); trident mlp (Adam, early stopping)",
        "seed": options.seed,
        "folds": folds,
        "repeats": options.repeats,
        "cross_validation": "stratified by role, grouped by capture, scaler fitted per fold",
        "samples": samples.len(),
        "captures": captures,
        "class_counts": class_counts,
        "grid": scores,
        "chosen": candidate,
        "cv_accuracy": cv_report.accuracy,
        "cv_weighted_f1": cv_report.weighted_f1,
        "calibration": calibration,
        "novelty": novelty_summary,
    });
    let all: Vec<usize> = (0..samples.len()).collect();
    let model = fit_model(
        samples,
        &all,
        &classes,
        candidate,
        options.seed,
        training,
        options,
    )?;
    let mut file = model.file().clone();
    file.calibration = Some(calibration);
    file.novelty = Some(Novelty {
        clip: NOVELTY_CLIP,
        threshold,
        quantile: options.novelty_quantile,
        prototypes: samples
            .iter()
            .map(|s| {
                standardise(&file.scaler, &s.features)
                    .into_iter()
                    .map(|v| (v * PROTOTYPE_DECIMALS).round() / PROTOTYPE_DECIMALS)
                    .collect()
            })
            .take(crate::model::MAX_PROTOTYPES)
            .collect(),
    });
    // Validate what is written.
    let model = Model::new(file)?;
    Ok(TrainOutcome {
        model: model.file().clone(),
        scores,
        chosen,
        cv_report,
        cv_predictions,
        novelty: novelty_summary,
    })
}

/// The index of the largest value (ties: the first).
fn argmax(v: &[f64]) -> Option<usize> {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

/// Held-out probabilities of one candidate, with their truth and capture.
#[derive(Debug, Default)]
struct HeldOut {
    proba: Vec<Vec<f64>>,
    truth: Vec<usize>,
    capture: Vec<String>,
}

impl HeldOut {
    fn push(&mut self, s: &Sample, classes: &[String], proba: Vec<f64>) {
        self.truth
            .push(classes.binary_search(&s.role).unwrap_or(usize::MAX));
        self.proba.push(proba);
        self.capture.push(s.capture.clone());
    }

    /// The temperature fitted on all held-out predictions, and its figures. The "after"
    /// calibration error is cross-fitted: captures are split in two halves (alternately in
    /// name order), the temperature of each half is applied to the other.
    fn calibration(&self) -> Calibration {
        let t = fit_temperature(&self.proba, &self.truth);
        let names: BTreeSet<&str> = self.capture.iter().map(String::as_str).collect();
        let half: BTreeMap<&str, bool> = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i % 2 == 0))
            .collect();
        let side = |want: bool| -> (Vec<Vec<f64>>, Vec<usize>) {
            self.proba
                .iter()
                .zip(&self.truth)
                .zip(&self.capture)
                .filter(|(_, c)| half.get(c.as_str()).copied() == Some(want))
                .map(|((p, t), _)| (p.clone(), *t))
                .unzip()
        };
        let (pa, ta) = side(true);
        let (pb, tb) = side(false);
        let (temp_a, temp_b) = (fit_temperature(&pa, &ta), fit_temperature(&pb, &tb));
        let mut crossed = Vec::with_capacity(self.proba.len());
        let mut crossed_truth = Vec::with_capacity(self.proba.len());
        for (ps, ts, temp) in [(pa, ta, temp_b), (pb, tb, temp_a)] {
            for (mut p, t) in ps.into_iter().zip(ts) {
                apply_temperature(&mut p, temp);
                crossed.push(p);
                crossed_truth.push(t);
            }
        }
        Calibration {
            temperature: t,
            samples: self.proba.len() as u64,
            ece_before: expected_calibration_error(&self.proba, &self.truth, ECE_BINS),
            ece_after: expected_calibration_error(&crossed, &crossed_truth, ECE_BINS),
            nll_before: mean_nll(&self.proba, &self.truth, 1.0),
            nll_after: mean_nll(&self.proba, &self.truth, t),
        }
    }
}

/// How the novelty threshold was set, and how often held-out hosts trip the scaler's
/// per-feature bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NoveltySummary {
    /// Held-out distances the threshold came from.
    pub held_out: usize,
    /// The threshold.
    pub threshold: f64,
    /// Its quantile.
    pub quantile: f64,
    /// Held-out hosts with a feature beyond [`crate::hosts::DEFAULT_MAX_ABS_Z`] standard
    /// deviations of their fold's training data (these would be `Unknown` by that rule).
    pub held_out_beyond_max_z: usize,
}

/// For every cross-validation fold of every repeat, each held-out host's novelty distance
/// to the fold's training hosts (scaler fitted on the training side), and how many held-out
/// hosts lie beyond the per-feature z bound.
fn held_out_distances(
    samples: &[Sample],
    folds: usize,
    options: &TrainOptions,
) -> (Vec<f64>, usize) {
    let n_features = feature_names().len();
    let mut out = Vec::new();
    let mut beyond = 0;
    for repeat in 0..options.repeats {
        let fold_of = assign_folds(samples, folds, options.seed.wrapping_add(repeat as u64));
        for fold in 0..folds {
            let (test, train): (Vec<_>, Vec<_>) =
                samples.iter().zip(&fold_of).partition(|(_, f)| **f == fold);
            if test.is_empty() || train.is_empty() {
                continue;
            }
            let rows: Vec<&[f64]> = train.iter().map(|(s, _)| s.features.as_slice()).collect();
            let scaler = fit_scaler(&rows, n_features);
            let prototypes: Vec<Vec<f64>> = rows.iter().map(|r| standardise(&scaler, r)).collect();
            for (s, _) in test {
                let z = standardise(&scaler, &s.features);
                if z.iter().any(|v| v.abs() > crate::hosts::DEFAULT_MAX_ABS_Z) {
                    beyond += 1;
                }
                if let Some(d) = nearest_distance(&z, &prototypes, NOVELTY_CLIP) {
                    out.push(d);
                }
            }
        }
    }
    (out, beyond)
}

/// The `q` quantile of `values` with linear interpolation (numpy's default); 0 when empty.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    #[allow(clippy::cast_precision_loss)]
    let frac = pos - lo as f64;
    let a = v.get(lo).copied().unwrap_or(0.0);
    let b = v.get(hi).copied().unwrap_or(a);
    a + (b - a) * frac
}

/// Fits one candidate on labelled feature rows of any schema (the flow-level attack model,
/// [`crate::attack`], uses it): a standard scaler fitted on `rows`, then the candidate on
/// the standardised rows. Classes are the sorted distinct `labels`. `training` is stored in
/// the model's provenance. No cross-validation, calibration or novelty threshold: the
/// caller evaluates on data it held out.
///
/// # Errors
/// [`TrainError::NoSamples`] without rows; [`TrainError::Options`] when rows and labels
/// differ in number or a row's width differs from the schema's; [`TrainError::TooFewClasses`]
/// with fewer than two classes; [`TrainError::Fit`] when the learner fails.
pub fn fit_rows(
    rows: &[Vec<f64>],
    labels: &[String],
    schema: FeatureSchema,
    candidate: Candidate,
    seed: u64,
    name: &str,
    training: serde_json::Value,
) -> Result<Model, TrainError> {
    if rows.is_empty() {
        return Err(TrainError::NoSamples);
    }
    if rows.len() != labels.len() {
        return Err(TrainError::Options(format!(
            "{} rows but {} labels",
            rows.len(),
            labels.len()
        )));
    }
    let n_features = schema.features.len();
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n_features) {
        return Err(TrainError::Options(format!(
            "row {i}: {} features, the schema {} has {n_features}",
            r.len(),
            schema.name
        )));
    }
    let classes: Vec<String> = labels
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.len() < 2 {
        return Err(TrainError::TooFewClasses {
            found: classes.len(),
        });
    }
    let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
    let scaler = fit_scaler(&refs, n_features);
    let x: Vec<Vec<f64>> = refs.iter().map(|r| standardise(&scaler, r)).collect();
    let y: Vec<u32> = labels
        .iter()
        .map(|l| {
            classes
                .binary_search(l)
                .ok()
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(0)
        })
        .collect();
    let network = fit(candidate, &x, &y, classes.len(), seed)?;
    let file = model_file(
        name,
        schema,
        &classes,
        scaler,
        network,
        DEFAULT_UNKNOWN_THRESHOLD,
        training,
    );
    Ok(Model::new(file)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parsing() {
        assert!(parse_mac("00:17:88:24:76:FF").is_some());
        assert!(parse_mac("00-17-88-24-76-ff").is_some());
        assert!(parse_mac("00:17:88:24:76").is_none());
        assert!(parse_mac("00:17:88:24:76:ff:00").is_none());
        assert!(parse_mac("0:17:88:24:76:ff").is_none());
    }

    #[test]
    fn role_from_networkml_name() {
        assert_eq!(
            role_from_file_name(Path::new("/x/Two-IOT161012-node5.pcap")).as_deref(),
            Some("Two")
        );
        assert_eq!(role_from_file_name(Path::new("plain.pcap")), None);
        assert_eq!(role_from_file_name(Path::new("-x.pcap")), None);
    }

    /// Every capture lands in exactly one fold, each role spread over the folds.
    #[test]
    fn folds_keep_captures_whole_and_stratify() {
        let mut samples = Vec::new();
        for c in 0..20 {
            for h in 0..2 {
                samples.push(Sample {
                    capture: format!("c{c}"),
                    mac: MacAddr::from_slice(&[2, 0, 0, 0, 0, h]).unwrap_or_default(),
                    role: if c % 2 == 0 { "a" } else { "b" }.into(),
                    features: Vec::new(),
                });
            }
        }
        let folds = assign_folds(&samples, 5, 7);
        let mut fold_of_capture: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for (s, f) in samples.iter().zip(&folds) {
            fold_of_capture.entry(&s.capture).or_default().insert(*f);
        }
        assert!(fold_of_capture.values().all(|f| f.len() == 1));
        for fold in 0..5 {
            for role in ["a", "b"] {
                let n = samples
                    .iter()
                    .zip(&folds)
                    .filter(|(s, f)| **f == fold && s.role == role)
                    .count();
                // 10 captures of each role over 5 folds: 2 captures, 4 samples each.
                assert_eq!(n, 4, "fold {fold} role {role}");
            }
        }
        assert_eq!(folds, assign_folds(&samples, 5, 7));
    }

    #[test]
    fn scaler_is_population_standardisation() {
        let rows: Vec<&[f64]> = vec![&[1.0, 5.0], &[3.0, 5.0]];
        let s = fit_scaler(&rows, 2);
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert_eq!(s.scale, vec![1.0, 1.0]); // std 1, and 0 → 1
        assert_eq!(standardise(&s, &[3.0, 5.0]), vec![1.0, 0.0]);
    }
}
