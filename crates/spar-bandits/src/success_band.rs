//! Success-band filtering, after WebRL (Qi et al. 2024, "WebRL: Training LLM Web Agents via
//! Self-Evolving Online Curriculum Reinforcement Learning").
//!
//! WebRL keeps a generated task only if its critic's estimated success probability `V` lies
//! in a band, `lo ≤ V ≤ hi` (recalled defaults `lo = 0.05`, `hi = 0.75`, low confidence):
//! neither trivial nor hopeless. [`filter_in_band`] applies that rule to per-task estimates.
//! As a curriculum, each category keeps a moving-average success estimate
//! `v_c ← v_c + η (mean solve rate − v_c)`; slots are drawn uniformly from the categories in
//! the band, mixed with `ε` uniform exploration over all categories (so categories outside
//! the band are re-measured as the model changes). When no category is in the band, the
//! ones nearest to it share the non-exploration mass.

use crate::curriculum::{category_means, check_batch, check_scores, ema};
use crate::error::check_param;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::vec;
use alloc::vec::Vec;

/// Whether an estimated success lies in `[lo, hi]`.
pub fn in_band(estimate: f64, lo: f64, hi: f64) -> bool {
    estimate >= lo && estimate <= hi
}

/// Indices of the tasks whose estimated success lies in `[lo, hi]`, in order.
///
/// Errors if `lo > hi`, a bound is outside `[0, 1]`, or an estimate is NaN.
pub fn filter_in_band(estimates: &[f64], lo: f64, hi: f64) -> Result<Vec<usize>, Error> {
    check_band(lo, hi)?;
    if estimates.iter().any(|e| e.is_nan()) {
        return Err(Error::InvalidOutcome("estimates must not be NaN"));
    }
    Ok(estimates
        .iter()
        .enumerate()
        .filter(|(_, &e)| in_band(e, lo, hi))
        .map(|(i, _)| i)
        .collect())
}

fn check_band(lo: f64, hi: f64) -> Result<(), Error> {
    check_param("lo", lo, 0.0, true, 1.0, true)?;
    check_param("hi", hi, 0.0, true, 1.0, true)?;
    if lo > hi {
        return Err(Error::InvalidParameter {
            name: "lo",
            value: lo,
        });
    }
    Ok(())
}

/// Constants of the success-band curriculum.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SuccessBandConfig {
    /// Lower edge of the band. Default 0.05 (WebRL, recalled).
    pub lo: f64,
    /// Upper edge of the band. Default 0.75 (WebRL, recalled).
    pub hi: f64,
    /// Moving-average step `η ∈ (0, 1]`. Default 0.5.
    pub step_size: f64,
    /// Estimate for a category never seen. Default 0.5 (in the band, so it gets tried).
    pub initial_estimate: f64,
    /// Uniform exploration mass `ε ∈ [0, 1]`. Default 0.1.
    pub exploration: f64,
}

impl Default for SuccessBandConfig {
    fn default() -> Self {
        Self {
            lo: 0.05,
            hi: 0.75,
            step_size: 0.5,
            initial_estimate: 0.5,
            exploration: 0.1,
        }
    }
}

impl SuccessBandConfig {
    fn check(&self) -> Result<(), Error> {
        check_band(self.lo, self.hi)?;
        check_param("step_size", self.step_size, 0.0, false, 1.0, true)?;
        check_param(
            "initial_estimate",
            self.initial_estimate,
            0.0,
            true,
            1.0,
            true,
        )?;
        check_param("exploration", self.exploration, 0.0, true, 1.0, true)
    }
}

/// Draws categories whose estimated success lies in a band.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SuccessBand {
    config: SuccessBandConfig,
    estimates: Vec<f64>,
}

impl SuccessBand {
    /// A success-band curriculum over `num_categories` categories.
    pub fn new(num_categories: usize, config: SuccessBandConfig) -> Result<Self, Error> {
        if num_categories == 0 {
            return Err(Error::NoArms);
        }
        config.check()?;
        Ok(Self {
            config,
            estimates: vec![config.initial_estimate; num_categories],
        })
    }

    /// The estimated success of each category.
    pub fn estimates(&self) -> &[f64] {
        &self.estimates
    }

    fn validate(&self) -> Result<(), Error> {
        self.config.check()?;
        check_scores(&self.estimates)
    }
}

impl Curriculum for SuccessBand {
    fn num_categories(&self) -> usize {
        self.estimates.len()
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        self.validate()?;
        let (lo, hi) = (self.config.lo, self.config.hi);
        let distance = |e: f64| {
            if e < lo {
                lo - e
            } else if e > hi {
                e - hi
            } else {
                0.0
            }
        };
        let nearest = self
            .estimates
            .iter()
            .map(|&e| distance(e))
            .fold(f64::INFINITY, f64::min);
        // In-band categories have distance 0; with none in band the nearest ones are chosen.
        let chosen: Vec<bool> = self
            .estimates
            .iter()
            .map(|&e| distance(e) == nearest)
            .collect();
        let n_chosen = chosen.iter().filter(|&&c| c).count() as f64;
        let k = self.estimates.len() as f64;
        let eps = self.config.exploration;
        Ok(chosen
            .iter()
            .map(|&c| if c { (1.0 - eps) / n_chosen } else { 0.0 } + eps / k)
            .collect())
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        self.validate()?;
        check_batch(batch, self.num_categories())?;
        let means = category_means(batch, self.num_categories(), |p| p.solve_rate);
        for (v, m) in self.estimates.iter_mut().zip(means) {
            if let Some(m) = m {
                ema(v, m, self.config.step_size);
            }
        }
        Ok(())
    }
}
