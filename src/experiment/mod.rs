//! Experiments: many trials of many variants of a scenario, run in
//! parallel, written in trial order.

pub mod manifest;
pub mod merge;
pub mod report;
pub mod rows;
pub mod runner;
mod source;
pub mod stats;
pub mod swarm;
pub mod swarm_heavy;
pub mod sweep;
pub mod tally;
pub mod tune;
