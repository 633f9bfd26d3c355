//! The shipped sweep (`scenarios/sweeps/all-strategies.toml`, 288 cells) at
//! 5 trials per cell (1,440 trials, each with its counterfactual) on 1 and
//! 2 threads, with the summary, charts and report `run_sweep` writes at
//! the end. Throughput is in trials per second; the output is the same
//! bytes on both. Peak memory is measured outside criterion (see
//! benches/README.md): it does not depend on the trial count.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use deploysim::experiment::runner::{run_sweep, SweepOptions};
use deploysim::experiment::sweep::load;
use std::path::Path;
use std::sync::atomic::AtomicBool;

const TRIALS_PER_CELL: u64 = 5;

fn shipped_sweep(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/all-strategies.toml");
    let sweep = load(&path, Some(TRIALS_PER_CELL)).expect("shipped sweep is valid");
    let out = std::env::temp_dir().join(format!("deploysim-bench-sweep-{}", std::process::id()));
    let stop = AtomicBool::new(false);
    let mut group = c.benchmark_group("all_strategies_sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(sweep.cells.len() as u64 * TRIALS_PER_CELL));
    for threads in [1usize, 2] {
        let opts = SweepOptions {
            threads,
            ..SweepOptions::default()
        };
        group.bench_with_input(BenchmarkId::new("threads", threads), &opts, |b, opts| {
            b.iter(|| run_sweep(&sweep, "all-strategies.toml", &out, *opts, &stop, |_, _| {}).expect("writable"))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, shipped_sweep);
criterion_main!(benches);
