//! Fuzzes what a user controls: a scenario file. Any bytes go through
//! parsing and validation; a scenario that passes is run briefly with every
//! invariant checked. Nothing may panic, hang or break an invariant.

#![no_main]

use deploysim::engine::SimDuration;
use deploysim::scenario::{self, Fidelity};
use deploysim::sim::{run, RunOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// Longest simulated run, so one input costs milliseconds.
const MAX_RUN: SimDuration = SimDuration(5 * 60 * 1_000_000);
/// Most simulated requests of a request-mode run (rate x duration).
const MAX_REQUESTS: f64 = 20_000.0;

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
    let requests = s.traffic.shape.max_rate() * s.simulation.max_duration.as_secs_f64();
    if s.fidelity == Fidelity::Request && requests > MAX_REQUESTS {
        if s.sessions.is_some() {
            return; // sessions need request mode; too big to run here
        }
        s.fidelity = Fidelity::Aggregate;
    }
    let opts = RunOptions {
        check_invariants: true,
        ..RunOptions::default()
    };
    if let Err(violation) = run(&s, 1, opts) {
        panic!("{violation}\n--- scenario:\n{text}");
    }
});
