//! Throughput of the wgpu backend, printed as `RESULT {json}` lines like the project's
//! PyTorch reference script (`benches/gpt_bench.py`), so both sides of a comparison come
//! from the same run on the same machine.
//!
//! ```text
//! cargo run -p spar-gpu --release --example gpu_bench -- sgemm 4096
//! cargo run -p spar-gpu --release --example gpu_bench -- train C1
//! cargo run -p spar-gpu --release --example gpu_bench -- genkv C1
//! ```
//! `train`: tokens (batch × ctx) per second of forward + backward + AdamW on random tokens,
//! at the preset's batch. `genkv`: 16 prompts of 16 tokens, 64 new tokens each, greedy, with
//! the KV cache (one submission per rollout). `sgemm`: `N×N·N×N` through the matmul kernel
//! (the forward product: f16 tiles when the f16 forward is in use). `features`: the adapter,
//! its type, the optional features it offers and the paths in use.
//!
//! `paths CFG [ROUNDS]`: one train step per GPU path in turn (defaults, portable, fused
//! attention with and without subgroups; f16 forward where offered), ROUNDS rounds (default 15), the
//! median step time of each: interleaving keeps a busy machine's drift out of the
//! comparison. CFG is a preset or `t128` (vocab 64, T 128, C 64, 2 layers, 2 heads, batch 2).
//!
//! `SPAR_GPU_OPTS` picks the optional paths (comma-separated, from the defaults: subgroups
//! where offered, f32 products, unfused attention): `f16` (f16-tile forward products),
//! `no-subgroups`, `fused` (fused training attention), `unfused`, `portable` (none of the
//! optional paths). Every RESULT line carries the variant asked for and the paths in use.

use spar_gpu::{GpuContext, GpuKernels, GpuOptions};
use spar_model::kernels::{Kernels, MatmulShape, Slice};
use spar_model::{block_on, AdamWConfig, Gpt, GptConfig, SampleConfig};
use std::time::Instant;

fn lcg(state: &mut u64) -> u32 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 33) as u32
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The options `SPAR_GPU_OPTS` asks for, and its text (`default` when unset).
fn options_from_env() -> (GpuOptions, String) {
    let text = std::env::var("SPAR_GPU_OPTS").unwrap_or_default();
    let mut o = GpuOptions::default();
    for w in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match w {
            "f16" => o.f16_forward = true,
            "no-subgroups" => o.subgroups = false,
            "fused" => o.fused_attention = true,
            "unfused" => o.fused_attention = false,
            "portable" => o = GpuOptions::portable(),
            other => panic!(
                "SPAR_GPU_OPTS: unknown path {other:?} (f16, no-subgroups, fused, unfused, portable)"
            ),
        }
    }
    let name = if text.is_empty() {
        "default".into()
    } else {
        text
    };
    (o, name)
}

/// The JSON fields every RESULT line ends with: device, its type, variant, paths in use.
fn tail(ctx: &GpuContext) -> String {
    format!(
        "\"device\":\"{}\",\"device_type\":\"{:?}\",\"variant\":\"{}\",\"paths\":\"{}\"",
        ctx.adapter_name(),
        ctx.device_type(),
        options_from_env().1,
        ctx.features_in_use()
    )
}

fn features(ctx: std::sync::Arc<GpuContext>) {
    let f = ctx.adapter_features();
    let has = |x| f.contains(x);
    println!(
        "RESULT {{\"bench\":\"features\",\"subgroup\":{},\"shader_f16\":{},\"cooperative_matrix\":{},\"subgroup_sizes\":[{},{}],\"max_workgroup_storage\":{},{}}}",
        has(wgpu::Features::SUBGROUP),
        has(wgpu::Features::SHADER_F16),
        has(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX),
        ctx.subgroup_sizes().0,
        ctx.subgroup_sizes().1,
        ctx.limits().max_compute_workgroup_storage_size,
        tail(&ctx)
    );
}

fn sgemm(ctx: std::sync::Arc<GpuContext>, n: usize) {
    let mut k = GpuKernels::new(ctx.clone());
    let mut s = 1u64;
    let data: Vec<f32> = (0..n * n)
        .map(|_| lcg(&mut s) as f32 / u32::MAX as f32 - 0.5)
        .collect();
    let whole = |b| Slice {
        buf: b,
        offset: 0,
        len: n * n,
    };
    let (a, b, c) = (
        whole(k.alloc(n * n)),
        whole(k.alloc(n * n)),
        whole(k.alloc(n * n)),
    );
    k.write(a, &data);
    k.write(b, &data);
    let shape = MatmulShape { rows: n, k: n, n };
    let reps = (2e11 / (2.0 * (n as f64).powi(3))).clamp(1.0, 50.0) as usize;
    let mut one = [0.0f32];
    let mut times = Vec::new();
    for round in 0..4 {
        let t0 = Instant::now();
        for _ in 0..reps {
            k.matmul_forward(c, a, b, None, shape);
        }
        block_on(k.read(c.sub(0, 1), &mut one));
        if round > 0 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    let t = median(times);
    let gflops = 2.0 * (n as f64).powi(3) * reps as f64 / t / 1e9;
    println!(
        "RESULT {{\"bench\":\"sgemm\",\"impl\":\"spar-gpu-wgsl\",\"n\":{n},\"gflops\":{gflops:.2},{}}}",
        tail(&ctx)
    );
    k.check().expect("GPU error");
}

fn train(ctx: std::sync::Arc<GpuContext>, name: &str) {
    let p = GptConfig::preset(name).expect("preset C0..C3");
    let (b, t) = (p.batch, p.config.n_positions);
    let mut g = Gpt::new(GpuKernels::new(ctx.clone()), p.config, b, t).expect("model");
    g.init_params(0);
    let mut s = 7u64;
    let v = p.config.vocab_size as u32;
    let tokens: Vec<u32> = (0..b * t).map(|_| lcg(&mut s) % v).collect();
    let targets: Vec<u32> = (0..b * t).map(|_| lcg(&mut s) % v).collect();
    let opt = AdamWConfig::default();
    // One warm-up step sizes the rounds to about a second each.
    let t0 = Instant::now();
    block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-4)).expect("step");
    g.kernels.submit();
    g.kernels.wait_idle();
    let steps = (1.0 / t0.elapsed().as_secs_f64()).clamp(1.0, 50.0) as usize;
    let mut rates = Vec::new();
    for round in 0..4 {
        let t0 = Instant::now();
        for _ in 0..steps {
            block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-4)).expect("step");
        }
        // The last step's backward and AdamW are still recorded: submit and wait for them.
        g.kernels.submit();
        g.kernels.wait_idle();
        if round > 0 {
            rates.push((b * t * steps) as f64 / t0.elapsed().as_secs_f64());
        }
    }
    let tps = median(rates);
    let gflops = tps * p.config.train_flops_per_token() / 1e9;
    println!(
        "RESULT {{\"bench\":\"train\",\"impl\":\"spar-gpu\",\"cfg\":\"{name}\",\"batch\":{b},\"tokens_per_s\":{tps:.1},\"model_gflops\":{gflops:.1},{}}}",
        tail(&ctx)
    );
    g.kernels.check().expect("GPU error");
}

fn paths(name: &str, rounds: usize) {
    let (cfg, b) = match GptConfig::preset(name) {
        Some(p) => (p.config, p.batch),
        None if name == "t128" => (GptConfig::new(64, 128, 64, 2, 2), 2),
        None => panic!("preset C0..C3 or t128"),
    };
    let t = cfg.n_positions;
    let d = GpuOptions::default();
    let variants = [
        ("default", d),
        ("portable", GpuOptions::portable()),
        (
            "fused",
            GpuOptions {
                fused_attention: true,
                ..d
            },
        ),
        (
            "fused-no-subgroups",
            GpuOptions {
                subgroups: false,
                fused_attention: true,
                ..d
            },
        ),
        (
            "f16",
            GpuOptions {
                f16_forward: true,
                ..d
            },
        ),
    ];
    let mut s = 7u64;
    let v = cfg.vocab_size as u32;
    let tokens: Vec<u32> = (0..b * t).map(|_| lcg(&mut s) % v).collect();
    let targets: Vec<u32> = (0..b * t).map(|_| lcg(&mut s) % v).collect();
    let opt = AdamWConfig::default();
    let mut models = Vec::new();
    for (label, o) in variants {
        let ctx = GpuContext::with_options_blocking(o).expect("device");
        if label == "f16" && !ctx.features_in_use().f16_forward {
            continue;
        }
        let mut g = Gpt::new(GpuKernels::new(ctx.clone()), cfg, b, t).expect("model");
        g.init_params(0);
        block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-4)).expect("step");
        g.kernels.submit();
        g.kernels.wait_idle();
        models.push((label, ctx, g, Vec::new()));
    }
    for _ in 0..rounds {
        for (_, _, g, times) in models.iter_mut() {
            let t0 = Instant::now();
            block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-4)).expect("step");
            g.kernels.submit();
            g.kernels.wait_idle();
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    for (label, ctx, g, times) in models.iter_mut() {
        g.kernels.check().expect("GPU error");
        let ms = median(times.clone()) * 1e3;
        println!(
            "RESULT {{\"bench\":\"train_paths\",\"cfg\":\"{name}\",\"batch\":{b},\"rounds\":{rounds},\"path\":\"{label}\",\"median_step_ms\":{ms:.2},\"tokens_per_s\":{:.1},\"device\":\"{}\",\"paths\":\"{}\"}}",
            (b * t) as f64 / ms * 1e3,
            ctx.adapter_name(),
            ctx.features_in_use()
        );
    }
}

fn genkv(ctx: std::sync::Arc<GpuContext>, name: &str) {
    let p = GptConfig::preset(name).expect("preset C0..C3");
    let (nprompt, plen, new) = (16, 16, 64);
    let mut g = Gpt::new(GpuKernels::new(ctx.clone()), p.config, 1, 1).expect("model");
    g.init_params(0);
    let mut s = 3u64;
    let v = p.config.vocab_size as u32;
    let prompts: Vec<Vec<u32>> = (0..nprompt)
        .map(|_| (0..plen).map(|_| lcg(&mut s) % v).collect())
        .collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|x| x.as_slice()).collect();
    let cfg = SampleConfig {
        max_new_tokens: new,
        temperature: 0.0,
        ..Default::default()
    };
    let mut rates = Vec::new();
    for round in 0..4 {
        let t0 = Instant::now();
        let out = block_on(g.generate(&refs, &cfg, round)).expect("generate");
        // New tokens actually made (the context can cut a rollout short, e.g. C0's 64).
        let made: usize = out.iter().map(|o| o.tokens.len()).sum();
        if round > 0 {
            rates.push(made as f64 / t0.elapsed().as_secs_f64());
        }
    }
    println!(
        "RESULT {{\"bench\":\"genkv\",\"impl\":\"spar-gpu\",\"cfg\":\"{name}\",\"new_tokens_per_s\":{:.1},{}}}",
        median(rates),
        tail(&ctx)
    );
    g.kernels.check().expect("GPU error");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ctx = match GpuContext::with_options_blocking(options_from_env().0) {
        Ok(c) => c,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("sgemm"), n) => sgemm(ctx, n.map_or(1024, |x| x.parse().expect("size"))),
        (Some("train"), c) => train(ctx, c.map_or("C1", |x| x.as_str())),
        (Some("genkv"), c) => genkv(ctx, c.map_or("C1", |x| x.as_str())),
        (Some("features"), _) => features(ctx),
        (Some("paths"), c) => paths(
            c.map_or("C1", |x| x.as_str()),
            args.get(2).map_or(15, |x| x.parse().expect("rounds")),
        ),
        _ => eprintln!("usage: gpu_bench sgemm N | train C0..C3 | genkv C0..C3 | features | paths C0..C3|t128 [ROUNDS]"),
    }
}
