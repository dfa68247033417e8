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

/// Number of `true` entries, counted in byte lanes (255 at a time, so a lane never overflows):
/// several times faster than `filter(..).count()` on long masks.
#[inline]
pub(crate) fn count_true(mask: &[bool]) -> usize {
    mask.chunks(255)
        .map(|c| c.iter().fold(0u8, |n, &m| n + u8::from(m)) as usize)
        .sum()
}

/// One past the index of the last `true` entry (0 if there is none), scanning 32 entries at a
/// time from the end: padding usually fills a row's tail.
#[inline]
pub(crate) fn end_of_mask(mask: &[bool]) -> usize {
    const STEP: usize = 32;
    let mut end = mask.len();
    while end >= STEP && !mask[end - STEP..end].iter().fold(false, |a, &m| a | m) {
        end -= STEP;
    }
    mask[..end].iter().rposition(|&m| m).map_or(0, |e| e + 1)
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn mask_counts_and_ends_match_the_plain_scans() {
        let mut state = 12345u64;
        for len in [0usize, 1, 31, 32, 33, 254, 255, 256, 600, 2000] {
            for density in [0u64, 1, 50, 100] {
                let mask: Vec<bool> = (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        (state >> 33) % 100 < density
                    })
                    .collect();
                let count = mask.iter().filter(|&&m| m).count();
                let end = mask.iter().rposition(|&m| m).map_or(0, |e| e + 1);
                assert_eq!(count_true(&mask), count, "{len} {density}");
                assert_eq!(end_of_mask(&mask), end, "{len} {density}");
                // A prefix mask (the usual padding layout).
                let prefix: Vec<bool> = (0..len).map(|k| k < len / 3).collect();
                assert_eq!(end_of_mask(&prefix), len / 3);
                assert_eq!(count_true(&prefix), len / 3);
            }
        }
    }
}
