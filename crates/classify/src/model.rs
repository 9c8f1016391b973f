//! trident's model file: a versioned JSON document holding everything inference needs
//! (feature schema, classes, scaler, network) and where the numbers came from.
//!
//! # Why a file format of our own
//!
//! networkML ships its model as four files, one of them a scikit-learn pickle that only
//! loads in a matching Python. trident keeps one self-describing JSON file instead: it names
//! the feature schema it was trained on, so a model is never silently applied to features
//! computed differently (loading checks the names, in order); it carries a `format` and a
//! `version`, so an old trident refuses a newer file instead of misreading it; and it keeps
//! the provenance (origin, licence, training summary) next to the numbers.
//!
//! Numbers are written with the shortest round-trip representation and read with a correctly
//! rounded parser, so a converted model computes bit for bit what the original did.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ClassifyError;

/// The `format` value of every trident model file.
pub const MODEL_FORMAT: &str = "trident-model";
/// The model file version this build writes and reads.
pub const MODEL_VERSION: u32 = 1;
/// The networkML 0.6.19 host model converted to trident's format; the default model of
/// `trident classify`. Origin and licence: `models/NOTICE`.
pub const NETWORKML_0_6_19_JSON: &str = include_str!("../models/networkml-0.6.19.json");
/// The most layers a network may have; a file declaring more is rejected as invalid.
pub const MAX_LAYERS: usize = 16;
/// The widest layer accepted; bounds the memory a hostile model file can make us allocate.
pub const MAX_LAYER_WIDTH: usize = 4096;
/// Most trees a forest model may have.
pub const MAX_TREES: usize = 4096;
/// Most nodes one tree may have.
pub const MAX_TREE_NODES: usize = 1 << 20;
/// Most training prototypes a novelty section may hold.
pub const MAX_PROTOTYPES: usize = 1 << 16;

/// A model file as stored on disk. [`Model::from_file`] validates it; this type is public so
/// tools (training, conversion) can build and write one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// The file format version, [`MODEL_VERSION`].
    pub version: u32,
    /// A short name for the model, e.g. `networkml-0.6.19-host`.
    pub name: String,
    /// The features the model takes, in input order.
    pub feature_schema: FeatureSchema,
    /// Class names; output unit `j` is the probability of `classes[j]`.
    pub classes: Vec<String>,
    /// Human-readable names of classes (networkML's `label_assignments.json`), used in
    /// `predict.json`; classes not listed keep their name.
    #[serde(default)]
    pub class_display_names: BTreeMap<String, String>,
    /// Standardisation applied to the features before the network.
    pub scaler: Scaler,
    /// The classifier.
    pub network: Network,
    /// How probabilities become a decision.
    pub decision: Decision,
    /// Where the model came from.
    pub provenance: Provenance,
    /// Temperature scaling fitted on held-out predictions, so reported confidences are
    /// calibrated ([`Model::predict_calibrated`]); absent: probabilities as computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// What "like the training data" means for this model ([`Model::novelty`]); absent:
    /// only the scaler's per-feature bounds can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub novelty: Option<Novelty>,
}

/// Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017): the
/// calibrated probabilities are `softmax(log p / temperature)`, which for a softmax network
/// is its logits divided by the temperature. It never changes the best class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The temperature (> 0; above 1 softens over-confident probabilities).
    pub temperature: f64,
    /// Held-out predictions it was fitted on.
    pub samples: u64,
    /// Expected calibration error of those predictions before scaling.
    pub ece_before: f64,
    /// The same after scaling, measured by cross-fitting (temperature fitted on one half of
    /// the captures, measured on the other, and the reverse).
    pub ece_after: f64,
    /// Mean negative log-likelihood before scaling.
    pub nll_before: f64,
    /// The same after scaling (fitted and measured on all held-out predictions).
    pub nll_after: f64,
}

/// Nearest-neighbour novelty: a host whose standardised features lie further than
/// `threshold` from every training host is unlike anything the model learnt from.
///
/// The distance is Euclidean over standardised features with each coordinate's difference
/// clipped at `clip`, so one wild feature (already caught by the scaler's per-feature
/// bound) does not decide alone. The threshold is a high quantile of the same distance from
/// held-out hosts (cross-validation: hosts of captures not used for training) to their
/// fold's training hosts, so about `1 - quantile` of in-distribution hosts exceed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Novelty {
    /// The per-coordinate clip.
    pub clip: f64,
    /// Distances above this are novel.
    pub threshold: f64,
    /// The quantile of held-out distances the threshold is.
    pub quantile: f64,
    /// The training hosts, standardised with the model's scaler (rounded for size).
    pub prototypes: Vec<Vec<f64>>,
}

/// The feature schema a model was trained on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSchema {
    /// The schema's name, e.g. `networkml-0.6.19-host`.
    pub name: String,
    /// Feature names in model input order.
    pub features: Vec<String>,
}

/// scikit-learn `StandardScaler`: `z = (x - mean) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scaler {
    /// Per-feature training mean.
    pub mean: Vec<f64>,
    /// Per-feature divisor: the training standard deviation, 1 where it was 0.
    pub scale: Vec<f64>,
    /// Per-feature training variance (kept for out-of-distribution checks).
    #[serde(default)]
    pub var: Vec<f64>,
    /// Number of training samples the statistics came from.
    #[serde(default)]
    pub n_samples_seen: u64,
}

/// The classifier. Tagged by `kind` so other model families can be added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Network {
    /// A multi-layer perceptron: dense layers, the last one's output goes through
    /// [`Network::Mlp::output`].
    Mlp {
        /// Dense layers in order.
        layers: Vec<DenseLayer>,
        /// The output function of the last layer.
        output: OutputActivation,
    },
    /// A tree ensemble (random forest): each tree votes for one class; a class's
    /// probability is its share of the votes.
    Forest {
        /// The trees, in training order.
        trees: Vec<Tree>,
    },
}

/// One decision tree of a [`Network::Forest`]: node 0 is the root, and every child index
/// is greater than its parent's, so evaluation always ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// The nodes.
    pub nodes: Vec<TreeNode>,
}

/// A node of a [`Tree`]: a leaf (no `split`) votes for `class`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeNode {
    /// The class this node votes for when it is a leaf (index into the model's classes).
    pub class: usize,
    /// The test of an inner node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
}

/// An inner node's test on one standardised feature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// Index of the feature tested.
    pub feature: usize,
    /// Go to `le` when the standardised feature is `<= threshold`, else (and when it is
    /// NaN) to `gt`.
    pub threshold: f64,
    /// Child for `<=`.
    pub le: usize,
    /// Child for `>` (and NaN).
    pub gt: usize,
}

/// One dense layer: `out = activation(in · weights + biases)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseLayer {
    /// `weights[i][j]`: from input unit `i` to output unit `j` (scikit-learn's `coefs_`).
    pub weights: Vec<Vec<f64>>,
    /// One bias per output unit.
    pub biases: Vec<f64>,
    /// Applied to this layer's output (the last layer uses `identity`; its output goes to
    /// the network's output function).
    pub activation: Activation,
}

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x`.
    Identity,
}

/// The output function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutputActivation {
    /// `exp(o - max o) / sum`, summed the way numpy does.
    Softmax,
}

/// How probabilities become a decision (networkML's constants).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The top class is reported only if its probability is strictly greater than this;
    /// otherwise the role is `Unknown`.
    pub unknown_threshold: f64,
    /// How many (class, probability) pairs are reported.
    pub top_n: usize,
}

/// Where a model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The origin, in words.
    pub source: String,
    /// Its licence (SPDX id).
    pub licence: String,
    /// Copyright holder.
    pub copyright: String,
    /// Training summary as the trainer reported it (free-form).
    #[serde(default)]
    pub training: serde_json::Value,
}

/// A validated model, ready for inference.
#[derive(Debug, Clone)]
pub struct Model {
    file: ModelFile,
    /// Per layer: (n_in, n_out, row-major weights `[n_in][n_out]`).
    dense: Vec<(usize, usize, Vec<f64>)>,
}

impl Model {
    /// The built-in networkML 0.6.19 model.
    pub fn networkml_0_6_19() -> Result<Model, ClassifyError> {
        Model::from_json_str(NETWORKML_0_6_19_JSON)
    }

    /// Loads and validates a model file.
    pub fn from_file(path: &Path) -> Result<Model, ClassifyError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClassifyError::ModelIo {
            path: path.to_path_buf(),
            source,
        })?;
        Model::from_json_str(&text)
    }

    /// Parses and validates a model from JSON text.
    pub fn from_json_str(text: &str) -> Result<Model, ClassifyError> {
        // Look at `format` and `version` first, so a file of another kind or a newer
        // version gets that message rather than a complaint about some missing key.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ClassifyError::ModelCorrupt(e.to_string()))?;
        let format = value.get("format").and_then(serde_json::Value::as_str);
        if format != Some(MODEL_FORMAT) {
            return Err(ClassifyError::ModelFormat {
                found: format.map_or_else(|| "(none)".to_owned(), str::to_owned),
            });
        }
        let version = value.get("version").and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(MODEL_VERSION)) {
            return Err(ClassifyError::ModelVersion {
                found: version
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(u32::MAX),
                supported: MODEL_VERSION,
            });
        }
        let file: ModelFile = serde_json::from_value(value)
            .map_err(|e| ClassifyError::ModelCorrupt(e.to_string()))?;
        Model::new(file)
    }

    /// Validates a model held in memory.
    pub fn new(file: ModelFile) -> Result<Model, ClassifyError> {
        let invalid = |m: String| Err(ClassifyError::ModelInvalid(m));
        let n_features = file.feature_schema.features.len();
        if n_features == 0 {
            return invalid("the feature schema lists no features".into());
        }
        if file.classes.is_empty() {
            return invalid("no classes".into());
        }
        if file.scaler.mean.len() != n_features || file.scaler.scale.len() != n_features {
            return invalid(format!(
                "scaler has {} means and {} scales for {n_features} features",
                file.scaler.mean.len(),
                file.scaler.scale.len()
            ));
        }
        if !file.scaler.var.is_empty() && file.scaler.var.len() != n_features {
            return invalid(format!(
                "scaler has {} variances for {n_features} features",
                file.scaler.var.len()
            ));
        }
        if let Some(i) = file
            .scaler
            .mean
            .iter()
            .chain(&file.scaler.var)
            .position(|v| !v.is_finite())
        {
            return invalid(format!("scaler value {i} is not finite"));
        }
        if let Some(i) = file
            .scaler
            .scale
            .iter()
            .position(|v| !v.is_finite() || *v == 0.0)
        {
            return invalid(format!("scale of feature {i} is zero or not finite"));
        }
        if file.decision.top_n == 0 || !(0.0..=1.0).contains(&file.decision.unknown_threshold) {
            return invalid("decision needs top_n >= 1 and a threshold in [0, 1]".into());
        }
        if let Some(c) = &file.calibration {
            if !(c.temperature.is_finite() && c.temperature > 0.0) {
                return invalid(format!(
                    "calibration temperature {} is not positive",
                    c.temperature
                ));
            }
        }
        if let Some(n) = &file.novelty {
            if !(n.clip.is_finite()
                && n.clip > 0.0
                && n.threshold.is_finite()
                && n.threshold >= 0.0)
            {
                return invalid("novelty needs a positive clip and a finite threshold".into());
            }
            if n.prototypes.is_empty() || n.prototypes.len() > MAX_PROTOTYPES {
                return invalid(format!(
                    "novelty has {} prototypes (1 to {MAX_PROTOTYPES} allowed)",
                    n.prototypes.len()
                ));
            }
            if let Some(i) = n
                .prototypes
                .iter()
                .position(|p| p.len() != n_features || p.iter().any(|v| !v.is_finite()))
            {
                return invalid(format!(
                    "novelty prototype {i} is not {n_features} finite values"
                ));
            }
        }
        let layers = match &file.network {
            Network::Mlp { layers, .. } => layers,
            Network::Forest { trees } => {
                validate_forest(trees, n_features, file.classes.len())
                    .map_err(ClassifyError::ModelInvalid)?;
                return Ok(Model {
                    file,
                    dense: Vec::new(),
                });
            }
        };
        if layers.is_empty() || layers.len() > MAX_LAYERS {
            return invalid(format!(
                "the network has {} layers (1 to {MAX_LAYERS} allowed)",
                layers.len()
            ));
        }
        let mut dense = Vec::with_capacity(layers.len());
        let mut n_in = n_features;
        for (k, layer) in layers.iter().enumerate() {
            let n_out = layer.biases.len();
            if n_out == 0 || n_out > MAX_LAYER_WIDTH {
                return invalid(format!("layer {k} has {n_out} units"));
            }
            if layer.weights.len() != n_in {
                return invalid(format!(
                    "layer {k} takes {} inputs, the previous layer gives {n_in}",
                    layer.weights.len()
                ));
            }
            let mut flat = Vec::with_capacity(n_in * n_out);
            for (i, row) in layer.weights.iter().enumerate() {
                if row.len() != n_out {
                    return invalid(format!(
                        "layer {k} weight row {i} has {} values for {n_out} units",
                        row.len()
                    ));
                }
                flat.extend_from_slice(row);
            }
            if flat.iter().chain(&layer.biases).any(|v| !v.is_finite()) {
                return invalid(format!("layer {k} has a value that is not finite"));
            }
            dense.push((n_in, n_out, flat));
            n_in = n_out;
        }
        if n_in != file.classes.len() {
            return invalid(format!(
                "the last layer has {n_in} units for {} classes",
                file.classes.len()
            ));
        }
        Ok(Model { file, dense })
    }

    /// The file this model was loaded from.
    #[must_use]
    pub fn file(&self) -> &ModelFile {
        &self.file
    }

    /// Feature names in input order.
    #[must_use]
    pub fn feature_names(&self) -> &[String] {
        &self.file.feature_schema.features
    }

    /// Class names in output order.
    #[must_use]
    pub fn classes(&self) -> &[String] {
        &self.file.classes
    }

    /// The display name of a class (networkML's `label_assignments.json`), or the class name.
    #[must_use]
    pub fn display_name<'a>(&'a self, class: &'a str) -> &'a str {
        self.file
            .class_display_names
            .get(class)
            .map_or(class, String::as_str)
    }

    /// The decision constants.
    #[must_use]
    pub fn decision(&self) -> Decision {
        self.file.decision
    }

    /// Checks that this model takes exactly the features a featurizer computes, in order.
    pub fn check_schema(&self, schema_name: &str, features: &[&str]) -> Result<(), ClassifyError> {
        let mine = &self.file.feature_schema;
        let same = mine.name == schema_name
            && mine.features.len() == features.len()
            && mine.features.iter().zip(features).all(|(a, b)| a == b);
        if same {
            return Ok(());
        }
        let first_difference = mine
            .features
            .iter()
            .map(String::as_str)
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(
                features
                    .iter()
                    .copied()
                    .map(Some)
                    .chain(std::iter::repeat(None)),
            )
            .take(mine.features.len().max(features.len()))
            .enumerate()
            .find(|(_, (got, want))| got != want)
            .map(|(i, (got, want))| {
                (
                    i,
                    want.unwrap_or("(none)").to_owned(),
                    got.unwrap_or("(none)").to_owned(),
                )
            });
        Err(ClassifyError::SchemaMismatch {
            expected: schema_name.to_owned(),
            found: mine.name.clone(),
            expected_len: features.len(),
            found_len: mine.features.len(),
            first_difference,
        })
    }

    /// The standardised features `(x - mean) / scale`, what the network sees. Values far from
    /// 0 (tens of standard deviations) mean the input is unlike anything in training.
    #[must_use]
    pub fn standardise(&self, features: &[f64]) -> Vec<f64> {
        features
            .iter()
            .zip(self.file.scaler.mean.iter().zip(&self.file.scaler.scale))
            .map(|(x, (m, s))| (x - m) / s)
            .collect()
    }

    /// [`Model::predict_proba`], then the model's temperature scaling if it has one: the
    /// confidences `trident classify` reports and thresholds.
    #[must_use]
    pub fn predict_calibrated(&self, features: &[f64]) -> Option<Vec<f64>> {
        let mut p = self.predict_proba(features)?;
        if let Some(c) = &self.file.calibration {
            apply_temperature(&mut p, c.temperature);
        }
        Some(p)
    }

    /// The host's novelty distance and the model's threshold, when the model has a novelty
    /// section (see [`Novelty`]); `None` otherwise or for a vector of the wrong length.
    #[must_use]
    pub fn novelty(&self, features: &[f64]) -> Option<(f64, f64)> {
        let n = self.file.novelty.as_ref()?;
        if features.len() != self.file.feature_schema.features.len() {
            return None;
        }
        let z = self.standardise(features);
        let d = nearest_distance(&z, &n.prototypes, n.clip)?;
        Some((d, n.threshold))
    }

    /// Class probabilities for one feature vector (in [`Model::feature_names`] order), in
    /// [`Model::classes`] order.
    ///
    /// Computed in f64 as scikit-learn 1.0.2 does: scaler, then per layer the product with
    /// the weights (in the order of operations of the OpenBLAS `dgemv` kernel numpy uses)
    /// plus the bias, ReLU on hidden layers, and a softmax whose denominator is summed in
    /// numpy's pairwise order. Returns `None` when the vector has the wrong length.
    #[must_use]
    pub fn predict_proba(&self, features: &[f64]) -> Option<Vec<f64>> {
        if features.len() != self.file.feature_schema.features.len() {
            return None;
        }
        let mut input = self.standardise(features);
        let (layers, output) = match &self.file.network {
            Network::Mlp { layers, output } => (layers, output),
            Network::Forest { trees } => {
                return Some(forest_proba(trees, &input, self.file.classes.len()));
            }
        };
        for ((n_in, n_out, weights), layer) in self.dense.iter().zip(layers) {
            let mut out = gemv(&input, weights, *n_in, *n_out);
            // numpy adds the intercepts after the product, then ReLU.
            for (o, b) in out.iter_mut().zip(&layer.biases) {
                *o += b;
                if layer.activation == Activation::Relu && *o < 0.0 {
                    *o = 0.0;
                }
            }
            input = out;
        }
        match output {
            OutputActivation::Softmax => softmax(&mut input),
        }
        Some(input)
    }
}

/// Temperature scaling of probabilities in place: `p_i^(1/t)`, renormalised (computed in
/// log space). Zero probabilities stay zero; `t = 1` changes nothing.
pub fn apply_temperature(p: &mut [f64], t: f64) {
    if t == 1.0 || !(t.is_finite() && t > 0.0) {
        return;
    }
    let max = p
        .iter()
        .filter(|v| **v > 0.0)
        .map(|v| v.ln() / t)
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return;
    }
    let mut sum = 0.0;
    for v in p.iter_mut() {
        *v = if *v > 0.0 {
            (v.ln() / t - max).exp()
        } else {
            0.0
        };
        sum += *v;
    }
    if sum > 0.0 {
        for v in p.iter_mut() {
            *v /= sum;
        }
    }
}

/// Distance from `z` to the nearest prototype, each coordinate's difference clipped at
/// `clip`; `None` without prototypes.
#[must_use]
pub fn nearest_distance(z: &[f64], prototypes: &[Vec<f64>], clip: f64) -> Option<f64> {
    prototypes
        .iter()
        .map(|p| {
            p.iter()
                .zip(z)
                .map(|(a, b)| {
                    let d = (a - b).abs().min(clip);
                    d * d
                })
                .sum::<f64>()
        })
        .min_by(f64::total_cmp)
        .map(f64::sqrt)
}

/// Checks a forest's shape: tree and node counts within bounds, features and classes in
/// range, every child after its parent (so evaluation terminates), thresholds finite.
fn validate_forest(trees: &[Tree], n_features: usize, n_classes: usize) -> Result<(), String> {
    if trees.is_empty() || trees.len() > MAX_TREES {
        return Err(format!(
            "the forest has {} trees (1 to {MAX_TREES} allowed)",
            trees.len()
        ));
    }
    for (t, tree) in trees.iter().enumerate() {
        let n = tree.nodes.len();
        if n == 0 || n > MAX_TREE_NODES {
            return Err(format!(
                "tree {t} has {n} nodes (1 to {MAX_TREE_NODES} allowed)"
            ));
        }
        for (i, node) in tree.nodes.iter().enumerate() {
            if node.class >= n_classes {
                return Err(format!(
                    "tree {t} node {i} votes for class {} of {n_classes}",
                    node.class
                ));
            }
            if let Some(s) = node.split {
                if s.feature >= n_features || !s.threshold.is_finite() {
                    return Err(format!(
                        "tree {t} node {i} tests feature {} (of {n_features}) against {}",
                        s.feature, s.threshold
                    ));
                }
                if s.le <= i || s.gt <= i || s.le >= n || s.gt >= n {
                    return Err(format!(
                        "tree {t} node {i} has children {} and {} (must lie after it, below {n})",
                        s.le, s.gt
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A forest's vote shares for one standardised input. Children always lie after their
/// parent (checked when the model is loaded), so each walk ends within the node count.
fn forest_proba(trees: &[Tree], input: &[f64], n_classes: usize) -> Vec<f64> {
    let mut votes = vec![0.0f64; n_classes];
    for tree in trees {
        let mut i = 0;
        while let Some(node) = tree.nodes.get(i) {
            match node.split {
                None => {
                    if let Some(v) = votes.get_mut(node.class) {
                        *v += 1.0;
                    }
                    break;
                }
                Some(s) => {
                    let x = input.get(s.feature).copied().unwrap_or(f64::NAN);
                    i = if x <= s.threshold { s.le } else { s.gt };
                }
            }
        }
    }
    // Lossless for any tree count allowed by `MAX_TREES`.
    #[allow(clippy::cast_precision_loss)]
    let n = trees.len().max(1) as f64;
    for v in &mut votes {
        *v /= n;
    }
    votes
}

/// Rows of inputs taken together by OpenBLAS's `dgemv_n` kernel.
const GEMV_BLOCK: usize = 4;

/// `x · W` for one input row, with the rounding of numpy 1.22's matmul.
///
/// numpy turns a one-row matrix product into BLAS `dgemv`, and the OpenBLAS it bundles
/// (Haswell and later kernels) accumulates four input rows at a time: two partial sums,
/// `x0·w0` then `+ x2·w2` fused, and `x1·w1` then `+ x3·w3` fused, added together and then
/// to the output; two leftover rows are added as `x0·w0 + x1·w1`, one as `x0·w0`. Summing
/// left to right instead changes the last bit of about half the outputs, which shows in
/// the printed probabilities. (Checked bit for bit against numpy 1.22.3 on this model.)
fn gemv(x: &[f64], weights: &[f64], n_in: usize, n_out: usize) -> Vec<f64> {
    let mut y = vec![0.0f64; n_out];
    let rows = |k: usize| weights.get(k * n_out..(k + 1) * n_out).unwrap_or(&[]);
    let xs = |k: usize| x.get(k).copied().unwrap_or(0.0);
    let full = n_in - n_in % GEMV_BLOCK;
    let mut k = 0;
    while k < full {
        let (x0, x1, x2, x3) = (xs(k), xs(k + 1), xs(k + 2), xs(k + 3));
        let (w0, w1, w2, w3) = (rows(k), rows(k + 1), rows(k + 2), rows(k + 3));
        for (j, out) in y.iter_mut().enumerate() {
            let w = |r: &[f64]| r.get(j).copied().unwrap_or(0.0);
            let even = x2.mul_add(w(w2), w(w0) * x0);
            let odd = x3.mul_add(w(w3), w(w1) * x1);
            *out += even + odd;
        }
        k += GEMV_BLOCK;
    }
    if n_in - k >= 2 {
        let (x0, x1, w0, w1) = (xs(k), xs(k + 1), rows(k), rows(k + 1));
        for ((out, a), b) in y.iter_mut().zip(w0).zip(w1) {
            *out += a * x0 + b * x1;
        }
        k += 2;
    }
    if n_in - k == 1 {
        let x0 = xs(k);
        for (out, a) in y.iter_mut().zip(rows(k)) {
            *out += a * x0;
        }
    }
    y
}

/// scikit-learn's softmax: subtract the maximum, exponentiate, divide by the sum (numpy's
/// pairwise sum).
fn softmax(values: &mut [f64]) {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for v in values.iter_mut() {
        *v = (*v - max).exp();
    }
    let sum = crate::numpy::pairwise_sum(values);
    for v in values.iter_mut() {
        *v /= sum;
    }
}

impl ModelFile {
    /// Writes the model as JSON with one line per weight row, so the file reads and diffs
    /// reasonably. Numbers use the shortest representation that parses back exactly.
    #[must_use]
    pub fn to_json(&self) -> String {
        fn js<T: Serialize + ?Sized>(v: &T) -> String {
            serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
        }
        let mut o = String::new();
        o.push_str("{\n");
        let _ = writeln!(o, "  \"format\": {},", js(&self.format));
        let _ = writeln!(o, "  \"version\": {},", self.version);
        let _ = writeln!(o, "  \"name\": {},", js(&self.name));
        let _ = writeln!(o, "  \"provenance\": {},", js(&self.provenance));
        o.push_str("  \"feature_schema\": {\n");
        let _ = writeln!(o, "    \"name\": {},", js(&self.feature_schema.name));
        o.push_str("    \"features\": [\n");
        push_lines(
            &mut o,
            "      ",
            self.feature_schema.features.iter().map(js),
        );
        o.push_str("    ]\n  },\n");
        let _ = writeln!(o, "  \"classes\": {},", js(&self.classes));
        let _ = writeln!(
            o,
            "  \"class_display_names\": {},",
            js(&self.class_display_names)
        );
        let _ = writeln!(o, "  \"decision\": {},", js(&self.decision));
        o.push_str("  \"scaler\": {\n");
        let _ = writeln!(o, "    \"n_samples_seen\": {},", self.scaler.n_samples_seen);
        let _ = writeln!(o, "    \"mean\": {},", js(&self.scaler.mean));
        let _ = writeln!(o, "    \"scale\": {},", js(&self.scaler.scale));
        let _ = writeln!(o, "    \"var\": {}", js(&self.scaler.var));
        o.push_str("  },\n");
        if let Some(c) = &self.calibration {
            let _ = writeln!(o, "  \"calibration\": {},", js(c));
        }
        if let Some(n) = &self.novelty {
            let _ = writeln!(o, "  \"novelty\": {{");
            let _ = writeln!(o, "    \"clip\": {},", js(&n.clip));
            let _ = writeln!(o, "    \"threshold\": {},", js(&n.threshold));
            let _ = writeln!(o, "    \"quantile\": {},", js(&n.quantile));
            o.push_str("    \"prototypes\": [\n");
            push_lines(&mut o, "      ", n.prototypes.iter().map(js));
            o.push_str("    ]\n  },\n");
        }
        let (layers, output) = match &self.network {
            Network::Mlp { layers, output } => (layers, output),
            Network::Forest { trees } => {
                o.push_str("  \"network\": {\n    \"kind\": \"forest\",\n");
                o.push_str("    \"trees\": [\n");
                push_lines(&mut o, "      ", trees.iter().map(js));
                o.push_str("    ]\n  }\n}\n");
                return o;
            }
        };
        o.push_str("  \"network\": {\n    \"kind\": \"mlp\",\n");
        let _ = writeln!(o, "    \"output\": {},", js(output));
        o.push_str("    \"layers\": [\n");
        for (k, layer) in layers.iter().enumerate() {
            o.push_str("      {\n");
            let _ = writeln!(o, "        \"activation\": {},", js(&layer.activation));
            let _ = writeln!(o, "        \"biases\": {},", js(&layer.biases));
            o.push_str("        \"weights\": [\n");
            push_lines(&mut o, "          ", layer.weights.iter().map(js));
            o.push_str("        ]\n      }");
            o.push_str(if k + 1 < layers.len() { ",\n" } else { "\n" });
        }
        o.push_str("    ]\n  }\n}\n");
        o
    }

    /// Converts the plain-JSON export of networkML 0.6.19's shipped model
    /// (`host_footprint_export.json`: feature names, scaler, MLP weights, label encoder and
    /// display names) into a trident model file.
    pub fn from_networkml_export(text: &str) -> Result<ModelFile, ClassifyError> {
        #[derive(Deserialize)]
        struct Export {
            feature_names: Vec<String>,
            scaler: ExportScaler,
            mlp: ExportMlp,
            classes: Vec<String>,
            mlp_classes_index: Vec<usize>,
            label_display_names: BTreeMap<String, String>,
            unknown_threshold: f64,
            top_n: usize,
        }
        #[derive(Deserialize)]
        struct ExportScaler {
            with_mean: bool,
            with_std: bool,
            n_samples_seen: u64,
            mean: Vec<f64>,
            var: Vec<f64>,
            scale: Vec<f64>,
        }
        #[derive(Deserialize)]
        struct ExportMlp {
            activation: String,
            out_activation: String,
            weights: Vec<Vec<Vec<f64>>>,
            biases: Vec<Vec<f64>>,
            n_iter: u64,
            loss: f64,
            params: serde_json::Value,
        }
        let corrupt = |m: String| ClassifyError::ModelCorrupt(m);
        let e: Export = serde_json::from_str(text).map_err(|err| corrupt(err.to_string()))?;
        if !e.scaler.with_mean || !e.scaler.with_std {
            return Err(corrupt(
                "scaler without mean or std is not supported".into(),
            ));
        }
        if e.mlp.activation != "relu" || e.mlp.out_activation != "softmax" {
            return Err(corrupt(format!(
                "unsupported activations {} / {}",
                e.mlp.activation, e.mlp.out_activation
            )));
        }
        // The MLP's output j is label-encoder class mlp_classes_index[j].
        let classes = e
            .mlp_classes_index
            .iter()
            .map(|&i| e.classes.get(i).cloned())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt("mlp_classes_index points past classes".into()))?;
        let n_layers = e.mlp.weights.len();
        let layers = e
            .mlp
            .weights
            .into_iter()
            .zip(e.mlp.biases)
            .enumerate()
            .map(|(k, (weights, biases))| DenseLayer {
                weights,
                biases,
                activation: if k + 1 < n_layers {
                    Activation::Relu
                } else {
                    Activation::Identity
                },
            })
            .collect();
        Ok(ModelFile {
            format: MODEL_FORMAT.to_owned(),
            version: MODEL_VERSION,
            name: "networkml-0.6.19-host".to_owned(),
            feature_schema: FeatureSchema {
                name: crate::networkml::FEATURE_SCHEMA.to_owned(),
                features: e.feature_names,
            },
            classes,
            class_display_names: e.label_display_names,
            scaler: Scaler {
                mean: e.scaler.mean,
                scale: e.scaler.scale,
                var: e.scaler.var,
                n_samples_seen: e.scaler.n_samples_seen,
            },
            network: Network::Mlp {
                layers,
                output: OutputActivation::Softmax,
            },
            decision: Decision {
                unknown_threshold: e.unknown_threshold,
                top_n: e.top_n,
            },
            provenance: Provenance {
                source: "networkML 0.6.19 (PyPI wheel, networkml/trained_models/: \
                         host_footprint.json, host_footprint_scaler.mod, host_footprint_le.json, \
                         label_assignments.json), https://github.com/IQTLabs/NetworkML"
                    .to_owned(),
                licence: "Apache-2.0".to_owned(),
                copyright: "IQT Labs".to_owned(),
                training: serde_json::json!({
                    "estimator": "sklearn.neural_network.MLPClassifier 1.0.2",
                    "n_iter": e.mlp.n_iter,
                    "loss": e.mlp.loss,
                    "params": e.mlp.params,
                    "n_samples_seen": e.scaler.n_samples_seen,
                }),
            },
            calibration: None,
            novelty: None,
        })
    }
}

/// Pushes comma-separated lines with an indent.
fn push_lines(o: &mut String, indent: &str, items: impl Iterator<Item = String>) {
    let mut first = true;
    for item in items {
        if !first {
            o.push_str(",\n");
        }
        first = false;
        o.push_str(indent);
        o.push_str(&item);
    }
    o.push('\n');
}
