//! The [`Curriculum`] trait: which problem categories the next batch draws from.

use crate::sampling::categorical;
use crate::Error;
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// What one problem of a finished batch taught: its category, the group's solve rate, the
/// group's rewards and the advantages the policy-gradient step used (one per rollout).
///
/// `rewards` and `advantages` may have different lengths only if the caller has a reason
/// (a curriculum reads the one it needs); each must be finite, and `solve_rate` in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProblemOutcome<'a> {
    /// The problem's category (arm), `< num_categories`.
    pub category: usize,
    /// Fraction of the group's rollouts that solved the problem, in `[0, 1]`.
    pub solve_rate: f64,
    /// The reward of each rollout of the group.
    pub rewards: &'a [f64],
    /// The advantage of each rollout (e.g. GRPO's `Â_i`).
    pub advantages: &'a [f64],
}

/// A curriculum over categories `0..num_categories()`.
///
/// Every curriculum is a distribution over categories computed from its statistics
/// ([`Curriculum::probabilities`]); a batch's slots are drawn from it independently. After
/// the training step the batch's [`ProblemOutcome`]s update the statistics. Selection never
/// changes the state, so a state saved between steps (serde, with the `serde` feature)
/// resumes exactly with the same random generator.
pub trait Curriculum: core::fmt::Debug {
    /// Number of categories.
    fn num_categories(&self) -> usize;

    /// The probability with which each category fills the next slot (sums to 1).
    fn probabilities(&self) -> Result<Vec<f64>, Error>;

    /// Draws the categories of a batch of `batch_size` problems.
    fn select_batch(&self, rng: &mut dyn RngCore, batch_size: usize) -> Result<Vec<usize>, Error> {
        let probs = self.probabilities()?;
        Ok((0..batch_size).map(|_| categorical(rng, &probs)).collect())
    }

    /// Learns from the outcome of a batch. An empty batch is a no-op; a malformed outcome is
    /// refused before any statistic changes.
    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error>;
}

/// Checks every outcome of a batch: category in range, solve rate in `[0, 1]`, finite values.
pub(crate) fn check_batch(
    batch: &[ProblemOutcome<'_>],
    num_categories: usize,
) -> Result<(), Error> {
    for p in batch {
        crate::error::check_arm(p.category, num_categories)?;
        if !(0.0..=1.0).contains(&p.solve_rate) {
            return Err(Error::InvalidOutcome("solve rate must lie in [0, 1]"));
        }
        if p.rewards.iter().any(|r| !r.is_finite()) {
            return Err(Error::InvalidOutcome("rewards must be finite"));
        }
        if p.advantages.iter().any(|a| !a.is_finite()) {
            return Err(Error::InvalidOutcome("advantages must be finite"));
        }
    }
    Ok(())
}

/// Mean of `score(problem)` over each category's problems in the batch (`None` where the
/// category is absent).
pub(crate) fn category_means(
    batch: &[ProblemOutcome<'_>],
    num_categories: usize,
    mut score: impl FnMut(&ProblemOutcome<'_>) -> f64,
) -> Vec<Option<f64>> {
    let mut sums = vec![0.0; num_categories];
    let mut counts = vec![0usize; num_categories];
    for p in batch {
        sums[p.category] += score(p);
        counts[p.category] += 1;
    }
    sums.into_iter()
        .zip(counts)
        .map(|(s, n)| (n > 0).then(|| s / n as f64))
        .collect()
}

/// Probabilities proportional to non-negative `scores`, mixed with the uniform distribution:
/// `p_c = (1 − ε) s_c / Σ s + ε / K`; uniform when every score is 0.
pub(crate) fn proportional_with_exploration(scores: &[f64], exploration: f64) -> Vec<f64> {
    let k = scores.len() as f64;
    let total: f64 = scores.iter().sum();
    if total > 0.0 {
        scores
            .iter()
            .map(|&s| (1.0 - exploration) * s / total + exploration / k)
            .collect()
    } else {
        vec![1.0 / k; scores.len()]
    }
}

/// Per-category scores must be as many as categories, finite and non-negative.
pub(crate) fn check_scores(scores: &[f64]) -> Result<(), Error> {
    if scores.is_empty() {
        return Err(Error::NoArms);
    }
    if scores.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(Error::InvalidState(
            "scores must be finite and non-negative",
        ));
    }
    Ok(())
}

/// Exponential moving average step: `s ← s + η (x − s)`.
pub(crate) fn ema(score: &mut f64, target: f64, step_size: f64) {
    *score += step_size * (target - *score);
}

/// Per-category moving-average scores drawn in proportion to their values with uniform
/// exploration — the state shared by the score-proportional curricula (learnability,
/// regret): `s_c ← s_c + η (mean score of c's problems in the batch − s_c)`, categories
/// absent from a batch keep their score, and `p_c = (1 − ε) s_c / Σ s + ε / K`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub(crate) struct EmaScores(Vec<f64>);

impl EmaScores {
    /// `num_categories` scores, all `initial`. No categories is an error.
    pub(crate) fn new(num_categories: usize, initial: f64) -> Result<Self, Error> {
        if num_categories == 0 {
            return Err(Error::NoArms);
        }
        Ok(Self(vec![initial; num_categories]))
    }

    /// The scores, one per category.
    pub(crate) fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// Sampling probabilities with exploration mass `exploration`; refuses corrupted scores.
    pub(crate) fn probabilities(&self, exploration: f64) -> Result<Vec<f64>, Error> {
        check_scores(&self.0)?;
        Ok(proportional_with_exploration(&self.0, exploration))
    }

    /// Checks the batch, then moves each present category's score towards the mean of
    /// `score` over its problems with step `step_size`.
    pub(crate) fn update(
        &mut self,
        batch: &[ProblemOutcome<'_>],
        step_size: f64,
        score: impl FnMut(&ProblemOutcome<'_>) -> f64,
    ) -> Result<(), Error> {
        check_scores(&self.0)?;
        check_batch(batch, self.0.len())?;
        let means = category_means(batch, self.0.len(), score);
        for (s, m) in self.0.iter_mut().zip(means) {
            if let Some(m) = m {
                ema(s, m, step_size);
            }
        }
        Ok(())
    }
}
