//! Simulated time as integer microseconds.
//!
//! Floating point never appears in an ordering key: every timestamp is a whole
//! number of microseconds since the start of the run, so two runs order the
//! same events the same way on every machine.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds in one second.
pub const MICROS_PER_SEC: u64 = 1_000_000;

/// An instant on the simulated clock, in microseconds since the run began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any run.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Builds an instant from whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimTime(secs * MICROS_PER_SEC)
    }

    /// Seconds since the start, as a float (for output and statistics only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// This instant moved back by `d`, stopping at zero.
    pub fn saturating_sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }

    /// The next multiple of `step` strictly after this instant (`step` > 0).
    pub fn next_multiple_of(self, step: SimDuration) -> SimTime {
        SimTime((self.0 / step.0 + 1) * step.0)
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// Builds a duration from whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * MICROS_PER_SEC)
    }

    /// Builds a duration from whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1000)
    }

    /// Builds a duration from float seconds, rounded to the nearest
    /// microsecond; negative and non-finite inputs become zero.
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_finite() && secs > 0.0 {
            SimDuration((secs * MICROS_PER_SEC as f64).round() as u64)
        } else {
            SimDuration::ZERO
        }
    }

    /// The duration in seconds, as a float (for output and statistics only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// The duration in milliseconds, as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// Saturating difference: an earlier minus a later instant is zero.
    fn sub(self, other: SimTime) -> SimDuration {
        self.saturating_since(other)
    }
}

impl fmt::Display for SimTime {
    /// Seconds, e.g. `12.345s`; microseconds shown when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", format_secs_exact(self.0))
    }
}

impl fmt::Display for SimDuration {
    /// Seconds, e.g. `0.250s`; microseconds shown when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", format_secs_exact(self.0))
    }
}

/// Seconds with three decimals, or six when the value is not a whole
/// number of milliseconds (so `400us` never reads as `0.000s`).
pub fn format_secs_exact(micros: u64) -> String {
    if micros % 1000 == 0 {
        format_secs(micros)
    } else {
        format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    }
}

/// Formats microseconds as seconds with exactly three decimals, using integer
/// arithmetic so the text never depends on float formatting.
pub fn format_secs(micros: u64) -> String {
    let millis = (micros + 500) / 1000;
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds_with_rounded_millis() {
        assert_eq!(format_secs(0), "0.000");
        assert_eq!(format_secs(1_234_567), "1.235");
        assert_eq!(format_secs(999_499), "0.999");
        assert_eq!(format_secs(999_500), "1.000");
    }

    #[test]
    fn display_keeps_microseconds() {
        assert_eq!(SimDuration(400).to_string(), "0.000400s");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1.500s");
    }

    #[test]
    fn next_multiple_is_strictly_later() {
        let step = SimDuration::from_secs(10);
        assert_eq!(SimTime::ZERO.next_multiple_of(step), SimTime::from_secs(10));
        assert_eq!(SimTime::from_secs(10).next_multiple_of(step), SimTime::from_secs(20));
        assert_eq!(SimTime(10_000_001).next_multiple_of(step), SimTime::from_secs(20));
    }

    #[test]
    fn subtraction_saturates() {
        assert_eq!(SimTime::from_secs(1) - SimTime::from_secs(5), SimDuration::ZERO);
        assert_eq!(SimTime::from_secs(5) - SimTime::from_secs(1), SimDuration::from_secs(4));
    }
}
