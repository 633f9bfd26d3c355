//! The fleet's slots: gone instances are freed and their slots reused, a
//! freed instance's pending events are ignored, a scale-down picks the same
//! victims a full sort of the fleet would, and the games' per-slot state
//! starts clean for the next instance of a slot.

use super::*;
use crate::engine::EventQueue;

fn world(text: &str) -> World {
    let s = crate::scenario::parse(std::path::Path::new("t.toml"), text, "t").expect("valid");
    let mut w = World::new(&s, Streams::new(1, 0));
    w.start();
    w
}

/// Hands the world's scheduled events to `queue`.
fn drain(w: &mut World, queue: &mut EventQueue<WorldEvent>) {
    for (t, lane, ev) in w.take_scheduled() {
        queue.schedule(t, lane, ev);
    }
    w.take_changes();
}

#[test]
fn gone_instances_are_freed_and_their_slots_reused() {
    // Five instances, each crashing every 2 minutes on average and replaced
    // after a 10 s backoff: about 900 are created over 6 hours.
    let mut w = world(
        "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"6h\"\n[fleet]\ninstances = 5\n\
         [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 10\n[release]\nquality = \"good\"\n\
         [strategy]\nkind = \"none\"\n[[faults]]\nkind = \"instance_crashes\"\nmtbf = \"2m\"\n",
    );
    let mut queue = EventQueue::new();
    drain(&mut w, &mut queue);
    let mut most_slots = 0;
    while let Some((now, ev)) = queue.pop() {
        if now > w.max_duration {
            break;
        }
        w.handle(now, ev);
        drain(&mut w, &mut queue);
        assert_eq!(w.bookkeeping_problem(), None, "at {now}");
        most_slots = most_slots.max(w.instances.len());
    }
    let failed = w.fleet_view()[0].count(InstanceStatus::Failed);
    assert!(failed > 500, "{failed} crashes");
    assert_eq!(w.next_serial, u64::from(failed) + 5, "each crash replaced once");
    // Names keep counting: the newest instance is stable-<every one created>.
    let newest = w.instances().max_by_key(|i| i.id).expect("a fleet");
    assert_eq!(newest.name(), format!("stable-{}", w.next_serial));
    // Never more slots than instances counted against the desired size.
    assert!(most_slots <= 5, "{most_slots} slots");
    assert_eq!(w.freed_counts()[0].count(InstanceStatus::Failed), failed);
}

#[test]
fn a_freed_instance_s_pending_events_are_ignored() {
    let mut w = world(
        "[fleet]\ninstances = 1\n[traffic]\nrate_rps = 1\n[release]\nquality = \"good\"\n\
         [strategy]\nkind = \"none\"\n",
    );
    let old = w.routable(Version::Stable)[0];
    w.crash(SimTime::ZERO, old);
    w.free_retired();
    assert!(w.instance(old).is_none(), "freed at once: nothing refers to it");
    w.reconcile(SimTime::ZERO, Version::Stable);
    let new = w.instances().next().expect("a replacement").id;
    assert_eq!((new.0, new.1), (old.0, 1), "the slot is reused under a new number");
    // At each stage of the new instance, the old one's event for that stage
    // changes nothing, and the new one's moves it on.
    let t = SimTime::from_secs(1);
    let status = |w: &World| w.instances[0].status;
    w.handle(t, WorldEvent::Provisioned(old));
    assert_eq!(status(&w), InstanceStatus::Provisioning);
    w.handle(t, WorldEvent::Provisioned(new));
    w.handle(t, WorldEvent::Booted(old));
    assert_eq!(status(&w), InstanceStatus::Deploying);
    w.handle(t, WorldEvent::Booted(new));
    assert_eq!(status(&w), InstanceStatus::Running);
    let plan = w.probe_plans[0].plan;
    w.handle(t, WorldEvent::Probe { id: old, plan });
    assert_eq!(w.instances[0].probe_successes, 0, "a stale probe is not counted");
    w.handle(t, WorldEvent::Probe { id: new, plan });
    assert_eq!(w.instances[0].probe_successes, 1);
    w.scale(t, Version::Stable, 0);
    w.handle(t, WorldEvent::StopDone(old));
    assert_eq!(status(&w), InstanceStatus::Stopping);
    w.handle(t, WorldEvent::StopDone(new));
    assert!(w.instance(new).is_none(), "stopped, and freed");
    assert_eq!(w.bookkeeping_problem(), None);
}

#[test]
fn a_scale_down_stops_the_unroutable_then_the_newest() {
    let mut w = world(
        "[fleet]\ninstances = 6\n[traffic]\nrate_rps = 1\n[release]\nquality = \"good\"\n\
         [strategy]\nkind = \"none\"\n",
    );
    let ids: Vec<InstanceId> = w.routable(Version::Stable).to_vec();
    w.set_health(ids[1], HealthStatus::Unhealthy);
    w.set_health(ids[3], HealthStatus::Unhealthy);
    w.scale(SimTime::ZERO, Version::Stable, 8); // two more, provisioning
                                                // The rule as a sort of the whole fleet: unroutable first, newest first.
    let mut expected: Vec<InstanceId> = w
        .instances()
        .filter(|i| i.status.counts_toward_desired())
        .map(|i| i.id)
        .collect();
    expected.sort_by_key(|&id| (w.instances[id.0 as usize].is_routable(), std::cmp::Reverse(id)));
    expected.truncate(5);
    expected.sort();
    w.scale(SimTime::ZERO, Version::Stable, 3);
    let stopping = w.ids_in_order(|i| i.status == InstanceStatus::Stopping);
    assert_eq!(stopping, expected);
    let serials: Vec<u64> = stopping.iter().map(|id| id.1).collect();
    assert_eq!(serials, [1, 3, 5, 6, 7]);
    assert_eq!(w.bookkeeping_problem(), None);
}

#[test]
fn a_freed_slot_s_games_state_starts_clean() {
    use crate::model::games::GamePhase;
    let mut w = world(
        "[fleet]\ninstances = 2\n[traffic]\nrate_rps = 1\n[release]\nversion = \"v2\"\nquality = \"good\"\n\
         [gaming]\naware = true\n[strategy]\nkind = \"canary\"\n",
    );
    w.prepare_games(SimTime::ZERO);
    let (a, b) = (w.routable(Version::Stable)[0], w.routable(Version::Stable)[1]);
    let floor = w.floor.as_mut().expect("floor");
    floor.put_test_game(a, GamePhase::Rolling);
    // A draining instance waits for its rolling game, then crashes under it.
    w.set_status(a, InstanceStatus::Stopping);
    assert!(!w.stop_may_finish(SimTime::ZERO, a));
    w.crash(SimTime::ZERO, a);
    w.free_retired();
    assert!(w.instance(a).is_none(), "freed once its game was restored elsewhere");
    assert_eq!(w.floor.as_ref().expect("floor").games[0].instance, b);
    w.reconcile(SimTime::ZERO, Version::Stable);
    let fresh = w.instances().find(|i| i.id.0 == a.0).expect("slot reused").id;
    assert_ne!(fresh, a);
    let floor = w.floor.as_ref().expect("floor");
    assert!(!floor.awaiting_drain[fresh.0 as usize]);
    assert!(!floor.holds_games(fresh));
    assert_eq!(w.games_problem(), None);
    assert_eq!(w.bookkeeping_problem(), None);
}
