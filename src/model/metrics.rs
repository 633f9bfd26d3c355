//! The metrics store, measured the way production measures: cumulative
//! counters and latency-histogram buckets, scraped at fixed instants and
//! queried over windows, with quantiles interpolated inside a bucket as
//! Prometheus' `histogram_quantile` does.

use super::games::GameCounters;
use super::instance::Version;
use crate::engine::{SimDuration, SimTime};

/// Cumulative counters of one target (a version or an instance).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests completed.
    pub requests: u64,
    /// Requests that completed with an error.
    pub errors: u64,
    /// Histogram bucket counts (not cumulative across buckets); the last
    /// entry is the +Inf bucket.
    pub buckets: Vec<u64>,
    /// Game counters (zero without `[gaming]`).
    pub games: GameCounters,
}

impl Counters {
    fn zero(n_buckets: usize) -> Self {
        Counters {
            requests: 0,
            errors: 0,
            buckets: vec![0; n_buckets],
            games: GameCounters::default(),
        }
    }

    /// `self - earlier`, counter by counter (counters only grow).
    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            requests: self.requests - earlier.requests,
            errors: self.errors - earlier.errors,
            buckets: self.buckets.iter().zip(&earlier.buckets).map(|(a, b)| a - b).collect(),
            games: self.games.since(&earlier.games),
        }
    }
}

/// Gauges of one version, read at a scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gauges {
    /// Requests in flight (sent, not yet completed).
    pub in_flight: f64,
    /// Instances that have failed so far (cumulative, like a restart count).
    pub restarts: u64,
    /// Instances Running.
    pub running: u32,
    /// Instances the load balancer routes to.
    pub routable: u32,
    /// Memory summed over Running instances, MB.
    pub memory_mb_total: f64,
}

/// One scrape: the cumulative counters and gauges of every version at an
/// instant.
#[derive(Clone, Debug)]
struct Scrape {
    t: SimTime,
    versions: [Counters; 2],
    gauges: [Gauges; 2],
}

/// The result of a windowed query, like `increase(...[window])` in PromQL.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowStats {
    /// Requests completed in the window.
    pub requests: u64,
    /// Errors in the window.
    pub errors: u64,
    /// Bucket counts in the window (last = +Inf).
    pub buckets: Vec<u64>,
    /// p99 latency in seconds by bucket interpolation; `None` with no data.
    pub p99_s: Option<f64>,
    /// Game counters in the window (zero without `[gaming]`).
    pub games: GameCounters,
}

impl WindowStats {
    /// Error rate in percent; `None` with no requests.
    pub fn error_rate_pct(&self) -> Option<f64> {
        (self.requests > 0).then(|| 100.0 * self.errors as f64 / self.requests as f64)
    }

    /// Success rate in percent; `None` with no requests.
    pub fn success_rate_pct(&self) -> Option<f64> {
        self.error_rate_pct().map(|e| 100.0 - e)
    }

    /// An empty window, e.g. for scripted tests.
    pub fn empty(n_buckets: usize) -> Self {
        WindowStats {
            requests: 0,
            errors: 0,
            buckets: vec![0; n_buckets],
            p99_s: None,
            games: GameCounters::default(),
        }
    }
}

/// Estimates the q-quantile from bucket counts exactly as Prometheus'
/// `histogram_quantile`: find the bucket holding rank q * total and
/// interpolate linearly inside it (the first bucket starts at 0). A rank in
/// the +Inf bucket returns the highest finite bound. `None` with no data.
pub fn histogram_quantile(q: f64, bounds_s: &[f64], counts: &[u64]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 || bounds_s.is_empty() {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, &c) in counts.iter().enumerate() {
        if (below + c) as f64 >= rank && c > 0 {
            if i == bounds_s.len() {
                return Some(bounds_s[bounds_s.len() - 1]);
            }
            let lo = if i == 0 { 0.0 } else { bounds_s[i - 1] };
            let hi = bounds_s[i];
            return Some(lo + (hi - lo) * (rank - below as f64) / c as f64);
        }
        below += c;
    }
    Some(bounds_s[bounds_s.len() - 1])
}

/// Live counters per version and their scraped history. (Per-instance
/// series are not kept: nothing in the model queries them, and keeping them
/// cost a fifth of a request-mode trial.)
#[derive(Clone, Debug)]
pub struct MetricsStore {
    bounds_s: Vec<f64>,
    live: [Counters; 2],
    scrapes: Vec<Scrape>,
}

impl MetricsStore {
    /// An empty store with the given finite bucket bounds (seconds).
    pub fn new(bounds: &[SimDuration]) -> Self {
        let bounds_s: Vec<f64> = bounds.iter().map(|b| b.as_secs_f64()).collect();
        let n = bounds_s.len() + 1;
        MetricsStore {
            bounds_s,
            live: [Counters::zero(n), Counters::zero(n)],
            scrapes: Vec::new(),
        }
    }

    /// Finite bucket bounds in seconds.
    pub fn bounds_s(&self) -> &[f64] {
        &self.bounds_s
    }

    /// Number of buckets including +Inf.
    pub fn n_buckets(&self) -> usize {
        self.bounds_s.len() + 1
    }

    /// The bucket a latency falls in (`le` semantics: bound inclusive).
    pub fn bucket_of(&self, latency_s: f64) -> usize {
        self.bounds_s.partition_point(|&b| b < latency_s)
    }

    /// Records one completed request whose latency fell in `bucket`.
    pub fn record(&mut self, version: Version, bucket: usize, error: bool) {
        let c = &mut self.live[version.index()];
        c.requests += 1;
        c.errors += u64::from(error);
        c.buckets[bucket] += 1;
    }

    /// Records `n` requests that the balancer answered itself with an error
    /// because `version` had no instance to route to (a service mesh reports
    /// these against the destination version, with near-zero latency).
    pub fn record_unroutable(&mut self, version: Version, n: u64) {
        let c = &mut self.live[version.index()];
        c.requests += n;
        c.errors += n;
        c.buckets[0] += n;
    }

    /// Records many completed requests at once (aggregate mode). `buckets`
    /// sums to `requests`, or is all zero when histograms are not drawn.
    pub fn record_counts(&mut self, version: Version, requests: u64, errors: u64, buckets: &[u64]) {
        let c = &mut self.live[version.index()];
        c.requests += requests;
        c.errors += errors;
        for (acc, add) in c.buckets.iter_mut().zip(buckets) {
            *acc += add;
        }
    }

    /// The live game counters of a version, to count game outcomes into.
    pub fn games_mut(&mut self, version: Version) -> &mut GameCounters {
        &mut self.live[version.index()].games
    }

    /// The live (unscraped) cumulative counters of a version.
    pub fn live(&self, version: Version) -> &Counters {
        &self.live[version.index()]
    }

    /// Takes a scrape at `t` of every version (counters and `gauges`).
    pub fn scrape(&mut self, t: SimTime, gauges: [Gauges; 2]) {
        self.scrapes.push(Scrape {
            t,
            versions: self.live.clone(),
            gauges,
        });
    }

    /// The last scrape at or before `t`, if any.
    fn scrape_at(&self, t: SimTime) -> Option<&Scrape> {
        let i = self.scrapes.partition_point(|s| s.t <= t);
        i.checked_sub(1).map(|i| &self.scrapes[i])
    }

    /// The gauges of `version` at the last scrape at or before `t`.
    pub fn gauges(&self, version: Version, t: SimTime) -> Gauges {
        self.scrape_at(t)
            .map_or_else(Gauges::default, |s| s.gauges[version.index()])
    }

    /// Like [`MetricsStore::window`] for both versions together (the whole
    /// service, as a service-wide alarm sees it).
    pub fn window_service(&self, end: SimTime, window: SimDuration) -> WindowStats {
        let a = self.window(Version::Stable, end, window);
        let b = self.window(Version::New, end, window);
        let buckets: Vec<u64> = a.buckets.iter().zip(&b.buckets).map(|(x, y)| x + y).collect();
        WindowStats {
            requests: a.requests + b.requests,
            errors: a.errors + b.errors,
            p99_s: histogram_quantile(0.99, &self.bounds_s, &buckets),
            buckets,
            games: a.games.plus(&b.games),
        }
    }

    /// What the scrapes say about `version` over (end - window, end]: the
    /// last scrape at or before `end` minus the last scrape at or before
    /// `end - window` (zero when the window reaches back before the first
    /// scrape, since every counter starts at zero).
    pub fn window(&self, version: Version, end: SimTime, window: SimDuration) -> WindowStats {
        let v = version.index();
        let last = self.scrape_at(end).map(|s| &s.versions[v]);
        let first = if end.0 < window.0 {
            None
        } else {
            self.scrape_at(end.saturating_sub(window)).map(|s| &s.versions[v])
        };
        let (requests, errors, buckets, games) = match (last, first) {
            (None, _) => (0, 0, vec![0; self.n_buckets()], GameCounters::default()),
            (Some(l), None) => (l.requests, l.errors, l.buckets.clone(), l.games),
            (Some(l), Some(f)) => {
                let d = l.since(f);
                (d.requests, d.errors, d.buckets, d.games)
            }
        };
        let p99_s = histogram_quantile(0.99, &self.bounds_s, &buckets);
        WindowStats {
            requests,
            errors,
            buckets,
            p99_s,
            games,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_inside_the_bucket() {
        // Buckets le 0.1, 0.2, 0.4, +Inf with 10, 10, 0, 0: the median rank 10
        // is the top of the first bucket; rank 15 is halfway through the second.
        let bounds = [0.1, 0.2, 0.4];
        assert_eq!(histogram_quantile(0.5, &bounds, &[10, 10, 0, 0]), Some(0.1));
        let q75 = histogram_quantile(0.75, &bounds, &[10, 10, 0, 0]).unwrap();
        assert!((q75 - 0.15).abs() < 1e-12);
        // Everything in +Inf: the highest finite bound.
        assert_eq!(histogram_quantile(0.99, &bounds, &[0, 0, 0, 5]), Some(0.4));
        assert_eq!(histogram_quantile(0.99, &bounds, &[0, 0, 0, 0]), None);
    }

    #[test]
    fn bucket_bounds_are_inclusive() {
        let m = MetricsStore::new(&[SimDuration::from_millis(5), SimDuration::from_millis(10)]);
        assert_eq!(m.bucket_of(0.005), 0);
        assert_eq!(m.bucket_of(0.0051), 1);
        assert_eq!(m.bucket_of(11.0), 2);
    }

    #[test]
    fn windows_difference_scrapes() {
        let mut m = MetricsStore::new(&[SimDuration::from_millis(100)]);
        m.scrape(SimTime::ZERO, Default::default());
        for _ in 0..5 {
            m.record(Version::New, 0, false);
        }
        m.scrape(SimTime::from_secs(10), Default::default());
        for _ in 0..3 {
            m.record(Version::New, 1, true);
        }
        // Not yet scraped: invisible to queries.
        let w = m.window(Version::New, SimTime::from_secs(15), SimDuration::from_secs(60));
        assert_eq!((w.requests, w.errors), (5, 0));
        m.scrape(SimTime::from_secs(20), Default::default());
        let w = m.window(Version::New, SimTime::from_secs(20), SimDuration::from_secs(10));
        assert_eq!((w.requests, w.errors), (3, 3));
        assert_eq!(w.error_rate_pct(), Some(100.0));
        let all = m.window(Version::New, SimTime::from_secs(20), SimDuration::from_secs(60));
        assert_eq!(all.requests, 8);
        assert_eq!(
            m.window(Version::Stable, SimTime::from_secs(20), SimDuration::from_secs(60))
                .error_rate_pct(),
            None
        );
    }
}
