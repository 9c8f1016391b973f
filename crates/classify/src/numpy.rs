//! The summary statistics networkML takes with pandas 1.4 / numpy 1.22, computed in the
//! same order of floating-point operations so the results agree to the last bit.
//!
//! The order matters: numpy sums float arrays pairwise (eight accumulators per block of up
//! to 128 values, blocks combined recursively), so a plain left-to-right sum of a few
//! hundred inter-arrival times differs in the last digits, and networkML's features are
//! compared to 1e-9 and its probabilities to 1e-6.

/// numpy's `PW_BLOCKSIZE`: arrays up to this length are summed with eight accumulators.
const PW_BLOCKSIZE: usize = 128;
/// Number of partial sums numpy unrolls into.
const PW_UNROLL: usize = 8;

/// `np.add.reduce` of a contiguous float64 array: `0.0 + pairwise_sum(values)`.
#[must_use]
pub fn pairwise_sum(values: &[f64]) -> f64 {
    0.0 + pairwise(values)
}

/// numpy's `DOUBLE_pairwise_sum`.
fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < PW_UNROLL {
        let mut res = 0.0;
        for x in a {
            res += x;
        }
        res
    } else if n <= PW_BLOCKSIZE {
        let mut r = [0.0f64; PW_UNROLL];
        for (slot, x) in r.iter_mut().zip(a) {
            *slot = *x;
        }
        let full = n - n % PW_UNROLL;
        let mut i = PW_UNROLL;
        while i < full {
            if let Some(block) = a.get(i..i + PW_UNROLL) {
                for (slot, x) in r.iter_mut().zip(block) {
                    *slot += x;
                }
            }
            i += PW_UNROLL;
        }
        let [r0, r1, r2, r3, r4, r5, r6, r7] = r;
        let mut res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
        for x in a.get(full..).unwrap_or(&[]) {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % PW_UNROLL;
        let (left, right) = a.split_at(n2);
        pairwise(left) + pairwise(right)
    }
}

/// The nine statistics networkML takes of a column (`max`, `min`, `count`, `total`,
/// `average`, `median`, `variance`, `25q`, `75q`), with pandas' NaN-becomes-0 applied.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ColumnStats {
    /// Largest value (0 when empty).
    pub max: f64,
    /// Smallest value (0 when empty).
    pub min: f64,
    /// Number of values.
    pub count: f64,
    /// Sum (pairwise; 0 when empty).
    pub total: f64,
    /// Sum / count (0 when empty).
    pub average: f64,
    /// Middle value, or the mean of the two middle values (0 when empty).
    pub median: f64,
    /// Sample variance, ddof = 1 (0 with fewer than two values).
    pub variance: f64,
    /// Linear-interpolated 25th percentile (0 when empty).
    pub q25: f64,
    /// Linear-interpolated 75th percentile (0 when empty).
    pub q75: f64,
}

impl ColumnStats {
    /// Statistics of `values` in capture order. `scratch` is reused for sorting.
    #[must_use]
    pub fn of(values: &[f64], scratch: &mut Vec<f64>) -> ColumnStats {
        let n = values.len();
        if n == 0 {
            return ColumnStats::default();
        }
        let count = n as f64;
        let total = pairwise_sum(values);
        let average = total / count;
        // pandas nanvar: mean from the pairwise sum, then the pairwise sum of squared
        // deviations (avg - x)^2, divided by n - 1.
        let variance = if n < 2 {
            0.0
        } else {
            scratch.clear();
            scratch.extend(values.iter().map(|x| {
                let d = average - x;
                d * d
            }));
            pairwise_sum(scratch) / (count - 1.0)
        };
        scratch.clear();
        scratch.extend_from_slice(values);
        // Values equal under total_cmp are the same bits, so an unstable sort gives the
        // same order as a stable one, without a merge buffer.
        scratch.sort_unstable_by(f64::total_cmp);
        let max = scratch.last().copied().unwrap_or(0.0);
        let min = scratch.first().copied().unwrap_or(0.0);
        let median = if n % 2 == 1 {
            scratch.get(n / 2).copied().unwrap_or(0.0)
        } else {
            let a = scratch.get(n / 2 - 1).copied().unwrap_or(0.0);
            let b = scratch.get(n / 2).copied().unwrap_or(0.0);
            (a + b) / 2.0
        };
        ColumnStats {
            max,
            min,
            count,
            total,
            average,
            median,
            variance,
            q25: percentile_sorted(scratch, 0.25),
            q75: percentile_sorted(scratch, 0.75),
        }
    }
}

/// numpy 1.22 `percentile(..., method="linear")` of sorted values: virtual index
/// `(n - 1) q`, then `_lerp`, which computes from the upper neighbour when the fraction is
/// at least one half.
fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    // numpy: n * q + (alpha + q * (1 - alpha - beta)) - 1 with alpha = beta = 1, i.e.
    // n * q + (1 - q) - 1, in that order of operations.
    const ALPHA: f64 = 1.0;
    const BETA: f64 = 1.0;
    let virtual_index = n as f64 * q + (ALPHA + q * (1.0 - ALPHA - BETA)) - 1.0;
    let last = n - 1;
    if virtual_index >= last as f64 {
        return sorted.get(last).copied().unwrap_or(0.0);
    }
    if virtual_index < 0.0 {
        return sorted.first().copied().unwrap_or(0.0);
    }
    let below = virtual_index.floor();
    let t = virtual_index - below;
    // `below` is in 0..last here, so the conversion is exact.
    let i = below as usize;
    let a = sorted.get(i).copied().unwrap_or(0.0);
    let b = sorted.get(i + 1).copied().unwrap_or(a);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_differs_from_sequential_like_numpy() {
        // 0.1 summed 1000 times: numpy's pairwise sum gives 100.00000000000001 (printed by
        // `np.sum(np.full(1000, 0.1))`), a left-to-right loop 99.9999999999986.
        let v = vec![0.1f64; 1000];
        assert_eq!(pairwise_sum(&v), 100.00000000000001);
        let seq: f64 = v.iter().sum();
        assert_eq!(seq, 99.9999999999986);
    }

    #[test]
    fn stats_small_cases() {
        let mut s = Vec::new();
        let st = ColumnStats::of(&[1.0, 2.0, 3.0, 4.0], &mut s);
        assert_eq!(st.median, 2.5);
        assert_eq!(st.q25, 1.75);
        assert_eq!(st.q75, 3.25);
        assert_eq!(st.variance, 5.0 / 3.0);
        assert_eq!(st.total, 10.0);
        let one = ColumnStats::of(&[7.0], &mut s);
        assert_eq!(
            (one.variance, one.q25, one.q75, one.median),
            (0.0, 7.0, 7.0, 7.0)
        );
        assert_eq!(ColumnStats::of(&[], &mut s), ColumnStats::default());
    }
}
