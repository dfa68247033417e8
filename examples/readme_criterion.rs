//! README, "Benchmark kernels with criterion": a bench of your own over spar-model's CPU
//! matmul (as `benches/matmul.rs` with `harness = false`: `cargo bench --bench matmul`).
use criterion::{criterion_group, criterion_main, Criterion};
use spar_model::cpu::matmul::matmul_forward;
use spar_model::kernels::MatmulShape;

fn matmul(c: &mut Criterion) {
    let s = MatmulShape {
        rows: 256,
        k: 128,
        n: 512,
    };
    let (x, w) = (vec![0.5f32; s.rows * s.k], vec![0.25f32; s.k * s.n]);
    let mut out = vec![0.0f32; s.rows * s.n];
    c.bench_function("matmul 256x128x512", |b| {
        b.iter(|| matmul_forward(&mut out, &x, &w, None, s))
    });
}

criterion_group!(benches, matmul);
criterion_main!(benches);
