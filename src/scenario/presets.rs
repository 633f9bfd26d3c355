//! The canary forms that compile to steps: the chapter's shorthand
//! (initial weight, increment, interval) and CodeDeploy-style presets. Both
//! expansions are bounded before they allocate: at most
//! [`MAX_STEPS`] weights, and a preset's wait in checked arithmetic.

use super::limits::MAX_STEPS;
use super::types::CanaryStep;
use crate::engine::SimDuration;

/// The chapter's loop as steps: set the weight and wait, from the initial
/// weight up while below 100; promotion follows the last step. `None` when
/// that takes more than [`MAX_STEPS`] weights, or when the increment is too
/// small to move the weight at all (float addition): the loop is bounded
/// whatever the numbers.
pub fn shorthand_steps(initial: f64, increment: f64, interval: SimDuration) -> Option<Vec<CanaryStep>> {
    let mut steps = Vec::new();
    let mut w = initial;
    while w < 100.0 && increment > 0.0 {
        if steps.len() / 2 >= MAX_STEPS {
            return None;
        }
        steps.push(CanaryStep::SetWeight(w));
        steps.push(CanaryStep::Pause(Some(interval)));
        let next = (w + increment).min(100.0);
        if next <= w {
            return None;
        }
        w = next;
    }
    Some(steps)
}

/// Why a preset name does not expand to steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetError {
    /// Not a preset's name.
    Unknown,
    /// A linear preset whose percentage needs more than [`MAX_STEPS`]
    /// weights to reach 100%.
    TooManySteps,
    /// A wait longer than the longest run.
    TooLong,
}

/// Steps of a CodeDeploy-style preset: `all-at-once`,
/// `canary-<P>-percent-<N>-<unit>` and `linear-<P>-percent-every-<N>-<unit>`
/// (unit: second(s), minute(s), hour(s)). The wait is computed with checked
/// arithmetic and must fit in the longest run; a linear preset has at most
/// [`MAX_STEPS`] weights.
pub fn preset_steps(name: &str) -> Result<Vec<CanaryStep>, PresetError> {
    if name == "all-at-once" {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = name.split('-').collect();
    let time = |n: &str, unit: &str| -> Result<SimDuration, PresetError> {
        let n: u64 = n.parse().map_err(|_| PresetError::Unknown)?;
        let secs = match unit.trim_end_matches('s') {
            "second" => 1,
            "minute" => 60,
            "hour" => 3600,
            _ => return Err(PresetError::Unknown),
        };
        if n == 0 {
            return Err(PresetError::Unknown);
        }
        match n.checked_mul(secs) {
            Some(total) if total <= super::limits::MAX_DURATION_S => Ok(SimDuration::from_secs(total)),
            _ => Err(PresetError::TooLong),
        }
    };
    let pct = |p: &str| -> Result<f64, PresetError> {
        let p: f64 = p.parse().map_err(|_| PresetError::Unknown)?;
        if p > 0.0 && p < 100.0 {
            Ok(p)
        } else {
            Err(PresetError::Unknown)
        }
    };
    match parts.as_slice() {
        ["canary", p, "percent", n, unit] => Ok(vec![
            CanaryStep::SetWeight(pct(p)?),
            CanaryStep::Pause(Some(time(n, unit)?)),
        ]),
        ["linear", p, "percent", "every", n, unit] => {
            let (p, t) = (pct(p)?, time(n, unit)?);
            shorthand_steps(p, p, t).ok_or(PresetError::TooManySteps)
        }
        _ => Err(PresetError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_matches_the_chapter_loop() {
        let steps = shorthand_steps(10.0, 10.0, SimDuration::from_secs(300)).unwrap();
        assert_eq!(steps.len(), 18);
        assert_eq!(steps[0], CanaryStep::SetWeight(10.0));
        assert_eq!(steps[16], CanaryStep::SetWeight(90.0));
        let odd = shorthand_steps(30.0, 40.0, SimDuration::from_secs(1)).unwrap();
        assert_eq!(
            odd.iter().filter(|s| matches!(s, CanaryStep::SetWeight(_))).count(),
            2,
            "30, 70, then promote"
        );
    }

    #[test]
    fn the_shorthand_stops_at_the_step_limit_and_on_an_increment_too_small_to_add() {
        let s = SimDuration::from_secs(1);
        // 0.1 + 0.1 k reaches 100 after 1,000 weights (float sums drift by a
        // hair, so the count is 1,000 or one short of it).
        let fine = shorthand_steps(0.1, 0.1, s).expect("within the limit");
        assert!((1998..=2 * MAX_STEPS).contains(&fine.len()), "{}", fine.len());
        assert_eq!(shorthand_steps(0.05, 0.05, s), None, "2,000 weights");
        assert_eq!(shorthand_steps(1e-300, 1e-300, s), None);
        // 99.99999999 + 1e-300 == 99.99999999: the weight never moves.
        assert_eq!(shorthand_steps(99.999_999_99, 1e-300, s), None);
    }

    #[test]
    fn presets_expand_to_codedeploy_shapes() {
        let m = SimDuration::from_secs(60);
        assert_eq!(preset_steps("all-at-once"), Ok(vec![]));
        assert_eq!(
            preset_steps("canary-10-percent-5-minutes"),
            Ok(vec![
                CanaryStep::SetWeight(10.0),
                CanaryStep::Pause(Some(SimDuration::from_secs(300)))
            ])
        );
        let linear = preset_steps("linear-10-percent-every-1-minute").unwrap();
        assert_eq!(linear.len(), 18);
        assert_eq!(linear[1], CanaryStep::Pause(Some(m)));
        assert_eq!(
            preset_steps("canary-25-percent-30-seconds").unwrap()[1],
            CanaryStep::Pause(Some(SimDuration::from_secs(30)))
        );
        for bad in [
            "canary-0-percent-5-minutes",
            "canary-10-percent-5-days",
            "linear-10-percent-1-minute",
            "canary-NaN-percent-5-minutes",
            "canary-inf-percent-5-minutes",
            "canary-10-percent-0-minutes",
            "canary",
            "",
        ] {
            assert_eq!(preset_steps(bad), Err(PresetError::Unknown), "{bad}");
        }
    }

    #[test]
    fn preset_waits_use_checked_arithmetic_and_fit_the_longest_run() {
        // 5124095576030431 h x 3600 s x 10^6 us wraps a u64 to 48 s.
        assert_eq!(
            preset_steps("canary-10-percent-5124095576030431-hours"),
            Err(PresetError::TooLong)
        );
        assert_eq!(
            preset_steps("canary-10-percent-18446744073709551615-seconds"),
            Err(PresetError::TooLong)
        );
        assert_eq!(preset_steps("canary-10-percent-721-hours"), Err(PresetError::TooLong));
        assert_eq!(
            preset_steps("canary-10-percent-720-hours").unwrap()[1],
            CanaryStep::Pause(Some(SimDuration::from_secs(720 * 3600)))
        );
    }

    #[test]
    fn linear_presets_are_bounded_before_they_expand() {
        assert_eq!(
            preset_steps("linear-0.0000001-percent-every-1-minute"),
            Err(PresetError::TooManySteps)
        );
        assert_eq!(
            preset_steps("linear-0.000000000000000000001-percent-every-1-minute"),
            Err(PresetError::TooManySteps)
        );
        let tenth = preset_steps("linear-0.1-percent-every-1-second").expect("1,000 weights");
        assert!(tenth.len() <= 2 * MAX_STEPS);
    }
}
