//! TTRL majority-vote pseudo-labels (Zuo et al. 2025, "TTRL: Test-Time Reinforcement
//! Learning"). Per group of `G` completions of one prompt:
//!
//! ```text
//! ŷ   = the most frequent parsable answer (ties: the first to appear)
//! r_i = 1 if answer_i = ŷ, else 0          (no parsable answer in the group: all 0)
//! ```
//! Once every completion agrees, every reward is 1 and GRPO's advantages vanish: the signal
//! fades as the model sharpens (the collapse BASELINES.md reports for TRL).

use crate::rewards::{check_groups, check_out};
use crate::TrainError;
use alloc::vec::Vec;
use spar_tasks::{majority_vote, Answer};

/// Writes the majority-vote rewards of each group into `rewards` and returns each group's
/// pseudo-label (`None` when nothing in the group parsed).
pub fn majority_vote_rewards(
    answers: &[Option<Answer>],
    num_generations: usize,
    rewards: &mut [f64],
) -> Result<Vec<Option<Answer>>, TrainError> {
    check_groups(answers.len(), num_generations)?;
    check_out("rewards", rewards.len(), answers.len())?;
    let mut labels = Vec::with_capacity(answers.len() / num_generations);
    for (group, r) in answers
        .chunks_exact(num_generations)
        .zip(rewards.chunks_exact_mut(num_generations))
    {
        let label = majority_vote(group).map(|v| v.answer);
        grade(group, label.as_ref(), r);
        labels.push(label);
    }
    Ok(labels)
}

/// `r_i = 1` where `answers[i]` equals `label` (never when the label is `None`).
pub(crate) fn grade(answers: &[Option<Answer>], label: Option<&Answer>, rewards: &mut [f64]) {
    for (r, a) in rewards.iter_mut().zip(answers) {
        *r = match (a, label) {
            (Some(a), Some(l)) if a == l => 1.0,
            _ => 0.0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(x: i64) -> Option<Answer> {
        Some(Answer::Int(x))
    }

    #[test]
    fn unanimous_group_gets_all_ones_and_no_advantage() {
        let answers = [a(7), a(7), a(7), a(7)];
        let mut r = [0.0; 4];
        majority_vote_rewards(&answers, 4, &mut r).unwrap();
        assert_eq!(r, [1.0; 4]);
        let mut adv = [0.0; 4];
        spar_losses::grpo::grpo_advantages(
            &r,
            4,
            spar_losses::grpo::ScaleRewards::Group,
            1e-4,
            &mut adv,
        )
        .unwrap();
        assert_eq!(adv, [0.0; 4]);
    }

    #[test]
    fn groups_vote_separately_and_ties_go_to_the_first() {
        let answers = [a(1), a(2), a(2), None, a(3), a(4), None, None];
        let mut r = [9.0; 8];
        let labels = majority_vote_rewards(&answers, 4, &mut r).unwrap();
        assert_eq!(labels, [a(2), a(3)]);
        assert_eq!(r, [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn nothing_parsed_gives_zero_rewards() {
        let answers = [None, None];
        let mut r = [5.0; 2];
        let labels = majority_vote_rewards(&answers, 2, &mut r).unwrap();
        assert_eq!(labels, [None]);
        assert_eq!(r, [0.0; 2]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut r = [0.0; 3];
        assert!(majority_vote_rewards(&[a(1), a(1), a(1)], 2, &mut r).is_err());
        assert!(majority_vote_rewards(&[a(1), a(1)], 2, &mut r).is_err());
    }
}
