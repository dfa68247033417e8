//! Self-certainty as the reward (Zhao et al. 2025, "Learning to Reason without External
//! Rewards" (Intuitor); Kang et al. 2025): the mean over a completion's tokens of
//!
//! ```text
//! SC_t = KL(Uniform ‖ p_t) = logsumexp(z_t) − mean_j z_j − log V
//! ```
//! where `z_t` are the logits that produced token `t`. Detached: the reward is a number, the
//! gradient flows only through the policy loss. Confident completions score high; no answer
//! and no label is needed.

use crate::rewards::check_out;
use crate::TrainError;
use alloc::vec::Vec;
use spar_losses::self_certainty::self_certainty_kl;

/// Rewards from per-token logits: `logits` is `[num_tokens × vocab]` row-major (f32, as the
/// model computes them), `owner[t]` the completion the token belongs to; writes the mean
/// self-certainty of each completion into `rewards` (0 for a completion without tokens).
pub fn self_certainty_rewards(
    logits: &[f32],
    vocab: usize,
    owner: &[usize],
    rewards: &mut [f64],
) -> Result<(), TrainError> {
    if vocab == 0 {
        return Err(TrainError::Config("vocab must be at least 1".into()));
    }
    check_out("logits", logits.len(), owner.len() * vocab)?;
    let mut counts = alloc::vec![0usize; rewards.len()];
    rewards.iter_mut().for_each(|r| *r = 0.0);
    let mut row: Vec<f64> = Vec::with_capacity(vocab);
    for (z, &i) in logits.chunks_exact(vocab).zip(owner) {
        if i >= rewards.len() {
            return Err(TrainError::Config(alloc::format!(
                "token owner {i} is not below the number of completions {}",
                rewards.len()
            )));
        }
        row.clear();
        row.extend(z.iter().map(|&x| x as f64));
        rewards[i] += self_certainty_kl(&row)?;
        counts[i] += 1;
    }
    for (r, &n) in rewards.iter_mut().zip(&counts) {
        if n > 0 {
            *r /= n as f64;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_logits_score_zero_and_peaked_logits_score_high() {
        // Completion 0: two uniform tokens; completion 1: one peaked token.
        let logits = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 9.0, 0.0, 0.0];
        let mut r = [0.0; 2];
        self_certainty_rewards(&logits, 3, &[0, 0, 1], &mut r).unwrap();
        assert!(r[0].abs() < 1e-12);
        // Hand value: lse(9,0,0) − 3 − ln 3.
        let lse = 9.0 + (1.0 + 2.0 * (-9.0f64).exp()).ln();
        assert!((r[1] - (lse - 3.0 - 3f64.ln())).abs() < 1e-9);
    }

    #[test]
    fn owners_out_of_range_are_errors() {
        let mut r = [0.0; 1];
        assert!(self_certainty_rewards(&[0.0, 0.0], 2, &[1], &mut r).is_err());
        assert!(self_certainty_rewards(&[0.0, 0.0], 2, &[0, 0], &mut r).is_err());
    }
}
