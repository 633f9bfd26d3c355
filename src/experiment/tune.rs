//! `deploysim tune`: offline tuning of success criteria and triggers.
//!
//! A tune file names a base scenario, a population of releases (the good
//! one and bad ones with chosen effects), and a search space: dotted paths
//! into the scenario, each with the values to try. Every candidate (a point
//! of the grid, or a seeded random sample of it) runs N trials of every
//! release on common seeds: trial i of every candidate and release uses the
//! streams of (seed, i), so candidates differ only in their settings. Per
//! candidate: false rollback rate, detection power, TTD and blast radius
//! percentiles, rollout duration; the Pareto front; the best candidate under
//! the user's constraints.

use super::source::{cell_error, read_base, Overlay, SourceFile};
use super::stats::quantile;
use super::sweep::{check_name, SweepError};
use crate::names::NameUse;
use crate::scenario::{self, Scenario};
use crate::sim::{run, RunOptions};
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::Deserialize;
use std::path::Path;

/// Most candidates one tune may run.
pub const MAX_CANDIDATES: usize = 10_000;

/// Most parts of a searched path (`a.b[0].c` has three): deeper than any
/// field of the format, far below the TOML reader's limit.
pub const MAX_PATH_PARTS: usize = 16;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTune {
    name: Option<String>,
    scenario: Option<String>,
    trials: Option<i64>,
    seed: Option<i64>,
    search: Option<String>,
    samples: Option<i64>,
    bad: Option<Vec<RawBad>>,
    space: Option<toml::Table>,
    constraints: Option<RawConstraints>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBad {
    name: Option<String>,
    release: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConstraints {
    max_false_rollback_pct: Option<f64>,
    max_rollout: Option<String>,
    min_power_pct: Option<f64>,
}

/// The user's constraints on a candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraints {
    /// Highest false rollback rate, percent.
    pub max_false_rollback_pct: f64,
    /// Longest rollout of a good release (its p95), seconds.
    pub max_rollout_s: Option<f64>,
    /// Lowest detection power, percent.
    pub min_power_pct: f64,
}

/// One point of the search space, with the scenarios it runs.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// 1-based number, in grid order.
    pub id: usize,
    /// The value of each search parameter, as written in the file.
    pub values: Vec<String>,
    /// The good release, then each bad one.
    pub scenarios: Vec<Scenario>,
}

/// A validated tune file.
#[derive(Clone, Debug)]
pub struct Tune {
    /// Name (output folder).
    pub name: String,
    /// Trials per candidate and release.
    pub trials: u64,
    /// Base seed.
    pub seed: u64,
    /// The search parameters' dotted paths.
    pub params: Vec<String>,
    /// The bad releases' names.
    pub bad: Vec<String>,
    /// The candidates to run.
    pub candidates: Vec<Candidate>,
    /// The constraints.
    pub constraints: Constraints,
    /// The grid's size (the candidates are all of it, or a sample).
    pub grid_size: usize,
}

/// Sets a dotted path (`strategy.success_criteria.max_error_rate_pct`, with
/// `name[i]` for an element of an array of tables) in a TOML table,
/// creating tables on the way.
pub fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = table;
    for (k, part) in parts.iter().enumerate() {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => {
                let i: usize = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("\"{part}\" is not name[index]"))?;
                (key, Some(i))
            }
            None => (*part, None),
        };
        if key.is_empty() {
            return Err(format!("\"{path}\" has an empty part"));
        }
        let last = k + 1 == parts.len();
        match (index, last) {
            (None, true) => {
                cur.insert(key.to_string(), value);
                return Ok(());
            }
            (None, false) => {
                let next = cur
                    .entry(key.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                cur = next
                    .as_table_mut()
                    .ok_or_else(|| format!("`{key}` in \"{path}\" is not a table"))?;
            }
            (Some(i), _) => {
                let arr = cur
                    .get_mut(key)
                    .and_then(|v| v.as_array_mut())
                    .ok_or_else(|| format!("`{key}` in \"{path}\" is not an array in the base scenario"))?;
                let len = arr.len();
                let item = arr
                    .get_mut(i)
                    .ok_or_else(|| format!("`{key}` has {len} elements; \"{part}\" is past its end"))?;
                if last {
                    *item = value;
                    return Ok(());
                }
                cur = item
                    .as_table_mut()
                    .ok_or_else(|| format!("`{part}` in \"{path}\" is not a table"))?;
            }
        }
    }
    Ok(())
}

/// Reads and validates a tune file; `trials` overrides its trial count.
/// Every problem is found here, before any trial runs, and located in the
/// file that set the field.
pub fn load(path: &Path, trials: Option<u64>) -> Result<Tune, SweepError> {
    let file = SourceFile::read(
        path,
        &format!(
            "a tune file (TOML) of at most {} MiB",
            crate::scenario::limits::MAX_FILE_BYTES >> 20
        ),
    )
    .map_err(|e| SweepError(e.to_string()))?;
    let raw: RawTune = file.parse()?;
    let fail = |field: &str, problem: String, allowed: &str| file.error(field, problem, allowed);
    let base_rel = raw.scenario.ok_or_else(|| {
        fail(
            "scenario",
            "is required".into(),
            "the base scenario, relative to the tune file",
        )
    })?;
    let (base_file, base) = read_base(&file, &base_rel)?;
    let given_name = raw.name.is_some();
    let name = raw
        .name
        .unwrap_or_else(|| path.file_stem().and_then(|s| s.to_str()).unwrap_or("tune").to_string());
    check_name(&file, "name", &name, given_name, NameUse::Path)?;
    let override_trials = trials;
    let trials = match (trials, raw.trials) {
        (Some(t), _) => t,
        (None, None) => 100,
        (None, Some(t)) if t >= 1 => t as u64,
        (None, Some(t)) => return Err(fail("trials", format!("{t} is out of range"), "a whole number from 1")),
    };
    if trials == 0 || trials > super::sweep::MAX_TRIALS {
        let problem = format!("{trials} is out of range");
        let allowed = "1 to 1,000,000 per candidate and release";
        return Err(match override_trials {
            Some(_) => SweepError(format!("--trials {problem}\n  allowed: {allowed}")),
            None => fail("trials", problem, allowed),
        });
    }
    let seed = match raw.seed {
        None => 1,
        Some(s) if s >= 0 => s as u64,
        Some(s) => return Err(fail("seed", format!("{s} is negative"), "a whole number from 0")),
    };
    // The releases: the base's version with no bad effects, and each bad one.
    let bad_raw = raw.bad.unwrap_or_default();
    if bad_raw.is_empty() || bad_raw.len() > 20 {
        return Err(fail(
            "bad",
            format!("has {} bad releases", bad_raw.len()),
            "1 to 20 [[bad]] entries, each with a name and release = { error_rate_pct = 5 } (effects)",
        ));
    }
    let version = base.get("release").and_then(|r| r.get("version")).cloned();
    let release_table = |effects: Option<&toml::Table>| {
        let mut r = toml::Table::new();
        if let Some(v) = &version {
            r.insert("version".into(), v.clone());
        }
        match effects {
            Some(e) => {
                r.insert("quality".into(), "bad".into());
                for (k, v) in e {
                    r.insert(k.clone(), v.clone());
                }
            }
            None => {
                r.insert("quality".into(), "good".into());
            }
        }
        r
    };
    let mut bad = Vec::new();
    for (i, b) in bad_raw.iter().enumerate() {
        let given = b.name.is_some();
        let n = b.name.clone().unwrap_or_else(|| format!("bad{i}"));
        check_name(&file, &format!("bad[{i}].name"), &n, given, NameUse::Label)?;
        let Some(release) = &b.release else {
            return Err(fail(
                &format!("bad[{i}].release"),
                "is required".into(),
                "the bad release's effects, e.g. release = { error_rate_pct = 5 }",
            ));
        };
        if release.contains_key("quality") {
            return Err(fail(
                &format!("bad[{i}].release.quality"),
                "a [[bad]] release is bad by definition; the tune sets its quality".into(),
                "only the release's effects, e.g. release = { error_rate_pct = 5 }",
            ));
        }
        if bad.contains(&n) {
            return Err(fail(
                &format!("bad[{i}].name"),
                format!("\"{}\" is used twice", crate::text::printable(&n)),
                "a name per bad release",
            ));
        }
        bad.push(n);
    }
    // The search space, in name order (TOML tables are sorted).
    let space = raw.space.unwrap_or_default();
    if space.is_empty() {
        return Err(fail(
            "space",
            "is empty".into(),
            "dotted scenario paths with the values to try, e.g. \"strategy.success_criteria.max_error_rate_pct\" = [0.5, 1, 2]",
        ));
    }
    let mut params = Vec::new();
    let mut values: Vec<Vec<toml::Value>> = Vec::new();
    for (p, v) in &space {
        let field = format!("space.\"{p}\"");
        if p == "release" || p.starts_with("release.") || p.starts_with("release[") {
            return Err(fail(
                &field,
                "the releases are the tune's own: the good one and each [[bad]]".into(),
                "a path outside [release]; to try other bad releases, add [[bad]] entries",
            ));
        }
        let parts = p.split('.').map(|part| 1 + part.matches('[').count()).sum::<usize>();
        if parts > MAX_PATH_PARTS {
            return Err(fail(
                &field,
                format!("the path has {parts} parts"),
                &format!("a path of at most {MAX_PATH_PARTS} keys and indices into the scenario"),
            ));
        }
        let list = v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            fail(
                &field,
                "is not a list of values".into(),
                "a non-empty list, e.g. [0.5, 1, 2]",
            )
        })?;
        params.push(p.clone());
        values.push(list.clone());
    }
    let grid_size = values
        .iter()
        .try_fold(1usize, |acc, v| acc.checked_mul(v.len()))
        .ok_or_else(|| {
            fail(
                "space",
                "the grid has more points than can be counted".into(),
                "fewer parameters or values",
            )
        })?;
    let picks: Vec<usize> = match raw.search.as_deref().unwrap_or("grid") {
        "grid" => {
            if grid_size > MAX_CANDIDATES {
                return Err(fail(
                    "space",
                    format!("the grid has {grid_size} candidates"),
                    "at most 10,000: fewer values, or search = \"random\" with samples",
                ));
            }
            (0..grid_size).collect()
        }
        "random" => {
            let n = match raw.samples {
                Some(n) if n >= 1 && n as usize <= MAX_CANDIDATES => n as usize,
                Some(n) => return Err(fail("samples", format!("{n} is out of range"), "1 to 10,000")),
                None => {
                    return Err(fail(
                        "samples",
                        "is required with search = \"random\"".into(),
                        "1 to 10,000",
                    ))
                }
            };
            sample_grid(grid_size, n, seed)
        }
        other => {
            return Err(fail(
                "search",
                format!("\"{}\" is not a search", crate::text::printable(other)),
                "\"grid\" or \"random\" (with samples)",
            ))
        }
    };
    let c = raw.constraints.unwrap_or_default();
    let constraints = Constraints {
        max_false_rollback_pct: c.max_false_rollback_pct.unwrap_or(100.0),
        max_rollout_s: match &c.max_rollout {
            None => None,
            Some(d) => Some(
                scenario::units::parse_duration(d)
                    .map_err(|e| fail("constraints.max_rollout", e, "a duration such as \"1h\""))?
                    .as_secs_f64(),
            ),
        },
        min_power_pct: c.min_power_pct.unwrap_or(0.0),
    };
    for (field, v) in [
        ("constraints.max_false_rollback_pct", constraints.max_false_rollback_pct),
        ("constraints.min_power_pct", constraints.min_power_pct),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(fail(
                field,
                format!("{v} is not a percentage"),
                "a number from 0 to 100",
            ));
        }
    }
    // Every candidate reads the base's other files through one `InputFiles`.
    let inputs = scenario::inputs::InputFiles::new();
    let mut candidates = Vec::with_capacity(picks.len());
    for (k, &g) in picks.iter().enumerate() {
        // Grid index g in mixed radix, the last parameter fastest.
        let mut rest = g;
        let mut chosen_at = vec![0; params.len()];
        for j in (0..params.len()).rev() {
            chosen_at[j] = rest % values[j].len();
            rest /= values[j].len();
        }
        let chosen: Vec<toml::Value> = chosen_at
            .iter()
            .enumerate()
            .map(|(j, &i)| values[j][i].clone())
            .collect();
        let what = format!("candidate {} ({})", k + 1, describe(&params, &chosen));
        let mut table = base.clone();
        let mut overlays = vec![Overlay::base("release")];
        for ((p, v), &i) in params.iter().zip(&chosen).zip(&chosen_at) {
            set_path(&mut table, p, v.clone())
                .map_err(|e| fail(&format!("space.\"{p}\""), e, "a path into the base scenario"))?;
            overlays.push(Overlay::replaced(p, format!("space.\"{p}\"[{i}]")));
        }
        let mut scenarios = Vec::with_capacity(1 + bad.len());
        for (b, effects) in std::iter::once(None)
            .chain(bad_raw.iter().map(|b| b.release.as_ref()))
            .enumerate()
        {
            let mut t = table.clone();
            t.insert("release".into(), toml::Value::Table(release_table(effects)));
            let text = toml::to_string(&t).map_err(|e| SweepError(format!("{}: {what}: {e}", path.display())))?;
            // A bad release's fields are its [[bad]] entry's (its version
            // is the base's); the good one's are the base's.
            let mut placed = Vec::new();
            if b > 0 {
                placed.push(Overlay::base("release.version"));
                placed.push(Overlay::replaced("release", format!("bad[{}].release", b - 1)));
            }
            placed.extend(overlays.iter().cloned());
            let s = scenario::parse_shared(&base_file.path, &text, &name, &inputs)
                .map_err(|e| cell_error(&file, &base_file, &what, &placed, e))?;
            if b > 0 && !s.release.changes_behaviour(&s.stable) {
                return Err(fail(
                    &format!("bad[{}].release", b - 1),
                    format!(
                        "\"{}\" behaves exactly like stable in {what} (every effect it sets equals stable's), \
                         so it is not a bad release",
                        crate::text::printable(&bad[b - 1])
                    ),
                    "effects that make it worse than stable, e.g. an error_rate_pct above stable's",
                ));
            }
            scenarios.push(s);
        }
        candidates.push(Candidate {
            id: k + 1,
            values: chosen.iter().map(value_text).collect(),
            scenarios,
        });
    }
    Ok(Tune {
        name,
        trials,
        seed,
        params,
        bad,
        candidates,
        constraints,
        grid_size,
    })
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn describe(params: &[String], values: &[toml::Value]) -> String {
    params
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{p} = {}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n` distinct grid indices chosen by a seeded shuffle, in grid order.
fn sample_grid(size: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x7475_6e65);
    if n >= size {
        return (0..size).collect();
    }
    // Floyd's algorithm: n distinct draws without building the grid.
    let mut chosen = std::collections::BTreeSet::new();
    for j in size - n..size {
        let t = rng.random_range(0..=j);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.into_iter().collect()
}

/// What one trial contributes.
#[derive(Clone, Copy, Debug, Default)]
struct Trial {
    rolled_back: bool,
    caught_before_completion: bool,
    ttd_s: Option<f64>,
    blast: f64,
    duration_s: Option<f64>,
}

/// One candidate's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The candidate's number.
    pub id: usize,
    /// Good trials rolled back, percent.
    pub false_rollback_pct: f64,
    /// Bad trials rolled back before the rollout completed, percent.
    pub power_pct: f64,
    /// Per bad release, its detection power, percent.
    pub power_by_bad_pct: Vec<f64>,
    /// TTD p50 and p95 over the bad trials that were caught, seconds.
    pub ttd_s: (Option<f64>, Option<f64>),
    /// Blast radius (failed requests on the new version) p50 and p95 over
    /// the bad trials.
    pub blast: (f64, f64),
    /// Rollout duration of the good trials, p50 and p95, seconds.
    pub rollout_s: (Option<f64>, Option<f64>),
    /// Whether it meets the constraints.
    pub feasible: bool,
    /// Whether no other candidate is at least as good on false rollbacks,
    /// power, TTD p50 and blast p95, and better on one.
    pub pareto: bool,
}

/// Runs every candidate's trials on `threads` threads; `progress(done,
/// total)` is called between batches. The figures do not depend on the
/// thread count.
pub fn run_tune(tune: &Tune, threads: usize, mut progress: impl FnMut(u64, u64)) -> Result<Vec<Outcome>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let releases = 1 + tune.bad.len();
    let per_candidate = releases as u64 * tune.trials;
    let total = per_candidate * tune.candidates.len() as u64;
    let opts = |trial| RunOptions {
        check_invariants: false,
        keep_detail: false,
        trial,
        counterfactual: false,
        end_at: None,
        histograms: false,
        guard: None,
    };
    let mut outcomes = Vec::with_capacity(tune.candidates.len());
    let mut done = 0;
    for c in &tune.candidates {
        let trials: Vec<Trial> = pool.install(|| {
            (0..per_candidate)
                .into_par_iter()
                .map(|k| {
                    let (r, i) = ((k / tune.trials) as usize, k % tune.trials);
                    let s = run(&c.scenarios[r], tune.seed, opts(i)).map(|x| x.summary);
                    s.map(|m| Trial {
                        rolled_back: m.rollback_performed,
                        caught_before_completion: m.rollback_performed && !m.rolled_back_after_completion(),
                        ttd_s: m.ttd().map(|d| d.as_secs_f64()),
                        blast: m.blast_radius_requests() as f64,
                        duration_s: m.deploy_duration().map(|d| d.as_secs_f64()),
                    })
                    .map_err(|v| format!("candidate {} trial {i}: {v}", c.id))
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        done += per_candidate;
        progress(done, total);
        outcomes.push(figures(c.id, &trials, tune));
    }
    mark(&mut outcomes, &tune.constraints);
    Ok(outcomes)
}

fn figures(id: usize, trials: &[Trial], tune: &Tune) -> Outcome {
    let n = tune.trials as usize;
    let pct = |k: usize, of: usize| 100.0 * k as f64 / of.max(1) as f64;
    let good = &trials[..n];
    let bad = &trials[n..];
    let ttd: Vec<f64> = bad.iter().filter_map(|t| t.ttd_s).collect();
    let blast: Vec<f64> = bad.iter().map(|t| t.blast).collect();
    let rollout: Vec<f64> = good.iter().filter_map(|t| t.duration_s).collect();
    Outcome {
        id,
        false_rollback_pct: pct(good.iter().filter(|t| t.rolled_back).count(), n),
        power_pct: pct(bad.iter().filter(|t| t.caught_before_completion).count(), bad.len()),
        power_by_bad_pct: bad
            .chunks(n)
            .map(|b| pct(b.iter().filter(|t| t.caught_before_completion).count(), n))
            .collect(),
        ttd_s: (quantile(&ttd, 0.5), quantile(&ttd, 0.95)),
        blast: (
            quantile(&blast, 0.5).unwrap_or(0.0),
            quantile(&blast, 0.95).unwrap_or(0.0),
        ),
        rollout_s: (quantile(&rollout, 0.5), quantile(&rollout, 0.95)),
        feasible: false,
        pareto: false,
    }
}

/// Marks the feasible candidates and the Pareto front (false rollbacks,
/// power, TTD p50 and blast p95; a candidate that never detects has an
/// infinite TTD).
pub fn mark(outcomes: &mut [Outcome], c: &Constraints) {
    let key = |o: &Outcome| {
        [
            o.false_rollback_pct,
            -o.power_pct,
            o.ttd_s.0.unwrap_or(f64::INFINITY),
            o.blast.1,
        ]
    };
    let keys: Vec<[f64; 4]> = outcomes.iter().map(key).collect();
    for (i, o) in outcomes.iter_mut().enumerate() {
        let dominated = keys
            .iter()
            .enumerate()
            .any(|(j, k)| j != i && k.iter().zip(&keys[i]).all(|(a, b)| a <= b) && k != &keys[i]);
        o.pareto = !dominated;
        o.feasible = o.false_rollback_pct <= c.max_false_rollback_pct
            && o.power_pct >= c.min_power_pct
            && c.max_rollout_s
                .is_none_or(|max| o.rollout_s.1.is_some_and(|r| r <= max));
    }
}

/// The best feasible candidate: the highest power, then the lowest TTD p50,
/// blast p95, false rollback rate, and number.
pub fn best(outcomes: &[Outcome]) -> Option<&Outcome> {
    outcomes.iter().filter(|o| o.feasible).min_by(|a, b| {
        let k = |o: &Outcome| {
            [
                -o.power_pct,
                o.ttd_s.0.unwrap_or(f64::INFINITY),
                o.blast.1,
                o.false_rollback_pct,
                o.id as f64,
            ]
        };
        k(a).iter()
            .zip(k(b).iter())
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

/// `candidates.csv`: one row per candidate.
pub fn candidates_csv(tune: &Tune, outcomes: &[Outcome]) -> Vec<u8> {
    let f = |x: Option<f64>, d: usize| x.map(|v| format!("{v:.d$}")).unwrap_or_default();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["candidate".to_string()];
    header.extend(tune.params.iter().cloned());
    header.extend(
        [
            "false_rollback_pct",
            "power_pct",
            "ttd_p50_s",
            "ttd_p95_s",
            "blast_radius_p50",
            "blast_radius_p95",
            "rollout_p50_s",
            "rollout_p95_s",
            "pareto",
            "feasible",
        ]
        .map(String::from),
    );
    header.extend(tune.bad.iter().map(|b| format!("power_{b}_pct")));
    w.write_record(&header).expect("in-memory write");
    for (c, o) in tune.candidates.iter().zip(outcomes) {
        let mut row = vec![c.id.to_string()];
        row.extend(c.values.iter().cloned());
        row.extend([
            format!("{:.2}", o.false_rollback_pct),
            format!("{:.2}", o.power_pct),
            f(o.ttd_s.0, 3),
            f(o.ttd_s.1, 3),
            format!("{:.0}", o.blast.0),
            format!("{:.0}", o.blast.1),
            f(o.rollout_s.0, 3),
            f(o.rollout_s.1, 3),
            o.pareto.to_string(),
            o.feasible.to_string(),
        ]);
        row.extend(o.power_by_bad_pct.iter().map(|p| format!("{p:.2}")));
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory write")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: usize, frr: f64, power: f64, ttd: Option<f64>, blast95: f64) -> Outcome {
        Outcome {
            id,
            false_rollback_pct: frr,
            power_pct: power,
            power_by_bad_pct: vec![],
            ttd_s: (ttd, ttd),
            blast: (blast95, blast95),
            rollout_s: (Some(100.0), Some(100.0)),
            feasible: false,
            pareto: false,
        }
    }

    #[test]
    fn the_front_keeps_what_nothing_beats_and_the_best_obeys_the_constraints() {
        let mut o = vec![
            outcome(1, 0.0, 80.0, Some(60.0), 100.0),
            outcome(2, 5.0, 100.0, Some(20.0), 40.0),
            // Dominated by 1: more false rollbacks, less power, slower.
            outcome(3, 1.0, 70.0, Some(90.0), 120.0),
            // Never detects: infinite TTD, but nothing beats its 0% and 0 power? 1 does.
            outcome(4, 0.0, 0.0, None, 500.0),
        ];
        let c = Constraints {
            max_false_rollback_pct: 1.0,
            max_rollout_s: Some(200.0),
            min_power_pct: 0.0,
        };
        mark(&mut o, &c);
        let front: Vec<bool> = o.iter().map(|x| x.pareto).collect();
        assert_eq!(front, vec![true, true, false, false]);
        assert_eq!(best(&o).map(|x| x.id), Some(1), "2 has too many false rollbacks");
        let strict = Constraints {
            max_rollout_s: Some(50.0),
            ..c
        };
        mark(&mut o, &strict);
        assert_eq!(best(&o), None, "no rollout is that short");
    }

    #[test]
    fn paths_set_nested_tables_and_array_elements() {
        let mut t: toml::Table = toml::from_str(
            "[strategy]\nkind = \"canary\"\n[[rollback.triggers]]\nkind = \"error_rate\"\nthreshold = 1\n",
        )
        .unwrap();
        set_path(&mut t, "strategy.success_criteria.max_error_rate_pct", 2.into()).unwrap();
        set_path(&mut t, "rollback.triggers[0].threshold", 5.into()).unwrap();
        assert_eq!(
            t["strategy"]["success_criteria"]["max_error_rate_pct"].as_integer(),
            Some(2)
        );
        assert_eq!(t["rollback"]["triggers"][0]["threshold"].as_integer(), Some(5));
        assert!(set_path(&mut t, "rollback.triggers[3].threshold", 5.into())
            .unwrap_err()
            .contains("past its end"));
        assert!(set_path(&mut t, "strategy.kind.x", 5.into())
            .unwrap_err()
            .contains("not a table"));
    }

    #[test]
    fn random_search_draws_distinct_grid_points_from_its_seed() {
        let a = sample_grid(1000, 20, 3);
        assert_eq!(a.len(), 20);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "distinct, in grid order");
        assert_eq!(a, sample_grid(1000, 20, 3));
        assert_ne!(a, sample_grid(1000, 20, 4));
        assert_eq!(sample_grid(5, 20, 3), vec![0, 1, 2, 3, 4]);
    }
}
