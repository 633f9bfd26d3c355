//! The Flagger controller driven by hand: scripted fleets and metric
//! windows, no world.

use super::flagger::FlaggerController;
use crate::analysis::{Criterion, Verdict};
use crate::engine::SimDuration;
use crate::model::Version;
use crate::scenario::{FlaggerMetric, FlaggerMetricKind, FlaggerSpec, RecoveryKind};
use crate::strategy::testkit::*;
use crate::strategy::{Controller, Outcome, Phase, Report, RollbackCause};

fn spec(min_request_count: u64) -> FlaggerSpec {
    FlaggerSpec {
        start_at: SimDuration::ZERO,
        interval: SimDuration::from_secs(60),
        threshold: 3,
        weights: vec![10.0, 20.0, 30.0],
        metrics: vec![FlaggerMetric {
            kind: FlaggerMetricKind::RequestSuccessRate,
            bound: 99.0,
            interval: SimDuration::from_secs(60),
        }],
        min_request_count,
        progress_deadline: SimDuration::from_secs(600),
        judges: vec![],
    }
}

fn good() -> Script {
    Script {
        windows: [window(2000, 2), window(300, 0)],
    }
}

fn bad() -> Script {
    Script {
        windows: [window(2000, 2), window(300, 30)],
    }
}

fn silent() -> Script {
    let mut s = good();
    s.windows[1] = crate::model::WindowStats::empty(0);
    s
}

/// A controller whose full-size canary is ready at t = 0 (weight 10%).
fn validating() -> FlaggerController {
    let mut c = FlaggerController::new(spec(0), 10);
    let m = good();
    let cmds = c.start(&obs(0, fleet(10, 0, 0), &m));
    assert_eq!(
        scales(&cmds),
        vec![(Version::New, 10)],
        "Flagger scales the canary to full size"
    );
    assert!(weights(&cmds).is_empty());
    let cmds = c.observe(&obs(0, fleet(10, 10, 0), &m));
    assert_eq!(weights(&cmds), vec![10.0]);
    assert_eq!(c.phase(), Phase::Validating);
    c
}

#[test]
fn each_passing_check_moves_one_step_and_the_last_promotes() {
    let mut c = validating();
    let m = good();
    // No check before the interval has passed.
    assert!(reports(&c.observe(&obs(59, fleet(10, 10, 0), &m))).is_empty());
    assert_eq!(weights(&c.observe(&obs(60, fleet(10, 10, 0), &m))), vec![20.0]);
    assert_eq!(weights(&c.observe(&obs(120, fleet(10, 10, 0), &m))), vec![30.0]);
    let cmds = c.observe(&obs(180, fleet(10, 10, 0), &m));
    assert_eq!(weights(&cmds), vec![100.0]);
    assert_eq!(scales(&cmds), vec![(Version::Stable, 0)]);
    assert_eq!(c.phase(), Phase::Promoting);
    c.observe(&obs(185, fleet(0, 10, 0), &m));
    assert_eq!(c.outcome(), Some(Outcome::Promoted));
}

#[test]
fn failed_checks_add_up_across_passing_ones_and_hold_the_weight() {
    let mut c = validating();
    let (g, b) = (good(), bad());
    // fail, pass, fail, pass, fail: the third failure rolls back though no
    // two failures were consecutive (Flagger's threshold is cumulative).
    assert!(weights(&c.observe(&obs(60, fleet(10, 10, 0), &b))).is_empty());
    assert_eq!(c.failed_checks(), 1);
    assert_eq!(weights(&c.observe(&obs(120, fleet(10, 10, 0), &g))), vec![20.0]);
    c.observe(&obs(180, fleet(10, 10, 0), &b));
    assert_eq!(weights(&c.observe(&obs(240, fleet(10, 10, 0), &g))), vec![30.0]);
    assert_eq!(c.phase(), Phase::Validating);
    let cmds = c.observe(&obs(300, fleet(10, 10, 0), &b));
    assert_eq!(c.failed_checks(), 3);
    assert_eq!(c.phase(), Phase::RollingBack);
    let a = aborts(&cmds);
    assert_eq!(a[0].recovery, RecoveryKind::ImmediateSwitch);
    assert_eq!(a[0].outcome, Outcome::RolledBack);
    assert!((a[0].error_threshold_pct - 1.0).abs() < 1e-12, "the complement of 99%");
    assert!(reports(&cmds).iter().any(|r| matches!(
        r,
        Report::RollbackTriggered { cause: RollbackCause::Criteria(f) } if f[0].criterion == Criterion::SuccessRate
    )));
}

#[test]
fn no_data_is_a_failed_check_unless_a_minimum_makes_it_inconclusive() {
    let mut c = validating();
    let m = silent();
    for k in 1..=3 {
        c.observe(&obs(60 * k, fleet(10, 10, 0), &m));
    }
    assert_eq!(c.phase(), Phase::RollingBack, "three checks without data roll back");

    let mut c = FlaggerController::new(spec(100), 10);
    let g = good();
    c.start(&obs(0, fleet(10, 0, 0), &g));
    c.observe(&obs(0, fleet(10, 10, 0), &g));
    let thin = Script {
        windows: [window(2000, 2), window(50, 50)],
    };
    for k in 1..=10 {
        let cmds = c.observe(&obs(60 * k, fleet(10, 10, 0), &thin));
        assert!(weights(&cmds).is_empty(), "an inconclusive check holds the weight");
        assert!(matches!(
            &reports(&cmds)[..],
            [Report::Check { verdict: Verdict::Inconclusive(f), .. }] if f[0].criterion == Criterion::TooFewRequests
        ));
    }
    assert_eq!((c.failed_checks(), c.phase()), (0, Phase::Validating));
}

#[test]
fn a_canary_not_ready_by_the_deadline_fails() {
    let mut c = FlaggerController::new(spec(0), 10);
    let m = good();
    c.start(&obs(0, fleet(10, 0, 0), &m));
    c.observe(&obs(300, fleet(10, 9, 0), &m));
    assert_eq!(c.phase(), Phase::Deploying);
    let cmds = c.observe(&obs(600, fleet(10, 9, 0), &m));
    assert_eq!(c.outcome(), Some(Outcome::Failed));
    assert!(matches!(
        reports(&cmds)[0],
        Report::DeadlineExceeded { wanted: 10, ready: 9 }
    ));
}

#[test]
fn a_check_by_judges_alone_still_needs_data() {
    // No metrics, one binomial judge; the canary's window is empty (lost
    // scrapes): Flagger's rule makes that a failed check, not a pass.
    let mut s = spec(0);
    s.metrics.clear();
    s.judges = vec![crate::scenario::TriggerSpec {
        kind: crate::scenario::TriggerKind::Binomial {
            alpha: 0.01,
            window: SimDuration::from_secs(60),
        },
        scope: crate::scenario::TriggerScope::New,
        min_request_count: 1,
    }];
    let empty = Script {
        windows: [window(2000, 2), window(0, 0)],
    };
    let mut c = FlaggerController::new(s, 4);
    c.start(&obs(0, mixed(4, 0, 0, 4, 0), &empty));
    for t in [60, 120, 180] {
        let cmds = c.observe(&obs(t, mixed(4, 0, 0, 4, 0), &empty));
        assert!(weights(&cmds).is_empty(), "t = {t}: no data must not move the weight");
    }
    assert_eq!(c.failed_checks(), 3);
    assert_eq!(c.phase(), Phase::RollingBack, "threshold 3 reached");
}
