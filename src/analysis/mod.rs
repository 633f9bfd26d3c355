//! Success criteria and rollback triggers: pure functions of metric windows.

pub mod criteria;
pub mod triggers;

pub use criteria::{evaluate, Criterion, CriterionFailure, Verdict};
pub use triggers::{evaluate_trigger, Firing};
