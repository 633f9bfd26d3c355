//! Validation of `[[strategy.analysis]]`: an Argo Rollouts-style analysis
//! (per metric interval, count, initial delay, conditions and limits).

use super::raw::RawArgoMetric;
use super::types::MetricsSpec;
use super::validate::Checker;
use crate::analysis::argo::{ArgoMetric, Condition, Query};
use crate::engine::SimDuration;

use super::limits::MAX_ANALYSIS_METRICS as MAX_METRICS;

/// Validates the analysis metrics (none without the table).
pub(super) fn analysis(c: &mut Checker, raw: Option<&[RawArgoMetric]>, metrics: &MetricsSpec) -> Vec<ArgoMetric> {
    let Some(list) = raw else { return Vec::new() };
    if list.is_empty() {
        c.fail(
            "strategy.analysis",
            "has no metrics",
            format!("from 1 to {MAX_METRICS} [[strategy.analysis]] metrics"),
        );
    }
    let list = c.capped("strategy.analysis", list, MAX_METRICS, "metrics");
    let names: Vec<&str> = Query::ALL.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let path = |f: &str| format!("strategy.analysis[{i}].{f}");
        // The name reaches the `trigger` column of every row: the one name
        // rule for labels.
        if let Some(Err(e)) = m
            .name
            .as_deref()
            .map(|n| crate::names::check_name(n, crate::names::NameUse::Label))
        {
            c.fail(&path("name"), e.problem, e.allowed);
        }
        let Some(query) = m.query.as_deref() else {
            c.fail(&path("query"), "is required", names.join(", "));
            continue;
        };
        let Some(query) = c.choice(&path("query"), Some(query), &names) else {
            continue;
        };
        let query = Query::ALL
            .iter()
            .find(|(n, _)| *n == query)
            .map(|(_, q)| *q)
            .expect("a listed query");
        let interval = c.positive_duration(&path("interval"), m.interval.as_ref(), SimDuration::from_secs(60));
        if interval < metrics.scrape_interval {
            c.fail(
                &path("interval"),
                format!(
                    "{interval} is shorter than metrics.scrape_interval ({}): its window could hold no scrape",
                    metrics.scrape_interval
                ),
                "an interval at least as long as the scrape interval",
            );
        }
        let mut condition = |field: &str, raw: Option<&String>| {
            raw.and_then(|text| match Condition::parse(text) {
                Ok(cond) => Some(cond),
                Err(why) => {
                    c.fail(
                        &path(field),
                        why,
                        "a threshold expression such as \"result >= 99\" (also result[0]; <, <=, >, >=, ==, !=)",
                    );
                    None
                }
            })
        };
        let success_condition = condition("success_condition", m.success_condition.as_ref());
        let failure_condition = condition("failure_condition", m.failure_condition.as_ref());
        if m.success_condition.is_none() && m.failure_condition.is_none() {
            c.fail(
                &path("success_condition"),
                "a metric without conditions can never fail",
                "success_condition and/or failure_condition",
            );
        }
        let count = c.count(&path("count"), m.count, 0, 0, 1_000_000) as u32;
        out.push(ArgoMetric {
            name: m.name.clone().unwrap_or_else(|| format!("metric{i}")),
            query,
            interval,
            count: (count > 0).then_some(count),
            initial_delay: c.duration(&path("initial_delay"), m.initial_delay.as_ref(), SimDuration::ZERO),
            success_condition,
            failure_condition,
            failure_limit: c.count(&path("failure_limit"), m.failure_limit, 0, 0, 1_000_000) as u32,
            inconclusive_limit: c.count(&path("inconclusive_limit"), m.inconclusive_limit, 0, 0, 1_000_000) as u32,
            consecutive_error_limit: c.count(
                &path("consecutive_error_limit"),
                m.consecutive_error_limit,
                4,
                0,
                1_000_000,
            ) as u32,
            min_request_count: c.count(&path("min_request_count"), m.min_request_count, 0, 0, 1_000_000_000) as u64,
        });
    }
    out
}
