//! Request mode and aggregate mode feed the same metrics store and must
//! agree on what a controller sees: the error rate and the p99 estimate of a
//! query window.
//!
//! Setup: a canary held at 50% of 200 rps (so about 6,000 new-version requests
//! per 60-s window), a bad release with 3% errors and twice stable's latency
//! (log-normal, median 100 ms, sigma 0.5), and a criterion that can never
//! fail. We read the checks at t = 60, 120, ... s, whose 60-s windows do not
//! overlap, so their estimates are independent draws.

mod common;

use deploysim::model::dist::LatencyDist;
use deploysim::record::SimEvent;
use deploysim::scenario::Fidelity;
use deploysim::sim::{run, RunOptions};
use deploysim::strategy::Report;

const SCENARIO: &str = r#"
name = "agreement"
[simulation]
max_duration = "20m"
[fleet]
instances = 10
provision_time = "0s"
boot_time = "0s"
[health_check]
start_healthy = true
[traffic]
rate_rps = 200
[stable]
error_rate_pct = 0.1
latency = { median = "50ms", sigma = 0.5 }
[release]
quality = "bad"
error_rate_pct = 3
latency_multiplier = 2
[strategy]
kind = "canary"
initial_weight_pct = 50
increment_interval = "1h"
[strategy.success_criteria]
max_error_rate_pct = 100
min_request_count = 0
"#;

struct Sample {
    requests: Vec<f64>,
    error_rate: Vec<f64>,
    p99_ms: Vec<f64>,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Standard error of the mean.
fn se(x: &[f64]) -> f64 {
    let m = mean(x);
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64;
    (var / x.len() as f64).sqrt()
}

fn sample(fidelity: Fidelity, seeds: u64) -> Sample {
    let mut s = common::parse(SCENARIO);
    s.fidelity = fidelity;
    let mut out = Sample {
        requests: vec![],
        error_rate: vec![],
        p99_ms: vec![],
    };
    for seed in 0..seeds {
        let r = run(&s, seed, RunOptions::default()).unwrap();
        for (t, e) in &r.events {
            if let SimEvent::Controller(Report::Check {
                requests,
                errors,
                p99_s,
                ..
            }) = e
            {
                if t.0 % 60_000_000 == 0 {
                    out.requests.push(*requests as f64);
                    out.error_rate.push(100.0 * *errors as f64 / *requests as f64);
                    out.p99_ms.push(p99_s.unwrap() * 1000.0);
                }
            }
        }
    }
    out
}

/// The value Prometheus' interpolation converges to for a log-normal: the
/// rank 0.99 placed linearly inside its bucket of the true CDF.
fn interpolated_p99_ms(lat: LatencyDist, bounds_s: &[f64]) -> f64 {
    let mut lo = 0.0;
    for &hi in bounds_s {
        if lat.cdf(hi) >= 0.99 {
            let (f_lo, f_hi) = (lat.cdf(lo), lat.cdf(hi));
            return 1000.0 * (lo + (hi - lo) * (0.99 - f_lo) / (f_hi - f_lo));
        }
        lo = hi;
    }
    1000.0 * lo
}

#[test]
fn both_modes_agree_with_each_other_and_with_the_model() {
    let seeds = 60; // 20 windows per run: 1,200 independent windows per mode
    let req = sample(Fidelity::Request, seeds);
    let agg = sample(Fidelity::Aggregate, seeds);
    assert_eq!(req.error_rate.len(), 1200);
    assert_eq!(agg.error_rate.len(), 1200);

    // Error rate: each window's estimate has sd sqrt(0.03 x 0.97 / 6000) =
    // 0.22 percentage points; the mean of 1,200 has sd 0.0064. Tolerance:
    // 5 of those against the truth (3%), 5 x sqrt(2) between the modes.
    let sd_mean = (0.03f64 * 0.97 / 6000.0).sqrt() * 100.0 / (1200f64).sqrt();
    assert!(
        (mean(&req.error_rate) - 3.0).abs() < 5.0 * sd_mean,
        "request {}",
        mean(&req.error_rate)
    );
    assert!(
        (mean(&agg.error_rate) - 3.0).abs() < 5.0 * sd_mean,
        "aggregate {}",
        mean(&agg.error_rate)
    );
    assert!((mean(&req.error_rate) - mean(&agg.error_rate)).abs() < 5.0 * 2f64.sqrt() * sd_mean);

    // Requests per window: Poisson(6000), so the mean of 1,200 has sd 2.24;
    // the modes agree within 5 x sqrt(2) x 2.24 = 15.8.
    assert!(
        (mean(&req.requests) - 6000.0).abs() < 5.0 * 2.24,
        "{}",
        mean(&req.requests)
    );
    assert!(
        (mean(&agg.requests) - 6000.0).abs() < 5.0 * 2.24,
        "{}",
        mean(&agg.requests)
    );

    // p99: both estimate the interpolated quantile of the true CDF (the
    // estimator's bias is O(1/n), n = 6000: under 0.5 ms here). Tolerance:
    // 5 empirical standard errors plus that 0.5 ms.
    let lat = LatencyDist::lognormal(0.1, 0.5);
    let bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
    let target = interpolated_p99_ms(lat, &bounds);
    assert!(target > 250.0 && target < 500.0, "{target}");
    for (name, x) in [("request", &req.p99_ms), ("aggregate", &agg.p99_ms)] {
        assert!(
            (mean(x) - target).abs() < 5.0 * se(x) + 0.5,
            "{name}: {} vs {target}",
            mean(x)
        );
    }
    let between = 5.0 * (se(&req.p99_ms).powi(2) + se(&agg.p99_ms).powi(2)).sqrt();
    assert!((mean(&req.p99_ms) - mean(&agg.p99_ms)).abs() < between);
}
