//! Success criteria and rollback triggers: pure functions of metric windows.

pub mod criteria;

pub use criteria::{evaluate, Criterion, CriterionFailure, Verdict};
