//! A small multi-layer perceptron trainer: ReLU hidden layers, a softmax output, Adam, L2
//! weight decay and early stopping on a validation split.
//!
//! # Why a trainer of our own
//!
//! networkML's model family is scikit-learn's `MLPClassifier`, and a user retraining on
//! their own network should be able to get the same kind of model. No maintained Rust crate
//! trains one without a tensor framework (smartcore and linfa have no MLP; candle and burn
//! would bring a deep-learning stack for a 221-input, one- or two-hidden-layer network), and
//! the whole algorithm is a few loops: so it is written here, after scikit-learn's
//! `MLPClassifier(solver="adam")`, and tested against finite differences.
//!
//! - Initialisation: Glorot uniform, `U(-b, b)` with `b = sqrt(6 / (fan_in + fan_out))`,
//!   biases the same way (scikit-learn's rule).
//! - Loss: mean cross-entropy of the softmax plus `alpha / (2 n) · Σ w²` over the weights
//!   (not the biases) of a batch of `n` samples.
//! - Optimiser: Adam (`β1 = 0.9`, `β2 = 0.999`, `ε = 1e-8`) on shuffled mini-batches.
//! - Early stopping: a stratified share of the samples is held out; after each epoch the
//!   held-out cross-entropy is measured, the best weights are kept, and training stops when
//!   it has not improved by [`TOLERANCE`] for `patience` epochs.
//! - Determinism: one seed drives the initialisation, the split and the shuffles; the
//!   arithmetic is sequential, so the same data and seed give the same weights bit for bit.
//!
//! The result is a list of [`DenseLayer`]s, the layout trident's model file already uses for
//! networkML's network, so a trained MLP is applied by the same inference code.

use crate::model::{Activation, DenseLayer};

/// Adam's first-moment decay.
const BETA1: f64 = 0.9;
/// Adam's second-moment decay.
const BETA2: f64 = 0.999;
/// Adam's denominator guard.
const EPSILON: f64 = 1e-8;
/// Smallest validation-loss improvement that resets the patience counter.
pub const TOLERANCE: f64 = 1e-4;
/// The validation split needs at least this many samples; with fewer, every sample trains
/// and the network runs `max_epochs`.
pub const MIN_VALIDATION_SAMPLES: usize = 2;
/// Most hidden layers accepted.
pub const MAX_HIDDEN_LAYERS: usize = 8;
/// Widest hidden layer accepted.
pub const MAX_HIDDEN_WIDTH: usize = 4096;
/// Probabilities are floored here before the logarithm of the loss.
const MIN_PROBABILITY: f64 = 1e-300;

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpParams {
    /// Widths of the hidden layers, input side first (empty: softmax regression).
    pub hidden: Vec<usize>,
    /// L2 penalty.
    pub alpha: f64,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Most passes over the training samples.
    pub max_epochs: usize,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// Share of the samples held out for early stopping (0 disables it).
    pub validation_fraction: f64,
    /// Seed of the initialisation, split and shuffles.
    pub seed: u64,
}

impl Default for MlpParams {
    /// scikit-learn's defaults, with networkML's hidden layer and a patience of 20.
    fn default() -> Self {
        MlpParams {
            hidden: vec![100],
            alpha: 1e-4,
            learning_rate: 1e-3,
            batch_size: 200,
            max_epochs: 400,
            patience: 20,
            validation_fraction: 0.1,
            seed: 0,
        }
    }
}

/// A trained network and how training went.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpFit {
    /// The layers: hidden ones with ReLU, the last with identity (softmax follows).
    pub layers: Vec<DenseLayer>,
    /// Epochs run.
    pub epochs: usize,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: usize,
    /// Mean training cross-entropy (with the L2 term) of the last epoch.
    pub train_loss: f64,
    /// Held-out cross-entropy of the kept weights, when there was a validation split.
    pub validation_loss: Option<f64>,
    /// Samples held out for early stopping.
    pub validation_samples: usize,
}

/// splitmix64, the generator of every random choice here.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in `[0, 1)` from the top 53 bits.
fn uniform(state: &mut u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let v = (splitmix(state) >> 11) as f64;
    v / (1u64 << 53) as f64
}

/// Fisher-Yates shuffle.
fn shuffle(v: &mut [usize], state: &mut u64) {
    for i in (1..v.len()).rev() {
        let j = usize::try_from(splitmix(state) % (i as u64 + 1)).unwrap_or(0);
        v.swap(i, j);
    }
}

/// Weights of one layer: `w[i * n_out + j]` from input `i` to output `j`.
#[derive(Debug, Clone)]
struct Layer {
    n_in: usize,
    n_out: usize,
    w: Vec<f64>,
    b: Vec<f64>,
}

impl Layer {
    fn new(n_in: usize, n_out: usize, state: &mut u64) -> Layer {
        #[allow(clippy::cast_precision_loss)]
        let bound = (6.0 / (n_in + n_out) as f64).sqrt();
        let mut draw = || (2.0 * uniform(state) - 1.0) * bound;
        let w = (0..n_in * n_out).map(|_| draw()).collect();
        let b = (0..n_out).map(|_| draw()).collect();
        Layer { n_in, n_out, w, b }
    }

    fn zeros_like(&self) -> Layer {
        Layer {
            n_in: self.n_in,
            n_out: self.n_out,
            w: vec![0.0; self.w.len()],
            b: vec![0.0; self.b.len()],
        }
    }

    /// `out = input · W + b`.
    fn forward(&self, input: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend_from_slice(&self.b);
        for (x, row) in input.iter().zip(self.w.chunks_exact(self.n_out)) {
            if *x == 0.0 {
                continue;
            }
            for (o, w) in out.iter_mut().zip(row) {
                *o += x * w;
            }
        }
    }
}

/// Softmax in place (max subtracted).
fn softmax(v: &mut [f64]) {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// The network being trained.
#[derive(Debug, Clone)]
struct Net {
    layers: Vec<Layer>,
}

impl Net {
    /// Activations of every layer for one input: `acts[0]` is the input, the last is the
    /// softmax output.
    fn forward(&self, x: &[f64], acts: &mut Vec<Vec<f64>>) {
        acts.resize(self.layers.len() + 1, Vec::new());
        if let Some(a0) = acts.first_mut() {
            a0.clear();
            a0.extend_from_slice(x);
        }
        let last = self.layers.len().saturating_sub(1);
        for (k, layer) in self.layers.iter().enumerate() {
            let (before, after) = acts.split_at_mut(k + 1);
            let (Some(input), Some(out)) = (before.last(), after.first_mut()) else {
                return;
            };
            layer.forward(input, out);
            if k < last {
                for o in out.iter_mut() {
                    *o = o.max(0.0);
                }
            } else {
                softmax(out);
            }
        }
    }

    /// Mean cross-entropy over the samples at `idx` (no penalty).
    fn loss(&self, x: &[Vec<f64>], y: &[usize], idx: &[usize]) -> f64 {
        let mut acts = Vec::new();
        let mut total = 0.0;
        for &i in idx {
            let (Some(xi), Some(&yi)) = (x.get(i), y.get(i)) else {
                continue;
            };
            self.forward(xi, &mut acts);
            let p = acts.last().and_then(|o| o.get(yi)).copied().unwrap_or(0.0);
            total -= p.max(MIN_PROBABILITY).ln();
        }
        #[allow(clippy::cast_precision_loss)]
        let n = idx.len().max(1) as f64;
        total / n
    }

    /// Gradients of the batch loss (cross-entropy mean plus the L2 term) into `grads`,
    /// returning the loss.
    fn gradients(
        &self,
        x: &[Vec<f64>],
        y: &[usize],
        batch: &[usize],
        alpha: f64,
        grads: &mut [Layer],
    ) -> f64 {
        for g in grads.iter_mut() {
            g.w.iter_mut().for_each(|v| *v = 0.0);
            g.b.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut acts = Vec::new();
        let mut delta: Vec<f64> = Vec::new();
        let mut next: Vec<f64> = Vec::new();
        let mut loss = 0.0;
        for &i in batch {
            let (Some(xi), Some(&yi)) = (x.get(i), y.get(i)) else {
                continue;
            };
            self.forward(xi, &mut acts);
            delta.clear();
            if let Some(out) = acts.last() {
                loss -= out
                    .get(yi)
                    .copied()
                    .unwrap_or(0.0)
                    .max(MIN_PROBABILITY)
                    .ln();
                delta.extend_from_slice(out);
            }
            if let Some(d) = delta.get_mut(yi) {
                *d -= 1.0;
            }
            for k in (0..self.layers.len()).rev() {
                let (Some(layer), Some(g), Some(input)) =
                    (self.layers.get(k), grads.get_mut(k), acts.get(k))
                else {
                    break;
                };
                for (gb, d) in g.b.iter_mut().zip(&delta) {
                    *gb += d;
                }
                for (a, grow) in input.iter().zip(g.w.chunks_exact_mut(layer.n_out)) {
                    if *a == 0.0 {
                        continue;
                    }
                    for (gw, d) in grow.iter_mut().zip(&delta) {
                        *gw += a * d;
                    }
                }
                if k == 0 {
                    break;
                }
                // Back through the weights, then through the ReLU of the layer below.
                next.clear();
                for (a, row) in input.iter().zip(layer.w.chunks_exact(layer.n_out)) {
                    let v = if *a > 0.0 {
                        row.iter().zip(&delta).map(|(w, d)| w * d).sum()
                    } else {
                        0.0
                    };
                    next.push(v);
                }
                std::mem::swap(&mut delta, &mut next);
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let n = batch.len().max(1) as f64;
        let mut penalty = 0.0;
        for (g, layer) in grads.iter_mut().zip(&self.layers) {
            for (gw, w) in g.w.iter_mut().zip(&layer.w) {
                *gw = (*gw + alpha * w) / n;
                penalty += w * w;
            }
            g.b.iter_mut().for_each(|v| *v /= n);
        }
        loss / n + alpha * penalty / (2.0 * n)
    }
}

/// Holds out a stratified share of the samples: per class, after a seeded shuffle,
/// `round(fraction · count)` samples, leaving each class at least one training sample.
/// Returns (train, validation); validation is empty when it would be too small.
fn split(
    y: &[usize],
    n_classes: usize,
    fraction: f64,
    state: &mut u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut by_class = vec![Vec::new(); n_classes];
    for (i, &c) in y.iter().enumerate() {
        if let Some(v) = by_class.get_mut(c) {
            v.push(i);
        }
    }
    let mut train = Vec::new();
    let mut validation = Vec::new();
    for members in &mut by_class {
        shuffle(members, state);
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let take = ((members.len() as f64 * fraction).round() as usize)
            .min(members.len().saturating_sub(1));
        validation.extend_from_slice(members.get(..take).unwrap_or(&[]));
        train.extend_from_slice(members.get(take..).unwrap_or(&[]));
    }
    if validation.len() < MIN_VALIDATION_SAMPLES {
        train.append(&mut validation);
    }
    train.sort_unstable();
    validation.sort_unstable();
    (train, validation)
}

/// Trains an MLP on rows `x` (already standardised) with class indices `y < n_classes`.
/// Errors (as text) on inconsistent input: no samples, ragged rows, a class out of range,
/// or parameters out of bounds.
pub fn fit_mlp(
    x: &[Vec<f64>],
    y: &[usize],
    n_classes: usize,
    params: &MlpParams,
) -> Result<MlpFit, String> {
    let n_features = x.first().map_or(0, Vec::len);
    if x.is_empty() || n_features == 0 || x.len() != y.len() {
        return Err(format!(
            "{} rows of {n_features} features for {} labels",
            x.len(),
            y.len()
        ));
    }
    if let Some(r) = x.iter().position(|r| r.len() != n_features) {
        return Err(format!(
            "row {r} has {} features, not {n_features}",
            x[r].len()
        ));
    }
    if x.iter().flatten().any(|v| !v.is_finite()) {
        return Err("a feature value is not finite".into());
    }
    if n_classes < 2 || y.iter().any(|&c| c >= n_classes) {
        return Err(format!(
            "labels must be class indices below {n_classes} (at least 2)"
        ));
    }
    if params.hidden.len() > MAX_HIDDEN_LAYERS
        || params
            .hidden
            .iter()
            .any(|&w| w == 0 || w > MAX_HIDDEN_WIDTH)
    {
        return Err(format!(
            "hidden layers {:?}: at most {MAX_HIDDEN_LAYERS}, each 1 to {MAX_HIDDEN_WIDTH} wide",
            params.hidden
        ));
    }
    if params.batch_size == 0
        || params.max_epochs == 0
        || !(params.alpha >= 0.0 && params.alpha.is_finite())
        || !(params.learning_rate > 0.0 && params.learning_rate.is_finite())
        || !(0.0..0.5).contains(&params.validation_fraction)
    {
        return Err(
            "batch size and epochs must be positive, alpha >= 0, learning rate > 0, \
                    validation fraction in [0, 0.5)"
                .into(),
        );
    }
    let mut state = params.seed;
    let mut widths = vec![n_features];
    widths.extend_from_slice(&params.hidden);
    widths.push(n_classes);
    let mut net = Net {
        layers: widths
            .windows(2)
            .map(|w| Layer::new(w[0], w[1], &mut state))
            .collect(),
    };
    let (mut train, validation) = split(y, n_classes, params.validation_fraction, &mut state);
    let mut grads: Vec<Layer> = net.layers.iter().map(Layer::zeros_like).collect();
    let mut m: Vec<Layer> = grads.clone();
    let mut v: Vec<Layer> = grads.clone();
    let mut step = 0i32;
    let mut best: Option<(f64, usize, Net)> = None;
    let mut since_best = 0usize;
    let mut epochs = 0;
    let mut train_loss = f64::NAN;
    for epoch in 1..=params.max_epochs {
        epochs = epoch;
        shuffle(&mut train, &mut state);
        let mut total = 0.0;
        for batch in train.chunks(params.batch_size) {
            let loss = net.gradients(x, y, batch, params.alpha, &mut grads);
            #[allow(clippy::cast_precision_loss)]
            {
                total += loss * batch.len() as f64;
            }
            step = step.saturating_add(1);
            let lr =
                params.learning_rate * (1.0 - BETA2.powi(step)).sqrt() / (1.0 - BETA1.powi(step));
            for (((layer, g), m), v) in net.layers.iter_mut().zip(&grads).zip(&mut m).zip(&mut v) {
                for (((w, g), m), v) in layer
                    .w
                    .iter_mut()
                    .chain(layer.b.iter_mut())
                    .zip(g.w.iter().chain(&g.b))
                    .zip(m.w.iter_mut().chain(m.b.iter_mut()))
                    .zip(v.w.iter_mut().chain(v.b.iter_mut()))
                {
                    *m = BETA1 * *m + (1.0 - BETA1) * g;
                    *v = BETA2 * *v + (1.0 - BETA2) * g * g;
                    *w -= lr * *m / (v.sqrt() + EPSILON);
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        {
            train_loss = total / train.len().max(1) as f64;
        }
        if !train_loss.is_finite() {
            return Err(format!("training diverged at epoch {epoch}"));
        }
        let score = if validation.is_empty() {
            train_loss
        } else {
            net.loss(x, y, &validation)
        };
        match &best {
            Some((b, _, _)) if score > b - TOLERANCE => since_best += 1,
            _ => since_best = 0,
        }
        if best.as_ref().is_none_or(|(b, _, _)| score < *b) {
            best = Some((score, epoch, net.clone()));
        }
        if since_best >= params.patience {
            break;
        }
    }
    let (best_loss, best_epoch, kept) = best.unwrap_or((train_loss, epochs, net));
    let last = kept.layers.len().saturating_sub(1);
    let layers = kept
        .layers
        .into_iter()
        .enumerate()
        .map(|(k, l)| DenseLayer {
            weights: l.w.chunks_exact(l.n_out).map(<[f64]>::to_vec).collect(),
            biases: l.b,
            activation: if k < last {
                Activation::Relu
            } else {
                Activation::Identity
            },
        })
        .collect();
    Ok(MlpFit {
        layers,
        epochs,
        best_epoch,
        train_loss,
        validation_loss: (!validation.is_empty()).then_some(best_loss),
        validation_samples: validation.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_net(state: &mut u64) -> Net {
        Net {
            layers: vec![
                Layer::new(3, 4, state),
                Layer::new(4, 5, state),
                Layer::new(5, 3, state),
            ],
        }
    }

    /// Backpropagation agrees with central finite differences of the loss.
    #[test]
    fn gradients_match_finite_differences() {
        let mut state = 11;
        let net = small_net(&mut state);
        let x: Vec<Vec<f64>> = (0..6)
            .map(|_| (0..3).map(|_| 4.0 * uniform(&mut state) - 2.0).collect())
            .collect();
        let y = vec![0, 1, 2, 1, 0, 2];
        let batch: Vec<usize> = (0..6).collect();
        let alpha = 0.3;
        let mut grads: Vec<Layer> = net.layers.iter().map(Layer::zeros_like).collect();
        let loss = net.gradients(&x, &y, &batch, alpha, &mut grads);
        let penalty = |n: &Net| -> f64 {
            n.layers
                .iter()
                .flat_map(|l| &l.w)
                .map(|w| w * w)
                .sum::<f64>()
                * alpha
                / 12.0
        };
        assert!((loss - (net.loss(&x, &y, &batch) + penalty(&net))).abs() < 1e-12);
        let h = 1e-6;
        #[allow(clippy::needless_range_loop)] // k indexes three parallel structures
        for k in 0..net.layers.len() {
            for (is_bias, len) in [
                (false, net.layers[k].w.len()),
                (true, net.layers[k].b.len()),
            ] {
                for i in 0..len {
                    let mut plus = net.clone();
                    let mut minus = net.clone();
                    if is_bias {
                        plus.layers[k].b[i] += h;
                        minus.layers[k].b[i] -= h;
                    } else {
                        plus.layers[k].w[i] += h;
                        minus.layers[k].w[i] -= h;
                    }
                    let f = |n: &Net| n.loss(&x, &y, &batch) + penalty(n);
                    let numeric = (f(&plus) - f(&minus)) / (2.0 * h);
                    let analytic = if is_bias {
                        grads[k].b[i]
                    } else {
                        grads[k].w[i]
                    };
                    assert!(
                        (numeric - analytic).abs() < 1e-6,
                        "layer {k} {} {i}: {numeric} vs {analytic}",
                        if is_bias { "bias" } else { "weight" }
                    );
                }
            }
        }
    }

    /// Three classes on concentric rings are not linearly separable; one hidden layer
    /// learns them, and the same seed gives the same weights.
    #[test]
    fn learns_a_nonlinear_problem_deterministically() {
        let mut state = 5;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..300 {
            let class = i % 3;
            let angle = uniform(&mut state) * std::f64::consts::TAU;
            #[allow(clippy::cast_precision_loss)]
            let radius = 1.0 + class as f64 + 0.3 * (uniform(&mut state) - 0.5);
            x.push(vec![radius * angle.cos(), radius * angle.sin()]);
            y.push(class);
        }
        let params = MlpParams {
            hidden: vec![32, 16],
            alpha: 1e-4,
            learning_rate: 0.01,
            batch_size: 32,
            max_epochs: 300,
            patience: 30,
            validation_fraction: 0.2,
            seed: 9,
        };
        let a = fit_mlp(&x, &y, 3, &params).unwrap();
        let b = fit_mlp(&x, &y, 3, &params).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.layers.len(), 3);
        assert_eq!(a.layers[0].activation, Activation::Relu);
        assert_eq!(a.layers[2].activation, Activation::Identity);
        assert_eq!(a.validation_samples, 60);
        assert!(a.best_epoch <= a.epochs);
        let net = Net {
            layers: a
                .layers
                .iter()
                .map(|l| Layer {
                    n_in: l.weights.len(),
                    n_out: l.biases.len(),
                    w: l.weights.concat(),
                    b: l.biases.clone(),
                })
                .collect(),
        };
        let mut acts = Vec::new();
        let correct = x
            .iter()
            .zip(&y)
            .filter(|(xi, yi)| {
                net.forward(xi, &mut acts);
                let out = acts.last().unwrap();
                let best = (0..3).max_by(|&p, &q| out[p].total_cmp(&out[q])).unwrap();
                best == **yi
            })
            .count();
        assert!(correct >= 285, "{correct}/300 correct");
        // A softmax regression (no hidden layer) cannot separate rings.
        let linear = fit_mlp(
            &x,
            &y,
            3,
            &MlpParams {
                hidden: vec![],
                ..params
            },
        )
        .unwrap();
        assert_eq!(linear.layers.len(), 1);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let p = MlpParams::default();
        assert!(fit_mlp(&[], &[], 2, &p).is_err());
        assert!(fit_mlp(&[vec![1.0], vec![1.0, 2.0]], &[0, 1], 2, &p).is_err());
        assert!(fit_mlp(&[vec![1.0], vec![2.0]], &[0, 2], 2, &p).is_err());
        assert!(fit_mlp(&[vec![f64::NAN], vec![2.0]], &[0, 1], 2, &p).is_err());
        let zero_width = MlpParams {
            hidden: vec![0],
            ..MlpParams::default()
        };
        assert!(fit_mlp(&[vec![1.0], vec![2.0]], &[0, 1], 2, &zero_width).is_err());
        // Two samples: no validation split, still trains.
        let fit = fit_mlp(&[vec![1.0], vec![2.0]], &[0, 1], 2, &p).unwrap();
        assert_eq!(fit.validation_samples, 0);
        assert!(fit.validation_loss.is_none());
    }
}
