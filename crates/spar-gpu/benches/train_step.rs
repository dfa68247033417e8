//! Criterion: one SFT train step (forward to log-probs, backward, AdamW) on the GPU and on
//! the CPU. Config from `SPAR_BENCH_CFG` (a preset name, C0..C3); the default is a tiny model
//! so the bench code itself is exercised on the software adapter used in CI.

use criterion::{criterion_group, criterion_main, Criterion};
use spar_gpu::GpuKernels;
use spar_model::kernels::Kernels;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig};

fn run<K: Kernels>(c: &mut Criterion, name: &str, k: K, cfg: GptConfig, b: usize) {
    let t = cfg.n_positions;
    let mut g = Gpt::new(k, cfg, b, t).expect("model");
    g.init_params(0);
    let v = cfg.vocab_size as u32;
    let tokens: Vec<u32> = (0..b * t).map(|i| (i as u32 * 31) % v).collect();
    let targets: Vec<u32> = (0..b * t).map(|i| (i as u32 * 17 + 3) % v).collect();
    let opt = AdamWConfig::default();
    c.bench_function(&format!("train_step/{name}"), |bench| {
        bench.iter(|| block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-4)).expect("step"))
    });
}

fn train_step(c: &mut Criterion) {
    let (cfg, b) = match std::env::var("SPAR_BENCH_CFG")
        .ok()
        .and_then(|n| GptConfig::preset(&n))
    {
        Some(p) => (p.config, p.batch),
        None => (GptConfig::new(64, 16, 32, 2, 2), 4),
    };
    run(c, "cpu", CpuKernels::new(), cfg, b);
    match spar_gpu::GpuContext::new_blocking() {
        Ok(ctx) => run(c, "gpu", GpuKernels::new(ctx), cfg, b),
        Err(e) => println!("skipped: {e}"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = train_step
}
criterion_main!(benches);
