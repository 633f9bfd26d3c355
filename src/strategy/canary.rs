//! The chapter's canary: a new-version subset takes a growing share of
//! traffic while success criteria are checked; a failed check rolls back.
//!
//! Phases: Preparing -> Deploying (canary instances provisioned, waited for)
//! -> Validating (weight steps of `increment_pct` every `increment_interval`,
//! checks every `check_interval`) -> Promoting (new version scaled to the full
//! fleet, 100% traffic, stable scaled to zero) -> Completed. A failed check
//! goes to RollingBack (traffic to stable at once, canary instances removed)
//! and then Failed; so does a canary that is not ready within
//! `progress_deadline`.

use super::{Command, Controller, Observation, Outcome, Phase, Report};
use crate::analysis::{evaluate, Verdict};
use crate::engine::SimTime;
use crate::model::Version;
use crate::scenario::CanarySpec;

/// Canary instances for a weight: max(1, ceil(fleet x weight / 100)).
pub fn canary_replicas(fleet_size: u32, weight_pct: f64) -> u32 {
    // The small epsilon keeps an exact product such as 20 x 30 / 100 = 6 from
    // rounding up on float noise.
    let exact = f64::from(fleet_size) * weight_pct / 100.0;
    ((exact - 1e-9).ceil() as u32).clamp(1, fleet_size.max(1))
}

/// The canary state machine.
#[derive(Clone, Debug)]
pub struct CanaryController {
    spec: CanarySpec,
    fleet_size: u32,
    phase: Phase,
    outcome: Option<Outcome>,
    weight: f64,
    /// A weight waiting for `wanted` canary instances to be ready.
    pending_weight: Option<f64>,
    wanted: u32,
    ready_deadline: Option<SimTime>,
    next_check: SimTime,
    next_increment: SimTime,
    checks: u32,
    promoted_traffic: bool,
    recovered: bool,
}

impl CanaryController {
    /// A controller for `spec` over a fleet of `fleet_size` stable instances.
    pub fn new(spec: CanarySpec, fleet_size: u32) -> Self {
        let start = SimTime::ZERO + spec.start_at;
        CanaryController {
            spec,
            fleet_size,
            phase: Phase::Preparing,
            outcome: None,
            weight: 0.0,
            pending_weight: None,
            wanted: 0,
            ready_deadline: None,
            next_check: start,
            next_increment: start,
            checks: 0,
            promoted_traffic: false,
            recovered: false,
        }
    }

    /// The weight last set, percent.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    fn request_replicas(&mut self, now: SimTime, wanted: u32, out: &mut Vec<Command>) {
        self.wanted = wanted;
        let deadline = now + self.spec.progress_deadline;
        self.ready_deadline = Some(deadline);
        out.push(Command::Scale {
            version: Version::New,
            replicas: wanted,
        });
        out.push(Command::WakeAt(deadline));
    }

    fn begin_promotion(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        self.phase = Phase::Promoting;
        self.pending_weight = None;
        self.request_replicas(obs.now, self.fleet_size, out);
        self.promote_when_ready(obs, out);
    }

    fn promote_when_ready(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if !self.promoted_traffic {
            if obs.of(Version::New).routable >= self.wanted {
                self.promoted_traffic = true;
                self.ready_deadline = None;
                self.weight = 100.0;
                out.push(Command::SetWeight(100.0));
                out.push(Command::Scale {
                    version: Version::Stable,
                    replicas: 0,
                });
            } else {
                self.enforce_deadline(obs, out);
                return;
            }
        }
        if obs.of(Version::Stable).active() == 0 {
            self.phase = Phase::Completed;
            self.outcome = Some(Outcome::Promoted);
        }
    }

    /// Sets the pending weight once enough canary instances are ready.
    fn apply_pending_when_ready(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let Some(w) = self.pending_weight else { return };
        if obs.of(Version::New).routable < self.wanted {
            self.enforce_deadline(obs, out);
            return;
        }
        self.pending_weight = None;
        self.ready_deadline = None;
        self.weight = w;
        out.push(Command::SetWeight(w));
        self.next_increment = obs.now + self.spec.increment_interval;
        out.push(Command::WakeAt(self.next_increment));
        if self.phase == Phase::Deploying {
            self.phase = Phase::Validating;
            self.next_check = obs.now + self.spec.check_interval;
            out.push(Command::WakeAt(self.next_check));
        }
    }

    fn enforce_deadline(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if self.ready_deadline.is_some_and(|d| obs.now >= d) {
            out.push(Command::Report(Report::DeadlineExceeded {
                wanted: self.wanted,
                ready: obs.of(Version::New).routable,
            }));
            self.abort(Outcome::Failed, obs, out);
        }
    }

    /// Traffic to stable at once, canary instances removed.
    fn abort(&mut self, outcome: Outcome, obs: &Observation, out: &mut Vec<Command>) {
        self.phase = Phase::RollingBack;
        self.outcome = Some(outcome);
        self.pending_weight = None;
        self.ready_deadline = None;
        self.weight = 0.0;
        out.push(Command::SetWeight(0.0));
        out.push(Command::Scale {
            version: Version::New,
            replicas: 0,
        });
        if outcome == Outcome::RolledBack {
            self.check_recovery(obs, out);
        }
    }

    /// Runs the check that is due now, if any.
    fn run_due_check(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if obs.now < self.next_check {
            return;
        }
        while self.next_check <= obs.now {
            self.next_check += self.spec.check_interval;
        }
        out.push(Command::WakeAt(self.next_check));
        let c = &self.spec.criteria;
        let window = obs.metrics.window(Version::New, obs.now, c.evaluation_window);
        let verdict = evaluate(c, &window);
        self.checks += 1;
        out.push(Command::Report(Report::Check {
            number: self.checks,
            window: c.evaluation_window,
            requests: window.requests,
            errors: window.errors,
            p99_s: window.p99_s,
            verdict: verdict.clone(),
        }));
        if let Verdict::Fail(failures) = verdict {
            out.push(Command::Report(Report::RollbackTriggered { failures }));
            self.abort(Outcome::RolledBack, obs, out);
        }
    }

    /// Recovered: all traffic on stable (true from the moment of rollback)
    /// and stable's own window within the success criteria.
    fn check_recovery(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if self.recovered {
            return;
        }
        let c = &self.spec.criteria;
        let stable = obs.metrics.window(Version::Stable, obs.now, c.evaluation_window);
        if !matches!(evaluate(c, &stable), Verdict::Fail(_)) {
            self.recovered = true;
            out.push(Command::Report(Report::Recovered));
        } else {
            while self.next_check <= obs.now {
                self.next_check += self.spec.check_interval;
            }
            out.push(Command::WakeAt(self.next_check));
        }
    }

    fn advance_weight(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let next = self.weight + self.spec.increment_pct;
        if next >= 100.0 {
            self.begin_promotion(obs, out);
            return;
        }
        let wanted = canary_replicas(self.fleet_size, next);
        self.pending_weight = Some(next);
        if wanted > self.wanted {
            self.request_replicas(obs.now, wanted, out);
        }
        self.apply_pending_when_ready(obs, out);
    }
}

impl Controller for CanaryController {
    fn name(&self) -> &'static str {
        "canary"
    }

    fn start_at(&self) -> SimTime {
        SimTime::ZERO + self.spec.start_at
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        if self.spec.initial_weight_pct >= 100.0 {
            self.begin_promotion(obs, &mut out);
            return out;
        }
        self.phase = Phase::Deploying;
        self.pending_weight = Some(self.spec.initial_weight_pct);
        let wanted = canary_replicas(self.fleet_size, self.spec.initial_weight_pct);
        self.request_replicas(obs.now, wanted, &mut out);
        self.apply_pending_when_ready(obs, &mut out);
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Deploying => self.apply_pending_when_ready(obs, &mut out),
            Phase::Validating => {
                // Judge the traffic seen so far before changing the weight.
                self.run_due_check(obs, &mut out);
                if self.phase == Phase::Validating {
                    if self.pending_weight.is_some() {
                        self.apply_pending_when_ready(obs, &mut out);
                    } else if obs.now >= self.next_increment {
                        self.advance_weight(obs, &mut out);
                    }
                }
            }
            Phase::Promoting => self.promote_when_ready(obs, &mut out),
            Phase::RollingBack => {
                if obs.now >= self.next_check && self.outcome == Some(Outcome::RolledBack) {
                    self.check_recovery(obs, &mut out);
                }
                let recovered = self.recovered || self.outcome == Some(Outcome::Failed);
                if recovered && obs.of(Version::New).active() == 0 {
                    self.phase = Phase::Failed;
                }
            }
            Phase::Preparing | Phase::Completed | Phase::Failed => {}
        }
        out
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn outcome(&self) -> Option<Outcome> {
        self.phase.is_terminal().then_some(self.outcome).flatten()
    }
}

#[cfg(test)]
mod tests;
