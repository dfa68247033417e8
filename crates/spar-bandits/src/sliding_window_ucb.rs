//! Sliding-window UCB (Garivier & Moulines 2011, "On upper-confidence bound policies for
//! switching bandit problems").
//!
//! Only the last `W` plays count: `N_a` and `x̄_a` are the play count and mean reward of arm
//! `a` within the window, and the index is `x̄_a + B·√(ξ ln min(t, W) / N_a)` with `t` the
//! number of plays so far; an arm absent from the window has index `+∞`. Rewards lie in
//! `[0, B]`; the paper takes `ξ = 0.6` (recalled) and, for a horizon `T` with `Υ` change
//! points, `W = 2B√(T ln T / Υ)`.

use crate::bandit::check_len;
use crate::error::{check_arm, check_param, check_reward};
use crate::sampling::argmax;
use crate::{Bandit, Error};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Constants of sliding-window UCB.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SlidingWindowUcbConfig {
    /// Window length `W ≥ 1` in plays. Default 100.
    pub window: usize,
    /// Exploration constant `ξ > 0`. Default 0.6.
    pub xi: f64,
    /// Upper bound `B > 0` on rewards. Default 1.
    pub bound: f64,
}

impl Default for SlidingWindowUcbConfig {
    fn default() -> Self {
        Self {
            window: 100,
            xi: 0.6,
            bound: 1.0,
        }
    }
}

impl SlidingWindowUcbConfig {
    fn check(&self) -> Result<(), Error> {
        if self.window == 0 {
            return Err(Error::InvalidParameter {
                name: "window",
                value: 0.0,
            });
        }
        check_param("xi", self.xi, 0.0, false, f64::INFINITY, false)?;
        check_param("bound", self.bound, 0.0, false, f64::INFINITY, false)
    }
}

/// Sliding-window UCB bandit.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SlidingWindowUcb {
    config: SlidingWindowUcbConfig,
    /// The last `W` plays, oldest first: (arm, reward).
    history: VecDeque<(usize, f64)>,
    window_counts: Vec<u64>,
    window_sums: Vec<f64>,
    steps: u64,
}

impl SlidingWindowUcb {
    /// A sliding-window UCB bandit over `num_arms` arms.
    pub fn new(num_arms: usize, config: SlidingWindowUcbConfig) -> Result<Self, Error> {
        if num_arms == 0 {
            return Err(Error::NoArms);
        }
        config.check()?;
        Ok(Self {
            config,
            history: VecDeque::with_capacity(config.window),
            window_counts: vec![0; num_arms],
            window_sums: vec![0.0; num_arms],
            steps: 0,
        })
    }

    /// Plays of each arm within the window.
    pub fn window_counts(&self) -> &[u64] {
        &self.window_counts
    }

    /// Total plays since creation.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The configuration.
    pub fn config(&self) -> &SlidingWindowUcbConfig {
        &self.config
    }
}

impl Bandit for SlidingWindowUcb {
    fn num_arms(&self) -> usize {
        self.window_counts.len()
    }

    fn select(&self, _rng: &mut dyn RngCore) -> Result<usize, Error> {
        self.validate()?;
        let horizon = self.steps.min(self.config.window as u64).max(1) as f64;
        let log_h = libm::log(horizon);
        let (xi, bound) = (self.config.xi, self.config.bound);
        Ok(argmax((0..self.num_arms()).map(|a| {
            let n = self.window_counts[a];
            if n == 0 {
                f64::INFINITY
            } else {
                let n = n as f64;
                self.window_sums[a] / n + bound * libm::sqrt(xi * log_h / n)
            }
        })))
    }

    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error> {
        check_arm(arm, self.num_arms())?;
        check_reward(reward, 0.0, self.config.bound)?;
        self.validate()?;
        if self.history.len() == self.config.window {
            let (old_arm, old_reward) = self
                .history
                .pop_front()
                .ok_or(Error::InvalidState("window is empty"))?;
            let count = self
                .window_counts
                .get_mut(old_arm)
                .ok_or(Error::InvalidState("arm in window out of range"))?;
            *count = count.saturating_sub(1);
            self.window_sums[old_arm] = if *count == 0 {
                // Reset exactly so that rounding from add/subtract cannot accumulate.
                0.0
            } else {
                (self.window_sums[old_arm] - old_reward).max(0.0)
            };
        }
        self.history.push_back((arm, reward));
        self.window_counts[arm] += 1;
        self.window_sums[arm] += reward;
        self.steps += 1;
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        check_len(
            self.window_sums.len(),
            self.window_counts.len(),
            "counts and sums differ in length",
        )?;
        self.config.check()?;
        if self.history.len() > self.config.window
            || self.window_counts.iter().sum::<u64>() != self.history.len() as u64
        {
            return Err(Error::InvalidState("window counts disagree with history"));
        }
        Ok(())
    }
}
