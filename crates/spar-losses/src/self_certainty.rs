//! Self-certainty of a next-token distribution (Zhao et al. 2025, "Learning to Reason without
//! External Rewards" (Intuitor); Kang et al. 2025, "Scalable Best-of-N Selection for Large
//! Language Models via Self-Certainty").
//!
//! For logits `z` over a vocabulary of size `V`:
//!
//! ```text
//! SC = logsumexp(z) − (1/V) Σ_j z_j  =  KL(Uniform ‖ p) + log V
//! ```
//! [`self_certainty_kl`] subtracts `log V` for the exact KL (≥ 0, 0 for uniform logits). The
//! sequence reward is the masked mean over the completion's tokens, detached
//! ([`sequence_self_certainty`]).
//!
//! ```
//! use spar_losses::self_certainty::{self_certainty, self_certainty_kl};
//! assert!((self_certainty(&[0.5; 8]).unwrap() - 8f64.ln()).abs() < 1e-12);
//! assert!(self_certainty_kl(&[0.5; 8]).unwrap().abs() < 1e-12);
//! ```

use crate::error::{check_finite, check_len, LossError};
use crate::math::logsumexp;

/// `logsumexp(z) − mean(z)` for one token's logits.
pub fn self_certainty(logits: &[f64]) -> Result<f64, LossError> {
    check_finite("logits", logits)?;
    if logits.is_empty() {
        return Err(LossError::Invalid {
            what: "empty logits",
        });
    }
    let mean = logits.iter().sum::<f64>() / logits.len() as f64;
    Ok(logsumexp(logits) - mean)
}

/// `KL(Uniform ‖ softmax(z)) = self_certainty(z) − log V`.
pub fn self_certainty_kl(logits: &[f64]) -> Result<f64, LossError> {
    Ok(self_certainty(logits)? - libm::log(logits.len() as f64))
}

/// Masked mean of per-token self-certainty; `logits` is row-major `[num_tokens * vocab]`.
/// An all-masked sequence gives 0.
pub fn sequence_self_certainty(
    logits: &[f64],
    vocab: usize,
    mask: &[bool],
) -> Result<f64, LossError> {
    if vocab == 0 {
        return Err(LossError::Invalid {
            what: "vocab must be >= 1",
        });
    }
    let expected = mask.len().checked_mul(vocab).ok_or(LossError::Invalid {
        what: "num_tokens * vocab overflows",
    })?;
    check_len("logits", logits.len(), expected)?;
    let (mut sum, mut n) = (0.0, 0usize);
    for (row, &m) in logits.chunks_exact(vocab).zip(mask) {
        if m {
            sum += self_certainty(row)?;
            n += 1;
        }
    }
    Ok(if n == 0 { 0.0 } else { sum / n as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_peaked_and_kl_identity() {
        assert!(self_certainty_kl(&[-3.0; 5]).unwrap().abs() < 1e-12);
        let peaked = self_certainty(&[20.0, 0.0, 0.0, 0.0]).unwrap();
        assert!(peaked > 14.9 && peaked > self_certainty(&[1.0, 0.0, 0.0, 0.0]).unwrap());
        // KL(U‖p) computed directly.
        let z = [1.0f64, -0.5, 2.0];
        let lse = (z.iter().map(|x| x.exp()).sum::<f64>()).ln();
        let kl: f64 = z
            .iter()
            .map(|x| (1.0 / 3.0) * ((1.0 / 3.0f64).ln() - (x - lse)))
            .sum();
        assert!((self_certainty_kl(&z).unwrap() - kl).abs() < 1e-12);
        let s = sequence_self_certainty(&[0.0, 0.0, 20.0, 0.0, 5.0, 5.0], 2, &[true, false, true])
            .unwrap();
        assert!((s - 2f64.ln()).abs() < 1e-12);
        assert!(self_certainty(&[]).is_err() && self_certainty(&[f64::NAN]).is_err());
        assert!(sequence_self_certainty(&[0.0; 3], 2, &[true]).is_err());
    }
}
