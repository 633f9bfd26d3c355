//! `deploysim tune`: the same candidates on any thread count, a
//! recommendation that agrees with candidates.csv, and bad tune files as
//! input errors.

mod common;

use std::process::{Command, Output};

fn tune(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .arg("tune")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn tuning_is_the_same_on_any_thread_count_and_recommends_the_best_feasible_candidate() {
    let dir = common::temp_dir("tune");
    let path = common::scenario_path("tune/canary-thresholds.toml");
    let p = path.to_str().unwrap();
    let one = tune(&[
        p,
        "--trials",
        "40",
        "--threads",
        "1",
        "--out",
        dir.join("one").to_str().unwrap(),
    ]);
    let two = tune(&[
        p,
        "--trials",
        "40",
        "--threads",
        "2",
        "--out",
        dir.join("two").to_str().unwrap(),
    ]);
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    assert!(two.status.success());
    for f in [
        "candidates.csv",
        "charts/tune_blast_vs_false_rollback.svg",
        "charts/tune_ttd_vs_power.svg",
        "charts/tune_ttd_vs_power.png",
    ] {
        assert_eq!(
            std::fs::read(dir.join("one").join(f)).unwrap(),
            std::fs::read(dir.join("two").join(f)).unwrap(),
            "{f}"
        );
    }
    // The two planes: blast radius against false rollbacks, TTD
    // against power.
    let svg = |f: &str| std::fs::read_to_string(dir.join("one/charts").join(f)).unwrap();
    let blast = svg("tune_blast_vs_false_rollback.svg");
    assert!(blast.contains("false rollback rate") && blast.contains("blast radius p95"));
    let ttd = svg("tune_ttd_vs_power.svg");
    assert!(ttd.contains("detection power") && ttd.contains("time to detect p50"));
    assert!(ttd.contains("Pareto front"), "the legend names the front");
    let text = std::fs::read_to_string(dir.join("one/candidates.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 36, "the whole 4 x 3 x 3 grid");
    // The printed best is the feasible candidate with the highest power.
    let feasible: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[col("feasible")] == "true").collect();
    assert!(!feasible.is_empty());
    for r in &feasible {
        assert!(r[col("false_rollback_pct")].parse::<f64>().unwrap() <= 1.0);
        assert!(r[col("rollout_p95_s")].parse::<f64>().unwrap() <= 3600.0);
    }
    let top = feasible
        .iter()
        .map(|r| r[col("power_pct")].parse::<f64>().unwrap())
        .fold(f64::MIN, f64::max);
    let printed = String::from_utf8_lossy(&one.stdout);
    let best = printed
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("best:")
                .map(|x| x.trim().trim_start_matches("candidate ").to_string())
        })
        .expect("a best candidate");
    let best_row = rows.iter().find(|r| r[col("candidate")] == *best).unwrap();
    assert_eq!(best_row[col("power_pct")].parse::<f64>().unwrap(), top, "{printed}");
    assert_eq!(
        &best_row[col("pareto")],
        "true",
        "the best feasible candidate is on the front"
    );
}

#[test]
fn bad_tune_files_are_input_errors() {
    let dir = common::temp_dir("tune-bad");
    let path = dir.join("t.toml");
    let base = common::scenario_path("tune/canary-base.toml");
    let head = format!(
        "scenario = \"{}\"\n[[bad]]\nname = \"b\"\nrelease = {{ error_rate_pct = 2 }}\n",
        base.display()
    );
    for (top, tables, expect) in [
        ("", "", "field `space`: is empty"),
        (
            "",
            "[space]\n\"strategy.success_criteria.bogus\" = [1, 2]\n",
            "candidate 1",
        ),
        (
            "search = \"random\"\n",
            "[space]\n\"strategy.check_interval\" = [\"10s\"]\n",
            "samples",
        ),
        ("", "[space]\n\"strategy.check_interval\" = \"10s\"\n", "not a list"),
        ("", "[space]\n\"release.error_rate_pct\" = [1, 2]\n", "[[bad]]"),
    ] {
        // Top-level keys must precede the tables.
        let text = format!("{top}{head}{tables}");
        let body = &text;
        std::fs::write(&path, body).unwrap();
        let o = tune(&[path.to_str().unwrap(), "--out", dir.join("out").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{body}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(expect), "{body}: {err}");
    }
}

#[test]
fn a_kayenta_judge_tuned_in_aggregate_runs_sees_latency() {
    // Tune runs skip latency histograms when nothing reads latency; a
    // Kayenta judge of p90 reads it. Were the histograms skipped, a slower
    // release would look exactly like the good one and every candidate's
    // power would equal its false rollback rate. With them, a release 10%
    // slower is caught by every candidate in far more trials than a good
    // one is rolled back.
    let dir = common::temp_dir("tune-kayenta");
    let path = common::scenario_path("tune/kayenta-latency.toml");
    let out = tune(&[
        path.to_str().unwrap(),
        "--trials",
        "20",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join("candidates.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (frr, slower) = (col("false_rollback_pct"), col("power_slower-10pct_pct"));
    for r in rows.records().map(Result::unwrap) {
        let (frr, power): (f64, f64) = (r[frr].parse().unwrap(), r[slower].parse().unwrap());
        assert!(
            power >= 80.0 && power > frr + 40.0,
            "candidate {}: power {power}, frr {frr}",
            &r[0]
        );
    }
}
