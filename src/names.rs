//! The one rule for names the user gives: scenario, sweep and tune names
//! (they name output folders), chart names (they name files), and variant
//! and bad-release names (keys in CSV rows and labels in charts).
//!
//! Every such name is checked here, with one message, before anything
//! runs: a name that cannot be used fails at once rather than after the
//! trials.

/// Most characters in any name.
pub const MAX_NAME_CHARS: usize = 100;

/// What a name is used for, which decides the characters it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameUse {
    /// Names a folder or a file (scenario, sweep, tune and chart names):
    /// ASCII letters, digits, `-`, `_` and `.`, so it is one path
    /// component on every system and needs no quoting in a shell.
    Path,
    /// A key in CSV rows and a label in charts (sweep variants, tune bad
    /// releases): any printable text, so `errors>1%-1m` reads as meant.
    Label,
}

impl NameUse {
    /// What such a name may be, for the `allowed:` line.
    pub fn allowed(self) -> String {
        match self {
            NameUse::Path => format!(
                "1 to {MAX_NAME_CHARS} ASCII letters, digits, '-', '_' and '.', with a letter or digit, \
                 not starting with '.' (it names a folder or file)"
            ),
            NameUse::Label => format!(
                "1 to {MAX_NAME_CHARS} printable characters (no control characters, no spaces at \
                 either end; it is a key of the output rows)"
            ),
        }
    }
}

/// Why a name cannot be used: the problem, and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameError {
    /// What is wrong, quoting the name safely.
    pub problem: String,
    /// What is allowed instead.
    pub allowed: String,
}

/// Checks `name` for `usage`. The message quotes the name with control
/// characters escaped and says which rule it broke.
pub fn check_name(name: &str, usage: NameUse) -> Result<(), NameError> {
    let reason = name_problem(name, usage);
    match reason {
        None => Ok(()),
        Some(why) => {
            let shown: String = name.chars().take(MAX_NAME_CHARS + 1).collect();
            let cut = if shown.len() < name.len() { "…" } else { "" };
            Err(NameError {
                problem: format!(
                    "\"{}{cut}\" is not a usable name: {why}",
                    crate::text::printable(&shown)
                ),
                allowed: usage.allowed(),
            })
        }
    }
}

fn name_problem(name: &str, usage: NameUse) -> Option<String> {
    let chars = name.chars().count();
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if chars > MAX_NAME_CHARS {
        return Some(format!("it has {chars} characters"));
    }
    match usage {
        NameUse::Path => {
            if let Some(bad) = name
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            {
                return Some(format!("it holds {}", describe(bad)));
            }
            if name.starts_with('.') {
                return Some("it starts with '.'".into());
            }
            if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
                return Some("it has no letter or digit".into());
            }
        }
        NameUse::Label => {
            if let Some(bad) = name.chars().find(|&c| crate::text::is_unsafe(c)) {
                return Some(format!("it holds {}", describe(bad)));
            }
            if name.trim() != name {
                return Some("it has spaces at an end".into());
            }
        }
    }
    None
}

fn describe(c: char) -> String {
    if crate::text::is_unsafe(c) {
        format!("the control character U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_names_are_single_plain_path_components() {
        for ok in ["reference-canary", "a.b_c-1", "X", &"a".repeat(100)] {
            assert_eq!(check_name(ok, NameUse::Path), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            (&"a".repeat(101) as &str, "101 characters"),
            ("a/b", "'/'"),
            ("a b", "' '"),
            ("x\ny", "U+000A"),
            (".hidden", "starts with '.'"),
            ("..", "starts with '.'"),
            ("-_-", "no letter or digit"),
            ("é", "'é'"),
        ] {
            let e = check_name(bad, NameUse::Path).unwrap_err();
            assert!(e.problem.contains(why), "{bad:?}: {}", e.problem);
            assert!(!e.problem.chars().any(char::is_control), "{:?}", e.problem);
        }
    }

    #[test]
    fn labels_take_printable_text_only() {
        for ok in ["errors>1%-1m", "availability<99%-5m", "blue green", "日本"] {
            assert_eq!(check_name(ok, NameUse::Label), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("a\u{1b}[2J", "U+001B"),
            ("a\u{202e}b", "U+202E"),
            (" a", "spaces at an end"),
            (&"x".repeat(101) as &str, "101 characters"),
        ] {
            let e = check_name(bad, NameUse::Label).unwrap_err();
            assert!(e.problem.contains(why), "{bad:?}: {}", e.problem);
        }
    }

    #[test]
    fn a_long_name_is_quoted_cut() {
        let e = check_name(&"n".repeat(300), NameUse::Path).unwrap_err();
        assert!(e.problem.contains("300 characters"), "{}", e.problem);
        assert!(e.problem.len() < 200, "{}", e.problem);
    }
}
