//! Dr. GRPO advantages (Liu et al. 2025, "Understanding R1-Zero-Like Training: A Critical
//! Perspective").
//!
//! Two biases of GRPO removed: no division by the group's std, and no per-sequence length
//! normalisation. The advantage is
//!
//! ```text
//! Â_i = r_i − mean_g(r)
//! ```
//! and the loss aggregates with `loss_type = dr_grpo`: `Σ_{i,t} l·m / (B · max_completion_length)`
//! with a constant `max_completion_length` ([`crate::aggregation::LossType::DrGrpo`]), usually
//! with `beta = 0`.
//!
//! ```
//! use spar_losses::dr_grpo::dr_grpo_advantages;
//! let mut adv = [0.0; 2];
//! dr_grpo_advantages(&[1.0, 0.0], 2, &mut adv).unwrap();
//! assert_eq!(adv, [0.5, -0.5]);
//! ```

use crate::error::LossError;
use crate::grpo::{grpo_advantages, ScaleRewards};

/// Centred rewards per group (`scale_rewards = none`); groups of size 1 get 0.
pub fn dr_grpo_advantages(
    rewards: &[f64],
    num_generations: usize,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    grpo_advantages(
        rewards,
        num_generations,
        ScaleRewards::None,
        0.0,
        advantages,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_not_scaled() {
        let r = [3.0, 1.0, 2.0, 10.0, 10.0, 13.0];
        let mut a = [0.0; 6];
        dr_grpo_advantages(&r, 3, &mut a).unwrap();
        assert_eq!(a, [1.0, -1.0, 0.0, -1.0, -1.0, 2.0]);
        assert!(dr_grpo_advantages(&r, 4, &mut a).is_err());
    }
}
