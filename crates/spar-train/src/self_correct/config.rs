//! The SCoRe run's config and the pure pieces of the method: the second-turn prompt, the
//! progress-bonus reward and the two-attempt evaluation's counts.

use crate::config::TrainConfig;
use crate::optim::{OptimConfig, OptimOverride, SchedulerType};
use crate::TrainError;
use alloc::string::String;
use serde::{Deserialize, Serialize};

/// The fixed "check and correct" instruction appended to the model's first attempt.
pub const DEFAULT_MARKER: &str = " again=";

/// The second turn's prompt: the problem, the model's first attempt, then the instruction,
/// e.g. `12+39=` and `51` give `12+39=51 again=`.
pub fn second_turn_prompt(prompt: &str, first_attempt: &str, marker: &str) -> String {
    alloc::format!("{prompt}{first_attempt}{marker}")
}

/// SCoRe's stage-II reward of the second attempt: `r̂(y2) = r(y2) + α (r(y2) − r(y1))`.
pub fn progress_reward(r1: f64, r2: f64, alpha: f64) -> f64 {
    r2 + alpha * (r2 - r1)
}

/// Held-out accuracy at both attempts and the flips between them (shares of the problems).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct TwoAttemptReport {
    /// Problems evaluated.
    pub num_problems: usize,
    /// Accuracy at attempt 1.
    pub accuracy_t1: f64,
    /// Accuracy at attempt 2.
    pub accuracy_t2: f64,
    /// Δ(t1, t2) = accuracy at attempt 2 − accuracy at attempt 1.
    pub delta: f64,
    /// Δ^{i→c}: share of problems wrong at attempt 1 and right at attempt 2.
    pub wrong_to_right: f64,
    /// Δ^{c→i}: share of problems right at attempt 1 and wrong at attempt 2.
    pub right_to_wrong: f64,
    /// Share of problems whose second answer differs in text from the first.
    pub changed: f64,
}

impl TwoAttemptReport {
    /// Counts over `(right at attempt 1, right at attempt 2, answer text changed)` per
    /// problem; all zero for no problems.
    pub fn from_grades(grades: &[(bool, bool, bool)]) -> Self {
        let n = grades.len();
        if n == 0 {
            return Self::default();
        }
        let share = |f: &dyn Fn(&(bool, bool, bool)) -> bool| {
            grades.iter().filter(|g| f(g)).count() as f64 / n as f64
        };
        let (a1, a2) = (share(&|g| g.0), share(&|g| g.1));
        Self {
            num_problems: n,
            accuracy_t1: a1,
            accuracy_t2: a2,
            delta: a2 - a1,
            wrong_to_right: share(&|g| !g.0 && g.1),
            right_to_wrong: share(&|g| g.0 && !g.1),
            changed: share(&|g| g.2),
        }
    }
}

/// A SCoRe run (`configs/score.toml`): a shared warm start, then the arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfCorrectConfig {
    /// The model, the task with its labelled split, the warm start's SFT stage (steps, batch,
    /// optimiser) and the seed (its `grpo` and `eval` sections are not used).
    pub train: TrainConfig,
    /// The instruction between the first attempt and the second (characters of the
    /// vocabulary).
    pub marker: String,
    /// Share of the warm start's examples that are two-turn (the rest single-turn).
    pub two_turn_fraction: f64,
    /// Share of the two-turn warm-start examples whose first attempt is a near miss (the
    /// rest: the right answer).
    pub near_miss_fraction: f64,
    /// Prompts per RL step (SCoRe and the GRPO arm).
    pub prompts_per_step: usize,
    /// Samples per prompt: a group for the advantages.
    pub samples_per_prompt: usize,
    /// Sampling temperature of every rollout.
    pub temperature: f32,
    /// New tokens per attempt at most (the end token included).
    pub max_completion_length: usize,
    /// SCoRe stage I steps (attempt 2 trained, attempt 1 held by `beta2`).
    pub stage1_steps: u32,
    /// SCoRe stage II steps (both attempts rewarded, progress bonus on attempt 2).
    pub stage2_steps: u32,
    /// α: weight of the progress bonus `r(y2) − r(y1)` in stage II.
    pub alpha: f64,
    /// β₁: KL coefficient to the warm start on attempt 2 in stage I and on both attempts in
    /// stage II (and on the GRPO arm's single attempt).
    pub beta1: f64,
    /// β₂: KL coefficient to the warm start on attempt 1 in stage I.
    pub beta2: f64,
    /// Clip ε of the policy loss (symmetric).
    pub epsilon: f64,
    /// The RL arms' overrides of `train.optim` (default: learning rate 3e-4, constant, fresh
    /// AdamW with β₂ 0.999).
    pub optim: OptimOverride,
    /// Unlabelled problems whose two attempts the self-trace SFT arm samples from the warm
    /// start.
    pub trace_prompts: usize,
    /// Two-attempt samples per such problem.
    pub trace_samples: usize,
    /// Steps of the self-trace SFT arm.
    pub trace_steps: u32,
    /// Sequences per self-trace SFT batch.
    pub trace_batch_size: usize,
    /// The self-trace SFT arm's overrides of `train.optim` (default: learning rate 1e-3,
    /// constant, fresh AdamW).
    pub trace_optim: OptimOverride,
    /// Steps of the single-attempt verifier GRPO arm (0: the arm is not run by the example).
    pub grpo_steps: u32,
}

impl Default for SelfCorrectConfig {
    fn default() -> Self {
        Self {
            train: TrainConfig {
                output_dir: "runs/score".into(),
                ..TrainConfig::default()
            },
            marker: DEFAULT_MARKER.into(),
            two_turn_fraction: 0.5,
            near_miss_fraction: 0.5,
            prompts_per_step: 16,
            samples_per_prompt: 8,
            temperature: 1.0,
            max_completion_length: 5,
            stage1_steps: 100,
            stage2_steps: 200,
            alpha: 1.0,
            beta1: 0.01,
            beta2: 0.1,
            epsilon: 0.2,
            optim: OptimOverride {
                learning_rate: Some(3e-4),
                lr_scheduler_type: Some(SchedulerType::Constant),
                optimizer_state: Some(crate::optim::OptimizerState::Fresh),
                adam_beta2: Some(0.999),
                ..OptimOverride::default()
            },
            trace_prompts: 2000,
            trace_samples: 1,
            trace_steps: 300,
            trace_batch_size: 64,
            trace_optim: OptimOverride {
                learning_rate: Some(1e-3),
                lr_scheduler_type: Some(SchedulerType::Constant),
                optimizer_state: Some(crate::optim::OptimizerState::Fresh),
                ..OptimOverride::default()
            },
            grpo_steps: 300,
        }
    }
}

impl SelfCorrectConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        self.train.validate()?;
        let share = |x: f64| (0.0..=1.0).contains(&x);
        if self.marker.is_empty() {
            return bad("marker", "must not be empty");
        }
        if let Some(c) = self
            .marker
            .chars()
            .find(|c| !self.train.model.charset.contains(*c))
        {
            return bad(
                "marker",
                &alloc::format!("holds {c:?}, not in `train.model.charset`"),
            );
        }
        if !share(self.two_turn_fraction) {
            return bad("two_turn_fraction", "must be in [0, 1]");
        }
        if !share(self.near_miss_fraction) {
            return bad("near_miss_fraction", "must be in [0, 1]");
        }
        if self.prompts_per_step == 0 {
            return bad("prompts_per_step", "must be at least 1");
        }
        if !(2..=64).contains(&self.samples_per_prompt) {
            return bad("samples_per_prompt", "must be in [2, 64]");
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if self.max_completion_length == 0 {
            return bad("max_completion_length", "must be at least 1");
        }
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return bad("alpha", "must be finite and >= 0");
        }
        if !(self.beta1 >= 0.0 && self.beta1.is_finite()) {
            return bad("beta1", "must be finite and >= 0");
        }
        if !(self.beta2 >= 0.0 && self.beta2.is_finite()) {
            return bad("beta2", "must be finite and >= 0");
        }
        if !(self.epsilon > 0.0 && self.epsilon < 1.0) {
            return bad("epsilon", "must be in (0, 1)");
        }
        if self.trace_prompts == 0 {
            return bad("trace_prompts", "must be at least 1");
        }
        if !(1..=64).contains(&self.trace_samples) {
            return bad("trace_samples", "must be in [1, 64]");
        }
        if self.trace_batch_size == 0 {
            return bad("trace_batch_size", "must be at least 1");
        }
        self.rl_optim().validate("optim")?;
        self.trace_optim().validate("trace_optim")?;
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The RL arms' resolved optimiser options.
    pub fn rl_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.optim)
    }

    /// The self-trace SFT arm's resolved optimiser options.
    pub fn trace_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.trace_optim)
    }

    /// Sequences one forward of the loop holds at most.
    pub(super) fn capacity(&self) -> usize {
        (self.prompts_per_step * self.samples_per_prompt)
            .max(self.trace_batch_size)
            .max(self.train.sft.per_device_train_batch_size)
    }

    /// The trainer config: the `train` section with batches large enough for every forward
    /// of the loop, and no RL steps.
    pub(super) fn trainer_config(&self) -> TrainConfig {
        let mut c = self.train.clone();
        c.grpo.max_steps = 0;
        c.grpo.num_generations = 2;
        c.grpo.per_device_train_batch_size = 2 * self.capacity();
        c.grpo.max_completion_length = self.max_completion_length;
        c.grpo.beta = 0.0;
        c.grpo.log_ref_kl = false;
        c
    }
}
