//! The flat parameter layout: every tensor of the GPT at a fixed offset in one `f32` buffer.
//!
//! Tensors appear in Hugging Face GPT-2 order with HF names *without* the `transformer.`
//! prefix (`C` = `n_embd`, `V` = `vocab_size`, `T` = `n_positions`):
//!
//! | name | shape |
//! |---|---|
//! | `wte.weight` | `[V, C]` (also the output head: tied) |
//! | `wpe.weight` | `[T, C]` |
//! | `h.{i}.ln_1.weight`, `h.{i}.ln_1.bias` | `[C]` |
//! | `h.{i}.attn.c_attn.weight` | `[C, 3C]` |
//! | `h.{i}.attn.c_attn.bias` | `[3C]` |
//! | `h.{i}.attn.c_proj.weight` | `[C, C]` |
//! | `h.{i}.attn.c_proj.bias` | `[C]` |
//! | `h.{i}.ln_2.weight`, `h.{i}.ln_2.bias` | `[C]` |
//! | `h.{i}.mlp.c_fc.weight` | `[C, 4C]` |
//! | `h.{i}.mlp.c_fc.bias` | `[4C]` |
//! | `h.{i}.mlp.c_proj.weight` | `[4C, C]` |
//! | `h.{i}.mlp.c_proj.bias` | `[C]` |
//! | `ln_f.weight`, `ln_f.bias` | `[C]` |
//!
//! Matmul weights are stored exactly in HF's `Conv1D` orientation `[in, out]`, row-major, so
//! `y = x·W + b` and a checkpoint tensor is a plain copy. Each tensor starts at an offset
//! (in `f32` elements) that is a multiple of [`ALIGN`] = 64 elements = 256 bytes, because
//! WebGPU binds storage buffers only at offsets that are multiples of 256 bytes; the gap
//! after a tensor is zero and is never read. Gradients and both AdamW moments use the very
//! same layout, so one offset addresses a tensor in all four buffers.
//!
//! ```
//! use spar_model::{GptConfig, ParamLayout};
//! let layout = ParamLayout::new(&GptConfig::C0).unwrap();
//! let wte = layout.get("wte.weight").unwrap();
//! assert_eq!((wte.offset, wte.shape.as_slice()), (0, &[64usize, 64][..]));
//! assert!(layout.tensors().iter().all(|t| t.offset % 64 == 0));
//! assert!(spar_model::layout::decays("h.0.mlp.c_fc.weight"));
//! assert!(!spar_model::layout::decays("h.0.ln_1.weight"));
//! ```

use crate::{GptConfig, ModelError};
use alloc::{format, string::String, vec, vec::Vec};

/// Alignment of every tensor offset, in `f32` elements (64 × 4 = 256 bytes).
pub const ALIGN: usize = 64;

/// Rounds `n` up to a multiple of [`ALIGN`].
pub const fn align_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// One parameter tensor: its HF name, offset in the flat buffer (f32 elements) and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// HF GPT-2 name without the `transformer.` prefix, e.g. `h.0.attn.c_attn.weight`.
    pub name: String,
    /// Offset of the first element in the flat buffer, in f32 elements (multiple of [`ALIGN`]).
    pub offset: usize,
    /// Row-major shape (matmul weights `[in, out]`).
    pub shape: Vec<usize>,
}

impl TensorSpec {
    /// Number of elements (product of the shape).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The element range `offset..offset + numel` in the flat buffer.
    pub fn range(&self) -> core::ops::Range<usize> {
        self.offset..self.offset + self.numel()
    }
}

/// Whether AdamW's decoupled weight decay applies to a tensor: matmul weights and the
/// embeddings decay; biases and LayerNorm gains/biases do not (GPT-2/nanoGPT convention:
/// exactly the tensors with two dimensions).
pub fn decays(name: &str) -> bool {
    name.ends_with(".weight") && !name.contains("ln_")
}

/// Offsets of one transformer block's tensors (f32 elements into the flat buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // field names are the HF tensor names
pub struct BlockOffsets {
    pub ln_1_w: usize,
    pub ln_1_b: usize,
    pub c_attn_w: usize,
    pub c_attn_b: usize,
    pub attn_proj_w: usize,
    pub attn_proj_b: usize,
    pub ln_2_w: usize,
    pub ln_2_b: usize,
    pub c_fc_w: usize,
    pub c_fc_b: usize,
    pub mlp_proj_w: usize,
    pub mlp_proj_b: usize,
}

/// The whole layout: tensor list in HF order, fast per-block offsets, and the total length.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamLayout {
    config: GptConfig,
    tensors: Vec<TensorSpec>,
    blocks: Vec<BlockOffsets>,
    len: usize,
}

impl ParamLayout {
    /// Computes the layout of a (validated) configuration.
    pub fn new(config: &GptConfig) -> Result<Self, ModelError> {
        config.validate()?;
        let (v, t, c) = (config.vocab_size, config.n_positions, config.n_embd);
        let mut tensors = Vec::with_capacity(2 + 12 * config.n_layer + 2);
        let mut next = 0usize;
        let mut push = |name: String, shape: Vec<usize>| -> usize {
            let offset = next;
            let n: usize = shape.iter().product();
            next = align_up(offset + n);
            tensors.push(TensorSpec {
                name,
                offset,
                shape,
            });
            offset
        };
        push("wte.weight".into(), vec![v, c]);
        push("wpe.weight".into(), vec![t, c]);
        let mut blocks = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let p = |s: &str| format!("h.{i}.{s}");
            blocks.push(BlockOffsets {
                ln_1_w: push(p("ln_1.weight"), vec![c]),
                ln_1_b: push(p("ln_1.bias"), vec![c]),
                c_attn_w: push(p("attn.c_attn.weight"), vec![c, 3 * c]),
                c_attn_b: push(p("attn.c_attn.bias"), vec![3 * c]),
                attn_proj_w: push(p("attn.c_proj.weight"), vec![c, c]),
                attn_proj_b: push(p("attn.c_proj.bias"), vec![c]),
                ln_2_w: push(p("ln_2.weight"), vec![c]),
                ln_2_b: push(p("ln_2.bias"), vec![c]),
                c_fc_w: push(p("mlp.c_fc.weight"), vec![c, 4 * c]),
                c_fc_b: push(p("mlp.c_fc.bias"), vec![4 * c]),
                mlp_proj_w: push(p("mlp.c_proj.weight"), vec![4 * c, c]),
                mlp_proj_b: push(p("mlp.c_proj.bias"), vec![c]),
            });
        }
        push("ln_f.weight".into(), vec![c]);
        push("ln_f.bias".into(), vec![c]);
        Ok(Self {
            config: *config,
            tensors,
            blocks,
            len: next,
        })
    }

    /// The configuration this layout was made for.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// Every tensor in HF order.
    pub fn tensors(&self) -> &[TensorSpec] {
        &self.tensors
    }

    /// Looks a tensor up by its HF name (without `transformer.`).
    pub fn get(&self, name: &str) -> Option<&TensorSpec> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// Total length of the flat buffer in f32 elements (padding included; a multiple of [`ALIGN`]).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a valid configuration has at least the embeddings.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Offset of `wte.weight` `[V, C]`.
    pub fn wte(&self) -> usize {
        self.tensors[0].offset
    }

    /// Offset of `wpe.weight` `[T, C]`.
    pub fn wpe(&self) -> usize {
        self.tensors[1].offset
    }

    /// Offsets of block `i`'s tensors.
    pub fn block(&self, i: usize) -> &BlockOffsets {
        &self.blocks[i]
    }

    /// Offset of `ln_f.weight` `[C]`.
    pub fn ln_f_w(&self) -> usize {
        self.tensors[self.tensors.len() - 2].offset
    }

    /// Offset of `ln_f.bias` `[C]`.
    pub fn ln_f_b(&self) -> usize {
        self.tensors[self.tensors.len() - 1].offset
    }

    /// A per-element weight-decay mask over the flat buffer (1.0 where [`decays`], else 0.0,
    /// padding 0.0).
    pub fn decay_mask(&self) -> Vec<f32> {
        let mut m = vec![0.0; self.len];
        for t in &self.tensors {
            if decays(&t.name) {
                m[t.range()].fill(1.0);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_ordered_aligned_and_disjoint() {
        let cfg = GptConfig::new(50, 7, 12, 3, 3);
        let l = ParamLayout::new(&cfg).unwrap();
        assert_eq!(l.tensors().len(), 2 + 12 * 3 + 2);
        let mut end = 0;
        let mut real = 0;
        for t in l.tensors() {
            assert_eq!(t.offset % ALIGN, 0, "{}", t.name);
            assert!(t.offset >= end, "{} overlaps", t.name);
            end = t.offset + t.numel();
            real += t.numel();
        }
        assert_eq!(real, cfg.num_parameters());
        assert!(l.len() >= end && l.len() % ALIGN == 0);
        assert_eq!(l.get("h.2.mlp.c_proj.weight").unwrap().shape, vec![48, 12]);
        assert_eq!(l.get("h.1.attn.c_attn.bias").unwrap().shape, vec![36]);
        assert_eq!(
            l.block(1).c_fc_w,
            l.get("h.1.mlp.c_fc.weight").unwrap().offset
        );
        assert_eq!(l.ln_f_b(), l.get("ln_f.bias").unwrap().offset);
        assert_eq!(l.tensors()[2].name, "h.0.ln_1.weight");
        assert_eq!(l.tensors().last().unwrap().name, "ln_f.bias");
    }

    #[test]
    fn decay_mask_covers_exactly_the_matrices() {
        let l = ParamLayout::new(&GptConfig::C0).unwrap();
        for t in l.tensors() {
            assert_eq!(decays(&t.name), t.shape.len() == 2, "{}", t.name);
        }
        let m = l.decay_mask();
        let n: f32 = m.iter().sum();
        let want: usize = l
            .tensors()
            .iter()
            .filter(|t| t.shape.len() == 2)
            .map(|t| t.numel())
            .sum();
        assert_eq!(n as usize, want);
    }
}
