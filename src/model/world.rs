//! The world: fleet, load balancer, traffic and metrics, driven by events.
//!
//! The world never reads the event queue or the controller. It handles one
//! event at a time, applies commands, and leaves two things for the
//! simulation loop to collect: the events it wants scheduled and the changes
//! it made (for the recorder and for waking the controller).

#[path = "world_games.rs"]
mod games;

use super::balancer::BalancerPolicy;
use super::dist::LatencyDist;
use super::health::{apply_probe, ProbeState, Thresholds};
use super::instance::{HealthStatus, Instance, InstanceId, InstanceStatus, Version};
use super::metrics::{Gauges, MetricsStore};
use crate::engine::{SimDuration, SimTime, Streams};
use crate::scenario::{Fidelity, Scenario, VersionSpec};
use crate::strategy::VersionFleet;
use rand::{Rng, RngExt};
use rand_distr::{Binomial, Distribution, Exp, Poisson, StandardNormal};

/// Event lanes: at one instant, traffic and fleet events come first, then the
/// scrape, then the controller, then timeline samples, then the end.
pub mod lanes {
    /// Arrivals, completions, ticks, instance transitions, probes.
    pub const WORLD: u8 = 0;
    /// Metric scrapes.
    pub const SCRAPE: u8 = 1;
    /// Controller start and wakes.
    pub const CONTROLLER: u8 = 2;
    /// Timeline samples.
    pub const SAMPLE: u8 = 3;
    /// End of the run.
    pub const END: u8 = 4;
}

/// Events the world handles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorldEvent {
    /// A request arrives (request mode).
    Arrival,
    /// A request completes and is counted (request mode).
    Completion {
        /// Version that served it.
        version: Version,
        /// Instance that served it.
        instance: InstanceId,
        /// Latency bucket index.
        bucket: u16,
        /// Whether it was an error.
        error: bool,
    },
    /// The request at the head of an instance's queue may have waited too
    /// long (request mode with a capacity model).
    QueueTimeout {
        /// The instance.
        instance: InstanceId,
        /// The request the check is for; a stale check is ignored.
        seq: u64,
    },
    /// One aggregate-mode tick of traffic ends.
    Tick,
    /// Metrics are scraped.
    Scrape,
    /// An instance's machine exists.
    Provisioned(InstanceId),
    /// An instance's process has started (or failed to).
    Booted(InstanceId),
    /// An instance has finished stopping.
    StopDone(InstanceId),
    /// A health probe of an instance.
    Probe {
        /// The instance.
        id: InstanceId,
        /// The instance's probe plan it belongs to; a replanned instance's
        /// older probe is ignored.
        plan: u32,
    },
    /// The fleet of a version is brought back to its desired size (after a
    /// crash-loop backoff).
    Reconcile(Version),
    /// An occurrence of fault `i` begins.
    FaultOn(usize),
    /// An occurrence of fault `i` ends.
    FaultOff(usize),
    /// A new game begins (with `[gaming]`).
    GameArrival,
    /// A game's phase ends.
    GamePhaseEnd {
        /// The game.
        game: u32,
        /// The game's phase epoch when this was scheduled; a stale one is
        /// ignored.
        epoch: u32,
    },
    /// A draining instance's drain timeout.
    DrainTimeout(InstanceId),
    /// An instance crashes, because of fault `fault` (ignored unless the
    /// same occurrence of that fault is still on).
    Crash {
        /// The instance.
        id: InstanceId,
        /// The fault.
        fault: usize,
        /// Which occurrence of it planned the crash.
        occurrence: u32,
    },
}

/// A change in the world worth recording.
#[derive(Clone, Debug, PartialEq)]
pub enum WorldChange {
    /// An instance changed lifecycle status.
    Status {
        /// The instance.
        id: InstanceId,
        /// Its version.
        version: Version,
        /// Its 1-based number within the version.
        ordinal: u32,
        /// Old status.
        from: InstanceStatus,
        /// New status.
        to: InstanceStatus,
    },
    /// An instance changed health status.
    Health {
        /// The instance.
        id: InstanceId,
        /// Its version.
        version: Version,
        /// Its 1-based number within the version.
        ordinal: u32,
        /// Old status.
        from: HealthStatus,
        /// New status.
        to: HealthStatus,
    },
    /// The traffic split changed.
    Weight {
        /// Old new-version share, percent.
        from: f64,
        /// New share, percent.
        to: f64,
    },
    /// Routing switched to follow instance counts.
    RoutedByInstance,
    /// A fault started or ended.
    Fault {
        /// Its kind's name.
        name: &'static str,
        /// Started (true) or ended.
        started: bool,
    },
    /// Something happened to a game that the trace should show.
    Game(GameChange),
    /// The desired instance count of a version changed.
    Scaled {
        /// Which version.
        version: Version,
        /// Old desired count.
        from: u32,
        /// New desired count.
        to: u32,
    },
}

/// What happened to games when instances came and went (arrivals, phases
/// and completions are counted, not traced).
#[derive(Clone, Debug, PartialEq)]
pub enum GameChange {
    /// The gaming-aware prepare step: games backed up, bets escrowed.
    Prepared {
        /// Live games backed up.
        games: u64,
        /// Open bets put in escrow.
        open_bets: u64,
    },
    /// A game kept on a stopping instance until it is safe to move.
    Held {
        /// The game.
        game: u32,
        /// Its instance's version.
        version: Version,
        /// Its instance's ordinal.
        ordinal: u32,
        /// Its phase.
        phase: super::games::GamePhase,
        /// Why it stays.
        handling: super::games::Handling,
    },
    /// A game moved between instances while nothing was at stake.
    Migrated {
        /// The game.
        game: u32,
        /// From (version, ordinal).
        from: (Version, u32),
        /// To (version, ordinal).
        to: (Version, u32),
        /// Its phase when moved.
        phase: super::games::GamePhase,
    },
    /// A game whose instance was lost, restored from its backup.
    Restored {
        /// The game.
        game: u32,
        /// Where it was restored (version, ordinal).
        to: (Version, u32),
        /// Open bets returned from the escrow.
        bets_reconciled: u64,
    },
    /// A game that went with its instance.
    Lost {
        /// The game.
        game: u32,
        /// Its instance's version.
        version: Version,
        /// Its instance's ordinal.
        ordinal: u32,
        /// Players cut off.
        players: u32,
        /// Open bets lost (or reconciled, when it had a backup but nowhere
        /// to be restored).
        bets: u64,
        /// Whether it had a backup.
        backed_up: bool,
    },
    /// A draining instance hit the drain timeout with games on it.
    DrainTimedOut {
        /// Its version.
        version: Version,
        /// Its ordinal.
        ordinal: u32,
        /// Games still on it.
        games: u32,
    },
    /// A draining instance's last game left; it finished stopping.
    Drained {
        /// Its version.
        version: Version,
        /// Its ordinal.
        ordinal: u32,
    },
}

/// How the load balancer splits traffic between the versions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Routing {
    /// A traffic router (mesh, weighted target groups): this percentage goes
    /// to the new version whatever its instance count.
    Weighted(f64),
    /// No router: every routable instance of either version takes an equal
    /// share, so the split follows the instance counts (Kubernetes Service).
    ByInstance,
}

/// A request waiting in an instance's queue.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Queued {
    seq: u64,
    arrival: SimTime,
    version: Version,
    service_s: f64,
    error: bool,
    session: Option<u64>,
}

/// Where one instance's health probes stand. Probes of a Healthy instance
/// change nothing until one fails, so the world draws how many succeed first
/// (a geometric count) and jumps to the failing one, instead of handling
/// every success: a large fleet's probes then cost almost nothing.
#[derive(Clone, Copy, Debug, Default)]
struct ProbePlan {
    /// A time at which one of its regular probes falls.
    anchor: SimTime,
    /// Bumped when the plan is redrawn; stale probe events are ignored.
    plan: u32,
    /// Whether the planned probe is the failing one the skip drew.
    fails: bool,
}

/// The load on one instance.
#[derive(Clone, Debug, Default)]
struct Load {
    /// Requests in service (capacity model only).
    busy: u32,
    /// Requests waiting, oldest first (capacity model only).
    queue: std::collections::VecDeque<Queued>,
    /// Requests sent to it and not yet completed.
    outstanding: u32,
}

/// Ground-truth request counts (what happened, not what was scraped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrafficTotals {
    /// Requests that arrived.
    pub arrived: u64,
    /// Requests that reached an instance, per version.
    pub routed: [u64; 2],
    /// Requests sent to a version with no routable instance, per version.
    pub dropped: [u64; 2],
    /// Error responses from instances, per version.
    pub errors: [u64; 2],
    /// Failed requests (error, over the latency SLO, or dropped), per version.
    pub failed: [u64; 2],
    /// The first request sent to the new version.
    pub first_new_request: Option<SimTime>,
    /// Requests routed to an instance that was not routable: always zero
    /// unless the model is broken (checked by the invariant checker).
    pub routed_to_unroutable: u64,
    /// Requests that timed out in a queue, per version.
    pub timed_out: [u64; 2],
}

/// The metrics as controllers see them while metrics-pipeline faults are
/// on: queries lag by the scrape delay, and error counts carry noise. The
/// noise is a pure function of the query (its time and version), so a
/// replay sees the same numbers.
pub struct MetricsLens<'a> {
    store: &'a MetricsStore,
    delay: SimDuration,
    noise: f64,
}

impl MetricsLens<'_> {
    fn noisy(&self, mut w: crate::model::WindowStats, end: SimTime, salt: u64) -> crate::model::WindowStats {
        if self.noise > 0.0 && w.requests > 0 {
            let u = super::sessions::unit_hash(end.0 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let z = super::dist::normal_quantile(u.clamp(1e-12, 1.0 - 1e-12));
            let errors = (w.errors as f64 * (1.0 + self.noise * z)).round();
            w.errors = errors.clamp(0.0, w.requests as f64) as u64;
        }
        w
    }
}

impl crate::strategy::MetricsView for MetricsLens<'_> {
    fn window(&self, version: Version, end: SimTime, window: SimDuration) -> crate::model::WindowStats {
        let end = end.saturating_sub(self.delay);
        self.noisy(self.store.window(version, end, window), end, version as u64 + 1)
    }
    fn window_service(&self, end: SimTime, window: SimDuration) -> crate::model::WindowStats {
        let end = end.saturating_sub(self.delay);
        self.noisy(self.store.window_service(end, window), end, 3)
    }
    fn gauges(&self, version: Version, t: SimTime) -> super::metrics::Gauges {
        self.store.gauges(version, t.saturating_sub(self.delay))
    }
    fn bounds_s(&self) -> &[f64] {
        self.store.bounds_s()
    }
}

/// Latency bucket probabilities of one version, split at the latency SLO so
/// aggregate mode can draw slow requests and their buckets consistently.
#[derive(Clone, Debug)]
struct BucketModel {
    p_slow: f64,
    fast: Vec<f64>,
    slow: Vec<f64>,
}

impl BucketModel {
    fn new(latency: &LatencyDist, bounds_s: &[f64], slo_s: Option<f64>) -> Self {
        Self::from_cdf(|x| latency.cdf(x), bounds_s, slo_s)
    }

    fn from_cdf(latency_cdf: impl Fn(f64) -> f64, bounds_s: &[f64], slo_s: Option<f64>) -> Self {
        let slo = slo_s.unwrap_or(f64::INFINITY);
        let cdf = |x: f64| if x.is_infinite() { 1.0 } else { latency_cdf(x) };
        let n = bounds_s.len() + 1;
        let edge = |i: usize| {
            if i == 0 {
                0.0
            } else if i > bounds_s.len() {
                f64::INFINITY
            } else {
                bounds_s[i - 1]
            }
        };
        // Each distinct point is evaluated once (with `[capacity]` the CDF
        // is a convolution, worth not repeating).
        let at_edge: Vec<f64> = (0..=n).map(|i| cdf(edge(i))).collect();
        let p_fast_total = cdf(slo);
        let below_slo = |i: usize| if edge(i) <= slo { at_edge[i] } else { p_fast_total };
        let above_slo = |i: usize| if edge(i) >= slo { at_edge[i] } else { p_fast_total };
        let p_slow = 1.0 - p_fast_total;
        let mut fast = Vec::with_capacity(n);
        let mut slow = Vec::with_capacity(n);
        for i in 0..n {
            let f = below_slo(i + 1) - below_slo(i);
            let s = above_slo(i + 1) - above_slo(i);
            fast.push(if p_fast_total > 0.0 { f / p_fast_total } else { 0.0 });
            slow.push(if p_slow > 0.0 { s / p_slow } else { 0.0 });
        }
        BucketModel { p_slow, fast, slow }
    }
}

/// Aggregate mode with `[capacity]`: the queue of a stretch at one
/// instance and what follows from it, for a key of (offered requests per
/// instance, stretch length, latency factor) as bits.
#[derive(Clone, Debug)]
struct QueueState {
    key: [u64; 3],
    queue: super::queueing::TickQueue,
    model: BucketModel,
    shape: super::queue_stats::WaitShape,
    timeout: SimDuration,
}

/// Draws a multinomial sample of `n` over `probs` by conditional binomials,
/// adding the counts to `out`.
fn multinomial<R: Rng + ?Sized>(n: u64, probs: &[f64], rng: &mut R, out: &mut [u64]) {
    let mut remaining = n;
    let mut mass_left = 1.0;
    for (i, &p) in probs.iter().enumerate() {
        if remaining == 0 {
            break;
        }
        let k = if i + 1 == probs.len() || p >= mass_left {
            remaining
        } else {
            binomial(remaining, (p / mass_left).clamp(0.0, 1.0), rng)
        };
        out[i] += k;
        remaining -= k;
        mass_left -= p;
    }
}

fn binomial<R: Rng + ?Sized>(n: u64, p: f64, rng: &mut R) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    Binomial::new(n, p).map_or(0, |b| b.sample(rng))
}

/// The simulated world of one trial.
pub struct World {
    fidelity: Fidelity,
    fleet_size: u32,
    versions: [VersionSpec; 2],
    health: crate::scenario::HealthCheckSpec,
    fleet_spec: crate::scenario::FleetSpec,
    shape: super::traffic::TrafficShape,
    /// The shape's highest rate, and whether the rate never moves (then
    /// every candidate arrival is kept without a draw).
    max_rate: f64,
    flat_rate: bool,
    horizon_s: f64,
    latency_slo_s: Option<f64>,
    tick: SimDuration,
    scrape_interval: SimDuration,
    buckets: [BucketModel; 2],
    interarrival: Option<Exp<f64>>,
    streams: Streams,
    /// Instances by slot (`InstanceId.0`); `loads` and `probe_plans` are
    /// indexed the same way. A gone instance's slot is freed once nothing
    /// refers to it, and reused: memory follows the live fleet, not every
    /// instance the run has created.
    instances: Vec<Instance>,
    /// Per slot: whether it is free (its old instance is gone).
    vacant: Vec<bool>,
    /// Free slots, reused last freed first.
    free_slots: Vec<u32>,
    /// Gone instances to free once the event that ended them is handled.
    retiring: Vec<InstanceId>,
    /// Creation number of the next instance.
    next_serial: u64,
    desired: [u32; 2],
    ordinals: [u32; 2],
    routable: [Vec<InstanceId>; 2],
    /// Per version, the instances counted against the desired size that are
    /// not in the routing table, by id: with the routing table, all a
    /// scale-down chooses from, so it never scans the fleet.
    unroutable_live: [std::collections::BTreeSet<InstanceId>; 2],
    /// Per version, counts by status of the instances freed so far (still
    /// counted in `status_counts`).
    freed_counts: [VersionFleet; 2],
    /// Instance counts by version and status, kept up to date on every
    /// change so observing the fleet never scans it.
    status_counts: [VersionFleet; 2],
    routing: Routing,
    in_flight: [u64; 2],
    restarts: [u64; 2],
    failure_streak: [u32; 2],
    memory_mb: f64,
    memory_leak_mb_per_s: [f64; 2],
    /// Scraped and live metrics.
    pub metrics: MetricsStore,
    /// Ground-truth request counts.
    pub totals: TrafficTotals,
    scheduled: Vec<(SimTime, u8, WorldEvent)>,
    changes: Vec<WorldChange>,
    capacity: Option<crate::scenario::CapacitySpec>,
    /// With `[capacity]`: what the queues of each version did.
    queue_stats: Option<[super::queue_stats::QueueStats; 2]>,
    /// Aggregate mode with `[capacity]`: each version's last queue state.
    queue_cache: [Option<QueueState>; 2],
    balancer: super::balancer::Balancer,
    balancer_policy: BalancerPolicy,
    loads: Vec<Load>,
    /// Per version, the sum of `running_since` (µs) over Running instances.
    running_since_sum_us: [u128; 2],
    probe_plans: Vec<ProbePlan>,
    next_seq: u64,
    sessions: Option<super::sessions::Sessions>,
    faults: super::faults::ActiveFaults,
    /// Per fault, how many times it has been switched on.
    fault_occurrences: Vec<u32>,
    max_duration: SimTime,
    bucket_scratch: Vec<u64>,
    /// The time of the event or command being handled.
    clock: SimTime,
    /// Aggregate mode: traffic is drawn up to here.
    settled_at: SimTime,
    /// Aggregate mode: whether traffic must be settled every tick (a moving
    /// rate or uptime-dependent faults); otherwise only at changes and reads.
    ticks_needed: bool,
    /// Aggregate mode: whether all instances of a version behave alike, so
    /// their traffic is drawn as one class.
    instances_alike: bool,
    /// Aggregate mode: whether latency histograms are drawn (off when
    /// nothing will read them; they have their own random stream, so
    /// skipping them changes no other number).
    histograms: bool,
    /// `[gaming]`, if the scenario has games.
    pub(super) gaming: Option<super::games::GamingSpec>,
    /// The games (with `[gaming]`).
    pub(super) floor: Option<super::games::GameFloor>,
    /// While a fault fails many instances at once: the failed ones, whose
    /// games are handled after the last has failed.
    lost_in_batch: Option<Vec<InstanceId>>,
}

impl World {
    /// Builds the world of `scenario` for trial streams `streams`: the stable
    /// fleet running and healthy, no traffic on the new version. Call
    /// [`World::start`] to schedule its first events.
    pub fn new(scenario: &Scenario, streams: Streams) -> Self {
        let metrics = MetricsStore::new(&scenario.metrics.buckets);
        let slo = scenario.traffic.latency_slo.map(|d| d.as_secs_f64());
        let versions = [scenario.stable.clone(), scenario.release.new.clone()];
        let buckets = [
            BucketModel::new(&versions[0].latency, metrics.bounds_s(), slo),
            BucketModel::new(&versions[1].latency, metrics.bounds_s(), slo),
        ];
        let n_buckets = metrics.n_buckets();
        let flat_rate = matches!(scenario.traffic.shape.base, super::traffic::BaseShape::Constant(_))
            && scenario.traffic.shape.spikes.is_empty()
            && !scenario
                .faults
                .iter()
                .any(|f| matches!(f.kind, super::faults::FaultKind::TrafficSpike { .. }));
        let uptime_matters = scenario
            .faults
            .iter()
            .any(|f| matches!(f.kind, super::faults::FaultKind::MemoryLeak { .. }));
        World {
            fidelity: scenario.fidelity,
            fleet_size: scenario.fleet.instances,
            versions,
            health: scenario.health_check.clone(),
            fleet_spec: scenario.fleet.clone(),
            shape: scenario.traffic.shape.clone(),
            max_rate: scenario.traffic.shape.max_rate()
                * super::faults::ActiveFaults::new(scenario.faults.clone()).max_rate_factor(),
            flat_rate,
            horizon_s: scenario.simulation.max_duration.as_secs_f64(),
            latency_slo_s: slo,
            tick: scenario.simulation.tick,
            scrape_interval: scenario.metrics.scrape_interval,
            buckets,
            interarrival: {
                // Candidates come at the highest rate that shape and faults
                // allow; thinning keeps rate(t) / highest of them.
                let max = scenario.traffic.shape.max_rate()
                    * super::faults::ActiveFaults::new(scenario.faults.clone()).max_rate_factor();
                (max > 0.0).then(|| Exp::new(max).expect("positive rate"))
            },
            streams,
            instances: Vec::new(),
            vacant: Vec::new(),
            free_slots: Vec::new(),
            retiring: Vec::new(),
            next_serial: 0,
            desired: [0, 0],
            ordinals: [0, 0],
            routable: [Vec::new(), Vec::new()],
            unroutable_live: Default::default(),
            freed_counts: [VersionFleet::default(), VersionFleet::default()],
            status_counts: [VersionFleet::default(), VersionFleet::default()],
            routing: Routing::Weighted(0.0),
            in_flight: [0, 0],
            restarts: [0, 0],
            failure_streak: [0, 0],
            memory_mb: scenario.fleet.memory_mb,
            memory_leak_mb_per_s: [0.0, scenario.release.new.memory_leak_mb_per_hour / 3600.0],
            metrics,
            totals: TrafficTotals::default(),
            scheduled: Vec::new(),
            changes: Vec::new(),
            capacity: scenario.capacity.clone(),
            queue_stats: scenario.capacity.as_ref().map(|cap| {
                let empty = super::queue_stats::QueueStats::new(cap.queue_timeout);
                [empty.clone(), empty]
            }),
            queue_cache: [None, None],
            balancer: super::balancer::Balancer::new(scenario.traffic.balancer),
            balancer_policy: scenario.traffic.balancer,
            loads: Vec::new(),
            running_since_sum_us: [0, 0],
            probe_plans: Vec::new(),
            next_seq: 0,
            sessions: scenario.sessions.clone().map(super::sessions::Sessions::new),
            faults: super::faults::ActiveFaults::new(scenario.faults.clone()),
            fault_occurrences: vec![0; scenario.faults.len()],
            max_duration: SimTime::ZERO + scenario.simulation.max_duration,
            bucket_scratch: vec![0; n_buckets],
            clock: SimTime::ZERO,
            settled_at: SimTime::ZERO,
            ticks_needed: !flat_rate || uptime_matters,
            instances_alike: !uptime_matters,
            histograms: true,
            gaming: scenario.gaming.clone(),
            floor: scenario.gaming.as_ref().map(|_| super::games::GameFloor::default()),
            lost_in_batch: None,
        }
    }

    /// Stops drawing latency histograms in aggregate mode, for a run in
    /// which nothing reads them (see [`Scenario::reads_latency`]). Every
    /// other number stays the same.
    pub fn skip_histograms(&mut self) {
        self.histograms = false;
    }

    /// Creates the stable fleet and schedules traffic, scrapes and probes.
    pub fn start(&mut self) {
        self.desired[Version::Stable.index()] = self.fleet_size;
        for _ in 0..self.fleet_size {
            let id = self.add_instance(Version::Stable, InstanceStatus::Running);
            let inst = &mut self.instances[id.0 as usize];
            inst.health = HealthStatus::Healthy;
            inst.running_since = Some(SimTime::ZERO);
            self.update_routable(id);
            // Running from time zero: adds nothing to the start-time sum.
            // Stagger the stable fleet's probes over one interval, as a
            // long-running fleet's would be.
            let phase = SimDuration(self.streams.health.random_range(0..self.health.interval.0));
            self.plan_probes(id, SimTime::ZERO + phase);
        }
        match self.fidelity {
            Fidelity::Request => self.schedule_next_arrival(SimTime::ZERO),
            Fidelity::Aggregate if self.ticks_needed => {
                self.schedule(SimTime::ZERO + self.tick, lanes::WORLD, WorldEvent::Tick)
            }
            Fidelity::Aggregate => {}
        }
        self.schedule(SimTime::ZERO, lanes::SCRAPE, WorldEvent::Scrape);
        self.start_games();
        for i in 0..self.faults.specs().len() {
            let timing = self.faults.specs()[i].timing.clone();
            for (on, off) in super::faults::occurrences(&timing, self.max_duration, &mut self.streams.faults) {
                self.schedule(on, lanes::WORLD, WorldEvent::FaultOn(i));
                if off < self.max_duration {
                    self.schedule(off, lanes::WORLD, WorldEvent::FaultOff(i));
                }
            }
        }
    }

    /// The metrics as controllers query them (through any metrics-pipeline
    /// faults that are on).
    pub fn metrics_view(&self) -> MetricsLens<'_> {
        MetricsLens {
            store: &self.metrics,
            delay: self.faults.query_delay(),
            noise: self.faults.noise(),
        }
    }

    /// Names of the faults that are on, joined by `+`.
    pub fn active_faults(&self) -> String {
        self.faults.names()
    }

    fn on_fault(&mut self, now: SimTime, i: usize, on: bool) {
        self.settle(now);
        let probe_odds = Version::ALL.map(|v| self.probe_failure_prob(v));
        if !self.faults.switch(i, on) {
            return;
        }
        if Version::ALL.map(|v| self.probe_failure_prob(v)) != probe_odds {
            self.replan_probes(now);
        }
        if on {
            self.fault_occurrences[i] += 1;
        }
        let kind = self.faults.specs()[i].kind.clone();
        self.changes.push(WorldChange::Fault {
            name: kind.as_str(),
            started: on,
        });
        if !on {
            return;
        }
        use super::faults::FaultKind;
        let ids = self.ids_in_order(|x| !x.status.is_terminal());
        // Games on a failing zone are handled once every instance in it has
        // failed, so none is restored onto an instance failing in the same
        // instant.
        self.lost_in_batch = Some(Vec::new());
        for id in ids {
            let inst = &self.instances[id.0 as usize];
            match kind {
                FaultKind::ZoneOutage { zones, zone } if inst.ordinal % zones == zone => self.crash(now, id),
                FaultKind::CrashLoop { .. } | FaultKind::InstanceCrashes { .. }
                    if inst.status == InstanceStatus::Running =>
                {
                    self.plan_crash(now, id, i)
                }
                _ => {}
            }
        }
        for id in self.lost_in_batch.take().unwrap_or_default() {
            self.games_on_lost(now, id);
        }
    }

    /// Schedules the crash of a running instance that fault `i` causes.
    fn plan_crash(&mut self, now: SimTime, id: InstanceId, i: usize) {
        use super::faults::FaultKind;
        let inst = &self.instances[id.0 as usize];
        let at = match self.faults.specs()[i].kind {
            FaultKind::CrashLoop { after } if inst.version == Version::New => {
                (inst.running_since.unwrap_or(now) + after).max(now)
            }
            FaultKind::InstanceCrashes { mtbf } => {
                let rate = 1.0 / mtbf.as_secs_f64();
                let gap = Exp::new(rate).map_or(f64::INFINITY, |e| e.sample(&mut self.streams.faults));
                now + SimDuration::from_secs_f64(gap.min(1e12))
            }
            _ => return,
        };
        let occurrence = self.fault_occurrences[i];
        self.schedule(
            at,
            lanes::WORLD,
            WorldEvent::Crash {
                id,
                fault: i,
                occurrence,
            },
        );
    }

    /// An instance dies: Failed, counted as a restart, replaced after the
    /// crash-loop backoff.
    fn crash(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.instances[id.0 as usize];
        // A stopping instance is past harm, unless it is draining games:
        // then it can still fail under them.
        let draining = self.floor.as_ref().is_some_and(|f| f.prepared && f.holds_games(id));
        if inst.status.is_terminal() || (inst.status == InstanceStatus::Stopping && !draining) {
            return;
        }
        let version = inst.version;
        self.restarts[version.index()] += 1;
        self.set_status(id, InstanceStatus::Failed);
        match self.lost_in_batch.as_mut() {
            Some(batch) => batch.push(id),
            None => self.games_on_lost(now, id),
        }
        // Requests waiting in its queue are lost with it (the connection
        // resets). Requests already in service complete as drawn: a
        // simplification, as their completions are already scheduled.
        let lost: Vec<Queued> = self.loads[id.0 as usize].queue.drain(..).collect();
        for r in lost {
            let v = r.version.index();
            self.totals.errors[v] += 1;
            self.totals.failed[v] += 1;
            self.in_flight[v] -= 1;
            self.loads[id.0 as usize].outstanding -= 1;
            let bucket = self.metrics.bucket_of((now - r.arrival).as_secs_f64());
            self.metrics.record(r.version, bucket, true);
            self.harm(r.version, r.session);
        }
        let streak = &mut self.failure_streak[version.index()];
        *streak = (*streak + 1).min(6);
        let backoff = SimDuration::from_secs((10u64 << (*streak - 1)).min(300));
        self.schedule(now + backoff, lanes::WORLD, WorldEvent::Reconcile(version));
    }

    /// Whether an instance sits in a zone that is down.
    fn in_dead_zone(&self, id: InstanceId) -> bool {
        let ordinal = self.instances[id.0 as usize].ordinal;
        self.faults
            .active()
            .any(|k| matches!(k, super::faults::FaultKind::ZoneOutage { zones, zone } if ordinal % zones == *zone))
    }

    /// Events the world wants scheduled since the last call.
    pub fn take_scheduled(&mut self) -> std::vec::Drain<'_, (SimTime, u8, WorldEvent)> {
        self.scheduled.drain(..)
    }

    /// Changes made since the last call.
    pub fn take_changes(&mut self) -> Vec<WorldChange> {
        std::mem::take(&mut self.changes)
    }

    /// Whether changes are waiting to be taken.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The instances not yet freed (every live one, and gone ones that
    /// requests in flight or games still refer to), in slot order.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> + '_ {
        self.instances
            .iter()
            .zip(&self.vacant)
            .filter(|(_, &v)| !v)
            .map(|(i, _)| i)
    }

    /// Instance `id`, unless it has been freed.
    pub fn instance(&self, id: InstanceId) -> Option<&Instance> {
        self.holds(id).then(|| &self.instances[id.0 as usize])
    }

    /// Whether `id` is still in its slot (a freed instance's pending events
    /// are stale, and ignored).
    fn holds(&self, id: InstanceId) -> bool {
        let i = id.0 as usize;
        !self.vacant[i] && self.instances[i].id == id
    }

    /// Per version, counts by status of the instances freed so far: with a
    /// recount of [`World::instances`], they make up [`World::fleet_view`].
    pub fn freed_counts(&self) -> [VersionFleet; 2] {
        self.freed_counts
    }

    /// Ids of the instances not yet freed that `keep` accepts, in id
    /// (creation) order, the order every pass over the fleet draws in.
    fn ids_in_order(&self, keep: impl Fn(&Instance) -> bool) -> Vec<InstanceId> {
        let mut ids: Vec<InstanceId> = self.instances().filter(|i| keep(i)).map(|i| i.id).collect();
        ids.sort_unstable();
        ids
    }

    /// The new version's share of traffic, percent: the weight, or with
    /// routing by instance the new version's share of routable instances.
    pub fn weight_pct(&self) -> f64 {
        match self.routing {
            Routing::Weighted(w) => w,
            Routing::ByInstance => {
                let (s, n) = (self.routable[0].len(), self.routable[1].len());
                if s + n == 0 {
                    0.0
                } else {
                    100.0 * n as f64 / (s + n) as f64
                }
            }
        }
    }

    /// The routing mode.
    pub fn routing(&self) -> Routing {
        self.routing
    }

    /// Desired active instances of a version.
    pub fn desired(&self, v: Version) -> u32 {
        self.desired[v.index()]
    }

    /// Routable instances of a version, in id order.
    pub fn routable(&self, v: Version) -> &[InstanceId] {
        &self.routable[v.index()]
    }

    /// Instance counts by version and status.
    pub fn fleet_view(&self) -> [VersionFleet; 2] {
        let mut view = self.status_counts;
        for v in Version::ALL {
            view[v.index()].routable = self.routable[v.index()].len() as u32;
        }
        view
    }

    fn schedule(&mut self, t: SimTime, lane: u8, ev: WorldEvent) {
        self.scheduled.push((t, lane, ev));
    }

    /// Creates an instance in a free slot (or a new one).
    fn add_instance(&mut self, version: Version, status: InstanceStatus) -> InstanceId {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => u32::try_from(self.instances.len()).expect("fewer than 2^32 instances at once"),
        };
        let id = InstanceId(slot, self.next_serial);
        self.next_serial += 1;
        self.ordinals[version.index()] += 1;
        self.status_counts[version.index()].by_status[status as usize] += 1;
        let instance = Instance {
            id,
            version,
            ordinal: self.ordinals[version.index()],
            status,
            health: HealthStatus::Unknown,
            probe_successes: 0,
            probe_failures: 0,
            running_since: None,
        };
        let i = slot as usize;
        if i == self.instances.len() {
            self.instances.push(instance);
            self.vacant.push(false);
            self.loads.push(Load::default());
            self.probe_plans.push(ProbePlan::default());
        } else {
            self.instances[i] = instance;
            self.vacant[i] = false;
            self.loads[i] = Load::default();
            self.probe_plans[i] = ProbePlan::default();
        }
        self.update_routable(id);
        id
    }

    /// Frees the gone instances that nothing refers to any more: no request
    /// still on them (their completions count there) and no game. A slot
    /// still in use is retired again by its last completion.
    fn free_retired(&mut self) {
        while let Some(id) = self.retiring.pop() {
            let i = id.0 as usize;
            if !self.holds(id) || !self.instances[i].status.is_terminal() || self.loads[i].outstanding > 0 {
                continue;
            }
            if self.floor.as_ref().is_some_and(|f| f.holds_games(id)) {
                continue; // a broken rule, which the games checker reports
            }
            let inst = &self.instances[i];
            self.freed_counts[inst.version.index()].by_status[inst.status as usize] += 1;
            if let Some(floor) = self.floor.as_mut() {
                floor.forget_instance(id);
            }
            self.vacant[i] = true;
            self.loads[i] = Load::default();
            self.free_slots.push(id.0);
        }
    }

    /// Keeps the routing table (sorted by id) and the live instances outside
    /// it in step with one instance, without rescanning the fleet: health
    /// flaps and churn in a large fleet stay cheap.
    fn update_routable(&mut self, id: InstanceId) {
        let inst = &self.instances[id.0 as usize];
        let (v, routable) = (inst.version.index(), inst.is_routable());
        let list = &mut self.routable[v];
        match (list.binary_search(&id), routable) {
            (Err(pos), true) => list.insert(pos, id),
            (Ok(pos), false) => {
                list.remove(pos);
            }
            _ => {}
        }
        if inst.status.counts_toward_desired() && !routable {
            self.unroutable_live[v].insert(id);
        } else {
            self.unroutable_live[v].remove(&id);
        }
    }

    fn set_status(&mut self, id: InstanceId, to: InstanceStatus) {
        let from = self.instances[id.0 as usize].status;
        if from == to {
            return;
        }
        self.settle(self.clock);
        let inst = &mut self.instances[id.0 as usize];
        inst.status = to;
        let since = u128::from(inst.running_since.map_or(0, |t| t.0));
        let sum = &mut self.running_since_sum_us[inst.version.index()];
        if from == InstanceStatus::Running {
            *sum -= since;
        }
        if to == InstanceStatus::Running {
            *sum += since;
        }
        let counts = &mut self.status_counts[inst.version.index()].by_status;
        counts[from as usize] -= 1;
        counts[to as usize] += 1;
        if to.is_terminal() {
            self.retiring.push(id);
        }
        self.changes.push(WorldChange::Status {
            id,
            version: inst.version,
            ordinal: inst.ordinal,
            from,
            to,
        });
        self.update_routable(id);
    }

    fn set_health(&mut self, id: InstanceId, to: HealthStatus) {
        let from = self.instances[id.0 as usize].health;
        if from == to {
            return;
        }
        self.settle(self.clock);
        let inst = &mut self.instances[id.0 as usize];
        inst.health = to;
        self.changes.push(WorldChange::Health {
            id,
            version: inst.version,
            ordinal: inst.ordinal,
            from,
            to,
        });
        self.update_routable(id);
    }

    /// Sets the new version's traffic share (clamped to 0..=100) and routes
    /// by weight.
    pub fn set_weight(&mut self, now: SimTime, pct: f64) {
        let pct = pct.clamp(0.0, 100.0);
        if self.routing != Routing::Weighted(pct) {
            self.clock = now;
            self.settle(now);
            self.changes.push(WorldChange::Weight {
                from: self.weight_pct(),
                to: pct,
            });
            let from = self.weight_pct();
            self.routing = Routing::Weighted(pct);
            self.rebalance_waiting_games(from, pct);
        }
    }

    /// Routes by instance counts from now on.
    pub fn route_by_instance(&mut self, now: SimTime) {
        if self.routing != Routing::ByInstance {
            self.clock = now;
            self.settle(now);
            self.changes.push(WorldChange::RoutedByInstance);
            self.routing = Routing::ByInstance;
        }
    }

    /// Requests in flight per version (request mode; zero in aggregate mode).
    pub fn in_flight(&self, v: Version) -> u64 {
        self.in_flight[v.index()]
    }

    fn gauges(&self, now: SimTime) -> [Gauges; 2] {
        let mut g = [Gauges::default(), Gauges::default()];
        for v in Version::ALL {
            let i = v.index();
            let running = self.status_counts[i].count(InstanceStatus::Running);
            // Summed uptime of the running instances, from the running sum
            // of their start times: no pass over the fleet.
            let uptime_s =
                (u128::from(running) * u128::from(now.0)).saturating_sub(self.running_since_sum_us[i]) as f64 / 1e6;
            g[i].running = running;
            g[i].memory_mb_total = f64::from(running) * self.memory_mb + self.memory_leak_mb_per_s[i] * uptime_s;
            g[i].routable = self.routable[i].len() as u32;
        }
        for v in Version::ALL {
            let i = v.index();
            g[i].restarts = self.restarts[i];
            g[i].in_flight = match self.fidelity {
                Fidelity::Request => self.in_flight[i] as f64,
                // Little's law: the offered rate now x the mean latency.
                Fidelity::Aggregate => {
                    let rate = self.shape.rate_at(now.as_secs_f64()) * self.faults.rate_factor();
                    let share = match v {
                        Version::Stable => 1.0 - self.weight_pct() / 100.0,
                        Version::New => self.weight_pct() / 100.0,
                    };
                    rate * share * self.versions[i].latency.mean()
                }
            };
        }
        g
    }

    /// Keeps `replicas` active instances of `version`, like a ReplicaSet.
    /// Failed instances are replaced by the backoff's own reconcile, not by
    /// a repeated request for the same count.
    pub fn scale(&mut self, now: SimTime, version: Version, replicas: u32) {
        self.clock = now;
        let from = self.desired[version.index()];
        if from != replicas {
            self.desired[version.index()] = replicas;
            self.changes.push(WorldChange::Scaled {
                version,
                from,
                to: replicas,
            });
            self.reconcile(now, version);
        }
    }

    /// Provisions or stops instances of `version` until the instances that
    /// are neither stopping nor finished match the desired count.
    fn reconcile(&mut self, now: SimTime, version: Version) {
        let v = version.index();
        let live = self.unroutable_live[v].len() + self.routable[v].len();
        let want = self.desired[v] as usize;
        if live < want {
            for _ in live..want {
                let id = self.add_instance(version, InstanceStatus::Provisioning);
                self.changes.push(WorldChange::Status {
                    id,
                    version,
                    ordinal: self.instances[id.0 as usize].ordinal,
                    from: InstanceStatus::Stopped,
                    to: InstanceStatus::Provisioning,
                });
                let delay = self.fleet_spec.provision_time.sample(&mut self.streams.provisioning);
                self.schedule(now + delay, lanes::WORLD, WorldEvent::Provisioned(id));
            }
        } else if live > want {
            // Stop instances that serve nothing first, then the newest, as a
            // ReplicaSet scaling down does.
            let victims: Vec<InstanceId> = self.unroutable_live[v]
                .iter()
                .rev()
                .chain(self.routable[v].iter().rev())
                .take(live - want)
                .copied()
                .collect();
            for &id in &victims {
                self.set_status(id, InstanceStatus::Stopping);
                let delay = self.fleet_spec.stop_time.sample(&mut self.streams.provisioning);
                self.schedule(now + delay, lanes::WORLD, WorldEvent::StopDone(id));
            }
            // Games move only once every victim is out of routing, so none
            // lands on an instance that is about to stop too.
            for id in victims {
                self.games_on_stopping(now, id);
            }
        }
    }

    /// Handles one world event at `now`.
    pub fn handle(&mut self, now: SimTime, event: WorldEvent) {
        self.clock = now;
        match event {
            WorldEvent::Arrival => self.on_arrival(now),
            WorldEvent::Completion {
                version,
                instance,
                bucket,
                error,
            } => {
                self.in_flight[version.index()] -= 1;
                self.loads[instance.0 as usize].outstanding -= 1;
                self.metrics.record(version, bucket as usize, error);
                if self.capacity.is_some() {
                    self.loads[instance.0 as usize].busy -= 1;
                    self.serve_queue(now, instance);
                }
                self.retire_if_gone(instance);
            }
            WorldEvent::QueueTimeout { instance, seq } => self.on_queue_timeout(now, instance, seq),
            WorldEvent::Tick => self.on_tick(now),
            WorldEvent::Scrape => {
                self.settle(now);
                let gauges = self.gauges(now);
                if let Some(s) = self.sessions.as_mut() {
                    s.purge(now);
                }
                // Drawn at every scrape, so the fault stream stays aligned.
                let u: f64 = self.streams.faults.random();
                if u >= self.faults.scrape_drop_prob() {
                    self.metrics.scrape(now, gauges);
                }
                self.schedule(now + self.scrape_interval, lanes::SCRAPE, WorldEvent::Scrape);
            }
            WorldEvent::Provisioned(id) => {
                if self.holds(id) && self.instances[id.0 as usize].status == InstanceStatus::Provisioning {
                    self.set_status(id, InstanceStatus::Deploying);
                    let delay = self.fleet_spec.boot_time.sample(&mut self.streams.provisioning);
                    self.schedule(now + delay, lanes::WORLD, WorldEvent::Booted(id));
                }
            }
            WorldEvent::Booted(id) => self.on_booted(now, id),
            WorldEvent::StopDone(id) => {
                // A draining instance stops when its last game leaves.
                let stopping = self.holds(id) && self.instances[id.0 as usize].status == InstanceStatus::Stopping;
                if stopping && self.stop_may_finish(now, id) {
                    self.set_status(id, InstanceStatus::Stopped);
                    self.games_on_lost(now, id);
                }
            }
            WorldEvent::GameArrival => self.on_game_arrival(now),
            WorldEvent::GamePhaseEnd { game, epoch } => self.on_game_phase_end(now, game, epoch),
            WorldEvent::DrainTimeout(id) => self.on_drain_timeout(now, id),
            WorldEvent::Probe { id, plan } => self.on_probe(now, id, plan),
            WorldEvent::Reconcile(version) => self.reconcile(now, version),
            WorldEvent::FaultOn(i) => self.on_fault(now, i, true),
            WorldEvent::FaultOff(i) => self.on_fault(now, i, false),
            WorldEvent::Crash { id, fault, occurrence } => {
                let running = self.holds(id) && self.instances[id.0 as usize].status == InstanceStatus::Running;
                let same_occurrence = self.fault_occurrences[fault] == occurrence;
                if self.faults.is_on(fault) && same_occurrence && running {
                    self.crash(now, id);
                }
            }
        }
        self.free_retired();
    }

    /// Retires a gone instance once its last request in flight completes.
    fn retire_if_gone(&mut self, id: InstanceId) {
        let i = id.0 as usize;
        if self.loads[i].outstanding == 0 && self.instances[i].status.is_terminal() {
            self.retiring.push(id);
        }
    }

    fn on_booted(&mut self, now: SimTime, id: InstanceId) {
        let inst = &self.instances[id.0 as usize];
        if !self.holds(id) || inst.status != InstanceStatus::Deploying {
            return;
        }
        let version = inst.version;
        // Always draw, so the provisioning stream stays aligned across
        // releases with and without boot failures.
        let u: f64 = self.streams.provisioning.random();
        let p_fail = self
            .faults
            .boot_failure_prob(self.versions[version.index()].boot_failure_prob, version);
        if u < p_fail || self.in_dead_zone(id) {
            // The replacement waits out a crash-loop backoff (10 s doubling to
            // 5 min, as Kubernetes does), so failures take simulated time.
            self.crash(now, id);
            return;
        }
        self.failure_streak[version.index()] = 0;
        self.instances[id.0 as usize].running_since = Some(now);
        self.set_status(id, InstanceStatus::Running);
        if self.health.start_healthy {
            self.settle(now);
            self.instances[id.0 as usize].health = HealthStatus::Healthy;
            self.changes.push(WorldChange::Health {
                id,
                version,
                ordinal: self.instances[id.0 as usize].ordinal,
                from: HealthStatus::Unknown,
                to: HealthStatus::Healthy,
            });
            self.update_routable(id);
        }
        self.plan_probes(id, now + self.health.initial_delay);
        for i in 0..self.faults.specs().len() {
            if self.faults.is_on(i) {
                self.plan_crash(now, id, i);
            }
        }
    }

    fn on_probe(&mut self, now: SimTime, id: InstanceId, plan: u32) {
        let probe = self.probe_plans[id.0 as usize];
        let inst = &self.instances[id.0 as usize];
        if !self.holds(id) || probe.plan != plan || inst.status != InstanceStatus::Running {
            return;
        }
        let ok = !probe.fails && {
            let u: f64 = self.streams.health.random();
            u >= self.probe_failure_prob(inst.version)
        };
        let before = ProbeState {
            status: inst.health,
            successes: inst.probe_successes,
            failures: inst.probe_failures,
        };
        let thresholds = Thresholds {
            healthy: self.health.healthy_threshold,
            unhealthy: self.health.unhealthy_threshold,
        };
        let after = apply_probe(before, ok, thresholds);
        let inst = &mut self.instances[id.0 as usize];
        inst.probe_successes = after.successes;
        inst.probe_failures = after.failures;
        self.set_health(id, after.status);
        self.plan_probes(id, now + self.health.interval);
    }

    /// The probability that one probe of a `version` instance fails: a
    /// status code outside the expected ones (its own, or a fault's 503) or
    /// an answer slower than the probe timeout.
    fn probe_failure_prob(&self, version: Version) -> f64 {
        let spec = &self.versions[version.index()];
        let expected = |code: u16| f64::from(u8::from(self.health.expected_status_codes.contains(&code)));
        let p_fault = self.faults.probe_failure_prob(spec.probe_failure_prob);
        let p_code_ok = (1.0 - p_fault) * expected(spec.health_status_code) + p_fault * expected(503);
        let p_in_time = spec.latency.cdf(self.health.timeout.as_secs_f64());
        (1.0 - p_code_ok * p_in_time).clamp(0.0, 1.0)
    }

    /// Schedules an instance's probes from its regular probe at `first`: the
    /// next one if it is not Healthy, else the first that fails.
    fn plan_probes(&mut self, id: InstanceId, first: SimTime) {
        let interval = self.health.interval.0.max(1);
        let healthy = self.instances[id.0 as usize].health == HealthStatus::Healthy;
        let p_fail = self.probe_failure_prob(self.instances[id.0 as usize].version);
        let plan = &mut self.probe_plans[id.0 as usize];
        plan.anchor = first;
        plan.plan = plan.plan.wrapping_add(1);
        let at = if healthy && p_fail < 1.0 {
            // Successes before the first failure ~ Geometric(p_fail), by
            // inversion: floor(ln(1 - U) / ln(1 - p)).
            let u: f64 = self.streams.health.random();
            let successes = if p_fail > 0.0 {
                ((1.0 - u).ln() / (1.0 - p_fail).ln()).floor()
            } else {
                f64::INFINITY
            };
            let left = (self.max_duration.0.saturating_sub(first.0) / interval) as f64;
            if successes > left {
                return; // no probe fails before the run ends
            }
            plan.fails = true;
            first + SimDuration(successes as u64 * interval)
        } else {
            plan.fails = false;
            first
        };
        let plan = plan.plan;
        self.schedule(at, lanes::WORLD, WorldEvent::Probe { id, plan });
    }

    /// Redraws the probe plans of Healthy running instances from their next
    /// regular probe, after a fault changed the odds of a probe failing.
    fn replan_probes(&mut self, now: SimTime) {
        let interval = self.health.interval.0.max(1);
        let ids = self.ids_in_order(|i| i.status == InstanceStatus::Running && i.health == HealthStatus::Healthy);
        for id in ids {
            let anchor = self.probe_plans[id.0 as usize].anchor;
            let next = if anchor >= now {
                anchor
            } else {
                anchor + SimDuration((now.0 - anchor.0).div_ceil(interval) * interval)
            };
            self.plan_probes(id, next);
        }
    }

    /// Draws the next arrival of a Poisson process whose rate follows the
    /// traffic shape, by thinning: candidates at the highest rate, each kept
    /// with probability rate(t) / highest rate. A constant rate keeps every
    /// candidate without a draw.
    fn schedule_next_arrival(&mut self, now: SimTime) {
        let Some(exp) = self.interarrival else { return };
        let max = self.max_rate;
        let mut t = now.as_secs_f64();
        loop {
            let gap = exp.sample(&mut self.streams.arrivals);
            if !gap.is_finite() || gap > 1e12 {
                return; // a rate so low that no request ever comes
            }
            t += gap;
            if t > self.horizon_s {
                return;
            }
            if self.flat_rate {
                break;
            }
            let rate = self.shape.rate_at(t) * self.faults.rate_factor();
            if rate >= max {
                break;
            }
            let u: f64 = self.streams.arrivals.random();
            if u * max < rate {
                break;
            }
        }
        let at = SimTime(SimDuration::from_secs_f64(t).0).max(now + SimDuration(1));
        self.schedule(at, lanes::WORLD, WorldEvent::Arrival);
    }

    fn note_new_exposure(&mut self, at: SimTime) {
        if self.totals.first_new_request.is_none() {
            self.totals.first_new_request = Some(at);
        }
    }

    fn on_arrival(&mut self, now: SimTime) {
        self.schedule_next_arrival(now);
        self.totals.arrived += 1;
        // Draw every number each request needs before any branch, so every
        // stream advances the same way whatever the routing (common random
        // numbers across strategies).
        let u_route: f64 = self.streams.routing.random();
        let u_pick: f64 = self.streams.routing.random();
        let z: f64 = StandardNormal.sample(&mut self.streams.latency);
        let u_err: f64 = self.streams.errors.random();
        let session = match self.sessions.as_mut() {
            Some(s) => Some(s.assign(now, &mut self.streams.sessions)),
            None => None,
        };
        let (version, instance) = self.route(u_route, u_pick, session.as_ref());
        if let (Some(s), Some(a), Some(_)) = (self.sessions.as_mut(), session.as_ref(), instance) {
            s.pin(a, version);
        }
        let session = session.map(|a| a.id);
        let v = version.index();
        if version == Version::New {
            self.note_new_exposure(now);
        }
        let Some(instance) = instance else {
            self.totals.dropped[v] += 1;
            self.totals.failed[v] += 1;
            self.metrics.record_unroutable(version, 1);
            self.harm(version, session);
            return;
        };
        if !self.instances[instance.0 as usize].is_routable() {
            self.totals.routed_to_unroutable += 1;
        }
        let spec = &self.versions[v];
        let inst = &self.instances[instance.0 as usize];
        let uptime = inst.running_since.map_or(SimDuration::ZERO, |t| now - t);
        let utilisation = self.capacity.as_ref().map_or(0.0, |cap| {
            f64::from(self.loads[instance.0 as usize].busy) / f64::from(cap.concurrency)
        });
        let segment = self.segment_of(session);
        let service_s = spec.latency.at_z(z) * self.faults.latency_factor(version, uptime);
        let error = u_err
            < self
                .faults
                .error_prob(spec.error_prob, version, uptime, utilisation, segment);
        self.totals.routed[v] += 1;
        self.in_flight[v] += 1;
        self.loads[instance.0 as usize].outstanding += 1;
        let request = Queued {
            seq: self.next_seq,
            arrival: now,
            version,
            service_s,
            error,
            session,
        };
        self.next_seq += 1;
        match &self.capacity {
            Some(cap) if self.loads[instance.0 as usize].busy >= cap.concurrency => {
                let deadline = now + cap.queue_timeout;
                let queue = &mut self.loads[instance.0 as usize].queue;
                queue.push_back(request);
                if queue.len() == 1 {
                    self.schedule(
                        deadline,
                        lanes::WORLD,
                        WorldEvent::QueueTimeout {
                            instance,
                            seq: request.seq,
                        },
                    );
                }
            }
            _ => self.start_service(now, instance, request),
        }
    }

    /// Picks the version and instance for a request (`None` when the
    /// version has no routable instance). A session pinned to a version that
    /// still has routable instances stays on it (affinity).
    fn route(
        &mut self,
        u_route: f64,
        u_pick: f64,
        session: Option<&super::sessions::Assigned>,
    ) -> (Version, Option<InstanceId>) {
        let pinned = session
            .and_then(|a| a.pinned)
            .filter(|v| !self.routable[v.index()].is_empty());
        // The candidates are one version's routing table, or (routing by
        // instance) both tables end to end; `pool` names the round-robin cursor.
        let (first, second, pool): (&[InstanceId], &[InstanceId], usize) = match (pinned, self.routing) {
            (Some(v), _) => (&self.routable[v.index()], &[], v.index()),
            (None, Routing::Weighted(w)) => {
                let v = if u_route * 100.0 < w {
                    Version::New
                } else {
                    Version::Stable
                };
                (&self.routable[v.index()], &[], v.index())
            }
            (None, Routing::ByInstance) => (&self.routable[0], &self.routable[1], 2),
        };
        let n = first.len() + second.len();
        let at = |k: usize| {
            if k < first.len() {
                first[k]
            } else {
                second[k - first.len()]
            }
        };
        if n == 0 {
            let v = match (pinned, self.routing) {
                (None, Routing::Weighted(w)) if u_route * 100.0 < w => Version::New,
                _ => Version::Stable,
            };
            return (v, None);
        }
        let k = match (self.balancer_policy, session) {
            (BalancerPolicy::ConsistentHash, Some(a)) => {
                // Keyed on creation numbers, which (unlike slots) no other
                // instance ever takes over.
                let id = super::sessions::rendezvous(a.id, (0..n).map(|k| at(k).1)).expect("n > 0");
                (0..n).find(|&k| at(k).1 == id).expect("chosen from the candidates")
            }
            _ => {
                let loads = &self.loads;
                self.balancer
                    .pick(n, u_pick, pool, |k| loads[at(k).0 as usize].outstanding)
            }
        };
        let id = at(k);
        (self.instances[id.0 as usize].version, Some(id))
    }

    /// Whether a session belongs to the user segment of an active
    /// failure-for-segment fault (a fixed share of sessions, by hash).
    fn segment_of(&self, session: Option<u64>) -> bool {
        let Some(id) = session else { return false };
        self.faults.active().any(|k| match k {
            super::faults::FaultKind::FailureForSegment { share_pct, .. } => {
                (super::sessions::unit_hash(id) * 100.0) < *share_pct
            }
            _ => false,
        })
    }

    /// Counts a user harmed by the new version (with sessions).
    fn harm(&mut self, version: Version, session: Option<u64>) {
        if let (Version::New, Some(id), Some(s)) = (version, session, self.sessions.as_mut()) {
            s.hurt_by_new(id);
        }
    }

    /// Distinct sessions that saw a failure from the new version; `None`
    /// without sessions.
    pub fn blast_radius_users(&self) -> Option<u64> {
        self.sessions.as_ref().map(|s| s.hurt_count())
    }

    /// Starts serving `request` on `instance` now: its latency is its wait
    /// plus its service time.
    fn start_service(&mut self, now: SimTime, instance: InstanceId, request: Queued) {
        let v = request.version.index();
        let wait = now - request.arrival;
        if let Some(stats) = self.queue_stats.as_mut() {
            stats[v].served(wait.0);
        }
        if self.capacity.is_some() {
            self.loads[instance.0 as usize].busy += 1;
        }
        let latency = wait.as_secs_f64() + request.service_s;
        let slow = self.latency_slo_s.is_some_and(|slo| latency > slo);
        self.totals.errors[v] += u64::from(request.error);
        self.totals.failed[v] += u64::from(request.error || slow);
        if request.error || slow {
            self.harm(request.version, request.session);
        }
        let bucket = self.metrics.bucket_of(latency) as u16;
        self.schedule(
            now + SimDuration::from_secs_f64(request.service_s),
            lanes::WORLD,
            WorldEvent::Completion {
                version: request.version,
                instance,
                bucket,
                error: request.error,
            },
        );
    }

    /// Starts queued requests while servers are free, then arms the timeout
    /// of the new head of the queue.
    fn serve_queue(&mut self, now: SimTime, instance: InstanceId) {
        let Some(cap) = self.capacity.clone() else { return };
        let i = instance.0 as usize;
        let mut started = false;
        while self.loads[i].busy < cap.concurrency {
            let Some(next) = self.loads[i].queue.pop_front() else {
                break;
            };
            self.start_service(now, instance, next);
            started = true;
        }
        if let (true, Some(head)) = (started, self.loads[i].queue.front()) {
            let (seq, deadline) = (head.seq, head.arrival + cap.queue_timeout);
            self.schedule(deadline, lanes::WORLD, WorldEvent::QueueTimeout { instance, seq });
        }
    }

    /// Ends the run: requests still waiting in a queue were never served,
    /// so they count as failed (a hopelessly overloaded instance must not
    /// look healthy because its backlog outlived the run).
    pub fn finish_run(&mut self, now: SimTime) {
        self.settle(now);
        for load in &mut self.loads {
            for r in load.queue.drain(..) {
                let v = r.version.index();
                if let Some(stats) = self.queue_stats.as_mut() {
                    stats[v].cut_off((now - r.arrival).0);
                }
                self.totals.timed_out[v] += 1;
                self.totals.errors[v] += 1;
                self.totals.failed[v] += 1;
            }
        }
    }

    /// Whether what is kept incrementally matches a recount of the
    /// instances not yet freed: the start-time sums behind the O(1) gauges,
    /// the live instances outside the routing table that a scale-down picks
    /// from, and the free slots. Only present instances are visited, so the
    /// check costs the live fleet, not every instance ever created.
    pub fn bookkeeping_problem(&self) -> Option<String> {
        for v in Version::ALL {
            let recount: u128 = self
                .instances()
                .filter(|i| i.version == v && i.status == InstanceStatus::Running)
                .map(|i| u128::from(i.running_since.map_or(0, |t| t.0)))
                .sum();
            if recount != self.running_since_sum_us[v.index()] {
                return Some(format!(
                    "{}: start times of running instances sum to {recount} us, bookkept {}",
                    v.as_str(),
                    self.running_since_sum_us[v.index()]
                ));
            }
            let outside = self
                .instances()
                .filter(|i| i.version == v && i.status.counts_toward_desired() && !i.is_routable());
            let kept = &self.unroutable_live[v.index()];
            let (mut counted, mut missing) = (0usize, None);
            for inst in outside {
                counted += 1;
                if !kept.contains(&inst.id) {
                    missing.get_or_insert(inst.name());
                }
            }
            if counted != kept.len() || missing.is_some() {
                return Some(format!(
                    "{}: {counted} live instances are out of routing, {} kept as such{}",
                    v.as_str(),
                    kept.len(),
                    missing.map_or(String::new(), |n| format!(" ({n} missing)"))
                ));
            }
        }
        let vacant = self.vacant.iter().filter(|&&v| v).count();
        let stale_free = self.free_slots.iter().any(|&s| !self.vacant[s as usize]);
        if vacant != self.free_slots.len() || stale_free {
            return Some(format!(
                "{vacant} slots are vacant, {} listed free",
                self.free_slots.len()
            ));
        }
        None
    }

    /// With `[capacity]`: what the queues of `version` did so far.
    pub fn queue_stats(&self, version: Version) -> Option<&super::queue_stats::QueueStats> {
        self.queue_stats.as_ref().map(|s| &s[version.index()])
    }

    /// Whether every instance keeps to its capacity: at most `concurrency`
    /// in service, and a queue only when all servers are busy.
    pub fn capacity_problem(&self) -> Option<String> {
        let cap = self.capacity.as_ref()?;
        self.loads.iter().enumerate().find_map(|(i, l)| {
            let bad = l.busy > cap.concurrency || (!l.queue.is_empty() && l.busy < cap.concurrency);
            bad.then(|| {
                format!(
                    "instance {i}: {} in service, {} queued, concurrency {}",
                    l.busy,
                    l.queue.len(),
                    cap.concurrency
                )
            })
        })
    }

    /// Fails the requests at the head of the queue whose wait has reached
    /// the timeout: a 504 counted against the version, at the timeout.
    fn on_queue_timeout(&mut self, now: SimTime, instance: InstanceId, seq: u64) {
        let Some(cap) = self.capacity.clone() else { return };
        let i = instance.0 as usize;
        if self.loads[i].queue.front().map(|h| h.seq) != Some(seq) {
            return; // this request was served before its deadline
        }
        while let Some(head) = self.loads[i].queue.front().copied() {
            if head.arrival + cap.queue_timeout > now {
                self.schedule(
                    head.arrival + cap.queue_timeout,
                    lanes::WORLD,
                    WorldEvent::QueueTimeout {
                        instance,
                        seq: head.seq,
                    },
                );
                break;
            }
            self.loads[i].queue.pop_front();
            let v = head.version.index();
            if let Some(stats) = self.queue_stats.as_mut() {
                stats[v].timed_out();
            }
            self.totals.timed_out[v] += 1;
            self.totals.errors[v] += 1;
            self.totals.failed[v] += 1;
            self.in_flight[v] -= 1;
            self.loads[i].outstanding -= 1;
            let bucket = self.metrics.bucket_of(cap.queue_timeout.as_secs_f64());
            self.metrics.record(head.version, bucket, true);
            self.harm(head.version, head.session);
        }
    }

    fn on_tick(&mut self, now: SimTime) {
        self.schedule(now + self.tick, lanes::WORLD, WorldEvent::Tick);
        self.settle(now);
    }

    /// Every request that arrived before this instant has been counted (so
    /// `totals.first_new_request` is final for times before it): `now` in
    /// request mode; in aggregate mode the last settle, since the stretch
    /// after it is drawn later.
    pub fn requests_counted_before(&self, now: SimTime) -> SimTime {
        match self.fidelity {
            Fidelity::Aggregate => self.settled_at,
            Fidelity::Request => now,
        }
    }

    /// Aggregate mode: draws the traffic of `[settled_at, now)` as counts.
    ///
    /// Every change that touches traffic (routing, an instance entering or
    /// leaving service, a fault) settles first, so over the stretch drawn here
    /// nothing but the shape's rate moves; the rate's integral gives the
    /// Poisson mean exactly, and ticks bound the stretch only when the rate
    /// or an instance's uptime makes the queue or outcome odds drift.
    /// Observers (scrapes, timeline samples, the end) settle before they read.
    pub fn settle(&mut self, now: SimTime) {
        if self.fidelity != Fidelity::Aggregate || now <= self.settled_at {
            return;
        }
        let start = self.settled_at;
        self.settled_at = now;
        let (a, b) = (start.as_secs_f64(), now.as_secs_f64());
        let span = b - a;
        let mean = self.shape.mean_over(a, b) * span * self.faults.rate_factor();
        let n = if mean > 0.0 {
            Poisson::new(mean).map_or(0.0, |p| p.sample(&mut self.streams.arrivals)) as u64
        } else {
            0
        };
        self.totals.arrived += n;
        let new_share = self.weight_pct() / 100.0;
        let n_new = binomial(n, new_share, &mut self.streams.routing);
        let expected = [mean * (1.0 - new_share), mean * new_share];
        for (version, count) in [(Version::Stable, n - n_new), (Version::New, n_new)] {
            if count == 0 {
                continue;
            }
            if version == Version::New && self.totals.first_new_request.is_none() {
                // The earliest of `count` arrivals spread evenly over the
                // stretch: a + span * (1 - U^(1/count)).
                let u: f64 = self.streams.routing.random();
                let first = a + span * (1.0 - u.powf(1.0 / count as f64));
                self.note_new_exposure(SimTime::ZERO + SimDuration::from_secs_f64(first));
            }
            self.serve_counts(now, span, version, count, expected[version.index()]);
        }
    }

    /// Spreads `count` requests of one stretch over the version's routable
    /// instances and draws their outcomes as counts. While every instance of
    /// the version behaves alike (no uptime-dependent fault), they form one
    /// class and are drawn together: the per-instance split would be a
    /// multinomial whose parts share every outcome probability, so summing
    /// them back gives the same distribution for a fraction of the draws.
    /// `expected` is the stretch's mean count for this version: queueing is
    /// judged at the offered rate, not at one random count (the queue
    /// formulas are steady-state results for a rate).
    fn serve_counts(&mut self, now: SimTime, span_s: f64, version: Version, count: u64, expected: f64) {
        let v = version.index();
        let k = self.routable[v].len();
        if k == 0 {
            self.totals.dropped[v] += count;
            self.totals.failed[v] += count;
            self.metrics.record_unroutable(version, count);
            return;
        }
        if self.instances_alike {
            self.serve_class(span_s, version, count, expected / k as f64, SimDuration::ZERO);
            return;
        }
        let mut remaining = count;
        for j in 0..k {
            let m = if j + 1 == k {
                remaining
            } else {
                binomial(remaining, 1.0 / (k - j) as f64, &mut self.streams.routing)
            };
            remaining -= m;
            if m == 0 {
                continue;
            }
            let instance = self.routable[v][j];
            let uptime = self.instances[instance.0 as usize]
                .running_since
                .map_or(SimDuration::ZERO, |t| now - t);
            self.serve_class(span_s, version, m, expected / k as f64, uptime);
        }
    }

    /// Draws the outcomes of `m` requests to instances of `version` that
    /// share one uptime, each offered `per_instance` requests on average over
    /// the stretch of `span_s` seconds.
    fn serve_class(&mut self, span_s: f64, version: Version, m: u64, per_instance: f64, uptime: SimDuration) {
        let v = version.index();
        let factor = self.faults.latency_factor(version, uptime);
        let service = self.versions[v].latency.scaled(factor);
        // With a capacity model, the stretch's queue at each instance; the
        // same offered rate and service give the same queue, kept from the
        // last stretch rather than recomputed (a pure function of the key).
        let queue = match (self.capacity.clone(), self.queue_stats.as_ref()) {
            (Some(cap), Some(stats)) => {
                let key = [per_instance.to_bits(), span_s.to_bits(), factor.to_bits()];
                Some(match self.queue_cache[v].take() {
                    Some(kept) if kept.key == key => kept,
                    _ => {
                        let q = super::queueing::tick(
                            per_instance,
                            span_s,
                            cap.concurrency,
                            service.mean(),
                            cap.queue_timeout.as_secs_f64(),
                        );
                        QueueState {
                            key,
                            model: BucketModel::from_cdf(
                                |x| super::queueing::served_latency_cdf(&service, &q.waits, q.p_timeout, x),
                                self.metrics.bounds_s(),
                                self.latency_slo_s,
                            ),
                            shape: stats[v].shape(&q),
                            queue: q,
                            timeout: cap.queue_timeout,
                        }
                    }
                })
            }
            _ => None,
        };
        let timed_out = match &queue {
            Some(state) => binomial(m, state.queue.p_timeout, &mut self.streams.latency),
            None => 0,
        };
        let owned;
        let model = match &queue {
            Some(state) => &state.model,
            None if factor == 1.0 => &self.buckets[v],
            None => {
                owned = BucketModel::new(&service, self.metrics.bounds_s(), self.latency_slo_s);
                &owned
            }
        };
        // Timed-out requests fail at the timeout; the rest are served.
        let served = m - timed_out;
        let slow = if self.latency_slo_s.is_some() {
            binomial(served, model.p_slow, &mut self.streams.latency)
        } else {
            0
        };
        self.bucket_scratch.iter_mut().for_each(|b| *b = 0);
        if self.histograms {
            multinomial(
                served - slow,
                &model.fast,
                &mut self.streams.buckets,
                &mut self.bucket_scratch,
            );
            multinomial(slow, &model.slow, &mut self.streams.buckets, &mut self.bucket_scratch);
        }
        // A failure-under-load fault hits the requests that find their
        // instance busier than its threshold: by PASTA, that state's share.
        let base_err = self.versions[v].error_prob;
        let p_err = match (self.faults.load_threshold(), &queue) {
            (Some(share), Some(state)) => {
                let busier = state.queue.p_busier_than(share);
                busier * self.faults.error_prob(base_err, version, uptime, 1.0, false)
                    + (1.0 - busier) * self.faults.error_prob(base_err, version, uptime, 0.0, false)
            }
            _ => self.faults.error_prob(base_err, version, uptime, 0.0, false),
        };
        let errors_slow = binomial(slow, p_err, &mut self.streams.errors);
        let errors_fast = binomial(served - slow, p_err, &mut self.streams.errors);
        let mut errors = errors_slow + errors_fast;
        if let Some(state) = queue {
            if let Some(stats) = self.queue_stats.as_mut() {
                stats[v].add_shape(m as f64, &state.shape);
            }
            self.totals.timed_out[v] += timed_out;
            if self.histograms {
                self.bucket_scratch[self.metrics.bucket_of(state.timeout.as_secs_f64())] += timed_out;
            }
            errors += timed_out;
            self.queue_cache[v] = Some(state);
        }
        self.totals.routed[v] += m;
        self.totals.errors[v] += errors;
        self.totals.failed[v] += slow + errors_fast + timed_out;
        let scratch = std::mem::take(&mut self.bucket_scratch);
        self.metrics.record_counts(version, m, errors, &scratch);
        self.bucket_scratch = scratch;
    }
}

#[cfg(test)]
#[path = "world_fleet_tests.rs"]
mod fleet_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream, Subsystem};

    #[test]
    fn multinomial_conserves_and_matches_probabilities() {
        // 100,000 draws over probabilities 0.5/0.3/0.2: each count has sd at
        // most sqrt(100000 * 0.25) = 158; 5 sd = 790.
        let mut rng = stream(9, 0, Subsystem::Latency);
        let mut out = [0u64; 3];
        multinomial(100_000, &[0.5, 0.3, 0.2], &mut rng, &mut out);
        assert_eq!(out.iter().sum::<u64>(), 100_000);
        for (got, p) in out.iter().zip([0.5, 0.3, 0.2]) {
            assert!((*got as f64 - 100_000.0 * p).abs() < 790.0, "{out:?}");
        }
    }

    #[test]
    fn bucket_model_splits_at_the_slo() {
        let lat = LatencyDist::lognormal(0.05, 0.5);
        let m = BucketModel::new(&lat, &[0.025, 0.05, 0.1, 0.25], Some(0.1));
        assert!((m.fast.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((m.slow.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // Nothing under the SLO lands above it and vice versa.
        assert_eq!(m.fast[3], 0.0);
        assert_eq!(m.slow[0] + m.slow[1] + m.slow[2], 0.0);
        assert!((m.p_slow - (1.0 - lat.cdf(0.1))).abs() < 1e-12);
    }
}
