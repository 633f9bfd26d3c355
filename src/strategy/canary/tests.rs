//! The canary controller driven by hand: scripted fleets and metric windows,
//! no world.

use super::*;
use crate::analysis::{Criterion, Verdict};
use crate::engine::{SimDuration, SimTime};
use crate::model::{InstanceStatus, Version};
use crate::scenario::{
    shorthand_steps, AnalysisLength, CanaryScale, CanarySpec, CanaryStep, RecoveryKind, SuccessCriteria,
};
use crate::strategy::testkit::*;
use crate::strategy::{Abort, Command, Controller, Outcome, Phase, Report, RollbackCause};

fn spec() -> CanarySpec {
    CanarySpec {
        start_at: SimDuration::ZERO,
        steps: shorthand_steps(10.0, 10.0, SimDuration::from_secs(300)).unwrap(),
        manual_promotions: vec![],
        check_interval: SimDuration::from_secs(10),
        progress_deadline: SimDuration::from_secs(600),
        criteria: SuccessCriteria {
            max_error_rate_pct: Some(1.0),
            min_success_rate_pct: None,
            max_latency_p99: None,
            min_request_count: 200,
            evaluation_window: SimDuration::from_secs(60),
            games: None,
            judges: vec![],
        },
        analysis: vec![],
        criteria_checks: true,
    }
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
fn failed_check_aborts_with_an_immediate_switch() {
    let m = Script {
        windows: [window(2000, 2), window(250, 10)],
    };
    let mut c = validating(&m);
    let cmds = c.observe(&obs(10, fleet(20, 2, 0), &m));
    assert_eq!(c.phase(), Phase::RollingBack);
    let r = reports(&cmds);
    assert!(matches!(
        &r[0],
        Report::Check {
            verdict: Verdict::Fail(_),
            ..
        }
    ));
    let Report::RollbackTriggered {
        cause: RollbackCause::Criteria(failures),
    } = &r[1]
    else {
        panic!("{r:?}")
    };
    assert_eq!(failures[0].criterion, Criterion::ErrorRate);
    assert!((failures[0].observed - 4.0).abs() < 1e-12);
    assert_eq!(
        aborts(&cmds),
        vec![Abort {
            recovery: RecoveryKind::ImmediateSwitch,
            outcome: Outcome::RolledBack,
            error_threshold_pct: 1.0,
            window: SimDuration::from_secs(60),
        }]
    );
    assert!(weights(&cmds).is_empty(), "the supervisor carries out the switch");
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
        "the pause starts at the new weight"
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
fn no_steps_promotes_at_once() {
    let m = healthy();
    let mut s = spec();
    s.steps = vec![];
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
    assert_eq!(aborts(&cmds)[0].outcome, Outcome::Failed);
    assert_eq!(c.phase(), Phase::RollingBack);
}

#[test]
fn indefinite_pause_waits_for_the_next_manual_promotion() {
    let m = healthy();
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetWeight(20.0),
        CanaryStep::Pause(None),
        CanaryStep::SetWeight(50.0),
        CanaryStep::Pause(None),
    ];
    s.manual_promotions = vec![SimDuration::from_secs(100)];
    let mut c = CanaryController::new(s, 10);
    c.start(&obs(0, fleet(10, 0, 0), &m));
    let cmds = c.observe(&obs(0, fleet(10, 2, 0), &m));
    assert_eq!(weights(&cmds), vec![20.0]);
    assert!(reports(&cmds).contains(&Report::AwaitingPromotion));
    assert!(cmds.contains(&Command::WakeAt(SimTime::from_secs(100))));
    assert!(weights(&c.observe(&obs(99, fleet(10, 2, 0), &m))).is_empty());
    let cmds = c.observe(&obs(100, fleet(10, 2, 0), &m));
    assert!(reports(&cmds).contains(&Report::Promoted));
    assert_eq!(scales(&cmds), vec![(Version::New, 5)]);
    let cmds = c.observe(&obs(101, fleet(10, 5, 0), &m));
    assert_eq!(weights(&cmds), vec![50.0]);
    // No second promotion: it waits for good.
    assert!(weights(&c.observe(&obs(5000, fleet(10, 5, 0), &m))).is_empty());
    assert_eq!(c.phase(), Phase::Validating);
}

#[test]
fn analysis_step_waits_for_its_checks() {
    let m = healthy();
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetWeight(10.0),
        CanaryStep::Analysis(AnalysisLength::Checks(3)),
        CanaryStep::SetWeight(30.0),
    ];
    let mut c = CanaryController::new(s, 10);
    c.start(&obs(0, fleet(10, 0, 0), &m));
    c.observe(&obs(0, fleet(10, 1, 0), &m));
    assert_eq!(c.weight(), 10.0);
    c.observe(&obs(10, fleet(10, 1, 0), &m));
    c.observe(&obs(20, fleet(10, 1, 0), &m));
    assert_eq!(c.weight(), 10.0, "two checks of three");
    let cmds = c.observe(&obs(30, fleet(10, 1, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 3)], "third check passed: next step");
}

#[test]
fn set_canary_scale_decouples_instances_from_weight() {
    let m = healthy();
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetCanaryScale(CanaryScale::Replicas(4)),
        CanaryStep::SetWeight(10.0),
        CanaryStep::Pause(Some(SimDuration::from_secs(60))),
    ];
    let mut c = CanaryController::new(s, 20);
    let cmds = c.start(&obs(0, fleet(20, 0, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 4)]);
    let cmds = c.observe(&obs(1, fleet(20, 4, 0), &m));
    assert_eq!(weights(&cmds), vec![10.0], "4 instances take 10%");
    assert!(scales(&cmds).is_empty());
}

#[test]
fn lower_weight_moves_traffic_before_removing_instances() {
    let m = healthy();
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetWeight(50.0),
        CanaryStep::SetWeight(10.0),
        CanaryStep::Pause(Some(SimDuration::from_secs(60))),
    ];
    let mut c = CanaryController::new(s, 10);
    c.start(&obs(0, fleet(10, 0, 0), &m));
    let cmds = c.observe(&obs(1, fleet(10, 5, 0), &m));
    assert_eq!(weights(&cmds), vec![50.0, 10.0]);
    let pos_w = cmds.iter().position(|c| *c == Command::SetWeight(10.0)).unwrap();
    let pos_s = cmds
        .iter()
        .position(|c| matches!(c, Command::Scale { replicas: 1, .. }))
        .unwrap();
    assert!(pos_w < pos_s);
}

#[test]
fn an_empty_check_window_holds_the_step_until_a_check_can_judge() {
    // Scrapes lost: the new version's windows hold nothing.
    let empty = Script {
        windows: [window(2000, 2), window(0, 0)],
    };
    let mut c = validating(&empty);
    // Checks every 10 s; the first step's 300 s pass with no data at all.
    for t in (10..=300).step_by(10) {
        let cmds = c.observe(&obs(t, fleet(20, 2, 0), &empty));
        let inconclusive = cmds.iter().any(|cmd| {
            matches!(
                cmd,
                Command::Report(Report::Check {
                    verdict: Verdict::Inconclusive(_),
                    ..
                })
            )
        });
        assert!(inconclusive, "t = {t}: an empty window is inconclusive");
        assert!(weights(&cmds).is_empty(), "t = {t}: no data must not move the weight");
    }
    assert_eq!(c.weight(), 10.0);
    // Data comes back: the next check passes and the overdue step runs.
    let cmds = c.observe(&obs(310, fleet(20, 2, 0), &healthy()));
    assert_eq!(
        scales(&cmds),
        vec![(Version::New, 4)],
        "the 20% step asks for its instances"
    );
    assert_eq!(c.phase(), Phase::Validating);
}

#[test]
fn an_inconclusive_check_does_not_count_towards_a_checks_analysis() {
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetWeight(10.0),
        CanaryStep::Analysis(AnalysisLength::Checks(2)),
        CanaryStep::SetWeight(50.0),
    ];
    let m = healthy();
    let empty = Script {
        windows: [window(2000, 2), window(0, 0)],
    };
    let mut c = CanaryController::new(s, 20);
    c.start(&obs(0, fleet(20, 0, 0), &m));
    c.observe(&obs(0, fleet(20, 2, 0), &m));
    c.observe(&obs(10, fleet(20, 2, 0), &m));
    // One pass counted; an empty window does not count; the next pass does.
    let cmds = c.observe(&obs(20, fleet(20, 2, 0), &empty));
    assert!(scales(&cmds).is_empty());
    let cmds = c.observe(&obs(30, fleet(20, 2, 0), &m));
    assert_eq!(
        scales(&cmds),
        vec![(Version::New, 10)],
        "two passing checks end the analysis"
    );
}

#[test]
fn at_weight_zero_an_empty_window_does_not_hold_the_rollout() {
    // A canary deployed dark (weight 0) sees no requests by design.
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetCanaryScale(CanaryScale::Replicas(2)),
        CanaryStep::SetWeight(0.0),
        CanaryStep::Pause(Some(SimDuration::from_secs(60))),
        CanaryStep::SetWeight(50.0),
    ];
    let empty = Script {
        windows: [window(2000, 2), window(0, 0)],
    };
    let mut c = CanaryController::new(s, 20);
    c.start(&obs(0, fleet(20, 0, 0), &empty));
    c.observe(&obs(0, fleet(20, 2, 0), &empty));
    for t in (10..60).step_by(10) {
        c.observe(&obs(t, fleet(20, 2, 0), &empty));
    }
    let cmds = c.observe(&obs(60, fleet(20, 2, 0), &empty));
    assert_eq!(weights(&cmds), vec![50.0], "the pause ends and the canary gets 50%");
}

#[test]
fn a_weight_is_judged_before_it_is_raised_even_after_a_short_pause() {
    // A 5 s pause with checks every 10 s: at its end no check has judged
    // 10%, so 20% waits for the check at t = 10.
    let mut s = spec();
    s.steps = vec![
        CanaryStep::SetWeight(10.0),
        CanaryStep::Pause(Some(SimDuration::from_secs(5))),
        CanaryStep::SetWeight(20.0),
    ];
    let m = healthy();
    let mut c = CanaryController::new(s, 20);
    c.start(&obs(0, fleet(20, 0, 0), &m));
    c.observe(&obs(0, fleet(20, 2, 0), &m));
    let cmds = c.observe(&obs(5, fleet(20, 2, 0), &m));
    assert!(scales(&cmds).is_empty(), "10% has not been judged yet");
    let cmds = c.observe(&obs(10, fleet(20, 2, 0), &m));
    assert_eq!(
        scales(&cmds),
        vec![(Version::New, 4)],
        "judged at t = 10: 20% is asked for"
    );
}

#[test]
fn a_hold_that_lasts_the_progress_deadline_fails_the_rollout() {
    // Checks every 10 s see nothing; the first pause ends at t = 300 and the
    // hold begins; at t = 900 it has lasted progress_deadline (600 s).
    let empty = Script {
        windows: [window(2000, 2), window(0, 0)],
    };
    let mut c = validating(&empty);
    for t in (10..900).step_by(10) {
        c.observe(&obs(t, fleet(20, 2, 0), &empty));
        assert_eq!(c.phase(), Phase::Validating, "t = {t}");
    }
    let cmds = c.observe(&obs(900, fleet(20, 2, 0), &empty));
    assert!(reports(&cmds).contains(&Report::NoConclusiveCheck {
        since: SimTime::from_secs(300)
    }));
    assert_eq!(aborts(&cmds)[0].outcome, Outcome::Failed);
}
