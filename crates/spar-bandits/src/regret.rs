//! Regret prioritisation, after eva (Ye et al. 2024, "Evolving Alignment via Asymmetric
//! Self-Play").
//!
//! eva scores a prompt by how much its sampled responses disagree in reward, a proxy for
//! the regret of the current policy on it: `info(x) = max_y r(x, y) − min_y r(x, y)`
//! (alternatives the paper mentions: `max − mean`, and the reward standard deviation).
//! It is 0 when every response ties. As a curriculum, each category keeps a moving average
//! of its problems' scores, `s_c ← s_c + η (mean info − s_c)` (initially optimistic), and
//! slots are drawn with `p_c = (1 − ε) s_c / Σ s + ε / K`.

use crate::curriculum::EmaScores;
use crate::error::check_param;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::vec::Vec;

/// Which spread of a group's rewards measures its informativeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RegretKind {
    /// `max r − min r` (eva's default).
    #[default]
    MaxMin,
    /// `max r − mean r`.
    MaxMean,
    /// Population standard deviation of the rewards.
    Std,
}

/// `max − min` of a group's rewards. Errors on an empty group or a non-finite reward.
pub fn regret(rewards: &[f64]) -> Result<f64, Error> {
    informativeness(rewards, RegretKind::MaxMin)
}

/// The informativeness of a group's rewards under `kind`. Always `≥ 0`; 0 when all tie.
pub fn informativeness(rewards: &[f64], kind: RegretKind) -> Result<f64, Error> {
    if rewards.is_empty() {
        return Err(Error::EmptyGroup);
    }
    if let Some(&r) = rewards.iter().find(|r| !r.is_finite()) {
        return Err(Error::NonFiniteReward(r));
    }
    Ok(informativeness_unchecked(rewards, kind))
}

fn informativeness_unchecked(rewards: &[f64], kind: RegretKind) -> f64 {
    let max = rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = rewards.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = rewards.iter().sum::<f64>() / rewards.len() as f64;
    match kind {
        RegretKind::MaxMin => max - min,
        // Rounding in the mean could make this a hair negative when all rewards tie.
        RegretKind::MaxMean => (max - mean).max(0.0),
        RegretKind::Std => {
            let var =
                rewards.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / rewards.len() as f64;
            libm::sqrt(var)
        }
    }
}

/// Constants of the regret curriculum.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RegretConfig {
    /// Which spread to use. Default `MaxMin`.
    pub kind: RegretKind,
    /// Moving-average step `η ∈ (0, 1]`. Default 0.5.
    pub step_size: f64,
    /// Score of a category never seen, `≥ 0`. Default 1 (optimistic for rewards in `[0, 1]`).
    pub initial_score: f64,
    /// Uniform exploration mass `ε ∈ [0, 1]`. Default 0.1.
    pub exploration: f64,
}

impl Default for RegretConfig {
    fn default() -> Self {
        Self {
            kind: RegretKind::MaxMin,
            step_size: 0.5,
            initial_score: 1.0,
            exploration: 0.1,
        }
    }
}

impl RegretConfig {
    fn check(&self) -> Result<(), Error> {
        check_param("step_size", self.step_size, 0.0, false, 1.0, true)?;
        check_param(
            "initial_score",
            self.initial_score,
            0.0,
            true,
            f64::INFINITY,
            false,
        )?;
        check_param("exploration", self.exploration, 0.0, true, 1.0, true)
    }
}

/// Draws categories in proportion to the recent spread of their rewards.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RegretPrioritization {
    config: RegretConfig,
    scores: EmaScores,
}

impl RegretPrioritization {
    /// A regret curriculum over `num_categories` categories.
    pub fn new(num_categories: usize, config: RegretConfig) -> Result<Self, Error> {
        config.check()?;
        Ok(Self {
            config,
            scores: EmaScores::new(num_categories, config.initial_score)?,
        })
    }

    /// The moving-average informativeness of each category.
    pub fn scores(&self) -> &[f64] {
        self.scores.as_slice()
    }
}

impl Curriculum for RegretPrioritization {
    fn num_categories(&self) -> usize {
        self.scores.as_slice().len()
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.config.check()?;
        self.scores.probabilities(self.config.exploration)
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        self.config.check()?;
        if batch.iter().any(|p| p.rewards.is_empty()) {
            return Err(Error::InvalidOutcome("regret needs each problem's rewards"));
        }
        let kind = self.config.kind;
        self.scores.update(batch, self.config.step_size, |p| {
            informativeness_unchecked(p.rewards, kind)
        })
    }
}
