//! Contrastive UCB: contrastive features and optimistic planning for low-rank MDPs and Markov
//! games, after Qiu, Wang, Bai, Yang and Wang, "Contrastive UCB: Provably Efficient
//! Contrastive Self-Supervised Learning in Online Reinforcement Learning" (ICML 2022).
//!
//! A low-rank transition `P_h(s'|s,a) = φ*(s,a)ᵀμ*(s')` is learned as the density ratio
//! `φ(s,a)ᵀψ(s') ≈ P_h(s'|s,a)/P⁻(s')` with a logistic contrastive loss on real next states
//! against draws from a known `P⁻` ([`contrastive`]); the learned `φ` feeds LSVI-UCB with the
//! elliptical bonus `β·sqrt(φᵀΛ⁻¹φ)` ([`gram`], [`contrastive_ucb`]). For two-player zero-sum
//! Markov games the planner keeps upper and lower values and solves a coarse correlated
//! equilibrium of every stage game with a dense simplex method ([`ulcb_game`],
//! [`matrix_game`], [`simplex`]). The environments ([`env`](mod@env)) know their truth — a random
//! low-rank MDP, the combination lock (a block MDP with noisy rich observations) and a random
//! low-rank Markov game — so the claims can be checked.
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use spar_cucb::contrastive_ucb::{AgentConfig, ContrastiveUcb, FeatureSource};
//! use spar_cucb::env::CombinationLock;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! // A 3-level lock with 2 actions and 2 distractor coordinates.
//! let env = CombinationLock::new(3, 2, 2, 0.1, &mut rng).unwrap();
//! let config = AgentConfig { features: FeatureSource::True, lambda: 0.1, beta: 0.1, ..AgentConfig::default() };
//! let mut agent = ContrastiveUcb::new(&env, config, &mut rng).unwrap();
//! for _ in 0..40 {
//!     agent.run_episode(&env, &mut rng).unwrap();
//! }
//! agent.plan(&env).unwrap();
//! assert!(agent.evaluate(&env, 20, &mut rng).unwrap() > 0.9);
//!
//! // The stage-game solver: matching pennies has value 0.
//! let s = spar_cucb::matrix_game::solve_zero_sum(&[1.0, -1.0, -1.0, 1.0], 2, 2).unwrap();
//! assert!(s.value.abs() < 1e-9);
//! ```
//!
//! Features: `std` (default) adds `std::error::Error` for [`CucbError`]; `ndarray` adds the
//! `array` module: `Λ` and `Λ⁻¹` as `(d, d)` views, batches of features `(N, d)` added and
//! scored at once, the ridge solve, and the learned features of a batch of observations as
//! arrays. Without default features the crate is `no_std` + `alloc`, with or without `ndarray`.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod adam;
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod array;
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
/// The `ndarray` version the [`array`](mod@array) module speaks (feature `ndarray`).
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use ndarray;
