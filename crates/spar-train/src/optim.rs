//! Optimiser options with Hugging Face's names and defaults, shared by every stage and loop.
//!
//! A config holds one [`OptimConfig`] (its `[optim]` section) and each stage may override any
//! of its keys with an [`OptimOverride`] (`[sft.optim]`, `[grpo.optim]`, …). The resolved
//! options of a stage drive [`crate::policy::Policy`]: AdamW (`torch.optim.AdamW`, decoupled
//! weight decay) after clipping the gradients to `max_grad_norm`, at the learning rate of
//! the stage's schedule.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `learning_rate` | 5e-5 | peak learning rate |
//! | `lr_scheduler_type` | `linear` | `constant`, `constant_with_warmup`, `linear`, `cosine`, `cosine_with_min_lr` |
//! | `warmup_steps` | 0 | linear warm-up from 0 (wins over `warmup_ratio` when > 0) |
//! | `warmup_ratio` | 0 | warm-up as a share of the stage's steps (rounded up) |
//! | `min_lr_rate` | 0 | `cosine_with_min_lr`'s floor as a share of the peak (HF's `lr_scheduler_kwargs`) |
//! | `adam_beta1`, `adam_beta2`, `adam_epsilon` | 0.9, 0.999, 1e-8 | AdamW |
//! | `weight_decay` | 0 | decoupled weight decay |
//! | `decay_parameters` | `hf` | `hf`: not biases or LayerNorm weights (HF's rule); `all` |
//! | `max_grad_norm` | 1.0 | global-norm clip (0: none) |
//! | `optimizer_state` | `fresh` | at the start of a stage: `fresh` moments and step count, as a new HF trainer gets, or `carry` the previous stage's |
//!
//! Schedules (step `s` of the stage, 0-based; `T` its steps, `w` the warm-up), as
//! `transformers.optimization` computes them: warm-up `s / w`; then `constant` 1,
//! `linear` `(T − s) / (T − w)`, `cosine` `½(1 + cos(π p))`, `cosine_with_min_lr`
//! `r + (1 − r)·½(1 + cos(π p))` with `p = (s − w)/(T − w)` (held at 1 past `T`).
//!
//! ```
//! use spar_train::optim::{OptimConfig, OptimOverride, SchedulerType};
//! let base = OptimConfig { learning_rate: 1e-3, ..OptimConfig::default() };
//! let stage = OptimOverride { lr_scheduler_type: Some(SchedulerType::Cosine), warmup_steps: Some(10), ..OptimOverride::default() };
//! let o = base.merged(&stage);
//! assert_eq!(o.adam_beta2, 0.999);
//! assert!((o.lr_at(5, 110) - 5e-4).abs() < 1e-9);
//! assert!((o.lr_at(60, 110) - 5e-4).abs() < 1e-7);
//! assert_eq!(o.lr_at(110, 110), 0.0);
//! ```

use crate::TrainError;
use alloc::format;
use serde::{Deserialize, Serialize};
use spar_model::optim::AdamWConfig;

/// Hugging Face's `lr_scheduler_type` (the ones a single-cycle run uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerType {
    /// The peak rate throughout (no warm-up).
    Constant,
    /// Linear warm-up, then the peak rate.
    ConstantWithWarmup,
    /// Linear warm-up, then linear decay to 0 at the stage's last step (HF's default).
    Linear,
    /// Linear warm-up, then half a cosine down to 0.
    Cosine,
    /// Linear warm-up, then half a cosine down to `min_lr_rate ×` the peak.
    CosineWithMinLr,
}

/// Which parameters weight decay applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayParameters {
    /// Hugging Face's rule: every weight but biases and LayerNorm weights.
    Hf,
    /// Every parameter.
    All,
}

/// What a stage does with the optimiser state the previous stage left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerState {
    /// Zero moments and step count, as a new Hugging Face trainer starts.
    Fresh,
    /// Keep the moments and the step count (bias correction goes on from there).
    Carry,
}

/// The optimiser options of one stage (see the [module docs](self) for keys and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Peak learning rate.
    pub learning_rate: f32,
    /// The schedule.
    pub lr_scheduler_type: SchedulerType,
    /// Warm-up steps (wins over `warmup_ratio` when > 0).
    pub warmup_steps: u32,
    /// Warm-up as a share of the stage's steps, rounded up.
    pub warmup_ratio: f64,
    /// `cosine_with_min_lr`: the final rate as a share of the peak.
    pub min_lr_rate: f64,
    /// AdamW β₁.
    pub adam_beta1: f32,
    /// AdamW β₂.
    pub adam_beta2: f32,
    /// AdamW ε.
    pub adam_epsilon: f32,
    /// Decoupled weight decay λ.
    pub weight_decay: f32,
    /// Which parameters decay.
    pub decay_parameters: DecayParameters,
    /// Global gradient-norm clip (0: none).
    pub max_grad_norm: f32,
    /// Fresh or carried-over optimiser state at the start of the stage.
    pub optimizer_state: OptimizerState,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            learning_rate: 5e-5,
            lr_scheduler_type: SchedulerType::Linear,
            warmup_steps: 0,
            warmup_ratio: 0.0,
            min_lr_rate: 0.0,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            weight_decay: 0.0,
            decay_parameters: DecayParameters::Hf,
            max_grad_norm: 1.0,
            optimizer_state: OptimizerState::Fresh,
        }
    }
}

/// A stage's overrides of the shared `[optim]` section: every key optional.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)] // the fields are those of OptimConfig
pub struct OptimOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_scheduler_type: Option<SchedulerType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_lr_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adam_beta1: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adam_beta2: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adam_epsilon: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decay_parameters: Option<DecayParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_grad_norm: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer_state: Option<OptimizerState>,
}

impl OptimOverride {
    /// An override of the learning rate alone.
    pub fn lr(learning_rate: f32) -> Self {
        Self {
            learning_rate: Some(learning_rate),
            ..Self::default()
        }
    }
}

impl OptimConfig {
    /// These options with a stage's overrides applied.
    pub fn merged(&self, o: &OptimOverride) -> Self {
        Self {
            learning_rate: o.learning_rate.unwrap_or(self.learning_rate),
            lr_scheduler_type: o.lr_scheduler_type.unwrap_or(self.lr_scheduler_type),
            warmup_steps: o.warmup_steps.unwrap_or(self.warmup_steps),
            warmup_ratio: o.warmup_ratio.unwrap_or(self.warmup_ratio),
            min_lr_rate: o.min_lr_rate.unwrap_or(self.min_lr_rate),
            adam_beta1: o.adam_beta1.unwrap_or(self.adam_beta1),
            adam_beta2: o.adam_beta2.unwrap_or(self.adam_beta2),
            adam_epsilon: o.adam_epsilon.unwrap_or(self.adam_epsilon),
            weight_decay: o.weight_decay.unwrap_or(self.weight_decay),
            decay_parameters: o.decay_parameters.unwrap_or(self.decay_parameters),
            max_grad_norm: o.max_grad_norm.unwrap_or(self.max_grad_norm),
            optimizer_state: o.optimizer_state.unwrap_or(self.optimizer_state),
        }
    }

    /// The optimiser of the first published runs: a constant `learning_rate`, AdamW with β₂
    /// 0.95 (nanoGPT's; Hugging Face's default is 0.999), no weight decay, clipping at 1.
    /// (Those runs also carried the moments from one stage to the next: a config that has two
    /// stages says `optimizer_state = "carry"` as well.) The configs that keep it reproduce
    /// their published figures.
    pub fn first_wave(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            lr_scheduler_type: SchedulerType::Constant,
            adam_beta2: 0.95,
            ..Self::default()
        }
    }

    /// Checks every value; the error names `section.key`.
    pub fn validate(&self, section: &str) -> Result<(), TrainError> {
        let bad = |k: &str, why: &str| Err(TrainError::Config(format!("`{section}.{k}` {why}")));
        if !(self.learning_rate >= 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "must be finite and ≥ 0");
        }
        if !(0.0..=1.0).contains(&self.warmup_ratio) {
            return bad("warmup_ratio", "must be in [0, 1]");
        }
        if !(0.0..=1.0).contains(&self.min_lr_rate) {
            return bad("min_lr_rate", "must be in [0, 1]");
        }
        if !(0.0..1.0).contains(&self.adam_beta1) {
            return bad("adam_beta1", "must be in [0, 1)");
        }
        if !(0.0..1.0).contains(&self.adam_beta2) {
            return bad("adam_beta2", "must be in [0, 1)");
        }
        if !(self.adam_epsilon > 0.0 && self.adam_epsilon.is_finite()) {
            return bad("adam_epsilon", "must be finite and > 0");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("weight_decay", "must be finite and ≥ 0");
        }
        if !(self.max_grad_norm >= 0.0 && self.max_grad_norm.is_finite()) {
            return bad("max_grad_norm", "must be finite and ≥ 0 (0: no clipping)");
        }
        Ok(())
    }

    /// The warm-up of a stage of `total_steps`: `warmup_steps` when > 0, else
    /// `⌈warmup_ratio · total_steps⌉` (HF's `get_warmup_steps`).
    pub fn warmup(&self, total_steps: u32) -> u32 {
        if self.warmup_steps > 0 {
            self.warmup_steps
        } else {
            libm::ceil(self.warmup_ratio * total_steps as f64) as u32
        }
    }

    /// The learning rate of step `step` (0-based) of a stage of `total_steps`.
    pub fn lr_at(&self, step: u32, total_steps: u32) -> f32 {
        let lr = self.learning_rate;
        let w = self.warmup(total_steps);
        if self.lr_scheduler_type == SchedulerType::Constant {
            return lr;
        }
        if step < w {
            return lr * step as f32 / w as f32;
        }
        let span = total_steps.saturating_sub(w).max(1) as f32;
        let done = step.saturating_sub(w).min(total_steps.saturating_sub(w)) as f32;
        match self.lr_scheduler_type {
            SchedulerType::Constant | SchedulerType::ConstantWithWarmup => lr,
            SchedulerType::Linear => lr * (span - done) / span,
            SchedulerType::Cosine | SchedulerType::CosineWithMinLr => {
                let min_lr = if self.lr_scheduler_type == SchedulerType::Cosine {
                    0.0
                } else {
                    lr * self.min_lr_rate as f32
                };
                if step >= total_steps {
                    return min_lr;
                }
                let frac = done / span;
                min_lr + 0.5 * (lr - min_lr) * (1.0 + libm::cosf(core::f32::consts::PI * frac))
            }
        }
    }

    /// The AdamW kernel settings.
    pub fn adamw(&self) -> AdamWConfig {
        AdamWConfig {
            beta1: self.adam_beta1,
            beta2: self.adam_beta2,
            eps: self.adam_epsilon,
            weight_decay: self.weight_decay,
            max_grad_norm: self.max_grad_norm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `transformers.optimization`'s lambdas, in f64, as the reference.
    fn hf(kind: SchedulerType, step: u32, w: u32, total: u32, min_rate: f64) -> f64 {
        let s = step as f64;
        if kind == SchedulerType::Constant {
            return 1.0;
        }
        if step < w {
            return s / (w.max(1) as f64);
        }
        let progress = (s - w as f64) / ((total - w).max(1) as f64);
        match kind {
            SchedulerType::Constant | SchedulerType::ConstantWithWarmup => 1.0,
            SchedulerType::Linear => ((total as f64 - s) / ((total - w).max(1) as f64)).max(0.0),
            SchedulerType::Cosine => {
                (0.5 * (1.0 + (core::f64::consts::PI * 0.5 * 2.0 * progress).cos())).max(0.0)
            }
            SchedulerType::CosineWithMinLr => {
                let f = 0.5 * (1.0 + (core::f64::consts::PI * 0.5 * 2.0 * progress).cos());
                f.max(0.0) * (1.0 - min_rate) + min_rate
            }
        }
    }

    #[test]
    fn schedules_match_hugging_face_at_chosen_steps() {
        let kinds = [
            SchedulerType::Constant,
            SchedulerType::ConstantWithWarmup,
            SchedulerType::Linear,
            SchedulerType::Cosine,
            SchedulerType::CosineWithMinLr,
        ];
        for kind in kinds {
            for (w, total) in [(0u32, 100u32), (10, 100), (7, 33), (1, 2)] {
                let o = OptimConfig {
                    learning_rate: 3e-4,
                    lr_scheduler_type: kind,
                    warmup_steps: w,
                    min_lr_rate: 0.1,
                    ..OptimConfig::default()
                };
                for step in [0, 1, w / 2, w, w + 1, (w + total) / 2, total - 1] {
                    let want = 3e-4 * hf(kind, step, w, total, 0.1);
                    let got = o.lr_at(step, total) as f64;
                    assert!(
                        (got - want).abs() <= 1e-6 * 3e-4,
                        "{kind:?} w={w} T={total} step {step}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn warmup_ratio_rounds_up_and_steps_win() {
        let o = OptimConfig {
            warmup_ratio: 0.1,
            ..OptimConfig::default()
        };
        assert_eq!(o.warmup(95), 10);
        assert_eq!(o.warmup(100), 10);
        let o = OptimConfig {
            warmup_steps: 3,
            ..o
        };
        assert_eq!(o.warmup(100), 3);
    }

    #[test]
    fn linear_reaches_zero_and_cosine_min_lr_holds_its_floor_past_the_end() {
        let o = OptimConfig {
            learning_rate: 1.0,
            ..OptimConfig::default()
        };
        assert_eq!(o.lr_at(50, 50), 0.0);
        assert_eq!(o.lr_at(80, 50), 0.0);
        let c = OptimConfig {
            lr_scheduler_type: SchedulerType::CosineWithMinLr,
            min_lr_rate: 0.1,
            ..o
        };
        assert!((c.lr_at(50, 50) - 0.1).abs() < 1e-7);
        assert!((c.lr_at(500, 50) - 0.1).abs() < 1e-7);
    }

    #[test]
    fn the_cosine_with_floor_is_the_old_sft_schedule_bit_for_bit() {
        use spar_model::optim::LrSchedule;
        let old = LrSchedule::WarmupCosine {
            lr: 3e-3,
            warmup_steps: 50,
            total_steps: 1500,
            min_lr: 3e-3 * 0.1,
        };
        let new = OptimConfig {
            learning_rate: 3e-3,
            lr_scheduler_type: SchedulerType::CosineWithMinLr,
            warmup_steps: 50,
            min_lr_rate: 0.1,
            ..OptimConfig::default()
        };
        for s in 0..1600 {
            assert_eq!(
                old.lr_at(s).to_bits(),
                new.lr_at(s, 1500).to_bits(),
                "step {s}"
            );
        }
    }

    #[test]
    fn overrides_replace_only_what_they_name_and_parse_from_toml_keys() {
        let base = OptimConfig {
            adam_beta2: 0.95,
            ..OptimConfig::default()
        };
        let o: OptimOverride = serde_json::from_str(
            r#"{"learning_rate": 0.001, "optimizer_state": "carry", "decay_parameters": "all"}"#,
        )
        .unwrap();
        let m = base.merged(&o);
        assert_eq!(m.learning_rate, 1e-3);
        assert_eq!(m.adam_beta2, 0.95);
        assert_eq!(m.optimizer_state, OptimizerState::Carry);
        assert_eq!(m.decay_parameters, DecayParameters::All);
        assert_eq!(m.lr_scheduler_type, SchedulerType::Linear);
        assert!(serde_json::from_str::<OptimOverride>(r#"{"adam_beta3": 0.5}"#).is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        type Edit = fn(&mut OptimConfig);
        let cases: [(&str, Edit); 6] = [
            ("grpo.optim.learning_rate", |o| o.learning_rate = f32::NAN),
            ("grpo.optim.adam_beta2", |o| o.adam_beta2 = 1.0),
            ("grpo.optim.adam_epsilon", |o| o.adam_epsilon = 0.0),
            ("grpo.optim.weight_decay", |o| o.weight_decay = -0.1),
            ("grpo.optim.max_grad_norm", |o| {
                o.max_grad_norm = f32::INFINITY
            }),
            ("grpo.optim.warmup_ratio", |o| o.warmup_ratio = 1.5),
        ];
        for (name, edit) in cases {
            let mut o = OptimConfig::default();
            edit(&mut o);
            let e = o.validate("grpo.optim").unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
    }
}
