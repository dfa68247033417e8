//! Criterion: one SFT train step (forward to log-probs, backward, AdamW) on the GPU and on
//! the CPU. Config from `SPAR_BENCH_CFG` (a preset name, C0..C3); the default is two tiny
//! models (`tiny`: T = 16; `t128`: T = 128, where attention's share grows) so the bench code
//! itself is exercised on the software adapter used in CI. GPU paths, same run:
//! `gpu` (defaults: subgroups where offered, unfused attention), `gpu-portable` (none of
//! the optional paths), `gpu-fused` (fused attention), `gpu-fused-nosg` (fused attention
//! without subgroups).

use criterion::{criterion_group, criterion_main, Criterion};
use spar_gpu::{GpuContext, GpuKernels, GpuOptions};
use spar_model::kernels::Kernels;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig};

fn run<K: Kernels>(c: &mut Criterion, name: &str, suffix: &str, k: K, cfg: GptConfig, b: usize) {
    let t = cfg.n_positions;
    let mut g = Gpt::new(k, cfg, b, t).expect("model");
    g.init_params(0);
    let v = cfg.vocab_size as u32;
    let tokens: Vec<u32> = (0..b * t).map(|i| (i as u32 * 31) % v).collect();
    let targets: Vec<u32> = (0..b * t).map(|i| (i as u32 * 17 + 3) % v).collect();
    let opt = AdamWConfig::default();
    c.bench_function(&format!("train_step{suffix}/{name}"), |bench| {
        bench.iter(|| block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-4)).expect("step"))
    });
}

fn paths() -> [(&'static str, GpuOptions); 4] {
    let d = GpuOptions::default();
    [
        ("gpu", d),
        ("gpu-portable", GpuOptions::portable()),
        (
            "gpu-fused-nosg",
            GpuOptions {
                subgroups: false,
                fused_attention: true,
                ..d
            },
        ),
        (
            "gpu-fused",
            GpuOptions {
                fused_attention: true,
                ..d
            },
        ),
    ]
}

fn train_step(c: &mut Criterion) {
    let cfgs = match std::env::var("SPAR_BENCH_CFG")
        .ok()
        .and_then(|n| GptConfig::preset(&n))
    {
        Some(p) => vec![("", p.config, p.batch)],
        None => vec![
            ("", GptConfig::new(64, 16, 32, 2, 2), 4),
            ("_t128", GptConfig::new(64, 128, 64, 2, 2), 2),
        ],
    };
    for (suffix, cfg, b) in cfgs {
        run(c, "cpu", suffix, CpuKernels::new(), cfg, b);
        for (name, opts) in paths() {
            match GpuContext::with_options_blocking(opts) {
                Ok(ctx) => {
                    println!("{name}: {}", ctx.features_in_use());
                    run(c, name, suffix, GpuKernels::new(ctx), cfg, b)
                }
                Err(e) => println!("skipped: {e}"),
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = train_step
}
criterion_main!(benches);
