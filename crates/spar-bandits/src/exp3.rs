//! EXP3 (Auer, Cesa-Bianchi, Freund & Schapire 2002, "The nonstochastic multiarmed bandit
//! problem").
//!
//! With `γ ∈ (0, 1]` and weights `w_a` (initially 1):
//! `p_a = (1 − γ) w_a / Σ_b w_b + γ/K`; after playing `a` and seeing `x ∈ [0, 1]`, the
//! importance-weighted estimate `x̂ = x / p_a` updates `w_a ← w_a · exp(γ x̂ / K)`.
//! Weights are kept as logarithms with the maximum held at 0, so nothing overflows.
//! Every probability is at least `γ/K`, which is what makes the estimate's variance bounded.

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::categorical;
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// EXP3 adversarial bandit.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Exp3 {
    gamma: f64,
    log_weights: Vec<f64>,
}

impl Exp3 {
    /// EXP3 over `num_arms` arms with exploration rate `gamma ∈ (0, 1]`.
    pub fn new(num_arms: usize, gamma: f64) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        check_param("gamma", gamma, 0.0, false, 1.0, true)?;
        Ok(Self {
            gamma,
            log_weights: vec![0.0; num_arms],
        })
    }

    /// The exploration rate γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// `ln w_a`, shifted so that the largest is 0.
    pub fn log_weights(&self) -> &[f64] {
        &self.log_weights
    }

    /// The sampling distribution `p_a = (1 − γ) w_a / Σ w + γ/K`.
    pub fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.validate()?;
        Ok(self.probabilities_unchecked())
    }

    fn probabilities_unchecked(&self) -> Vec<f64> {
        let k = self.log_weights.len() as f64;
        let max = self
            .log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let mut probs: Vec<f64> = self
            .log_weights
            .iter()
            .map(|&l| libm::exp(l - max))
            .collect();
        let sum: f64 = probs.iter().sum();
        for p in &mut probs {
            *p = (1.0 - self.gamma) * *p / sum + self.gamma / k;
        }
        probs
    }

    fn probability_of(&self, arm: usize) -> f64 {
        let k = self.log_weights.len() as f64;
        let max = self
            .log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = self.log_weights.iter().map(|&l| libm::exp(l - max)).sum();
        (1.0 - self.gamma) * libm::exp(self.log_weights[arm] - max) / sum + self.gamma / k
    }
}

impl Bandit for Exp3 {
    fn num_arms(&self) -> usize {
        self.log_weights.len()
    }

    fn select(&self, rng: &mut dyn RngCore) -> Result<usize, Error> {
        let probs = self.probabilities()?;
        Ok(categorical(rng, &probs))
    }

    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error> {
        check_arm(arm, self.num_arms())?;
        check_reward(reward, 0.0, 1.0)?;
        self.validate()?;
        let k = self.num_arms() as f64;
        let p = self.probability_of(arm);
        let estimate = reward / p;
        self.log_weights[arm] += self.gamma * estimate / k;
        let shift = self.log_weights[arm];
        if shift > 0.0 {
            for l in &mut self.log_weights {
                *l -= shift;
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_len(self.log_weights.len(), self.log_weights.len(), "no arms")?;
        check_param("gamma", self.gamma, 0.0, false, 1.0, true)?;
        if self.log_weights.iter().any(|l| l.is_nan() || *l > 0.0)
            || !self.log_weights.contains(&0.0)
        {
            return Err(Error::InvalidState(
                "log weights must be ≤ 0 with maximum 0",
            ));
        }
        Ok(())
    }
}
