//! Online statistics: count, minimum, maximum, mean and standard deviation in one pass and
//! constant memory (Welford's algorithm), so a flow of a million packets costs what a flow
//! of two does.

use serde::Serialize;

/// Running statistics of a series of values.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OnlineStats {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

/// The summary of an [`OnlineStats`] that has seen at least one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divides by n−1, as nfstream and numpy's `ddof=1` do);
    /// 0 for a single value.
    pub std: f64,
}

impl OnlineStats {
    /// Adds one value. Welford's update: numerically stable where the textbook
    /// sum-of-squares formula cancels catastrophically (large means, small spread).
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        if self.n == 1 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// How many values were added.
    #[must_use]
    pub const fn count(&self) -> u64 {
        self.n
    }

    /// The summary, or `None` when no value was added.
    #[must_use]
    pub fn summary(&self) -> Option<Summary> {
        if self.n == 0 {
            return None;
        }
        let std = if self.n > 1 {
            (self.m2.max(0.0) / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Summary {
            min: self.min,
            max: self.max,
            mean: self.mean,
            std,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two-pass reference, computed the textbook way on a small series.
    fn reference(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    #[test]
    fn matches_two_pass_formula() {
        let xs = [60.0, 1514.0, 52.0, 52.0, 1514.0, 40.0, 576.0];
        let mut s = OnlineStats::default();
        for x in xs {
            s.push(x);
        }
        let sum = s.summary().unwrap();
        let (mean, std) = reference(&xs);
        assert_eq!(sum.min, 40.0);
        assert_eq!(sum.max, 1514.0);
        assert!((sum.mean - mean).abs() < 1e-9, "{} vs {mean}", sum.mean);
        assert!((sum.std - std).abs() < 1e-9, "{} vs {std}", sum.std);
        assert_eq!(s.count(), 7);
    }

    #[test]
    fn stable_with_large_offset() {
        // Values around 1e9 with unit spread: the naive formula loses every digit here.
        let mut s = OnlineStats::default();
        for x in [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0] {
            s.push(x);
        }
        let std = s.summary().map(|v| v.std).unwrap_or(f64::NAN);
        // Sample variance of 4, 7, 13, 16 is 30.
        assert!((std - 30f64.sqrt()).abs() < 1e-6, "{std}");
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(OnlineStats::default().summary(), None);
        let mut s = OnlineStats::default();
        s.push(5.0);
        assert_eq!(
            s.summary(),
            Some(Summary {
                min: 5.0,
                max: 5.0,
                mean: 5.0,
                std: 0.0
            })
        );
    }
}
