//! Exact resume for every loop: train N steps; train k, checkpoint to disk, load into a fresh
//! instance, train to N; both give identical parameters, optimiser state and metrics on the
//! CPU backend.
// These tests write checkpoint files: they need the `std` feature (on by default).
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use serde::de::DeserializeOwned;
use serde::Serialize;
use spar_model::{block_on, CpuKernels, GptConfig};
use spar_train::azr_selfplay::{AzrConfig, AzrSelfPlay, AZR_CHARSET};
use spar_train::config::ModelSection;
use spar_train::kuhn_selfplay::{KuhnConfig, KuhnSelfPlay};
use spar_train::native::{
    load_checkpoint, load_loop_checkpoint, save_checkpoint, save_loop_checkpoint,
};
use spar_train::optim::{OptimOverride, OptimizerState};
use spar_train::self_reinforce::{SelfReinforce, SelfReinforceConfig};
use spar_train::selfplay::LoopSnapshot;
use spar_train::tictactoe_selfplay::{TicTacToeConfig, TicTacToeSelfPlay};
use spar_train::{CharVocab, Snapshot, TrainConfig, Trainer};
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spar-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Saves `snap` through the checkpoint files and reads it back.
fn through_disk<S: Serialize + DeserializeOwned + Clone>(
    name: &str,
    step: u32,
    model: &GptConfig,
    vocab: &CharVocab,
    config_toml: &str,
    snap: &LoopSnapshot<S>,
) -> LoopSnapshot<S> {
    let d = dir(name);
    save_loop_checkpoint(&d, step, model, vocab, config_toml, snap).unwrap();
    let ck = load_loop_checkpoint::<S>(&d).unwrap();
    assert_eq!(ck.step, step);
    assert_eq!(ck.config_toml, config_toml);
    let _ = std::fs::remove_dir_all(&d);
    ck.snapshot
}

fn trainer_config(state: OptimizerState) -> TrainConfig {
    let mut c = TrainConfig::sort3(5);
    c.model.n_embd = 16;
    c.task.num_train_problems = 80;
    c.task.num_eval_problems = 10;
    c.sft.max_steps = 5;
    c.sft.per_device_train_batch_size = 8;
    c.sft.optim = OptimOverride {
        learning_rate: Some(3e-3),
        warmup_steps: Some(2),
        ..OptimOverride::default()
    };
    c.grpo.max_steps = 5;
    c.grpo.per_device_train_batch_size = 16;
    c.grpo.num_generations = 4;
    c.grpo.beta = 0.02;
    c.grpo.optim = OptimOverride {
        learning_rate: Some(1e-3),
        optimizer_state: Some(state),
        ..OptimOverride::default()
    };
    c.optim = spar_train::optim::OptimConfig::default();
    c
}

/// Trains `cfg` to step `k`, checkpoints to disk, restores into a fresh trainer and trains to
/// the end: every step's metrics, the final snapshot, and the snapshot read from disk.
fn resumed_through_disk(
    cfg: &TrainConfig,
    k: u32,
    name: &str,
) -> (Vec<spar_train::StepMetrics>, Snapshot, Snapshot) {
    let new = || Trainer::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
    let mut first = new();
    let mut got = Vec::new();
    while first.step() < k {
        got.push(block_on(first.train_step()).unwrap());
    }
    let d = dir(name);
    block_on(save_checkpoint(&mut first, &d)).unwrap();
    drop(first);
    let ck = load_checkpoint(&d).unwrap();
    let _ = std::fs::remove_dir_all(&d);
    let mut second = new();
    second.restore(&ck.snapshot).unwrap();
    let total = second.total_steps();
    while second.step() < total {
        got.push(block_on(second.train_step()).unwrap());
    }
    (got, block_on(second.snapshot()).unwrap(), ck.snapshot)
}

#[test]
fn the_trainer_resumes_exactly_in_sft_at_the_stage_boundary_and_in_rl() {
    for state in [OptimizerState::Fresh, OptimizerState::Carry] {
        let cfg = trainer_config(state);
        let new = || Trainer::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
        let mut full = new();
        let total = full.total_steps();
        let mut expected = Vec::new();
        while full.step() < total {
            expected.push(block_on(full.train_step()).unwrap());
        }
        let end = block_on(full.snapshot()).unwrap();
        for k in [2, cfg.sft.max_steps, cfg.sft.max_steps + 2] {
            let (got, snap, _) = resumed_through_disk(&cfg, k, &format!("trainer-{state:?}-{k}"));
            assert_eq!(got, expected, "{state:?}, stopped at {k}");
            assert_eq!(snap, end, "{state:?} at {k}");
        }
    }
}

/// Selective rollouts keep per-prompt state (which prompts' last groups had no spread): it
/// travels in the checkpoint, so a resumed run draws the same prompts.
#[test]
fn selective_rollouts_resume_exactly() {
    let mut cfg = trainer_config(OptimizerState::Fresh);
    cfg.grpo.zero_spread_skip = 0.8;
    cfg.grpo.dynamic_sampling = true;
    cfg.grpo.prompt_sampler = spar_train::sampler::Sampler::Epoch;
    let new = || Trainer::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
    let mut full = new();
    let total = full.total_steps();
    let mut expected = Vec::new();
    while full.step() < total {
        expected.push(block_on(full.train_step()).unwrap());
    }
    let end = block_on(full.snapshot()).unwrap();
    assert!(!end.state.zero_spread_prompts.is_empty());
    let (got, snap, saved) =
        resumed_through_disk(&cfg, cfg.sft.max_steps + 2, "selective-rollouts");
    assert!(!saved.state.zero_spread_prompts.is_empty());
    assert_eq!(got, expected);
    assert_eq!(snap, end);
    // A checkpoint that names a problem the pool does not have is refused.
    let mut bad = saved;
    bad.state.zero_spread_prompts.push(1_000_000);
    let e = new().restore(&bad).unwrap_err().to_string();
    assert!(e.contains("zero_spread_prompts"), "{e}");
}

/// One- and two-digit addition after enough SFT that some groups have spread (rewards 0 and
/// 1), so that the replay buffer fills within a few RL steps.
fn addition_config() -> TrainConfig {
    let mut c = TrainConfig::default();
    c.seed = 11;
    c.model.n_embd = 16;
    c.model.n_positions = 16;
    c.model.charset = "0123456789+= adsum:".into();
    c.task.levels = vec![0, 1];
    c.task.num_train_problems = 60;
    c.task.labelled_fraction = 0.5;
    c.task.num_eval_problems = 10;
    c.sft.max_steps = 60;
    c.sft.per_device_train_batch_size = 8;
    c.grpo.max_steps = 9;
    c.grpo.per_device_train_batch_size = 16;
    c.grpo.num_generations = 4;
    c.grpo.max_completion_length = 4;
    c.grpo.beta = 0.02;
    c
}

/// The GRPO options against vanishing advantages keep state (the replay buffer, SPEAR's
/// recent rewards) or draw more samples (oversampling): a resumed run continues bit for bit.
#[test]
fn replay_and_oversampling_resume_exactly() {
    use spar_train::config::ReplayName;
    for (replay, oversample) in [
        (ReplayName::Ssr, 1),
        (ReplayName::Spear, 1),
        (ReplayName::None, 3),
    ] {
        let mut cfg = addition_config();
        cfg.grpo.replay = replay;
        cfg.grpo.replay_buffer_size = 24;
        cfg.grpo.spear_reward_window = 40;
        cfg.grpo.oversample_factor = oversample;
        if oversample > 1 {
            cfg.grpo.entropy_coef = 0.01;
        }
        let name = format!("grpo-options-{replay:?}-{oversample}");
        let new = || Trainer::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
        let mut full = new();
        let total = full.total_steps();
        let mut expected = Vec::new();
        while full.step() < total {
            expected.push(block_on(full.train_step()).unwrap());
        }
        let end = block_on(full.snapshot()).unwrap();
        let (got, snap, saved) = resumed_through_disk(&cfg, cfg.sft.max_steps + 6, &name);
        if replay != ReplayName::None {
            assert!(
                !saved.state.replay.is_empty(),
                "{name}: the checkpoint holds the replay state"
            );
        }
        assert_eq!(got, expected, "{name}");
        assert_eq!(snap, end, "{name}");
    }
    // A checkpoint whose buffer does not fit the model is refused.
    let mut cfg = addition_config();
    cfg.grpo.replay = ReplayName::Ssr;
    let (_, _, mut bad) = resumed_through_disk(&cfg, cfg.sft.max_steps + 6, "grpo-options-bad");
    let mut r = spar_train::rollout::Rollout::new(vec![1, 2, 999_999], 1);
    r.old_logprobs = vec![-1.0, -1.0];
    bad.state
        .replay
        .buffer
        .push(spar_train::trainer::ReplayItem {
            rollout: r,
            advantage: 1.0,
        });
    let e = Trainer::new(cfg, Box::new(CpuKernels::new))
        .unwrap()
        .restore(&bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("replay buffer"), "{e}");
}

#[test]
fn kuhn_self_play_resumes_exactly() {
    for mask_illegal in [true, false] {
        let cfg = KuhnConfig {
            seed: 3,
            max_steps: 6,
            games_per_step: 16,
            mask_illegal,
            ..KuhnConfig::default()
        };
        let new = || KuhnSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
        let mut full = new();
        let expected: Vec<_> = (0..6)
            .map(|_| block_on(full.train_step()).unwrap())
            .collect();
        let end = block_on(full.snapshot()).unwrap();
        let mut first = new();
        let mut got: Vec<_> = (0..3)
            .map(|_| block_on(first.train_step()).unwrap())
            .collect();
        let snap = block_on(first.snapshot()).unwrap();
        let model = *first.model().config();
        let vocab = CharVocab::new(&cfg.model.charset).unwrap();
        let snap = through_disk("kuhn", 3, &model, &vocab, &cfg.to_toml(), &snap);
        let mut second = new();
        second.restore(&snap).unwrap();
        got.extend((3..6).map(|_| block_on(second.train_step()).unwrap()));
        assert_eq!(got, expected, "mask_illegal {mask_illegal}");
        assert_eq!(block_on(second.snapshot()).unwrap(), end);
    }
}

#[test]
fn tictactoe_self_play_resumes_exactly() {
    let cfg = TicTacToeConfig {
        seed: 2,
        max_steps: 4,
        games_per_step: 8,
        eval_games: 4,
        ..TicTacToeConfig::default()
    };
    let new = || TicTacToeSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    let mut full = new();
    let expected: Vec<_> = (0..4)
        .map(|_| block_on(full.train_step()).unwrap())
        .collect();
    let end = block_on(full.snapshot()).unwrap();
    let mut first = new();
    let mut got: Vec<_> = (0..2)
        .map(|_| block_on(first.train_step()).unwrap())
        .collect();
    let snap = block_on(first.snapshot()).unwrap();
    let model = *first.model().config();
    let snap = through_disk("ttt", 2, &model, first.vocab(), &cfg.to_toml(), &snap);
    let mut second = new();
    second.restore(&snap).unwrap();
    got.extend((2..4).map(|_| block_on(second.train_step()).unwrap()));
    assert_eq!(got, expected);
    assert_eq!(block_on(second.snapshot()).unwrap(), end);
}

#[test]
fn absolute_zero_resumes_exactly_with_its_buffers() {
    let cfg = AzrConfig {
        model: ModelSection {
            n_layer: 1,
            n_embd: 16,
            n_head: 2,
            n_positions: 64,
            charset: AZR_CHARSET.to_string(),
            init_from: String::new(),
        },
        warmup_steps: 3,
        max_steps: 4,
        proposals_per_type: 4,
        solves_per_type: 4,
        n_samples: 2,
        eval_every: 0,
        ..AzrConfig::default()
    };
    let new = || AzrSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    let mut full = new();
    let expected: Vec<_> = (0..4)
        .map(|_| block_on(full.train_step()).unwrap())
        .collect();
    let end = block_on(full.snapshot()).unwrap();
    let mut first = new();
    let mut got: Vec<_> = (0..2)
        .map(|_| block_on(first.train_step()).unwrap())
        .collect();
    let snap = block_on(first.snapshot()).unwrap();
    let model = *first.model().config();
    let snap = through_disk("azr", 2, &model, first.vocab(), &cfg.to_toml(), &snap);
    let mut second = new();
    second.restore(&snap).unwrap();
    got.extend((2..4).map(|_| block_on(second.train_step()).unwrap()));
    assert_eq!(got, expected);
    assert_eq!(block_on(second.snapshot()).unwrap(), end);
}

#[test]
fn self_reinforcement_resumes_exactly_within_and_across_rounds() {
    let mut cfg = SelfReinforceConfig::default();
    cfg.train.model.n_embd = 16;
    cfg.train.task.num_train_problems = 120;
    cfg.train.task.num_eval_problems = 10;
    cfg.train.sft.max_steps = 12;
    cfg.train.sft.per_device_train_batch_size = 8;
    cfg.weak_sft_steps = 4;
    cfg.rounds = 2;
    cfg.steps_per_round = 3;
    cfg.pairs_per_step = 8;
    let new = || SelfReinforce::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
    let mut full = new();
    let total = full.total_steps();
    let expected: Vec<_> = (0..total)
        .map(|_| block_on(full.train_step()).unwrap())
        .collect();
    let end = block_on(full.snapshot()).unwrap();
    for k in [1, 3, 4] {
        let mut first = new();
        let mut got: Vec<_> = (0..k)
            .map(|_| block_on(first.train_step()).unwrap())
            .collect();
        let snap = block_on(first.snapshot()).unwrap();
        let model = *first.trainer().model().config();
        let vocab = first.trainer().vocab().clone();
        let snap = through_disk("dpo", k, &model, &vocab, &cfg.to_toml(), &snap);
        let mut second = new();
        second.restore(&snap).unwrap();
        assert_eq!(second.step(), k);
        got.extend((k..total).map(|_| block_on(second.train_step()).unwrap()));
        assert_eq!(got, expected, "stopped at {k}");
        assert_eq!(block_on(second.snapshot()).unwrap(), end, "stopped at {k}");
    }
    // Before the SFT stage there is nothing to checkpoint yet: an error, not a panic.
    assert!(block_on(new().snapshot()).is_err());
}
