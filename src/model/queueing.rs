//! Queueing in aggregate mode: what one stretch's requests to one instance
//! wait, from queueing theory instead of request by request.
//!
//! An instance with `c` servers, Poisson arrivals (rate lambda), exponential
//! service (rate mu) and a queue timeout D is an M/M/c+D queue
//! (deterministic patience). Its steady state is known in closed form
//! (Baccelli and Hebuterne, 1981; for any patience distribution G, Zeltyn
//! and Mandelbaum, 2005): the virtual wait V (what an arrival would wait
//! for a server) has an atom at 0, the Erlang probability of a free server,
//! and on (0, inf) the density
//!
//!   f_V(t) = lambda pi_(c-1) exp(-c mu t + lambda int_0^t (1 - G(u)) du),
//!
//! with pi_k proportional to a^k / k! (a = lambda / mu) on the free-server
//! states. For deterministic patience the integral is min(t, D), so f_V is
//! K e^(-theta t) on (0, D] with theta = c mu - lambda, and beyond D (where
//! arrivals abandon and add no work) it decays at rate c mu. A request
//! with V <= D waits exactly V (first in, first out) and is served; one with
//! V > D times out. The steady state exists at any load, overload included,
//! because timeouts bound the queue; with a long timeout below saturation it
//! is Erlang C with an exponential wait.
//!
//! Everything here is a closed form (exact to floating point) except one
//! integral: the latency of a served request is its wait plus its service
//! time, and with a log-normal service time that convolution has no closed
//! form; it is integrated numerically (`quadrature`) to an estimated error
//! below [`CONVOLUTION_TOLERANCE`]. With exponential service it is exact.

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

/// Absolute error allowed in the numerical convolution of the wait with a
/// log-normal service time, per probability.
pub const CONVOLUTION_TOLERANCE: f64 = 1e-10;

/// ln of H(y) = int_0^1 e^(y s) ds = (e^y - 1) / y, without overflow.
fn ln_h(y: f64) -> f64 {
    if y == 0.0 {
        0.0
    } else if y > 1.0 {
        y + (-(-y).exp_m1()).ln() - y.ln()
    } else {
        (y.exp_m1() / y).ln()
    }
}

/// The truncated exponential on [0, 1] with density proportional to
/// e^(-y s) (y of either sign; y = 0 is uniform): its CDF at `s`.
pub fn trunc_exp_cdf(y: f64, s: f64) -> f64 {
    let s = s.clamp(0.0, 1.0);
    if y == 0.0 {
        s
    } else if y > 0.0 {
        (-y * s).exp_m1() / (-y).exp_m1()
    } else {
        // Mirror image: (e^(r s) - 1) / (e^r - 1) with r = -y, scaled by e^-r.
        let r = -y;
        (-r * (1.0 - s)).exp() * (-r * s).exp_m1() / (-r).exp_m1()
    }
}

/// The `u`-quantile of the truncated exponential of [`trunc_exp_cdf`].
pub fn trunc_exp_quantile(y: f64, u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    let s = if y == 0.0 {
        u
    } else if y > 0.0 {
        -(u * (-y).exp_m1()).ln_1p() / y
    } else {
        let r = -y;
        1.0 + ((1.0 - u) * (-r).exp_m1()).ln_1p() / r
    };
    s.clamp(0.0, 1.0)
}

/// The mean of the truncated exponential of [`trunc_exp_cdf`]:
/// 1/y - 1/(e^y - 1), by its Bernoulli series near 0 where the difference
/// cancels (the next term, y^9 / 47,900,160, is below 2e-17 there).
pub fn trunc_exp_mean(y: f64) -> f64 {
    if y.abs() < 0.1 {
        let y2 = y * y;
        0.5 - y / 12.0 + y * y2 / 720.0 - y * y2 * y2 / 30_240.0 + y * y2 * y2 * y2 / 1_209_600.0
    } else {
        1.0 / y - 1.0 / y.exp_m1()
    }
}

/// How the served requests of one stretch wait: the wait W of a request
/// that waits and is then served is V given 0 < V <= D, a truncated
/// exponential with density proportional to e^(-theta t) on (0, D].
#[derive(Clone, Debug, PartialEq)]
pub struct Waits {
    /// Share of all requests that wait and are then served, P(0 < V <= D).
    pub p_wait: f64,
    /// theta = c mu - lambda, per second (negative under overload).
    pub theta: f64,
    /// The queue timeout D, seconds.
    pub timeout_s: f64,
}

impl Waits {
    fn y(&self) -> f64 {
        self.theta * self.timeout_s
    }

    /// P(W <= t).
    pub fn cdf(&self, t: f64) -> f64 {
        trunc_exp_cdf(self.y(), t / self.timeout_s)
    }

    /// The `u`-quantile of W, seconds.
    pub fn quantile(&self, u: f64) -> f64 {
        self.timeout_s * trunc_exp_quantile(self.y(), u)
    }

    /// E[W], seconds.
    pub fn mean(&self) -> f64 {
        self.timeout_s * trunc_exp_mean(self.y())
    }

    /// E[F(x - W)] for a service time with CDF F: the share of waiting,
    /// served requests whose wait plus service is at most `x` seconds.
    pub fn service_after_wait_cdf(&self, service: &LatencyDist, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let d = self.timeout_s;
        let u = x.min(d);
        match *service {
            LatencyDist::Exponential { mean_s } => {
                // int_0^u g(w) (1 - e^(-nu (x - w))) dw with g the density of
                // W = e^(-theta w) / (D H(-theta D)):
                // G(u) - e^(-nu x) u H((nu - theta) u) / (D H(-theta D)).
                let nu = 1.0 / mean_s;
                let ln_rest = -nu * x + u.ln() + ln_h((nu - self.theta) * u) - d.ln() - ln_h(-self.theta * d);
                (self.cdf(u) - ln_rest.exp()).clamp(0.0, 1.0)
            }
            LatencyDist::LogNormal { median_s, sigma: 0.0 } => {
                // A fixed service time: the wait must be at most x - median.
                if x < median_s {
                    0.0
                } else {
                    self.cdf(x - median_s)
                }
            }
            LatencyDist::LogNormal { .. } => {
                // No closed form: integrate h(p) = F(x - W_p) over W's
                // quantiles p in [0, G(u)] (beyond, W > x and F(x - W) = 0).
                // This flattens the wait's density; h falls from F(x) to
                // its last value where x - W_p crosses the service time's
                // bulk, so the panels start at the p whose x - W_p are the
                // service quantiles at z = 0, +-1, +-3, +-7 (beyond +-7 h
                // moves by under 1.3e-12). W_p is logarithmic in 1 - p (in p
                // under overload) down to e^-|theta D|, so where h moves no
                // panel spans more than a decade of that: a feature can then
                // not hide between a panel's nodes.
                let top = self.cdf(u);
                let mut points = vec![0.0, top];
                let (mut lo, mut hi) = (top, 0.0f64);
                for z in [-7.0, -3.0, -1.0, 0.0, 1.0, 3.0, 7.0] {
                    let s = service.at_z(z);
                    let p = if s < x { self.cdf(x - s).min(top) } else { 0.0 };
                    points.push(p);
                    (lo, hi) = (lo.min(p), hi.max(p));
                }
                let log_scale = (-self.y().abs()).exp();
                for k in 1..=16 {
                    let decade = 10f64.powi(-k);
                    if decade < log_scale {
                        break;
                    }
                    let p = if self.theta > 0.0 { 1.0 - decade } else { decade };
                    if p > lo && p < hi {
                        points.push(p);
                    }
                }
                points.sort_by(f64::total_cmp);
                let (value, _) =
                    super::quadrature::integrate(|p| service.cdf(x - self.quantile(p)), &points, CONVOLUTION_TOLERANCE);
                value.clamp(0.0, 1.0)
            }
        }
    }
}

/// One stretch at one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct TickQueue {
    /// Share of the stretch's requests that time out, P(V > D).
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

    /// Share of requests that find every server busy and queue, P(V > 0)
    /// (Erlang C with a long timeout).
    pub fn p_queued(&self) -> f64 {
        self.waits.p_wait + self.p_timeout
    }

    /// The mean time a request spends in the queue, E[min(V, D)], seconds:
    /// 0 for those that find a free server, D for those that time out.
    pub fn mean_wait_s(&self) -> f64 {
        self.waits.p_wait * self.waits.mean() + self.p_timeout * self.waits.timeout_s
    }

    /// P(min(V, D) <= t): the time in the queue, timeouts at D.
    pub fn wait_cdf(&self, t: f64) -> f64 {
        if t < 0.0 {
            0.0
        } else if t >= self.waits.timeout_s {
            1.0
        } else {
            1.0 - self.p_queued() + self.waits.p_wait * self.waits.cdf(t)
        }
    }

    /// The `q`-quantile of min(V, D), the smallest t with P(min(V, D) <= t)
    /// >= q, seconds.
    pub fn wait_quantile_s(&self, q: f64) -> f64 {
        let free = 1.0 - self.p_queued();
        if q <= free {
            0.0
        } else if q > free + self.waits.p_wait || self.waits.p_wait <= 0.0 {
            self.waits.timeout_s
        } else {
            self.waits.quantile((q - free) / self.waits.p_wait)
        }
    }
}

/// The queue of one stretch at an instance offered `m` requests (the mean)
/// over `tick_s` seconds, with `c` servers of mean service
/// `service_mean_s` and a queue timeout of `timeout_s`.
pub fn tick(m: f64, tick_s: f64, c: u32, service_mean_s: f64, timeout_s: f64) -> TickQueue {
    let lambda = m / tick_s;
    let mu = 1.0 / service_mean_s;
    let cmu = f64::from(c) * mu;
    let a = lambda / mu;
    let theta = cmu - lambda;
    let d = timeout_s;
    if lambda <= 0.0 {
        let mut busy = vec![0.0; c as usize + 1];
        busy[0] = 1.0;
        return TickQueue {
            p_timeout: 0.0,
            waits: Waits {
                p_wait: 0.0,
                theta,
                timeout_s: d,
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
    // ln of the integral of e^(-theta t) over (0, D], and of the mass above D.
    let ln_served = d.ln() + ln_h(-theta * d);
    let ln_abandon = -theta * d - cmu.ln();
    let ln_wait = ln_k0 + ln_served;
    let ln_timeout = ln_k0 + ln_abandon;
    let top = ln_free.iter().copied().fold(ln_wait.max(ln_timeout), f64::max);
    let free: Vec<f64> = ln_free.iter().map(|l| (l - top).exp()).collect();
    let total = free.iter().sum::<f64>() + (ln_wait - top).exp() + (ln_timeout - top).exp();
    let p_wait = (ln_wait - top).exp() / total;
    let p_timeout = (ln_timeout - top).exp() / total;
    let mut busy: Vec<f64> = free.iter().map(|f| f / total).collect();
    busy.push(1.0 - busy.iter().sum::<f64>());
    TickQueue {
        p_timeout,
        waits: Waits {
            p_wait,
            theta,
            timeout_s: d,
        },
        busy,
    }
}

/// P(wait + service <= x) for the requests that are served.
pub fn served_latency_cdf(service: &LatencyDist, waits: &Waits, p_timeout: f64, x: f64) -> f64 {
    let served = 1.0 - p_timeout;
    if served <= 0.0 {
        return service.cdf(x);
    }
    let waiting = (waits.p_wait / served).min(1.0);
    let waited = if waiting > 0.0 {
        waits.service_after_wait_cdf(service, x)
    } else {
        0.0
    };
    ((1.0 - waiting) * service.cdf(x) + waiting * waited).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative difference, for closed forms that must agree to rounding.
    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn erlang_c_matches_textbook_values() {
        assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(erlang_c(4, 5.0), 1.0);
    }

    #[test]
    fn a_long_timeout_gives_erlang_c_exactly() {
        // c = 4, rho = 0.8, mu = 10, D = 10^6 s (e^(-theta D) = e^(-8e6):
        // the truncation is below any float). M/M/c: P(wait) = C, the wait
        // given waiting is exponential with rate theta = c mu - lambda = 8,
        // so Wq = C / theta and P(Wq > t) = C e^(-theta t). All are closed
        // forms, so they must agree to rounding (1e-12 allows for the
        // log-space sums over the c states).
        let q = tick(32.0, 1.0, 4, 0.1, 1e6);
        let c = erlang_c(4, 3.2);
        assert!(rel(q.p_queued(), c) < 1e-12, "{} vs {c}", q.p_queued());
        assert!(q.p_timeout < 1e-300);
        assert!(
            rel(q.mean_wait_s(), c / 8.0) < 1e-12,
            "{} vs {}",
            q.mean_wait_s(),
            c / 8.0
        );
        let p99 = (c / 0.01).ln() / 8.0;
        assert!(
            rel(q.wait_quantile_s(0.99), p99) < 1e-12,
            "{} vs {p99}",
            q.wait_quantile_s(0.99)
        );
        for t in [0.01f64, 0.1, 0.5, 2.0] {
            // 1 - CDF loses relative precision in the far tail: compare
            // absolutely, at a few units in the last place of 1.
            let tail = c * (-8.0 * t).exp();
            let got = 1.0 - q.wait_cdf(t);
            assert!((got - tail).abs() < 1e-15, "t = {t}: {got} vs {tail}");
        }
        // Below the share that finds a free server, the quantile is 0.
        assert_eq!(q.wait_quantile_s(0.3), 0.0);
    }

    #[test]
    fn deterministic_patience_truncates_the_wait() {
        // One server, lambda = 8, mu = 10, D = 0.2 s: theta = 2. By the
        // density K e^(-theta t) on (0, D] and K e^(-theta D) e^(-c mu (t - D))
        // beyond, with K = lambda pi_0 and pi_0 the free share:
        // P(0 < V <= D) = K (1 - e^(-theta D)) / theta,
        // P(V > D) = K e^(-theta D) / (c mu), and pi_0 + both = 1.
        let q = tick(8.0, 1.0, 1, 0.1, 0.2);
        let (theta, d, cmu, lambda) = (2.0f64, 0.2f64, 10.0f64, 8.0f64);
        let served = (1.0 - (-theta * d).exp()) / theta;
        let abandon = (-theta * d).exp() / cmu;
        let pi0 = 1.0 / (1.0 + lambda * (served + abandon));
        assert!(rel(q.waits.p_wait, lambda * pi0 * served) < 1e-13);
        assert!(rel(q.p_timeout, lambda * pi0 * abandon) < 1e-13);
        assert!(rel(q.busy[0], pi0) < 1e-13);
        // E[min(V, D)] = int_0^D t K e^(-theta t) dt + D P(V > D).
        let k = lambda * pi0;
        let first_moment = k * (1.0 - (-theta * d).exp() * (1.0 + theta * d)) / (theta * theta);
        let mean = first_moment + d * q.p_timeout;
        assert!(rel(q.mean_wait_s(), mean) < 1e-13, "{} vs {mean}", q.mean_wait_s());
        // The quantile inverts P(min(V, D) <= t) = pi0 + K (1 - e^(-theta t)) / theta.
        let t = 0.05;
        let cdf = pi0 + k * (1.0 - (-theta * t).exp()) / theta;
        assert!(rel(q.wait_cdf(t), cdf) < 1e-13);
        assert!(rel(q.wait_quantile_s(cdf), t) < 1e-12);
        // Past the served share, the quantile is the timeout.
        assert_eq!(q.wait_quantile_s(1.0 - q.p_timeout / 2.0), d);
    }

    #[test]
    fn the_truncated_exponential_is_consistent_for_every_sign() {
        for y in [
            -800.0, -30.0, -1.0, -0.099, -1e-9, 0.0, 1e-9, 0.05, 0.099, 0.1, 1.0, 30.0, 800.0,
        ] {
            // The mean against the integral of 1 - F (Gauss-Kronrod, 1e-13).
            let (m, e) = crate::model::quadrature::integrate(|s| 1.0 - trunc_exp_cdf(y, s), &[0.0, 1.0], 1e-13);
            assert!(
                e < 1e-13 && (trunc_exp_mean(y) - m).abs() < 1e-12,
                "y = {y}: {} vs {m}",
                trunc_exp_mean(y)
            );
            for u in [0.0, 1e-6, 0.3, 0.99, 1.0] {
                let s = trunc_exp_quantile(y, u);
                assert!((0.0..=1.0).contains(&s));
                // The quantile inverts the CDF where the CDF is not flat.
                if u > 0.0 && u < 1.0 && y.abs() < 100.0 {
                    assert!((trunc_exp_cdf(y, s) - u).abs() < 1e-12, "y = {y}, u = {u}");
                }
            }
        }
        // The series and the direct form meet at |y| = 0.1.
        for y in [0.1f64, -0.1] {
            let direct = 1.0 / y - 1.0 / y.exp_m1();
            let below = trunc_exp_mean(y * (1.0 - 1e-15));
            assert!((direct - below).abs() < 1e-15, "{direct} vs {below}");
        }
    }

    /// A reference for E[F(x - W)]: int g(x - s) F(s) ds over the service
    /// time s in [x - min(x, D), x], with g the density of W written out, by
    /// composite Simpson in t = ln s (which smooths F's log-normal shape and
    /// its steep start at 0), 200,000 panels. Against 2,000,000 panels it
    /// moves by under 2e-12 on the cases below.
    fn simpson_reference(waits: &Waits, service: &LatencyDist, x: f64) -> f64 {
        let (theta, d) = (waits.theta, waits.timeout_s);
        let ln_z = d.ln() + ln_h(-theta * d);
        let lowest = x - x.min(d);
        let (a, b) = (if lowest > 0.0 { lowest.ln() } else { x.ln() - 80.0 }, x.ln());
        let n = 200_000;
        let h = (b - a) / n as f64;
        let f = |t: f64| {
            let s = t.exp();
            (-theta * (x - s) - ln_z).exp() * service.cdf(s) * s
        };
        let mut sum = f(a) + f(b);
        for i in 1..n {
            sum += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0
    }

    #[test]
    fn exponential_service_after_a_wait_is_the_hypoexponential() {
        // Long timeout: W ~ Exp(theta), S ~ Exp(nu) independent, so
        // P(W + S <= x) = 1 - (nu e^(-theta x) - theta e^(-nu x)) / (nu - theta),
        // and 1 - e^(-theta x) (1 + theta x) when nu = theta. Closed forms
        // both: agreement to rounding.
        for (theta, nu) in [(8.0, 10.0), (10.0, 8.0), (5.0, 5.0), (0.5, 200.0)] {
            let waits = Waits {
                p_wait: 0.5,
                theta,
                timeout_s: 1e6,
            };
            let service = LatencyDist::Exponential { mean_s: 1.0 / nu };
            for x in [0.001, 0.05, 0.3, 1.0, 4.0] {
                let exact = if theta == nu {
                    1.0 - (-theta * x).exp() * (1.0 + theta * x)
                } else {
                    1.0 - (nu * (-theta * x).exp() - theta * (-nu * x).exp()) / (nu - theta)
                };
                let got = waits.service_after_wait_cdf(&service, x);
                assert!(
                    (got - exact).abs() < 1e-14,
                    "theta {theta} nu {nu} x {x}: {got} vs {exact}"
                );
            }
        }
        // A finite timeout, under and over load, against Simpson's rule (its
        // error here is below 2e-12).
        for theta in [3.0, 0.0, -4.0] {
            let waits = Waits {
                p_wait: 0.5,
                theta,
                timeout_s: 0.3,
            };
            let service = LatencyDist::Exponential { mean_s: 0.1 };
            for x in [0.02, 0.2, 0.3, 0.5] {
                let got = waits.service_after_wait_cdf(&service, x);
                let reference = simpson_reference(&waits, &service, x);
                assert!(
                    (got - reference).abs() < 1e-12,
                    "theta {theta} x {x}: {got} vs {reference}"
                );
            }
        }
    }

    #[test]
    fn log_normal_service_after_a_wait_meets_its_tolerance() {
        // No closed form: the quadrature must be within its tolerance (1e-10)
        // of Simpson's rule (error below 2e-12 here; 1e-11 allowed), under
        // and over load, for narrow and wide service distributions. (The
        // quadrature lands within 3e-13; on a grid of 1,165 cases with
        // timeouts of 50 ms to 10 s, |theta D| to 1,000 and sigma 0.01 to
        // 5, within 5e-11.)
        for theta in [20.0, 0.0, -15.0] {
            for sigma in [0.05, 0.5, 2.0] {
                let waits = Waits {
                    p_wait: 0.4,
                    theta,
                    timeout_s: 0.5,
                };
                let service = LatencyDist::lognormal(0.05, sigma);
                for x in [0.01, 0.06, 0.2, 0.55, 1.5] {
                    let got = waits.service_after_wait_cdf(&service, x);
                    let reference = simpson_reference(&waits, &service, x);
                    assert!(
                        (got - reference).abs() < CONVOLUTION_TOLERANCE + 1e-11,
                        "theta {theta} sigma {sigma} x {x}: {got} vs {reference}"
                    );
                }
            }
        }
        // A fixed service time (sigma = 0) shifts the wait.
        let waits = Waits {
            p_wait: 0.4,
            theta: 5.0,
            timeout_s: 0.5,
        };
        let fixed = LatencyDist::lognormal(0.05, 0.0);
        assert!((waits.service_after_wait_cdf(&fixed, 0.15) - waits.cdf(0.1)).abs() < 1e-15);
        assert_eq!(waits.service_after_wait_cdf(&fixed, 0.04), 0.0);
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
            for w in [
                q.waits.mean(),
                q.mean_wait_s(),
                q.wait_quantile_s(0.99),
                q.waits.quantile(0.5),
            ] {
                assert!(w.is_finite() && (0.0..=10.0).contains(&w), "{w}");
            }
            let service = LatencyDist::lognormal(0.05, 0.5);
            let p = served_latency_cdf(&service, &q.waits, q.p_timeout, 0.3);
            assert!((0.0..=1.0).contains(&p), "{p} {q:?}");
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
        // Under overload the waits of served requests bunch near the timeout.
        assert!(q.waits.mean() > 1.5 && q.waits.mean() < 2.0, "{}", q.waits.mean());
        // Throughput never exceeds capacity: served share x rate <= c mu.
        assert!((1.0 - q.p_timeout) * 20.0 <= 10.0 + 1e-9);
    }
}
