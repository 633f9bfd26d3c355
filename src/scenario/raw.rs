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
    /// How the stable version behaves.
    pub stable: Option<RawStable>,
    /// The release being rolled out.
    pub release: Option<RawRelease>,
    /// Metrics collection.
    pub metrics: Option<RawMetrics>,
    /// The deployment strategy.
    pub strategy: Option<RawStrategy>,
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
}

/// Latency given as `{ median, sigma }` or `{ median, p99 }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
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
    /// `canary` or `none`.
    pub kind: Option<String>,
    /// When the rollout starts.
    pub start_at: Option<String>,
    /// Canary: first weight, percent.
    pub initial_weight_pct: Option<f64>,
    /// Canary: weight added per step, percent.
    pub increment_pct: Option<f64>,
    /// Canary: time at each weight.
    pub increment_interval: Option<String>,
    /// Canary: time between success-criteria checks.
    pub check_interval: Option<String>,
    /// Time allowed for new instances to become ready.
    pub progress_deadline: Option<String>,
    /// Canary: the success criteria.
    pub success_criteria: Option<RawCriteria>,
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
