//! Speed of one trial: the good reference canary (2,760 simulated seconds,
//! about 552,000 requests) in each fidelity mode. Throughput is reported in
//! simulated requests per second of wall time.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deploysim::scenario::{self, Fidelity};
use deploysim::sim::{run, RunOptions};
use std::hint::black_box;
use std::path::Path;

fn reference_trial(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-canary-good.toml");
    let base = scenario::load(&path).expect("shipped scenario is valid");
    let opts = RunOptions {
        check_invariants: false,
        keep_detail: false,
        trial: 0,
        counterfactual: false,
        end_at: None,
        histograms: false,
    };
    let mut group = c.benchmark_group("reference_canary_good_trial");
    group.sample_size(20);
    for fidelity in [Fidelity::Request, Fidelity::Aggregate] {
        let mut s = base.clone();
        s.fidelity = fidelity;
        let requests = run(&s, 1, opts)
            .expect("no invariant to break")
            .summary
            .requests_total();
        group.throughput(Throughput::Elements(requests));
        group.bench_function(fidelity.as_str(), |b| b.iter(|| run(black_box(&s), black_box(1), opts)));
    }
    group.finish();
}

criterion_group!(benches, reference_trial);
criterion_main!(benches);
