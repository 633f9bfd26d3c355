//! A short swarm, as CI runs it: a few hundred random scenarios and fault
//! mixes, every invariant checked on every event; any failure prints the
//! seed and writes the scenario that replays it.

mod common;

use std::process::Command;

#[test]
fn a_short_swarm_breaks_no_invariant() {
    let dir = common::temp_dir("swarm");
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args([
            "swarm",
            "--seeds",
            "500",
            "--threads",
            "2",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.contains("500 seeds (0..499)") && out.contains("0 failed"), "{out}");
    // Nothing failed, so no scenario file was written.
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
}

#[test]
fn swarm_flags_are_checked() {
    for args in [
        ["--seeds", "0"],
        ["--threads", "0"],
        ["--case-seconds", "0"],
        ["--case-mb", "0"],
    ] {
        let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
            .arg("swarm")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}");
    }
}

/// Counts this thread's live bytes, so the swarm's memory cap can act here
/// as it does in the binary.
#[global_allocator]
static ALLOCATOR: deploysim::guard::MeteredAlloc = deploysim::guard::MeteredAlloc;

#[test]
fn a_case_past_its_wall_time_or_memory_cap_fails_the_swarm() {
    use deploysim::experiment::swarm::{run_swarm, SwarmOptions};
    use std::time::Duration;
    assert!(deploysim::guard::metering());
    // A deadline of zero is passed at the first look (every 1,024 events),
    // and a cap of 1 KiB by any run that keeps a scrape: every case that
    // runs that far fails, and says which cap it passed.
    let caps = [
        (
            SwarmOptions {
                case_wall: Duration::ZERO,
                ..SwarmOptions::default()
            },
            "wall-time cap",
        ),
        (
            SwarmOptions {
                case_bytes: 1024,
                ..SwarmOptions::default()
            },
            "memory cap",
        ),
    ];
    for (opts, cap) in caps {
        let failures = run_swarm(0, 40, 2, &opts, |_, _| {});
        // Short runs (under 1,024 events) and refused heavy inputs never
        // reach a look; 18 of these 40 seeds run past one.
        assert!(
            failures.len() >= 15,
            "{cap}: only {} of 40 seeds failed",
            failures.len()
        );
        for f in &failures {
            assert!(f.problem.contains(cap), "seed {}: {}", f.seed, f.problem);
        }
    }
    // With the default caps the same seeds pass.
    assert!(run_swarm(0, 40, 2, &SwarmOptions::default(), |_, _| {}).is_empty());
}

#[test]
fn write_only_writes_every_seeds_scenario_heavy_ones_included() {
    let dir = common::temp_dir("swarm-write");
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(["swarm", "--seeds", "64", "--write-only", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let heavy = (0..64)
        .filter(|seed| {
            let text = std::fs::read_to_string(dir.join(format!("swarm-{seed}.toml"))).unwrap();
            assert!(text.starts_with(&format!("# deploysim swarm seed {seed}")));
            text.contains("(heavy)")
        })
        .count();
    let expected = (0..64)
        .filter(|&s| deploysim::experiment::swarm_heavy::is_heavy(s))
        .count();
    assert_eq!(heavy, expected);
    assert!(heavy > 0);
}
