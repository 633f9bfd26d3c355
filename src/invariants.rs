//! Invariant checkers. They live beside the model, not inside it: the model
//! does its work, and these read its state after every event (in tests, and
//! with `--check-invariants`) and stop the run when a rule is broken.

use crate::engine::SimTime;
use crate::model::instance::{HealthStatus, InstanceStatus};
use crate::model::{Version, World};
use crate::record::Summary;
use crate::scenario::{Scenario, StrategySpec};
use crate::strategy::Phase;
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

/// A rolling update's limits: fleet size, surge and unavailability.
#[derive(Clone, Copy, Debug)]
struct RollingLimits {
    fleet: u32,
    max_surge: u32,
    max_unavailable: u32,
}

/// Checks the model's rules after each event.
#[derive(Debug, Default)]
pub struct InvariantChecker {
    last: SimTime,
    rolling: Option<RollingLimits>,
    recovered: bool,
}

impl InvariantChecker {
    /// A checker whose clock starts at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A checker that also knows the scenario's strategy limits.
    pub fn for_scenario(scenario: &Scenario) -> Self {
        let rolling = match &scenario.strategy {
            StrategySpec::Rolling(r) => Some(RollingLimits {
                fleet: scenario.fleet.instances,
                max_surge: r.max_surge,
                max_unavailable: r.max_unavailable,
            }),
            _ => None,
        };
        InvariantChecker {
            rolling,
            ..Self::default()
        }
    }

    /// Notes that a rollback's recovery finished: from now on all traffic
    /// must stay on stable.
    pub fn recovered(&mut self) {
        self.recovered = true;
    }

    /// Checks the rules that depend on the controller's phase: a rolling
    /// update within its surge and unavailability limits while it rolls
    /// forward (instances that failed or went unhealthy on their own are
    /// not the strategy's doing), and all traffic on stable after a
    /// recovery.
    pub fn check_phase(&self, now: SimTime, phase: Phase, world: &World) -> Result<(), Violation> {
        let fail = |invariant, detail: String| {
            Err(Violation {
                invariant,
                at: now,
                detail,
            })
        };
        if self.recovered && world.weight_pct() != 0.0 {
            return fail(
                "all_traffic_on_stable_after_rollback",
                format!("{}% of traffic on the new version after recovery", world.weight_pct()),
            );
        }
        let Some(limits) = self.rolling else { return Ok(()) };
        if phase != Phase::Deploying {
            return Ok(());
        }
        // Failed instances count whether or not they have been freed.
        let freed_failed: u32 = world
            .freed_counts()
            .iter()
            .map(|f| f.count(InstanceStatus::Failed))
            .sum();
        let (mut live, mut serving, mut failed_on_their_own) = (0u32, 0u32, freed_failed);
        for inst in world.instances() {
            live += u32::from(matches!(
                inst.status,
                InstanceStatus::Provisioning | InstanceStatus::Deploying | InstanceStatus::Running
            ));
            serving += u32::from(inst.is_routable());
            failed_on_their_own += u32::from(
                inst.status == InstanceStatus::Failed
                    || (inst.status == InstanceStatus::Running && inst.health == HealthStatus::Unhealthy),
            );
        }
        if live > limits.fleet.saturating_add(limits.max_surge) {
            return fail(
                "rolling_within_max_surge",
                format!(
                    "{live} instances for a fleet of {} with max_surge {}",
                    limits.fleet, limits.max_surge
                ),
            );
        }
        if serving
            .saturating_add(limits.max_unavailable)
            .saturating_add(failed_on_their_own)
            < limits.fleet
        {
            return fail(
                "rolling_within_max_unavailable",
                format!(
                    "{serving} instances serving for a fleet of {} with max_unavailable {} \
                     ({failed_on_their_own} failed on their own)",
                    limits.fleet, limits.max_unavailable
                ),
            );
        }
        Ok(())
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

        if let Some(problem) = world.games_problem() {
            return fail("games_kept_safe", problem);
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
        // The incremental counts and routing table match a recount of the
        // instances not yet freed plus the counts of those freed (a recount
        // of the present ones only, so checking stays as cheap as the fleet).
        let mut recount = world.freed_counts();
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
            for &id in world.routable(v) {
                let Some(inst) = world.instance(id) else {
                    return fail(
                        "routing_table_current",
                        format!("freed instance {id:?} is in the {} routing table", v.as_str()),
                    );
                };
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

/// Checks that a run's summary agrees with itself: blast radius within
/// exposure within all requests, a TTD exactly when a trigger fired, a TTR
/// only after a TTD, availability a percentage.
pub fn check_summary(s: &Summary) -> Result<(), Violation> {
    let fail = |detail: String| {
        Err(Violation {
            invariant: "summary_consistent",
            at: s.run_end,
            detail,
        })
    };
    let (blast, exposed, total) = (s.blast_radius_requests(), s.exposed_requests(), s.requests_total());
    if blast > exposed || exposed > total {
        return fail(format!(
            "blast radius {blast} <= exposed {exposed} <= requests {total} does not hold"
        ));
    }
    if s.failed_requests() > total {
        return fail(format!("{} failed of {total} requests", s.failed_requests()));
    }
    if s.rollback_performed != s.triggered_at.is_some() || s.rollback_performed != s.trigger.is_some() {
        return fail(format!(
            "rollback_performed {} but triggered_at {:?}, trigger {:?}",
            s.rollback_performed, s.triggered_at, s.trigger
        ));
    }
    if s.ttd().is_some() != s.triggered_at.is_some() {
        return fail(format!("ttd {:?} but triggered_at {:?}", s.ttd(), s.triggered_at));
    }
    if s.ttr().is_some() && s.ttd().is_none() {
        return fail(format!("ttr {:?} without a ttd", s.ttr()));
    }
    if let Some(a) = s.availability_pct() {
        if !(0.0..=100.0).contains(&a) {
            return fail(format!("availability {a}%"));
        }
    }
    Ok(())
}
