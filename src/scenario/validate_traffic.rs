//! Validation of the traffic shape: constant, diurnal or a replayed CSV
//! series, with spikes on top.

use super::inputs::InputFiles;
use super::raw::RawTraffic;
use super::validate::{limits, show, Checker};
use crate::engine::SimDuration;
use crate::model::traffic::{BaseShape, Spike, TrafficShape};
use std::path::Path;

/// Validates the shape fields of `[traffic]`; `base_dir` is the scenario
/// file's folder, for `replay_file`, which is read through `inputs` (once
/// for every scenario that shares them); spikes start before `end`.
pub(super) fn shape(
    c: &mut Checker,
    tr: Option<&RawTraffic>,
    base_dir: &Path,
    inputs: &InputFiles,
    end: SimDuration,
) -> TrafficShape {
    let rate_allowed = format!("a number of requests per second from 0 to {}", limits::MAX_RATE_RPS);
    let rate = |c: &mut Checker, path: &str, v: Option<f64>| -> f64 {
        match v {
            None => {
                c.fail(path, "is required", rate_allowed.clone());
                0.0
            }
            Some(r) if !r.is_finite() || !(0.0..=limits::MAX_RATE_RPS).contains(&r) => {
                c.fail(path, format!("{} is out of range", show(r)), rate_allowed.clone());
                0.0
            }
            Some(r) => r,
        }
    };
    let kind = c.choice(
        "traffic.shape",
        tr.and_then(|t| t.shape.as_deref()),
        &["constant", "diurnal", "replay"],
    );
    let kind = kind.unwrap_or("constant");
    let present = |t: &RawTraffic| {
        [
            ("rate_rps", t.rate_rps.is_some()),
            ("peak_rps", t.peak_rps.is_some()),
            ("trough_rps", t.trough_rps.is_some()),
            ("peak_at", t.peak_at.is_some()),
            ("period", t.period.is_some()),
            ("replay_file", t.replay_file.is_some()),
        ]
    };
    let allowed: &[&str] = match kind {
        "diurnal" => &["peak_rps", "trough_rps", "peak_at", "period"],
        "replay" => &["replay_file"],
        _ => &["rate_rps"],
    };
    if let Some(t) = tr {
        for (field, set) in present(t) {
            if set && !allowed.contains(&field) {
                c.fail(
                    &format!("traffic.{field}"),
                    format!("does not apply to shape = \"{kind}\""),
                    format!("for shape = \"{kind}\": {}", allowed.join(", ")),
                );
            }
        }
    }
    let base = match kind {
        "diurnal" => {
            let peak = rate(c, "traffic.peak_rps", tr.and_then(|t| t.peak_rps));
            let trough = rate(c, "traffic.trough_rps", tr.and_then(|t| t.trough_rps));
            if trough > peak && !c.failed("traffic.peak_rps") && !c.failed("traffic.trough_rps") {
                c.fail(
                    "traffic.trough_rps",
                    format!("{trough} is above the peak ({peak})"),
                    "a trough at most the peak",
                );
            }
            let period = c.positive_duration(
                "traffic.period",
                tr.and_then(|t| t.period.as_ref()),
                SimDuration::from_secs(86_400),
            );
            let peak_at = c.duration(
                "traffic.peak_at",
                tr.and_then(|t| t.peak_at.as_ref()),
                SimDuration::from_secs(14 * 3600),
            );
            BaseShape::Diurnal {
                peak,
                trough,
                peak_at_s: peak_at.as_secs_f64(),
                period_s: period.as_secs_f64(),
            }
        }
        "replay" => match tr.and_then(|t| t.replay_file.as_ref()) {
            None => {
                c.fail(
                    "traffic.replay_file",
                    "shape = \"replay\" needs `replay_file`",
                    "a CSV file t_s,rps",
                );
                BaseShape::Constant(0.0)
            }
            Some(file) => replay(c, &base_dir.join(file), inputs),
        },
        _ => BaseShape::Constant(rate(c, "traffic.rate_rps", tr.and_then(|t| t.rate_rps))),
    };
    let mut spikes = Vec::new();
    let listed = tr.and_then(|t| t.spikes.as_deref()).unwrap_or_default();
    for (i, raw) in c
        .capped("traffic.spikes", listed, limits::MAX_SPIKES, "spikes")
        .iter()
        .enumerate()
    {
        let path = format!("traffic.spikes[{i}]");
        for (field, set) in [
            ("at", raw.at.is_some()),
            ("duration", raw.duration.is_some()),
            ("multiplier", raw.multiplier.is_some()),
        ] {
            if !set {
                c.fail(
                    &format!("{path}.{field}"),
                    "is required",
                    "at, duration and multiplier, e.g. { at = \"10m\", duration = \"2m\", multiplier = 3 }",
                );
            }
        }
        let at = c.duration(&format!("{path}.at"), raw.at.as_ref(), SimDuration::ZERO);
        super::validate::inside_run(c, &format!("{path}.at"), at, end, "the spike would never start");
        let duration = c.positive_duration(
            &format!("{path}.duration"),
            raw.duration.as_ref(),
            SimDuration::from_secs(60),
        );
        let multiplier = c.number(&format!("{path}.multiplier"), raw.multiplier, 1.0, 0.0, 1000.0);
        spikes.push(Spike {
            start_s: at.as_secs_f64(),
            end_s: (at + duration).as_secs_f64(),
            multiplier,
        });
    }
    let shape = TrafficShape { base, spikes };
    if shape.max_rate() > limits::MAX_RATE_RPS {
        c.fail(
            "traffic",
            format!("the rate can reach {} requests/s", show(shape.max_rate())),
            format!("at most {} requests/s, spikes included", limits::MAX_RATE_RPS),
        );
    }
    shape
}

/// What a replay file must hold.
const REPLAY_ALLOWED: &str = "a CSV file with a header t_s,rps and rows of increasing t_s and rps >= 0";

/// The replayed series at `path`, read and parsed once per `inputs`.
fn replay(c: &mut Checker, path: &Path, inputs: &InputFiles) -> BaseShape {
    match inputs.replay(path, limits::MAX_REPLAY_BYTES, parse_replay) {
        Ok(points) => BaseShape::Replay(points),
        Err(problem) => {
            c.fail("traffic.replay_file", problem, REPLAY_ALLOWED);
            BaseShape::Constant(0.0)
        }
    }
}

/// Parses a replayed series: a header `t_s,rps`, then rows with increasing
/// times. Problems name the CSV file (`shown`), line and column.
fn parse_replay(shown: &str, bytes: &[u8]) -> Result<Vec<(f64, f64)>, String> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    match reader.headers() {
        Ok(h) if h.iter().collect::<Vec<_>>() == ["t_s", "rps"] => {}
        Ok(h) => {
            return Err(format!(
                "{shown}:1: the header is `{}`",
                h.iter().collect::<Vec<_>>().join(",")
            ))
        }
        Err(e) => return Err(format!("{shown}: {e}")),
    }
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("{shown}:{line}: {e}"))?;
        if points.len() >= limits::MAX_REPLAY_ROWS {
            return Err(format!("{shown}: more than {} rows", limits::MAX_REPLAY_ROWS));
        }
        let field = |k: usize, name: &str| -> Result<f64, String> {
            let text = record.get(k).unwrap_or("");
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    format!(
                        "{shown}:{line}:{}: column `{name}`: \"{text}\" is not a number >= 0",
                        k + 1
                    )
                })
        };
        let (t, rps) = (field(0, "t_s")?, field(1, "rps")?);
        if points.last().is_some_and(|&(prev, _)| t <= prev) {
            return Err(format!(
                "{shown}:{line}:1: column `t_s`: {t} is not after the previous row"
            ));
        }
        points.push((t, rps));
    }
    if points.is_empty() {
        return Err(format!("{shown}: no rows after the header"));
    }
    Ok(points)
}
