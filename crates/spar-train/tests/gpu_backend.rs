//! The GPU backend trains like the CPU backend: a few SFT and GRPO steps (with a KL to the
//! reference model, so that model runs on the GPU too) give the same metrics within a stated
//! tolerance, and the backend reports no error after any step.
//!
//! Runs only with `--features gpu`. Without an adapter it prints "skipped: no GPU adapter"
//! and passes, unless `SPAR_REQUIRE_GPU=1` (then it fails).
// These tests read configs, files or clocks: they need the `std` feature (on by default).
#![cfg(feature = "std")]
#![cfg(feature = "gpu")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::block_on;
use spar_model::Kernels;
use spar_train::backend::{cpu_trainer, gpu_trainer, select_backend, Selected};
use spar_train::config::{BackendName, RewardSource};
use spar_train::{StepMetrics, TrainConfig, TrainError, Trainer};
use std::sync::Arc;

/// Relative tolerance on the float metrics: `|cpu − gpu| ≤ TOL·(1 + |cpu|)`. The kernels
/// agree to ~1e-5 per op (spar-gpu's own tests); observed on lavapipe: ≤ 3e-7.
const TOL: f64 = 1e-4;

fn tiny() -> TrainConfig {
    let mut c = TrainConfig::default();
    c.seed = 5;
    c.model.n_layer = 1;
    c.model.n_embd = 16;
    c.model.n_positions = 16;
    c.model.charset = "0123456789+= adsum:".into();
    c.task.levels = vec![0];
    c.task.num_train_problems = 40;
    c.task.labelled_fraction = 0.5;
    c.task.num_eval_problems = 8;
    c.sft.max_steps = 3;
    c.sft.per_device_train_batch_size = 8;
    c.sft.optim.learning_rate = Some(3e-3);
    c.grpo.max_steps = 2;
    c.grpo.per_device_train_batch_size = 8;
    c.grpo.num_generations = 4;
    c.grpo.max_completion_length = 4;
    c.grpo.beta = 0.04;
    c.grpo.reward = RewardSource::Verifier;
    c.eval.num_samples = 2;
    c
}

/// The device, or `None` (after printing the skip line) when there is none and it is not
/// required.
fn gpu() -> Option<Arc<spar_gpu::GpuContext>> {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    match select_backend(BackendName::Gpu) {
        Ok(Selected::Gpu(ctx)) => Some(ctx),
        Ok(other) => panic!("`gpu` selected {}", other.describe()),
        Err(e) => {
            assert!(
                matches!(&e, TrainError::BackendUnavailable(m) if m.contains("adapter")),
                "{e}"
            );
            if std::env::var("SPAR_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("SPAR_REQUIRE_GPU=1 but the GPU backend failed: {e}");
            }
            println!("skipped: no GPU adapter");
            None
        }
    }
}

fn run<K: Kernels>(t: &mut Trainer<K>) -> Vec<StepMetrics> {
    let mut out = Vec::new();
    while t.step() < t.total_steps() {
        out.push(block_on(t.train_step_checked()).unwrap());
    }
    out
}

fn close(what: &str, step: u32, cpu: f64, gpu: f64) -> f64 {
    let d = (cpu - gpu).abs();
    assert!(
        d <= TOL * (1.0 + cpu.abs()),
        "step {step} {what}: cpu {cpu} vs gpu {gpu} (|diff| {d:e})"
    );
    d
}

#[test]
fn gpu_steps_match_the_cpu_backend() {
    let Some(ctx) = gpu() else { return };
    println!("adapter: {}", ctx.adapter_name());
    let cfg = tiny();
    let mut cpu = cpu_trainer(cfg.clone()).unwrap();
    let mut gpu = gpu_trainer(cfg, ctx).unwrap();
    let (mc, mg) = (run(&mut cpu), run(&mut gpu));
    assert_eq!(mc.len(), 5);
    let mut worst = [0f64; 5];
    for (c, g) in mc.iter().zip(&mg) {
        assert_eq!(c.phase, g.phase);
        worst[0] = worst[0].max(close("loss", c.step, c.loss, g.loss));
        worst[1] = worst[1].max(close("grad_norm", c.step, c.grad_norm, g.grad_norm));
        if c.phase == "rl" {
            // Sampling is token-identical on both backends (same random stream, same
            // top-k/top-p rule), so the completions and their rewards are equal exactly.
            assert_eq!(c.reward, g.reward, "step {} reward", c.step);
            assert_eq!(c.accuracy, g.accuracy, "step {} accuracy", c.step);
            assert_eq!(c.completion_length, g.completion_length, "step {}", c.step);
            worst[2] = worst[2].max(close("kl", c.step, c.kl, g.kl));
            worst[3] = worst[3].max(close("entropy", c.step, c.entropy, g.entropy));
            worst[4] = worst[4].max(close(
                "max_logprob_gap",
                c.step,
                c.max_logprob_gap,
                g.max_logprob_gap,
            ));
        }
    }
    // The last RL step has a reference model, so the KL is live (not trivially 0 on both).
    assert!(mc.last().unwrap().kl > 0.0);
    let (rc, rg) = (
        block_on(cpu.evaluate()).unwrap(),
        block_on(gpu.evaluate()).unwrap(),
    );
    gpu.check_backend("evaluation").unwrap();
    assert_eq!(rc.accuracy, rg.accuracy);
    let (sc, sg) = (
        block_on(cpu.snapshot()).unwrap(),
        block_on(gpu.snapshot()).unwrap(),
    );
    let dp = sc
        .params
        .iter()
        .zip(&sg.params)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(dp <= 1e-4, "parameters after 5 steps differ by {dp:e}");
    println!(
        "max |cpu − gpu|: loss {:.2e}, grad_norm {:.2e}, kl {:.2e}, entropy {:.2e}, \
         max_logprob_gap {:.2e}; parameters after 5 steps {dp:.2e}",
        worst[0], worst[1], worst[2], worst[3], worst[4]
    );
}

/// `auto` takes a hardware adapter and leaves a software one (lavapipe in CI) for the CPU
/// kernels, saying why; `gpu` (the `gpu()` helper above) took it all the same.
#[test]
fn auto_takes_a_hardware_gpu_and_leaves_a_software_one() {
    let Some(ctx) = gpu() else { return };
    let s = select_backend(BackendName::Auto).unwrap();
    println!("auto: {}", s.describe());
    if spar_train::backend::auto_accepts(ctx.device_type()) {
        assert!(s.is_gpu(), "{}", s.describe());
        assert!(s.describe().starts_with("gpu: "));
    } else {
        assert_eq!(ctx.device_type(), spar_gpu::DeviceType::Cpu);
        assert!(!s.is_gpu(), "{}", s.describe());
        assert!(s.describe().contains("software"), "{}", s.describe());
    }
}
