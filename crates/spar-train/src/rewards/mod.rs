//! Reward sources: each turns the extracted answers (or the token distributions) of groups of
//! completions into one scalar reward per completion. Groups are `num_generations`
//! consecutive completions of one prompt. Only [`verifier`] looks at the hidden answer; the
//! others make their reward from the model's own outputs ([`self_judge`]: from its own
//! judgement of them).
//!
//! ```
//! use spar_tasks::Answer;
//! use spar_train::rewards::{co_reward::co_reward_rewards, majority_vote::majority_vote_rewards};
//! let a = |x| Some(Answer::Int(x));
//! // One prompt, G = 4: the majority is 46, so the two 46s get 1.
//! let answers = [a(46), a(46), a(45), None];
//! let mut r = [0.0; 4];
//! let labels = majority_vote_rewards(&answers, 4, &mut r).unwrap();
//! assert_eq!(r, [1.0, 1.0, 0.0, 0.0]);
//! assert_eq!(labels[0], Some(Answer::Int(46)));
//! // Co-Reward: the originals are graded by the paraphrase group's vote and vice versa.
//! let para = [a(45), a(45), a(46), a(45)];
//! let (mut ro, mut rp) = ([0.0; 4], [0.0; 4]);
//! co_reward_rewards(&answers, &para, 4, &mut ro, &mut rp).unwrap();
//! assert_eq!(ro, [0.0, 0.0, 1.0, 0.0]);
//! assert_eq!(rp, [0.0, 0.0, 1.0, 0.0]);
//! ```

pub mod co_reward;
pub mod majority_vote;
pub mod self_certainty;
pub mod self_judge;
pub mod self_verify;
pub mod verifier;

use crate::TrainError;

/// Checks that `n` completions split into groups of `num_generations ≥ 1`.
pub(crate) fn check_groups(n: usize, num_generations: usize) -> Result<(), TrainError> {
    if num_generations == 0 || n % num_generations != 0 {
        return Err(TrainError::Config(alloc::format!(
            "{n} completions do not split into groups of num_generations = {num_generations}"
        )));
    }
    Ok(())
}

/// Checks that an output buffer matches its input.
pub(crate) fn check_out(what: &str, got: usize, expected: usize) -> Result<(), TrainError> {
    if got != expected {
        return Err(TrainError::Config(alloc::format!(
            "{what} has {got} entries, expected {expected}"
        )));
    }
    Ok(())
}
