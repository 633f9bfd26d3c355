//! Experiments: many trials of many variants of a scenario, run in
//! parallel, written in trial order.

pub mod stats;
pub mod sweep;
