//! The GPT's hyper-parameters, named as in Hugging Face's `GPT2Config`.
//!
//! ```
//! use spar_model::GptConfig;
//! let cfg = GptConfig::C1;
//! cfg.validate().unwrap();
//! assert_eq!(cfg.head_size(), 32);
//! ```

use crate::ModelError;
use alloc::format;

/// Largest vocabulary, context or width accepted by [`GptConfig::validate`] (2^24): keeps
/// every index of a tensor row representable in a `u32` and in an `f32` mantissa.
pub const MAX_DIM: usize = 1 << 24;
/// Largest parameter count accepted by [`GptConfig::validate`] (2^30 f32 = 4 GiB), so that
/// byte offsets into the flat buffer fit a `u32` binding offset on the GPU.
pub const MAX_PARAMS: usize = 1 << 30;

/// Hyper-parameters of a GPT-2 (`GPT2LMHeadModel`): pre-LayerNorm, learned positions,
/// causal multi-head attention with biases, GELU-tanh MLP ×4, tied embeddings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GptConfig {
    /// Vocabulary size `V` (HF `vocab_size`).
    pub vocab_size: usize,
    /// Context length `T` (HF `n_positions`): rows of the position embedding.
    pub n_positions: usize,
    /// Model width `C` (HF `n_embd`).
    pub n_embd: usize,
    /// Number of transformer blocks `L` (HF `n_layer`).
    pub n_layer: usize,
    /// Number of attention heads `NH` (HF `n_head`); must divide `n_embd`.
    pub n_head: usize,
    /// LayerNorm epsilon (HF `layer_norm_epsilon`, 1e-5).
    pub layer_norm_epsilon: f32,
}

/// One of the reference configurations of the project's baselines, with its bench batch size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    /// Name used in tables and on the command line (`"C0"` ... `"C3"`).
    pub name: &'static str,
    /// The model configuration.
    pub config: GptConfig,
    /// Batch size the throughput benchmarks use (tokens per step = batch × `n_positions`).
    pub batch: usize,
}

impl GptConfig {
    /// C0: V 64, T 64, C 64, 2 layers, 2 heads (0.11 M parameters).
    pub const C0: Self = Self::new(64, 64, 64, 2, 2);
    /// C1: V 256, T 128, C 128, 4 layers, 4 heads (0.84 M parameters).
    pub const C1: Self = Self::new(256, 128, 128, 4, 4);
    /// C2: V 512, T 256, C 256, 6 layers, 8 heads (4.9 M parameters).
    pub const C2: Self = Self::new(512, 256, 256, 6, 8);
    /// C3 (GPT-2 small, padded vocabulary): V 50304, T 1024, C 768, 12 layers, 12 heads.
    pub const C3: Self = Self::new(50304, 1024, 768, 12, 12);

    /// The reference configurations with their benchmark batch sizes (32, 16, 8, 8).
    pub const PRESETS: [Preset; 4] = [
        Preset {
            name: "C0",
            config: Self::C0,
            batch: 32,
        },
        Preset {
            name: "C1",
            config: Self::C1,
            batch: 16,
        },
        Preset {
            name: "C2",
            config: Self::C2,
            batch: 8,
        },
        Preset {
            name: "C3",
            config: Self::C3,
            batch: 8,
        },
    ];

    /// A configuration with the given sizes and LayerNorm epsilon 1e-5.
    pub const fn new(
        vocab_size: usize,
        n_positions: usize,
        n_embd: usize,
        n_layer: usize,
        n_head: usize,
    ) -> Self {
        Self {
            vocab_size,
            n_positions,
            n_embd,
            n_layer,
            n_head,
            layer_norm_epsilon: 1e-5,
        }
    }

    /// Looks a preset up by name (`"C0"` ... `"C3"`, case-insensitive).
    pub fn preset(name: &str) -> Option<Preset> {
        Self::PRESETS
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .copied()
    }

    /// Width of one attention head, `n_embd / n_head`.
    pub fn head_size(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Checks every size is positive and bounded, `n_head` divides `n_embd`, the epsilon is
    /// positive and finite, and the parameter count stays below [`MAX_PARAMS`].
    pub fn validate(&self) -> Result<(), ModelError> {
        let dims = [
            ("vocab_size", self.vocab_size),
            ("n_positions", self.n_positions),
            ("n_embd", self.n_embd),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
        ];
        for (name, v) in dims {
            if v == 0 || v > MAX_DIM {
                return Err(ModelError::InvalidConfig(format!(
                    "{name} = {v} is not in 1..={MAX_DIM}"
                )));
            }
        }
        if self.n_embd % self.n_head != 0 {
            return Err(ModelError::InvalidConfig(format!(
                "n_embd = {} is not divisible by n_head = {}",
                self.n_embd, self.n_head
            )));
        }
        if !(self.layer_norm_epsilon.is_finite() && self.layer_norm_epsilon > 0.0) {
            return Err(ModelError::InvalidConfig(format!(
                "layer_norm_epsilon = {} is not positive and finite",
                self.layer_norm_epsilon
            )));
        }
        match self.num_parameters_checked() {
            Some(n) if n <= MAX_PARAMS => Ok(()),
            _ => Err(ModelError::InvalidConfig(format!(
                "the parameter count exceeds {MAX_PARAMS}"
            ))),
        }
    }

    /// Number of parameters (unpadded), `None` on overflow.
    fn num_parameters_checked(&self) -> Option<usize> {
        let c = self.n_embd;
        let per_layer = c.checked_mul(c)?.checked_mul(12)?.checked_add(13 * c)?;
        let emb = self
            .vocab_size
            .checked_add(self.n_positions)?
            .checked_mul(c)?;
        per_layer
            .checked_mul(self.n_layer)?
            .checked_add(emb)?
            .checked_add(2 * c)
    }

    /// Number of trainable parameters (tied embeddings counted once, no padding).
    /// Call on a validated config (it saturates on overflow).
    pub fn num_parameters(&self) -> usize {
        self.num_parameters_checked().unwrap_or(usize::MAX)
    }

    /// Matmul FLOPs per trained token as the baseline script counts them: 3 × forward, with
    /// forward = 2·(12·L·C² + V·C) + 4·L·T·C (full T×T attention, no causal savings).
    pub fn train_flops_per_token(&self) -> f64 {
        let (l, c, v, t) = (
            self.n_layer as f64,
            self.n_embd as f64,
            self.vocab_size as f64,
            self.n_positions as f64,
        );
        3.0 * (2.0 * (12.0 * l * c * c + v * c) + 4.0 * l * t * c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_baseline_parameter_counts() {
        // BASELINES: C0 0.11 M, C1 0.84 M, C2 4.9 M, C3 124 M.
        let m = |c: GptConfig| c.num_parameters() as f64 / 1e6;
        assert!((m(GptConfig::C0) - 0.11).abs() < 0.01);
        assert!((m(GptConfig::C1) - 0.84).abs() < 0.01);
        assert!((m(GptConfig::C2) - 4.9).abs() < 0.05);
        assert!((m(GptConfig::C3) - 124.5).abs() < 0.5);
        for p in GptConfig::PRESETS {
            p.config.validate().unwrap();
        }
    }

    #[test]
    fn validate_rejects_bad_sizes() {
        let mut c = GptConfig::C0;
        c.n_head = 3;
        assert!(c.validate().is_err());
        let mut c = GptConfig::C0;
        c.vocab_size = 0;
        assert!(c.validate().is_err());
        let mut c = GptConfig::C0;
        c.layer_norm_epsilon = f32::NAN;
        assert!(c.validate().is_err());
        let c = GptConfig::new(MAX_DIM, MAX_DIM, 4096, 100, 32);
        assert!(c.validate().is_err());
    }
}
