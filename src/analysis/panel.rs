//! A panel of judges evaluated together at each check: the stateless ones
//! on their own windows, the sequential ones (SPRT, CUSUM, EWMA) fed the
//! interval since the previous check. Canary criteria, blue-green
//! validation and Flagger checks each hold one for their `judges`.

use crate::analysis::detectors::{Decision, Detector, DetectorSpec};
use crate::analysis::triggers::kayenta_score;
use crate::analysis::{evaluate_trigger, Criterion, CriterionFailure, Firing, Verdict};
use crate::engine::{SimDuration, SimTime};
use crate::model::Version;
use crate::scenario::{TriggerKind, TriggerScope, TriggerSpec};
use crate::strategy::MetricsView;

/// What the judges of one check found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Judged {
    /// Judges that fired: the check fails.
    pub failed: Vec<CriterionFailure>,
    /// Judges that could not decide (a Kayenta score in the marginal band,
    /// or no metric with enough data): the check is inconclusive.
    pub inconclusive: Vec<CriterionFailure>,
}

/// Judges and the state the sequential ones keep between checks.
#[derive(Clone, Debug, Default)]
pub struct JudgePanel {
    judges: Vec<TriggerSpec>,
    detectors: Vec<Option<Detector>>,
}

impl JudgePanel {
    /// A panel of `judges`, sequential state fresh.
    pub fn new(judges: Vec<TriggerSpec>) -> Self {
        let detectors = judges
            .iter()
            .map(|t| match t.kind {
                TriggerKind::Detector(d) => Some(Detector::new(d)),
                _ => None,
            })
            .collect();
        JudgePanel { judges, detectors }
    }

    /// Judges at `now`; `interval` is the time since the previous check.
    pub fn judge(&mut self, m: &dyn MetricsView, now: SimTime, interval: SimDuration) -> Judged {
        let mut out = Judged::default();
        for (t, d) in self.judges.iter().zip(self.detectors.iter_mut()) {
            let criterion = Criterion::Judge(judge_name(&t.kind));
            let failure = |f: Firing| CriterionFailure {
                criterion,
                observed: f.observed,
                threshold: f.threshold,
            };
            match (&t.kind, d.as_mut()) {
                (_, Some(d)) => out.failed.extend(feed_detector(t, d, m, now, interval).map(failure)),
                (TriggerKind::Kayenta(k), None) => match kayenta_score(k, m, now) {
                    (None, points) => out.inconclusive.push(CriterionFailure {
                        criterion: Criterion::TooFewDataPoints,
                        observed: points as f64,
                        threshold: k.metrics.first().map_or(0.0, |x| x.comparison.min_data_points as f64),
                    }),
                    (Some(score), _) if score < k.marginal_score => out.failed.push(CriterionFailure {
                        criterion,
                        observed: score,
                        threshold: k.marginal_score,
                    }),
                    (Some(score), _) if score < k.pass_score => out.inconclusive.push(CriterionFailure {
                        criterion,
                        observed: score,
                        threshold: k.pass_score,
                    }),
                    (Some(_), _) => {}
                },
                (_, None) => out.failed.extend(evaluate_trigger(t, m, now, 0.0).map(failure)),
            }
        }
        out
    }
}

/// Feeds a sequential detector the `interval` before `now` of its scope's
/// traffic; the firing, if it fires. Windows with fewer than
/// `min_request_count` requests are skipped (the detector does not move).
pub fn feed_detector(
    t: &TriggerSpec,
    d: &mut Detector,
    m: &dyn MetricsView,
    now: SimTime,
    interval: SimDuration,
) -> Option<Firing> {
    let w = match t.scope {
        TriggerScope::Service => m.window_service(now, interval),
        TriggerScope::New => m.window(Version::New, now, interval),
    };
    if w.requests < t.min_request_count.max(1) {
        return None;
    }
    let Decision::Fire(statistic) = d.update(w.requests, w.errors) else {
        return None;
    };
    let threshold = match t.kind {
        TriggerKind::Detector(DetectorSpec::Sprt { alpha, beta, .. }) => Detector::sprt_bounds(alpha, beta).1,
        TriggerKind::Detector(DetectorSpec::Cusum { limit_pct, .. }) => limit_pct,
        TriggerKind::Detector(DetectorSpec::Ewma { threshold_pct, .. }) => threshold_pct,
        _ => 0.0,
    };
    Some(Firing {
        name: judge_name(&t.kind).to_string(),
        observed: statistic,
        threshold,
    })
}

/// A check's verdict with its judges' findings added: a judge that fired
/// fails the check; one that could not decide makes a passing check
/// inconclusive.
pub fn with_judged(verdict: Verdict, judged: Judged) -> Verdict {
    let Judged { failed, inconclusive } = judged;
    match verdict {
        _ if !failed.is_empty() => {
            let mut all = match verdict {
                Verdict::Pass => Vec::new(),
                Verdict::Fail(f) | Verdict::Inconclusive(f) => f,
            };
            all.extend(failed);
            Verdict::Fail(all)
        }
        Verdict::Pass if !inconclusive.is_empty() => Verdict::Inconclusive(inconclusive),
        Verdict::Inconclusive(mut f) => {
            f.extend(inconclusive);
            Verdict::Inconclusive(f)
        }
        v => v,
    }
}

/// A judge's name for the failure it reports.
pub fn judge_name(kind: &TriggerKind) -> &'static str {
    match kind {
        TriggerKind::ErrorRate { .. } => "error_rate",
        TriggerKind::Latency { .. } => "latency",
        TriggerKind::Availability { .. } => "availability",
        TriggerKind::BurnRate { .. } => "burn_rate",
        TriggerKind::Binomial { .. } => "binomial",
        TriggerKind::Detector(DetectorSpec::Sprt { .. }) => "sprt",
        TriggerKind::Detector(DetectorSpec::Cusum { .. }) => "cusum",
        TriggerKind::Detector(DetectorSpec::Ewma { .. }) => "ewma",
        TriggerKind::Kayenta(_) => "kayenta",
        TriggerKind::Game { metric, .. } => metric.as_str(),
        TriggerKind::CustomMetric { .. } => "custom_metric",
        TriggerKind::Manual { .. } => "manual",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(criterion: Criterion) -> CriterionFailure {
        CriterionFailure {
            criterion,
            observed: 1.0,
            threshold: 0.0,
        }
    }

    #[test]
    fn a_fired_judge_fails_and_an_undecided_one_only_holds_a_pass() {
        let fired = Judged {
            failed: vec![failure(Criterion::Judge("binomial"))],
            inconclusive: vec![],
        };
        let undecided = Judged {
            failed: vec![],
            inconclusive: vec![failure(Criterion::Judge("kayenta"))],
        };
        assert!(matches!(with_judged(Verdict::Pass, fired.clone()), Verdict::Fail(f) if f.len() == 1));
        let thin = Verdict::Inconclusive(vec![failure(Criterion::TooFewRequests)]);
        assert!(matches!(with_judged(thin.clone(), fired), Verdict::Fail(f) if f.len() == 2));
        assert!(matches!(with_judged(Verdict::Pass, undecided.clone()), Verdict::Inconclusive(f) if f.len() == 1));
        assert!(matches!(with_judged(thin, undecided.clone()), Verdict::Inconclusive(f) if f.len() == 2));
        let failed = Verdict::Fail(vec![failure(Criterion::ErrorRate)]);
        assert_eq!(with_judged(failed.clone(), undecided), failed);
        assert_eq!(with_judged(Verdict::Pass, Judged::default()), Verdict::Pass);
    }
}
