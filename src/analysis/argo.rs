//! Argo Rollouts analysis semantics: each metric is measured every
//! `interval` (after `initial_delay`, `count` times or until the rollout
//! ends); a measurement is Successful when `success_condition` holds, Failed
//! when `failure_condition` holds, Inconclusive when neither (or when the
//! window is thinner than `min_request_count`), and an Error when the query
//! returns no data. The metric fails when its failed measurements exceed
//! `failure_limit` or its consecutive errors exceed `consecutive_error_limit`,
//! and is inconclusive when its inconclusive measurements exceed
//! `inconclusive_limit`. A pure state machine over measurements: the canary
//! controller feeds it windows and acts on the status (failed: abort;
//! inconclusive: pause).

use crate::engine::{SimDuration, SimTime};
use crate::model::WindowStats;

/// A comparison in a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

/// A threshold condition on a measurement, `result >= 99`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    /// The comparison.
    pub op: CompareOp,
    /// The number compared with.
    pub value: f64,
}

impl Condition {
    /// Parses `result OP number` (also `result[0] OP number`, as Argo
    /// writes it). Returns what is wrong otherwise.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let t = text.trim();
        let rest = t
            .strip_prefix("result[0]")
            .or_else(|| t.strip_prefix("result"))
            .ok_or_else(|| format!("\"{text}\" does not start with `result`"))?
            .trim_start();
        let (op, number) = [
            ("<=", CompareOp::LessOrEqual),
            (">=", CompareOp::GreaterOrEqual),
            ("==", CompareOp::Equal),
            ("!=", CompareOp::NotEqual),
            ("<", CompareOp::Less),
            (">", CompareOp::Greater),
        ]
        .iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|n| (*op, n)))
        .ok_or_else(|| format!("\"{text}\" has no comparison (<, <=, >, >=, ==, !=) after `result`"))?;
        let value: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("\"{}\" in \"{text}\" is not a number", number.trim()))?;
        if !value.is_finite() {
            return Err(format!("\"{text}\" compares with a number that is not finite"));
        }
        Ok(Condition { op, value })
    }

    /// Whether `result` satisfies it.
    pub fn holds(&self, result: f64) -> bool {
        match self.op {
            CompareOp::Less => result < self.value,
            CompareOp::LessOrEqual => result <= self.value,
            CompareOp::Greater => result > self.value,
            CompareOp::GreaterOrEqual => result >= self.value,
            CompareOp::Equal => result == self.value,
            CompareOp::NotEqual => result != self.value,
        }
    }
}

/// What a metric measures on the new version's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// Percent of requests that failed.
    ErrorRatePct,
    /// Percent of requests that did not fail.
    SuccessRatePct,
    /// p99 latency, milliseconds (by bucket interpolation).
    P99Ms,
    /// Requests in the window.
    Requests,
}

impl Query {
    /// Every query, with its name in files.
    pub const ALL: [(&'static str, Query); 4] = [
        ("error_rate_pct", Query::ErrorRatePct),
        ("success_rate_pct", Query::SuccessRatePct),
        ("p99_ms", Query::P99Ms),
        ("requests", Query::Requests),
    ];

    /// The result over a window; `None` when the window has no data.
    pub fn result(self, w: &WindowStats) -> Option<f64> {
        match self {
            Query::ErrorRatePct => w.error_rate_pct(),
            Query::SuccessRatePct => w.success_rate_pct(),
            Query::P99Ms => w.p99_s.map(|s| s * 1000.0),
            Query::Requests => Some(w.requests as f64),
        }
    }
}

/// One metric of an Argo-style analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgoMetric {
    /// Its name, for traces.
    pub name: String,
    /// What it measures.
    pub query: Query,
    /// Time between measurements; also the query window.
    pub interval: SimDuration,
    /// Measurements to take; `None` runs until the rollout ends.
    pub count: Option<u32>,
    /// Wait before the first measurement.
    pub initial_delay: SimDuration,
    /// Successful when this holds.
    pub success_condition: Option<Condition>,
    /// Failed when this holds (checked first).
    pub failure_condition: Option<Condition>,
    /// The metric fails when failed measurements exceed this.
    pub failure_limit: u32,
    /// The metric is inconclusive when inconclusive measurements exceed this.
    pub inconclusive_limit: u32,
    /// The metric errs (and fails) when consecutive errors exceed this.
    pub consecutive_error_limit: u32,
    /// A window with fewer requests is an inconclusive measurement.
    pub min_request_count: u64,
}

/// One measurement's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measurement {
    /// The success condition held (or no condition failed).
    Successful,
    /// The failure condition held (or the success condition did not).
    Failed,
    /// Neither condition decided, or too few requests.
    Inconclusive,
    /// The query had no data.
    Error,
}

impl Measurement {
    /// Name for traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Measurement::Successful => "successful",
            Measurement::Failed => "failed",
            Measurement::Inconclusive => "inconclusive",
            Measurement::Error => "error",
        }
    }
}

/// Judges one measurement as Argo does: the failure condition first, then
/// the success condition; with only one of them, the other outcome is its
/// negation.
pub fn measure(m: &ArgoMetric, w: &WindowStats) -> (Measurement, Option<f64>) {
    let result = m.query.result(w);
    let Some(r) = result else {
        return (Measurement::Error, None);
    };
    if w.requests < m.min_request_count {
        return (Measurement::Inconclusive, result);
    }
    let verdict = match (m.failure_condition, m.success_condition) {
        (Some(f), _) if f.holds(r) => Measurement::Failed,
        (_, Some(s)) if s.holds(r) => Measurement::Successful,
        (Some(_), Some(_)) => Measurement::Inconclusive,
        (Some(_), None) => Measurement::Successful,
        (None, Some(_)) => Measurement::Failed,
        (None, None) => Measurement::Successful,
    };
    (verdict, result)
}

/// Where an analysis stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnalysisStatus {
    /// Measuring.
    Running,
    /// Every metric has taken its measurements without failing.
    Successful,
    /// A metric failed (failures or consecutive errors over the limit).
    Failed,
    /// A metric is inconclusive over its limit: the rollout pauses.
    Inconclusive,
}

#[derive(Clone, Debug, Default)]
struct Tally {
    taken: u32,
    failed: u32,
    inconclusive: u32,
    consecutive_errors: u32,
    next: Option<SimTime>,
}

/// An analysis run: every metric's measurements so far.
#[derive(Clone, Debug)]
pub struct ArgoAnalysis {
    metrics: Vec<ArgoMetric>,
    tallies: Vec<Tally>,
}

/// A measurement taken, for the trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Taken {
    /// The metric's index.
    pub metric: usize,
    /// What it was judged.
    pub measurement: Measurement,
    /// The result, if the query had data.
    pub result: Option<f64>,
}

impl ArgoAnalysis {
    /// A run of `metrics` starting at `now`.
    pub fn start(metrics: Vec<ArgoMetric>, now: SimTime) -> Self {
        let tallies = metrics
            .iter()
            .map(|m| Tally {
                // As Argo: the first measurement when the run starts (after
                // any initial delay), then one every interval.
                next: Some(now + m.initial_delay),
                ..Tally::default()
            })
            .collect();
        ArgoAnalysis { metrics, tallies }
    }

    /// The metrics.
    pub fn metrics(&self) -> &[ArgoMetric] {
        &self.metrics
    }

    /// The earliest measurement still to come.
    pub fn next_due(&self) -> Option<SimTime> {
        self.tallies.iter().filter_map(|t| t.next).min()
    }

    /// Takes every measurement due at or before `now`, reading windows with
    /// `window(interval)`.
    pub fn run_due(&mut self, now: SimTime, window: impl Fn(SimDuration) -> WindowStats) -> Vec<Taken> {
        let mut taken = Vec::new();
        for (i, m) in self.metrics.iter().enumerate() {
            let t = &mut self.tallies[i];
            if let Some(due) = t.next.filter(|&d| d <= now) {
                let (measurement, result) = measure(m, &window(m.interval));
                t.taken += 1;
                match measurement {
                    Measurement::Failed => t.failed += 1,
                    Measurement::Inconclusive => t.inconclusive += 1,
                    _ => {}
                }
                if measurement == Measurement::Error {
                    t.consecutive_errors += 1;
                } else {
                    t.consecutive_errors = 0;
                }
                taken.push(Taken {
                    metric: i,
                    measurement,
                    result,
                });
                // The next on the same grid; a late call (windows are read at
                // `now`) never judges one window twice.
                let mut next = due + m.interval;
                while next <= now {
                    next += m.interval;
                }
                t.next = m.count.is_none_or(|c| t.taken < c).then_some(next);
            }
        }
        taken
    }

    /// The first metric over a limit, with its failed measurements and
    /// consecutive errors (for the rollback cause or the pause).
    pub fn culprit(&self) -> Option<(&str, u32, u32)> {
        self.metrics.iter().zip(&self.tallies).find_map(|(m, t)| {
            let over = t.failed > m.failure_limit
                || t.consecutive_errors > m.consecutive_error_limit
                || t.inconclusive > m.inconclusive_limit;
            over.then_some((m.name.as_str(), t.failed, t.consecutive_errors))
        })
    }

    /// The run's status: Failed if any metric failed, else Inconclusive if
    /// any is inconclusive, else Successful once every metric with a count
    /// has taken it (a metric without one keeps running), else Running.
    pub fn status(&self) -> AnalysisStatus {
        let failed = self
            .metrics
            .iter()
            .zip(&self.tallies)
            .any(|(m, t)| t.failed > m.failure_limit || t.consecutive_errors > m.consecutive_error_limit);
        if failed {
            return AnalysisStatus::Failed;
        }
        if self
            .metrics
            .iter()
            .zip(&self.tallies)
            .any(|(m, t)| t.inconclusive > m.inconclusive_limit)
        {
            return AnalysisStatus::Inconclusive;
        }
        if self.tallies.iter().all(|t| t.next.is_none()) {
            AnalysisStatus::Successful
        } else {
            AnalysisStatus::Running
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(requests: u64, errors: u64) -> WindowStats {
        WindowStats {
            requests,
            errors,
            buckets: vec![],
            p99_s: None,
            games: Default::default(),
        }
    }

    fn metric(count: Option<u32>) -> ArgoMetric {
        ArgoMetric {
            name: "success".into(),
            query: Query::SuccessRatePct,
            interval: SimDuration::from_secs(60),
            count,
            initial_delay: SimDuration::ZERO,
            success_condition: Some(Condition::parse("result >= 99").unwrap()),
            failure_condition: Some(Condition::parse("result < 95").unwrap()),
            failure_limit: 1,
            inconclusive_limit: 0,
            consecutive_error_limit: 2,
            min_request_count: 100,
        }
    }

    #[test]
    fn conditions_parse_as_argo_writes_them() {
        assert_eq!(
            Condition::parse("result[0] >= 0.95"),
            Ok(Condition {
                op: CompareOp::GreaterOrEqual,
                value: 0.95
            })
        );
        assert_eq!(Condition::parse(" result<5 ").unwrap().op, CompareOp::Less);
        assert!(Condition::parse("result ~ 5").unwrap_err().contains("no comparison"));
        assert!(Condition::parse("errors > 5").unwrap_err().contains("`result`"));
        assert!(Condition::parse("result > x").unwrap_err().contains("not a number"));
        assert!(Condition::parse("result == 1").unwrap().holds(1.0));
        assert!(!Condition::parse("result != 1").unwrap().holds(1.0));
    }

    #[test]
    fn a_measurement_is_failed_successful_inconclusive_or_an_error() {
        let m = metric(None);
        assert_eq!(measure(&m, &w(1000, 5)).0, Measurement::Successful);
        assert_eq!(measure(&m, &w(1000, 60)).0, Measurement::Failed);
        // 97%: neither condition holds.
        assert_eq!(measure(&m, &w(1000, 30)).0, Measurement::Inconclusive);
        // Too few requests, and no data at all.
        assert_eq!(measure(&m, &w(50, 50)).0, Measurement::Inconclusive);
        assert_eq!(measure(&m, &w(0, 0)).0, Measurement::Error);
        // With one condition, the other outcome is its negation.
        let only_success = ArgoMetric {
            failure_condition: None,
            ..metric(None)
        };
        assert_eq!(measure(&only_success, &w(1000, 30)).0, Measurement::Failed);
    }

    #[test]
    fn the_metric_fails_once_failures_exceed_the_limit() {
        let mut a = ArgoAnalysis::start(vec![metric(None)], SimTime::ZERO);
        assert_eq!(a.next_due(), Some(SimTime::ZERO), "the first measurement at the start");
        a.run_due(SimTime::from_secs(60), |_| w(1000, 60));
        // failure_limit = 1: one failure is allowed.
        assert_eq!(a.status(), AnalysisStatus::Running);
        a.run_due(SimTime::from_secs(120), |_| w(1000, 5));
        a.run_due(SimTime::from_secs(180), |_| w(1000, 60));
        assert_eq!(a.status(), AnalysisStatus::Failed);
    }

    #[test]
    fn errors_fail_only_when_consecutive_beyond_the_limit() {
        let mut a = ArgoAnalysis::start(vec![metric(None)], SimTime::ZERO);
        for (t, errs) in [(60, true), (120, true), (180, false), (240, true), (300, true)] {
            let win = if errs { w(0, 0) } else { w(1000, 5) };
            a.run_due(SimTime::from_secs(t), |_| win.clone());
        }
        assert_eq!(a.status(), AnalysisStatus::Running, "two in a row, then reset");
        a.run_due(SimTime::from_secs(360), |_| w(0, 0));
        assert_eq!(a.status(), AnalysisStatus::Failed, "three in a row > 2");
    }

    #[test]
    fn a_counted_run_succeeds_and_an_inconclusive_one_pauses() {
        let mut a = ArgoAnalysis::start(vec![metric(Some(2))], SimTime::ZERO);
        a.run_due(SimTime::from_secs(60), |_| w(1000, 5));
        assert_eq!(a.status(), AnalysisStatus::Running);
        a.run_due(SimTime::from_secs(120), |_| w(1000, 5));
        assert_eq!((a.status(), a.next_due()), (AnalysisStatus::Successful, None));
        let mut a = ArgoAnalysis::start(vec![metric(None)], SimTime::ZERO);
        a.run_due(SimTime::from_secs(60), |_| w(1000, 30));
        assert_eq!(a.status(), AnalysisStatus::Inconclusive);
    }

    #[test]
    fn the_initial_delay_postpones_the_first_measurement() {
        let m = ArgoMetric {
            initial_delay: SimDuration::from_secs(30),
            ..metric(None)
        };
        let a = ArgoAnalysis::start(vec![m], SimTime::from_secs(10));
        assert_eq!(a.next_due(), Some(SimTime::from_secs(40)));
    }
}
