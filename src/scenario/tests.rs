//! Scenario parsing and validation: every kind of bad input gets an error
//! naming the place, the field, the problem and what is allowed.

use super::*;
use std::path::Path;

const BASE: &str = r#"name = "t"
[fleet]
instances = 4
[traffic]
rate_rps = 10
[release]
quality = "bad"
error_rate_pct = 5
[strategy]
kind = "canary"
[strategy.success_criteria]
max_error_rate_pct = 1
"#;

fn parse_text(text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    parse(Path::new("test.toml"), text, "test")
}

/// Parses `text`, expects exactly one error, and returns it.
fn one_error(text: &str) -> ScenarioError {
    let errors = parse_text(text).expect_err("the scenario should be rejected");
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors.into_iter().next().unwrap()
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in text") + 1
}

fn with(replace: &str, by: &str) -> String {
    assert!(BASE.contains(replace), "{replace:?} not in BASE");
    BASE.replacen(replace, by, 1)
}

#[test]
fn the_base_scenario_is_valid_and_takes_defaults() {
    let s = parse_text(BASE).unwrap();
    assert_eq!(s.fleet.instances, 4);
    assert_eq!(s.fidelity, Fidelity::Request);
    assert_eq!(s.metrics.buckets.len(), 11);
    let StrategySpec::Canary(c) = &s.strategy else {
        panic!("canary expected")
    };
    assert_eq!(c.check_interval, crate::engine::SimDuration::from_secs(10));
    assert_eq!(c.criteria.max_error_rate_pct, Some(1.0));
    assert!((s.release.new.error_prob - 0.05).abs() < 1e-12);
}

#[test]
fn shipped_scenarios_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            load(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 2);
}

#[test]
fn unknown_field_names_the_field_and_the_allowed_ones() {
    let text = with("instances = 4", "instances = 4\ninstancs = 5");
    let e = one_error(&text);
    assert_eq!(e.field.path, "fleet.instancs");
    assert_eq!(e.line, Some(line_of(&text, "instancs")));
    assert_eq!(e.column, Some(1));
    assert!(e.field.problem.contains("unknown field `instancs`"), "{e}");
    assert!(e.field.allowed.contains("`instances`"), "{e}");
}

#[test]
fn wrong_type_says_what_was_expected() {
    let text = with("instances = 4", "instances = \"four\"");
    let e = one_error(&text);
    assert_eq!(e.field.path, "fleet.instances");
    assert_eq!(e.line, Some(3));
    assert_eq!(e.column, Some(13));
    assert!(e.field.problem.contains("invalid type"), "{e}");
    assert_eq!(e.field.allowed, "a whole number");
}

#[test]
fn negative_number_is_rejected() {
    let text = with("rate_rps = 10", "rate_rps = -10");
    let e = one_error(&text);
    assert_eq!(e.field.path, "traffic.rate_rps");
    assert_eq!(e.line, Some(5));
    assert_eq!(e.column, Some(12));
    assert!(e.field.problem.contains("-10"), "{e}");
}

#[test]
fn nan_is_rejected() {
    let e = one_error(&with("error_rate_pct = 5", "error_rate_pct = nan"));
    assert_eq!(e.field.path, "release.error_rate_pct");
    assert!(e.field.problem.contains("NaN"), "{e}");
    assert_eq!(e.field.allowed, "a number from 0 to 100");
}

#[test]
fn percentage_over_100_is_rejected() {
    let text = with("max_error_rate_pct = 1", "max_error_rate_pct = 150");
    let e = one_error(&text);
    assert_eq!(e.field.path, "strategy.success_criteria.max_error_rate_pct");
    assert_eq!(e.line, Some(line_of(&text, "max_error_rate_pct")));
    assert_eq!(e.column, Some(22));
    assert!(e.field.problem.contains("150"), "{e}");
}

#[test]
fn zero_instances_is_rejected() {
    let e = one_error(&with("instances = 4", "instances = 0"));
    assert_eq!(e.field.path, "fleet.instances");
    assert!(e.field.allowed.contains("from 1 to"), "{e}");
}

#[test]
fn unparsable_duration_is_rejected() {
    let text = with(
        "kind = \"canary\"",
        "kind = \"canary\"\nincrement_interval = \"5 minutes\"",
    );
    let e = one_error(&text);
    assert_eq!(e.field.path, "strategy.increment_interval");
    assert_eq!(e.line, Some(line_of(&text, "increment_interval")));
    assert_eq!(e.column, Some(22));
    assert!(e.field.allowed.contains("\"250ms\""), "{e}");
}

#[test]
fn window_shorter_than_check_interval_is_rejected() {
    let text = with(
        "max_error_rate_pct = 1",
        "max_error_rate_pct = 1\nevaluation_window = \"5s\"",
    );
    let e = one_error(&text);
    assert_eq!(e.field.path, "strategy.success_criteria.evaluation_window");
    assert!(e.field.problem.contains("shorter than check_interval"), "{e}");
    assert_eq!(e.line, Some(line_of(&text, "evaluation_window")));
}

#[test]
fn canary_increment_of_zero_is_rejected() {
    let e = one_error(&with("kind = \"canary\"", "kind = \"canary\"\nincrement_pct = 0"));
    assert_eq!(e.field.path, "strategy.increment_pct");
    assert!(e.field.problem.contains("never progresses"), "{e}");
}

#[test]
fn empty_file_is_rejected() {
    for text in ["", "   \n\n# only a comment\n"] {
        let errors = parse_text(text).unwrap_err();
        assert_eq!(errors.len(), 1);
        let shown = errors[0].to_string();
        assert!(
            shown.contains("the file is empty") || shown.contains("is required"),
            "{shown}"
        );
    }
    let e = one_error("");
    assert_eq!((e.line, e.column), (Some(1), Some(1)));
    assert!(e.field.allowed.contains("[fleet] instances"));
}

#[test]
fn missing_file_is_rejected() {
    let errors = load(Path::new("no/such/scenario.toml")).unwrap_err();
    assert_eq!(errors.len(), 1);
    let shown = errors[0].to_string();
    assert!(
        shown.starts_with("no/such/scenario.toml: cannot read the file: no such file"),
        "{shown}"
    );
}

#[test]
fn syntax_error_is_located() {
    let text = with("instances = 4", "instances = ");
    let e = one_error(&text);
    assert_eq!(e.line, Some(3));
    assert!(!e.field.problem.is_empty());
}

#[test]
fn missing_required_fields_are_all_reported() {
    let errors = parse_text("name = \"x\"\n").unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.field.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["fleet.instances", "traffic.rate_rps", "release.quality", "strategy"]
    );
}

#[test]
fn fields_of_another_kind_or_quality_are_rejected() {
    let e = one_error(&BASE.replace("quality = \"bad\"", "quality = \"good\""));
    assert_eq!(e.field.path, "release.error_rate_pct");
    let e = one_error(&with("kind = \"canary\"", "kind = \"rolling\""));
    assert_eq!(e.field.path, "strategy.kind");
    assert!(e.field.allowed.contains("\"canary\""), "{e}");
}

#[test]
fn distributions_are_checked() {
    let e = one_error(&with(
        "instances = 4",
        "instances = 4\nboot_time = { dist = \"uniform\", min = \"9s\", max = \"3s\" }",
    ));
    assert_eq!(e.field.path, "fleet.boot_time.max");
    let e = one_error(&with(
        "instances = 4",
        "instances = 4\nboot_time = { dist = \"normal\", mean = \"9s\" }",
    ));
    assert_eq!(e.field.path, "fleet.boot_time.sd");
    let s = parse_text(&with(
        "instances = 4",
        "instances = 4\nboot_time = { dist = \"lognormal\", median = \"9s\", sigma = 0.3 }",
    ))
    .unwrap();
    assert!(matches!(
        s.fleet.boot_time,
        crate::model::dist::DurationDist::LogNormal { .. }
    ));
}

#[test]
fn bucket_bounds_must_increase() {
    let text = with("[release]", "[metrics]\nbuckets = [\"10ms\", \"5ms\"]\n[release]");
    let e = one_error(&text);
    assert_eq!(e.field.path, "metrics.buckets[1]");
    assert_eq!(e.column, Some(20));
}

#[test]
fn several_problems_are_reported_together() {
    let text = with("instances = 4", "instances = 0").replace("rate_rps = 10", "rate_rps = -1");
    let errors = parse_text(&text).unwrap_err();
    assert_eq!(errors.len(), 2);
}

#[test]
fn display_shows_file_line_column_field_and_caret() {
    let e = one_error(&with("instances = 4", "instances = 0"));
    let shown = e.to_string();
    assert!(
        shown.starts_with("test.toml:3:13: field `fleet.instances`: 0 is out of range"),
        "{shown}"
    );
    assert!(shown.contains("allowed: a whole number from 1 to 10000"), "{shown}");
    assert!(shown.ends_with("  | instances = 0\n  |             ^"), "{shown}");
}
