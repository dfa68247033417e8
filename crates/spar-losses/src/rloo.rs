//! RLOO leave-one-out advantages (Ahmadian et al. 2024, "Back to Basics: Revisiting
//! REINFORCE-Style Optimization for Learning from Human Feedback in LLMs"; verl
//! `compute_rloo_outcome_advantage`).
//!
//! ```text
//! A_i = r_i − (1/(G−1)) Σ_{j≠i} r_j  =  G/(G−1) · (r_i − mean_g(r))
//! ```
//! The baseline of completion `i` does not depend on `r_i`, so `∂A_i/∂r_i = 1` exactly. A group
//! of size 1 keeps its raw reward (verl's choice). Use with REINFORCE or the PPO-clip loss of
//! [`crate::ppo_clip`].
//!
//! ```
//! use spar_losses::rloo::rloo_advantages;
//! let mut adv = [0.0; 3];
//! rloo_advantages(&[1.0, 0.0, 0.0], 3, &mut adv).unwrap();
//! assert_eq!(adv, [1.0, -0.5, -0.5]);
//! ```

use crate::error::{check_len, LossError};
use crate::layout::{check_groups, check_per_sequence};

/// Leave-one-out advantages, one per completion.
pub fn rloo_advantages(
    rewards: &[f64],
    num_generations: usize,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    check_per_sequence("rewards", rewards, rewards.len())?;
    check_len("advantages", advantages.len(), rewards.len())?;
    check_groups(rewards.len(), num_generations)?;
    for (r, a) in rewards
        .chunks_exact(num_generations)
        .zip(advantages.chunks_exact_mut(num_generations))
    {
        if num_generations == 1 {
            a[0] = r[0];
            continue;
        }
        let sum: f64 = r.iter().sum();
        let others = (num_generations - 1) as f64;
        for (x, &ri) in a.iter_mut().zip(r) {
            *x = ri - (sum - ri) / others;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn sums_to_zero_and_baseline_excludes_own_reward(
            g in 2usize..9, vals in proptest::collection::vec(-5.0f64..5.0, 16), bump in 0.1f64..3.0,
        ) {
            let r = vals[..g].to_vec();
            let mut a = vec![0.0; g];
            rloo_advantages(&r, g, &mut a).unwrap();
            prop_assert!(a.iter().sum::<f64>().abs() < 1e-9);
            let mean = r.iter().sum::<f64>() / g as f64;
            prop_assert!((a[0] - g as f64 / (g as f64 - 1.0) * (r[0] - mean)).abs() < 1e-9);
            // ∂A_0/∂r_0 = 1: raising r_0 by `bump` raises A_0 by exactly `bump`.
            let mut r2 = r.clone();
            r2[0] += bump;
            let mut a2 = vec![0.0; g];
            rloo_advantages(&r2, g, &mut a2).unwrap();
            prop_assert!((a2[0] - a[0] - bump).abs() < 1e-9);
        }
    }

    #[test]
    fn singleton_keeps_reward_and_errors() {
        let mut a = [0.0; 2];
        rloo_advantages(&[0.3, -1.0], 1, &mut a).unwrap();
        assert_eq!(a, [0.3, -1.0]);
        assert!(rloo_advantages(&[0.3, f64::INFINITY], 2, &mut a).is_err());
        assert!(rloo_advantages(&[0.3, 1.0, 2.0], 2, &mut [0.0; 3]).is_err());
    }
}
