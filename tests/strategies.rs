//! Every shipped scenario run through the simulator, with the properties
//! each strategy promises checked on the outputs.

mod common;

use deploysim::model::world::WorldChange;
use deploysim::model::{HealthStatus, InstanceStatus, Version};
use deploysim::record::{SimEvent, TimelineRow};
use deploysim::scenario::{self, Scenario, StrategySpec};
use deploysim::sim::{run, RunOptions, RunResult};
use deploysim::strategy::Outcome;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn shipped() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                // Fault scenarios have their own tests (tests/faults.rs).
                // Tune files are not scenarios (tests/tune.rs runs them).
                if !p.ends_with("faults") && !p.ends_with("sweeps") && !p.ends_with("tune") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|e| e == "toml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"), &mut out);
    out
}

fn load(path: &Path) -> Scenario {
    scenario::load(path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn last(r: &RunResult) -> &TimelineRow {
    r.timeline.last().expect("timeline rows")
}

#[test]
fn every_shipped_scenario_ends_as_its_comment_says() {
    let paths = shipped();
    assert!(paths.len() >= 28, "{}", paths.len());
    for path in paths {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let s = load(&path);
        let r = run(&s, s.seed, RunOptions::default()).unwrap_or_else(|v| panic!("{name}: {v}"));
        let m = &r.summary;
        let n = s.fleet.instances;
        let expected = if name == "manual-good" {
            vec![Outcome::RolledBack]
        } else if name.ends_with("-good") || name == "blue-green-manual" {
            vec![Outcome::Promoted]
        } else {
            vec![Outcome::RolledBack, Outcome::Failed]
        };
        assert!(expected.contains(&m.outcome.unwrap()), "{name}: {:?}", m.outcome);
        let end = last(&r);
        match m.outcome.unwrap() {
            Outcome::Promoted => {
                // A promoted good release leaves every instance on the new version.
                assert_eq!(end.fleet[Version::Stable.index()].active(), 0, "{name}");
                assert_eq!(end.fleet[Version::New.index()].routable, n, "{name}");
                assert_eq!(end.weight_pct, 100.0, "{name}");
            }
            Outcome::RolledBack | Outcome::Failed => {
                // After any rollback all traffic is on stable, with a full fleet.
                assert_eq!(end.weight_pct, 0.0, "{name}");
                assert_eq!(end.fleet[Version::New.index()].active(), 0, "{name}");
                assert_eq!(end.fleet[Version::Stable.index()].routable, n, "{name}");
                assert!(m.recovery.is_some(), "{name}");
                if m.rollback_performed {
                    assert!(m.ttr().is_some(), "{name}: recovered");
                    assert_eq!(m.rollback_verified, Some(true), "{name}");
                }
            }
        }
        assert_eq!(m.ttd().is_some(), m.rollback_performed, "{name}");
    }
}

#[test]
fn only_recreate_has_downtime_when_the_release_is_good() {
    for path in shipped()
        .into_iter()
        .filter(|p| p.to_str().unwrap().ends_with("-good.toml"))
    {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let s = load(&path);
        let r = run(&s, s.seed, RunOptions::default()).unwrap();
        let dropped: u64 = r.summary.totals.dropped.iter().sum();
        let excess = r.summary.excess_failed_requests().unwrap();
        if matches!(s.strategy, StrategySpec::Recreate(_)) {
            // 10 instances stop, then new ones take 25-35 s to serve: at
            // 100 requests/s that is thousands of requests with nowhere to go,
            // and the excess over no rollout is those requests (less the few
            // that would have failed anyway).
            assert!(dropped > 1000, "{name}: {dropped}");
            assert!(r.summary.availability_pct().unwrap() < 99.5, "{name}");
            assert!(
                excess > 0 && excess as u64 <= dropped && excess as u64 + 20 >= dropped,
                "{name}: {excess}"
            );
        } else {
            assert_eq!(dropped, 0, "{name}");
            // A good release behaves like stable and, with common random
            // numbers, every request fails or not exactly as without a
            // rollout. (In aggregate mode counts are drawn per stretch
            // between changes, and the rollout's changes cut the stretches
            // elsewhere, so there the two agree in distribution only.)
            if s.fidelity == deploysim::scenario::Fidelity::Request {
                assert_eq!(excess, 0, "{name}");
            }
        }
    }
}

#[test]
fn blue_green_doubles_capacity_then_keeps_one_fleet() {
    let s = load(&common::scenario_path("strategies/blue-green-good.toml"));
    let n = s.fleet.instances;
    let r = run(&s, s.seed, RunOptions::default()).unwrap();
    let peak = r
        .timeline
        .iter()
        .map(|row| row.fleet[0].count(InstanceStatus::Running) + row.fleet[1].count(InstanceStatus::Running))
        .max()
        .unwrap();
    assert_eq!(peak, 2 * n, "both fleets run during the switch");
    let end = last(&r);
    assert_eq!(
        end.fleet[0].active() + end.fleet[1].active(),
        n,
        "exactly one fleet at the end"
    );
}

/// Replays the events and checks, after every instant, the instances that
/// exist (neither stopping nor finished) and the instances in service.
fn check_rolling_limits(s: &Scenario, r: &RunResult) {
    let StrategySpec::Rolling(spec) = &s.strategy else {
        panic!("rolling expected")
    };
    let n = s.fleet.instances;
    // Instance name -> (status, health); the stable fleet starts serving.
    let mut fleet: BTreeMap<String, (InstanceStatus, HealthStatus)> = (1..=n)
        .map(|i| (format!("stable-{i}"), (InstanceStatus::Running, HealthStatus::Healthy)))
        .collect();
    let mut i = 0;
    while i < r.events.len() {
        let t = r.events[i].0;
        while i < r.events.len() && r.events[i].0 == t {
            if let SimEvent::World(change) = &r.events[i].1 {
                match change {
                    WorldChange::Status {
                        version, ordinal, to, ..
                    } => {
                        let e = fleet
                            .entry(format!("{}-{ordinal}", version.as_str()))
                            .or_insert((*to, HealthStatus::Unknown));
                        e.0 = *to;
                    }
                    WorldChange::Health {
                        version, ordinal, to, ..
                    } => {
                        fleet.get_mut(&format!("{}-{ordinal}", version.as_str())).unwrap().1 = *to;
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        let live = fleet
            .values()
            .filter(|(st, _)| {
                matches!(
                    st,
                    InstanceStatus::Provisioning | InstanceStatus::Deploying | InstanceStatus::Running
                )
            })
            .count() as u32;
        let serving = fleet
            .values()
            .filter(|(st, h)| *st == InstanceStatus::Running && h.in_service())
            .count() as u32;
        let failed_on_their_own = fleet
            .values()
            .filter(|(st, h)| {
                *st == InstanceStatus::Failed || (*st == InstanceStatus::Running && *h == HealthStatus::Unhealthy)
            })
            .count() as u32;
        assert!(
            live <= n + spec.max_surge,
            "{}: {live} instances at {t}, surge {}",
            s.name,
            spec.max_surge
        );
        assert!(
            serving + spec.max_unavailable + failed_on_their_own >= n,
            "{}: {serving} serving at {t}, max_unavailable {}",
            s.name,
            spec.max_unavailable
        );
    }
}

#[test]
fn rolling_stays_within_surge_and_unavailability() {
    // (file, surge, unavailable, zero batch interval)
    for (file, surge, unavailable, no_interval) in [
        ("strategies/rolling-good.toml", None, None, false),
        ("triggers/error-rate-good.toml", None, None, false),
        ("strategies/rolling-good.toml", Some(0), Some(2), false),
        ("strategies/rolling-good.toml", Some(3), Some(0), false),
        // Batches back to back: a batch that completes must not start the
        // next on the same, stale observation.
        ("strategies/rolling-good.toml", Some(2), Some(0), true),
        ("strategies/rolling-good.toml", Some(1), Some(1), true),
    ] {
        let mut s = load(&common::scenario_path(file));
        if let StrategySpec::Rolling(spec) = &mut s.strategy {
            spec.max_surge = surge.unwrap_or(spec.max_surge);
            spec.max_unavailable = unavailable.unwrap_or(spec.max_unavailable);
            if no_interval {
                spec.batch_interval = deploysim::engine::SimDuration::ZERO;
            }
        }
        for seed in 1..=3 {
            let r = run(&s, seed, RunOptions::default()).unwrap();
            assert_eq!(r.summary.outcome, Some(Outcome::Promoted), "{file}");
            check_rolling_limits(&s, &r);
        }
    }
}

#[test]
fn shipped_scenarios_are_deterministic_in_both_modes() {
    use deploysim::report::csv_out::{events_csv, summary_csv, timeline_csv};
    for path in shipped() {
        let mut s = load(&path);
        s.fidelity = deploysim::scenario::Fidelity::Aggregate;
        let a = run(&s, 3, RunOptions::default()).unwrap();
        let b = run(&s, 3, RunOptions::default()).unwrap();
        assert_eq!(summary_csv(&a.summary), summary_csv(&b.summary), "{}", path.display());
        assert_eq!(
            timeline_csv(&a.timeline),
            timeline_csv(&b.timeline),
            "{}",
            path.display()
        );
        assert_eq!(events_csv(&a.events), events_csv(&b.events), "{}", path.display());
    }
}
