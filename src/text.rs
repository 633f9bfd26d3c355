//! Text that is safe to print: what a user wrote (a scenario name, a path, a
//! value quoted in an error) is shown, never obeyed by the terminal.
//!
//! Control characters (C0, DEL, C1) and the Unicode bidirectional overrides
//! and isolates are written as `\u{..}` escapes, so a name holding a terminal
//! escape sequence cannot set a window title or clear the screen, and a
//! right-to-left override cannot make a message read differently from what
//! it says.

use std::borrow::Cow;

/// Whether `ch` must be escaped before it reaches a terminal. Tabs and line
/// breaks are decided by the callers ([`printable`] escapes them,
/// [`terminal_safe`] keeps them).
pub(crate) fn is_unsafe(ch: char) -> bool {
    ch.is_control() || matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn escape_where(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|ch| is_unsafe(ch) && !keep(ch)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        if is_unsafe(ch) && !keep(ch) {
            out.push_str(&format!("\\u{{{:x}}}", ch as u32));
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

/// One value from the input, shown on one line: every control character,
/// tabs and line breaks included, is escaped.
pub fn printable(s: &str) -> Cow<'_, str> {
    escape_where(s, |_| false)
}

/// A whole message made by deploysim (which may span lines and use tabs):
/// line feeds and tabs stay, every other control character is escaped. The
/// last line of defence for what reaches stderr.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    escape_where(s, |ch| ch == '\n' || ch == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_and_bidi_overrides() {
        assert_eq!(printable("plain name-1"), "plain name-1");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(printable("x\ny\tz\r"), "x\\u{a}y\\u{9}z\\u{d}");
        assert_eq!(printable("\u{202E}abc"), "\\u{202e}abc");
        assert_eq!(printable("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(printable("é ü 日本"), "é ü 日本");
    }

    #[test]
    fn terminal_safe_keeps_line_structure() {
        assert_eq!(terminal_safe("error: x\n  allowed:\ty"), "error: x\n  allowed:\ty");
        assert_eq!(terminal_safe("a\u{1b}[2Jb\r\n"), "a\\u{1b}[2Jb\\u{d}\n");
    }
}
