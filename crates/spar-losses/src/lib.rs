//! Advantages, policy-gradient and preference losses with exact gradients for LM
//! reinforcement learning.
//!
//! Every loss takes per-token (or per-sequence) log-probabilities as plain `f64` slices and
//! returns the loss, **its gradient with respect to every policy log-probability**, and
//! diagnostics. No loss knows about the model: the trainer back-propagates the returned
//! per-token weights through the log-prob gather, `dlogits = w·(onehot − softmax)`.
//!
//! ```
//! use spar_losses::nce::logistic_nce;
//! let mut grad = [0.0; 2];
//! let loss = logistic_nce(&[2.0, -1.0], &[1.0, 0.0], &mut grad).unwrap();
//! assert!(loss > 0.0 && grad[0] < 0.0 && grad[1] > 0.0);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod error;
pub mod math;
pub mod nce;
#[cfg(test)]
mod testutil;

pub use error::LossError;
