//! Scenario files: TOML in, a validated [`Scenario`] out, or errors that say
//! where and what.
//!
//! Parsing happens in two layers kept apart on purpose: `raw` mirrors the file
//! (serde, unknown fields denied) and `validate` turns it into `types`, which
//! the rest of the crate uses and never checks again.

pub mod cost;
pub mod error;
pub mod inputs;
pub mod limits;
pub mod locate;
pub mod prescan;
mod presets;
pub mod raw;
pub mod types;
pub mod units;
pub mod validate;
mod validate_argo;
mod validate_faults;
mod validate_flagger;
mod validate_gaming;
mod validate_rollback;
mod validate_strategy;
mod validate_traffic;
pub use presets::{preset_steps, shorthand_steps, PresetError};

pub use error::{FieldError, ScenarioError};
pub use types::*;

use inputs::InputFiles;
use locate::SpannedDoc;
use std::path::Path;

/// What a minimal scenario needs, for the empty-file message.
const MINIMAL: &str =
    "a scenario with at least [fleet] instances, [traffic] rate_rps, [release] quality and [strategy] kind";

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, Vec<ScenarioError>> {
    load_with(path, None)
}

/// Reads and validates the scenario at `path`, with its `fidelity` replaced
/// by `fidelity` when given (a `--fidelity` flag): the scenario is validated
/// for the mode it will run in, limits and all.
pub fn load_with(path: &Path, fidelity: Option<Fidelity>) -> Result<Scenario, Vec<ScenarioError>> {
    let text = read_text(path, "a path to a readable scenario file (TOML)").map_err(|e| vec![*e])?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("scenario");
    parse_with(path, &text, stem, fidelity)
}

/// Reads a text file of at most `limits::MAX_FILE_BYTES` (a scenario, a sweep or a tune
/// file), never reading past the limit: a folder, an unreadable file, a
/// larger one or bytes that are not UTF-8 (located at the first invalid
/// byte) are errors. `allowed` says what the path should name.
pub fn read_text(path: &Path, allowed: &str) -> Result<String, Box<ScenarioError>> {
    let unreadable = |e: std::io::Error| {
        Box::new(ScenarioError::whole_file(
            path,
            format!("cannot read the file: {}", io_reason(&e)),
            allowed,
        ))
    };
    if path.is_dir() {
        return Err(Box::new(ScenarioError::whole_file(
            path,
            "is a folder, not a file",
            allowed,
        )));
    }
    let mut bytes = Vec::new();
    let limit = validate::limits::MAX_FILE_BYTES;
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, limit + 1), &mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(Box::new(ScenarioError::whole_file(
            path,
            format!("is larger than {} MiB", limit / (1024 * 1024)),
            format!("a file of at most {} MiB", limit / (1024 * 1024)),
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
        Box::new(ScenarioError::at(
            path,
            &prefix,
            valid,
            FieldError::new(
                "",
                "the file is not UTF-8 text (an invalid byte here)",
                "a UTF-8 TOML file",
            ),
        ))
    })
}

/// A TOML error in `text` (from `file`), placed at its span and named by
/// the field around it. Keys nested past the reader's depth limit have no
/// span; they are found in the text.
pub fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> ScenarioError {
    toml_error_in(file, text, &SpannedDoc::parse(text), e)
}

fn toml_error_in(file: &Path, text: &str, doc: &Option<SpannedDoc>, e: &toml::de::Error) -> ScenarioError {
    if e.span().is_none() || e.message().contains("recursion limit") {
        if let Some(at) = locate::too_deep_key(text) {
            return ScenarioError::at(
                file,
                text,
                at,
                FieldError::new(
                    "",
                    format!(
                        "this key has more than {} parts ({})",
                        locate::MAX_KEY_PARTS,
                        e.message().trim()
                    ),
                    "fewer nested keys and tables: no field of the format is more than a few levels deep",
                ),
            );
        }
    }
    let span = e.span().unwrap_or(0..0);
    // A syntax error leaves no document; a best-effort parse still names
    // the field around it.
    let path = match doc {
        Some(d) => d.path_at(&span),
        None => SpannedDoc::parse_partial(text).path_at(&span),
    };
    let mut field = serde_field_error(path, e.message());
    if doc.is_none() && field.allowed.is_empty() {
        field.allowed = "valid TOML (https://toml.io): key = value lines and [table] headers".into();
    }
    ScenarioError::at(file, text, span.start, field)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Parses and validates scenario `text` that came from `file` (used in
/// messages only). `default_name` names a scenario that sets no `name`.
pub fn parse(file: &Path, text: &str, default_name: &str) -> Result<Scenario, Vec<ScenarioError>> {
    parse_with(file, text, default_name, None)
}

/// [`parse`] with the scenario's fidelity replaced when one is given.
pub fn parse_with(
    file: &Path,
    text: &str,
    default_name: &str,
    fidelity: Option<Fidelity>,
) -> Result<Scenario, Vec<ScenarioError>> {
    parse_in(file, text, default_name, fidelity, &InputFiles::new())
}

/// [`parse`], reading the files the scenario names (a replay CSV) through
/// `inputs`: read once, shared with every scenario parsed through it, and
/// recorded for a fingerprint of everything an experiment reads.
pub fn parse_shared(
    file: &Path,
    text: &str,
    default_name: &str,
    inputs: &InputFiles,
) -> Result<Scenario, Vec<ScenarioError>> {
    parse_in(file, text, default_name, None, inputs)
}

fn parse_in(
    file: &Path,
    text: &str,
    default_name: &str,
    fidelity: Option<Fidelity>,
    inputs: &InputFiles,
) -> Result<Scenario, Vec<ScenarioError>> {
    let blank = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#')
    });
    if blank {
        return Err(vec![ScenarioError::at(
            file,
            text,
            0,
            FieldError::new("", "the file is empty", MINIMAL),
        )]);
    }
    // Count the values before the parser builds a tree of them.
    prescan::check(file, text)?;
    let doc = SpannedDoc::parse(text);
    if let Some(d) = &doc {
        let mut misshapen = d.tables_given_as_arrays(TABLE_PATHS);
        misshapen.extend(d.array_entries_not_tables(&[
            "strategy.steps",
            "rollback.triggers",
            "history",
            "faults",
            "traffic.spikes",
        ]));
        if !misshapen.is_empty() {
            return Err(locate_all(file, text, &doc, misshapen));
        }
    }
    let mut raw: raw::RawScenario = toml::from_str(text).map_err(|e| vec![toml_error_in(file, text, &doc, &e)])?;
    if let Some(f) = fidelity {
        raw.fidelity = Some(f.as_str().to_string());
    }
    let base_dir = file.parent().unwrap_or(Path::new("."));
    validate::validate_with(&raw, default_name, base_dir, inputs).map_err(|errors| locate_all(file, text, &doc, errors))
}

/// Tables of the format, which must not be written as arrays (serde would
/// otherwise accept `fleet = [20, "0s"]` by position).
const TABLE_PATHS: &[&str] = &[
    "simulation",
    "fleet",
    "health_check",
    "traffic",
    "capacity",
    "sessions",
    "stable",
    "stable.latency",
    "release",
    "metrics",
    "strategy",
    "strategy.success_criteria",
    "rollback",
];

/// Most errors reported for one file; the rest are counted.
const MAX_ERRORS: usize = 20;

/// Places field errors in the text, at most [`MAX_ERRORS`] of them.
fn locate_all(file: &Path, text: &str, doc: &Option<SpannedDoc>, errors: Vec<FieldError>) -> Vec<ScenarioError> {
    let total = errors.len();
    let mut out: Vec<ScenarioError> = errors
        .into_iter()
        .take(MAX_ERRORS)
        .map(|field| {
            let offset = doc.as_ref().map_or(0, |d| d.offset_of(&field.path));
            ScenarioError::at(file, text, offset, field)
        })
        .collect();
    if total > MAX_ERRORS {
        out.push(ScenarioError::whole_file(
            file,
            format!("{} more errors not shown", total - MAX_ERRORS),
            "fix the errors above and validate again",
        ));
    }
    out
}

/// Splits a serde message such as "unknown field `x`, expected one of ..."
/// into the problem and what is allowed, and names Rust types in plain words.
fn serde_field_error(path: String, message: &str) -> FieldError {
    let message = message.trim();
    let (problem, allowed) = match message.split_once(", expected ") {
        Some((p, a)) => (p.to_string(), a.to_string()),
        None => match message.split_once("expected ") {
            Some((p, a)) if !p.trim().is_empty() => (p.trim().trim_end_matches(',').to_string(), a.to_string()),
            _ => (message.to_string(), String::new()),
        },
    };
    let allowed = match allowed.as_str() {
        "i64" | "u64" | "u32" | "i32" => "a whole number".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a sequence" => "an array".to_string(),
        "struct" => "a table".to_string(),
        a if a.starts_with("struct ") => "a table".to_string(),
        _ => allowed,
    };
    FieldError::new(path, problem, allowed)
}

#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod tests;
