//! The chapter's success criteria, judged over one window of metrics.

use crate::model::WindowStats;
use crate::scenario::SuccessCriteria;

/// Which criterion a failure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// Error rate above `max_error_rate_pct`.
    ErrorRate,
    /// Success rate below `min_success_rate_pct`.
    SuccessRate,
    /// p99 latency above `max_latency_p99`.
    LatencyP99,
}

impl Criterion {
    /// Short name for CSV and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::ErrorRate => "error_rate",
            Criterion::SuccessRate => "success_rate",
            Criterion::LatencyP99 => "latency_p99",
        }
    }
}

/// One criterion that the window breaks, with the numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CriterionFailure {
    /// The criterion.
    pub criterion: Criterion,
    /// What the window shows (percent, or milliseconds for latency).
    pub observed: f64,
    /// The limit (same unit).
    pub threshold: f64,
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// No criterion broken.
    Pass,
    /// Criteria broken with enough requests to act on.
    Fail(Vec<CriterionFailure>),
    /// Criteria broken, but the window holds fewer than `min_request_count`
    /// requests, so the chapter's rule does not act on it.
    Inconclusive(Vec<CriterionFailure>),
}

/// Judges `window` against `criteria`. As in the chapter, a check fails only
/// when some criterion is broken and the window holds at least
/// `min_request_count` requests. An empty window breaks nothing: there is no
/// rate to compare.
pub fn evaluate(criteria: &SuccessCriteria, window: &WindowStats) -> Verdict {
    let mut broken = Vec::new();
    if let (Some(max), Some(rate)) = (criteria.max_error_rate_pct, window.error_rate_pct()) {
        if rate > max {
            broken.push(CriterionFailure {
                criterion: Criterion::ErrorRate,
                observed: rate,
                threshold: max,
            });
        }
    }
    if let (Some(min), Some(rate)) = (criteria.min_success_rate_pct, window.success_rate_pct()) {
        if rate < min {
            broken.push(CriterionFailure {
                criterion: Criterion::SuccessRate,
                observed: rate,
                threshold: min,
            });
        }
    }
    if let (Some(max), Some(p99)) = (criteria.max_latency_p99, window.p99_s) {
        if p99 > max.as_secs_f64() {
            broken.push(CriterionFailure {
                criterion: Criterion::LatencyP99,
                observed: p99 * 1000.0,
                threshold: max.as_millis_f64(),
            });
        }
    }
    if broken.is_empty() {
        Verdict::Pass
    } else if window.requests >= criteria.min_request_count {
        Verdict::Fail(broken)
    } else {
        Verdict::Inconclusive(broken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    fn criteria() -> SuccessCriteria {
        SuccessCriteria {
            max_error_rate_pct: Some(1.0),
            min_success_rate_pct: Some(98.0),
            max_latency_p99: Some(SimDuration::from_millis(500)),
            min_request_count: 200,
            evaluation_window: SimDuration::from_secs(60),
        }
    }

    fn window(requests: u64, errors: u64, p99_s: Option<f64>) -> WindowStats {
        WindowStats {
            requests,
            errors,
            buckets: vec![],
            p99_s,
        }
    }

    #[test]
    fn passes_within_limits() {
        assert_eq!(evaluate(&criteria(), &window(1000, 10, Some(0.2))), Verdict::Pass);
    }

    #[test]
    fn threshold_is_strict() {
        // Exactly 1% is not above 1%.
        assert_eq!(evaluate(&criteria(), &window(200, 2, None)), Verdict::Pass);
        assert!(matches!(evaluate(&criteria(), &window(200, 3, None)), Verdict::Fail(_)));
    }

    #[test]
    fn reports_every_broken_criterion() {
        let Verdict::Fail(f) = evaluate(&criteria(), &window(1000, 50, Some(0.9))) else {
            panic!("expected a failure")
        };
        let names: Vec<_> = f.iter().map(|x| x.criterion).collect();
        assert_eq!(
            names,
            vec![Criterion::ErrorRate, Criterion::SuccessRate, Criterion::LatencyP99]
        );
        assert!((f[0].observed - 5.0).abs() < 1e-12);
        assert!((f[2].observed - 900.0).abs() < 1e-9);
    }

    #[test]
    fn too_few_requests_is_inconclusive() {
        assert!(matches!(
            evaluate(&criteria(), &window(199, 100, None)),
            Verdict::Inconclusive(_)
        ));
        assert_eq!(evaluate(&criteria(), &window(0, 0, None)), Verdict::Pass);
    }
}
