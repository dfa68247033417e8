//! SEC, Self-Evolving Curriculum (Chen et al. 2025, "Self-Evolving Curriculum for LLM
//! Reasoning", arXiv 2505.14970).
//!
//! Each category `c` has a value `Q(c)`, initially 0. Each slot of a batch draws
//! `c ∼ softmax(Q/τ)`, i.e. `p(c) = exp(Q(c)/τ) / Σ_c' exp(Q(c')/τ)`. After the RL step, the
//! reward of a category present in the batch is the mean absolute advantage of its rollouts,
//! `r(c) = (1/|B_c|) Σ_{x∈B_c} (1/G) Σ_i |Â_i(x)|`, and TD(0) moves its value toward it:
//! `Q(c) ← Q(c) + α (r(c) − Q(c))`. Absent categories keep their value.
//!
//! Why absolute advantage: with binary rewards and solve rate `p`, mean `|r − r̄| = 2p(1−p)`
//! and GRPO's normalised `|Â|` averages `2√(p(1−p))`; both vanish at `p ∈ {0, 1}` and peak
//! at `p = ½`, so SEC steers practice toward problems the model solves about half the time.
//!
//! Defaults `α = 0.5`, `τ = 1.0` are recalled from the paper, not checked against its text
//! (low confidence; they are configurable). With GRPO advantages `Q ∈ [0, 1]`, so at `τ = 1`
//! the most and least promising categories differ by at most a factor `e` in probability;
//! smaller temperatures sharpen the preference.

use crate::curriculum::{category_means, check_batch};
use crate::error::check_param;
use crate::sampling::softmax;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::vec;
use alloc::vec::Vec;

/// Constants of SEC.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SecConfig {
    /// TD(0) step size `α ∈ (0, 1]`. Default 0.5 (recalled from the paper, unverified).
    pub alpha: f64,
    /// Boltzmann temperature `τ > 0`. Default 1.0 (recalled from the paper, unverified).
    pub temperature: f64,
}

impl Default for SecConfig {
    fn default() -> Self {
        Self {
            alpha: 0.5,
            temperature: 1.0,
        }
    }
}

impl SecConfig {
    fn check(&self) -> Result<(), Error> {
        check_param("alpha", self.alpha, 0.0, false, 1.0, true)?;
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

/// The Self-Evolving Curriculum.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sec {
    config: SecConfig,
    q_values: Vec<f64>,
}

impl Sec {
    /// SEC over `num_categories` categories with all values at 0.
    pub fn new(num_categories: usize, config: SecConfig) -> Result<Self, Error> {
        if num_categories == 0 {
            return Err(Error::NoArms);
        }
        config.check()?;
        Ok(Self {
            config,
            q_values: vec![0.0; num_categories],
        })
    }

    /// The value `Q(c)` of each category.
    pub fn q_values(&self) -> &[f64] {
        &self.q_values
    }

    /// The configuration.
    pub fn config(&self) -> &SecConfig {
        &self.config
    }

    /// The reward SEC assigns to one problem: the mean absolute advantage of its rollouts.
    pub fn problem_reward(advantages: &[f64]) -> Result<f64, Error> {
        if advantages.is_empty() {
            return Err(Error::EmptyGroup);
        }
        if advantages.iter().any(|a| !a.is_finite()) {
            return Err(Error::InvalidOutcome("advantages must be finite"));
        }
        Ok(advantages.iter().map(|a| libm::fabs(*a)).sum::<f64>() / advantages.len() as f64)
    }

    fn validate(&self) -> Result<(), Error> {
        self.config.check()?;
        if self.q_values.is_empty() {
            return Err(Error::NoArms);
        }
        if self.q_values.iter().any(|q| !q.is_finite()) {
            return Err(Error::InvalidState("Q values must be finite"));
        }
        Ok(())
    }
}

impl Curriculum for Sec {
    fn num_categories(&self) -> usize {
        self.q_values.len()
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.validate()?;
        Ok(softmax(&self.q_values, self.config.temperature))
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        self.validate()?;
        check_batch(batch, self.num_categories())?;
        if batch.iter().any(|p| p.advantages.is_empty()) {
            return Err(Error::InvalidOutcome("SEC needs each problem's advantages"));
        }
        let rewards = category_means(batch, self.num_categories(), |p| {
            p.advantages.iter().map(|a| libm::fabs(*a)).sum::<f64>() / p.advantages.len() as f64
        });
        for (q, r) in self.q_values.iter_mut().zip(rewards) {
            if let Some(r) = r {
                *q += self.config.alpha * (r - *q);
            }
        }
        Ok(())
    }
}
