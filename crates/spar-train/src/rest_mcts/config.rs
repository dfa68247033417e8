//! The config of a ReST-MCTS\* run (`configs/rest_mcts.toml`): the search, its token budget
//! (shared with the best-of-N arm), the value head and the M-steps.

use crate::config::TrainConfig;
use crate::optim::{OptimConfig, OptimOverride};
use crate::TrainError;
use serde::{Deserialize, Serialize};

/// The value head: a second small GPT over the policy's vocabulary (module docs of
/// [`crate::rest_mcts::value`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValueHeadConfig {
    /// Start the value head from the SFT policy's weights (its sizes then are the policy's,
    /// `train.model`, and the three below are not used), as the paper starts its value model
    /// from the language model; else from a fresh initialisation of the sizes below.
    pub init_from_policy: bool,
    /// Transformer blocks.
    pub n_layer: usize,
    /// Width.
    pub n_embd: usize,
    /// Attention heads.
    pub n_head: usize,
    /// Optimiser steps per round of value training.
    pub train_steps: u32,
    /// Prefixes per value-training batch.
    pub batch_size: usize,
    /// AdamW learning rate (constant) of value training.
    pub learning_rate: f32,
}

impl Default for ValueHeadConfig {
    fn default() -> Self {
        Self {
            init_from_policy: true,
            n_layer: 1,
            n_embd: 32,
            n_head: 2,
            train_steps: 200,
            batch_size: 32,
            learning_rate: 1e-3,
        }
    }
}

/// A ReST-MCTS\* run against best-of-N at the same token budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestMctsConfig {
    /// The model, the task with its labelled split, the SFT stage and the evaluation (its
    /// `grpo` section is not used).
    pub train: TrainConfig,
    /// Self-training rounds (search or best-of-N, then the M-step).
    pub rounds: u32,
    /// Unlabelled problems drawn per round (the same draw for both arms).
    pub problems_per_round: usize,
    /// Sampled tokens per problem (stop tokens included), for the search and for best-of-N.
    pub budget_tokens: usize,
    /// k: candidate next steps sampled per expansion.
    pub expand_k: usize,
    /// m: rollouts completed from each new node at least (the expansion's own continuations
    /// after the node's step count; more are sampled as needed).
    pub rollouts_m: usize,
    /// Weight of the value head in a node's value: `(1 − w)·rollout mean + w·value head`.
    pub value_weight: f64,
    /// The PUCT exploration constant.
    pub c_puct: f64,
    /// Expansions of one node at most: a node none of whose children can be selected is
    /// expanded again until it has been expanded this often.
    pub max_expansions: u32,
    /// The step delimiter: a step ends after this character (or the end token); it must be
    /// one token of the vocabulary.
    pub step_delimiter: char,
    /// Tokens per step at most: a longer step without a delimiter is broken (value 0).
    pub max_step_tokens: usize,
    /// New tokens per completion at most (the end token included).
    pub max_completion_length: usize,
    /// Sampling temperature of the search and of best-of-N.
    pub temperature: f32,
    /// Completions sampled per batch by best-of-N.
    pub best_of_n_batch: usize,
    /// Optimiser steps per M-step.
    pub sft_steps: u32,
    /// Sequences per M-step batch.
    pub batch_size: usize,
    /// The M-step's overrides of `train.optim` (default: learning rate 1e-3, constant).
    pub optim: OptimOverride,
    /// Fine-tune from the SFT start every round, else from the arm's current model.
    pub restart_from_base: bool,
    /// Train each M-step on every round's kept traces so far, else on this round's only.
    pub accumulate: bool,
    /// Keep the labelled SFT examples in every M-step's data.
    pub include_labelled: bool,
    /// The value head.
    pub value: ValueHeadConfig,
}

impl Default for RestMctsConfig {
    fn default() -> Self {
        Self {
            train: {
                let mut t = TrainConfig {
                    output_dir: "runs/rest_mcts".into(),
                    ..TrainConfig::default()
                };
                t.task.name = "trace".into();
                t.model.n_positions = 64;
                t
            },
            rounds: 3,
            problems_per_round: 64,
            budget_tokens: 256,
            expand_k: 3,
            rollouts_m: 2,
            value_weight: 0.5,
            c_puct: 1.0,
            max_expansions: 2,
            step_delimiter: ';',
            max_step_tokens: 14,
            max_completion_length: 40,
            temperature: 1.0,
            best_of_n_batch: 8,
            sft_steps: 200,
            batch_size: 32,
            optim: OptimOverride {
                learning_rate: Some(1e-3),
                lr_scheduler_type: Some(crate::optim::SchedulerType::Constant),
                ..OptimOverride::default()
            },
            restart_from_base: true,
            accumulate: true,
            include_labelled: true,
            value: ValueHeadConfig::default(),
        }
    }
}

impl RestMctsConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        self.train.validate()?;
        if self.train.task.name != "trace" {
            return bad(
                "train.task.name",
                "must be `trace` (the step-by-step task whose final answer the search reads)",
            );
        }
        if self.rounds == 0 {
            return bad("rounds", "must be at least 1");
        }
        if self.problems_per_round == 0 {
            return bad("problems_per_round", "must be at least 1");
        }
        if !(1..=64).contains(&self.expand_k) {
            return bad("expand_k", "must be in [1, 64]");
        }
        if !(1..=64).contains(&self.rollouts_m) {
            return bad("rollouts_m", "must be in [1, 64]");
        }
        if !(0.0..=1.0).contains(&self.value_weight) {
            return bad("value_weight", "must be in [0, 1]");
        }
        if !(self.c_puct >= 0.0 && self.c_puct.is_finite()) {
            return bad("c_puct", "must be finite and >= 0");
        }
        if self.max_expansions == 0 {
            return bad("max_expansions", "must be at least 1");
        }
        if self.max_step_tokens == 0 {
            return bad("max_step_tokens", "must be at least 1");
        }
        if self.max_completion_length < self.max_step_tokens {
            return bad(
                "max_completion_length",
                "must be at least `max_step_tokens`",
            );
        }
        if self.max_completion_length >= self.train.model.n_positions {
            return bad(
                "max_completion_length",
                "must be below `train.model.n_positions` (room for the prompt)",
            );
        }
        if self.budget_tokens < self.max_completion_length {
            return bad(
                "budget_tokens",
                "must be at least `max_completion_length` (one whole completion)",
            );
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if !(1..=64).contains(&self.best_of_n_batch) {
            return bad("best_of_n_batch", "must be in [1, 64]");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        let v = &self.value;
        if v.n_layer == 0 {
            return bad("value.n_layer", "must be at least 1");
        }
        if v.n_head == 0 || v.n_embd == 0 || v.n_embd % v.n_head != 0 {
            return bad(
                "value.n_embd",
                "must be a positive multiple of `value.n_head`",
            );
        }
        if v.batch_size == 0 || v.batch_size > 64 {
            return bad("value.batch_size", "must be in [1, 64]");
        }
        if !(v.learning_rate > 0.0 && v.learning_rate.is_finite()) {
            return bad("value.learning_rate", "must be finite and > 0");
        }
        self.m_step_optim().validate("optim")?;
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The M-step's resolved optimiser options.
    pub fn m_step_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.optim)
    }

    /// The trainer config: the `train` section with no RL steps and room for the M-step's
    /// batches and the search's generation batches.
    pub(crate) fn trainer_config(&self) -> TrainConfig {
        let rows = 2 * self
            .batch_size
            .max(self.train.sft.per_device_train_batch_size)
            .max(self.expand_k * self.rollouts_m);
        crate::selfplay::sft_stage_config(&self.train, rows, self.max_completion_length)
    }
}
