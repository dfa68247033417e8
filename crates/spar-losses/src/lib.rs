//! Advantages, policy-gradient and preference losses with exact gradients for LM
//! reinforcement learning.
//!
//! Every loss takes per-token (or per-sequence) log-probabilities as plain `f64` slices and
//! returns the loss, **its gradient with respect to every policy log-probability**, and
//! diagnostics. No loss knows about the model: the trainer back-propagates the returned
//! per-token weights through the log-prob gather, `dlogits = w·(onehot − softmax)`.
//! Per-token data use one layout everywhere, described in [`layout`].
//!
//! ```
//! use spar_losses::nce::logistic_nce;
//! let mut grad = [0.0; 2];
//! let loss = logistic_nce(&[2.0, -1.0], &[1.0, 0.0], &mut grad).unwrap();
//! assert!(loss > 0.0 && grad[0] < 0.0 && grad[1] > 0.0);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod aggregation;
pub mod cdpo;
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
