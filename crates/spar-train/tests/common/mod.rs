//! Helpers the integration tests share: a tiny config on 1- and 2-digit addition and a
//! trainer after its SFT steps.
#![allow(dead_code)] // each test file uses its own subset
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::{Snapshot, TrainConfig, Trainer};

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
