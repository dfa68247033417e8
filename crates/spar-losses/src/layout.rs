//! The token layout shared by every per-token function.
//!
//! Per-token data (log-probs, advantages, gradients, entropies) are flat row-major slices of
//! shape `(num_sequences, max_len)`: token `t` of sequence `i` lives at `i * max_len + t`.
//! A `mask` slice of the same shape marks the real completion tokens (`true`, EOS included)
//! against padding (`false`). Masks may have holes (e.g. tool output inside a completion);
//! a sequence's length `|o_i|` is its number of `true` entries. Values at masked-out positions
//! are never read, and gradients written there are exactly zero.

use crate::error::{check_finite, check_len, LossError};

/// Validates that `len == num_sequences * max_len` for the slice named `what`.
pub(crate) fn check_tokens(
    what: &'static str,
    len: usize,
    num_sequences: usize,
    max_len: usize,
) -> Result<(), LossError> {
    let expected = num_sequences
        .checked_mul(max_len)
        .ok_or(LossError::Invalid {
            what: "num_sequences * max_len overflows",
        })?;
    check_len(what, len, expected)
}

/// Checks that every unmasked value is finite (padding may hold anything).
pub(crate) fn check_finite_masked(
    what: &'static str,
    values: &[f64],
    mask: &[bool],
) -> Result<(), LossError> {
    match values
        .iter()
        .zip(mask)
        .position(|(v, &m)| m && !v.is_finite())
    {
        None => Ok(()),
        Some(index) => Err(LossError::NonFinite { what, index }),
    }
}

/// Checks that `num_generations ≥ 1` divides `num_sequences` (groups are consecutive runs of
/// `num_generations` sequences, TRL's layout).
pub(crate) fn check_groups(num_items: usize, num_generations: usize) -> Result<(), LossError> {
    if num_generations == 0 || num_items % num_generations != 0 {
        return Err(LossError::Invalid {
            what: "num_generations must be >= 1 and divide the number of sequences",
        });
    }
    Ok(())
}

/// Checks a per-sequence value slice: right length and finite.
pub(crate) fn check_per_sequence(
    what: &'static str,
    values: &[f64],
    num_sequences: usize,
) -> Result<(), LossError> {
    check_len(what, values.len(), num_sequences)?;
    check_finite(what, values)
}

/// Number of unmasked tokens of each row, written into `lengths` (no allocation).
pub fn sequence_lengths(mask: &[bool], max_len: usize, lengths: &mut [usize]) {
    if max_len == 0 {
        lengths.iter_mut().for_each(|l| *l = 0);
        return;
    }
    for (l, row) in lengths.iter_mut().zip(mask.chunks_exact(max_len)) {
        *l = row.iter().filter(|&&m| m).count();
    }
}
