//! AdamW (Loshchilov & Hutter 2019, decoupled weight decay) with global-norm clipping, on
//! the CPU, with PyTorch's `torch.optim.AdamW` update order:
//! `g ← g·min(1, max_norm/(‖g‖ + 1e-6))`, `θ ← θ − lr·λ·mask·θ`,
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `θ ← θ − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)`.

use crate::kernels::AdamWArgs;

/// `Σ x²`, accumulated in f64.
#[inline(always)]
pub fn sum_squares(x: &[f32]) -> f32 {
    let mut acc = [0.0f64; 8];
    let mut chunks = x.chunks_exact(8);
    for ch in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(ch) {
            *a += (v * v) as f64;
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&v| (v * v) as f64).sum();
    (acc.iter().sum::<f64>() + tail) as f32
}

/// The clip factor for a squared global norm.
#[inline(always)]
pub fn clip_scale(norm_sq: f32, max_norm: f32) -> f32 {
    if max_norm <= 0.0 {
        return 1.0;
    }
    let norm = libm::sqrtf(norm_sq);
    (max_norm / (norm + 1e-6)).min(1.0)
}

/// One AdamW step over parallel slices.
#[inline(always)]
pub fn adamw(
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    decay_mask: &[f32],
    norm_sq: f32,
    a: AdamWArgs,
) {
    let scale = clip_scale(norm_sq, a.max_grad_norm);
    let decay = a.lr * a.weight_decay;
    let step = a.lr / a.bias_correction1;
    let inv_bc2 = 1.0 / a.bias_correction2;
    for i in 0..params.len() {
        let g = grads[i] * scale;
        let mi = a.beta1 * m[i] + (1.0 - a.beta1) * g;
        let vi = a.beta2 * v[i] + (1.0 - a.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        let p = params[i] - decay * decay_mask[i] * params[i];
        params[i] = p - step * mi / (libm::sqrtf(vi * inv_bc2) + a.eps);
    }
}
