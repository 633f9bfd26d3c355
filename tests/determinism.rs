//! Determinism is the product: the same scenario and seed give the same
//! bytes in every output file; different seeds give different runs.

mod common;

use deploysim::report::csv_out::{events_csv, summary_csv, timeline_csv};
use deploysim::scenario::Fidelity;
use deploysim::sim::{run, RunOptions};
use std::process::Command;

fn outputs(scenario: &deploysim::scenario::Scenario, seed: u64) -> [Vec<u8>; 3] {
    let r = run(scenario, seed, RunOptions::default()).unwrap();
    [
        summary_csv(&r.summary),
        timeline_csv(&r.timeline),
        events_csv(&r.events),
    ]
}

#[test]
fn same_seed_same_bytes_in_both_modes() {
    for name in ["reference-canary.toml", "reference-canary-good.toml"] {
        for fidelity in [Fidelity::Request, Fidelity::Aggregate] {
            let mut s = common::load(name);
            s.fidelity = fidelity;
            assert_eq!(outputs(&s, 5), outputs(&s, 5), "{name} {fidelity:?}");
        }
    }
}

#[test]
fn different_seeds_differ() {
    let s = common::load("reference-canary-good.toml");
    let a = outputs(&s, 1);
    let b = outputs(&s, 2);
    assert_ne!(a[0], b[0], "summary");
    assert_ne!(a[1], b[1], "timeline");
}

#[test]
fn cli_output_files_are_byte_identical_across_runs() {
    let s = common::scenario_path("reference-canary.toml");
    let base = common::temp_dir("det-cli");
    for fidelity in ["request", "aggregate"] {
        let mut dirs = Vec::new();
        for i in 0..2 {
            let dir = base.join(format!("{fidelity}-{i}"));
            let o = Command::new(env!("CARGO_BIN_EXE_deploysim"))
                .args([
                    "run",
                    s.to_str().unwrap(),
                    "--seed",
                    "42",
                    "--quiet",
                    "--fidelity",
                    fidelity,
                    "--out",
                    dir.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(o.status.success());
            dirs.push(dir);
        }
        for f in ["summary.csv", "timeline.csv", "events.csv"] {
            let a = std::fs::read(dirs[0].join(f)).unwrap();
            let b = std::fs::read(dirs[1].join(f)).unwrap();
            assert!(!a.is_empty());
            assert_eq!(a, b, "{fidelity} {f}");
        }
    }
}

#[test]
fn common_random_numbers_give_both_releases_the_same_traffic() {
    // Same seed, good and bad release: the arrivals stream is shared, so the
    // stable version sees the very same requests until the first rollback.
    let bad = common::load("reference-canary.toml");
    let good = common::load("reference-canary-good.toml");
    let rb = run(&bad, 9, RunOptions::default()).unwrap();
    let rg = run(&good, 9, RunOptions::default()).unwrap();
    let t = rb.summary.triggered_at.expect("the bad release is caught");
    let first_rows = |r: &deploysim::sim::RunResult| -> Vec<u64> {
        r.timeline
            .iter()
            .filter(|row| row.t <= t)
            .map(|row| row.requests[0] + row.requests[1])
            .collect()
    };
    assert_eq!(first_rows(&rb), first_rows(&rg));
    assert_eq!(rb.summary.first_exposure, rg.summary.first_exposure);
}

#[test]
fn what_sweeps_skip_changes_no_summary_number() {
    // Sweeps skip aggregate-mode latency histograms when nothing reads
    // them, and timeline samples that fall on scrapes. Histograms have their
    // own random stream and such samples draw nothing, so every summary
    // column must be identical with and without them, across shipped
    // scenarios and seeds (and a scenario that reads latency always keeps
    // its histograms).
    let files = [
        "reference-canary.toml",
        "reference-canary-good.toml",
        "strategies/rolling-bad.toml",
        "faults/dependency-outage.toml",
        "strategies/blue-green-bad.toml",
    ];
    for name in files {
        let mut s = common::load(name);
        s.fidelity = Fidelity::Aggregate;
        for seed in 1..4 {
            let with = RunOptions {
                keep_detail: false,
                ..RunOptions::default()
            };
            let without = RunOptions {
                histograms: false,
                ..with
            };
            let a = run(&s, seed, with).unwrap();
            let b = run(&s, seed, without).unwrap();
            assert_eq!(summary_csv(&a.summary), summary_csv(&b.summary), "{name} seed {seed}");
            // Nor does keeping the detail (timeline samples) that `run` keeps.
            let full = run(&s, seed, RunOptions::default()).unwrap();
            assert_eq!(
                summary_csv(&full.summary),
                summary_csv(&b.summary),
                "{name} seed {seed}"
            );
            let drawn = b.counters[0].buckets.iter().sum::<u64>() > 0;
            assert_eq!(drawn, s.reads_latency(), "{name}: histograms drawn iff read");
        }
    }
}
