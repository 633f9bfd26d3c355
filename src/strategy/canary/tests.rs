//! The canary controller driven by hand: scripted fleets and metric windows,
//! no world.

use super::*;
use crate::analysis::{Criterion, Verdict};
use crate::engine::{SimDuration, SimTime};
use crate::model::{InstanceStatus, Version, WindowStats};
use crate::scenario::{CanarySpec, SuccessCriteria};
use crate::strategy::{Command, Controller, MetricsView, Observation, Outcome, Phase, Report, VersionFleet};

/// Metric windows set by the test, per version.
struct Script {
    windows: [WindowStats; 2],
}

impl MetricsView for Script {
    fn window(&self, version: Version, _end: SimTime, _window: SimDuration) -> WindowStats {
        self.windows[version.index()].clone()
    }
}

fn window(requests: u64, errors: u64) -> WindowStats {
    WindowStats {
        requests,
        errors,
        buckets: vec![],
        p99_s: Some(0.1),
    }
}

fn healthy() -> Script {
    Script {
        windows: [window(2000, 2), window(300, 0)],
    }
}

fn spec() -> CanarySpec {
    CanarySpec {
        start_at: SimDuration::ZERO,
        initial_weight_pct: 10.0,
        increment_pct: 10.0,
        increment_interval: SimDuration::from_secs(300),
        check_interval: SimDuration::from_secs(10),
        progress_deadline: SimDuration::from_secs(600),
        criteria: SuccessCriteria {
            max_error_rate_pct: Some(1.0),
            min_success_rate_pct: None,
            max_latency_p99: None,
            min_request_count: 200,
            evaluation_window: SimDuration::from_secs(60),
        },
    }
}

/// A fleet with `stable_running` and `new_ready` routable instances, plus
/// `stopping` new instances.
fn fleet(stable_running: u32, new_ready: u32, new_stopping: u32) -> [VersionFleet; 2] {
    let mut f = [VersionFleet::default(); 2];
    f[0].by_status[InstanceStatus::Running as usize] = stable_running;
    f[0].routable = stable_running;
    f[1].by_status[InstanceStatus::Running as usize] = new_ready;
    f[1].by_status[InstanceStatus::Stopping as usize] = new_stopping;
    f[1].routable = new_ready;
    f
}

fn obs<'a>(t: u64, f: [VersionFleet; 2], m: &'a Script) -> Observation<'a> {
    Observation {
        now: SimTime::from_secs(t),
        weight_pct: 0.0,
        fleet: f,
        metrics: m,
    }
}

fn weights(cmds: &[Command]) -> Vec<f64> {
    cmds.iter()
        .filter_map(|c| if let Command::SetWeight(w) = c { Some(*w) } else { None })
        .collect()
}

fn scales(cmds: &[Command]) -> Vec<(Version, u32)> {
    cmds.iter()
        .filter_map(|c| {
            if let Command::Scale { version, replicas } = c {
                Some((*version, *replicas))
            } else {
                None
            }
        })
        .collect()
}

fn reports(cmds: &[Command]) -> Vec<Report> {
    cmds.iter()
        .filter_map(|c| {
            if let Command::Report(r) = c {
                Some(r.clone())
            } else {
                None
            }
        })
        .collect()
}

/// A controller that has started and set its initial weight at t = 0.
fn validating(m: &Script) -> CanaryController {
    let mut c = CanaryController::new(spec(), 20);
    c.start(&obs(0, fleet(20, 0, 0), m));
    c.observe(&obs(0, fleet(20, 2, 0), m));
    assert_eq!(c.phase(), Phase::Validating);
    c
}

#[test]
fn replica_count_follows_the_chapter() {
    assert_eq!(canary_replicas(20, 10.0), 2);
    assert_eq!(canary_replicas(20, 30.0), 6);
    assert_eq!(canary_replicas(20, 1.0), 1);
    assert_eq!(canary_replicas(3, 10.0), 1);
    assert_eq!(canary_replicas(3, 50.0), 2);
    assert_eq!(canary_replicas(20, 100.0), 20);
}

#[test]
fn start_provisions_canary_and_waits_for_it() {
    let m = healthy();
    let mut c = CanaryController::new(spec(), 20);
    assert_eq!(c.phase(), Phase::Preparing);
    let cmds = c.start(&obs(0, fleet(20, 0, 0), &m));
    assert_eq!(c.phase(), Phase::Deploying);
    assert_eq!(scales(&cmds), vec![(Version::New, 2)]);
    assert!(weights(&cmds).is_empty(), "no traffic before the canary is ready");
    assert!(
        cmds.contains(&Command::WakeAt(SimTime::from_secs(600))),
        "deadline wake"
    );
    // One of two ready: still waiting.
    let cmds = c.observe(&obs(5, fleet(20, 1, 0), &m));
    assert!(weights(&cmds).is_empty());
    let cmds = c.observe(&obs(7, fleet(20, 2, 0), &m));
    assert_eq!(weights(&cmds), vec![10.0]);
    assert_eq!(c.phase(), Phase::Validating);
    assert!(
        cmds.contains(&Command::WakeAt(SimTime::from_secs(17))),
        "first check one interval later"
    );
    assert!(
        cmds.contains(&Command::WakeAt(SimTime::from_secs(307))),
        "first increment"
    );
}

#[test]
fn passing_check_changes_nothing() {
    let m = healthy();
    let mut c = validating(&m);
    let cmds = c.observe(&obs(10, fleet(20, 2, 0), &m));
    let r = reports(&cmds);
    assert!(
        matches!(
            &r[..],
            [Report::Check {
                number: 1,
                verdict: Verdict::Pass,
                ..
            }]
        ),
        "{r:?}"
    );
    assert!(weights(&cmds).is_empty() && scales(&cmds).is_empty());
    assert_eq!(c.phase(), Phase::Validating);
}

#[test]
fn no_check_between_check_times() {
    let m = healthy();
    let mut c = validating(&m);
    let cmds = c.observe(&obs(5, fleet(20, 2, 0), &m));
    assert!(reports(&cmds).is_empty());
}

#[test]
fn failed_check_rolls_back_at_once() {
    let m = Script {
        windows: [window(2000, 2), window(250, 10)],
    };
    let mut c = validating(&m);
    let cmds = c.observe(&obs(10, fleet(20, 2, 0), &m));
    assert_eq!(c.phase(), Phase::RollingBack);
    assert_eq!(weights(&cmds), vec![0.0]);
    assert_eq!(scales(&cmds), vec![(Version::New, 0)]);
    let r = reports(&cmds);
    assert!(matches!(
        &r[0],
        Report::Check {
            verdict: Verdict::Fail(_),
            ..
        }
    ));
    let Report::RollbackTriggered { failures } = &r[1] else {
        panic!("{r:?}")
    };
    assert_eq!(failures[0].criterion, Criterion::ErrorRate);
    assert!((failures[0].observed - 4.0).abs() < 1e-12);
    assert_eq!(r[2], Report::Recovered, "stable is within criteria at once");
    assert_eq!(c.outcome(), None, "not final while canary instances are stopping");
    c.observe(&obs(10, fleet(20, 0, 2), &m));
    assert_eq!(c.phase(), Phase::RollingBack);
    c.observe(&obs(11, fleet(20, 0, 0), &m));
    assert_eq!(c.phase(), Phase::Failed);
    assert_eq!(c.outcome(), Some(Outcome::RolledBack));
}

#[test]
fn recovery_waits_for_stable_to_meet_criteria() {
    let mut m = Script {
        windows: [window(2000, 100), window(250, 10)],
    };
    let mut c = validating(&m);
    let cmds = c.observe(&obs(10, fleet(20, 2, 0), &m));
    assert!(!reports(&cmds).contains(&Report::Recovered), "stable itself is failing");
    assert!(cmds.contains(&Command::WakeAt(SimTime::from_secs(20))));
    c.observe(&obs(15, fleet(20, 0, 0), &m));
    assert_eq!(c.phase(), Phase::RollingBack, "not final before recovery");
    m.windows[0] = window(2000, 1);
    let cmds = c.observe(&obs(20, fleet(20, 0, 0), &m));
    assert_eq!(reports(&cmds), vec![Report::Recovered]);
    assert_eq!(c.phase(), Phase::Failed);
}

#[test]
fn too_few_requests_do_not_roll_back() {
    let m = Script {
        windows: [window(2000, 2), window(199, 50)],
    };
    let mut c = validating(&m);
    let cmds = c.observe(&obs(10, fleet(20, 2, 0), &m));
    assert!(matches!(
        &reports(&cmds)[..],
        [Report::Check {
            verdict: Verdict::Inconclusive(_),
            ..
        }]
    ));
    assert_eq!(c.phase(), Phase::Validating);
}

#[test]
fn weight_steps_wait_for_more_canary_instances() {
    let m = healthy();
    let mut c = validating(&m);
    let cmds = c.observe(&obs(300, fleet(20, 2, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 4)]);
    assert!(weights(&cmds).is_empty(), "20% needs 4 canary instances first");
    let cmds = c.observe(&obs(303, fleet(20, 4, 0), &m));
    assert_eq!(weights(&cmds), vec![20.0]);
    assert!(
        cmds.contains(&Command::WakeAt(SimTime::from_secs(603))),
        "interval restarts at the new weight"
    );
    assert_eq!(c.weight(), 20.0);
}

#[test]
fn reaching_100_promotes_and_replaces_stable() {
    let m = healthy();
    let mut c = validating(&m);
    let mut n_ready = 2;
    for step in 1..=8u64 {
        let t = 300 * step;
        c.observe(&obs(t, fleet(20, n_ready, 0), &m));
        n_ready = canary_replicas(20, 10.0 * (step + 1) as f64);
        c.observe(&obs(t, fleet(20, n_ready, 0), &m));
        assert_eq!(c.weight(), 10.0 * (step + 1) as f64);
    }
    let cmds = c.observe(&obs(2700, fleet(20, 18, 0), &m));
    assert_eq!(c.phase(), Phase::Promoting);
    assert_eq!(scales(&cmds), vec![(Version::New, 20)]);
    assert!(weights(&cmds).is_empty());
    let cmds = c.observe(&obs(2701, fleet(20, 20, 0), &m));
    assert_eq!(weights(&cmds), vec![100.0]);
    assert_eq!(scales(&cmds), vec![(Version::Stable, 0)]);
    assert_eq!(c.phase(), Phase::Promoting, "stable still stopping");
    let mut f = fleet(0, 20, 0);
    f[0].by_status[InstanceStatus::Stopped as usize] = 20;
    c.observe(&obs(2702, f, &m));
    assert_eq!(c.phase(), Phase::Completed);
    assert_eq!(c.outcome(), Some(Outcome::Promoted));
}

#[test]
fn initial_weight_of_100_goes_straight_to_promotion() {
    let m = healthy();
    let mut s = spec();
    s.initial_weight_pct = 100.0;
    let mut c = CanaryController::new(s, 5);
    let cmds = c.start(&obs(0, fleet(5, 0, 0), &m));
    assert_eq!(c.phase(), Phase::Promoting);
    assert_eq!(scales(&cmds), vec![(Version::New, 5)]);
}

#[test]
fn canary_not_ready_by_the_deadline_fails() {
    let m = healthy();
    let mut c = CanaryController::new(spec(), 20);
    c.start(&obs(0, fleet(20, 0, 0), &m));
    let cmds = c.observe(&obs(599, fleet(20, 1, 0), &m));
    assert!(cmds.is_empty());
    let cmds = c.observe(&obs(600, fleet(20, 1, 0), &m));
    assert_eq!(reports(&cmds), vec![Report::DeadlineExceeded { wanted: 2, ready: 1 }]);
    assert_eq!(weights(&cmds), vec![0.0]);
    assert_eq!(scales(&cmds), vec![(Version::New, 0)]);
    c.observe(&obs(601, fleet(20, 0, 0), &m));
    assert_eq!(c.phase(), Phase::Failed);
    assert_eq!(c.outcome(), Some(Outcome::Failed));
}

#[test]
fn final_phases_ignore_observations() {
    let m = Script {
        windows: [window(2000, 2), window(250, 10)],
    };
    let mut c = validating(&m);
    c.observe(&obs(10, fleet(20, 2, 0), &m));
    c.observe(&obs(11, fleet(20, 0, 0), &m));
    assert_eq!(c.phase(), Phase::Failed);
    assert!(c.observe(&obs(20, fleet(20, 0, 0), &m)).is_empty());
}
