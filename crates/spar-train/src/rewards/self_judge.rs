//! Self-judged rewards: the model grades its own answers.
//!
//! The same network that solves is asked, in the task's verify form
//! ([`spar_tasks::VerifyForm`]), whether its answer is right: `verify 12+39=51?`. Its score
//! is the probability it gives `yes` against `no` at the first token of the verdict:
//!
//! ```text
//! s_i = p(yes) / (p(yes) + p(no)) = σ(ℓ_yes − ℓ_no)     (ℓ: the logits at the verdict position)
//! r_i = s_i  if completion i has an answer the task can parse, else 0
//! ```
//!
//! This is the reward of self-rewarding RL in the form that fits a yes/no judge: SSR-Zero
//! (Yang et al. 2025, "SSR-Zero: Simple Self-Rewarding Reinforcement Learning for Machine
//! Translation") rewards GRPO with a score the policy model itself writes as judge, and
//! Self-Rewarding Language Models (Yuan et al. 2024) rank the model's own samples by its own
//! judgement. \[PAPER\] for the idea; the score as the verdict's probability (rather than a
//! sampled or written score) is spar's choice: it is exact, needs one forward, and is
//! continuous, so a group of answers the judge rates differently carries signal. The judge
//! learns to verify from the labelled problems only (`sft.judge_fraction`); RL then uses no
//! label at all. The reward is a learning signal only where the judge separates right from
//! wrong answers better than the policy's own mode does (the generation–verification gap).
//!
//! ```
//! use spar_train::rewards::self_judge::{judge_score, self_judge_rewards};
//! // Vocabulary of 3: ids 1 = `y`, 2 = `n`. Equal logits: the judge is undecided.
//! assert!((judge_score(&[0.0, 1.0, 1.0], 1, 2).unwrap() - 0.5).abs() < 1e-12);
//! // Two judged completions and one with no answer.
//! let logits = [0.0, 2.0, 0.0, /* row 2 */ 0.0, 0.0, 3.0];
//! let mut r = [0.0; 3];
//! self_judge_rewards(&logits, 3, 1, 2, &[true, false, true], &mut r).unwrap();
//! assert!(r[0] > 0.88 && r[1] == 0.0 && r[2] < 0.05);
//! ```

use crate::TrainError;

/// The judge's score `σ(ℓ_yes − ℓ_no)` from one row of logits (module docs). Errors if an id
/// is outside the row or a logit it reads is not finite.
pub fn judge_score(logits: &[f32], yes: u32, no: u32) -> Result<f64, TrainError> {
    let (Some(&ly), Some(&ln)) = (logits.get(yes as usize), logits.get(no as usize)) else {
        return Err(TrainError::Config(alloc::format!(
            "the verdict tokens {yes} and {no} are not both in a vocabulary of {}",
            logits.len()
        )));
    };
    if !(ly.is_finite() && ln.is_finite()) {
        return Err(TrainError::Config("a verdict logit is not finite".into()));
    }
    Ok(1.0 / (1.0 + libm::exp(ln as f64 - ly as f64)))
}

/// Spreads the judge's `scores` (one per judged completion, in order) over all completions:
/// `judged[i]` says whether completion `i` has an answer (and so a score); the others get 0.
/// Errors when the counts disagree.
pub fn spread_judged(scores: &[f64], judged: &[bool], out: &mut [f64]) -> Result<(), TrainError> {
    super::check_out("the self-judge reward buffer", out.len(), judged.len())?;
    super::check_out(
        "the judge's scores",
        scores.len(),
        judged.iter().filter(|&&j| j).count(),
    )?;
    let mut it = scores.iter();
    for (o, &j) in out.iter_mut().zip(judged) {
        *o = if j { *it.next().unwrap_or(&0.0) } else { 0.0 };
    }
    Ok(())
}

/// Self-judged rewards: `logits` holds one row of `v` logits per judged completion, in order;
/// `judged[i]` says whether completion `i` has an answer (and so a row); the others get 0.
pub fn self_judge_rewards(
    logits: &[f32],
    v: usize,
    yes: u32,
    no: u32,
    judged: &[bool],
    out: &mut [f64],
) -> Result<(), TrainError> {
    let rows = judged.iter().filter(|&&j| j).count();
    super::check_out("the judge's logits", logits.len(), rows * v)?;
    let scores = logits
        .chunks_exact(v.max(1))
        .map(|l| judge_score(l, yes, no))
        .collect::<Result<alloc::vec::Vec<f64>, _>>()?;
    spread_judged(&scores, judged, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_is_the_two_way_softmax_of_the_verdict_logits() {
        // p(yes) / (p(yes) + p(no)) computed directly, with other tokens around.
        let l = [0.3f32, -1.2, 2.5, 0.7];
        let e: Vec<f64> = l.iter().map(|&x| libm::exp(x as f64)).collect();
        let want = e[2] / (e[2] + e[3]);
        assert!((judge_score(&l, 2, 3).unwrap() - want).abs() < 1e-12);
        // Symmetric: swapping the verdicts gives 1 − s.
        assert!((judge_score(&l, 3, 2).unwrap() - (1.0 - want)).abs() < 1e-12);
        // Large gaps do not overflow.
        assert_eq!(judge_score(&[1e4, -1e4], 0, 1).unwrap(), 1.0);
        assert_eq!(judge_score(&[-1e4, 1e4], 0, 1).unwrap(), 0.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(judge_score(&[0.0, 1.0], 0, 2).is_err());
        assert!(judge_score(&[f32::NAN, 1.0], 0, 1).is_err());
        let mut r = [0.0; 2];
        // One judged completion but two rows of logits.
        assert!(self_judge_rewards(&[0.0; 4], 2, 0, 1, &[true, false], &mut r).is_err());
        assert!(self_judge_rewards(&[0.0; 2], 2, 0, 1, &[true], &mut r).is_err());
    }
}
