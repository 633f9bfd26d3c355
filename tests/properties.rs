//! Property tests: random valid scenarios of every strategy, with random
//! fleets, traffic, criteria and triggers, run short with every invariant
//! checked after every event (debug builds). No panic, no broken invariant,
//! consistent summaries, and the same bytes twice. A failing case is written
//! out (shrunk) as a scenario file, ready to become a regression test in
//! tests/regressions/.

mod common;

use deploysim::report::csv_out::{events_csv, summary_csv};
use deploysim::sim::{run, RunOptions};
use proptest::prelude::*;
use std::fmt::Write;

fn strategy_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..60, 1u32..60, 1u64..300).prop_map(|(w, inc, secs)| format!(
            "kind = \"canary\"\ninitial_weight_pct = {w}\nincrement_pct = {inc}\nincrement_interval = \"{secs}s\"\n"
        )),
        prop::sample::select(vec![
            "canary-10-percent-5-minutes",
            "linear-20-percent-every-1-minute",
            "all-at-once",
            "canary-50-percent-30-seconds",
        ])
        .prop_map(|p| format!("kind = \"canary\"\npreset = \"{p}\"\n")),
        (1u32..90, 1u32..90, 1u64..3).prop_map(|(a, b, r)| format!(
            "kind = \"canary\"\nsteps = [ {{ set_weight = {a} }}, {{ pause = {{ duration = \"40s\" }} }}, \
             {{ set_canary_scale = {{ replicas = {r} }} }}, {{ set_weight = {b} }}, {{ analysis = {{ count = 2 }} }}, \
             {{ pause = {{}} }} ]\nmanual_promotions = [\"5m\"]\n"
        )),
        // Surge at least 1: a percentage of unavailability can round down to 0.
        (1u32..4, 1u32..3, 0u32..3, 0u64..40, 0u32..5).prop_map(|(batch, surge, unavail, interval, ratio)| {
            format!(
                "kind = \"rolling\"\nbatch_size = \"{}%\"\nmax_surge = {surge}\nmax_unavailable = \"{}%\"\n\
                 batch_interval = \"{interval}s\"\nmax_failure_ratio = {}\nprogress_deadline = \"2m\"\n",
                batch * 25,
                unavail * 10,
                f64::from(ratio) / 10.0
            )
        }),
        (10u64..120, 1u32..20, any::<bool>()).prop_map(|(validation, pct, auto)| format!(
            "kind = \"blue_green\"\nvalidation_duration = \"{validation}s\"\nvalidation_traffic_pct = {pct}\n\
             auto_promote = {auto}\nmanual_promotions = [\"6m\"]\nstage_duration = \"20s\"\nprogress_deadline = \"8m\"\n"
        )),
        Just("kind = \"recreate\"\nprogress_deadline = \"3m\"\n".to_string()),
        Just("kind = \"none\"\n".to_string()),
    ]
}

fn release_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("quality = \"good\"\n".to_string()),
        (0u32..30, 1u32..40, 0u32..40, 0u32..60, 0u32..900).prop_map(|(err, lat, probe, boot, leak)| format!(
            "quality = \"bad\"\nerror_rate_pct = {err}\nlatency_multiplier = {}\nhealth_check_failure_pct = {probe}\n\
             boot_failure_pct = {boot}\nmemory_leak_mb_per_hour = {leak}\n",
            f64::from(lat) / 10.0
        )),
    ]
}

fn triggers_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..3,
    )
        .prop_map(|(err, lat, avail, custom, manual, recovery)| {
            let mut t = String::from("[rollback]\nevaluate_interval = \"20s\"\npost_deploy_monitoring = \"3m\"\n");
            let _ = writeln!(
                t,
                "recovery = \"{}\"",
                ["immediate_switch", "rolling_rollback", "immediate_switch"][recovery as usize]
            );
            if recovery == 1 {
                t.push_str("recovery_batch_size = 2\n");
            }
            if err {
                t.push_str("[[rollback.triggers]]\nkind = \"error_rate\"\nthreshold = 2\nscope = \"new\"\n");
            }
            if lat {
                t.push_str("[[rollback.triggers]]\nkind = \"latency\"\nthreshold = \"300ms\"\npercentile = 95\n");
            }
            if avail {
                t.push_str("[[rollback.triggers]]\nkind = \"availability\"\nbelow_pct = 97\n");
            }
            if custom {
                t.push_str(
                    "[[rollback.triggers]]\nkind = \"custom_metric\"\nmetric = \"memory_mb\"\nthreshold = 600\n",
                );
            }
            if manual {
                t.push_str("[[rollback.triggers]]\nkind = \"manual\"\nat = \"7m\"\n");
            }
            t
        })
}

/// Optional world features: capacity, sessions, balancer, traffic shape,
/// faults. `request` says whether the scenario is in request mode (sessions
/// need it).
fn world_text(request: bool) -> impl Strategy<Value = String> {
    (
        prop::option::of((1u32..6, 100u64..3000)),
        any::<bool>(),
        0u8..4,
        0u8..3,
        prop::collection::vec((0u8..15, any::<bool>(), 1u64..600, 1u32..50), 0..4),
    )
        .prop_map(move |(capacity, sessions, balancer, shape, faults)| {
            let sessions = sessions && request;
            let mut t = String::new();
            if let Some((c, timeout)) = capacity {
                let _ = write!(t, "[capacity]\nconcurrency = {c}\nqueue_timeout = \"{timeout}ms\"\n");
            }
            if sessions {
                t.push_str("[sessions]\nmean_requests = 10\nmean_duration = \"2m\"\n");
            }
            let balancers = ["random", "round_robin", "least_outstanding", "consistent_hash"];
            let b = if balancer == 3 && !sessions {
                0
            } else {
                balancer as usize
            };
            let _ = write!(t, "[traffic]\nbalancer = \"{}\"\n", balancers[b]);
            match shape {
                0 => t.push_str("rate_rps = 60\n"),
                1 => t.push_str("shape = \"diurnal\"\npeak_rps = 90\ntrough_rps = 10\nperiod = \"20m\"\n"),
                _ => t.push_str("rate_rps = 40\n[[traffic.spikes]]\nat = \"3m\"\nduration = \"1m\"\nmultiplier = 3\n"),
            }
            for (kind, random, secs, pct) in faults {
                let body = match kind {
                    0 => format!("kind = \"error_rate\"\nerror_rate_pct = {pct}"),
                    1 => format!("kind = \"latency_regression\"\nmultiplier = {}", 1 + pct / 10),
                    2 => format!("kind = \"crash_on_boot\"\nprobability_pct = {pct}"),
                    3 => format!("kind = \"crash_loop\"\nafter = \"{secs}s\""),
                    4 => format!("kind = \"memory_leak\"\nerror_pct_per_hour = {pct}\nlatency_growth_per_hour = 0.5"),
                    5 if capacity.is_some() => {
                        format!("kind = \"failure_under_load\"\nutilisation_pct = 50\nerror_rate_pct = {pct}")
                    }
                    6 if sessions => format!("kind = \"failure_for_segment\"\nshare_pct = {pct}\nerror_rate_pct = 100"),
                    7 => format!("kind = \"instance_crashes\"\nmtbf = \"{secs}s\""),
                    8 => "kind = \"zone_outage\"\nzones = 3\nzone = 1".to_string(),
                    9 => format!("kind = \"flaky_health_checks\"\nfalse_failure_pct = {pct}"),
                    10 => format!("kind = \"dependency_outage\"\nerror_rate_pct = {pct}"),
                    11 => format!("kind = \"traffic_spike\"\nmultiplier = {}", 1 + pct / 10),
                    12 => format!("kind = \"dropped_scrapes\"\ndrop_pct = {pct}"),
                    13 => format!("kind = \"delayed_scrapes\"\ndelay = \"{}s\"", secs / 10 + 1),
                    _ => format!("kind = \"metrics_noise\"\nnoise_pct = {pct}"),
                };
                let timing = if random {
                    format!("rate_per_hour = 6\nduration = \"{secs}s\"")
                } else {
                    format!("at = \"{secs}s\"\nduration = \"2m\"")
                };
                let _ = write!(t, "[[faults]]\n{body}\n{timing}\n");
            }
            t
        })
}

prop_compose! {
    fn scenario_text()(aggregate in any::<bool>())(
        aggregate in Just(aggregate),
        instances in 1u32..12,
        provision in 0u64..30,
        boot in 0u64..15,
        stop in 0u64..10,
        healthy in 1u32..3,
        unhealthy in 1u32..4,
        start_healthy in any::<bool>(),
        strategy in strategy_text(),
        release in release_text(),
        triggers in triggers_text(),
        world in world_text(!aggregate),
    ) -> String {
        format!(
            "name = \"prop\"\nfidelity = \"{}\"\n[simulation]\nmax_duration = \"15m\"\ncooldown = \"30s\"\n\
             [fleet]\ninstances = {instances}\nprovision_time = {{ dist = \"uniform\", min = \"0s\", max = \"{provision}s\" }}\n\
             boot_time = {{ dist = \"exponential\", mean = \"{boot}s\" }}\nstop_time = \"{stop}s\"\n\
             [health_check]\ninterval = \"5s\"\ntimeout = \"400ms\"\nhealthy_threshold = {healthy}\n\
             unhealthy_threshold = {unhealthy}\nstart_healthy = {start_healthy}\n\
             {world}[release]\n{release}[strategy]\n{strategy}{triggers}",
            if aggregate { "aggregate" } else { "request" }
        )
    }
}

proptest! {
    // 200 cases in CI; PROPTEST_CASES=N runs more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(200),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_scenarios_keep_every_invariant_and_replay_exactly(text in scenario_text(), seed in 0u64..1000) {
        // Each case is written out before it runs; a failing one is kept as
        // a scenario file (seed included). Proptest shrinks a failure, and
        // every smaller failing case overwrites the file, so what is left is
        // the smallest: copy it into tests/regressions/ to keep it.
        let file = format!("seed = {seed}\n{text}");
        let result = std::panic::catch_unwind(|| check_case(&text, seed))
            .unwrap_or_else(|_| Err(TestCaseError::fail("panicked")));
        if let Err(e) = &result {
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("proptest-failures");
            let path = dir.join("smallest-failure.toml");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(&path, format!("# {e}\n{file}"));
            eprintln!("failing case written to {}", path.display());
        }
        result?;
    }
}

/// One case: valid, no broken invariant, consistent summary, same bytes twice.
fn check_case(text: &str, seed: u64) -> Result<(), TestCaseError> {
    // The generators only make valid scenarios: a rejection is a bug in
    // the generator or the validator, and fails the case.
    let parsed = deploysim::scenario::parse(std::path::Path::new("prop.toml"), text, "prop");
    prop_assert!(parsed.is_ok(), "{:?}\n--- scenario:\n{text}", parsed.err());
    let scenario = parsed.unwrap();
    let a = run(&scenario, seed, RunOptions::default());
    prop_assert!(a.is_ok(), "{}\n--- scenario:\n{text}", a.unwrap_err());
    let a = a.unwrap();
    let m = &a.summary;
    prop_assert!(m.blast_radius_requests() <= m.exposed_requests(), "{text}");
    prop_assert!(m.exposed_requests() <= m.requests_total(), "{text}");
    prop_assert_eq!(m.ttd().is_some(), m.rollback_performed, "{}", text);
    if scenario.strategy.kind() != "none" {
        prop_assert!(m.outcome.is_some(), "{text}");
    }
    let b = run(&scenario, seed, RunOptions::default()).unwrap();
    prop_assert_eq!(summary_csv(&a.summary), summary_csv(&b.summary));
    prop_assert_eq!(events_csv(&a.events), events_csv(&b.events));
    Ok(())
}
