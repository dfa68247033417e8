//! Discounted Thompson sampling (Raj & Kalyani 2017, "Taming non-stationary bandits: a
//! Bayesian approach").
//!
//! Beta–Bernoulli Thompson sampling whose posteriors relax toward the prior every step, so
//! old evidence fades: for every arm `α_a ← γ α_a + (1 − γ) α₀`, `β_a ← γ β_a + (1 − γ) β₀`,
//! then the played arm adds `α_a += x`, `β_a += 1 − x`. The evidence an observation left
//! (`α_a − α₀`) shrinks by exactly the factor `γ` per step.

use crate::error::{check_arm, check_param, check_reward};
use crate::thompson::{check_posteriors, sample_argmax};
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Thompson sampling with posteriors discounted toward the prior.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscountedThompson {
    gamma: f64,
    prior_alpha: f64,
    prior_beta: f64,
    alpha: Vec<f64>,
    beta: Vec<f64>,
}

impl DiscountedThompson {
    /// Discounted Thompson sampling with discount `gamma ∈ (0, 1]` and prior `Beta(1, 1)`.
    pub fn new(num_arms: usize, gamma: f64) -> Result<Self, Error> {
        Self::with_prior(num_arms, gamma, 1.0, 1.0)
    }

    /// Discounted Thompson sampling with prior `Beta(prior_alpha, prior_beta)`.
    pub fn with_prior(
        num_arms: usize,
        gamma: f64,
        prior_alpha: f64,
        prior_beta: f64,
    ) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        check_param("gamma", gamma, 0.0, false, 1.0, true)?;
        check_param("prior_alpha", prior_alpha, 0.0, false, f64::INFINITY, false)?;
        check_param("prior_beta", prior_beta, 0.0, false, f64::INFINITY, false)?;
        Ok(Self {
            gamma,
            prior_alpha,
            prior_beta,
            alpha: vec![prior_alpha; num_arms],
            beta: vec![prior_beta; num_arms],
        })
    }

    /// Posterior `α_a` of each arm.
    pub fn alpha(&self) -> &[f64] {
        &self.alpha
    }

    /// Posterior `β_a` of each arm.
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// The discount γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

impl Bandit for DiscountedThompson {
    fn num_arms(&self) -> usize {
        self.alpha.len()
    }

    fn select(&self, rng: &mut dyn RngCore) -> Result<usize, Error> {
        self.validate()?;
        Ok(sample_argmax(rng, &self.alpha, &self.beta))
    }

    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error> {
        check_arm(arm, self.num_arms())?;
        check_reward(reward, 0.0, 1.0)?;
        let g = self.gamma;
        let (a0, b0) = (self.prior_alpha, self.prior_beta);
        for (a, b) in self.alpha.iter_mut().zip(self.beta.iter_mut()) {
            *a = g * *a + (1.0 - g) * a0;
            *b = g * *b + (1.0 - g) * b0;
        }
        self.alpha[arm] += reward;
        self.beta[arm] += 1.0 - reward;
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_param("gamma", self.gamma, 0.0, false, 1.0, true)?;
        check_param(
            "prior_alpha",
            self.prior_alpha,
            0.0,
            false,
            f64::INFINITY,
            false,
        )?;
        check_param(
            "prior_beta",
            self.prior_beta,
            0.0,
            false,
            f64::INFINITY,
            false,
        )?;
        check_posteriors(&self.alpha, &self.beta)
    }
}
