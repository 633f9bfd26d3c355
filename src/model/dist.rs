//! Probability distributions of the model: durations (provisioning, boot,
//! stop) and request latency, with the CDFs that aggregate mode and the
//! mathematical tests need.

use crate::engine::SimDuration;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, StandardNormal};

/// A distribution of durations; a fixed value is a valid distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationDist {
    /// Always the same duration.
    Fixed(SimDuration),
    /// Uniform between `min` and `max` inclusive.
    Uniform {
        /// Lower bound.
        min: SimDuration,
        /// Upper bound.
        max: SimDuration,
    },
    /// Normal, truncated at zero.
    Normal {
        /// Mean.
        mean: SimDuration,
        /// Standard deviation.
        sd: SimDuration,
    },
    /// Log-normal given by its median and the sigma of the underlying normal.
    LogNormal {
        /// Median.
        median: SimDuration,
        /// Sigma of log(duration).
        sigma: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: SimDuration,
    },
}

impl DurationDist {
    /// Draws one duration. Always draws exactly one number from `rng` (none
    /// for `Fixed`), so the stream stays aligned whatever the parameters.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match *self {
            DurationDist::Fixed(d) => d,
            DurationDist::Uniform { min, max } => SimDuration(rng.random_range(min.0..=max.0)),
            DurationDist::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                SimDuration::from_secs_f64(mean.as_secs_f64() + sd.as_secs_f64() * z)
            }
            DurationDist::LogNormal { median, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                SimDuration::from_secs_f64(median.as_secs_f64() * (sigma * z).exp())
            }
            DurationDist::Exponential { mean } => {
                let secs = mean.as_secs_f64();
                if secs <= 0.0 {
                    return SimDuration::ZERO;
                }
                let exp = Exp::new(1.0 / secs).expect("positive rate");
                SimDuration::from_secs_f64(exp.sample(rng))
            }
        }
    }

    /// The largest value this distribution can plausibly produce, used to
    /// bound validation (the 1 - 1e-9 quantile for unbounded ones).
    pub fn practical_max(&self) -> SimDuration {
        match *self {
            DurationDist::Fixed(d) => d,
            DurationDist::Uniform { max, .. } => max,
            DurationDist::Normal { mean, sd } => {
                SimDuration::from_secs_f64(mean.as_secs_f64() + 6.0 * sd.as_secs_f64())
            }
            DurationDist::LogNormal { median, sigma } => {
                SimDuration::from_secs_f64(median.as_secs_f64() * (6.0 * sigma).exp())
            }
            DurationDist::Exponential { mean } => SimDuration::from_secs_f64(mean.as_secs_f64() * 20.7),
        }
    }
}

/// Request latency (or, with a capacity model, service time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyDist {
    /// Log-normal with a median and the sigma of log(latency).
    LogNormal {
        /// Median latency in seconds.
        median_s: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Exponential with a mean (the M in M/M/c).
    Exponential {
        /// Mean in seconds.
        mean_s: f64,
    },
}

/// The 99th percentile of the standard normal distribution.
pub const Z_99: f64 = 2.326_347_874_040_841;

impl LatencyDist {
    /// Log-normal from a median and a sigma.
    pub fn lognormal(median_s: f64, sigma: f64) -> Self {
        LatencyDist::LogNormal { median_s, sigma }
    }

    /// Log-normal from a median and a p99 (p99 > median):
    /// sigma = ln(p99/median) / z_0.99.
    pub fn from_median_p99(median_s: f64, p99_s: f64) -> Self {
        LatencyDist::LogNormal {
            median_s,
            sigma: (p99_s / median_s).ln() / Z_99,
        }
    }

    /// The sigma of a log-normal (0 for other shapes).
    pub fn sigma(&self) -> f64 {
        match *self {
            LatencyDist::LogNormal { sigma, .. } => sigma,
            LatencyDist::Exponential { .. } => 0.0,
        }
    }

    /// The same shape with every latency multiplied by `factor`.
    pub fn scaled(self, factor: f64) -> Self {
        match self {
            LatencyDist::LogNormal { median_s, sigma } => LatencyDist::LogNormal {
                median_s: median_s * factor,
                sigma,
            },
            LatencyDist::Exponential { mean_s } => LatencyDist::Exponential {
                mean_s: mean_s * factor,
            },
        }
    }

    /// The latency for a standard-normal draw `z` (by inverse CDF). Drawing
    /// `z` once per request and mapping it through each version keeps the
    /// versions coupled (common random numbers): a slow request is slow on
    /// both.
    pub fn at_z(&self, z: f64) -> f64 {
        match *self {
            LatencyDist::LogNormal { median_s, sigma } => median_s * (sigma * z).exp(),
            // 1 - Phi(z) = Phi(-z), computed from the tail for accuracy.
            LatencyDist::Exponential { mean_s } => -mean_s * normal_cdf(-z).max(f64::MIN_POSITIVE).ln(),
        }
    }

    /// P(latency <= x seconds).
    pub fn cdf(&self, x_s: f64) -> f64 {
        if x_s <= 0.0 {
            return 0.0;
        }
        match *self {
            LatencyDist::LogNormal { median_s, sigma } => {
                if sigma == 0.0 {
                    return if x_s >= median_s { 1.0 } else { 0.0 };
                }
                normal_cdf((x_s / median_s).ln() / sigma)
            }
            LatencyDist::Exponential { mean_s } => 1.0 - (-x_s / mean_s).exp(),
        }
    }

    /// The mean latency in seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            LatencyDist::LogNormal { median_s, sigma } => median_s * (sigma * sigma / 2.0).exp(),
            LatencyDist::Exponential { mean_s } => mean_s,
        }
    }

    /// The q-quantile in seconds, 0 < q < 1.
    pub fn quantile(&self, q: f64) -> f64 {
        match *self {
            LatencyDist::LogNormal { median_s, sigma } => median_s * (sigma * normal_quantile(q)).exp(),
            LatencyDist::Exponential { mean_s } => -mean_s * (1.0 - q).ln(),
        }
    }
}

/// The standard normal CDF, via erfc (absolute error below 1.2e-7).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Chebyshev fit, fractional error below
/// 1.2e-7 everywhere; Numerical Recipes' erfcc form).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ans = t * poly.exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

/// The standard normal quantile (Acklam's rational approximation refined by
/// one Halley step; relative error far below what any output shows).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p_low = 0.02425;
    let x = if p < p_low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - p_low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley refinement step against the CDF.
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream, Subsystem};

    #[test]
    fn normal_cdf_matches_tables() {
        // Values from standard normal tables.
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.0) - 0.841_344_746).abs() < 2e-7);
        assert!((normal_cdf(-1.959_963_985) - 0.025).abs() < 2e-7);
        assert!((normal_cdf(Z_99) - 0.99).abs() < 2e-7);
    }

    #[test]
    fn quantile_inverts_cdf() {
        for p in [1e-6, 0.01, 0.3, 0.5, 0.9, 0.99, 0.999_999] {
            let z = normal_quantile(p);
            assert!((normal_cdf(z) - p).abs() < 1e-7 * p.max(1e-3), "p = {p}");
        }
    }

    #[test]
    fn exponential_latency_by_inverse_cdf() {
        let d = LatencyDist::Exponential { mean_s: 0.1 };
        // at_z maps a normal draw through Phi then the exponential quantile.
        for z in [-2.0, 0.0, 1.5] {
            assert!((d.cdf(d.at_z(z)) - normal_cdf(z)).abs() < 1e-6, "z = {z}");
        }
        assert!((d.quantile(0.5) - 0.1 * 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn latency_from_median_p99_round_trips() {
        let d = LatencyDist::from_median_p99(0.05, 0.4);
        assert!((d.quantile(0.99) - 0.4).abs() < 1e-6);
        assert!((d.cdf(0.05) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn sampled_durations_have_the_stated_mean() {
        // 20,000 exponential draws with mean 10 s: the sample mean has standard
        // error 10 / sqrt(20000) = 0.0707 s; 5 standard errors is 0.354 s.
        let d = DurationDist::Exponential {
            mean: SimDuration::from_secs(10),
        };
        let mut rng = stream(1, 0, Subsystem::Provisioning);
        let n = 20_000;
        let mean = (0..n).map(|_| d.sample(&mut rng).as_secs_f64()).sum::<f64>() / n as f64;
        assert!((mean - 10.0).abs() < 0.354, "mean {mean}");
        let u = DurationDist::Uniform {
            min: SimDuration::from_secs(2),
            max: SimDuration::from_secs(4),
        };
        for _ in 0..1000 {
            let x = u.sample(&mut rng);
            assert!(x >= SimDuration::from_secs(2) && x <= SimDuration::from_secs(4));
        }
    }
}
