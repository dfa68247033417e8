//! Boltzmann (softmax) exploration (Sutton & Barto, *Reinforcement Learning*, §2.8; the
//! sampling rule SEC uses).
//!
//! `p_a = exp(x̄_a/τ) / Σ_b exp(x̄_b/τ)` with temperature `τ > 0`, computed with the maximum
//! subtracted; `x̄_a` is the sample-average reward of arm `a`.

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::{categorical, softmax};
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Softmax bandit with sample-average value estimates.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Boltzmann {
    temperature: f64,
    counts: Vec<u64>,
    means: Vec<f64>,
}

impl Boltzmann {
    /// A bandit over `num_arms` arms sampling with temperature `temperature > 0`.
    pub fn new(num_arms: usize, temperature: f64) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        check_param("temperature", temperature, 0.0, false, f64::INFINITY, false)?;
        Ok(Self {
            temperature,
            counts: vec![0; num_arms],
            means: vec![0.0; num_arms],
        })
    }

    /// The sampling probability of each arm.
    pub fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.validate()?;
        Ok(softmax(&self.means, self.temperature))
    }

    /// Plays of each arm.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Empirical mean reward of each arm (0 for unplayed arms).
    pub fn means(&self) -> &[f64] {
        &self.means
    }
}

impl Bandit for Boltzmann {
    fn num_arms(&self) -> usize {
        self.means.len()
    }

    fn select(&self, rng: &mut dyn RngCore) -> Result<usize, Error> {
        let probs = self.probabilities()?;
        Ok(categorical(rng, &probs))
    }

    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error> {
        check_arm(arm, self.num_arms())?;
        check_reward(reward, 0.0, 1.0)?;
        self.counts[arm] += 1;
        self.means[arm] += (reward - self.means[arm]) / self.counts[arm] as f64;
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_len(
            self.counts.len(),
            self.means.len(),
            "counts and means differ in length",
        )?;
        check_param(
            "temperature",
            self.temperature,
            0.0,
            false,
            f64::INFINITY,
            false,
        )
    }
}
