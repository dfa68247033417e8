//! The whole GPT on both backends: train steps (SFT and a policy-gradient step with an
//! entropy bonus) and rollouts with the KV cache, the GPU held to the CPU.

mod common;
use common::*;
use spar_model::kernels::Kernels;
use spar_model::{block_on, AdamWConfig, Gpt, GptConfig, SampleConfig};

const CFG: GptConfig = GptConfig::new(37, 16, 16, 2, 2);

fn model<K: Kernels>(k: K, batch: usize, len: usize) -> Gpt<K> {
    let mut g = Gpt::new(k, CFG, batch, len).unwrap();
    g.init_params(11);
    g
}

struct StepOut {
    losses: Vec<f32>,
    logp: Vec<f32>,
    entropy: Vec<f32>,
    grads: Vec<f32>,
    params: Vec<f32>,
}

/// Three SFT steps, then a forward with entropy and a backward with log-prob and entropy
/// weights (the policy-loss path); returns everything observable.
fn train<K: Kernels>(k: K) -> (StepOut, K) {
    let (b, t) = (3, 9);
    let mut r = rng(21);
    let tokens = rand_ids(&mut r, b * t, CFG.vocab_size as u32);
    let targets = rand_ids(&mut r, b * t, CFG.vocab_size as u32);
    let mut g = model(k, b, t);
    let opt = AdamWConfig::default();
    let losses = (0..3)
        .map(|_| block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-2)).unwrap())
        .collect();
    let mask: Vec<bool> = (0..b * t).map(|i| i % 4 != 0).collect();
    let (mut logp, mut entropy) = (vec![0.0; b * t], vec![0.0; b * t]);
    block_on(g.logprobs(
        &tokens,
        &targets,
        Some(&mask),
        b,
        &mut logp,
        Some(&mut entropy),
    ))
    .unwrap();
    let w: Vec<f32> = (0..b * t)
        .map(|i| {
            if mask[i] {
                0.1 * (i as f32 - 10.0) / 10.0
            } else {
                0.0
            }
        })
        .collect();
    let e: Vec<f32> = (0..b * t)
        .map(|i| if mask[i] { 0.01 } else { 0.0 })
        .collect();
    g.backward(&w, Some(&e)).unwrap();
    let n = g.layout().len();
    let (mut grads, mut params) = (vec![0.0; n], vec![0.0; n]);
    block_on(g.read_grads(&mut grads)).unwrap();
    block_on(g.read_params(&mut params)).unwrap();
    (
        StepOut {
            losses,
            logp,
            entropy,
            grads,
            params,
        },
        g.kernels,
    )
}

#[test]
fn train_steps_match_the_cpu() {
    gpu_or_skip!(gpu);
    let (cpu, _) = train(spar_model::CpuKernels::new());
    let (gpu, mut k) = train(gpu);
    k.check().unwrap();
    // Losses start at ≈ ln V and fall (the step really trains).
    assert!((cpu.losses[0] - (CFG.vocab_size as f32).ln()).abs() < 0.1);
    assert!(cpu.losses[2] < cpu.losses[0]);
    close("losses", &cpu.losses, &gpu.losses, 1e-4);
    close("logp", &cpu.logp, &gpu.logp, 1e-4);
    close("entropy", &cpu.entropy, &gpu.entropy, 1e-4);
    // Three AdamW steps amplify rounding (updates of ±lr per step regardless of |g|), so
    // parameters and gradients get a looser bound.
    close("params", &cpu.params, &gpu.params, 1e-3);
    close("grads", &cpu.grads, &gpu.grads, 2e-3);
}

#[test]
fn a_train_step_is_one_submission_per_read() {
    gpu_or_skip!(gpu);
    let (b, t) = (2, 8);
    let mut r = rng(22);
    let tokens = rand_ids(&mut r, b * t, CFG.vocab_size as u32);
    let mut g = model(gpu, b, t);
    let opt = AdamWConfig::default();
    block_on(g.train_step_sft(&tokens, &tokens, b, &opt, 1e-3)).unwrap();
    let before = g.kernels.submissions();
    for _ in 0..3 {
        block_on(g.train_step_sft(&tokens, &tokens, b, &opt, 1e-3)).unwrap();
    }
    // Each step's forward is submitted with its log-prob read; the backward and AdamW are
    // recorded and go out with the next step's forward: one submission per step.
    assert_eq!(g.kernels.submissions() - before, 3);
    g.kernels.check().unwrap();
}

/// A train step and a rollout bind many slices of the parameter buffer and of the
/// activation arena together; no two bindings of one dispatch overlap (WebGPU's rule, which
/// the backend checks on every platform), and the check did compare such pairs.
#[test]
fn no_two_bindings_of_a_dispatch_overlap_in_training_and_rollouts() {
    gpu_or_skip!(gpu);
    let (b, t) = (2, 8);
    let mut r = rng(23);
    let tokens = rand_ids(&mut r, b * t, CFG.vocab_size as u32);
    let mut g = model(gpu, b, t);
    let opt = AdamWConfig::default();
    for _ in 0..2 {
        block_on(g.train_step_sft(&tokens, &tokens, b, &opt, 1e-3)).unwrap();
    }
    g.kernels.check().unwrap();
    let after_train = g.kernels.same_buffer_binding_pairs();
    assert!(after_train > 0);
    let cfg = SampleConfig {
        max_new_tokens: 4,
        ..Default::default()
    };
    let (_, mut k) = rollout(g.kernels, &cfg);
    k.check().unwrap();
    assert!(k.same_buffer_binding_pairs() > after_train);
}

fn rollout<K: Kernels>(k: K, cfg: &SampleConfig) -> (Vec<spar_model::Generation>, K) {
    let mut g = model(k, 3, 16);
    let prompts: [&[u32]; 3] = [&[1, 2, 3], &[4], &[5, 6, 7, 8, 9]];
    let out = block_on(g.generate(&prompts, cfg, 4)).unwrap();
    (out, g.kernels)
}

#[test]
fn greedy_rollout_matches_the_cpu() {
    gpu_or_skip!(gpu);
    let cfg = SampleConfig {
        max_new_tokens: 8,
        temperature: 0.0,
        ..Default::default()
    };
    let (cpu, _) = rollout(spar_model::CpuKernels::new(), &cfg);
    let (gpu, mut k) = rollout(gpu, &cfg);
    k.check().unwrap();
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_eq!(c.tokens, g.tokens);
        assert_eq!(c.tokens.len(), 8);
        close("rollout logprobs", &c.logprobs, &g.logprobs, 1e-4);
    }
    // Parameter upload, prompt upload and every decoding step of the rollout go out in one
    // submission with the token read-back; the log-prob read-back adds a copy-only one.
    assert_eq!(k.submissions(), 2);
}

#[test]
fn sampled_rollout_uses_the_cpu_random_stream() {
    gpu_or_skip!(gpu);
    let cfg = SampleConfig {
        max_new_tokens: 8,
        temperature: 1.0,
        top_k: 20,
        top_p: 0.95,
        stop_tokens: vec![0],
        seed: 99,
    };
    let (cpu, _) = rollout(spar_model::CpuKernels::new(), &cfg);
    let (gpu, mut k) = rollout(gpu, &cfg);
    k.check().unwrap();
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_eq!(c.tokens, g.tokens);
        assert_eq!(c.stopped, g.stopped);
        close("rollout logprobs", &c.logprobs, &g.logprobs, 1e-4);
    }
}
