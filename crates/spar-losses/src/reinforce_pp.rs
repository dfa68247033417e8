//! REINFORCE++ advantages (Hu 2025, "REINFORCE++: A Simple and Efficient Approach for Aligning
//! Large Language Models"; verl `compute_reinforce_plus_plus_outcome_advantage` and
//! `compute_reinforce_plus_plus_baseline_outcome_advantage`).
//!
//! **REINFORCE++.** Token rewards carry the k1 KL to the reference, and the outcome reward sits
//! on the last valid token; returns are discounted sums (γ = 1 usual), reset at padding; the
//! advantage is the return whitened over **all valid tokens of the batch**:
//!
//! ```text
//! r_t = −β·(logp_old − logp_ref)_t  (+ R_i on the last valid token of completion i)
//! G_t = Σ_{s≥t} γ^{s−t} r_s
//! A_t = (G_t − mean) / sqrt(var + 1e-8)          (masked mean, unbiased masked variance)
//! ```
//! **REINFORCE++-baseline.** The group mean of the sequence score is subtracted first,
//! `s_i − mean_g(s)`, broadcast to the tokens, then whitened over the batch as above.
//!
//! After whitening the masked mean of A is 0 and its unbiased masked variance is `var/(var+1e-8)`.
//! Task-relative whitening (Absolute Zero) lives in [`crate::task_relative`].
//!
//! ```
//! use spar_losses::reinforce_pp::reinforce_pp_baseline_advantages;
//! let mask = [true, true, true, false];
//! let mut adv = [0.0; 4];
//! reinforce_pp_baseline_advantages(&[1.0, 0.0], 2, &mask, 2, 2, &mut adv).unwrap();
//! let mean: f64 = adv[..3].iter().sum::<f64>() / 3.0;
//! assert!(mean.abs() < 1e-12 && adv[3] == 0.0);
//! ```

use crate::error::{check_len, check_range, LossError};
use crate::layout::{check_finite_masked, check_groups, check_per_sequence, check_tokens};

/// The variance floor of verl's `masked_whiten`.
pub const WHITEN_EPSILON: f64 = 1e-8;

/// Discounted returns `G_t = r_t + γ G_{t+1}`, reset at padding (verl's loop), into `returns`.
pub fn discounted_returns(
    token_rewards: &[f64],
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    gamma: f64,
    returns: &mut [f64],
) -> Result<(), LossError> {
    check_tokens("token_rewards", token_rewards.len(), num_sequences, max_len)?;
    check_len("mask", mask.len(), token_rewards.len())?;
    check_len("returns", returns.len(), token_rewards.len())?;
    check_finite_masked("token_rewards", token_rewards, mask)?;
    check_range("gamma", gamma, 0.0, 1.0)?;
    for i in 0..num_sequences {
        let mut running = 0.0;
        for t in (0..max_len).rev() {
            let idx = i * max_len + t;
            if mask[idx] {
                running = token_rewards[idx] + gamma * running;
                returns[idx] = running;
            } else {
                // Padding holds no reward and breaks the chain (verl multiplies by the mask).
                running = 0.0;
                returns[idx] = 0.0;
            }
        }
    }
    Ok(())
}

/// Whitens `values` over the unmasked positions whose sequence passes `select`; writes only
/// those positions of `out`. Fewer than two selected tokens give 0 there.
pub(crate) fn whiten_selected(
    values: &[f64],
    mask: &[bool],
    max_len: usize,
    select: impl Fn(usize) -> bool,
    out: &mut [f64],
) {
    let chosen = |idx: usize| mask[idx] && select(idx / max_len.max(1));
    let (mut n, mut sum) = (0usize, 0.0);
    for (idx, &v) in values.iter().enumerate() {
        if chosen(idx) {
            n += 1;
            sum += v;
        }
    }
    if n == 0 {
        return;
    }
    let mean = sum / n as f64;
    let ss: f64 = values
        .iter()
        .enumerate()
        .filter(|&(idx, _)| chosen(idx))
        .map(|(_, &v)| (v - mean) * (v - mean))
        .sum();
    let var = if n > 1 { ss / (n - 1) as f64 } else { 0.0 };
    let inv = 1.0 / libm::sqrt(var + WHITEN_EPSILON);
    for (idx, (o, &v)) in out.iter_mut().zip(values).enumerate() {
        if chosen(idx) {
            *o = if n > 1 { (v - mean) * inv } else { 0.0 };
        }
    }
}

/// Whitens `values` over all unmasked tokens (verl `masked_whiten`); padding gets 0.
pub fn masked_whiten(values: &[f64], mask: &[bool], out: &mut [f64]) -> Result<(), LossError> {
    check_len("mask", mask.len(), values.len())?;
    check_len("out", out.len(), values.len())?;
    check_finite_masked("values", values, mask)?;
    out.iter_mut().for_each(|o| *o = 0.0);
    whiten_selected(values, mask, values.len().max(1), |_| true, out);
    Ok(())
}

/// Writes REINFORCE++ token rewards (k1 KL in the reward plus the outcome on the last valid
/// token) into `token_rewards`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reinforce_pp_token_rewards(
    outcome_rewards: &[f64],
    old_logprobs: &[f64],
    ref_logprobs: Option<&[f64]>,
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    beta: f64,
    token_rewards: &mut [f64],
) -> Result<(), LossError> {
    check_per_sequence("outcome_rewards", outcome_rewards, num_sequences)?;
    check_tokens("mask", mask.len(), num_sequences, max_len)?;
    check_len("old_logprobs", old_logprobs.len(), mask.len())?;
    check_finite_masked("old_logprobs", old_logprobs, mask)?;
    check_range("beta", beta, 0.0, f64::MAX)?;
    if let Some(r) = ref_logprobs {
        check_len("ref_logprobs", r.len(), mask.len())?;
        check_finite_masked("ref_logprobs", r, mask)?;
    } else if beta > 0.0 {
        return Err(LossError::Invalid {
            what: "beta > 0 needs ref_logprobs",
        });
    }
    for (i, &outcome) in outcome_rewards.iter().enumerate() {
        let mut last = None;
        for t in 0..max_len {
            let idx = i * max_len + t;
            token_rewards[idx] = match (mask[idx], ref_logprobs) {
                (true, Some(r)) if beta > 0.0 => -beta * (old_logprobs[idx] - r[idx]),
                _ => 0.0,
            };
            if mask[idx] {
                last = Some(idx);
            }
        }
        // An empty completion has no token to carry its reward (guard against index −1).
        if let Some(idx) = last {
            token_rewards[idx] += outcome;
        }
    }
    Ok(())
}

/// REINFORCE++ per-token advantages (`[num_sequences * max_len]`, 0 on padding).
///
/// `beta` is the KL-in-reward coefficient (needs `ref_logprobs` when > 0), `gamma` the
/// discount (1.0 in verl). Allocates one scratch vector of the token layout's size.
#[allow(clippy::too_many_arguments)]
pub fn reinforce_pp_advantages(
    outcome_rewards: &[f64],
    old_logprobs: &[f64],
    ref_logprobs: Option<&[f64]>,
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    beta: f64,
    gamma: f64,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    check_tokens("advantages", advantages.len(), num_sequences, max_len)?;
    let returns = reinforce_pp_returns(
        outcome_rewards,
        old_logprobs,
        ref_logprobs,
        mask,
        num_sequences,
        max_len,
        beta,
        gamma,
    )?;
    masked_whiten(&returns, mask, advantages)
}

/// REINFORCE++ per-token returns `G_t` (`[num_sequences * max_len]`): the KL-in-reward token
/// rewards with the outcome on the last token, discounted by `gamma`. Shared by the plain and
/// the task-relative (Absolute Zero) advantages, which differ only in how they whiten.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reinforce_pp_returns(
    outcome_rewards: &[f64],
    old_logprobs: &[f64],
    ref_logprobs: Option<&[f64]>,
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    beta: f64,
    gamma: f64,
) -> Result<alloc::vec::Vec<f64>, LossError> {
    let mut token_rewards = alloc::vec![0.0; num_sequences * max_len];
    reinforce_pp_token_rewards(
        outcome_rewards,
        old_logprobs,
        ref_logprobs,
        mask,
        num_sequences,
        max_len,
        beta,
        &mut token_rewards,
    )?;
    let mut returns = alloc::vec![0.0; token_rewards.len()];
    discounted_returns(
        &token_rewards,
        mask,
        num_sequences,
        max_len,
        gamma,
        &mut returns,
    )?;
    Ok(returns)
}

/// REINFORCE++-baseline: `s_i − mean_g(s)` broadcast to tokens, whitened over the batch.
/// Groups of size 1 keep their score (verl).
pub fn reinforce_pp_baseline_advantages(
    scores: &[f64],
    num_generations: usize,
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    check_per_sequence("scores", scores, num_sequences)?;
    check_groups(num_sequences, num_generations)?;
    check_tokens("mask", mask.len(), num_sequences, max_len)?;
    check_len("advantages", advantages.len(), mask.len())?;
    let mut centred = alloc::vec![0.0; mask.len()];
    for (g, s) in scores.chunks_exact(num_generations).enumerate() {
        let mean = if num_generations > 1 {
            s.iter().sum::<f64>() / num_generations as f64
        } else {
            0.0
        };
        for (j, &si) in s.iter().enumerate() {
            let i = g * num_generations + j;
            for t in 0..max_len {
                if mask[i * max_len + t] {
                    centred[i * max_len + t] = si - mean;
                }
            }
        }
    }
    masked_whiten(&centred, mask, advantages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use alloc::vec;
    use alloc::vec::Vec;

    fn masked_stats(a: &[f64], mask: &[bool]) -> (f64, f64) {
        let v: Vec<f64> = a.iter().zip(mask).filter(|p| *p.1).map(|p| *p.0).collect();
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (
            m,
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0),
        )
    }

    #[test]
    fn whitened_mean_zero_variance_one() {
        let mut rng = Rng::new(21);
        let (b, t) = (6, 7);
        let mask: Vec<bool> = (0..b * t).map(|i| i % t < 2 + (i / t) % 5).collect();
        let old: Vec<f64> = (0..b * t).map(|_| rng.range(-3.0, -0.1)).collect();
        let rf: Vec<f64> = (0..b * t).map(|_| rng.range(-3.0, -0.1)).collect();
        let rewards: Vec<f64> = (0..b).map(|i| (i % 2) as f64).collect();
        let mut a = vec![9.0; b * t];
        reinforce_pp_advantages(&rewards, &old, Some(&rf), &mask, b, t, 0.05, 1.0, &mut a).unwrap();
        let (m, v) = masked_stats(&a, &mask);
        assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-6, "{m} {v}");
        assert!(a.iter().zip(&mask).all(|(x, &mm)| mm || *x == 0.0));
        reinforce_pp_baseline_advantages(&rewards, 3, &mask, b, t, &mut a).unwrap();
        let (m, v) = masked_stats(&a, &mask);
        assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-6);
    }

    #[test]
    fn returns_hand_values() {
        // One sequence, rewards [1, 2, 3] then padding; γ = ½: G = [1 + 1 + 0.75, 2 + 1.5, 3].
        let mut g = [0.0; 4];
        discounted_returns(
            &[1.0, 2.0, 3.0, 5.0],
            &[true, true, true, false],
            1,
            4,
            0.5,
            &mut g,
        )
        .unwrap();
        assert_eq!(g, [2.75, 3.5, 3.0, 0.0]);
        // Outcome reward lands on the last valid token; the k1 KL term on every token.
        let mut r = [0.0; 4];
        reinforce_pp_token_rewards(
            &[1.0],
            &[-1.0, -2.0, -1.0, 0.0],
            Some(&[-1.5, -2.0, -1.0, 0.0]),
            &[true, true, false, false],
            1,
            4,
            0.1,
            &mut r,
        )
        .unwrap();
        assert!((r[0] + 0.05).abs() < 1e-15 && r[1] == 1.0 && r[2] == 0.0);
        // Empty completion: no token to index, no panic.
        reinforce_pp_token_rewards(&[1.0], &[0.0; 4], None, &[false; 4], 1, 4, 0.0, &mut r)
            .unwrap();
        assert_eq!(r, [0.0; 4]);
    }

    #[test]
    fn errors() {
        let mut a = [0.0; 4];
        assert!(reinforce_pp_advantages(
            &[f64::NAN],
            &[0.0; 4],
            None,
            &[true; 4],
            1,
            4,
            0.0,
            1.0,
            &mut a
        )
        .is_err());
        assert!(reinforce_pp_advantages(
            &[1.0],
            &[0.0; 4],
            None,
            &[true; 4],
            1,
            4,
            0.1,
            1.0,
            &mut a
        )
        .is_err());
        assert!(reinforce_pp_advantages(
            &[1.0],
            &[0.0; 3],
            None,
            &[true; 4],
            1,
            4,
            0.0,
            1.0,
            &mut a
        )
        .is_err());
        assert!(reinforce_pp_advantages(
            &[1.0],
            &[0.0; 4],
            None,
            &[true; 4],
            1,
            4,
            0.0,
            1.5,
            &mut a
        )
        .is_err());
        assert!(
            reinforce_pp_baseline_advantages(&[1.0, 2.0], 3, &[true; 4], 2, 2, &mut a).is_err()
        );
        // Empty mask: all zeros, no NaN.
        reinforce_pp_baseline_advantages(&[1.0, 2.0], 2, &[false; 4], 2, 2, &mut a).unwrap();
        assert_eq!(a, [0.0; 4]);
    }
}
