//! A cheap pre-scan of a TOML text that counts its values before the parser
//! builds a tree of them.
//!
//! The parser's tree costs hundreds of bytes per value, so a 1 MiB file of
//! `{},` entries would cost far more memory than its text (a 9.5 MiB one
//! peaked at 1.7 GB before its first error). One pass over the bytes counts
//! keys, tables and array entries, skipping strings and comments, and stops
//! at the first value past [`MAX_TOML_VALUES`], naming the table and key it
//! is in. Every delimiter is ASCII, so scanning bytes is safe in UTF-8.

use super::error::{FieldError, ScenarioError};
use super::limits::MAX_TOML_VALUES;
use std::path::Path;

/// The place where a text holds more values than allowed.
#[derive(Clone, Debug, PartialEq)]
pub struct Overflow {
    /// Byte offset of the first value past the limit.
    pub offset: usize,
    /// The dotted table and key it belongs to (`strategy.steps`), as written.
    pub path: String,
}

/// Counts the values of `text` (an upper bound on the nodes of its parse
/// tree: one per `=`, `[` and `{`, and one per `,`) and fails at the first
/// past `max`. Syntax errors are left to the parser.
pub fn count_values(text: &str, max: usize) -> Result<usize, Overflow> {
    let b = text.as_bytes();
    let mut i = 0;
    // Brackets and braces open inside values; a `[` at depth 0 that starts
    // a line is a table header.
    let mut depth = 0usize;
    let mut line_start = true;
    let mut key_start = 0;
    let mut header = "";
    let mut key = "";
    let mut count = 0usize;
    let mut bump = |at: usize, header: &str, key: &str| -> Result<(), Overflow> {
        count += 1;
        if count > max {
            let path = match (header.is_empty(), key.is_empty()) {
                (true, _) => key.to_string(),
                (false, true) => header.to_string(),
                (false, false) => format!("{header}.{key}"),
            };
            return Err(Overflow { offset: at, path });
        }
        Ok(())
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            continue;
        }
        if line_start && depth == 0 {
            key_start = i;
        }
        let at_line_start = line_start;
        line_start = false;
        match c {
            b'#' => {
                i = find(b, i, b'\n');
                continue;
            }
            b'"' | b'\'' => {
                i = skip_string(b, i);
                continue;
            }
            b'[' if depth == 0 && at_line_start => {
                let close = find(b, i, b']').min(find(b, i, b'\n'));
                header = text[i..close].trim_start_matches('[').trim();
                key = "";
                bump(i, header, key)?;
                i = close;
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                bump(i, header, key)?;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'=' => {
                if depth == 0 {
                    key = text[key_start..i].trim();
                }
                bump(i, header, key)?;
            }
            b',' => bump(i, header, key)?,
            _ => {}
        }
        i += 1;
    }
    Ok(count)
}

/// The index of the next `byte` at or after `from`, or the end.
fn find(b: &[u8], from: usize, byte: u8) -> usize {
    b[from..].iter().position(|&x| x == byte).map_or(b.len(), |p| from + p)
}

/// The index just past the string that starts at `i` (basic or literal,
/// single- or multi-line); the end of the text if it is not closed.
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = b[i..].starts_with(&[q, q, q]);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < b.len() {
        let x = b[j];
        if x == b'\\' && q == b'"' {
            j += 2;
            continue;
        }
        if !triple && x == b'\n' {
            return j;
        }
        if x == q {
            if !triple {
                return j + 1;
            }
            if b[j..].starts_with(&[q, q, q]) {
                // Up to two more quotes belong to the string's content.
                let mut end = j + 3;
                while end < b.len() && end < j + 5 && b[end] == q {
                    end += 1;
                }
                return end;
            }
        }
        j += 1;
    }
    b.len()
}

/// Checks that the TOML `text` read from `file` holds at most
/// [`MAX_TOML_VALUES`] values; the error (one, in a list as the other
/// scenario errors) is placed at the first value past it.
pub fn check(file: &Path, text: &str) -> Result<(), Vec<ScenarioError>> {
    count_values(text, MAX_TOML_VALUES).map(|_| ()).map_err(|o| {
        vec![ScenarioError::at(
            file,
            text,
            o.offset,
            FieldError::new(
                o.path,
                format!("the file holds more than {MAX_TOML_VALUES} values (keys, tables and array entries) by here"),
                format!(
                    "at most {MAX_TOML_VALUES} values in a file; each list has a smaller cap of its own (README, \
                     \"Limits\")"
                ),
            ),
        )]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keys_tables_and_entries() {
        assert_eq!(count_values("a = 1\n", 100), Ok(1));
        // a =, [, two commas: the array's three entries and its key.
        assert_eq!(count_values("a = [1, 2, 3]\n", 100), Ok(4));
        // The header, the key; the inline table and its key.
        assert_eq!(count_values("[t]\nb = { c = 1 }\n", 100), Ok(4));
        assert_eq!(count_values("[[s]]\n[[s]]\n", 100), Ok(2));
    }

    #[test]
    fn skips_strings_and_comments() {
        let text = "a = \"[{,=}]\\\"[\" # [ , = {\nb = '[,]'\nc = \"\"\"\n[x]\n,,\"\"\"\nd = '''\n{,}'''\n";
        assert_eq!(count_values(text, 100), Ok(4));
    }

    #[test]
    fn stops_at_the_first_value_past_the_limit_and_names_its_field() {
        let text = "[strategy]\nkind = 'canary'\nsteps = [{}, {}, {}, {}]\n";
        let o = count_values(text, 5).unwrap_err();
        assert_eq!(o.path, "strategy.steps");
        assert_eq!(&text[o.offset..o.offset + 1], ",", "the entry that went past");
        let headers = "[fleet]\ninstances = 1\n".to_string() + &"[[strategy.steps]]\n".repeat(10);
        let o = count_values(&headers, 5).unwrap_err();
        assert_eq!(o.path, "strategy.steps");
    }

    #[test]
    fn an_unclosed_string_ends_the_scan_without_a_panic() {
        assert!(count_values("a = \"abc", 100).is_ok());
        assert!(count_values("a = '''abc", 100).is_ok());
        assert!(count_values("a = \"abc\\", 100).is_ok());
    }

    #[test]
    fn the_located_error_says_where_and_what() {
        let text = "[strategy]\nsteps = [".to_string() + &"{},".repeat(MAX_TOML_VALUES) + "]\n";
        let e = check(Path::new("s.toml"), &text).unwrap_err().remove(0);
        assert_eq!(e.line, Some(2));
        assert_eq!(e.field.path, "strategy.steps");
        assert!(
            e.field.problem.contains(&MAX_TOML_VALUES.to_string()),
            "{}",
            e.field.problem
        );
    }
}
