//! Learnability prioritisation, after Absolute Zero (Zhao et al. 2025, "Absolute Zero:
//! Reinforced Self-play Reasoning with Zero Data").
//!
//! Absolute Zero rewards its task proposer with the learnability of a task whose solve rate
//! (over the solver's samples) is `p`: `1 − p` if `0 < p < 1`, else `0` — tasks the solver
//! always or never solves teach nothing. As a curriculum, each category keeps a moving
//! average `s_c ← s_c + η (mean learnability of its problems − s_c)` (initially optimistic,
//! so every category gets tried), and slots are drawn with `p_c = (1 − ε) s_c / Σ s + ε / K`.
//!
//! The workspace's one learnability function is `spar_tasks::learnability` (a task rule).
//! The small crates do not depend on each other, so this curriculum spells the same formula
//! out in its update; spar-train's tests hold the two equal.

use crate::curriculum::EmaScores;
use crate::error::check_param;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::vec::Vec;

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

/// Draws categories in proportion to their recent learnability (Absolute Zero's `1 − p` on
/// `(0, 1)`, 0 at the ends).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Learnability {
    config: LearnabilityConfig,
    scores: EmaScores,
}

impl Learnability {
    /// A learnability curriculum over `num_categories` categories.
    pub fn new(num_categories: usize, config: LearnabilityConfig) -> Result<Self, Error> {
        config.check()?;
        Ok(Self {
            config,
            scores: EmaScores::new(num_categories, config.initial_score)?,
        })
    }

    /// The moving-average learnability of each category.
    pub fn scores(&self) -> &[f64] {
        self.scores.as_slice()
    }
}

impl Curriculum for Learnability {
    fn num_categories(&self) -> usize {
        self.scores.as_slice().len()
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.config.check()?;
        self.scores.probabilities(self.config.exploration)
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        self.config.check()?;
        // `spar_tasks::learnability(p.solve_rate)`; `check_batch` has refused rates outside
        // [0, 1] and NaN.
        self.scores.update(batch, self.config.step_size, |p| {
            if p.solve_rate > 0.0 && p.solve_rate < 1.0 {
                1.0 - p.solve_rate
            } else {
                0.0
            }
        })
    }
}
