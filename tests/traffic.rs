//! Traffic shapes against their integrals: a Poisson process with rate
//! lambda(t) has a count over [0, T] that is Poisson with mean the integral
//! of lambda, so its sd is the square root of that mean.

mod common;

use deploysim::sim::{run, RunOptions};

fn scenario(traffic: &str, fidelity: &str, hours: u32) -> deploysim::scenario::Scenario {
    common::parse(&format!(
        "name = \"shape\"\nfidelity = \"{fidelity}\"\n[simulation]\nmax_duration = \"{hours}h\"\n\
         [fleet]\ninstances = 2\n[traffic]\n{traffic}\n[release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n"
    ))
}

fn total(s: &deploysim::scenario::Scenario, seed: u64) -> f64 {
    let opts = RunOptions {
        keep_detail: false,
        ..RunOptions::default()
    };
    run(s, seed, opts).unwrap().summary.requests_total() as f64
}

#[test]
fn diurnal_traffic_integrates_to_its_mean() {
    // Over whole days the cosine averages out: mean (peak + trough) / 2 =
    // 3 rps, so 24 h hold 259,200 requests (sd 509; 5 sd = 2,546).
    for fidelity in ["request", "aggregate"] {
        let s = scenario(
            "shape = \"diurnal\"\npeak_rps = 5\ntrough_rps = 1\npeak_at = \"14h\"",
            fidelity,
            24,
        );
        let n = total(&s, 3);
        assert!((n - 259_200.0).abs() < 2_546.0, "{fidelity}: {n}");
    }
}

#[test]
fn diurnal_traffic_follows_the_time_of_day() {
    // Requests per 10-s row around the trough (2h) and the peak (14h): the
    // means of 360 rows (one hour) are about 10 and 50 requests per row.
    let s = scenario(
        "shape = \"diurnal\"\npeak_rps = 5\ntrough_rps = 1\npeak_at = \"14h\"",
        "request",
        24,
    );
    let r = run(&s, 4, RunOptions::default()).unwrap();
    let per_row = |from_h: f64| {
        let rows: Vec<f64> = r
            .timeline
            .iter()
            .filter(|row| (from_h * 3600.0..(from_h + 1.0) * 3600.0).contains(&row.t.as_secs_f64()))
            .map(|row| row.requests[0] as f64)
            .collect();
        rows.iter().sum::<f64>() / rows.len() as f64
    };
    // Around 2h +- 30 min the rate is 1 to 1.07 rps; around 14h, 4.93 to 5.
    let trough = per_row(1.5);
    let peak = per_row(13.5);
    assert!((trough - 10.2).abs() < 1.0, "{trough}");
    assert!((peak - 49.8).abs() < 2.0, "{peak}");
}

#[test]
fn spikes_multiply_the_rate_in_their_window() {
    // 20 rps for 1 h with a 3x spike for 10 minutes: 72,000 + 2 x 20 x 600 =
    // 96,000 requests (sd 310; 5 sd = 1,549).
    for fidelity in ["request", "aggregate"] {
        let s = scenario(
            "rate_rps = 20\n[[traffic.spikes]]\nat = \"20m\"\nduration = \"10m\"\nmultiplier = 3",
            fidelity,
            1,
        );
        let n = total(&s, 5);
        assert!((n - 96_000.0).abs() < 1_549.0, "{fidelity}: {n}");
    }
}

#[test]
fn replayed_series_is_interpolated() {
    // 0 -> 10 rps over the first 30 minutes, then 10 rps: 9,000 + 18,000 =
    // 27,000 requests in 1 h (sd 164; 5 sd = 822).
    let dir = common::temp_dir("replay");
    std::fs::write(dir.join("prod.csv"), "t_s,rps\n0,0\n1800,10\n3600,10\n").unwrap();
    let path = dir.join("replay.toml");
    std::fs::write(
        &path,
        "name = \"replay\"\n[simulation]\nmax_duration = \"1h\"\n[fleet]\ninstances = 2\n\
         [traffic]\nshape = \"replay\"\nreplay_file = \"prod.csv\"\n[release]\nquality = \"good\"\n\
         [strategy]\nkind = \"none\"\n",
    )
    .unwrap();
    let s = deploysim::scenario::load(&path).unwrap();
    let n = total(&s, 6);
    assert!((n - 27_000.0).abs() < 822.0, "{n}");
}

#[test]
fn bad_replay_files_are_located() {
    let dir = common::temp_dir("replay-bad");
    let path = dir.join("replay.toml");
    std::fs::write(
        &path,
        "name = \"replay\"\n[fleet]\ninstances = 2\n[traffic]\nshape = \"replay\"\nreplay_file = \"prod.csv\"\n\
         [release]\nquality = \"good\"\n[strategy]\nkind = \"none\"\n",
    )
    .unwrap();
    for (csv, expect) in [
        ("time,rps\n0,1\n", "the header is `time,rps`"),
        ("t_s,rps\n0,1\n10,-2\n", "prod.csv:3:2: column `rps`"),
        (
            "t_s,rps\n0,1\n0,2\n",
            "prod.csv:3:1: column `t_s`: 0 is not after the previous row",
        ),
        ("t_s,rps\n", "no rows after the header"),
    ] {
        std::fs::write(dir.join("prod.csv"), csv).unwrap();
        let errors = deploysim::scenario::load(&path).unwrap_err();
        let shown = errors[0].to_string();
        assert!(
            shown.contains("field `traffic.replay_file`") && shown.contains(expect),
            "{shown}"
        );
        assert_eq!(errors[0].line, Some(6));
    }
    std::fs::remove_file(dir.join("prod.csv")).unwrap();
    let shown = deploysim::scenario::load(&path).unwrap_err()[0].to_string();
    assert!(shown.contains("cannot read the file"), "{shown}");
}

/// A canary at 10% of a release failing 3% of requests, with sessions of
/// `k` requests on average, with or without affinity.
fn users_hurt(affinity: bool, balancer: &str) -> (u64, u64) {
    let s = common::parse(&format!(
        "name = \"users\"\n[simulation]\nmax_duration = \"1h\"\n[fleet]\ninstances = 10\nprovision_time = \"0s\"\n\
         boot_time = \"0s\"\n[health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 100\nbalancer = \"{balancer}\"\n\
         [sessions]\nmean_requests = 100\nmean_duration = \"20m\"\naffinity = {affinity}\n\
         [release]\nquality = \"bad\"\nerror_rate_pct = 3\n[strategy]\nkind = \"canary\"\n\
         steps = [ {{ set_weight = 10 }}, {{ pause = {{}} }} ]\n\
         [strategy.success_criteria]\nmax_error_rate_pct = 100\n"
    ));
    let r = run(&s, 11, RunOptions::default()).unwrap().summary;
    (r.blast_radius_users.unwrap(), r.blast_radius_requests())
}

#[test]
fn affinity_keeps_harm_to_fewer_users() {
    // About 360,000 requests: 36,000 to the canary, ~1,080 failing either way.
    // Without affinity every session's requests spread over both versions,
    // so P(a session of ~100 requests meets a canary failure) is
    // 1 - (1 - 0.1 x 0.03)^100 = 0.26; with affinity only the ~10% of
    // sessions pinned to the canary can be hurt, and each nearly surely is:
    // 0.1 x (1 - 0.97^100) = 0.095. Fewer than half as many users.
    let (with, with_requests) = users_hurt(true, "random");
    let (without, without_requests) = users_hurt(false, "random");
    assert!(with * 2 < without, "{with} vs {without}");
    // The requests harmed are about the same (3% of the canary's share).
    let (a, b) = (with_requests as f64, without_requests as f64);
    assert!((a - b).abs() < 0.25 * b, "{a} vs {b}");
    // Consistent hashing on the session runs and harms about as many users
    // as random picking with affinity (the version choice is the same).
    let (hashed, _) = users_hurt(true, "consistent_hash");
    assert!(
        hashed > 0 && (hashed as f64 - with as f64).abs() < 0.5 * with as f64,
        "{hashed} vs {with}"
    );
}
