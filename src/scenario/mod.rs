//! Scenario files: TOML in, a validated [`Scenario`] out, or errors that say
//! where and what.
//!
//! Parsing happens in two layers kept apart on purpose: `raw` mirrors the file
//! (serde, unknown fields denied) and `validate` turns it into `types`, which
//! the rest of the crate uses and never checks again.

pub mod error;
pub mod locate;
pub mod raw;
pub mod types;
pub mod units;
pub mod validate;
mod validate_rollback;
mod validate_strategy;
pub use validate_strategy::{preset_steps, shorthand_steps};

pub use error::{FieldError, ScenarioError};
pub use types::*;

use locate::SpannedDoc;
use std::path::Path;

/// What a minimal scenario needs, for the empty-file message.
const MINIMAL: &str =
    "a scenario with at least [fleet] instances, [traffic] rate_rps, [release] quality and [strategy] kind";

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, Vec<ScenarioError>> {
    let text = std::fs::read(path).map_err(|e| {
        vec![ScenarioError::whole_file(
            path,
            format!("cannot read the file: {}", io_reason(&e)),
            "a path to a readable scenario file (TOML)",
        )]
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        vec![ScenarioError::whole_file(
            path,
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "a UTF-8 TOML file",
        )]
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("scenario");
    parse(path, &text, stem)
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
    let doc = SpannedDoc::parse(text);
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let path = doc.as_ref().map(|d| d.path_at(&span)).unwrap_or_default();
        vec![ScenarioError::at(
            file,
            text,
            span.start,
            serde_field_error(path, e.message()),
        )]
    })?;
    validate::validate(&raw, default_name).map_err(|errors| {
        errors
            .into_iter()
            .map(|field| {
                let offset = doc.as_ref().map_or(0, |d| d.offset_of(&field.path));
                ScenarioError::at(file, text, offset, field)
            })
            .collect()
    })
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
        "a sequence" => "an array, e.g. [200, 204]".to_string(),
        "struct" => "a table".to_string(),
        a if a.starts_with("struct ") => "a table".to_string(),
        _ => allowed,
    };
    FieldError::new(path, problem, allowed)
}

#[cfg(test)]
mod tests;
