//! TTRL majority-vote pseudo-labels (Zuo et al. 2025, "TTRL: Test-Time Reinforcement
//! Learning"). Per group of `G` completions of one prompt:
//!
//! ```text
//! ŷ   = the most frequent parsable answer (ties: the first to appear)
//! r_i = 1 if answer_i = ŷ, else 0          (no parsable answer in the group: all 0)
//! ```
//! Once every completion agrees, every reward is 1 and GRPO's advantages vanish: the signal
//! fades as the model sharpens (the collapse BASELINES.md reports for TRL).
//!
//! [`gated_majority_vote_rewards`] adds a vote-confidence gate: with
//! `ratio = count(ŷ) / G` (unparsable answers counted in `G`), a group with
//! `ratio < min_ratio` gets `r_i = 0` for all `i` (zero GRPO advantage), because a low-share
//! majority is more often wrong (TTRL's label accuracy rises with the majority ratio).

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

/// A group's pseudo-label, the share of the group's votes it won, and whether the group's
/// rewards were graded against it (false when the gate closed it or nothing parsed).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLabel {
    /// The majority answer (`None` when nothing in the group parsed).
    pub label: Option<Answer>,
    /// Its votes over the group size.
    pub ratio: f64,
    /// Whether the rewards were graded against `label`.
    pub used: bool,
}

/// [`majority_vote_rewards`] with the vote-confidence gate: groups whose majority ratio is
/// below `min_ratio` get all-zero rewards (`min_ratio = 0` is the plain vote).
pub fn gated_majority_vote_rewards(
    answers: &[Option<Answer>],
    num_generations: usize,
    min_ratio: f64,
    rewards: &mut [f64],
) -> Result<Vec<GroupLabel>, TrainError> {
    check_groups(answers.len(), num_generations)?;
    check_out("rewards", rewards.len(), answers.len())?;
    let mut labels = Vec::with_capacity(answers.len() / num_generations);
    for (group, r) in answers
        .chunks_exact(num_generations)
        .zip(rewards.chunks_exact_mut(num_generations))
    {
        let gl = vote(group, min_ratio);
        grade(group, gl.label.as_ref().filter(|_| gl.used), r);
        labels.push(gl);
    }
    Ok(labels)
}

/// The gated vote of one group.
pub(crate) fn vote(group: &[Option<Answer>], min_ratio: f64) -> GroupLabel {
    match majority_vote(group) {
        Some(v) => GroupLabel {
            used: v.ratio >= min_ratio,
            label: Some(v.answer),
            ratio: v.ratio,
        },
        None => GroupLabel {
            label: None,
            ratio: 0.0,
            used: false,
        },
    }
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
    fn the_gate_zeroes_groups_below_the_ratio() {
        // Group 1: 3 of 4 vote 7 (ratio 0.75); group 2: 2 of 4 vote 1 (ratio 0.5).
        let answers = [a(7), a(7), a(2), a(7), a(1), a(1), a(3), None];
        let mut r = [9.0; 8];
        let labels = gated_majority_vote_rewards(&answers, 4, 0.75, &mut r).unwrap();
        assert_eq!(r, [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!((labels[0].used, labels[0].ratio), (true, 0.75));
        assert_eq!((labels[1].used, labels[1].ratio), (false, 0.5));
        assert_eq!(labels[1].label, a(1));
        // A gate of 0 is the plain vote.
        let (mut r0, mut r1) = ([0.0; 8], [0.0; 8]);
        gated_majority_vote_rewards(&answers, 4, 0.0, &mut r0).unwrap();
        majority_vote_rewards(&answers, 4, &mut r1).unwrap();
        assert_eq!(r0, r1);
        // A gated group has no GRPO advantage.
        let mut adv = [1.0; 8];
        spar_losses::grpo::grpo_advantages(
            &r,
            4,
            spar_losses::grpo::ScaleRewards::Group,
            1e-4,
            &mut adv,
        )
        .unwrap();
        assert_eq!(&adv[4..], &[0.0; 4]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut r = [0.0; 3];
        assert!(majority_vote_rewards(&[a(1), a(1), a(1)], 2, &mut r).is_err());
        assert!(majority_vote_rewards(&[a(1), a(1)], 2, &mut r).is_err());
    }
}
