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
    for args in [["--seeds", "0"], ["--threads", "0"]] {
        let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
            .arg("swarm")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}");
    }
}
