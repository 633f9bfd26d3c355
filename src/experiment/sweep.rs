//! Sweeps: a base scenario crossed with axes of variants (strategies,
//! rollback triggers, faults, release quality), `trials` seeds per cell.
//!
//! Each cell is a full scenario built from the base and validated as one.
//! Trial i of every cell uses the streams of (seed, i), so all cells see the
//! same traffic and faults in trial i (common random numbers). Trials run in
//! parallel in fixed-size batches and are written in (cell, trial) order, so
//! the bytes never depend on the thread count.

use crate::scenario::{self, Scenario, ScenarioError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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

pub(crate) fn cell_error(file: &Path, what: &str, errors: Vec<ScenarioError>) -> SweepError {
    let mut msg = format!("{}: {what} is not a valid scenario:", file.display());
    for e in errors.iter().take(5) {
        msg.push_str(&format!("\n  field `{}`: {}", e.field.path, e.field.problem));
        if !e.field.allowed.is_empty() {
            msg.push_str(&format!("\n    allowed: {}", e.field.allowed));
        }
    }
    SweepError(msg)
}

/// Reads a file of at most the scenario size limit, as UTF-8; a folder,
/// a device or an oversized file is an error, not an attempt.
pub(crate) fn read_limited(path: &Path) -> Result<String, String> {
    let limit = scenario::validate::limits::MAX_FILE_BYTES;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    if meta.len() > limit {
        return Err(format!("is {} bytes; at most {limit} (1 MiB) are read", meta.len()));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?,
            limit + 1,
        ),
        &mut text,
    )
    .map_err(|e| format!("cannot read the file: {e}"))?;
    if text.len() as u64 > limit {
        return Err(format!("is over {limit} bytes (1 MiB)"));
    }
    Ok(text)
}

/// Reads the base scenario that a sweep or tune file at `file` names
/// (relative to it): its path, its text and its TOML table.
pub(crate) fn read_base(file: &Path, rel: &str) -> Result<(PathBuf, String, toml::Table), SweepError> {
    let fail = |problem: String, allowed: &str| field_error(file, "scenario", problem, allowed);
    let base_path: PathBuf = file.parent().unwrap_or(Path::new(".")).join(rel);
    let text = read_limited(&base_path).map_err(|e| {
        fail(
            format!("{}: {e}", base_path.display()),
            "a readable scenario file of at most 1 MiB",
        )
    })?;
    // Count the values before the parser builds a tree of them.
    scenario::prescan::check(&base_path, &text).map_err(|e| SweepError(e[0].to_string()))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| fail(format!("{}: {}", base_path.display(), e.message()), "a valid scenario"))?;
    Ok((base_path, text, table))
}

/// Reads an experiment file (a sweep or a tune) and parses it as `T`; a
/// parse error names the file, line and column.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(String, T), SweepError> {
    let text = read_limited(path).map_err(|e| SweepError(format!("{}: {e}", path.display())))?;
    scenario::prescan::check(path, &text).map_err(|e| SweepError(e[0].to_string()))?;
    let raw = toml::from_str(&text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let err = ScenarioError::at(
            path,
            &text,
            span.start,
            scenario::FieldError::new("", e.message().trim(), ""),
        );
        SweepError(err.to_string())
    })?;
    Ok((text, raw))
}

/// An error in field `field` of the experiment file at `path`.
pub(crate) fn field_error(path: &Path, field: &str, problem: String, allowed: &str) -> SweepError {
    SweepError(format!(
        "{}: field `{field}`: {problem}\n  allowed: {allowed}",
        path.display()
    ))
}

/// Reads and validates a sweep file; `trials` overrides its trial count.
pub fn load(path: &Path, trials: Option<u64>) -> Result<Sweep, SweepError> {
    let (text, raw): (String, RawSweep) = read_toml(path)?;
    let fail = |field: &str, problem: String, allowed: &str| field_error(path, field, problem, allowed);
    let base_rel = raw.scenario.ok_or_else(|| {
        fail(
            "scenario",
            "is required".into(),
            "the path of the base scenario, relative to the sweep file",
        )
    })?;
    let (base_path, base_text, base) = read_base(path, &base_rel)?;
    let name = raw
        .name
        .unwrap_or_else(|| path.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep").to_string());
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || !name.chars().any(|c| c.is_ascii_alphanumeric())
    {
        return Err(fail(
            "name",
            format!("\"{name}\" is not a usable name"),
            "letters, digits, '-', '_' and '.'",
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
                let name = v.name.unwrap_or_else(|| format!("{key}{i}"));
                if name.trim().is_empty() {
                    return Err(fail(
                        &format!("{key}[{i}].name"),
                        "is empty".into(),
                        "a name (it is the cell's key in trials.csv)",
                    ));
                }
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
                    format!("\"{name}\" is used twice"),
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
        .map(|r| match r.as_str() {
            "good" => Ok(ReleaseMix::Good),
            "bad" => Ok(ReleaseMix::Bad),
            "mix" => Ok(ReleaseMix::Mix(share / 100.0)),
            other => Err(fail(
                "releases",
                format!("\"{other}\" is not a release"),
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
                "releases",
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
    let build = |strategy: &Option<toml::Value>,
                 gaming: &Option<toml::Table>,
                 rollback: &Option<toml::Value>,
                 fault: &Option<toml::Value>,
                 bad: bool,
                 what: &str| {
        let mut t = base.clone();
        for (key, value) in [("strategy", strategy), ("rollback", rollback), ("faults", fault)] {
            if let Some(v) = value {
                t.insert(key.to_string(), v.clone());
            }
        }
        if let Some(overlay) = gaming {
            let mut merged = t.get("gaming").and_then(|g| g.as_table()).cloned().unwrap_or_default();
            merge_tables(&mut merged, overlay);
            t.insert("gaming".into(), toml::Value::Table(merged));
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
        scenario::parse(&base_path, &text, "sweep").map_err(|e| cell_error(path, what, e))
    };
    let mut cells = Vec::with_capacity(n_cells);
    for (sn, sv, sg) in &strategies {
        for (tn, tv, _) in &triggers {
            for (fname, fv, _) in &faults {
                for release in &releases {
                    let what = format!(
                        "the cell strategy {sn} x triggers {tn} x faults {fname} x release {}",
                        release.label()
                    );
                    let good = (*release != ReleaseMix::Bad)
                        .then(|| build(sv, sg, tv, fv, false, &what))
                        .transpose()?;
                    let bad = (*release != ReleaseMix::Good)
                        .then(|| build(sv, sg, tv, fv, true, &what))
                        .transpose()?;
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
    let fingerprint =
        super::manifest::fingerprint(&[text.as_bytes(), base_text.as_bytes(), trials.to_string().as_bytes()]);
    Ok(Sweep {
        name,
        question: raw.question.unwrap_or_default().trim().to_string(),
        fingerprint,
        seed,
        trials,
        cells,
    })
}
