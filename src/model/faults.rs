//! Injected faults: what they are, when they are on, and what they change.
//!
//! A fault is scheduled (at a time, for a duration) or random (occurrences
//! at a rate per hour, each for a duration); several combine. The world asks
//! this module, at each decision, how the active faults change an error
//! probability, a latency, a boot, a probe, a scrape or the arrival rate.

use super::instance::Version;
use crate::engine::{SimDuration, SimTime};

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// The new version fails this share of requests (percent).
    ErrorRate {
        /// Percent.
        error_rate_pct: f64,
    },
    /// The new version's latency is multiplied.
    LatencyRegression {
        /// Factor.
        multiplier: f64,
    },
    /// New instances of the new version fail to boot with this probability.
    CrashOnBoot {
        /// Percent.
        probability_pct: f64,
    },
    /// New-version instances crash after this much uptime (and restart).
    CrashLoop {
        /// Uptime before the crash.
        after: SimDuration,
    },
    /// The new version degrades with uptime: errors and latency grow.
    MemoryLeak {
        /// Extra error percentage points per hour of uptime.
        error_pct_per_hour: f64,
        /// Extra latency per hour of uptime, as a fraction (0.5 = +50%/h).
        latency_growth_per_hour: f64,
    },
    /// New-version instances fail requests while busier than a utilisation.
    FailureUnderLoad {
        /// Utilisation (share of servers busy) above which requests fail, percent.
        utilisation_pct: f64,
        /// Failure share above it, percent.
        error_rate_pct: f64,
    },
    /// A share of sessions (users) fails on the new version.
    FailureForSegment {
        /// Share of sessions affected, percent.
        share_pct: f64,
        /// Failure share of their requests on the new version, percent.
        error_rate_pct: f64,
    },
    /// Running instances of both versions crash at random.
    InstanceCrashes {
        /// Mean time between failures of one instance.
        mtbf: SimDuration,
    },
    /// One zone of several goes down: its instances fail, and new ones
    /// placed there fail to start.
    ZoneOutage {
        /// Zones the fleet is spread over (by instance number).
        zones: u32,
        /// The zone that fails, 0-based.
        zone: u32,
    },
    /// Health probes of both versions fail falsely with this probability.
    FlakyHealthChecks {
        /// Percent.
        false_failure_pct: f64,
    },
    /// A shared dependency fails this share of requests of both versions.
    DependencyOutage {
        /// Percent.
        error_rate_pct: f64,
    },
    /// The arrival rate is multiplied.
    TrafficSpike {
        /// Factor.
        multiplier: f64,
    },
    /// Scrapes are lost with this probability.
    DroppedScrapes {
        /// Percent.
        drop_pct: f64,
    },
    /// Queries see data this much late.
    DelayedScrapes {
        /// The lag.
        delay: SimDuration,
    },
    /// Queried error rates carry multiplicative noise with this sd.
    MetricsNoise {
        /// Standard deviation, percent of the value.
        noise_pct: f64,
    },
}

impl FaultKind {
    /// The name used in scenario files and outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            FaultKind::ErrorRate { .. } => "error_rate",
            FaultKind::LatencyRegression { .. } => "latency_regression",
            FaultKind::CrashOnBoot { .. } => "crash_on_boot",
            FaultKind::CrashLoop { .. } => "crash_loop",
            FaultKind::MemoryLeak { .. } => "memory_leak",
            FaultKind::FailureUnderLoad { .. } => "failure_under_load",
            FaultKind::FailureForSegment { .. } => "failure_for_segment",
            FaultKind::InstanceCrashes { .. } => "instance_crashes",
            FaultKind::ZoneOutage { .. } => "zone_outage",
            FaultKind::FlakyHealthChecks { .. } => "flaky_health_checks",
            FaultKind::DependencyOutage { .. } => "dependency_outage",
            FaultKind::TrafficSpike { .. } => "traffic_spike",
            FaultKind::DroppedScrapes { .. } => "dropped_scrapes",
            FaultKind::DelayedScrapes { .. } => "delayed_scrapes",
            FaultKind::MetricsNoise { .. } => "metrics_noise",
        }
    }
}

/// When a fault is on.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultTiming {
    /// From `at`, for `duration` (to the end of the run when `None`).
    Scheduled {
        /// Start.
        at: SimDuration,
        /// Length.
        duration: Option<SimDuration>,
    },
    /// Occurrences at `per_hour` on average (a Poisson process), each for
    /// `duration`.
    Random {
        /// Mean occurrences per hour.
        per_hour: f64,
        /// Length of each.
        duration: SimDuration,
    },
}

/// One fault of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// What it does.
    pub kind: FaultKind,
    /// When.
    pub timing: FaultTiming,
}

/// Which faults are on, counted per fault (random occurrences may overlap).
#[derive(Clone, Debug, Default)]
pub struct ActiveFaults {
    specs: Vec<FaultSpec>,
    on: Vec<u32>,
}

impl ActiveFaults {
    /// All faults off.
    pub fn new(specs: Vec<FaultSpec>) -> Self {
        let on = vec![0; specs.len()];
        ActiveFaults { specs, on }
    }

    /// The faults of the scenario.
    pub fn specs(&self) -> &[FaultSpec] {
        &self.specs
    }

    /// Turns fault `i` on (`true`) or off; returns whether its state changed.
    pub fn switch(&mut self, i: usize, on: bool) -> bool {
        let before = self.on[i] > 0;
        if on {
            self.on[i] += 1;
        } else {
            self.on[i] = self.on[i].saturating_sub(1);
        }
        before != (self.on[i] > 0)
    }

    /// Whether fault `i` is on.
    pub fn is_on(&self, i: usize) -> bool {
        self.on[i] > 0
    }

    /// The kinds of the faults that are on.
    pub fn active(&self) -> impl Iterator<Item = &FaultKind> {
        self.specs
            .iter()
            .zip(&self.on)
            .filter(|(_, n)| **n > 0)
            .map(|(s, _)| &s.kind)
    }

    /// Names of the active faults joined by `+` (for the timeline).
    pub fn names(&self) -> String {
        self.active().map(|k| k.as_str()).collect::<Vec<_>>().join("+")
    }

    /// The probability that a request fails, from its version's own
    /// probability and every active fault that touches it. Independent
    /// causes combine: p = 1 - prod(1 - p_i).
    pub fn error_prob(&self, base: f64, version: Version, uptime: SimDuration, utilisation: f64, segment: bool) -> f64 {
        let mut ok = 1.0 - base;
        for k in self.active() {
            let p = match (k, version) {
                (FaultKind::ErrorRate { error_rate_pct }, Version::New) => error_rate_pct / 100.0,
                (FaultKind::MemoryLeak { error_pct_per_hour, .. }, Version::New) => {
                    error_pct_per_hour * uptime.as_secs_f64() / 3600.0 / 100.0
                }
                (
                    FaultKind::FailureUnderLoad {
                        utilisation_pct,
                        error_rate_pct,
                    },
                    Version::New,
                ) if utilisation * 100.0 > *utilisation_pct => error_rate_pct / 100.0,
                (FaultKind::FailureForSegment { error_rate_pct, .. }, Version::New) if segment => {
                    error_rate_pct / 100.0
                }
                (FaultKind::DependencyOutage { error_rate_pct }, _) => error_rate_pct / 100.0,
                _ => 0.0,
            };
            ok *= 1.0 - p.clamp(0.0, 1.0);
        }
        (1.0 - ok).clamp(0.0, 1.0)
    }

    /// The failure-under-load threshold that is on, as a share of servers
    /// (the lowest, if several).
    pub fn load_threshold(&self) -> Option<f64> {
        self.active()
            .filter_map(|k| match k {
                FaultKind::FailureUnderLoad { utilisation_pct, .. } => Some(utilisation_pct / 100.0),
                _ => None,
            })
            .reduce(f64::min)
    }

    /// The factor on a request's latency.
    pub fn latency_factor(&self, version: Version, uptime: SimDuration) -> f64 {
        let mut f = 1.0;
        for k in self.active() {
            match (k, version) {
                (FaultKind::LatencyRegression { multiplier }, Version::New) => f *= multiplier,
                (
                    FaultKind::MemoryLeak {
                        latency_growth_per_hour,
                        ..
                    },
                    Version::New,
                ) => {
                    f *= 1.0 + latency_growth_per_hour * uptime.as_secs_f64() / 3600.0;
                }
                _ => {}
            }
        }
        f
    }

    /// The probability that a booting instance fails.
    pub fn boot_failure_prob(&self, base: f64, version: Version) -> f64 {
        let mut ok = 1.0 - base;
        for k in self.active() {
            if let (FaultKind::CrashOnBoot { probability_pct }, Version::New) = (k, version) {
                ok *= 1.0 - probability_pct / 100.0;
            }
        }
        1.0 - ok
    }

    /// The probability that a health probe fails falsely.
    pub fn probe_failure_prob(&self, base: f64) -> f64 {
        let mut ok = 1.0 - base;
        for k in self.active() {
            if let FaultKind::FlakyHealthChecks { false_failure_pct } = k {
                ok *= 1.0 - false_failure_pct / 100.0;
            }
        }
        1.0 - ok
    }

    /// The factor on the arrival rate now.
    pub fn rate_factor(&self) -> f64 {
        self.active()
            .map(|k| match k {
                FaultKind::TrafficSpike { multiplier } => *multiplier,
                _ => 1.0,
            })
            .product()
    }

    /// The highest factor on the arrival rate that the faults can cause.
    pub fn max_rate_factor(&self) -> f64 {
        self.specs
            .iter()
            .map(|s| match s.kind {
                // Overlapping random spikes multiply; allow two at once.
                FaultKind::TrafficSpike { multiplier } if matches!(s.timing, FaultTiming::Random { .. }) => {
                    multiplier.max(1.0).powi(2)
                }
                FaultKind::TrafficSpike { multiplier } => multiplier.max(1.0),
                _ => 1.0,
            })
            .product()
    }

    /// The highest factor on latency the faults can cause within a run of
    /// `duration`: every latency regression at once, and a memory leak's
    /// growth over the whole run.
    pub fn max_latency_factor(&self, duration: crate::engine::SimDuration) -> f64 {
        let hours = duration.as_secs_f64() / 3600.0;
        self.specs
            .iter()
            .map(|s| match s.kind {
                FaultKind::LatencyRegression { multiplier } => multiplier.max(1.0),
                FaultKind::MemoryLeak {
                    latency_growth_per_hour,
                    ..
                } => 1.0 + latency_growth_per_hour.max(0.0) * hours,
                _ => 1.0,
            })
            .product()
    }

    /// The probability that a scrape is lost.
    pub fn scrape_drop_prob(&self) -> f64 {
        let mut ok = 1.0;
        for k in self.active() {
            if let FaultKind::DroppedScrapes { drop_pct } = k {
                ok *= 1.0 - drop_pct / 100.0;
            }
        }
        1.0 - ok
    }

    /// How late queries see data.
    pub fn query_delay(&self) -> SimDuration {
        self.active()
            .map(|k| match k {
                FaultKind::DelayedScrapes { delay } => *delay,
                _ => SimDuration::ZERO,
            })
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// The sd of the noise on queried error rates, as a fraction.
    pub fn noise(&self) -> f64 {
        self.active()
            .map(|k| match k {
                FaultKind::MetricsNoise { noise_pct } => noise_pct / 100.0,
                _ => 0.0,
            })
            .fold(0.0, f64::max)
    }
}

/// The start and end times of every occurrence of a fault before `horizon`:
/// one for a scheduled fault; a Poisson process for a random one, drawn from
/// `rng` (the fault stream, so every strategy sees the same faults).
pub fn occurrences<R: rand::Rng + ?Sized>(
    timing: &FaultTiming,
    horizon: SimTime,
    rng: &mut R,
) -> Vec<(SimTime, SimTime)> {
    use rand_distr::{Distribution, Exp};
    match *timing {
        FaultTiming::Scheduled { at, duration } => {
            let start = SimTime::ZERO + at;
            let end = duration.map_or(SimTime::MAX, |d| start + d);
            if start < horizon {
                vec![(start, end)]
            } else {
                Vec::new()
            }
        }
        FaultTiming::Random { per_hour, duration } => {
            let mut out = Vec::new();
            let Ok(gaps) = Exp::new(per_hour / 3600.0) else {
                return out;
            };
            let mut t = 0.0;
            loop {
                t += gaps.sample(rng);
                let start = SimTime::ZERO + SimDuration::from_secs_f64(t);
                if !t.is_finite() || start >= horizon || out.len() >= 100_000 {
                    break;
                }
                out.push((start, start + duration));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(kinds: Vec<FaultKind>) -> ActiveFaults {
        let mut a = ActiveFaults::new(
            kinds
                .into_iter()
                .map(|kind| FaultSpec {
                    kind,
                    timing: FaultTiming::Scheduled {
                        at: SimDuration::ZERO,
                        duration: None,
                    },
                })
                .collect(),
        );
        for i in 0..a.specs().len() {
            a.switch(i, true);
        }
        a
    }

    #[test]
    fn independent_failures_combine() {
        let a = on(vec![
            FaultKind::ErrorRate { error_rate_pct: 10.0 },
            FaultKind::DependencyOutage { error_rate_pct: 20.0 },
        ]);
        let p = a.error_prob(0.0, Version::New, SimDuration::ZERO, 0.0, false);
        assert!((p - (1.0 - 0.9 * 0.8)).abs() < 1e-12);
        let stable = a.error_prob(0.0, Version::Stable, SimDuration::ZERO, 0.0, false);
        assert!((stable - 0.2).abs() < 1e-12, "a dependency outage hurts both versions");
    }

    #[test]
    fn leaks_grow_with_uptime_and_load_failures_need_load() {
        let a = on(vec![
            FaultKind::MemoryLeak {
                error_pct_per_hour: 2.0,
                latency_growth_per_hour: 0.5,
            },
            FaultKind::FailureUnderLoad {
                utilisation_pct: 80.0,
                error_rate_pct: 50.0,
            },
        ]);
        let two_hours = SimDuration::from_secs(7200);
        assert!((a.error_prob(0.0, Version::New, two_hours, 0.5, false) - 0.04).abs() < 1e-12);
        assert!((a.latency_factor(Version::New, two_hours) - 2.0).abs() < 1e-12);
        let busy = a.error_prob(0.0, Version::New, SimDuration::ZERO, 0.9, false);
        assert!((busy - 0.5).abs() < 1e-12);
    }

    #[test]
    fn overlapping_occurrences_count() {
        let mut a = ActiveFaults::new(vec![FaultSpec {
            kind: FaultKind::TrafficSpike { multiplier: 2.0 },
            timing: FaultTiming::Random {
                per_hour: 1.0,
                duration: SimDuration::from_secs(60),
            },
        }]);
        assert!(a.switch(0, true));
        assert!(!a.switch(0, true), "already on");
        assert!(!a.switch(0, false), "one occurrence still on");
        assert!(a.switch(0, false));
        assert_eq!(a.rate_factor(), 1.0);
    }

    #[test]
    fn random_occurrences_follow_their_rate() {
        // 2 per hour over 1,000 hours: 2,000 expected (sd 45; 5 sd = 224).
        let mut rng = crate::engine::rng::stream(1, 0, crate::engine::rng::Subsystem::Faults);
        let timing = FaultTiming::Random {
            per_hour: 2.0,
            duration: SimDuration::from_secs(60),
        };
        let n = occurrences(&timing, SimTime::from_secs(3_600_000), &mut rng).len();
        assert!((n as f64 - 2000.0).abs() < 224.0, "{n}");
    }
}
