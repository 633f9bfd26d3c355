//! Sweeps: a base scenario crossed with axes of variants (strategies,
//! rollback triggers, faults, release quality), `trials` seeds per cell.
//!
//! Each cell is a full scenario built from the base and validated as one.
//! Trial i of every cell uses the streams of (seed, i), so all cells see the
//! same traffic and faults in trial i (common random numbers). Trials run in
//! parallel in fixed-size batches and are written in (cell, trial) order, so
//! the bytes never depend on the thread count.

use super::source::{cell_error, read_base, Overlay, SourceFile};
use crate::names::{self, NameUse};
use crate::scenario::{self, Scenario};
use serde::Deserialize;
use std::path::Path;

/// Most cells in a sweep, and most trials per cell.
pub const MAX_CELLS: usize = 10_000;
/// Most trials per cell.
pub const MAX_TRIALS: u64 = 1_000_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: Option<String>,
    question: Option<String>,
    scenario: Option<String>,
    trials: Option<i64>,
    seed: Option<i64>,
    strategies: Option<Vec<RawVariant>>,
    triggers: Option<Vec<RawVariant>>,
    faults: Option<Vec<RawVariant>>,
    releases: Option<Vec<String>>,
    bad_share_pct: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: Option<String>,
    strategy: Option<toml::Table>,
    rollback: Option<toml::Table>,
    faults: Option<Vec<toml::Table>>,
    /// Strategies only: keys merged into the base's `[gaming]` (e.g.
    /// `aware = true`), since the gaming-aware path is part of how a
    /// strategy deploys.
    gaming: Option<toml::Table>,
}

/// Merges `overlay` into `base` key by key, tables recursively (so
/// `gaming = { criteria = { min_games = 20 } }` keeps the base's other
/// criteria).
fn merge_tables(base: &mut toml::Table, overlay: &toml::Table) {
    for (k, v) in overlay {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Which release a cell rolls out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReleaseMix {
    /// Always the good release.
    Good,
    /// Always the base scenario's bad release.
    Bad,
    /// Bad in this share of trials (0..=1), chosen per trial index.
    Mix(f64),
}

impl ReleaseMix {
    /// The `releases` column value: good, bad or mix-<share>pct-bad.
    pub fn label(&self) -> String {
        match self {
            ReleaseMix::Good => "good".into(),
            ReleaseMix::Bad => "bad".into(),
            // Rounded so 7% reads `mix-7pct-bad`, not 7.000000000000001.
            ReleaseMix::Mix(share) => format!("mix-{}pct-bad", (share * 100.0 * 1e6).round() / 1e6),
        }
    }

    /// Whether trial `i` rolls out the bad release: a fixed hash of the
    /// seed and trial, so every cell of a sweep agrees.
    pub fn is_bad(&self, seed: u64, trial: u64) -> bool {
        match *self {
            ReleaseMix::Good => false,
            ReleaseMix::Bad => true,
            ReleaseMix::Mix(share) => crate::model::sessions::unit_hash(seed ^ trial.wrapping_mul(0x9E37_79B9)) < share,
        }
    }
}

/// One cell: a variant of each axis, with the scenarios it runs.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Strategy variant name.
    pub strategy: String,
    /// Trigger-set variant name.
    pub triggers: String,
    /// Fault-set variant name.
    pub faults: String,
    /// Release mix.
    pub release: ReleaseMix,
    good: Option<Scenario>,
    bad: Option<Scenario>,
}

impl Cell {
    /// The scenario trial `trial` of this cell runs.
    pub fn scenario(&self, seed: u64, trial: u64) -> &Scenario {
        let bad = self.release.is_bad(seed, trial);
        if bad { self.bad.as_ref() } else { self.good.as_ref() }.expect("built for its release mix")
    }

    /// The cell's keys as written in `trials.csv`.
    pub fn keys(&self) -> [String; 4] {
        [
            self.strategy.clone(),
            self.triggers.clone(),
            self.faults.clone(),
            self.release.label(),
        ]
    }
}

/// A validated sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Name (names the output folder).
    pub name: String,
    /// What the sweep asks, for the report.
    pub question: String,
    /// A hash of the sweep file, its base scenario and the trial count.
    pub fingerprint: String,
    /// Seed of every trial's streams.
    pub seed: u64,
    /// Trials per cell.
    pub trials: u64,
    /// The cells, in output order.
    pub cells: Vec<Cell>,
}

/// A sweep file that cannot be used.
#[derive(Clone, Debug)]
pub struct SweepError(pub String);

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most characters in a sweep's `question` (it is written into
/// `manifest.toml`, which is read back with a size limit).
pub const MAX_QUESTION_CHARS: usize = 10_000;

/// Checks a name the experiment file gives (or its file stem, when it gives
/// none) by the one name rule, located at `field`.
pub(crate) fn check_name(
    file: &SourceFile,
    field: &str,
    name: &str,
    given: bool,
    usage: NameUse,
) -> Result<(), SweepError> {
    names::check_name(name, usage).map_err(|e| {
        let problem = if given {
            e.problem
        } else {
            format!("{} (the file's name, as it sets no `{field}`)", e.problem)
        };
        file.error(field, problem, e.allowed)
    })
}

/// Reads and validates a sweep file; `trials` overrides its trial count.
/// Every problem is found here, before any trial runs, and located in the
/// file that set the field.
pub fn load(path: &Path, trials: Option<u64>) -> Result<Sweep, SweepError> {
    let file = SourceFile::read(
        path,
        &format!(
            "a sweep file (TOML) of at most {} MiB",
            crate::scenario::limits::MAX_FILE_BYTES >> 20
        ),
    )
    .map_err(|e| SweepError(e.to_string()))?;
    let raw: RawSweep = file.parse()?;
    let fail = |field: &str, problem: String, allowed: &str| file.error(field, problem, allowed);
    let base_rel = raw.scenario.ok_or_else(|| {
        fail(
            "scenario",
            "is required".into(),
            "the path of the base scenario, relative to the sweep file",
        )
    })?;
    let (base_file, base) = read_base(&file, &base_rel)?;
    let given_name = raw.name.is_some();
    let name = raw
        .name
        .unwrap_or_else(|| path.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep").to_string());
    check_name(&file, "name", &name, given_name, NameUse::Path)?;
    let question = raw.question.unwrap_or_default().trim().to_string();
    let question_chars = question.chars().count();
    if question_chars > MAX_QUESTION_CHARS {
        return Err(fail(
            "question",
            format!("has {question_chars} characters"),
            "at most 10,000 characters",
        ));
    }
    let seed = match raw.seed {
        None => 1,
        Some(s) if s >= 0 => s as u64,
        Some(s) => return Err(fail("seed", format!("{s} is negative"), "a whole number from 0")),
    };
    let override_trials = trials;
    let trials = match (trials, raw.trials) {
        (Some(t), _) => t,
        (None, None) => 100,
        (None, Some(t)) if t >= 1 => t as u64,
        (None, Some(t)) => return Err(fail("trials", format!("{t} is out of range"), "a whole number from 1")),
    };
    if trials == 0 || trials > MAX_TRIALS {
        let problem = format!("{trials} is out of range");
        let allowed = "from 1 to 1,000,000 trials per cell";
        return Err(match override_trials {
            Some(_) => SweepError(format!("--trials {problem}\n  allowed: {allowed}")),
            None => fail("trials", problem, allowed),
        });
    }
    type Variant = (String, Option<toml::Value>, Option<toml::Table>);
    let axis = |list: Option<Vec<RawVariant>>, key: &str| -> Result<Vec<Variant>, SweepError> {
        let Some(list) = list else {
            return Ok(vec![("base".to_string(), None, None)]);
        };
        if list.is_empty() {
            return Err(fail(
                key,
                "is empty".into(),
                "at least one variant, or no such key to keep the base's",
            ));
        }
        list.into_iter()
            .enumerate()
            .map(|(i, v)| {
                let given = v.name.is_some();
                let name = v.name.unwrap_or_else(|| format!("{key}{i}"));
                check_name(&file, &format!("{key}[{i}].name"), &name, given, NameUse::Label)?;
                if v.gaming.is_some() && key != "strategies" {
                    return Err(fail(
                        &format!("{key}[{i}].gaming"),
                        "only a strategy variant may change [gaming]".into(),
                        "gaming = { aware = ... } on a [[strategies]] entry",
                    ));
                }
                let gaming = v.gaming;
                let value = match key {
                    "strategies" => v.strategy.map(toml::Value::Table),
                    "triggers" => v.rollback.map(toml::Value::Table),
                    _ => v
                        .faults
                        .map(|f| toml::Value::Array(f.into_iter().map(toml::Value::Table).collect())),
                };
                let wanted = match key {
                    "strategies" => "strategy",
                    "triggers" => "rollback",
                    _ => "faults",
                };
                if value.is_none() && gaming.is_some() {
                    // A strategy variant that only changes [gaming] keeps
                    // the base's [strategy].
                    return Ok((name, None, gaming));
                }
                let value = value.ok_or_else(|| {
                    fail(
                        &format!("{key}[{i}]"),
                        format!("needs `{wanted}`"),
                        &format!("name and {wanted}"),
                    )
                })?;
                Ok((name, Some(value), gaming))
            })
            .collect()
    };
    let strategies = axis(raw.strategies, "strategies")?;
    let triggers = axis(raw.triggers, "triggers")?;
    let faults = axis(raw.faults, "faults")?;
    for (key, list) in [
        ("strategies", &strategies),
        ("triggers", &triggers),
        ("faults", &faults),
    ] {
        for (i, (name, _, _)) in list.iter().enumerate() {
            if list[..i].iter().any(|(n, _, _)| n == name) {
                return Err(fail(
                    &format!("{key}[{i}].name"),
                    format!("\"{}\" is used twice", crate::text::printable(name)),
                    "a different name for each variant of an axis (names are the keys of trials.csv)",
                ));
            }
        }
    }
    let share = raw.bad_share_pct.unwrap_or(50.0);
    if !(0.0..=100.0).contains(&share) {
        return Err(fail(
            "bad_share_pct",
            format!("{share} is not a percentage"),
            "a number from 0 to 100",
        ));
    }
    let releases: Vec<ReleaseMix> = raw
        .releases
        .unwrap_or_else(|| vec!["good".into(), "bad".into()])
        .iter()
        .enumerate()
        .map(|(i, r)| match r.as_str() {
            "good" => Ok(ReleaseMix::Good),
            "bad" => Ok(ReleaseMix::Bad),
            "mix" => Ok(ReleaseMix::Mix(share / 100.0)),
            other => Err(fail(
                &format!("releases[{i}]"),
                format!("\"{}\" is not a release", crate::text::printable(other)),
                "\"good\", \"bad\" or \"mix\" (with bad_share_pct)",
            )),
        })
        .collect::<Result<_, _>>()?;
    if releases.is_empty() {
        return Err(fail(
            "releases",
            "is empty".into(),
            "at least one of \"good\", \"bad\", \"mix\", or no such key for both good and bad",
        ));
    }
    for (i, r) in releases.iter().enumerate() {
        if releases[..i].contains(r) {
            return Err(fail(
                &format!("releases[{i}]"),
                format!("\"{}\" is listed twice", r.label()),
                "each release once (they are the cells' keys)",
            ));
        }
    }
    let base_is_bad = base
        .get("release")
        .and_then(|r| r.get("quality"))
        .and_then(|q| q.as_str())
        == Some("bad");
    if !base_is_bad && releases.iter().any(|r| *r != ReleaseMix::Good) {
        return Err(fail(
            "releases",
            "asks for a bad release, but the base scenario's release is good".into(),
            "a base scenario with quality = \"bad\" (its effects define the bad release)",
        ));
    }
    let n_cells = strategies.len() * triggers.len() * faults.len() * releases.len();
    if n_cells > MAX_CELLS {
        return Err(fail(
            "strategies",
            format!("the axes make {n_cells} cells"),
            "at most 10,000 cells",
        ));
    }
    // Every cell reads the base's other files (a replay CSV) through one
    // `InputFiles`: read once, one copy shared by all cells.
    let inputs = scenario::inputs::InputFiles::new();
    let build = |(i, strategy, gaming): (usize, &Option<toml::Value>, &Option<toml::Table>),
                 (j, rollback): (usize, &Option<toml::Value>),
                 (k, fault): (usize, &Option<toml::Value>),
                 bad: bool,
                 what: &str| {
        let mut t = base.clone();
        let mut overlays = Vec::new();
        for (key, value, at) in [
            ("strategy", strategy, format!("strategies[{i}].strategy")),
            ("rollback", rollback, format!("triggers[{j}].rollback")),
            ("faults", fault, format!("faults[{k}].faults")),
        ] {
            if let Some(v) = value {
                t.insert(key.to_string(), v.clone());
                overlays.push(Overlay::replaced(key, at));
            }
        }
        if let Some(overlay) = gaming {
            let mut merged = t.get("gaming").and_then(|g| g.as_table()).cloned().unwrap_or_default();
            merge_tables(&mut merged, overlay);
            t.insert("gaming".into(), toml::Value::Table(merged));
            overlays.push(Overlay {
                merged: Some(toml::Value::Table(overlay.clone())),
                ..Overlay::replaced("gaming", format!("strategies[{i}].gaming"))
            });
        }
        if !bad {
            let mut release = toml::Table::new();
            if let Some(v) = t.get("release").and_then(|r| r.get("version")) {
                release.insert("version".into(), v.clone());
            }
            release.insert("quality".into(), toml::Value::String("good".into()));
            t.insert("release".into(), toml::Value::Table(release));
        }
        let text = toml::to_string(&t).map_err(|e| SweepError(format!("{}: {what}: {e}", path.display())))?;
        let cell = scenario::parse_shared(&base_file.path, &text, "sweep", &inputs)
            .map_err(|e| cell_error(&file, &base_file, what, &overlays, e))?;
        if bad && !cell.release.changes_behaviour(&cell.stable) {
            return Err(base_file.error(
                "release",
                "the bad release behaves exactly like stable (every effect it sets equals stable's)",
                "effects that make it worse than stable, e.g. an error_rate_pct above stable's",
            ));
        }
        Ok(cell)
    };
    let mut cells = Vec::with_capacity(n_cells);
    for (i, (sn, sv, sg)) in strategies.iter().enumerate() {
        for (j, (tn, tv, _)) in triggers.iter().enumerate() {
            for (k, (fname, fv, _)) in faults.iter().enumerate() {
                for release in &releases {
                    let what = format!(
                        "the cell strategy {} x triggers {} x faults {} x release {}",
                        crate::text::printable(sn),
                        crate::text::printable(tn),
                        crate::text::printable(fname),
                        release.label()
                    );
                    let build = |bad| build((i, sv, sg), (j, tv), (k, fv), bad, &what);
                    let good = (*release != ReleaseMix::Bad).then(|| build(false)).transpose()?;
                    let bad = (*release != ReleaseMix::Good).then(|| build(true)).transpose()?;
                    cells.push(Cell {
                        strategy: sn.clone(),
                        triggers: tn.clone(),
                        faults: fname.clone(),
                        release: *release,
                        good,
                        bad,
                    });
                }
            }
        }
    }
    // Every byte any cell reads: the sweep file, the base scenario and the
    // files the cells read (replay CSVs), by digest. Without such files the
    // fingerprint is what it always was.
    let digests = inputs.digests();
    let trials_text = trials.to_string();
    let mut parts: Vec<&[u8]> = vec![file.text.as_bytes(), base_file.text.as_bytes(), trials_text.as_bytes()];
    parts.extend(digests.iter().map(|d| d.as_bytes()));
    let fingerprint = super::manifest::fingerprint(&parts);
    Ok(Sweep {
        name,
        question,
        fingerprint,
        seed,
        trials,
        cells,
    })
}
