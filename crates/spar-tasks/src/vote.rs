//! Majority vote over extracted answers (TTRL, Zuo et al. 2025; Co-Reward, Zhang et al. 2025).
//!
//! `ŷ = argmax_a |{i : answer_i = a}|` over the parsable answers, ties broken by first
//! appearance (Python's `Counter.most_common` order, made explicit); `majority_ratio =
//! count(ŷ) / N` with `N` counting the unparsable answers too.

use crate::Answer;
use alloc::vec::Vec;

/// The winning answer of a vote, how many votes it got, and its share of all votes.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// The most frequent parsable answer (first to appear among equals).
    pub answer: Answer,
    /// Its number of votes.
    pub count: usize,
    /// `count / answers.len()`, unparsable answers included in the denominator.
    pub ratio: f64,
}

/// Majority vote over `answers` (`None` = unparsable, skipped). `None` when nothing parsed.
///
/// ```
/// use spar_tasks::{majority_vote, Answer};
/// let votes = [Some(Answer::Int(3)), None, Some(Answer::Int(4)), Some(Answer::Int(4))];
/// let v = majority_vote(&votes).unwrap();
/// assert_eq!((v.answer, v.count, v.ratio), (Answer::Int(4), 2, 0.5));
/// ```
pub fn majority_vote(answers: &[Option<Answer>]) -> Option<Vote> {
    // Quadratic in the number of distinct answers, which is at most the group size (≤ 64).
    let mut tally: Vec<(&Answer, usize)> = Vec::new();
    for a in answers.iter().flatten() {
        match tally.iter_mut().find(|(b, _)| *b == a) {
            Some(entry) => entry.1 += 1,
            None => tally.push((a, 1)),
        }
    }
    let mut best: Option<(&Answer, usize)> = None;
    for &(a, c) in &tally {
        if best.is_none_or(|(_, bc)| c > bc) {
            best = Some((a, c));
        }
    }
    best.map(|(a, c)| Vote {
        answer: a.clone(),
        count: c,
        ratio: c as f64 / answers.len() as f64,
    })
}
