//! Swarm runs: one random scenario and fault mix per seed, run with every
//! invariant checked, as TigerBeetle's simulator does. Any seed that breaks
//! a rule, panics, or makes a scenario the validator rejects is reported with
//! the scenario file that replays it.
//!
//! The generator draws from its own ChaCha stream keyed by the seed, so a
//! seed names one scenario forever (for one version of the generator). One
//! seed in eight is a heavy shape instead (`swarm_heavy`): inputs at and past
//! the limits, which must be refused with a located error or run within
//! their cost estimate. Every case runs under a wall-time and a memory cap
//! (`SwarmOptions`), so a runaway case fails the swarm instead of hanging it.

use crate::scenario;
use crate::sim::{run, RunOptions};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::fmt::Write;
use std::path::Path;

/// Keeps the generator's stream apart from every trial stream.
const SALT: u64 = 0x5357_4152_4d00_0001;

fn pick<'a, R: Rng + ?Sized>(rng: &mut R, options: &[&'a str]) -> &'a str {
    options[rng.random_range(0..options.len())]
}

/// A time drawn as `t` moved inside a run of `end` (same unit): times at or
/// after the end are rejected by validation. Clamping after the draw keeps
/// every other draw of the seed where it was.
fn inside(t: u64, end: u64) -> u64 {
    t.min(end.saturating_sub(1))
}

fn strategy<R: Rng + ?Sized>(rng: &mut R, minutes: u64) -> String {
    match rng.random_range(0..8) {
        0 => {
            let check = rng.random_range(5..60);
            format!(
                "kind = \"canary\"\ninitial_weight_pct = {}\nincrement_pct = {}\nincrement_interval = \"{}s\"\n\
             check_interval = \"{}s\"\n[strategy.success_criteria]\nmax_error_rate_pct = {}\n\
             min_request_count = {}\nevaluation_window = \"{}s\"\n{}",
                rng.random_range(1..60),
                rng.random_range(1..60),
                rng.random_range(1..300),
                check,
                rng.random_range(1..10),
                rng.random_range(0..300),
                // The window covers the checks' spacing and a scrape, as validation requires.
                check.max(10) + rng.random_range(0..90),
                strategy_judges(rng),
            ) + &argo_analysis(rng)
        }
        1 => format!(
            "kind = \"canary\"\npreset = \"{}\"\n",
            pick(
                rng,
                &[
                    "canary-10-percent-5-minutes",
                    "linear-20-percent-every-1-minute",
                    "all-at-once",
                    "canary-50-percent-30-seconds",
                ]
            )
        ),
        2 => format!(
            "kind = \"canary\"\nsteps = [ {{ set_weight = {} }}, {{ pause = {{ duration = \"40s\" }} }}, \
             {{ set_canary_scale = {{ replicas = {} }} }}, {{ set_weight = {} }}, {{ analysis = {{ count = 2 }} }}, \
             {{ pause = {{}} }} ]\nmanual_promotions = [\"{}m\"]\n",
            rng.random_range(1..90),
            rng.random_range(1..3),
            rng.random_range(1..90),
            inside(rng.random_range(3..9), minutes),
        ),
        // Surge at least 1: a percentage of unavailability can round down to 0.
        3 => format!(
            "kind = \"rolling\"\nbatch_size = \"{}%\"\nmax_surge = {}\nmax_unavailable = \"{}%\"\n\
             batch_interval = \"{}s\"\nmax_failure_ratio = {}\nprogress_deadline = \"2m\"\n",
            25 * rng.random_range(1..5),
            rng.random_range(1..3),
            10 * rng.random_range(0..4),
            rng.random_range(0..40),
            f64::from(rng.random_range(0..6)) / 10.0,
        ),
        4 => format!(
            "kind = \"blue_green\"\nvalidation_duration = \"{}s\"\nvalidation_traffic_pct = {}\n\
             auto_promote = {}\nmanual_promotions = [\"{}m\"]\nstage_duration = \"20s\"\nprogress_deadline = \"8m\"\n{}",
            rng.random_range(10..120),
            rng.random_range(1..20),
            rng.random_bool(0.5),
            inside(6, minutes),
            strategy_judges(rng),
        ),
        5 => "kind = \"recreate\"\nprogress_deadline = \"3m\"\n".to_string(),
        6 => format!(
            "kind = \"flagger\"\ninterval = \"{}s\"\nthreshold = {}\nstep_weight = {}\nmax_weight = {}\n\
             min_request_count = {}\n{}[[strategy.metrics]]\nname = \"request-success-rate\"\n\
             threshold_range = {{ min = {} }}\n[[strategy.metrics]]\nname = \"request-duration\"\n\
             threshold_range = {{ max = {} }}\ninterval = \"{}s\"\n",
            rng.random_range(10..120),
            rng.random_range(1..6),
            rng.random_range(1..50),
            rng.random_range(50..100),
            rng.random_range(0..50),
            strategy_judges(rng),
            rng.random_range(90..100),
            rng.random_range(50..2000),
            rng.random_range(10..120),
        ),
        _ => "kind = \"none\"\n".to_string(),
    }
}

/// A Kayenta judge's fields, `key = value` each.
fn kayenta_fields<R: Rng + ?Sized>(rng: &mut R) -> Vec<String> {
    let step = rng.random_range(10..40);
    let confidence = rng.random_range(80..99);
    let fewest = crate::analysis::kayenta::fewest_points_for(f64::from(confidence) / 100.0);
    let points = rng.random_range(3..60).max(fewest as u32);
    let metric = |rng: &mut R| {
        format!(
            "{{ metric = \"{}\", direction = \"{}\", critical = {}, remove_outliers = {} }}",
            pick(rng, &["latency_p50", "latency_p90", "latency_p99", "error_rate"]),
            pick(rng, &["increase", "decrease", "either"]),
            rng.random_bool(0.3),
            rng.random_bool(0.5),
        )
    };
    let metrics: Vec<String> = (0..rng.random_range(1..4)).map(|_| metric(rng)).collect();
    vec![
        "kind = \"kayenta\"".to_string(),
        format!("step = \"{step}s\""),
        format!("min_data_points = {points}"),
        format!("window = \"{}s\"", step * (points + rng.random_range(0..20))),
        format!("confidence = 0.{confidence}"),
        format!("tolerance = 0.{}", rng.random_range(0..5)),
        format!("marginal_score = {}", rng.random_range(0..60)),
        format!("pass_score = {}", rng.random_range(60..101)),
        format!("metrics = [{}]", metrics.join(", ")),
    ]
}

/// Sometimes a `judges` line for a blue-green or Flagger strategy.
fn strategy_judges<R: Rng + ?Sized>(rng: &mut R) -> String {
    match rng.random_range(0..4) {
        0 => format!("judges = [{{ {} }}]\n", kayenta_fields(rng).join(", ")),
        1 => format!(
            "judges = [{{ kind = \"binomial\", alpha = 0.0{}, window = \"{}s\" }}]\n",
            rng.random_range(1..10),
            rng.random_range(10..300)
        ),
        _ => String::new(),
    }
}

/// Sometimes an Argo-style background analysis for a canary.
fn argo_analysis<R: Rng + ?Sized>(rng: &mut R) -> String {
    if rng.random_bool(0.5) {
        return String::new();
    }
    let query = pick(rng, &["error_rate_pct", "success_rate_pct", "p99_ms", "requests"]);
    format!(
        "[[strategy.analysis]]\nquery = \"{query}\"\ninterval = \"{}s\"\ncount = {}\ninitial_delay = \"{}s\"\n\
         success_condition = \"result {} {}\"\nfailure_condition = \"result {} {}\"\nfailure_limit = {}\n\
         inconclusive_limit = {}\nconsecutive_error_limit = {}\nmin_request_count = {}\n",
        rng.random_range(10..120),
        rng.random_range(0..10),
        rng.random_range(0..60),
        pick(rng, &["<", "<=", ">", ">="]),
        rng.random_range(0..500),
        pick(rng, &["<", ">", "==", "!="]),
        rng.random_range(0..500),
        rng.random_range(0..3),
        rng.random_range(0..3),
        rng.random_range(0..5),
        rng.random_range(0..100),
    )
}

fn release<R: Rng + ?Sized>(rng: &mut R) -> String {
    if rng.random_bool(0.4) {
        return "quality = \"good\"\n".to_string();
    }
    format!(
        "quality = \"bad\"\nerror_rate_pct = {}\nlatency_multiplier = {}\nhealth_check_failure_pct = {}\n\
         boot_failure_pct = {}\nmemory_leak_mb_per_hour = {}\n",
        rng.random_range(0..30),
        f64::from(rng.random_range(10..40)) / 10.0,
        rng.random_range(0..40),
        rng.random_range(0..60),
        rng.random_range(0..900),
    )
}

fn triggers<R: Rng + ?Sized>(rng: &mut R, minutes: u64) -> String {
    let mut t = format!(
        "[rollback]\nevaluate_interval = \"{}s\"\npost_deploy_monitoring = \"{}m\"\n",
        rng.random_range(5..40),
        rng.random_range(0..5)
    );
    match rng.random_range(0..3) {
        1 => t.push_str("recovery = \"rolling_rollback\"\nrecovery_batch_size = 2\n"),
        _ => t.push_str("recovery = \"immediate_switch\"\n"),
    }
    let scope = |rng: &mut R| pick(rng, &["service", "new"]);
    if rng.random_bool(0.5) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"error_rate\"\nthreshold = {}\nscope = \"{}\"\n",
            rng.random_range(1..10),
            scope(rng)
        );
    }
    if rng.random_bool(0.3) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"latency\"\nthreshold = \"{}ms\"\npercentile = {}\n",
            rng.random_range(100..1000),
            pick(rng, &["50", "95", "99"])
        );
    }
    if rng.random_bool(0.3) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"availability\"\nbelow_pct = {}\n",
            rng.random_range(90..100)
        );
    }
    if rng.random_bool(0.2) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"custom_metric\"\nmetric = \"{}\"\nthreshold = {}\n",
            pick(
                rng,
                &["memory_mb", "restarts", "in_flight_requests", "cpu_utilization_pct"]
            ),
            rng.random_range(1..800)
        );
    }
    if rng.random_bool(0.2) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"burn_rate\"\nslo_pct = {}\nwindows = [{{ long = \"{}m\", short = \"{}s\", burn_rate = {} }}]\n",
            pick(rng, &["99", "99.9", "95"]),
            rng.random_range(2..60),
            rng.random_range(10..120),
            rng.random_range(1..20)
        );
    }
    if rng.random_bool(0.2) {
        let body = match rng.random_range(0..3) {
            0 => format!(
                "kind = \"sprt\"\np0_pct = {}\np1_pct = {}\nalpha = 0.0{}\nbeta = 0.{}",
                rng.random_range(1..5),
                rng.random_range(5..30),
                rng.random_range(1..10),
                rng.random_range(1..5)
            ),
            1 => format!(
                "kind = \"cusum\"\ntarget_pct = {}\nslack_pct = {}\nlimit_pct = {}",
                rng.random_range(0..3),
                rng.random_range(0..3),
                rng.random_range(1..20)
            ),
            _ => format!(
                "kind = \"ewma\"\nlambda = 0.{}\ntarget_pct = {}\nlimit_pct = {}",
                rng.random_range(1..10),
                rng.random_range(0..3),
                rng.random_range(1..20)
            ),
        };
        let _ = write!(
            t,
            "[[rollback.triggers]]\n{body}\nscope = \"{}\"\nmin_request_count = {}\n",
            scope(rng),
            rng.random_range(0..200)
        );
    }
    if rng.random_bool(0.2) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"binomial\"\nalpha = 0.0{}\nwindow = \"{}s\"\n",
            rng.random_range(1..10),
            rng.random_range(10..300)
        );
    }
    if rng.random_bool(0.15) {
        let _ = writeln!(t, "[[rollback.triggers]]\n{}", kayenta_fields(rng).join("\n"));
    }
    if rng.random_bool(0.1) {
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"manual\"\nat = \"{}m\"\n",
            inside(rng.random_range(1..12), minutes)
        );
    }
    t
}

fn faults<R: Rng + ?Sized>(rng: &mut R, capacity: bool, sessions: bool, minutes: u64) -> String {
    let mut t = String::new();
    for _ in 0..rng.random_range(0..5) {
        let pct = rng.random_range(1..60);
        let secs = rng.random_range(1..600);
        let body = match rng.random_range(0..15) {
            0 => format!("kind = \"error_rate\"\nerror_rate_pct = {pct}"),
            1 => format!("kind = \"latency_regression\"\nmultiplier = {}", 1 + pct / 10),
            2 => format!("kind = \"crash_on_boot\"\nprobability_pct = {pct}"),
            3 => format!("kind = \"crash_loop\"\nafter = \"{secs}s\""),
            4 => format!("kind = \"memory_leak\"\nerror_pct_per_hour = {pct}\nlatency_growth_per_hour = 0.5"),
            5 if capacity => format!("kind = \"failure_under_load\"\nutilisation_pct = 50\nerror_rate_pct = {pct}"),
            6 if sessions => format!("kind = \"failure_for_segment\"\nshare_pct = {pct}\nerror_rate_pct = 100"),
            7 => format!("kind = \"instance_crashes\"\nmtbf = \"{secs}s\""),
            8 => format!("kind = \"zone_outage\"\nzones = 3\nzone = {}", rng.random_range(0..3)),
            9 => format!("kind = \"flaky_health_checks\"\nfalse_failure_pct = {pct}"),
            10 => format!("kind = \"dependency_outage\"\nerror_rate_pct = {pct}"),
            11 => format!("kind = \"traffic_spike\"\nmultiplier = {}", 1 + pct / 10),
            12 => format!("kind = \"dropped_scrapes\"\ndrop_pct = {pct}"),
            13 => format!("kind = \"delayed_scrapes\"\ndelay = \"{}s\"", secs / 10 + 1),
            _ => format!("kind = \"metrics_noise\"\nnoise_pct = {pct}"),
        };
        let timing = if rng.random_bool(0.5) {
            format!("rate_per_hour = {}\nduration = \"{secs}s\"", rng.random_range(1..12))
        } else {
            format!(
                "at = \"{}s\"\nduration = \"{}s\"",
                inside(secs, minutes * 60),
                rng.random_range(10..300)
            )
        };
        let _ = write!(t, "[[faults]]\n{body}\n{timing}\n");
    }
    t
}

/// The scenario file of swarm seed `seed`: every strategy, random fleets,
/// health checks, traffic shapes, capacity, sessions, criteria, triggers and
/// up to four faults, run for at most 20 simulated minutes.
pub fn scenario_for_seed(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SALT);
    let aggregate = rng.random_bool(0.5);
    let capacity = rng.random_bool(0.3);
    let sessions = !aggregate && rng.random_bool(0.3);
    let minutes: u64 = rng.random_range(5..21);
    let mut t = format!(
        "# deploysim swarm seed {seed}\nname = \"swarm-{seed}\"\nseed = {seed}\nfidelity = \"{}\"\n\
         [simulation]\nmax_duration = \"{minutes}m\"\ncooldown = \"30s\"\n",
        if aggregate { "aggregate" } else { "request" },
    );
    let _ = write!(
        t,
        "[fleet]\ninstances = {}\nprovision_time = {{ dist = \"uniform\", min = \"0s\", max = \"{}s\" }}\n\
         boot_time = {{ dist = \"exponential\", mean = \"{}s\" }}\nstop_time = \"{}s\"\n",
        rng.random_range(1..13),
        rng.random_range(0..30),
        rng.random_range(0..15),
        rng.random_range(0..10),
    );
    let _ = write!(
        t,
        "[health_check]\ninterval = \"{}s\"\ntimeout = \"{}ms\"\nhealthy_threshold = {}\n\
         unhealthy_threshold = {}\nstart_healthy = {}\n",
        rng.random_range(2..15),
        rng.random_range(100..1000),
        rng.random_range(1..3),
        rng.random_range(1..4),
        rng.random_bool(0.5),
    );
    if capacity {
        let _ = write!(
            t,
            "[capacity]\nconcurrency = {}\nqueue_timeout = \"{}ms\"\n",
            rng.random_range(1..6),
            rng.random_range(100..3000)
        );
    }
    if sessions {
        t.push_str("[sessions]\nmean_requests = 10\nmean_duration = \"2m\"\n");
    }
    let balancers: &[&str] = if sessions {
        &["random", "round_robin", "least_outstanding", "consistent_hash"]
    } else {
        &["random", "round_robin", "least_outstanding"]
    };
    let _ = write!(t, "[traffic]\nbalancer = \"{}\"\n", pick(&mut rng, balancers));
    let rate = rng.random_range(0..150);
    match rng.random_range(0..3) {
        0 => {
            let _ = writeln!(t, "rate_rps = {rate}");
        }
        1 => {
            let _ = write!(
                t,
                "shape = \"diurnal\"\npeak_rps = {}\ntrough_rps = {}\nperiod = \"{}m\"\n",
                rate + 10,
                rate / 4,
                rng.random_range(5..60)
            );
        }
        _ => {
            let _ = write!(
                t,
                "rate_rps = {rate}\n[[traffic.spikes]]\nat = \"{}s\"\nduration = \"{}s\"\nmultiplier = {}\n",
                inside(rng.random_range(0..600), minutes * 60),
                rng.random_range(10..120),
                rng.random_range(2..5)
            );
        }
    }
    let _ = write!(t, "[release]\n{}", release(&mut rng));
    let _ = write!(t, "[strategy]\n{}", strategy(&mut rng, minutes));
    t.push_str(&triggers(&mut rng, minutes));
    t.push_str(&faults(&mut rng, capacity, sessions, minutes));
    if rng.random_bool(0.35) {
        t.push_str(&gaming(&mut rng, &t));
    }
    t
}

/// A `[gaming]` table (the gaming-aware path where the strategy allows it),
/// a game error rate, and sometimes gaming criteria and triggers.
fn gaming<R: Rng + ?Sized>(rng: &mut R, so_far: &str) -> String {
    let checks = ["kind = \"canary\"", "kind = \"blue_green\""]
        .iter()
        .any(|k| so_far.contains(k));
    let aware_allowed = checks || so_far.contains("kind = \"none\"");
    let players = rng.random_range(1..8);
    let rounds = rng.random_range(1..5);
    let mut t = format!(
        "[stable]\ngame_error_rate_pct = {}\n[gaming]\naware = {}\ngames_per_minute = {}\n\
         players_min = {players}\nplayers_max = {}\nrounds_min = {rounds}\nrounds_max = {}\n\
         waiting = {{ dist = \"uniform\", min = \"1s\", max = \"{}s\" }}\n\
         betting = {{ dist = \"exponential\", mean = \"{}s\" }}\nrolling = \"{}s\"\npayout = \"{}s\"\n\
         migration_cutoff = \"{}s\"\ndrain_timeout = \"{}s\"\n",
        rng.random_range(0..20),
        aware_allowed && rng.random_bool(0.7),
        rng.random_range(0..120),
        players + rng.random_range(0..4),
        rounds + rng.random_range(0..3),
        rng.random_range(2..40),
        rng.random_range(1..90),
        rng.random_range(1..10),
        rng.random_range(1..10),
        rng.random_range(0..60),
        rng.random_range(1..300),
    );
    if checks && rng.random_bool(0.5) {
        let _ = write!(
            t,
            "[gaming.criteria]\nmin_games = {}\nwindow = \"{}s\"\n",
            rng.random_range(0..10),
            rng.random_range(30..400)
        );
    }
    if rng.random_bool(0.5) {
        let kind = pick(
            rng,
            &["game_completion", "bet_success", "session_continuity", "game_latency"],
        );
        let threshold = if kind == "game_latency" {
            format!("threshold = \"{}ms\"", rng.random_range(10..400))
        } else {
            format!("below_pct = {}", rng.random_range(50..100))
        };
        let _ = write!(
            t,
            "[[rollback.triggers]]\nkind = \"{kind}\"\n{threshold}\nwindow = \"{}s\"\n",
            rng.random_range(30..400)
        );
    }
    t
}

/// What went wrong with one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SwarmFailure {
    /// The seed.
    pub seed: u64,
    /// The broken invariant, the panic, or the validator's complaint.
    pub problem: String,
    /// The scenario that reproduces it.
    pub scenario: String,
}

/// What a swarm allows each case, and the budget its heavy shapes carry.
#[derive(Clone, Copy, Debug)]
pub struct SwarmOptions {
    /// Wall time one seed may take before it fails (a runaway case).
    pub case_wall: std::time::Duration,
    /// Memory one seed's run may grow by before it fails, bytes (counted
    /// where the binary's metering allocator is installed).
    pub case_bytes: i64,
    /// `simulation.work_budget` of every heavy scenario: small, so an
    /// accepted heavy case runs in seconds and the rest are refused.
    pub heavy_work_budget: f64,
    /// `simulation.memory_budget_mb` of every heavy scenario.
    pub heavy_memory_budget_mb: u32,
}

impl Default for SwarmOptions {
    fn default() -> Self {
        SwarmOptions {
            case_wall: std::time::Duration::from_secs(60),
            case_bytes: 1 << 30,
            heavy_work_budget: 2e7,
            heavy_memory_budget_mb: 256,
        }
    }
}

/// Runs seeds `first..first + count` with every invariant checked (and the
/// no-rollout counterfactual), in parallel; returns the failures in seed
/// order.
pub fn run_swarm(
    first: u64,
    count: u64,
    threads: usize,
    opts: &SwarmOptions,
    mut progress: impl FnMut(u64, u64),
) -> Vec<SwarmFailure> {
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build() {
        Ok(pool) => pool,
        Err(e) => {
            return vec![SwarmFailure {
                seed: first,
                problem: format!("cannot start worker threads: {e}"),
                scenario: String::new(),
            }]
        }
    };
    let mut failures = Vec::new();
    let mut done = 0;
    // Callers keep first + count within u64 (the CLI within i64).
    let end = first.saturating_add(count);
    for start in (first..end).step_by(64) {
        let seeds: Vec<u64> = (start..end.min(start.saturating_add(64))).collect();
        let batch: Vec<Option<SwarmFailure>> =
            pool.install(|| seeds.par_iter().map(|&s| check_seed(s, opts)).collect());
        failures.extend(batch.into_iter().flatten());
        done += seeds.len() as u64;
        progress(done, count);
    }
    failures
}

/// The scenario file of any seed: the heavy case's scenario for a heavy
/// seed, [`scenario_for_seed`]'s otherwise.
pub fn scenario_text(seed: u64, opts: &SwarmOptions) -> String {
    if super::swarm_heavy::is_heavy(seed) {
        super::swarm_heavy::heavy_case(seed, opts).scenario
    } else {
        scenario_for_seed(seed)
    }
}

/// Runs one seed's scenario with every check on, under the case caps.
pub fn check_seed(seed: u64, opts: &SwarmOptions) -> Option<SwarmFailure> {
    if super::swarm_heavy::is_heavy(seed) {
        return super::swarm_heavy::check_heavy(seed, opts);
    }
    let text = scenario_for_seed(seed);
    let fail = |problem: String| {
        Some(SwarmFailure {
            seed,
            problem,
            scenario: text.clone(),
        })
    };
    let scenario = match scenario::parse(Path::new("swarm.toml"), &text, "swarm") {
        Ok(s) => s,
        Err(errors) => {
            let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
            return fail(format!("the generator made a scenario the validator rejects: {first}"));
        }
    };
    let run_opts = RunOptions {
        check_invariants: true,
        keep_detail: false,
        guard: Some(crate::guard::RunGuard::start(
            Some(opts.case_wall),
            Some(opts.case_bytes),
        )),
        ..RunOptions::default()
    };
    match std::panic::catch_unwind(|| run(&scenario, seed, run_opts)) {
        Ok(Ok(_)) => None,
        Ok(Err(violation)) => fail(violation.to_string()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            fail(format!("panicked: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_names_one_valid_scenario() {
        for seed in 0..300 {
            let text = scenario_for_seed(seed);
            assert_eq!(text, scenario_for_seed(seed));
            if let Err(e) = scenario::parse(Path::new("swarm.toml"), &text, "swarm") {
                panic!("seed {seed}: {}\n{text}", e[0]);
            }
        }
        assert_ne!(scenario_for_seed(1), scenario_for_seed(2));
    }
}
