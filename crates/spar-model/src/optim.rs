//! AdamW settings and learning-rate schedules.
//!
//! AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay,
//! `θ ← θ − lr·λ·θ − lr·m̂/(√v̂ + ε)` (PyTorch's `torch.optim.AdamW`), applied only where the
//! layout's decay mask is 1 (matmul weights and embeddings). Gradients are first clipped to
//! a global norm. Schedules: constant, or linear warm-up then cosine decay
//! `lr(s) = min + ½(max − min)(1 + cos(π·(s − w)/(S − w)))`.
//!
//! ```
//! use spar_model::optim::LrSchedule;
//! let s = LrSchedule::WarmupCosine { lr: 1e-3, warmup_steps: 10, total_steps: 110, min_lr: 1e-4 };
//! assert!((s.lr_at(5) - 5e-4).abs() < 1e-9);
//! assert!((s.lr_at(10) - 1e-3).abs() < 1e-9);
//! assert!((s.lr_at(60) - 5.5e-4).abs() < 1e-7);
//! assert!((s.lr_at(500) - 1e-4).abs() < 1e-9);
//! ```

use crate::kernels::AdamWArgs;

/// AdamW hyper-parameters (defaults: β = (0.9, 0.95), ε = 1e-8, λ = 0.1, clip 1.0 — the
/// GPT-2/nanoGPT recipe the baseline script uses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// β₁.
    pub beta1: f32,
    /// β₂.
    pub beta2: f32,
    /// ε.
    pub eps: f32,
    /// Decoupled weight decay λ.
    pub weight_decay: f32,
    /// Global gradient-norm clip (≤ 0: none).
    pub max_grad_norm: f32,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
            max_grad_norm: 1.0,
        }
    }
}

impl AdamWConfig {
    /// The kernel arguments for step `t` (1-based) at learning rate `lr`.
    pub fn args(&self, lr: f32, t: u32) -> AdamWArgs {
        let t = t.max(1) as f32;
        AdamWArgs {
            lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            bias_correction1: 1.0 - libm::powf(self.beta1, t),
            bias_correction2: 1.0 - libm::powf(self.beta2, t),
            max_grad_norm: self.max_grad_norm,
        }
    }
}

/// A learning-rate schedule over optimiser steps (0-based).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LrSchedule {
    /// The same rate at every step.
    Constant {
        /// Learning rate.
        lr: f32,
    },
    /// Linear warm-up from 0 to `lr` over `warmup_steps`, then cosine decay to `min_lr` at
    /// `total_steps` (and `min_lr` after).
    WarmupCosine {
        /// Peak learning rate.
        lr: f32,
        /// Steps of linear warm-up.
        warmup_steps: u32,
        /// Step at which the decay reaches `min_lr`.
        total_steps: u32,
        /// Final learning rate.
        min_lr: f32,
    },
}

impl LrSchedule {
    /// The learning rate at `step`.
    pub fn lr_at(&self, step: u32) -> f32 {
        match *self {
            Self::Constant { lr } => lr,
            Self::WarmupCosine {
                lr,
                warmup_steps,
                total_steps,
                min_lr,
            } => {
                if step < warmup_steps {
                    lr * step as f32 / warmup_steps as f32
                } else if step >= total_steps {
                    min_lr
                } else {
                    let span = (total_steps - warmup_steps).max(1) as f32;
                    let frac = (step - warmup_steps) as f32 / span;
                    min_lr + 0.5 * (lr - min_lr) * (1.0 + libm::cosf(core::f32::consts::PI * frac))
                }
            }
        }
    }
}
