//! Adam (Kingma & Ba, ICLR 2015) over a flat parameter vector:
//! ```text
//! m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,
//! θ ← θ − lr · (m / (1−β₁ᵗ)) / (sqrt(v / (1−β₂ᵗ)) + ε) − lr · wd · θ
//! ```
//! with the decoupled weight decay `wd` of AdamW (Loshchilov & Hutter, ICLR 2019; 0 = Adam).

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{check_dim, CucbError};

/// Adam state for `n` parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// Step size.
    pub learning_rate: f64,
    /// First-moment decay β₁.
    pub beta1: f64,
    /// Second-moment decay β₂.
    pub beta2: f64,
    /// Denominator guard ε.
    pub epsilon: f64,
    /// Decoupled weight decay (AdamW); 0 gives plain Adam.
    pub weight_decay: f64,
    m: Vec<f64>, // (n,)
    v: Vec<f64>, // (n,)
    t: i32,
}

impl Adam {
    /// Adam with the usual defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    pub fn new(n: usize, learning_rate: f64) -> Result<Self, CucbError> {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(CucbError::InvalidParameter {
                what: "learning_rate",
                value: learning_rate,
            });
        }
        Ok(Self {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        })
    }

    /// One update of `params` from `grads`.
    pub fn step(&mut self, params: &mut [f64], grads: &[f64]) -> Result<(), CucbError> {
        check_dim("params", self.m.len(), params.len())?;
        check_dim("grads", self.m.len(), grads.len())?;
        self.t = self.t.saturating_add(1);
        let c1 = 1.0 - libm::pow(self.beta1, self.t as f64);
        let c2 = 1.0 - libm::pow(self.beta2, self.t as f64);
        for ((p, &g), (m, v)) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            *p -= self.learning_rate
                * ((*m / c1) / (libm::sqrt(*v / c2) + self.epsilon) + self.weight_decay * *p);
        }
        Ok(())
    }
}
