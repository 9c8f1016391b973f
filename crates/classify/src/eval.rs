//! Scoring a classifier against known labels: accuracy, weighted precision/recall/F1,
//! per-class scores and the confusion matrix.
//!
//! The definitions are scikit-learn's (`classification_report`): a class's precision is
//! `tp / (tp + fp)` and its recall `tp / (tp + fn)`, 0 when the denominator is 0; the
//! weighted averages weight each class by its support (true samples), so they are
//! comparable with what networkML and most papers report. The macro recall (mean of the
//! per-class recalls) is also given because that is the IoT Sentinel paper's "global ratio".

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::Model;
use crate::train::Sample;

/// One class's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScore {
    /// The class.
    pub class: String,
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / (tp + fn)`.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// True samples of this class.
    pub support: u64,
}

/// An evaluation: what `trident eval` prints and writes as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Samples scored.
    pub samples: u64,
    /// Fraction predicted correctly.
    pub accuracy: f64,
    /// Support-weighted mean precision.
    pub weighted_precision: f64,
    /// Support-weighted mean recall (equals the accuracy).
    pub weighted_recall: f64,
    /// Support-weighted mean F1.
    pub weighted_f1: f64,
    /// Unweighted mean recall over the classes with support.
    pub macro_recall: f64,
    /// Per class, in [`EvalReport::classes`] order.
    pub per_class: Vec<ClassScore>,
    /// Every class seen as truth or prediction, sorted.
    pub classes: Vec<String>,
    /// `confusion[t][p]`: samples of true class `t` predicted as `p` (class indices).
    pub confusion: Vec<Vec<u64>>,
}

/// The ratio `a / b`, 0 when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Counts as f64 (sample counts stay far below 2^53).
#[allow(clippy::cast_precision_loss)]
fn f(n: u64) -> f64 {
    n as f64
}

impl EvalReport {
    /// Scores predictions against the truth, pairwise. Extra entries of the longer slice
    /// are ignored.
    #[must_use]
    pub fn new(truth: &[String], predicted: &[String]) -> EvalReport {
        let classes: Vec<String> = truth
            .iter()
            .chain(predicted)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index = |c: &String| classes.binary_search(c).unwrap_or(0);
        let k = classes.len();
        let mut confusion = vec![vec![0u64; k]; k];
        let mut samples = 0u64;
        for (t, p) in truth.iter().zip(predicted) {
            if let Some(cell) = confusion
                .get_mut(index(t))
                .and_then(|r| r.get_mut(index(p)))
            {
                *cell += 1;
            }
            samples += 1;
        }
        let mut per_class = Vec::with_capacity(k);
        let mut correct = 0u64;
        for (i, class) in classes.iter().enumerate() {
            let row = confusion.get(i).map_or(&[][..], Vec::as_slice);
            let tp = row.get(i).copied().unwrap_or(0);
            let support: u64 = row.iter().sum();
            let predicted_as: u64 = confusion.iter().filter_map(|r| r.get(i)).sum();
            correct += tp;
            let precision = ratio(f(tp), f(predicted_as));
            let recall = ratio(f(tp), f(support));
            per_class.push(ClassScore {
                class: class.clone(),
                precision,
                recall,
                f1: ratio(2.0 * precision * recall, precision + recall),
                support,
            });
        }
        let weighted = |g: fn(&ClassScore) -> f64| {
            ratio(
                per_class.iter().map(|c| g(c) * f(c.support)).sum(),
                f(samples),
            )
        };
        let with_support: Vec<&ClassScore> = per_class.iter().filter(|c| c.support > 0).collect();
        let macro_recall = ratio(
            with_support.iter().map(|c| c.recall).sum(),
            f(with_support.len() as u64),
        );
        EvalReport {
            samples,
            accuracy: ratio(f(correct), f(samples)),
            weighted_precision: weighted(|c| c.precision),
            weighted_recall: weighted(|c| c.recall),
            weighted_f1: weighted(|c| c.f1),
            macro_recall,
            classes,
            per_class,
            confusion,
        }
    }

    /// The largest off-diagonal cells: `(true class, predicted class, samples)`, most
    /// first (ties by class names), at most `n`.
    #[must_use]
    pub fn hardest_confusions(&self, n: usize) -> Vec<(String, String, u64)> {
        let mut cells = Vec::new();
        for (t, row) in self.confusion.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                if t != p && count > 0 {
                    let name = |i: usize| self.classes.get(i).cloned().unwrap_or_default();
                    cells.push((name(t), name(p), count));
                }
            }
        }
        cells.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
        cells.truncate(n);
        cells
    }

    /// The report for people: summary, per-class table, confusion matrix (classes
    /// numbered; the header row gives the numbers).
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "samples             {}", self.samples);
        let _ = writeln!(o, "accuracy            {:.4}", self.accuracy);
        let _ = writeln!(o, "weighted precision  {:.4}", self.weighted_precision);
        let _ = writeln!(o, "weighted recall     {:.4}", self.weighted_recall);
        let _ = writeln!(o, "weighted F1         {:.4}", self.weighted_f1);
        let _ = writeln!(o, "macro recall        {:.4}", self.macro_recall);
        let width = self
            .classes
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            o,
            "\n{:>3}  {:<width$}  precision  recall      f1  support",
            "#", "class"
        );
        for (i, c) in self.per_class.iter().enumerate() {
            let _ = writeln!(
                o,
                "{i:>3}  {:<width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
                c.class, c.precision, c.recall, c.f1, c.support
            );
        }
        let _ = writeln!(
            o,
            "\nconfusion matrix (rows: true class #, columns: predicted #)"
        );
        let cell = self
            .confusion
            .iter()
            .flatten()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(2);
        let _ = write!(o, "{:>3} ", "");
        for i in 0..self.classes.len() {
            let _ = write!(o, " {i:>cell$}");
        }
        o.push('\n');
        for (t, row) in self.confusion.iter().enumerate() {
            let _ = write!(o, "{t:>3} ");
            for v in row {
                let _ = write!(o, " {v:>cell$}");
            }
            o.push('\n');
        }
        o
    }
}

/// The model's best class for each sample (argmax of its probabilities; ties: the first
/// class). A sample whose feature count differs from the model's gets `Unknown`.
#[must_use]
pub fn predict_samples(model: &Model, samples: &[Sample]) -> Vec<String> {
    samples
        .iter()
        .map(|s| {
            model
                .predict_proba(&s.features)
                .and_then(|p| {
                    p.iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(&a.0)))
                        .and_then(|(i, _)| model.classes().get(i).cloned())
                })
                .unwrap_or_else(|| "Unknown".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    /// Hand-computed: truth a,a,b,b,b predicted a,b,b,b,a. Class a: tp 1, fp 1, fn 1 →
    /// P = R = F1 = 0.5. Class b: tp 2, fp 1, fn 1 → P = R = F1 = 2/3.
    #[test]
    fn scores_match_hand_computation() {
        let r = EvalReport::new(
            &s(&["a", "a", "b", "b", "b"]),
            &s(&["a", "b", "b", "b", "a"]),
        );
        assert_eq!(r.samples, 5);
        assert!((r.accuracy - 0.6).abs() < 1e-12);
        let want_weighted = (2.0 * 0.5 + 3.0 * (2.0 / 3.0)) / 5.0;
        assert!((r.weighted_f1 - want_weighted).abs() < 1e-12);
        assert!((r.weighted_precision - want_weighted).abs() < 1e-12);
        assert!((r.weighted_recall - r.accuracy).abs() < 1e-12);
        assert!((r.macro_recall - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(r.confusion, vec![vec![1, 1], vec![1, 2]]);
        assert_eq!(
            r.hardest_confusions(5),
            vec![
                ("a".to_owned(), "b".to_owned(), 1),
                ("b".to_owned(), "a".to_owned(), 1)
            ]
        );
    }

    /// A class only ever predicted (never true) has support 0 and does not count in the
    /// weighted averages, but lowers the precision of nothing else.
    #[test]
    fn predicted_only_class() {
        let r = EvalReport::new(&s(&["a", "a"]), &s(&["a", "z"]));
        assert_eq!(r.classes, s(&["a", "z"]));
        let z = r
            .per_class
            .iter()
            .find(|c| c.class == "z")
            .map(|c| c.support);
        assert_eq!(z, Some(0));
        assert!((r.accuracy - 0.5).abs() < 1e-12);
        assert!((r.macro_recall - 0.5).abs() < 1e-12);
    }
}
