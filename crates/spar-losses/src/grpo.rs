//! GRPO group-normalised advantages (Shao et al. 2024, "DeepSeekMath"; TRL `GRPOTrainer`).
//!
//! Rewards come in groups of `num_generations` consecutive completions of one prompt. With the
//! group mean `μ_g` and the **unbiased** standard deviation `s`:
//!
//! ```text
//! Â_i = (r_i − μ_g) / (s + ε)
//! s   = std of the group         (scale_rewards = group)
//!     = std of the whole batch   (scale_rewards = batch)
//!     = (no division: Â = r − μ_g)  (scale_rewards = none, Dr. GRPO)
//! ```
//! TRL's `ε` is 1e-4 ([`TRL_STD_EPSILON`]). Decisions for the edge cases: a group whose rewards
//! are all equal gets exactly 0 (not `0/(0+ε)` rounding noise); a group of size 1 gets 0 (it has
//! no baseline), or its raw reward as in verl with [`SingletonGroup::RawReward`] through
//! [`grpo_advantages_with`]. The loss built on these advantages is
//! [`crate::ppo_clip::policy_loss`].
//!
//! ```
//! use spar_losses::grpo::{grpo_advantages, ScaleRewards};
//! let mut adv = [0.0; 4];
//! grpo_advantages(&[1.0, 0.0, 0.0, 0.0], 4, ScaleRewards::Group, 0.0, &mut adv).unwrap();
//! assert!(adv.iter().sum::<f64>().abs() < 1e-12);
//! assert!((adv[0] - 1.5).abs() < 1e-12); // (1 − ¼) / s, unbiased s = ½
//! ```

use crate::error::{check_len, check_range, LossError};
use crate::layout::{check_groups, check_per_sequence};

/// TRL's `ε` added to the standard deviation.
pub const TRL_STD_EPSILON: f64 = 1e-4;

/// Which standard deviation scales the centred rewards (TRL's `scale_rewards`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScaleRewards {
    /// Divide by the group's std (original GRPO).
    #[default]
    Group,
    /// Divide by the std over the whole batch (mean is still the group's).
    Batch,
    /// No division (Dr. GRPO).
    None,
}

/// What a group with a single completion gets (it has no baseline of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SingletonGroup {
    /// Advantage 0: the completion teaches nothing (spar's default).
    #[default]
    Zero,
    /// The raw reward, as verl does (its group mean is taken as 0 and its std as 1).
    RawReward,
}

/// All settings of [`grpo_advantages_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrpoAdvantageConfig {
    /// Group size `G` (TRL's `num_generations`).
    pub num_generations: usize,
    /// Which std scales the centred rewards.
    pub scale_rewards: ScaleRewards,
    /// `ε ≥ 0` added to the std.
    pub std_epsilon: f64,
    /// Behaviour for `num_generations == 1`.
    pub singleton: SingletonGroup,
}

impl Default for GrpoAdvantageConfig {
    fn default() -> Self {
        Self {
            num_generations: 8,
            scale_rewards: ScaleRewards::Group,
            std_epsilon: TRL_STD_EPSILON,
            singleton: SingletonGroup::Zero,
        }
    }
}

/// Unbiased standard deviation; 0 for fewer than two values.
pub(crate) fn unbiased_std(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    libm::sqrt(ss / (n - 1) as f64)
}

fn all_equal(values: &[f64]) -> bool {
    values.windows(2).all(|w| w[0] == w[1])
}

/// Group-normalised advantages, one per completion, written into `advantages`.
///
/// `std_epsilon ≥ 0` is added to the std before dividing ([`TRL_STD_EPSILON`] in TRL).
pub fn grpo_advantages(
    rewards: &[f64],
    num_generations: usize,
    scale_rewards: ScaleRewards,
    std_epsilon: f64,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    let config = GrpoAdvantageConfig {
        num_generations,
        scale_rewards,
        std_epsilon,
        singleton: SingletonGroup::Zero,
    };
    grpo_advantages_with(rewards, &config, advantages)
}

/// [`grpo_advantages`] with every setting explicit, including the size-1 group behaviour.
pub fn grpo_advantages_with(
    rewards: &[f64],
    config: &GrpoAdvantageConfig,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    let GrpoAdvantageConfig {
        num_generations,
        scale_rewards,
        std_epsilon,
        singleton,
    } = *config;
    check_per_sequence("rewards", rewards, rewards.len())?;
    check_len("advantages", advantages.len(), rewards.len())?;
    check_groups(rewards.len(), num_generations)?;
    check_range("std_epsilon", std_epsilon, 0.0, f64::MAX)?;
    let batch_std = unbiased_std(rewards);
    for (r, a) in rewards
        .chunks_exact(num_generations)
        .zip(advantages.chunks_exact_mut(num_generations))
    {
        if num_generations == 1 && singleton == SingletonGroup::RawReward {
            a[0] = r[0];
            continue;
        }
        if num_generations == 1 || all_equal(r) {
            a.iter_mut().for_each(|x| *x = 0.0);
            continue;
        }
        let mean = r.iter().sum::<f64>() / num_generations as f64;
        let denom = match scale_rewards {
            ScaleRewards::Group => unbiased_std(r) + std_epsilon,
            ScaleRewards::Batch => batch_std + std_epsilon,
            ScaleRewards::None => 1.0,
        };
        for (x, &ri) in a.iter_mut().zip(r) {
            *x = (ri - mean) / denom;
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
        fn advantages_sum_to_zero_per_group(
            g in 2usize..9, groups in 1usize..5,
            vals in proptest::collection::vec(-5.0f64..5.0, 64),
            mode in 0usize..3,
        ) {
            let r = &vals[..g * groups];
            let scale = [ScaleRewards::Group, ScaleRewards::Batch, ScaleRewards::None][mode];
            let mut a = vec![0.0; r.len()];
            grpo_advantages(r, g, scale, TRL_STD_EPSILON, &mut a).unwrap();
            for (ag, rg) in a.chunks(g).zip(r.chunks(g)) {
                prop_assert!(ag.iter().sum::<f64>().abs() < 1e-9);
                if scale == ScaleRewards::Group {
                    // Σ Â² = (G−1)·s²/(s+ε)² with the unbiased std.
                    let s = unbiased_std(rg);
                    let want = (g as f64 - 1.0) * s * s / ((s + TRL_STD_EPSILON) * (s + TRL_STD_EPSILON));
                    prop_assert!((ag.iter().map(|x| x * x).sum::<f64>() - want).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn binary_rewards_closed_form() {
        // p = 3/8 correct: Â_correct = (1−p)/s, Â_wrong = −p/s, s unbiased.
        let r = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let mut a = [0.0; 8];
        grpo_advantages(&r, 8, ScaleRewards::Group, 0.0, &mut a).unwrap();
        let p: f64 = 3.0 / 8.0;
        let s = (8.0f64 / 7.0 * p * (1.0 - p)).sqrt();
        assert!((a[0] - (1.0 - p) / s).abs() < 1e-12 && (a[7] + p / s).abs() < 1e-12);
    }

    #[test]
    fn equal_groups_singletons_batch_scaling_and_errors() {
        let r = [0.1, 0.1, 0.1, 2.0, 0.0, 1.0];
        let mut a = [9.0; 6];
        grpo_advantages(&r, 3, ScaleRewards::Group, TRL_STD_EPSILON, &mut a).unwrap();
        assert_eq!(&a[..3], &[0.0, 0.0, 0.0]);
        grpo_advantages(&r, 1, ScaleRewards::Group, TRL_STD_EPSILON, &mut a).unwrap();
        assert!(a.iter().all(|&x| x == 0.0));
        // The configured alternative: verl's raw reward for size-1 groups.
        let cfg = GrpoAdvantageConfig {
            num_generations: 1,
            singleton: SingletonGroup::RawReward,
            ..GrpoAdvantageConfig::default()
        };
        grpo_advantages_with(&r, &cfg, &mut a).unwrap();
        assert_eq!(a, r);
        // Batch scaling: group mean, batch std.
        grpo_advantages(&r, 3, ScaleRewards::Batch, 0.0, &mut a).unwrap();
        let s = unbiased_std(&r);
        assert!((a[3] - (2.0 - 1.0) / s).abs() < 1e-12);
        grpo_advantages(&r, 3, ScaleRewards::None, 0.0, &mut a).unwrap();
        assert!((a[3] - 1.0).abs() < 1e-12 && (a[4] + 1.0).abs() < 1e-12);
        assert!(
            grpo_advantages(&[f64::NAN, 0.0], 2, ScaleRewards::Group, 0.0, &mut a[..2]).is_err()
        );
        assert!(grpo_advantages(&r, 4, ScaleRewards::Group, 0.0, &mut a).is_err());
        assert!(grpo_advantages(&r, 0, ScaleRewards::Group, 0.0, &mut a).is_err());
        assert!(grpo_advantages(&r, 3, ScaleRewards::Group, -1.0, &mut a).is_err());
        assert!(grpo_advantages(&r, 3, ScaleRewards::Group, 0.0, &mut a[..5]).is_err());
    }
}
