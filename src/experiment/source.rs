//! Experiment files (sweeps and tunes), their base scenarios, and where
//! each field of a cell comes from, so every error is located in the file
//! that set the field: the experiment file's own fields there, a cell's
//! fields in the experiment file when a variant set them and in the base
//! scenario otherwise.

use super::sweep::SweepError;
use crate::scenario::locate::SpannedDoc;
use crate::scenario::{self, FieldError, ScenarioError};
use std::path::{Path, PathBuf};

/// A file read whole: a sweep or tune file, or a base scenario.
#[derive(Clone, Debug)]
pub(crate) struct SourceFile {
    /// The path as named (on the command line, or joined to the folder of
    /// the file that named it).
    pub path: PathBuf,
    /// The text.
    pub text: String,
}

impl SourceFile {
    /// Reads the file at `path` (UTF-8, within the file-size limit), and
    /// counts its values before any parser builds a tree of them.
    pub fn read(path: &Path, allowed: &str) -> Result<SourceFile, Box<ScenarioError>> {
        let text = scenario::read_text(path, allowed)?;
        if let Err(mut errors) = scenario::prescan::check(path, &text) {
            return Err(Box::new(errors.swap_remove(0)));
        }
        Ok(SourceFile {
            path: path.to_path_buf(),
            text,
        })
    }

    /// Parses the text as `T`; an error names the line, column and field.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, SweepError> {
        toml::from_str(&self.text).map_err(|e| SweepError(scenario::toml_error(&self.path, &self.text, &e).to_string()))
    }

    /// `field` placed in this file: at its value, or where it should have
    /// been (the nearest enclosing table that is there).
    pub fn locate(&self, field: FieldError) -> ScenarioError {
        let offset = SpannedDoc::parse(&self.text).map_or(0, |d| d.offset_of(&field.path));
        ScenarioError::at(&self.path, &self.text, offset, field)
    }

    /// An error in field `field` of this file, located.
    pub fn error(&self, field: &str, problem: impl Into<String>, allowed: impl Into<String>) -> SweepError {
        SweepError(self.locate(FieldError::new(field, problem, allowed)).to_string())
    }
}

/// Reads the base scenario that the experiment file names in its
/// `scenario` field (relative to that file) and parses it as a table. A
/// base that cannot be read is an error at that field; a base that is not
/// valid TOML is an error located in the base.
pub(crate) fn read_base(experiment: &SourceFile, rel: &str) -> Result<(SourceFile, toml::Table), SweepError> {
    let base_path = experiment.path.parent().unwrap_or(Path::new(".")).join(rel);
    let allowed = format!(
        "a readable scenario file of at most {} MiB, relative to this file",
        scenario::limits::MAX_FILE_BYTES / (1024 * 1024)
    );
    let base = SourceFile::read(&base_path, &allowed).map_err(|e| {
        if e.line.is_some() {
            // Located inside the base (not UTF-8): show it there.
            SweepError(format!(
                "{}\n  (the base scenario of {})",
                e,
                crate::text::printable(&experiment.path.display().to_string())
            ))
        } else {
            experiment.error(
                "scenario",
                format!("{}: {}", base_path.display(), e.field.problem),
                allowed.as_str(),
            )
        }
    })?;
    let table = base.parse::<toml::Table>()?;
    Ok((base, table))
}

/// Where the fields under a path of a cell's scenario were set.
#[derive(Clone, Debug)]
pub(crate) struct Overlay {
    /// The scenario path the overlay covers, e.g. `strategy` or
    /// `strategy.success_criteria.max_error_rate_pct`.
    pub scenario: String,
    /// Where those fields are: the path in the experiment file (e.g.
    /// `strategies[2].strategy`), or `None` for the base scenario.
    pub experiment: Option<String>,
    /// For an overlay merged key by key into the base's table: the table it
    /// merged, so only the fields it holds are placed in the experiment
    /// file.
    pub merged: Option<toml::Value>,
}

impl Overlay {
    /// Fields under `scenario` come from `experiment` in the experiment file.
    pub fn replaced(scenario: &str, experiment: String) -> Overlay {
        Overlay {
            scenario: scenario.to_string(),
            experiment: Some(experiment),
            merged: None,
        }
    }

    /// Fields under `scenario` come from the base scenario (listed before a
    /// wider overlay to make an exception to it).
    pub fn base(scenario: &str) -> Overlay {
        Overlay {
            scenario: scenario.to_string(),
            experiment: None,
            merged: None,
        }
    }

    /// The rest of `path` after this overlay's prefix, when it covers it.
    fn rest<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.scenario.as_str())?;
        (rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')).then_some(rest)
    }
}

/// Whether `value` holds the path `rest` (`.key` and `[i]` steps).
fn holds(value: &toml::Value, rest: &str) -> bool {
    let mut cur = value;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_once('[').map_or((part, ""), |(k, i)| (k, i));
        if !key.is_empty() {
            match cur.get(key) {
                Some(v) => cur = v,
                None => return false,
            }
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            match index
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()
                .and_then(|i| cur.get(i))
            {
                Some(v) => cur = v,
                None => return false,
            }
        }
    }
    true
}

/// Most errors shown for one cell.
const MAX_CELL_ERRORS: usize = 5;

/// The errors of a cell (`what`, e.g. "the cell strategy a x ..."), each
/// placed in the file that set its field: the experiment file under the
/// first overlay that covers it, the base scenario otherwise.
pub(crate) fn cell_error(
    experiment: &SourceFile,
    base: &SourceFile,
    what: &str,
    overlays: &[Overlay],
    errors: Vec<ScenarioError>,
) -> SweepError {
    let mut msg = format!(
        "{}: {what} is not a valid scenario:",
        crate::text::printable(&experiment.path.display().to_string())
    );
    for e in errors.iter().take(MAX_CELL_ERRORS) {
        let field = e.field.clone();
        let placed = if field.path.is_empty() {
            ScenarioError::whole_file(&experiment.path, field.problem, field.allowed)
        } else {
            let covering = overlays.iter().find_map(|o| {
                let rest = o.rest(&field.path)?;
                if o.merged.as_ref().is_some_and(|m| !holds(m, rest)) {
                    return None;
                }
                Some(o.experiment.as_ref().map(|p| format!("{p}{rest}")))
            });
            match covering.flatten() {
                Some(path) => experiment.locate(FieldError { path, ..field }),
                None => base.locate(field),
            }
        };
        msg.push('\n');
        msg.push_str(&placed.to_string());
    }
    if errors.len() > MAX_CELL_ERRORS {
        msg.push_str(&format!("\n({} more not shown)", errors.len() - MAX_CELL_ERRORS));
    }
    SweepError(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_placed_where_they_were_set() {
        let experiment = SourceFile {
            path: "s.toml".into(),
            text: "scenario = 'b.toml'\n[[strategies]]\nname = 'x'\nstrategy = { kind = 'canary', increment_pct = 0 }\ngaming = { aware = true }\n".into(),
        };
        let base = SourceFile {
            path: "b.toml".into(),
            text: "[fleet]\ninstances = 0\n[gaming]\nplayers = 3\n".into(),
        };
        let overlays = [
            Overlay::replaced("strategy", "strategies[0].strategy".into()),
            Overlay {
                merged: Some(toml::Value::Table(toml::from_str("aware = true").unwrap())),
                ..Overlay::replaced("gaming", "strategies[0].gaming".into())
            },
        ];
        let err = |path: &str| ScenarioError::whole_file("b.toml", format!("bad {path}"), "good");
        let errors = [
            "strategy.increment_pct",
            "fleet.instances",
            "gaming.aware",
            "gaming.players",
        ]
        .iter()
        .map(|p| ScenarioError {
            field: FieldError::new(*p, "bad", "good"),
            ..err(p)
        })
        .collect();
        let msg = cell_error(&experiment, &base, "the cell x", &overlays, errors).0;
        assert!(
            msg.contains("s.toml:4:47: field `strategies[0].strategy.increment_pct`"),
            "{msg}"
        );
        assert!(msg.contains("b.toml:2:13: field `fleet.instances`"), "{msg}");
        assert!(msg.contains("s.toml:5:20: field `strategies[0].gaming.aware`"), "{msg}");
        assert!(msg.contains("b.toml:4:11: field `gaming.players`"), "{msg}");
    }
}
