//! Limits: every count and list has a cap, every expansion is bounded before
//! it allocates, arithmetic on user numbers cannot wrap, times past the end
//! are errors, and the cost budget names what drives a run over it. Every
//! rejection is located (line, column, field) and says what is allowed.

use super::*;
use crate::scenario::limits::*;
use std::path::Path;

const BASE: &str = r#"name = "t"
[simulation]
max_duration = "1h"
[fleet]
instances = 4
[traffic]
rate_rps = 10
[release]
quality = "good"
[strategy]
kind = "canary"
"#;

fn parse_text(text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    parse(Path::new("limits.toml"), text, "limits")
}

/// The errors of `text`, which must be rejected, each located in the file.
fn errors(text: &str) -> Vec<ScenarioError> {
    let errors = parse_text(text).expect_err("the scenario should be rejected");
    for e in &errors {
        assert!(e.line.is_some() && e.column.is_some(), "not located: {e}");
        assert!(!e.field.allowed.is_empty(), "says nothing allowed: {e}");
    }
    errors
}

/// The error at `field`, which must be among the errors of `text`.
fn error_at(text: &str, field: &str) -> ScenarioError {
    let all = errors(text);
    all.iter()
        .find(|e| e.field.path == field)
        .cloned()
        .unwrap_or_else(|| panic!("no error at {field}: {all:#?}"))
}

fn with(replace: &str, by: &str) -> String {
    assert!(BASE.contains(replace), "{replace:?} not in BASE");
    BASE.replacen(replace, by, 1)
}

#[test]
fn the_base_is_valid() {
    parse_text(BASE).unwrap();
}

#[test]
fn a_linear_preset_with_a_tiny_percentage_is_refused_before_it_expands() {
    // It used to expand to 1e9 steps (a multi-gigabyte allocation) inside
    // validation.
    let text = with(
        "kind = \"canary\"",
        "kind = \"canary\"\npreset = \"linear-0.0000001-percent-every-1-minute\"",
    );
    let e = error_at(&text, "strategy.preset");
    assert_eq!(
        e.line,
        Some(text.lines().position(|l| l.starts_with("preset")).unwrap() + 1)
    );
    assert!(e.field.problem.contains("more than 1000 steps"), "{e}");
    assert!(e.field.allowed.contains("1000 steps"), "{e}");
}

#[test]
fn a_preset_wait_that_overflows_is_refused_not_wrapped() {
    // 5124095576030431 hours in microseconds wraps a u64 to 48 s.
    let text = with(
        "kind = \"canary\"",
        "kind = \"canary\"\npreset = \"canary-10-percent-5124095576030431-hours\"",
    );
    let e = error_at(&text, "strategy.preset");
    assert!(e.field.problem.contains("longer than the longest run"), "{e}");
    assert!(e.field.allowed.contains("720 hours"), "{e}");
}

#[test]
fn a_shorthand_increment_too_small_to_move_the_weight_is_refused() {
    // 99.99999999 + 1e-300 == 99.99999999: the expansion never reached 100.
    let text = with(
        "kind = \"canary\"",
        "kind = \"canary\"\ninitial_weight_pct = 99.99999999\nincrement_pct = 1e-300",
    );
    let e = error_at(&text, "strategy.increment_pct");
    assert!(e.field.problem.contains("more than 1000 steps"), "{e}");
}

/// `n` copies of `item` joined by `sep`.
fn repeat(item: &str, n: usize, sep: &str) -> String {
    vec![item; n].join(sep)
}

/// BASE with `keys` added to its [strategy] table.
fn strategy_keys(keys: &str) -> String {
    with("kind = \"canary\"", &format!("kind = \"canary\"\n{keys}"))
}

#[test]
fn every_list_has_a_cap_named_in_its_error() {
    let judges = |at: &str| format!("{at} = [{}]", repeat("{ kind = \"binomial\" }", MAX_JUDGES + 1, ", "));
    let numbers = |n: usize, scale: f64| {
        (1..=n)
            .map(|i| format!("{}", i as f64 * scale))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cases: Vec<(String, &str, usize)> = vec![
        (
            format!(
                "{BASE}[health_check]\nexpected_status_codes = [{}]\n",
                repeat("200", MAX_STATUS_CODES + 1, ", ")
            ),
            "health_check.expected_status_codes",
            MAX_STATUS_CODES,
        ),
        (
            format!(
                "{BASE}{}",
                repeat(
                    "[[traffic.spikes]]\nat = \"1m\"\nduration = \"1m\"\nmultiplier = 2\n",
                    MAX_SPIKES + 1,
                    ""
                )
            ),
            "traffic.spikes",
            MAX_SPIKES,
        ),
        (
            format!(
                "{BASE}[metrics]\nbuckets = [{}]\n",
                (1..=MAX_BUCKETS + 1)
                    .map(|i| format!("\"{i}ms\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "metrics.buckets",
            MAX_BUCKETS,
        ),
        (
            strategy_keys(&format!(
                "steps = [{}]",
                repeat("{ set_weight = 10 }", MAX_STEPS + 1, ", ")
            )),
            "strategy.steps",
            MAX_STEPS,
        ),
        (
            strategy_keys(&format!(
                "manual_promotions = [{}]",
                repeat("\"1m\"", MAX_MANUAL_PROMOTIONS + 1, ", ")
            )),
            "strategy.manual_promotions",
            MAX_MANUAL_PROMOTIONS,
        ),
        (
            strategy_keys(&format!("[strategy.success_criteria]\n{}", judges("judges"))),
            "strategy.success_criteria.judges",
            MAX_JUDGES,
        ),
        (
            format!(
                "{BASE}{}",
                repeat(
                    "[[strategy.analysis]]\nquery = \"success_rate_pct\"\nsuccess_condition = \"result >= 99\"\n",
                    MAX_ANALYSIS_METRICS + 1,
                    ""
                )
            ),
            "strategy.analysis",
            MAX_ANALYSIS_METRICS,
        ),
        (
            format!(
                "{BASE}{}",
                repeat(
                    "[[rollback.triggers]]\nkind = \"error_rate\"\nthreshold = 1\n",
                    MAX_TRIGGERS + 1,
                    ""
                )
            ),
            "rollback.triggers",
            MAX_TRIGGERS,
        ),
        (
            format!(
                "{BASE}[[rollback.triggers]]\nkind = \"burn_rate\"\nslo_pct = 99.9\nwindows = [{}]\n",
                repeat(
                    "{ long = \"1h\", short = \"5m\", burn_rate = 14.4 }",
                    MAX_BURN_WINDOWS + 1,
                    ", "
                )
            ),
            "rollback.triggers[0].windows",
            MAX_BURN_WINDOWS,
        ),
        (
            format!(
                "{BASE}[[rollback.triggers]]\nkind = \"kayenta\"\nmetrics = [{}]\n",
                repeat("{ metric = \"error_rate\" }", MAX_KAYENTA_METRICS + 1, ", ")
            ),
            "rollback.triggers[0].metrics",
            MAX_KAYENTA_METRICS,
        ),
        (
            format!(
                "{BASE}{}",
                repeat(
                    "[[faults]]\nkind = \"error_rate\"\nerror_rate_pct = 1\nat = \"1m\"\n",
                    MAX_FAULTS + 1,
                    ""
                )
            ),
            "faults",
            MAX_FAULTS,
        ),
        (
            format!(
                "{BASE}{}",
                repeat("[[history]]\nversion = \"stable\"\n", MAX_HISTORY + 1, "")
            ),
            "history",
            MAX_HISTORY,
        ),
        (
            with(
                "kind = \"canary\"",
                &format!(
                    "kind = \"flagger\"\nstep_weights = [{}]",
                    numbers(MAX_WEIGHTS + 1, 0.05)
                ),
            ),
            "strategy.step_weights",
            MAX_WEIGHTS,
        ),
        (
            format!(
                "{}{}",
                with("kind = \"canary\"", "kind = \"flagger\""),
                repeat(
                    "[[strategy.metrics]]\nname = \"request-success-rate\"\nthreshold_range = { min = 99 }\n",
                    MAX_FLAGGER_METRICS + 1,
                    ""
                )
            ),
            "strategy.metrics",
            MAX_FLAGGER_METRICS,
        ),
        (
            with(
                "kind = \"canary\"",
                &format!("kind = \"flagger\"\n{}", judges("judges")),
            ),
            "strategy.judges",
            MAX_JUDGES,
        ),
        (
            with(
                "kind = \"canary\"",
                &format!(
                    "kind = \"blue_green\"\nswitch_stages_pct = [{}]",
                    numbers(MAX_SWITCH_STAGES + 1, 0.5)
                ),
            ),
            "strategy.switch_stages_pct",
            MAX_SWITCH_STAGES,
        ),
    ];
    for (text, field, cap) in cases {
        let e = error_at(&text, field);
        assert!(e.field.problem.contains(&format!("has {}", cap + 1)), "{field}: {e}");
        assert!(e.field.allowed.contains(&format!("at most {cap}")), "{field}: {e}");
        // Entries past the cap are not checked one by one.
        let count = errors(&text).len();
        assert!(count <= 21, "{field}: {count} errors");
    }
}

#[test]
fn a_file_of_empty_entries_is_refused_before_the_parser_builds_its_tree() {
    // Under the 1 MiB size limit but over the value limit: the pre-scan
    // stops at the first value past it and names the field.
    let text = format!("{BASE}steps = [{}]\n", repeat("{}", MAX_TOML_VALUES, ","));
    assert!(text.len() < MAX_FILE_BYTES as usize);
    let all = errors(&text);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].field.path, "strategy.steps");
    assert_eq!(all[0].line, Some(BASE.lines().count() + 1));
    assert!(all[0].field.problem.contains("100000 values"), "{}", all[0]);
}

#[test]
fn counts_that_could_wrap_in_a_controller_are_capped() {
    // max_surge near 2^32 wrapped n + max_surge in release builds and turned
    // a good rolling release into a rollback; counts now stop at the
    // largest fleet, and the controllers saturate besides.
    for (field, value) in [
        ("max_surge", "4294967295"),
        ("max_surge", "10001"),
        ("batch_size", "4294967296"),
        ("max_unavailable", "9223372036854775807"),
    ] {
        let text = with("kind = \"canary\"", &format!("kind = \"rolling\"\n{field} = {value}"));
        let e = error_at(&text, &format!("strategy.{field}"));
        assert!(e.field.allowed.contains("from 0 to 10000"), "{e}");
    }
    // At the limit, a good rolling release promotes.
    let text = with("kind = \"canary\"", "kind = \"rolling\"\nmax_surge = 10000");
    let s = parse_text(&text).unwrap();
    let r = crate::sim::run(&s, 1, crate::sim::RunOptions::default()).unwrap();
    assert_eq!(r.summary.outcome, Some(crate::strategy::Outcome::Promoted));
}

#[test]
fn times_past_the_end_of_the_run_are_errors() {
    let cases = [
        (
            format!("{BASE}[[faults]]\nkind = \"error_rate\"\nerror_rate_pct = 5\nat = \"1h\"\n"),
            "faults[0].at",
        ),
        (
            with(
                "rate_rps = 10",
                "rate_rps = 10\n[[traffic.spikes]]\nat = \"2h\"\nduration = \"1m\"\nmultiplier = 2",
            ),
            "traffic.spikes[0].at",
        ),
        (
            format!("{BASE}[[rollback.triggers]]\nkind = \"manual\"\nat = \"61m\"\n"),
            "rollback.triggers[0].at",
        ),
        (
            with(
                "kind = \"canary\"",
                "kind = \"canary\"\nmanual_promotions = [\"5m\", \"1h\"]",
            ),
            "strategy.manual_promotions[1]",
        ),
    ];
    for (text, field) in cases {
        let e = error_at(&text, field);
        assert!(
            e.field
                .problem
                .contains("is not before simulation.max_duration (3600.000s)"),
            "{e}"
        );
        assert!(e.field.allowed.contains("before simulation.max_duration"), "{e}");
    }
    // Just inside the run is fine.
    parse_text(&format!(
        "{BASE}[[faults]]\nkind = \"error_rate\"\nerror_rate_pct = 5\nat = \"59m59s\"\n"
    ))
    .unwrap();
}

#[test]
fn crash_faults_keep_instances_alive_at_least_a_second() {
    for (kind, field) in [("crash_loop", "after"), ("instance_crashes", "mtbf")] {
        let text = format!("{BASE}[[faults]]\nkind = \"{kind}\"\n{field} = \"999ms\"\n");
        let e = error_at(&text, &format!("faults[0].{field}"));
        assert!(e.field.allowed.contains("at least 1s"), "{e}");
        parse_text(&format!("{BASE}[[faults]]\nkind = \"{kind}\"\n{field} = \"1s\"\n")).unwrap();
    }
}

#[test]
fn the_budget_blames_a_balancer_that_scans_a_large_fleet() {
    // 10,000 instances read on every one of 2 x 3.6e6 requests, over the
    // default budget; the same fleet with a random pick is fine.
    let big = with("instances = 4", "instances = 10000")
        .replace("rate_rps = 10", "rate_rps = 1000\nbalancer = \"least_outstanding\"");
    let e = error_at(&big, "fleet.instances");
    assert!(e.field.problem.contains("balancer least_outstanding"), "{e}");
    assert!(e.field.problem.contains("of the 1.0e9 budget"), "{e}");
    assert!(e.field.allowed.contains("simulation.work_budget"), "{e}");
    parse_text(&big.replace("least_outstanding", "random")).unwrap();
    // Raised on purpose, it runs.
    let raised = big.replace("max_duration = \"1h\"", "max_duration = \"1h\"\nwork_budget = 1e11");
    parse_text(&raised).unwrap();
}

#[test]
fn the_budget_blames_a_kayenta_judge_with_a_long_series() {
    // 1,000 points a side: a million differences per metric per evaluation,
    // every 10 s for 30 days.
    let text = format!(
        "fidelity = \"aggregate\"\n{}[rollback]\nevaluate_interval = \"10s\"\n[[rollback.triggers]]\n\
         kind = \"kayenta\"\nstep = \"10s\"\nwindow = \"10000s\"\n\
         metrics = [{{ metric = \"error_rate\" }}, {{ metric = \"latency_p99\" }}]\n",
        with("max_duration = \"1h\"", "max_duration = \"720h\"")
    );
    let e = error_at(&text, "rollback.triggers[0]");
    assert!(e.field.problem.contains("kayenta"), "{e}");
    // A tenth of the points is a hundredth of the differences.
    parse_text(&text.replace("window = \"10000s\"", "window = \"1000s\"")).unwrap();
}

#[test]
fn the_memory_budget_blames_what_fills_it() {
    // A million scrapes of 65 buckets is over a gigabyte.
    let text = format!(
        "fidelity = \"aggregate\"\n{}[metrics]\nscrape_interval = \"1s\"\nbuckets = [{}]\n",
        with("max_duration = \"1h\"", "max_duration = \"277h\""),
        (1..=64).map(|i| format!("\"{i}ms\"")).collect::<Vec<_>>().join(", ")
    );
    parse_text(&text).unwrap();
    let tight = text.replace(
        "max_duration = \"277h\"",
        "max_duration = \"277h\"\nmemory_budget_mb = 500",
    );
    let e = error_at(&tight, "metrics.scrape_interval");
    assert!(e.field.problem.contains("of the 500 MB memory budget"), "{e}");
    assert!(e.field.allowed.contains("simulation.memory_budget_mb"), "{e}");
}

#[test]
fn budgets_are_checked_fields() {
    for (field, value) in [
        ("work_budget", "0"),
        ("work_budget", "1e14"),
        ("work_budget", "nan"),
        ("memory_budget_mb", "-1"),
        ("memory_budget_mb", "1e7"),
    ] {
        let text = with(
            "max_duration = \"1h\"",
            &format!("max_duration = \"1h\"\n{field} = {value}"),
        );
        error_at(&text, &format!("simulation.{field}"));
    }
}

#[test]
fn the_estimate_grows_with_what_drives_it() {
    let cost = |text: &str| cost::estimate(&parse_text(text).unwrap());
    let base = cost(BASE);
    assert!(base.work > 0.0 && base.events > 0.0 && base.memory_bytes > 0.0);
    // Twice the rate, about twice the requests (and the largest share).
    let double = cost(&with("rate_rps = 10", "rate_rps = 20"));
    let top = double.largest_work().unwrap();
    assert_eq!(top.field, "traffic.rate_rps");
    assert!(double.work > 1.8 * base.work, "{} vs {}", double.work, base.work);
    // Aggregate mode does not count requests: a hundred times the rate
    // costs the same.
    let agg = cost(&format!("fidelity = \"aggregate\"\n{BASE}"));
    let busy = cost(&format!(
        "fidelity = \"aggregate\"\n{}",
        with("rate_rps = 10", "rate_rps = 1000")
    ));
    assert!(agg.work < base.work, "{} vs {}", agg.work, base.work);
    assert_eq!(agg.work, busy.work);
}
