//! The cost estimate (`scenario::cost`) against counted work: the events a
//! run handles never exceed the estimate, and where the run spans its whole
//! `max_duration` the estimate is within a stated factor of them.

mod common;

/// Counts this thread's live bytes, so a run's memory can be held to its
/// estimate.
#[global_allocator]
static ALLOCATOR: deploysim::guard::MeteredAlloc = deploysim::guard::MeteredAlloc;

use deploysim::guard::RunGuard;
use deploysim::scenario::cost::estimate;
use deploysim::scenario::Scenario;
use deploysim::sim::{run, RunOptions};
use std::path::Path;

/// Runs `s` (with its counterfactual) and returns the events handled.
fn events_of(s: &Scenario) -> u64 {
    let opts = RunOptions {
        check_invariants: false,
        ..RunOptions::default()
    };
    run(s, s.seed, opts).unwrap().events_handled
}

fn every_scenario_file() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("scenarios"), root.join("tests/regressions")];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("sweeps") && !path.ends_with("tune") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_estimate_bounds_the_events_of_every_shipped_scenario() {
    let mut checked = 0;
    for path in every_scenario_file() {
        let Ok(s) = deploysim::scenario::load(&path) else {
            continue; // a regression kept as an input error
        };
        let est = estimate(&s);
        let events = events_of(&s);
        assert!(
            events as f64 <= est.events,
            "{}: {events} events, estimated at most {}",
            path.display(),
            est.events
        );
        assert!(est.work >= est.events, "{}: work counts every event", path.display());
        checked += 1;
    }
    assert!(checked >= 50, "{checked}");
}

#[test]
fn the_estimate_bounds_the_memory_of_every_shipped_scenario() {
    assert!(deploysim::guard::metering(), "the metering allocator is installed");
    let mut checked = 0;
    for path in every_scenario_file() {
        let Ok(s) = deploysim::scenario::load(&path) else {
            continue;
        };
        let est = estimate(&s);
        let guard = RunGuard::start(None, None);
        let opts = RunOptions {
            check_invariants: false,
            keep_detail: false,
            guard: Some(guard),
            ..RunOptions::default()
        };
        run(&s, s.seed, opts).unwrap();
        // The estimate holds the program itself as well, so growth beyond
        // it is a run that took more than it said.
        assert!(
            guard.peak_growth() as f64 <= est.memory_bytes,
            "{}: grew {} bytes, estimated at most {:.0}",
            path.display(),
            guard.peak_growth(),
            est.memory_bytes
        );
        checked += 1;
    }
    assert!(checked >= 50, "{checked}");
}

#[test]
fn the_estimate_bounds_the_events_of_random_scenarios() {
    // The swarm's generator draws every strategy, fault, trigger and shape;
    // 60 seeds take a few seconds.
    for seed in 0..60 {
        let text = deploysim::experiment::swarm::scenario_for_seed(seed);
        let s = common::parse(&text);
        let est = estimate(&s);
        let events = events_of(&s);
        assert!(
            events as f64 <= est.events,
            "swarm seed {seed}: {events} events, estimated at most {}",
            est.events
        );
    }
}

/// A scenario that runs its whole `max_duration` (no rollout to end it).
fn full_run(extra: &str, fidelity: &str) -> Scenario {
    common::parse(&format!(
        "fidelity = \"{fidelity}\"\n[simulation]\nmax_duration = \"20m\"\n[fleet]\ninstances = 6\n\
         [health_check]\ninterval = \"10s\"\n[traffic]\nrate_rps = 40\n[release]\nquality = \"good\"\n\
         [strategy]\nkind = \"none\"\n{extra}"
    ))
}

#[test]
fn a_run_of_its_whole_length_costs_close_to_the_estimate() {
    // A constant rate is counted at its mean plus six standard deviations
    // (arrivals and completions are two events each, about 96,000 here,
    // the margin 2 x 1,300); the rest of the slack is the probes, counted as
    // if none were skipped (6 x 120), and the scrapes and rows. So within
    // 10%; with [capacity] a queue timeout is counted for every request,
    // though few wait, so within 60%.
    for (extra, factor) in [
        ("", 1.1),
        ("[capacity]\nconcurrency = 2\nqueue_timeout = \"200ms\"\n", 1.6),
        ("[sessions]\nmean_requests = 5\nmean_duration = \"1m\"\n", 1.1),
        (
            "[[faults]]\nkind = \"flaky_health_checks\"\nfalse_failure_pct = 30\nat = \"1m\"\n",
            1.1,
        ),
    ] {
        let s = full_run(extra, "request");
        let est = estimate(&s);
        let events = events_of(&s) as f64;
        assert!(events <= est.events, "{extra}: {events} > {}", est.events);
        assert!(
            est.events <= factor * events,
            "{extra}: {} against {events}",
            est.events
        );
    }
    // Aggregate mode handles a scrape and a row per 10 s (about 244
    // events) and nothing per request; the estimate adds every probe as if
    // none were skipped (720), so it is within 5x.
    let s = full_run("", "aggregate");
    let (est, events) = (estimate(&s), events_of(&s) as f64);
    assert!(
        events <= est.events && est.events <= 5.0 * events,
        "{} against {events}",
        est.events
    );
}

#[test]
fn churn_from_crashes_is_bounded() {
    // Instances that fail at once, or a second after booting, are replaced
    // at every reconcile (any crash's), not once per backoff: the estimate
    // counts one replacement per slot per life of at least a second. Held
    // rollouts keep the failing version up for the whole run.
    let held = "kind = \"canary\"\nprogress_deadline = \"1h\"\nsteps = [{ set_weight = 50 }, { pause = {} }]";
    let green = "kind = \"blue_green\"\nauto_promote = false\nprogress_deadline = \"1h\"";
    let rolling = "kind = \"rolling\"\nprogress_deadline = \"1h\"";
    for (strategy, fault) in [
        (held, "kind = \"crash_on_boot\"\nprobability_pct = 100"),
        (held, "kind = \"crash_on_boot\"\nprobability_pct = 60"),
        (held, "kind = \"crash_loop\"\nafter = \"1s\""),
        (green, "kind = \"crash_loop\"\nafter = \"1s\""),
        (green, "kind = \"instance_crashes\"\nmtbf = \"1s\""),
        (held, "kind = \"zone_outage\"\nzones = 2\nzone = 1"),
        (rolling, "kind = \"crash_loop\"\nafter = \"1s\""),
        (rolling, "kind = \"instance_crashes\"\nmtbf = \"5s\""),
    ] {
        for boot in ["\"0s\"", "{ dist = \"exponential\", mean = \"2s\" }"] {
            let s = common::parse(&format!(
                "[simulation]\nmax_duration = \"15m\"\n[fleet]\ninstances = 8\nprovision_time = \"0s\"\n\
                 boot_time = {boot}\n[traffic]\nrate_rps = 5\n[release]\nquality = \"good\"\n\
                 [strategy]\n{strategy}\n[[faults]]\n{fault}\n"
            ));
            let est = estimate(&s);
            let events = events_of(&s) as f64;
            assert!(events <= est.events, "{fault}, boot {boot}: {events} > {}", est.events);
        }
    }
}

#[test]
fn a_raised_budget_travels_with_the_cells_of_a_sweep() {
    // A base scenario over the default budget (a least-outstanding pick over
    // 10,000 instances at 1,000 requests/s for an hour) fails in every cell
    // at the field that drives it; raised in the base, every cell has it.
    let dir = common::temp_dir("cost-sweep");
    let base = "[simulation]\nmax_duration = \"1h\"\n[fleet]\ninstances = 10000\n[traffic]\nrate_rps = 1000\n\
                balancer = \"least_outstanding\"\n[release]\nquality = \"good\"\n[strategy]\nkind = \"recreate\"\n";
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        "scenario = \"base.toml\"\ntrials = 1\nreleases = [\"good\"]\n[[strategies]]\nname = \"recreate\"\nstrategy = { kind = \"recreate\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("base.toml"), base).unwrap();
    let Err(e) = deploysim::experiment::sweep::load(&sweep, None) else {
        panic!("over the budget")
    };
    assert!(e.to_string().contains("field `fleet.instances`"), "{e}");
    assert!(e.to_string().contains("least_outstanding"), "{e}");
    let raised = base.replace("max_duration = \"1h\"", "max_duration = \"1h\"\nwork_budget = 1e11");
    std::fs::write(dir.join("base.toml"), raised).unwrap();
    let s = deploysim::experiment::sweep::load(&sweep, None).expect("the raised budget is the cells' too");
    assert!(s
        .cells
        .iter()
        .all(|c| c.scenario(s.seed, 0).simulation.work_budget == 1e11));
    std::fs::remove_dir_all(&dir).unwrap();
}
