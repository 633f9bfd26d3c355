//! Fuzzes what a user controls: a scenario file. Any bytes go through
//! parsing and validation; a scenario that passes is run briefly with every
//! invariant checked. Nothing may panic, hang or break an invariant, and an
//! accepted scenario must run within what its cost estimate promised (no
//! more events, no more memory) and within a wall-time and memory cap.

#![no_main]

use deploysim::engine::SimDuration;
use deploysim::guard::{MeteredAlloc, RunGuard};
use deploysim::scenario::{self, cost, Fidelity};
use deploysim::sim::{run, RunOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::time::Duration;

/// Counts live bytes, so a run can be held to its memory estimate.
#[global_allocator]
static ALLOCATOR: MeteredAlloc = MeteredAlloc;

/// Longest simulated run, so one input costs milliseconds.
const MAX_RUN: SimDuration = SimDuration(5 * 60 * 1_000_000);
/// Most work (cost units) of a run here: heavy shapes are welcome up to
/// this, a few hundred milliseconds at most; beyond it the input is skipped
/// (the swarm runs heavier ones).
const MAX_WORK: f64 = 2e6;
/// Caps that stop a runaway case (libFuzzer's own -timeout and
/// -rss_limit_mb are the last line).
const CASE_WALL: Duration = Duration::from_secs(5);
const CASE_BYTES: i64 = 512 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The same path a scenario on disk takes, errors included.
    let mut s = match scenario::parse(Path::new("fuzz.toml"), text, "fuzz") {
        Ok(s) => s,
        Err(errors) => {
            // Formatting every error must not panic either.
            for e in errors {
                let _ = e.to_string();
            }
            return;
        }
    };
    if s.simulation.max_duration > MAX_RUN {
        s.simulation.max_duration = MAX_RUN;
    }
    let mut estimate = cost::estimate(&s);
    if s.fidelity == Fidelity::Request && estimate.work > MAX_WORK && s.sessions.is_none() {
        s.fidelity = Fidelity::Aggregate;
        estimate = cost::estimate(&s);
    }
    if estimate.work > MAX_WORK {
        return;
    }
    let guard = RunGuard::start(Some(CASE_WALL), Some(CASE_BYTES));
    let opts = RunOptions {
        check_invariants: true,
        guard: Some(guard),
        ..RunOptions::default()
    };
    let result = match run(&s, 1, opts) {
        Ok(r) => r,
        Err(violation) => panic!("{violation}\n--- scenario:\n{text}"),
    };
    assert!(
        result.events_handled as f64 <= estimate.events,
        "{} events, estimated at most {}\n--- scenario:\n{text}",
        result.events_handled,
        estimate.events
    );
    assert!(
        guard.peak_growth() as f64 <= estimate.memory_bytes,
        "grew {} bytes, estimated at most {}\n--- scenario:\n{text}",
        guard.peak_growth(),
        estimate.memory_bytes
    );
});
