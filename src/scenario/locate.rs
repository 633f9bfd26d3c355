//! Maps between field paths and places in the TOML text.
//!
//! Serde errors come with a byte span but no field path; validation errors
//! come with a field path but no span. Both are resolved against the spanned
//! document tree that the TOML parser builds, so every error can say both
//! where it is and which field it is about.

use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The parsed document with spans, kept for locating errors.
pub struct SpannedDoc<'i> {
    root: Spanned<DeTable<'i>>,
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The keys and indices of a field path such as `a.b[2].c`; a key in
/// double quotes may hold dots (`space."strategy.check_interval"[1]`).
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            out.push(Segment::Key(&quoted[..end]));
            rest = quoted.get(end + 1..).unwrap_or("");
        } else if let Some(index) = rest.strip_prefix('[') {
            let end = index.find(']').unwrap_or(index.len());
            if let Ok(i) = index[..end].parse() {
                out.push(Segment::Index(i));
            }
            rest = index.get(end + 1..).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Key(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// Most parts of a dotted key the TOML reader takes (its recursion limit).
pub const MAX_KEY_PARTS: usize = 80;

/// The byte offset of the first `[header]` or `key =` line whose dotted
/// key has more than [`MAX_KEY_PARTS`] parts: the place of a "recursion
/// limit" error, which the TOML reader reports without a span.
pub fn too_deep_key(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let key = match trimmed.strip_prefix('[') {
            Some(header) => header.trim_start_matches('['),
            None => trimmed,
        };
        let mut parts = 1;
        let mut quote: Option<char> = None;
        for ch in key.chars() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(ch),
                (None, '.') => parts += 1,
                (None, ']' | '=' | '#' | '{') => break,
                _ => {}
            }
        }
        if parts > MAX_KEY_PARTS {
            return Some(start + (line.len() - trimmed.len()));
        }
    }
    None
}

impl<'i> SpannedDoc<'i> {
    /// Parses `text`; `None` when it is not valid TOML (the serde pass reports
    /// that error with its own span).
    pub fn parse(text: &'i str) -> Option<Self> {
        DeTable::parse(text).ok().map(|root| SpannedDoc { root })
    }

    /// A best-effort parse of text that may hold syntax errors.
    pub fn parse_partial(text: &'i str) -> Self {
        SpannedDoc {
            root: DeTable::parse_recoverable(text).0,
        }
    }

    /// The value at a dotted path of table keys, if there is one.
    fn value_at(&self, dotted: &str) -> Option<&Spanned<DeValue<'i>>> {
        let mut table: Option<&DeTable<'i>> = Some(self.root.get_ref());
        let mut found = None;
        for key in dotted.split('.') {
            found = table.and_then(|t| t.get(key));
            table = found.and_then(|v| v.get_ref().as_table());
        }
        found
    }

    /// Errors for tables of `paths` written as arrays (`fleet = [...]` or
    /// `[[fleet]]`).
    pub fn tables_given_as_arrays(&self, paths: &[&str]) -> Vec<super::FieldError> {
        let mut out = Vec::new();
        for path in paths {
            let found = self.value_at(path);
            if found.is_some_and(|v| v.get_ref().is_array()) {
                out.push(super::FieldError::new(
                    *path,
                    "is an array, but this is a table",
                    format!("a [{path}] table (or an inline {{ ... }} table) with named fields"),
                ));
            }
        }
        out
    }

    /// Errors for entries of the arrays at `paths` that are not tables
    /// (`steps = [[10]]` would otherwise be read by position).
    pub fn array_entries_not_tables(&self, paths: &[&str]) -> Vec<super::FieldError> {
        let mut out = Vec::new();
        for path in paths {
            let found = self.value_at(path);
            let Some(items) = found.and_then(|v| v.get_ref().as_array()) else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                if !item.get_ref().is_table() {
                    out.push(super::FieldError::new(
                        format!("{path}[{i}]"),
                        format!("is {}, but each entry is a table", item.get_ref().type_str()),
                        "an inline table such as { key = value }, or a [[table]] section",
                    ));
                }
            }
        }
        out
    }

    /// Byte offset of the value at `path`, or of the nearest enclosing table
    /// that exists (a missing field is reported where it should have been).
    pub fn offset_of(&self, path: &str) -> usize {
        let mut best = self.root.span().start;
        let mut table: Option<&DeTable<'i>> = Some(self.root.get_ref());
        let mut value: Option<&Spanned<DeValue<'i>>> = None;
        for seg in segments(path) {
            let next = match (seg, table, value) {
                (Segment::Key(k), Some(t), _) => t.get(k),
                (Segment::Index(i), _, Some(v)) => v.get_ref().as_array().and_then(|a| a.get(i)),
                _ => None,
            };
            let Some(v) = next else { break };
            best = v.span().start;
            value = Some(v);
            table = v.get_ref().as_table();
        }
        best
    }

    /// The dotted path of the innermost key or value whose span holds
    /// `span.start`, e.g. `strategy.increment_pct` or `metrics.buckets[1]`.
    pub fn path_at(&self, span: &Range<usize>) -> String {
        let mut path = String::new();
        walk_table(self.root.get_ref(), span.start, &mut path);
        path
    }
}

fn walk_table(table: &DeTable<'_>, at: usize, path: &mut String) {
    for (key, value) in table.iter() {
        let in_key = key.span().contains(&at);
        let in_value = value.span().contains(&at);
        if in_key || in_value {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key.get_ref());
            if in_value {
                walk_value(value.get_ref(), at, path);
            }
            return;
        }
    }
    // Tables opened by a `[header]` (and arrays of `[[header]]` tables) have
    // spans that do not cover their keys; search inside them too.
    for (key, value) in table.iter() {
        let mut sub = String::new();
        match value.get_ref() {
            DeValue::Table(inner) => walk_table(inner, at, &mut sub),
            array @ DeValue::Array(_) => walk_value(array, at, &mut sub),
            _ => continue,
        }
        if !sub.is_empty() {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key.get_ref());
            if !sub.starts_with('[') {
                path.push('.');
            }
            path.push_str(&sub);
            return;
        }
    }
}

fn walk_value(value: &DeValue<'_>, at: usize, path: &mut String) {
    match value {
        DeValue::Table(t) => walk_table(t, at, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.span().contains(&at) {
                    path.push_str(&format!("[{i}]"));
                    walk_value(item.get_ref(), at, path);
                    return;
                }
            }
            // Entries of an array of tables (`[[faults]]`) have spans that
            // do not cover their keys, like `[header]` tables.
            for (i, item) in items.iter().enumerate() {
                if let Some(inner) = item.get_ref().as_table() {
                    let mut sub = String::new();
                    walk_table(inner, at, &mut sub);
                    if !sub.is_empty() {
                        path.push_str(&format!("[{i}].{sub}"));
                        return;
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name = 'x'\n[fleet]\ninstances = 3\n[metrics]\nbuckets = ['1ms', '2ms']\n[strategy.success_criteria]\nmax_error_rate_pct = 5\n";

    #[test]
    fn finds_offsets_of_paths() {
        let doc = SpannedDoc::parse(DOC).unwrap();
        assert_eq!(&DOC[doc.offset_of("fleet.instances")..][..1], "3");
        assert_eq!(&DOC[doc.offset_of("metrics.buckets[1]")..][..5], "'2ms'");
        let crit = doc.offset_of("strategy.success_criteria.max_error_rate_pct");
        assert_eq!(&DOC[crit..][..1], "5");
    }

    #[test]
    fn finds_paths_of_offsets() {
        let doc = SpannedDoc::parse(DOC).unwrap();
        let at = DOC.find("'2ms'").unwrap();
        assert_eq!(doc.path_at(&(at..at + 1)), "metrics.buckets[1]");
        let at = DOC.find("max_error").unwrap();
        assert_eq!(
            doc.path_at(&(at..at + 3)),
            "strategy.success_criteria.max_error_rate_pct"
        );
    }

    #[test]
    fn quoted_keys_may_hold_dots() {
        let text = "[space]\n\"strategy.check_interval\" = [\"10s\", \"20s\"]\n";
        let doc = SpannedDoc::parse(text).unwrap();
        let at = doc.offset_of("space.\"strategy.check_interval\"[1]");
        assert_eq!(&text[at..][..5], "\"20s\"");
    }

    #[test]
    fn finds_keys_nested_too_deep() {
        let deep = vec!["a"; MAX_KEY_PARTS + 1].join(".");
        let text = format!("name = 'x'\n  [{deep}]\nx = 1\n");
        assert_eq!(too_deep_key(&text), Some(text.find('[').unwrap()));
        let quoted = format!("name = 'x'\n\"{deep}\" = 1\n");
        assert_eq!(too_deep_key(&quoted), None, "one quoted key");
        let shallow = format!("{} = 1\n", vec!["a"; MAX_KEY_PARTS].join("."));
        assert_eq!(too_deep_key(&shallow), None);
    }

    #[test]
    fn finds_paths_inside_arrays_of_tables() {
        let doc_text = "name = 'x'\n[[faults]]\nkind = 'a'\n[[faults]]\nkind = 5\nat = '1m'\n";
        let doc = SpannedDoc::parse(doc_text).unwrap();
        let at = doc_text.find('5').unwrap();
        assert_eq!(doc.path_at(&(at..at + 1)), "faults[1].kind");
    }
}
