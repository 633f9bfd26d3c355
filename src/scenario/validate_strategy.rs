//! Validation of `[strategy]`: one flat table whose `kind` decides which
//! fields apply, so a field of another kind is reported by name.

use super::raw::{RawCount, RawStep, RawStrategy};
use super::types::*;
use super::validate::Checker;
use crate::engine::SimDuration;

use super::limits::{MAX_MANUAL_PROMOTIONS, MAX_STEPS, MAX_SWITCH_STAGES};
use super::presets::{preset_steps, shorthand_steps, PresetError};

const KINDS: [&str; 6] = ["canary", "flagger", "rolling", "blue_green", "recreate", "none"];

/// Which fields each kind takes (besides `kind`).
fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "canary" => &[
            "start_at",
            "progress_deadline",
            "check_interval",
            "manual_promotions",
            "initial_weight_pct",
            "increment_pct",
            "increment_interval",
            "preset",
            "steps",
            "success_criteria",
            "analysis",
        ],
        "rolling" => &[
            "start_at",
            "progress_deadline",
            "batch_size",
            "batch_interval",
            "max_unavailable",
            "max_surge",
            "max_failure_ratio",
        ],
        "blue_green" => &[
            "start_at",
            "progress_deadline",
            "check_interval",
            "manual_promotions",
            "validation_duration",
            "validation_traffic_pct",
            "validation_max_error_rate_pct",
            "validation_max_p99",
            "validation_min_request_count",
            "switch_stages_pct",
            "stage_duration",
            "scale_down_delay",
            "auto_promote",
            "judges",
        ],
        "recreate" => &["start_at", "progress_deadline"],
        "flagger" => &[
            "start_at",
            "progress_deadline",
            "interval",
            "threshold",
            "step_weight",
            "max_weight",
            "step_weights",
            "metrics",
            "min_request_count",
            "judges",
        ],
        _ => &[],
    }
}

fn present(s: &RawStrategy) -> Vec<(&'static str, bool)> {
    vec![
        ("start_at", s.start_at.is_some()),
        ("progress_deadline", s.progress_deadline.is_some()),
        ("check_interval", s.check_interval.is_some()),
        ("manual_promotions", s.manual_promotions.is_some()),
        ("initial_weight_pct", s.initial_weight_pct.is_some()),
        ("increment_pct", s.increment_pct.is_some()),
        ("increment_interval", s.increment_interval.is_some()),
        ("preset", s.preset.is_some()),
        ("steps", s.steps.is_some()),
        ("success_criteria", s.success_criteria.is_some()),
        ("batch_size", s.batch_size.is_some()),
        ("batch_interval", s.batch_interval.is_some()),
        ("max_unavailable", s.max_unavailable.is_some()),
        ("max_surge", s.max_surge.is_some()),
        ("max_failure_ratio", s.max_failure_ratio.is_some()),
        ("validation_duration", s.validation_duration.is_some()),
        ("validation_traffic_pct", s.validation_traffic_pct.is_some()),
        (
            "validation_max_error_rate_pct",
            s.validation_max_error_rate_pct.is_some(),
        ),
        ("validation_max_p99", s.validation_max_p99.is_some()),
        ("validation_min_request_count", s.validation_min_request_count.is_some()),
        ("switch_stages_pct", s.switch_stages_pct.is_some()),
        ("stage_duration", s.stage_duration.is_some()),
        ("scale_down_delay", s.scale_down_delay.is_some()),
        ("auto_promote", s.auto_promote.is_some()),
        ("interval", s.interval.is_some()),
        ("threshold", s.threshold.is_some()),
        ("step_weight", s.step_weight.is_some()),
        ("max_weight", s.max_weight.is_some()),
        ("step_weights", s.step_weights.is_some()),
        ("metrics", s.metrics.is_some()),
        ("min_request_count", s.min_request_count.is_some()),
        ("analysis", s.analysis.is_some()),
        ("judges", s.judges.is_some()),
    ]
}

/// Validates `[strategy]` for a fleet of `instances`.
pub(super) fn validate_strategy(
    c: &mut Checker,
    raw: Option<&RawStrategy>,
    metrics: &MetricsSpec,
    sim: &SimulationSpec,
    instances: u32,
) -> StrategySpec {
    let kinds_allowed = "\"canary\", \"flagger\", \"rolling\", \"blue_green\", \"recreate\" or \"none\"";
    let Some(s) = raw else {
        c.fail(
            "strategy",
            "is required",
            format!("a [strategy] table with kind = {kinds_allowed}"),
        );
        return StrategySpec::None;
    };
    let kind = match s.kind.as_deref() {
        None => {
            c.fail("strategy.kind", "is required", kinds_allowed);
            return StrategySpec::None;
        }
        k => match c.choice("strategy.kind", k, &KINDS) {
            Some(k) => k,
            None => return StrategySpec::None,
        },
    };
    let allowed = fields_of(kind);
    for (field, set) in present(s) {
        if set && !allowed.contains(&field) {
            let list = if allowed.is_empty() {
                "no other fields".to_string()
            } else {
                allowed.join(", ")
            };
            c.fail(
                &format!("strategy.{field}"),
                format!("does not apply to kind = \"{kind}\""),
                format!("for kind = \"{kind}\": {list}"),
            );
        }
    }
    let start_at = c.duration("strategy.start_at", s.start_at.as_ref(), SimDuration::ZERO);
    if start_at >= sim.max_duration {
        c.fail(
            "strategy.start_at",
            format!(
                "{start_at} is not before simulation.max_duration ({})",
                sim.max_duration
            ),
            "a start time inside the simulated run",
        );
    }
    let progress_deadline = c.positive_duration(
        "strategy.progress_deadline",
        s.progress_deadline.as_ref(),
        SimDuration::from_secs(600),
    );
    let spec = match kind {
        "canary" => StrategySpec::Canary(canary(c, s, metrics, (start_at, progress_deadline), sim.max_duration)),
        "rolling" => StrategySpec::Rolling(rolling(c, s, instances, start_at, progress_deadline)),
        "blue_green" => StrategySpec::BlueGreen(blue_green(
            c,
            s,
            metrics,
            (start_at, progress_deadline),
            sim.max_duration,
        )),
        "recreate" => StrategySpec::Recreate(RecreateSpec {
            start_at,
            progress_deadline,
        }),
        "flagger" => StrategySpec::Flagger(super::validate_flagger::flagger(
            c,
            s,
            metrics,
            start_at,
            progress_deadline,
        )),
        _ => StrategySpec::None,
    };
    check_samples(c, &spec, sim);
    spec
}

/// Checks and timeline rows come every `check_interval`: bound their number.
fn check_samples(c: &mut Checker, spec: &StrategySpec, sim: &SimulationSpec) {
    let (interval, field) = match spec {
        StrategySpec::Canary(x) => (x.check_interval, "strategy.check_interval"),
        StrategySpec::BlueGreen(x) => (x.check_interval, "strategy.check_interval"),
        StrategySpec::Flagger(x) => (x.interval, "strategy.interval"),
        _ => return,
    };
    let n = sim.max_duration.0 / interval.0.max(1);
    if n > super::validate::limits::MAX_SAMPLES {
        c.fail(
            field,
            format!("{interval} means {n} checks and timeline rows in {}", sim.max_duration),
            format!(
                "at most {} per run: a longer interval",
                super::validate::limits::MAX_SAMPLES
            ),
        );
    }
}

/// `check_interval` of canary and blue-green (default 10 s).
fn check_interval(c: &mut Checker, s: &RawStrategy) -> SimDuration {
    c.positive_duration(
        "strategy.check_interval",
        s.check_interval.as_ref(),
        SimDuration::from_secs(10),
    )
}

fn manual_promotions(c: &mut Checker, s: &RawStrategy, end: SimDuration) -> Vec<SimDuration> {
    let listed = s.manual_promotions.as_deref().unwrap_or_default();
    let list: Vec<SimDuration> = c
        .capped(
            "strategy.manual_promotions",
            listed,
            MAX_MANUAL_PROMOTIONS,
            "promotions",
        )
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let path = format!("strategy.manual_promotions[{i}]");
            let at = c.duration(&path, Some(t), SimDuration::ZERO);
            super::validate::inside_run(c, &path, at, end, "the promotion would never come");
            at
        })
        .collect();
    for i in 1..list.len() {
        if list[i] < list[i - 1] {
            c.fail(
                &format!("strategy.manual_promotions[{i}]"),
                format!("{} is earlier than the promotion before it ({})", list[i], list[i - 1]),
                "promotion times in increasing order",
            );
        }
    }
    list
}

fn criteria(c: &mut Checker, s: &RawStrategy, metrics: &MetricsSpec, check_interval: SimDuration) -> SuccessCriteria {
    let cr = s.success_criteria.as_ref();
    let path = "strategy.success_criteria.evaluation_window";
    let window = c.positive_duration(
        path,
        cr.and_then(|x| x.evaluation_window.as_ref()),
        SimDuration::from_secs(60),
    );
    if window < check_interval {
        c.fail(
            path,
            format!(
                "window ({window}) is shorter than check_interval ({check_interval}): traffic between windows \
                 would never be judged"
            ),
            "a window at least as long as strategy.check_interval",
        );
    } else if window < metrics.scrape_interval {
        c.fail(
            path,
            format!(
                "window ({window}) is shorter than metrics.scrape_interval ({}): it could hold no scrape",
                metrics.scrape_interval
            ),
            "a window at least as long as metrics.scrape_interval",
        );
    }
    let max_p99 = cr.and_then(|x| x.max_latency_p99.as_ref()).map(|t| {
        c.positive_duration(
            "strategy.success_criteria.max_latency_p99",
            Some(t),
            SimDuration::from_secs(2),
        )
    });
    if let Some(x) = cr {
        if x.max_error_rate_pct.is_none()
            && x.min_success_rate_pct.is_none()
            && x.max_latency_p99.is_none()
            && x.judges.as_ref().is_none_or(Vec::is_empty)
        {
            c.fail(
                "strategy.success_criteria",
                "sets no criterion, so no check could ever fail",
                "at least one of max_error_rate_pct, min_success_rate_pct, max_latency_p99, judges",
            );
        }
    }
    SuccessCriteria {
        max_error_rate_pct: match cr {
            None => Some(1.0),
            Some(x) => x
                .max_error_rate_pct
                .map(|v| c.pct("strategy.success_criteria.max_error_rate_pct", Some(v), 1.0)),
        },
        min_success_rate_pct: cr
            .and_then(|x| x.min_success_rate_pct)
            .map(|v| c.pct("strategy.success_criteria.min_success_rate_pct", Some(v), 99.0)),
        max_latency_p99: max_p99,
        min_request_count: c.count(
            "strategy.success_criteria.min_request_count",
            cr.and_then(|x| x.min_request_count),
            100,
            0,
            1_000_000_000,
        ) as u64,
        evaluation_window: window,
        games: None,
        judges: judges(
            c,
            "strategy.success_criteria.judges",
            cr.and_then(|x| x.judges.as_ref()),
            metrics.scrape_interval,
        ),
    }
}

/// A `judges` list at `at` (canary criteria, blue-green validation, Flagger
/// checks): trigger tables judged at every check. Not `manual` (an operator
/// is not a criterion) nor `custom_metric` (a model gauge, not a judge).
pub(super) fn judges(
    c: &mut Checker,
    at: &str,
    list: Option<&Vec<super::raw::RawTrigger>>,
    scrape: SimDuration,
) -> Vec<TriggerSpec> {
    let Some(list) = list else {
        return Vec::new();
    };
    c.capped(at, list, super::limits::MAX_JUDGES, "judges")
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let path = format!("{at}[{i}]");
            if matches!(t.kind.as_deref(), Some("manual" | "custom_metric")) {
                c.fail(
                    &format!("{path}.kind"),
                    format!("\"{}\" is not a judge", t.kind.as_deref().unwrap_or_default()),
                    "binomial, burn_rate, sprt, cusum, ewma, kayenta, error_rate, latency, availability or a gaming \
                     metric",
                );
                return None;
            }
            super::validate_rollback::trigger_at(c, &path, t, scrape)
        })
        .collect()
}

fn canary(
    c: &mut Checker,
    s: &RawStrategy,
    metrics: &MetricsSpec,
    (start_at, progress_deadline): (SimDuration, SimDuration),
    end: SimDuration,
) -> CanarySpec {
    let check_interval = check_interval(c, s);
    let shorthand = s.initial_weight_pct.is_some() || s.increment_pct.is_some() || s.increment_interval.is_some();
    let forms = [
        ("preset", s.preset.is_some()),
        ("steps", s.steps.is_some()),
        ("initial_weight_pct", shorthand),
    ];
    if forms.iter().filter(|(_, set)| *set).count() > 1 {
        let second = forms.iter().filter(|(_, set)| *set).nth(1).map_or("steps", |(n, _)| n);
        c.fail(
            &format!("strategy.{second}"),
            "a canary takes one form of steps",
            "one of: steps = [...], preset = \"...\", or initial_weight_pct / increment_pct / increment_interval",
        );
    }
    let steps = if let Some(name) = &s.preset {
        preset_steps(name).unwrap_or_else(|why| {
            match why {
                PresetError::TooManySteps => c.fail(
                    "strategy.preset",
                    format!("\"{name}\" takes more than {MAX_STEPS} steps to reach 100%"),
                    format!("a linear percentage that reaches 100% within {MAX_STEPS} steps (at least 0.1)"),
                ),
                PresetError::TooLong => c.fail(
                    "strategy.preset",
                    format!("\"{name}\" waits longer than the longest run"),
                    format!(
                        "a wait of at most {} hours (simulation.max_duration is at most 30 days)",
                        super::limits::MAX_DURATION_S / 3600
                    ),
                ),
                PresetError::Unknown => c.fail(
                    "strategy.preset",
                    format!("\"{name}\" is not a known preset"),
                    "\"all-at-once\", \"canary-10-percent-5-minutes\", \"linear-10-percent-every-1-minute\", or the \
                 general forms canary-<P>-percent-<N>-<seconds|minutes|hours> and \
                 linear-<P>-percent-every-<N>-<seconds|minutes|hours>",
                ),
            }
            Vec::new()
        })
    } else if let Some(raw_steps) = &s.steps {
        c.capped("strategy.steps", raw_steps, MAX_STEPS, "steps")
            .iter()
            .enumerate()
            .filter_map(|(i, st)| step(c, i, st))
            .collect()
    } else {
        let initial = c.pct("strategy.initial_weight_pct", s.initial_weight_pct, 10.0);
        if s.initial_weight_pct.is_some() && initial == 0.0 {
            c.fail(
                "strategy.initial_weight_pct",
                "0 sends no traffic to the canary, so nothing can be judged",
                "a percentage above 0 and at most 100",
            );
        }
        let increment = c.pct("strategy.increment_pct", s.increment_pct, 10.0);
        if s.increment_pct.is_some() && increment == 0.0 {
            c.fail(
                "strategy.increment_pct",
                "0 means the canary never progresses",
                "a percentage above 0 and at most 100",
            );
        }
        let interval = c.positive_duration(
            "strategy.increment_interval",
            s.increment_interval.as_ref(),
            SimDuration::from_secs(300),
        );
        // Far more steps than anyone means would also be far more events;
        // the expansion itself stops at the limit.
        match shorthand_steps(initial, increment, interval) {
            Some(steps) => steps,
            None => {
                c.fail(
                    "strategy.increment_pct",
                    format!(
                        "{} from {} takes more than {MAX_STEPS} steps to reach 100%",
                        super::validate::show(increment),
                        super::validate::show(initial)
                    ),
                    format!("an increment that reaches 100% within {MAX_STEPS} steps"),
                );
                Vec::new()
            }
        }
    };
    let analysis = super::validate_argo::analysis(c, s.analysis.as_deref(), metrics);
    let criteria_checks = s.analysis.is_none() || s.success_criteria.is_some();
    if !criteria_checks {
        for (i, st) in steps.iter().enumerate() {
            if matches!(st, CanaryStep::Analysis(AnalysisLength::Checks(_))) {
                c.fail(
                    &format!("strategy.steps[{i}].analysis.count"),
                    "counts success-criteria checks, and with [[strategy.analysis]] alone there are none",
                    "analysis = { duration = \"...\" }, or a [strategy.success_criteria] table",
                );
            }
        }
    }
    let criteria = criteria(c, s, metrics, check_interval);
    // A weight is judged by a window that began after it was set, and a
    // hold past progress_deadline fails: a longer window could never judge
    // in time.
    if criteria_checks && criteria.evaluation_window >= progress_deadline {
        c.fail(
            "strategy.success_criteria.evaluation_window",
            format!(
                "{} is not shorter than strategy.progress_deadline ({progress_deadline}): a weight is judged by a \
                 window that began after it was set, and a rollout held that long fails",
                criteria.evaluation_window
            ),
            "an evaluation window shorter than progress_deadline",
        );
    }
    CanarySpec {
        start_at,
        steps,
        check_interval,
        progress_deadline,
        criteria,
        manual_promotions: manual_promotions(c, s, end),
        analysis,
        criteria_checks,
    }
}

fn step(c: &mut Checker, i: usize, st: &RawStep) -> Option<CanaryStep> {
    let path = format!("strategy.steps[{i}]");
    let keys = [
        st.set_weight.is_some(),
        st.pause.is_some(),
        st.analysis.is_some(),
        st.set_canary_scale.is_some(),
    ];
    if keys.iter().filter(|k| **k).count() != 1 {
        c.fail(
            &path,
            "a step has exactly one of set_weight, pause, analysis, set_canary_scale",
            "e.g. { set_weight = 20 }, { pause = { duration = \"5m\" } }, { pause = {} }, \
             { analysis = { count = 6 } }, { set_canary_scale = { replicas = 2 } }",
        );
        return None;
    }
    if let Some(w) = st.set_weight {
        let w = c.pct(&format!("{path}.set_weight"), Some(w), 0.0);
        return Some(CanaryStep::SetWeight(w));
    }
    if let Some(p) = &st.pause {
        return Some(CanaryStep::Pause(p.duration.as_ref().map(|d| {
            c.positive_duration(&format!("{path}.pause.duration"), Some(d), SimDuration::from_secs(1))
        })));
    }
    if let Some(a) = &st.analysis {
        return match (&a.duration, a.count) {
            (Some(d), None) => Some(CanaryStep::Analysis(AnalysisLength::Duration(c.positive_duration(
                &format!("{path}.analysis.duration"),
                Some(d),
                SimDuration::from_secs(60),
            )))),
            (None, Some(n)) => Some(CanaryStep::Analysis(AnalysisLength::Checks(c.count(
                &format!("{path}.analysis.count"),
                Some(n),
                1,
                1,
                100_000,
            ) as u32))),
            _ => {
                c.fail(
                    &format!("{path}.analysis"),
                    "an analysis step needs exactly one of duration and count",
                    "{ duration = \"2m\" } or { count = 6 }",
                );
                None
            }
        };
    }
    let sc = st.set_canary_scale.as_ref()?;
    match (sc.replicas, sc.weight, sc.match_traffic_weight) {
        (Some(r), None, None) => Some(CanaryStep::SetCanaryScale(CanaryScale::Replicas(c.count(
            &format!("{path}.set_canary_scale.replicas"),
            Some(r),
            1,
            0,
            10_000,
        ) as u32))),
        (None, Some(w), None) => Some(CanaryStep::SetCanaryScale(CanaryScale::Weight(c.pct(
            &format!("{path}.set_canary_scale.weight"),
            Some(w),
            0.0,
        )))),
        (None, None, Some(true)) => Some(CanaryStep::SetCanaryScale(CanaryScale::MatchTrafficWeight)),
        _ => {
            c.fail(
                &format!("{path}.set_canary_scale"),
                "set_canary_scale needs exactly one of replicas, weight, match_traffic_weight = true",
                "{ replicas = 2 }, { weight = 25 } or { match_traffic_weight = true }",
            );
            None
        }
    }
}

/// Resolves a count or percentage of `n` instances; percentages round up
/// when `round_up` (surge, batch size) and down otherwise (unavailable), as
/// Kubernetes does.
fn resolve_count(
    c: &mut Checker,
    path: &str,
    raw: Option<&RawCount>,
    default: RawCount,
    n: u32,
    round_up: bool,
) -> u32 {
    let max = super::limits::MAX_INSTANCES;
    let allowed = format!("a whole number from 0 to {max} such as 2, or a percentage string such as \"25%\"");
    match raw.cloned().unwrap_or(default) {
        // Counts beyond the largest fleet mean nothing more, and keep every
        // sum of counts in the controllers far from u32::MAX.
        RawCount::Count(v) if (0..=max).contains(&v) => v as u32,
        RawCount::Count(v) => {
            c.fail(path, format!("{v} is out of range"), allowed);
            0
        }
        RawCount::Percent(text) => {
            let parsed = text.trim().strip_suffix('%').and_then(|p| p.trim().parse::<f64>().ok());
            match parsed {
                Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => {
                    let exact = f64::from(n) * p / 100.0;
                    (if round_up {
                        (exact - 1e-9).ceil()
                    } else {
                        (exact + 1e-9).floor()
                    }) as u32
                }
                _ => {
                    c.fail(path, format!("\"{text}\" is not a count or a percentage"), allowed);
                    0
                }
            }
        }
    }
}

fn rolling(
    c: &mut Checker,
    s: &RawStrategy,
    n: u32,
    start_at: SimDuration,
    progress_deadline: SimDuration,
) -> RollingSpec {
    let batch_size = resolve_count(
        c,
        "strategy.batch_size",
        s.batch_size.as_ref(),
        RawCount::Percent("25%".into()),
        n,
        true,
    );
    if batch_size == 0 || batch_size > n {
        c.fail(
            "strategy.batch_size",
            format!("resolves to {batch_size} instances of {n}"),
            format!("from 1 to {n} instances"),
        );
    }
    let max_unavailable = resolve_count(
        c,
        "strategy.max_unavailable",
        s.max_unavailable.as_ref(),
        RawCount::Percent("25%".into()),
        n,
        false,
    );
    let max_surge = resolve_count(
        c,
        "strategy.max_surge",
        s.max_surge.as_ref(),
        RawCount::Percent("25%".into()),
        n,
        true,
    );
    if max_unavailable >= n {
        c.fail(
            "strategy.max_unavailable",
            format!("resolves to {max_unavailable}, which would allow the whole fleet of {n} to be down"),
            format!("fewer than {n} instances (use kind = \"recreate\" for a full stop)"),
        );
    }
    if max_surge == 0 && max_unavailable == 0 {
        c.fail(
            "strategy.max_surge",
            "max_surge and max_unavailable are both 0, so no instance could ever be replaced",
            "max_surge >= 1 or max_unavailable >= 1",
        );
    }
    let ratio = c.number("strategy.max_failure_ratio", s.max_failure_ratio, 0.2, 0.0, 1.0);
    RollingSpec {
        start_at,
        batch_size,
        batch_interval: c.duration("strategy.batch_interval", s.batch_interval.as_ref(), SimDuration::ZERO),
        max_unavailable,
        max_surge,
        max_failure_ratio: ratio,
        progress_deadline,
    }
}

fn blue_green(
    c: &mut Checker,
    s: &RawStrategy,
    metrics: &MetricsSpec,
    (start_at, progress_deadline): (SimDuration, SimDuration),
    end: SimDuration,
) -> BlueGreenSpec {
    let check_interval = check_interval(c, s);
    if check_interval < metrics.scrape_interval {
        c.fail(
            "strategy.check_interval",
            format!(
                "{check_interval} is shorter than metrics.scrape_interval ({})",
                metrics.scrape_interval
            ),
            "a check interval at least as long as the scrape interval (it is also the validation window)",
        );
    }
    let stages = match &s.switch_stages_pct {
        None => vec![10.0, 25.0, 50.0, 75.0, 100.0],
        Some(list) => {
            let stages: Vec<f64> = c
                .capped("strategy.switch_stages_pct", list, MAX_SWITCH_STAGES, "stages")
                .iter()
                .enumerate()
                .map(|(i, &p)| c.pct(&format!("strategy.switch_stages_pct[{i}]"), Some(p), 100.0))
                .collect();
            for i in 1..stages.len() {
                if stages[i] <= stages[i - 1] {
                    c.fail(
                        &format!("strategy.switch_stages_pct[{i}]"),
                        format!("{} is not above the stage before it ({})", stages[i], stages[i - 1]),
                        "increasing percentages ending at 100",
                    );
                }
            }
            if stages.last() != Some(&100.0) && list.len() <= MAX_SWITCH_STAGES {
                c.fail(
                    "strategy.switch_stages_pct",
                    "must end at 100",
                    "increasing percentages ending at 100, e.g. [10, 25, 50, 75, 100]",
                );
            }
            stages
        }
    };
    let validation_traffic_pct = c.pct("strategy.validation_traffic_pct", s.validation_traffic_pct, 5.0);
    let judges = judges(c, "strategy.judges", s.judges.as_ref(), metrics.scrape_interval);
    for (i, j) in judges.iter().enumerate() {
        if matches!(j.kind, TriggerKind::Kayenta(_)) && validation_traffic_pct >= 100.0 {
            c.fail(
                &format!("strategy.judges[{i}]"),
                "a kayenta judge compares green with blue, and at validation_traffic_pct = 100 blue serves nothing",
                "validation_traffic_pct below 100 with a kayenta judge",
            );
        }
    }
    BlueGreenSpec {
        start_at,
        validation_duration: c.duration(
            "strategy.validation_duration",
            s.validation_duration.as_ref(),
            SimDuration::from_secs(300),
        ),
        validation_traffic_pct,
        validation_max_error_rate_pct: c.pct(
            "strategy.validation_max_error_rate_pct",
            s.validation_max_error_rate_pct,
            5.0,
        ),
        validation_max_p99: c.positive_duration(
            "strategy.validation_max_p99",
            s.validation_max_p99.as_ref(),
            SimDuration::from_secs(2),
        ),
        validation_min_request_count: c.count(
            "strategy.validation_min_request_count",
            s.validation_min_request_count,
            50,
            0,
            1_000_000_000,
        ) as u64,
        check_interval,
        switch_stages_pct: stages,
        stage_duration: c.positive_duration(
            "strategy.stage_duration",
            s.stage_duration.as_ref(),
            SimDuration::from_secs(30),
        ),
        scale_down_delay: c.duration(
            "strategy.scale_down_delay",
            s.scale_down_delay.as_ref(),
            SimDuration::from_secs(30),
        ),
        auto_promote: s.auto_promote.unwrap_or(true),
        manual_promotions: manual_promotions(c, s, end),
        progress_deadline,
        games: None,
        judges,
    }
}
