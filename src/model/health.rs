//! The health-check state machine: consecutive probe results in, health
//! status out. Pure, so it is tested on its own.

use super::instance::HealthStatus;

/// Thresholds of the health-check state machine.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Consecutive successes to become Healthy.
    pub healthy: u32,
    /// Consecutive failures to become Unhealthy.
    pub unhealthy: u32,
}

/// Consecutive-result counters and the status they imply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeState {
    /// Current status.
    pub status: HealthStatus,
    /// Successes in a row.
    pub successes: u32,
    /// Failures in a row.
    pub failures: u32,
}

/// Applies one probe result and returns the new state.
///
/// Unknown and Unhealthy instances need `healthy` successes in a row to become
/// Healthy. A Healthy instance that fails a probe becomes Degraded (still in
/// service) and Unhealthy at `unhealthy` failures in a row; one success brings
/// a Degraded instance back to Healthy, since it never left service.
pub fn apply_probe(state: ProbeState, success: bool, t: Thresholds) -> ProbeState {
    let (successes, failures) = if success {
        (state.successes.saturating_add(1), 0)
    } else {
        (0, state.failures.saturating_add(1))
    };
    let status = match (state.status, success) {
        (HealthStatus::Unknown | HealthStatus::Unhealthy, true) if successes >= t.healthy => HealthStatus::Healthy,
        (HealthStatus::Degraded, true) => HealthStatus::Healthy,
        (_, false) if failures >= t.unhealthy => HealthStatus::Unhealthy,
        (HealthStatus::Healthy, false) => HealthStatus::Degraded,
        (s, _) => s,
    };
    ProbeState {
        status,
        successes,
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthStatus::*;

    fn run(start: HealthStatus, probes: &[bool], t: Thresholds) -> Vec<HealthStatus> {
        let mut s = ProbeState {
            status: start,
            successes: 0,
            failures: 0,
        };
        probes
            .iter()
            .map(|&ok| {
                s = apply_probe(s, ok, t);
                s.status
            })
            .collect()
    }

    const T: Thresholds = Thresholds {
        healthy: 2,
        unhealthy: 3,
    };

    #[test]
    fn unknown_needs_consecutive_successes() {
        assert_eq!(
            run(Unknown, &[true, false, true, true], T),
            vec![Unknown, Unknown, Unknown, Healthy]
        );
    }

    #[test]
    fn healthy_degrades_then_fails_at_threshold() {
        assert_eq!(
            run(Healthy, &[false, false, false], T),
            vec![Degraded, Degraded, Unhealthy]
        );
    }

    #[test]
    fn degraded_recovers_on_one_success() {
        assert_eq!(
            run(Healthy, &[false, true, false], T),
            vec![Degraded, Healthy, Degraded]
        );
    }

    #[test]
    fn unhealthy_needs_threshold_to_recover() {
        assert_eq!(run(Unhealthy, &[true, true], T), vec![Unhealthy, Healthy]);
    }

    #[test]
    fn threshold_one_skips_degraded() {
        let t = Thresholds {
            healthy: 1,
            unhealthy: 1,
        };
        assert_eq!(run(Healthy, &[false, true], t), vec![Unhealthy, Healthy]);
    }
}
