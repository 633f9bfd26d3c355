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
    /// Per-instance capacity; `None` means unlimited (no queueing).
    pub capacity: Option<CapacitySpec>,
    /// User sessions; `None` means requests belong to no one.
    pub sessions: Option<crate::model::sessions::SessionSpec>,
    /// Games and the gaming-aware rollout; `None` means no games.
    pub gaming: Option<crate::model::games::GamingSpec>,
    /// Behaviour of the stable version.
    pub stable: VersionSpec,
    /// The release: its quality and the new version's behaviour.
    pub release: ReleaseSpec,
    /// Metrics collection.
    pub metrics: MetricsSpec,
    /// The deployment strategy.
    pub strategy: StrategySpec,
    /// Rollback triggers and recovery.
    pub rollback: RollbackSpec,
    /// Injected faults.
    pub faults: Vec<crate::model::faults::FaultSpec>,
}

impl Scenario {
    /// The interval of timeline rows: the checks' interval, or the scrape
    /// interval for strategies without checks.
    pub fn sample_interval(&self) -> SimDuration {
        match &self.strategy {
            StrategySpec::Canary(c) => c.check_interval,
            StrategySpec::BlueGreen(b) => b.check_interval,
            StrategySpec::Flagger(f) => f.interval,
            _ => self.metrics.scrape_interval,
        }
    }

    /// Whether a controller, judge, analysis or trigger reads latency
    /// percentiles (aggregate runs skip drawing latency histograms when
    /// nothing does): a canary's p99 criterion, a latency judge or an Argo
    /// p99 query, blue-green validation, a Flagger request-duration metric or
    /// latency judge, or a latency trigger (Kayenta's latency metrics
    /// included).
    pub fn reads_latency(&self) -> bool {
        let any = |ts: &[TriggerSpec]| ts.iter().any(|t| t.kind.reads_latency());
        let strategy = match &self.strategy {
            StrategySpec::Canary(c) => {
                c.criteria.max_latency_p99.is_some()
                    || any(&c.criteria.judges)
                    || c.analysis
                        .iter()
                        .any(|m| m.query == crate::analysis::argo::Query::P99Ms)
            }
            StrategySpec::BlueGreen(_) => true,
            StrategySpec::Flagger(f) => {
                f.metrics.iter().any(|m| m.kind == FlaggerMetricKind::RequestDuration) || any(&f.judges)
            }
            _ => false,
        };
        strategy || any(&self.rollback.triggers)
    }
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
    /// Work units one run may cost (`scenario::cost`).
    pub work_budget: f64,
    /// Memory one run may take, MB (`scenario::cost`).
    pub memory_budget_mb: f64,
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
    /// Memory of a freshly started instance, MB.
    pub memory_mb: f64,
    /// CPU time one request costs, milliseconds (for CPU utilisation).
    pub cpu_ms_per_request: f64,
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
    /// The arrival rate over time (arrivals are Poisson at that rate).
    pub shape: crate::model::traffic::TrafficShape,
    /// Requests slower than this count as failed (blast radius, availability).
    pub latency_slo: Option<SimDuration>,
    /// How the balancer picks an instance.
    pub balancer: crate::model::balancer::BalancerPolicy,
}

/// `[capacity]`: each instance serves `concurrency` requests at once and
/// queues the rest (first in, first out); the version's latency is then its
/// service time, and a request's latency is its wait plus its service.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacitySpec {
    /// Servers per instance.
    pub concurrency: u32,
    /// A request that waits longer than this fails (a timeout).
    pub queue_timeout: SimDuration,
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
    /// Memory growth of each running instance, MB per hour of uptime.
    pub memory_leak_mb_per_hour: f64,
    /// Probability that a game operation fails (0..=1). Games have their
    /// own code path: request errors do not fail them, faults do.
    pub game_error_prob: f64,
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

impl ReleaseSpec {
    /// Whether the new version behaves differently from `stable` in any
    /// way (its label aside): a "bad" release that does not cannot be
    /// caught, only mislabelled.
    pub fn changes_behaviour(&self, stable: &VersionSpec) -> bool {
        let same_label = VersionSpec {
            label: stable.label.clone(),
            ..self.new.clone()
        };
        same_label != *stable
    }
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
    /// Canary: a step program of weights, pauses and analyses.
    Canary(CanarySpec),
    /// Rolling update in batches.
    Rolling(RollingSpec),
    /// Blue-green: a full new fleet, validated, then switched to.
    BlueGreen(BlueGreenSpec),
    /// Recreate: stop everything, then start the new version.
    Recreate(RecreateSpec),
    /// A canary with Flagger's analysis: a check every interval, the weight
    /// moves only after a passing check, rollback after `threshold` failed
    /// checks.
    Flagger(FlaggerSpec),
}

impl StrategySpec {
    /// The name used in files and outputs.
    pub fn kind(&self) -> &'static str {
        match self {
            StrategySpec::None => "none",
            StrategySpec::Canary(_) => "canary",
            StrategySpec::Rolling(_) => "rolling",
            StrategySpec::BlueGreen(_) => "blue_green",
            StrategySpec::Recreate(_) => "recreate",
            StrategySpec::Flagger(_) => "flagger",
        }
    }

    /// When the rollout begins.
    pub fn start_at(&self) -> SimDuration {
        match self {
            StrategySpec::None => SimDuration::ZERO,
            StrategySpec::Canary(c) => c.start_at,
            StrategySpec::Rolling(r) => r.start_at,
            StrategySpec::BlueGreen(b) => b.start_at,
            StrategySpec::Recreate(r) => r.start_at,
            StrategySpec::Flagger(f) => f.start_at,
        }
    }
}

/// A Flagger canary analysis (`spec.analysis` of a Flagger Canary).
#[derive(Clone, Debug, PartialEq)]
pub struct FlaggerSpec {
    /// When the rollout begins.
    pub start_at: SimDuration,
    /// Time between checks (`analysis.interval`).
    pub interval: SimDuration,
    /// Failed checks (cumulative, not consecutive) that roll back
    /// (`analysis.threshold`).
    pub threshold: u32,
    /// The canary weights in order: `stepWeight` up to `maxWeight`, or
    /// `stepWeights`; a passing check at the last one promotes.
    pub weights: Vec<f64>,
    /// The metrics each check judges.
    pub metrics: Vec<FlaggerMetric>,
    /// A window with fewer requests than this makes the check inconclusive
    /// (the weight holds, nothing is counted); 0 is Flagger's own behaviour,
    /// where a window without data is a failed check.
    pub min_request_count: u64,
    /// The canary must be ready within this, or the rollout fails.
    pub progress_deadline: SimDuration,
    /// Statistical judges checked with the metrics: one that fires fails the
    /// check; one that cannot decide makes it inconclusive.
    pub judges: Vec<TriggerSpec>,
}

/// One Flagger metric check with its `thresholdRange`.
#[derive(Clone, Debug, PartialEq)]
pub struct FlaggerMetric {
    /// Which builtin metric.
    pub kind: FlaggerMetricKind,
    /// The range's bound: a minimum for the success rate, a maximum for
    /// the duration.
    pub bound: f64,
    /// Its query window (the metric's `interval`).
    pub interval: SimDuration,
}

/// Flagger's builtin metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlaggerMetricKind {
    /// `request-success-rate`: percent of requests that did not fail.
    RequestSuccessRate,
    /// `request-duration`: p99 latency, milliseconds.
    RequestDuration,
}

impl FlaggerMetricKind {
    /// Flagger's name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlaggerMetricKind::RequestSuccessRate => "request-success-rate",
            FlaggerMetricKind::RequestDuration => "request-duration",
        }
    }
}

/// One step of a canary, in the style of Argo Rollouts.
#[derive(Clone, Debug, PartialEq)]
pub enum CanaryStep {
    /// Send this percentage of traffic to the canary (100 promotes).
    SetWeight(f64),
    /// Wait this long, or for a manual promotion when `None`.
    Pause(Option<SimDuration>),
    /// Run the success criteria until this many checks or this long have
    /// passed; a failed check aborts.
    Analysis(AnalysisLength),
    /// Size the canary independently of its weight.
    SetCanaryScale(CanaryScale),
}

/// How long an analysis step runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AnalysisLength {
    /// For a duration.
    Duration(SimDuration),
    /// For a number of checks.
    Checks(u32),
}

/// The canary size a `set_canary_scale` step asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CanaryScale {
    /// An exact instance count.
    Replicas(u32),
    /// A percentage of the fleet.
    Weight(f64),
    /// Follow the traffic weight again (the default).
    MatchTrafficWeight,
}

/// The canary: a step program with background checks of the success
/// criteria. The chapter's initial/increment/interval form and the
/// CodeDeploy-style presets are turned into steps at validation.
#[derive(Clone, Debug, PartialEq)]
pub struct CanarySpec {
    /// When the rollout begins.
    pub start_at: SimDuration,
    /// The steps, in order.
    pub steps: Vec<CanaryStep>,
    /// Time between checks of the success criteria.
    pub check_interval: SimDuration,
    /// New instances must be ready within this, or the rollout fails.
    pub progress_deadline: SimDuration,
    /// The success criteria.
    pub criteria: SuccessCriteria,
    /// Times (since t = 0) at which an operator promotes a paused rollout.
    pub manual_promotions: Vec<SimDuration>,
    /// An Argo Rollouts-style background analysis, started with the first
    /// weight; empty for none.
    pub analysis: Vec<crate::analysis::argo::ArgoMetric>,
    /// Whether the success criteria are checked every `check_interval`
    /// (off when an analysis is given without `success_criteria`).
    pub criteria_checks: bool,
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
    /// The gaming criteria of `[gaming.criteria]`, judged beside these.
    pub games: Option<crate::model::games::GameCriteria>,
    /// Judges (statistical tests, burn rates, detectors) evaluated at every
    /// check; a firing judge fails the check.
    pub judges: Vec<TriggerSpec>,
}

/// Rolling update with Kubernetes surge and unavailability limits.
#[derive(Clone, Debug, PartialEq)]
pub struct RollingSpec {
    /// When the rollout begins.
    pub start_at: SimDuration,
    /// Instances replaced per batch.
    pub batch_size: u32,
    /// Wait between batches.
    pub batch_interval: SimDuration,
    /// Most instances below the fleet size that may be unavailable.
    pub max_unavailable: u32,
    /// Most instances above the fleet size that may exist.
    pub max_surge: u32,
    /// Roll back when failed instances reach this share of the fleet.
    pub max_failure_ratio: f64,
    /// A batch's instances must be ready within this, or they count as failed.
    pub progress_deadline: SimDuration,
}

/// Blue-green with validation and a staged switch.
#[derive(Clone, Debug, PartialEq)]
pub struct BlueGreenSpec {
    /// When the rollout begins.
    pub start_at: SimDuration,
    /// Validation time with a small share of traffic on green.
    pub validation_duration: SimDuration,
    /// Green's traffic share while validating, percent.
    pub validation_traffic_pct: f64,
    /// Validation fails above this error rate, percent.
    pub validation_max_error_rate_pct: f64,
    /// Validation fails above this p99.
    pub validation_max_p99: SimDuration,
    /// Validation judges a window only with at least this many requests.
    pub validation_min_request_count: u64,
    /// Time between validation checks (the window is the same length).
    pub check_interval: SimDuration,
    /// Traffic shares of the switch, percent, ending at 100.
    pub switch_stages_pct: Vec<f64>,
    /// Time at each switch stage.
    pub stage_duration: SimDuration,
    /// Time blue is kept after the switch.
    pub scale_down_delay: SimDuration,
    /// Switch without waiting for a manual promotion.
    pub auto_promote: bool,
    /// Times (since t = 0) at which an operator promotes.
    pub manual_promotions: Vec<SimDuration>,
    /// Green must be ready (and, without auto-promotion, promoted) within this.
    pub progress_deadline: SimDuration,
    /// The gaming criteria of `[gaming.criteria]`, judged in validation.
    pub games: Option<crate::model::games::GameCriteria>,
    /// Statistical judges checked with every validation check.
    pub judges: Vec<TriggerSpec>,
}

/// Recreate: everything down, then everything up.
#[derive(Clone, Debug, PartialEq)]
pub struct RecreateSpec {
    /// When the rollout begins.
    pub start_at: SimDuration,
    /// The new fleet must be ready within this, or the rollout fails.
    pub progress_deadline: SimDuration,
}

/// Which traffic a rollback trigger looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerScope {
    /// The whole service (both versions), as a service-wide alarm does.
    Service,
    /// The new version only.
    New,
}

/// A comparison for custom-metric triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// Fires when the value is above the threshold.
    Greater,
    /// Fires when the value is below the threshold.
    Less,
    /// Fires when the value is within 0.001 of the threshold.
    Equal,
}

/// Metrics the model exposes for custom-metric triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomMetric {
    /// Mean CPU utilisation of the version's routable instances, percent.
    CpuUtilizationPct,
    /// Mean memory of the version's running instances, MB.
    MemoryMb,
    /// Instances of the version that failed within the window.
    Restarts,
    /// Requests in flight to the version.
    InFlightRequests,
}

impl CustomMetric {
    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomMetric::CpuUtilizationPct => "cpu_utilization_pct",
            CustomMetric::MemoryMb => "memory_mb",
            CustomMetric::Restarts => "restarts",
            CustomMetric::InFlightRequests => "in_flight_requests",
        }
    }
}

/// What a rollback trigger watches (the chapter's RollbackTrigger).
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKind {
    /// Error rate above a threshold over the last `sustained_for`.
    ErrorRate {
        /// Percent.
        threshold_pct: f64,
        /// The window.
        sustained_for: SimDuration,
    },
    /// A latency percentile above a threshold over a window.
    Latency {
        /// The limit.
        threshold: SimDuration,
        /// Which percentile, e.g. 99.
        percentile: f64,
        /// The window.
        window: SimDuration,
    },
    /// Availability (share of requests that succeeded) below a threshold.
    Availability {
        /// Percent.
        below_pct: f64,
        /// The window.
        window: SimDuration,
    },
    /// A model metric compared with a threshold.
    CustomMetric {
        /// The metric.
        metric: CustomMetric,
        /// The threshold.
        threshold: f64,
        /// The comparison.
        comparison: Comparison,
        /// The version whose metric it is.
        version: crate::model::Version,
        /// The window (for rates and counts).
        window: SimDuration,
    },
    /// A gaming metric (`[gaming]`) past a threshold over a window.
    Game {
        /// Which metric.
        metric: GameMetric,
        /// Percent for rates (fires below), milliseconds for latency (fires
        /// above).
        threshold: f64,
        /// The window.
        window: SimDuration,
    },
    /// The SRE workbook's multiwindow, multi-burn-rate alert: fires when,
    /// for some pair, the error budget burns at least `burn_rate` times over
    /// both the long and the short window.
    BurnRate {
        /// The SLO, percent (the budget is 100 - this).
        slo_pct: f64,
        /// The window pairs.
        windows: Vec<BurnWindow>,
    },
    /// The conditional binomial test of new-version errors against stable's
    /// over a window: fires when the p-value is below `alpha`.
    Binomial {
        /// The significance level.
        alpha: f64,
        /// The window.
        window: SimDuration,
    },
    /// A sequential detector (SPRT, CUSUM, EWMA) fed one evaluation
    /// interval of error counts at a time.
    Detector(crate::analysis::detectors::DetectorSpec),
    /// A Kayenta-style judge: per-step series of the new version against
    /// stable, each metric classified by a Mann-Whitney U test, scored.
    Kayenta(KayentaSpec),
    /// An operator aborts at a given time.
    Manual {
        /// Since t = 0.
        at: SimDuration,
    },
}

impl TriggerKind {
    /// Whether it reads latency histograms.
    pub fn reads_latency(&self) -> bool {
        match self {
            TriggerKind::Latency { .. } => true,
            TriggerKind::Kayenta(k) => k.metrics.iter().any(|m| matches!(m.series, KayentaSeries::Latency(_))),
            _ => false,
        }
    }
}

/// A Kayenta-style judge (`kind = "kayenta"`).
#[derive(Clone, Debug, PartialEq)]
pub struct KayentaSpec {
    /// How far back the series reach (Kayenta's canary lifetime).
    pub window: SimDuration,
    /// One data point per step.
    pub step: SimDuration,
    /// A score at or above this passes.
    pub pass_score: f64,
    /// A score below this fails; between the two is marginal.
    pub marginal_score: f64,
    /// The metrics compared.
    pub metrics: Vec<KayentaMetric>,
}

/// One metric of a Kayenta judge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KayentaMetric {
    /// Which series.
    pub series: KayentaSeries,
    /// A High or Low critical metric scores the whole judge 0.
    pub critical: bool,
    /// How the two series are compared.
    pub comparison: crate::analysis::kayenta::Comparison,
}

/// The per-step series a Kayenta metric compares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KayentaSeries {
    /// A latency percentile (e.g. 99) per step, ms.
    Latency(f64),
    /// The error rate per step, percent.
    ErrorRate,
}

impl KayentaSeries {
    /// The name used in files and traces.
    pub fn name(self) -> String {
        match self {
            KayentaSeries::Latency(p) => format!("latency_p{p}"),
            KayentaSeries::ErrorRate => "error_rate".into(),
        }
    }
}

/// One window pair of a burn-rate alert.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurnWindow {
    /// The long window.
    pub long: SimDuration,
    /// The short window (the alert also needs it, so it resets quickly).
    pub short: SimDuration,
    /// The burn rate both windows must reach.
    pub burn_rate: f64,
}

/// The gaming metrics a trigger can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GameMetric {
    /// Share of ended games that completed.
    Completion,
    /// Share of resolved bets that settled.
    BetSuccess,
    /// Share of ended sessions that were not cut off.
    SessionContinuity,
    /// Mean latency of game operations.
    Latency,
}

impl GameMetric {
    /// The trigger kind's name in files.
    pub fn as_str(self) -> &'static str {
        match self {
            GameMetric::Completion => "game_completion",
            GameMetric::BetSuccess => "bet_success",
            GameMetric::SessionContinuity => "session_continuity",
            GameMetric::Latency => "game_latency",
        }
    }

    /// The value of this metric over a window of game counters (percent, or
    /// ms for latency); `None` with no data.
    pub fn value(self, c: &crate::model::games::GameCounters) -> Option<f64> {
        match self {
            GameMetric::Completion => c.completion_pct(),
            GameMetric::BetSuccess => c.bet_success_pct(),
            GameMetric::SessionContinuity => c.session_continuity_pct(),
            GameMetric::Latency => c.avg_latency_ms(),
        }
    }

    /// How many events the window's value rests on.
    pub fn sample_size(self, c: &crate::model::games::GameCounters) -> u64 {
        match self {
            GameMetric::Completion => c.games_ended(),
            GameMetric::BetSuccess => c.bets_settled + c.bets_failed,
            GameMetric::SessionContinuity => c.sessions_kept + c.sessions_dropped,
            GameMetric::Latency => c.ops,
        }
    }
}

/// One rollback trigger.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerSpec {
    /// What it watches.
    pub kind: TriggerKind,
    /// Service-wide or new-version traffic.
    pub scope: TriggerScope,
    /// Windows with fewer requests never fire (rates need data).
    pub min_request_count: u64,
}

/// How a rollback returns the fleet to the previous version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryKind {
    /// All traffic to the previous fleet at once (re-created first if gone).
    ImmediateSwitch,
    /// Switch back to the previous fleet, which must still be there.
    BlueGreenSwitch,
    /// Replace new instances with previous-version ones, batch by batch.
    RollingRollback {
        /// Instances per batch.
        batch_size: u32,
    },
}

impl RecoveryKind {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryKind::ImmediateSwitch => "immediate_switch",
            RecoveryKind::BlueGreenSwitch => "blue_green_switch",
            RecoveryKind::RollingRollback { .. } => "rolling_rollback",
        }
    }
}

/// A past deployment, for finding the version to roll back to.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentRecord {
    /// Version label.
    pub version: String,
    /// Whether it succeeded.
    pub success: bool,
}

/// `[rollback]`: the chapter's RollbackManager.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackSpec {
    /// The triggers; any one firing rolls back.
    pub triggers: Vec<TriggerSpec>,
    /// Time between evaluations.
    pub evaluate_interval: SimDuration,
    /// Triggers keep watching this long after the rollout completes.
    pub post_deploy_monitoring: SimDuration,
    /// How trigger-fired rollbacks recover.
    pub recovery: RecoveryKind,
    /// After a rollback, the service must show under 1% errors and over 99%
    /// availability within this for the rollback to count as verified.
    pub verification_window: SimDuration,
    /// The version rolled back to: the last successful one in the history.
    pub rollback_to: String,
}
