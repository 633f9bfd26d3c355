//! The recorder: what happened in a run, as data. Formatting into CSV or
//! prose is the report module's job; nothing here makes text.

use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::{histogram_quantile, Counters};
use crate::model::queue_stats::{QueueFigures, QueueStats};
use crate::model::world::{TrafficTotals, WorldChange};
use crate::model::{Version, World};
use crate::scenario::RecoveryKind;
use crate::scenario::{Quality, Scenario};
use crate::strategy::{Outcome, Phase, Report, RollbackCause, VersionFleet};

/// One thing that happened, at one instant.
#[derive(Clone, Debug, PartialEq)]
pub enum SimEvent {
    /// The rollout began.
    RolloutStarted {
        /// Strategy name.
        strategy: &'static str,
    },
    /// The controller's phase changed.
    Phase {
        /// Old phase.
        from: Phase,
        /// New phase.
        to: Phase,
    },
    /// The world changed.
    World(WorldChange),
    /// The controller reported something.
    Controller(Report),
    /// The simulated run ended.
    RunEnded,
}

/// One row of the timeline: the state at `t` and the traffic since the
/// previous row.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    /// Sample time.
    pub t: SimTime,
    /// Controller phase.
    pub phase: Phase,
    /// New version's traffic share, percent.
    pub weight_pct: f64,
    /// Instance counts per version.
    pub fleet: [VersionFleet; 2],
    /// Requests completed since the previous row, per version.
    pub requests: [u64; 2],
    /// Errors since the previous row, per version.
    pub errors: [u64; 2],
    /// p99 latency since the previous row, seconds, per version.
    pub p99_s: [Option<f64>; 2],
    /// With `[capacity]`: what the queues did since the previous row, per
    /// version (`None` without `[capacity]` or without requests).
    pub queue: [Option<QueueFigures>; 2],
    /// Faults on at `t`, joined by `+`.
    pub active_faults: String,
}

/// The one-row result of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Strategy name.
    pub strategy: &'static str,
    /// Good or bad release.
    pub release: Quality,
    /// Seed of the run.
    pub seed: u64,
    /// Request or aggregate.
    pub fidelity: &'static str,
    /// How the rollout ended; `None` for the no-rollout strategy.
    pub outcome: Option<Outcome>,
    /// Phase when the run ended.
    pub final_phase: Phase,
    /// Whether a rollback trigger fired.
    pub rollback_performed: bool,
    /// Why the rollback started.
    pub trigger: Option<RollbackCause>,
    /// The recovery used.
    pub recovery: Option<RecoveryKind>,
    /// The chapter's rollback verification, when a rollback happened.
    pub rollback_verified: Option<bool>,
    /// When the rollout started.
    pub rollout_started: SimTime,
    /// First request sent to the new version.
    pub first_exposure: Option<SimTime>,
    /// When a trigger fired.
    pub triggered_at: Option<SimTime>,
    /// When recovery was confirmed.
    pub recovered_at: Option<SimTime>,
    /// When the rollout reached a final phase.
    pub finished_at: Option<SimTime>,
    /// When the rollout reached Completed (even if rolled back later).
    pub completed_at: Option<SimTime>,
    /// End of the simulated run.
    pub run_end: SimTime,
    /// Success-criteria checks run.
    pub checks: u32,
    /// Ground-truth traffic counts.
    pub totals: TrafficTotals,
    /// Failed requests of the same seed with no rollout, over the same span.
    pub counterfactual_failed: Option<u64>,
    /// Distinct sessions that saw a failure from the new version (with
    /// sessions).
    pub blast_radius_users: Option<u64>,
    /// With `[capacity]`: what the queues of each version did over the run
    /// (`None` without `[capacity]` or for a version without requests).
    pub queue: [Option<QueueFigures>; 2],
    /// What happened to the games (with `[gaming]`).
    pub gaming: Option<GamingOutcome>,
}

/// The games of a run, for the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GamingOutcome {
    /// Whole-run totals.
    pub totals: crate::model::games::GamingTotals,
    /// After a rollback: the games that were on the new version when it
    /// began, and how many of them it brought through.
    pub recovery: Option<(u64, u64)>,
}

impl Summary {
    /// Time to detect: from the first request to the new version to the
    /// trigger; from the rollout start when the trigger came before any such
    /// request (the harm then began with the rollout itself, e.g. an outage).
    pub fn ttd(&self) -> Option<SimDuration> {
        let t = self.triggered_at?;
        let from = self.first_exposure.filter(|&f| f <= t).unwrap_or(self.rollout_started);
        Some(t - from)
    }

    /// Time to recover: trigger to confirmed recovery.
    pub fn ttr(&self) -> Option<SimDuration> {
        Some(self.recovered_at? - self.triggered_at?)
    }

    /// Whether the rollback started after the rollout had completed (caught
    /// by post-deploy monitoring).
    pub fn rolled_back_after_completion(&self) -> bool {
        matches!((self.triggered_at, self.completed_at), (Some(t), Some(c)) if t >= c)
    }

    /// Rollout start to final phase.
    pub fn deploy_duration(&self) -> Option<SimDuration> {
        self.finished_at.map(|t| t - self.rollout_started)
    }

    /// Every request that arrived.
    pub fn requests_total(&self) -> u64 {
        self.totals.arrived
    }

    /// Failed requests of both versions.
    pub fn failed_requests(&self) -> u64 {
        self.totals.failed.iter().sum()
    }

    /// Requests sent to the new version.
    pub fn exposed_requests(&self) -> u64 {
        let n = Version::New.index();
        self.totals.routed[n] + self.totals.dropped[n]
    }

    /// Requests sent to the new version that failed.
    pub fn blast_radius_requests(&self) -> u64 {
        self.totals.failed[Version::New.index()]
    }

    /// Failed requests minus those of the same seed with no rollout: the
    /// harm the rollout itself caused, downtime and lost capacity included.
    pub fn excess_failed_requests(&self) -> Option<i64> {
        self.counterfactual_failed
            .map(|cf| self.failed_requests() as i64 - cf as i64)
    }

    /// Share of requests that did not fail, percent; `None` with no traffic.
    pub fn availability_pct(&self) -> Option<f64> {
        let total = self.requests_total();
        (total > 0).then(|| 100.0 * (total - self.failed_requests()) as f64 / total as f64)
    }
}

/// What is known about the run's exposure when an event is handed to a
/// sink: the narrator's "time to detect" needs the first request to the new
/// version, which is known as the run goes (not only in the summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSoFar {
    /// The first request to the new version, if one has been counted.
    pub first_exposure: Option<SimTime>,
    /// Requests before this instant have all been counted (aggregate mode
    /// counts the traffic of a stretch when it is drawn, a little later).
    pub exposure_known_before: SimTime,
}

impl RunSoFar {
    /// The first request to the new version at or before `t`: `None` while
    /// that is not yet known, `Some(None)` when no request reached it by `t`.
    pub fn first_exposure_by(&self, t: SimTime) -> Option<Option<SimTime>> {
        match self.first_exposure {
            Some(f) if f <= t => Some(Some(f)),
            // The first request came later: none by `t`.
            Some(_) => Some(None),
            None if t < self.exposure_known_before => Some(None),
            None => None,
        }
    }
}

/// Where a run's events go, in order, as they happen: an `events.csv`
/// writer, the narrated trace, a collector for tests. The run never reads
/// back from a sink, and memory does not grow with the events a sink drops.
pub trait EventSink {
    /// One event at `t`; `so_far` is what is known of the run by now.
    fn event(&mut self, t: SimTime, event: &SimEvent, so_far: &RunSoFar);
}

/// Keeps every event in memory (small runs, tests, `RunResult::events`).
#[derive(Clone, Debug, Default)]
pub struct Collect {
    /// Every event, in the order it happened.
    pub events: Vec<(SimTime, SimEvent)>,
}

impl EventSink for Collect {
    fn event(&mut self, t: SimTime, event: &SimEvent, _so_far: &RunSoFar) {
        self.events.push((t, event.clone()));
    }
}

/// Collects the facts of the summary and the timeline rows during a run,
/// and hands every event to the sink (when detail is kept).
pub struct Recorder<'s> {
    keep_detail: bool,
    sink: Option<&'s mut dyn EventSink>,
    /// Timeline rows (bounded by validation: at most 1,000,000 samples).
    pub timeline: Vec<TimelineRow>,
    last_counters: [Counters; 2],
    /// With `[capacity]`: the queue records at the previous row.
    last_queue: Option<[QueueStats; 2]>,
    /// When a trigger fired.
    pub triggered_at: Option<SimTime>,
    /// Why the rollback started.
    pub trigger: Option<RollbackCause>,
    /// The recovery used.
    pub recovery: Option<RecoveryKind>,
    /// Verification result.
    pub rollback_verified: Option<bool>,
    /// When recovery was confirmed.
    pub recovered_at: Option<SimTime>,
    /// Checks run.
    pub checks: u32,
}

impl<'s> Recorder<'s> {
    /// A recorder; events go to `sink` and timeline rows are kept when
    /// `keep_detail` is on; otherwise only summary facts are kept (for sweeps
    /// of many trials).
    pub fn new(keep_detail: bool, sink: Option<&'s mut dyn EventSink>, world: &World) -> Self {
        Recorder {
            keep_detail,
            sink: sink.filter(|_| keep_detail),
            timeline: Vec::new(),
            last_counters: [
                world.metrics.live(Version::Stable).clone(),
                world.metrics.live(Version::New).clone(),
            ],
            last_queue: queue_records(world),
            triggered_at: None,
            trigger: None,
            recovery: None,
            rollback_verified: None,
            recovered_at: None,
            checks: 0,
        }
    }

    /// Records an event.
    pub fn event(&mut self, t: SimTime, event: SimEvent, so_far: &RunSoFar) {
        if let SimEvent::Controller(report) = &event {
            match report {
                Report::RollbackTriggered { cause } if self.triggered_at.is_none() => {
                    self.triggered_at = Some(t);
                    self.trigger = Some(cause.clone());
                }
                Report::Recovered => {
                    self.recovered_at.get_or_insert(t);
                }
                Report::Check { .. } => self.checks += 1,
                Report::RecoveryStarted { kind } => {
                    self.recovery.get_or_insert(*kind);
                }
                Report::RollbackVerified { verified } => {
                    self.rollback_verified.get_or_insert(*verified);
                }
                _ => {}
            }
        }
        if let Some(sink) = self.sink.as_mut() {
            sink.event(t, &event, so_far);
        }
    }

    /// Whether events are handed to a sink (else recording one needs no
    /// [`RunSoFar`]).
    pub fn has_sink(&self) -> bool {
        self.sink.is_some()
    }

    /// Adds a timeline row for the state at `t`.
    pub fn sample(&mut self, t: SimTime, phase: Phase, world: &World) {
        if !self.keep_detail {
            return;
        }
        let mut requests = [0; 2];
        let mut errors = [0; 2];
        let mut p99_s = [None; 2];
        for v in Version::ALL {
            let live = world.metrics.live(v);
            let d = live.since(&self.last_counters[v.index()]);
            requests[v.index()] = d.requests;
            errors[v.index()] = d.errors;
            p99_s[v.index()] = histogram_quantile(0.99, world.metrics.bounds_s(), &d.buckets);
            self.last_counters[v.index()] = live.clone();
        }
        let mut queue = [None; 2];
        if let (Some(last), Some(now)) = (self.last_queue.as_mut(), queue_records(world)) {
            for v in Version::ALL {
                queue[v.index()] = now[v.index()].since(&last[v.index()]).figures();
            }
            *last = now;
        }
        self.timeline.push(TimelineRow {
            t,
            phase,
            weight_pct: world.weight_pct(),
            fleet: world.fleet_view(),
            requests,
            errors,
            p99_s,
            queue,
            active_faults: world.active_faults(),
        });
    }
}

/// Both versions' queue records, with `[capacity]`.
fn queue_records(world: &World) -> Option<[QueueStats; 2]> {
    let [stable, new] = Version::ALL.map(|v| world.queue_stats(v).cloned());
    Some([stable?, new?])
}

/// Builds the summary at the end of a run.
pub(crate) struct SummaryParts<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
    pub strategy: &'static str,
    pub outcome: Option<Outcome>,
    pub final_phase: Phase,
    pub rollout_started: SimTime,
    pub finished_at: Option<SimTime>,
    pub completed_at: Option<SimTime>,
    pub run_end: SimTime,
}

impl SummaryParts<'_> {
    pub(crate) fn build(self, recorder: &Recorder<'_>, world: &World) -> Summary {
        Summary {
            scenario: self.scenario.name.clone(),
            strategy: self.strategy,
            release: self.scenario.release.quality,
            seed: self.seed,
            fidelity: self.scenario.fidelity.as_str(),
            outcome: self.outcome,
            final_phase: self.final_phase,
            rollback_performed: recorder.triggered_at.is_some(),
            trigger: recorder.trigger.clone(),
            recovery: recorder.recovery,
            rollback_verified: recorder.rollback_verified,
            rollout_started: self.rollout_started,
            first_exposure: world.totals.first_new_request,
            triggered_at: recorder.triggered_at,
            recovered_at: recorder.recovered_at,
            finished_at: self.finished_at,
            completed_at: self.completed_at,
            run_end: self.run_end,
            checks: recorder.checks,
            totals: world.totals.clone(),
            counterfactual_failed: None,
            blast_radius_users: world.blast_radius_users(),
            queue: Version::ALL.map(|v| world.queue_stats(v).and_then(QueueStats::figures)),
            gaming: world.games().map(|floor| GamingOutcome {
                totals: floor.totals,
                recovery: floor.recovery(|id| world.instance(id).is_some_and(|i| i.version == Version::Stable)),
            }),
        }
    }
}
