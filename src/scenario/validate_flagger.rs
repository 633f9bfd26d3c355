//! Validation of a Flagger canary (`kind = "flagger"`): Flagger's
//! `analysis` fields under their TOML names.

use super::raw::RawStrategy;
use super::types::*;
use super::validate::Checker;
use crate::engine::SimDuration;

use super::limits::{MAX_FLAGGER_METRICS, MAX_WEIGHTS};

/// Validates the Flagger fields of `[strategy]`.
pub(super) fn flagger(
    c: &mut Checker,
    s: &RawStrategy,
    metrics: &MetricsSpec,
    start_at: SimDuration,
    progress_deadline: SimDuration,
) -> FlaggerSpec {
    let interval = c.positive_duration("strategy.interval", s.interval.as_ref(), SimDuration::from_secs(60));
    if interval < metrics.scrape_interval {
        c.fail(
            "strategy.interval",
            format!(
                "{interval} is shorter than metrics.scrape_interval ({})",
                metrics.scrape_interval
            ),
            "an interval at least as long as the scrape interval",
        );
    }
    let threshold = c.count("strategy.threshold", s.threshold, 5, 1, 1_000_000) as u32;
    let weights = weights(c, s);
    let listed = s.metrics.as_deref().unwrap_or_default();
    let list = c.capped("strategy.metrics", listed, MAX_FLAGGER_METRICS, "metrics");
    if list.is_empty() && s.judges.as_ref().is_none_or(Vec::is_empty) {
        c.fail(
            "strategy.metrics",
            "a Flagger analysis needs at least one metric",
            "[[strategy.metrics]] with name = \"request-success-rate\" and threshold_range = { min = 99 }, \
             or name = \"request-duration\" and threshold_range = { max = 500 }, or strategy.judges",
        );
    }
    let mut out = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let path = format!("strategy.metrics[{i}]");
        let kind = match c.choice(
            &format!("{path}.name"),
            m.name.as_deref(),
            &["request-success-rate", "request-duration"],
        ) {
            Some("request-success-rate") => FlaggerMetricKind::RequestSuccessRate,
            Some(_) => FlaggerMetricKind::RequestDuration,
            None => {
                if m.name.is_none() {
                    c.fail(
                        &format!("{path}.name"),
                        "is required",
                        "\"request-success-rate\" or \"request-duration\"",
                    );
                }
                continue;
            }
        };
        let (wanted, other) = match kind {
            FlaggerMetricKind::RequestSuccessRate => ("min", "max"),
            FlaggerMetricKind::RequestDuration => ("max", "min"),
        };
        let range = m.threshold_range.as_ref();
        let (bound, stray) = match kind {
            FlaggerMetricKind::RequestSuccessRate => (range.and_then(|r| r.min), range.and_then(|r| r.max)),
            FlaggerMetricKind::RequestDuration => (range.and_then(|r| r.max), range.and_then(|r| r.min)),
        };
        if stray.is_some() {
            c.fail(
                &format!("{path}.threshold_range.{other}"),
                format!("a {other} does not apply to {}", kind.as_str()),
                format!("threshold_range = {{ {wanted} = ... }}"),
            );
        }
        let Some(bound) = bound else {
            c.fail(
                &format!("{path}.threshold_range.{wanted}"),
                format!("{} needs a {wanted}", kind.as_str()),
                match kind {
                    FlaggerMetricKind::RequestSuccessRate => "threshold_range = { min = 99 } (percent)",
                    FlaggerMetricKind::RequestDuration => "threshold_range = { max = 500 } (p99, milliseconds)",
                },
            );
            continue;
        };
        let bound = match kind {
            FlaggerMetricKind::RequestSuccessRate => c.pct(&format!("{path}.threshold_range.min"), Some(bound), 99.0),
            FlaggerMetricKind::RequestDuration => c.number(
                &format!("{path}.threshold_range.max"),
                Some(bound),
                500.0,
                0.001,
                86_400_000.0,
            ),
        };
        let window = c.positive_duration(&format!("{path}.interval"), m.interval.as_ref(), interval);
        if window < metrics.scrape_interval {
            c.fail(
                &format!("{path}.interval"),
                format!(
                    "{window} is shorter than metrics.scrape_interval ({}): the window could hold no scrape",
                    metrics.scrape_interval
                ),
                "a window at least as long as the scrape interval",
            );
        }
        out.push(FlaggerMetric {
            kind,
            bound,
            interval: window,
        });
    }
    FlaggerSpec {
        start_at,
        interval,
        threshold,
        weights,
        metrics: out,
        min_request_count: c.count("strategy.min_request_count", s.min_request_count, 0, 0, 1_000_000_000) as u64,
        progress_deadline,
        judges: super::validate_strategy::judges(c, "strategy.judges", s.judges.as_ref(), metrics.scrape_interval),
    }
}

/// The weights: `step_weights` as given, or `step_weight`, 2 x `step_weight`,
/// ... up to `max_weight` (the last capped at it), as Flagger steps.
fn weights(c: &mut Checker, s: &RawStrategy) -> Vec<f64> {
    if let Some(list) = &s.step_weights {
        for field in ["step_weight", "max_weight"] {
            let set = if field == "step_weight" {
                s.step_weight.is_some()
            } else {
                s.max_weight.is_some()
            };
            if set {
                c.fail(
                    &format!("strategy.{field}"),
                    "does not go with step_weights",
                    "either step_weights, or step_weight with max_weight",
                );
            }
        }
        let mut out = Vec::new();
        for (i, &w) in c
            .capped("strategy.step_weights", list, MAX_WEIGHTS, "weights")
            .iter()
            .enumerate()
        {
            let path = format!("strategy.step_weights[{i}]");
            let w = c.pct(&path, Some(w), 10.0);
            if w <= 0.0 || w >= 100.0 {
                c.fail(
                    &path,
                    format!("{w} is not a canary weight"),
                    "a percentage above 0 and below 100",
                );
            } else if out.last().is_some_and(|&prev| w <= prev) {
                c.fail(
                    &path,
                    format!("{w} is not above the weight before it"),
                    "increasing weights",
                );
            }
            out.push(w);
        }
        if out.is_empty() {
            c.fail(
                "strategy.step_weights",
                "has no weights",
                format!("from 1 to {MAX_WEIGHTS} increasing weights, e.g. [1, 5, 10, 50]"),
            );
            return vec![10.0];
        }
        return out;
    }
    let step = c.number("strategy.step_weight", s.step_weight, 10.0, 0.001, 99.999);
    let max = c.number("strategy.max_weight", s.max_weight, 50.0, 0.001, 99.999);
    if max < step && !c.failed("strategy.step_weight") && !c.failed("strategy.max_weight") {
        c.fail(
            "strategy.max_weight",
            format!("{max} is below step_weight ({step})"),
            "max_weight >= step_weight",
        );
        return vec![step];
    }
    let n = (max / step - 1e-9).ceil() as usize;
    if n > MAX_WEIGHTS {
        c.fail(
            "strategy.step_weight",
            format!("{step} up to {max} is {n} steps"),
            format!("at most {MAX_WEIGHTS} steps: a larger step_weight"),
        );
        return vec![step];
    }
    (1..=n).map(|k| (step * k as f64).min(max)).collect()
}
