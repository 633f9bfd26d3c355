//! No rollout at all: the fleet stays on stable. This is the counterfactual
//! a rollout is compared with, and a baseline for tests of the world.

use super::{Command, Controller, Observation, Outcome, Phase};
use crate::engine::SimTime;

/// A controller that never does anything.
#[derive(Debug, Default)]
pub struct NoRollout;

impl Controller for NoRollout {
    fn name(&self) -> &'static str {
        "none"
    }
    fn start_at(&self) -> SimTime {
        SimTime::ZERO
    }
    fn start(&mut self, _: &Observation) -> Vec<Command> {
        Vec::new()
    }
    fn observe(&mut self, _: &Observation) -> Vec<Command> {
        Vec::new()
    }
    fn phase(&self) -> Phase {
        Phase::Preparing
    }
    fn outcome(&self) -> Option<Outcome> {
        None
    }
}
