//! Sessions against the closed form of their documented model (README,
//! `[sessions]`): a request opens a new session with probability
//! q = 1 / `mean_requests`, otherwise it joins a live session chosen
//! uniformly; a session lasts an exponential time of mean D.
//!
//! The mean-field picture. Requests arrive at rate λ. Sessions open at rate
//! λq and live D on average, so about N = λqD are live (N = 1,200 here; its
//! relative fluctuation, 1/√N, enters the numbers below only at second
//! order). A live session is joined by the other requests at rate
//! μ = λ(1 - q) / N = (1 - q) / (qD), so it sees m = 1/q requests on average.
//!
//! A canary with affinity moves its weight from 0 to w at time t0, when the
//! live sessions are in steady state (t0 = 10 D), and the run ends W later.
//! Sessions opened before t0 are pinned to stable; each one opened after is
//! pinned to the new version with probability w, and every request of a
//! pinned-new session fails with probability p (the release's error rate).
//!
//! Exposure (requests sent to the new version). Pinned-new live sessions C
//! grow as dC/dt = λqw - C/D from C(t0) = 0, so C/N = w(1 - e^{-τ/D}) at τ
//! after the step. A request goes to the new version if it opens a session
//! routed there (rate λqw) or joins a pinned-new one (rate λ(1 - q)C/N):
//!     E[exposure] = λw [W - (1 - q) D (1 - e^{-W/D})].
//! Requests leaning towards young sessions (which were pinned at the new
//! weight) push it up.
//!
//! Users harmed (distinct sessions that saw a failure from the new version).
//! Pinned-new live sessions with no failure yet, B, follow
//! dB/dt = λqw(1 - p) - kB with k = 1/D + μp (they end, or a request fails),
//! B(t0) = 0, so B = B∞(1 - e^{-kτ}) with B∞ = λqw(1 - p)/k. Sessions are
//! harmed by their opening request (rate λqwp) or by a later one (rate μpB):
//!     E[harmed] = λqwpW + μp B∞ [W - (1 - e^{-kW})/k].
//!
//! Tolerances, from the variance. Harmed sessions are a Poisson number of
//! sessions each harmed or not, so Var(harmed) <= E[harmed]. Exposure is a
//! compound Poisson sum over the sessions opened after t0 (rate λq), each
//! contributing, with probability w, its requests before the end: 1 +
//! Poisson(μM) with M = min(life, time left τ). So Var(exposure) = λqw ∫₀^W
//! E[(1 + Poisson(μM))²] dτ = λqw [W + 3μ∫E[M] + μ²∫E[M²]], where
//! ∫₀^W E[M] dτ = D(W - D(1 - e^{-W/D})) and
//! ∫₀^W E[M²] dτ = 2D²W(1 + e^{-W/D}) - 4D³(1 - e^{-W/D}).
//! Summed over independent trials, each total must be within 4 sd of its
//! expectation.

mod common;

use deploysim::sim::{run, RunOptions};

/// λ (requests per second), m (mean requests per session), D (seconds).
const RATE: f64 = 100.0;
const MEAN_REQUESTS: f64 = 5.0;
const MEAN_DURATION_S: f64 = 60.0;
/// The canary's weight and the release's error rate.
const WEIGHT: f64 = 0.5;
const ERROR_RATE: f64 = 0.1;
/// The step comes at t0 = 10 D, when the live sessions have settled to
/// within e^-10 of steady state; the run ends one mean session length later
/// (where leaning towards young sessions shows most).
const STEP_S: f64 = 600.0;
const END_S: f64 = 660.0;

/// The closed forms above for a window of `w_s` seconds after the step,
/// with affinity: expected harmed users, expected exposure, and the
/// exposure's variance.
fn with_affinity(w_s: f64) -> (f64, f64, f64) {
    let (lambda, q, d, w, p) = (RATE, 1.0 / MEAN_REQUESTS, MEAN_DURATION_S, WEIGHT, ERROR_RATE);
    let mu = (1.0 - q) / (q * d);
    let k = 1.0 / d + mu * p;
    let b_inf = lambda * q * w * (1.0 - p) / k;
    let harmed = lambda * q * w * p * w_s + mu * p * b_inf * (w_s - (1.0 - (-k * w_s).exp()) / k);
    let decay = (-w_s / d).exp();
    let exposure = lambda * w * (w_s - (1.0 - q) * d * (1.0 - decay));
    let int_m = d * (w_s - d * (1.0 - decay));
    let int_m2 = 2.0 * d * d * w_s * (1.0 + decay) - 4.0 * d.powi(3) * (1.0 - decay);
    let var_exposure = lambda * q * w * (w_s + 3.0 * mu * int_m + mu * mu * int_m2);
    (harmed, exposure, var_exposure)
}

/// Without affinity every request goes to the new version with
/// probability w whatever its session, so exposure is λwW, and each request
/// harms its session with probability r = wp. Unharmed live sessions U start
/// at N (nothing failed before the step) and follow dU/dt = λq(1 - r) - kU
/// with k = 1/D + μr, so U = U∞ + (N - U∞)e^{-kτ}, U∞ = λq(1 - r)/k; harm
/// comes from opening requests (λqr) and later ones (μrU):
///     E[harmed] = λqrW + μr [U∞W + (N - U∞)(1 - e^{-kW})/k].
/// The variance bound is the same as with affinity: Var(harmed) <= E[harmed].
fn without_affinity(w_s: f64) -> f64 {
    let (lambda, q, d, r) = (RATE, 1.0 / MEAN_REQUESTS, MEAN_DURATION_S, WEIGHT * ERROR_RATE);
    let (mu, live) = ((1.0 - q) / (q * d), lambda * q * d);
    let k = 1.0 / d + mu * r;
    let u_inf = lambda * q * (1.0 - r) / k;
    lambda * q * r * w_s + mu * r * (u_inf * w_s + (live - u_inf) * (1.0 - (-k * w_s).exp()) / k)
}

/// Users harmed, exposure and the window after the step (seconds) of each of
/// 32 trials of the canary, with or without affinity.
fn trials(affinity: bool) -> Vec<(u64, u64, f64)> {
    // A 60 s scrape leaves ended sessions unpurged for up to a minute: the
    // pick must step over them without favouring any live session.
    let s = common::parse(&format!(
        "name = \"sessions\"\n[simulation]\nmax_duration = \"{END_S}s\"\n\
         [fleet]\ninstances = 10\nprovision_time = \"0s\"\nboot_time = \"0s\"\n\
         [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = {RATE}\n\
         [metrics]\nscrape_interval = \"60s\"\n\
         [sessions]\nmean_requests = {MEAN_REQUESTS}\nmean_duration = \"{MEAN_DURATION_S}s\"\naffinity = {affinity}\n\
         [release]\nquality = \"bad\"\nerror_rate_pct = {}\n\
         [strategy]\nkind = \"canary\"\nstart_at = \"{STEP_S}s\"\nsteps = [ {{ set_weight = {} }}, {{ pause = {{}} }} ]\n\
         [strategy.success_criteria]\nmax_error_rate_pct = 100\nevaluation_window = \"60s\"\n",
        ERROR_RATE * 100.0,
        WEIGHT * 100.0
    ));
    (0..32)
        .map(|trial| {
            let opts = RunOptions {
                keep_detail: false,
                counterfactual: false,
                trial,
                ..RunOptions::default()
            };
            let r = run(&s, 5, opts).unwrap().summary;
            // The window starts at the first request to the new version
            // (the weight moves at t0; that request follows within ~1/(λw)).
            let first = r.first_exposure.expect("the canary took traffic");
            assert!((first.as_secs_f64() - STEP_S).abs() < 1.0, "{first}");
            let window = (r.run_end - first).as_secs_f64();
            (r.blast_radius_users.expect("sessions"), r.exposed_requests(), window)
        })
        .collect()
}

#[test]
fn users_harmed_and_exposure_follow_the_session_model() {
    let (mut harmed, mut exposure) = (0u64, 0u64);
    let (mut want_harmed, mut want_exposure, mut var_exposure) = (0.0, 0.0, 0.0);
    for (h, e, window) in trials(true) {
        let (want_h, want_e, var_e) = with_affinity(window);
        harmed += h;
        exposure += e;
        want_harmed += want_h;
        want_exposure += want_e;
        var_exposure += var_e;
    }
    let (sd_harmed, sd_exposure) = (want_harmed.sqrt(), var_exposure.sqrt());
    assert!(
        (harmed as f64 - want_harmed).abs() < 4.0 * sd_harmed,
        "users harmed {harmed}, model {want_harmed:.0} (sd {sd_harmed:.0})"
    );
    assert!(
        (exposure as f64 - want_exposure).abs() < 4.0 * sd_exposure,
        "exposure {exposure}, model {want_exposure:.0} (sd {sd_exposure:.0})"
    );
}

#[test]
fn users_harmed_without_affinity_follow_the_session_model() {
    let runs = trials(false);
    let harmed: u64 = runs.iter().map(|r| r.0).sum();
    let want: f64 = runs.iter().map(|r| without_affinity(r.2)).sum();
    assert!(
        (harmed as f64 - want).abs() < 4.0 * want.sqrt(),
        "users harmed {harmed}, model {want:.0} (sd {:.0})",
        want.sqrt()
    );
}
