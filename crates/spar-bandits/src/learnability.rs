//! Learnability prioritisation, after Absolute Zero (Zhao et al. 2025, "Absolute Zero:
//! Reinforced Self-play Reasoning with Zero Data").
//!
//! Absolute Zero rewards its task proposer with the learnability of a task whose solve rate
//! (over the solver's samples) is `p`:
//! `learnability(p) = 1 − p` if `0 < p < 1`, else `0` —
//! tasks the solver always or never solves teach nothing. As a curriculum, each category
//! keeps a moving average `s_c ← s_c + η (mean learnability of its problems − s_c)`
//! (initially optimistic, so every category gets tried), and slots are drawn with
//! `p_c = (1 − ε) s_c / Σ s + ε / K`.

use crate::curriculum::{
    category_means, check_batch, check_scores, ema, proportional_with_exploration,
};
use crate::error::check_param;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::vec;
use alloc::vec::Vec;

/// The learnability of a task solved at rate `solve_rate`: `1 − p` for `0 < p < 1`, else 0.
/// NaN and rates outside `[0, 1]` are an error.
pub fn learnability(solve_rate: f64) -> Result<f64, Error> {
    if !(0.0..=1.0).contains(&solve_rate) {
        return Err(Error::InvalidOutcome("solve rate must lie in [0, 1]"));
    }
    Ok(learnability_unchecked(solve_rate))
}

fn learnability_unchecked(p: f64) -> f64 {
    if p > 0.0 && p < 1.0 {
        1.0 - p
    } else {
        0.0
    }
}

/// Constants of the learnability curriculum.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LearnabilityConfig {
    /// Moving-average step `η ∈ (0, 1]`. Default 0.5.
    pub step_size: f64,
    /// Score of a category never seen, in `[0, 1]`. Default 1 (optimistic).
    pub initial_score: f64,
    /// Uniform exploration mass `ε ∈ [0, 1]`. Default 0.1.
    pub exploration: f64,
}

impl Default for LearnabilityConfig {
    fn default() -> Self {
        Self {
            step_size: 0.5,
            initial_score: 1.0,
            exploration: 0.1,
        }
    }
}

impl LearnabilityConfig {
    fn check(&self) -> Result<(), Error> {
        check_param("step_size", self.step_size, 0.0, false, 1.0, true)?;
        check_param("initial_score", self.initial_score, 0.0, true, 1.0, true)?;
        check_param("exploration", self.exploration, 0.0, true, 1.0, true)
    }
}

/// Draws categories in proportion to their recent learnability.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Learnability {
    config: LearnabilityConfig,
    scores: Vec<f64>,
}

impl Learnability {
    /// A learnability curriculum over `num_categories` categories.
    pub fn new(num_categories: usize, config: LearnabilityConfig) -> Result<Self, Error> {
        if num_categories == 0 {
            return Err(Error::NoArms);
        }
        config.check()?;
        Ok(Self {
            config,
            scores: vec![config.initial_score; num_categories],
        })
    }

    /// The moving-average learnability of each category.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }

    fn validate(&self) -> Result<(), Error> {
        self.config.check()?;
        check_scores(&self.scores)
    }
}

impl Curriculum for Learnability {
    fn num_categories(&self) -> usize {
        self.scores.len()
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.validate()?;
        Ok(proportional_with_exploration(
            &self.scores,
            self.config.exploration,
        ))
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        self.validate()?;
        check_batch(batch, self.num_categories())?;
        let means = category_means(batch, self.num_categories(), |p| {
            learnability_unchecked(p.solve_rate)
        });
        for (s, m) in self.scores.iter_mut().zip(means) {
            if let Some(m) = m {
                ema(s, m, self.config.step_size);
            }
        }
        Ok(())
    }
}
