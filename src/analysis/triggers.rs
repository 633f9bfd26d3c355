//! The chapter's rollback triggers, judged on scraped metrics: pure
//! functions of metric windows and gauges.

use crate::analysis::judges::{binomial_p_value, burn_rate};
use crate::analysis::kayenta;
use crate::engine::SimTime;
use crate::model::metrics::histogram_quantile;
use crate::model::Version;
use crate::scenario::{
    Comparison, CustomMetric, GameMetric, KayentaSeries, KayentaSpec, TriggerKind, TriggerScope, TriggerSpec,
};
use crate::strategy::MetricsView;

/// A trigger that fired, with the numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    /// `error_rate`, `latency`, `availability`, `custom_metric:<metric>` or `manual`.
    pub name: String,
    /// The value seen.
    pub observed: f64,
    /// The threshold.
    pub threshold: f64,
}

/// Evaluates one trigger at `now`. `cpu_ms_per_request` turns request rates
/// into CPU utilisation.
pub fn evaluate_trigger(t: &TriggerSpec, m: &dyn MetricsView, now: SimTime, cpu_ms_per_request: f64) -> Option<Firing> {
    let stats = |w| match t.scope {
        TriggerScope::Service => m.window_service(now, w),
        TriggerScope::New => m.window(Version::New, now, w),
    };
    let fire = |name: &str, observed: f64, threshold: f64| Firing {
        name: name.to_string(),
        observed,
        threshold,
    };
    match &t.kind {
        TriggerKind::ErrorRate {
            threshold_pct,
            sustained_for,
        } => {
            let w = stats(*sustained_for);
            let rate = w
                .error_rate_pct()
                .filter(|_| w.requests >= t.min_request_count.max(1))?;
            (rate > *threshold_pct).then(|| fire("error_rate", rate, *threshold_pct))
        }
        TriggerKind::Latency {
            threshold,
            percentile,
            window,
        } => {
            let w = stats(*window);
            if w.requests < t.min_request_count.max(1) {
                return None;
            }
            let q = histogram_quantile(percentile / 100.0, m.bounds_s(), &w.buckets)?;
            (q > threshold.as_secs_f64()).then(|| fire("latency", q * 1000.0, threshold.as_millis_f64()))
        }
        TriggerKind::Availability { below_pct, window } => {
            let w = stats(*window);
            let availability = w
                .success_rate_pct()
                .filter(|_| w.requests >= t.min_request_count.max(1))?;
            (availability < *below_pct).then(|| fire("availability", availability, *below_pct))
        }
        TriggerKind::CustomMetric {
            metric,
            threshold,
            comparison,
            version,
            window,
        } => {
            let g = m.gauges(*version, now);
            let value = match metric {
                CustomMetric::CpuUtilizationPct => {
                    let w = m.window(*version, now, *window);
                    let rate = w.requests as f64 / window.as_secs_f64();
                    100.0 * rate * cpu_ms_per_request / 1000.0 / f64::from(g.routable.max(1))
                }
                CustomMetric::MemoryMb => g.memory_mb_total / f64::from(g.running.max(1)),
                CustomMetric::Restarts => {
                    let before = m.gauges(*version, now.saturating_sub(*window));
                    (g.restarts - before.restarts.min(g.restarts)) as f64
                }
                CustomMetric::InFlightRequests => g.in_flight,
            };
            let fires = match comparison {
                Comparison::Greater => value > *threshold,
                Comparison::Less => value < *threshold,
                Comparison::Equal => (value - threshold).abs() < 0.001,
            };
            fires.then(|| fire(&format!("custom_metric:{}", metric.as_str()), value, *threshold))
        }
        TriggerKind::Game {
            metric,
            threshold,
            window,
        } => {
            let games = stats(*window).games;
            if metric.sample_size(&games) < t.min_request_count.max(1) {
                return None;
            }
            let value = metric.value(&games)?;
            let fires = match metric {
                GameMetric::Latency => value > *threshold,
                _ => value < *threshold,
            };
            fires.then(|| fire(metric.as_str(), value, *threshold))
        }
        TriggerKind::BurnRate { slo_pct, windows } => windows.iter().find_map(|w| {
            let long = stats(w.long);
            let short = stats(w.short);
            let enough = |x: &crate::model::WindowStats| x.requests >= t.min_request_count.max(1);
            if !enough(&long) || !enough(&short) {
                return None;
            }
            let burn_long = burn_rate(long.errors, long.requests, *slo_pct)?;
            let burn_short = burn_rate(short.errors, short.requests, *slo_pct)?;
            (burn_long >= w.burn_rate && burn_short >= w.burn_rate).then(|| fire("burn_rate", burn_long, w.burn_rate))
        }),
        TriggerKind::Binomial { alpha, window } => {
            let new = m.window(Version::New, now, *window);
            let stable = m.window(Version::Stable, now, *window);
            if new.requests < t.min_request_count.max(1) {
                return None;
            }
            let p = binomial_p_value((new.requests, new.errors), (stable.requests, stable.errors))?;
            (p < *alpha).then(|| fire("binomial", p, *alpha))
        }
        // Sequential detectors keep state between evaluations: the
        // supervisor feeds them (see `strategy::supervisor`).
        TriggerKind::Detector(_) => None,
        TriggerKind::Kayenta(k) => {
            let score = kayenta_score(k, m, now).0?;
            (score < k.marginal_score).then(|| fire("kayenta", score, k.marginal_score))
        }
        TriggerKind::Manual { at } => {
            (now >= SimTime::ZERO + *at).then(|| fire("manual", at.as_secs_f64(), at.as_secs_f64()))
        }
    }
}

/// A Kayenta judge's score at `now`: each metric's per-step series on the
/// new version (the last `window`, one point per `step`) is classified
/// against stable's over the same steps, and the classes scored. Steps in
/// which either version served nothing give no point. Returns the score
/// (`None` when no metric has enough data, or a critical one has none) and
/// the fewest points any metric had on a side.
pub fn kayenta_score(k: &KayentaSpec, m: &dyn MetricsView, now: SimTime) -> (Option<f64>, usize) {
    let steps = k.window.0 / k.step.0.max(1);
    let pairs: Vec<[crate::model::WindowStats; 2]> = (0..steps)
        .map(|i| {
            let end = now.saturating_sub(crate::engine::SimDuration(k.step.0.saturating_mul(i)));
            [
                m.window(Version::New, end, k.step),
                m.window(Version::Stable, end, k.step),
            ]
        })
        .filter(|[new, stable]| new.requests > 0 && stable.requests > 0)
        .collect();
    let value = |w: &crate::model::WindowStats, s: KayentaSeries| match s {
        KayentaSeries::Latency(p) => histogram_quantile(p / 100.0, m.bounds_s(), &w.buckets).map(|q| q * 1000.0),
        KayentaSeries::ErrorRate => w.error_rate_pct(),
    };
    let mut fewest = usize::MAX;
    let classes: Vec<(kayenta::Class, bool)> = k
        .metrics
        .iter()
        .map(|metric| {
            let side = |i: usize| -> Vec<f64> { pairs.iter().filter_map(|p| value(&p[i], metric.series)).collect() };
            let (new, stable) = (side(0), side(1));
            fewest = fewest.min(new.len()).min(stable.len());
            (kayenta::classify(new, stable, &metric.comparison), metric.critical)
        })
        .collect();
    (kayenta::score(&classes), fewest.min(pairs.len()))
}
