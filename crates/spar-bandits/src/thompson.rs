//! Beta–Bernoulli Thompson sampling (Thompson 1933; Agrawal & Goyal 2012, "Analysis of
//! Thompson sampling for the multi-armed bandit problem").
//!
//! Each arm has a posterior `Beta(α_a, β_a)`, prior `Beta(1, 1)`. Draw `θ_a ∼ Beta(α_a, β_a)`
//! for every arm and play `argmax_a θ_a`; after reward `x ∈ [0, 1]` update `α_a += x`,
//! `β_a += 1 − x` (fractional rewards are used directly rather than through a Bernoulli draw,
//! which keeps the update deterministic). Beta draws come from [`crate::sampling::beta`].

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::{argmax, beta};
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Thompson sampling with Beta posteriors.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Thompson {
    alpha: Vec<f64>,
    beta: Vec<f64>,
}

impl Thompson {
    /// Thompson sampling over `num_arms` arms with the uniform prior `Beta(1, 1)`.
    pub fn new(num_arms: usize) -> Result<Self, Error> {
        Self::with_prior(num_arms, 1.0, 1.0)
    }

    /// Thompson sampling with prior `Beta(prior_alpha, prior_beta)`, both positive.
    pub fn with_prior(num_arms: usize, prior_alpha: f64, prior_beta: f64) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        check_param("prior_alpha", prior_alpha, 0.0, false, f64::INFINITY, false)?;
        check_param("prior_beta", prior_beta, 0.0, false, f64::INFINITY, false)?;
        Ok(Self {
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
}

impl Bandit for Thompson {
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
        self.alpha[arm] += reward;
        self.beta[arm] += 1.0 - reward;
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_posteriors(&self.alpha, &self.beta)
    }
}

/// One Beta draw per arm, in arm order (so the RNG stream is reproducible), then the argmax.
pub(crate) fn sample_argmax(rng: &mut dyn RngCore, alpha: &[f64], beta_: &[f64]) -> usize {
    argmax(alpha.iter().zip(beta_).map(|(&a, &b)| beta(rng, a, b)))
}

/// Posterior parameters must pair up and be positive and finite.
pub(crate) fn check_posteriors(alpha: &[f64], beta_: &[f64]) -> Result<(), Error> {
    check_len(beta_.len(), alpha.len(), "alpha and beta differ in length")?;
    let bad = alpha
        .iter()
        .chain(beta_)
        .any(|&x| !(x > 0.0 && x.is_finite()));
    if bad {
        return Err(Error::InvalidState("posterior parameters must be positive"));
    }
    Ok(())
}
