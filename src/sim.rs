//! The simulation loop: one trial of one scenario under one seed.
//!
//! It pops events in (time, lane, sequence) order, hands world events to the
//! world, wakes the controller, applies its commands, and feeds everything to
//! the recorder. With invariant checking on, the checker reads the world
//! after every event.

use crate::engine::{EventQueue, SimTime, Streams};
use crate::invariants::{InvariantChecker, Violation};
use crate::model::world::{lanes, WorldEvent};
use crate::model::World;
use crate::record::{Collect, EventSink, Recorder, RunSoFar, SimEvent, Summary, SummaryParts, TimelineRow};
use crate::scenario::{Scenario, StrategySpec};
use crate::strategy::{
    BlueGreenController, CanaryController, Command, Controller, FlaggerController, NoRollout, Observation, Phase,
    RecreateController, RollingController, Supervisor,
};
use std::collections::BTreeSet;

/// How a run is carried out.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Check every invariant after every event. On by default in debug
    /// builds (so every test run checks them), off in release builds unless
    /// asked for with `--check-invariants`.
    pub check_invariants: bool,
    /// Record events (to the sink, or into [`RunResult::events`]) and keep
    /// timeline rows (off for sweeps that need summaries only).
    pub keep_detail: bool,
    /// Trial index: selects the ChaCha streams under the seed.
    pub trial: u64,
    /// Also run the same seed with no rollout, for `excess_failed_requests`.
    pub counterfactual: bool,
    /// End the run here at the latest (the counterfactual ends where the
    /// rollout's run ended).
    pub end_at: Option<SimTime>,
    /// Draw latency histograms in aggregate mode even when no controller or
    /// trigger reads them (for `counters`, the timeline and check events).
    /// Sweeps turn it off: the histograms have their own random stream, so
    /// every other number stays the same, and a trial costs half as much.
    pub histograms: bool,
    /// Caps on wall time and memory (the swarm's and the fuzz target's):
    /// a run past one stops with a `resource_cap` violation. Never changes
    /// a result otherwise.
    pub guard: Option<crate::guard::RunGuard>,
}

/// How many events pass between two looks at the guard: the wall clock is
/// read rarely enough to cost nothing, often enough to stop within
/// milliseconds.
const GUARD_EVERY: u64 = 1024;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            check_invariants: cfg!(debug_assertions),
            keep_detail: true,
            trial: 0,
            counterfactual: true,
            end_at: None,
            histograms: true,
            guard: None,
        }
    }
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The one-row summary.
    pub summary: Summary,
    /// Every event in order (empty without `keep_detail`, and when the
    /// events went to a sink of the caller's: [`run_into`]).
    pub events: Vec<(SimTime, SimEvent)>,
    /// Timeline rows (empty without `keep_detail`).
    pub timeline: Vec<TimelineRow>,
    /// The final cumulative counters of each version (requests, errors and
    /// the whole run's latency histogram).
    pub counters: [crate::model::metrics::Counters; 2],
    /// The histogram's finite bucket bounds, seconds.
    pub bucket_bounds_s: Vec<f64>,
    /// Events the loop handled, the counterfactual's included: what
    /// `scenario::cost` bounds from above.
    pub events_handled: u64,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    World(WorldEvent),
    Start,
    Wake,
    Sample,
    End,
}

/// Builds the controller a scenario asks for: its strategy under the
/// rollback supervisor.
pub fn controller_for(scenario: &Scenario) -> Box<dyn Controller> {
    let n = scenario.fleet.instances;
    let strategy: Box<dyn Controller> = match &scenario.strategy {
        StrategySpec::None => return Box::new(NoRollout),
        StrategySpec::Canary(spec) => Box::new(CanaryController::new(spec.clone(), n)),
        StrategySpec::Rolling(spec) => Box::new(RollingController::new(spec.clone(), n)),
        StrategySpec::BlueGreen(spec) => Box::new(BlueGreenController::new(spec.clone(), n)),
        StrategySpec::Recreate(spec) => Box::new(RecreateController::new(spec.clone(), n)),
        StrategySpec::Flagger(spec) => Box::new(FlaggerController::new(spec.clone(), n)),
    };
    Box::new(Supervisor::new(
        strategy,
        scenario.rollback.clone(),
        n,
        scenario.fleet.cpu_ms_per_request,
        scenario.metrics.scrape_interval,
    ))
}

/// Runs `scenario` with `seed` and the strategy the scenario names, keeping
/// every event in memory (with `keep_detail`). For long runs use
/// [`run_into`], whose memory does not grow with the events.
pub fn run(scenario: &Scenario, seed: u64, opts: RunOptions) -> Result<RunResult, Violation> {
    let mut collect = Collect::default();
    let mut result = run_into(scenario, seed, opts, &mut collect)?;
    result.events = collect.events;
    Ok(result)
}

/// Runs `scenario` with `seed`, handing every event to `sink` as it happens
/// (with `keep_detail`; without it the sink hears nothing). The result's
/// `events` stay empty; its timeline rows are kept as with [`run`].
pub fn run_into(
    scenario: &Scenario,
    seed: u64,
    opts: RunOptions,
    sink: &mut dyn EventSink,
) -> Result<RunResult, Violation> {
    let mut result = run_loop(scenario, seed, controller_for(scenario), opts, Some(sink))?;
    if opts.counterfactual && !matches!(scenario.strategy, StrategySpec::None) {
        // The same seed with no rollout, over the same span: common random
        // numbers make the difference the rollout's own harm.
        let baseline = RunOptions {
            keep_detail: false,
            counterfactual: false,
            end_at: Some(result.summary.run_end),
            ..opts
        };
        let cf = run_loop(scenario, seed, Box::new(NoRollout), baseline, None)?;
        result.summary.counterfactual_failed = Some(cf.summary.failed_requests());
        result.events_handled += cf.events_handled;
    }
    Ok(result)
}

struct Loop<'a, 's> {
    scenario: &'a Scenario,
    queue: EventQueue<Event>,
    world: World,
    controller: Box<dyn Controller>,
    recorder: Recorder<'s>,
    wakes: BTreeSet<SimTime>,
    started: bool,
    phase: Phase,
    finished_at: Option<SimTime>,
    completed_at: Option<SimTime>,
    end_scheduled: bool,
}

/// Runs `scenario` with `seed` under a given controller (tests use scripted
/// controllers here).
pub fn run_with(
    scenario: &Scenario,
    seed: u64,
    controller: Box<dyn Controller>,
    opts: RunOptions,
) -> Result<RunResult, Violation> {
    let mut collect = Collect::default();
    let mut result = run_loop(scenario, seed, controller, opts, Some(&mut collect))?;
    result.events = collect.events;
    Ok(result)
}

fn run_loop(
    scenario: &Scenario,
    seed: u64,
    controller: Box<dyn Controller>,
    opts: RunOptions,
    sink: Option<&mut dyn EventSink>,
) -> Result<RunResult, Violation> {
    let mut world = World::new(scenario, Streams::new(seed, opts.trial));
    if !opts.histograms && !opts.keep_detail && !scenario.reads_latency() {
        world.skip_histograms();
    }
    world.start();
    let recorder = Recorder::new(opts.keep_detail, sink, &world);
    let phase = controller.phase();
    let mut lp = Loop {
        scenario,
        queue: EventQueue::new(),
        world,
        controller,
        recorder,
        wakes: BTreeSet::new(),
        started: false,
        phase,
        finished_at: None,
        completed_at: None,
        end_scheduled: false,
    };
    lp.drain_world(SimTime::ZERO);
    let start_at = lp.controller.start_at();
    let max_end = opts
        .end_at
        .unwrap_or(SimTime::MAX)
        .min(SimTime::ZERO + scenario.simulation.max_duration);
    lp.queue.schedule(start_at, lanes::CONTROLLER, Event::Start);
    let interval = scenario.sample_interval();
    // Without detail a sample records nothing; it matters only through the
    // aggregate-mode draw it settles. When every sample falls on a scrape
    // (which settles first, in an earlier lane) it changes nothing at all,
    // and is not scheduled.
    let scrape = scenario.metrics.scrape_interval.0.max(1);
    if opts.keep_detail || interval.0 % scrape != 0 {
        lp.queue.schedule(SimTime::ZERO, lanes::SAMPLE, Event::Sample);
    }
    lp.queue.schedule(max_end, lanes::END, Event::End);
    let mut checker = opts.check_invariants.then(|| InvariantChecker::for_scenario(scenario));

    let mut run_end = max_end;
    let mut events_handled = 0u64;
    while let Some((now, event)) = lp.queue.pop() {
        events_handled += 1;
        if events_handled % GUARD_EVERY == 0 {
            if let Some(exceeded) = opts.guard.as_ref().and_then(crate::guard::RunGuard::exceeded) {
                return Err(Violation {
                    invariant: "resource_cap",
                    at: now,
                    detail: exceeded.to_string(),
                });
            }
        }
        match event {
            Event::World(ev) => {
                lp.world.handle(now, ev);
                lp.drain_world(now);
                if lp.world.has_changes() {
                    lp.record_world_changes(now);
                    lp.notify_controller(now);
                }
            }
            Event::Start => {
                lp.started = true;
                // The counterfactual (no rollout) has no prepare step.
                if lp.controller.name() != "none" {
                    lp.world.prepare_games(now);
                }
                let strategy = lp.controller.name();
                lp.record(now, SimEvent::RolloutStarted { strategy });
                let obs_cmds = {
                    let fleet = lp.world.fleet_view();
                    let lens = lp.world.metrics_view();
                    let obs = Observation {
                        now,
                        weight_pct: lp.world.weight_pct(),
                        fleet,
                        metrics: &lens,
                    };
                    lp.controller.start(&obs)
                };
                lp.apply(now, obs_cmds);
            }
            Event::Wake => {
                lp.wakes.remove(&now);
                lp.notify_controller(now);
            }
            Event::Sample => {
                lp.world.settle(now);
                lp.recorder.sample(now, lp.phase, &lp.world);
                lp.queue.schedule(now + interval, lanes::SAMPLE, Event::Sample);
            }
            Event::End => {
                run_end = now;
                lp.world.finish_run(now);
                // Nothing happens after the end: every request is counted.
                let so_far = RunSoFar {
                    first_exposure: lp.world.totals.first_new_request,
                    exposure_known_before: SimTime::MAX,
                };
                lp.recorder.event(now, SimEvent::RunEnded, &so_far);
                break;
            }
        }
        if let Some(checker) = checker.as_mut() {
            if lp.recorder.recovered_at.is_some() {
                checker.recovered();
            }
            checker.check(now, &lp.world)?;
            checker.check_phase(now, lp.phase, &lp.world)?;
        }
    }

    let summary = SummaryParts {
        scenario,
        seed,
        strategy: lp.controller.name(),
        outcome: lp
            .controller
            .outcome()
            // Still running when the run ended: a rollback under way still
            // counts as one; anything else did not finish.
            .or_else(|| {
                (lp.started && scenario.strategy.kind() != "none").then_some(if lp.recorder.triggered_at.is_some() {
                    crate::strategy::Outcome::RolledBack
                } else {
                    crate::strategy::Outcome::Failed
                })
            }),
        final_phase: lp.phase,
        rollout_started: start_at,
        finished_at: lp.finished_at,
        completed_at: lp.completed_at,
        run_end,
    }
    .build(&lp.recorder, &lp.world);
    if opts.check_invariants {
        crate::invariants::check_summary(&summary)?;
    }
    Ok(RunResult {
        summary,
        events: Vec::new(),
        timeline: lp.recorder.timeline,
        counters: [
            lp.world.metrics.live(crate::model::Version::Stable).clone(),
            lp.world.metrics.live(crate::model::Version::New).clone(),
        ],
        bucket_bounds_s: lp.world.metrics.bounds_s().to_vec(),
        events_handled,
    })
}

impl Loop<'_, '_> {
    /// Hands `event` to the recorder with what is known of the run by now.
    fn record(&mut self, now: SimTime, event: SimEvent) {
        let so_far = if self.recorder.has_sink() {
            RunSoFar {
                first_exposure: self.world.totals.first_new_request,
                exposure_known_before: self.world.requests_counted_before(now),
            }
        } else {
            RunSoFar {
                first_exposure: None,
                exposure_known_before: now,
            }
        };
        self.recorder.event(now, event, &so_far);
    }

    fn drain_world(&mut self, _now: SimTime) {
        for (t, lane, ev) in self.world.take_scheduled() {
            self.queue.schedule(t, lane, Event::World(ev));
        }
    }

    fn record_world_changes(&mut self, now: SimTime) {
        for change in self.world.take_changes() {
            self.record(now, SimEvent::World(change));
        }
    }

    fn notify_controller(&mut self, now: SimTime) {
        if !self.started || self.controller.finished() {
            return;
        }
        let fleet = self.world.fleet_view();
        let lens = self.world.metrics_view();
        let obs = Observation {
            now,
            weight_pct: self.world.weight_pct(),
            fleet,
            metrics: &lens,
        };
        let cmds = self.controller.observe(&obs);
        self.apply(now, cmds);
    }

    fn apply(&mut self, now: SimTime, commands: Vec<Command>) {
        // The phase change is recorded after the reports that explain it and
        // before the world changes that carry it out.
        for cmd in commands {
            if matches!(
                cmd,
                Command::Scale { .. } | Command::SetWeight(_) | Command::RouteByInstance
            ) {
                self.note_phase(now);
            }
            match cmd {
                Command::Scale { version, replicas } => self.world.scale(now, version, replicas),
                Command::SetWeight(w) => self.world.set_weight(now, w),
                Command::RouteByInstance => self.world.route_by_instance(now),
                // The supervisor turns every abort into recovery commands.
                Command::Abort(_) => debug_assert!(false, "an abort reached the world"),
                Command::WakeAt(at) => {
                    if at >= now && self.wakes.insert(at) {
                        self.queue.schedule(at, lanes::CONTROLLER, Event::Wake);
                    }
                }
                Command::Report(report) => {
                    if matches!(report, crate::strategy::Report::RecoveryStarted { .. }) {
                        self.world.note_recovery_started();
                    }
                    // World changes made by earlier commands come first.
                    self.record_world_changes(now);
                    self.record(now, SimEvent::Controller(report));
                }
            }
        }
        self.note_phase(now);
        self.record_world_changes(now);
        self.drain_world(now);
    }

    fn note_phase(&mut self, now: SimTime) {
        let phase = self.controller.phase();
        if phase != self.phase {
            let from = self.phase;
            self.record(now, SimEvent::Phase { from, to: phase });
            self.phase = phase;
            if phase.is_terminal() && self.finished_at.is_none() {
                self.finished_at = Some(now);
            }
            if phase == Phase::Completed && self.completed_at.is_none() {
                self.completed_at = Some(now);
            }
        }
        if !self.end_scheduled && self.started && self.controller.finished() {
            self.end_scheduled = true;
            let end =
                (now + self.scenario.simulation.cooldown).min(SimTime::ZERO + self.scenario.simulation.max_duration);
            self.queue.schedule(end, lanes::END, Event::End);
        }
    }
}
