//! Contrastive UCB: contrastive features and optimistic planning for low-rank MDPs and Markov
//! games (Qiu, Wang, Bai, Yang, Wang, "Contrastive UCB: Provably Efficient Contrastive
//! Self-Supervised Learning in Online Reinforcement Learning", ICML 2022).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod adam;
pub mod cholesky;
pub mod contrastive;
pub mod contrastive_ucb;
pub mod encoder;
pub mod env;
mod error;
pub mod gram;
pub mod matrix_game;
pub mod sampling;
pub mod simplex;
pub mod ulcb_game;

pub use error::CucbError;
