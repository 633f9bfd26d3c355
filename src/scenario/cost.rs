//! The cost budget: from a validated scenario, the work and memory one run
//! implies, and a located error when either is beyond its budget.
//!
//! Limits on single fields (`limits`) cannot see products: a fleet of 10,000
//! behind a balancer that scans it on every request, a Kayenta judge whose
//! test sorts window² differences at every evaluation, a crash loop that
//! creates an instance every few seconds per slot. As TigerBeetle does, the
//! estimate puts a number on everything and the run is refused beyond a
//! budget, naming the field that drives the largest share.
//!
//! A work unit is about one event of the loop (an arrival, a completion, a
//! probe, a scrape), 80 to 230 ns on the 2-core reference machine; heavier
//! steps count as several (see the constants, measured against single
//! events). Counts are upper bounds: the whole `max_duration`, every probe
//! as if none were skipped, the rate at the peak of the shape with every
//! spike, every trigger evaluated for the whole run, and the counterfactual
//! run (the same seed with no rollout) counted as well. `tests/cost.rs`
//! checks the bound against counted events; the README's "Limits" gives
//! the calibration.

use super::error::FieldError;
use super::limits::{DEFAULT_MEMORY_BUDGET_MB, DEFAULT_WORK_BUDGET};
use super::types::*;
use crate::analysis::detectors::DetectorSpec;
use crate::engine::SimDuration;
use crate::model::balancer::BalancerPolicy;
use crate::model::dist::DurationDist;
use crate::model::faults::{ActiveFaults, FaultKind, FaultTiming};

/// Histogram buckets copied or added per work unit (window queries,
/// scrapes, aggregate draws).
const BUCKETS_PER_UNIT: f64 = 16.0;
/// Arrival candidates drawn and thinned (a shape or spike that moves the
/// rate) per work unit.
const CANDIDATES_PER_UNIT: f64 = 4.0;
/// Candidates a least-outstanding pick reads per work unit.
const LEAST_OUTSTANDING_PER_UNIT: f64 = 32.0;
/// Candidates rendezvous hashing (consistent_hash) scores per work unit.
const HASHES_PER_UNIT: f64 = 10.0;
/// Instances a reconcile or a fault switch walks per work unit.
const INSTANCES_PER_UNIT: f64 = 64.0;
/// Kayenta pair differences (built, then selected three times) per unit.
const PAIRS_PER_UNIT: f64 = 10.0;
/// Binomial tail terms (three ln Γ and an exp each) per unit.
const TERMS_PER_UNIT: f64 = 3.0;
/// Histogram buckets drawn (a binomial each, of a multinomial) per unit in
/// aggregate mode.
const DRAWN_BUCKETS_PER_UNIT: f64 = 2.0;
/// Pending events the queue's heap holds in cache; beyond, each push and
/// pop misses the cache about once per level.
const CACHED_EVENTS: f64 = 4096.0;
/// Work units per heap level past the cached ones.
const UNITS_PER_LEVEL: f64 = 2.0;
/// Work units of a probe that changes an instance's health (the change is
/// recorded, settles aggregate traffic, and reaches the controller).
const FLAP_UNITS: f64 = 3.0;
/// Queue-model servers (aggregate mode with `[capacity]`) per unit.
const SERVERS_PER_UNIT: f64 = 16.0;
/// Sessions a purge walks per unit.
const SESSIONS_PER_UNIT: f64 = 64.0;
/// Events in an instance's life: provisioned, booted, a crash or a stop,
/// stopped, the reconcile that replaces it, its first probe.
const EVENTS_PER_INSTANCE: f64 = 6.0;
/// The shortest life of an instance that fails, seconds, for churn. The
/// crash-loop backoff (10 s and up) does not bound it: a reconcile replaces
/// every dead instance of its version, whichever crash scheduled it.
const SHORTEST_CYCLE_S: f64 = super::limits::MIN_CRASH_LIFE_S as f64;

/// Memory of the process before the run: the binary, the fonts, buffers.
const BASE_BYTES: f64 = 16e6;
/// An instance with its load, probe plan and routing entry.
const INSTANCE_BYTES: f64 = 160.0;
/// A request in flight: its queue entry or completion event.
const REQUEST_BYTES: f64 = 96.0;
/// A session open, and one remembered as harmed (a B-tree entry).
const SESSION_BYTES: f64 = 40.0;
/// A timeline row with its CSV text.
const ROW_BYTES: f64 = 600.0;
/// A recorded event with its CSV text.
const EVENT_BYTES: f64 = 160.0;
/// A fault switch drawn at the start (its occurrence and queued event):
/// measured at 48 to 80 bytes, the event heap's doubling included (the
/// swarm's heavy shapes found 32 too few).
const SWITCH_BYTES: f64 = 128.0;
/// A game kept to the end of the run, with its floor entries.
const GAME_BYTES: f64 = 96.0;

/// One thing that costs: the field that drives it, what it is, and its work
/// (or bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    /// The field to blame, a dotted path as in errors.
    pub field: String,
    /// What costs, in words, for the message.
    pub what: String,
    /// What would lower it, for the message.
    pub hint: String,
    /// Work units (or bytes, for a memory share).
    pub amount: f64,
}

/// The estimate of one run (with its counterfactual).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cost {
    /// Events the loop handles, at most (what `RunResult::events_handled`
    /// counts).
    pub events: f64,
    /// Work units.
    pub work: f64,
    /// Peak memory, bytes.
    pub memory_bytes: f64,
    /// Where the work goes.
    pub work_shares: Vec<Share>,
    /// Where the memory goes.
    pub memory_shares: Vec<Share>,
}

impl Cost {
    fn work(&mut self, field: &str, what: String, hint: &str, events: f64, work: f64) {
        self.events += events;
        self.work += work;
        if work > 0.0 {
            self.work_shares.push(Share {
                field: field.into(),
                what,
                hint: hint.into(),
                amount: work,
            });
        }
    }

    fn memory(&mut self, field: &str, what: String, hint: &str, bytes: f64) {
        self.memory_bytes += bytes;
        if bytes > 0.0 {
            self.memory_shares.push(Share {
                field: field.into(),
                what,
                hint: hint.into(),
                amount: bytes,
            });
        }
    }

    /// The largest work share.
    pub fn largest_work(&self) -> Option<&Share> {
        self.work_shares.iter().max_by(|a, b| a.amount.total_cmp(&b.amount))
    }

    /// The largest memory share.
    pub fn largest_memory(&self) -> Option<&Share> {
        self.memory_shares.iter().max_by(|a, b| a.amount.total_cmp(&b.amount))
    }
}

/// A trigger kind's name, for messages.
fn kind_name(k: &TriggerKind) -> &'static str {
    match k {
        TriggerKind::ErrorRate { .. } => "error_rate",
        TriggerKind::Latency { .. } => "latency",
        TriggerKind::Availability { .. } => "availability",
        TriggerKind::CustomMetric { .. } => "custom_metric",
        TriggerKind::Game { .. } => "gaming",
        TriggerKind::BurnRate { .. } => "burn_rate",
        TriggerKind::Binomial { .. } => "binomial",
        TriggerKind::Detector(_) => "detector",
        TriggerKind::Kayenta(_) => "kayenta",
        TriggerKind::Manual { .. } => "manual",
    }
}

/// The shortest a duration distribution can draw.
fn shortest(d: &DurationDist) -> f64 {
    match d {
        DurationDist::Fixed(x) => x.as_secs_f64(),
        DurationDist::Uniform { min, .. } => min.as_secs_f64(),
        _ => 0.0,
    }
}

fn secs(d: SimDuration) -> f64 {
    d.as_secs_f64().max(1e-6)
}

/// How long fault `timing` is on within a run of `t` seconds, at most.
fn time_on(timing: &FaultTiming, t: f64) -> f64 {
    match timing {
        FaultTiming::Scheduled { at, duration } => {
            let left = (t - at.as_secs_f64()).max(0.0);
            duration.map_or(left, |d| d.as_secs_f64().min(left))
        }
        // Poisson occurrences: the mean plus three standard deviations.
        FaultTiming::Random { per_hour, duration } => {
            let mean = per_hour * t / 3600.0;
            ((mean + 3.0 * mean.sqrt() + 1.0) * duration.as_secs_f64()).min(t)
        }
    }
}

/// Requests that can arrive in `t` seconds (per run): the shape's highest
/// base rate for the whole run plus, for each spike (of the shape or a
/// traffic-spike fault), its extra share while it is on, every other spike
/// at its height. Exact for a constant rate; never below the count drawn.
fn requests_bound(s: &Scenario, t: f64) -> f64 {
    use crate::model::traffic::BaseShape;
    let base = match &s.traffic.shape.base {
        BaseShape::Constant(r) => *r,
        BaseShape::Diurnal { peak, trough, .. } => peak.max(*trough),
        BaseShape::Replay(series) => series.max_rps(),
    };
    // (multiplier, seconds on) of every spike.
    let mut spikes: Vec<(f64, f64)> = s
        .traffic
        .shape
        .spikes
        .iter()
        .map(|sp| (sp.multiplier.max(1.0), (sp.end_s.min(t) - sp.start_s).max(0.0)))
        .collect();
    spikes.extend(s.faults.iter().filter_map(|f| match f.kind {
        FaultKind::TrafficSpike { multiplier } => Some((multiplier.max(1.0), time_on(&f.timing, t))),
        _ => None,
    }));
    // Π (1 + a_i x_i) <= 1 + Σ a_i x_i Π_{j != i} (1 + a_j) for x in {0, 1}.
    let all: f64 = spikes.iter().map(|(m, _)| m).product();
    let extra: f64 = spikes.iter().map(|(m, on)| (m - 1.0) * on * all / m).sum();
    // The drawn count can pass its mean: add six standard deviations.
    let mean = base * (t + extra);
    mean + 6.0 * mean.sqrt() + 10.0
}

/// Times fault `timing` switches on or off within `t` seconds, at most.
fn switches(timing: &FaultTiming, t: f64) -> f64 {
    match timing {
        FaultTiming::Scheduled { .. } => 2.0,
        // Poisson occurrences: the mean plus six standard deviations.
        FaultTiming::Random { per_hour, .. } => {
            let mean = per_hour * t / 3600.0;
            2.0 * (mean + 6.0 * mean.sqrt() + 1.0)
        }
    }
}

/// Work of one evaluation of `trigger` (a rollback trigger or a judge),
/// with `window` the cost of one window query and `errors_rps` the highest
/// rate of errors.
fn trigger_work(trigger: &TriggerSpec, window: f64, errors_rps: f64) -> f64 {
    // A service-wide window is two queries and a sum.
    let service = 2.0 * window + 1.0;
    match &trigger.kind {
        TriggerKind::Manual { .. } => 0.0,
        TriggerKind::BurnRate { windows, .. } => windows.len() as f64 * 2.0 * service,
        TriggerKind::Binomial { window: w, .. } => {
            // The tail is summed a few standard deviations past the count:
            // at most about ten times the root of the window's errors.
            let errors = errors_rps * w.as_secs_f64();
            2.0 * window + (10.0 + 10.0 * errors.sqrt()) / TERMS_PER_UNIT
        }
        TriggerKind::Detector(DetectorSpec::Sprt { .. } | DetectorSpec::Cusum { .. } | DetectorSpec::Ewma { .. }) => {
            service
        }
        TriggerKind::Kayenta(k) => {
            let points = (k.window.0 / k.step.0.max(1)) as f64;
            // Two window queries per point, then per metric the pooled sort
            // and the points² differences of the Hodges-Lehmann interval.
            let per_metric = (points * points + 2.0 * points * (2.0 * points).max(2.0).log2()) / PAIRS_PER_UNIT;
            2.0 * points * window + k.metrics.len() as f64 * per_metric
        }
        _ => service,
    }
}

/// The peak memory of one Kayenta evaluation's differences, bytes.
fn kayenta_bytes(trigger: &TriggerSpec) -> f64 {
    match &trigger.kind {
        TriggerKind::Kayenta(k) => {
            let points = (k.window.0 / k.step.0.max(1)) as f64;
            8.0 * points * points + 64.0 * points
        }
        _ => 0.0,
    }
}

/// Estimates the work and memory of one run of `s` (and its counterfactual).
pub fn estimate(s: &Scenario) -> Cost {
    let mut cost = Cost::default();
    let t = s.simulation.max_duration.as_secs_f64();
    let n = f64::from(s.fleet.instances);
    let rollout = !matches!(s.strategy, StrategySpec::None);
    // The counterfactual replays the run with no rollout: stable only.
    let runs = if rollout { 2.0 } else { 1.0 };
    let faults = ActiveFaults::new(s.faults.clone());
    let peak_rps = s.traffic.shape.max_rate() * faults.max_rate_factor();
    let rate_field = match s.traffic.shape.base {
        crate::model::traffic::BaseShape::Constant(_) => "traffic.rate_rps",
        crate::model::traffic::BaseShape::Diurnal { .. } => "traffic.peak_rps",
        crate::model::traffic::BaseShape::Replay(_) => "traffic.replay_file",
    };
    // Errors can come at the whole rate once a fault, or a queue timing
    // out, fails requests; otherwise at the worse version's error rate.
    let erring = s.capacity.is_some()
        || s.faults.iter().any(|f| {
            matches!(
                f.kind,
                FaultKind::ErrorRate { .. }
                    | FaultKind::DependencyOutage { .. }
                    | FaultKind::FailureUnderLoad { .. }
                    | FaultKind::FailureForSegment { .. }
                    | FaultKind::MemoryLeak { .. }
            )
        });
    let p_error = if erring {
        1.0
    } else {
        s.stable.error_prob.max(s.release.new.error_prob)
    };
    let errors_rps = peak_rps * p_error;
    let buckets = s.metrics.buckets.len() as f64 + 1.0;
    let window = 1.0 + 2.0 * buckets / BUCKETS_PER_UNIT;
    // Running instances are at most both versions' desired counts (the
    // counterfactual: stable alone); a rolling surge adds to a pool.
    let alive = if rollout { 2.0 * n } else { n };
    let surge = match &s.strategy {
        StrategySpec::Rolling(r) => f64::from(r.max_surge).min(n),
        _ => 0.0,
    };

    // Instances created: the new fleet and a full recovery, plus what
    // failing boots and crash faults replace: one per slot per life (the
    // shortest provision and boot, and the time to the crash), lives of at
    // least a second.
    let boot_s = shortest(&s.fleet.provision_time) + shortest(&s.fleet.boot_time);
    let per_instance = EVENTS_PER_INSTANCE + alive / INSTANCES_PER_UNIT + s.faults.len() as f64;
    let mut created = if rollout { 2.0 * n } else { 0.0 };
    cost.work(
        "fleet.instances",
        format!("{n} instances started for the rollout and its recovery"),
        "fewer instances",
        created * EVENTS_PER_INSTANCE,
        created * per_instance,
    );
    let mut churn = |field: String, what: &str, slots: f64, on_s: f64, cycle_s: f64| {
        let replaced = slots * on_s / cycle_s.max(SHORTEST_CYCLE_S);
        created += replaced;
        cost.work(
            &field,
            format!("{what}: about {replaced:.2e} instances replaced"),
            "fewer instances, a shorter fault, or a shorter run",
            replaced * EVENTS_PER_INSTANCE,
            replaced * per_instance,
        );
    };
    if rollout && s.release.new.boot_failure_prob > 0.0 {
        churn(
            "release.boot_failure_pct".into(),
            "new instances failing to boot",
            n,
            t,
            boot_s,
        );
    }
    for (i, f) in s.faults.iter().enumerate() {
        let on = time_on(&f.timing, t);
        let field = format!("faults[{i}]");
        match f.kind {
            FaultKind::CrashOnBoot { .. } if rollout => {
                churn(field, "crash_on_boot", n, on, boot_s);
            }
            FaultKind::CrashLoop { after } if rollout => {
                churn(field, "crash_loop", n, on, after.as_secs_f64() + boot_s);
            }
            FaultKind::InstanceCrashes { mtbf } => {
                let slots = alive + if rollout { n } else { 0.0 };
                churn(field, "instance_crashes", slots, on, mtbf.as_secs_f64() + boot_s);
            }
            FaultKind::ZoneOutage { zones, .. } => {
                let slots = ((alive + n) / f64::from(zones)).ceil();
                churn(field, "zone_outage", slots, on, boot_s);
            }
            _ => {}
        }
    }
    // Fault switches walk every instance ever created (crash plans, probe
    // replans); a run draws and queues them all at its start.
    for (i, f) in s.faults.iter().enumerate() {
        let k = switches(&f.timing, t) * runs;
        let field = match f.timing {
            FaultTiming::Random { .. } => format!("faults[{i}].rate_per_hour"),
            FaultTiming::Scheduled { .. } => format!("faults[{i}]"),
        };
        cost.work(
            &field,
            format!("about {k:.0} fault switches, each over every instance"),
            "a lower rate_per_hour",
            k,
            k * (1.0 + (created + alive) / INSTANCES_PER_UNIT),
        );
        cost.memory(
            &field,
            format!("about {k:.0} fault switches drawn and queued at the start"),
            "a lower rate_per_hour",
            k / runs * SWITCH_BYTES,
        );
    }
    cost.memory(
        "fleet.instances",
        format!("{:.2e} instances created", created + alive),
        "fewer instances, or less churn",
        (created + alive) * INSTANCE_BYTES,
    );

    // Health probes: every probe of every running instance, as if none
    // were skipped; with flaky probes each may change health.
    let probes = (alive + if rollout { n } else { 0.0 }) * t / secs(s.health_check.interval);
    let flaps = if s.release.new.probe_failure_prob > 0.0
        || s.faults
            .iter()
            .any(|f| matches!(f.kind, FaultKind::FlakyHealthChecks { .. }))
    {
        probes
    } else {
        0.0
    };
    cost.work(
        "health_check.interval",
        format!("{probes:.2e} health probes"),
        "a longer probe interval, fewer instances, or a shorter run",
        probes,
        probes + flaps * FLAP_UNITS,
    );

    // Traffic.
    let sessions_live = s.sessions.as_ref().map_or(0.0, |sp| {
        (peak_rps / sp.mean_requests * sp.mean_duration.as_secs_f64()).max(1.0)
    });
    let sessions_total = s.sessions.as_ref().map_or(0.0, |sp| peak_rps / sp.mean_requests * t);
    match s.fidelity {
        Fidelity::Request => {
            let requests = requests_bound(s, t) * runs;
            // A rate that moves is thinned: candidates come at the peak.
            let candidates = if peak_rps * t * runs > requests * 1.001 {
                peak_rps * t * runs
            } else {
                0.0
            };
            let timeouts = if s.capacity.is_some() { 1.0 } else { 0.0 };
            let sessions = if s.sessions.is_some() { 1.0 } else { 0.0 };
            let service = s.stable.latency.mean().max(s.release.new.latency.mean())
                * faults.max_latency_factor(s.simulation.max_duration);
            let wait = s.capacity.as_ref().map_or(0.0, |c| c.queue_timeout.as_secs_f64());
            let in_flight = peak_rps * (service + wait);
            // Each request's events pass through the queue's heap, which
            // holds about the requests in flight.
            let heap = 1.0 + (in_flight / CACHED_EVENTS).log2().max(0.0) * UNITS_PER_LEVEL;
            cost.work(
                rate_field,
                format!("{requests:.2e} simulated requests (the counterfactual run's included)"),
                "a lower rate, a shorter run, or fidelity = \"aggregate\"",
                requests * (2.0 + timeouts),
                requests * ((2.0 + timeouts) * heap + sessions) + candidates / CANDIDATES_PER_UNIT,
            );
            let pool = n + surge;
            let per_pick = match s.traffic.balancer {
                BalancerPolicy::LeastOutstanding => pool / LEAST_OUTSTANDING_PER_UNIT,
                BalancerPolicy::ConsistentHash => pool / HASHES_PER_UNIT,
                _ => 0.0,
            };
            cost.work(
                "fleet.instances",
                format!(
                    "fleet.instances with balancer {}: {pool} candidates read per request, {requests:.2e} requests",
                    s.traffic.balancer.as_str()
                ),
                "fewer instances, a lower rate, or balancer = \"random\" or \"round_robin\"",
                0.0,
                requests * per_pick,
            );
            cost.memory(
                rate_field,
                format!("{in_flight:.2e} requests in flight or queued"),
                "a lower rate or latency, or fidelity = \"aggregate\"",
                in_flight * REQUEST_BYTES,
            );
        }
        Fidelity::Aggregate => {
            // A draw at every tick where the odds drift, every scrape, every
            // timeline row and every instance change; each draws per class
            // (a version, or each instance when uptime matters).
            let flat = matches!(s.traffic.shape.base, crate::model::traffic::BaseShape::Constant(_))
                && s.traffic.shape.spikes.is_empty()
                && !s
                    .faults
                    .iter()
                    .any(|f| matches!(f.kind, FaultKind::TrafficSpike { .. }));
            let leak = s
                .faults
                .iter()
                .position(|f| matches!(f.kind, FaultKind::MemoryLeak { .. }));
            let ticks = if flat && leak.is_none() {
                0.0
            } else {
                t / secs(s.simulation.tick) * runs
            };
            let scrapes = t / secs(s.metrics.scrape_interval) * runs;
            let rows = t / secs(s.sample_interval()) * runs;
            let draws = ticks + scrapes + rows + created * 4.0;
            let field = if ticks > scrapes {
                "simulation.tick"
            } else {
                "metrics.scrape_interval"
            };
            let servers = s.capacity.as_ref().map_or(0.0, |c| f64::from(c.concurrency));
            let per_class = 1.0 + buckets / DRAWN_BUCKETS_PER_UNIT + servers / SERVERS_PER_UNIT;
            cost.work(
                field,
                format!("{ticks:.2e} aggregate ticks, {draws:.2e} draws of counts"),
                "a longer tick or scrape interval, or a shorter run",
                ticks,
                draws * (1.0 + 2.0 * per_class),
            );
            if let Some(i) = leak {
                cost.work(
                    &format!("faults[{i}]"),
                    format!("a memory_leak fault draws each of up to {alive} instances apart, {draws:.2e} times"),
                    "fewer instances, a longer tick, or a shorter run",
                    0.0,
                    draws * alive * per_class,
                );
            }
        }
    }
    if s.sessions.is_some() {
        let scrapes = t / secs(s.metrics.scrape_interval) * runs;
        cost.work(
            "sessions.mean_duration",
            format!("{sessions_live:.2e} open sessions walked at each of {scrapes:.2e} scrapes"),
            "shorter sessions, a lower rate, or a longer scrape interval",
            0.0,
            scrapes * sessions_live / SESSIONS_PER_UNIT,
        );
        cost.memory(
            "sessions.mean_requests",
            format!("{sessions_total:.2e} sessions opened, {sessions_live:.2e} open at once"),
            "longer sessions (more requests each), a lower rate, or a shorter run",
            (sessions_total + sessions_live) * SESSION_BYTES,
        );
    }

    // Scrapes: each keeps both versions' counters for the run's queries.
    let scrapes = t / secs(s.metrics.scrape_interval);
    cost.work(
        "metrics.scrape_interval",
        format!("{scrapes:.2e} scrapes of {buckets} buckets"),
        "a longer scrape interval or fewer buckets",
        scrapes * runs,
        scrapes * runs * window,
    );
    let scrape_bytes = 2.0 * (buckets * 8.0 + std::mem::size_of::<crate::model::metrics::Counters>() as f64)
        + 2.0 * std::mem::size_of::<crate::model::metrics::Gauges>() as f64
        + 16.0;
    cost.memory(
        "metrics.scrape_interval",
        format!("{scrapes:.2e} scrapes kept for the run's queries"),
        "a longer scrape interval or fewer buckets",
        scrapes * scrape_bytes,
    );

    // The controller: checks, judges, analyses.
    let mut checks = 0.0;
    let judge = |cost: &mut Cost, at: &str, judges: &[TriggerSpec], every: f64| {
        for (i, j) in judges.iter().enumerate() {
            let k = t / every;
            let each = trigger_work(j, window, errors_rps);
            cost.work(
                &format!("{at}[{i}]"),
                format!(
                    "a {} judge at {k:.2e} checks, {each:.2e} work units each",
                    kind_name(&j.kind)
                ),
                "fewer data points (a shorter window or a longer step) or a longer check interval",
                0.0,
                k * each,
            );
            cost.memory(
                &format!("{at}[{i}]"),
                "its data points".into(),
                "fewer data points",
                kayenta_bytes(j),
            );
        }
    };
    match &s.strategy {
        StrategySpec::Canary(c) => {
            let every = secs(c.check_interval);
            checks = criteria_checks(&mut cost, t / every, window);
            judge(&mut cost, "strategy.success_criteria.judges", &c.criteria.judges, every);
            for (i, m) in c.analysis.iter().enumerate() {
                let k = m
                    .count
                    .map_or(t / secs(m.interval), |n| f64::from(n).min(t / secs(m.interval)));
                checks += k;
                cost.work(
                    &format!("strategy.analysis[{i}].interval"),
                    format!("{k:.2e} measurements"),
                    "a longer interval or a count",
                    k,
                    k * (1.0 + 2.0 * window),
                );
            }
        }
        StrategySpec::BlueGreen(b) => {
            let every = secs(b.check_interval);
            checks = criteria_checks(&mut cost, t / every, window);
            judge(&mut cost, "strategy.judges", &b.judges, every);
        }
        StrategySpec::Flagger(f) => {
            let every = secs(f.interval);
            checks = t / every;
            cost.work(
                "strategy.interval",
                format!("{checks:.2e} checks of {} metrics", f.metrics.len()),
                "a longer interval",
                checks,
                checks * (1.0 + f.metrics.len() as f64 * 2.0 * window),
            );
            judge(&mut cost, "strategy.judges", &f.judges, every);
        }
        _ => {}
    }
    let evaluations = if s.rollback.triggers.is_empty() {
        0.0
    } else {
        t / secs(s.rollback.evaluate_interval)
    };
    cost.work(
        "rollback.evaluate_interval",
        format!("{evaluations:.2e} trigger evaluations"),
        "a longer evaluate_interval",
        evaluations,
        evaluations,
    );
    for (i, tr) in s.rollback.triggers.iter().enumerate() {
        let each = trigger_work(tr, window, errors_rps);
        cost.work(
            &format!("rollback.triggers[{i}]"),
            format!(
                "a {} trigger at {evaluations:.2e} evaluations, {each:.2e} work units each",
                kind_name(&tr.kind)
            ),
            "fewer data points (a shorter window or a longer step) or a longer rollback.evaluate_interval",
            0.0,
            evaluations * each,
        );
        cost.memory(
            &format!("rollback.triggers[{i}]"),
            "its data points".into(),
            "fewer data points",
            kayenta_bytes(tr),
        );
    }

    // Games: phases are events; bets, rolls and payouts are operations.
    if let Some(g) = &s.gaming {
        let games = g.games_per_minute / 60.0 * t * runs;
        let rounds = f64::from(g.rounds.1);
        let events = games * (2.0 + 3.0 * rounds);
        cost.work(
            "gaming.games_per_minute",
            format!("{games:.2e} games of up to {rounds} rounds of {} players", g.players.1),
            "fewer games a minute, fewer rounds or players, or a shorter run",
            events,
            events + games * rounds * f64::from(g.players.1 + 2),
        );
        cost.memory(
            "gaming.games_per_minute",
            format!("{games:.2e} games kept to the end"),
            "fewer games a minute or a shorter run",
            games / runs * GAME_BYTES,
        );
    }

    // Timeline rows (the run's) and samples that only settle (the
    // counterfactual's, when they fall between scrapes).
    let sample = s.sample_interval();
    let sample_field = match &s.strategy {
        StrategySpec::Canary(_) | StrategySpec::BlueGreen(_) => "strategy.check_interval",
        StrategySpec::Flagger(_) => "strategy.interval",
        _ => "metrics.scrape_interval",
    };
    let rows = t / secs(sample) + 1.0;
    cost.work(
        sample_field,
        format!("{rows:.2e} timeline rows"),
        "a longer interval",
        rows * runs,
        rows * runs * 2.0,
    );
    cost.memory(
        sample_field,
        format!("{rows:.2e} timeline rows"),
        "a longer interval or a shorter run",
        rows * ROW_BYTES,
    );
    // Recorded events: an instance's status and health changes, every
    // check's report, fault switches; flapping probes can change health at
    // each probe.
    let recorded = (created + alive) * 8.0 + 3.0 * checks + flaps + 100.0;
    cost.memory(
        "health_check.interval",
        format!("{recorded:.2e} recorded events"),
        "fewer instances or less churn, fewer checks, or a shorter run",
        recorded * EVENT_BYTES,
    );
    cost.memory("", "the program itself".into(), "", BASE_BYTES);
    cost.events += 2.0 * runs + 10.0;
    cost
}

/// `checks` success-criteria checks every `check_interval` (a canary's or
/// blue-green's), each reading four windows; returns `checks`.
fn criteria_checks(cost: &mut Cost, checks: f64, window: f64) -> f64 {
    cost.work(
        "strategy.check_interval",
        format!("{checks:.2e} checks"),
        "a longer check_interval",
        checks,
        checks * (1.0 + 4.0 * window),
    );
    checks
}

/// The run's budget check: errors for work or memory beyond the scenario's
/// budgets, each at the field that drives the largest share.
pub fn check(s: &Scenario) -> Vec<FieldError> {
    let cost = estimate(s);
    let mut errors = Vec::new();
    let budget = s.simulation.work_budget;
    if cost.work > budget {
        if let Some(top) = cost.largest_work() {
            errors.push(FieldError::new(
                top.field.clone(),
                format!(
                    "{}: ~{:.1e} work units of the {budget:.1e} budget (the whole run: ~{:.1e}; one unit is about \
                     one event, 0.1 to 0.3 µs)",
                    top.what, top.amount, cost.work
                ),
                format!(
                    "{}; or raise `simulation.work_budget` (default {DEFAULT_WORK_BUDGET:.0e}) on purpose",
                    top.hint
                ),
            ));
        }
    }
    let mb = cost.memory_bytes / 1e6;
    let mb_budget = s.simulation.memory_budget_mb;
    if mb > mb_budget {
        if let Some(top) = cost.largest_memory() {
            errors.push(FieldError::new(
                top.field.clone(),
                format!(
                    "{}: ~{:.0} MB of the {mb_budget:.0} MB memory budget (the whole run: ~{mb:.0} MB)",
                    top.what,
                    top.amount / 1e6
                ),
                format!(
                    "{}; or raise `simulation.memory_budget_mb` (default {DEFAULT_MEMORY_BUDGET_MB:.0}) on purpose",
                    top.hint
                ),
            ));
        }
    }
    errors
}
