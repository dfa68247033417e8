//! The SPC loop's config, metrics and checkpoint state (plain data).

use super::SPC_CHARSET;
use crate::config::ModelSection;
use crate::optim::{OptimConfig, OptimOverride, OptimizerState};
use crate::TrainError;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Which arm a run plays after the shared warm start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpcArm {
    /// Self-play: the sneaky role plants the errors the critic sees.
    #[default]
    Spc,
    /// The baseline: the critic sees random corruptions only; no sneaky role.
    Random,
}

/// An SPC run (`configs/spc.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpcConfig {
    /// Seed of the initialisation, the trace draws and the sampling streams.
    pub seed: u64,
    /// Where runs write their output (the library ignores it).
    pub output_dir: String,
    /// The model (its `charset` must hold [`SPC_CHARSET`]).
    pub model: ModelSection,
    /// The arm: `"spc"` (sneaky and critic) or `"random"` (critic on random corruptions).
    pub arm: SpcArm,
    /// Operands have 1 to `max_digits` digits (1 or 2, so that every prompt fits 64
    /// positions).
    pub max_digits: u32,
    /// Supervised warm-start steps before self-play.
    pub warmup_steps: u32,
    /// Examples per warm-start step: a third correct traces (`12+39:` → the body), a third
    /// critic examples (`critic TRACE?` → the wrong step or `none`), a third sneaky examples
    /// (`sneak TRACE @k:` → a random wrong version of step `k`).
    pub warmup_batch: usize,
    /// Share of the warm start's critic examples that show a correct trace (the rest a
    /// random corruption).
    pub warmup_clean_fraction: f64,
    /// The warm start's overrides of `optim` (default: learning rate 3e-3).
    pub warmup_optim: OptimOverride,
    /// Self-play steps.
    pub max_steps: u32,
    /// Sneaky proposals per step (arm `spc`).
    pub sneaks_per_step: usize,
    /// Critic rollouts per step on corrupted traces, in both arms: the valid sneaky traces
    /// first (arm `spc`), topped up with random corruptions when fewer are valid (the same
    /// critic budget in both arms).
    pub critic_per_step: usize,
    /// Critic rollouts per step on correct traces (answer `none`), in both arms.
    pub clean_per_step: usize,
    /// The sneaky role's reward for an invalid proposal (its step is not wrong, or another
    /// step is, or it does not parse). Must be in [−10, 0].
    pub invalid_reward: f64,
    /// The self-play optimiser.
    pub optim: OptimConfig,
    /// Sampling temperature of both roles.
    pub temperature: f32,
    /// Longest sneaky step, in tokens.
    pub max_step_tokens: usize,
    /// Longest critic answer, in tokens.
    pub max_verdict_tokens: usize,
    /// Held-out traces per set (random corruptions, correct traces, and corruptions written
    /// by the warm-started sneaky role).
    pub eval_traces: usize,
    /// Seed of the held-out traces.
    pub eval_seed: u64,
    /// Held-out evaluation every this many self-play steps (0: only when asked).
    pub eval_every: u32,
}

impl Default for SpcConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            output_dir: "runs/spc".to_string(),
            model: ModelSection {
                n_layer: 2,
                n_embd: 64,
                n_head: 2,
                n_positions: 64,
                charset: SPC_CHARSET.to_string(),
                init_from: String::new(),
            },
            arm: SpcArm::Spc,
            max_digits: 2,
            warmup_steps: 1500,
            warmup_batch: 48,
            warmup_clean_fraction: 0.25,
            warmup_optim: OptimOverride::lr(3e-3),
            max_steps: 400,
            sneaks_per_step: 32,
            critic_per_step: 32,
            clean_per_step: 32,
            invalid_reward: -2.0,
            optim: OptimConfig {
                optimizer_state: OptimizerState::Carry,
                ..OptimConfig::first_wave(1e-3)
            },
            temperature: 1.0,
            max_step_tokens: 12,
            max_verdict_tokens: 5,
            eval_traces: 128,
            eval_seed: 1_000_003,
            eval_every: 25,
        }
    }
}

impl SpcConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        for (f, v) in [
            ("warmup_batch", self.warmup_batch),
            ("sneaks_per_step", self.sneaks_per_step),
            ("critic_per_step", self.critic_per_step),
            ("max_step_tokens", self.max_step_tokens),
            ("max_verdict_tokens", self.max_verdict_tokens),
            ("eval_traces", self.eval_traces),
        ] {
            if v == 0 {
                return bad(f, "must be at least 1");
            }
        }
        if self.sneaks_per_step > self.critic_per_step {
            return bad(
                "sneaks_per_step",
                "must be at most `critic_per_step` (the critic answers every valid proposal)",
            );
        }
        if !(1..=2).contains(&self.max_digits) {
            return bad("max_digits", "must be 1 or 2");
        }
        if !(0.0..=1.0).contains(&self.warmup_clean_fraction) {
            return bad("warmup_clean_fraction", "must be in [0, 1]");
        }
        if !(self.invalid_reward.is_finite() && (-10.0..=0.0).contains(&self.invalid_reward)) {
            return bad("invalid_reward", "must be finite and in [-10, 0]");
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if !self.model.init_from.is_empty() {
            return bad(
                "model.init_from",
                "is not supported by this loop (it starts from its seed)",
            );
        }
        if let Some(c) = SPC_CHARSET
            .chars()
            .find(|&c| !self.model.charset.contains(c))
        {
            return bad("model.charset", &alloc::format!("lacks {c:?}"));
        }
        // `sneak 99+99: 9+9=18 c1; 9+9+1=19 c1; = 198 @2:` is 47 characters.
        if self.model.n_positions < 47 + self.max_step_tokens + 1
            || self.model.n_positions < 45 + self.max_verdict_tokens + 1
        {
            return bad(
                "model.n_positions",
                "must hold the longest prompt (47) plus `max_step_tokens` + 1",
            );
        }
        self.optim.validate("optim")?;
        self.optim
            .merged(&self.warmup_optim)
            .validate("warmup_optim")?;
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The config as TOML text.
    #[cfg(feature = "std")]
    pub fn to_toml(&self) -> String {
        crate::config::write_toml(self)
    }
}

/// The held-out evaluation of the critic (greedy answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SpcEval {
    /// Share of the random corruptions whose wrong step the critic names.
    pub random_accuracy: f64,
    /// Share of the warm-started sneaky role's corruptions whose wrong step it names.
    pub sneaky_accuracy: f64,
    /// Share of the correct traces it calls `none`.
    pub clean_accuracy: f64,
}

/// One self-play step's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SpcMetrics {
    /// The self-play step (0-based).
    pub step: u32,
    /// Share of the sneaky proposals that are valid (0 in arm `random`).
    pub sneaky_valid_rate: f64,
    /// Share of the valid sneaky traces the critic missed (0 when none).
    pub sneaky_fool_rate: f64,
    /// Mean sneaky reward (0 in arm `random`).
    pub mean_sneaky_reward: f64,
    /// Share of the critic's training rollouts on corrupted traces that name the step.
    pub critic_train_accuracy: f64,
    /// Share of the critic's training rollouts on correct traces that say `none`.
    pub critic_clean_accuracy: f64,
    /// The policy loss.
    pub loss: f64,
    /// The held-out evaluation before this step's update, when due.
    pub heldout: Option<SpcEval>,
    /// The first sneaky proposal of the step, as written (empty in arm `random`).
    pub example_sneak: String,
}

/// An SPC run's own state besides the policy's tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpcState {
    /// Self-play steps done.
    pub step: u32,
    /// Whether the warm start is done.
    pub warmed_up: bool,
    /// Sampling calls so far (the key of the next).
    pub draws: u32,
    /// Position of the random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The held-out sneaky corruptions, as trace texts (made once, after the warm start).
    pub heldout_sneaky: Vec<String>,
}
