//! The model's outputs for a batch as [`ndarray`] arrays (feature `ndarray`): per-token
//! log-probabilities and entropies `(B, T)`, the full logits at chosen positions `(N, V)`
//! and the next-token logits of each sequence `(B, V)`, from `(B, T)` token arrays.
//!
//! Each method copies a non-row-major view into row-major order and calls the slice method
//! of [`Gpt`], so results are bit for bit the slice API's; arrays whose shapes disagree are a
//! [`ModelError::ShapeMismatch`] naming the argument.
//!
//! ```
//! use ndarray::array;
//! use spar_model::{block_on, CpuKernels, Gpt, GptConfig};
//!
//! let cfg = GptConfig::new(11, 8, 16, 2, 2);
//! let mut gpt = Gpt::new(CpuKernels::new(), cfg, 2, 4)?;
//! gpt.init_params(0);
//! let tokens = array![[1u32, 2, 3, 4], [5, 6, 7, 8]];
//! let targets = array![[2u32, 3, 4, 5], [6, 7, 8, 9]];
//! let logprobs = block_on(gpt.logprobs_array(tokens.view(), targets.view(), None))?;
//! assert_eq!(logprobs.dim(), (2, 4));
//! assert!(logprobs.iter().all(|&lp| lp < 0.0));
//! let next = block_on(gpt.next_token_logits_array(tokens.view()))?;
//! assert_eq!(next.dim(), (2, 11));
//! # Ok::<(), spar_model::ModelError>(())
//! ```

use crate::gpt::Gpt;
use crate::kernels::Kernels;
use crate::ModelError;
use alloc::borrow::Cow;
use alloc::vec;
use ndarray::{Array2, ArrayView2};

/// The elements of `a` in row-major order, borrowed when the view already is.
fn row_major<'a, T: Clone>(a: &'a ArrayView2<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().cloned().collect()),
    }
}

/// Checks that an argument has the tokens' shape.
fn same_shape(
    what: &'static str,
    got: (usize, usize),
    want: (usize, usize),
) -> Result<(), ModelError> {
    if got == want {
        Ok(())
    } else {
        Err(ModelError::ShapeMismatch {
            what,
            expected: want.0 * want.1,
            got: got.0 * got.1,
        })
    }
}

/// A `(rows, cols)` array from a row-major buffer of that many elements.
fn shaped<T>(rows: usize, cols: usize, data: alloc::vec::Vec<T>) -> Array2<T> {
    Array2::from_shape_vec((rows, cols), data).expect("the buffer was sized rows * cols")
}

impl<K: Kernels> Gpt<K> {
    /// [`Gpt::logprobs`] of `tokens` `(B, T)` predicting `targets` `(B, T)` at the
    /// positions `mask` `(B, T)` marks (all when `None`); returns `log p(target)` `(B, T)`,
    /// 0 where masked out.
    pub async fn logprobs_array(
        &mut self,
        tokens: ArrayView2<'_, u32>,
        targets: ArrayView2<'_, u32>,
        mask: Option<ArrayView2<'_, bool>>,
    ) -> Result<Array2<f32>, ModelError> {
        Ok(self.logprobs_arrays(tokens, targets, mask, false).await?.0)
    }

    /// [`Gpt::logprobs_array`] and the entropy of each next-token distribution, both
    /// `(B, T)`.
    pub async fn logprobs_and_entropy_array(
        &mut self,
        tokens: ArrayView2<'_, u32>,
        targets: ArrayView2<'_, u32>,
        mask: Option<ArrayView2<'_, bool>>,
    ) -> Result<(Array2<f32>, Array2<f32>), ModelError> {
        let (lp, h) = self.logprobs_arrays(tokens, targets, mask, true).await?;
        Ok((lp, h.expect("entropy was asked for")))
    }

    async fn logprobs_arrays(
        &mut self,
        tokens: ArrayView2<'_, u32>,
        targets: ArrayView2<'_, u32>,
        mask: Option<ArrayView2<'_, bool>>,
        with_entropy: bool,
    ) -> Result<(Array2<f32>, Option<Array2<f32>>), ModelError> {
        let (b, t) = tokens.dim();
        same_shape("targets", targets.dim(), (b, t))?;
        if let Some(m) = &mask {
            same_shape("mask", m.dim(), (b, t))?;
        }
        let mask = mask.as_ref().map(row_major);
        let mut lp = vec![0.0f32; b * t];
        let mut h = vec![0.0f32; if with_entropy { b * t } else { 0 }];
        self.logprobs(
            &row_major(&tokens),
            &row_major(&targets),
            mask.as_deref(),
            b,
            &mut lp,
            with_entropy.then_some(h.as_mut_slice()),
        )
        .await?;
        Ok((shaped(b, t, lp), with_entropy.then(|| shaped(b, t, h))))
    }

    /// [`Gpt::masked_logits`]: the full logits at the positions `mask` `(B, T)` marks, in
    /// row-major order of those positions; returns `(N, V)` for `N` marked positions.
    pub async fn masked_logits_array(
        &mut self,
        tokens: ArrayView2<'_, u32>,
        targets: ArrayView2<'_, u32>,
        mask: ArrayView2<'_, bool>,
    ) -> Result<Array2<f32>, ModelError> {
        let (b, t) = tokens.dim();
        same_shape("targets", targets.dim(), (b, t))?;
        same_shape("mask", mask.dim(), (b, t))?;
        let mask = row_major(&mask);
        let logits = self
            .masked_logits(&row_major(&tokens), &row_major(&targets), &mask, b)
            .await?;
        let v = self.config().vocab_size;
        Ok(shaped(logits.len() / v, v, logits))
    }

    /// [`Gpt::next_token_logits`]: the logits after each sequence of `tokens` `(B, T)`;
    /// returns `(B, V)`.
    pub async fn next_token_logits_array(
        &mut self,
        tokens: ArrayView2<'_, u32>,
    ) -> Result<Array2<f32>, ModelError> {
        let b = tokens.nrows();
        let v = self.config().vocab_size;
        let mut out = vec![0.0f32; b * v];
        self.next_token_logits(&row_major(&tokens), b, &mut out)
            .await?;
        Ok(shaped(b, v, out))
    }
}
