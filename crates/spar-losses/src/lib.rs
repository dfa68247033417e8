//! Advantages, policy-gradient and preference losses with exact gradients for LM
//! reinforcement learning.
//!
//! Every loss takes per-token (or per-sequence) log-probabilities as plain `f64` slices and
//! returns the loss, **its gradient with respect to every policy log-probability**, and
//! diagnostics. No loss knows about the model: the trainer back-propagates the returned
//! per-token weights through the log-prob gather, `dlogits = g·(onehot − softmax)`.
//! Per-token data use one layout everywhere — flat row-major `[num_sequences * max_len]`
//! slices with a `bool` mask of the same shape — described in [`layout`]. Gradients go into
//! caller-provided buffers, so a training step allocates nothing. Bad input returns a
//! [`LossError`], never a panic. Names follow TRL (`beta`, `epsilon`, `epsilon_high`,
//! `loss_type`, `scale_rewards`, `max_completion_length`, `num_generations`).
//!
//! | family | modules |
//! |---|---|
//! | advantages | [`grpo`] (`scale_rewards` group / batch / none), [`dr_grpo`], [`rloo`], [`reinforce_pp`] (+ baseline), [`task_relative`] (Absolute Zero), [`rae`] (SPIRAL) |
//! | policy losses | [`ppo_clip`] (PPO-clip, `epsilon_high`, dual clip, KL, GSPO), [`kl`], [`aggregation`] (`loss_type`), [`gspo`], [`entropy`], [`dapo`], [`ssr`], [`self_imitation`], [`clip_cov`] (Clip-Cov), [`nft`] (negative-aware fine-tuning) |
//! | preference losses | [`preference`], [`sequence`], [`dpo`], [`cdpo`], [`robust_dpo`], [`ipo`], [`hinge`], [`simpo`], [`sppo`], [`dno`], [`selm`], [`osp`] |
//! | other losses | [`ditto`], [`nce`] (InfoNCE, logistic NCE) |
//! | evaluation and rewards | [`pass_at_k`], [`self_certainty`] |
//!
//! Advantages and a GRPO step (one prompt, G = 2 completions of 3 tokens, on-policy):
//!
//! ```
//! use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
//! use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
//! use spar_losses::aggregation::LossType;
//!
//! let rewards = [1.0, 0.0];
//! let mut adv = [0.0; 2];
//! grpo_advantages(&rewards, 2, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv)?;
//! let logprobs = [-0.5, -1.0, -0.2, -2.0, -0.1, 0.0];
//! let ref_logprobs = [-0.6, -1.0, -0.3, -1.5, -0.2, 0.0];
//! let mask = [true, true, true, true, true, false]; // second completion has 2 tokens
//! let batch = PolicyBatch {
//!     num_sequences: 2, max_len: 3, num_generations: 2,
//!     logprobs: &logprobs, old_logprobs: None, ref_logprobs: Some(&ref_logprobs),
//!     mask: &mask, advantages: Advantages::PerSequence(&adv),
//! };
//! let config = PolicyLossConfig { beta: 0.04, loss_type: LossType::Grpo, ..Default::default() };
//! let mut grad = [0.0; 6];
//! let out = policy_loss(&config, &batch, &mut grad)?;
//! assert!(grad[0] < 0.0 && grad[3] > 0.0); // descent raises the rewarded completion
//! assert_eq!(grad[5], 0.0);               // padding gets nothing
//! assert_eq!(out.diagnostics.num_tokens, 5);
//! # Ok::<(), spar_losses::LossError>(())
//! ```
//!
//! A preference loss on token log-probs, through the sequence reduction and back:
//!
//! ```
//! use spar_losses::dpo::dpo_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! use spar_losses::sequence::{sequence_logprobs, spread_sequence_grad, SeqReduction};
//!
//! // Rows: chosen, rejected (policy), then the same under the reference.
//! let policy = [-1.0, -2.0, -3.0, -1.0];
//! let reference = [-1.5, -2.0, -2.5, -1.0];
//! let mask = [true; 4];
//! let (mut s, mut r) = ([0.0; 2], [0.0; 2]);
//! sequence_logprobs(&policy, &mask, 2, 2, SeqReduction::Sum, &mut s)?;
//! sequence_logprobs(&reference, &mask, 2, 2, SeqReduction::Sum, &mut r)?;
//! let pairs = PairLogprobs { chosen: &s[..1], rejected: &s[1..], ref_chosen: &r[..1], ref_rejected: &r[1..] };
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! let out = dpo_loss(&pairs, 0.1, &mut PairGrads { chosen: &mut gw, rejected: &mut gl })?;
//! let mut token_grad = [0.0; 4];
//! spread_sequence_grad(&[gw[0], gl[0]], &mask, 2, 2, SeqReduction::Sum, &mut token_grad)?;
//! assert!(out.loss < core::f64::consts::LN_2 && token_grad[0] < 0.0 && token_grad[2] > 0.0);
//! # Ok::<(), spar_losses::LossError>(())
//! ```
//!
//! Contrastive losses and evaluation:
//!
//! ```
//! use spar_losses::nce::{info_nce, logistic_nce};
//! use spar_losses::pass_at_k::pass_at_k;
//! let mut g = [0.0; 2];
//! let loss = logistic_nce(&[2.0, -1.0], &[1.0, 0.0], &mut g)?;
//! assert!(loss > 0.0 && g[0] < 0.0 && g[1] > 0.0);
//! let mut gs = [0.0; 4];
//! info_nce(&[3.0, 0.0, 0.0, 3.0], 2, 2, &[0, 1], 1.0, &mut gs)?;
//! assert!((pass_at_k(8, 2, 1)? - 0.25).abs() < 1e-15);
//! # Ok::<(), spar_losses::LossError>(())
//! ```
//!
//! Features: `std` (default) adds `std::error::Error` for [`LossError`]; `threads` splits large
//! policy-loss batches over the available cores; `ndarray` adds the `array` module, the losses
//! over `ndarray` arrays (`(B, T)` log-probs and masks, `(groups, G)` rewards, gradients
//! returned as arrays). Without default features the crate is `no_std` + `alloc`, with or
//! without `ndarray`.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod aggregation;
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod array;
pub mod cdpo;
pub mod clip_cov;
pub mod dapo;
pub mod ditto;
pub mod dno;
pub mod dpo;
pub mod dr_grpo;
pub mod entropy;
mod error;
pub mod grpo;
pub mod gspo;
pub mod hinge;
pub mod ipo;
pub mod kl;
pub mod layout;
pub mod math;
pub mod nce;
pub mod nft;
pub mod osp;
pub mod pass_at_k;
pub mod ppo_clip;
pub mod preference;
pub mod rae;
pub mod reinforce_pp;
pub mod rloo;
pub mod robust_dpo;
pub mod self_certainty;
pub mod self_imitation;
pub mod selm;
pub mod sequence;
pub mod simpo;
pub mod sppo;
pub mod ssr;
pub mod task_relative;
#[cfg(test)]
mod testutil;

pub use error::LossError;
/// The `ndarray` version the [`array`](mod@array) module speaks (feature `ndarray`).
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use ndarray;
