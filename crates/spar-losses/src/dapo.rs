//! DAPO building blocks (Yu et al. 2025, "DAPO: An Open-Source LLM Reinforcement Learning System at
//! Scale"; verl `recipe/dapo`): overlong reward shaping, overlong filtering and the zero-spread
//! group filter of dynamic sampling. DAPO's loss itself is [`crate::ppo_clip::policy_loss`]
//! with `loss_type = dapo`, `epsilon = 0.2`, `epsilon_high = 0.28`, `beta = 0`.
//!
//! **Overlong penalty** (added to the task score), `L_max` = `max_completion_length`,
//! `L_cache` = `overlong_buffer_len`:
//!
//! ```text
//! expected = L_max − L_cache,   exceed = |o| − expected
//! R_len    = min(−exceed / L_cache · factor, 0)        (0 up to `expected`, −factor at L_max)
//! ```
//! **Dynamic sampling**: keep a group iff its scores are not all equal (std > 0) or it has a
//! single rollout.
//!
//! ```
//! use spar_losses::dapo::{dynamic_sampling_keep, overlong_penalty};
//! assert_eq!(overlong_penalty(20480, 20480, 4096, 1.0).unwrap(), -1.0);
//! let mut keep = [false; 2];
//! dynamic_sampling_keep(&[1.0, 1.0, 0.0, 1.0], 2, &mut keep).unwrap();
//! assert_eq!(keep, [false, true]);
//! ```

use crate::error::{check_len, check_range, LossError};
use crate::layout::{check_groups, check_per_sequence, check_tokens};

/// DAPO's soft overlong penalty for a completion of `length` tokens.
pub fn overlong_penalty(
    length: usize,
    max_completion_length: usize,
    overlong_buffer_len: usize,
    factor: f64,
) -> Result<f64, LossError> {
    if overlong_buffer_len == 0 || overlong_buffer_len > max_completion_length {
        return Err(LossError::Invalid {
            what: "overlong_buffer_len must be in 1..=max_completion_length",
        });
    }
    check_range("overlong_penalty_factor", factor, 0.0, f64::MAX)?;
    let expected = (max_completion_length - overlong_buffer_len) as f64;
    let exceed = length as f64 - expected;
    Ok((-exceed / overlong_buffer_len as f64 * factor).min(0.0))
}

/// Writes `keep[g]` for each group of `num_generations` scores; returns the kept count.
pub fn dynamic_sampling_keep(
    scores: &[f64],
    num_generations: usize,
    keep: &mut [bool],
) -> Result<usize, LossError> {
    check_per_sequence("scores", scores, scores.len())?;
    check_groups(scores.len(), num_generations)?;
    check_len("keep", keep.len(), scores.len() / num_generations)?;
    let mut kept = 0;
    for (k, s) in keep.iter_mut().zip(scores.chunks_exact(num_generations)) {
        *k = num_generations == 1 || s.windows(2).any(|w| w[0] != w[1]);
        kept += usize::from(*k);
    }
    Ok(kept)
}

/// Overlong filtering: clears the mask rows of truncated completions so they leave the loss.
pub fn overlong_filter(
    mask: &mut [bool],
    num_sequences: usize,
    max_len: usize,
    truncated: &[bool],
) -> Result<(), LossError> {
    check_tokens("mask", mask.len(), num_sequences, max_len)?;
    check_len("truncated", truncated.len(), num_sequences)?;
    for (i, &tr) in truncated.iter().enumerate() {
        if tr {
            mask[i * max_len..(i + 1) * max_len]
                .iter_mut()
                .for_each(|m| *m = false);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overlong_penalty_anchor_points() {
        let (lmax, cache) = (20480, 4096);
        assert_eq!(
            overlong_penalty(lmax - cache, lmax, cache, 1.0).unwrap(),
            0.0
        );
        assert_eq!(overlong_penalty(100, lmax, cache, 1.0).unwrap(), 0.0);
        assert_eq!(overlong_penalty(lmax, lmax, cache, 1.0).unwrap(), -1.0);
        assert_eq!(
            overlong_penalty(lmax - cache / 2, lmax, cache, 1.0).unwrap(),
            -0.5
        );
        assert!(overlong_penalty(10, 10, 0, 1.0).is_err());
        assert!(overlong_penalty(10, 10, 11, 1.0).is_err());
        assert!(overlong_penalty(10, 10, 5, f64::NAN).is_err());
        let mut m = [true; 4];
        overlong_filter(&mut m, 2, 2, &[false, true]).unwrap();
        assert_eq!(m, [true, true, false, false]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn filter_removes_exactly_constant_groups(
            g in 1usize..6, bits in proptest::collection::vec(0u8..3, 30),
        ) {
            let groups = 30 / g;
            let s: Vec<f64> = bits[..groups * g].iter().map(|&b| b as f64).collect();
            let mut keep = vec![false; groups];
            let kept = dynamic_sampling_keep(&s, g, &mut keep).unwrap();
            prop_assert_eq!(kept, keep.iter().filter(|&&k| k).count());
            for (k, grp) in keep.iter().zip(s.chunks(g)) {
                let constant = grp.iter().all(|&x| x == grp[0]);
                prop_assert_eq!(*k, g == 1 || !constant);
            }
        }
    }
}
