//! The recreate controller and the recovery state machine driven by hand.

use super::recovery::Recovery;
use super::recreate::RecreateController;
use super::testkit::*;
use super::{Command, Controller, Outcome, Phase, Report};
use crate::engine::{SimDuration, SimTime};
use crate::model::Version;
use crate::scenario::{RecoveryKind, RecreateSpec};

#[test]
fn recreate_stops_everything_before_starting_anything() {
    let m = healthy();
    let spec = RecreateSpec {
        start_at: SimDuration::ZERO,
        progress_deadline: SimDuration::from_secs(300),
    };
    let mut c = RecreateController::new(spec, 5);
    let cmds = c.start(&obs(0, mixed(5, 0, 0, 0, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 0)]);
    assert!(
        scales(&c.observe(&obs(3, mixed(0, 5, 0, 0, 0), &m))).is_empty(),
        "old still stopping"
    );
    let cmds = c.observe(&obs(5, mixed(0, 0, 0, 0, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 5)]);
    c.observe(&obs(30, mixed(0, 0, 0, 4, 0), &m));
    assert_eq!(c.phase(), Phase::Deploying);
    c.observe(&obs(35, mixed(0, 0, 0, 5, 0), &m));
    assert_eq!(c.outcome(), Some(Outcome::Promoted));
    // A new fleet that never gets ready fails at the deadline.
    let mut c = RecreateController::new(
        RecreateSpec {
            start_at: SimDuration::ZERO,
            progress_deadline: SimDuration::from_secs(300),
        },
        5,
    );
    c.start(&obs(0, mixed(0, 0, 0, 0, 0), &m));
    let cmds = c.observe(&obs(300, mixed(0, 0, 5, 0, 0), &m));
    assert_eq!(aborts(&cmds)[0].outcome, Outcome::Failed);
}

fn recovery(kind: RecoveryKind) -> Recovery {
    Recovery::new(
        kind,
        4,
        Outcome::RolledBack,
        1.0,
        SimDuration::from_secs(60),
        SimDuration::from_secs(10),
    )
}

#[test]
fn immediate_switch_with_the_old_fleet_present_is_instant() {
    let m = healthy();
    let mut r = recovery(RecoveryKind::ImmediateSwitch);
    let o = obs_w(100, 20.0, mixed(4, 0, 0, 1, 0), &m);
    let cmds = r.step(&o);
    assert_eq!(weights(&cmds), vec![0.0]);
    assert!(scales(&cmds).contains(&(Version::New, 0)));
    assert!(reports(&cmds).contains(&Report::Recovered));
    assert_eq!(r.switched_at(), Some(SimTime::from_secs(100)));
    assert!(!r.is_done(&o), "new instances not gone yet");
    assert!(r.is_done(&obs(101, mixed(4, 0, 0, 0, 0), &m)));
}

#[test]
fn immediate_switch_recreates_a_removed_fleet_first() {
    let m = healthy();
    let mut r = recovery(RecoveryKind::ImmediateSwitch);
    let cmds = r.step(&obs_w(100, 100.0, mixed(0, 0, 0, 4, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 4)]);
    assert!(weights(&cmds).is_empty(), "traffic stays until the old fleet is ready");
    let cmds = r.step(&obs_w(130, 100.0, mixed(4, 0, 0, 4, 0), &m));
    assert_eq!(weights(&cmds), vec![0.0]);
    assert_eq!(r.switched_at(), Some(SimTime::from_secs(130)));
}

#[test]
fn blue_green_switch_falls_back_when_blue_is_gone() {
    let m = healthy();
    let mut r = recovery(RecoveryKind::BlueGreenSwitch);
    let cmds = r.step(&obs_w(100, 100.0, mixed(0, 0, 0, 4, 0), &m));
    assert!(reports(&cmds).contains(&Report::RecoveryFallback {
        wanted: RecoveryKind::BlueGreenSwitch,
        used: RecoveryKind::ImmediateSwitch
    }));
}

#[test]
fn rolling_rollback_goes_batch_by_batch() {
    let m = healthy();
    let mut r = recovery(RecoveryKind::RollingRollback { batch_size: 2 });
    // Mid-rollout: 1 old and 3 new serving, one more new starting.
    let cmds = r.step(&obs_w(100, 75.0, mixed(1, 0, 1, 3, 0), &m));
    assert_eq!(cmds.iter().filter(|c| **c == Command::RouteByInstance).count(), 1);
    assert_eq!(
        scales(&cmds),
        vec![(Version::New, 3), (Version::Stable, 3)],
        "cancel the starting one; +2 old"
    );
    let cmds = r.step(&obs_w(130, 50.0, mixed(3, 0, 0, 3, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 1), (Version::Stable, 4)]);
    assert!(r.switched_at().is_none());
    let cmds = r.step(&obs_w(160, 20.0, mixed(4, 0, 0, 1, 0), &m));
    assert_eq!(weights(&cmds), vec![0.0]);
    assert!(scales(&cmds).contains(&(Version::New, 0)));
    assert_eq!(r.switched_at(), Some(SimTime::from_secs(160)));
}

#[test]
fn recovery_waits_for_the_old_version_to_be_healthy() {
    let mut m = Script {
        windows: [window(1000, 50), window(0, 0)],
    };
    let mut r = recovery(RecoveryKind::ImmediateSwitch);
    let cmds = r.step(&obs_w(100, 10.0, mixed(4, 0, 0, 0, 0), &m));
    assert!(!reports(&cmds).contains(&Report::Recovered), "stable at 5% errors");
    assert!(cmds.contains(&Command::WakeAt(SimTime::from_secs(110))));
    assert!(!r.is_done(&obs(105, mixed(4, 0, 0, 0, 0), &m)));
    m.windows[0] = window(1000, 5);
    let cmds = r.step(&obs_w(110, 0.0, mixed(4, 0, 0, 0, 0), &m));
    assert!(reports(&cmds).contains(&Report::Recovered));
    assert!(r.is_done(&obs(110, mixed(4, 0, 0, 0, 0), &m)));
}
