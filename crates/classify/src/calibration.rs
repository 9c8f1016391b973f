//! Calibration of class probabilities: expected calibration error, negative log-likelihood
//! and the fit of a temperature ([`crate::model::Calibration`]).
//!
//! A model's top probability is *calibrated* when, among the hosts it gives 0.8, about 80%
//! are right. Random-forest vote shares and softmax outputs usually are not (forests are
//! under-confident on easy classes, networks over-confident), so a threshold on them means
//! little. Temperature scaling fixes the commonest distortion with one parameter fitted on
//! held-out predictions, without changing any prediction's best class.

use crate::model::apply_temperature;

/// Probabilities are floored here before the logarithm, so a confident mistake (a forest
/// giving the true class no vote) costs a bounded amount.
pub const MIN_PROBABILITY: f64 = 1e-6;
/// The temperature is searched in `[1/MAX_TEMPERATURE, MAX_TEMPERATURE]`.
pub const MAX_TEMPERATURE: f64 = 50.0;
/// Points of the coarse log-spaced scan before the golden-section refinement.
const SCAN_POINTS: usize = 81;
/// Golden-section iterations (each shrinks the bracket by 0.618).
const REFINE_STEPS: usize = 60;

/// Expected calibration error (Naeini et al. 2015; Guo et al. 2017): predictions are
/// binned by their top probability into `bins` equal-width bins, and the error is the
/// sample-weighted mean gap between each bin's accuracy and its mean top probability.
/// `truth[i]` is the index of sample `i`'s true class (an index out of range counts as a
/// miss). 0 without samples.
#[must_use]
pub fn expected_calibration_error(proba: &[Vec<f64>], truth: &[usize], bins: usize) -> f64 {
    let bins = bins.max(1);
    let mut count = vec![0u64; bins];
    let mut confidence = vec![0.0f64; bins];
    let mut correct = vec![0.0f64; bins];
    let mut n = 0u64;
    for (p, &t) in proba.iter().zip(truth) {
        let Some((best, conf)) = p
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        else {
            continue;
        };
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let b = ((conf.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        if let (Some(c), Some(s), Some(k)) =
            (count.get_mut(b), confidence.get_mut(b), correct.get_mut(b))
        {
            *c += 1;
            *s += conf;
            if best == t {
                *k += 1.0;
            }
        }
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let total = n as f64;
    count
        .iter()
        .zip(confidence.iter().zip(&correct))
        .filter(|(c, _)| **c > 0)
        .map(|(&c, (s, k))| {
            #[allow(clippy::cast_precision_loss)]
            let c = c as f64;
            (k / c - s / c).abs() * c / total
        })
        .sum()
}

/// Mean negative log-likelihood of the true classes after temperature `t` (probabilities
/// floored at [`MIN_PROBABILITY`]). 0 without samples.
#[must_use]
pub fn mean_nll(proba: &[Vec<f64>], truth: &[usize], t: f64) -> f64 {
    let mut total = 0.0;
    let mut n = 0u32;
    let mut scratch = Vec::new();
    for (p, &y) in proba.iter().zip(truth) {
        scratch.clear();
        scratch.extend_from_slice(p);
        apply_temperature(&mut scratch, t);
        let py = scratch.get(y).copied().unwrap_or(0.0);
        total -= py.max(MIN_PROBABILITY).ln();
        n += 1;
    }
    if n == 0 { 0.0 } else { total / f64::from(n) }
}

/// The temperature minimising [`mean_nll`]: a log-spaced scan of
/// `[1/MAX_TEMPERATURE, MAX_TEMPERATURE]`, then golden-section search between the best
/// point's neighbours. Deterministic; 1 without samples.
#[must_use]
pub fn fit_temperature(proba: &[Vec<f64>], truth: &[usize]) -> f64 {
    if proba.is_empty() {
        return 1.0;
    }
    let lo = -MAX_TEMPERATURE.ln();
    let hi = MAX_TEMPERATURE.ln();
    #[allow(clippy::cast_precision_loss)]
    let step = (hi - lo) / (SCAN_POINTS - 1) as f64;
    let f = |log_t: f64| mean_nll(proba, truth, log_t.exp());
    // 1 itself is the middle scan point (SCAN_POINTS is odd) and starts as the best, so a
    // flat likelihood leaves the probabilities unscaled.
    let mut best = (f(0.0), SCAN_POINTS / 2);
    for i in 0..SCAN_POINTS {
        #[allow(clippy::cast_precision_loss)]
        let v = f(lo + step * i as f64);
        if v < best.0 {
            best = (v, i);
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let centre = lo + step * best.1 as f64;
    let (mut a, mut b) = ((centre - step).max(lo), (centre + step).min(hi));
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - ratio * (b - a);
    let mut d = a + ratio * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..REFINE_STEPS {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - ratio * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + ratio * (b - a);
            fd = f(d);
        }
    }
    let refined = (a + b) / 2.0;
    if f(refined) <= best.0 {
        refined.exp()
    } else {
        centre.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: two bins used. Bin [0.9, 1): confidences 0.95, 0.95, one right → gap
    /// |0.5 - 0.95| = 0.45, weight 2/3. Bin [0.6, 0.6667): 0.6, right → gap 0.4, weight 1/3.
    #[test]
    fn ece_by_hand() {
        let p = vec![vec![0.95, 0.05], vec![0.05, 0.95], vec![0.6, 0.4]];
        let truth = vec![0, 0, 0];
        let ece = expected_calibration_error(&p, &truth, 15);
        assert!(
            (ece - (0.45 * 2.0 / 3.0 + 0.4 / 3.0)).abs() < 1e-12,
            "{ece}"
        );
        assert_eq!(expected_calibration_error(&[], &[], 15), 0.0);
    }

    /// Over-confident predictions (0.99 on a coin flip) get a temperature above 1 that
    /// brings them near 0.5, lowering both NLL and ECE; the best class never changes.
    #[test]
    fn temperature_softens_overconfidence() {
        let mut p = Vec::new();
        let mut truth = Vec::new();
        for i in 0..200 {
            p.push(vec![0.99, 0.01]);
            truth.push(usize::from(i % 2 == 1));
        }
        let t = fit_temperature(&p, &truth);
        assert!(t > 5.0, "{t}");
        assert!(mean_nll(&p, &truth, t) < mean_nll(&p, &truth, 1.0));
        let mut scaled = p.clone();
        for q in &mut scaled {
            apply_temperature(q, t);
            assert!(q[0] > q[1]);
        }
        let before = expected_calibration_error(&p, &truth, 15);
        let after = expected_calibration_error(&scaled, &truth, 15);
        assert!((before - 0.49).abs() < 1e-9, "{before}");
        // The search stops at MAX_TEMPERATURE, where 0.99 becomes 0.523.
        assert!(after < 0.03, "{after}");
    }

    /// Under-confident but always right: the temperature goes below 1.
    #[test]
    fn temperature_sharpens_underconfidence() {
        let p = vec![vec![0.4, 0.3, 0.3]; 50];
        let truth = vec![0; 50];
        let t = fit_temperature(&p, &truth);
        assert!(t < 0.1, "{t}");
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
