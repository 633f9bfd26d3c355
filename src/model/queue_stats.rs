//! What the queues of one version did (with `[capacity]`): how many
//! requests queued, timed out, and how long they waited, in both fidelity
//! modes. Request mode counts requests; aggregate mode adds the model's
//! expected values for the requests of each stretch (see `queueing`), so
//! both fill the same record and read out the same way.
//!
//! The wait of a request is its time in the queue: 0 when it found a free
//! server, the queue timeout when it timed out. The waits of those that
//! queued and were served go into log-linear bins (16 of 1 µs below 16 µs,
//! then 16 per doubling), each holding its mass and its first moment; a
//! quantile is read by fitting, inside its bin, the exponential density with
//! the bin's mass and mean. In one steady queue state that is the true
//! shape of the wait (a truncated exponential), so the quantile is exact;
//! otherwise it is off by less than a bin (1/16 of its lower edge).

use super::queueing::{trunc_exp_mean, trunc_exp_quantile, TickQueue};
use crate::engine::SimDuration;

/// Bins per doubling of the wait (and 1-µs bins below this many µs).
const SUB_BINS: u64 = 16;

/// The lower edge of bin `i`, µs (a float: the top bins of the longest
/// timeouts reach past `u64`).
fn edge_us(i: usize) -> f64 {
    let i = i as u64;
    if i < SUB_BINS {
        i as f64
    } else {
        let octave = (i - SUB_BINS) / SUB_BINS;
        (SUB_BINS + (i - SUB_BINS) % SUB_BINS) as f64 * 2f64.powi(octave as i32)
    }
}

/// The edges of bin `i`, seconds, the upper one capped at the timeout.
fn bin_edges_s(i: usize, timeout_s: f64) -> (f64, f64) {
    (edge_us(i) / 1e6, (edge_us(i + 1) / 1e6).min(timeout_s))
}

/// The bin of a wait of `us` µs (at least 1).
fn bin_of(us: u64) -> usize {
    if us < SUB_BINS {
        return us as usize;
    }
    let octave = u64::from(63 - us.leading_zeros()) - SUB_BINS.trailing_zeros() as u64;
    (SUB_BINS + SUB_BINS * octave + ((us >> octave) - SUB_BINS)) as usize
}

/// The queue figures of a stretch of requests, for the output files.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueFigures {
    /// Mean time in the queue per request, seconds.
    pub wait_mean_s: f64,
    /// 99th percentile of the time in the queue, seconds.
    pub wait_p99_s: f64,
    /// Share of requests that found every server busy and queued, percent.
    pub waited_pct: f64,
    /// Share of requests that timed out in the queue, percent.
    pub timed_out_pct: f64,
}

/// What one request adds to a [`QueueStats`] in one queue state, in
/// expectation (aggregate mode).
#[derive(Clone, Debug, PartialEq)]
pub struct WaitShape {
    queued: f64,
    timed_out: f64,
    wait_s: f64,
    /// Per bin from the first: the mass of waits and their sum (s).
    mass: Vec<f64>,
    moment_s: Vec<f64>,
}

/// The queueing record of one version, cumulative over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueStats {
    timeout_s: f64,
    /// Requests whose wait is over: service started, or they timed out
    /// (requests still queued when the run ends count as timed out).
    resolved: f64,
    /// Of those, the ones that found every server busy.
    queued: f64,
    /// Of those, the ones that timed out.
    timed_out: f64,
    /// Timed out after the full timeout (the rest were cut off by the end).
    at_timeout: f64,
    /// Sum of the waits, seconds.
    wait_sum_s: f64,
    /// Per bin: the mass of waits in it, and the sum of those waits (s).
    mass: Vec<f64>,
    moment_s: Vec<f64>,
}

impl QueueStats {
    /// An empty record for a queue timeout of `timeout`.
    pub fn new(timeout: SimDuration) -> Self {
        let bins = bin_of(timeout.0.max(1)) + 1;
        QueueStats {
            timeout_s: timeout.as_secs_f64(),
            resolved: 0.0,
            queued: 0.0,
            timed_out: 0.0,
            at_timeout: 0.0,
            wait_sum_s: 0.0,
            mass: vec![0.0; bins],
            moment_s: vec![0.0; bins],
        }
    }

    /// Request mode: a request that started service after waiting `wait_us`.
    pub fn served(&mut self, wait_us: u64) {
        self.resolved += 1.0;
        if wait_us > 0 {
            self.add_wait(wait_us);
        }
    }

    /// Request mode: a request that timed out after the full timeout.
    pub fn timed_out(&mut self) {
        self.resolved += 1.0;
        self.queued += 1.0;
        self.timed_out += 1.0;
        self.at_timeout += 1.0;
        self.wait_sum_s += self.timeout_s;
    }

    /// Request mode: a request still queued, `wait_us` in, when the run
    /// ended (counted as timed out, as in the run's totals).
    pub fn cut_off(&mut self, wait_us: u64) {
        self.resolved += 1.0;
        self.timed_out += 1.0;
        if wait_us > 0 {
            self.add_wait(wait_us);
        } else {
            self.queued += 1.0;
        }
    }

    fn add_wait(&mut self, wait_us: u64) {
        let s = wait_us as f64 / 1e6;
        let i = bin_of(wait_us).min(self.mass.len() - 1);
        self.queued += 1.0;
        self.wait_sum_s += s;
        self.mass[i] += 1.0;
        self.moment_s[i] += s;
    }

    /// Aggregate mode: `m` requests of one stretch at queues in state `q`,
    /// as expected values (mass m P(...) in each bin, from the closed form).
    pub fn add_model(&mut self, m: f64, q: &TickQueue) {
        let shape = self.shape(q);
        self.add_shape(m, &shape);
    }

    /// What one request at queues in state `q` adds, in expectation: worth
    /// keeping while the state holds (one closed-form CDF value per bin).
    pub fn shape(&self, q: &TickQueue) -> WaitShape {
        let w = &q.waits;
        let d = w.timeout_s;
        let mut shape = WaitShape {
            queued: q.p_queued(),
            timed_out: q.p_timeout,
            wait_s: q.mean_wait_s(),
            mass: Vec::new(),
            moment_s: Vec::new(),
        };
        if w.p_wait <= 0.0 {
            return shape;
        }
        let mut below = 0.0;
        // Bins of one doubling share a width, hence an in-bin mean offset.
        let mut offset = (f64::NAN, 0.0);
        for i in 0..self.mass.len() {
            let (lo, hi) = bin_edges_s(i, d);
            if lo >= d {
                break;
            }
            let upto = w.cdf(hi);
            let share = (upto - below).max(0.0);
            below = upto;
            // Inside the bin the density is still e^(-theta t): its mean
            // there is lo + width x the truncated exponential's mean.
            let width = hi - lo;
            if offset.0 != width {
                offset = (width, width * trunc_exp_mean(w.theta * width));
            }
            shape.mass.push(w.p_wait * share);
            shape.moment_s.push(w.p_wait * share * (lo + offset.1));
            if upto >= 1.0 {
                break;
            }
        }
        shape
    }

    /// Aggregate mode: `m` requests of one stretch of the state `shape`
    /// was made for.
    pub fn add_shape(&mut self, m: f64, shape: &WaitShape) {
        self.resolved += m;
        self.queued += m * shape.queued;
        self.timed_out += m * shape.timed_out;
        self.at_timeout += m * shape.timed_out;
        self.wait_sum_s += m * shape.wait_s;
        for (i, (mass, moment)) in shape.mass.iter().zip(&shape.moment_s).enumerate() {
            self.mass[i] += m * mass;
            self.moment_s[i] += m * moment;
        }
    }

    /// What happened between `earlier` (a snapshot of this record) and now.
    pub fn since(&self, earlier: &QueueStats) -> QueueStats {
        let minus = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x - y).collect();
        QueueStats {
            timeout_s: self.timeout_s,
            resolved: self.resolved - earlier.resolved,
            queued: self.queued - earlier.queued,
            timed_out: self.timed_out - earlier.timed_out,
            at_timeout: self.at_timeout - earlier.at_timeout,
            wait_sum_s: self.wait_sum_s - earlier.wait_sum_s,
            mass: minus(&self.mass, &earlier.mass),
            moment_s: minus(&self.moment_s, &earlier.moment_s),
        }
    }

    /// The figures for the output files; `None` when no request's wait
    /// ended.
    pub fn figures(&self) -> Option<QueueFigures> {
        if self.resolved <= 0.0 {
            return None;
        }
        Some(QueueFigures {
            wait_mean_s: self.wait_sum_s / self.resolved,
            wait_p99_s: self.wait_quantile_s(0.99),
            waited_pct: 100.0 * self.queued / self.resolved,
            timed_out_pct: 100.0 * self.timed_out / self.resolved,
        })
    }

    /// The `q`-quantile of the wait, seconds: the smallest t with at least
    /// a share q of waits at most t.
    pub fn wait_quantile_s(&self, q: f64) -> f64 {
        let target = q * self.resolved;
        let served_waits: f64 = self.mass.iter().sum();
        let mut below = self.resolved - self.at_timeout - served_waits.max(0.0);
        if target <= below {
            return 0.0;
        }
        for (i, (&mass, &moment)) in self.mass.iter().zip(&self.moment_s).enumerate() {
            if mass <= 0.0 {
                continue;
            }
            if below + mass >= target {
                let (lo, hi) = bin_edges_s(i, self.timeout_s);
                let width = hi - lo;
                let mean_share = ((moment / mass - lo) / width).clamp(0.0, 1.0);
                let y = exponent_with_mean(mean_share);
                return lo + width * trunc_exp_quantile(y, (target - below) / mass);
            }
            below += mass;
        }
        self.timeout_s
    }
}

/// The y whose truncated exponential on [0, 1] (density proportional to
/// e^(-y s)) has mean `share`, by bisection (the mean falls from 1 to 0 as
/// y rises); beyond |y| = 700 the density is a point at an end.
fn exponent_with_mean(share: f64) -> f64 {
    let (mut lo, mut hi) = (-700.0f64, 700.0f64);
    if share >= trunc_exp_mean(lo) {
        return lo;
    }
    if share <= trunc_exp_mean(hi) {
        return hi;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if trunc_exp_mean(mid) > share {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::queueing::tick;

    #[test]
    fn bins_tile_the_waits() {
        // Every wait falls in the bin whose edges surround it, and the edges
        // rise: 1-µs bins to 16 µs, then 16 per doubling.
        for us in (1..5000u64).chain([1 << 20, (1 << 20) + 1, (1 << 40) - 1, 1 << 40, (1 << 62) - (1 << 20)]) {
            let i = bin_of(us);
            let x = us as f64;
            assert!(edge_us(i) <= x && x < edge_us(i + 1), "{us}: bin {i}");
        }
        assert_eq!((edge_us(16), edge_us(32), edge_us(33)), (16.0, 32.0, 34.0));
        // The longest timeout has a last bin whose top edge is past it.
        let last = bin_of(u64::MAX);
        assert!(edge_us(last + 1) >= u64::MAX as f64);
        assert_eq!(QueueStats::new(SimDuration(u64::MAX)).mass.len(), last + 1);
    }

    #[test]
    fn one_steady_state_reads_out_its_closed_form() {
        // c = 4, rho = 0.8, mu = 10, D = 2 s: many stretches of the same
        // state must read back the state's own mean, shares and p99 (the
        // exponential fit inside the bin is exact for one state); only
        // rounding separates them.
        let q = tick(32.0, 1.0, 4, 0.1, 2.0);
        let mut stats = QueueStats::new(SimDuration::from_secs(2));
        for _ in 0..1000 {
            stats.add_model(32.0, &q);
        }
        let f = stats.figures().unwrap();
        let rel = |a: f64, b: f64| (a - b).abs() / b;
        assert!(rel(f.wait_mean_s, q.mean_wait_s()) < 1e-12);
        assert!(rel(f.waited_pct, 100.0 * q.p_queued()) < 1e-12);
        assert!(rel(f.timed_out_pct, 100.0 * q.p_timeout) < 1e-9);
        assert!(
            rel(f.wait_p99_s, q.wait_quantile_s(0.99)) < 1e-9,
            "{} vs {}",
            f.wait_p99_s,
            q.wait_quantile_s(0.99)
        );
        for p in [0.5, 0.9, 0.999] {
            let (got, exact) = (stats.wait_quantile_s(p), q.wait_quantile_s(p));
            assert!(
                (got - exact).abs() <= 1e-9 * exact.max(1e-6),
                "p = {p}: {got} vs {exact}"
            );
        }
        // Half of the record, by difference, reads the same.
        let half = stats.clone();
        for _ in 0..1000 {
            stats.add_model(32.0, &q);
        }
        let g = stats.since(&half).figures().unwrap();
        assert!(rel(g.wait_p99_s, f.wait_p99_s) < 1e-9);
    }

    #[test]
    fn overload_and_counted_requests_read_out_consistently() {
        // Overload: waits bunch at the timeout; the quantiles stay in (0, D].
        let q = tick(60.0, 1.0, 4, 0.1, 0.5);
        let mut stats = QueueStats::new(SimDuration::from_millis(500));
        stats.add_model(60.0, &q);
        let exact = q.wait_quantile_s(0.5);
        assert!((stats.wait_quantile_s(0.5) - exact).abs() < 1e-9, "{exact}");
        assert_eq!(stats.wait_quantile_s(0.999_999), 0.5);
        // Counted requests: 97 served at once, 2 after waits, 1 timed out.
        let mut c = QueueStats::new(SimDuration::from_millis(500));
        for _ in 0..97 {
            c.served(0);
        }
        c.served(1_000);
        c.served(3_000);
        c.timed_out();
        let f = c.figures().unwrap();
        assert!((f.waited_pct - 3.0).abs() < 1e-12 && (f.timed_out_pct - 1.0).abs() < 1e-12);
        assert!((f.wait_mean_s - 0.504 / 100.0).abs() < 1e-15);
        // The 99th of 100 is the wait of 3 ms: read inside its bin
        // [2.944, 3.072) ms, so within a bin of it.
        assert!((0.002_944..=0.003_072).contains(&f.wait_p99_s), "{}", f.wait_p99_s);
        assert_eq!(c.wait_quantile_s(0.97), 0.0);
        assert_eq!(c.wait_quantile_s(0.995), 0.5);
        assert_eq!(QueueStats::new(SimDuration::from_secs(1)).figures(), None);
    }
}
