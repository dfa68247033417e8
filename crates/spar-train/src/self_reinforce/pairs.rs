//! Preference pairs: the weak-supervision pairs (strong ≻ weak by construction) and pairs
//! chosen from K scored samples of one model (scored by the task's verifier or by the model
//! as its own judge), with the preference strengths the losses read.
//!
//! From K responses with scores `s_i ∈ [0, 1]` (the verifier's 1/0, or the judge's
//! `P(yes)`), the pair is the best- and the worst-scored response (the first on ties) and,
//! reading a score as the probability that the response is right and two responses as
//! independent, the probability that `y_i` beats `y_j` (a right one beats a wrong one, ties
//! split evenly) is `P(y_i ≻ y_j) = ½ + ½ (s_i − s_j)`. So
//!
//! ```text
//! P̂(y) = (1/K) Σ_j P(y ≻ y_j)          (the win rate against the K samples, itself included)
//! q    = P(y_w ≻ y_l) = ½ + ½ (s_w − s_l)
//! ```
//! SPPO and DNO read the win rates `P̂(y_w)`, `P̂(y_l)`; OSP reads `q` as its soft label. With
//! 0/1 scores these are hard comparisons (ties ½): K = 2 with one right response gives
//! `P̂ = ¾, ¼` and `q = 1`, the constants of the strong ≻ weak pairs ([`Preference::HARD_PAIR`]).
//! The rule is ours (\[MEM\]: SPPO's paper estimates win rates with a preference model over
//! K samples, OSP's with the model's own judgement; neither is a verifier).
//!
//! ```
//! use spar_train::self_reinforce::{scored_preference, Preference};
//! let (w, l, p) = scored_preference(&[0.0, 1.0, 0.0, 1.0]).unwrap();
//! assert_eq!((w, l), (1, 0));
//! assert_eq!(p, Preference { win_rate_chosen: 0.75, win_rate_rejected: 0.25, prob_chosen_wins: 1.0 });
//! assert!(scored_preference(&[1.0, 1.0]).is_none()); // no preference among equals
//! ```

use alloc::string::String;
use alloc::vec::Vec;

/// A preference pair of token sequences for one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The prompt's token ids.
    pub prompt: Vec<u32>,
    /// The preferred response (end token included when it stopped).
    pub chosen: Vec<u32>,
    /// The other response.
    pub rejected: Vec<u32>,
}

/// Keeps the pairs whose two responses differ; returns them and how many were dropped.
pub fn drop_identical(pairs: Vec<Pair>) -> (Vec<Pair>, usize) {
    let n = pairs.len();
    let kept: Vec<Pair> = pairs
        .into_iter()
        .filter(|p| p.chosen != p.rejected)
        .collect();
    let dropped = n - kept.len();
    (kept, dropped)
}

/// How strongly a pair's chosen response is preferred (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preference {
    /// `P̂(y_w)`: the chosen response's win rate against the prompt's samples.
    pub win_rate_chosen: f64,
    /// `P̂(y_l)`: the rejected response's win rate.
    pub win_rate_rejected: f64,
    /// `q = P(y_w ≻ y_l)`.
    pub prob_chosen_wins: f64,
}

impl Preference {
    /// A hard pair of two samples (chosen right, rejected wrong): win rates ¾ and ¼,
    /// `q = 1`. The strong ≻ weak pairs carry it.
    pub const HARD_PAIR: Self = Self {
        win_rate_chosen: 0.75,
        win_rate_rejected: 0.25,
        prob_chosen_wins: 1.0,
    };
}

/// The pair of K ≥ 2 scored responses (scores in `[0, 1]`): the indices of the chosen
/// (best-scored, first on ties) and rejected (worst-scored, first on ties) responses and
/// their [`Preference`]. `None` when every score is equal (no preference), when fewer than
/// two scores are given, or when a score is not finite.
pub fn scored_preference(scores: &[f64]) -> Option<(usize, usize, Preference)> {
    if scores.len() < 2 || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let (mut w, mut l) = (0, 0);
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[w] {
            w = i;
        }
        if s < scores[l] {
            l = i;
        }
    }
    if scores[w] == scores[l] {
        return None;
    }
    let beats = |a: f64, b: f64| 0.5 + 0.5 * (a - b).clamp(-1.0, 1.0);
    let k = scores.len() as f64;
    let rate = |i: usize| scores.iter().map(|&s| beats(scores[i], s)).sum::<f64>() / k;
    Some((
        w,
        l,
        Preference {
            win_rate_chosen: rate(w),
            win_rate_rejected: rate(l),
            prob_chosen_wins: beats(scores[w], scores[l]),
        },
    ))
}

/// A short text of the chosen and rejected responses to one pair (for logs and samples).
pub fn describe_pair(vocab: &crate::CharVocab, p: &Pair) -> String {
    alloc::format!(
        "{} | chosen {:?} | rejected {:?}",
        vocab.decode(&p.prompt),
        vocab.decode(&p.chosen),
        vocab.decode(&p.rejected)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scored_pairs_are_best_against_worst_with_win_rates_from_the_scores() {
        // Judge scores: best 0.9 (index 2), worst 0.1 (index 0).
        let (w, l, p) = scored_preference(&[0.1, 0.5, 0.9, 0.5]).unwrap();
        assert_eq!((w, l), (2, 0));
        // P̂(0.9) = (0.5 + 0.7 + 0.5 + 0.7)/4 ... = mean of ½ + ½(0.9 − s_j).
        let want_w = [0.1, 0.5, 0.9, 0.5]
            .iter()
            .map(|s| 0.5 + 0.5 * (0.9 - s))
            .sum::<f64>()
            / 4.0;
        let want_l = [0.1, 0.5, 0.9, 0.5]
            .iter()
            .map(|s| 0.5 + 0.5 * (0.1 - s))
            .sum::<f64>()
            / 4.0;
        assert!((p.win_rate_chosen - want_w).abs() < 1e-12);
        assert!((p.win_rate_rejected - want_l).abs() < 1e-12);
        assert!((p.prob_chosen_wins - 0.9).abs() < 1e-12);
        // Win rates of all K responses sum to K/2 (every comparison splits 1 between two).
        let s = [0.1, 0.5, 0.9, 0.5];
        let total: f64 = (0..4)
            .map(|i| s.iter().map(|&x| 0.5 + 0.5 * (s[i] - x)).sum::<f64>() / 4.0)
            .sum();
        assert!((total - 2.0).abs() < 1e-12);
        // Two samples, one right: the constants of the strong ≻ weak pairs.
        assert_eq!(
            scored_preference(&[0.0, 1.0]),
            Some((1, 0, Preference::HARD_PAIR))
        );
        // Ties, too few scores, non-finite scores: no pair.
        assert_eq!(scored_preference(&[0.3, 0.3, 0.3]), None);
        assert_eq!(scored_preference(&[1.0]), None);
        assert_eq!(scored_preference(&[1.0, f64::NAN]), None);
    }
}
