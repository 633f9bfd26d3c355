//! The event queue on its own: the classic "hold" model (pop the earliest
//! event, schedule one a random gap later) at a steady queue size, against
//! a bare `BinaryHeap` doing the same. The difference is what the queue's
//! ordering (time, lane, sequence) and clock checks cost.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use deploysim::engine::{EventQueue, SimTime};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

/// Events handled per measured iteration.
const HOLDS: u64 = 100_000;

/// A cheap deterministic gap generator (xorshift), so the bench measures
/// the queue and not a random number generator.
struct Gaps(u64);

impl Gaps {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        1 + self.0 % 10_000_000 // up to 10 s in microseconds
    }
}

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_loop_hold");
    group.throughput(Throughput::Elements(HOLDS));
    for size in [64usize, 4096] {
        group.bench_with_input(BenchmarkId::new("EventQueue", size), &size, |b, &size| {
            b.iter(|| {
                let mut gaps = Gaps(0x9E37_79B9_7F4A_7C15);
                let mut q = EventQueue::new();
                for i in 0..size {
                    q.schedule(SimTime(gaps.next()), (i % 3) as u8, i as u32);
                }
                for _ in 0..HOLDS {
                    let (t, e) = q.pop().expect("never empty");
                    q.schedule(SimTime(t.0 + gaps.next()), (e % 3) as u8, e);
                }
                black_box(q.len())
            })
        });
        group.bench_with_input(BenchmarkId::new("BinaryHeap", size), &size, |b, &size| {
            b.iter(|| {
                let mut gaps = Gaps(0x9E37_79B9_7F4A_7C15);
                let mut heap = BinaryHeap::new();
                let mut seq = 0u64;
                for i in 0..size {
                    heap.push(Reverse((gaps.next(), (i % 3) as u8, seq, i as u32)));
                    seq += 1;
                }
                for _ in 0..HOLDS {
                    let Reverse((t, _, _, e)) = heap.pop().expect("never empty");
                    heap.push(Reverse((t + gaps.next(), (e % 3) as u8, seq, e)));
                    seq += 1;
                }
                black_box(heap.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
