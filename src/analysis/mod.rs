//! Success criteria and rollback triggers: pure functions of metric windows.

pub mod argo;
pub mod criteria;
pub mod detectors;
pub mod judges;
pub mod kayenta;
pub mod panel;
pub mod triggers;

pub use criteria::{evaluate, game_failures, verdict_of, with_game_failures, Criterion, CriterionFailure, Verdict};
pub use triggers::{evaluate_trigger, Firing};
