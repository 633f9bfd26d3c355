//! Queueing against the Erlang C formula and its M/M/c+D generalisation.
//!
//! One instance with `c` servers, exponential service (mean 100 ms, so
//! mu = 10/s), Poisson arrivals at lambda = rho * c * mu, first in first out,
//! no timeouts: an M/M/c queue. Erlang C gives the probability that an
//! arriving request waits, C(c, a) with a = lambda / mu, the mean wait,
//! Wq = C / (c mu - lambda), and its tail, P(Wq > t) = C e^(-(c mu - lambda) t),
//! so the p99 wait is ln(100 C) / (c mu - lambda) when C > 1%. By PASTA the
//! share of requests that wait estimates C; the mean of their waits (zeros
//! included) estimates Wq. With a queue timeout D the queue is M/M/c+D, whose
//! closed form `deploysim::model::queueing::tick` implements (its own unit
//! tests check it against the formulas written out).

mod common;

use deploysim::model::queue_stats::QueueFigures;
use deploysim::model::queueing::tick;
use deploysim::report::csv_out::{summary_csv, timeline_csv};
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

/// The stable version's queue figures of a run.
fn stable_queue(s: &deploysim::scenario::Scenario, seed: u64, check_invariants: bool) -> QueueFigures {
    let opts = RunOptions {
        keep_detail: false,
        check_invariants,
        ..RunOptions::default()
    };
    run(s, seed, opts).unwrap().summary.queue[0].expect("[capacity] with traffic")
}

#[test]
fn request_mode_reproduces_erlang_c() {
    // Six independent replications of 30,000 requests per (c, rho), read
    // from the exported queue figures. The tolerance is 5 standard errors of
    // the replication mean (estimated from the replications, so it accounts
    // for the strong autocorrelation of queue waits) plus 3% of the exact
    // value for the start from an empty queue, which biases waits low by
    // about (relaxation time / run length).
    let reps = 6;
    for c in [1u32, 4, 16] {
        for rho in [0.5, 0.8, 0.9] {
            let s = scenario(c, rho, 30_000.0);
            let a = rho * f64::from(c);
            let exact_c = erlang_c(c, a);
            let theta = f64::from(c) * 10.0 - a * 10.0;
            let exact_wq = exact_c / theta;
            let exact_p99 = if exact_c > 0.01 {
                (100.0 * exact_c).ln() / theta
            } else {
                0.0
            };
            let (mut p_wait, mut wq, mut p99) = (Vec::new(), Vec::new(), Vec::new());
            for seed in 0..reps {
                let f = stable_queue(&s, seed, seed == 0);
                p_wait.push(f.waited_pct / 100.0);
                wq.push(f.wait_mean_s);
                p99.push(f.wait_p99_s);
            }
            let (pm, psd) = mean_sd(&p_wait);
            let (wm, wsd) = mean_sd(&wq);
            let (qm, qsd) = mean_sd(&p99);
            let se = |sd: f64| sd / f64::from(reps as u32).sqrt();
            eprintln!(
                "c={c:2} rho={rho}: P(wait) {pm:.4} vs {exact_c:.4}; Wq {:.4} ms vs {:.4} ms; p99 {:.2} ms vs {:.2} ms",
                wm * 1000.0,
                exact_wq * 1000.0,
                qm * 1000.0,
                exact_p99 * 1000.0
            );
            assert!(
                (pm - exact_c).abs() < 5.0 * se(psd) + 0.03 * exact_c,
                "c={c} rho={rho}: P(wait) {pm} vs {exact_c}"
            );
            assert!(
                (wm - exact_wq).abs() < 5.0 * se(wsd) + 0.03 * exact_wq,
                "c={c} rho={rho}: Wq {wm} vs {exact_wq}"
            );
            // The p99 also carries its bin (1/16 of a doubling, read with an
            // exponential fit, so far less); 1 ms covers the few cases
            // where the exact p99 is 0 (C just under 1%) or tiny.
            assert!(
                (qm - exact_p99).abs() < 5.0 * se(qsd) + 0.03 * exact_p99 + 0.001,
                "c={c} rho={rho}: p99 {qm} vs {exact_p99}"
            );
        }
    }
}

#[test]
fn aggregate_mode_exports_the_m_m_c_d_closed_form() {
    // A steady state (constant rate, one instance, no rollout): every
    // stretch has the same queue, so the exported figures are the closed
    // form itself: the mean wait E[min(V, D)], the shares P(V > 0) and
    // P(V > D), and the p99 of min(V, D) (read exactly: the in-bin fit is
    // the true shape for one state). Only rounding over the stretches
    // separates them: 1e-9 relative. Erlang C itself, for the long timeout.
    for (rho, timeout_ms) in [(0.5, 2000), (0.8, 600_000), (0.9, 300), (1.2, 300)] {
        let q = tick(rho * 40.0, 1.0, 4, 0.1, f64::from(timeout_ms) / 1000.0);
        let f = stable_queue(&loaded("aggregate", rho, timeout_ms), 1, true);
        let close = |got: f64, exact: f64| (got - exact).abs() <= 1e-9 * exact.abs().max(1e-12);
        assert!(close(f.wait_mean_s, q.mean_wait_s()), "rho {rho}: {f:?} vs {q:?}");
        assert!(close(f.waited_pct, 100.0 * q.p_queued()), "rho {rho}: {f:?} vs {q:?}");
        assert!(close(f.timed_out_pct, 100.0 * q.p_timeout), "rho {rho}: {f:?} vs {q:?}");
        assert!(
            close(f.wait_p99_s, q.wait_quantile_s(0.99)),
            "rho {rho}: {f:?} vs {q:?}"
        );
        if timeout_ms == 600_000 {
            let c = erlang_c(4, 3.2);
            assert!((f.waited_pct / 100.0 - c).abs() < 1e-9 * c);
            assert!((f.wait_mean_s - c / 8.0).abs() < 1e-9 * c / 8.0);
            assert!((f.wait_p99_s - (100.0 * c).ln() / 8.0).abs() < 1e-9);
        }
    }
}

#[test]
fn request_mode_measures_the_m_m_c_d_closed_form() {
    // The same steady states simulated request by request: six one-hour
    // replications (about 100,000 to 170,000 requests each). Tolerance: 5
    // standard errors of the replication mean (from the replications' own
    // spread, which includes the autocorrelation of waits) plus 1% of the
    // exact value for the start from an empty queue (relaxation time
    // 1 / (c mu (1 - sqrt(rho))^2) is at most 10 s here against a 3,600-s
    // run: a bias under 0.3%). The p99 is read inside a bin of 1/16 of a
    // doubling by an exponential fit; 1 ms more covers that.
    let reps = 6u64;
    for (rho, timeout_ms) in [(0.5, 2000), (0.8, 2000), (0.9, 300), (1.2, 300)] {
        let q = tick(rho * 40.0, 1.0, 4, 0.1, f64::from(timeout_ms) / 1000.0);
        let s = loaded("request", rho, timeout_ms);
        let runs: Vec<QueueFigures> = (0..reps).map(|seed| stable_queue(&s, seed, seed == 0)).collect();
        let check = |name: &str, get: fn(&QueueFigures) -> f64, exact: f64, slack: f64| {
            let (m, sd) = mean_sd(&runs.iter().map(get).collect::<Vec<_>>());
            let tolerance = 5.0 * sd / (reps as f64).sqrt() + 0.01 * exact + slack;
            eprintln!("rho={rho} D={timeout_ms}ms {name}: {m:.6} vs {exact:.6} (tolerance {tolerance:.6})");
            assert!((m - exact).abs() < tolerance, "rho {rho} {name}: {m} vs {exact}");
        };
        check("wait_mean_s", |f| f.wait_mean_s, q.mean_wait_s(), 0.0);
        check("waited_pct", |f| f.waited_pct, 100.0 * q.p_queued(), 0.0);
        // (A share of 4e-17% is 0 in any run: 1e-9 absolute lets it be.)
        check("timed_out_pct", |f| f.timed_out_pct, 100.0 * q.p_timeout, 1e-9);
        check("wait_p99_s", |f| f.wait_p99_s, q.wait_quantile_s(0.99), 0.001);
    }
}

#[test]
fn queue_columns_are_filled_with_capacity_and_empty_without() {
    let header = |csv: &[u8]| -> Vec<String> {
        let mut r = csv::Reader::from_reader(csv);
        r.headers().unwrap().iter().map(String::from).collect()
    };
    let rows = |csv: &[u8]| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_reader(csv);
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let queue_cols = |h: &[String]| -> Vec<usize> {
        (0..h.len())
            .filter(|&i| {
                ["_wait_mean_ms", "_wait_p99_ms", "_waited_pct", "_timed_out_pct"]
                    .iter()
                    .any(|m| h[i].ends_with(m))
            })
            .collect()
    };
    for fidelity in ["request", "aggregate"] {
        // With [capacity]: the stable columns are filled, the new version
        // (no rollout, no requests) stays empty.
        let r = run(&loaded(fidelity, 0.8, 2000), 1, RunOptions::default()).unwrap();
        let csv = summary_csv(&r.summary);
        let (h, row) = (header(&csv), rows(&csv).remove(0));
        let cols = queue_cols(&h);
        assert_eq!(cols.len(), 8, "{h:?}");
        for &i in &cols {
            assert_eq!(
                row[i].is_empty(),
                h[i].starts_with("new_"),
                "{fidelity} {}: {:?}",
                h[i],
                row[i]
            );
        }
        let tl = timeline_csv(&r.timeline);
        let (h, body) = (header(&tl), rows(&tl));
        let cols = queue_cols(&h);
        assert_eq!(cols.len(), 8);
        // The first row (t = 0) has no traffic before it; every later row does.
        for row in &body[1..] {
            for &i in &cols {
                assert_eq!(
                    row[i].is_empty(),
                    h[i].starts_with("new_"),
                    "{fidelity} {}: {:?}",
                    h[i],
                    row[i]
                );
            }
        }
        // Without [capacity], every queue cell is empty, in both files.
        let mut s = common::load("reference-canary.toml");
        s.fidelity = if fidelity == "request" {
            deploysim::scenario::Fidelity::Request
        } else {
            deploysim::scenario::Fidelity::Aggregate
        };
        assert!(s.capacity.is_none());
        let r = run(&s, 1, RunOptions::default()).unwrap();
        assert_eq!(r.summary.queue, [None, None]);
        let csv = summary_csv(&r.summary);
        let (h, row) = (header(&csv), rows(&csv).remove(0));
        assert!(queue_cols(&h).iter().all(|&i| row[i].is_empty()));
        let tl = timeline_csv(&r.timeline);
        let (h, body) = (header(&tl), rows(&tl));
        assert!(body.iter().all(|row| queue_cols(&h).iter().all(|&i| row[i].is_empty())));
        assert!(r.timeline.iter().all(|row| row.queue == [None, None]));
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
    let wait = |s: &deploysim::record::Summary| s.queue[0].unwrap().wait_mean_s;
    assert!(wait(&small) > 5.0 * wait(&big), "{} vs {}", wait(&small), wait(&big));
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

/// What the agreement test compares: p50, p95 and p99 of the whole run's
/// latency histogram (ms), the share of requests that timed out, and the
/// exported queue figures (mean wait ms, share waited %, p99 wait ms).
const PROFILE: [&str; 7] = [
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "timeout_share",
    "wait_mean_ms",
    "waited_pct",
    "wait_p99_ms",
];

fn profile(fidelity: &str, rho: f64, timeout_ms: u32, seed: u64) -> [f64; 7] {
    let opts = RunOptions {
        keep_detail: false,
        check_invariants: false,
        ..RunOptions::default()
    };
    let r = run(&loaded(fidelity, rho, timeout_ms), seed, opts).unwrap();
    let c = &r.counters[0];
    let q = |p: f64| deploysim::model::metrics::histogram_quantile(p, &r.bucket_bounds_s, &c.buckets).unwrap() * 1000.0;
    let t = &r.summary.totals;
    let f = r.summary.queue[0].unwrap();
    [
        q(0.5),
        q(0.95),
        q(0.99),
        t.timed_out[0] as f64 / t.arrived as f64,
        f.wait_mean_s * 1000.0,
        f.waited_pct,
        f.wait_p99_s * 1000.0,
    ]
}

#[test]
fn aggregate_mode_agrees_with_request_mode_under_load() {
    // Request mode simulates every request through the queue; aggregate mode
    // uses the exact steady state of the M/M/c queue with deterministic
    // patience (Erlang C when timeouts are long), at any load. Over four
    // one-hour runs each, their latency percentiles (interpolated in the same
    // buckets, so the interpolation is common to both), timeout shares and
    // exported queue figures must agree. Tolerance: 5 standard errors of the
    // difference of the two means (each estimated from its four runs) plus
    // 1% of the value for request mode's start from an empty queue (its
    // relaxation time, at most 10 s here, against 3,600 s: under 0.3%).
    for (rho, timeout_ms) in [(0.5, 2000), (0.8, 2000), (0.9, 300), (1.2, 300)] {
        let runs =
            |fidelity: &str| -> Vec<[f64; 7]> { (0..4).map(|seed| profile(fidelity, rho, timeout_ms, seed)).collect() };
        let (req, agg) = (runs("request"), runs("aggregate"));
        for (k, name) in PROFILE.iter().enumerate() {
            let (rm, rsd) = mean_sd(&req.iter().map(|r| r[k]).collect::<Vec<_>>());
            let (am, asd) = mean_sd(&agg.iter().map(|r| r[k]).collect::<Vec<_>>());
            let se = ((rsd * rsd + asd * asd) / 4.0).sqrt();
            let tolerance = 5.0 * se + 0.01 * rm.abs().max(am.abs());
            eprintln!("rho={rho} timeout={timeout_ms}ms {name}: request {rm:.4}, aggregate {am:.4} (tolerance {tolerance:.4})");
            assert!((rm - am).abs() <= tolerance, "rho={rho} {name}: {rm} vs {am}");
        }
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
