//! The one data flow across the crates, end to end through the facade, held to the Hugging
//! Face fixtures the crates commit:
//!
//! task (spar-tasks) → tokens (spar-bpe) → completions (spar-model's sampler) → rewards (the
//! task's verifier) → advantages and the policy loss's `∂L/∂logp` (spar-losses) → backward
//! and AdamW (spar-model) — the step spar-train's `Policy` takes, bit for bit.
//!
//! Fixtures: `crates/spar-train/tests/fixtures/hf_export` (a spar checkpoint with the ids
//! Hugging Face's tokenizer and `generate` produced from it, `scripts/hf_export_fixture.py`)
//! and `crates/spar-train/tests/fixtures/trl_parity` (a `save_pretrained` model with TRL's
//! GRPO advantages, loss and gradient norm on injected rollouts, `scripts/trl_step_parity.py`).

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use spar::bpe::Tokenizer;
use spar::losses::aggregation::LossType;
use spar::losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar::losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar::model::{block_on, checkpoint, CpuKernels, Gpt, GptConfig, SampleConfig};
use spar::tasks::{ArithOp, Arithmetic, Task};
use spar::train::optim::{OptimConfig, SchedulerType};
use spar::train::pg::{PgObjective, PgSpec};
use spar::train::policy::Policy;
use spar::train::rollout::{Batch, Rollout};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/spar-train/tests/fixtures")
        .join(name)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// A model for up to `batch` sequences with `params`.
fn gpt(cfg: GptConfig, params: &[f32], batch: usize) -> Gpt<CpuKernels> {
    let mut g = Gpt::new(CpuKernels::new(), cfg, batch, cfg.n_positions).unwrap();
    g.write_params(params).unwrap();
    g
}

/// The tokenizer and the model agree with Hugging Face's tokenizer and `generate` on the
/// fixture's prompts.
#[test]
fn tokens_and_greedy_completions_are_hugging_faces() {
    let dir = fixture("hf_export");
    let tok = Tokenizer::from_json(&std::fs::read_to_string(dir.join("tokenizer.json")).unwrap())
        .unwrap();
    let (cfg, params) = checkpoint::load(&dir).unwrap();
    let recorded = read_json(&dir.join("generate.json"));
    let eos = recorded["eos_token_id"].as_u64().unwrap() as u32;
    assert_eq!(tok.token_id("<|endoftext|>"), Some(eos));
    let gens = recorded["generations"].as_array().unwrap();
    let mut model = gpt(cfg, &params, gens.len());
    let prompts: Vec<Vec<u32>> = gens
        .iter()
        .map(|g| tok.encode(g["prompt"].as_str().unwrap()))
        .collect();
    for (p, g) in prompts.iter().zip(gens) {
        assert_eq!(p, &ids(&g["prompt_ids"]), "{}", g["prompt"]);
    }
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let greedy = SampleConfig {
        max_new_tokens: cfg.n_positions,
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
        stop_tokens: vec![eos],
        seed: 0,
    };
    let out = block_on(model.generate(&refs, &greedy, 0)).unwrap();
    for (o, g) in out.iter().zip(gens) {
        assert_eq!(o.tokens, ids(&g["completion_ids"]), "{}", g["prompt"]);
        let text = tok
            .decode(&o.tokens[..o.tokens.len() - usize::from(o.stopped)])
            .unwrap();
        assert_eq!(text, g["text"].as_str().unwrap());
    }
}

/// Problems from spar-tasks, G sampled completions each, rewards from the verifier, GRPO
/// advantages and the clipped loss from spar-losses, backward and AdamW in spar-model: the
/// parameters after the step are bit for bit those of spar-train's `Policy` step on the same
/// rollouts, and the step lowers the surrogate loss on them.
#[test]
fn one_grpo_step_by_hand_is_spar_trains_step() {
    const G: usize = 4;
    let dir = fixture("hf_export");
    let tok = Tokenizer::from_json(&std::fs::read_to_string(dir.join("tokenizer.json")).unwrap())
        .unwrap();
    let eos = tok.token_id("<|endoftext|>").unwrap();
    let (cfg, params) = checkpoint::load(&dir).unwrap();

    // Task → prompts → tokens.
    let task = Arithmetic::new(ArithOp::Add);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let problems: Vec<_> = (0..4)
        .map(|_| task.generate(1, &mut rng).unwrap())
        .collect();
    let prompts: Vec<Vec<u32>> = problems.iter().map(|p| tok.encode(&p.prompt)).collect();
    let refs: Vec<&[u32]> = prompts.iter().flat_map(|p| [p.as_slice(); G]).collect();

    // G completions per prompt at temperature 1, scored by the task's verifier.
    let mut model = gpt(cfg, &params, refs.len());
    let sampling = SampleConfig {
        max_new_tokens: 6,
        temperature: 1.0,
        top_k: 0,
        top_p: 1.0,
        stop_tokens: vec![eos],
        seed: 11,
    };
    let out = block_on(model.generate(&refs, &sampling, 0)).unwrap();
    let rollouts: Vec<Rollout> = refs
        .iter()
        .zip(&out)
        .map(|(p, o)| Rollout::new([*p, o.tokens.as_slice()].concat(), p.len()))
        .collect();
    let rewards: Vec<f64> = out
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let end = o.tokens.len() - usize::from(o.stopped);
            task.verify(&problems[i / G], &tok.decode(&o.tokens[..end]).unwrap())
        })
        .collect();
    let mut advantages = vec![0.0; rewards.len()];
    grpo_advantages(
        &rewards,
        G,
        ScaleRewards::Group,
        TRL_STD_EPSILON,
        &mut advantages,
    )
    .unwrap();
    assert!(
        advantages.iter().any(|&a| a != 0.0),
        "every group agreed: no signal (rewards {rewards:?})"
    );

    // Log-probs of the padded batch → the loss and ∂L/∂logp → backward → AdamW.
    let loss_config = PolicyLossConfig {
        loss_type: LossType::Dapo,
        ..PolicyLossConfig::default()
    };
    let optim = OptimConfig {
        learning_rate: 1e-3,
        lr_scheduler_type: SchedulerType::Constant,
        ..OptimConfig::default()
    };
    let batch = Batch::from_rollouts(&rollouts, cfg.n_positions);
    // The clipped surrogate against `old` log-probs (on-policy, ratio 1, when `None`).
    let loss_of = |model: &mut Gpt<CpuKernels>, old: Option<&[f64]>| {
        let mut lp = vec![0.0f32; batch.b * batch.t];
        block_on(model.logprobs(
            &batch.tokens,
            &batch.targets,
            Some(&batch.mask),
            batch.b,
            &mut lp,
            None,
        ))
        .unwrap();
        let logprobs: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        let pb = PolicyBatch {
            num_sequences: batch.b,
            max_len: batch.t,
            num_generations: G,
            logprobs: &logprobs,
            old_logprobs: old,
            ref_logprobs: None,
            mask: &batch.mask,
            advantages: Advantages::PerSequence(&advantages),
        };
        let mut grad = vec![0.0; batch.b * batch.t];
        let out = policy_loss(&loss_config, &pb, &mut grad).unwrap();
        (out.loss, grad, logprobs)
    };
    let mut by_hand = gpt(cfg, &params, refs.len());
    by_hand.set_decay_all(false);
    let (loss_before, grad, logprobs_before) = loss_of(&mut by_hand, None);
    let weights: Vec<f32> = grad.iter().map(|&g| g as f32).collect();
    by_hand.backward(&weights, None).unwrap();
    let norm = block_on(by_hand.checked_step(&optim.adamw(), optim.learning_rate)).unwrap();
    assert!(norm > 0.0 && norm.is_finite());
    // The surrogate with the sampler's log-probs held fixed falls: the step ascends the
    // advantage-weighted log-likelihood.
    let (loss_after, _, _) = loss_of(&mut by_hand, Some(&logprobs_before));
    assert!(
        loss_after < loss_before - 1e-4,
        "{loss_after} !< {loss_before}"
    );

    // The same step through spar-train's policy.
    let mut policy = Policy::new(gpt(cfg, &params, refs.len()), optim, 1);
    let spec = PgSpec {
        loss: loss_config,
        num_generations: G,
        advantages: Advantages::PerSequence(&advantages),
        use_old_logprobs: false,
        entropy_coef: 0.0,
        objective: PgObjective::Clip,
        clip_cov: None,
    };
    let rollout_refs: Vec<&Rollout> = rollouts.iter().collect();
    let pg =
        block_on(policy.policy_gradient(&rollout_refs, &spec, None, cfg.n_positions, 0)).unwrap();
    assert_eq!(pg.loss.to_bits(), loss_before.to_bits());
    let step = block_on(policy.step(0)).unwrap();
    assert_eq!(step.grad_norm.to_bits(), norm.to_bits());
    let n = params.len();
    let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
    block_on(by_hand.read_params(&mut a)).unwrap();
    block_on(policy.model().read_params(&mut b)).unwrap();
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!(
        a.iter().zip(&params).any(|(x, y)| x != y),
        "the step moved nothing"
    );
}

/// TRL's first GRPO step on its injected rollouts, by hand across the crates: the
/// advantages, the loss and the gradient norm are TRL's.
#[test]
fn the_flow_reproduces_trls_first_grpo_step() {
    let dir = fixture("trl_parity");
    let f = read_json(&dir.join("steps.json"));
    let grpo = &f["grpo"];
    let step = &grpo["steps"][0];
    let g = grpo["num_generations"].as_u64().unwrap() as usize;
    let (cfg, params) = checkpoint::load(dir.join("init")).unwrap();
    let rollouts: Vec<Rollout> = step["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(step["completions"].as_array().unwrap())
        .map(|(p, c)| {
            let p = ids(p);
            Rollout::new([p.clone(), ids(c)].concat(), p.len())
        })
        .collect();
    let rewards: Vec<f64> = step["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_f64().unwrap())
        .collect();
    let mut adv = vec![0.0; rewards.len()];
    grpo_advantages(&rewards, g, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv).unwrap();
    for (a, want) in adv.iter().zip(step["advantages"].as_array().unwrap()) {
        let want = want.as_f64().unwrap();
        assert!(
            (a - want).abs() <= 1e-6 * want.abs().max(1e-12),
            "{a} vs TRL's {want}"
        );
    }
    let batch = Batch::from_rollouts(&rollouts, cfg.n_positions);
    let mut model = gpt(cfg, &params, rollouts.len());
    let mut lp = vec![0.0f32; batch.b * batch.t];
    block_on(model.logprobs(
        &batch.tokens,
        &batch.targets,
        Some(&batch.mask),
        batch.b,
        &mut lp,
        None,
    ))
    .unwrap();
    let logprobs: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
    let config = PolicyLossConfig {
        epsilon: 0.2,
        epsilon_high: 0.2,
        beta: 0.0,
        loss_type: LossType::Dapo,
        max_completion_length: grpo["max_completion_length"].as_u64().unwrap() as usize,
        ..PolicyLossConfig::default()
    };
    let pb = PolicyBatch {
        num_sequences: batch.b,
        max_len: batch.t,
        num_generations: g,
        logprobs: &logprobs,
        old_logprobs: None,
        ref_logprobs: None,
        mask: &batch.mask,
        advantages: Advantages::PerSequence(&adv),
    };
    let mut grad = vec![0.0; batch.b * batch.t];
    let out = policy_loss(&config, &pb, &mut grad).unwrap();
    let want_loss = step["loss"].as_f64().unwrap();
    assert!(
        (out.loss - want_loss).abs() <= 1e-5 * want_loss.abs(),
        "loss {} vs TRL's {want_loss}",
        out.loss
    );
    let weights: Vec<f32> = grad.iter().map(|&x| x as f32).collect();
    model.backward(&weights, None).unwrap();
    let optim = OptimConfig {
        learning_rate: grpo["learning_rate"].as_f64().unwrap() as f32,
        lr_scheduler_type: SchedulerType::Constant,
        ..OptimConfig::default()
    };
    model.set_decay_all(false);
    let norm = block_on(model.checked_step(&optim.adamw(), optim.learning_rate)).unwrap() as f64;
    let want_norm = step["grad_norm"].as_f64().unwrap();
    assert!(
        (norm - want_norm).abs() <= 1e-5 * want_norm,
        "gradient norm {norm} vs TRL's {want_norm}"
    );
}
