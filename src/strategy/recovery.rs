//! Recovery: returning the fleet and its traffic to the previous version
//! after an abort, as the chapter's recovery strategies do.
//!
//! - `immediate_switch`: make sure a full previous-version fleet runs (it is
//!   re-created if the rollout already removed it), then move all traffic to
//!   it at once and stop the new instances.
//! - `blue_green_switch`: switch back to the previous fleet, which must still
//!   be running; when it is not, fall back to `immediate_switch` and say so.
//! - `rolling_rollback`: add previous-version instances `batch_size` at a
//!   time and remove as many new ones once they are ready, with traffic
//!   following the instance counts.
//!
//! Recovered (the end of TTR) means all traffic is on the previous version
//! and its error rate over the window is not above the threshold.

use super::{Command, Observation, Outcome, Report};
use crate::engine::{SimDuration, SimTime};
use crate::model::{InstanceStatus, Version};
use crate::scenario::RecoveryKind;

/// Longest wait for previous-version instances before switching anyway.
const STABLE_WAIT: SimDuration = SimDuration::from_secs(600);

#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Start,
    WaitStable { deadline: SimTime },
    Batch { stable_target: u32, deadline: SimTime },
    Draining,
}

/// One recovery in progress.
#[derive(Clone, Debug)]
pub struct Recovery {
    kind: RecoveryKind,
    fleet_size: u32,
    outcome: Outcome,
    error_threshold_pct: f64,
    window: SimDuration,
    poll: SimDuration,
    stage: Stage,
    switched_at: Option<SimTime>,
    recovered: bool,
}

fn live(obs: &Observation, v: Version) -> u32 {
    let f = obs.of(v);
    f.active() - f.count(InstanceStatus::Stopping)
}

impl Recovery {
    /// A recovery of `kind` for a fleet of `fleet_size`; `outcome` is what
    /// the rollout ends as; recovery needs the previous version's error rate
    /// over `window` at most `error_threshold_pct`; `poll` is how often it
    /// looks again while waiting.
    pub fn new(
        kind: RecoveryKind,
        fleet_size: u32,
        outcome: Outcome,
        error_threshold_pct: f64,
        window: SimDuration,
        poll: SimDuration,
    ) -> Self {
        Recovery {
            kind,
            fleet_size,
            outcome,
            error_threshold_pct,
            window,
            poll,
            stage: Stage::Start,
            switched_at: None,
            recovered: false,
        }
    }

    /// How the rollout ends.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// When all traffic went back to the previous version.
    pub fn switched_at(&self) -> Option<SimTime> {
        self.switched_at
    }

    /// Traffic is back, the new instances are gone, and (for a rollback)
    /// the previous version is within the threshold.
    pub fn is_done(&self, obs: &Observation) -> bool {
        self.switched_at.is_some()
            && obs.of(Version::New).active() == 0
            && (self.recovered || self.outcome == Outcome::Failed)
    }

    fn switch(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        out.push(Command::SetWeight(0.0));
        out.push(Command::Scale {
            version: Version::New,
            replicas: 0,
        });
        self.switched_at = Some(obs.now);
        self.stage = Stage::Draining;
    }

    /// Asks for `target` previous-version instances as the next batch.
    fn grow_stable(&mut self, now: SimTime, target: u32, out: &mut Vec<Command>) {
        out.push(Command::Scale {
            version: Version::Stable,
            replicas: target,
        });
        self.stage = Stage::Batch {
            stable_target: target,
            deadline: now + STABLE_WAIT,
        };
    }

    /// The previous fleet can take all traffic: all of it exists, and no
    /// more than a quarter is out of service at the moment (health checks
    /// flap; waiting for every last probe would hold traffic on the version
    /// being left).
    fn stable_ready(&self, obs: &Observation) -> bool {
        let n = self.fleet_size;
        live(obs, Version::Stable) >= n && obs.of(Version::Stable).routable >= n - n / 4
    }

    /// Advances the recovery on an observation.
    pub fn step(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        let n = self.fleet_size;
        if self.stage == Stage::Start {
            // "Still there" means the previous fleet still exists; a blue
            // instance briefly out of service (a flaky probe) does not count.
            if self.kind == RecoveryKind::BlueGreenSwitch && live(obs, Version::Stable) < n {
                out.push(Command::Report(Report::RecoveryFallback {
                    wanted: self.kind,
                    used: RecoveryKind::ImmediateSwitch,
                }));
                self.kind = RecoveryKind::ImmediateSwitch;
            }
            out.push(Command::Report(Report::RecoveryStarted { kind: self.kind }));
            match self.kind {
                RecoveryKind::ImmediateSwitch | RecoveryKind::BlueGreenSwitch => {
                    out.push(Command::Scale {
                        version: Version::Stable,
                        replicas: n,
                    });
                    self.stage = Stage::WaitStable {
                        deadline: obs.now + STABLE_WAIT,
                    };
                }
                RecoveryKind::RollingRollback { batch_size } => {
                    out.push(Command::RouteByInstance);
                    // New instances still starting are cancelled: a rollback
                    // brings up no more of the version it is leaving.
                    // Always said, even when it looks unchanged: the desired
                    // count may be above the live one (failed instances
                    // awaiting replacement, or a scale-up issued just before
                    // the abort).
                    let serving_new = obs.of(Version::New).routable.min(live(obs, Version::New));
                    out.push(Command::Scale {
                        version: Version::New,
                        replicas: serving_new,
                    });
                    let target = live(obs, Version::Stable)
                        .max(obs.of(Version::Stable).routable)
                        .saturating_add(batch_size)
                        .min(n);
                    self.grow_stable(obs.now, target, &mut out);
                }
            }
        }
        match self.stage.clone() {
            Stage::WaitStable { deadline } => {
                if self.stable_ready(obs) || obs.now >= deadline {
                    self.switch(obs, &mut out);
                } else {
                    out.push(Command::WakeAt(obs.now + self.poll));
                }
            }
            Stage::Batch {
                stable_target,
                deadline,
            } => {
                if obs.of(Version::Stable).routable >= stable_target || obs.now >= deadline {
                    if stable_target >= n {
                        self.switch(obs, &mut out);
                    } else {
                        let keep_new = live(obs, Version::New).min(n - stable_target);
                        out.push(Command::Scale {
                            version: Version::New,
                            replicas: keep_new,
                        });
                        let batch = match self.kind {
                            RecoveryKind::RollingRollback { batch_size } => batch_size,
                            _ => n,
                        };
                        self.grow_stable(obs.now, stable_target.saturating_add(batch).min(n), &mut out);
                        out.push(Command::WakeAt(obs.now + self.poll));
                    }
                } else {
                    out.push(Command::WakeAt(obs.now + self.poll));
                }
            }
            Stage::Start | Stage::Draining => {}
        }
        if self.switched_at.is_some() && !self.recovered {
            let stable = obs.metrics.window(Version::Stable, obs.now, self.window);
            if stable.error_rate_pct().is_none_or(|e| e <= self.error_threshold_pct) {
                self.recovered = true;
                if self.outcome == Outcome::RolledBack {
                    out.push(Command::Report(Report::Recovered));
                }
            } else {
                out.push(Command::WakeAt(obs.now + self.poll));
            }
        }
        out
    }
}
