//! Sweeps: the same bytes on any number of threads, one summary row per
//! cell, and the statistics the rows claim.

mod common;

use std::process::Command;

fn sweep_file(dir: &std::path::Path, releases: &str) -> std::path::PathBuf {
    let base = common::scenario_path("reference-canary.toml");
    let path = dir.join("sweep.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"t\"\nscenario = \"{}\"\ntrials = 12\nseed = 3\nreleases = {releases}\nbad_share_pct = 50\n\
             [[strategies]]\nname = \"strict\"\nstrategy = {{ kind = \"canary\", success_criteria = {{ max_error_rate_pct = 1, min_request_count = 100 }} }}\n\
             [[strategies]]\nname = \"lax\"\nstrategy = {{ kind = \"canary\", success_criteria = {{ max_error_rate_pct = 5, min_request_count = 100 }} }}\n\
             [[faults]]\nname = \"none\"\nfaults = []\n",
            base.display()
        ),
    )
    .unwrap();
    path
}

fn sweep(path: &std::path::Path, out: &std::path::Path, threads: &str) -> std::process::Output {
    sweep_with(path, out, &["--threads", threads])
}

#[test]
fn sweep_output_does_not_depend_on_threads() {
    let dir = common::temp_dir("sweep-threads");
    let path = sweep_file(&dir, "[\"bad\", \"mix\"]");
    let one = sweep(&path, &dir.join("one"), "1");
    let two = sweep(&path, &dir.join("two"), "2");
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    assert!(two.status.success());
    for f in ["trials.csv", "summary.csv"] {
        let a = std::fs::read(dir.join("one").join(f)).unwrap();
        let b = std::fs::read(dir.join("two").join(f)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{f}");
    }
    let trials = std::fs::read_to_string(dir.join("one/trials.csv")).unwrap();
    assert_eq!(
        trials.lines().count(),
        1 + 2 * 2 * 12,
        "header + strategies x releases x trials"
    );
    let summary = std::fs::read_to_string(dir.join("one/summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(rows.len(), 1 + 4);
    // The strict canary catches every bad release of the reference (3%
    // errors against 1%); the mix cell has some good trials.
    let strict_bad: Vec<&str> = rows[1].split(',').collect();
    assert_eq!(&strict_bad[..6], ["strict", "base", "none", "bad", "12", "12"]);
    assert_eq!(strict_bad[6], "100.00");
    let mix: Vec<&str> = rows[2].split(',').collect();
    let bad_in_mix: u64 = mix[5].parse().unwrap();
    assert!((1..12).contains(&bad_in_mix), "{bad_in_mix}");
    // Trial i of every cell runs with the same seed: the bad/good draw of a
    // mixed cell is the same for both strategies.
    let lax_mix: Vec<&str> = rows[4].split(',').collect();
    assert_eq!(mix[5], lax_mix[5]);
}

#[test]
fn bad_sweep_files_are_input_errors() {
    let dir = common::temp_dir("sweep-bad");
    let path = dir.join("bad.toml");
    for (text, expect) in [
        ("name = \"x\"\n", "field `scenario`: is required"),
        ("scenario = \"nope.toml\"\n", "cannot read"),
        (
            &format!("scenario = \"{}\"\nreleases = [\"ugly\"]\n", common::scenario_path("reference-canary.toml").display()),
            "\"ugly\" is not a release",
        ),
        (
            &format!(
                "scenario = \"{}\"\n[[strategies]]\nname = \"x\"\nstrategy = {{ kind = \"canary\", increment_pct = 0 }}\n",
                common::scenario_path("reference-canary.toml").display()
            ),
            "bad.toml:4:47: field `strategies[0].strategy.increment_pct`",
        ),
        (
            &format!("scenario = \"{}\"\nreleases = [\"bad\"]\n", common::scenario_path("reference-canary-good.toml").display()),
            "the base scenario's release is good",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let o = sweep(&path, &dir.join("out"), "1");
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(expect), "{err}");
    }
}

fn sweep_with(path: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args([
            "sweep",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(extra)
        .output()
        .unwrap()
}

const SAME_FILES: [&str; 4] = ["trials.csv", "summary.csv", "manifest.toml", "report.html"];

#[test]
fn three_shards_merge_into_the_unsharded_bytes() {
    let dir = common::temp_dir("sweep-shards");
    let path = sweep_file(&dir, "[\"bad\", \"good\"]");
    let whole = sweep_with(&path, &dir.join("whole"), &["--threads", "2"]);
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    let mut shard_dirs = Vec::new();
    for k in 1..=3 {
        let out = dir.join(format!("shard{k}"));
        let r = sweep_with(&path, &out, &["--shard", &format!("{k}/3"), "--threads", "1"]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        // A shard holds its rows only: no summary of a third of the trials.
        assert!(!out.join("summary.csv").exists());
        shard_dirs.push(out);
    }
    // Merge in a scrambled order: the manifests say which shard is which.
    let merged = dir.join("merged");
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(["merge", "--quiet", "--out", merged.to_str().unwrap()])
        .args([&shard_dirs[2], &shard_dirs[0], &shard_dirs[1]])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in SAME_FILES {
        let a = std::fs::read(dir.join("whole").join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(a == b, "{f} differs after the merge");
    }
    // Two shards of three are not a sweep.
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(["merge", "--out", dir.join("bad").to_str().unwrap()])
        .args([&shard_dirs[0], &shard_dirs[2]])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("shard 2/3 is missing"), "{err}");
}

#[test]
fn an_interrupted_sweep_keeps_its_trials_and_resume_finishes_it_identically() {
    let dir = common::temp_dir("sweep-resume");
    let path = sweep_file(&dir, "[\"bad\", \"mix\"]");
    let whole = sweep_with(&path, &dir.join("whole"), &["--threads", "2"]);
    assert!(whole.status.success());
    let out = dir.join("cut");
    let cut = sweep_with(&path, &out, &["--threads", "2", "--stop-after", "17"]);
    assert_eq!(cut.status.code(), Some(130), "{}", String::from_utf8_lossy(&cut.stderr));
    let err = String::from_utf8_lossy(&cut.stderr);
    assert!(
        err.contains("17 of 48 trials kept") && err.contains("--resume"),
        "{err}"
    );
    let partial = std::fs::read_to_string(out.join("trials.csv.partial")).unwrap();
    assert_eq!(partial.lines().count(), 1 + 17);
    assert!(!out.join("trials.csv").exists() && !out.join("summary.csv").exists());
    // A hard kill may tear the last line: resume drops it and reruns it.
    let torn = &partial[..partial.len() - 9];
    std::fs::write(out.join("trials.csv.partial"), torn).unwrap();
    // Resuming with other settings is refused.
    let other = sweep_with(&path, &out, &["--resume", "--trials", "5"]);
    assert_eq!(other.status.code(), Some(2));
    let resumed = sweep_with(&path, &out, &["--resume", "--threads", "1"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    for f in SAME_FILES {
        let a = std::fs::read(dir.join("whole").join(f)).unwrap();
        let b = std::fs::read(out.join(f)).unwrap();
        assert!(a == b, "{f} differs after the resume");
    }
    assert!(!out.join("trials.csv.partial").exists());
}

#[test]
fn ctrl_c_stops_a_sweep_and_keeps_its_completed_trials() {
    // A real SIGINT, as a terminal sends on Ctrl-C. The test waits (polling
    // the file, with a deadline) until the first batch of rows is on disk,
    // then interrupts; nothing depends on how long anything takes.
    let dir = common::temp_dir("sweep-sigint");
    let sweep = common::scenario_path("sweeps/all-strategies.toml");
    let out = dir.join("out");
    let partial = out.join("trials.csv.partial");
    let mut child = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args([
            "sweep",
            sweep.to_str().unwrap(),
            "--trials",
            "100",
            "--threads",
            "1",
            "--quiet",
        ])
        .args(["--out", out.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let rows_on_disk = || {
        std::fs::read_to_string(&partial)
            .map(|t| t.lines().count().saturating_sub(1))
            .unwrap_or(0)
    };
    while rows_on_disk() == 0 {
        assert!(std::time::Instant::now() < deadline, "no rows written");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("interrupted:") && err.contains("of 28800 trials kept"),
        "{err}"
    );
    let kept_text = std::fs::read_to_string(&partial).unwrap();
    let kept = kept_text.lines().count() - 1;
    assert!(kept > 0 && kept < 28_800 && kept_text.ends_with('\n'), "{kept}");
    assert!(!out.join("trials.csv").exists());
    let manifest = std::fs::read_to_string(out.join("manifest.toml")).unwrap();
    assert!(manifest.contains("complete = false"), "{manifest}");
    // Resume carries on from exactly those rows.
    let more = kept as u64 + 100;
    let r = sweep_with(
        &sweep,
        &out,
        &["--trials", "100", "--resume", "--stop-after", &more.to_string()],
    );
    assert_eq!(r.status.code(), Some(130), "{}", String::from_utf8_lossy(&r.stderr));
    let after = std::fs::read_to_string(&partial).unwrap();
    assert!(after.starts_with(&kept_text));
    assert_eq!(after.lines().count() - 1, more as usize);
}

#[test]
fn resume_and_merge_reject_files_that_are_not_what_deploysim_wrote() {
    let dir = common::temp_dir("sweep-tamper");
    let path = sweep_file(&dir, "[\"bad\", \"good\"]");
    let whole = dir.join("whole");
    assert!(sweep_with(&path, &whole, &[]).status.success());
    // A partial file that lost even its header (a crash before it reached
    // the disk) starts again, and the result is still the same bytes.
    let cut = dir.join("cut");
    assert_eq!(sweep_with(&path, &cut, &["--stop-after", "5"]).status.code(), Some(130));
    std::fs::write(cut.join("trials.csv.partial"), "").unwrap();
    assert!(sweep_with(&path, &cut, &["--resume"]).status.success());
    for f in SAME_FILES {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(cut.join(f)).unwrap(),
            "{f}"
        );
    }
    // A complete folder whose rows were edited is not trusted on --resume.
    let text = std::fs::read_to_string(cut.join("trials.csv")).unwrap();
    let fewer: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(cut.join("trials.csv"), fewer.join("\n") + "\n").unwrap();
    let r = sweep_with(&path, &cut, &["--resume"]);
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    // Shards whose rows were swapped or copied are refused, naming the file.
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert!(sweep_with(&path, &s1, &["--shard", "1/2"]).status.success());
    assert!(sweep_with(&path, &s2, &["--shard", "2/2"]).status.success());
    let merge = |out: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_deploysim"))
            .args(["merge", "--quiet", "--out", out.to_str().unwrap()])
            .args([&s1, &s2])
            .output()
            .unwrap()
    };
    let r = merge(&s1);
    assert_eq!(r.status.code(), Some(2), "--out is a shard");
    std::fs::copy(s2.join("trials.csv"), s1.join("trials.csv")).unwrap();
    let r = merge(&dir.join("merged"));
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("s1/trials.csv") && err.contains("is not trial"), "{err}");
}

#[test]
fn sweep_and_swarm_flags_out_of_range_are_input_errors() {
    let dir = common::temp_dir("sweep-flags");
    let path = sweep_file(&dir, "[\"bad\", \"bad\"]");
    let r = sweep_with(&path, &dir.join("o"), &[]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("listed twice"));
    let path = sweep_file(&dir, "[\"bad\"]");
    for args in [
        ["--threads", "5000"],
        ["--trials", "1000001"],
        ["--shard", "4/3"],
        ["--cell", "3"],
    ] {
        let r = sweep_with(&path, &dir.join("o"), &args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&r.stderr).contains(args[0]),
            "{args:?} names the flag"
        );
    }
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(["swarm", "--first", "18446744073709551610", "--seeds", "5"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn the_gaming_comparison_sweep_is_the_same_on_any_thread_count_and_draws_its_chart() {
    let dir = common::temp_dir("sweep-gaming");
    let path = common::scenario_path("bitcraps/sweeps/compare-gaming-aware.toml");
    let one = sweep_with(&path, &dir.join("one"), &["--threads", "1", "--trials", "6"]);
    let two = sweep_with(&path, &dir.join("two"), &["--threads", "2", "--trials", "6"]);
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    assert!(two.status.success());
    for f in [
        "trials.csv",
        "summary.csv",
        "report.html",
        "charts/gaming_comparison.svg",
    ] {
        let a = std::fs::read(dir.join("one").join(f)).unwrap();
        assert_eq!(a, std::fs::read(dir.join("two").join(f)).unwrap(), "{f}");
    }
    let summary = std::fs::read_to_string(dir.join("one/summary.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(summary.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut cells = 0;
    for row in rows.records() {
        let row = row.unwrap();
        cells += 1;
        // `gaming = { aware = ... }` on a strategy variant reached [gaming]:
        // the gaming-aware cells never lose a bet.
        if row[col("strategy")].ends_with("gaming-aware") {
            assert_eq!(&row[col("bets_lost_max")], "0", "{row:?}");
        }
        assert!(!row[col("session_continuity_mean_pct")].is_empty());
    }
    assert_eq!(cells, 8);
    let html = std::fs::read_to_string(dir.join("one/report.html")).unwrap();
    assert!(html.contains("gaming_comparison"), "the chart is in the report");
}

#[test]
fn only_strategy_variants_may_change_gaming() {
    let dir = common::temp_dir("sweep-gaming-bad");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        format!(
            "scenario = \"{}\"\n[[faults]]\nname = \"x\"\nfaults = []\ngaming = {{ aware = true }}\n",
            common::scenario_path("bitcraps/gaming-canary-bad.toml").display()
        ),
    )
    .unwrap();
    let o = sweep(&path, &dir.join("out"), "1");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("faults[0].gaming"));
}
