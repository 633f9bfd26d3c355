//! The reference canary against mathematics.
//!
//! At the first check (t = 10 s) the window holds the canary requests counted
//! since t = 0. In aggregate mode that count is Poisson with mean
//! 200 rps x 10% x 10 s = 200. In request mode a request is counted when it
//! completes, so it is Poisson thinned by P(arrival + latency <= 10 s): mean
//! 20 x (10 - E[latency]) with E[latency] = 0.05 x exp(0.5^2 / 2) s. Errors are
//! independent of latency, so given n counted requests the errors are
//! Binomial(n, 0.03). The first check fires when n >= 200 and errors > 1% of n.

mod common;

use common::{binomial_pmf, poisson_pmf};
use deploysim::engine::{SimDuration, SimTime};
use deploysim::model::world::WorldChange;
use deploysim::record::SimEvent;
use deploysim::scenario::Fidelity;
use deploysim::sim::{run, RunOptions};
use deploysim::strategy::Outcome;

/// P(first check fires) for a window count ~ Poisson(mu).
fn first_check_probability(mu: f64) -> f64 {
    (200..400u64)
        .map(|n| {
            // errors e fire the check when 100 e > n.
            let p_fire: f64 = (n / 100 + 1..=n).map(|e| binomial_pmf(e, n, 0.03)).sum();
            poisson_pmf(n, mu) * p_fire
        })
        .sum()
}

fn first_check_share(fidelity: Fidelity, seeds: u64) -> f64 {
    let mut s = common::load("reference-canary.toml");
    s.fidelity = fidelity;
    s.simulation.cooldown = SimDuration::ZERO;
    let opts = RunOptions {
        keep_detail: false,
        ..RunOptions::default()
    };
    let hits = (0..seeds)
        .filter(|&seed| {
            let r = run(&s, seed, opts).unwrap();
            assert_eq!(r.summary.outcome, Some(Outcome::RolledBack), "seed {seed}");
            r.summary.triggered_at == Some(SimTime::from_secs(10))
        })
        .count();
    hits as f64 / seeds as f64
}

#[test]
fn first_check_detection_matches_the_poisson_binomial_formula() {
    // 2,000 seeds: the share's standard error is at most sqrt(0.25 / 2000) =
    // 0.0112; we allow 4 standard errors (0.045).
    let seeds = 2000;
    let mean_latency = 0.05 * (0.125f64).exp();
    for (fidelity, mu) in [
        (Fidelity::Aggregate, 200.0),
        (Fidelity::Request, 20.0 * (10.0 - mean_latency)),
    ] {
        let expected = first_check_probability(mu);
        let got = first_check_share(fidelity, seeds);
        eprintln!("{fidelity:?}: {seeds} seeds, TTD at the first check in {got:.4}, formula {expected:.4}");
        assert!(
            (got - expected).abs() < 0.045,
            "{fidelity:?}: share {got:.4}, formula {expected:.4}"
        );
    }
}

#[test]
fn the_formula_itself_is_sane() {
    // Values computed independently (Python, math.lgamma and math.comb):
    // P(N >= 200) for N ~ Poisson(200) is 0.509403, and the first-check
    // probability is 0.485372 at mu = 200 and 0.454676 at the request-mode mu.
    let tail: f64 = (200..400u64).map(|n| poisson_pmf(n, 200.0)).sum();
    assert!((tail - 0.509_403).abs() < 1e-5, "{tail}");
    assert!((first_check_probability(200.0) - 0.485_372).abs() < 1e-5);
    let mu_request = 20.0 * (10.0 - 0.05 * 0.125f64.exp());
    assert!((first_check_probability(mu_request) - 0.454_676).abs() < 1e-5);
}

#[test]
fn good_release_steps_every_300_s_and_promotes_at_2700_s() {
    let s = common::load("reference-canary-good.toml");
    for fidelity in [Fidelity::Request, Fidelity::Aggregate] {
        let mut s = s.clone();
        s.fidelity = fidelity;
        let r = run(&s, 1, RunOptions::default()).unwrap();
        assert_eq!(r.summary.outcome, Some(Outcome::Promoted), "{fidelity:?}");
        assert_eq!(r.summary.deploy_duration(), Some(SimDuration::from_secs(2700)));
        let steps: Vec<(u64, f64)> = r
            .events
            .iter()
            .filter_map(|(t, e)| match e {
                SimEvent::World(WorldChange::Weight { to, .. }) => Some((t.0 / 1_000_000, *to)),
                _ => None,
            })
            .collect();
        let expected: Vec<(u64, f64)> = (0..=9)
            .map(|i| (300 * i, if i == 9 { 100.0 } else { 10.0 * (i + 1) as f64 }))
            .collect();
        assert_eq!(steps, expected, "{fidelity:?}");
        assert_eq!(r.summary.checks, 270);
        let last = r.timeline.last().unwrap();
        assert_eq!(last.fleet[1].routable, 20, "every instance on the new version");
        assert_eq!(last.fleet[0].active(), 0);
    }
}

#[test]
fn exposure_follows_the_weight_schedule() {
    // Expected requests to the new version over a promoted good run:
    // 200 rps x 300 s x (10 + 20 + ... + 90)% plus 200 rps x 60 s at 100%
    // during the cooldown = 282,000; Poisson, so the sd of one run is
    // sqrt(282000) = 531 and of a 20-run mean 119; 4 sd = 475. The same
    // reasoning gives 552,000 requests in all (sd of the mean 166; 4 sd = 665).
    let s = common::load("reference-canary-good.toml");
    let opts = RunOptions {
        keep_detail: false,
        ..RunOptions::default()
    };
    let mut exposed = 0.0;
    let mut total = 0.0;
    let mut runs = 0.0;
    for seed in 100..120 {
        let r = run(&s, seed, opts).unwrap();
        if r.summary.outcome != Some(Outcome::Promoted) {
            continue; // a rare false rollback; its exposure is shorter
        }
        exposed += r.summary.exposed_requests() as f64;
        total += r.summary.requests_total() as f64;
        runs += 1.0;
    }
    assert!(runs >= 18.0, "false rollbacks of a good release should be rare");
    assert!(
        (exposed / runs - 282_000.0).abs() < 475.0 * (20.0f64 / runs).sqrt(),
        "{}",
        exposed / runs
    );
    assert!(
        (total / runs - 552_000.0).abs() < 665.0 * (20.0f64 / runs).sqrt(),
        "{}",
        total / runs
    );
}

#[test]
fn summary_columns_are_consistent() {
    let s = common::load("reference-canary.toml");
    for seed in 0..50 {
        let r = run(
            &s,
            seed,
            RunOptions {
                keep_detail: false,
                ..RunOptions::default()
            },
        )
        .unwrap();
        let m = &r.summary;
        assert!(m.blast_radius_requests() <= m.exposed_requests());
        assert!(m.exposed_requests() <= m.requests_total());
        assert_eq!(m.ttd().is_some(), m.rollback_performed);
        let ttd = m.ttd().unwrap();
        // The trigger is a check time; the first canary request came just after t = 0.
        assert_eq!(m.triggered_at.unwrap().0 % 10_000_000, 0);
        assert!(ttd < SimDuration::from_secs(m.triggered_at.unwrap().0 / 1_000_000));
        assert_eq!(m.ttr(), Some(SimDuration::ZERO), "immediate switch, stable healthy");
    }
}

/// A Flagger canary on a fleet that is ready at once: the first weight is set
/// when the rollout starts.
fn flagger(interval_s: u64, threshold: u32, weights: &str, bad: bool) -> deploysim::scenario::Scenario {
    let release = if bad {
        "quality = \"bad\"\nerror_rate_pct = 100"
    } else {
        "quality = \"good\""
    };
    common::parse(&format!(
        "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"10h\"\ncooldown = \"1m\"\n\
         [fleet]\ninstances = 4\nprovision_time = \"0s\"\nboot_time = \"0s\"\nstop_time = \"0s\"\n\
         [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 50\n\
         [stable]\nerror_rate_pct = 0\n[release]\nversion = \"v2\"\n{release}\n\
         [strategy]\nkind = \"flagger\"\nstart_at = \"1m\"\ninterval = \"{interval_s}s\"\nthreshold = {threshold}\n{weights}\n\
         [[strategy.metrics]]\nname = \"request-success-rate\"\nthreshold_range = {{ min = 99 }}\n"
    ))
}

#[test]
fn flagger_promotes_after_interval_times_max_weight_over_step_weight() {
    // Flagger's documented time to promote: interval x maxWeight / stepWeight
    // (one passing check per weight; the check at maxWeight promotes).
    for (interval, weights, steps) in [
        (60, "step_weight = 10\nmax_weight = 50", 5),
        (30, "step_weight = 5\nmax_weight = 50", 10),
        (120, "step_weight = 20\nmax_weight = 80", 4),
        (60, "step_weights = [1, 5, 25, 50]", 4),
    ] {
        let s = flagger(interval, 5, weights, false);
        let m = run(&s, 1, RunOptions::default()).unwrap().summary;
        assert_eq!(m.outcome, Some(Outcome::Promoted), "{weights}");
        let start = SimTime::from_secs(60);
        assert_eq!(
            m.completed_at.unwrap() - start,
            SimDuration::from_secs(interval * steps),
            "{weights}"
        );
    }
}

#[test]
fn flagger_rolls_a_broken_canary_back_after_interval_times_threshold() {
    // Flagger's documented time to roll back a fully broken canary:
    // interval x threshold (every check fails; the threshold-th rolls back).
    for (interval, threshold) in [(60, 5), (30, 10), (120, 2), (15, 1)] {
        let s = flagger(interval, threshold, "step_weight = 10\nmax_weight = 50", true);
        let m = run(&s, 1, RunOptions::default()).unwrap().summary;
        assert_eq!(m.outcome, Some(Outcome::RolledBack));
        assert_eq!(
            m.triggered_at.unwrap() - SimTime::from_secs(60),
            SimDuration::from_secs(interval * u64::from(threshold)),
            "interval {interval} threshold {threshold}"
        );
        assert_eq!(m.checks, threshold);
    }
}

#[test]
fn burn_rate_alerts_fire_when_the_sre_workbook_says() {
    // A release with error ratio e takes all traffic at once after a long
    // error-free stretch. Over a long window w full of traffic, the burn rate
    // t seconds later is e x t / w / (1 - SLO), so a pair with burn rate b
    // fires at t = (1 - SLO) / e x w x b (the SRE workbook's detection time;
    // the short window, w / 12, reaches b sooner). Tolerance: scrapes and
    // evaluations every 10 s add up to 20 s; Poisson noise on ~50,000 errors
    // moves t by well under 5 s.
    for (slo, long_s, burn, e) in [
        (99.9, 3600, 14.4, 10.0),
        (99.9, 21600, 6.0, 20.0),
        (99.0, 3600, 6.0, 50.0),
    ] {
        let expected = (1.0 - slo / 100.0) / (e / 100.0) * long_s as f64 * burn;
        let start = long_s + 60;
        let s = common::parse(&format!(
            "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"{}s\"\ncooldown = \"1m\"\n\
             [fleet]\ninstances = 4\nprovision_time = \"0s\"\nboot_time = \"0s\"\nstop_time = \"0s\"\n\
             [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 1000\n\
             [stable]\nerror_rate_pct = 0\n[release]\nversion = \"v2\"\nquality = \"bad\"\nerror_rate_pct = {e}\n\
             [strategy]\nkind = \"canary\"\nstart_at = \"{start}s\"\nsteps = [{{ set_weight = 100 }}]\n\
             [rollback]\nevaluate_interval = \"10s\"\npost_deploy_monitoring = \"3h\"\n\
             [[rollback.triggers]]\nkind = \"burn_rate\"\nslo_pct = {slo}\n\
             windows = [{{ long = \"{long_s}s\", short = \"{}s\", burn_rate = {burn} }}]\n",
            start + long_s,
            long_s / 12
        ));
        let m = run(&s, 1, RunOptions::default()).unwrap().summary;
        let ttd = m.ttd().expect("the alert fired").as_secs_f64();
        assert_eq!(m.trigger.as_ref().unwrap().name(), "trigger:burn_rate");
        assert!(
            ttd >= expected - 5.0 && ttd <= expected + 25.0,
            "SLO {slo} window {long_s}s burn {burn} e {e}%: {ttd} s against {expected} s"
        );
    }
}

#[test]
fn the_binomial_judge_false_positive_rate_is_near_and_under_its_alpha() {
    // Canary and baseline with the same 1% error rate on 1,000 and 9,000
    // requests: errors ~ Poisson(10) and Poisson(90), so given m errors in
    // all the canary's are exactly Binomial(m, 0.1). The exact test's size at
    // alpha = 0.05 is sum over m of P(M = m) x P(X >= k*(m)), k* the first
    // count that rejects: computed below, it must be at most alpha (the test
    // is exact, hence conservative) and above alpha / 2 (near it). The
    // simulated rate over 40,000 draws must match it within 4 sd.
    use deploysim::analysis::judges::{binomial_p_value, binomial_upper_tail};
    use rand::SeedableRng;
    use rand_distr::{Distribution, Poisson};
    let alpha = 0.05;
    let size: f64 = (0..400u64)
        .map(|m| {
            let k = (0..=m).find(|&k| binomial_upper_tail(k, m, 0.1) < alpha);
            poisson_pmf(m, 100.0) * k.map_or(0.0, |k| binomial_upper_tail(k, m, 0.1))
        })
        .sum();
    assert!(size <= alpha && size > alpha / 2.0, "exact size {size}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (canary, baseline) = (Poisson::new(10.0).unwrap(), Poisson::new(90.0).unwrap());
    let n = 40_000;
    let rejections = (0..n)
        .filter(|_| {
            let x_c = canary.sample(&mut rng) as u64;
            let x_b = baseline.sample(&mut rng) as u64;
            binomial_p_value((1000, x_c), (9000, x_b)).is_some_and(|p| p < alpha)
        })
        .count();
    let rate = rejections as f64 / n as f64;
    let sd = (size * (1.0 - size) / n as f64).sqrt();
    assert!((rate - size).abs() < 4.0 * sd, "simulated {rate} against exact {size}");
}

#[test]
fn the_sprt_keeps_its_error_rates_within_walds_bounds() {
    // H0: p0 = 1%, H1: p1 = 3%, alpha = 0.05, beta = 0.1, fed 50 requests at
    // a time. Wald's bounds: P(fire | p0) <= alpha / (1 - beta) = 0.0556 and
    // P(accept | p1) <= beta / (1 - alpha) = 0.105 (batches overshoot the
    // boundaries, which only makes the test more conservative). 4,000
    // sequences per hypothesis; tolerance 4 sd of the bound.
    use deploysim::analysis::detectors::{Decision, Detector, DetectorSpec};
    use rand::SeedableRng;
    use rand_distr::{Binomial, Distribution};
    let spec = DetectorSpec::Sprt {
        p0: 0.01,
        p1: 0.03,
        alpha: 0.05,
        beta: 0.1,
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let runs = 4000;
    let mut outcome = |p: f64| {
        let batch = Binomial::new(50, p).unwrap();
        let (mut fired, mut accepted) = (0, 0);
        for _ in 0..runs {
            let mut d = Detector::new(spec);
            loop {
                match d.update(50, batch.sample(&mut rng)) {
                    Decision::Fire(_) => {
                        fired += 1;
                        break;
                    }
                    Decision::Accept => {
                        accepted += 1;
                        break;
                    }
                    Decision::Continue => {}
                }
            }
        }
        (
            f64::from(fired) / f64::from(runs),
            f64::from(accepted) / f64::from(runs),
        )
    };
    let bound = |b: f64| b + 4.0 * (b * (1.0 - b) / f64::from(runs)).sqrt();
    let (false_alarms, _) = outcome(0.01);
    assert!(false_alarms <= bound(0.05 / 0.9), "P(fire | p0) = {false_alarms}");
    let (power, misses) = outcome(0.03);
    assert!(misses <= bound(0.1 / 0.95), "P(accept | p1) = {misses}");
    assert!(power >= 0.85, "the test detects p1 most of the time: {power}");
}

#[test]
fn the_mann_whitney_test_holds_its_size_and_its_interval_its_coverage() {
    // Two samples of 50 from one lognormal law: the two-sided test at
    // alpha = 0.05 rejects with probability about alpha (the normal
    // approximation with continuity correction is near-exact at n = 50).
    // Over 4,000 pairs the rate's sd is sqrt(0.05 x 0.95 / 4000) = 0.0034;
    // 4 sd is allowed. Shifting one sample by delta, the 95% Hodges-Lehmann
    // interval must cover delta with probability 0.95, same tolerance.
    use deploysim::analysis::kayenta::mann_whitney;
    use rand::SeedableRng;
    use rand_distr::{Distribution, LogNormal};
    let law = LogNormal::new(0.0, 0.5).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let trials = 4_000;
    let (mut rejected, mut covered) = (0, 0);
    let delta = 0.3;
    for _ in 0..trials {
        let x: Vec<f64> = (0..50).map(|_| law.sample(&mut rng)).collect();
        let y: Vec<f64> = (0..50).map(|_| law.sample(&mut rng)).collect();
        if mann_whitney(&x, &y, 0.95).p_two_sided < 0.05 {
            rejected += 1;
        }
        let shifted: Vec<f64> = x.iter().map(|v| v + delta).collect();
        let t = mann_whitney(&shifted, &y, 0.95);
        if t.lower <= delta && delta <= t.upper {
            covered += 1;
        }
    }
    let sd = (0.05f64 * 0.95 / f64::from(trials)).sqrt();
    let size = f64::from(rejected) / f64::from(trials);
    let coverage = f64::from(covered) / f64::from(trials);
    assert!((size - 0.05).abs() < 4.0 * sd, "size {size}");
    assert!((coverage - 0.95).abs() < 4.0 * sd, "coverage {coverage}");
}

#[test]
fn the_mann_whitney_test_with_heavy_ties_stays_within_its_size() {
    // Latencies read off histogram buckets tie heavily: here 4 levels with
    // probabilities (37, 19, 7, 1) / 64 (the least of three uniform draws).
    // The tie correction shrinks U's variance by 1 - sum p^3 = 0.78; with it
    // the size stays near alpha, without it the test would reject with
    // probability 2 Phi(-1.96 / sqrt(0.78)) = 0.026. The 4-sd tolerance
    // (0.014) tells the two apart.
    use deploysim::analysis::kayenta::mann_whitney;
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let trials = 4_000;
    let level =
        |rng: &mut rand_chacha::ChaCha8Rng| f64::from((0..3).map(|_| rng.random_range(0..4u32)).min().unwrap_or(0));
    let rejected = (0..trials)
        .filter(|_| {
            let x: Vec<f64> = (0..60).map(|_| level(&mut rng)).collect();
            let y: Vec<f64> = (0..60).map(|_| level(&mut rng)).collect();
            mann_whitney(&x, &y, 0.95).p_two_sided < 0.05
        })
        .count();
    let size = rejected as f64 / f64::from(trials);
    let sd = (0.05f64 * 0.95 / f64::from(trials)).sqrt();
    assert!((size - 0.05).abs() < 4.0 * sd, "size {size}");
}
