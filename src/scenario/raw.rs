//! Raw scenario types: exactly what the TOML file says, before validation.
//!
//! Every struct denies unknown fields, so a typo is an error rather than a
//! silently ignored setting. Numbers stay wide (i64, f64) here so that
//! validation can say "must be at least 1 (got -3)" instead of a type error.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A whole scenario file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Scenario name; defaults to the file stem.
    pub name: Option<String>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// Default seed for `run`.
    pub seed: Option<i64>,
    /// `request` or `aggregate`.
    pub fidelity: Option<String>,
    /// Run length and tick.
    pub simulation: Option<RawSimulation>,
    /// The fleet.
    pub fleet: Option<RawFleet>,
    /// Health checks.
    pub health_check: Option<RawHealthCheck>,
    /// Incoming traffic.
    pub traffic: Option<RawTraffic>,
    /// Per-instance capacity and queueing.
    pub capacity: Option<RawCapacity>,
    /// User sessions.
    pub sessions: Option<RawSessions>,
    /// Games (BitCraps) and the gaming-aware rollout.
    pub gaming: Option<RawGaming>,
    /// How the stable version behaves.
    pub stable: Option<RawStable>,
    /// The release being rolled out.
    pub release: Option<RawRelease>,
    /// Metrics collection.
    pub metrics: Option<RawMetrics>,
    /// The deployment strategy.
    pub strategy: Option<RawStrategy>,
    /// Rollback triggers and recovery.
    pub rollback: Option<RawRollback>,
    /// Past deployments, oldest first.
    pub history: Option<Vec<RawRecord>>,
    /// Injected faults.
    pub faults: Option<Vec<RawFault>>,
}

/// `[[faults]]`: one flat table whose `kind` decides the fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// The fault kind.
    pub kind: Option<String>,
    /// Scheduled start.
    pub at: Option<String>,
    /// Length (of each occurrence).
    pub duration: Option<String>,
    /// Random occurrences per hour.
    pub rate_per_hour: Option<f64>,
    /// Failure share, percent.
    pub error_rate_pct: Option<f64>,
    /// Factor on latency or rate.
    pub multiplier: Option<f64>,
    /// Boot failure probability, percent.
    pub probability_pct: Option<f64>,
    /// Uptime before a crash.
    pub after: Option<String>,
    /// Memory leak: extra error points per hour of uptime.
    pub error_pct_per_hour: Option<f64>,
    /// Memory leak: latency growth per hour of uptime (fraction).
    pub latency_growth_per_hour: Option<f64>,
    /// Failure under load: utilisation threshold, percent.
    pub utilisation_pct: Option<f64>,
    /// Failure for a segment: share of sessions, percent.
    pub share_pct: Option<f64>,
    /// Instance crashes: mean time between failures.
    pub mtbf: Option<String>,
    /// Zone outage: number of zones.
    pub zones: Option<i64>,
    /// Zone outage: the failing zone (0-based).
    pub zone: Option<i64>,
    /// Flaky health checks: false failure probability, percent.
    pub false_failure_pct: Option<f64>,
    /// Dropped scrapes: loss probability, percent.
    pub drop_pct: Option<f64>,
    /// Delayed scrapes: the lag.
    pub delay: Option<String>,
    /// Metrics noise: sd, percent.
    pub noise_pct: Option<f64>,
}

/// `[simulation]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Hard stop of the simulated clock.
    pub max_duration: Option<String>,
    /// How long to keep simulating after the rollout ends.
    pub cooldown: Option<String>,
    /// Aggregate-mode tick length.
    pub tick: Option<String>,
    /// Work units one run may cost.
    pub work_budget: Option<f64>,
    /// Memory one run may take, MB.
    pub memory_budget_mb: Option<f64>,
}

/// `[fleet]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    /// Number of stable instances serving at t = 0.
    pub instances: Option<i64>,
    /// Time from provision request to the machine existing.
    pub provision_time: Option<RawDist>,
    /// Time from the machine existing to the process running.
    pub boot_time: Option<RawDist>,
    /// Time from a stop request to the instance being gone.
    pub stop_time: Option<RawDist>,
    /// Memory of a fresh instance, MB.
    pub memory_mb: Option<f64>,
    /// CPU cost of one request, ms.
    pub cpu_ms_per_request: Option<f64>,
}

/// `[health_check]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    /// Time between probes.
    pub interval: Option<String>,
    /// A probe slower than this fails.
    pub timeout: Option<String>,
    /// Consecutive successes to become healthy.
    pub healthy_threshold: Option<i64>,
    /// Consecutive failures to become unhealthy.
    pub unhealthy_threshold: Option<i64>,
    /// Grace period after boot before the first probe.
    pub initial_delay: Option<String>,
    /// Status codes that count as success.
    pub expected_status_codes: Option<Vec<i64>>,
    /// New instances count as healthy the moment they run.
    pub start_healthy: Option<bool>,
}

/// `[traffic]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraffic {
    /// Poisson arrival rate, requests per second.
    pub rate_rps: Option<f64>,
    /// Requests slower than this count as failed.
    pub latency_slo: Option<String>,
    /// `random`, `round_robin` or `least_outstanding`.
    pub balancer: Option<String>,
    /// `constant`, `diurnal` or `replay`.
    pub shape: Option<String>,
    /// Diurnal: highest rate.
    pub peak_rps: Option<f64>,
    /// Diurnal: lowest rate.
    pub trough_rps: Option<f64>,
    /// Diurnal: time of the peak within the period.
    pub peak_at: Option<String>,
    /// Diurnal: length of a cycle.
    pub period: Option<String>,
    /// Replay: a CSV file `t_s,rps`, relative to the scenario file.
    pub replay_file: Option<String>,
    /// Bursts on top of the shape.
    pub spikes: Option<Vec<RawSpike>>,
}

/// `[[traffic.spikes]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpike {
    /// Start.
    pub at: Option<String>,
    /// Length.
    pub duration: Option<String>,
    /// Factor on the rate.
    pub multiplier: Option<f64>,
}

/// `[sessions]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessions {
    /// Mean requests per session.
    pub mean_requests: Option<f64>,
    /// Mean session length.
    pub mean_duration: Option<String>,
    /// Keep a session on its first version.
    pub affinity: Option<bool>,
}

/// `[gaming]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGaming {
    /// Use the gaming-aware rollout path.
    pub aware: Option<bool>,
    /// New games per minute.
    pub games_per_minute: Option<f64>,
    /// Fewest players in a game.
    pub players_min: Option<i64>,
    /// Most players in a game.
    pub players_max: Option<i64>,
    /// Fewest rounds in a game.
    pub rounds_min: Option<i64>,
    /// Most rounds in a game.
    pub rounds_max: Option<i64>,
    /// Waiting for players.
    pub waiting: Option<RawDist>,
    /// Betting window (its end is the betting deadline).
    pub betting: Option<RawDist>,
    /// The roll.
    pub rolling: Option<RawDist>,
    /// The payout.
    pub payout: Option<RawDist>,
    /// Betting games with a deadline further than this wait for the roll.
    pub migration_cutoff: Option<String>,
    /// Longest drain of a stopping instance.
    pub drain_timeout: Option<String>,
    /// Gaming success criteria.
    pub criteria: Option<RawGameCriteria>,
}

/// `[gaming.criteria]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGameCriteria {
    /// Fail below this game completion rate, percent.
    pub min_game_completion_pct: Option<f64>,
    /// Fail below this bet success rate, percent.
    pub min_bet_success_pct: Option<f64>,
    /// Fail below this session continuity, percent.
    pub min_session_continuity_pct: Option<f64>,
    /// Fail above this average game latency.
    pub max_game_latency: Option<String>,
    /// Judge only windows with at least this many games ended.
    pub min_games: Option<i64>,
    /// The window the criteria are judged over.
    pub window: Option<String>,
}

/// `[capacity]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapacity {
    /// Requests one instance serves at once.
    pub concurrency: Option<i64>,
    /// A request waiting longer than this fails.
    pub queue_timeout: Option<String>,
}

/// Latency given as `{ median, sigma }`, `{ median, p99 }` or
/// `{ dist = "exponential", mean }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    /// `lognormal` (default) or `exponential`.
    pub dist: Option<String>,
    /// Exponential mean.
    pub mean: Option<String>,
    /// Median latency.
    pub median: Option<String>,
    /// Sigma of log(latency).
    pub sigma: Option<f64>,
    /// 99th percentile latency (instead of sigma).
    pub p99: Option<String>,
}

/// `[stable]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStable {
    /// Version label.
    pub version: Option<String>,
    /// Error probability, percent.
    pub error_rate_pct: Option<f64>,
    /// Latency distribution.
    pub latency: Option<RawLatency>,
    /// Share of game operations that fail, percent (with `[gaming]`).
    pub game_error_rate_pct: Option<f64>,
}

/// `[release]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    /// Version label.
    pub version: Option<String>,
    /// `good` or `bad`.
    pub quality: Option<String>,
    /// Bad release: error probability, percent.
    pub error_rate_pct: Option<f64>,
    /// Bad release: multiplier on every latency.
    pub latency_multiplier: Option<f64>,
    /// Bad release: share of health probes that fail, percent.
    pub health_check_failure_pct: Option<f64>,
    /// Bad release: status code its health endpoint answers with.
    pub health_status_code: Option<i64>,
    /// Bad release: share of new instances that fail to boot, percent.
    pub boot_failure_pct: Option<f64>,
    /// Bad release: memory growth per hour of uptime, MB.
    pub memory_leak_mb_per_hour: Option<f64>,
    /// Bad release: share of game operations that fail, percent.
    pub game_error_rate_pct: Option<f64>,
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// Time between scrapes.
    pub scrape_interval: Option<String>,
    /// Upper bounds of the latency histogram buckets.
    pub buckets: Option<Vec<String>>,
}

/// `[strategy]`: one flat table whose `kind` decides which fields apply.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    /// `canary`, `rolling`, `blue_green`, `recreate` or `none`.
    pub kind: Option<String>,
    /// When the rollout starts.
    pub start_at: Option<String>,
    /// Time allowed for new instances to become ready.
    pub progress_deadline: Option<String>,
    /// Canary and blue-green: time between checks.
    pub check_interval: Option<String>,
    /// Canary and blue-green: times of manual promotions.
    pub manual_promotions: Option<Vec<String>>,
    /// Canary shorthand: first weight, percent.
    pub initial_weight_pct: Option<f64>,
    /// Canary shorthand: weight added per step, percent.
    pub increment_pct: Option<f64>,
    /// Canary shorthand: time at each weight.
    pub increment_interval: Option<String>,
    /// Canary: CodeDeploy-style preset name.
    pub preset: Option<String>,
    /// Canary: explicit steps.
    pub steps: Option<Vec<RawStep>>,
    /// Canary: the success criteria.
    pub success_criteria: Option<RawCriteria>,
    /// Rolling: instances per batch.
    pub batch_size: Option<RawCount>,
    /// Rolling: wait between batches.
    pub batch_interval: Option<String>,
    /// Rolling: unavailability limit.
    pub max_unavailable: Option<RawCount>,
    /// Rolling: surge limit.
    pub max_surge: Option<RawCount>,
    /// Rolling: failure share that rolls back.
    pub max_failure_ratio: Option<f64>,
    /// Blue-green: validation time.
    pub validation_duration: Option<String>,
    /// Blue-green: green's share while validating, percent.
    pub validation_traffic_pct: Option<f64>,
    /// Blue-green: validation error-rate limit, percent.
    pub validation_max_error_rate_pct: Option<f64>,
    /// Blue-green: validation p99 limit.
    pub validation_max_p99: Option<String>,
    /// Blue-green: minimum requests for a validation verdict.
    pub validation_min_request_count: Option<i64>,
    /// Blue-green: traffic shares of the switch.
    pub switch_stages_pct: Option<Vec<f64>>,
    /// Blue-green: time per switch stage.
    pub stage_duration: Option<String>,
    /// Blue-green: time blue is kept after the switch.
    pub scale_down_delay: Option<String>,
    /// Blue-green: switch without a manual promotion.
    pub auto_promote: Option<bool>,
    /// Flagger: time between checks.
    pub interval: Option<String>,
    /// Flagger: failed checks that roll back.
    pub threshold: Option<i64>,
    /// Flagger: weight added per passing check, percent.
    pub step_weight: Option<f64>,
    /// Flagger: the last weight before promotion, percent.
    pub max_weight: Option<f64>,
    /// Flagger: the weights in order (instead of step_weight/max_weight).
    pub step_weights: Option<Vec<f64>>,
    /// Flagger: the metric checks.
    pub metrics: Option<Vec<RawFlaggerMetric>>,
    /// Flagger: fewer requests in a window make the check inconclusive.
    pub min_request_count: Option<i64>,
    /// Canary: an Argo Rollouts-style background analysis.
    pub analysis: Option<Vec<RawArgoMetric>>,
    /// Blue-green and Flagger: statistical judges (trigger tables) that
    /// also fail a check.
    pub judges: Option<Vec<RawTrigger>>,
}

/// `[[strategy.analysis]]`: one metric of an Argo Rollouts-style analysis.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArgoMetric {
    /// Name for traces.
    pub name: Option<String>,
    /// What is measured.
    pub query: Option<String>,
    /// Time between measurements (and the query window).
    pub interval: Option<String>,
    /// Measurements to take (0 or absent: until the rollout ends).
    pub count: Option<i64>,
    /// Wait before the first measurement.
    pub initial_delay: Option<String>,
    /// `result >= 99`.
    pub success_condition: Option<String>,
    /// `result < 95`.
    pub failure_condition: Option<String>,
    /// Failed measurements allowed.
    pub failure_limit: Option<i64>,
    /// Inconclusive measurements allowed.
    pub inconclusive_limit: Option<i64>,
    /// Consecutive errors (no data) allowed.
    pub consecutive_error_limit: Option<i64>,
    /// Fewer requests make a measurement inconclusive.
    pub min_request_count: Option<i64>,
}

/// `[[strategy.metrics]]` of a Flagger canary.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlaggerMetric {
    /// `request-success-rate` or `request-duration`.
    pub name: Option<String>,
    /// `{ min = 99 }` or `{ max = 500 }`.
    pub threshold_range: Option<RawRange>,
    /// The metric's query window.
    pub interval: Option<String>,
}

/// A `thresholdRange`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    /// Lowest value that passes.
    pub min: Option<f64>,
    /// Highest value that passes.
    pub max: Option<f64>,
}

/// One canary step: a table with exactly one key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// `{ set_weight = 20 }`.
    pub set_weight: Option<f64>,
    /// `{ pause = { duration = "5m" } }` or `{ pause = {} }`.
    pub pause: Option<RawPause>,
    /// `{ analysis = { duration = "2m" } }` or `{ analysis = { count = 6 } }`.
    pub analysis: Option<RawAnalysis>,
    /// `{ set_canary_scale = { replicas = 3 } }` and friends.
    pub set_canary_scale: Option<RawCanaryScale>,
}

/// A pause step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPause {
    /// Without a duration the rollout waits for a manual promotion.
    pub duration: Option<String>,
}

/// An analysis step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnalysis {
    /// Run for this long.
    pub duration: Option<String>,
    /// Run for this many checks.
    pub count: Option<i64>,
}

/// A set_canary_scale step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCanaryScale {
    /// Exact instance count.
    pub replicas: Option<i64>,
    /// Percentage of the fleet.
    pub weight: Option<f64>,
    /// Follow the traffic weight.
    pub match_traffic_weight: Option<bool>,
}

/// `[strategy.success_criteria]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCriteria {
    /// Fail when the error rate is above this, percent.
    pub max_error_rate_pct: Option<f64>,
    /// Fail when the success rate is below this, percent.
    pub min_success_rate_pct: Option<f64>,
    /// Fail when p99 latency is above this.
    pub max_latency_p99: Option<String>,
    /// Judge only windows with at least this many requests.
    pub min_request_count: Option<i64>,
    /// The query window.
    pub evaluation_window: Option<String>,
    /// Statistical judges (trigger tables) that also fail a check.
    pub judges: Option<Vec<RawTrigger>>,
}

/// `[rollback]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollback {
    /// Time between trigger evaluations.
    pub evaluate_interval: Option<String>,
    /// Monitoring after completion.
    pub post_deploy_monitoring: Option<String>,
    /// `immediate_switch`, `blue_green_switch` or `rolling_rollback`.
    pub recovery: Option<String>,
    /// Batch size of `rolling_rollback`.
    pub recovery_batch_size: Option<i64>,
    /// Verification window after a rollback.
    pub verification_window: Option<String>,
    /// The triggers.
    pub triggers: Option<Vec<RawTrigger>>,
}

/// `[[rollback.triggers]]`: one flat table whose `kind` decides the fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    /// `error_rate`, `latency`, `availability`, `custom_metric` or `manual`.
    pub kind: Option<String>,
    /// `service` or `new`.
    pub scope: Option<String>,
    /// Windows with fewer requests never fire.
    pub min_request_count: Option<i64>,
    /// Threshold: percent for error_rate, duration string for latency, a
    /// number for custom_metric.
    pub threshold: Option<toml::Value>,
    /// error_rate: the window.
    pub sustained_for: Option<String>,
    /// latency: the percentile.
    pub percentile: Option<f64>,
    /// latency, availability, custom_metric: the window.
    pub window: Option<String>,
    /// availability: fire below this, percent.
    pub below_pct: Option<f64>,
    /// custom_metric: which metric.
    pub metric: Option<String>,
    /// custom_metric: `greater`, `less` or `equal`.
    pub comparison: Option<String>,
    /// custom_metric: `new` or `stable`.
    pub version: Option<String>,
    /// manual: when the operator aborts.
    pub at: Option<String>,
    /// burn_rate: the SLO, percent.
    pub slo_pct: Option<f64>,
    /// burn_rate: the window pairs.
    pub windows: Option<Vec<RawBurnWindow>>,
    /// binomial and sprt: the significance level (type I error).
    pub alpha: Option<f64>,
    /// sprt: the type II error.
    pub beta: Option<f64>,
    /// sprt: the acceptable error rate, percent.
    pub p0_pct: Option<f64>,
    /// sprt: the bad error rate, percent.
    pub p1_pct: Option<f64>,
    /// cusum and ewma: the in-control error rate, percent.
    pub target_pct: Option<f64>,
    /// cusum: the allowance, percent.
    pub slack_pct: Option<f64>,
    /// cusum and ewma: the decision limit, percent.
    pub limit_pct: Option<f64>,
    /// ewma: the weight of the newest interval.
    pub lambda: Option<f64>,
    /// kayenta: one data point per step.
    pub step: Option<String>,
    /// kayenta: the Mann-Whitney test's confidence level.
    pub confidence: Option<f64>,
    /// kayenta: the share of the estimated shift the interval must clear.
    pub tolerance: Option<f64>,
    /// kayenta: a score at or above this passes.
    pub pass_score: Option<f64>,
    /// kayenta: a score below this fails.
    pub marginal_score: Option<f64>,
    /// kayenta: fewer data points on a side is no data.
    pub min_data_points: Option<i64>,
    /// kayenta: the metrics compared.
    pub metrics: Option<Vec<RawKayentaMetric>>,
}

/// One metric of a Kayenta judge.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKayentaMetric {
    /// `latency_p50`, `latency_p90`, `latency_p99` or `error_rate`.
    pub metric: Option<String>,
    /// `increase`, `decrease` or `either`.
    pub direction: Option<String>,
    /// A failing critical metric fails the judge.
    pub critical: Option<bool>,
    /// Drop outliers before the test.
    pub remove_outliers: Option<bool>,
    /// The IQR factor for outliers.
    pub outlier_factor: Option<f64>,
    /// High also needs mean(new) / mean(stable) above this.
    pub allowed_increase: Option<f64>,
    /// Low also needs the ratio below this.
    pub allowed_decrease: Option<f64>,
}

/// One window pair of a burn-rate trigger.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurnWindow {
    /// The long window.
    pub long: Option<String>,
    /// The short window.
    pub short: Option<String>,
    /// The burn rate both must reach.
    pub burn_rate: Option<f64>,
}

/// `[[history]]`: a past deployment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecord {
    /// Version label.
    pub version: Option<String>,
    /// Whether it succeeded.
    pub success: Option<bool>,
}

/// A count given as a whole number or as a percentage string such as "25%".
#[derive(Debug, Clone, PartialEq)]
pub enum RawCount {
    /// `3`.
    Count(i64),
    /// `"25%"`.
    Percent(String),
}

impl<'de> Deserialize<'de> for RawCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = RawCount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number such as 2 or a percentage string such as \"25%\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawCount, E> {
                Ok(RawCount::Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawCount, E> {
                Ok(RawCount::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCount, E> {
                Ok(RawCount::Percent(v.to_string()))
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

/// A duration distribution: a duration string (fixed) or a table with `dist`.
#[derive(Debug)]
pub enum RawDist {
    /// `"30s"`.
    Fixed(String),
    /// `{ dist = "uniform", min = "20s", max = "40s" }` and friends.
    Table(RawDistTable),
}

/// The table form of a distribution.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDistTable {
    /// `fixed`, `uniform`, `normal`, `lognormal` or `exponential`.
    pub dist: Option<String>,
    /// Fixed value.
    pub value: Option<String>,
    /// Uniform lower bound.
    pub min: Option<String>,
    /// Uniform upper bound.
    pub max: Option<String>,
    /// Normal or exponential mean.
    pub mean: Option<String>,
    /// Normal standard deviation.
    pub sd: Option<String>,
    /// Log-normal median.
    pub median: Option<String>,
    /// Log-normal sigma.
    pub sigma: Option<f64>,
}

impl<'de> Deserialize<'de> for RawDist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DistVisitor;
        impl<'de> Visitor<'de> for DistVisitor {
            type Value = RawDist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string such as \"30s\" or a table such as { dist = \"uniform\", min = \"20s\", max = \"40s\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDist, E> {
                Ok(RawDist::Fixed(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDist, A::Error> {
                RawDistTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawDist::Table)
            }
        }
        deserializer.deserialize_any(DistVisitor)
    }
}
