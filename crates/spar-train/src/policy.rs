//! The policy core: the model plus the one optimiser state, and the only place parameters
//! change.
//!
//! Every loop of the crate trains through a [`Policy`]: it asks for per-token log-probs of a
//! padded [`Batch`] ([`Policy::logprobs`]), hands back the per-token weights a spar-losses
//! loss returns (`∂L/∂logp`, [`Policy::backward`]) or a token NLL ([`Policy::nll_backward`]),
//! and takes one checked optimiser step ([`Policy::step`]) at the learning rate of its
//! stage's schedule. The optimiser options are [`OptimConfig`] (Hugging Face's names and
//! defaults); a stage begins with [`Policy::begin_stage`], fresh or carrying the moments over.
//!
//! ```
//! use spar_model::{block_on, CpuKernels, Gpt, GptConfig};
//! use spar_train::optim::OptimConfig;
//! use spar_train::policy::Policy;
//! use spar_train::rollout::Batch;
//!
//! let mut gpt = Gpt::new(CpuKernels::new(), GptConfig::new(8, 8, 8, 1, 2), 2, 8).unwrap();
//! gpt.init_params(0);
//! let optim = OptimConfig { learning_rate: 1e-2, ..OptimConfig::default() };
//! let mut policy = Policy::new(gpt, optim, 10);
//! let batch = Batch::from_pairs(&[(vec![1, 2, 3, 4], 2), (vec![1, 3, 5], 1)], 8);
//! let loss = block_on(policy.nll_backward(&batch, 1.0, 0)).unwrap();
//! let out = block_on(policy.step(0)).unwrap();
//! assert!(loss > 0.0 && out.grad_norm > 0.0);
//! assert_eq!(out.learning_rate, 1e-2); // linear decay: step 0 of 10 is the peak
//! assert_eq!(policy.optimizer_steps(), 1);
//! ```

use crate::optim::{DecayParameters, OptimConfig, OptimizerState};
use crate::rollout::Batch;
use crate::TrainError;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_model::{Gpt, Kernels, ModelError};

/// What one optimiser step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
    /// The learning rate the step used.
    pub learning_rate: f32,
}

/// The optimiser's counters, for a resumed run (the moments travel as tensors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OptimizerCounters {
    /// AdamW's step count (bias correction).
    pub adam_steps: u32,
    /// Steps taken in the current stage (the schedule's position).
    pub stage_step: u32,
}

/// The optimiser state read back: moments and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerSnapshot {
    /// AdamW first moments (flat layout).
    pub m: Vec<f32>,
    /// AdamW second moments.
    pub v: Vec<f32>,
    /// The counters.
    pub counters: OptimizerCounters,
}

/// The model and its one optimiser (see the [module docs](self)).
pub struct Policy<K: Kernels> {
    model: Gpt<K>,
    optim: OptimConfig,
    stage_steps: u32,
    stage_step: u32,
}

impl<K: Kernels> Policy<K> {
    /// Wraps `model` (its optimiser state as it is) for a first stage of `stage_steps` steps
    /// with options `optim`.
    pub fn new(model: Gpt<K>, optim: OptimConfig, stage_steps: u32) -> Self {
        let mut p = Self {
            model,
            optim,
            stage_steps,
            stage_step: 0,
        };
        p.apply_decay_rule();
        p
    }

    fn apply_decay_rule(&mut self) {
        self.model
            .set_decay_all(self.optim.decay_parameters == DecayParameters::All);
    }

    /// Starts a stage of `stage_steps` steps with options `optim`: with
    /// `optim.optimizer_state = fresh` the moments and AdamW's step count are zeroed (a new
    /// Hugging Face trainer), with `carry` they go on; the schedule restarts at 0 either way.
    pub fn begin_stage(&mut self, optim: OptimConfig, stage_steps: u32) {
        if optim.optimizer_state == OptimizerState::Fresh {
            self.model.reset_optimizer();
        }
        self.optim = optim;
        self.stage_steps = stage_steps;
        self.stage_step = 0;
        self.apply_decay_rule();
    }

    /// Replaces the current stage's options and length without touching the optimiser state
    /// or the schedule's position (a restored run, or a changed config mid-stage).
    pub fn set_stage_options(&mut self, optim: OptimConfig, stage_steps: u32) {
        self.optim = optim;
        self.stage_steps = stage_steps;
        self.apply_decay_rule();
    }

    /// The current stage's options.
    pub fn optim(&self) -> &OptimConfig {
        &self.optim
    }

    /// The model.
    pub fn model(&mut self) -> &mut Gpt<K> {
        &mut self.model
    }

    /// The model, read-only.
    pub fn model_ref(&self) -> &Gpt<K> {
        &self.model
    }

    /// AdamW's step count.
    pub fn optimizer_steps(&self) -> u32 {
        self.model.optimizer_steps()
    }

    /// Steps taken in the current stage.
    pub fn stage_step(&self) -> u32 {
        self.stage_step
    }

    /// The learning rate the next step will use.
    pub fn learning_rate(&self) -> f32 {
        self.optim.lr_at(self.stage_step, self.stage_steps)
    }

    /// Zeroes the gradients and names the failure at loop step `step`.
    pub fn non_finite(&mut self, step: u32, what: &'static str) -> TrainError {
        self.model.zero_grad();
        TrainError::NonFinite { step, what }
    }

    /// Per-slot log-probs of `batch`'s targets (and entropies when `entropy`), both `B × T`;
    /// a NaN or infinity is refused as [`TrainError::NonFinite`] at loop step `step`.
    pub async fn logprobs(
        &mut self,
        batch: &Batch,
        entropy: bool,
        step: u32,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let (lp, ent) = batch.logprobs(&mut self.model, entropy).await?;
        if lp.iter().chain(&ent).any(|x| !x.is_finite()) {
            return Err(self.non_finite(step, "log-probs"));
        }
        Ok((lp, ent))
    }

    /// Back-propagates per-token weights on the last forward's log-probs (`∂L/∂logp`, the
    /// policy gradient) and optionally on its entropies (`∂L/∂H`); gradients accumulate
    /// until [`Policy::step`].
    pub fn backward(
        &mut self,
        logprob_weights: &[f32],
        entropy_weights: Option<&[f32]>,
    ) -> Result<(), TrainError> {
        self.model.backward(logprob_weights, entropy_weights)?;
        Ok(())
    }

    /// Forward and backward of `coef ·` the mean completion-token NLL of `batch` (the
    /// gradients accumulate); returns the mean NLL. `step` names the loop step in errors.
    pub async fn nll_backward(
        &mut self,
        batch: &Batch,
        coef: f64,
        step: u32,
    ) -> Result<f64, TrainError> {
        let (lp, _) = self.logprobs(batch, false, step).await?;
        let count = batch.num_tokens();
        let loss = -lp.iter().map(|&x| x as f64).sum::<f64>() / count as f64;
        let w = (-coef / count as f64) as f32;
        let weights: Vec<f32> = batch
            .mask
            .iter()
            .map(|&m| if m { w } else { 0.0 })
            .collect();
        self.backward(&weights, None)?;
        Ok(loss)
    }

    /// The one optimiser step: AdamW over the accumulated gradients at the schedule's
    /// learning rate, after checking the global gradient norm is finite. A non-finite norm is
    /// refused as [`TrainError::NonFinite`] at loop step `step` (parameters, moments and
    /// counters untouched, gradients zeroed).
    /// A test may have asked ([`crate::faults::inject_nan_at`]) for step `step`'s gradients
    /// to be NaN: then one is written into them, and the check below refuses it.
    pub async fn step(&mut self, step: u32) -> Result<StepOutcome, TrainError> {
        if crate::faults::nan_due(step) {
            let grads = self.model.param_buffers().grads;
            let first = spar_model::kernels::Slice { len: 1, ..grads };
            self.model.kernels.write(first, &[f32::NAN]);
        }
        let lr = self.learning_rate();
        match self.model.checked_step(&self.optim.adamw(), lr).await {
            Ok(grad_norm) => {
                self.stage_step += 1;
                Ok(StepOutcome {
                    grad_norm,
                    learning_rate: lr,
                })
            }
            Err(ModelError::NonFiniteGradient { .. }) => Err(TrainError::NonFinite {
                step,
                what: "gradient norm",
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The optimiser state, read back.
    pub async fn optimizer_snapshot(&mut self) -> OptimizerSnapshot {
        let (m, v, adam_steps) = self.model.read_optimizer().await;
        OptimizerSnapshot {
            m,
            v,
            counters: OptimizerCounters {
                adam_steps,
                stage_step: self.stage_step,
            },
        }
    }

    /// Restores an optimiser state (the current stage's options stay).
    pub fn restore_optimizer(&mut self, s: &OptimizerSnapshot) -> Result<(), TrainError> {
        self.model
            .write_optimizer(&s.m, &s.v, s.counters.adam_steps)
            .map_err(|e| TrainError::Checkpoint(alloc::format!("optimizer state: {e}")))?;
        self.stage_step = s.counters.stage_step;
        Ok(())
    }

    /// Parameters and optimiser state, read back; refuses a non-finite value at loop step
    /// `step` so that no checkpoint ever holds one.
    pub async fn snapshot(
        &mut self,
        step: u32,
    ) -> Result<(Vec<f32>, OptimizerSnapshot), TrainError> {
        let mut params = alloc::vec![0.0f32; self.model.layout().len()];
        self.model.read_params(&mut params).await?;
        let opt = self.optimizer_snapshot().await;
        if params
            .iter()
            .chain(&opt.m)
            .chain(&opt.v)
            .any(|x| !x.is_finite())
        {
            return Err(TrainError::NonFinite {
                step,
                what: "parameters",
            });
        }
        Ok((params, opt))
    }

    /// Restores parameters and optimiser state from [`Policy::snapshot`].
    pub fn restore(&mut self, params: &[f32], opt: &OptimizerSnapshot) -> Result<(), TrainError> {
        if params.len() != self.model.layout().len() {
            return Err(TrainError::Checkpoint(alloc::format!(
                "params has {} values, the model {}",
                params.len(),
                self.model.layout().len()
            )));
        }
        self.model.write_params(params)?;
        self.restore_optimizer(opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{OptimOverride, SchedulerType};
    use spar_model::{block_on, CpuKernels, GptConfig};

    fn policy(optim: OptimConfig) -> Policy<CpuKernels> {
        let mut gpt = Gpt::new(CpuKernels::new(), GptConfig::new(8, 8, 8, 1, 2), 2, 8).unwrap();
        gpt.init_params(3);
        Policy::new(gpt, optim, 100)
    }

    fn batch() -> Batch {
        Batch::from_pairs(
            &[(alloc::vec![1, 2, 3, 4], 2), (alloc::vec![1, 3, 5], 1)],
            8,
        )
    }

    fn params(p: &mut Policy<CpuKernels>) -> Vec<f32> {
        block_on(p.snapshot(0)).unwrap().0
    }

    fn train(p: &mut Policy<CpuKernels>, n: u32) {
        for s in 0..n {
            block_on(p.nll_backward(&batch(), 1.0, s)).unwrap();
            block_on(p.step(s)).unwrap();
        }
    }

    #[test]
    fn a_non_finite_gradient_is_refused_with_the_step_and_changes_nothing() {
        let mut p = policy(OptimConfig::default());
        train(&mut p, 2);
        let before = block_on(p.snapshot(0)).unwrap();
        let b = batch();
        block_on(p.logprobs(&b, false, 0)).unwrap();
        let mut w = alloc::vec![0.0f32; b.b * b.t];
        w[1] = f32::NAN;
        p.backward(&w, None).unwrap();
        let err = block_on(p.step(41)).unwrap_err();
        assert_eq!(
            err,
            TrainError::NonFinite {
                step: 41,
                what: "gradient norm"
            }
        );
        assert_eq!(block_on(p.snapshot(0)).unwrap(), before);
        // The gradients were zeroed: the next good step works.
        train(&mut p, 1);
        assert_eq!(p.optimizer_steps(), 3);
    }

    #[test]
    fn fresh_stage_zeroes_the_moments_and_carry_keeps_them() {
        let base = OptimConfig {
            learning_rate: 1e-2,
            ..OptimConfig::default()
        };
        let mut p = policy(base);
        train(&mut p, 3);
        let after_sft = block_on(p.optimizer_snapshot());
        assert_eq!(after_sft.counters.adam_steps, 3);
        assert!(after_sft.m.iter().any(|&x| x != 0.0));

        let carry = base.merged(&OptimOverride {
            optimizer_state: Some(OptimizerState::Carry),
            ..OptimOverride::default()
        });
        let mut c = policy(base);
        train(&mut c, 3);
        c.begin_stage(carry, 10);
        let s = block_on(c.optimizer_snapshot());
        assert_eq!(s.m, after_sft.m);
        assert_eq!(s.counters.adam_steps, 3);
        assert_eq!(s.counters.stage_step, 0);

        let mut f = policy(base);
        train(&mut f, 3);
        f.begin_stage(base, 10);
        let s = block_on(f.optimizer_snapshot());
        assert!(s.m.iter().chain(&s.v).all(|&x| x == 0.0));
        assert_eq!(s.counters.adam_steps, 0);
        // The first fresh step equals a first step from zero moments: bias correction at
        // t = 1 makes its update −lr·sign(g) (up to ε) wherever g ≠ 0.
        let p0 = params(&mut f);
        train(&mut f, 1);
        let p1 = params(&mut f);
        let moved: Vec<f32> = p0.iter().zip(&p1).map(|(a, b)| (a - b).abs()).collect();
        let max = moved.iter().cloned().fold(0.0f32, f32::max);
        assert!((max - 1e-2).abs() < 1e-4, "{max}");
    }

    #[test]
    fn the_schedule_restarts_with_each_stage() {
        let o = OptimConfig {
            learning_rate: 1.0,
            lr_scheduler_type: SchedulerType::Linear,
            ..OptimConfig::default()
        };
        let mut p = policy(o);
        p.begin_stage(o, 4);
        let mut lrs = Vec::new();
        for s in 0..4 {
            block_on(p.nll_backward(&batch(), 1.0, s)).unwrap();
            lrs.push(block_on(p.step(s)).unwrap().learning_rate);
        }
        assert_eq!(lrs, [1.0, 0.75, 0.5, 0.25]);
        p.begin_stage(o, 2);
        assert_eq!(p.learning_rate(), 1.0);
    }

    #[test]
    fn decay_rule_hf_spares_biases_and_layernorm_and_all_decays_everything() {
        // With zero gradients only weight decay moves a parameter.
        for (rule, expect_ln_moves) in [(DecayParameters::Hf, false), (DecayParameters::All, true)]
        {
            let o = OptimConfig {
                learning_rate: 0.1,
                weight_decay: 0.5,
                decay_parameters: rule,
                ..OptimConfig::default()
            };
            let mut p = policy(o);
            let p0 = params(&mut p);
            block_on(p.step(0)).unwrap();
            let p1 = params(&mut p);
            let layout = p.model_ref().layout().clone();
            for t in layout.tensors() {
                let r = t.range();
                let moved = p0[r.clone()] != p1[r.clone()];
                let nonzero = p0[r].iter().any(|&x| x != 0.0);
                if !nonzero {
                    continue;
                }
                let is_weight = t.name.ends_with(".weight") && !t.name.contains("ln_");
                let want = is_weight || expect_ln_moves;
                assert_eq!(moved, want, "{rule:?} {}", t.name);
            }
        }
    }

    #[test]
    fn snapshot_and_restore_round_trip_the_optimiser() {
        let mut a = policy(OptimConfig::default());
        train(&mut a, 3);
        let (params_a, opt_a) = block_on(a.snapshot(0)).unwrap();
        let mut b = policy(OptimConfig::default());
        b.restore(&params_a, &opt_a).unwrap();
        train(&mut a, 2);
        train(&mut b, 2);
        assert_eq!(
            block_on(a.snapshot(0)).unwrap(),
            block_on(b.snapshot(0)).unwrap()
        );
    }
}
