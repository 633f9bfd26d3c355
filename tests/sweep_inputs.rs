//! What sweeps, merges and resumes read: every input byte in the
//! fingerprint (replay CSVs too), one shared copy of a replayed series,
//! every value of every row checked, files read with bounds, and
//! CRLF or byte-order-mark files resumed into the bytes of a fresh run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn deploysim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const CSV_A: &str = "t_s,rps\n0,150\n600,250\n1200,200\n";
const CSV_B: &str = "t_s,rps\n0,150\n600,250\n1200,201\n";

/// A sweep of 2 strategies x good and bad, 5 trials each, on an
/// aggregate-mode reference canary that replays `traffic.csv`.
fn replay_sweep(dir: &Path) -> PathBuf {
    let base = std::fs::read_to_string(common::scenario_path("reference-canary.toml"))
        .unwrap()
        .replace("fidelity = \"request\"", "fidelity = \"aggregate\"")
        .replace("rate_rps = 200", "shape = \"replay\"\nreplay_file = \"traffic.csv\"");
    std::fs::write(dir.join("base.toml"), base).unwrap();
    std::fs::write(dir.join("traffic.csv"), CSV_A).unwrap();
    let path = dir.join("sweep.toml");
    std::fs::write(
        &path,
        "name = \"replayed\"\nscenario = \"base.toml\"\ntrials = 5\nseed = 2\n\
         [[strategies]]\nname = \"strict\"\nstrategy = { kind = \"canary\", success_criteria = { max_error_rate_pct = 1, min_request_count = 100 } }\n\
         [[strategies]]\nname = \"lax\"\nstrategy = { kind = \"canary\", success_criteria = { max_error_rate_pct = 5, min_request_count = 100 } }\n",
    )
    .unwrap();
    path
}

fn sweep(path: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", s(path), "--out", s(out), "--quiet", "--threads", "2"];
    args.extend_from_slice(extra);
    deploysim(&args)
}

fn merge(out: &Path, shards: &[&Path]) -> Output {
    let mut args = vec!["merge", "--quiet", "--out", s(out)];
    args.extend(shards.iter().map(|p| s(p)));
    deploysim(&args)
}

const SAME_FILES: [&str; 4] = ["trials.csv", "summary.csv", "manifest.toml", "report.html"];

fn assert_same_files(a: &Path, b: &Path) {
    for f in SAME_FILES {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn every_cell_shares_one_copy_of_the_replayed_series() {
    use deploysim::model::traffic::BaseShape;
    let dir = common::temp_dir("inputs-shared");
    let sweep = deploysim::experiment::sweep::load(&replay_sweep(&dir), None).unwrap();
    let series = |cell: &deploysim::experiment::sweep::Cell, trial| match &cell.scenario(2, trial).traffic.shape.base {
        BaseShape::Replay(series) => series.clone(),
        other => panic!("{other:?}"),
    };
    let first = series(&sweep.cells[0], 0);
    assert_eq!(first.points(), &[(0.0, 150.0), (600.0, 250.0), (1200.0, 200.0)]);
    for cell in &sweep.cells {
        assert!(series(cell, 0).shares_points_with(&first), "{:?}", cell.keys());
    }
}

#[test]
fn shards_on_different_replay_csvs_refuse_to_merge_and_resume_refuses_a_changed_csv() {
    let dir = common::temp_dir("inputs-fingerprint");
    let path = replay_sweep(&dir);
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert!(sweep(&path, &s1, &["--shard", "1/2"]).status.success());
    let before = std::fs::read_to_string(s1.join("manifest.toml")).unwrap();
    std::fs::write(dir.join("traffic.csv"), CSV_B).unwrap();
    let o = sweep(&path, &s2, &["--shard", "2/2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = merge(&dir.join("merged"), &[&s1, &s2]);
    assert_eq!(o.status.code(), Some(2), "shards of other inputs merged");
    assert!(
        stderr(&o).contains("fingerprint") && stderr(&o).contains("replay CSVs"),
        "{}",
        stderr(&o)
    );
    // Same inputs again: shard 1 reruns to its old fingerprint, and the
    // shards merge.
    std::fs::write(dir.join("traffic.csv"), CSV_A).unwrap();
    assert!(sweep(&path, &s2, &["--shard", "2/2"]).status.success());
    assert!(merge(&dir.join("merged"), &[&s1, &s2]).status.success());
    assert_eq!(std::fs::read_to_string(s1.join("manifest.toml")).unwrap(), before);
    // A run stopped on one CSV does not resume on another.
    let cut = dir.join("cut");
    assert_eq!(sweep(&path, &cut, &["--stop-after", "7"]).status.code(), Some(130));
    std::fs::write(dir.join("traffic.csv"), CSV_B).unwrap();
    let o = sweep(&path, &cut, &["--resume"]);
    assert_eq!(o.status.code(), Some(2), "resumed on a changed CSV");
    assert!(stderr(&o).contains("holds another run"), "{}", stderr(&o));
}

/// A complete run and one stopped after `kept` rows of the same sweep.
fn whole_and_cut(dir: &Path, kept: &str) -> (PathBuf, PathBuf, PathBuf) {
    let path = replay_sweep(dir);
    let (whole, cut) = (dir.join("whole"), dir.join("cut"));
    assert!(sweep(&path, &whole, &[]).status.success());
    assert_eq!(sweep(&path, &cut, &["--stop-after", kept]).status.code(), Some(130));
    (path, whole, cut)
}

/// `text` with the value of `column` in data row `row` (1-based) replaced.
fn with_value(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let k = lines[0].split(',').position(|c| c == column).unwrap();
    let mut fields: Vec<&str> = lines[row].split(',').collect();
    fields[k] = value;
    lines[row] = fields.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn resume_and_merge_reject_garbage_values_naming_line_column_and_column_name() {
    let dir = common::temp_dir("inputs-garbage");
    let (path, whole, cut) = whole_and_cut(&dir, "9");
    let partial = cut.join("trials.csv.partial");
    let kept = std::fs::read_to_string(&partial).unwrap();
    for (column, value) in [
        ("failed_requests", "-3"),
        ("availability_pct", "250.0000"),
        ("ttd_s", "soon"),
        ("rollback_performed", "maybe"),
        ("seed", "3"),
        ("release", "bad"),
    ] {
        // Row 2 was a good trial in cell 1 ("strict", good release).
        std::fs::write(&partial, with_value(&kept, 2, column, value)).unwrap();
        let o = sweep(&path, &cut, &["--resume"]);
        assert_eq!(o.status.code(), Some(2), "{column} = {value} was kept");
        let err = stderr(&o);
        assert!(
            err.contains("trials.csv.partial:3:") && err.contains(&format!("column `{column}`")),
            "{column}: {err}"
        );
    }
    // Untouched, it resumes to the bytes of the whole run.
    std::fs::write(&partial, &kept).unwrap();
    assert!(sweep(&path, &cut, &["--resume"]).status.success());
    assert_same_files(&whole, &cut);
    // A merge checks every value of every shard too.
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert!(sweep(&path, &s1, &["--shard", "1/2"]).status.success());
    assert!(sweep(&path, &s2, &["--shard", "2/2"]).status.success());
    let rows = std::fs::read_to_string(s2.join("trials.csv")).unwrap();
    std::fs::write(
        s2.join("trials.csv"),
        with_value(&rows, 3, "blast_radius_requests", "1e9"),
    )
    .unwrap();
    let o = merge(&dir.join("merged"), &[&s1, &s2]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("s2/trials.csv:4:") && err.contains("column `blast_radius_requests`"),
        "{err}"
    );
    assert!(!dir.join("merged/trials.csv").exists(), "nothing half-merged is left");
}

#[test]
fn a_crlf_or_bom_partial_resumes_into_the_bytes_of_a_fresh_run() {
    let dir = common::temp_dir("inputs-crlf");
    let (path, whole, cut) = whole_and_cut(&dir, "6");
    let kept = std::fs::read_to_string(cut.join("trials.csv.partial")).unwrap();
    // A torn last line as well, which is dropped and rerun.
    for (i, edited) in [
        kept.replace('\n', "\r\n") + "strict,base,ba",
        format!("\u{feff}{kept}"),
        format!("\u{feff}{}", kept.replace('\n', "\r\n")),
    ]
    .into_iter()
    .enumerate()
    {
        // Each form in a folder interrupted like `cut`, its partial edited.
        let form = dir.join(format!("form{i}"));
        assert_eq!(sweep(&path, &form, &["--stop-after", "6"]).status.code(), Some(130));
        std::fs::write(form.join("trials.csv.partial"), &edited).unwrap();
        let o = sweep(&path, &form, &["--resume"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same_files(&whole, &form);
    }
    // Shards with CRLF line ends merge into the same bytes too.
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert!(sweep(&path, &s1, &["--shard", "1/2"]).status.success());
    assert!(sweep(&path, &s2, &["--shard", "2/2"]).status.success());
    let rows = std::fs::read_to_string(s2.join("trials.csv")).unwrap();
    std::fs::write(s2.join("trials.csv"), format!("\u{feff}{}", rows.replace('\n', "\r\n"))).unwrap();
    let merged = dir.join("merged");
    let o = merge(&merged, &[&s1, &s2]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_files(&whole, &merged);
    // A complete trials.csv with CRLF is rewritten by a resume as well.
    assert!(sweep(&path, &cut, &["--resume"]).status.success());
    let crlf = std::fs::read_to_string(whole.join("trials.csv"))
        .unwrap()
        .replace('\n', "\r\n");
    std::fs::write(cut.join("trials.csv"), crlf).unwrap();
    assert!(sweep(&path, &cut, &["--resume"]).status.success());
    assert_same_files(&whole, &cut);
}

/// A file of `len` zero bytes that takes no disk (a power loss leaves such
/// files; /dev/zero reads as one without end).
fn zeros(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

#[test]
fn zero_filled_and_endless_line_files_are_refused_without_reading_them_whole() {
    let dir = common::temp_dir("inputs-zeros");
    let (path, _, cut) = whole_and_cut(&dir, "4");
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert!(sweep(&path, &s1, &["--shard", "1/2"]).status.success());
    assert!(sweep(&path, &s2, &["--shard", "2/2"]).status.success());
    let rows = s2.join("trials.csv");
    let good = std::fs::read(&rows).unwrap();
    let header_len = good.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut endless = good[..header_len].to_vec();
    endless.extend(std::iter::repeat_n(b'7', 3 << 20));
    for (what, expect) in [
        ("zeros", "longer than 65536 bytes"),
        ("endless", "longer than 65536 bytes"),
    ] {
        if what == "zeros" {
            zeros(&rows, 8 << 30);
        } else {
            std::fs::write(&rows, &endless).unwrap();
        }
        let o = merge(&dir.join("merged"), &[&s1, &s2]);
        assert_eq!(o.status.code(), Some(2), "{what}");
        assert!(stderr(&o).contains(expect), "{what}: {}", stderr(&o));
    }
    #[cfg(unix)]
    {
        std::fs::remove_file(&rows).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &rows).unwrap();
        let o = merge(&dir.join("merged"), &[&s1, &s2]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
        std::fs::remove_file(&rows).unwrap();
    }
    std::fs::write(&rows, &good).unwrap();
    // A manifest of zeros, or far larger than any deploysim writes.
    let manifest = s2.join("manifest.toml");
    let kept = std::fs::read(&manifest).unwrap();
    for len in [4096, 8 << 30] {
        zeros(&manifest, len);
        let o = merge(&dir.join("merged"), &[&s1, &s2]);
        assert_eq!(o.status.code(), Some(2), "{len}");
        let err = stderr(&o);
        assert!(err.contains("manifest.toml"), "{err}");
    }
    std::fs::write(&manifest, kept).unwrap();
    assert!(merge(&dir.join("merged"), &[&s1, &s2]).status.success());
    // A partial file of zeros (8 GiB, sparse): refused from its tail.
    zeros(&cut.join("trials.csv.partial"), 8 << 30);
    let o = sweep(&path, &cut, &["--resume"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hold no line break"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_manifest_is_blamed_at_its_field() {
    let dir = common::temp_dir("inputs-manifest");
    let path = replay_sweep(&dir);
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert!(sweep(&path, &s1, &["--shard", "1/2"]).status.success());
    assert!(sweep(&path, &s2, &["--shard", "2/2"]).status.success());
    let manifest = s2.join("manifest.toml");
    let kept = std::fs::read_to_string(&manifest).unwrap();
    for (from, to, expect) in [
        (
            "rows = 10",
            "rows = 18446744073709551615",
            "field `rows`: is 18446744073709551615",
        ),
        ("shard = 2", "shard = 0", "field `shard`: 0 is not a shard of 2"),
        ("cells = 4", "cells = 0", "field `cells`"),
    ] {
        assert!(kept.contains(from), "{kept}");
        std::fs::write(&manifest, kept.replace(from, to)).unwrap();
        let o = merge(&dir.join("merged"), &[&s1, &s2]);
        assert_eq!(o.status.code(), Some(2), "{to}");
        let err = stderr(&o);
        let line = kept.lines().position(|l| l.starts_with(from)).unwrap() + 1;
        assert!(
            err.contains(&format!("s2/manifest.toml:{line}:")) && err.contains(expect),
            "{to}: {err}"
        );
        assert!(!err.contains("given twice") && !err.contains("s1/"), "{err}");
    }
    // The same shard twice is named as such.
    std::fs::write(&manifest, &kept).unwrap();
    let o = merge(&dir.join("merged"), &[&s1, &s1]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("shard 1/2: it is given twice"), "{}", stderr(&o));
}
