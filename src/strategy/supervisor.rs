//! The supervisor: the chapter's RollbackManager around a strategy.
//!
//! It passes observations to the strategy and its commands to the world,
//! evaluates the rollback triggers every `evaluate_interval` during the
//! rollout and for `post_deploy_monitoring` after it completes, and carries
//! out every abort (the strategy's own or a trigger's) with a [`Recovery`],
//! then verifies the rollback as the chapter does: under 1% errors and over
//! 99% availability within the verification window.

use super::recovery::Recovery;
use super::{Abort, Command, Controller, Observation, Outcome, Phase, Report, RollbackCause};
use crate::analysis::detectors::Detector;
use crate::analysis::evaluate_trigger;
use crate::analysis::panel::feed_detector;
use crate::engine::{SimDuration, SimTime};
use crate::scenario::{RollbackSpec, TriggerKind};

/// Window of the verification query.
const VERIFY_WINDOW: SimDuration = SimDuration::from_secs(60);

/// A strategy under rollback supervision.
pub struct Supervisor {
    strategy: Box<dyn Controller>,
    spec: RollbackSpec,
    fleet_size: u32,
    cpu_ms_per_request: f64,
    poll: SimDuration,
    next_eval: SimTime,
    completed_at: Option<SimTime>,
    monitoring_over: bool,
    recovery: Option<Recovery>,
    recovery_done: bool,
    verified: Option<bool>,
    next_verify: SimTime,
    /// The sequential detectors' state, one slot per trigger (`None` for
    /// triggers that judge each window on its own).
    detectors: Vec<Option<Detector>>,
}

impl Supervisor {
    /// Supervises `strategy` over a fleet of `fleet_size`. `poll` is how often
    /// recovery and verification look again (the scrape interval).
    pub fn new(
        strategy: Box<dyn Controller>,
        spec: RollbackSpec,
        fleet_size: u32,
        cpu_ms_per_request: f64,
        poll: SimDuration,
    ) -> Self {
        let detectors = spec
            .triggers
            .iter()
            .map(|t| match t.kind {
                TriggerKind::Detector(d) => Some(Detector::new(d)),
                _ => None,
            })
            .collect();
        Supervisor {
            detectors,
            strategy,
            spec,
            fleet_size,
            cpu_ms_per_request,
            poll,
            next_eval: SimTime::ZERO,
            completed_at: None,
            monitoring_over: false,
            recovery: None,
            recovery_done: false,
            verified: None,
            next_verify: SimTime::ZERO,
        }
    }

    /// Passes the strategy's commands on until an abort, which starts the
    /// recovery instead.
    fn absorb(&mut self, obs: &Observation, commands: Vec<Command>, out: &mut Vec<Command>) {
        for cmd in commands {
            if let Command::Abort(abort) = cmd {
                self.begin_recovery(obs, abort, out);
                return;
            }
            out.push(cmd);
        }
    }

    fn begin_recovery(&mut self, obs: &Observation, a: Abort, out: &mut Vec<Command>) {
        let mut rec = Recovery::new(
            a.recovery,
            self.fleet_size,
            a.outcome,
            a.error_threshold_pct,
            a.window,
            self.poll,
        );
        out.extend(rec.step(obs));
        self.recovery = Some(rec);
        self.after_recovery_step(obs, out);
    }

    fn after_recovery_step(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let Some(rec) = &self.recovery else { return };
        if rec.is_done(obs) {
            self.recovery_done = true;
        }
        let Some(switched) = rec.switched_at() else { return };
        if self.verified.is_none() && obs.now >= self.next_verify {
            let w = obs.metrics.window_service(obs.now, VERIFY_WINDOW);
            let error = w.error_rate_pct().unwrap_or(0.0);
            let availability = w.success_rate_pct().unwrap_or(100.0);
            if error < 1.0 && availability > 99.0 {
                self.verified = Some(true);
            } else if obs.now >= switched + self.spec.verification_window {
                self.verified = Some(false);
            } else {
                self.next_verify = obs.now + self.poll;
                out.push(Command::WakeAt(self.next_verify));
            }
            if let Some(verified) = self.verified {
                out.push(Command::Report(Report::RollbackVerified { verified }));
            }
        }
    }

    fn watching(&self, now: SimTime) -> bool {
        if self.spec.triggers.is_empty() || self.recovery.is_some() {
            return false;
        }
        match self.completed_at {
            None => !self.strategy.phase().is_terminal(),
            Some(done) => now < done + self.spec.post_deploy_monitoring,
        }
    }

    fn watch_triggers(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if let Some(done) = self.completed_at {
            if obs.now >= done + self.spec.post_deploy_monitoring {
                self.monitoring_over = true;
            }
        }
        if !self.watching(obs.now) {
            return;
        }
        let due = obs.now >= self.next_eval;
        let mut firing = self.spec.triggers.iter().find_map(|t| {
            let is_manual = matches!(t.kind, TriggerKind::Manual { .. });
            (is_manual || due)
                .then(|| evaluate_trigger(t, obs.metrics, obs.now, self.cpu_ms_per_request))
                .flatten()
                .map(|f| (f, t.clone()))
        });
        if due {
            // Sequential detectors take the interval since the last
            // evaluation (consecutive windows on the scrape grid tile).
            let interval = self.spec.evaluate_interval;
            for (t, d) in self.spec.triggers.iter().zip(self.detectors.iter_mut()) {
                let Some(d) = d.as_mut() else { continue };
                if let Some(f) = feed_detector(t, d, obs.metrics, obs.now, interval) {
                    firing.get_or_insert((f, t.clone()));
                }
            }
            while self.next_eval <= obs.now {
                self.next_eval += self.spec.evaluate_interval;
            }
            out.push(Command::WakeAt(self.next_eval));
        }
        if let Some((f, t)) = firing {
            let (threshold, window) = match t.kind {
                TriggerKind::ErrorRate {
                    threshold_pct,
                    sustained_for,
                } => (threshold_pct, sustained_for),
                _ => (1.0, SimDuration::from_secs(60)),
            };
            out.push(Command::Report(Report::RollbackTriggered {
                cause: RollbackCause::Trigger {
                    name: f.name,
                    observed: f.observed,
                    threshold: f.threshold,
                },
            }));
            self.begin_recovery(
                obs,
                Abort {
                    recovery: self.spec.recovery,
                    outcome: Outcome::RolledBack,
                    error_threshold_pct: threshold,
                    window,
                },
                out,
            );
        }
    }

    fn note_completion(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if self.completed_at.is_none() && self.strategy.phase() == Phase::Completed {
            self.completed_at = Some(obs.now);
            if self.spec.triggers.is_empty() {
                self.monitoring_over = true;
            } else {
                out.push(Command::WakeAt(obs.now + self.spec.post_deploy_monitoring));
            }
        }
    }
}

impl Controller for Supervisor {
    fn name(&self) -> &'static str {
        self.strategy.name()
    }

    fn start_at(&self) -> SimTime {
        self.strategy.start_at()
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        self.next_eval = obs.now + self.spec.evaluate_interval;
        if !self.spec.triggers.is_empty() {
            out.push(Command::WakeAt(self.next_eval));
            for t in &self.spec.triggers {
                if let TriggerKind::Manual { at } = t.kind {
                    out.push(Command::WakeAt((SimTime::ZERO + at).max(obs.now)));
                }
            }
        }
        let cmds = self.strategy.start(obs);
        self.absorb(obs, cmds, &mut out);
        self.note_completion(obs, &mut out);
        if self.recovery.is_none() {
            self.watch_triggers(obs, &mut out);
        }
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        if let Some(rec) = &mut self.recovery {
            out.extend(rec.step(obs));
            self.after_recovery_step(obs, &mut out);
            return out;
        }
        if !self.strategy.phase().is_terminal() {
            let cmds = self.strategy.observe(obs);
            self.absorb(obs, cmds, &mut out);
            if self.recovery.is_some() {
                return out;
            }
        }
        self.note_completion(obs, &mut out);
        self.watch_triggers(obs, &mut out);
        out
    }

    fn phase(&self) -> Phase {
        match &self.recovery {
            Some(_) if self.recovery_done => Phase::Failed,
            Some(_) => Phase::RollingBack,
            None => self.strategy.phase(),
        }
    }

    fn outcome(&self) -> Option<Outcome> {
        match &self.recovery {
            Some(rec) => self.recovery_done.then_some(rec.outcome()),
            None => self.strategy.outcome(),
        }
    }

    fn finished(&self) -> bool {
        match &self.recovery {
            Some(_) => self.recovery_done && self.verified.is_some(),
            None => self.strategy.phase().is_terminal() && self.monitoring_over,
        }
    }
}
