//! Validation: raw TOML values into the types the simulator uses.
//!
//! Every check reports the field path, what was wrong (with the value found)
//! and what is allowed. Validation collects every problem in the file rather
//! than stopping at the first, so a user fixes a file in one pass.

use super::error::FieldError;
use super::raw::*;
use super::types::*;
use super::units::{parse_duration, DURATION_ALLOWED};
use crate::engine::SimDuration;
use crate::model::dist::{DurationDist, LatencyDist};

/// The limits on sizes (one home: `scenario::limits`), also reachable here.
pub use super::limits;

/// The Prometheus client default bucket bounds, 5 ms to 10 s.
pub const DEFAULT_BUCKETS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

const PCT_ALLOWED: &str = "a number from 0 to 100";

/// A number for a message: plain when reasonable, scientific when huge or tiny.
pub(super) fn show(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e9 || v.abs() < 1e-6) {
        format!("{v:.3e}")
    } else {
        format!("{v}")
    }
}

/// Reports a time `at` (since t = 0) that is not before `end`, the end of
/// the run: what it names could never happen (`never` says what). An error
/// rather than a warning: it is a typo or a run too short, and a sweep of
/// thousands of cells has nowhere to print a warning.
pub(super) fn inside_run(c: &mut Checker, path: &str, at: SimDuration, end: SimDuration, never: &str) {
    if at >= end && !c.failed(path) {
        c.fail(
            path,
            format!("{at} is not before simulation.max_duration ({end}): {never}"),
            "a time inside the run (before simulation.max_duration), or a longer simulation.max_duration",
        );
    }
}

/// Collects problems while building a [`Scenario`].
pub(super) struct Checker {
    pub(super) errors: Vec<FieldError>,
}

impl Checker {
    /// Whether a problem was already reported at `path` or inside it, so
    /// checks across fields do not report values the user never wrote.
    pub(super) fn failed(&self, path: &str) -> bool {
        self.errors.iter().any(|e| {
            e.path == path || e.path.starts_with(&format!("{path}.")) || e.path.starts_with(&format!("{path}["))
        })
    }

    pub(super) fn fail(&mut self, path: &str, problem: impl Into<String>, allowed: impl Into<String>) {
        self.errors.push(FieldError::new(path, problem, allowed));
    }

    /// The first `max` entries of `list`; a longer list is reported at
    /// `path` (naming the cap) and the rest is not checked, so a huge list
    /// costs one error, not one per entry.
    pub(super) fn capped<'a, T>(&mut self, path: &str, list: &'a [T], max: usize, what: &str) -> &'a [T] {
        if list.len() > max {
            self.fail(
                path,
                format!("has {} {what}", list.len()),
                format!("at most {max} {what}"),
            );
        }
        &list[..list.len().min(max)]
    }

    pub(super) fn duration(&mut self, path: &str, raw: Option<&String>, default: SimDuration) -> SimDuration {
        match raw {
            None => default,
            Some(text) => match parse_duration(text) {
                Ok(d) => d,
                Err(why) => {
                    self.fail(path, why, DURATION_ALLOWED);
                    default
                }
            },
        }
    }

    pub(super) fn positive_duration(&mut self, path: &str, raw: Option<&String>, default: SimDuration) -> SimDuration {
        let d = self.duration(path, raw, default);
        if d == SimDuration::ZERO {
            self.fail(path, "must be longer than zero", "a positive duration such as \"10s\"");
            return default;
        }
        d
    }

    pub(super) fn finite(&mut self, path: &str, value: f64, allowed: &str) -> bool {
        if value.is_finite() {
            true
        } else {
            self.fail(path, format!("{value} is not a finite number"), allowed);
            false
        }
    }

    pub(super) fn pct(&mut self, path: &str, raw: Option<f64>, default: f64) -> f64 {
        let Some(v) = raw else { return default };
        if !self.finite(path, v, PCT_ALLOWED) {
            return default;
        }
        if !(0.0..=100.0).contains(&v) {
            self.fail(path, format!("{} is not a percentage", show(v)), PCT_ALLOWED);
            return default;
        }
        v
    }

    pub(super) fn number(&mut self, path: &str, raw: Option<f64>, default: f64, min: f64, max: f64) -> f64 {
        let Some(v) = raw else { return default };
        if !v.is_finite() || v < min || v > max {
            self.fail(
                path,
                format!("{} is out of range", show(v)),
                format!("a number from {min} to {max}"),
            );
            return default;
        }
        v
    }

    pub(super) fn count(&mut self, path: &str, raw: Option<i64>, default: i64, min: i64, max: i64) -> i64 {
        let Some(v) = raw else { return default };
        if v < min || v > max {
            self.fail(
                path,
                format!("{v} is out of range"),
                format!("a whole number from {min} to {max}"),
            );
            return default;
        }
        v
    }

    pub(super) fn choice<'a>(&mut self, path: &str, raw: Option<&'a str>, allowed: &[&'a str]) -> Option<&'a str> {
        let v = raw?;
        if allowed.contains(&v) {
            Some(v)
        } else {
            let list = allowed
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ");
            self.fail(path, format!("\"{v}\" is not a known value"), format!("one of {list}"));
            None
        }
    }

    pub(super) fn dist(&mut self, path: &str, raw: Option<&RawDist>, default: SimDuration) -> DurationDist {
        match raw {
            None => DurationDist::Fixed(default),
            Some(RawDist::Fixed(text)) => DurationDist::Fixed(self.duration(path, Some(text), default)),
            Some(RawDist::Table(t)) => self.dist_table(path, t, default),
        }
    }

    fn dist_table(&mut self, path: &str, t: &RawDistTable, default: SimDuration) -> DurationDist {
        let kinds = ["fixed", "uniform", "normal", "lognormal", "exponential"];
        let Some(kind) = t.dist.as_deref() else {
            self.fail(
                &format!("{path}.dist"),
                "a distribution table needs `dist`",
                "one of \"fixed\", \"uniform\", \"normal\", \"lognormal\", \"exponential\"",
            );
            return DurationDist::Fixed(default);
        };
        let Some(kind) = self.choice(&format!("{path}.dist"), Some(kind), &kinds) else {
            return DurationDist::Fixed(default);
        };
        let needs: &[&str] = match kind {
            "fixed" => &["value"],
            "uniform" => &["min", "max"],
            "normal" => &["mean", "sd"],
            "lognormal" => &["median", "sigma"],
            _ => &["mean"],
        };
        let present = [
            ("value", t.value.is_some()),
            ("min", t.min.is_some()),
            ("max", t.max.is_some()),
            ("mean", t.mean.is_some()),
            ("sd", t.sd.is_some()),
            ("median", t.median.is_some()),
            ("sigma", t.sigma.is_some()),
        ];
        let mut ok = true;
        for (name, is_set) in present {
            let needed = needs.contains(&name);
            if needed && !is_set {
                self.fail(
                    &format!("{path}.{name}"),
                    format!("dist = \"{kind}\" needs `{name}`"),
                    format!("fields {}", needs.join(", ")),
                );
                ok = false;
            } else if !needed && is_set {
                self.fail(
                    &format!("{path}.{name}"),
                    format!("`{name}` does not apply to dist = \"{kind}\""),
                    format!("fields {}", needs.join(", ")),
                );
                ok = false;
            }
        }
        if !ok {
            return DurationDist::Fixed(default);
        }
        let d = |c: &mut Checker, name: &str, v: &Option<String>| {
            c.duration(&format!("{path}.{name}"), v.as_ref(), default)
        };
        match kind {
            "fixed" => DurationDist::Fixed(d(self, "value", &t.value)),
            "uniform" => {
                let (min, max) = (d(self, "min", &t.min), d(self, "max", &t.max));
                if min > max && !self.failed(path) {
                    self.fail(
                        &format!("{path}.max"),
                        format!("max ({max}) is below min ({min})"),
                        "max >= min",
                    );
                    return DurationDist::Fixed(default);
                }
                DurationDist::Uniform { min, max }
            }
            "normal" => DurationDist::Normal {
                mean: d(self, "mean", &t.mean),
                sd: d(self, "sd", &t.sd),
            },
            "lognormal" => {
                let median = d(self, "median", &t.median);
                let sigma = t.sigma.unwrap_or(0.0);
                if !sigma.is_finite() || !(0.0..=5.0).contains(&sigma) {
                    self.fail(
                        &format!("{path}.sigma"),
                        format!("{sigma} is out of range"),
                        "a number from 0 to 5",
                    );
                    return DurationDist::Fixed(default);
                }
                DurationDist::LogNormal { median, sigma }
            }
            _ => DurationDist::Exponential {
                mean: d(self, "mean", &t.mean),
            },
        }
    }

    pub(super) fn latency(&mut self, path: &str, raw: Option<&RawLatency>) -> LatencyDist {
        let default = LatencyDist::lognormal(0.05, 0.5);
        let Some(raw) = raw else { return default };
        let dist = self.choice(
            &format!("{path}.dist"),
            raw.dist.as_deref(),
            &["lognormal", "exponential"],
        );
        if dist == Some("exponential") {
            for (field, set) in [
                ("median", raw.median.is_some()),
                ("sigma", raw.sigma.is_some()),
                ("p99", raw.p99.is_some()),
            ] {
                if set {
                    self.fail(
                        &format!("{path}.{field}"),
                        "does not apply to dist = \"exponential\"",
                        "{ dist = \"exponential\", mean = \"50ms\" }",
                    );
                }
            }
            let Some(mean) = raw.mean.as_ref() else {
                self.fail(
                    &format!("{path}.mean"),
                    "dist = \"exponential\" needs `mean`",
                    "{ dist = \"exponential\", mean = \"50ms\" }",
                );
                return default;
            };
            let mean = self.positive_duration(&format!("{path}.mean"), Some(mean), SimDuration::from_millis(50));
            return LatencyDist::Exponential {
                mean_s: mean.as_secs_f64(),
            };
        }
        if raw.mean.is_some() {
            self.fail(
                &format!("{path}.mean"),
                "applies only to dist = \"exponential\"",
                "{ median, sigma } or { median, p99 } for a log-normal",
            );
        }
        let median = self.positive_duration(
            &format!("{path}.median"),
            raw.median.as_ref(),
            SimDuration::from_millis(50),
        );
        let median_s = median.as_secs_f64();
        match (raw.sigma, raw.p99.as_ref()) {
            (Some(_), Some(_)) => {
                self.fail(
                    &format!("{path}.p99"),
                    "give either `sigma` or `p99`, not both",
                    "{ median, sigma } or { median, p99 }",
                );
                default
            }
            (Some(sigma), None) => {
                if !sigma.is_finite() || !(0.0..=5.0).contains(&sigma) {
                    self.fail(
                        &format!("{path}.sigma"),
                        format!("{sigma} is out of range"),
                        "a number from 0 to 5",
                    );
                    return default;
                }
                LatencyDist::lognormal(median_s, sigma)
            }
            (None, Some(p99)) => {
                let p99 = self.duration(&format!("{path}.p99"), Some(p99), median);
                if self.failed(path) {
                    return default;
                }
                if p99 <= median {
                    self.fail(
                        &format!("{path}.p99"),
                        format!("p99 ({p99}) is not above the median ({median})"),
                        "a p99 longer than the median",
                    );
                    return default;
                }
                let d = LatencyDist::from_median_p99(median_s, p99.as_secs_f64());
                if d.sigma() > 5.0 {
                    self.fail(
                        &format!("{path}.p99"),
                        format!("p99 {p99} with median {median} is a sigma of {:.1}", d.sigma()),
                        "a p99 at most exp(5 x 2.326), about 1e5 times the median",
                    );
                    return default;
                }
                d
            }
            (None, None) => LatencyDist::lognormal(median_s, 0.5),
        }
    }
}

/// Validates a raw scenario. `default_name` is used when the file sets none.
pub fn validate(
    raw: &RawScenario,
    default_name: &str,
    base_dir: &std::path::Path,
) -> Result<Scenario, Vec<FieldError>> {
    validate_with(raw, default_name, base_dir, &super::inputs::InputFiles::new())
}

/// [`validate`], reading the files the scenario names through `inputs`,
/// which shares them with every other scenario validated through it.
pub fn validate_with(
    raw: &RawScenario,
    default_name: &str,
    base_dir: &std::path::Path,
    inputs: &super::inputs::InputFiles,
) -> Result<Scenario, Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new() };

    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    if let Err(e) = crate::names::check_name(&name, crate::names::NameUse::Path) {
        c.fail("name", e.problem, e.allowed);
    }
    let seed = match raw.seed {
        None => 1,
        Some(s) if s >= 0 => s as u64,
        Some(s) => {
            c.fail(
                "seed",
                format!("{s} is negative"),
                "a whole number from 0 to 9223372036854775807",
            );
            1
        }
    };
    let fidelity = match c.choice("fidelity", raw.fidelity.as_deref(), &["request", "aggregate"]) {
        Some("aggregate") => Fidelity::Aggregate,
        _ => Fidelity::Request,
    };

    // [simulation]
    let sim = raw.simulation.as_ref();
    let simulation = SimulationSpec {
        max_duration: c.positive_duration(
            "simulation.max_duration",
            sim.and_then(|s| s.max_duration.as_ref()),
            SimDuration::from_secs(4 * 3600),
        ),
        cooldown: c.duration(
            "simulation.cooldown",
            sim.and_then(|s| s.cooldown.as_ref()),
            SimDuration::from_secs(60),
        ),
        tick: c.positive_duration(
            "simulation.tick",
            sim.and_then(|s| s.tick.as_ref()),
            SimDuration::from_secs(1),
        ),
        work_budget: c.number(
            "simulation.work_budget",
            sim.and_then(|s| s.work_budget),
            limits::DEFAULT_WORK_BUDGET,
            1.0,
            limits::MAX_WORK_BUDGET,
        ),
        memory_budget_mb: c.number(
            "simulation.memory_budget_mb",
            sim.and_then(|s| s.memory_budget_mb),
            limits::DEFAULT_MEMORY_BUDGET_MB,
            1.0,
            limits::MAX_MEMORY_BUDGET_MB,
        ),
    };
    if simulation.max_duration > SimDuration::from_secs(limits::MAX_DURATION_S) {
        c.fail(
            "simulation.max_duration",
            format!("{} is longer than the limit", simulation.max_duration),
            "at most 30 days (\"720h\")",
        );
    }

    // [fleet]
    let fleet_raw = raw.fleet.as_ref();
    let instances = match fleet_raw.and_then(|f| f.instances) {
        None => {
            c.fail(
                "fleet.instances",
                "is required",
                format!("a whole number from 1 to {}", limits::MAX_INSTANCES),
            );
            1
        }
        Some(n) => c.count("fleet.instances", Some(n), 1, 1, limits::MAX_INSTANCES),
    } as u32;
    let fleet = FleetSpec {
        instances,
        provision_time: c.dist(
            "fleet.provision_time",
            fleet_raw.and_then(|f| f.provision_time.as_ref()),
            SimDuration::from_secs(30),
        ),
        boot_time: c.dist(
            "fleet.boot_time",
            fleet_raw.and_then(|f| f.boot_time.as_ref()),
            SimDuration::from_secs(10),
        ),
        stop_time: c.dist(
            "fleet.stop_time",
            fleet_raw.and_then(|f| f.stop_time.as_ref()),
            SimDuration::from_secs(5),
        ),
        memory_mb: c.number(
            "fleet.memory_mb",
            fleet_raw.and_then(|f| f.memory_mb),
            512.0,
            1.0,
            1_048_576.0,
        ),
        cpu_ms_per_request: c.number(
            "fleet.cpu_ms_per_request",
            fleet_raw.and_then(|f| f.cpu_ms_per_request),
            5.0,
            0.0,
            60_000.0,
        ),
    };

    // [health_check]
    let hc = raw.health_check.as_ref();
    let interval = c.positive_duration(
        "health_check.interval",
        hc.and_then(|h| h.interval.as_ref()),
        SimDuration::from_secs(10),
    );
    let timeout = c.positive_duration(
        "health_check.timeout",
        hc.and_then(|h| h.timeout.as_ref()),
        SimDuration::from_secs(1),
    );
    if timeout > interval && !c.failed("health_check.interval") && !c.failed("health_check.timeout") {
        c.fail(
            "health_check.timeout",
            format!("timeout ({timeout}) is longer than the interval ({interval})"),
            "a timeout no longer than the probe interval",
        );
    }
    let codes = match hc.and_then(|h| h.expected_status_codes.as_ref()) {
        None => vec![200],
        Some(list) if list.is_empty() => {
            c.fail(
                "health_check.expected_status_codes",
                "is empty: no probe could ever pass",
                "a list of HTTP status codes such as [200, 204]",
            );
            vec![200]
        }
        Some(list) => c
            .capped(
                "health_check.expected_status_codes",
                list,
                limits::MAX_STATUS_CODES,
                "status codes",
            )
            .iter()
            .enumerate()
            .map(|(i, &code)| {
                c.count(
                    &format!("health_check.expected_status_codes[{i}]"),
                    Some(code),
                    200,
                    100,
                    599,
                ) as u16
            })
            .collect(),
    };
    let health_check = HealthCheckSpec {
        interval,
        timeout,
        healthy_threshold: c.count(
            "health_check.healthy_threshold",
            hc.and_then(|h| h.healthy_threshold),
            2,
            1,
            100,
        ) as u32,
        unhealthy_threshold: c.count(
            "health_check.unhealthy_threshold",
            hc.and_then(|h| h.unhealthy_threshold),
            3,
            1,
            100,
        ) as u32,
        initial_delay: c.duration(
            "health_check.initial_delay",
            hc.and_then(|h| h.initial_delay.as_ref()),
            SimDuration::ZERO,
        ),
        expected_status_codes: codes,
        start_healthy: hc.and_then(|h| h.start_healthy).unwrap_or(false),
    };

    // [traffic]
    let tr = raw.traffic.as_ref();
    let shape = super::validate_traffic::shape(&mut c, tr, base_dir, inputs, simulation.max_duration);
    // Limits use the highest rate the shape can reach.
    let rate_rps = shape.max_rate();
    let latency_slo = tr
        .and_then(|t| t.latency_slo.as_ref())
        .map(|s| c.positive_duration("traffic.latency_slo", Some(s), SimDuration::from_secs(1)));
    use crate::model::balancer::BalancerPolicy;
    let balancer = match c.choice(
        "traffic.balancer",
        tr.and_then(|t| t.balancer.as_deref()),
        &["random", "round_robin", "least_outstanding", "consistent_hash"],
    ) {
        Some("round_robin") => BalancerPolicy::RoundRobin,
        Some("least_outstanding") => BalancerPolicy::LeastOutstanding,
        Some("consistent_hash") => BalancerPolicy::ConsistentHash,
        _ => BalancerPolicy::Random,
    };
    let traffic = TrafficSpec {
        shape,
        latency_slo,
        balancer,
    };

    // [capacity]
    let capacity = raw.capacity.as_ref().map(|cap| {
        if cap.concurrency.is_none() {
            c.fail(
                "capacity.concurrency",
                "is required",
                "a whole number of requests served at once, from 1 to 10000",
            );
        }
        CapacitySpec {
            concurrency: c.count("capacity.concurrency", cap.concurrency, 1, 1, 10_000) as u32,
            queue_timeout: c.positive_duration(
                "capacity.queue_timeout",
                cap.queue_timeout.as_ref(),
                SimDuration::from_secs(10),
            ),
        }
    });
    // [sessions]
    let sessions = raw.sessions.as_ref().map(|s| crate::model::sessions::SessionSpec {
        mean_requests: c.number("sessions.mean_requests", s.mean_requests, 20.0, 1.0, 1e9),
        mean_duration: c.positive_duration(
            "sessions.mean_duration",
            s.mean_duration.as_ref(),
            SimDuration::from_secs(600),
        ),
        affinity: s.affinity.unwrap_or(true),
    });
    if let Some(spec) = &sessions {
        // Every session opened is remembered (for users harmed), and live
        // ones are scanned at each scrape: both must fit.
        let per_s = rate_rps / spec.mean_requests;
        let total = per_s * simulation.max_duration.as_secs_f64();
        let live = per_s * spec.mean_duration.as_secs_f64();
        if total > limits::MAX_SESSIONS {
            c.fail(
                "sessions.mean_requests",
                format!(
                    "{} requests/s in sessions of {} requests opens {total:.2e} sessions over {}",
                    show(rate_rps),
                    show(spec.mean_requests),
                    simulation.max_duration
                ),
                format!(
                    "at most {:.0e} sessions per run: longer sessions, a lower rate or a shorter run",
                    limits::MAX_SESSIONS
                ),
            );
        } else if live > limits::MAX_LIVE_SESSIONS {
            c.fail(
                "sessions.mean_duration",
                format!("{live:.2e} sessions would be open at once"),
                format!(
                    "at most {:.0e} open sessions: shorter sessions or a lower rate",
                    limits::MAX_LIVE_SESSIONS
                ),
            );
        }
    }
    if sessions.is_some() && fidelity == Fidelity::Aggregate {
        c.fail(
            "sessions",
            "sessions follow requests one by one: aggregate mode has no sessions",
            "fidelity = \"request\" with [sessions]",
        );
    }
    if traffic.balancer == BalancerPolicy::ConsistentHash && sessions.is_none() {
        c.fail(
            "traffic.balancer",
            "consistent_hash hashes the session, and there are no sessions",
            "a [sessions] table, or another balancer",
        );
    }
    let faults = super::validate_faults::validate_faults(
        &mut c,
        raw.faults.as_ref(),
        capacity.is_some(),
        sessions.is_some(),
        simulation.max_duration,
    );
    // The request-mode limits use the highest rate the shape and the
    // traffic-spike faults can reach together, and blame the field that
    // sets the shape's rate.
    let fault_set = crate::model::faults::ActiveFaults::new(faults.clone());
    let spike_factor = fault_set.max_rate_factor();
    let peak_rps = rate_rps * spike_factor;
    let rate_field = match traffic.shape.base {
        crate::model::traffic::BaseShape::Constant(_) => "traffic.rate_rps",
        crate::model::traffic::BaseShape::Diurnal { .. } => "traffic.peak_rps",
        crate::model::traffic::BaseShape::Replay(_) => "traffic.replay_file",
    };
    let with_spikes = if spike_factor > 1.0 {
        format!(" (with traffic-spike faults: x{})", show(spike_factor))
    } else {
        String::new()
    };
    if fidelity == Fidelity::Request
        && peak_rps * simulation.max_duration.as_secs_f64() > limits::MAX_REQUEST_MODE_REQUESTS
    {
        c.fail(
            rate_field,
            format!(
                "{} requests/s{with_spikes} for {} is more than {:.0e} simulated requests in request mode",
                show(peak_rps),
                simulation.max_duration,
                limits::MAX_REQUEST_MODE_REQUESTS
            ),
            "a lower rate, a shorter simulation.max_duration, or fidelity = \"aggregate\"",
        );
    }

    // [stable]
    let st = raw.stable.as_ref();
    let stable = VersionSpec {
        label: st.and_then(|s| s.version.clone()).unwrap_or_else(|| "stable".into()),
        error_prob: c.pct("stable.error_rate_pct", st.and_then(|s| s.error_rate_pct), 0.1) / 100.0,
        latency: c.latency("stable.latency", st.and_then(|s| s.latency.as_ref())),
        probe_failure_prob: 0.0,
        health_status_code: 200,
        boot_failure_prob: 0.0,
        memory_leak_mb_per_hour: 0.0,
        game_error_prob: c.pct(
            "stable.game_error_rate_pct",
            st.and_then(|s| s.game_error_rate_pct),
            0.0,
        ) / 100.0,
    };
    if st.is_some_and(|s| s.game_error_rate_pct.is_some()) && raw.gaming.is_none() {
        c.fail(
            "stable.game_error_rate_pct",
            "game operations fail only where there are games",
            "a [gaming] table, or error_rate_pct for requests",
        );
    }

    // [release]
    let rel = raw.release.as_ref();
    let quality = match rel.and_then(|r| r.quality.as_deref()) {
        None => {
            c.fail("release.quality", "is required", "\"good\" or \"bad\"");
            Quality::Good
        }
        q => match c.choice("release.quality", q, &["good", "bad"]) {
            Some("bad") => Quality::Bad,
            _ => Quality::Good,
        },
    };
    let mut new = stable.clone();
    new.label = rel.and_then(|r| r.version.clone()).unwrap_or_else(|| "new".into());
    if new.label == stable.label {
        c.fail(
            "release.version",
            format!("\"{}\" is also the stable version", new.label),
            "a label different from stable.version",
        );
    }
    if let Some(r) = rel {
        let effects = [
            ("error_rate_pct", r.error_rate_pct.is_some()),
            ("latency_multiplier", r.latency_multiplier.is_some()),
            ("health_check_failure_pct", r.health_check_failure_pct.is_some()),
            ("health_status_code", r.health_status_code.is_some()),
            ("boot_failure_pct", r.boot_failure_pct.is_some()),
            ("memory_leak_mb_per_hour", r.memory_leak_mb_per_hour.is_some()),
            ("game_error_rate_pct", r.game_error_rate_pct.is_some()),
        ];
        let effect_list = "error_rate_pct, latency_multiplier, health_check_failure_pct, health_status_code, \
                           boot_failure_pct, memory_leak_mb_per_hour, game_error_rate_pct";
        if quality == Quality::Good && !c.failed("release.quality") {
            for (field, set) in effects {
                if set {
                    c.fail(
                        &format!("release.{field}"),
                        "a good release behaves exactly like stable and takes no effects",
                        "quality = \"bad\" to give the release its own behaviour",
                    );
                }
            }
        } else if !effects.iter().any(|(_, set)| *set) {
            c.fail(
                "release.quality",
                "a bad release must say how it is bad",
                format!("at least one of {effect_list}"),
            );
        }
        new.error_prob = c.pct("release.error_rate_pct", r.error_rate_pct, stable.error_prob * 100.0) / 100.0;
        if let Some(m) = r.latency_multiplier {
            if !m.is_finite() || !(0.01..=1000.0).contains(&m) {
                c.fail(
                    "release.latency_multiplier",
                    format!("{m} is out of range"),
                    "a number from 0.01 to 1000",
                );
            } else {
                new.latency = stable.latency.scaled(m);
            }
        }
        new.probe_failure_prob = c.pct("release.health_check_failure_pct", r.health_check_failure_pct, 0.0) / 100.0;
        new.health_status_code = c.count("release.health_status_code", r.health_status_code, 200, 100, 599) as u16;
        new.boot_failure_prob = c.pct("release.boot_failure_pct", r.boot_failure_pct, 0.0) / 100.0;
        new.memory_leak_mb_per_hour = c.number(
            "release.memory_leak_mb_per_hour",
            r.memory_leak_mb_per_hour,
            0.0,
            0.0,
            1_048_576.0,
        );
        new.game_error_prob = c.pct(
            "release.game_error_rate_pct",
            r.game_error_rate_pct,
            stable.game_error_prob * 100.0,
        ) / 100.0;
        if r.game_error_rate_pct.is_some() && raw.gaming.is_none() {
            c.fail(
                "release.game_error_rate_pct",
                "game operations fail only where there are games",
                "a [gaming] table, or error_rate_pct for requests",
            );
        }
    }
    let release = ReleaseSpec { quality, new };

    // [metrics]
    let me = raw.metrics.as_ref();
    let scrape_interval = c.positive_duration(
        "metrics.scrape_interval",
        me.and_then(|m| m.scrape_interval.as_ref()),
        SimDuration::from_secs(10),
    );
    let buckets = match me.and_then(|m| m.buckets.as_ref()) {
        None => DEFAULT_BUCKETS_MS
            .iter()
            .map(|&ms| SimDuration::from_millis(ms))
            .collect(),
        Some(list) => {
            if list.is_empty() {
                c.fail(
                    "metrics.buckets",
                    "has no bounds",
                    format!("from 1 to {} increasing durations", limits::MAX_BUCKETS),
                );
            }
            // Past the limit there is nothing to gain from checking each one.
            let list = c.capped("metrics.buckets", list, limits::MAX_BUCKETS, "bounds");
            let mut parsed = Vec::with_capacity(list.len());
            let bounds: Vec<SimDuration> = list
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let before = c.errors.len();
                    let d = c.positive_duration(&format!("metrics.buckets[{i}]"), Some(b), SimDuration::from_millis(1));
                    parsed.push(c.errors.len() == before);
                    d
                })
                .collect();
            for i in 1..bounds.len() {
                // Compare only bounds the user wrote correctly.
                if bounds[i] <= bounds[i - 1] && parsed[i] && parsed[i - 1] {
                    c.fail(
                        &format!("metrics.buckets[{i}]"),
                        format!("{} is not above the previous bound {}", bounds[i], bounds[i - 1]),
                        "strictly increasing bucket bounds",
                    );
                }
            }
            bounds
        }
    };
    let metrics = MetricsSpec {
        scrape_interval,
        buckets,
    };
    if scrape_interval.0 % simulation.tick.0 != 0 {
        c.fail(
            "metrics.scrape_interval",
            format!(
                "{scrape_interval} is not a whole number of ticks of {}",
                simulation.tick
            ),
            "a multiple of simulation.tick",
        );
    }
    let max_d = simulation.max_duration.0;
    if max_d / scrape_interval.0 > limits::MAX_SCRAPES {
        c.fail(
            "metrics.scrape_interval",
            format!(
                "{scrape_interval} means more than {} scrapes in {}",
                limits::MAX_SCRAPES,
                simulation.max_duration
            ),
            "a longer scrape_interval or a shorter simulation.max_duration",
        );
    }
    if scrape_interval >= simulation.max_duration {
        c.fail(
            "metrics.scrape_interval",
            format!(
                "{scrape_interval} is not shorter than simulation.max_duration ({})",
                simulation.max_duration
            ),
            "a scrape interval well inside the run, or no query ever sees data",
        );
    }
    if max_d / simulation.tick.0 > limits::MAX_TICKS {
        c.fail(
            "simulation.tick",
            format!(
                "{} means more than {} ticks in {}",
                simulation.tick,
                limits::MAX_TICKS,
                simulation.max_duration
            ),
            "a longer tick or a shorter simulation.max_duration",
        );
    }
    let probes = f64::from(instances) * max_d as f64 / health_check.interval.0 as f64;
    if probes > limits::MAX_PROBES {
        c.fail(
            "health_check.interval",
            format!(
                "{} instances probed every {} for {} is {probes:.2e} probes",
                instances, health_check.interval, simulation.max_duration
            ),
            format!(
                "at most {:.0e} probes per run: a longer interval, fewer instances or a shorter run",
                limits::MAX_PROBES
            ),
        );
    }
    if fidelity == Fidelity::Request {
        // The slowest a request can be: the slower version under every
        // latency fault at once, plus, when [capacity] is overloaded at that
        // rate, a full queue wait (queues then grow to rate x timeout).
        let service = stable.latency.mean().max(release.new.latency.mean())
            * fault_set.max_latency_factor(simulation.max_duration);
        let queue_wait = capacity.as_ref().map_or(0.0, |cap| {
            let servers = f64::from(instances) * f64::from(cap.concurrency);
            if peak_rps * service >= servers {
                cap.queue_timeout.as_secs_f64()
            } else {
                0.0
            }
        });
        let slowest = service + queue_wait;
        let in_flight = peak_rps * slowest;
        if in_flight > limits::MAX_IN_FLIGHT {
            c.fail(
                rate_field,
                format!(
                    "{} requests/s{with_spikes} at a mean latency of up to {slowest:.3} s keeps {in_flight:.2e} \
                     requests in flight or queued",
                    show(peak_rps)
                ),
                format!(
                    "at most {:.0e} in flight in request mode: a lower rate or latency, or fidelity = \"aggregate\"",
                    limits::MAX_IN_FLIGHT
                ),
            );
        }
    }

    // [strategy]
    let strategy =
        super::validate_strategy::validate_strategy(&mut c, raw.strategy.as_ref(), &metrics, &simulation, instances);
    let mut rollback = super::validate_rollback::validate_rollback(&mut c, raw, &stable.label, &release.new.label);
    let mut strategy = strategy;
    let gaming = super::validate_gaming::validate_gaming(&mut c, raw, &simulation, &mut strategy, &mut rollback);

    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let scenario = Scenario {
        name,
        description: raw.description.clone().unwrap_or_default(),
        seed,
        fidelity,
        simulation,
        fleet,
        health_check,
        traffic,
        capacity,
        sessions,
        gaming,
        stable,
        release,
        metrics,
        strategy,
        rollback,
        faults,
    };
    // The budgets: only a scenario valid field by field has a cost.
    let over = super::cost::check(&scenario);
    if over.is_empty() {
        Ok(scenario)
    } else {
        Err(over)
    }
}
