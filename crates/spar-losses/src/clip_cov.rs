//! Covariance-based token clipping, Clip-Cov (Cui et al. 2025, "The Entropy Mechanism of
//! Reinforcement Learning for Reasoning Language Models"; the entropy control SPEAR adopts).
//!
//! The change of policy entropy under a policy-gradient step is driven by the covariance
//! between a token's log-probability and its advantage: tokens that are both likely and
//! rewarded (or unlikely and penalised) collapse entropy. Clip-Cov measures each completion
//! token's centred cross product over the batch,
//!
//! ```text
//! Cov_t = (A_t − mean(A)) · (ℓ_t − mean(ℓ))      means over the batch's completion tokens
//! ```
//!
//! and removes the gradient of a few tokens whose `Cov_t` lies in `(low, high)`: of the
//! eligible tokens in that band, `n = max(1, ⌊fraction · N⌋)` (`N` = completion tokens of the
//! batch) are drawn uniformly without replacement and detached. \[MEM\] The authors' code
//! (their `compute_policy_loss_clip_cov`) reads as we recall it: defaults `clip_ratio = 2e-4`,
//! `clip_cov_lb = 1`, `clip_cov_ub = 5`, strict bounds, tokens already clipped by the PPO
//! ratio not eligible, the detached tokens still counted in the loss's token mean. Every
//! constant is a field of [`ClipCovConfig`].
//!
//! The function only selects; the caller zeroes the selected tokens' gradient (the trainer
//! does it on the per-token weights of [`crate::ppo_clip::policy_loss`], whose aggregation
//! then keeps the detached tokens in its denominator, as the authors' code does).
//!
//! ```
//! use rand_chacha::rand_core::SeedableRng;
//! use spar_losses::clip_cov::{clip_cov_select, ClipCovConfig};
//! // Two sequences of two tokens; token 0 is likely and rewarded: Cov = 1.5 · 2.25 = 3.375,
//! // the other tokens' covariances are −1.125 and 1.125 (below the band).
//! let logprobs = [0.0, -3.0, -3.0, -3.0];
//! let advantages = [2.0, 2.0, -1.0, -1.0]; // per token
//! let mask = [true; 4];
//! let eligible = [true; 4];
//! let config = ClipCovConfig { fraction: 0.25, low: 2.0, high: 5.0 };
//! let mut selected = [false; 4];
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let stats = clip_cov_select(&config, &logprobs, &advantages, &mask, &eligible, &mut rng, &mut selected)?;
//! assert_eq!(selected, [true, false, false, false]);
//! assert_eq!((stats.in_band, stats.selected), (1, 1));
//! # Ok::<(), spar_losses::LossError>(())
//! ```

use alloc::vec::Vec;
use rand_core::RngCore;

use crate::error::{check_len, LossError};
use crate::layout::check_finite_masked;

/// Clip-Cov's constants (the authors' defaults, \[MEM\]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipCovConfig {
    /// Share of the batch's completion tokens to detach (`clip_ratio`), in `[0, 1]`; at least
    /// one token is drawn while the band holds one.
    pub fraction: f64,
    /// Lower bound of the covariance band (`clip_cov_lb`), exclusive.
    pub low: f64,
    /// Upper bound of the covariance band (`clip_cov_ub`), exclusive; above `low`.
    pub high: f64,
}

impl Default for ClipCovConfig {
    fn default() -> Self {
        Self {
            fraction: 2e-4,
            low: 1.0,
            high: 5.0,
        }
    }
}

/// What one selection saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClipCovStats {
    /// Completion tokens of the batch (`N`).
    pub num_tokens: usize,
    /// Eligible tokens whose covariance lies inside the band.
    pub in_band: usize,
    /// Tokens selected (detached).
    pub selected: usize,
    /// Mean of `Cov_t` over the completion tokens (the batch's covariance, ≈ the entropy
    /// change's driver).
    pub mean_covariance: f64,
}

/// Writes `Cov_t = (A_t − mean A)(ℓ_t − mean ℓ)` of every completion token into `out` (0 on
/// padding); returns the number of completion tokens. All slices share one layout.
pub fn token_covariance(
    logprobs: &[f64],
    advantages: &[f64],
    mask: &[bool],
    out: &mut [f64],
) -> Result<usize, LossError> {
    let n = mask.len();
    check_len("logprobs", logprobs.len(), n)?;
    check_len("advantages", advantages.len(), n)?;
    check_len("out", out.len(), n)?;
    check_finite_masked("logprobs", logprobs, mask)?;
    check_finite_masked("advantages", advantages, mask)?;
    let count = mask.iter().filter(|&&m| m).count();
    if count == 0 {
        out.iter_mut().for_each(|c| *c = 0.0);
        return Ok(0);
    }
    let mean = |v: &[f64]| {
        v.iter()
            .zip(mask)
            .filter(|(_, &m)| m)
            .map(|(x, _)| x)
            .sum::<f64>()
            / count as f64
    };
    let (ma, ml) = (mean(advantages), mean(logprobs));
    for (i, c) in out.iter_mut().enumerate() {
        *c = if mask[i] {
            (advantages[i] - ma) * (logprobs[i] - ml)
        } else {
            0.0
        };
    }
    Ok(count)
}

/// Clip-Cov's selection: marks in `selected` the tokens to detach (see the module docs).
/// `advantages` are per token (a sequence's advantage repeated over its tokens for GRPO);
/// `eligible` excludes tokens the caller has already removed (PPO-clipped ones). Draws from
/// `rng` only when the band holds more tokens than are selected.
pub fn clip_cov_select(
    config: &ClipCovConfig,
    logprobs: &[f64],
    advantages: &[f64],
    mask: &[bool],
    eligible: &[bool],
    rng: &mut impl RngCore,
    selected: &mut [bool],
) -> Result<ClipCovStats, LossError> {
    if !(0.0..=1.0).contains(&config.fraction) {
        return Err(LossError::OutOfRange {
            what: "clip_cov fraction",
            value: config.fraction,
        });
    }
    if !config.low.is_finite() || !config.high.is_finite() || config.low >= config.high {
        return Err(LossError::Invalid {
            what: "clip_cov band: low and high must be finite with low < high",
        });
    }
    check_len("eligible", eligible.len(), mask.len())?;
    check_len("selected", selected.len(), mask.len())?;
    let mut cov = alloc::vec![0.0; mask.len()];
    let num_tokens = token_covariance(logprobs, advantages, mask, &mut cov)?;
    selected.iter_mut().for_each(|s| *s = false);
    let mut band: Vec<usize> = (0..mask.len())
        .filter(|&i| mask[i] && eligible[i] && cov[i] > config.low && cov[i] < config.high)
        .collect();
    let mean_covariance = if num_tokens == 0 {
        0.0
    } else {
        cov.iter().sum::<f64>() / num_tokens as f64
    };
    let want = ((config.fraction * num_tokens as f64) as usize).max(1);
    let take = want.min(band.len());
    if take < band.len() {
        // A partial Fisher–Yates shuffle: the first `take` entries are a uniform draw.
        for k in 0..take {
            let j = k + (rng.next_u64() % (band.len() - k) as u64) as usize;
            band.swap(k, j);
        }
    }
    for &i in &band[..take] {
        selected[i] = true;
    }
    Ok(ClipCovStats {
        num_tokens,
        in_band: band.len(),
        selected: take,
        mean_covariance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn covariance_is_the_centred_product_of_advantage_and_log_prob() {
        let lp = [-1.0, -2.0, -3.0, 9.0];
        let adv = [1.0, 0.0, -1.0, 7.0];
        let mask = [true, true, true, false];
        let mut cov = [0.0; 4];
        assert_eq!(token_covariance(&lp, &adv, &mask, &mut cov).unwrap(), 3);
        // means: ℓ −2, A 0 → (1)(1), (0)(0), (−1)(−1); padding 0.
        assert_eq!(cov, [1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn selects_only_inside_the_open_band_and_only_eligible_tokens() {
        // Means ℓ −1.8, A 0.8: Cov = 2.16 for tokens 0, 2, 3, 4 (in the band), −1.44 for 1.
        let lp = [0.0, -3.0, -3.0, -3.0, 0.0];
        let adv = [2.0, 2.0, -1.0, -1.0, 2.0];
        let mask = [true, true, true, true, true];
        let mut cov = [0.0; 5];
        token_covariance(&lp, &adv, &mask, &mut cov).unwrap();
        let config = ClipCovConfig {
            fraction: 1.0,
            low: 1.0,
            high: 5.0,
        };
        let mut sel = [false; 5];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let s = clip_cov_select(&config, &lp, &adv, &mask, &[true; 5], &mut rng, &mut sel).unwrap();
        for i in 0..5 {
            assert_eq!(
                sel[i],
                cov[i] > 1.0 && cov[i] < 5.0,
                "token {i}: cov {}",
                cov[i]
            );
        }
        assert_eq!(s.in_band, s.selected);
        // The same with token 0 not eligible (already clipped): it is never selected.
        let eligible = [false, true, true, true, true];
        clip_cov_select(&config, &lp, &adv, &mask, &eligible, &mut rng, &mut sel).unwrap();
        assert!(!sel[0]);
        // Band edges are exclusive.
        let edge = ClipCovConfig {
            fraction: 1.0,
            low: cov[0],
            high: 10.0,
        };
        clip_cov_select(&edge, &lp, &adv, &mask, &[true; 5], &mut rng, &mut sel).unwrap();
        assert!(!sel[0]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut sel = [false; 2];
        let ok = ClipCovConfig::default();
        let m = [true, true];
        let run = |c: &ClipCovConfig, lp: &[f64], sel: &mut [bool], rng: &mut ChaCha8Rng| {
            clip_cov_select(c, lp, &[1.0, 0.0], &m, &m, rng, sel)
        };
        assert!(run(
            &ClipCovConfig {
                fraction: 1.5,
                ..ok
            },
            &[0.0, 0.0],
            &mut sel,
            &mut rng
        )
        .is_err());
        assert!(run(
            &ClipCovConfig {
                low: 5.0,
                high: 1.0,
                ..ok
            },
            &[0.0, 0.0],
            &mut sel,
            &mut rng
        )
        .is_err());
        assert!(run(
            &ClipCovConfig {
                high: f64::NAN,
                ..ok
            },
            &[0.0, 0.0],
            &mut sel,
            &mut rng
        )
        .is_err());
        assert!(run(&ok, &[f64::NAN, 0.0], &mut sel, &mut rng).is_err());
        assert!(run(&ok, &[0.0], &mut sel, &mut rng).is_err());
        assert!(run(&ok, &[0.0, 0.0], &mut [false; 3], &mut rng).is_err());
        // No completion tokens: nothing selected, no error.
        let s = clip_cov_select(
            &ok,
            &[0.0; 2],
            &[0.0; 2],
            &[false; 2],
            &[true; 2],
            &mut rng,
            &mut sel,
        )
        .unwrap();
        assert_eq!((s.num_tokens, s.selected), (0, 0));
    }

    proptest! {
        #[test]
        fn selects_max_one_fraction_of_the_tokens_from_the_band(
            lp in proptest::collection::vec(-6.0f64..0.0, 1..80),
            seed in 0u64..1000,
            fraction in 0.0f64..0.5,
        ) {
            let n = lp.len();
            let adv: Vec<f64> = (0..n).map(|i| ((i * 7 + seed as usize) % 5) as f64 - 2.0).collect();
            let mask: Vec<bool> = (0..n).map(|i| (i + seed as usize) % 4 != 0).collect();
            let eligible: Vec<bool> = (0..n).map(|i| (i * 3 + seed as usize) % 5 != 0).collect();
            let config = ClipCovConfig { fraction, low: 0.1, high: 8.0 };
            let mut sel = vec![false; n];
            let mut cov = vec![0.0; n];
            token_covariance(&lp, &adv, &mask, &mut cov).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let s = clip_cov_select(&config, &lp, &adv, &mask, &eligible, &mut rng, &mut sel).unwrap();
            let want = ((fraction * s.num_tokens as f64) as usize).max(1);
            prop_assert_eq!(s.selected, want.min(s.in_band));
            prop_assert_eq!(sel.iter().filter(|&&x| x).count(), s.selected);
            for i in 0..n {
                if sel[i] {
                    prop_assert!(mask[i] && eligible[i] && cov[i] > 0.1 && cov[i] < 8.0);
                }
            }
            // Deterministic from the generator's state.
            let mut again = vec![false; n];
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            clip_cov_select(&config, &lp, &adv, &mask, &eligible, &mut rng, &mut again).unwrap();
            prop_assert_eq!(sel, again);
        }
    }
}
