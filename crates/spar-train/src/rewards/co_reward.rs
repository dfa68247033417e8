//! Co-Reward (Zhang et al. 2025, "Co-Reward: Self-supervised Reinforcement Learning for Large
//! Language Model Reasoning via Contrastive Agreement"). Each question `q` is asked twice, as
//! itself and as a paraphrase `q'` with the same answer; each gets a group of `G` rollouts.
//! Each group is graded by the *other* group's majority vote:
//!
//! ```text
//! label(q)  = vote(answers of q')        label(q') = vote(answers of q)
//! r(o ∈ q)  = 1 if ans(o) = label(q)     r(o' ∈ q') = 1 if ans(o') = label(q')
//! ```
//! (0 when the other group has no parsable answer). GRPO advantages are then computed on each
//! group separately. Agreement across wordings is harder to game than agreement within one
//! group: a prompt-specific habit of the model does not vote for itself.

use crate::rewards::majority_vote::grade;
use crate::rewards::{check_groups, check_out};
use crate::TrainError;
use alloc::vec::Vec;
use spar_tasks::{majority_vote, Answer};

/// Cross-graded rewards for matching groups of originals and paraphrases (group `g` of
/// `original` and group `g` of `paraphrase` ask the same question). Returns the labels used
/// for the originals (the paraphrase groups' votes).
pub fn co_reward_rewards(
    original: &[Option<Answer>],
    paraphrase: &[Option<Answer>],
    num_generations: usize,
    rewards_original: &mut [f64],
    rewards_paraphrase: &mut [f64],
) -> Result<Vec<Option<Answer>>, TrainError> {
    check_groups(original.len(), num_generations)?;
    check_out("paraphrase answers", paraphrase.len(), original.len())?;
    check_out("rewards_original", rewards_original.len(), original.len())?;
    check_out(
        "rewards_paraphrase",
        rewards_paraphrase.len(),
        original.len(),
    )?;
    let g = num_generations;
    let mut labels = Vec::with_capacity(original.len() / g);
    for i in 0..original.len() / g {
        let (o, p) = (&original[i * g..][..g], &paraphrase[i * g..][..g]);
        let label_o = majority_vote(p).map(|v| v.answer);
        let label_p = majority_vote(o).map(|v| v.answer);
        grade(o, label_o.as_ref(), &mut rewards_original[i * g..][..g]);
        grade(p, label_p.as_ref(), &mut rewards_paraphrase[i * g..][..g]);
        labels.push(label_o);
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(x: i64) -> Option<Answer> {
        Some(Answer::Int(x))
    }

    #[test]
    fn agreeing_groups_reward_the_shared_answer() {
        let o = [a(5), a(5), a(6)];
        let p = [a(5), a(7), a(5)];
        let (mut ro, mut rp) = ([0.0; 3], [0.0; 3]);
        co_reward_rewards(&o, &p, 3, &mut ro, &mut rp).unwrap();
        assert_eq!(ro, [1.0, 1.0, 0.0]);
        assert_eq!(rp, [1.0, 0.0, 1.0]);
    }

    #[test]
    fn a_rollout_can_win_against_its_own_group_majority() {
        // The originals' majority is 6, but the paraphrases vote 5: the lone 5 gets 1.
        let o = [a(6), a(6), a(5)];
        let p = [a(5), a(5), a(5)];
        let (mut ro, mut rp) = ([0.0; 3], [0.0; 3]);
        let labels = co_reward_rewards(&o, &p, 3, &mut ro, &mut rp).unwrap();
        assert_eq!(labels, [a(5)]);
        assert_eq!(ro, [0.0, 0.0, 1.0]);
        assert_eq!(rp, [0.0; 3]);
    }

    #[test]
    fn empty_answers_give_zero_rewards() {
        let o = [None, None, a(1), a(1)];
        let p = [None, None, None, None];
        let (mut ro, mut rp) = ([9.0; 4], [9.0; 4]);
        co_reward_rewards(&o, &p, 2, &mut ro, &mut rp).unwrap();
        assert_eq!(ro, [0.0; 4]);
        assert_eq!(rp, [0.0; 4]);
    }
}
