//! Loss aggregation modes, named as TRL's `loss_type` (verl's `loss_agg_mode` in brackets).
//!
//! For a per-token loss `l[i,t]`, mask `m[i,t]`, `B` sequences, `|o_i| = Σ_t m[i,t]`:
//!
//! | `loss_type` | formula | verl name |
//! |---|---|---|
//! | `grpo`    | `(1/B') Σ_i (1/|o_i|) Σ_t l·m`, `B'` = sequences with `|o_i| > 0` | `seq-mean-token-mean` |
//! | `bnpo`    | `Σ_{i,t} l·m / Σ_{i,t} m` | `token-mean` |
//! | `dr_grpo` | `Σ_{i,t} l·m / (B · max_completion_length)` | `seq-mean-token-sum-norm` |
//! | `dapo`    | `Σ_{i,t} l·m / Σ_{i,t} m` | `token-mean` |
//!
//! `bnpo` and `dapo` differ in TRL only across processes and gradient-accumulation steps (local
//! vs global token count); in one call they coincide, and both names are kept for TRL users.
//! Empty sequences are dropped from `grpo`'s mean (TRL would count them as zero, verl would
//! produce NaN); an all-empty batch has loss 0 and gradient 0 in every mode.
//!
//! ```
//! use spar_losses::aggregation::{aggregate, LossType};
//! // Two sequences, lengths 1 and 3, per-token loss 1 everywhere.
//! let l = [1.0; 6];
//! let m = [true, false, false, true, true, true];
//! let mut w = [0.0; 6];
//! let tok = aggregate(&l, &m, 2, 3, LossType::Dapo, 0, &mut w).unwrap();
//! let seq = aggregate(&l, &m, 2, 3, LossType::Grpo, 0, &mut w).unwrap();
//! assert!((tok - 1.0).abs() < 1e-15 && (seq - 1.0).abs() < 1e-15);
//! assert!((w[0] - 0.5).abs() < 1e-15 && (w[3] - 1.0 / 6.0).abs() < 1e-15);
//! ```

use crate::error::{check_len, LossError};
use crate::layout::{check_finite_masked, check_tokens, count_true};

/// How per-token losses are reduced to one number (TRL's `loss_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossType {
    /// Mean over sequences of the per-sequence token mean (DeepSeekMath GRPO).
    Grpo,
    /// Token mean over the batch (TRL `bnpo`).
    Bnpo,
    /// Token sum divided by `B · max_completion_length`, a constant (Dr. GRPO).
    DrGrpo,
    /// Token mean over the batch (DAPO; TRL's default).
    #[default]
    Dapo,
}

/// Per-token aggregation weights `∂L/∂l[i,t]` for one batch: only the normalisers are stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AggWeights {
    loss_type: LossType,
    /// `1/Σm` (bnpo, dapo), `1/B'` (grpo), `1/(B·T_max)` (dr_grpo); 0 for an empty batch.
    scale: f64,
}

impl AggWeights {
    /// Counts the mask once and fixes the normalisers.
    pub(crate) fn new(
        mask: &[bool],
        num_sequences: usize,
        max_len: usize,
        loss_type: LossType,
        max_completion_length: usize,
    ) -> Result<Self, LossError> {
        let scale = match loss_type {
            LossType::Bnpo | LossType::Dapo => {
                let n = count_true(mask);
                if n == 0 {
                    0.0
                } else {
                    1.0 / n as f64
                }
            }
            LossType::Grpo => {
                let nonempty = if max_len == 0 {
                    0
                } else {
                    mask.chunks_exact(max_len)
                        .filter(|row| row.iter().any(|&m| m))
                        .count()
                };
                if nonempty == 0 {
                    0.0
                } else {
                    1.0 / nonempty as f64
                }
            }
            LossType::DrGrpo => {
                if max_completion_length == 0 {
                    return Err(LossError::OutOfRange {
                        what: "max_completion_length",
                        value: 0.0,
                    });
                }
                if num_sequences == 0 {
                    0.0
                } else {
                    1.0 / (num_sequences as f64 * max_completion_length as f64)
                }
            }
        };
        Ok(Self { loss_type, scale })
    }

    /// The weight of each token of a sequence with `len` unmasked tokens.
    #[inline]
    pub(crate) fn token_weight(&self, len: usize) -> f64 {
        match self.loss_type {
            LossType::Grpo if len > 0 => self.scale / len as f64,
            LossType::Grpo => 0.0,
            _ => self.scale,
        }
    }
}

/// Aggregates a per-token loss by `loss_type`, returns the loss and writes `∂L/∂l[i,t]` into
/// `weights` (zero on masked positions).
///
/// `max_completion_length` is only read by [`LossType::DrGrpo`], where it must be ≥ 1.
pub fn aggregate(
    per_token_loss: &[f64],
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    loss_type: LossType,
    max_completion_length: usize,
    weights: &mut [f64],
) -> Result<f64, LossError> {
    check_tokens(
        "per_token_loss",
        per_token_loss.len(),
        num_sequences,
        max_len,
    )?;
    check_len("mask", mask.len(), per_token_loss.len())?;
    check_len("weights", weights.len(), per_token_loss.len())?;
    check_finite_masked("per_token_loss", per_token_loss, mask)?;
    let agg = AggWeights::new(
        mask,
        num_sequences,
        max_len,
        loss_type,
        max_completion_length,
    )?;
    let mut loss = 0.0;
    if max_len == 0 {
        return Ok(0.0);
    }
    for ((l, m), w) in per_token_loss
        .chunks_exact(max_len)
        .zip(mask.chunks_exact(max_len))
        .zip(weights.chunks_exact_mut(max_len))
    {
        let len = m.iter().filter(|&&x| x).count();
        let wt = agg.token_weight(len);
        for ((&li, &mi), wi) in l.iter().zip(m).zip(w.iter_mut()) {
            *wi = if mi { wt } else { 0.0 };
            if mi {
                loss += wt * li;
            }
        }
    }
    Ok(loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODES: [LossType; 4] = [
        LossType::Grpo,
        LossType::Bnpo,
        LossType::DrGrpo,
        LossType::Dapo,
    ];

    #[test]
    fn equal_lengths_token_mean_equals_sequence_mean() {
        let l = [1.0, 2.0, 3.0, 4.0, 10.0, 20.0];
        let m = [true, true, false, true, true, false];
        let mut w = [0.0; 6];
        let a = aggregate(&l, &m, 2, 3, LossType::Dapo, 0, &mut w).unwrap();
        let b = aggregate(&l, &m, 2, 3, LossType::Grpo, 0, &mut w).unwrap();
        assert!((a - b).abs() < 1e-14 && (a - 17.0 / 4.0).abs() < 1e-14);
    }

    #[test]
    fn unequal_lengths_token_mean_weights_long_sequences_more() {
        // Seq 0: one token of loss 0; seq 1: three tokens of loss 1.
        let l = [0.0, 9.0, 9.0, 1.0, 1.0, 1.0];
        let m = [true, false, false, true, true, true];
        let mut w = [0.0; 6];
        let tok = aggregate(&l, &m, 2, 3, LossType::Dapo, 0, &mut w).unwrap();
        let seq = aggregate(&l, &m, 2, 3, LossType::Grpo, 0, &mut w).unwrap();
        assert!((tok - 0.75).abs() < 1e-15 && (seq - 0.5).abs() < 1e-15);
        let dr = aggregate(&l, &m, 2, 3, LossType::DrGrpo, 8, &mut w).unwrap();
        assert!((dr - 3.0 / 16.0).abs() < 1e-15);
        // Dr. GRPO's weight is the same for every token, whatever its sequence's length.
        assert_eq!(w[0], w[3]);
    }

    #[test]
    fn empty_batch_is_zero_and_bad_input_errors() {
        let l = [5.0; 4];
        let m = [false; 4];
        let mut w = [1.0; 4];
        for mode in MODES {
            assert_eq!(aggregate(&l, &m, 2, 2, mode, 4, &mut w).unwrap(), 0.0);
            assert!(w.iter().all(|&x| x == 0.0));
        }
        assert!(aggregate(&l, &m, 2, 2, LossType::DrGrpo, 0, &mut w).is_err());
        assert!(aggregate(&l, &m, 3, 2, LossType::Dapo, 0, &mut w).is_err());
        let nan = [f64::NAN, 0.0, 0.0, 0.0];
        assert!(aggregate(&nan, &[true; 4], 2, 2, LossType::Dapo, 0, &mut w).is_err());
        // NaN in padding is never read.
        assert!(aggregate(
            &nan,
            &[false, true, true, true],
            2,
            2,
            LossType::Dapo,
            0,
            &mut w
        )
        .is_ok());
    }
}
