//! Sequence log-probabilities from token log-probs, and the spreading of a sequence-level
//! gradient back over the tokens.
//!
//! Preference losses work on sequence log-probs `logπ(y|x)`, either the **sum** over the
//! completion's unmasked tokens (DPO, SPPO) or the **length mean** (IPO as TRL computes it,
//! SimPO). With `n_i = |o_i|`:
//!
//! ```text
//! Sum:   S_i = Σ_t m[i,t] logp[i,t]          ∂L/∂logp[i,t] = m[i,t] · ∂L/∂S_i
//! Mean:  S_i = (1/n_i) Σ_t m[i,t] logp[i,t]  ∂L/∂logp[i,t] = m[i,t] · ∂L/∂S_i / n_i
//! ```
//! An empty completion has `S_i = 0` and receives no gradient. Token data use the layout of
//! [`crate::layout`].
//!
//! ```
//! use spar_losses::sequence::{sequence_logprobs, spread_sequence_grad, SeqReduction};
//! let lp = [-1.0, -3.0, -2.0, 0.0];
//! let mask = [true, true, true, false];
//! let mut s = [0.0; 2];
//! sequence_logprobs(&lp, &mask, 2, 2, SeqReduction::Mean, &mut s).unwrap();
//! assert_eq!(s, [-2.0, -2.0]);
//! let mut g = [0.0; 4];
//! spread_sequence_grad(&[1.0, 1.0], &mask, 2, 2, SeqReduction::Mean, &mut g).unwrap();
//! assert_eq!(g, [0.5, 0.5, 1.0, 0.0]);
//! ```

use crate::error::{check_len, LossError};
use crate::layout::{check_finite_masked, check_per_sequence, check_tokens};

/// How token log-probs are reduced to a sequence log-prob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeqReduction {
    /// `Σ_t logp` (DPO, SPPO, DNO).
    #[default]
    Sum,
    /// `(1/|o|) Σ_t logp` (IPO in TRL, SimPO).
    Mean,
}

fn check_mask_and(
    token_len: usize,
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
) -> Result<(), LossError> {
    check_tokens("mask", mask.len(), num_sequences, max_len)?;
    check_len("token slice", token_len, mask.len())
}

/// Sequence log-probs (`[num_sequences]`) from token log-probs (`[num_sequences * max_len]`).
pub fn sequence_logprobs(
    token_logprobs: &[f64],
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    reduction: SeqReduction,
    out: &mut [f64],
) -> Result<(), LossError> {
    check_mask_and(token_logprobs.len(), mask, num_sequences, max_len)?;
    check_len("out", out.len(), num_sequences)?;
    check_finite_masked("token_logprobs", token_logprobs, mask)?;
    for (i, o) in out.iter_mut().enumerate() {
        let row = i * max_len..(i + 1) * max_len;
        let (mut sum, mut n) = (0.0, 0usize);
        for (&lp, &m) in token_logprobs[row.clone()].iter().zip(&mask[row]) {
            if m {
                sum += lp;
                n += 1;
            }
        }
        *o = match reduction {
            SeqReduction::Sum => sum,
            SeqReduction::Mean if n > 0 => sum / n as f64,
            SeqReduction::Mean => 0.0,
        };
    }
    Ok(())
}

/// Spreads `∂L/∂S_i` (`[num_sequences]`) over the tokens: writes `∂L/∂logp[i,t]` into
/// `token_grad` (`[num_sequences * max_len]`, overwritten, zero on padding).
pub fn spread_sequence_grad(
    seq_grad: &[f64],
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    reduction: SeqReduction,
    token_grad: &mut [f64],
) -> Result<(), LossError> {
    check_mask_and(token_grad.len(), mask, num_sequences, max_len)?;
    check_per_sequence("seq_grad", seq_grad, num_sequences)?;
    for (i, &gs) in seq_grad.iter().enumerate() {
        let row = i * max_len..(i + 1) * max_len;
        let n = mask[row.clone()].iter().filter(|&&m| m).count();
        let w = match reduction {
            SeqReduction::Sum => gs,
            SeqReduction::Mean if n > 0 => gs / n as f64,
            SeqReduction::Mean => 0.0,
        };
        for (g, &m) in token_grad[row.clone()].iter_mut().zip(&mask[row]) {
            *g = if m { w } else { 0.0 };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_grad_close, central_diff};

    #[test]
    fn spread_is_the_chain_rule_of_the_reduction() {
        // L = Σ_i c_i S_i ⇒ ∂L/∂logp = spread(c).
        let lp = [-1.0, -3.0, 7.0, -2.0, -0.5, -0.25];
        let mask = [true, true, false, true, false, true];
        let c = [0.7, -1.3];
        for red in [SeqReduction::Sum, SeqReduction::Mean] {
            let mut g = [0.0; 6];
            spread_sequence_grad(&c, &mask, 2, 3, red, &mut g).unwrap();
            let num = central_diff(&lp, |x| {
                let mut s = [0.0; 2];
                sequence_logprobs(x, &mask, 2, 3, red, &mut s).unwrap();
                c[0] * s[0] + c[1] * s[1]
            });
            assert_grad_close(&g, &num, 1e-8);
        }
    }

    #[test]
    fn empty_and_errors() {
        let mut s = [1.0];
        sequence_logprobs(
            &[f64::NAN, 0.0],
            &[false, false],
            1,
            2,
            SeqReduction::Mean,
            &mut s,
        )
        .unwrap();
        assert_eq!(s, [0.0]);
        assert!(sequence_logprobs(
            &[f64::NAN, 0.0],
            &[true, false],
            1,
            2,
            SeqReduction::Sum,
            &mut s
        )
        .is_err());
        assert!(sequence_logprobs(&[0.0; 3], &[true; 2], 1, 2, SeqReduction::Sum, &mut s).is_err());
        let mut g = [1.0; 2];
        spread_sequence_grad(&[2.0], &[false, false], 1, 2, SeqReduction::Mean, &mut g).unwrap();
        assert_eq!(g, [0.0, 0.0]);
        assert!(
            spread_sequence_grad(&[f64::NAN], &[true, true], 1, 2, SeqReduction::Sum, &mut g)
                .is_err()
        );
    }
}
