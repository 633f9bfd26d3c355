//! The rolling controller driven by hand.

use super::rolling::RollingController;
use super::testkit::*;
use super::{Command, Controller, Outcome, Phase, Report, RollbackCause};
use crate::engine::SimDuration;
use crate::model::Version;
use crate::scenario::{RecoveryKind, RollingSpec};

fn spec(batch: u32, surge: u32, unavailable: u32) -> RollingSpec {
    RollingSpec {
        start_at: SimDuration::ZERO,
        batch_size: batch,
        batch_interval: SimDuration::from_secs(30),
        max_unavailable: unavailable,
        max_surge: surge,
        max_failure_ratio: 0.2,
        progress_deadline: SimDuration::from_secs(120),
    }
}

#[test]
fn first_batch_uses_surge_and_unavailability() {
    let m = healthy();
    let mut c = RollingController::new(spec(2, 1, 1), 10);
    let cmds = c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    assert_eq!(c.phase(), Phase::Deploying);
    assert_eq!(cmds[0], Command::RouteByInstance);
    // One old instance may go (unavailable 1), which makes room for two new
    // ones within 10 + surge 1.
    assert_eq!(scales(&cmds), vec![(Version::Stable, 9), (Version::New, 2)]);
}

#[test]
fn zero_unavailability_surges_first() {
    let m = healthy();
    let mut c = RollingController::new(spec(3, 1, 0), 10);
    let cmds = c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    assert_eq!(
        scales(&cmds),
        vec![(Version::New, 1)],
        "nothing may go until something new is ready"
    );
    let cmds = c.observe(&obs(20, mixed(10, 0, 0, 1, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 9), (Version::New, 2)]);
}

#[test]
fn batch_waits_its_interval_then_continues() {
    let m = healthy();
    let mut c = RollingController::new(spec(2, 1, 1), 10);
    c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    // Both new instances ready: the last old one of the batch may go, and
    // the batch is done.
    let cmds = c.observe(&obs(30, mixed(9, 0, 0, 2, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 8)]);
    assert!(reports(&cmds).contains(&Report::BatchDone { number: 1, failed: 0 }));
    assert!(cmds.contains(&Command::WakeAt(crate::engine::SimTime::from_secs(60))));
    assert!(
        scales(&c.observe(&obs(45, mixed(8, 0, 0, 2, 0), &m))).is_empty(),
        "between batches"
    );
    let cmds = c.observe(&obs(60, mixed(8, 0, 0, 2, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 7), (Version::New, 4)]);
}

#[test]
fn completes_when_every_instance_is_replaced() {
    let m = healthy();
    let mut c = RollingController::new(spec(10, 10, 0), 10);
    let cmds = c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 10)]);
    let cmds = c.observe(&obs(40, mixed(10, 0, 0, 10, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 0)]);
    assert_eq!(c.phase(), Phase::Promoting);
    c.observe(&obs(41, mixed(0, 10, 0, 10, 0), &m));
    assert_eq!(c.phase(), Phase::Promoting, "old instances still stopping");
    c.observe(&obs(46, mixed(0, 0, 0, 10, 0), &m));
    assert_eq!(c.phase(), Phase::Completed);
    assert_eq!(c.outcome(), Some(Outcome::Promoted));
}

#[test]
fn failures_under_the_ratio_continue_and_at_it_roll_back() {
    let m = healthy();
    let mut c = RollingController::new(spec(2, 2, 0), 10);
    c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    // Deadline of batch 1: one of two new instances never became ready.
    let cmds = c.observe(&obs(120, mixed(10, 0, 1, 1, 0), &m));
    assert!(reports(&cmds).contains(&Report::BatchDone { number: 1, failed: 1 }));
    assert_eq!(c.failed(), 1);
    assert_eq!(c.phase(), Phase::Deploying, "1 of 10 is under 20%");
    // Batch 2 starts at 150 and times out at 270 with two not ready.
    c.observe(&obs(150, mixed(9, 0, 1, 1, 0), &m));
    let cmds = c.observe(&obs(270, mixed(8, 0, 2, 2, 0), &m));
    let r = reports(&cmds);
    assert!(r.contains(&Report::RollbackTriggered {
        cause: RollbackCause::FailureRatio { failed: 2, total: 10 }
    }));
    let a = aborts(&cmds);
    assert_eq!(a[0].recovery, RecoveryKind::RollingRollback { batch_size: 2 });
    assert_eq!(a[0].outcome, Outcome::RolledBack);
    assert_eq!(c.phase(), Phase::RollingBack);
}

#[test]
fn a_last_batch_short_of_instances_still_completes() {
    // 10 instances, batch 10, no unavailability: one new instance never gets
    // ready. 1 of 10 is under the 20% limit, so the update goes on: at the
    // deadline the last old instance goes too, and the rollout completes.
    let m = healthy();
    let mut c = RollingController::new(spec(10, 10, 0), 10);
    c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    c.observe(&obs(60, mixed(10, 0, 1, 9, 0), &m));
    let cmds = c.observe(&obs(120, mixed(1, 9, 1, 9, 0), &m));
    assert!(reports(&cmds).contains(&Report::BatchDone { number: 1, failed: 1 }));
    assert!(scales(&cmds).contains(&(Version::Stable, 0)), "{cmds:?}");
    assert_eq!(c.phase(), Phase::Promoting);
    c.observe(&obs(125, mixed(0, 0, 1, 9, 0), &m));
    assert_eq!(c.phase(), Phase::Completed);
}

#[test]
fn with_no_batch_interval_the_next_batch_waits_for_a_fresh_observation() {
    // Surge 2, no unavailability. The observation that completes batch 1 also
    // counts the old instance it stops as available: the next batch must not
    // start on it (that would stop a second old one with 9 serving).
    let m = healthy();
    let mut s = spec(2, 2, 0);
    s.batch_interval = SimDuration::ZERO;
    let mut c = RollingController::new(s, 10);
    c.start(&obs(0, mixed(10, 0, 0, 0, 0), &m));
    let cmds = c.observe(&obs(30, mixed(10, 0, 0, 2, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::Stable, 8)]);
    assert!(reports(&cmds).contains(&Report::BatchDone { number: 1, failed: 0 }));
    assert!(cmds.contains(&Command::WakeAt(crate::engine::SimTime::from_secs(30))));
    // The fresh observation sees 8 old serving: the next batch adds new ones
    // within the surge and stops nothing yet.
    let cmds = c.observe(&obs(30, mixed(8, 2, 0, 2, 0), &m));
    assert_eq!(scales(&cmds), vec![(Version::New, 4)]);
}

#[test]
fn a_surge_near_u32_max_acts_as_an_unlimited_one() {
    // n + max_surge used to wrap in release builds (u32::MAX + 10 = 9):
    // the room for new instances shrank and a good update rolled back; a
    // debug build panicked instead. Saturating arithmetic gives the same
    // commands as any surge of the whole fleet, in both builds.
    let m = healthy();
    for surge in [u32::MAX, u32::MAX - 9, u32::MAX / 2 + 1] {
        let mut huge = RollingController::new(spec(10, surge, 0), 10);
        let mut whole = RollingController::new(spec(10, 10, 0), 10);
        let first = obs(0, mixed(10, 0, 0, 0, 0), &m);
        let expected = scales(&whole.start(&first));
        assert_eq!(expected, vec![(Version::New, 10)]);
        assert_eq!(scales(&huge.start(&first)), expected, "surge {surge}");
        let ready = obs(40, mixed(10, 0, 0, 10, 0), &m);
        assert_eq!(scales(&huge.observe(&ready)), vec![(Version::Stable, 0)]);
        huge.observe(&obs(46, mixed(0, 0, 0, 10, 0), &m));
        assert_eq!(huge.outcome(), Some(Outcome::Promoted), "surge {surge}");
    }
}
