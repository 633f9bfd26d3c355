//! Validation of `[[faults]]`.

use super::raw::RawFault;
use super::validate::Checker;
use crate::engine::SimDuration;
use crate::model::faults::{FaultKind, FaultSpec, FaultTiming};

use super::limits::{MAX_FAULTS, MIN_CRASH_LIFE_S};

const KINDS: [&str; 15] = [
    "error_rate",
    "latency_regression",
    "crash_on_boot",
    "crash_loop",
    "memory_leak",
    "failure_under_load",
    "failure_for_segment",
    "instance_crashes",
    "zone_outage",
    "flaky_health_checks",
    "dependency_outage",
    "traffic_spike",
    "dropped_scrapes",
    "delayed_scrapes",
    "metrics_noise",
];

fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "error_rate" | "dependency_outage" => &["error_rate_pct"],
        "latency_regression" | "traffic_spike" => &["multiplier"],
        "crash_on_boot" => &["probability_pct"],
        "crash_loop" => &["after"],
        "memory_leak" => &["error_pct_per_hour", "latency_growth_per_hour"],
        "failure_under_load" => &["utilisation_pct", "error_rate_pct"],
        "failure_for_segment" => &["share_pct", "error_rate_pct"],
        "instance_crashes" => &["mtbf"],
        "zone_outage" => &["zones", "zone"],
        "flaky_health_checks" => &["false_failure_pct"],
        "dropped_scrapes" => &["drop_pct"],
        "delayed_scrapes" => &["delay"],
        _ => &["noise_pct"],
    }
}

/// Validates the faults; `has_capacity` and `has_sessions` say whether the
/// scenario models what some faults act on; a scheduled fault must start
/// before `max_duration`, the end of the run.
pub(super) fn validate_faults(
    c: &mut Checker,
    raw: Option<&Vec<RawFault>>,
    has_capacity: bool,
    has_sessions: bool,
    max_duration: SimDuration,
) -> Vec<FaultSpec> {
    let Some(list) = raw else { return Vec::new() };
    c.capped("faults", list, MAX_FAULTS, "faults")
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let path = format!("faults[{i}]");
            let spec = fault(c, &path, f, has_capacity, has_sessions)?;
            if let FaultTiming::Scheduled { at, .. } = spec.timing {
                super::validate::inside_run(
                    c,
                    &format!("{path}.at"),
                    at,
                    max_duration,
                    "the fault would never start",
                );
            }
            Some(spec)
        })
        .collect()
}

/// An instance's life before a crash fault kills it: at least
/// [`MIN_CRASH_LIFE_S`].
fn crash_life(c: &mut Checker, path: &str, raw: Option<&String>) -> SimDuration {
    let least = SimDuration::from_secs(MIN_CRASH_LIFE_S);
    let d = c.positive_duration(path, raw, least);
    if d < least && !c.failed(path) {
        c.fail(
            path,
            format!("{d} is shorter than {least}: replacements would feed on each other faster than the run"),
            format!("a duration of at least {MIN_CRASH_LIFE_S}s"),
        );
        return least;
    }
    d
}

fn fault(c: &mut Checker, path: &str, f: &RawFault, has_capacity: bool, has_sessions: bool) -> Option<FaultSpec> {
    let kind = match f.kind.as_deref() {
        None => {
            c.fail(&format!("{path}.kind"), "is required", KINDS.join(", "));
            return None;
        }
        k => c.choice(&format!("{path}.kind"), k, &KINDS)?,
    };
    let present = [
        ("error_rate_pct", f.error_rate_pct.is_some()),
        ("multiplier", f.multiplier.is_some()),
        ("probability_pct", f.probability_pct.is_some()),
        ("after", f.after.is_some()),
        ("error_pct_per_hour", f.error_pct_per_hour.is_some()),
        ("latency_growth_per_hour", f.latency_growth_per_hour.is_some()),
        ("utilisation_pct", f.utilisation_pct.is_some()),
        ("share_pct", f.share_pct.is_some()),
        ("mtbf", f.mtbf.is_some()),
        ("zones", f.zones.is_some()),
        ("zone", f.zone.is_some()),
        ("false_failure_pct", f.false_failure_pct.is_some()),
        ("drop_pct", f.drop_pct.is_some()),
        ("delay", f.delay.is_some()),
        ("noise_pct", f.noise_pct.is_some()),
    ];
    let allowed = fields_of(kind);
    let before = c.errors.len();
    for (field, set) in present {
        let wanted = allowed.contains(&field);
        let optional = kind == "memory_leak" || (kind == "zone_outage" && field == "zones");
        if set && !wanted {
            c.fail(
                &format!("{path}.{field}"),
                format!("does not apply to kind = \"{kind}\""),
                format!(
                    "for kind = \"{kind}\": {} (and at, duration, rate_per_hour)",
                    allowed.join(", ")
                ),
            );
        } else if wanted && !set && !optional {
            c.fail(
                &format!("{path}.{field}"),
                format!("kind = \"{kind}\" needs `{field}`"),
                allowed.join(", "),
            );
        }
    }
    if c.errors.len() > before {
        return None;
    }
    let p = |c: &mut Checker, name: &str, v: Option<f64>| c.pct(&format!("{path}.{name}"), v, 0.0);
    let kind = match kind {
        "error_rate" => FaultKind::ErrorRate {
            error_rate_pct: p(c, "error_rate_pct", f.error_rate_pct),
        },
        "dependency_outage" => FaultKind::DependencyOutage {
            error_rate_pct: p(c, "error_rate_pct", f.error_rate_pct),
        },
        "latency_regression" => FaultKind::LatencyRegression {
            multiplier: c.number(&format!("{path}.multiplier"), f.multiplier, 1.0, 0.01, 1000.0),
        },
        "traffic_spike" => FaultKind::TrafficSpike {
            multiplier: c.number(&format!("{path}.multiplier"), f.multiplier, 1.0, 0.0, 100.0),
        },
        "crash_on_boot" => FaultKind::CrashOnBoot {
            probability_pct: p(c, "probability_pct", f.probability_pct),
        },
        "crash_loop" => FaultKind::CrashLoop {
            after: crash_life(c, &format!("{path}.after"), f.after.as_ref()),
        },
        "memory_leak" => FaultKind::MemoryLeak {
            error_pct_per_hour: c.number(
                &format!("{path}.error_pct_per_hour"),
                f.error_pct_per_hour,
                0.0,
                0.0,
                100.0,
            ),
            latency_growth_per_hour: c.number(
                &format!("{path}.latency_growth_per_hour"),
                f.latency_growth_per_hour,
                0.0,
                0.0,
                100.0,
            ),
        },
        "failure_under_load" => {
            if !has_capacity {
                c.fail(
                    path,
                    "failure under load needs a utilisation, and there is no [capacity]",
                    "a [capacity] table",
                );
            }
            FaultKind::FailureUnderLoad {
                utilisation_pct: p(c, "utilisation_pct", f.utilisation_pct),
                error_rate_pct: p(c, "error_rate_pct", f.error_rate_pct),
            }
        }
        "failure_for_segment" => {
            if !has_sessions {
                c.fail(
                    path,
                    "a user segment is a share of sessions, and there is no [sessions]",
                    "a [sessions] table",
                );
            }
            FaultKind::FailureForSegment {
                share_pct: p(c, "share_pct", f.share_pct),
                error_rate_pct: p(c, "error_rate_pct", f.error_rate_pct),
            }
        }
        "instance_crashes" => FaultKind::InstanceCrashes {
            mtbf: crash_life(c, &format!("{path}.mtbf"), f.mtbf.as_ref()),
        },
        "zone_outage" => {
            let zones = c.count(&format!("{path}.zones"), f.zones, 3, 2, 100) as u32;
            let zone = c.count(&format!("{path}.zone"), f.zone, 0, 0, i64::from(zones) - 1) as u32;
            FaultKind::ZoneOutage { zones, zone }
        }
        "flaky_health_checks" => FaultKind::FlakyHealthChecks {
            false_failure_pct: p(c, "false_failure_pct", f.false_failure_pct),
        },
        "dropped_scrapes" => FaultKind::DroppedScrapes {
            drop_pct: p(c, "drop_pct", f.drop_pct),
        },
        "delayed_scrapes" => FaultKind::DelayedScrapes {
            delay: c.positive_duration(&format!("{path}.delay"), f.delay.as_ref(), SimDuration::from_secs(30)),
        },
        _ => FaultKind::MetricsNoise {
            noise_pct: c.number(&format!("{path}.noise_pct"), f.noise_pct, 0.0, 0.0, 1000.0),
        },
    };
    let timing = match f.rate_per_hour {
        Some(rate) => {
            if f.at.is_some() {
                c.fail(
                    &format!("{path}.at"),
                    "a random fault has no start time",
                    "either at (scheduled) or rate_per_hour (random)",
                );
            }
            let per_hour = c.number(&format!("{path}.rate_per_hour"), Some(rate), 1.0, 0.0001, 10_000.0);
            let Some(d) = f.duration.as_ref() else {
                c.fail(
                    &format!("{path}.duration"),
                    "a random fault needs the length of each occurrence",
                    "a duration such as \"5m\"",
                );
                return None;
            };
            FaultTiming::Random {
                per_hour,
                duration: c.positive_duration(&format!("{path}.duration"), Some(d), SimDuration::from_secs(60)),
            }
        }
        None => FaultTiming::Scheduled {
            at: c.duration(&format!("{path}.at"), f.at.as_ref(), SimDuration::ZERO),
            duration: f
                .duration
                .as_ref()
                .map(|d| c.positive_duration(&format!("{path}.duration"), Some(d), SimDuration::from_secs(60))),
        },
    };
    Some(FaultSpec { kind, timing })
}
