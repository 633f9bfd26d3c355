//! Errors in scenario files: where (file, line, column, field), what was
//! wrong and what is allowed.

use std::fmt;
use std::path::PathBuf;

/// A problem with one field, before it is placed in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Dotted field path, e.g. `strategy.success_criteria.max_error_rate_pct`;
    /// array elements as `metrics.buckets[2]`. Empty for the whole document.
    pub path: String,
    /// What was wrong, with the value found where that helps.
    pub problem: String,
    /// What is allowed instead.
    pub allowed: String,
}

impl FieldError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, problem: impl Into<String>, allowed: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            problem: problem.into(),
            allowed: allowed.into(),
        }
    }
}

/// A scenario file that cannot be used, located in its file.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: PathBuf,
    /// 1-based line, when the problem has a place in the text.
    pub line: Option<usize>,
    /// 1-based column (in characters), when the problem has a place.
    pub column: Option<usize>,
    /// The field, problem and allowed values.
    pub field: FieldError,
    /// The offending source line (or a window of a long one) and the
    /// character index in it to put the caret under.
    pub source_line: Option<(String, usize)>,
}

impl ScenarioError {
    /// An error with no place in the text (e.g. the file cannot be read).
    pub fn whole_file(file: impl Into<PathBuf>, problem: impl Into<String>, allowed: impl Into<String>) -> Self {
        ScenarioError {
            file: file.into(),
            line: None,
            column: None,
            field: FieldError::new("", problem, allowed),
            source_line: None,
        }
    }

    /// Places `field` at byte offset `offset` of `text`.
    pub fn at(file: impl Into<PathBuf>, text: &str, offset: usize, field: FieldError) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let source_line = text[line_start..].lines().next().map(|l| excerpt(l, column));
        ScenarioError {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            field,
            source_line,
        }
    }
}

/// Longest source excerpt shown under an error.
const EXCERPT_CHARS: usize = 120;

/// The line as shown under an error: a window around the column when the
/// line is long, and the marker `…` where it was cut.
fn excerpt(line: &str, column: usize) -> (String, usize) {
    let n = line.chars().count();
    let at = column.saturating_sub(1);
    if n <= EXCERPT_CHARS {
        return (line.to_string(), at);
    }
    let start = at.saturating_sub(EXCERPT_CHARS / 2).min(n - EXCERPT_CHARS);
    let cut: String = line.chars().skip(start).take(EXCERPT_CHARS).collect();
    let lead = if start > 0 { "…" } else { "" };
    let tail = if start + EXCERPT_CHARS < n { "…" } else { "" };
    (format!("{lead}{cut}{tail}"), at - start + lead.chars().count())
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for ScenarioError {
    /// `FILE:LINE:COLUMN: field PATH: PROBLEM` then `allowed: ...` and the
    /// source line with a caret under the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::printable;
        write!(f, "{}", printable(&self.file.display().to_string()))?;
        if let (Some(line), Some(col)) = (self.line, self.column) {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if !self.field.path.is_empty() {
            write!(f, "field `{}`: ", printable(&self.field.path))?;
        }
        write!(f, "{}", printable(&self.field.problem))?;
        if !self.field.allowed.is_empty() {
            write!(f, "\n  allowed: {}", printable(&self.field.allowed))?;
        }
        if let Some((src, caret)) = &self.source_line {
            // Tabs stay tabs so the caret lines up in a terminal; any other
            // control character is escaped, and the caret moves past its
            // escape.
            let shown: String = src
                .chars()
                .map(|ch| {
                    if ch == '\t' {
                        "\t".into()
                    } else {
                        printable(ch.encode_utf8(&mut [0; 4])).into_owned()
                    }
                })
                .collect();
            let pad: String = src
                .chars()
                .take(*caret)
                .map(|ch| match ch {
                    '\t' => "\t".to_string(),
                    _ => " ".repeat(printable(ch.encode_utf8(&mut [0; 4])).chars().count()),
                })
                .collect();
            write!(f, "\n  | {shown}\n  | {pad}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_offsets_on_lines_and_columns() {
        let text = "a = 1\nbb = 'é'\nc = 3\n";
        let off = text.find("'é'").unwrap();
        let e = ScenarioError::at("s.toml", text, off, FieldError::new("bb", "bad", "good"));
        assert_eq!((e.line, e.column), (Some(2), Some(6)));
        let shown = e.to_string();
        assert!(shown.starts_with("s.toml:2:6: field `bb`: bad"), "{shown}");
        assert!(shown.contains("allowed: good"));
        assert!(shown.contains("  | bb = 'é'\n  |      ^"), "{shown}");
    }

    #[test]
    fn control_characters_from_the_input_are_escaped() {
        let text = "name = \"a\u{1b}[2J\"\n";
        let off = text.find('"').unwrap();
        let e = ScenarioError::at(
            "s\u{7}.toml",
            text,
            off,
            FieldError::new("name", "bad name \"a\u{1b}[2J\"", "letters"),
        );
        let shown = e.to_string();
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
        assert!(
            shown.starts_with("s\\u{7}.toml:1:8: field `name`: bad name \"a\\u{1b}[2J\""),
            "{shown}"
        );
        assert!(shown.contains("  | name = \"a\\u{1b}[2J\"\n  |        ^"), "{shown}");
    }
}
