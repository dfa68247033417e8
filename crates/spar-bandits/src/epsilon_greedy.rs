//! ε-greedy (Sutton & Barto, *Reinforcement Learning*, §2.2).
//!
//! With probability ε play a uniformly random arm, otherwise the arm with the largest
//! empirical mean `x̄_a` (ties broken uniformly at random). Update:
//! `n_a ← n_a + 1`, `x̄_a ← x̄_a + (x − x̄_a)/n_a`.

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::{argmax_random_tie, uniform, uniform_index};
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// ε-greedy bandit with sample-average value estimates.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EpsilonGreedy {
    epsilon: f64,
    counts: Vec<u64>,
    means: Vec<f64>,
}

impl EpsilonGreedy {
    /// A bandit over `num_arms` arms exploring with probability `epsilon ∈ [0, 1]`.
    pub fn new(num_arms: usize, epsilon: f64) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        check_param("epsilon", epsilon, 0.0, true, 1.0, true)?;
        Ok(Self {
            epsilon,
            counts: vec![0; num_arms],
            means: vec![0.0; num_arms],
        })
    }

    /// The exploration probability ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
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

impl Bandit for EpsilonGreedy {
    fn num_arms(&self) -> usize {
        self.means.len()
    }

    fn select(&self, rng: &mut dyn RngCore) -> Result<usize, Error> {
        self.validate()?;
        if uniform(rng) < self.epsilon {
            Ok(uniform_index(rng, self.num_arms()))
        } else {
            Ok(argmax_random_tie(rng, &self.means))
        }
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
        check_param("epsilon", self.epsilon, 0.0, true, 1.0, true)
    }
}
