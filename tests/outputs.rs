//! Outputs: events stream to their files as the run goes, output folders
//! change as a whole or not at all, deploysim never overwrites or deletes
//! files it did not write, and every command treats `--out` alike.

mod common;

use deploysim::engine::SimTime;
use deploysim::record::{EventSink, RunSoFar, SimEvent};
use deploysim::report::csv_out::{events_csv, summary_csv, timeline_csv, EventsCsv};
use deploysim::report::narrate::{Narrator, TraceWriter};
use deploysim::scenario::{self, Fidelity, Scenario};
use deploysim::sim::{run, run_into, RunOptions};
use deploysim::strategy::{Report, RollbackCause};
use std::path::{Path, PathBuf};
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

/// Every entry under `dir` (relative, sorted), files with their bytes.
fn snapshot(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                out.push((rel, None));
                todo.push(p);
            } else {
                out.push((rel, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    out.sort();
    out
}

fn names(dir: &Path) -> Vec<String> {
    snapshot(dir).into_iter().map(|(n, _)| n).collect()
}

/// A shipped scenario, in aggregate mode when asked (validated as such).
fn load(name: &str, aggregate: bool) -> Scenario {
    let fidelity = aggregate.then_some(Fidelity::Aggregate);
    scenario::load_with(&common::scenario_path(name), fidelity).unwrap()
}

/// A recreate rollout whose service-wide trigger fires during the outage,
/// while the new version is still starting: no request has reached it yet.
fn trigger_before_exposure(aggregate: bool) -> Scenario {
    let text = std::fs::read_to_string(common::scenario_path("strategies/recreate-good.toml")).unwrap();
    let text = text
        .replace("scope = \"new\"", "scope = \"service\"")
        .replace("sustained_for = \"1m\"", "sustained_for = \"10s\"");
    let fidelity = aggregate.then_some(Fidelity::Aggregate);
    scenario::parse_with(Path::new("early.toml"), &text, "early", fidelity).unwrap()
}

/// `events.csv` and the trace, streamed by a run into their sinks.
fn streamed(s: &Scenario) -> (Vec<u8>, String, deploysim::record::Summary) {
    struct Both<'a> {
        csv: EventsCsv<Vec<u8>>,
        trace: TraceWriter<'a, Vec<u8>>,
    }
    impl EventSink for Both<'_> {
        fn event(&mut self, t: SimTime, e: &SimEvent, so_far: &RunSoFar) {
            self.csv.event(t, e, so_far);
            self.trace.event(t, e, so_far);
        }
    }
    let mut both = Both {
        csv: EventsCsv::new(Vec::new()),
        trace: TraceWriter::new(s, Vec::new()),
    };
    let r = run_into(s, s.seed, RunOptions::default(), &mut both).unwrap();
    assert!(r.events.is_empty(), "the events went to the sink");
    let trace = String::from_utf8(both.trace.into_inner()).unwrap();
    (both.csv.finish().unwrap(), trace, r.summary)
}

#[test]
fn streamed_events_and_trace_are_those_of_the_collected_run() {
    let mut scenarios: Vec<(String, Scenario)> = [
        "reference-canary.toml",
        "faults/flaky-health-checks.toml",
        "strategies/rolling-bad.toml",
        "strategies/recreate-bad.toml",
    ]
    .iter()
    .flat_map(|n| [false, true].map(|agg| (format!("{n} aggregate={agg}"), load(n, agg))))
    .collect();
    scenarios.push(("early trigger".into(), trigger_before_exposure(false)));
    scenarios.push(("early trigger, aggregate".into(), trigger_before_exposure(true)));
    for (name, s) in &scenarios {
        let collected = run(s, s.seed, RunOptions::default()).unwrap();
        let (csv, trace, summary) = streamed(s);
        assert_eq!(summary, collected.summary, "{name}");
        assert_eq!(csv, events_csv(&collected.events), "{name}");
        let narrator = Narrator::new(s, &collected.summary);
        let narrated: String = collected
            .events
            .iter()
            .filter_map(|(t, e)| narrator.line(*t, e))
            .map(|l| l + "\n")
            .collect();
        assert_eq!(trace, narrated, "{name}");
        assert!(trace.lines().count() > 20, "{name}");
    }
}

#[test]
fn a_trigger_before_any_request_reached_the_new_version_claims_no_first_request() {
    for aggregate in [false, true] {
        let s = trigger_before_exposure(aggregate);
        let (_, trace, summary) = streamed(&s);
        let fired = summary.triggered_at.expect("the trigger fires");
        assert!(summary.first_exposure.is_some_and(|f| f > fired), "v2 serves later");
        // The time to detect counts from the rollout start, and the trace
        // does not claim a first request before the trigger.
        assert_eq!(summary.ttd(), Some(fired - summary.rollout_started));
        let line = trace.lines().find(|l| l.contains("ROLLBACK triggered")).unwrap();
        assert!(line.ends_with("against a threshold of 1.000."), "{line}");
    }
}

#[test]
fn a_rollback_line_waits_until_the_first_request_is_known() {
    let s = common::load("reference-canary.toml");
    let mut trace = TraceWriter::new(&s, Vec::new());
    let at = |secs| SimTime::from_secs(secs);
    let known = |first: Option<u64>, before: u64| RunSoFar {
        first_exposure: first.map(at),
        exposure_known_before: at(before),
    };
    let triggered = SimEvent::Controller(Report::RollbackTriggered {
        cause: RollbackCause::Trigger {
            name: "manual".into(),
            observed: 1.0,
            threshold: 1.0,
        },
    });
    trace.event(at(5), &SimEvent::RolloutStarted { strategy: "canary" }, &known(None, 5));
    // Requests up to t = 8 s are counted; the trigger at 10 s must wait.
    trace.event(at(10), &triggered, &known(None, 8));
    trace.event(at(10), &SimEvent::RunEnded, &known(None, 8));
    let lines = String::from_utf8_lossy(trace.get_ref()).lines().count();
    assert_eq!(lines, 1, "only the line before the trigger");
    // The stretch drawn later held a request at t = 9 s.
    trace.event(at(12), &SimEvent::RunEnded, &known(Some(9), 12));
    let text = String::from_utf8(trace.into_inner()).unwrap();
    let out: Vec<&str> = text.lines().collect();
    assert_eq!(out.len(), 4, "{text}");
    assert!(
        out[1].ends_with("Time to detect: 1.000s after the first request reached v2."),
        "{text}"
    );
    assert!(out[2].contains("The simulation ends."), "{text}");
}

#[test]
fn run_streams_events_csv_equal_to_the_collected_events() {
    let dir = common::temp_dir("outputs-stream");
    for name in [
        "reference-canary.toml",
        "faults/flaky-health-checks.toml",
        "strategies/blue-green-bad.toml",
    ] {
        let s = common::load(name);
        let out = dir.join(name.replace('/', "-"));
        let o = deploysim(&[
            "run",
            common::scenario_path(name).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = run(&s, s.seed, RunOptions::default()).unwrap();
        assert_eq!(
            std::fs::read(out.join("events.csv")).unwrap(),
            events_csv(&r.events),
            "{name}"
        );
        assert_eq!(
            std::fs::read(out.join("timeline.csv")).unwrap(),
            timeline_csv(&r.timeline),
            "{name}"
        );
        assert_eq!(
            std::fs::read(out.join("summary.csv")).unwrap(),
            summary_csv(&r.summary),
            "{name}"
        );
    }
}

/// Runs a scenario into `out`.
fn run_into_folder(scenario: &str, out: &Path) -> Output {
    deploysim(&[
        "run",
        common::scenario_path(scenario).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
}

#[test]
fn a_failed_rerun_leaves_the_old_folder_as_it_was() {
    let dir = common::temp_dir("outputs-rerun");
    let out = dir.join("run");
    assert_eq!(run_into_folder("reference-canary.toml", &out).status.code(), Some(0));
    // Something that is not deploysim's where the run writes a file: a
    // folder named timeline.png, with a file of the user's in it.
    std::fs::remove_file(out.join("timeline.png")).unwrap();
    std::fs::create_dir(out.join("timeline.png")).unwrap();
    std::fs::write(out.join("timeline.png/keep.txt"), "mine").unwrap();
    let before = snapshot(&out);
    let o = run_into_folder("reference-canary-good.toml", &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{} is a folder, where deploysim writes a file",
            out.join("timeline.png").display()
        )),
        "{err}"
    );
    assert!(err.contains("allowed: move"), "{err}");
    assert_eq!(snapshot(&out), before, "nothing changed, no staging folder left");
}

#[test]
fn a_rerun_replaces_every_file_deploysim_wrote_and_keeps_the_users() {
    let dir = common::temp_dir("outputs-replace");
    let out = dir.join("run");
    assert_eq!(run_into_folder("reference-canary.toml", &out).status.code(), Some(0));
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = run_into_folder("faults/flaky-health-checks.toml", &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fresh = dir.join("fresh");
    assert_eq!(
        run_into_folder("faults/flaky-health-checks.toml", &fresh).status.code(),
        Some(0)
    );
    for f in [
        "summary.csv",
        "timeline.csv",
        "events.csv",
        "timeline.svg",
        "timeline.png",
        ".deploysim-files",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(fresh.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    assert_eq!(names(&out).len(), 7, "{:?}", names(&out));
}

#[test]
fn a_folder_an_older_deploysim_wrote_is_replaced_only_if_it_holds_nothing_else() {
    let dir = common::temp_dir("outputs-legacy");
    let out = dir.join("old");
    assert_eq!(run_into_folder("reference-canary.toml", &out).status.code(), Some(0));
    // As an older version left it: no list of deploysim's files.
    std::fs::remove_file(out.join(".deploysim-files")).unwrap();
    std::fs::write(out.join("draft.md"), "mine").unwrap();
    let before = snapshot(&out);
    let o = run_into_folder("reference-canary-good.toml", &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("may not be deploysim's") && stderr(&o).contains("draft.md"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&out), before);
    std::fs::remove_file(out.join("draft.md")).unwrap();
    let o = run_into_folder("reference-canary-good.toml", &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.contains("reference-canary-good,"), "{summary}");
}

fn small_sweep(dir: &Path) -> PathBuf {
    let path = dir.join("sweep.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"t\"\nscenario = \"{}\"\ntrials = 2\nseed = 3\nreleases = [\"bad\"]\n\
             [[strategies]]\nname = \"strict\"\nstrategy = {{ kind = \"canary\", success_criteria = {{ max_error_rate_pct = 1 }} }}\n",
            common::scenario_path("reference-canary.toml").display()
        ),
    )
    .unwrap();
    path
}

fn sweep(path: &Path, out: &Path) -> Output {
    deploysim(&[
        "sweep",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
}

#[test]
fn a_sweep_into_a_users_folder_deletes_and_overwrites_nothing_of_theirs() {
    let dir = common::temp_dir("outputs-sweep");
    let path = small_sweep(&dir);
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("charts")).unwrap();
    std::fs::write(project.join("charts/figure-1.png"), "mine").unwrap();
    std::fs::write(project.join("paper.tex"), "mine").unwrap();
    std::fs::write(project.join("summary.csv"), "my,data\n").unwrap();
    let before = snapshot(&project);
    let o = sweep(&path, &project);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&project.join("summary.csv").display().to_string()),
        "{err}"
    );
    assert!(err.contains("deploysim replaces only files it wrote"), "{err}");
    assert_eq!(snapshot(&project), before, "nothing deleted or written");
    // Without the clash the sweep writes beside the user's files, and a
    // second sweep replaces only its own.
    std::fs::remove_file(project.join("summary.csv")).unwrap();
    for _ in 0..2 {
        let o = sweep(&path, &project);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            std::fs::read_to_string(project.join("charts/figure-1.png")).unwrap(),
            "mine"
        );
        assert_eq!(std::fs::read_to_string(project.join("paper.tex")).unwrap(), "mine");
        assert!(project.join("report.html").is_file() && project.join("charts/ttd_cdf.svg").is_file());
    }
    let listed = std::fs::read_to_string(project.join(".deploysim-files")).unwrap();
    assert!(
        listed.lines().any(|l| l == "charts/ttd_cdf.svg") && !listed.contains("figure-1"),
        "{listed}"
    );
    // The sweep's files are exactly those of a sweep into a new folder.
    let fresh = dir.join("fresh");
    assert_eq!(sweep(&path, &fresh).status.code(), Some(0));
    for f in [
        "trials.csv",
        "summary.csv",
        "report.html",
        "manifest.toml",
        "charts/ttd_cdf.png",
    ] {
        assert_eq!(
            std::fs::read(project.join(f)).unwrap(),
            std::fs::read(fresh.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn every_command_treats_a_bad_out_alike() {
    let dir = common::temp_dir("outputs-bad-out");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mut bad: Vec<(PathBuf, String)> = vec![
        (file.clone(), format!("{}: is a file", file.display())),
        (
            file.join("sub"),
            format!("{} is a file, so no folder can be made under it", file.display()),
        ),
    ];
    #[cfg(unix)]
    {
        let a = dir.join("loop-a");
        std::os::unix::fs::symlink(dir.join("loop-b"), &a).unwrap();
        std::os::unix::fs::symlink(&a, dir.join("loop-b")).unwrap();
        bad.push((a.clone(), "is a symbolic link that does not lead to a folder".into()));
        bad.push((a.join("sub"), "so no folder can be made under it".into()));
    }
    let scenario = common::scenario_path("reference-canary.toml");
    let tune = common::scenario_path("tune/canary-thresholds.toml");
    let sweep_path = small_sweep(&dir);
    for (out, expected) in &bad {
        let out = out.to_str().unwrap();
        let commands: [Vec<&str>; 5] = [
            vec!["run", scenario.to_str().unwrap(), "--out", out],
            vec!["sweep", sweep_path.to_str().unwrap(), "--out", out],
            vec!["tune", tune.to_str().unwrap(), "--out", out],
            vec!["merge", dir.to_str().unwrap(), "--out", out],
            vec!["swarm", "--seeds", "1", "--out", out],
        ];
        for args in commands {
            let o = deploysim(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(expected.as_str()), "{args:?}: {err}");
            assert!(
                err.contains("allowed: a folder, or a path where one can be created"),
                "{args:?}: {err}"
            );
        }
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}
