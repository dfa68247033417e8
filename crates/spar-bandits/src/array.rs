//! Curricula and bandits fed with [`ndarray`] arrays (feature `ndarray`): a batch's GRPO
//! groups as `(N, G)` rewards and advantages (the shape spar-losses' array API uses), one
//! row per problem, and the curriculum's distribution as an `(arms,)` array.
//!
//! Each function builds the slice API's arguments from the arrays and calls it, so a
//! curriculum or bandit ends in exactly the state the slice API leaves; arrays whose shapes
//! disagree are an [`Error::InvalidOutcome`] naming the argument.
//!
//! ```
//! use ndarray::array;
//! use spar_bandits::array::{probabilities, update_from_groups};
//! use spar_bandits::{Sec, SecConfig};
//!
//! let mut sec = Sec::new(3, SecConfig { alpha: 0.5, temperature: 0.2 })?;
//! // Two problems of categories 0 and 2, G = 4 rollouts each.
//! let rewards = array![[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0]];
//! let advantages = array![[0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, -1.0]];
//! update_from_groups(&mut sec, &[0, 2], rewards.view(), advantages.view())?;
//! let p = probabilities(&sec)?;
//! assert!(p[2] > p[0]); // the informative category gains weight
//! # Ok::<(), spar_bandits::Error>(())
//! ```

use crate::{Bandit, Curriculum, Error, ProblemOutcome};
use alloc::vec::Vec;
use ndarray::{Array1, ArrayView1, ArrayView2};

/// The curriculum's distribution over categories ([`Curriculum::probabilities`]) as `(arms,)`.
pub fn probabilities<C: Curriculum + ?Sized>(curriculum: &C) -> Result<Array1<f64>, Error> {
    Ok(Array1::from_vec(curriculum.probabilities()?))
}

/// [`Curriculum::update`] from a batch of GRPO groups: problem `i` has category
/// `categories[i]`, rollout rewards `rewards.row(i)` and advantages `advantages.row(i)`
/// (both `(N, G)`), and solve rate the fraction of its rewards above 0.5 (binary verifier
/// rewards: the fraction solved).
pub fn update_from_groups<C: Curriculum + ?Sized>(
    curriculum: &mut C,
    categories: &[usize],
    rewards: ArrayView2<'_, f64>,
    advantages: ArrayView2<'_, f64>,
) -> Result<(), Error> {
    if rewards.nrows() != categories.len() {
        return Err(Error::InvalidOutcome(
            "rewards: one row per category is required",
        ));
    }
    if advantages.dim() != rewards.dim() {
        return Err(Error::InvalidOutcome(
            "advantages: the shape of rewards is required",
        ));
    }
    let rows: Vec<(Vec<f64>, Vec<f64>)> = rewards
        .rows()
        .into_iter()
        .zip(advantages.rows())
        .map(|(r, a)| (r.to_vec(), a.to_vec()))
        .collect();
    let outcomes: Vec<ProblemOutcome<'_>> = categories
        .iter()
        .zip(&rows)
        .map(|(&category, (r, a))| ProblemOutcome {
            category,
            solve_rate: solve_rate(r),
            rewards: r,
            advantages: a,
        })
        .collect();
    curriculum.update(&outcomes)
}

/// Fraction of rewards above 0.5; 0 for an empty group.
fn solve_rate(rewards: &[f64]) -> f64 {
    if rewards.is_empty() {
        return 0.0;
    }
    rewards.iter().filter(|&&r| r > 0.5).count() as f64 / rewards.len() as f64
}

/// [`Bandit::update`] for each pulled arm and its reward, in order (`arms` and `rewards` of
/// the same length). Stops at the first refused reward, leaving the earlier updates done.
pub fn update_pulls<B: Bandit + ?Sized>(
    bandit: &mut B,
    arms: &[usize],
    rewards: ArrayView1<'_, f64>,
) -> Result<(), Error> {
    if rewards.len() != arms.len() {
        return Err(Error::InvalidOutcome(
            "rewards: one per pulled arm is required",
        ));
    }
    for (&arm, &reward) in arms.iter().zip(rewards.iter()) {
        bandit.update(arm, reward)?;
    }
    Ok(())
}
