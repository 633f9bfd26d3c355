//! Traffic shapes: the request rate as a function of time.

/// The base curve of the request rate.
#[derive(Clone, Debug, PartialEq)]
pub enum BaseShape {
    /// The same rate all the time.
    Constant(f64),
    /// A daily curve: a cosine between `trough` and `peak`, highest at
    /// `peak_at_s` (modulo `period_s`).
    Diurnal {
        /// Highest rate.
        peak: f64,
        /// Lowest rate.
        trough: f64,
        /// Time of the peak within the period, seconds.
        peak_at_s: f64,
        /// Length of one cycle, seconds.
        period_s: f64,
    },
    /// A recorded series `(t_s, rps)`, increasing in time, interpolated
    /// linearly and held flat before the first and after the last point.
    /// Shared: every cell of a sweep that replays one file holds the same
    /// series.
    Replay(ReplaySeries),
}

/// A replayed series, shared by reference (a sweep's cells hold one copy
/// between them), with its highest rate found once.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplaySeries {
    points: std::sync::Arc<[(f64, f64)]>,
    max_rps: f64,
}

impl ReplaySeries {
    /// The series `(t_s, rps)`, increasing in time.
    pub fn new(points: Vec<(f64, f64)>) -> Self {
        let max_rps = points.iter().map(|p| p.1).fold(0.0, f64::max);
        ReplaySeries {
            points: points.into(),
            max_rps,
        }
    }

    /// The points.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The highest rate of the series.
    pub fn max_rps(&self) -> f64 {
        self.max_rps
    }

    /// Whether two series share their points (not a copy).
    pub fn shares_points_with(&self, other: &ReplaySeries) -> bool {
        std::sync::Arc::ptr_eq(&self.points, &other.points)
    }
}

/// A burst: the rate is multiplied during `[start_s, end_s)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spike {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Factor on the rate.
    pub multiplier: f64,
}

/// The request rate over time: a base curve times any active spikes.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficShape {
    /// The base curve.
    pub base: BaseShape,
    /// Bursts on top of it.
    pub spikes: Vec<Spike>,
}

impl TrafficShape {
    /// A constant rate.
    pub fn constant(rps: f64) -> Self {
        TrafficShape {
            base: BaseShape::Constant(rps),
            spikes: Vec::new(),
        }
    }

    fn base_at(&self, t_s: f64) -> f64 {
        match &self.base {
            BaseShape::Constant(r) => *r,
            BaseShape::Diurnal {
                peak,
                trough,
                peak_at_s,
                period_s,
            } => {
                let phase = 2.0 * std::f64::consts::PI * (t_s - peak_at_s) / period_s;
                trough + (peak - trough) * (1.0 + phase.cos()) / 2.0
            }
            BaseShape::Replay(series) => {
                let points = series.points();
                let i = points.partition_point(|&(t, _)| t <= t_s);
                match (i.checked_sub(1).map(|k| points[k]), points.get(i)) {
                    (Some((t0, r0)), Some(&(t1, r1))) => r0 + (r1 - r0) * (t_s - t0) / (t1 - t0),
                    (Some((_, r0)), None) => r0,
                    (None, Some(&(_, r1))) => r1,
                    (None, None) => 0.0,
                }
            }
        }
    }

    /// Requests per second at `t_s` seconds.
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let boost: f64 = self
            .spikes
            .iter()
            .filter(|s| t_s >= s.start_s && t_s < s.end_s)
            .map(|s| s.multiplier)
            .product();
        (self.base_at(t_s) * boost).max(0.0)
    }

    /// An upper bound of the rate at any time (for thinning).
    pub fn max_rate(&self) -> f64 {
        let base = match &self.base {
            BaseShape::Constant(r) => *r,
            BaseShape::Diurnal { peak, trough, .. } => peak.max(*trough),
            BaseShape::Replay(series) => series.max_rps,
        };
        base * self.spikes.iter().map(|s| s.multiplier.max(1.0)).product::<f64>()
    }

    /// The mean rate over `[t0_s, t1_s]` by Simpson's rule on three points
    /// (exact for constant and linear pieces; ticks are short against the
    /// shapes' curvature).
    pub fn mean_over(&self, t0_s: f64, t1_s: f64) -> f64 {
        if t1_s <= t0_s {
            return self.rate_at(t0_s);
        }
        let mid = (t0_s + t1_s) / 2.0;
        // Just inside the interval, so a spike edge at t1 is not counted.
        let end = t1_s - (t1_s - t0_s) * 1e-9;
        (self.rate_at(t0_s) + 4.0 * self.rate_at(mid) + self.rate_at(end)) / 6.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_peaks_and_troughs_where_asked() {
        let d = TrafficShape {
            base: BaseShape::Diurnal {
                peak: 300.0,
                trough: 100.0,
                peak_at_s: 14.0 * 3600.0,
                period_s: 86_400.0,
            },
            spikes: vec![],
        };
        assert!((d.rate_at(14.0 * 3600.0) - 300.0).abs() < 1e-9);
        assert!((d.rate_at(2.0 * 3600.0) - 100.0).abs() < 1e-9);
        assert!((d.rate_at(8.0 * 3600.0) - 200.0).abs() < 1e-9);
        assert_eq!(d.max_rate(), 300.0);
    }

    #[test]
    fn replay_interpolates_and_holds() {
        let r = TrafficShape {
            base: BaseShape::Replay(ReplaySeries::new(vec![(0.0, 10.0), (10.0, 30.0), (20.0, 30.0)])),
            spikes: vec![],
        };
        assert_eq!(r.rate_at(5.0), 20.0);
        assert_eq!(r.rate_at(15.0), 30.0);
        assert_eq!(r.rate_at(99.0), 30.0);
        assert_eq!(r.rate_at(-1.0), 10.0);
        assert!((r.mean_over(0.0, 10.0) - 20.0).abs() < 1e-6);
    }

    #[test]
    fn spikes_multiply_inside_their_window_only() {
        let s = TrafficShape {
            base: BaseShape::Constant(100.0),
            spikes: vec![Spike {
                start_s: 60.0,
                end_s: 120.0,
                multiplier: 3.0,
            }],
        };
        assert_eq!(s.rate_at(59.9), 100.0);
        assert_eq!(s.rate_at(60.0), 300.0);
        assert_eq!(s.rate_at(120.0), 100.0);
        assert_eq!(s.max_rate(), 300.0);
    }
}
