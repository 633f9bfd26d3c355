//! Rolling update: the fleet is replaced `batch_size` instances at a time,
//! with Kubernetes' limits: at most `max_surge` instances above the fleet
//! size and at most `max_unavailable` below it. New instances must become
//! ready within `progress_deadline` of their batch's start; those that do
//! not count as failed, and when the failed share of the fleet reaches
//! `max_failure_ratio` the update rolls back batch by batch.
//!
//! Traffic follows the instance counts (no traffic router), as with a plain
//! Kubernetes Service.

use super::{Abort, Command, Controller, Observation, Outcome, Phase, Report, RollbackCause};
use crate::engine::{SimDuration, SimTime};
use crate::model::Version;
use crate::scenario::{RecoveryKind, RollingSpec};

/// The rolling-update state machine.
#[derive(Clone, Debug)]
pub struct RollingController {
    spec: RollingSpec,
    fleet_size: u32,
    phase: Phase,
    outcome: Option<Outcome>,
    stable_desired: u32,
    new_desired: u32,
    /// Updated instances wanted by the end of the current batch.
    target: u32,
    batch: u32,
    batch_deadline: SimTime,
    next_batch_at: Option<SimTime>,
    failed: u32,
}

impl RollingController {
    /// A controller for `spec` over a fleet of `fleet_size`.
    pub fn new(spec: RollingSpec, fleet_size: u32) -> Self {
        RollingController {
            spec,
            fleet_size,
            phase: Phase::Preparing,
            outcome: None,
            stable_desired: fleet_size,
            new_desired: 0,
            target: 0,
            batch: 0,
            batch_deadline: SimTime::ZERO,
            next_batch_at: None,
            failed: 0,
        }
    }

    /// Instances counted as failed so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    fn begin_batch(&mut self, now: SimTime, out: &mut Vec<Command>) {
        self.batch += 1;
        self.target = self.target.saturating_add(self.spec.batch_size).min(self.fleet_size);
        self.batch_deadline = now + self.spec.progress_deadline;
        self.next_batch_at = None;
        out.push(Command::WakeAt(self.batch_deadline));
    }

    /// Scales old down and new up as far as the surge and unavailability
    /// limits allow, toward the current batch's target.
    fn reconcile(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let n = self.fleet_size;
        let min_available = n.saturating_sub(self.spec.max_unavailable);
        let available = obs.of(Version::Stable).routable + obs.of(Version::New).routable;
        let can_remove = available.saturating_sub(min_available);
        let stable = n
            .saturating_sub(self.target)
            .max(self.stable_desired.saturating_sub(can_remove));
        if stable != self.stable_desired {
            self.stable_desired = stable;
            out.push(Command::Scale {
                version: Version::Stable,
                replicas: stable,
            });
        }
        // Saturating: a surge near u32::MAX must not wrap to a small room.
        let room = n
            .saturating_add(self.spec.max_surge)
            .saturating_sub(self.stable_desired);
        let new = self.new_desired.max(self.target.min(room));
        if new != self.new_desired {
            self.new_desired = new;
            out.push(Command::Scale {
                version: Version::New,
                replicas: new,
            });
        }
    }

    fn step(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if let Some(at) = self.next_batch_at {
            if obs.now < at {
                return;
            }
            self.begin_batch(obs.now, out);
        }
        self.reconcile(obs, out);
        let n = self.fleet_size;
        let ready = obs.of(Version::New).routable;
        let batch_done = ready >= self.target && self.stable_desired == n.saturating_sub(self.target);
        let timed_out = obs.now >= self.batch_deadline;
        if !batch_done && !timed_out {
            return;
        }
        let shortfall = self.target.saturating_sub(ready);
        self.failed = self.failed.max(shortfall);
        out.push(Command::Report(Report::BatchDone {
            number: self.batch,
            failed: shortfall,
        }));
        if f64::from(self.failed) >= self.spec.max_failure_ratio * f64::from(n) && self.failed > 0 {
            out.push(Command::Report(Report::RollbackTriggered {
                cause: RollbackCause::FailureRatio {
                    failed: self.failed,
                    total: n,
                },
            }));
            self.phase = Phase::RollingBack;
            self.outcome = Some(Outcome::RolledBack);
            out.push(Command::Abort(Abort {
                recovery: RecoveryKind::RollingRollback {
                    batch_size: self.spec.batch_size,
                },
                outcome: Outcome::RolledBack,
                error_threshold_pct: 1.0,
                window: SimDuration::from_secs(60),
            }));
            return;
        }
        if self.target >= n {
            self.phase = Phase::Promoting;
            if !batch_done && self.stable_desired > 0 {
                // The last batch ran out of time with failures under the
                // limit: the update goes on, as the chapter's does, so the
                // remaining old instances go; the missing new ones are the
                // failures already counted.
                self.stable_desired = 0;
                out.push(Command::Scale {
                    version: Version::Stable,
                    replicas: 0,
                });
            }
            self.finish(obs, out);
        } else {
            // The next batch starts at a fresh observation (at once when the
            // interval is zero): this one already counts the instances just
            // told to stop as available.
            let at = obs.now + self.spec.batch_interval;
            self.next_batch_at = Some(at);
            out.push(Command::WakeAt(at));
        }
    }

    /// After the last batch: keep reconciling (the last old instances go as
    /// soon as availability allows, even after a batch that timed out) and
    /// complete when none is left.
    fn finish(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        self.reconcile(obs, out);
        if obs.of(Version::Stable).active() == 0 {
            self.phase = Phase::Completed;
            self.outcome = Some(Outcome::Promoted);
        }
    }
}

impl Controller for RollingController {
    fn name(&self) -> &'static str {
        "rolling"
    }

    fn start_at(&self) -> SimTime {
        SimTime::ZERO + self.spec.start_at
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        self.phase = Phase::Deploying;
        let mut out = vec![Command::RouteByInstance];
        self.begin_batch(obs.now, &mut out);
        self.step(obs, &mut out);
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Deploying => self.step(obs, &mut out),
            Phase::Promoting => self.finish(obs, &mut out),
            _ => {}
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
