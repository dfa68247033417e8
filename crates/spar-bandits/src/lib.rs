//! Bandit algorithms and self-evolving curricula for choosing what a model practises next.
//!
//! A curriculum decides which kind of problem the next training batch draws from. This crate
//! offers the bandits that such decisions are built on and the curricula of the
//! self-improvement literature, all over plain `usize` arms (categories), all seeded by a
//! caller-supplied [`rand_core::RngCore`], all `no_std` + `alloc`:
//!
//! - [`Bandit`]s: [`EpsilonGreedy`], [`Boltzmann`], [`Ucb1`], [`DiscountedUcb`],
//!   [`SlidingWindowUcb`], [`Exp3`], [`Thompson`] and [`DiscountedThompson`];
//! - [`Curriculum`]s: [`Sec`] (Self-Evolving Curriculum: TD(0) on the mean absolute
//!   advantage, Boltzmann sampling), [`Learnability`] (Absolute Zero's `1 − p`),
//!   [`SuccessBand`] (WebRL's success band), [`RegretPrioritization`] (eva's reward spread),
//!   [`WeaknessTracker`] (SwS's consistently failed categories) and the [`Uniform`] baseline;
//! - [`sim`]: Bernoulli bandit problems (stationary, abrupt change, slow drift) and a simulated
//!   student to measure them.
//!
//! Every bandit and curriculum is plain data; with the `serde` feature (on with `std`) its
//! whole state serialises, and a restored state continues exactly like the original.
//! Bad input (no arms, NaN or out-of-range rewards, a temperature ≤ 0, ...) returns an
//! [`Error`].
//!
//! # A curriculum in a training loop
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//! use spar_bandits::{Curriculum, ProblemOutcome, Sec, SecConfig};
//!
//! # fn main() -> Result<(), spar_bandits::Error> {
//! let mut rng = ChaCha8Rng::seed_from_u64(0);
//! // Four difficulty levels; the model solves them at these rates (unknown to SEC).
//! let solve_rates = [0.95, 0.6, 0.3, 0.0];
//! let mut curriculum = Sec::new(4, SecConfig { alpha: 0.5, temperature: 0.2 })?;
//! for _step in 0..50 {
//!     // 1. The curriculum picks the category of each problem in the batch.
//!     let categories = curriculum.select_batch(&mut rng, 16)?;
//!     // 2. The trainer samples G completions per problem, scores them and computes
//!     //    advantages (here: the expected GRPO advantages of a group of 8 with that rate).
//!     let groups: Vec<(f64, Vec<f64>, Vec<f64>)> = categories
//!         .iter()
//!         .map(|&c| {
//!             let p = solve_rates[c];
//!             let solved = (p * 8.0f64).round() as usize;
//!             let rewards: Vec<f64> = (0..8).map(|i| if i < solved { 1.0 } else { 0.0 }).collect();
//!             let advantages = spar_bandits::sim::grpo_advantages(&rewards);
//!             (solved as f64 / 8.0, rewards, advantages)
//!         })
//!         .collect();
//!     // 3. After the policy update, the curriculum learns from the batch.
//!     let outcomes: Vec<ProblemOutcome> = categories
//!         .iter()
//!         .zip(&groups)
//!         .map(|(&category, (solve_rate, rewards, advantages))| ProblemOutcome {
//!             category,
//!             solve_rate: *solve_rate,
//!             rewards,
//!             advantages,
//!         })
//!         .collect();
//!     curriculum.update(&outcomes)?;
//! }
//! // SEC now favours the levels solved about half the time.
//! let p = curriculum.probabilities()?;
//! assert!(p[1] > p[0] && p[2] > p[0] && p[2] > p[3]);
//! # Ok(())
//! # }
//! ```
//!
//! # A bandit
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//! use spar_bandits::{Bandit, Ucb1};
//!
//! let mut rng = ChaCha8Rng::seed_from_u64(7);
//! let mut ucb = Ucb1::new(3).unwrap();
//! let arm = ucb.select(&mut rng).unwrap();
//! ucb.update(arm, 1.0).unwrap();
//! assert!(ucb.update(arm, f64::NAN).is_err());
//! ```
//!
//! Features: `std` (default) adds `std::error::Error` and `serde`; `serde` alone works without
//! std; `ndarray` adds the `array` module: a batch's GRPO groups as `(N, G)` reward and
//! advantage arrays for a curriculum's update, pulls and rewards as arrays for a bandit's.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod array;
mod bandit;
mod boltzmann;
mod curriculum;
mod discounted_thompson;
mod discounted_ucb;
mod epsilon_greedy;
mod error;
mod exp3;
mod learnability;
mod regret;
pub mod sampling;
mod sec;
pub mod sim;
mod sliding_window_ucb;
mod success_band;
mod thompson;
mod ucb1;
mod uniform;
mod weakness;

pub use bandit::Bandit;
pub use boltzmann::Boltzmann;
pub use curriculum::{Curriculum, ProblemOutcome};
pub use discounted_thompson::DiscountedThompson;
pub use discounted_ucb::{DiscountedUcb, DiscountedUcbConfig};
pub use epsilon_greedy::EpsilonGreedy;
pub use error::Error;
pub use exp3::Exp3;
pub use learnability::{Learnability, LearnabilityConfig};
/// The `ndarray` version the [`array`](mod@array) module speaks (feature `ndarray`).
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use ndarray;
pub use regret::{informativeness, regret, RegretConfig, RegretKind, RegretPrioritization};
pub use sec::{Sec, SecConfig};
pub use sliding_window_ucb::{SlidingWindowUcb, SlidingWindowUcbConfig};
pub use success_band::{filter_in_band, in_band, SuccessBand, SuccessBandConfig};
pub use thompson::Thompson;
pub use ucb1::Ucb1;
pub use uniform::Uniform;
pub use weakness::{WeaknessConfig, WeaknessTracker};
