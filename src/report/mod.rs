//! Output: CSV files, the narrated trace and the printed summary. The
//! simulation core never formats text; everything a person reads is made
//! here from recorded data.

pub mod atomic;
pub mod charts;
pub mod csv_out;
pub mod html;
pub mod narrate;
pub mod outdir;

pub use atomic::write_atomic;

/// `word` as one word of a POSIX shell command line: as it is when it holds
/// only characters no shell treats specially, else in single quotes (a
/// single quote inside becomes `'\''`). Printed commands stay
/// copy-pasteable for paths with spaces.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_quote_leaves_plain_words_and_quotes_the_rest() {
        use super::shell_quote;
        assert_eq!(shell_quote("scenarios/a-b_c.toml"), "scenarios/a-b_c.toml");
        assert_eq!(shell_quote("my runs/a.toml"), "'my runs/a.toml'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }
}
