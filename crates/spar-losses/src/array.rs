//! The losses over [`ndarray`] arrays (feature `ndarray`): the same functions as the slice
//! API, with shapes carried by the arrays instead of separate arguments.
//!
//! Per-token data are `(B, T)` arrays (`B` sequences, `T` = `max_len`) with a `(B, T)` `bool`
//! mask; rewards and per-completion advantages are `(groups, G)` arrays, one row per prompt
//! (`G` = `num_generations`). Gradients come back as new arrays of the input's shape. Each
//! function copies a non-contiguous view into row-major order, then calls the slice function,
//! so results are bit for bit the slice API's. A shape that does not fit is a
//! [`LossError::LengthMismatch`] naming the argument.
//!
//! ```
//! use ndarray::array;
//! use spar_losses::aggregation::LossType;
//! use spar_losses::array::{grpo_advantages, policy_loss, ArrayAdvantages, PolicyArrays};
//! use spar_losses::grpo::{ScaleRewards, TRL_STD_EPSILON};
//! use spar_losses::ppo_clip::PolicyLossConfig;
//!
//! let rewards = array![[1.0, 0.0]]; // one prompt, G = 2
//! let adv = grpo_advantages(rewards.view(), ScaleRewards::Group, TRL_STD_EPSILON)?;
//! let logprobs = array![[-0.5, -1.0, -0.2], [-2.0, -0.1, 0.0]];
//! let mask = array![[true, true, true], [true, true, false]];
//! let batch = PolicyArrays {
//!     num_generations: 2,
//!     logprobs: logprobs.view(),
//!     old_logprobs: None,
//!     ref_logprobs: None,
//!     mask: mask.view(),
//!     advantages: ArrayAdvantages::PerSequence(adv.view()),
//! };
//! let config = PolicyLossConfig { loss_type: LossType::Grpo, ..Default::default() };
//! let (out, grad) = policy_loss(&config, &batch)?;
//! assert_eq!(grad.dim(), (2, 3));
//! assert!(grad[[0, 0]] < 0.0 && grad[[1, 0]] > 0.0 && grad[[1, 2]] == 0.0);
//! assert_eq!(out.diagnostics.num_tokens, 5);
//! # Ok::<(), spar_losses::LossError>(())
//! ```

use crate::error::LossError;
use crate::grpo::{GrpoAdvantageConfig, ScaleRewards, SingletonGroup};
use crate::ppo_clip::{Advantages, PolicyBatch, PolicyLossConfig, PolicyLossOutput};
use crate::sequence::SeqReduction;
use alloc::borrow::Cow;
use alloc::vec::Vec;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// The elements of `a` in row-major order, borrowed when the view already is.
fn row_major<'a, T: Clone>(a: &'a ArrayView2<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().cloned().collect()),
    }
}

/// The elements of `a` in order, borrowed when the view is contiguous.
fn contiguous<'a, T: Clone>(a: &'a ArrayView1<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().cloned().collect()),
    }
}

/// A `(rows, cols)` array from a row-major buffer of that many elements.
fn shaped(rows: usize, cols: usize, data: Vec<f64>) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), data).expect("the buffer was sized rows * cols")
}

/// Checks that `a` has `expected` as its shape.
fn check_dim(
    what: &'static str,
    got: (usize, usize),
    expected: (usize, usize),
) -> Result<(), LossError> {
    if got == expected {
        Ok(())
    } else {
        Err(LossError::LengthMismatch {
            what,
            expected: expected.0 * expected.1,
            got: got.0 * got.1,
        })
    }
}

/// Group-normalised advantages ([`crate::grpo::grpo_advantages`]) of `rewards`
/// `(groups, G)`, one row per prompt; returns `(groups, G)`.
pub fn grpo_advantages(
    rewards: ArrayView2<'_, f64>,
    scale_rewards: ScaleRewards,
    std_epsilon: f64,
) -> Result<Array2<f64>, LossError> {
    let config = GrpoAdvantageConfig {
        num_generations: rewards.ncols(),
        scale_rewards,
        std_epsilon,
        singleton: SingletonGroup::Zero,
    };
    grpo_advantages_with(rewards, &config)
}

/// [`grpo_advantages`] with every setting explicit
/// ([`crate::grpo::grpo_advantages_with`]); `config.num_generations` must be the number of
/// columns.
pub fn grpo_advantages_with(
    rewards: ArrayView2<'_, f64>,
    config: &GrpoAdvantageConfig,
) -> Result<Array2<f64>, LossError> {
    let (groups, g) = rewards.dim();
    check_dim("rewards", (groups, g), (groups, config.num_generations))?;
    let mut out = alloc::vec![0.0; groups * g];
    crate::grpo::grpo_advantages_with(&row_major(&rewards), config, &mut out)?;
    Ok(shaped(groups, g, out))
}

/// Leave-one-out advantages ([`crate::rloo::rloo_advantages`]) of `rewards` `(groups, G)`;
/// returns `(groups, G)`.
pub fn rloo_advantages(rewards: ArrayView2<'_, f64>) -> Result<Array2<f64>, LossError> {
    let (groups, g) = rewards.dim();
    let mut out = alloc::vec![0.0; groups * g];
    crate::rloo::rloo_advantages(&row_major(&rewards), g, &mut out)?;
    Ok(shaped(groups, g, out))
}

/// Advantages of a [`PolicyArrays`] batch.
#[derive(Clone, Copy, Debug)]
pub enum ArrayAdvantages<'a> {
    /// `(groups, G)` (one per completion, as [`grpo_advantages`] returns them) or any shape
    /// with `B` elements in sequence order; broadcast over each completion's tokens.
    PerSequence(ArrayView2<'a, f64>),
    /// `(B, T)`, one per token.
    PerToken(ArrayView2<'a, f64>),
}

/// [`PolicyBatch`] as arrays: the shapes give `num_sequences` (`B`) and `max_len` (`T`).
#[derive(Clone, Copy, Debug)]
pub struct PolicyArrays<'a> {
    /// Completions per prompt (`G`); groups are consecutive rows.
    pub num_generations: usize,
    /// The policy's per-token log-probs `(B, T)`.
    pub logprobs: ArrayView2<'a, f64>,
    /// The sampling policy's log-probs `(B, T)` (`None`: on-policy, equal to `logprobs`).
    pub old_logprobs: Option<ArrayView2<'a, f64>>,
    /// The reference model's log-probs `(B, T)` (needed when `beta > 0`).
    pub ref_logprobs: Option<ArrayView2<'a, f64>>,
    /// Real completion tokens `(B, T)`.
    pub mask: ArrayView2<'a, bool>,
    /// The advantages.
    pub advantages: ArrayAdvantages<'a>,
}

/// The clipped policy loss ([`crate::ppo_clip::policy_loss`]) and its gradient with respect
/// to every policy log-prob, `(B, T)` (zero on padding).
pub fn policy_loss(
    config: &PolicyLossConfig,
    batch: &PolicyArrays<'_>,
) -> Result<(PolicyLossOutput, Array2<f64>), LossError> {
    let dim = batch.logprobs.dim();
    check_dim("mask", batch.mask.dim(), dim)?;
    if let Some(o) = &batch.old_logprobs {
        check_dim("old_logprobs", o.dim(), dim)?;
    }
    if let Some(r) = &batch.ref_logprobs {
        check_dim("ref_logprobs", r.dim(), dim)?;
    }
    let logprobs = row_major(&batch.logprobs);
    let old = batch.old_logprobs.as_ref().map(row_major);
    let reference = batch.ref_logprobs.as_ref().map(row_major);
    let mask = row_major(&batch.mask);
    let (per_sequence, per_token) = match &batch.advantages {
        ArrayAdvantages::PerSequence(a) => (Some(row_major(a)), None),
        ArrayAdvantages::PerToken(a) => {
            check_dim("advantages", a.dim(), dim)?;
            (None, Some(row_major(a)))
        }
    };
    let advantages = match (&per_sequence, &per_token) {
        (Some(a), _) => Advantages::PerSequence(a),
        (_, Some(a)) => Advantages::PerToken(a),
        _ => unreachable!("one of the two is set above"),
    };
    let slices = PolicyBatch {
        num_sequences: dim.0,
        max_len: dim.1,
        num_generations: batch.num_generations,
        logprobs: &logprobs,
        old_logprobs: old.as_deref(),
        ref_logprobs: reference.as_deref(),
        mask: &mask,
        advantages,
    };
    let mut grad = alloc::vec![0.0; dim.0 * dim.1];
    let out = crate::ppo_clip::policy_loss(config, &slices, &mut grad)?;
    Ok((out, shaped(dim.0, dim.1, grad)))
}

/// Per-sequence log-probs ([`crate::sequence::sequence_logprobs`]) of `(B, T)` token
/// log-probs under `mask`; returns `(B,)`.
pub fn sequence_logprobs(
    token_logprobs: ArrayView2<'_, f64>,
    mask: ArrayView2<'_, bool>,
    reduction: SeqReduction,
) -> Result<Array1<f64>, LossError> {
    let (b, t) = token_logprobs.dim();
    check_dim("mask", mask.dim(), (b, t))?;
    let mut out = alloc::vec![0.0; b];
    crate::sequence::sequence_logprobs(
        &row_major(&token_logprobs),
        &row_major(&mask),
        b,
        t,
        reduction,
        &mut out,
    )?;
    Ok(Array1::from_vec(out))
}

/// Spreads per-sequence gradients `(B,)` back over the tokens
/// ([`crate::sequence::spread_sequence_grad`]); returns `(B, T)`.
pub fn spread_sequence_grad(
    seq_grad: ArrayView1<'_, f64>,
    mask: ArrayView2<'_, bool>,
    reduction: SeqReduction,
) -> Result<Array2<f64>, LossError> {
    let (b, t) = mask.dim();
    let mut out = alloc::vec![0.0; b * t];
    crate::sequence::spread_sequence_grad(
        &contiguous(&seq_grad),
        &row_major(&mask),
        b,
        t,
        reduction,
        &mut out,
    )?;
    Ok(shaped(b, t, out))
}

/// InfoNCE ([`crate::nce::info_nce`]) of `scores` `(rows, cols)`, row `i`'s positive at
/// column `positive[i]`; returns the loss and `∂L/∂scores` `(rows, cols)`.
pub fn info_nce(
    scores: ArrayView2<'_, f64>,
    positive: &[usize],
    temperature: f64,
) -> Result<(f64, Array2<f64>), LossError> {
    let (rows, cols) = scores.dim();
    let mut grad = alloc::vec![0.0; rows * cols];
    let loss = crate::nce::info_nce(
        &row_major(&scores),
        rows,
        cols,
        positive,
        temperature,
        &mut grad,
    )?;
    Ok((loss, shaped(rows, cols, grad)))
}
