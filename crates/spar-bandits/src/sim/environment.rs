//! Bernoulli bandit problems, stationary and not, and the loop that plays a bandit on them.

use crate::sampling::uniform;
use crate::{Bandit, Error};
use alloc::vec::Vec;
use rand_core::RngCore;

/// A bandit problem: arm `a` at step `t` pays 1 with probability `mean(a, t)`, else 0.
pub trait Environment {
    /// Number of arms.
    fn num_arms(&self) -> usize;

    /// The expected reward of `arm` at `step` (`arm < num_arms()`).
    fn mean(&self, arm: usize, step: u64) -> f64;

    /// The best expected reward at `step`.
    fn best_mean(&self, step: u64) -> f64 {
        (0..self.num_arms())
            .map(|a| self.mean(a, step))
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// The best arm at `step` (lowest index on ties).
    fn best_arm(&self, step: u64) -> usize {
        let best = self.best_mean(step);
        (0..self.num_arms())
            .find(|&a| self.mean(a, step) == best)
            .unwrap_or(0)
    }

    /// Draws the reward of pulling `arm` at `step`.
    fn pull(&self, arm: usize, step: u64, rng: &mut dyn RngCore) -> f64 {
        if uniform(rng) < self.mean(arm, step) {
            1.0
        } else {
            0.0
        }
    }
}

fn check_means(means: &[f64]) -> Result<(), Error> {
    if means.is_empty() {
        return Err(Error::NoArms);
    }
    if let Some(&m) = means.iter().find(|m| !(0.0..=1.0).contains(*m)) {
        return Err(Error::InvalidParameter {
            name: "means",
            value: m,
        });
    }
    Ok(())
}

/// Bernoulli arms with fixed means.
#[derive(Debug, Clone, PartialEq)]
pub struct StationaryBernoulli {
    means: Vec<f64>,
}

impl StationaryBernoulli {
    /// Arms with the given means, each in `[0, 1]`.
    pub fn new(means: Vec<f64>) -> Result<Self, Error> {
        check_means(&means)?;
        Ok(Self { means })
    }
}

impl Environment for StationaryBernoulli {
    fn num_arms(&self) -> usize {
        self.means.len()
    }

    fn mean(&self, arm: usize, _step: u64) -> f64 {
        self.means[arm]
    }
}

/// Bernoulli arms whose means switch from `before` to `after` at step `change_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct AbruptChange {
    before: Vec<f64>,
    after: Vec<f64>,
    change_at: u64,
}

impl AbruptChange {
    /// Means `before` for steps `< change_at`, `after` from then on (equal lengths).
    pub fn new(before: Vec<f64>, after: Vec<f64>, change_at: u64) -> Result<Self, Error> {
        check_means(&before)?;
        check_means(&after)?;
        if before.len() != after.len() {
            return Err(Error::InvalidParameter {
                name: "after",
                value: after.len() as f64,
            });
        }
        Ok(Self {
            before,
            after,
            change_at,
        })
    }
}

impl Environment for AbruptChange {
    fn num_arms(&self) -> usize {
        self.before.len()
    }

    fn mean(&self, arm: usize, step: u64) -> f64 {
        if step < self.change_at {
            self.before[arm]
        } else {
            self.after[arm]
        }
    }
}

/// Bernoulli arms whose means move linearly from `start` to `end` over `horizon` steps and
/// stay at `end` afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowDrift {
    start: Vec<f64>,
    end: Vec<f64>,
    horizon: u64,
}

impl SlowDrift {
    /// Means drifting from `start` to `end` (equal lengths) over `horizon ≥ 1` steps.
    pub fn new(start: Vec<f64>, end: Vec<f64>, horizon: u64) -> Result<Self, Error> {
        check_means(&start)?;
        check_means(&end)?;
        if start.len() != end.len() || horizon == 0 {
            return Err(Error::InvalidParameter {
                name: "horizon",
                value: horizon as f64,
            });
        }
        Ok(Self {
            start,
            end,
            horizon,
        })
    }
}

impl Environment for SlowDrift {
    fn num_arms(&self) -> usize {
        self.start.len()
    }

    fn mean(&self, arm: usize, step: u64) -> f64 {
        let f = step.min(self.horizon) as f64 / self.horizon as f64;
        self.start[arm] + f * (self.end[arm] - self.start[arm])
    }
}

/// The trace of a bandit played on an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct BanditRun {
    /// The arm pulled at each step.
    pub arms: Vec<usize>,
    /// Cumulative pseudo-regret after each step: `Σ_{s ≤ t} best_mean(s) − mean(a_s, s)`.
    pub cumulative_regret: Vec<f64>,
}

/// Plays `bandit` on `env` for `steps` steps (select, pull, update) and records its
/// pseudo-regret, which uses the arms' means rather than the drawn rewards (less noisy).
pub fn run_bandit(
    bandit: &mut dyn Bandit,
    env: &dyn Environment,
    steps: u64,
    rng: &mut dyn RngCore,
) -> Result<BanditRun, Error> {
    if bandit.num_arms() != env.num_arms() {
        return Err(Error::InvalidParameter {
            name: "num_arms",
            value: bandit.num_arms() as f64,
        });
    }
    let mut arms = Vec::with_capacity(steps as usize);
    let mut cumulative_regret = Vec::with_capacity(steps as usize);
    let mut total = 0.0;
    for t in 0..steps {
        let arm = bandit.select(rng)?;
        let reward = env.pull(arm, t, rng);
        bandit.update(arm, reward)?;
        total += env.best_mean(t) - env.mean(arm, t);
        arms.push(arm);
        cumulative_regret.push(total);
    }
    Ok(BanditRun {
        arms,
        cumulative_regret,
    })
}
