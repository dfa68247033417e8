//! Entropy bonus through the log-prob seam (T1, Hou et al. 2025, "Advancing Language Model
//! Reasoning through Reinforcement Learning and Inference Scaling"; verl `entropy_coeff`).
//!
//! The policy loss gains `− c · agg(H)`, with `H_t = −Σ_v p_v log p_v` the entropy of token
//! t's distribution and `agg` the same `loss_type` aggregation as the policy loss. The loss
//! sees only the entropies the model computed; it hands back per-token **entropy weights**
//!
//! ```text
//! e_t = ∂(−c·agg(H))/∂H_t = −c · w_t        (w_t = ∂agg/∂l_t, e.g. 1/N for token mean)
//! ```
//! and the model adds `e_t · ∂H_t/∂z_v = −e_t · p_v (log p_v + H_t)` to the logits' gradient
//! ([`entropy_logit_grad`] is that formula, for testing a backend against it). Descent on the
//! bonus raises the logits of tokens with `log p_v < −H_t` (the less likely ones).
//!
//! ```
//! use spar_losses::aggregation::LossType;
//! use spar_losses::entropy::entropy_bonus;
//! let h = [1.0, 2.0, 7.0];
//! let mask = [true, true, false];
//! let mut e = [0.0; 3];
//! let loss = entropy_bonus(&h, &mask, 1, 3, 0.01, LossType::Dapo, 0, &mut e).unwrap();
//! assert!((loss + 0.015).abs() < 1e-15);
//! assert_eq!(e, [-0.005, -0.005, 0.0]);
//! ```

use crate::aggregation::{aggregate, LossType};
use crate::error::{check_finite, check_len, check_range, LossError};
use crate::math::logsumexp;

/// Returns the bonus term `−c·agg(H)` and writes the entropy weights `e_t` into `weights`.
#[allow(clippy::too_many_arguments)]
pub fn entropy_bonus(
    entropies: &[f64],
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    entropy_coeff: f64,
    loss_type: LossType,
    max_completion_length: usize,
    weights: &mut [f64],
) -> Result<f64, LossError> {
    check_range("entropy_coeff", entropy_coeff, f64::MIN, f64::MAX)?;
    let agg = aggregate(
        entropies,
        mask,
        num_sequences,
        max_len,
        loss_type,
        max_completion_length,
        weights,
    )?;
    weights.iter_mut().for_each(|w| *w *= -entropy_coeff);
    Ok(-entropy_coeff * agg)
}

/// For one token's logits `z` (`[V]`) and entropy weight `e`, adds `e · ∂H/∂z` to `grad`
/// and returns `H`: `∂H/∂z_v = −p_v (log p_v + H)`.
pub fn entropy_logit_grad(logits: &[f64], weight: f64, grad: &mut [f64]) -> Result<f64, LossError> {
    check_len("grad", grad.len(), logits.len())?;
    check_finite("logits", logits)?;
    if logits.is_empty() {
        return Err(LossError::Invalid {
            what: "empty logits",
        });
    }
    let lse = logsumexp(logits);
    let mut h = 0.0;
    for &z in logits {
        let lp = z - lse;
        h -= libm::exp(lp) * lp;
    }
    for (g, &z) in grad.iter_mut().zip(logits) {
        let lp = z - lse;
        *g += weight * (-libm::exp(lp) * (lp + h));
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_grad_close, central_diff, Rng};
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn logit_gradient_matches_finite_differences_and_raises_rare_tokens() {
        let mut rng = Rng::new(22);
        for _ in 0..10 {
            let z: Vec<f64> = (0..6).map(|_| 2.0 * rng.normal()).collect();
            let mut g = vec![0.0; 6];
            entropy_logit_grad(&z, 1.0, &mut g).unwrap();
            let num = central_diff(&z, |z| entropy_logit_grad(z, 0.0, &mut [0.0; 6]).unwrap());
            assert_grad_close(&g, &num, 1e-7);
        }
        // Bonus loss −c·H with weight e = −c: descent (−grad) raises the rare token's logit.
        let z = [3.0, 0.0, -2.0];
        let mut g = [0.0; 3];
        entropy_logit_grad(&z, -0.1, &mut g).unwrap();
        assert!(g[2] < 0.0 && g[0] > 0.0);
    }

    #[test]
    fn weights_are_minus_coeff_times_aggregation_weights_for_every_mode() {
        let h = [0.5, 1.5, 2.0, 0.1, 0.0, 0.0];
        let mask = [true, true, true, true, false, false];
        for mode in [
            LossType::Grpo,
            LossType::Bnpo,
            LossType::DrGrpo,
            LossType::Dapo,
        ] {
            let mut e = [0.0; 6];
            let l = entropy_bonus(&h, &mask, 2, 3, 0.3, mode, 5, &mut e).unwrap();
            let num = central_diff(&h, |x| {
                entropy_bonus(x, &mask, 2, 3, 0.3, mode, 5, &mut [0.0; 6]).unwrap()
            });
            let masked: Vec<f64> = num
                .iter()
                .zip(&mask)
                .map(|(n, &m)| if m { *n } else { 0.0 })
                .collect();
            assert_grad_close(&e, &masked, 1e-8);
            assert!(l < 0.0);
        }
        let mut e = [0.0; 6];
        assert_eq!(
            entropy_bonus(&h, &[false; 6], 2, 3, 0.3, LossType::Grpo, 5, &mut e).unwrap(),
            0.0
        );
        assert!(e.iter().all(|&x| x == 0.0));
        assert!(entropy_bonus(&h, &mask, 2, 3, f64::NAN, LossType::Grpo, 5, &mut e).is_err());
    }
}
