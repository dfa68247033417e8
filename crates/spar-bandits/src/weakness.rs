//! Weakness tracking, after SwS (Liang et al. 2025, "SwS: Self-aware Weakness-driven Problem
//! Synthesis in Reinforcement Learning for LLM Reasoning").
//!
//! SwS records each problem's accuracy over training and calls it a weakness when it is
//! consistently failed — accuracy stays below a threshold and does not improve — then spends
//! its problem-synthesis budget on the weak categories in proportion to their failure rates.
//! (Recalled, low confidence; the threshold default 0.5 is the paper's example value.)
//!
//! Here a category keeps the mean solve rate of its problems in each of its last `window`
//! batches. It is a weakness when that history is full, every entry is below `threshold`,
//! and the newest entry is not above the oldest. As a curriculum, slots are drawn in
//! proportion to the failure rate `f_c = 1 − mean(history_c)` (1 for a category never seen),
//! mixed with `ε` uniform exploration: `p_c = (1 − ε) f_c / Σ f + ε / K`.

use crate::curriculum::{category_means, check_batch, proportional_with_exploration};
use crate::error::check_param;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Constants of the weakness tracker.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeaknessConfig {
    /// Solve rate below which a category counts as failing, in `[0, 1]`. Default 0.5.
    pub threshold: f64,
    /// How many of a category's most recent batches are remembered, `≥ 1`. Default 3.
    pub window: usize,
    /// Uniform exploration mass `ε ∈ [0, 1]`. Default 0.1.
    pub exploration: f64,
}

impl Default for WeaknessConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            window: 3,
            exploration: 0.1,
        }
    }
}

impl WeaknessConfig {
    fn check(&self) -> Result<(), Error> {
        check_param("threshold", self.threshold, 0.0, true, 1.0, true)?;
        if self.window == 0 {
            return Err(Error::InvalidParameter {
                name: "window",
                value: 0.0,
            });
        }
        check_param("exploration", self.exploration, 0.0, true, 1.0, true)
    }
}

/// Tracks which categories keep failing and directs practice toward them.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeaknessTracker {
    config: WeaknessConfig,
    /// Per category, the mean solve rate of its last `window` batches, oldest first.
    history: Vec<VecDeque<f64>>,
}

impl WeaknessTracker {
    /// A weakness tracker over `num_categories` categories.
    pub fn new(num_categories: usize, config: WeaknessConfig) -> Result<Self, Error> {
        if num_categories == 0 {
            return Err(Error::NoArms);
        }
        config.check()?;
        Ok(Self {
            config,
            history: (0..num_categories)
                .map(|_| VecDeque::with_capacity(config.window))
                .collect(),
        })
    }

    /// The remembered per-batch solve rates of `category`, oldest first.
    pub fn history(&self, category: usize) -> Result<&VecDeque<f64>, Error> {
        crate::error::check_arm(category, self.history.len())?;
        Ok(&self.history[category])
    }

    /// The categories that are weaknesses now, in order.
    pub fn weaknesses(&self) -> Vec<usize> {
        let threshold = self.config.threshold;
        self.history
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                h.len() == self.config.window
                    && h.iter().all(|&p| p < threshold)
                    && h.back() <= h.front()
            })
            .map(|(c, _)| c)
            .collect()
    }

    /// The failure rate `1 − mean(history)` of each category (1 for one never seen).
    pub fn failure_rates(&self) -> Vec<f64> {
        self.history
            .iter()
            .map(|h| {
                if h.is_empty() {
                    1.0
                } else {
                    1.0 - h.iter().sum::<f64>() / h.len() as f64
                }
            })
            .collect()
    }

    fn validate(&self) -> Result<(), Error> {
        self.config.check()?;
        if self.history.is_empty() {
            return Err(Error::NoArms);
        }
        let bad = self
            .history
            .iter()
            .any(|h| h.len() > self.config.window || h.iter().any(|p| !(0.0..=1.0).contains(p)));
        if bad {
            return Err(Error::InvalidState("history too long or out of [0, 1]"));
        }
        Ok(())
    }
}

impl Curriculum for WeaknessTracker {
    fn num_categories(&self) -> usize {
        self.history.len()
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.validate()?;
        Ok(proportional_with_exploration(
            &self.failure_rates(),
            self.config.exploration,
        ))
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        self.validate()?;
        check_batch(batch, self.num_categories())?;
        let means = category_means(batch, self.num_categories(), |p| p.solve_rate);
        for (h, m) in self.history.iter_mut().zip(means) {
            if let Some(m) = m {
                if h.len() == self.config.window {
                    h.pop_front();
                }
                h.push_back(m);
            }
        }
        Ok(())
    }
}
