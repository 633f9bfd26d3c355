//! Reading `trials.csv` rows back (`--resume`, `merge`): streamed line by
//! line with a cap on a line's length, and every value checked against its
//! column's type and range, so a damaged or edited file is an error that
//! names the file, line, column and column name, never a row that changes
//! the summary.
//!
//! The columns are [`trial_header`]: the key columns, then `run`'s summary
//! columns as `report::csv_out` defines them. A column's type follows from
//! its name (`_s`, `_ms` and `_pct` a decimal from 0, a whole count
//! otherwise, and the named text, flag and share columns), so a column
//! added there is checked here without a second list to keep in step.

use super::tally::{trial_header, KEY_COLUMNS};
use crate::names::{check_name, NameUse};
use crate::text::printable;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Longest line read (a row of `trials.csv` is under 2 KiB; names are at
/// most 100 characters).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A problem in a rows file, located.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based character column, when the problem has a place in the line.
    pub column: Option<usize>,
    /// The column's name, when the problem is in one value.
    pub name: Option<String>,
    /// What was wrong.
    pub problem: String,
    /// What is allowed.
    pub allowed: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", printable(&self.path.display().to_string()), self.line)?;
        if let Some(col) = self.column {
            write!(f, ":{col}")?;
        }
        if let Some(name) = &self.name {
            write!(f, ": column `{name}`")?;
        }
        write!(f, ": {}", self.problem)?;
        if !self.allowed.is_empty() {
            write!(f, "\n  allowed: {}", self.allowed)?;
        }
        Ok(())
    }
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// A sweep variant's name (the one name rule for labels).
    Label,
    /// A scenario name (the one name rule for paths).
    Name,
    /// A lower-case word such as `canary` or `rolled_back`.
    Word,
    /// One of a fixed set.
    OneOf(&'static [&'static str]),
    /// `true` or `false`.
    Flag,
    /// Free printable text (the trigger's name).
    Text,
    /// A whole number from 0 (fits u64).
    Count,
    /// A whole number, maybe negative (fits i64).
    Signed,
    /// A decimal number from 0 (seconds and other amounts).
    Amount,
    /// A decimal number from 0 to 100.
    Percent,
}

/// A column's kind, and whether it may be empty ("not applicable").
#[derive(Clone, Copy, Debug)]
struct Column {
    kind: Kind,
    required: bool,
}

/// The kind of summary column `name`, by its name.
fn summary_column(name: &str) -> Column {
    let (kind, required) = match name {
        "scenario" => (Kind::Name, true),
        "strategy" | "final_phase" => (Kind::Word, true),
        "outcome" | "recovery" => (Kind::Word, false),
        "release" => (Kind::OneOf(&["good", "bad"]), true),
        "fidelity" => (Kind::OneOf(&["request", "aggregate"]), true),
        "rollback_performed" | "rolled_back_after_completion" => (Kind::Flag, true),
        "rollback_verified" => (Kind::Flag, false),
        "trigger" => (Kind::Text, false),
        "seed"
        | "requests_total"
        | "failed_requests"
        | "exposed_requests"
        | "blast_radius_requests"
        | "dropped_requests"
        | "checks_run" => (Kind::Count, true),
        "excess_failed_requests" => (Kind::Signed, false),
        // Shares of a whole; other percentages (a load, a utilisation) may
        // pass 100.
        "availability_pct" | "session_continuity_pct" => (Kind::Percent, false),
        n if n.ends_with("_pct") || n.ends_with("_s") || n.ends_with("_ms") => (Kind::Amount, false),
        _ => (Kind::Count, false),
    };
    Column { kind, required }
}

/// The columns of `trials.csv` with their kinds.
fn columns() -> Vec<(&'static str, Column)> {
    trial_header()
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let column = if i + 1 < KEY_COLUMNS.len() {
                Column {
                    kind: Kind::Label,
                    required: true,
                }
            } else if i + 1 == KEY_COLUMNS.len() {
                Column {
                    kind: Kind::Count,
                    required: true,
                }
            } else {
                summary_column(name)
            };
            (name, column)
        })
        .collect()
}

/// Whether `text` is a whole number from 0 as deploysim writes one (no
/// sign, no leading zeros) that fits in a u64.
fn is_count(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
        && text.parse::<u64>().is_ok()
}

/// The value of `text` as a decimal from 0 written plainly (digits, an
/// optional point and digits: no sign, exponent, spaces, NaN or infinity).
fn amount(text: &str) -> Option<f64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    let plain = is_count(whole) && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit());
    plain
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|v| v.is_finite())
}

/// Checks one value of `column`; the problem and what is allowed.
fn check_value(text: &str, column: Column) -> Result<(), (String, String)> {
    let shown = || format!("\"{}\"", printable(text));
    if text.is_empty() {
        return if column.required {
            Err(("is empty".into(), "a value (this column is never empty)".into()))
        } else {
            Ok(())
        };
    }
    let fits = match column.kind {
        Kind::Label | Kind::Name => {
            let usage = if column.kind == Kind::Name {
                NameUse::Path
            } else {
                NameUse::Label
            };
            return check_name(text, usage).map_err(|e| (e.problem, e.allowed));
        }
        Kind::Word => {
            text.len() <= 100
                && text
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        }
        Kind::OneOf(set) => set.contains(&text),
        Kind::Flag => text == "true" || text == "false",
        Kind::Text => text.chars().count() <= 1000 && !text.chars().any(crate::text::is_unsafe),
        Kind::Count => is_count(text),
        Kind::Signed => is_count(text.strip_prefix('-').unwrap_or(text)) && text != "-0" && text.parse::<i64>().is_ok(),
        Kind::Amount => amount(text).is_some(),
        Kind::Percent => amount(text).is_some_and(|v| v <= 100.0),
    };
    if fits {
        return Ok(());
    }
    let allowed = match column.kind {
        Kind::Word => "a lower-case word (letters, digits, '_')".to_string(),
        Kind::OneOf(set) => set.join(" or "),
        Kind::Flag => "true or false".into(),
        Kind::Text => "up to 1,000 printable characters".into(),
        Kind::Count => "a whole number from 0, written plainly (no sign, no leading zeros)".into(),
        Kind::Signed => "a whole number, written plainly".into(),
        Kind::Amount => "a number from 0, written plainly (digits and a decimal point)".into(),
        Kind::Percent => "a number from 0 to 100, written plainly (digits and a decimal point)".into(),
        Kind::Label | Kind::Name => String::new(),
    };
    Err((format!("{} is not allowed here", shown()), allowed))
}

/// Reads a rows file line by line: at most [`MAX_LINE_BYTES`] a line, UTF-8
/// without NUL bytes, each line one record. A byte-order mark before the
/// first line and a carriage return before a line feed are accepted, and
/// noted: the file is then not byte for byte what deploysim writes (see
/// [`RowReader::canonical`]).
pub struct RowReader<R> {
    input: R,
    path: PathBuf,
    line: u64,
    offset: u64,
    canonical: bool,
    bytes: Vec<u8>,
    text: String,
    starts: Vec<usize>,
    columns: Vec<(&'static str, Column)>,
}

impl RowReader<std::io::BufReader<std::io::Take<std::fs::File>>> {
    /// Opens the regular file at `path`, reading at most its first `limit`
    /// bytes (all of it when `None`). A folder, a device or a pipe is an
    /// error, before anything is read.
    pub fn open(path: &Path, limit: Option<u64>) -> Result<Self, RowError> {
        let fail = |problem: String| RowError {
            path: path.to_path_buf(),
            line: 0,
            column: None,
            name: None,
            problem,
            allowed: "the trials.csv that deploysim wrote".into(),
        };
        let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        if !meta.is_file() {
            return Err(fail("is not a regular file".into()));
        }
        let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let limit = limit.unwrap_or(u64::MAX);
        Ok(RowReader::new(
            std::io::BufReader::new(std::io::Read::take(file, limit)),
            path,
        ))
    }
}

impl<R: BufRead> RowReader<R> {
    /// Reads rows from `input`, which came from `path` (for messages).
    pub fn new(input: R, path: &Path) -> Self {
        RowReader {
            input,
            path: path.to_path_buf(),
            line: 0,
            offset: 0,
            canonical: true,
            bytes: Vec::new(),
            text: String::new(),
            starts: Vec::new(),
            columns: columns(),
        }
    }

    /// The byte offset just past the line last read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether every line so far is exactly the bytes deploysim writes for
    /// its values (no byte-order mark, no carriage returns, no quoting
    /// beyond what is needed).
    pub fn canonical(&self) -> bool {
        self.canonical
    }

    /// An error on the line last read, in value `field` when given.
    pub fn error(&self, field: Option<usize>, problem: impl Into<String>, allowed: impl Into<String>) -> RowError {
        let start = field.map(|k| self.starts.get(k).copied().unwrap_or(self.text.len()));
        RowError {
            name: field.map(|k| self.columns.get(k).map_or("(extra)", |c| c.0).to_string()),
            ..self.error_at(start, problem, allowed)
        }
    }

    /// An error on the line last read, at byte `at` of its text when given.
    fn error_at(&self, at: Option<usize>, problem: impl Into<String>, allowed: impl Into<String>) -> RowError {
        RowError {
            path: self.path.clone(),
            line: self.line,
            column: at.map(|at| self.text[..at.min(self.text.len())].chars().count() + 1),
            name: None,
            problem: problem.into(),
            allowed: allowed.into(),
        }
    }

    /// The next line's fields, or `None` at the end of the input.
    pub fn next_fields(&mut self) -> Result<Option<Vec<String>>, RowError> {
        self.bytes.clear();
        let read = std::io::Read::take(std::io::Read::by_ref(&mut self.input), MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.bytes)
            .map_err(|e| self.error(None, format!("cannot read: {e}"), ""))?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        self.offset += read as u64;
        let damaged = "the rows as deploysim wrote them (a file damaged by a crash or a power loss, \
                       or edited, cannot be used)";
        if self.bytes.last() != Some(&b'\n') {
            self.text.clear();
            self.starts.clear();
            return Err(if read > MAX_LINE_BYTES {
                self.error(
                    None,
                    format!("the line is longer than {MAX_LINE_BYTES} bytes (not a row of trials.csv)"),
                    damaged,
                )
            } else {
                self.error(None, "the last line is cut off (no line break at its end)", damaged)
            });
        }
        self.bytes.pop();
        if self.bytes.last() == Some(&b'\r') {
            self.bytes.pop();
            self.canonical = false;
        }
        if self.line == 1 && self.bytes.starts_with("\u{feff}".as_bytes()) {
            self.bytes.drain(..3);
            self.canonical = false;
        }
        let valid = match std::str::from_utf8(&self.bytes) {
            Ok(_) => self.bytes.len(),
            Err(e) => e.valid_up_to(),
        };
        let nul = self.bytes[..valid].iter().position(|&b| b == 0);
        self.text = String::from_utf8_lossy(&self.bytes[..nul.unwrap_or(valid)]).into_owned();
        if nul.is_some() {
            let end = Some(self.text.len());
            return Err(self.error_at(end, "a NUL byte (a file damaged by a power loss?)", damaged));
        }
        if valid < self.bytes.len() {
            let end = Some(self.text.len());
            return Err(self.error_at(end, "a byte that is not UTF-8 text", damaged));
        }
        let fields = self.split()?;
        Ok(Some(fields))
    }

    /// Splits the current line into fields (RFC 4180 quoting), noting where
    /// each starts.
    fn split(&mut self) -> Result<Vec<String>, RowError> {
        let text = std::mem::take(&mut self.text);
        self.starts.clear();
        let mut fields = Vec::new();
        let mut pos = 0;
        let bytes = text.as_bytes();
        loop {
            self.starts.push(pos);
            let mut field = String::new();
            let quoted = bytes.get(pos) == Some(&b'"');
            if quoted {
                pos += 1;
                loop {
                    match text[pos..].find('"') {
                        None => {
                            self.text = text;
                            let k = self.starts.len() - 1;
                            return Err(self.error(
                                Some(k),
                                "a quoted value has no closing quote",
                                "CSV as deploysim writes it",
                            ));
                        }
                        Some(q) => {
                            field.push_str(&text[pos..pos + q]);
                            pos += q + 1;
                            if bytes.get(pos) == Some(&b'"') {
                                field.push('"');
                                pos += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                if pos < bytes.len() && bytes[pos] != b',' {
                    self.text = text;
                    let k = self.starts.len() - 1;
                    return Err(self.error(Some(k), "text follows a quoted value", "CSV as deploysim writes it"));
                }
            } else {
                let end = text[pos..].find(',').map_or(text.len(), |i| pos + i);
                field.push_str(&text[pos..end]);
                pos = end;
            }
            // deploysim's writer quotes a value exactly when it holds a
            // comma, a quote or a line feed (doubling quotes inside): any
            // other quoting reads the same but is not the same bytes.
            if quoted != field.bytes().any(|b| matches!(b, b',' | b'"' | b'\n')) {
                self.canonical = false;
            }
            fields.push(field);
            if pos >= bytes.len() {
                break;
            }
            pos += 1; // the comma
            if pos == bytes.len() {
                self.starts.push(pos);
                fields.push(String::new());
                break;
            }
        }
        self.text = text;
        Ok(fields)
    }

    /// Checks that `fields` are the header of `trials.csv`.
    pub fn check_header(&self, fields: &[String]) -> Result<(), RowError> {
        if fields.iter().map(String::as_str).eq(self.columns.iter().map(|c| c.0)) {
            return Ok(());
        }
        Err(self.error(
            None,
            "is not the trials.csv header of this deploysim version",
            "the header deploysim writes: strategy,triggers,faults,releases,trial,scenario,...",
        ))
    }

    /// Checks every value of a row against its column.
    pub fn check_row(&self, fields: &[String]) -> Result<(), RowError> {
        if fields.len() != self.columns.len() {
            return Err(self.error(
                None,
                format!(
                    "has {} values; trials.csv rows have {}",
                    fields.len(),
                    self.columns.len()
                ),
                "the rows as deploysim wrote them",
            ));
        }
        for (k, (value, (_, column))) in fields.iter().zip(&self.columns).enumerate() {
            check_value(value, *column).map_err(|(problem, allowed)| self.error(Some(k), problem, allowed))?;
        }
        Ok(())
    }

    /// Index of column `name` in a row.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .skip(KEY_COLUMNS.len())
            .position(|c| c.0 == name)
            .map(|i| i + KEY_COLUMNS.len())
    }
}

#[cfg(test)]
mod tests;
