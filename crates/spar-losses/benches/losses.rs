//! Speed of one loss + gradient call: GRPO over 64 groups × 8 completions × 512 tokens
//! (off-policy ratios, k3 KL, `dapo` aggregation) and DPO over 512 pairs. The batch is
//! built in `common/`, shared with `examples/policy_loss_timing.rs`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

mod common;

fn bench(c: &mut Criterion) {
    let mut batch = common::Batch::new(64);
    c.bench_function("grpo_loss_64x8x512", |bench| {
        bench.iter(|| black_box(batch.grpo(false)))
    });
    c.bench_function("dpo_loss_512_pairs", |bench| {
        bench.iter(|| black_box(batch.dpo()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
