//! Validated scenario types: what the rest of the crate builds from. Every
//! value here has passed its checks, so the simulator never re-validates.

use crate::engine::SimDuration;
use crate::model::dist::{DurationDist, LatencyDist};

/// How requests are simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fidelity {
    /// Every request is an event: exact, for teaching and queueing.
    Request,
    /// Per tick: Poisson counts, binomial errors, multinomial latency buckets.
    Aggregate,
}

impl Fidelity {
    /// The name used in files and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Request => "request",
            Fidelity::Aggregate => "aggregate",
        }
    }
}

/// A complete, valid scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Scenario name (file stem unless set).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Seed used by `run` unless `--seed` is given.
    pub seed: u64,
    /// Request or aggregate simulation.
    pub fidelity: Fidelity,
    /// Run length.
    pub simulation: SimulationSpec,
    /// The fleet.
    pub fleet: FleetSpec,
    /// Health checks.
    pub health_check: HealthCheckSpec,
    /// Traffic.
    pub traffic: TrafficSpec,
    /// Behaviour of the stable version.
    pub stable: VersionSpec,
    /// The release: its quality and the new version's behaviour.
    pub release: ReleaseSpec,
    /// Metrics collection.
    pub metrics: MetricsSpec,
    /// The deployment strategy.
    pub strategy: StrategySpec,
}

/// `[simulation]`.
#[derive(Clone, Debug)]
pub struct SimulationSpec {
    /// The simulated clock never passes this.
    pub max_duration: SimDuration,
    /// Simulated time after the rollout reaches a final phase.
    pub cooldown: SimDuration,
    /// Aggregate-mode tick.
    pub tick: SimDuration,
}

/// `[fleet]`.
#[derive(Clone, Debug)]
pub struct FleetSpec {
    /// Stable instances at t = 0 (and the size of a fully rolled-out fleet).
    pub instances: u32,
    /// Provision request to machine available.
    pub provision_time: DurationDist,
    /// Machine available to process running.
    pub boot_time: DurationDist,
    /// Stop request to stopped.
    pub stop_time: DurationDist,
}

/// `[health_check]`.
#[derive(Clone, Debug)]
pub struct HealthCheckSpec {
    /// Time between probes.
    pub interval: SimDuration,
    /// A probe slower than this fails.
    pub timeout: SimDuration,
    /// Consecutive successes to become healthy.
    pub healthy_threshold: u32,
    /// Consecutive failures to become unhealthy.
    pub unhealthy_threshold: u32,
    /// Delay after boot before the first probe.
    pub initial_delay: SimDuration,
    /// Status codes counted as success.
    pub expected_status_codes: Vec<u16>,
    /// New instances are healthy as soon as they run.
    pub start_healthy: bool,
}

/// `[traffic]`.
#[derive(Clone, Debug)]
pub struct TrafficSpec {
    /// Poisson arrival rate.
    pub rate_rps: f64,
    /// Requests slower than this count as failed (blast radius, availability).
    pub latency_slo: Option<SimDuration>,
}

/// How one version serves requests and answers probes.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionSpec {
    /// Version label, e.g. `v1.4.2`.
    pub label: String,
    /// Probability that a request fails (0..=1).
    pub error_prob: f64,
    /// Latency distribution.
    pub latency: LatencyDist,
    /// Probability that a health probe fails (0..=1).
    pub probe_failure_prob: f64,
    /// Status code the health endpoint answers with when it does not fail.
    pub health_status_code: u16,
    /// Probability that an instance of this version fails to boot (0..=1).
    pub boot_failure_prob: f64,
}

/// Whether the release really is worse than stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    /// Behaves like stable.
    Good,
    /// Worse in at least one way.
    Bad,
}

impl Quality {
    /// `good` or `bad`.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Bad => "bad",
        }
    }
}

/// `[release]`.
#[derive(Clone, Debug)]
pub struct ReleaseSpec {
    /// Good or bad.
    pub quality: Quality,
    /// How the new version behaves.
    pub new: VersionSpec,
}

/// `[metrics]`.
#[derive(Clone, Debug)]
pub struct MetricsSpec {
    /// Time between scrapes (scrapes are aligned at t = 0).
    pub scrape_interval: SimDuration,
    /// Upper bounds of the finite latency buckets, strictly increasing.
    pub buckets: Vec<SimDuration>,
}

/// `[strategy]`.
#[derive(Clone, Debug)]
pub enum StrategySpec {
    /// No rollout at all: everything stays on stable (the counterfactual).
    None,
    /// The chapter's canary.
    Canary(CanarySpec),
}

impl StrategySpec {
    /// The name used in files and outputs.
    pub fn kind(&self) -> &'static str {
        match self {
            StrategySpec::None => "none",
            StrategySpec::Canary(_) => "canary",
        }
    }
}

/// The chapter's canary: a weight that grows by steps while success criteria
/// are checked.
#[derive(Clone, Debug, PartialEq)]
pub struct CanarySpec {
    /// When the rollout begins.
    pub start_at: SimDuration,
    /// First canary weight, percent.
    pub initial_weight_pct: f64,
    /// Weight added at each step, percent.
    pub increment_pct: f64,
    /// Time spent at each weight.
    pub increment_interval: SimDuration,
    /// Time between checks of the success criteria.
    pub check_interval: SimDuration,
    /// New instances must be ready within this, or the rollout fails.
    pub progress_deadline: SimDuration,
    /// The success criteria.
    pub criteria: SuccessCriteria,
}

/// The chapter's success criteria, judged over a window of canary metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct SuccessCriteria {
    /// Fail above this error rate, percent.
    pub max_error_rate_pct: Option<f64>,
    /// Fail below this success rate, percent.
    pub min_success_rate_pct: Option<f64>,
    /// Fail above this p99 latency.
    pub max_latency_p99: Option<SimDuration>,
    /// A failed check rolls back only with at least this many requests.
    pub min_request_count: u64,
    /// The query window (t - window, t].
    pub evaluation_window: SimDuration,
}
