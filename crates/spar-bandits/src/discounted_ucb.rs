//! Discounted UCB (Garivier & Moulines 2011, "On upper-confidence bound policies for
//! switching bandit problems").
//!
//! Every step all statistics decay by the discount `γ ∈ (0, 1)`:
//! `N_a ← γ N_a + 1[a_t = a]`, `S_a ← γ S_a + x_t 1[a_t = a]`. With `x̄_a = S_a / N_a` and
//! `n = Σ_a N_a`, play `argmax_a x̄_a + 2B·√(ξ ln n / N_a)` (an arm with `N_a = 0` has index
//! `+∞`). `B` bounds the rewards (rewards must lie in `[0, B]`); the paper takes `ξ = 0.6`
//! (recalled, not checked against the text). A reward observed `k` steps ago weighs `γᵏ`,
//! so the effective memory is about `1/(1 − γ)` steps. For a horizon `T` with `Υ` change
//! points the paper tunes `γ = 1 − ¼√(Υ/T)` (for `B = 1`); with many arms a small `γ` leaves
//! too little discounted mass for the bonus to shrink, and the policy explores nearly
//! uniformly.

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::argmax;
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Constants of discounted UCB.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscountedUcbConfig {
    /// Discount per step, `γ ∈ (0, 1)`. Default 0.99 (memory ≈ 100 steps).
    pub gamma: f64,
    /// Exploration constant `ξ > 0` (the analysis needs `ξ > 1/2`). Default 0.6.
    pub xi: f64,
    /// Upper bound `B > 0` on rewards. Default 1.
    pub bound: f64,
}

impl Default for DiscountedUcbConfig {
    fn default() -> Self {
        Self {
            gamma: 0.99,
            xi: 0.6,
            bound: 1.0,
        }
    }
}

impl DiscountedUcbConfig {
    fn check(&self) -> Result<(), Error> {
        check_param("gamma", self.gamma, 0.0, false, 1.0, false)?;
        check_param("xi", self.xi, 0.0, false, f64::INFINITY, false)?;
        check_param("bound", self.bound, 0.0, false, f64::INFINITY, false)
    }
}

/// Discounted UCB bandit.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscountedUcb {
    config: DiscountedUcbConfig,
    discounted_counts: Vec<f64>,
    discounted_sums: Vec<f64>,
}

impl DiscountedUcb {
    /// A discounted UCB bandit over `num_arms` arms.
    pub fn new(num_arms: usize, config: DiscountedUcbConfig) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        config.check()?;
        Ok(Self {
            config,
            discounted_counts: vec![0.0; num_arms],
            discounted_sums: vec![0.0; num_arms],
        })
    }

    /// The discounted play counts `N_a`.
    pub fn discounted_counts(&self) -> &[f64] {
        &self.discounted_counts
    }

    /// The discounted reward sums `S_a`.
    pub fn discounted_sums(&self) -> &[f64] {
        &self.discounted_sums
    }

    /// The configuration.
    pub fn config(&self) -> &DiscountedUcbConfig {
        &self.config
    }

    fn index(&self, arm: usize, log_n: f64) -> f64 {
        let n_a = self.discounted_counts[arm];
        if n_a <= 0.0 {
            return f64::INFINITY;
        }
        let mean = self.discounted_sums[arm] / n_a;
        mean + 2.0 * self.config.bound * libm::sqrt(self.config.xi * log_n / n_a)
    }
}

impl Bandit for DiscountedUcb {
    fn num_arms(&self) -> usize {
        self.discounted_counts.len()
    }

    fn select(&self, _rng: &mut dyn RngCore) -> Result<usize, Error> {
        self.validate()?;
        let n: f64 = self.discounted_counts.iter().sum();
        // n can drop below 1 early on; a negative log would make the bonus imaginary.
        let log_n = libm::log(n.max(1.0));
        Ok(argmax((0..self.num_arms()).map(|a| self.index(a, log_n))))
    }

    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error> {
        check_arm(arm, self.num_arms())?;
        check_reward(reward, 0.0, self.config.bound)?;
        let gamma = self.config.gamma;
        for (n, s) in self
            .discounted_counts
            .iter_mut()
            .zip(self.discounted_sums.iter_mut())
        {
            *n *= gamma;
            *s *= gamma;
        }
        self.discounted_counts[arm] += 1.0;
        self.discounted_sums[arm] += reward;
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_len(
            self.discounted_sums.len(),
            self.discounted_counts.len(),
            "counts and sums differ in length",
        )?;
        self.config.check()?;
        let bad = self
            .discounted_counts
            .iter()
            .zip(&self.discounted_sums)
            .any(|(&n, &s)| !(n >= 0.0 && n.is_finite() && s >= 0.0 && s.is_finite()));
        if bad {
            return Err(Error::InvalidState("negative or non-finite statistic"));
        }
        Ok(())
    }
}
