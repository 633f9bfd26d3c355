//! Recreate: stop every stable instance, then start the new ones. Simple,
//! and the service is down in between; the downtime shows as dropped
//! requests and lost availability.

use super::{Abort, Command, Controller, Observation, Outcome, Phase, Report};
use crate::engine::{SimDuration, SimTime};
use crate::model::Version;
use crate::scenario::{RecoveryKind, RecreateSpec};

/// The recreate state machine.
#[derive(Clone, Debug)]
pub struct RecreateController {
    spec: RecreateSpec,
    fleet_size: u32,
    phase: Phase,
    outcome: Option<Outcome>,
    new_requested: bool,
    deadline: Option<SimTime>,
}

impl RecreateController {
    /// A controller for `spec` over a fleet of `fleet_size`.
    pub fn new(spec: RecreateSpec, fleet_size: u32) -> Self {
        RecreateController {
            spec,
            fleet_size,
            phase: Phase::Preparing,
            outcome: None,
            new_requested: false,
            deadline: None,
        }
    }
}

impl Controller for RecreateController {
    fn name(&self) -> &'static str {
        "recreate"
    }

    fn start_at(&self) -> SimTime {
        SimTime::ZERO + self.spec.start_at
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        self.phase = Phase::Deploying;
        let mut out = vec![
            Command::RouteByInstance,
            Command::Scale {
                version: Version::Stable,
                replicas: 0,
            },
        ];
        out.extend(self.observe(obs));
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        if self.phase != Phase::Deploying {
            return out;
        }
        if !self.new_requested {
            // The old fleet must be gone before the new one starts.
            if obs.of(Version::Stable).active() > 0 {
                return out;
            }
            self.new_requested = true;
            let deadline = obs.now + self.spec.progress_deadline;
            self.deadline = Some(deadline);
            out.push(Command::Scale {
                version: Version::New,
                replicas: self.fleet_size,
            });
            out.push(Command::WakeAt(deadline));
            return out;
        }
        if obs.of(Version::New).routable >= self.fleet_size {
            self.phase = Phase::Completed;
            self.outcome = Some(Outcome::Promoted);
        } else if self.deadline.is_some_and(|d| obs.now >= d) {
            out.push(Command::Report(Report::DeadlineExceeded {
                wanted: self.fleet_size,
                ready: obs.of(Version::New).routable,
            }));
            self.phase = Phase::RollingBack;
            self.outcome = Some(Outcome::Failed);
            out.push(Command::Abort(Abort {
                recovery: RecoveryKind::ImmediateSwitch,
                outcome: Outcome::Failed,
                error_threshold_pct: 1.0,
                window: SimDuration::from_secs(60),
            }));
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
