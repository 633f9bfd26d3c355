//! Sweep and tune files: every problem found before any trial runs, by one
//! name rule, and located (file:line:column) in the file that set the
//! field: the experiment file, or the base scenario.

mod common;

use deploysim::experiment::{sweep, tune};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `text` as `name` in `dir`; returns its path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn tune_head(name: &str) -> String {
    format!(
        "name = \"{name}\"\nscenario = \"{}\"\n",
        common::scenario_path("tune/canary-base.toml").display()
    )
}

const TUNE_TAIL: &str = "[[bad]]\nname = \"b\"\nrelease = { error_rate_pct = 2 }\n\
                         [space]\n\"strategy.success_criteria.max_error_rate_pct\" = [1, 2]\n";

fn tune_error(dir: &Path, text: &str) -> String {
    let path = write(dir, "t.toml", text);
    match tune::load(&path, None) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn sweep_error(dir: &Path, text: &str) -> String {
    let path = write(dir, "s.toml", text);
    match sweep::load(&path, None) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn names_follow_one_rule_checked_before_any_trial_runs() {
    let dir = common::temp_dir("names");
    // `load` runs no trial: these fail before any would.
    let long = "n".repeat(300);
    let e = tune_error(&dir, &(tune_head(&long) + "trials = 1000000\n" + TUNE_TAIL));
    assert!(
        e.contains("t.toml:1:8: field `name`") && e.contains("300 characters"),
        "{e}"
    );
    let e = tune_error(&dir, &(tune_head("a\\nb") + TUNE_TAIL));
    assert!(e.contains("field `name`") && e.contains("U+000A"), "{e}");
    assert!(!e.chars().any(|c| c.is_control() && c != '\n'), "{e:?}");
    // The CLI says the same and makes no folder.
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args([
            "tune",
            dir.join("t.toml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    // A bad release's name is a label: printable.
    let e = tune_error(
        &dir,
        &(tune_head("t") + "[[bad]]\nname = \"x\\u0007\"\nrelease = { error_rate_pct = 2 }\n[space]\n\"seed\" = [1]\n"),
    );
    assert!(e.contains("field `bad[0].name`") && e.contains("U+0007"), "{e}");
    // Sweeps: the name names a folder; variant names are labels.
    let base = common::scenario_path("reference-canary.toml");
    let head = |name: &str| format!("name = \"{name}\"\nscenario = \"{}\"\n", base.display());
    let e = sweep_error(&dir, &head("a/b"));
    assert!(e.contains("s.toml:1:8: field `name`") && e.contains("'/'"), "{e}");
    let e = sweep_error(&dir, &head(".hidden"));
    assert!(e.contains("starts with '.'"), "{e}");
    let e = sweep_error(&dir, &(head("s") + "[[faults]]\nname = \"a\\u001b[2J\"\nfaults = []\n"));
    assert!(
        e.contains("s.toml:4:8: field `faults[0].name`") && e.contains("U+001B"),
        "{e}"
    );
    // The shipped variant names with `>` and `%` are labels and pass.
    sweep::load(&common::scenario_path("sweeps/all-strategies.toml"), Some(1)).unwrap();
}

#[test]
fn a_bad_release_that_behaves_like_stable_is_refused() {
    let dir = common::temp_dir("good-bad");
    // Stable fails 0.5% of requests in canary-base.
    for (release, expect) in [
        (
            "{ error_rate_pct = 0.5 }",
            "field `bad[0].release`: \"b\" behaves exactly like stable",
        ),
        (
            "{ error_rate_pct = 0.5, latency_multiplier = 1 }",
            "behaves exactly like stable",
        ),
        ("{ quality = \"good\" }", "field `bad[0].release.quality`"),
        ("{}", "a bad release must say how it is bad"),
    ] {
        let text = tune_head("t")
            + &format!(
                "[[bad]]\nname = \"b\"\nrelease = {release}\n[space]\n\"strategy.check_interval\" = [\"10s\"]\n"
            );
        let e = tune_error(&dir, &text);
        assert!(
            e.contains("t.toml:5:") && e.contains("field `bad[0].release"),
            "{release}: {e}"
        );
        assert!(e.contains(expect), "{release}: {e}");
    }
    // A sweep's bad release is the base's: a base whose bad release is
    // stable's twin is refused at its [release].
    let base = std::fs::read_to_string(common::scenario_path("reference-canary.toml"))
        .unwrap()
        .replace("error_rate_pct = 3.0", "error_rate_pct = 0.1");
    write(&dir, "twin.toml", &base);
    let e = sweep_error(&dir, "scenario = \"twin.toml\"\n");
    let line = base.lines().position(|l| l == "[release]").unwrap() + 1;
    assert!(e.contains(&format!("twin.toml:{line}:1: field `release`")), "{e}");
    assert!(e.contains("behaves exactly like stable"), "{e}");
}

#[test]
fn sweep_and_tune_errors_are_located_in_the_file_that_set_the_field() {
    let dir = common::temp_dir("located");
    let base = common::scenario_path("reference-canary.toml");
    let head = format!("name = \"s\"\nscenario = \"{}\"\n", base.display());
    // The sweep's own fields.
    let e = sweep_error(&dir, &(head.clone() + "seed = -1\n"));
    assert!(e.contains("s.toml:3:8: field `seed`: -1 is negative"), "{e}");
    let e = sweep_error(&dir, &(head.clone() + "releases = [\"good\", \"ugly\"]\n"));
    assert!(e.contains("s.toml:3:21: field `releases[1]`"), "{e}");
    // A field a variant set, in the sweep file; one from the base, in the base.
    let e = sweep_error(
        &dir,
        &(head.clone()
            + "[[triggers]]\nname = \"t\"\nrollback = { triggers = [{ kind = \"error_rate\", threshold = -2 }] }\n"),
    );
    assert!(e.contains("s.toml:5:"), "{e}");
    assert!(e.contains("field `triggers[0].rollback.triggers[0].threshold`"), "{e}");
    let broken = std::fs::read_to_string(&base)
        .unwrap()
        .replace("instances = 20", "instances = -4");
    write(&dir, "broken.toml", &broken);
    let line = broken.lines().position(|l| l.starts_with("instances")).unwrap() + 1;
    let e = sweep_error(&dir, "scenario = \"broken.toml\"\n");
    assert!(
        e.contains(&format!("broken.toml:{line}:13: field `fleet.instances`")),
        "{e}"
    );
    // A syntax error in the base, in the base; keys nested too deep, at their line.
    write(&dir, "syntax.toml", "name = \"x\"\n[fleet\ninstances = 3\n");
    let e = sweep_error(&dir, "scenario = \"syntax.toml\"\n");
    assert!(e.contains("syntax.toml:2:7:"), "{e}");
    let deep = vec!["a"; 90].join(".");
    let e = sweep_error(&dir, &(head.clone() + &format!("[{deep}]\nx = 1\n")));
    assert!(e.contains("s.toml:3:1:") && e.contains("more than 80 parts"), "{e}");
    // Tunes: a candidate's value, at its place in the space; a deep path
    // and the file's own fields, at theirs.
    let text = tune_head("t")
        + "[[bad]]\nname = \"b\"\nrelease = { error_rate_pct = 2 }\n[space]\n\
           \"strategy.success_criteria.max_error_rate_pct\" = [1, -5]\n";
    let e = tune_error(&dir, &text);
    assert!(e.contains("candidate 2"), "{e}");
    assert!(
        e.contains("t.toml:7:54: field `space.\"strategy.success_criteria.max_error_rate_pct\"[1]`"),
        "{e}"
    );
    let path = vec!["strategy"; 17].join(".");
    let e = tune_error(&dir, &(tune_head("t") + TUNE_TAIL + &format!("\"{path}\" = [1]\n")));
    assert!(e.contains("t.toml:8:") && e.contains("17 parts"), "{e}");
    let e = tune_error(
        &dir,
        &(tune_head("t") + "search = \"random\"\nsamples = 0\n" + TUNE_TAIL),
    );
    assert!(e.contains("t.toml:4:11: field `samples`"), "{e}");
}
