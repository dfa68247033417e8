//! The task's verifier as the reward (RLVR; the ground-truth baseline): `r_i = 1` if the
//! answer extracted from completion `i` solves its problem, else 0
//! (`spar_tasks::Task::verify`).

use crate::rewards::check_out;
use crate::TrainError;
use serde::{Deserialize, Serialize};
use spar_tasks::{Problem, Task};

/// How a completion is graded against its problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerCheck {
    /// The task's verifier reads the answer from the text (e.g. the last integer), whether
    /// or not the end token was produced ([`Task::verify`]).
    #[default]
    Lenient,
    /// The text before the end token must be exactly the reference completion, and the end
    /// token must have been produced (TRL's toy task: digits then `<eos>`).
    Strict,
}

/// The grade of one completion: `text` is the decoded completion (up to the end token),
/// `stopped` whether the end token was produced.
///
/// ```
/// use spar_tasks::{ArithOp, Arithmetic};
/// use spar_train::rewards::verifier::{grade, AnswerCheck};
/// let task = Arithmetic::new(ArithOp::Add);
/// let p = task.problem(12, 34, 1).unwrap();
/// assert_eq!(grade(&task, &p, "46", false, AnswerCheck::Lenient), 1.0);
/// assert_eq!(grade(&task, &p, "46", false, AnswerCheck::Strict), 0.0); // no end token
/// assert_eq!(grade(&task, &p, "046", true, AnswerCheck::Strict), 0.0);
/// assert_eq!(grade(&task, &p, "46", true, AnswerCheck::Strict), 1.0);
/// ```
pub fn grade(
    task: &dyn Task,
    problem: &Problem,
    text: &str,
    stopped: bool,
    check: AnswerCheck,
) -> f64 {
    match check {
        AnswerCheck::Lenient => task.verify(problem, text),
        AnswerCheck::Strict => f64::from(u8::from(stopped && text == problem.completion)),
    }
}

/// Writes `verify(problems[i], completions[i])` into `rewards`.
///
/// ```
/// use spar_tasks::{ArithOp, Arithmetic};
/// use spar_train::rewards::verifier::verifier_rewards;
/// let task = Arithmetic::new(ArithOp::Add);
/// let p = task.problem(12, 34, 1).unwrap();
/// let mut r = [0.0; 2];
/// verifier_rewards(&task, &[&p, &p], &["46", "45"], &mut r).unwrap();
/// assert_eq!(r, [1.0, 0.0]);
/// ```
pub fn verifier_rewards(
    task: &dyn Task,
    problems: &[&Problem],
    completions: &[&str],
    rewards: &mut [f64],
) -> Result<(), TrainError> {
    check_out("problems", problems.len(), completions.len())?;
    check_out("rewards", rewards.len(), completions.len())?;
    for ((r, p), c) in rewards.iter_mut().zip(problems).zip(completions) {
        *r = task.verify(p, c);
    }
    Ok(())
}
