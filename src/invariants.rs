//! Invariant checkers. They live beside the model, not inside it: the model
//! does its work, and these read its state after every event (in tests, and
//! with `--check-invariants`) and stop the run when a rule is broken.

use crate::engine::SimTime;
use crate::model::{Version, World};
use std::fmt;

/// A broken rule of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// Simulated time of the event after which it was found.
    pub at: SimTime,
    /// The numbers that break it.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant `{}` violated at t={}: {}",
            self.invariant, self.at, self.detail
        )
    }
}

impl std::error::Error for Violation {}

/// Checks the model's rules after each event.
#[derive(Debug, Default)]
pub struct InvariantChecker {
    last: SimTime,
}

impl InvariantChecker {
    /// A checker whose clock starts at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks every invariant after an event at `now`.
    pub fn check(&mut self, now: SimTime, world: &World) -> Result<(), Violation> {
        let fail = |invariant, detail: String| {
            Err(Violation {
                invariant,
                at: now,
                detail,
            })
        };
        if now < self.last {
            return fail(
                "clock_monotonic",
                format!("time went back from {} to {}", self.last, now),
            );
        }
        self.last = now;

        let w = world.weight_pct();
        let stable_share = 100.0 - w;
        if !(0.0..=100.0).contains(&w) || (stable_share + w - 100.0).abs() > 1e-9 {
            return fail(
                "traffic_split_sums_to_100",
                format!("new {w}% + stable {stable_share}%"),
            );
        }

        let t = &world.totals;
        let accounted: u64 = t.routed.iter().sum::<u64>() + t.dropped.iter().sum::<u64>();
        if t.arrived != accounted {
            return fail(
                "requests_conserved",
                format!(
                    "arrived {} != routed {:?} + dropped {:?}",
                    t.arrived, t.routed, t.dropped
                ),
            );
        }
        for v in Version::ALL {
            let i = v.index();
            if t.failed[i] > t.routed[i] + t.dropped[i] || t.errors[i] > t.routed[i] {
                return fail(
                    "failures_within_requests",
                    format!(
                        "{}: failed {} errors {} routed {} dropped {}",
                        v.as_str(),
                        t.failed[i],
                        t.errors[i],
                        t.routed[i],
                        t.dropped[i]
                    ),
                );
            }
        }

        if let Some(problem) = world.capacity_problem() {
            return fail("capacity_respected", problem);
        }
        if let Some(problem) = world.bookkeeping_problem() {
            return fail("fleet_bookkeeping_matches_the_fleet", problem);
        }
        if t.routed_to_unroutable > 0 {
            return fail(
                "no_traffic_to_unroutable_instances",
                format!(
                    "{} requests reached an instance that was not Running and healthy",
                    t.routed_to_unroutable
                ),
            );
        }
        // The incremental counts and routing table match a full recount.
        let mut recount = [crate::strategy::VersionFleet::default(); 2];
        for inst in world.instances() {
            let c = &mut recount[inst.version.index()];
            c.by_status[inst.status as usize] += 1;
            c.routable += u32::from(inst.is_routable());
        }
        if recount != world.fleet_view() {
            return fail(
                "fleet_counts_current",
                format!("counted {recount:?}, kept {:?}", world.fleet_view()),
            );
        }
        for v in Version::ALL {
            for id in world.routable(v) {
                let inst = &world.instances()[id.0 as usize];
                if !inst.is_routable() || inst.version != v {
                    return fail(
                        "routing_table_current",
                        format!(
                            "{} is in the {} routing table but is {:?}/{:?}",
                            inst.name(),
                            v.as_str(),
                            inst.status,
                            inst.health
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}
