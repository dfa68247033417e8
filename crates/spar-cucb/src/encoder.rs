//! The two function classes for contrastive features: an action-indexed linear map and a
//! one-hidden-layer tanh MLP. Each has a `forward` and a `backward` with the same arguments,
//! the backward accumulating (`+=`) into the parameter gradient, in the llm.c style.
//!
//! ```text
//! Linear:  g(x, a) = W_a x                                   W_a: (out, in) for each action a
//! MLP:     h = tanh(W₁x + U₁[:, a] + b₁),  g(x, a) = W₂h + b₂   W₁: (hidden, in), U₁: (hidden, A)
//! ```
//! The action enters the MLP as a learned embedding added before the non-linearity, which is
//! `W₁[x; onehot(a)]` computed without building the concatenation. An encoder of a state alone
//! (ψ) is the same with one action.

use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

use crate::error::CucbError;
use crate::sampling::normal;

/// Which function class an [`Encoder`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderKind {
    /// `g(x, a) = W_a x`, no bias (an observation that needs a bias carries a constant entry).
    Linear,
    /// One hidden tanh layer of the given width.
    Mlp {
        /// Hidden width.
        hidden: usize,
    },
}

/// A map `(x ∈ R^input, a ∈ 0..actions) ↦ g ∈ R^output` with flat parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoder {
    kind: EncoderKind,
    input: usize,
    actions: usize,
    output: usize,
    /// All parameters, flat (layout in the module docs: Linear `[W_0 … W_{A−1}]`;
    /// MLP `[W₁, U₁, b₁, W₂, b₂]`).
    pub params: Vec<f64>,
}

impl Encoder {
    /// A new encoder with weights drawn `N(0, init_scale² / fan_in)` (biases 0).
    pub fn new<R: RngCore + ?Sized>(
        kind: EncoderKind,
        input: usize,
        actions: usize,
        output: usize,
        init_scale: f64,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        if input == 0 || actions == 0 || output == 0 {
            return Err(CucbError::Invalid {
                what: "encoder sizes must be > 0",
            });
        }
        if let EncoderKind::Mlp { hidden: 0 } = kind {
            return Err(CucbError::Invalid {
                what: "MLP hidden width must be > 0",
            });
        }
        if !(init_scale.is_finite() && init_scale >= 0.0) {
            return Err(CucbError::InvalidParameter {
                what: "init_scale",
                value: init_scale,
            });
        }
        let mut enc = Self {
            kind,
            input,
            actions,
            output,
            params: Vec::new(),
        };
        let n = enc.num_params();
        enc.params = vec![0.0; n];
        match kind {
            EncoderKind::Linear => {
                let s = init_scale / libm::sqrt(input as f64);
                enc.params.iter_mut().for_each(|p| *p = s * normal(rng));
            }
            EncoderKind::Mlp { hidden } => {
                let s1 = init_scale / libm::sqrt((input + 1) as f64);
                let s2 = init_scale / libm::sqrt(hidden as f64);
                let (w1, rest) = enc.params.split_at_mut(hidden * input);
                let (u1, rest) = rest.split_at_mut(hidden * actions);
                let (_b1, rest) = rest.split_at_mut(hidden);
                let (w2, _b2) = rest.split_at_mut(output * hidden);
                w1.iter_mut()
                    .chain(u1.iter_mut())
                    .for_each(|p| *p = s1 * normal(rng));
                w2.iter_mut().for_each(|p| *p = s2 * normal(rng));
            }
        }
        Ok(enc)
    }

    /// The function class.
    pub fn kind(&self) -> EncoderKind {
        self.kind
    }

    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        self.input
    }

    /// Output dimension.
    pub fn output_dim(&self) -> usize {
        self.output
    }

    /// Number of actions the encoder is indexed by.
    pub fn num_actions(&self) -> usize {
        self.actions
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        match self.kind {
            EncoderKind::Linear => self.actions * self.output * self.input,
            EncoderKind::Mlp { hidden } => {
                hidden * self.input
                    + hidden * self.actions
                    + hidden
                    + self.output * hidden
                    + self.output
            }
        }
    }

    /// Size of the activation cache `forward` fills and `backward` reads.
    pub fn cache_len(&self) -> usize {
        match self.kind {
            EncoderKind::Linear => 0,
            EncoderKind::Mlp { hidden } => hidden,
        }
    }

    /// `out = g(x, a)`; `cache` (length [`Encoder::cache_len`]) keeps the hidden activations.
    /// Sizes are the caller's invariant (checked by the public model API), hence debug asserts.
    pub fn forward(&self, x: &[f64], action: usize, out: &mut [f64], cache: &mut [f64]) {
        debug_assert_eq!(x.len(), self.input);
        debug_assert_eq!(out.len(), self.output);
        debug_assert!(action < self.actions);
        let (i_n, o_n) = (self.input, self.output);
        match self.kind {
            EncoderKind::Linear => {
                let w = &self.params[action * o_n * i_n..(action + 1) * o_n * i_n];
                for (o, row) in out.iter_mut().zip(w.chunks_exact(i_n)) {
                    *o = row.iter().zip(x).map(|(a, b)| a * b).sum();
                }
            }
            EncoderKind::Mlp { hidden } => {
                let (w1, rest) = self.params.split_at(hidden * i_n);
                let (u1, rest) = rest.split_at(hidden * self.actions);
                let (b1, rest) = rest.split_at(hidden);
                let (w2, b2) = rest.split_at(o_n * hidden);
                for (k, h) in cache.iter_mut().enumerate() {
                    let row = &w1[k * i_n..(k + 1) * i_n];
                    let pre: f64 = row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()
                        + u1[k * self.actions + action]
                        + b1[k];
                    *h = libm::tanh(pre);
                }
                for (j, o) in out.iter_mut().enumerate() {
                    let row = &w2[j * hidden..(j + 1) * hidden];
                    *o = row
                        .iter()
                        .zip(cache.iter())
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        + b2[j];
                }
            }
        }
    }

    /// `grad += (∂g/∂θ)ᵀ grad_out` at `(x, a)` with the `cache` from `forward`.
    pub fn backward(
        &self,
        grad: &mut [f64],
        grad_out: &[f64],
        x: &[f64],
        action: usize,
        cache: &[f64],
    ) {
        debug_assert_eq!(grad.len(), self.params.len());
        let (i_n, o_n) = (self.input, self.output);
        match self.kind {
            EncoderKind::Linear => {
                let gw = &mut grad[action * o_n * i_n..(action + 1) * o_n * i_n];
                for (row, &go) in gw.chunks_exact_mut(i_n).zip(grad_out) {
                    if go != 0.0 {
                        row.iter_mut().zip(x).for_each(|(g, &xi)| *g += go * xi);
                    }
                }
            }
            EncoderKind::Mlp { hidden } => {
                let w2_off = hidden * i_n + hidden * self.actions + hidden;
                let b2_off = w2_off + o_n * hidden;
                // ∂/∂W₂ = go hᵀ, ∂/∂b₂ = go, ∂/∂h = W₂ᵀ go.
                let mut dh = vec![0.0; hidden]; // (hidden,)
                for (j, &go) in grad_out.iter().enumerate() {
                    grad[b2_off + j] += go;
                    for k in 0..hidden {
                        grad[w2_off + j * hidden + k] += go * cache[k];
                        dh[k] += go * self.params[w2_off + j * hidden + k];
                    }
                }
                // tanh' = 1 − h²; then ∂/∂W₁ = dpre xᵀ, ∂/∂U₁[:, a] = dpre, ∂/∂b₁ = dpre.
                let u1_off = hidden * i_n;
                let b1_off = u1_off + hidden * self.actions;
                for k in 0..hidden {
                    let dpre = dh[k] * (1.0 - cache[k] * cache[k]);
                    if dpre == 0.0 {
                        continue;
                    }
                    grad[b1_off + k] += dpre;
                    grad[u1_off + k * self.actions + action] += dpre;
                    let row = &mut grad[k * i_n..(k + 1) * i_n];
                    row.iter_mut().zip(x).for_each(|(g, &xi)| *g += dpre * xi);
                }
            }
        }
    }
}
