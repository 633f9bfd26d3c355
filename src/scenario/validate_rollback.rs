//! Validation of `[rollback]` (triggers, recovery, verification) and
//! `[[history]]` (the version to roll back to).

use super::limits;
use super::raw::{RawScenario, RawTrigger};
use super::types::*;
use super::validate::Checker;
use crate::engine::SimDuration;
use crate::model::Version;

const TRIGGER_KINDS: [&str; 15] = [
    "error_rate",
    "latency",
    "availability",
    "custom_metric",
    "manual",
    "game_completion",
    "bet_success",
    "session_continuity",
    "game_latency",
    "burn_rate",
    "binomial",
    "sprt",
    "cusum",
    "ewma",
    "kayenta",
];
const METRICS: [&str; 4] = ["cpu_utilization_pct", "memory_mb", "restarts", "in_flight_requests"];

fn trigger_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "error_rate" => &["scope", "min_request_count", "threshold", "sustained_for"],
        "latency" => &["scope", "min_request_count", "threshold", "percentile", "window"],
        "availability" => &["scope", "min_request_count", "below_pct", "window"],
        "custom_metric" => &["metric", "threshold", "comparison", "version", "window"],
        "game_completion" | "bet_success" | "session_continuity" => {
            &["scope", "min_request_count", "below_pct", "window"]
        }
        "game_latency" => &["scope", "min_request_count", "threshold", "window"],
        "burn_rate" => &["scope", "min_request_count", "slo_pct", "windows"],
        "binomial" => &["min_request_count", "alpha", "window"],
        "sprt" => &["scope", "min_request_count", "p0_pct", "p1_pct", "alpha", "beta"],
        "cusum" => &["scope", "min_request_count", "target_pct", "slack_pct", "limit_pct"],
        "ewma" => &["scope", "min_request_count", "lambda", "target_pct", "limit_pct"],
        "kayenta" => &[
            "window",
            "step",
            "confidence",
            "tolerance",
            "pass_score",
            "marginal_score",
            "min_data_points",
            "metrics",
        ],
        _ => &["at"],
    }
}

/// Validates `[rollback]` and `[[history]]`.
pub(super) fn validate_rollback(c: &mut Checker, raw: &RawScenario, stable: &str, new: &str) -> RollbackSpec {
    let rb = raw.rollback.as_ref();
    let scrape = raw
        .metrics
        .as_ref()
        .and_then(|m| m.scrape_interval.as_ref())
        .and_then(|s| super::units::parse_duration(s).ok())
        .unwrap_or(SimDuration::from_secs(10));
    let recovery = match c.choice(
        "rollback.recovery",
        rb.and_then(|r| r.recovery.as_deref()),
        &["immediate_switch", "blue_green_switch", "rolling_rollback"],
    ) {
        Some("blue_green_switch") => RecoveryKind::BlueGreenSwitch,
        Some("rolling_rollback") => RecoveryKind::RollingRollback {
            batch_size: c.count(
                "rollback.recovery_batch_size",
                rb.and_then(|r| r.recovery_batch_size),
                1,
                1,
                10_000,
            ) as u32,
        },
        _ => RecoveryKind::ImmediateSwitch,
    };
    if rb.is_some_and(|r| r.recovery_batch_size.is_some()) && !matches!(recovery, RecoveryKind::RollingRollback { .. })
    {
        c.fail(
            "rollback.recovery_batch_size",
            "applies only to recovery = \"rolling_rollback\"",
            "remove it, or set recovery = \"rolling_rollback\"",
        );
    }
    if recovery == RecoveryKind::BlueGreenSwitch {
        if let Some(kind) = raw.strategy.as_ref().and_then(|s| s.kind.as_deref()) {
            if kind == "rolling" || kind == "recreate" {
                c.fail(
                    "rollback.recovery",
                    format!("blue_green_switch needs the previous fleet, which kind = \"{kind}\" removes during the rollout"),
                    "\"immediate_switch\" or \"rolling_rollback\"",
                );
            }
        }
    }
    let max_duration = raw
        .simulation
        .as_ref()
        .and_then(|s| s.max_duration.as_ref())
        .and_then(|d| super::units::parse_duration(d).ok())
        .unwrap_or(SimDuration::from_secs(4 * 3600));
    let listed = rb.and_then(|r| r.triggers.as_deref()).unwrap_or_default();
    let triggers: Vec<TriggerSpec> = c
        .capped("rollback.triggers", listed, limits::MAX_TRIGGERS, "triggers")
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let spec = trigger(c, i, t, scrape)?;
            if let TriggerKind::Manual { at } = spec.kind {
                let path = format!("rollback.triggers[{i}].at");
                super::validate::inside_run(c, &path, at, max_duration, "the operator would never abort");
            }
            Some(spec)
        })
        .collect();

    // History: the version to roll back to is the last successful one, and
    // it must be the version the fleet runs before the rollout.
    let history: Vec<DeploymentRecord> = match &raw.history {
        None => vec![DeploymentRecord {
            version: stable.to_string(),
            success: true,
        }],
        Some(list) => c
            .capped("history", list, limits::MAX_HISTORY, "deployments")
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if r.version.is_none() {
                    c.fail(&format!("history[{i}].version"), "is required", "a version label");
                }
                DeploymentRecord {
                    version: r.version.clone().unwrap_or_default(),
                    success: r.success.unwrap_or(true),
                }
            })
            .collect(),
    };
    let rollback_to = history.iter().rev().find(|r| r.success).map(|r| r.version.clone());
    let rollback_to = match rollback_to {
        None => {
            c.fail(
                "history",
                "has no successful deployment, so there is no previous version to roll back to",
                "a history whose last successful entry is the stable version",
            );
            stable.to_string()
        }
        Some(v) if v == new => {
            c.fail(
                "history",
                format!("the last successful version is \"{v}\", the release itself"),
                "the stable version",
            );
            v
        }
        Some(v) if v != stable => {
            c.fail(
                "history",
                format!("the last successful version is \"{v}\", but the fleet runs \"{stable}\" before the rollout"),
                format!("a history whose last successful entry is \"{stable}\""),
            );
            v
        }
        Some(v) => v,
    };

    let evaluate_interval = c.positive_duration(
        "rollback.evaluate_interval",
        rb.and_then(|r| r.evaluate_interval.as_ref()),
        SimDuration::from_secs(30),
    );
    if max_duration.0 / evaluate_interval.0.max(1) > super::validate::limits::MAX_SAMPLES {
        c.fail(
            "rollback.evaluate_interval",
            format!(
                "{evaluate_interval} means more than {} evaluations in {max_duration}",
                super::validate::limits::MAX_SAMPLES
            ),
            "a longer evaluate_interval",
        );
    }
    RollbackSpec {
        triggers,
        evaluate_interval,
        post_deploy_monitoring: c.duration(
            "rollback.post_deploy_monitoring",
            rb.and_then(|r| r.post_deploy_monitoring.as_ref()),
            SimDuration::from_secs(3600),
        ),
        recovery,
        verification_window: c.positive_duration(
            "rollback.verification_window",
            rb.and_then(|r| r.verification_window.as_ref()),
            SimDuration::from_secs(300),
        ),
        rollback_to,
    }
}

fn trigger(c: &mut Checker, i: usize, t: &RawTrigger, scrape: SimDuration) -> Option<TriggerSpec> {
    trigger_at(c, &format!("rollback.triggers[{i}]"), t, scrape)
}

/// Validates one trigger table found at `path` (a rollback trigger, or a
/// canary judge).
pub(super) fn trigger_at(c: &mut Checker, path: &str, t: &RawTrigger, scrape: SimDuration) -> Option<TriggerSpec> {
    let path = path.to_string();
    let kind = match t.kind.as_deref() {
        None => {
            c.fail(&format!("{path}.kind"), "is required", TRIGGER_KINDS.join(", "));
            return None;
        }
        k => c.choice(&format!("{path}.kind"), k, &TRIGGER_KINDS)?,
    };
    let present = [
        ("scope", t.scope.is_some()),
        ("min_request_count", t.min_request_count.is_some()),
        ("threshold", t.threshold.is_some()),
        ("sustained_for", t.sustained_for.is_some()),
        ("percentile", t.percentile.is_some()),
        ("window", t.window.is_some()),
        ("below_pct", t.below_pct.is_some()),
        ("metric", t.metric.is_some()),
        ("comparison", t.comparison.is_some()),
        ("version", t.version.is_some()),
        ("at", t.at.is_some()),
        ("slo_pct", t.slo_pct.is_some()),
        ("windows", t.windows.is_some()),
        ("alpha", t.alpha.is_some()),
        ("beta", t.beta.is_some()),
        ("p0_pct", t.p0_pct.is_some()),
        ("p1_pct", t.p1_pct.is_some()),
        ("target_pct", t.target_pct.is_some()),
        ("slack_pct", t.slack_pct.is_some()),
        ("limit_pct", t.limit_pct.is_some()),
        ("lambda", t.lambda.is_some()),
        ("step", t.step.is_some()),
        ("confidence", t.confidence.is_some()),
        ("tolerance", t.tolerance.is_some()),
        ("pass_score", t.pass_score.is_some()),
        ("marginal_score", t.marginal_score.is_some()),
        ("min_data_points", t.min_data_points.is_some()),
        ("metrics", t.metrics.is_some()),
    ];
    let allowed = trigger_fields(kind);
    let mut ok = true;
    for (field, set) in present {
        if set && !allowed.contains(&field) {
            c.fail(
                &format!("{path}.{field}"),
                format!("does not apply to kind = \"{kind}\""),
                format!("for kind = \"{kind}\": kind, {}", allowed.join(", ")),
            );
            ok = false;
        }
    }
    let window = |c: &mut Checker, field: &str, raw: Option<&String>| {
        let w = c.positive_duration(&format!("{path}.{field}"), raw, SimDuration::from_secs(60));
        if w < scrape {
            c.fail(
                &format!("{path}.{field}"),
                format!("{w} is shorter than metrics.scrape_interval ({scrape}): the window could hold no scrape"),
                "a window at least as long as the scrape interval",
            );
        }
        w
    };
    let scope = match c.choice(&format!("{path}.scope"), t.scope.as_deref(), &["service", "new"]) {
        Some("new") => TriggerScope::New,
        _ => TriggerScope::Service,
    };
    let min_request_count = c.count(
        &format!("{path}.min_request_count"),
        t.min_request_count,
        1,
        0,
        1_000_000_000,
    ) as u64;
    let required = |c: &mut Checker, field: &str, is_set: bool, allowed: &str| {
        if !is_set {
            c.fail(
                &format!("{path}.{field}"),
                format!("kind = \"{kind}\" needs `{field}`"),
                allowed,
            );
        }
        is_set
    };
    let number_threshold = |c: &mut Checker, allowed: &str| -> Option<f64> {
        match &t.threshold {
            Some(toml::Value::Integer(v)) => Some(*v as f64),
            Some(toml::Value::Float(v)) if v.is_finite() => Some(*v),
            Some(other) => {
                c.fail(
                    &format!("{path}.threshold"),
                    format!("{other} is not a number"),
                    allowed,
                );
                None
            }
            None => None,
        }
    };
    let kind_spec = match kind {
        "error_rate" => {
            required(
                c,
                "threshold",
                t.threshold.is_some(),
                "a percentage, e.g. threshold = 1",
            );
            let threshold_pct = number_threshold(c, "a number from 0 to 100")
                .map(|v| c.pct(&format!("{path}.threshold"), Some(v), 1.0));
            TriggerKind::ErrorRate {
                threshold_pct: threshold_pct.unwrap_or(1.0),
                sustained_for: window(c, "sustained_for", t.sustained_for.as_ref()),
            }
        }
        "latency" => {
            let threshold = match &t.threshold {
                Some(toml::Value::String(s)) => {
                    c.positive_duration(&format!("{path}.threshold"), Some(s), SimDuration::from_secs(1))
                }
                Some(other) => {
                    c.fail(
                        &format!("{path}.threshold"),
                        format!("{other} is not a duration string"),
                        "a duration such as \"500ms\"",
                    );
                    SimDuration::from_secs(1)
                }
                None => {
                    required(c, "threshold", false, "a duration such as \"500ms\"");
                    SimDuration::from_secs(1)
                }
            };
            let percentile = c.number(&format!("{path}.percentile"), t.percentile, 99.0, 1.0, 99.99);
            TriggerKind::Latency {
                threshold,
                percentile,
                window: window(c, "window", t.window.as_ref()),
            }
        }
        "availability" => {
            required(
                c,
                "below_pct",
                t.below_pct.is_some(),
                "a percentage, e.g. below_pct = 99",
            );
            TriggerKind::Availability {
                below_pct: c.pct(&format!("{path}.below_pct"), t.below_pct, 99.0),
                window: window(c, "window", t.window.as_ref()),
            }
        }
        "custom_metric" => {
            required(c, "metric", t.metric.is_some(), &METRICS.join(", "));
            required(c, "threshold", t.threshold.is_some(), "a number");
            let metric = match c.choice(&format!("{path}.metric"), t.metric.as_deref(), &METRICS) {
                Some("cpu_utilization_pct") => CustomMetric::CpuUtilizationPct,
                Some("memory_mb") => CustomMetric::MemoryMb,
                Some("restarts") => CustomMetric::Restarts,
                _ => CustomMetric::InFlightRequests,
            };
            let comparison = match c.choice(
                &format!("{path}.comparison"),
                t.comparison.as_deref(),
                &["greater", "less", "equal"],
            ) {
                Some("less") => Comparison::Less,
                Some("equal") => Comparison::Equal,
                _ => Comparison::Greater,
            };
            let version = match c.choice(&format!("{path}.version"), t.version.as_deref(), &["new", "stable"]) {
                Some("stable") => Version::Stable,
                _ => Version::New,
            };
            TriggerKind::CustomMetric {
                metric,
                threshold: number_threshold(c, "a number").unwrap_or(0.0),
                comparison,
                version,
                window: window(c, "window", t.window.as_ref()),
            }
        }
        "game_completion" | "bet_success" | "session_continuity" => {
            required(
                c,
                "below_pct",
                t.below_pct.is_some(),
                "a percentage, e.g. below_pct = 95",
            );
            let metric = match kind {
                "game_completion" => GameMetric::Completion,
                "bet_success" => GameMetric::BetSuccess,
                _ => GameMetric::SessionContinuity,
            };
            TriggerKind::Game {
                metric,
                threshold: c.pct(&format!("{path}.below_pct"), t.below_pct, 95.0),
                window: window(c, "window", t.window.as_ref()),
            }
        }
        "game_latency" => {
            let threshold = match &t.threshold {
                Some(toml::Value::String(s)) => {
                    c.positive_duration(&format!("{path}.threshold"), Some(s), SimDuration::from_millis(200))
                }
                Some(other) => {
                    c.fail(
                        &format!("{path}.threshold"),
                        format!("{other} is not a duration string"),
                        "a duration such as \"200ms\"",
                    );
                    SimDuration::from_millis(200)
                }
                None => {
                    required(c, "threshold", false, "a duration such as \"200ms\"");
                    SimDuration::from_millis(200)
                }
            };
            TriggerKind::Game {
                metric: GameMetric::Latency,
                threshold: threshold.as_millis_f64(),
                window: window(c, "window", t.window.as_ref()),
            }
        }
        "burn_rate" => {
            required(
                c,
                "slo_pct",
                t.slo_pct.is_some(),
                "a percentage below 100, e.g. slo_pct = 99.9",
            );
            let slo_pct = c.number(&format!("{path}.slo_pct"), t.slo_pct, 99.9, 0.0, 99.9999);
            let list = t.windows.as_deref().unwrap_or_default();
            if list.is_empty() {
                c.fail(
                    &format!("{path}.windows"),
                    "has no window pairs",
                    format!(
                        "1 to {} pairs, e.g. windows = [{{ long = \"1h\", short = \"5m\", burn_rate = 14.4 }}]",
                        limits::MAX_BURN_WINDOWS
                    ),
                );
            }
            let windows = c
                .capped(
                    &format!("{path}.windows"),
                    list,
                    limits::MAX_BURN_WINDOWS,
                    "window pairs",
                )
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let at = |f: &str| format!("windows[{i}].{f}");
                    for (f, set) in [("long", w.long.is_some()), ("short", w.short.is_some())] {
                        required(c, &at(f), set, "a duration, e.g. \"1h\"");
                    }
                    required(c, &at("burn_rate"), w.burn_rate.is_some(), "a number, e.g. 14.4");
                    let long = window(c, &at("long"), w.long.as_ref());
                    let short = window(c, &at("short"), w.short.as_ref());
                    if short > long {
                        c.fail(
                            &format!("{path}.{}", at("short")),
                            format!("{short} is longer than the long window ({long})"),
                            "a short window no longer than the long one",
                        );
                    }
                    BurnWindow {
                        long,
                        short,
                        burn_rate: c.number(&format!("{path}.{}", at("burn_rate")), w.burn_rate, 1.0, 0.001, 1e6),
                    }
                })
                .collect();
            TriggerKind::BurnRate { slo_pct, windows }
        }
        "binomial" => TriggerKind::Binomial {
            alpha: c.number(&format!("{path}.alpha"), t.alpha, 0.01, 1e-12, 0.5),
            window: window(c, "window", t.window.as_ref()),
        },
        "sprt" => {
            required(
                c,
                "p0_pct",
                t.p0_pct.is_some(),
                "the acceptable error rate, percent, e.g. 1",
            );
            required(c, "p1_pct", t.p1_pct.is_some(), "the bad error rate, percent, e.g. 5");
            let p0 = c.number(&format!("{path}.p0_pct"), t.p0_pct, 1.0, 1e-6, 99.0);
            let p1 = c.number(&format!("{path}.p1_pct"), t.p1_pct, 5.0, 1e-6, 99.999);
            if p1 <= p0 && !c.failed(&format!("{path}.p0_pct")) {
                c.fail(
                    &format!("{path}.p1_pct"),
                    format!("{p1} is not above p0_pct ({p0})"),
                    "p1_pct > p0_pct: the bad rate the test is to tell from the acceptable one",
                );
            }
            TriggerKind::Detector(crate::analysis::detectors::DetectorSpec::Sprt {
                p0: p0 / 100.0,
                p1: p1 / 100.0,
                alpha: c.number(&format!("{path}.alpha"), t.alpha, 0.05, 1e-9, 0.5),
                beta: c.number(&format!("{path}.beta"), t.beta, 0.1, 1e-9, 0.5),
            })
        }
        "cusum" => {
            required(
                c,
                "limit_pct",
                t.limit_pct.is_some(),
                "the decision limit h, percent, e.g. 5",
            );
            TriggerKind::Detector(crate::analysis::detectors::DetectorSpec::Cusum {
                target_pct: c.pct(&format!("{path}.target_pct"), t.target_pct, 0.1),
                slack_pct: c.pct(&format!("{path}.slack_pct"), t.slack_pct, 0.5),
                limit_pct: c.number(&format!("{path}.limit_pct"), t.limit_pct, 5.0, 1e-9, 1e6),
            })
        }
        "ewma" => {
            required(c, "limit_pct", t.limit_pct.is_some(), "the limit, percent, e.g. 2");
            TriggerKind::Detector(crate::analysis::detectors::DetectorSpec::Ewma {
                lambda: c.number(&format!("{path}.lambda"), t.lambda, 0.2, 1e-6, 1.0),
                target_pct: c.pct(&format!("{path}.target_pct"), t.target_pct, 0.1),
                threshold_pct: c.pct(&format!("{path}.limit_pct"), t.limit_pct, 2.0),
            })
        }
        "kayenta" => TriggerKind::Kayenta(kayenta(c, &path, t, scrape)),
        _ => {
            required(c, "at", t.at.is_some(), "a time since t = 0, e.g. at = \"12m\"");
            TriggerKind::Manual {
                at: c.duration(&format!("{path}.at"), t.at.as_ref(), SimDuration::ZERO),
            }
        }
    };
    ok.then_some(TriggerSpec {
        kind: kind_spec,
        scope,
        min_request_count,
    })
}

use super::limits::MAX_KAYENTA_POINTS;

/// The Kayenta judge's fields: series `window` long at one point per `step`,
/// the test's settings, the score thresholds and the metrics.
fn kayenta(c: &mut Checker, path: &str, t: &RawTrigger, scrape: SimDuration) -> KayentaSpec {
    use crate::analysis::kayenta::{Comparison, Direction};
    let at = |f: &str| format!("{path}.{f}");
    let step = c.positive_duration(&at("step"), t.step.as_ref(), scrape);
    if step < scrape {
        c.fail(
            &at("step"),
            format!("{step} is shorter than metrics.scrape_interval ({scrape}): most steps would hold no scrape"),
            "a step at least as long as the scrape interval",
        );
    }
    let min_data_points = c.count(&at("min_data_points"), t.min_data_points, 50, 3, 1_000) as usize;
    let window = c.positive_duration(
        &at("window"),
        t.window.as_ref(),
        SimDuration(step.0.saturating_mul(min_data_points as u64)),
    );
    let points = window.0 / step.0.max(1);
    // Each test sorts through points^2 differences: 1,000 points is a
    // million, a few milliseconds.
    if points > MAX_KAYENTA_POINTS && !c.failed(&at("window")) && !c.failed(&at("step")) {
        c.fail(
            &at("window"),
            format!("{window} holds {points} steps of {step}"),
            format!("at most {MAX_KAYENTA_POINTS} steps: a shorter window or a longer step"),
        );
    }
    if points < min_data_points as u64 && !c.failed(&at("window")) && !c.failed(&at("step")) {
        c.fail(
            &at("window"),
            format!(
                "{window} holds {points} steps of {step}, fewer than min_data_points ({min_data_points}): the judge \
                 could never have enough data"
            ),
            format!("a window of at least {min_data_points} steps"),
        );
    }
    let confidence = c.number(&at("confidence"), t.confidence, 0.98, 0.5, 0.999_999);
    let fewest = crate::analysis::kayenta::fewest_points_for(confidence);
    if min_data_points < fewest && !c.failed(&at("confidence")) {
        c.fail(
            &at("min_data_points"),
            format!(
                "{min_data_points} points a side are too few for confidence {confidence}: the test could never \
                 tell the versions apart"
            ),
            format!("at least {fewest} at this confidence (or a lower confidence)"),
        );
    }
    let tolerance = c.number(&at("tolerance"), t.tolerance, 0.25, 0.0, 1.0);
    let pass_score = c.number(&at("pass_score"), t.pass_score, 95.0, 0.0, 100.0);
    let marginal_score = c.number(&at("marginal_score"), t.marginal_score, 75.0, 0.0, 100.0);
    if marginal_score > pass_score {
        c.fail(
            &at("marginal_score"),
            format!("{marginal_score} is above pass_score ({pass_score})"),
            "marginal_score <= pass_score",
        );
    }
    let list = t.metrics.as_deref().unwrap_or_default();
    if list.is_empty() {
        c.fail(
            &at("metrics"),
            "has no metrics",
            format!(
                "1 to {} metrics, e.g. metrics = [{{ metric = \"latency_p99\" }}, {{ metric = \"error_rate\" }}]",
                limits::MAX_KAYENTA_METRICS
            ),
        );
    }
    let metrics = c
        .capped(&at("metrics"), list, limits::MAX_KAYENTA_METRICS, "metrics")
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let at = |f: &str| format!("{path}.metrics[{i}].{f}");
            const SERIES: [&str; 4] = ["latency_p50", "latency_p90", "latency_p99", "error_rate"];
            if m.metric.is_none() {
                c.fail(&at("metric"), "is required", SERIES.join(", "));
            }
            let series = match c.choice(&at("metric"), m.metric.as_deref(), &SERIES) {
                Some("latency_p50") => KayentaSeries::Latency(50.0),
                Some("latency_p90") => KayentaSeries::Latency(90.0),
                Some("latency_p99") => KayentaSeries::Latency(99.0),
                _ => KayentaSeries::ErrorRate,
            };
            let direction = match c.choice(
                &at("direction"),
                m.direction.as_deref(),
                &["increase", "decrease", "either"],
            ) {
                Some("decrease") => Direction::Decrease,
                Some("either") => Direction::Either,
                _ => Direction::Increase,
            };
            let factor = c.number(&at("outlier_factor"), m.outlier_factor, 3.0, 0.1, 100.0);
            if m.outlier_factor.is_some() && m.remove_outliers != Some(true) {
                c.fail(
                    &at("outlier_factor"),
                    "is set but outliers are kept",
                    "remove_outliers = true with it, or no outlier_factor",
                );
            }
            KayentaMetric {
                series,
                critical: m.critical.unwrap_or(false),
                comparison: Comparison {
                    direction,
                    confidence,
                    tolerance,
                    outlier_factor: (m.remove_outliers == Some(true)).then_some(factor),
                    allowed_increase: c.number(&at("allowed_increase"), m.allowed_increase, 1.0, 1.0, 1e6),
                    allowed_decrease: c.number(&at("allowed_decrease"), m.allowed_decrease, 1.0, 0.0, 1.0),
                    min_data_points,
                },
            }
        })
        .collect();
    KayentaSpec {
        window,
        step,
        pass_score,
        marginal_score,
        metrics,
    }
}
