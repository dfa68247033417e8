//! Task-relative REINFORCE++ (Zhao et al. 2025, "Absolute Zero: Reinforced Self-play Reasoning
//! with Zero Data"; LeapLabTHU/Absolute-Zero-Reasoner).
//!
//! Absolute Zero trains one model as proposer and solver on three task types; it whitens the
//! REINFORCE++ returns **separately for each (task type × role) category** (6 baselines):
//!
//! ```text
//! A_t = (G_t − mean_c) / sqrt(var_c + 1e-8),   c = category of the completion holding t
//! ```
//! with the masked mean and unbiased variance taken over the tokens of category `c` only.
//! Categories are plain `usize` ids chosen by the caller.
//!
//! ```
//! use spar_losses::task_relative::task_relative_advantages;
//! // Two categories with very different reward scales both come out centred.
//! let mask = [true; 4];
//! let mut adv = [0.0; 4];
//! task_relative_advantages(&[1.0, 0.0, 100.0, 50.0], &[0, 0, 1, 1], &[0.0; 4], None, &mask, 4, 1, 0.0, 1.0, &mut adv).unwrap();
//! assert!((adv[0] + adv[1]).abs() < 1e-12 && (adv[2] + adv[3]).abs() < 1e-12);
//! ```

use crate::error::{check_len, LossError};
use crate::layout::check_tokens;
use crate::reinforce_pp::{reinforce_pp_returns, whiten_selected};

/// REINFORCE++ advantages whitened within each category (`categories[i]` per completion).
#[allow(clippy::too_many_arguments)]
pub fn task_relative_advantages(
    outcome_rewards: &[f64],
    categories: &[usize],
    old_logprobs: &[f64],
    ref_logprobs: Option<&[f64]>,
    mask: &[bool],
    num_sequences: usize,
    max_len: usize,
    beta: f64,
    gamma: f64,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    check_len("categories", categories.len(), num_sequences)?;
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
    advantages.iter_mut().for_each(|a| *a = 0.0);
    let mut seen: alloc::vec::Vec<usize> = categories.to_vec();
    seen.sort_unstable();
    seen.dedup();
    for c in seen {
        whiten_selected(&returns, mask, max_len, |i| categories[i] == c, advantages);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reinforce_pp::reinforce_pp_advantages;

    #[test]
    fn each_category_is_whitened_on_its_own() {
        let r = [1.0, 0.0, 1.0, 10.0, 30.0, 20.0];
        let cats = [0, 0, 0, 1, 1, 1];
        let mask = [
            true, true, false, true, true, true, true, false, true, true, true, true,
        ];
        let mut a = [0.0; 12];
        task_relative_advantages(&r, &cats, &[0.0; 12], None, &mask, 6, 2, 0.0, 1.0, &mut a)
            .unwrap();
        for c in 0..2 {
            let v: Vec<f64> = (0..12)
                .filter(|&i| mask[i] && cats[i / 2] == c)
                .map(|i| a[i])
                .collect();
            let n = v.len() as f64;
            let m = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
            assert!(
                m.abs() < 1e-12 && (var - 1.0).abs() < 1e-6,
                "{c}: {m} {var}"
            );
        }
        // One category is plain REINFORCE++.
        let mut b = [0.0; 12];
        task_relative_advantages(&r, &[3; 6], &[0.0; 12], None, &mask, 6, 2, 0.0, 1.0, &mut a)
            .unwrap();
        reinforce_pp_advantages(&r, &[0.0; 12], None, &mask, 6, 2, 0.0, 1.0, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(task_relative_advantages(
            &r,
            &cats[..5],
            &[0.0; 12],
            None,
            &mask,
            6,
            2,
            0.0,
            1.0,
            &mut a
        )
        .is_err());
    }
}
