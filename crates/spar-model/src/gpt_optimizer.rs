//! The optimiser side of [`Gpt`]: the AdamW step (unchecked, and checked against a non-finite
//! gradient norm), the optimiser state's read-back, write and reset, and which parameters
//! weight decay applies to.

use crate::gpt::Gpt;
use crate::kernels::Kernels;
use crate::ModelError;
use alloc::vec;
use alloc::vec::Vec;

impl<K: Kernels> Gpt<K> {
    /// One AdamW step with learning rate `lr` over the accumulated gradients (clipped to
    /// `opt.max_grad_norm`), then zeroes them. Unchecked and without a host round trip (the
    /// benches' and [`Gpt::train_step_sft`]'s step); a trainer steps through
    /// [`Gpt::checked_step`], which refuses a non-finite gradient.
    pub fn step(&mut self, opt: &crate::optim::AdamWConfig, lr: f32) {
        self.kernels.sum_squares(self.acts.norm_sq, self.p.grads);
        self.apply_adamw(opt, lr);
    }

    /// The checked optimiser step: measures the global gradient norm (before clipping) and
    /// refuses a non-finite one with [`ModelError::NonFiniteGradient`] (the gradients are
    /// zeroed; parameters, moments and step count are left as they were), else takes the
    /// AdamW step of [`Gpt::step`]. Returns the norm. Reading the norm back is one host round
    /// trip (awaited on the GPU).
    pub async fn checked_step(
        &mut self,
        opt: &crate::optim::AdamWConfig,
        lr: f32,
    ) -> Result<f32, ModelError> {
        self.kernels.sum_squares(self.acts.norm_sq, self.p.grads);
        let norm = self.last_grad_norm().await;
        if !norm.is_finite() {
            self.zero_grad();
            return Err(ModelError::NonFiniteGradient {
                step: self.adam_t.saturating_add(1),
            });
        }
        self.apply_adamw(opt, lr);
        Ok(norm)
    }

    /// The one place parameters and moments change: AdamW over the gradients, whose squared
    /// norm is already in the arena's `norm_sq`, then zero gradients.
    fn apply_adamw(&mut self, opt: &crate::optim::AdamWConfig, lr: f32) {
        self.adam_t = self.adam_t.saturating_add(1);
        let args = opt.args(lr, self.adam_t);
        let p = self.p;
        self.kernels.adamw(
            p.params,
            p.grads,
            p.m,
            p.v,
            p.decay_mask,
            self.acts.norm_sq,
            args,
        );
        self.zero_grad();
    }

    /// The global gradient norm (before clipping) of the last [`Gpt::step`].
    pub async fn last_grad_norm(&mut self) -> f32 {
        let mut out = [0.0f32];
        self.kernels.read(self.acts.norm_sq, &mut out).await;
        libm::sqrtf(out[0])
    }

    /// AdamW's step count (its bias correction uses it).
    pub fn optimizer_steps(&self) -> u32 {
        self.adam_t
    }

    /// The optimiser state, read back: `(m, v, step count)`.
    pub async fn read_optimizer(&mut self) -> (Vec<f32>, Vec<f32>, u32) {
        let n = self.layout.len();
        let (mut m, mut v) = (vec![0.0f32; n], vec![0.0f32; n]);
        self.kernels.read(self.p.m, &mut m).await;
        self.kernels.read(self.p.v, &mut v).await;
        (m, v, self.adam_t)
    }

    /// Replaces the optimiser state (moments of the flat layout and the step count), as a
    /// resumed run needs.
    pub fn write_optimizer(&mut self, m: &[f32], v: &[f32], steps: u32) -> Result<(), ModelError> {
        let n = self.layout.len();
        for (what, x) in [("AdamW first moment", m), ("AdamW second moment", v)] {
            if x.len() != n {
                return Err(ModelError::ShapeMismatch {
                    what,
                    expected: n,
                    got: x.len(),
                });
            }
        }
        self.kernels.write(self.p.m, m);
        self.kernels.write(self.p.v, v);
        self.adam_t = steps;
        Ok(())
    }

    /// A fresh optimiser: zero moments and step count (the parameters are kept), as a new
    /// Hugging Face trainer starts.
    pub fn reset_optimizer(&mut self) {
        self.kernels.fill(self.p.m, 0.0);
        self.kernels.fill(self.p.v, 0.0);
        self.adam_t = 0;
    }

    /// Which parameters weight decay applies to: `decay_all` = every parameter (padding
    /// excepted), else Hugging Face's rule, the layout's default ([`crate::layout::decays`]:
    /// not biases, not LayerNorm weights).
    pub fn set_decay_all(&mut self, decay_all: bool) {
        let mut mask = self.layout.decay_mask();
        if decay_all {
            for t in self.layout.tensors() {
                mask[t.range()].fill(1.0);
            }
        }
        self.kernels.write(self.p.decay_mask, &mask);
    }
}
