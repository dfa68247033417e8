//! The task's verifier as the reward (RLVR; the ground-truth baseline): `r_i = 1` if the
//! answer extracted from completion `i` solves its problem, else 0
//! (`spar_tasks::Task::verify`).

use crate::rewards::check_out;
use crate::TrainError;
use spar_tasks::{Problem, Task};

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
