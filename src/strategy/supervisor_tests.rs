//! The supervisor (rollback triggers, post-deploy monitoring, recovery and
//! verification) around a stand-in strategy, driven by hand.

use super::testkit::*;
use super::{Command, Controller, Observation, Outcome, Phase, Report, RollbackCause, Supervisor};
use crate::engine::{SimDuration, SimTime};
use crate::model::Version;
use crate::scenario::{RecoveryKind, RollbackSpec, TriggerKind, TriggerScope, TriggerSpec};

/// A strategy that puts the new version at 50% and completes at `done_at`.
struct StandIn {
    done_at: SimTime,
    phase: Phase,
}

impl Controller for StandIn {
    fn name(&self) -> &'static str {
        "stand_in"
    }
    fn start_at(&self) -> SimTime {
        SimTime::ZERO
    }
    fn start(&mut self, _: &Observation) -> Vec<Command> {
        self.phase = Phase::Validating;
        vec![Command::SetWeight(50.0)]
    }
    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        if obs.now >= self.done_at {
            self.phase = Phase::Completed;
        }
        Vec::new()
    }
    fn phase(&self) -> Phase {
        self.phase
    }
    fn outcome(&self) -> Option<Outcome> {
        (self.phase == Phase::Completed).then_some(Outcome::Promoted)
    }
}

fn supervisor(triggers: Vec<TriggerKind>, done_at: u64) -> Supervisor {
    let spec = RollbackSpec {
        triggers: triggers
            .into_iter()
            .map(|kind| TriggerSpec {
                kind,
                scope: TriggerScope::Service,
                min_request_count: 1,
            })
            .collect(),
        evaluate_interval: SimDuration::from_secs(30),
        post_deploy_monitoring: SimDuration::from_secs(600),
        recovery: RecoveryKind::ImmediateSwitch,
        verification_window: SimDuration::from_secs(300),
        rollback_to: "v1".into(),
    };
    let strategy = StandIn {
        done_at: SimTime::from_secs(done_at),
        phase: Phase::Preparing,
    };
    Supervisor::new(Box::new(strategy), spec, 4, 5.0, SimDuration::from_secs(10))
}

fn error_rate(threshold_pct: f64) -> TriggerKind {
    TriggerKind::ErrorRate {
        threshold_pct,
        sustained_for: SimDuration::from_secs(60),
    }
}

#[test]
fn triggers_are_evaluated_every_interval_only() {
    let bad = Script {
        windows: [window(1000, 30), window(1000, 30)],
    };
    let mut s = supervisor(vec![error_rate(1.0)], 10_000);
    let cmds = s.start(&obs(0, mixed(4, 0, 0, 2, 0), &bad));
    assert!(cmds.contains(&Command::WakeAt(SimTime::from_secs(30))));
    assert!(
        reports(&s.observe(&obs(29, mixed(4, 0, 0, 2, 0), &bad))).is_empty(),
        "not due yet"
    );
    let cmds = s.observe(&obs(30, mixed(4, 0, 0, 2, 0), &bad));
    let r = reports(&cmds);
    let Report::RollbackTriggered {
        cause: RollbackCause::Trigger { name, observed, .. },
    } = &r[0]
    else {
        panic!("{r:?}")
    };
    assert_eq!(name, "error_rate");
    assert!((observed - 3.0).abs() < 1e-9, "service-wide: 60 errors in 2000");
    assert_eq!(weights(&cmds), vec![0.0], "immediate switch");
    assert_eq!(s.phase(), Phase::RollingBack);
    s.observe(&obs(31, mixed(4, 0, 0, 0, 0), &healthy()));
    assert_eq!(s.phase(), Phase::Failed);
    assert_eq!(s.outcome(), Some(Outcome::RolledBack));
}

#[test]
fn quiet_triggers_let_the_rollout_finish_after_monitoring() {
    let m = healthy();
    let mut s = supervisor(vec![error_rate(1.0)], 100);
    s.start(&obs(0, mixed(4, 0, 0, 2, 0), &m));
    let cmds = s.observe(&obs(100, mixed(0, 0, 0, 4, 0), &m));
    assert_eq!(s.phase(), Phase::Completed);
    assert!(
        cmds.contains(&Command::WakeAt(SimTime::from_secs(700))),
        "monitoring ends 600 s later"
    );
    assert!(!s.finished(), "post-deploy monitoring still on");
    s.observe(&obs(699, mixed(0, 0, 0, 4, 0), &m));
    assert!(!s.finished());
    s.observe(&obs(700, mixed(0, 0, 0, 4, 0), &m));
    assert!(s.finished());
    assert_eq!(s.outcome(), Some(Outcome::Promoted));
}

#[test]
fn post_deploy_monitoring_catches_a_late_failure() {
    let m = healthy();
    let bad = Script {
        windows: [window(0, 0), window(1000, 30)],
    };
    let mut s = supervisor(vec![error_rate(1.0)], 100);
    s.start(&obs(0, mixed(4, 0, 0, 2, 0), &m));
    s.observe(&obs(100, mixed(0, 0, 0, 4, 0), &m));
    assert_eq!(s.phase(), Phase::Completed);
    let cmds = s.observe(&obs(120, mixed(0, 0, 0, 4, 0), &bad));
    assert!(matches!(reports(&cmds)[0], Report::RollbackTriggered { .. }));
    assert_eq!(
        scales(&cmds),
        vec![(Version::Stable, 4)],
        "the old fleet is re-created first"
    );
    assert_eq!(s.phase(), Phase::RollingBack);
}

#[test]
fn manual_trigger_fires_at_its_time() {
    let m = healthy();
    let mut s = supervisor(
        vec![TriggerKind::Manual {
            at: SimDuration::from_secs(45),
        }],
        10_000,
    );
    let cmds = s.start(&obs(0, mixed(4, 0, 0, 2, 0), &m));
    assert!(cmds.contains(&Command::WakeAt(SimTime::from_secs(45))));
    assert!(reports(&s.observe(&obs(44, mixed(4, 0, 0, 2, 0), &m))).is_empty());
    let cmds = s.observe(&obs(45, mixed(4, 0, 0, 2, 0), &m));
    assert_eq!(
        reports(&cmds)[0],
        Report::RollbackTriggered {
            cause: RollbackCause::Trigger {
                name: "manual".into(),
                observed: 45.0,
                threshold: 45.0
            }
        }
    );
}

#[test]
fn verification_fails_when_the_service_stays_bad() {
    let bad_everywhere = Script {
        windows: [window(1000, 30), window(1000, 30)],
    };
    let mut s = supervisor(
        vec![TriggerKind::Manual {
            at: SimDuration::from_secs(10),
        }],
        10_000,
    );
    s.start(&obs(0, mixed(4, 0, 0, 2, 0), &bad_everywhere));
    s.observe(&obs(10, mixed(4, 0, 0, 2, 0), &bad_everywhere));
    for t in (20..310).step_by(10) {
        let cmds = s.observe(&obs(t, mixed(4, 0, 0, 0, 0), &bad_everywhere));
        assert!(
            !reports(&cmds)
                .iter()
                .any(|r| matches!(r, Report::RollbackVerified { .. })),
            "t = {t}"
        );
    }
    let cmds = s.observe(&obs(310, mixed(4, 0, 0, 0, 0), &bad_everywhere));
    assert!(reports(&cmds).contains(&Report::RollbackVerified { verified: false }));
}
