//! A Kayenta-style canary judge: each metric's time series on the new
//! version is compared with the same series on stable by a Mann-Whitney U
//! test, classified Pass, High or Low, and the metrics are scored
//! 100 x pass / (pass + high + low), as Spinnaker's NetflixACAJudge does.
//!
//! The data points are per-step values (one per `step`, e.g. a scrape
//! interval's p99), as Kayenta's are, not single requests. Pure functions; the
//! triggers module feeds them windows.

use crate::model::dist::normal_quantile;

/// Which way a metric may not move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Only an increase fails (latency, errors).
    Increase,
    /// Only a decrease fails (throughput, success).
    Decrease,
    /// Either way fails.
    Either,
}

impl Direction {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
            Direction::Either => "either",
        }
    }
}

/// A metric's class after comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// No significant difference in the direction that matters.
    Pass,
    /// The new version is significantly higher.
    High,
    /// The new version is significantly lower.
    Low,
    /// Too few data points on one side to judge.
    NoData,
}

/// The Mann-Whitney U test of `x` against `y`, normal approximation with the
/// tie correction, plus the Hodges-Lehmann shift estimate and its
/// distribution-free confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannWhitney {
    /// U of `x`: pairs (x_i, y_j) with x_i > y_j, ties counting one half.
    pub u: f64,
    /// The standardised statistic (with continuity correction).
    pub z: f64,
    /// The two-sided p-value.
    pub p_two_sided: f64,
    /// The Hodges-Lehmann estimate of the shift x - y: the median of all
    /// pairwise differences.
    pub estimate: f64,
    /// Lower end of the confidence interval for the shift.
    pub lower: f64,
    /// Upper end of the confidence interval for the shift.
    pub upper: f64,
}

/// Runs the test at `confidence` (e.g. 0.98). Both samples must be
/// non-empty.
pub fn mann_whitney(x: &[f64], y: &[f64], confidence: f64) -> MannWhitney {
    let (m, n) = (x.len() as f64, y.len() as f64);
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Midranks over runs of ties; the tie term sum(t^3 - t) shrinks the
    // variance.
    let (mut rank_sum_x, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j + 1 < pooled.len() && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        let in_x = pooled[i..=j].iter().filter(|p| p.1).count() as f64;
        rank_sum_x += midrank * in_x;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let total = m + n;
    let u = rank_sum_x - m * (m + 1.0) / 2.0;
    let mean = m * n / 2.0;
    let variance = m * n / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)).max(1.0));
    let sd = variance.max(0.0).sqrt();
    let z = if sd > 0.0 {
        // The continuity step moves U half a unit towards its mean, never
        // past it (f64::signum(0.0) is 1, so it is spelled out).
        let d = u - mean;
        d.signum() * (d.abs() - 0.5).max(0.0) / sd
    } else {
        0.0
    };
    let p_two_sided = if sd > 0.0 {
        (2.0 * crate::model::dist::normal_cdf(-z.abs())).min(1.0)
    } else {
        1.0
    };
    // The interval runs between the C-th smallest and the C-th largest of
    // the m x n differences, C = mn/2 - z sd rounded (Hollander and Wolfe's
    // large-sample form).
    let mut diffs: Vec<f64> = x.iter().flat_map(|&a| y.iter().map(move |&b| a - b)).collect();
    let pairs = diffs.len();
    let z_crit = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let estimate = median_in_place(&mut diffs);
    // C below 1: samples this small cannot reach the confidence asked for,
    // so the interval is the whole line (no shift is excluded).
    let c = (mean - z_crit * sd).round();
    let (lower, upper) = if c < 1.0 || sd == 0.0 {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        let c = (c as usize).min(pairs.div_ceil(2));
        (
            *diffs.select_nth_unstable_by(c - 1, f64::total_cmp).1,
            *diffs.select_nth_unstable_by(pairs - c, f64::total_cmp).1,
        )
    };
    MannWhitney {
        u,
        z,
        p_two_sided,
        estimate,
        lower,
        upper,
    }
}

/// The median (mean of the two middle values for an even count); reorders.
fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let hi = *v.select_nth_unstable_by(n / 2, f64::total_cmp).1;
    if n % 2 == 1 {
        hi
    } else {
        let lo = *v.select_nth_unstable_by(n / 2 - 1, f64::total_cmp).1;
        (lo + hi) / 2.0
    }
}

/// The q-quantile of sorted data by linear interpolation between order
/// statistics.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos.fract());
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

/// Drops values outside [Q1 - factor x IQR, Q3 + factor x IQR], Kayenta's
/// outlier removal.
pub fn remove_outliers(values: &mut Vec<f64>, factor: f64) {
    if values.len() < 4 {
        return;
    }
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile_sorted(&sorted, 0.25), quantile_sorted(&sorted, 0.75));
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - factor * iqr, q3 + factor * iqr);
    values.retain(|v| (lo..=hi).contains(v));
}

/// How one metric is compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Which way fails.
    pub direction: Direction,
    /// The test's confidence level.
    pub confidence: f64,
    /// Kayenta's tolerance: a shift counts only when the interval clears
    /// `tolerance x |estimate|`, so a barely significant shift still passes.
    pub tolerance: f64,
    /// Outlier factor, if outliers are removed.
    pub outlier_factor: Option<f64>,
    /// High also needs mean(new) / mean(stable) above this (Kayenta's
    /// effect size; 1 = any increase).
    pub allowed_increase: f64,
    /// Low also needs the ratio below this (1 = any decrease).
    pub allowed_decrease: f64,
    /// Fewer data points on either side is NoData.
    pub min_data_points: usize,
}

/// The fewest points a side needs (both sides alike) for the interval at
/// `confidence` to exist without ties: the smallest n with
/// round(n^2/2 - z sqrt(n^2 (2n + 1) / 12)) >= 1.
pub fn fewest_points_for(confidence: f64) -> usize {
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    (1..=10_000)
        .find(|&n| {
            let nn = (n * n) as f64;
            (nn / 2.0 - z * (nn * (2.0 * n as f64 + 1.0) / 12.0).sqrt()).round() >= 1.0
        })
        .unwrap_or(10_000)
}

/// Classifies `new` against `stable` (each a series of per-step values).
/// Enough data is judged on the points collected, before outliers go: a
/// spike removed as an outlier must not take the metric's data away.
pub fn classify(mut new: Vec<f64>, mut stable: Vec<f64>, c: &Comparison) -> Class {
    if new.len() < c.min_data_points.max(1) || stable.len() < c.min_data_points.max(1) {
        return Class::NoData;
    }
    if let Some(f) = c.outlier_factor {
        remove_outliers(&mut new, f);
        remove_outliers(&mut stable, f);
    }
    if new.is_empty() || stable.is_empty() {
        return Class::NoData;
    }
    let first = new[0];
    if new.iter().chain(&stable).all(|&v| v == first) {
        return Class::Pass;
    }
    let t = mann_whitney(&new, &stable, c.confidence);
    if t.lower == f64::NEG_INFINITY && t.upper == f64::INFINITY {
        // Too few points for the confidence asked: not judged, not a pass.
        return Class::NoData;
    }
    let bound = c.tolerance * t.estimate.abs();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mean_new, mean_stable) = (mean(&new), mean(&stable));
    let ratio = if mean_stable > 0.0 {
        mean_new / mean_stable
    } else if mean_new > 0.0 {
        f64::INFINITY
    } else {
        1.0
    };
    let up = matches!(c.direction, Direction::Increase | Direction::Either);
    let down = matches!(c.direction, Direction::Decrease | Direction::Either);
    if up && t.lower > bound && ratio > c.allowed_increase.max(1.0) - 1e-12 && mean_new > mean_stable {
        Class::High
    } else if down && t.upper < -bound && ratio < c.allowed_decrease.min(1.0) + 1e-12 && mean_new < mean_stable {
        Class::Low
    } else {
        Class::Pass
    }
}

/// Kayenta's score over classified metrics, each `(class, critical)`:
/// 100 x pass / (pass + high + low), 0 when a critical metric is High or
/// Low, `None` when no metric has data or a critical one has none (a
/// critical metric that cannot be judged must not pass by its absence).
pub fn score(classes: &[(Class, bool)]) -> Option<f64> {
    if classes
        .iter()
        .any(|&(c, critical)| critical && matches!(c, Class::High | Class::Low))
    {
        return Some(0.0);
    }
    if classes.iter().any(|&(c, critical)| critical && c == Class::NoData) {
        return None;
    }
    let judged = classes.iter().filter(|(c, _)| *c != Class::NoData).count();
    let pass = classes.iter().filter(|(c, _)| *c == Class::Pass).count();
    (judged > 0).then(|| 100.0 * pass as f64 / judged as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact null variance of U over every split of a small pooled
    /// sample, by enumeration.
    fn exact_null_variance(pooled: &[f64], m: usize) -> f64 {
        let n_all = pooled.len();
        let mut us = Vec::new();
        for mask in 0u32..(1 << n_all) {
            if mask.count_ones() as usize != m {
                continue;
            }
            let side = |inside: bool| -> Vec<f64> {
                (0..n_all)
                    .filter(|i| (mask & (1 << i) != 0) == inside)
                    .map(|i| pooled[i])
                    .collect()
            };
            let (x, y) = (side(true), side(false));
            let u: f64 = x
                .iter()
                .flat_map(|&a| {
                    y.iter().map(move |&b| {
                        if a > b {
                            1.0
                        } else if a == b {
                            0.5
                        } else {
                            0.0
                        }
                    })
                })
                .sum();
            us.push(u);
        }
        let mean = us.iter().sum::<f64>() / us.len() as f64;
        us.iter().map(|u| (u - mean) * (u - mean)).sum::<f64>() / us.len() as f64
    }

    #[test]
    fn the_tie_corrected_variance_is_the_exact_permutation_variance() {
        // Heavy ties, as histogram-bucketed latencies have.
        let x = [1.0, 2.0, 2.0, 3.0];
        let y = [2.0, 2.0, 3.0, 3.0, 5.0];
        let pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
        let exact = exact_null_variance(&pooled, x.len());
        let t = mann_whitney(&x, &y, 0.95);
        let (m, n) = (4.0, 5.0);
        // z (with its 0.5 continuity step) gives the sd back.
        let d = t.u - m * n / 2.0;
        let sd = d.signum() * (d.abs() - 0.5) / t.z;
        assert!((sd * sd - exact).abs() < 1e-9, "formula {} vs exact {exact}", sd * sd);
    }

    #[test]
    fn u_counts_pairs_and_the_p_value_matches_the_normal_formula() {
        // Complete separation: U = 0; z = (0 - 12.5 + 0.5) / sqrt(25 * 11 / 12).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [6.0, 7.0, 8.0, 9.0, 10.0];
        let t = mann_whitney(&x, &y, 0.95);
        assert_eq!(t.u, 0.0);
        let z = -12.0 / (25.0f64 * 11.0 / 12.0).sqrt();
        assert!((t.z - z).abs() < 1e-12);
        // 2 x Phi(-2.5067) = 0.012186 (tables).
        assert!((t.p_two_sided - 0.012_186).abs() < 2e-5, "{}", t.p_two_sided);
        // Every difference is -5 ... -1 ... : HL estimate is the median, -5.
        assert_eq!(t.estimate, -5.0);
        assert!(t.lower <= t.estimate && t.estimate <= t.upper);
    }

    proptest::proptest! {
        /// On any samples (ties, NaN-free, any sizes): U(x, y) + U(y, x) =
        /// mn; swapping the samples negates the shift, its interval and z;
        /// the interval holds the estimate; the p-value is a probability.
        #[test]
        fn the_test_is_antisymmetric_and_its_interval_holds_the_estimate(
            x in proptest::collection::vec(0u8..20, 1..40),
            y in proptest::collection::vec(0u8..20, 1..40),
            confidence in 0.5f64..0.999,
        ) {
            let x: Vec<f64> = x.into_iter().map(f64::from).collect();
            let y: Vec<f64> = y.into_iter().map(f64::from).collect();
            let a = mann_whitney(&x, &y, confidence);
            let b = mann_whitney(&y, &x, confidence);
            proptest::prop_assert!((a.u + b.u - (x.len() * y.len()) as f64).abs() < 1e-9);
            proptest::prop_assert!((a.estimate + b.estimate).abs() < 1e-9);
            let mirrors = |p: f64, q: f64| p == -q || (p + q).abs() < 1e-9;
            proptest::prop_assert!(mirrors(a.lower, b.upper) && mirrors(a.upper, b.lower));
            proptest::prop_assert!((a.z + b.z).abs() < 1e-9);
            proptest::prop_assert!(a.lower <= a.estimate && a.estimate <= a.upper);
            proptest::prop_assert!((0.0..=1.0).contains(&a.p_two_sided));
        }
    }

    #[test]
    fn the_fewest_points_are_the_first_that_give_an_interval() {
        for confidence in [0.9, 0.95, 0.98, 0.999] {
            let n = fewest_points_for(confidence);
            let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let y: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
            assert!(mann_whitney(&x, &y, confidence).lower.is_finite(), "{confidence}: {n}");
            let (x, y) = (&x[..n - 1], &y[..n - 1]);
            assert!(
                !mann_whitney(x, y, confidence).lower.is_finite(),
                "{confidence}: {}",
                n - 1
            );
        }
    }

    #[test]
    fn outliers_beyond_the_fences_are_dropped() {
        let mut v = vec![10.0, 11.0, 12.0, 13.0, 14.0, 1000.0];
        remove_outliers(&mut v, 3.0);
        assert_eq!(v, vec![10.0, 11.0, 12.0, 13.0, 14.0]);
    }

    #[test]
    fn a_critical_failure_scores_zero_and_no_data_is_not_counted() {
        assert_eq!(score(&[(Class::Pass, false), (Class::High, false)]), Some(50.0));
        assert_eq!(score(&[(Class::Pass, false), (Class::High, true)]), Some(0.0));
        assert_eq!(score(&[(Class::Pass, false), (Class::NoData, false)]), Some(100.0));
        assert_eq!(score(&[(Class::NoData, false)]), None);
        assert_eq!(score(&[(Class::Pass, false), (Class::NoData, true)]), None);
    }

    #[test]
    fn direction_and_effect_size_gate_the_class() {
        let stable: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 10)).collect();
        let slower: Vec<f64> = stable.iter().map(|v| v * 1.5).collect();
        let mut c = Comparison {
            direction: Direction::Increase,
            confidence: 0.98,
            tolerance: 0.25,
            outlier_factor: None,
            allowed_increase: 1.0,
            allowed_decrease: 1.0,
            min_data_points: 50,
        };
        assert_eq!(classify(slower.clone(), stable.clone(), &c), Class::High);
        assert_eq!(classify(stable.clone(), slower.clone(), &c), Class::Pass);
        c.direction = Direction::Either;
        assert_eq!(classify(stable.clone(), slower.clone(), &c), Class::Low);
        // A 50% slower series under an allowed 1.6x increase passes.
        c.allowed_increase = 1.6;
        assert_eq!(classify(slower.clone(), stable.clone(), &c), Class::Pass);
        c.min_data_points = 61;
        assert_eq!(classify(slower.clone(), stable.clone(), &c), Class::NoData);
        // Data is counted before outliers go: one spike dropped from 60
        // points leaves the metric judged.
        c.min_data_points = 60;
        c.allowed_increase = 1.0;
        c.outlier_factor = Some(3.0);
        let mut spiked = slower.clone();
        spiked[7] = 10_000.0;
        assert_eq!(classify(spiked, stable, &c), Class::High);
    }

    #[test]
    fn samples_too_small_for_the_confidence_get_an_unbounded_interval_and_no_class() {
        // 3 against 3 distinct values: the most extreme split has
        // probability 2 / C(6, 3) = 0.1, so no interval of 98% exists from
        // the pairwise differences; the test must not exclude a shift.
        let t = mann_whitney(&[10.0, 11.0, 12.0], &[1.0, 2.0, 3.0], 0.98);
        assert_eq!((t.lower, t.upper), (f64::NEG_INFINITY, f64::INFINITY));
        let c = Comparison {
            direction: Direction::Either,
            confidence: 0.98,
            tolerance: 0.0,
            outlier_factor: None,
            allowed_increase: 1.0,
            allowed_decrease: 1.0,
            min_data_points: 3,
        };
        assert_eq!(classify(vec![10.0, 11.0, 12.0], vec![1.0, 2.0, 3.0], &c), Class::NoData);
    }
}
