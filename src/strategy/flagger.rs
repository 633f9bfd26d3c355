//! A canary with Flagger's analysis semantics.
//!
//! Flagger scales the canary up to the primary's size, then checks its
//! metrics every `interval`. A passing check moves the weight one step (a
//! passing check at the last weight promotes); a failing check adds one to
//! the failed-check count, which is cumulative, and the weight holds; when the
//! count reaches `threshold` the canary is rolled back. A metric without data
//! fails the check, as in Flagger; with `min_request_count` set, a window with
//! fewer requests is inconclusive instead (nothing counted, the weight holds),
//! and inconclusive checks in a row for `progress_deadline` fail the canary.
//!
//! So a canary that passes every check promotes `interval x weights` after
//! its first weight is set (Flagger's documented interval x maxWeight /
//! stepWeight), and one that fails every check rolls back
//! `interval x threshold` after it.

use super::{Abort, Command, Controller, Observation, Outcome, Phase, Report, RollbackCause};
use crate::analysis::panel::{with_judged, JudgePanel};
use crate::analysis::{Criterion, CriterionFailure, Verdict};
use crate::engine::SimTime;
use crate::model::Version;
use crate::scenario::{FlaggerMetricKind, FlaggerSpec, RecoveryKind};

/// The Flagger state machine.
#[derive(Clone, Debug)]
pub struct FlaggerController {
    spec: FlaggerSpec,
    fleet_size: u32,
    phase: Phase,
    outcome: Option<Outcome>,
    /// Index into `spec.weights` of the weight in force.
    step: usize,
    failed_checks: u32,
    checks: u32,
    next_check: SimTime,
    ready_deadline: SimTime,
    promoted_traffic: bool,
    judges: JudgePanel,
    /// Since when checks have been inconclusive in a row; the canary fails
    /// once that lasts `progress_deadline`.
    inconclusive_since: Option<SimTime>,
}

impl FlaggerController {
    /// A controller for `spec` over a fleet of `fleet_size` stable instances.
    pub fn new(spec: FlaggerSpec, fleet_size: u32) -> Self {
        FlaggerController {
            judges: JudgePanel::new(spec.judges.clone()),
            inconclusive_since: None,
            spec,
            fleet_size,
            phase: Phase::Preparing,
            outcome: None,
            step: 0,
            failed_checks: 0,
            checks: 0,
            next_check: SimTime::ZERO,
            ready_deadline: SimTime::ZERO,
            promoted_traffic: false,
        }
    }

    /// Failed checks so far.
    pub fn failed_checks(&self) -> u32 {
        self.failed_checks
    }

    /// Judges every metric over its own window, then the judges.
    fn judge(&mut self, obs: &Observation) -> (Verdict, crate::model::WindowStats) {
        let mut failed = Vec::new();
        let mut inconclusive = Vec::new();
        let mut shown = None;
        for m in &self.spec.metrics {
            let w = obs.metrics.window(Version::New, obs.now, m.interval);
            let (value, limit_broken) = match m.kind {
                FlaggerMetricKind::RequestSuccessRate => {
                    let v = w.success_rate_pct();
                    (v, v.is_some_and(|v| v < m.bound))
                }
                FlaggerMetricKind::RequestDuration => {
                    let v = w.p99_s.map(|s| s * 1000.0);
                    (v, v.is_some_and(|v| v > m.bound))
                }
            };
            let criterion = match m.kind {
                FlaggerMetricKind::RequestSuccessRate => Criterion::SuccessRate,
                FlaggerMetricKind::RequestDuration => Criterion::LatencyP99,
            };
            let thin = self.spec.min_request_count > 0 && w.requests < self.spec.min_request_count;
            match value {
                _ if thin => inconclusive.push(CriterionFailure {
                    criterion: Criterion::TooFewRequests,
                    observed: w.requests as f64,
                    threshold: self.spec.min_request_count as f64,
                }),
                // No data is a failed check, as Flagger's "no values found".
                None => failed.push(CriterionFailure {
                    criterion: Criterion::NoData,
                    observed: 0.0,
                    threshold: m.bound,
                }),
                Some(v) if limit_broken => failed.push(CriterionFailure {
                    criterion,
                    observed: v,
                    threshold: m.bound,
                }),
                Some(_) => {}
            }
            shown.get_or_insert(w);
        }
        if self.spec.metrics.is_empty() {
            // Judges only: the check still needs data, by Flagger's rule (no
            // data fails) or the minimum (too few is inconclusive).
            let w = obs.metrics.window(Version::New, obs.now, self.spec.interval);
            if self.spec.min_request_count > 0 && w.requests < self.spec.min_request_count {
                inconclusive.push(CriterionFailure {
                    criterion: Criterion::TooFewRequests,
                    observed: w.requests as f64,
                    threshold: self.spec.min_request_count as f64,
                });
            } else if w.requests == 0 {
                failed.push(CriterionFailure {
                    criterion: Criterion::NoData,
                    observed: 0.0,
                    threshold: 1.0,
                });
            }
            shown = Some(w);
        }
        let verdict = if !failed.is_empty() {
            Verdict::Fail(failed)
        } else if !inconclusive.is_empty() {
            Verdict::Inconclusive(inconclusive)
        } else {
            Verdict::Pass
        };
        let verdict = with_judged(verdict, self.judges.judge(obs.metrics, obs.now, self.spec.interval));
        let window = shown.unwrap_or_else(|| crate::model::WindowStats::empty(0));
        (verdict, window)
    }

    fn check(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let (verdict, w) = self.judge(obs);
        self.checks += 1;
        out.push(Command::Report(Report::Check {
            number: self.checks,
            window: self.spec.metrics.first().map_or(self.spec.interval, |m| m.interval),
            requests: w.requests,
            errors: w.errors,
            p99_s: w.p99_s,
            games: None,
            verdict: verdict.clone(),
        }));
        if !matches!(verdict, Verdict::Inconclusive(_)) {
            self.inconclusive_since = None;
        }
        match verdict {
            Verdict::Fail(failures) => {
                self.failed_checks += 1;
                if self.failed_checks >= self.spec.threshold {
                    out.push(Command::Report(Report::RollbackTriggered {
                        cause: RollbackCause::Criteria(failures),
                    }));
                    self.abort(Outcome::RolledBack, out);
                }
            }
            Verdict::Inconclusive(_) => {
                let since = *self.inconclusive_since.get_or_insert(obs.now);
                if obs.now.saturating_since(since) >= self.spec.progress_deadline {
                    out.push(Command::Report(Report::NoConclusiveCheck { since }));
                    self.abort(Outcome::Failed, out);
                }
            }
            Verdict::Pass if self.step + 1 < self.spec.weights.len() => {
                self.step += 1;
                out.push(Command::SetWeight(self.spec.weights[self.step]));
            }
            Verdict::Pass => self.begin_promotion(obs, out),
        }
    }

    fn begin_promotion(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        self.phase = Phase::Promoting;
        self.promoted_traffic = true;
        out.push(Command::SetWeight(100.0));
        out.push(Command::Scale {
            version: Version::Stable,
            replicas: 0,
        });
        self.complete_if_done(obs);
    }

    fn complete_if_done(&mut self, obs: &Observation) {
        if self.promoted_traffic && obs.of(Version::Stable).active() == 0 {
            self.phase = Phase::Completed;
            self.outcome = Some(Outcome::Promoted);
        }
    }

    fn abort(&mut self, outcome: Outcome, out: &mut Vec<Command>) {
        self.phase = Phase::RollingBack;
        self.outcome = Some(outcome);
        // Recovery is judged against the success-rate bound when there is
        // one (its complement as an error rate), else 1%.
        let error_threshold_pct = self
            .spec
            .metrics
            .iter()
            .find(|m| m.kind == FlaggerMetricKind::RequestSuccessRate)
            .map_or(1.0, |m| (100.0 - m.bound).max(0.0));
        out.push(Command::Abort(Abort {
            recovery: RecoveryKind::ImmediateSwitch,
            outcome,
            error_threshold_pct,
            window: self.spec.interval,
        }));
    }
}

impl Controller for FlaggerController {
    fn name(&self) -> &'static str {
        "flagger"
    }

    fn start_at(&self) -> SimTime {
        SimTime::ZERO + self.spec.start_at
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        // Flagger scales the canary to the primary's size before any traffic.
        self.phase = Phase::Deploying;
        self.ready_deadline = obs.now + self.spec.progress_deadline;
        let mut out = vec![
            Command::Scale {
                version: Version::New,
                replicas: self.fleet_size,
            },
            Command::WakeAt(self.ready_deadline),
        ];
        out.extend(self.observe(obs));
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Deploying => {
                if obs.of(Version::New).routable >= self.fleet_size {
                    self.phase = Phase::Validating;
                    out.push(Command::SetWeight(self.spec.weights[0]));
                    self.next_check = obs.now + self.spec.interval;
                    out.push(Command::WakeAt(self.next_check));
                } else if obs.now >= self.ready_deadline {
                    out.push(Command::Report(Report::DeadlineExceeded {
                        wanted: self.fleet_size,
                        ready: obs.of(Version::New).routable,
                    }));
                    self.abort(Outcome::Failed, &mut out);
                }
            }
            Phase::Validating if obs.now >= self.next_check => {
                while self.next_check <= obs.now {
                    self.next_check += self.spec.interval;
                }
                self.check(obs, &mut out);
                if self.phase == Phase::Validating {
                    out.push(Command::WakeAt(self.next_check));
                }
            }
            Phase::Promoting => self.complete_if_done(obs),
            _ => {}
        }
        out
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
}
