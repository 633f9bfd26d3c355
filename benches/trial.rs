//! Speed of one trial: the good reference canary (2,760 simulated seconds,
//! about 552,000 requests) in each fidelity mode, and the aggregate trial at
//! ten times the request rate (its cost should barely move: it draws counts,
//! not requests). Throughput is in simulated requests per second of wall
//! time. Trials run as a sweep runs them: no detail kept, no counterfactual,
//! latency histograms only when something reads them. A gaming-aware
//! BitCraps trial and a Kayenta-judged canary are measured beside them, and
//! fleet churn: large fleets whose instances crash or fail to boot all run
//! long, against the same fleet standing still.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deploysim::model::traffic::TrafficShape;
use deploysim::scenario::{self, Fidelity, Scenario};
use deploysim::sim::{run, RunOptions};
use std::hint::black_box;
use std::path::Path;

const OPTS: RunOptions = RunOptions {
    check_invariants: false,
    keep_detail: false,
    trial: 0,
    counterfactual: false,
    end_at: None,
    histograms: false,
    guard: None,
};

fn bench_one(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str, s: &Scenario) {
    let requests = run(s, 1, OPTS).expect("no invariant to break").summary.requests_total();
    group.throughput(Throughput::Elements(requests));
    group.bench_function(name, |b| b.iter(|| run(black_box(s), black_box(1), OPTS)));
}

fn reference_trial(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-canary-good.toml");
    let base = scenario::load(&path).expect("shipped scenario is valid");
    let mut group = c.benchmark_group("reference_canary_good_trial");
    group.sample_size(20);
    for fidelity in [Fidelity::Request, Fidelity::Aggregate] {
        let mut s = base.clone();
        s.fidelity = fidelity;
        bench_one(&mut group, fidelity.as_str(), &s);
    }
    let mut fast = base.clone();
    fast.fidelity = Fidelity::Aggregate;
    fast.traffic.shape = TrafficShape::constant(10.0 * base.traffic.shape.max_rate());
    bench_one(&mut group, "aggregate_10x_rate", &fast);
    group.finish();
}

/// One gaming-aware BitCraps canary trial (good release: about 3,400 games
/// over 100 simulated minutes, promotion and the drain of the stable fleet),
/// in aggregate mode as the comparison sweep runs it. Throughput is in games.
fn gaming_trial(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bitcraps/gaming-canary-good.toml");
    let s = scenario::load(&path).expect("shipped scenario is valid");
    let games = run(&s, 1, OPTS)
        .expect("no invariant to break")
        .summary
        .gaming
        .expect("a gaming scenario")
        .totals
        .games_started;
    let mut group = c.benchmark_group("bitcraps_gaming_canary_good_trial");
    group.sample_size(20);
    group.throughput(Throughput::Elements(games));
    group.bench_function("aggregate", |b| b.iter(|| run(black_box(&s), black_box(1), OPTS)));
    group.finish();
}

/// The Kayenta-judged canary (`triggers/kayenta-good.toml`, aggregate mode):
/// every minute for 24 minutes the judge builds 60-step series of both
/// versions and runs two Mann-Whitney tests with their 3,600 pairwise
/// differences; and one such test on its own.
fn kayenta_judge(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/triggers/kayenta-good.toml");
    let mut s = scenario::load(&path).expect("shipped scenario is valid");
    s.fidelity = Fidelity::Aggregate;
    let mut group = c.benchmark_group("kayenta");
    group.sample_size(20);
    group.bench_function("kayenta_good_trial_aggregate", |b| {
        b.iter(|| run(black_box(&s), black_box(1), OPTS))
    });
    let x: Vec<f64> = (0..60).map(|i| 100.0 + f64::from((i * 37) % 23)).collect();
    let y: Vec<f64> = (0..60).map(|i| 101.0 + f64::from((i * 29) % 19)).collect();
    group.bench_function("mann_whitney_60x60", |b| {
        b.iter(|| deploysim::analysis::kayenta::mann_whitney(black_box(&x), black_box(&y), 0.98))
    });
    group.finish();
}

/// A fleet of `instances` in aggregate mode for `duration`, with `extra`
/// appended to the scenario file.
fn fleet_scenario(instances: u32, duration: &str, extra: &str) -> Scenario {
    let text = format!(
        "name = \"churn\"\nfidelity = \"aggregate\"\n[simulation]\nmax_duration = \"{duration}\"\n\
         [fleet]\ninstances = {instances}\nprovision_time = \"5s\"\nboot_time = \"5s\"\nstop_time = \"5s\"\n\
         [health_check]\nstart_healthy = true\n[traffic]\nrate_rps = 1000\n[release]\nquality = \"good\"\n{extra}"
    );
    scenario::parse(Path::new("churn.toml"), &text, "churn").expect("a valid scenario")
}

/// Fleet churn, in simulated seconds per second of wall time: 10,000
/// instances each crashing once a minute on average (about 170 crashes and
/// replacements a second), and 4,000 new instances that all fail to boot
/// and are replaced after their backoffs, for 10 simulated minutes each.
/// Both cost what the live fleet costs, not every instance created so far:
/// the reference is the 10,000-instance fleet with nothing failing.
fn fleet_churn(c: &mut Criterion) {
    let none = "[strategy]\nkind = \"none\"\n";
    let crashes = format!("{none}[[faults]]\nkind = \"instance_crashes\"\nmtbf = \"1m\"\n");
    let boots =
        "[strategy]\nkind = \"canary\"\nsteps = [ { set_canary_scale = { replicas = 4000 } }, { pause = {} } ]\n\
                 [[faults]]\nkind = \"crash_on_boot\"\nprobability_pct = 100\n";
    let mut group = c.benchmark_group("fleet_churn");
    group.sample_size(10);
    group.throughput(Throughput::Elements(600));
    for (name, s) in [
        ("still_10000_reference", fleet_scenario(10_000, "10m", none)),
        ("crashing_10000_mtbf_1m", fleet_scenario(10_000, "10m", &crashes)),
        ("failing_boots_4000", fleet_scenario(4_000, "10m", boots)),
    ] {
        group.bench_function(name, |b| b.iter(|| run(black_box(&s), black_box(1), OPTS)));
    }
    group.finish();
}

criterion_group!(benches, reference_trial, gaming_trial, kayenta_judge, fleet_churn);
criterion_main!(benches);
