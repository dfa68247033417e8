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
//!
//! [`gated_co_reward_rewards`] adds two gates (each group's rewards become all 0, i.e. zero
//! advantage, when its label fails one): the label's vote ratio in the group that cast it must
//! be at least `min_ratio`, and, with `require_agreement`, both groups must vote for the same
//! answer (then both labels are that answer).

use crate::rewards::majority_vote::{grade, vote, GroupLabel};
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

/// [`co_reward_rewards`] with the gates of the module docs. Returns, per pair, the label used
/// for the original group (the paraphrase group's vote) and for the paraphrase group.
pub fn gated_co_reward_rewards(
    original: &[Option<Answer>],
    paraphrase: &[Option<Answer>],
    num_generations: usize,
    min_ratio: f64,
    require_agreement: bool,
    rewards_original: &mut [f64],
    rewards_paraphrase: &mut [f64],
) -> Result<Vec<(GroupLabel, GroupLabel)>, TrainError> {
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
        let mut label_o = vote(p, min_ratio);
        let mut label_p = vote(o, min_ratio);
        if require_agreement && (label_o.label.is_none() || label_o.label != label_p.label) {
            label_o.used = false;
            label_p.used = false;
        }
        grade(
            o,
            label_o.label.as_ref().filter(|_| label_o.used),
            &mut rewards_original[i * g..][..g],
        );
        grade(
            p,
            label_p.label.as_ref().filter(|_| label_p.used),
            &mut rewards_paraphrase[i * g..][..g],
        );
        labels.push((label_o, label_p));
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
    fn ungated_equals_the_plain_co_reward() {
        let o = [a(6), a(6), a(5), a(5), a(1), None];
        let p = [a(5), a(5), a(5), a(2), a(1), a(3)];
        let (mut ro, mut rp, mut go, mut gp) = ([0.0; 6], [0.0; 6], [0.0; 6], [0.0; 6]);
        co_reward_rewards(&o, &p, 3, &mut ro, &mut rp).unwrap();
        gated_co_reward_rewards(&o, &p, 3, 0.0, false, &mut go, &mut gp).unwrap();
        assert_eq!((ro, rp), (go, gp));
    }

    #[test]
    fn the_ratio_gate_looks_at_the_group_that_voted() {
        // The paraphrases vote 5 with 3/3 (labels the originals); the originals vote 6 with
        // 2/3 (labels the paraphrases). A gate of 0.9 keeps only the originals' label.
        let o = [a(6), a(6), a(5)];
        let p = [a(5), a(5), a(5)];
        let (mut ro, mut rp) = ([9.0; 3], [9.0; 3]);
        let l = gated_co_reward_rewards(&o, &p, 3, 0.9, false, &mut ro, &mut rp).unwrap();
        assert_eq!(ro, [0.0, 0.0, 1.0]);
        assert_eq!(rp, [0.0; 3]);
        assert!(l[0].0.used && !l[0].1.used);
        assert_eq!(l[0].1.ratio, 2.0 / 3.0);
    }

    #[test]
    fn the_agreement_gate_needs_both_votes_to_match() {
        // Pair 1 disagrees (6 vs 5): all zero. Pair 2 agrees on 4: graded as usual.
        let o = [a(6), a(6), a(5), a(4), a(4), a(1)];
        let p = [a(5), a(5), a(6), a(4), a(3), a(4)];
        let (mut ro, mut rp) = ([9.0; 6], [9.0; 6]);
        let l = gated_co_reward_rewards(&o, &p, 3, 0.0, true, &mut ro, &mut rp).unwrap();
        assert_eq!(ro, [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        assert_eq!(rp, [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
        assert!(!l[0].0.used && !l[0].1.used && l[1].0.used && l[1].1.used);
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
