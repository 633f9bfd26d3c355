//! The command line as a user meets it: exit codes, messages, output files.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn deploysim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(args)
        .output()
        .expect("run deploysim")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_accepts_shipped_scenarios() {
    let a = common::scenario_path("reference-canary.toml");
    let b = common::scenario_path("reference-canary-good.toml");
    let o = deploysim(&["validate", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().filter(|l| l.starts_with("ok: ")).count(), 2, "{out}");
}

#[test]
fn validate_rejects_bad_files_with_exit_code_2_and_a_location() {
    let dir = common::temp_dir("cli-validate");
    let bad = dir.join("bad.toml");
    let text = std::fs::read_to_string(common::scenario_path("reference-canary.toml")).unwrap();
    std::fs::write(&bad, text.replace("instances = 20", "instances = -3")).unwrap();
    let good = common::scenario_path("reference-canary.toml");
    let o = deploysim(&["validate", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let line = text.lines().position(|l| l.starts_with("instances = 20")).unwrap() + 1;
    assert!(
        err.contains(&format!(
            "bad.toml:{line}:13: field `fleet.instances`: -3 is out of range"
        )),
        "{err}"
    );
    assert!(err.contains("allowed: a whole number from 1 to"), "{err}");
}

#[test]
fn missing_scenario_file_is_exit_code_2() {
    for cmd in [&["validate", "nope.toml"][..], &["run", "nope.toml"][..]] {
        let o = deploysim(cmd);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("nope.toml: cannot read the file: no such file"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn bad_flags_are_exit_code_2() {
    let s = common::scenario_path("reference-canary.toml");
    for args in [
        vec!["run", s.to_str().unwrap(), "--fidelity", "exact"],
        vec!["run", s.to_str().unwrap(), "--seed", "-1"],
        vec!["run"],
        vec!["frobnicate"],
    ] {
        let o = deploysim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty());
    }
}

#[test]
fn run_writes_three_csv_files_and_the_timeline_chart_and_nothing_else() {
    let dir = common::temp_dir("cli-run");
    let s = common::scenario_path("reference-canary.toml");
    let o = deploysim(&["run", s.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--trace"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".deploysim-files",
            "events.csv",
            "summary.csv",
            "timeline.csv",
            "timeline.png",
            "timeline.svg"
        ]
    );
    let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
    assert!(
        svg.contains("rollback: error_rate"),
        "the trigger is marked on the chart"
    );
    assert!(std::fs::read(dir.join("timeline.png")).unwrap().starts_with(b"\x89PNG"));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ROLLBACK triggered: error rate"), "{out}");
    assert!(out.contains("outcome:            rolled_back"), "{out}");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(
        summary.lines().nth(1).unwrap().starts_with(
            "reference-canary,canary,bad,1,request,rolled_back,failed,true,error_rate,false,immediate_switch,true,"
        ),
        "{summary}"
    );
}

#[test]
fn seed_and_fidelity_flags_override_the_scenario() {
    let dir = common::temp_dir("cli-flags");
    let s = common::scenario_path("reference-canary.toml");
    let o = deploysim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        "77",
        "--fidelity",
        "aggregate",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(
        summary
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("reference-canary,canary,bad,77,aggregate,"),
        "{summary}"
    );
}

#[test]
fn out_under_a_file_is_a_flag_error_not_a_panic() {
    let dir = common::temp_dir("cli-unwritable");
    let blocker = dir.join("file");
    std::fs::write(&blocker, "x").unwrap();
    let s = common::scenario_path("reference-canary.toml");
    let out = Path::new(&blocker).join("sub");
    let o = deploysim(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is a file, so no folder can be made under it"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn out_naming_a_file_is_a_flag_error() {
    let dir = common::temp_dir("cli-out-file");
    let file = dir.join("taken");
    std::fs::write(&file, "x").unwrap();
    let s = common::scenario_path("reference-canary.toml");
    let o = deploysim(&["run", s.to_str().unwrap(), "--out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("taken: is a file"), "{}", stderr(&o));
}

#[test]
fn a_folder_or_a_huge_file_is_not_a_scenario() {
    let dir = common::temp_dir("cli-folder");
    let o = deploysim(&["validate", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a folder"), "{}", stderr(&o));
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; 1024 * 1024 + 1]).unwrap();
    let o = deploysim(&["validate", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("larger than 1 MiB"), "{}", stderr(&o));
}

#[test]
fn a_fidelity_flag_is_validated_like_the_file() {
    // Sessions exist only in request mode: asking for aggregate mode is an
    // input error, located at the table that needs request mode.
    let dir = common::temp_dir("cli-fidelity");
    let path = dir.join("sessions.toml");
    std::fs::write(
        &path,
        "name = \"s\"\n[fleet]\ninstances = 2\n[traffic]\nrate_rps = 10\n[sessions]\nmean_requests = 5\n\
         [release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n",
    )
    .unwrap();
    let o = deploysim(&[
        "run",
        path.to_str().unwrap(),
        "--fidelity",
        "aggregate",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("field `sessions`"), "{}", stderr(&o));
}
