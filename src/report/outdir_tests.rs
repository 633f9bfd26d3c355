//! Output folders: `--out` checks, ownership, and commits that change a
//! folder as a whole or not at all.

use super::*;

/// A fresh folder under the system temp folder (not created).
fn fresh(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deploysim-outdir-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// Every entry under `dir` (relative, sorted), files with their contents.
fn snapshot(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                out.push((rel, None));
                todo.push(p);
            } else {
                out.push((rel, Some(fs::read(&p).unwrap())));
            }
        }
    }
    out.sort();
    out
}

/// A folder as a run of deploysim would leave it, committed through
/// [`Staging`], plus `extra` files of the user's.
fn run_folder(tag: &str, content: &str, extra: &[&str]) -> PathBuf {
    let dir = fresh(tag);
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    for name in RUN_FILES {
        stage.write(name, content.as_bytes()).unwrap();
    }
    stage.commit(Commit::Replace).unwrap();
    for name in extra {
        fs::write(dir.join(name), "mine").unwrap();
    }
    dir
}

#[test]
fn check_out_names_what_is_wrong_with_a_bad_out() {
    let dir = fresh("check");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("file");
    fs::write(&file, "x").unwrap();
    assert!(check_out(&dir).is_ok());
    assert!(
        check_out(&dir.join("new/deeper")).is_ok(),
        "missing folders are created"
    );
    let message = |p: &Path| {
        let e = check_out(p).unwrap_err();
        assert!(e.is_bad_input(), "{e}");
        e.to_string()
    };
    let m = message(&file);
    assert!(m.contains("is a file") && m.contains("allowed: a folder"), "{m}");
    let m = message(&file.join("sub"));
    assert!(
        m.contains(&format!(
            "{} is a file, so no folder can be made under it",
            file.display()
        )),
        "{m}"
    );
    let m = message(Path::new(""));
    assert!(m.contains("an empty path"), "{m}");
    #[cfg(unix)]
    {
        let a = dir.join("loop-a");
        let b = dir.join("loop-b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let m = message(&a);
        assert!(m.contains("is a symbolic link that does not lead to a folder"), "{m}");
        let m = message(&a.join("sub"));
        assert!(m.contains("so no folder can be made under it"), "{m}");
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        assert!(message(&dangling).contains("a symbolic link to a path that does not exist"));
        let to_dir = dir.join("to-dir");
        std::os::unix::fs::symlink(&dir, &to_dir).unwrap();
        assert!(check_out(&to_dir).is_ok(), "a link to a folder is that folder");
    }
    // A control character in the path is shown escaped.
    let odd = dir.join("odd\u{1b}[2J");
    fs::write(&odd, "x").unwrap();
    let m = message(&odd);
    assert!(!m.contains('\u{1b}') && m.contains("odd\\u{1b}[2J"), "{m}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_commit_replaces_deploysims_files_and_leaves_the_users_alone() {
    let dir = run_folder("replace", "old", &["notes.txt"]);
    fs::create_dir_all(dir.join("charts")).unwrap();
    fs::write(dir.join("charts/my-own.svg"), "mine").unwrap();
    let mut out = OutDir::open(&dir).unwrap();
    assert!(RUN_FILES.iter().all(|n| out.owns(n)));
    assert!(!out.owns("notes.txt"));
    let mut stage = out.stage().unwrap();
    stage.write("summary.csv", b"new").unwrap();
    stage.write("events.csv", b"new").unwrap();
    let written = stage.commit(Commit::Replace).unwrap();
    assert_eq!(written, [dir.join("summary.csv"), dir.join("events.csv")]);
    let names: Vec<String> = snapshot(&dir).into_iter().map(|(n, _)| n).collect();
    // The old run's other files are gone; the user's stay.
    assert_eq!(
        names,
        [
            RECORD,
            "charts",
            "charts/my-own.svg",
            "events.csv",
            "notes.txt",
            "summary.csv"
        ]
    );
    assert_eq!(fs::read(dir.join("summary.csv")).unwrap(), b"new");
    let record = fs::read_to_string(dir.join(RECORD)).unwrap();
    let listed: Vec<&str> = record.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(listed, ["events.csv", "summary.csv"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn adding_keeps_earlier_files_and_replaces_same_names() {
    let dir = fresh("add");
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    stage.write(&swarm_file(1), b"one").unwrap();
    stage.write(&swarm_file(2), b"two").unwrap();
    stage.commit(Commit::Add).unwrap();
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    stage.write(&swarm_file(2), b"two again").unwrap();
    stage.write(&swarm_file(3), b"three").unwrap();
    stage.commit(Commit::Add).unwrap();
    assert_eq!(fs::read(dir.join("swarm-1.toml")).unwrap(), b"one");
    assert_eq!(fs::read(dir.join("swarm-2.toml")).unwrap(), b"two again");
    assert!(OutDir::open(&dir).unwrap().owns("swarm-3.toml"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failure_part_way_through_a_commit_puts_every_old_file_back() {
    let dir = run_folder("rollback", "old", &["notes.txt"]);
    let before = snapshot(&dir);
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    for name in RUN_FILES {
        stage.write(name, b"new").unwrap();
    }
    // The fourth of five moves fails: three new files are in place and
    // every old one is aside by then.
    stage.fail_at = Some(RUN_FILES[3].to_string());
    let e = stage.commit(Commit::Replace).unwrap_err();
    assert!(!e.is_bad_input());
    assert_eq!(
        e.to_string(),
        format!("cannot write {}: injected failure", dir.join(RUN_FILES[3]).display())
    );
    assert_eq!(snapshot(&dir), before, "the folder is as it was, staging folder gone");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_command_killed_part_way_through_a_commit_is_undone_by_the_next() {
    let dir = run_folder("killed", "old", &["notes.txt"]);
    let before = snapshot(&dir);
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    for name in RUN_FILES {
        stage.write(name, b"new").unwrap();
    }
    // Killed at the fourth of five moves: three new files in place, every
    // old one aside, nothing undone, the staging folder left.
    stage.fail_at = Some(RUN_FILES[3].to_string());
    stage.kill_at_failure = true;
    stage.commit(Commit::Replace).unwrap_err();
    drop(out);
    assert_ne!(snapshot(&dir), before, "a kill leaves a mix");
    // The next command opening the folder puts the old output back.
    drop(OutDir::open(&dir).unwrap());
    assert_eq!(snapshot(&dir), before);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_command_killed_after_placing_every_file_is_finished_by_the_next() {
    let dir = run_folder("killed-late", "old", &["notes.txt"]);
    let expected = run_folder("killed-late-expected", "new", &["notes.txt"]);
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    for name in RUN_FILES {
        stage.write(name, b"new").unwrap();
    }
    stage.kill_after_placing = true;
    stage.commit(Commit::Replace).unwrap_err();
    drop(out);
    drop(OutDir::open(&dir).unwrap());
    assert_eq!(snapshot(&dir), snapshot(&expected));
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&expected).unwrap();
}

#[cfg(unix)]
#[test]
fn a_charts_link_is_never_followed() {
    // A user's published charts, and an output folder whose `charts` is a
    // link to them, listed (by a tampered or older record) as ours.
    let site = fresh("charts-site");
    fs::create_dir_all(&site).unwrap();
    fs::write(site.join("ttd_cdf.svg"), "my chart").unwrap();
    let dir = run_folder("charts-link", "old", &[]);
    std::os::unix::fs::symlink(&site, dir.join("charts")).unwrap();
    let mut record = fs::read_to_string(dir.join(RECORD)).unwrap();
    record.push_str("charts/ttd_cdf.svg\n");
    fs::write(dir.join(RECORD), record).unwrap();
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    for name in RUN_FILES {
        stage.write(name, b"new").unwrap();
    }
    stage.commit(Commit::Replace).unwrap();
    assert_eq!(fs::read_to_string(site.join("ttd_cdf.svg")).unwrap(), "my chart");
    out.restart(&["manifest.toml"]).unwrap();
    assert_eq!(fs::read_to_string(site.join("ttd_cdf.svg")).unwrap(), "my chart");
    // Without a record, a `charts` link makes the folder a stranger's: its
    // `summary.csv` is not taken for deploysim's.
    fs::remove_file(dir.join(RECORD)).unwrap();
    fs::write(dir.join("summary.csv"), "a,b\n").unwrap();
    let out = OutDir::open(&dir).unwrap();
    assert!(out.check_writes(["summary.csv"]).unwrap_err().is_bad_input());
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&site).unwrap();
}

#[test]
fn a_swarms_saved_scenarios_stay_when_a_run_replaces_the_folder() {
    let dir = fresh("swarm-kept");
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    stage.write("swarm-7.toml", b"seed 7").unwrap();
    stage.commit(Commit::Add).unwrap();
    let mut stage = out.stage().unwrap();
    stage.write("summary.csv", b"run").unwrap();
    stage.commit(Commit::Replace).unwrap();
    assert_eq!(fs::read_to_string(dir.join("swarm-7.toml")).unwrap(), "seed 7");
    assert!(OutDir::open(&dir).unwrap().owns("swarm-7.toml"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failure_while_staging_leaves_the_folder_untouched() {
    let dir = run_folder("staging", "old", &[]);
    let before = snapshot(&dir);
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    stage.write("summary.csv", b"new").unwrap();
    // A folder where the staged file must go: the write fails.
    let blocked = stage.path_for("timeline.csv").unwrap();
    fs::create_dir(&blocked).unwrap();
    let e = stage.write("timeline.csv", b"new").unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot write {}:", dir.join("timeline.csv").display())),
        "{e}"
    );
    drop(stage);
    assert_eq!(snapshot(&dir), before);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_deploysim_did_not_write_are_never_overwritten() {
    // A record, and a file of the user's with a name deploysim writes.
    let dir = run_folder("foreign", "old", &[]);
    fs::remove_file(dir.join("events.csv")).unwrap();
    let mut record = fs::read_to_string(dir.join(RECORD)).unwrap();
    record = record.replace("events.csv\n", "");
    fs::write(dir.join(RECORD), record).unwrap();
    fs::write(dir.join("events.csv"), "mine").unwrap();
    let before = snapshot(&dir);
    let mut out = OutDir::open(&dir).unwrap();
    let e = out.check_writes(RUN_FILES.iter().copied()).unwrap_err();
    assert!(e.is_bad_input());
    let m = e.to_string();
    assert!(
        m.contains(&format!("{} is not in {RECORD}", dir.join("events.csv").display())),
        "{m}"
    );
    assert!(m.contains("allowed: move"), "{m}");
    // The commit checks again.
    let mut stage = out.stage().unwrap();
    stage.write("events.csv", b"new").unwrap();
    assert!(stage.commit(Commit::Replace).unwrap_err().is_bad_input());
    assert_eq!(snapshot(&dir), before);
    // A folder in place of a file is refused, not emptied.
    fs::remove_file(dir.join("events.csv")).unwrap();
    fs::remove_file(dir.join("timeline.png")).unwrap();
    fs::create_dir(dir.join("timeline.png")).unwrap();
    let out = OutDir::open(&dir).unwrap();
    let m = out.check_writes(["timeline.png"]).unwrap_err().to_string();
    assert!(m.contains("is a folder, where deploysim writes a file"), "{m}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_a_record_a_folder_is_ours_only_if_every_name_is_ours() {
    // As an older deploysim left a run folder (no record).
    let dir = fresh("legacy");
    fs::create_dir_all(dir.join("charts")).unwrap();
    for name in [
        "summary.csv",
        "events.csv",
        "charts/ttd_cdf.svg",
        ".summary.csv.tmp-123",
    ] {
        fs::write(dir.join(name), "old").unwrap();
    }
    let out = OutDir::open(&dir).unwrap();
    assert!(out.owns("summary.csv") && out.owns("charts/ttd_cdf.svg"));
    assert!(out.check_writes(RUN_FILES.iter().copied()).is_ok());
    drop(out);
    // One stranger, and nothing is deploysim's for sure.
    fs::write(dir.join("thesis.tex"), "mine").unwrap();
    let out = OutDir::open(&dir).unwrap();
    assert!(!out.owns("summary.csv"));
    let m = out.check_writes(RUN_FILES.iter().copied()).unwrap_err().to_string();
    assert!(m.contains("may not be deploysim's") && m.contains("thesis.tex"), "{m}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_naming_files_deploysim_does_not_write_is_refused() {
    let dir = fresh("record");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("thesis.tex"), "mine").unwrap();
    fs::write(dir.join(RECORD), "# list\nsummary.csv\nthesis.tex\n").unwrap();
    let e = OutDir::open(&dir).unwrap_err();
    assert!(e.is_bad_input());
    assert!(
        e.to_string()
            .contains("line 3: \"thesis.tex\" is not a file deploysim writes"),
        "{e}"
    );
    fs::write(dir.join(RECORD), "../../etc/passwd\n").unwrap();
    assert!(OutDir::open(&dir).is_err());
    assert!(dir.join("thesis.tex").exists());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restart_deletes_only_deploysims_files() {
    let dir = run_folder("restart", "old", &["notes.txt"]);
    let mut out = OutDir::open(&dir).unwrap();
    out.restart(&["manifest.toml", "trials.csv.partial"]).unwrap();
    let names: Vec<String> = snapshot(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, [RECORD, "notes.txt"]);
    assert!(out.owns("manifest.toml") && !out.owns("summary.csv"));
    assert!(OutDir::open(&dir).unwrap().owns("trials.csv.partial"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_made_for_nothing_is_removed_again() {
    let dir = fresh("unused");
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    stage.write("summary.csv", b"x").unwrap();
    drop(stage);
    drop(out);
    assert!(!dir.exists());
}

#[test]
fn only_names_deploysim_writes_can_be_staged() {
    assert!(is_output_name("charts/ttd_cdf.png") && is_output_name("swarm-18446744073709551615.toml"));
    for name in [
        "notes.txt",
        "charts/x.svg",
        "swarm-.toml",
        "swarm-1a.toml",
        "../summary.csv",
        RECORD,
    ] {
        assert!(!is_output_name(name), "{name}");
    }
    let dir = fresh("names");
    let mut out = OutDir::open(&dir).unwrap();
    let mut stage = out.stage().unwrap();
    assert!(stage.write("notes.txt", b"x").is_err());
    drop(stage);
    drop(out);
    assert!(!dir.exists());
}
