//! Queueing in aggregate mode: what one tick's requests to one instance
//! wait, from queueing theory instead of request by request.
//!
//! An instance with `c` servers, Poisson arrivals, exponential service and
//! a queue timeout is an M/M/c+D queue (deterministic patience D). Its
//! steady state is known exactly (Baccelli and Hebuterne): the virtual wait
//! V is 0 with the Erlang probability of a free server, has density
//! K e^(-theta t) on (0, D] with theta = c mu - lambda, and beyond D (where
//! arrivals abandon and add no work) decays at rate c mu. It exists at any
//! load, overload included, because timeouts bound the queue; below
//! saturation with a long timeout it is Erlang C. A request that would wait
//! longer than D times out.
//!
use super::dist::LatencyDist;

/// Erlang C: the probability of waiting in an M/M/c queue with offered load
/// `a` erlangs (needs a < c), by the numerically stable Erlang B recursion.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return 1.0;
    }
    b / (1.0 - rho + rho * b)
}

/// How the served requests of one tick wait.
#[derive(Clone, Debug, PartialEq)]
pub struct Waits {
    /// Share of all requests that wait and are then served.
    pub p_wait: f64,
    /// Representative waits of those requests (equal-probability strata of
    /// the wait given 0 < V <= D), seconds.
    pub strata: Vec<f64>,
}

/// One tick at one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct TickQueue {
    /// Share of the tick's requests that time out.
    pub p_timeout: f64,
    /// How the others wait.
    pub waits: Waits,
    /// What an arrival finds: `busy[k]` is the probability that k servers
    /// are busy (k = 0..=c; k = c includes every state with a queue).
    pub busy: Vec<f64>,
}

impl TickQueue {
    /// The probability that an arrival finds more than `share` of the
    /// servers busy (by PASTA, the time share of those states).
    pub fn p_busier_than(&self, share: f64) -> f64 {
        let c = (self.busy.len() - 1) as f64;
        self.busy
            .iter()
            .enumerate()
            .filter(|(k, _)| *k as f64 > share * c)
            .map(|(_, p)| p)
            .sum()
    }
}

/// Strata of the wait distribution (a quadrature of 32 points).
const STRATA: usize = 32;

/// The queue of one tick at an instance offered `m` requests (the mean)
/// over `tick_s` seconds, with `c` servers of mean service
/// `service_mean_s` and a queue timeout of `timeout_s`.
pub fn tick(m: f64, tick_s: f64, c: u32, service_mean_s: f64, timeout_s: f64) -> TickQueue {
    let lambda = m / tick_s;
    let mu = 1.0 / service_mean_s;
    let cmu = f64::from(c) * mu;
    let a = lambda / mu;
    if lambda <= 0.0 {
        let mut busy = vec![0.0; c as usize + 1];
        busy[0] = 1.0;
        return TickQueue {
            p_timeout: 0.0,
            waits: Waits {
                p_wait: 0.0,
                strata: vec![0.0; STRATA],
            },
            busy,
        };
    }
    // Everything is computed in logs and scaled by the largest term, so
    // heavy overload (e^(|theta| D) huge) and large loads (a^k / k! huge)
    // stay finite.
    // Free-server states: ln(a^k / k!) for k < c.
    let mut ln_free = Vec::with_capacity(c as usize);
    let mut ln_term = 0.0;
    ln_free.push(0.0);
    for k in 1..c {
        ln_term += a.ln() - f64::from(k).ln();
        ln_free.push(ln_term);
    }
    // The density of V at 0+, lambda * pi_(c-1), in the same units.
    let ln_k0 = lambda.ln() + ln_term;
    let theta = cmu - lambda;
    let d = timeout_s;
    // ln of the integral of e^(-theta t) over (0, D], and of the mass above D.
    let ln_served = if theta.abs() < 1e-12 {
        d.ln()
    } else if theta > 0.0 {
        (-(-theta * d).exp_m1() / theta).ln()
    } else {
        -theta * d + (-(theta * d).exp_m1()).ln() - (-theta).ln()
    };
    let ln_abandon = -theta * d - cmu.ln();
    let ln_wait = ln_k0 + ln_served;
    let ln_timeout = ln_k0 + ln_abandon;
    let top = ln_free.iter().copied().fold(ln_wait.max(ln_timeout), f64::max);
    let free: Vec<f64> = ln_free.iter().map(|l| (l - top).exp()).collect();
    let total = free.iter().sum::<f64>() + (ln_wait - top).exp() + (ln_timeout - top).exp();
    let p_wait = (ln_wait - top).exp() / total;
    let p_timeout = (ln_timeout - top).exp() / total;
    // Quantiles of the wait given 0 < V <= D: density proportional to
    // e^(-theta t) on (0, D].
    let strata = (0..STRATA)
        .map(|k| {
            let u = (k as f64 + 0.5) / STRATA as f64;
            if theta.abs() < 1e-12 {
                u * d
            } else if theta > 0.0 {
                -(1.0 + u * (-theta * d).exp_m1()).ln() / theta
            } else {
                // ln(1 - u + u e^(|theta| D)) without overflow.
                let grow = -theta * d;
                (grow + u.ln() + ((1.0 - u) / u * (-grow).exp()).ln_1p()) / -theta
            }
        })
        .collect();
    let mut busy: Vec<f64> = free.iter().map(|f| f / total).collect();
    busy.push(1.0 - busy.iter().sum::<f64>());
    TickQueue {
        p_timeout,
        waits: Waits { p_wait, strata },
        busy,
    }
}

/// P(wait + service <= x) for the requests that are served.
pub fn served_latency_cdf(service: &LatencyDist, waits: &Waits, p_timeout: f64, x: f64) -> f64 {
    let served = 1.0 - p_timeout;
    if served <= 0.0 {
        return service.cdf(x);
    }
    let waiting = waits.p_wait / served;
    let waited: f64 = waits.strata.iter().map(|w| service.cdf(x - w)).sum::<f64>() / waits.strata.len() as f64;
    (1.0 - waiting) * service.cdf(x) + waiting * waited
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_textbook_values() {
        assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(erlang_c(4, 5.0), 1.0);
    }

    #[test]
    fn a_long_timeout_gives_erlang_c() {
        // c = 4, rho = 0.8, mu = 10: P(wait) = C and Wq = C / (c mu - lambda).
        let q = tick(32.0, 1.0, 4, 0.1, 1e6);
        let c = erlang_c(4, 3.2);
        assert!((q.waits.p_wait - c).abs() < 1e-9, "{} vs {c}", q.waits.p_wait);
        assert!(q.p_timeout < 1e-12);
        let mean = q.waits.p_wait * q.waits.strata.iter().sum::<f64>() / q.waits.strata.len() as f64;
        let exact = c / (40.0 - 32.0);
        // The midpoints of 32 equal-probability strata underestimate an
        // exponential's mean by about 1% (the last stratum's long tail).
        assert!((mean - exact).abs() < 0.015 * exact, "{mean} vs {exact}");
    }

    #[test]
    fn arrivals_see_erlang_state_probabilities() {
        // Long timeout: P(all c busy) is Erlang C, and the rest are in
        // Erlang proportions a^k / k!.
        let q = tick(32.0, 1.0, 4, 0.1, 1e6);
        assert!((q.busy[4] - erlang_c(4, 3.2)).abs() < 1e-9);
        assert!((q.busy.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((q.busy[1] / q.busy[0] - 3.2).abs() < 1e-9);
        assert!((q.p_busier_than(0.6) - (q.busy[3] + q.busy[4])).abs() < 1e-12);
    }

    #[test]
    fn extreme_loads_stay_finite() {
        // 6x overload with a 10-s timeout: e^(|theta| D) would overflow; and
        // 2,000 erlangs on 3,000 servers: a^k / k! would.
        for q in [tick(300.0, 1.0, 1, 0.05, 10.0), tick(20_000.0, 1.0, 3000, 0.1, 1.0)] {
            assert!(q.p_timeout.is_finite() && q.waits.p_wait.is_finite());
            assert!(q.busy.iter().all(|p| p.is_finite() && *p >= -1e-12));
            assert!(q.waits.strata.iter().all(|w| w.is_finite() && *w >= 0.0 && *w <= 10.0));
        }
        // The overloaded single server serves its capacity, 20 of 300.
        let q = tick(300.0, 1.0, 1, 0.05, 10.0);
        assert!((q.p_timeout - 280.0 / 300.0).abs() < 1e-3, "{}", q.p_timeout);
    }

    #[test]
    fn overload_is_bounded_by_timeouts() {
        // One server, mu = 10, twice its capacity offered, 2-s patience:
        // nearly everything waits, and the excess over capacity (about half)
        // times out, since the servers stay busy.
        let q = tick(20.0, 1.0, 1, 0.1, 2.0);
        assert!((q.p_timeout - 0.5).abs() < 0.01, "{}", q.p_timeout);
        assert!(q.waits.p_wait > 0.49);
        assert!(q.waits.strata.iter().all(|&w| w > 0.0 && w <= 2.0));
        // Throughput never exceeds capacity: served share x rate <= c mu.
        assert!((1.0 - q.p_timeout) * 20.0 <= 10.0 + 1e-9);
    }
}
