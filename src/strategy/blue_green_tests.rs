//! The blue-green controller driven by hand.

use super::blue_green::BlueGreenController;
use super::testkit::*;
use super::{Controller, Outcome, Phase, Report, RollbackCause};
use crate::engine::{SimDuration, SimTime};
use crate::model::Version;
use crate::scenario::{BlueGreenSpec, RecoveryKind};

fn spec(auto_promote: bool) -> BlueGreenSpec {
    BlueGreenSpec {
        start_at: SimDuration::ZERO,
        validation_duration: SimDuration::from_secs(60),
        validation_traffic_pct: 5.0,
        validation_max_error_rate_pct: 5.0,
        validation_max_p99: SimDuration::from_secs(2),
        validation_min_request_count: 50,
        check_interval: SimDuration::from_secs(10),
        switch_stages_pct: vec![10.0, 50.0, 100.0],
        stage_duration: SimDuration::from_secs(30),
        scale_down_delay: SimDuration::from_secs(30),
        auto_promote,
        manual_promotions: vec![SimDuration::from_secs(500)],
        progress_deadline: SimDuration::from_secs(600),
        games: None,
        judges: vec![],
    }
}

/// A controller whose green fleet of 4 became ready at t = 0.
fn validating(m: &Script, auto_promote: bool) -> BlueGreenController {
    let mut c = BlueGreenController::new(spec(auto_promote), 4);
    let cmds = c.start(&obs(0, mixed(4, 0, 0, 0, 0), m));
    assert_eq!(scales(&cmds), vec![(Version::New, 4)], "a green fleet the size of blue");
    let cmds = c.observe(&obs(0, mixed(4, 0, 0, 4, 0), m));
    assert_eq!(weights(&cmds), vec![5.0], "validation traffic");
    assert_eq!(c.phase(), Phase::Validating);
    c
}

#[test]
fn validates_then_switches_in_stages_then_removes_blue() {
    let m = healthy();
    let mut c = validating(&m, true);
    for t in [10, 20, 30, 40, 50] {
        c.observe(&obs(t, mixed(4, 0, 0, 4, 0), &m));
    }
    let cmds = c.observe(&obs(60, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(
        weights(&cmds),
        vec![0.0, 10.0],
        "back to blue after validation, then the first stage"
    );
    assert!(reports(&cmds).contains(&Report::StagePassed {
        what: "validation".into()
    }));
    assert_eq!(c.phase(), Phase::Promoting);
    assert_eq!(weights(&c.observe(&obs(90, mixed(4, 0, 0, 4, 0), &m))), vec![50.0]);
    assert_eq!(weights(&c.observe(&obs(120, mixed(4, 0, 0, 4, 0), &m))), vec![100.0]);
    assert!(
        scales(&c.observe(&obs(150, mixed(4, 0, 0, 4, 0), &m))).is_empty(),
        "blue kept for the delay"
    );
    let cmds = c.observe(&obs(180, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 0)]);
    c.observe(&obs(185, mixed(0, 0, 0, 4, 0), &m));
    assert_eq!(c.phase(), Phase::Completed);
    assert_eq!(c.outcome(), Some(Outcome::Promoted));
}

#[test]
fn failed_validation_switches_back_to_blue() {
    let m = Script {
        windows: [window(1000, 1), window(60, 6)],
    };
    let mut c = validating(&m, true);
    let cmds = c.observe(&obs(10, mixed(4, 0, 0, 4, 0), &m));
    let r = reports(&cmds);
    assert!(
        matches!(
            &r[1],
            Report::RollbackTriggered {
                cause: RollbackCause::Validation(_)
            }
        ),
        "{r:?}"
    );
    let a = aborts(&cmds);
    assert_eq!(a[0].recovery, RecoveryKind::BlueGreenSwitch);
    assert_eq!(a[0].outcome, Outcome::RolledBack);
}

#[test]
fn unhealthy_green_at_a_stage_switches_back() {
    let m = healthy();
    let mut c = validating(&m, true);
    c.observe(&obs(60, mixed(4, 0, 0, 4, 0), &m));
    let cmds = c.observe(&obs(90, mixed(4, 0, 0, 3, 0), &m));
    assert!(reports(&cmds).contains(&Report::RollbackTriggered {
        cause: RollbackCause::GreenUnhealthy { routable: 3, wanted: 4 }
    }));
    assert_eq!(aborts(&cmds)[0].recovery, RecoveryKind::BlueGreenSwitch);
}

#[test]
fn without_auto_promotion_it_waits_for_the_operator() {
    let m = healthy();
    let mut c = validating(&m, false);
    let cmds = c.observe(&obs(60, mixed(4, 0, 0, 4, 0), &m));
    assert!(reports(&cmds).contains(&Report::AwaitingPromotion));
    assert_eq!(weights(&cmds), vec![0.0]);
    assert!(cmds.contains(&super::Command::WakeAt(SimTime::from_secs(500))));
    assert!(weights(&c.observe(&obs(400, mixed(4, 0, 0, 4, 0), &m))).is_empty());
    let cmds = c.observe(&obs(500, mixed(4, 0, 0, 4, 0), &m));
    assert!(reports(&cmds).contains(&Report::Promoted));
    assert_eq!(weights(&cmds), vec![10.0]);
}

#[test]
fn without_a_promotion_it_fails_at_the_deadline() {
    let m = healthy();
    let mut s = spec(false);
    s.manual_promotions.clear();
    let mut c = BlueGreenController::new(s, 4);
    c.start(&obs(0, mixed(4, 0, 0, 0, 0), &m));
    c.observe(&obs(0, mixed(4, 0, 0, 4, 0), &m));
    c.observe(&obs(60, mixed(4, 0, 0, 4, 0), &m));
    assert!(aborts(&c.observe(&obs(659, mixed(4, 0, 0, 4, 0), &m))).is_empty());
    let cmds = c.observe(&obs(660, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(aborts(&cmds)[0].outcome, Outcome::Failed);
}

#[test]
fn green_not_ready_by_the_deadline_fails() {
    let m = healthy();
    let mut c = BlueGreenController::new(spec(true), 4);
    c.start(&obs(0, mixed(4, 0, 0, 0, 0), &m));
    let cmds = c.observe(&obs(600, mixed(4, 0, 1, 3, 0), &m));
    assert!(reports(&cmds).contains(&Report::DeadlineExceeded { wanted: 4, ready: 3 }));
    assert_eq!(aborts(&cmds)[0].outcome, Outcome::Failed);
}

#[test]
fn validation_goes_on_while_its_checks_see_no_requests() {
    let m = healthy();
    let empty = Script {
        windows: [window(1000, 1), window(0, 0)],
    };
    let mut c = validating(&m, true);
    for t in [10, 20, 30, 40, 50] {
        c.observe(&obs(t, mixed(4, 0, 0, 4, 0), &m));
    }
    // The check at the end of validation sees nothing: no switch.
    let cmds = c.observe(&obs(60, mixed(4, 0, 0, 4, 0), &empty));
    assert!(weights(&cmds).is_empty(), "no data must not pass validation");
    assert_eq!(c.phase(), Phase::Validating);
    let cmds = c.observe(&obs(70, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(
        weights(&cmds),
        vec![0.0, 10.0],
        "the next check that judges ends validation"
    );
}

#[test]
fn validation_shorter_than_a_check_waits_for_one() {
    // Validation of 0 s: green is not switched to before a check judged it.
    let m = healthy();
    let mut s = spec(true);
    s.validation_duration = SimDuration::ZERO;
    let mut c = BlueGreenController::new(s, 4);
    c.start(&obs(0, mixed(4, 0, 0, 0, 0), &m));
    let cmds = c.observe(&obs(0, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(weights(&cmds), vec![5.0], "validation traffic only");
    let cmds = c.observe(&obs(10, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(weights(&cmds), vec![0.0, 10.0], "the first check judged green");
}

#[test]
fn a_validation_no_check_can_judge_fails_after_the_progress_deadline() {
    let empty = Script {
        windows: [window(1000, 1), window(0, 0)],
    };
    let mut c = validating(&empty, true);
    // Validation ends at 60 s; the deadline is 600 s past it.
    for t in (10..660).step_by(10) {
        c.observe(&obs(t, mixed(4, 0, 0, 4, 0), &empty));
        assert_eq!(c.phase(), Phase::Validating, "t = {t}");
    }
    let cmds = c.observe(&obs(660, mixed(4, 0, 0, 4, 0), &empty));
    assert!(reports(&cmds).contains(&Report::NoConclusiveCheck {
        since: SimTime::from_secs(60)
    }));
    assert_eq!(aborts(&cmds)[0].outcome, Outcome::Failed);
}
