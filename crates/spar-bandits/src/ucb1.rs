//! UCB1 (Auer, Cesa-Bianchi & Fischer 2002, "Finite-time analysis of the multiarmed bandit
//! problem").
//!
//! Play every arm once, then `a_t = argmax_a x̄_a + c·√(2 ln t / n_a)` with `t` the total
//! number of plays and `c = 1` in the paper. Regret after `T` plays is at most
//! `Σ_{Δ_a>0} 8 ln T / Δ_a + (1 + π²/3) Σ_a Δ_a` (Theorem 1) for rewards in `[0, 1]`.

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::argmax;
use crate::{Bandit, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// UCB1 with exploration constant `c` (1 in the paper).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ucb1 {
    c: f64,
    counts: Vec<u64>,
    means: Vec<f64>,
    total: u64,
}

impl Ucb1 {
    /// UCB1 over `num_arms` arms with the paper's constant `c = 1`.
    pub fn new(num_arms: usize) -> Result<Self, Error> {
        Self::with_c(num_arms, 1.0)
    }

    /// UCB1 with exploration constant `c ≥ 0`.
    pub fn with_c(num_arms: usize, c: f64) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        check_param("c", c, 0.0, true, f64::INFINITY, false)?;
        Ok(Self {
            c,
            counts: vec![0; num_arms],
            means: vec![0.0; num_arms],
            total: 0,
        })
    }

    /// The upper confidence index of `arm`; `+∞` for an arm never played.
    pub fn index(&self, arm: usize) -> Result<f64, Error> {
        check_arm(arm, self.num_arms())?;
        Ok(self.index_unchecked(arm))
    }

    fn index_unchecked(&self, arm: usize) -> f64 {
        self.index_with(arm, self.two_log_t())
    }

    /// `2 ln t`, computed once per selection rather than once per arm.
    fn two_log_t(&self) -> f64 {
        2.0 * libm::log(self.total.max(1) as f64)
    }

    fn index_with(&self, arm: usize, two_log_t: f64) -> f64 {
        let n = self.counts[arm];
        if n == 0 {
            return f64::INFINITY;
        }
        self.means[arm] + self.c * libm::sqrt(two_log_t / n as f64)
    }

    /// Plays of each arm.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Empirical mean reward of each arm.
    pub fn means(&self) -> &[f64] {
        &self.means
    }
}

impl Bandit for Ucb1 {
    fn num_arms(&self) -> usize {
        self.means.len()
    }

    fn select(&self, _rng: &mut dyn RngCore) -> Result<usize, Error> {
        self.validate()?;
        let two_log_t = self.two_log_t();
        Ok(argmax(
            (0..self.num_arms()).map(|a| self.index_with(a, two_log_t)),
        ))
    }

    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error> {
        check_arm(arm, self.num_arms())?;
        check_reward(reward, 0.0, 1.0)?;
        self.counts[arm] += 1;
        self.total += 1;
        self.means[arm] += (reward - self.means[arm]) / self.counts[arm] as f64;
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_len(
            self.counts.len(),
            self.means.len(),
            "counts and means differ in length",
        )?;
        check_param("c", self.c, 0.0, true, f64::INFINITY, false)?;
        if self.counts.iter().sum::<u64>() != self.total {
            return Err(Error::InvalidState("total differs from the sum of counts"));
        }
        Ok(())
    }
}
