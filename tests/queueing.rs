//! Queueing against the Erlang C formula.
//!
//! One instance with `c` servers, exponential service (mean 100 ms, so
//! mu = 10/s), Poisson arrivals at lambda = rho * c * mu, first in first out,
//! no timeouts: an M/M/c queue. Erlang C gives the probability that an
//! arriving request waits, C(c, a) with a = lambda / mu, and the mean wait,
//! Wq = C / (c mu - lambda). By PASTA the share of requests that wait
//! estimates C; the mean of their waits (zeros included) estimates Wq.

mod common;

use deploysim::sim::{run, RunOptions};

/// Erlang C: the probability of waiting in an M/M/c queue with offered load
/// `a` (erlangs), by the numerically stable Erlang B recursion.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho + rho * b)
}

fn scenario(c: u32, rho: f64, requests: f64) -> deploysim::scenario::Scenario {
    let lambda = rho * f64::from(c) * 10.0;
    let seconds = (requests / lambda).ceil();
    common::parse(&format!(
        "name = \"mmc\"\n[simulation]\nmax_duration = \"{seconds}s\"\n[fleet]\ninstances = 1\n\
         [health_check]\ntimeout = \"10s\"\n[traffic]\nrate_rps = {lambda}\n\
         [capacity]\nconcurrency = {c}\nqueue_timeout = \"24h\"\n\
         [stable]\nerror_rate_pct = 0\nlatency = {{ dist = \"exponential\", mean = \"100ms\" }}\n\
         [release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n"
    ))
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64;
    (m, var.sqrt())
}

#[test]
fn erlang_c_reference_values() {
    // Textbook values: one server, C = rho; and C(2, 1) = 1/3.
    assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn request_mode_reproduces_erlang_c() {
    // Six independent replications of 30,000 requests per (c, rho). The
    // tolerance is 5 standard errors of the replication mean (estimated from
    // the replications, so it accounts for the strong autocorrelation of
    // queue waits) plus 3% of the exact value for the start from an empty
    // queue, which biases waits low by about (relaxation time / run length).
    let reps = 6;
    for c in [1u32, 4, 16] {
        for rho in [0.5, 0.8, 0.9] {
            let s = scenario(c, rho, 30_000.0);
            let a = rho * f64::from(c);
            let exact_c = erlang_c(c, a);
            let exact_wq = exact_c / (f64::from(c) * 10.0 - a * 10.0);
            let mut p_wait = Vec::new();
            let mut wq = Vec::new();
            for seed in 0..reps {
                let opts = RunOptions {
                    keep_detail: false,
                    check_invariants: seed == 0,
                    ..RunOptions::default()
                };
                let t = run(&s, seed, opts).unwrap().summary.totals;
                let started = t.started as f64;
                p_wait.push(t.waited[0] as f64 / started);
                wq.push(t.wait_s / started);
            }
            let (pm, psd) = mean_sd(&p_wait);
            let (wm, wsd) = mean_sd(&wq);
            let se = |sd: f64| sd / f64::from(reps as u32).sqrt();
            eprintln!(
                "c={c:2} rho={rho}: P(wait) {pm:.4} vs {exact_c:.4}; Wq {:.2} ms vs {:.2} ms",
                wm * 1000.0,
                exact_wq * 1000.0
            );
            assert!(
                (pm - exact_c).abs() < 5.0 * se(psd) + 0.03 * exact_c,
                "c={c} rho={rho}: P(wait) {pm} vs {exact_c}"
            );
            assert!(
                (wm - exact_wq).abs() < 5.0 * se(wsd) + 0.03 * exact_wq,
                "c={c} rho={rho}: Wq {wm} vs {exact_wq}"
            );
        }
    }
}

#[test]
fn losing_capacity_raises_latency_and_timeouts() {
    // The same traffic on 4 instances, then on 2 (a rolling batch or a
    // crash): 2 instances x 2 servers at 30 rps with 100 ms service is
    // rho = 0.75 instead of 0.375; waits appear, and with a 150 ms queue
    // timeout some requests fail.
    let text = |instances: u32| {
        format!(
            "name = \"cap\"\n[simulation]\nmax_duration = \"30m\"\n[fleet]\ninstances = {instances}\n\
             [health_check]\ntimeout = \"10s\"\n[traffic]\nrate_rps = 30\nbalancer = \"least_outstanding\"\n\
             [capacity]\nconcurrency = 2\nqueue_timeout = \"150ms\"\n\
             [stable]\nerror_rate_pct = 0\nlatency = {{ dist = \"exponential\", mean = \"100ms\" }}\n\
             [release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n"
        )
    };
    let big = run(&common::parse(&text(4)), 1, RunOptions::default()).unwrap().summary;
    let small = run(&common::parse(&text(2)), 1, RunOptions::default()).unwrap().summary;
    assert!(
        small.totals.wait_s > 5.0 * big.totals.wait_s,
        "{} vs {}",
        small.totals.wait_s,
        big.totals.wait_s
    );
    assert!(
        small.totals.timed_out[0] > 10 * big.totals.timed_out[0].max(1),
        "{:?} vs {:?}",
        small.totals.timed_out,
        big.totals.timed_out
    );
    assert!(small.availability_pct().unwrap() < big.availability_pct().unwrap());
}

/// One instance, c = 4 servers, exponential service of mean 100 ms, at
/// utilisation `rho`, with a queue timeout; one hour.
fn loaded(fidelity: &str, rho: f64, timeout_ms: u32) -> deploysim::scenario::Scenario {
    common::parse(&format!(
        "name = \"load\"\nfidelity = \"{fidelity}\"\n[simulation]\nmax_duration = \"1h\"\n[fleet]\ninstances = 1\n\
         [health_check]\ntimeout = \"10s\"\n[traffic]\nrate_rps = {}\n\
         [capacity]\nconcurrency = 4\nqueue_timeout = \"{timeout_ms}ms\"\n\
         [metrics]\nbuckets = [\"25ms\", \"50ms\", \"75ms\", \"100ms\", \"150ms\", \"200ms\", \"250ms\", \"300ms\", \"400ms\", \"500ms\", \"750ms\", \"1s\"]\n\
         [stable]\nerror_rate_pct = 0\nlatency = {{ dist = \"exponential\", mean = \"100ms\" }}\n\
         [release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n",
        rho * 40.0
    ))
}

/// p50, p95 and p99 of the whole run's latency histogram (ms), and the
/// share of requests that timed out.
fn profile(fidelity: &str, rho: f64, timeout_ms: u32, seed: u64) -> [f64; 4] {
    let opts = RunOptions {
        keep_detail: false,
        check_invariants: false,
        ..RunOptions::default()
    };
    let r = run(&loaded(fidelity, rho, timeout_ms), seed, opts).unwrap();
    let c = &r.counters[0];
    let q = |p: f64| deploysim::model::metrics::histogram_quantile(p, &r.bucket_bounds_s, &c.buckets).unwrap() * 1000.0;
    let t = &r.summary.totals;
    [q(0.5), q(0.95), q(0.99), t.timed_out[0] as f64 / t.arrived as f64]
}

#[test]
fn aggregate_mode_agrees_with_request_mode_under_load() {
    // Request mode simulates every request through the queue; aggregate mode
    // uses the steady state of the M/M/c queue with deterministic patience
    // (Erlang C when timeouts are long), at any load. Over four
    // one-hour runs each, their percentiles (interpolated in the same
    // buckets) and timeout shares must agree. Tolerance: 6% of the value, for
    // the aggregate model's 32-point quadrature of the wait, its per-tick
    // steady-state assumption, and sampling (the runs' own spread is under
    // 2%); timeout shares within 0.01 absolute.
    for (rho, timeout_ms) in [(0.5, 2000), (0.8, 2000), (0.9, 300), (1.2, 300)] {
        let mean = |fidelity: &str| -> [f64; 4] {
            let runs: Vec<[f64; 4]> = (0..4).map(|seed| profile(fidelity, rho, timeout_ms, seed)).collect();
            std::array::from_fn(|k| runs.iter().map(|r| r[k]).sum::<f64>() / runs.len() as f64)
        };
        let req = mean("request");
        let agg = mean("aggregate");
        eprintln!(
            "rho={rho} timeout={timeout_ms}ms: request p50/p95/p99 {:.1}/{:.1}/{:.1} ms, timeouts {:.4}; \
             aggregate {:.1}/{:.1}/{:.1} ms, timeouts {:.4}",
            req[0], req[1], req[2], req[3], agg[0], agg[1], agg[2], agg[3]
        );
        for k in 0..3 {
            assert!(
                (req[k] - agg[k]).abs() <= 0.06 * req[k],
                "rho={rho} q{k}: {} vs {}",
                req[k],
                agg[k]
            );
        }
        assert!(
            (req[3] - agg[3]).abs() < 0.01,
            "rho={rho}: timeouts {} vs {}",
            req[3],
            agg[3]
        );
    }
}

#[test]
fn requests_left_in_a_queue_at_the_end_count_as_failed() {
    // One server at 100 ms a request offered 50 requests/s with a one-hour
    // patience: almost nothing is served, and both modes must say so.
    let text = |fidelity: &str| {
        format!(
            "name = \"over\"\nfidelity = \"{fidelity}\"\n[simulation]\nmax_duration = \"10m\"\n[fleet]\ninstances = 1\n\
             [health_check]\ntimeout = \"10s\"\n[traffic]\nrate_rps = 50\n[capacity]\nconcurrency = 1\nqueue_timeout = \"1h\"\n\
             [stable]\nerror_rate_pct = 0\nlatency = {{ dist = \"exponential\", mean = \"100ms\" }}\n\
             [release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n"
        )
    };
    for fidelity in ["request", "aggregate"] {
        let r = run(&common::parse(&text(fidelity)), 1, RunOptions::default())
            .unwrap()
            .summary;
        // Capacity is 10 of the 50 requests a second: availability near 20%.
        let a = r.availability_pct().unwrap();
        assert!(a < 30.0, "{fidelity}: {a}");
    }
}
