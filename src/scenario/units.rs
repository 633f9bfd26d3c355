//! Parsing of the unit-bearing strings in scenario files.

use crate::engine::SimDuration;

/// What a duration string may look like, for error messages.
pub const DURATION_ALLOWED: &str =
    "a duration string such as \"250ms\", \"30s\", \"5m\", \"1h\" or \"1m30s\" (units: us, ms, s, m, h)";

/// Parses a duration such as `"250ms"`, `"30s"`, `"1.5s"`, `"5m"`, `"1h"` or
/// `"1m30s"`. A bare `"0"` is zero. Negative values are rejected.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    if s.is_empty() {
        return Err("the duration is empty".into());
    }
    if s.starts_with('-') {
        return Err(format!("the duration \"{text}\" is negative"));
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("\"{text}\" does not start with a number"));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("\"{}\" in \"{text}\" is not a number", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let micros_per_unit = match unit {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" => 60e6,
            "h" => 3600e6,
            "" => return Err(format!("\"{text}\" has no unit")),
            other => return Err(format!("\"{other}\" in \"{text}\" is not a time unit")),
        };
        total += number * micros_per_unit;
    }
    if !total.is_finite() || total > 1e15 {
        return Err(format!("\"{text}\" is too long"));
    }
    Ok(SimDuration(total.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("250ms"), Ok(SimDuration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(SimDuration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(SimDuration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(SimDuration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration::from_millis(1500)));
        assert_eq!(parse_duration("10us"), Ok(SimDuration(10)));
        assert_eq!(parse_duration("0"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "10",
            "ten s",
            "-5s",
            "5 parsecs",
            "5d",
            "s",
            "1.2.3s",
            "99999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
