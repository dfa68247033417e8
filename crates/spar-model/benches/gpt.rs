//! Criterion benches: one train step (forward to log-probs, backward, AdamW) at C0 and C1,
//! KV-cache sampling at C1, and the matmul kernel.
//! Run: `cargo bench -p spar-model --bench gpt`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::cpu::matmul::matmul_forward;
use spar_model::kernels::MatmulShape;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig, SampleConfig};
use std::hint::black_box;

fn random_ids(rng: &mut ChaCha8Rng, n: usize, v: usize) -> Vec<u32> {
    (0..n).map(|_| rng.next_u32() % v as u32).collect()
}

fn train_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("train_step");
    g.sample_size(10);
    for name in ["C0", "C1"] {
        let p = GptConfig::preset(name).unwrap();
        let (b, t) = (p.batch, p.config.n_positions);
        let mut m = Gpt::new(CpuKernels::new(), p.config, b, t).unwrap();
        m.init_params(0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = random_ids(&mut rng, b * t, p.config.vocab_size);
        let y = random_ids(&mut rng, b * t, p.config.vocab_size);
        let opt = AdamWConfig::default();
        g.throughput(Throughput::Elements((b * t) as u64));
        g.bench_function(name, |bench| {
            bench.iter(|| block_on(m.train_step_sft(&x, &y, b, &opt, 1e-4)).unwrap())
        });
    }
    g.finish();
}

fn sampling(c: &mut Criterion) {
    let mut g = c.benchmark_group("sample_kv");
    g.sample_size(10);
    let cfg = GptConfig::C1;
    let mut m = Gpt::new(CpuKernels::new(), cfg, 1, 1).unwrap();
    m.init_params(0);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let prompts: Vec<Vec<u32>> = (0..16).map(|_| random_ids(&mut rng, 16, 256)).collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let sc = SampleConfig {
        max_new_tokens: 64,
        ..SampleConfig::default()
    };
    g.throughput(Throughput::Elements(16 * 64));
    g.bench_function("C1_16x64", |bench| {
        bench.iter(|| block_on(m.generate(&refs, &sc, 0)).unwrap())
    });
    g.finish();
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_forward");
    let s = MatmulShape {
        rows: 2048,
        k: 256,
        n: 1024,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x: Vec<f32> = (0..s.rows * s.k)
        .map(|_| rng.next_u32() as f32 / 4e9)
        .collect();
    let w: Vec<f32> = (0..s.k * s.n)
        .map(|_| rng.next_u32() as f32 / 4e9)
        .collect();
    let bias = vec![0.1; s.n];
    let mut out = vec![0.0; s.rows * s.n];
    g.throughput(Throughput::Elements((2 * s.rows * s.k * s.n) as u64));
    g.bench_function("2048x256x1024", |bench| {
        bench.iter(|| matmul_forward(black_box(&mut out), &x, &w, Some(&bias), s))
    });
    g.finish();
}

criterion_group!(benches, train_step, sampling, matmul);
criterion_main!(benches);
