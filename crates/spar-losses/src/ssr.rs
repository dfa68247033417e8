//! Selective Sample Replay, SSR (Wang et al. 2025, "VL-Rethinker: Incentivizing
//! Self-Reflection of Vision-Language Models with Reinforcement Learning";
//! TIGER-AI-Lab/VL-Rethinker `replay_buffer.py`).
//!
//! Counters vanishing advantages: after advantages are computed,
//!
//! ```text
//! keep   = { j : A_j ≠ 0 }  ∪  (up to ⌊0.1·|{A ≠ 0}|⌋ items with A_j = 0 and reward_j > 0.95)
//! refill to ⌊len(items) / refill_factor⌋ draws, with replacement, from `keep`
//!        with p_j ∝ |A_j| + 1e-4   (SSR on)   or uniformly (SSR off)
//! ```
//! Returns indices into the original items (the trainer gathers them).
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use spar_losses::ssr::{selective_sample_replay, SsrConfig};
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let adv = [0.0, 2.0, 0.0, -1.0];
//! let rew = [1.0, 1.0, 0.0, 0.0];
//! let idx = selective_sample_replay(&adv, &rew, &SsrConfig::default(), &mut rng).unwrap();
//! assert_eq!(idx.len(), 2);
//! assert!(idx.iter().all(|&j| j == 1 || j == 3)); // zero-advantage items: 10% of 2 = 0 kept
//! ```

use alloc::vec::Vec;
use rand_core::RngCore;

use crate::error::{check_finite, check_len, LossError};

/// SSR settings (VL-Rethinker's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SsrConfig {
    /// Draw ∝ |A| + 1e-4 (true) or uniformly (false). Default true.
    pub use_ssr: bool,
    /// The buffer is refilled to `len / refill_factor` items. Default 2.
    pub refill_factor: usize,
    /// Zero-advantage items kept, as a fraction of the non-zero count. Default 0.1.
    pub zero_adv_fraction: f64,
    /// Zero-advantage items must have a reward above this to be kept. Default 0.95.
    pub zero_adv_min_reward: f64,
}

impl Default for SsrConfig {
    fn default() -> Self {
        Self {
            use_ssr: true,
            refill_factor: 2,
            zero_adv_fraction: 0.1,
            zero_adv_min_reward: 0.95,
        }
    }
}

fn uniform(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The indices of the refilled training buffer (empty when nothing survives the filter).
pub fn selective_sample_replay(
    advantages: &[f64],
    rewards: &[f64],
    config: &SsrConfig,
    rng: &mut impl RngCore,
) -> Result<Vec<usize>, LossError> {
    check_len("rewards", rewards.len(), advantages.len())?;
    check_finite("advantages", advantages)?;
    check_finite("rewards", rewards)?;
    if config.refill_factor == 0 {
        return Err(LossError::Invalid {
            what: "refill_factor must be >= 1",
        });
    }
    crate::error::check_range("zero_adv_fraction", config.zero_adv_fraction, 0.0, f64::MAX)?;
    let mut pool: Vec<usize> = (0..advantages.len())
        .filter(|&j| advantages[j] != 0.0)
        .collect();
    let mut zero_good: Vec<usize> = (0..advantages.len())
        .filter(|&j| advantages[j] == 0.0 && rewards[j] > config.zero_adv_min_reward)
        .collect();
    let take = ((pool.len() as f64 * config.zero_adv_fraction) as usize).min(zero_good.len());
    // A random subset of the eligible zero-advantage items (partial Fisher–Yates).
    for k in 0..take {
        let j = k + (rng.next_u64() % (zero_good.len() - k) as u64) as usize;
        zero_good.swap(k, j);
    }
    pool.extend_from_slice(&zero_good[..take]);
    let target = advantages.len() / config.refill_factor;
    if pool.is_empty() || target == 0 {
        return Ok(Vec::new());
    }
    let weights: Vec<f64> = pool
        .iter()
        .map(|&j| {
            if config.use_ssr {
                libm::fabs(advantages[j]) + 1e-4
            } else {
                1.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(target);
    for _ in 0..target {
        let mut u = uniform(rng) * total;
        let mut pick = pool[pool.len() - 1];
        for (&j, &w) in pool.iter().zip(&weights) {
            if u < w {
                pick = j;
                break;
            }
            u -= w;
        }
        out.push(pick);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn draws_are_proportional_to_absolute_advantage() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // 40 items: item 0 has |A| = 3, item 1 has |A| = 1, the rest 0 (rewards 0).
        let mut adv = [0.0; 40];
        adv[0] = 3.0;
        adv[1] = -1.0;
        let rew = [0.0; 40];
        let mut counts = [0usize; 2];
        for _ in 0..200 {
            for j in selective_sample_replay(&adv, &rew, &SsrConfig::default(), &mut rng).unwrap() {
                assert!(j < 2);
                counts[j] += 1;
            }
        }
        let frac = counts[0] as f64 / (counts[0] + counts[1]) as f64;
        assert!((frac - 0.75).abs() < 0.02, "{frac}");
        // Uniform when SSR is off.
        let cfg = SsrConfig {
            use_ssr: false,
            ..SsrConfig::default()
        };
        let mut c0 = 0usize;
        for _ in 0..200 {
            c0 += selective_sample_replay(&adv, &rew, &cfg, &mut rng)
                .unwrap()
                .iter()
                .filter(|&&j| j == 0)
                .count();
        }
        assert!((c0 as f64 / 4000.0 - 0.5).abs() < 0.03);
    }

    #[test]
    fn zero_advantage_quota_and_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        // 20 non-zero items ⇒ up to 2 zero-advantage items with reward > 0.95 join the pool.
        let mut adv = [0.0; 40];
        adv[..20].iter_mut().for_each(|a| *a = 1.0);
        let mut rew = [0.0; 40];
        rew[20..30].iter_mut().for_each(|r| *r = 1.0);
        // Uniform draws so that the (tiny-weight) zero-advantage items show up.
        let uniform = SsrConfig {
            use_ssr: false,
            ..SsrConfig::default()
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            let idx = selective_sample_replay(&adv, &rew, &uniform, &mut rng).unwrap();
            assert_eq!(idx.len(), 20);
            let zero: std::collections::BTreeSet<usize> =
                idx.iter().copied().filter(|&j| j >= 20).collect();
            assert!(zero.len() <= 2, "more than the 10% quota: {zero:?}");
            assert!(
                zero.iter().all(|&j| j < 30),
                "zero-advantage item with low reward drawn"
            );
            seen.extend(zero);
        }
        assert!(seen.len() > 2);
        assert!(selective_sample_replay(&adv, &rew[..3], &SsrConfig::default(), &mut rng).is_err());
        let bad = SsrConfig {
            refill_factor: 0,
            ..SsrConfig::default()
        };
        assert!(selective_sample_replay(&adv, &rew, &bad, &mut rng).is_err());
        assert!(
            selective_sample_replay(&[0.0; 4], &[0.0; 4], &SsrConfig::default(), &mut rng)
                .unwrap()
                .is_empty()
        );
    }
}
