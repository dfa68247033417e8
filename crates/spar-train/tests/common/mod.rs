//! Helpers the integration tests share: tiny configs on addition and a trainer after its SFT
//! steps.
#![allow(dead_code)] // each test file uses its own subset
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::{Snapshot, StepMetrics, TrainConfig, Trainer};

/// A tiny config: 1 × 16 GPT, levels 0 and 1 of addition, 60 problems (half labelled), 5 SFT
/// steps, 3 RL steps of 4 groups of 4.
pub fn small() -> TrainConfig {
    let mut c = TrainConfig::default();
    c.seed = 11;
    c.model.n_embd = 16;
    c.model.n_positions = 16;
    c.model.charset = "0123456789+= adsum:".into();
    c.task.levels = vec![0, 1];
    c.task.num_train_problems = 60;
    c.task.labelled_fraction = 0.5;
    c.task.num_eval_problems = 10;
    c.sft.max_steps = 5;
    c.sft.per_device_train_batch_size = 8;
    c.grpo.max_steps = 3;
    c.grpo.per_device_train_batch_size = 16;
    c.grpo.num_generations = 4;
    c.grpo.max_completion_length = 4;
    c.grpo.beta = 0.0;
    c
}

/// A tiny verifier-GRPO config on addition at `level` (1 × 16 GPT, 24 positions, 200 problems
/// half labelled, 20 held out, 3 SFT steps of 8, 3 RL steps of 4 prompts × 4 completions of
/// at most 4 tokens); the RL method tests edit it.
pub fn tiny_addition(level: usize, seed: u64) -> TrainConfig {
    let mut c = TrainConfig::default();
    c.seed = seed;
    c.model.n_embd = 16;
    c.model.n_positions = 24;
    c.task.name = "addition".into();
    c.task.levels = vec![level];
    c.task.num_train_problems = 200;
    c.task.labelled_fraction = 0.5;
    c.task.num_eval_problems = 20;
    c.sft.max_steps = 3;
    c.sft.per_device_train_batch_size = 8;
    c.grpo.max_steps = 3;
    c.grpo.per_device_train_batch_size = 16;
    c.grpo.num_generations = 4;
    c.grpo.max_completion_length = 4;
    c.grpo.reward = spar_train::config::RewardSource::Verifier;
    c
}

pub fn trainer(c: &TrainConfig) -> Trainer<CpuKernels> {
    Trainer::new(c.clone(), Box::new(CpuKernels::new)).unwrap()
}

/// A trainer after its SFT steps, and its snapshot there.
pub fn after_sft(c: &TrainConfig) -> (Trainer<CpuKernels>, Snapshot) {
    let mut t = trainer(c);
    while t.step() < c.sft.max_steps {
        block_on(t.train_step()).unwrap();
    }
    let snap = block_on(t.snapshot()).unwrap();
    (t, snap)
}

/// Runs `c` to the end twice, straight and stopped after step `split` (snapshot, a fresh
/// trainer restored from it, the rest), asserts that both give the same metrics at every step
/// and the same final snapshot, and returns the metrics.
pub fn assert_resumes_exactly(c: &TrainConfig, split: u32) -> Vec<StepMetrics> {
    let mut full = trainer(c);
    let mut expected = Vec::new();
    while full.step() < full.total_steps() {
        expected.push(block_on(full.train_step()).unwrap());
    }
    let mut first = trainer(c);
    let mut got = Vec::new();
    while first.step() < split {
        got.push(block_on(first.train_step()).unwrap());
    }
    let snap = block_on(first.snapshot()).unwrap();
    drop(first);
    let mut second = trainer(c);
    second.restore(&snap).unwrap();
    while second.step() < second.total_steps() {
        got.push(block_on(second.train_step()).unwrap());
    }
    assert_eq!(got, expected, "metrics after resuming at step {split}");
    assert_eq!(
        block_on(second.snapshot()).unwrap(),
        block_on(full.snapshot()).unwrap(),
        "final state after resuming at step {split}"
    );
    expected
}
