//! Step parity with Hugging Face: the fixture (`scripts/trl_step_parity.py`, committed under
//! `tests/fixtures/trl_parity/`) holds a tiny GPT2LMHeadModel, three GRPO steps of TRL's
//! GRPOTrainer loss with its AdamW on injected rollouts, and ten SFT steps of a plain PyTorch
//! loop. spar loads the same weights, injects the same rollouts and batches, and must match:
//! advantages to the last bits (TRL's formula in f64; its float32 values to float32 rounding),
//! losses and gradient norms to 1e-5 relative, parameters after
//! the steps to 1e-5 relative (in norm).
// The fixture is read from files: the `std` feature (on by default).
#![cfg(feature = "std")]

use serde::Deserialize;
use spar_losses::aggregation::LossType;
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
use spar_model::{block_on, checkpoint, CpuKernels, Gpt, GptConfig};
use spar_train::optim::{DecayParameters, OptimConfig, SchedulerType};
use spar_train::pg::{PgObjective, PgSpec};
use spar_train::policy::Policy;
use spar_train::rollout::{Batch, Rollout};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Fixture {
    grpo: GrpoFixture,
    sft: SftFixture,
}

#[derive(Deserialize)]
struct GrpoFixture {
    learning_rate: f32,
    num_generations: usize,
    max_completion_length: usize,
    steps: Vec<GrpoStep>,
}

#[derive(Deserialize)]
struct GrpoStep {
    prompts: Vec<Vec<u32>>,
    completions: Vec<Vec<u32>>,
    rewards: Vec<f64>,
    advantages: Vec<f64>,
    advantages_f64: Vec<f64>,
    loss: f64,
    grad_norm: f64,
}

#[derive(Deserialize)]
struct SftFixture {
    learning_rate: f32,
    weight_decay: f32,
    examples: Vec<Example>,
    steps: Vec<SftStep>,
}

#[derive(Deserialize)]
struct Example {
    prompt: Vec<u32>,
    answer: Vec<u32>,
}

#[derive(Deserialize)]
struct SftStep {
    batch: Vec<usize>,
    loss: f64,
    grad_norm: f64,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trl_parity")
}

fn fixture() -> Fixture {
    serde_json::from_str(&std::fs::read_to_string(dir().join("steps.json")).unwrap()).unwrap()
}

/// The initial model from the fixture's `save_pretrained` directory.
fn policy(optim: OptimConfig, steps: u32) -> (Policy<CpuKernels>, GptConfig) {
    let (cfg, params) = checkpoint::load(dir().join("init")).unwrap();
    let mut gpt = Gpt::new(CpuKernels::new(), cfg, 64, cfg.n_positions).unwrap();
    gpt.write_params(&params).unwrap();
    (Policy::new(gpt, optim, steps), cfg)
}

/// Weights saved by the fixture script (the initial model's names, `lm_head` left out).
fn weights(file: &str, cfg: &GptConfig) -> Vec<f32> {
    checkpoint::from_bytes(cfg, &std::fs::read(dir().join(file)).unwrap()).unwrap()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    let err = (got - want).abs() / want.abs().max(1e-12);
    assert!(
        err <= rel,
        "{what}: spar {got} vs reference {want} (relative {err:.2e})"
    );
}

fn params_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    let diff: f64 = got
        .iter()
        .zip(want)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm: f64 = want.iter().map(|&b| (b as f64).powi(2)).sum::<f64>().sqrt();
    assert!(
        diff <= 1e-5 * norm,
        "{what}: |Δθ| {diff:.3e} vs |θ| {norm:.3e} (relative {:.2e})",
        diff / norm
    );
}

#[test]
fn three_grpo_steps_match_trl() {
    let f = fixture().grpo;
    // TRL's GRPOTrainer optimiser: a fresh AdamW with Hugging Face's defaults, constant lr.
    let optim = OptimConfig {
        learning_rate: f.learning_rate,
        lr_scheduler_type: SchedulerType::Constant,
        ..OptimConfig::default()
    };
    let (mut policy, cfg) = policy(optim, f.steps.len() as u32);
    let before = block_on(policy.snapshot(0)).unwrap().0;
    for (s, step) in f.steps.iter().enumerate() {
        let rollouts: Vec<Rollout> = step
            .prompts
            .iter()
            .zip(&step.completions)
            .map(|(p, c)| {
                let mut tokens = p.clone();
                tokens.extend_from_slice(c);
                Rollout::new(tokens, p.len())
            })
            .collect();
        let mut adv = vec![0.0f64; rollouts.len()];
        grpo_advantages(
            &step.rewards,
            f.num_generations,
            ScaleRewards::Group,
            TRL_STD_EPSILON,
            &mut adv,
        )
        .unwrap();
        // TRL's formula evaluated in f64, as spar does: equal to the last bits (torch's
        // reductions sum in another order, which moves a group's std by an ulp at most), and
        // TRL's own float32 values up to float32 rounding.
        for (i, (&a, &b)) in adv.iter().zip(&step.advantages_f64).enumerate() {
            close(
                &format!("step {s} advantage {i} (float64)"),
                a,
                b,
                4.0 * f64::EPSILON,
            );
        }
        for (i, (&a, &b)) in adv.iter().zip(&step.advantages).enumerate() {
            close(&format!("step {s} advantage {i} (float32)"), a, b, 1e-6);
        }
        let spec = PgSpec {
            loss: PolicyLossConfig {
                epsilon: 0.2,
                epsilon_high: 0.2,
                beta: 0.0,
                loss_type: LossType::Dapo,
                max_completion_length: f.max_completion_length,
                ..PolicyLossConfig::default()
            },
            num_generations: f.num_generations,
            advantages: Advantages::PerSequence(&adv),
            // One iteration: TRL's old log-probs are the current ones, detached (ratio 1).
            use_old_logprobs: false,
            entropy_coef: 0.0,
            objective: PgObjective::Clip,
            clip_cov: None,
        };
        let refs: Vec<&Rollout> = rollouts.iter().collect();
        let out = block_on(policy.policy_gradient(&refs, &spec, None, cfg.n_positions, s as u32))
            .unwrap();
        close(&format!("step {s} loss"), out.loss, step.loss, 1e-5);
        let o = block_on(policy.step(s as u32)).unwrap();
        close(
            &format!("step {s} gradient norm"),
            o.grad_norm as f64,
            step.grad_norm,
            1e-5,
        );
    }
    let after = block_on(policy.snapshot(0)).unwrap().0;
    let want = weights("grpo_after.safetensors", &cfg);
    assert!(
        params_distance(&before, &want) > 100.0 * params_distance(&after, &want),
        "the steps moved the parameters towards the reference's"
    );
    params_close("parameters after 3 GRPO steps", &after, &want);
}

fn params_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn ten_sft_steps_match_the_pytorch_loop() {
    let f = fixture().sft;
    // `torch.optim.AdamW(model.parameters(), lr, weight_decay)`: every parameter decays, no
    // clipping, a constant rate.
    let optim = OptimConfig {
        learning_rate: f.learning_rate,
        lr_scheduler_type: SchedulerType::Constant,
        weight_decay: f.weight_decay,
        decay_parameters: DecayParameters::All,
        max_grad_norm: 0.0,
        ..OptimConfig::default()
    };
    let (mut policy, cfg) = policy(optim, f.steps.len() as u32);
    let before = block_on(policy.snapshot(0)).unwrap().0;
    for (s, step) in f.steps.iter().enumerate() {
        let seqs: Vec<(Vec<u32>, usize)> = step
            .batch
            .iter()
            .map(|&i| {
                let e = &f.examples[i];
                let mut t = e.prompt.clone();
                t.extend_from_slice(&e.answer);
                (t, e.prompt.len())
            })
            .collect();
        let batch = Batch::from_pairs(&seqs, cfg.n_positions);
        let loss = block_on(policy.nll_backward(&batch, 1.0, s as u32)).unwrap();
        close(&format!("SFT step {s} loss"), loss, step.loss, 1e-5);
        let o = block_on(policy.step(s as u32)).unwrap();
        close(
            &format!("SFT step {s} gradient norm"),
            o.grad_norm as f64,
            step.grad_norm,
            1e-5,
        );
    }
    let after = block_on(policy.snapshot(0)).unwrap().0;
    let want = weights("sft_after.safetensors", &cfg);
    assert!(params_distance(&before, &want) > 100.0 * params_distance(&after, &want));
    params_close("parameters after 10 SFT steps", &after, &want);
}

fn shipped(name: &str) -> spar_train::TrainConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    spar_train::TrainConfig::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The "ten times sooner" config keeps TRL's start, task, answer check, sampler and
/// optimiser kind; only the RL stage's recipe (rate, batch, dynamic sampling, selective
/// rollouts, length of the run) and the bookkeeping differ from the reference.
#[test]
fn the_fast_config_changes_only_the_rl_recipe() {
    let reference = shipped("trl_toy_reference.toml");
    let fast = shipped("trl_toy_fast.toml");
    assert_eq!(fast.model, reference.model);
    assert_eq!(fast.task, reference.task);
    assert_eq!(fast.sft, reference.sft);
    assert_eq!(fast.eval, reference.eval);
    assert_eq!(fast.seed, reference.seed);
    assert!(fast.grpo.dynamic_sampling && !reference.grpo.dynamic_sampling);
    assert_eq!(fast.grpo.num_generations, reference.grpo.num_generations);
    assert!(fast.optim.learning_rate > reference.optim.learning_rate);
    // Everything else in the RL stage (loss, clipping, β, sampling, reward, sampler) is TRL's.
    let mut g = fast.grpo.clone();
    g.dynamic_sampling = reference.grpo.dynamic_sampling;
    g.max_refill_rounds = reference.grpo.max_refill_rounds;
    g.zero_spread_skip = reference.grpo.zero_spread_skip;
    g.per_device_train_batch_size = reference.grpo.per_device_train_batch_size;
    g.max_steps = reference.grpo.max_steps;
    assert_eq!(g, reference.grpo);
    let mut o = fast.optim;
    o.learning_rate = reference.optim.learning_rate;
    assert_eq!(o, reference.optim);
}
