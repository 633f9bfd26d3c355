//! Sequential detectors over an error-rate stream: Wald's SPRT, CUSUM and
//! EWMA. Each consumes one evaluation interval's counts at a time and keeps
//! its statistic between them; the supervisor owns one per trigger.

/// A sequential detector's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DetectorSpec {
    /// Wald's sequential probability ratio test of H0: error rate p0
    /// against H1: p1 (> p0), with error probabilities alpha and beta.
    Sprt {
        /// The acceptable error rate, 0..1.
        p0: f64,
        /// The bad error rate, 0..1.
        p1: f64,
        /// Probability of firing on a good release (type I).
        alpha: f64,
        /// Probability of accepting a bad one (type II).
        beta: f64,
    },
    /// Tabular CUSUM of per-interval error rates (percent): S = max(0, S + x
    /// - target - slack); fires when S exceeds `limit`.
    Cusum {
        /// The in-control error rate, percent.
        target_pct: f64,
        /// The allowance k, percent.
        slack_pct: f64,
        /// The decision limit h, percent.
        limit_pct: f64,
    },
    /// Exponentially weighted moving average of per-interval error rates
    /// (percent), starting at `target_pct`; fires above `threshold_pct`.
    Ewma {
        /// The weight of the newest interval, 0..1.
        lambda: f64,
        /// The starting value, percent.
        target_pct: f64,
        /// The limit, percent.
        threshold_pct: f64,
    },
}

/// What a detector concluded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Keep watching.
    Continue,
    /// The change is detected (fire), with the statistic's value.
    Fire(f64),
    /// The SPRT accepted H0: it stops testing.
    Accept,
}

/// A detector's running state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detector {
    spec: DetectorSpec,
    statistic: f64,
    done: bool,
}

impl Detector {
    /// A fresh detector.
    pub fn new(spec: DetectorSpec) -> Self {
        let statistic = match spec {
            DetectorSpec::Ewma { target_pct, .. } => target_pct,
            _ => 0.0,
        };
        Detector {
            spec,
            statistic,
            done: false,
        }
    }

    /// The statistic now (log-likelihood ratio, CUSUM sum, or EWMA).
    pub fn statistic(&self) -> f64 {
        self.statistic
    }

    /// The SPRT's decision bounds (lower, upper) on the log-likelihood
    /// ratio: ln(beta / (1 - alpha)) and ln((1 - beta) / alpha).
    pub fn sprt_bounds(alpha: f64, beta: f64) -> (f64, f64) {
        ((beta / (1.0 - alpha)).ln(), ((1.0 - beta) / alpha).ln())
    }

    /// Takes one interval: `requests` of which `errors` failed.
    pub fn update(&mut self, requests: u64, errors: u64) -> Decision {
        if self.done || requests == 0 {
            return Decision::Continue;
        }
        let (n, x) = (requests as f64, errors as f64);
        match self.spec {
            DetectorSpec::Sprt { p0, p1, alpha, beta } => {
                self.statistic += x * (p1 / p0).ln() + (n - x) * ((1.0 - p1) / (1.0 - p0)).ln();
                let (lower, upper) = Self::sprt_bounds(alpha, beta);
                if self.statistic >= upper {
                    self.done = true;
                    Decision::Fire(self.statistic)
                } else if self.statistic <= lower {
                    self.done = true;
                    Decision::Accept
                } else {
                    Decision::Continue
                }
            }
            DetectorSpec::Cusum {
                target_pct,
                slack_pct,
                limit_pct,
            } => {
                let rate = 100.0 * x / n;
                self.statistic = (self.statistic + rate - target_pct - slack_pct).max(0.0);
                if self.statistic > limit_pct {
                    Decision::Fire(self.statistic)
                } else {
                    Decision::Continue
                }
            }
            DetectorSpec::Ewma {
                lambda, threshold_pct, ..
            } => {
                let rate = 100.0 * x / n;
                self.statistic = lambda * rate + (1.0 - lambda) * self.statistic;
                if self.statistic > threshold_pct {
                    Decision::Fire(self.statistic)
                } else {
                    Decision::Continue
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprt_moves_by_the_log_likelihood_ratio_and_stops_at_a_bound() {
        let spec = DetectorSpec::Sprt {
            p0: 0.01,
            p1: 0.05,
            alpha: 0.05,
            beta: 0.1,
        };
        let mut d = Detector::new(spec);
        // 10 requests, 1 error: ln 5 + 9 ln(0.95 / 0.99).
        assert_eq!(d.update(10, 1), Decision::Continue);
        let expected = 5f64.ln() + 9.0 * (0.95f64 / 0.99).ln();
        assert!((d.statistic() - expected).abs() < 1e-12);
        // Many errors cross ln(0.9 / 0.05) = 2.89.
        assert!(matches!(d.update(10, 3), Decision::Fire(_)));
        // Once decided it stays quiet.
        assert_eq!(d.update(10, 10), Decision::Continue);
        let mut d = Detector::new(spec);
        assert_eq!(d.update(1000, 0), Decision::Accept);
    }

    #[test]
    fn cusum_accumulates_excess_and_ewma_smooths() {
        let mut c = Detector::new(DetectorSpec::Cusum {
            target_pct: 1.0,
            slack_pct: 0.5,
            limit_pct: 4.0,
        });
        // 3% three times: S = 1.5, 3.0, 4.5 > 4.
        assert_eq!(c.update(100, 3), Decision::Continue);
        assert_eq!(c.update(100, 3), Decision::Continue);
        assert!(matches!(c.update(100, 3), Decision::Fire(s) if (s - 4.5).abs() < 1e-9));
        // Below target it never goes negative.
        let mut c = Detector::new(DetectorSpec::Cusum {
            target_pct: 1.0,
            slack_pct: 0.5,
            limit_pct: 4.0,
        });
        c.update(100, 0);
        assert_eq!(c.statistic(), 0.0);
        let mut e = Detector::new(DetectorSpec::Ewma {
            lambda: 0.5,
            target_pct: 1.0,
            threshold_pct: 2.0,
        });
        // 1 -> 2 (not above 2) -> 2.5.
        assert_eq!(e.update(100, 3), Decision::Continue);
        assert!(matches!(e.update(100, 3), Decision::Fire(z) if (z - 2.5).abs() < 1e-9));
    }
}
