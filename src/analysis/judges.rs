//! Statistical judges over metric windows: the conditional binomial test of
//! canary errors against baseline errors, and the SRE workbook's burn rate.
//! Pure functions; the triggers module applies them to scraped windows.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(π x).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// ln P(X = k) for X ~ Binomial(n, p).
fn ln_binomial_pmf(k: u64, n: u64, p: f64) -> f64 {
    let (k, n) = (k as f64, n as f64);
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0) + k * p.ln() + (n - k) * (1.0 - p).ln()
}

/// P(X >= k) for X ~ Binomial(n, p). The smaller tail is summed term by
/// term away from the mean, where terms only shrink, and stops once they no
/// longer matter (or underflow): a few standard deviations of work at most,
/// however large n is.
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let mean = n as f64 * p;
    // Sums P(X = i) for i from `from` stepping by `step` until the terms
    // stop counting.
    let tail = |from: u64, down: bool| {
        let mut sum = 0.0;
        let mut i = from;
        loop {
            let term = ln_binomial_pmf(i, n, p).exp();
            sum += term;
            if term == 0.0 || term < sum * 1e-17 {
                break;
            }
            if down {
                if i == 0 {
                    break;
                }
                i -= 1;
            } else {
                if i == n {
                    break;
                }
                i += 1;
            }
        }
        sum
    };
    if k as f64 > mean {
        tail(k, false).min(1.0)
    } else {
        (1.0 - tail(k - 1, true)).clamp(0.0, 1.0)
    }
}

/// The conditional binomial test of a canary against its baseline: given
/// `m` errors in both together, the canary's errors are Binomial(m, share)
/// when nothing is wrong, `share` being its part of the requests. Returns
/// the one-sided p-value P(X >= canary errors), or `None` without errors or
/// requests to judge.
pub fn binomial_p_value(canary: (u64, u64), baseline: (u64, u64)) -> Option<f64> {
    let (n_c, x_c) = canary;
    let (n_b, x_b) = baseline;
    let m = x_c + x_b;
    if m == 0 || n_c == 0 || n_b == 0 {
        return None;
    }
    let share = n_c as f64 / (n_c + n_b) as f64;
    Some(binomial_upper_tail(x_c, m, share))
}

/// How fast an error budget burns: the error ratio over the budget
/// (1 - SLO). 1 spends exactly the budget over the SLO period.
pub fn burn_rate(errors: u64, requests: u64, slo_pct: f64) -> Option<f64> {
    let budget = 1.0 - slo_pct / 100.0;
    (requests > 0 && budget > 0.0).then(|| errors as f64 / requests as f64 / budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        for (n, fact) in [(1u32, 1.0f64), (5, 120.0), (10, 3_628_800.0)] {
            assert!((ln_gamma(f64::from(n) + 1.0) - fact.ln()).abs() < 1e-10, "{n}");
        }
        // Γ(1/2) = sqrt(π).
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // ln 100! = 363.7393755555635.
        assert!((ln_gamma(101.0) - 363.739_375_555_563_5).abs() < 1e-9);
    }

    #[test]
    fn the_binomial_tail_is_exact_on_small_cases() {
        // X ~ Bin(4, 1/2): P(X >= 3) = 5/16.
        assert!((binomial_upper_tail(3, 4, 0.5) - 5.0 / 16.0).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(0, 4, 0.5), 1.0);
        assert_eq!(binomial_upper_tail(5, 4, 0.5), 0.0);
        // Symmetry: P(X >= 500) for Bin(1000, 1/2) = (1 + P(X = 500)) / 2.
        let p500 = ln_binomial_pmf(500, 1000, 0.5).exp();
        assert!((binomial_upper_tail(500, 1000, 0.5) - (1.0 + p500) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn far_tails_take_few_terms_and_agree_with_the_complement() {
        // Millions of errors: both far tails come back at once (each loop
        // stops within a few standard deviations of its start).
        assert_eq!(binomial_upper_tail(40_000_000, 80_000_000, 0.1), 0.0);
        assert!((binomial_upper_tail(1, 10_000_000, 0.5) - 1.0).abs() < 1e-15);
        // Around the mean the two ways of summing meet: P(X >= k) + P(X <= k - 1) = 1.
        for k in [480, 500, 520] {
            let up = binomial_upper_tail(k, 1000, 0.5);
            let down: f64 = (0..k).map(|i| ln_binomial_pmf(i, 1000, 0.5).exp()).sum();
            assert!((up + down - 1.0).abs() < 1e-12, "{k}");
        }
    }

    #[test]
    fn the_canary_test_conditions_on_all_errors() {
        // 10% of requests on the canary, 10 errors in all, 5 of them on it:
        // P(Bin(10, 0.1) >= 5) = 0.0016349374.
        let p = binomial_p_value((100, 5), (900, 5)).unwrap();
        assert!((p - 0.001_634_937_4).abs() < 1e-9, "{p}");
        assert_eq!(binomial_p_value((100, 0), (900, 0)), None);
        // 0.1% errors against a 99.9% SLO burns the budget at exactly 1x.
        assert!((burn_rate(1, 1000, 99.9).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(burn_rate(0, 0, 99.9), None);
    }
}
