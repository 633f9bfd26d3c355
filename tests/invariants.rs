//! The invariant checker on every event, over scenarios that exercise the
//! model: slow and failing boots, flaky health checks, a canary that
//! cannot get ready, rollbacks and promotions, in both fidelity modes.

mod common;

use deploysim::engine::SimTime;
use deploysim::engine::Streams;
use deploysim::invariants::InvariantChecker;
use deploysim::model::World;
use deploysim::scenario::Fidelity;
use deploysim::sim::{run, RunOptions};
use deploysim::strategy::Outcome;

const STRESS: &str = r#"
name = "stress"
[simulation]
max_duration = "40m"
[fleet]
instances = 6
provision_time = { dist = "uniform", min = "5s", max = "40s" }
boot_time = { dist = "lognormal", median = "8s", sigma = 0.6 }
stop_time = { dist = "exponential", mean = "5s" }
[health_check]
interval = "5s"
timeout = "300ms"
healthy_threshold = 2
unhealthy_threshold = 2
initial_delay = "3s"
[traffic]
rate_rps = 40
latency_slo = "400ms"
[stable]
latency = { median = "60ms", p99 = "350ms" }
[release]
quality = "bad"
error_rate_pct = 2
health_check_failure_pct = 20
boot_failure_pct = 30
[strategy]
kind = "canary"
initial_weight_pct = 20
increment_pct = 20
increment_interval = "2m"
progress_deadline = "3m"
[strategy.success_criteria]
max_error_rate_pct = 5
min_request_count = 50
"#;

fn checked() -> RunOptions {
    RunOptions {
        check_invariants: true,
        ..RunOptions::default()
    }
}

#[test]
fn shipped_and_stress_scenarios_keep_every_invariant() {
    let mut scenarios = vec![
        common::load("reference-canary.toml"),
        common::load("reference-canary-good.toml"),
        common::parse(STRESS),
    ];
    let mut good_stress = common::parse(&STRESS.replace("quality = \"bad\"", "quality = \"good\"").replace(
        "error_rate_pct = 2\nhealth_check_failure_pct = 20\nboot_failure_pct = 30\n",
        "",
    ));
    good_stress.name = "stress-good".into();
    scenarios.push(good_stress);
    // A release whose health endpoint answers 204 where 200 is expected never
    // becomes ready: the progress deadline fails the rollout.
    scenarios.push(common::parse(&STRESS.replace(
        "boot_failure_pct = 30",
        "boot_failure_pct = 30\nhealth_status_code = 204",
    )));
    let mut outcomes = std::collections::BTreeSet::new();
    for s in &scenarios {
        for fidelity in [Fidelity::Request, Fidelity::Aggregate] {
            let mut s = s.clone();
            s.fidelity = fidelity;
            for seed in 0..6 {
                let r = run(&s, seed, checked()).unwrap_or_else(|v| panic!("{} {fidelity:?} seed {seed}: {v}", s.name));
                outcomes.insert(r.summary.outcome.map(|o| o.as_str()));
            }
        }
    }
    // The runs above reach every outcome, so every path was checked.
    for o in [Outcome::Promoted, Outcome::RolledBack, Outcome::Failed] {
        assert!(outcomes.contains(&Some(o.as_str())), "{outcomes:?}");
    }
}

#[test]
fn the_checker_catches_a_clock_going_back() {
    let s = common::load("reference-canary.toml");
    let mut world = World::new(&s, Streams::new(1, 0));
    world.start();
    let mut checker = InvariantChecker::new();
    checker.check(SimTime::from_secs(10), &world).unwrap();
    let v = checker.check(SimTime::from_secs(9), &world).unwrap_err();
    assert_eq!(v.invariant, "clock_monotonic");
}

#[test]
fn the_checker_catches_lost_requests() {
    let s = common::load("reference-canary.toml");
    let mut world = World::new(&s, Streams::new(1, 0));
    world.start();
    let mut checker = InvariantChecker::new();
    checker.check(SimTime::ZERO, &world).unwrap();
    world.totals.arrived += 1; // a request that went nowhere
    let v = checker.check(SimTime::ZERO, &world).unwrap_err();
    assert_eq!(v.invariant, "requests_conserved");
    world.totals.arrived -= 1;
    world.totals.routed_to_unroutable = 1;
    let v = checker.check(SimTime::ZERO, &world).unwrap_err();
    assert_eq!(v.invariant, "no_traffic_to_unroutable_instances");
}

#[test]
fn an_instant_boot_failure_loop_backs_off_and_ends() {
    // Every new instance fails to boot, with no provisioning or boot delay:
    // replacements wait out a crash-loop backoff, so time moves on and the
    // progress deadline fails the rollout.
    let mut s = common::load("reference-canary.toml");
    s.release.new.boot_failure_prob = 1.0;
    let r = run(&s, 1, checked()).unwrap();
    assert_eq!(r.summary.outcome, Some(Outcome::Failed));
    assert_eq!(
        r.summary.deploy_duration(),
        Some(deploysim::engine::SimDuration::from_secs(600))
    );
    let failures = r
        .events
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                deploysim::record::SimEvent::World(deploysim::model::world::WorldChange::Status {
                    to: deploysim::model::InstanceStatus::Failed,
                    ..
                })
            )
        })
        .count();
    // Two canary slots, each retried after 10, 20, 40, 80, 160, 300 s...:
    // a handful of attempts in 600 s, not thousands.
    assert!((4..=20).contains(&failures), "{failures}");
}

#[test]
fn a_vanishing_rate_sends_no_requests() {
    let mut s = common::load("reference-canary-good.toml");
    s.traffic.shape = deploysim::model::traffic::TrafficShape::constant(1e-310);
    s.strategy = deploysim::scenario::StrategySpec::None;
    let r = run(&s, 1, checked()).unwrap();
    assert_eq!(r.summary.requests_total(), 0);
}
