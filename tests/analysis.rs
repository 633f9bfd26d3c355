//! Argo Rollouts-style analysis in whole runs: when a broken canary is
//! aborted (failure_limit, consecutive_error_limit), and that an
//! inconclusive analysis pauses the rollout until a manual promotion.

mod common;

use deploysim::engine::{SimDuration, SimTime};
use deploysim::model::world::WorldChange;
use deploysim::record::SimEvent;
use deploysim::sim::{run, RunOptions};
use deploysim::strategy::{Outcome, Report};

/// A canary on a fleet that is ready at once (the first weight, and the
/// analysis, start with the rollout at t = 60 s), judged by one
/// success-rate metric.
fn canary(release: &str, rate_rps: u32, metric: &str, extra: &str) -> deploysim::scenario::Scenario {
    common::parse(&format!(
        "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"3h\"\ncooldown = \"1m\"\n\
         [fleet]\ninstances = 4\nprovision_time = \"0s\"\nboot_time = \"0s\"\nstop_time = \"0s\"\n\
         [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = {rate_rps}\n\
         [stable]\nerror_rate_pct = 0\n[release]\nversion = \"v2\"\n{release}\n\
         [strategy]\nkind = \"canary\"\nstart_at = \"1m\"\n{extra}\
         steps = [{{ set_weight = 25 }}, {{ pause = {{ duration = \"1h\" }} }}]\n\
         [[strategy.analysis]]\nname = \"success\"\nquery = \"success_rate_pct\"\n{metric}\n"
    ))
}

#[test]
fn a_broken_canary_is_aborted_when_failures_exceed_failure_limit() {
    // The first measurement, as the weight is set, has no data (an error,
    // tolerated); every later one fails. The (limit + 1)-th failure, at
    // interval x (limit + 1) after the start, aborts.
    for (interval, limit) in [(60, 0), (60, 2), (30, 4), (120, 1)] {
        let s = canary(
            "quality = \"bad\"\nerror_rate_pct = 100",
            50,
            &format!("interval = \"{interval}s\"\nsuccess_condition = \"result >= 99\"\nfailure_limit = {limit}"),
            "",
        );
        let m = run(&s, 1, RunOptions::default()).unwrap().summary;
        assert_eq!(m.outcome, Some(Outcome::RolledBack));
        assert_eq!(
            m.triggered_at.unwrap() - SimTime::from_secs(60),
            SimDuration::from_secs(interval * (limit + 1)),
            "interval {interval} failure_limit {limit}"
        );
        assert_eq!(m.trigger.unwrap().name(), "analysis:success");
    }
}

#[test]
fn a_canary_without_data_is_aborted_after_too_many_consecutive_errors() {
    // No traffic: every measurement is an error (no data); the
    // (limit + 1)-th consecutive one, interval x limit after the start,
    // aborts.
    for limit in [0, 1, 4] {
        let s = canary(
            "quality = \"good\"",
            0,
            &format!("interval = \"60s\"\nsuccess_condition = \"result >= 99\"\nconsecutive_error_limit = {limit}"),
            "",
        );
        let m = run(&s, 1, RunOptions::default()).unwrap().summary;
        assert_eq!(
            m.triggered_at.map(|t| t - SimTime::from_secs(60)),
            Some(SimDuration::from_secs(60 * limit)),
            "consecutive_error_limit {limit}"
        );
    }
}

#[test]
fn an_inconclusive_analysis_pauses_until_a_manual_promotion() {
    // 2% errors: not a success (>= 99%) and not a failure (< 95%): the first
    // judged measurement is inconclusive, over inconclusive_limit = 0.
    let metric = "interval = \"60s\"\nsuccess_condition = \"result >= 99\"\nfailure_condition = \"result < 95\"";
    let release = "quality = \"bad\"\nerror_rate_pct = 2";
    let paused = canary(release, 50, metric, "");
    let r = run(&paused, 1, RunOptions::default()).unwrap();
    assert!(r
        .events
        .iter()
        .any(|(_, e)| matches!(e, SimEvent::Controller(Report::AnalysisInconclusive { .. }))));
    assert_eq!(
        r.summary.outcome,
        Some(Outcome::Failed),
        "never promoted: the run ends paused"
    );
    assert!(!r.summary.rollback_performed, "inconclusive is not a failure");
    // An operator's promotion at 30 minutes resumes it; the step's 1 h pause
    // (which began with the weight at t = 60 s) then ends, and it promotes.
    let resumed = canary(release, 50, metric, "manual_promotions = [\"30m\"]\n");
    let m = run(&resumed, 1, RunOptions::default()).unwrap().summary;
    assert_eq!(m.outcome, Some(Outcome::Promoted));
    assert_eq!(m.completed_at, Some(SimTime::from_secs(60 + 3600)));
}

#[test]
fn sequential_detectors_catch_a_bad_canary_and_leave_a_good_one() {
    // A 25% canary serving 5% errors (or stable's 0.1%), judged every 30 s on
    // the new version by an SPRT (1% against 3%), a CUSUM and an EWMA.
    let triggers = [
        ("sprt", "p0_pct = 1\np1_pct = 3\nalpha = 0.01\nbeta = 0.05"),
        ("cusum", "target_pct = 0.1\nslack_pct = 0.5\nlimit_pct = 5"),
        ("ewma", "lambda = 0.3\ntarget_pct = 0.1\nlimit_pct = 2"),
    ];
    for (kind, fields) in triggers {
        for (release, bad) in [
            ("quality = \"bad\"\nerror_rate_pct = 5", true),
            ("quality = \"good\"", false),
        ] {
            let s = common::parse(&format!(
                "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"2h\"\ncooldown = \"1m\"\n\
                 [fleet]\ninstances = 4\nprovision_time = \"0s\"\nboot_time = \"0s\"\nstop_time = \"0s\"\n\
                 [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 100\n\
                 [release]\nversion = \"v2\"\n{release}\n\
                 [strategy]\nkind = \"canary\"\nstart_at = \"1m\"\nsteps = [{{ set_weight = 25 }}, {{ pause = {{ duration = \"30m\" }} }}]\n\
                 [strategy.success_criteria]\nmax_error_rate_pct = 50\n\
                 [rollback]\nevaluate_interval = \"30s\"\n\
                 [[rollback.triggers]]\nkind = \"{kind}\"\nscope = \"new\"\nmin_request_count = 100\n{fields}\n"
            ));
            let m = run(&s, 2, RunOptions::default()).unwrap().summary;
            if bad {
                assert_eq!(
                    m.trigger.as_ref().map(|t| t.name()),
                    Some(format!("trigger:{kind}")),
                    "{kind}"
                );
                assert!(m.ttd().unwrap() <= SimDuration::from_secs(180), "{kind}: {:?}", m.ttd());
            } else {
                assert!(!m.rollback_performed, "{kind} fired on a good release");
            }
        }
    }
}

#[test]
fn judges_fail_canary_checks_like_criteria() {
    // The same 25% canary judged by its checks only: a binomial test of its
    // errors against stable's, and an SPRT, as success criteria.
    for (judge, name) in [
        ("{ kind = \"binomial\", alpha = 0.001, window = \"2m\", min_request_count = 200 }", "binomial"),
        ("{ kind = \"sprt\", scope = \"new\", p0_pct = 1, p1_pct = 3, alpha = 0.01, beta = 0.05, min_request_count = 50 }", "sprt"),
        ("{ kind = \"kayenta\", window = \"10m\", metrics = [{ metric = \"error_rate\" }, { metric = \"latency_p99\" }] }", "kayenta"),
    ] {
        for (release, bad) in [("quality = \"bad\"\nerror_rate_pct = 5", true), ("quality = \"good\"", false)] {
            let s = common::parse(&format!(
                "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"2h\"\ncooldown = \"1m\"\n\
                 [fleet]\ninstances = 4\nprovision_time = \"0s\"\nboot_time = \"0s\"\nstop_time = \"0s\"\n\
                 [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 100\n\
                 [release]\nversion = \"v2\"\n{release}\n\
                 [strategy]\nkind = \"canary\"\nstart_at = \"1m\"\ncheck_interval = \"30s\"\n\
                 steps = [{{ set_weight = 25 }}, {{ pause = {{ duration = \"20m\" }} }}]\n\
                 [strategy.success_criteria]\nevaluation_window = \"1m\"\njudges = [{judge}]\n"
            ));
            let m = run(&s, 3, RunOptions::default()).unwrap().summary;
            if bad {
                assert_eq!(m.trigger.as_ref().map(|t| t.name()), Some(name.to_string()), "{name}");
                assert_eq!(m.outcome, Some(Outcome::RolledBack));
            } else {
                assert_eq!(m.outcome, Some(Outcome::Promoted), "{name} failed a good canary");
            }
        }
    }
}

/// A fleet of 4 at 100 rps, ready at once, with `release` and a strategy.
fn judged(release: &str, strategy: &str) -> deploysim::scenario::Scenario {
    common::parse(&format!(
        "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"2h\"\ncooldown = \"1m\"\n\
         [fleet]\ninstances = 4\nprovision_time = \"0s\"\nboot_time = \"0s\"\nstop_time = \"0s\"\n\
         [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 100\n\
         [release]\nversion = \"v2\"\n{release}\n[strategy]\nstart_at = \"1m\"\n{strategy}\n"
    ))
}

#[test]
fn judges_fail_flagger_checks_and_blue_green_validation() {
    // A release 50% slower and no more erroneous: the fixed 1 s p99 limit
    // passes it; only a Kayenta judge of its latency series against
    // stable's catches it. Until the judge has its data points its checks
    // are inconclusive: Flagger's weight holds, blue-green validation goes
    // on.
    let kayenta = "judges = [{ kind = \"kayenta\", window = \"10m\", metrics = [{ metric = \"latency_p99\" }, \
                   { metric = \"latency_p50\", critical = true }] }]";
    let flagger = format!(
        "kind = \"flagger\"\ninterval = \"1m\"\nthreshold = 2\nstep_weights = [10, 20, 30, 40, 50]\n\
         {kayenta}\n[[strategy.metrics]]\nname = \"request-duration\"\nthreshold_range = {{ max = 1000 }}\n"
    );
    let blue_green = format!(
        "kind = \"blue_green\"\nvalidation_traffic_pct = 25\nvalidation_duration = \"15m\"\ncheck_interval = \"1m\"\n\
         validation_max_p99 = \"1s\"\n{kayenta}\n"
    );
    for (strategy, cause) in [(flagger, "kayenta"), (blue_green, "validation")] {
        let slow = judged("quality = \"bad\"\nlatency_multiplier = 1.5", &strategy);
        let m = run(&slow, 1, RunOptions::default()).unwrap().summary;
        assert_eq!(m.outcome, Some(Outcome::RolledBack), "{strategy}");
        let name = m.trigger.as_ref().map(|t| t.name()).unwrap_or_default();
        assert!(name.contains(cause), "{name}");
        // Detection waits for 50 data points of 10 s on both sides: at
        // least 500 s after the new version first served.
        assert!(
            m.triggered_at.unwrap() >= SimTime::from_secs(60 + 500),
            "{:?}",
            m.triggered_at
        );
        let same = judged("quality = \"good\"", &strategy);
        let m = run(&same, 1, RunOptions::default()).unwrap().summary;
        assert_eq!(m.outcome, Some(Outcome::Promoted), "{strategy}");
    }
}

/// A fleet of 10 at `rate` rps that takes 25 s to start, with `release` and
/// a strategy (stable fails 0.1%).
fn held(rate: u32, release: &str, strategy: &str) -> deploysim::scenario::Scenario {
    common::parse(&format!(
        "fidelity = \"aggregate\"\n[simulation]\nmax_duration = \"3h\"\ncooldown = \"2m\"\n\
         [fleet]\ninstances = 10\nprovision_time = \"15s\"\nboot_time = \"10s\"\nstop_time = \"5s\"\n\
         [traffic]\nrate_rps = {rate}\n[stable]\nversion = \"v1\"\nerror_rate_pct = 0.1\n\
         [release]\nversion = \"v2\"\n{release}\n[strategy]\nstart_at = \"1m\"\n{strategy}\n"
    ))
}

#[test]
fn a_weight_is_judged_by_a_window_after_it_was_set() {
    // The release turns bad (5% errors) the moment it reaches 50%. The
    // checks right after 50% is set read windows of the 10% traffic before
    // it; were they taken as judging 50%, the canary would promote. Only a
    // window wholly after the change may let it promote, and that one fails.
    let s = held(
        100,
        "quality = \"good\"",
        "kind = \"canary\"\ncheck_interval = \"10s\"\n\
         steps = [ { set_weight = 10 }, { pause = { duration = \"10m\" } }, { set_weight = 50 } ]\n\
         [strategy.success_criteria]\nmax_error_rate_pct = 1\nmin_request_count = 100\nevaluation_window = \"1m\"\n\
         [[faults]]\nkind = \"error_rate\"\nat = \"12m10s\"\nerror_rate_pct = 5\n",
    );
    let r = run(&s, 1, RunOptions::default()).unwrap();
    let fifty = r
        .events
        .iter()
        .find_map(|(t, e)| match e {
            SimEvent::World(WorldChange::Weight { to, .. }) if *to == 50.0 => Some(*t),
            _ => None,
        })
        .expect("50% was set");
    assert_eq!(r.summary.outcome, Some(Outcome::RolledBack), "{:?}", r.summary.outcome);
    assert!(r.summary.triggered_at.unwrap() >= fifty + SimDuration::from_secs(10));
}

#[test]
fn holds_that_cannot_end_fail_after_the_progress_deadline() {
    // 10 rps against min_request_count 1000: no check can ever act, in an
    // analysis of checks (canary) or a Flagger analysis. Each fails as a
    // stalled rollout, within progress_deadline (10 min) plus a check of
    // the first inconclusive one.
    let canary = held(
        10,
        "quality = \"bad\"\nerror_rate_pct = 20",
        "kind = \"canary\"\nsteps = [ { set_weight = 10 }, { analysis = { count = 3 } }, { set_weight = 50 } ]\n\
         [strategy.success_criteria]\nmax_error_rate_pct = 1\nmin_request_count = 1000\nevaluation_window = \"1m\"\n",
    );
    let flagger = held(
        100,
        "quality = \"good\"",
        "kind = \"flagger\"\ninterval = \"1m\"\nmin_request_count = 100000\n\
         [[strategy.metrics]]\nname = \"request-success-rate\"\nthreshold_range = { min = 99 }\n",
    );
    for s in [canary, flagger] {
        let r = run(&s, 1, RunOptions::default()).unwrap();
        let name = s.name.clone();
        assert_eq!(r.summary.outcome, Some(Outcome::Failed), "{name}");
        let stalled = r
            .events
            .iter()
            .any(|(_, e)| matches!(e, SimEvent::Controller(Report::NoConclusiveCheck { .. })));
        assert!(stalled, "{name}");
        assert!(r.summary.deploy_duration().unwrap() < SimDuration::from_secs(60 + 60 + 600 + 120));
    }
}

#[test]
fn a_blue_green_validation_shorter_than_a_check_waits_for_one() {
    // Validation of 20 s with checks every 30 s: green is switched to after
    // the first check, not stalled.
    let s = held(
        100,
        "quality = \"good\"",
        "kind = \"blue_green\"\nvalidation_duration = \"20s\"\ncheck_interval = \"30s\"\nstage_duration = \"30s\"\n",
    );
    let r = run(&s, 1, RunOptions::default()).unwrap();
    assert_eq!(r.summary.outcome, Some(Outcome::Promoted));
    assert!(r.summary.deploy_duration().unwrap() < SimDuration::from_secs(600));
}
