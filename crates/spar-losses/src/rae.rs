//! Role-conditioned Advantage Estimation, RAE (Liu et al. 2025, "SPIRAL: Self-Play on
//! Zero-Sum Games Incentivizes Reasoning via Multi-Agent Multi-Turn Reinforcement Learning";
//! spiral-rl/spiral).
//!
//! One LLM plays both roles of a zero-sum game; each role `p` keeps an EMA baseline
//!
//! ```text
//! A   = R_p − b_p                     (the baseline *before* this game's update)
//! b_p ← γ b_p + (1 − γ) R_p           (γ = role_baseline_ema_gamma = 0.95, b_p(0) = 0)
//! ```
//! and the scalar is spread to every token of the player's turns (with intermediate rewards,
//! turn i of n gets `A · γ_ret^{n−i−1}`, see [`turn_advantages`]). With a constant reward the
//! advantage decays to 0 geometrically.
//!
//! ```
//! use spar_losses::rae::RoleBaselines;
//! let mut rae = RoleBaselines::new(2, 0.95).unwrap();
//! assert_eq!(rae.advantage(0, 1.0).unwrap(), 1.0); // baseline starts at 0
//! assert!((rae.baseline(0) - 0.05).abs() < 1e-15);
//! ```

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{check_range, LossError};

/// SPIRAL's default EMA factor.
pub const ROLE_BASELINE_EMA_GAMMA: f64 = 0.95;

/// One EMA reward baseline per role (roles are `0..num_roles`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleBaselines {
    gamma: f64,
    baselines: Vec<f64>,
}

impl RoleBaselines {
    /// `num_roles ≥ 1` baselines at 0 with EMA factor `gamma ∈ [0, 1]`.
    pub fn new(num_roles: usize, gamma: f64) -> Result<Self, LossError> {
        check_range("role_baseline_ema_gamma", gamma, 0.0, 1.0)?;
        if num_roles == 0 {
            return Err(LossError::Invalid {
                what: "num_roles must be >= 1",
            });
        }
        Ok(Self {
            gamma,
            baselines: vec![0.0; num_roles],
        })
    }

    /// The current baseline of `role` (0 for an unknown role).
    pub fn baseline(&self, role: usize) -> f64 {
        self.baselines.get(role).copied().unwrap_or(0.0)
    }

    /// All baselines, by role (what a resumed run must restore).
    pub fn baselines(&self) -> &[f64] {
        &self.baselines
    }

    /// Replaces the baselines (a resumed run); their number must equal the roles'.
    pub fn set_baselines(&mut self, baselines: &[f64]) -> Result<(), LossError> {
        if baselines.len() != self.baselines.len() {
            return Err(LossError::Invalid {
                what: "one baseline per role is needed",
            });
        }
        if baselines.iter().any(|b| !b.is_finite()) {
            return Err(LossError::NonFinite {
                what: "baseline",
                index: baselines.iter().position(|b| !b.is_finite()).unwrap_or(0),
            });
        }
        self.baselines.copy_from_slice(baselines);
        Ok(())
    }

    /// Returns `R − b_role`, then updates `b_role` with `R`.
    pub fn advantage(&mut self, role: usize, reward: f64) -> Result<f64, LossError> {
        if !reward.is_finite() {
            return Err(LossError::NonFinite {
                what: "reward",
                index: 0,
            });
        }
        let b = self.baselines.get_mut(role).ok_or(LossError::Invalid {
            what: "role out of range",
        })?;
        let a = reward - *b;
        *b = self.gamma * *b + (1.0 - self.gamma) * reward;
        Ok(a)
    }
}

/// Spreads one trajectory advantage over `n` turns: turn `i` gets `A · gamma_ret^{n−i−1}`.
pub fn turn_advantages(advantage: f64, gamma_ret: f64, out: &mut [f64]) -> Result<(), LossError> {
    check_range("gamma_ret", gamma_ret, 0.0, 1.0)?;
    let mut w = advantage;
    for o in out.iter_mut().rev() {
        *o = w;
        w *= gamma_ret;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_reward_advantage_vanishes_and_roles_are_separate() {
        let mut rae = RoleBaselines::new(2, ROLE_BASELINE_EMA_GAMMA).unwrap();
        let mut last = f64::INFINITY;
        for k in 0..400 {
            let a = rae.advantage(0, 1.0).unwrap();
            // A_k = 0.95^k exactly (geometric decay toward the constant reward).
            assert!((a - 0.95f64.powi(k)).abs() < 1e-12);
            assert!(a < last);
            last = a;
            // Zero-sum: the other role loses.
            rae.advantage(1, -1.0).unwrap();
        }
        assert!(last < 1e-8 && (rae.baseline(1) + 1.0).abs() < 1e-8);
        assert!(rae.advantage(2, 1.0).is_err());
        assert!(rae.advantage(0, f64::NAN).is_err());
        assert!(RoleBaselines::new(0, 0.9).is_err() && RoleBaselines::new(1, 1.5).is_err());
        let mut copy = RoleBaselines::new(2, ROLE_BASELINE_EMA_GAMMA).unwrap();
        copy.set_baselines(rae.baselines()).unwrap();
        assert_eq!(copy, rae);
        assert!(
            copy.set_baselines(&[0.0]).is_err() && copy.set_baselines(&[0.0, f64::NAN]).is_err()
        );
        let mut t = [0.0; 3];
        turn_advantages(2.0, 0.5, &mut t).unwrap();
        assert_eq!(t, [0.5, 1.0, 2.0]);
    }
}
