//! Absolute Zero's self-play rules (Zhao et al. 2025; ALGORITHMS.md §4.2): what makes a
//! proposal valid, how a solver's answer is graded, what each role is rewarded, and the
//! hand-written seed tasks a run starts from. A training loop (spar-train's
//! `azr_selfplay`) only schedules them: it samples proposals and answers, keeps the task
//! buffers and updates the model.
//!
//! A proposer writes `PROGRAM;INPUT[;INPUT…]` ([`proposal_text`]) after a prompt showing one
//! reference task ([`crate::proposer_prompt`]); [`check_proposal`] turns it into a
//! [`ProgramTask`] or refuses it. The solver answers [`solver_prompt`]; [`grade_answer`]
//! grades its completion. The rewards:
//!
//! ```text
//! r_propose = learnability(acc) = 0 if acc ∈ {0, 1} else 1 − acc
//! R_propose = −1 if the proposal is invalid
//!           = r_propose if r_propose > 0
//!           = −0.5 otherwise (valid, but trivial or impossible for the solver)
//! R_solve   = 1 if the answer is correct
//!           = −0.5 if it is well formed but wrong
//!           = −1 if it is malformed (not a value, resp. not a program)
//! ```
//! where `acc` is the fraction of the solver's attempts at the task that are correct.

use crate::azr::{parse_proposal, ProgramTask, ProgramTaskKind};
use crate::interpreter::{Limits, Value};
use crate::program::Program;
use crate::task::Format;
use crate::Answer;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// How many seed tasks [`seed_tasks`] gives per kind.
pub const NUM_SEED_TASKS: usize = 6;

/// The learnability of a task the solver solves at rate `solve_rate` (Absolute Zero's
/// `one_minus`, the paper's eq. 4): `1 − solve_rate` when `0 < solve_rate < 1`, else `0`.
/// A task the solver always or never solves teaches nothing; among the others, the harder
/// the better. NaN and rates outside `[0, 1]` also give `0`.
///
/// This is the workspace's one learnability function. It is not the reward variance
/// `p(1 − p)` of a group of Bernoulli rewards: that quantity is symmetric about ½, this one
/// decreases on `(0, 1)`. spar-bandits' `Learnability` curriculum scores categories by the
/// same quantity; the small crates do not depend on each other, so it spells the formula
/// out, and spar-train's tests hold the two equal.
///
/// ```
/// use spar_tasks::learnability;
/// assert_eq!(learnability(0.0), 0.0);
/// assert_eq!(learnability(1.0), 0.0);
/// assert_eq!(learnability(0.125), 0.875);
/// assert_eq!(learnability(f64::NAN), 0.0);
/// ```
pub fn learnability(solve_rate: f64) -> f64 {
    if solve_rate > 0.0 && solve_rate < 1.0 {
        1.0 - solve_rate
    } else {
        0.0
    }
}

/// The proposer's reward `R_propose` (Absolute Zero's [`learnability`] with its format
/// penalties): −1 for an invalid proposal (`solve_rate = None`); for a valid one solved at
/// rate `acc`, `learnability(acc)` when that is positive (`0 < acc < 1`), else −0.5.
///
/// ```
/// use spar_tasks::proposer_reward;
/// assert_eq!(proposer_reward(Some(0.125)), 0.875);
/// assert_eq!(proposer_reward(Some(1.0)), -0.5);
/// assert_eq!(proposer_reward(None), -1.0);
/// ```
pub fn proposer_reward(solve_rate: Option<f64>) -> f64 {
    match solve_rate {
        None => -1.0,
        Some(acc) => match learnability(acc) {
            r if r > 0.0 => r,
            _ => -0.5,
        },
    }
}

/// How a solver's answer fared ([`grade_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SolveOutcome {
    /// Well formed and correct.
    Correct,
    /// Well formed, wrong.
    Wrong,
    /// Not a value (deduction, abduction) or not a program (induction).
    Malformed,
}

/// The solver's reward `R_solve`: 1 correct, −0.5 wrong but well formed, −1 malformed.
///
/// ```
/// use spar_tasks::{solver_reward, SolveOutcome};
/// assert_eq!(solver_reward(SolveOutcome::Correct), 1.0);
/// assert_eq!(solver_reward(SolveOutcome::Wrong), -0.5);
/// assert_eq!(solver_reward(SolveOutcome::Malformed), -1.0);
/// ```
pub fn solver_reward(outcome: SolveOutcome) -> f64 {
    match outcome {
        SolveOutcome::Correct => 1.0,
        SolveOutcome::Wrong => -0.5,
        SolveOutcome::Malformed => -1.0,
    }
}

/// Grades a solver completion (the text before the end token) against `task`. The whole
/// completion must parse, as a value (`5`, `[1,2]`) for deduction and abduction, as a
/// program for induction (surrounding spaces allowed); unlike [`crate::Task::verify`], no
/// answer is searched for inside longer text. A well-formed answer is then checked with
/// [`ProgramTask::check`]: any input with the right output solves abduction, any program
/// matching every pair (held-out ones included) solves induction.
///
/// ```
/// use spar_tasks::{grade_answer, seed_tasks, Limits, ProgramTaskKind, SolveOutcome};
/// let lim = Limits::default();
/// let task = &seed_tasks(ProgramTaskKind::Deduction)[0]; // rev(x) on [1,2,3]
/// assert_eq!(grade_answer(task, "[3,2,1]", &lim), SolveOutcome::Correct);
/// assert_eq!(grade_answer(task, "[1,2,3]", &lim), SolveOutcome::Wrong);
/// assert_eq!(grade_answer(task, "it is [3,2,1]", &lim), SolveOutcome::Malformed);
/// ```
pub fn grade_answer(task: &ProgramTask, completion: &str, limits: &Limits) -> SolveOutcome {
    let answer = match task.kind {
        ProgramTaskKind::Induction => match Program::parse(completion.trim()) {
            Ok(p) => Answer::Text(p.to_string()),
            Err(_) => return SolveOutcome::Malformed,
        },
        _ => match Value::parse(completion) {
            Some(Value::Int(v)) => Answer::Int(v),
            Some(Value::List(v)) => Answer::List(v),
            None => return SolveOutcome::Malformed,
        },
    };
    if task.check(&answer, limits) {
        SolveOutcome::Correct
    } else {
        SolveOutcome::Wrong
    }
}

/// The [`NUM_SEED_TASKS`] hand-written seed tasks of `kind`, built with the default
/// [`Limits`]: `rev(x)`, `x+1`, `sum(x)`, `sort(x)`, `x*2` and `len(x)`, with one input each
/// for deduction and abduction and three (two shown, one held out) for induction.
///
/// ```
/// use spar_tasks::{proposal_text, seed_tasks, ProgramTaskKind, NUM_SEED_TASKS};
/// let seeds = seed_tasks(ProgramTaskKind::Induction);
/// assert_eq!(seeds.len(), NUM_SEED_TASKS);
/// assert_eq!(proposal_text(&seeds[1]), "x+1;4;0;9");
/// assert_eq!(seeds[1].shown, 2);
/// ```
pub fn seed_tasks(kind: ProgramTaskKind) -> Vec<ProgramTask> {
    let l = |v: &[i64]| Value::List(v.to_vec());
    let i = Value::Int;
    let seeds: [(&str, [Value; 3]); NUM_SEED_TASKS] = [
        ("rev(x)", [l(&[1, 2, 3]), l(&[4, 5]), l(&[7, 0])]),
        ("x+1", [i(4), i(0), i(9)]),
        ("sum(x)", [l(&[2, 3]), l(&[1, 1, 5]), l(&[6])]),
        ("sort(x)", [l(&[3, 1, 2]), l(&[5, 4]), l(&[2, 9, 0])]),
        ("x*2", [i(3), i(5), i(1)]),
        ("len(x)", [l(&[5, 6]), l(&[1]), l(&[3, 3, 3])]),
    ];
    let n = if kind == ProgramTaskKind::Induction {
        3
    } else {
        1
    };
    seeds
        .iter()
        .map(|(src, inputs)| {
            let p = Program::parse(src).expect("seed programs parse");
            ProgramTask::new(kind, p, &inputs[..n], n - 1, &Limits::default())
                .expect("seed tasks are valid")
        })
        .collect()
}

/// Checks a proposer's completion and runs it: the completion ended with the end token
/// (`stopped`), every `;`-separated piece after the program is a value, deduction and
/// abduction give exactly one input, induction at least two distinct inputs (the last is
/// held out); then [`parse_proposal`] parses the program and validates it on the inputs.
/// `None` means invalid. Stricter than [`parse_proposal`], which reads inputs up to the
/// first piece that is not a value and accepts any number of them.
///
/// ```
/// use spar_tasks::{check_proposal, Limits, ProgramTaskKind};
/// let lim = Limits::default();
/// assert!(check_proposal(ProgramTaskKind::Deduction, "rev(x);[1,2]", true, &lim).is_some());
/// assert!(check_proposal(ProgramTaskKind::Deduction, "rev(x);[1,2]", false, &lim).is_none());
/// assert!(check_proposal(ProgramTaskKind::Deduction, "rev(x);[1,2];[", true, &lim).is_none());
/// assert!(check_proposal(ProgramTaskKind::Induction, "rev(x);[1,2];[1,2]", true, &lim).is_none());
/// ```
pub fn check_proposal(
    kind: ProgramTaskKind,
    text: &str,
    stopped: bool,
    limits: &Limits,
) -> Option<ProgramTask> {
    if !stopped {
        return None;
    }
    let inputs: Vec<Value> = text
        .split(';')
        .skip(1)
        .map(Value::parse)
        .collect::<Option<_>>()?;
    let count_ok = match kind {
        ProgramTaskKind::Induction => {
            inputs.len() >= 2 && (1..inputs.len()).all(|i| !inputs[..i].contains(&inputs[i]))
        }
        _ => inputs.len() == 1,
    };
    if !count_ok {
        return None;
    }
    parse_proposal(kind, text, limits).ok()
}

/// The text a proposer writes for `task`, `PROGRAM;INPUT[;INPUT…]` in canonical form;
/// [`check_proposal`] reads it back to the same task.
///
/// ```
/// use spar_tasks::{check_proposal, proposal_text, seed_tasks, Limits, ProgramTaskKind};
/// let task = &seed_tasks(ProgramTaskKind::Deduction)[0];
/// assert_eq!(proposal_text(task), "rev(x);[1,2,3]");
/// let back = check_proposal(task.kind, &proposal_text(task), true, &Limits::default());
/// assert_eq!(back.as_ref(), Some(task));
/// ```
pub fn proposal_text(task: &ProgramTask) -> String {
    let mut s = task.program.to_string();
    for (i, _) in &task.pairs {
        s.push(';');
        s.push_str(&i.to_string());
    }
    s
}

/// The solver's prompt for `task`: the canonical compact wording.
///
/// ```
/// use spar_tasks::{seed_tasks, solver_prompt, ProgramTaskKind};
/// let task = &seed_tasks(ProgramTaskKind::Abduction)[2];
/// assert_eq!(solver_prompt(task), "f(x)=sum(x);f(?)=5;?=");
/// ```
pub fn solver_prompt(task: &ProgramTask) -> String {
    task.prompts(Format::Compact).swap_remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [ProgramTaskKind; 3] = [
        ProgramTaskKind::Deduction,
        ProgramTaskKind::Abduction,
        ProgramTaskKind::Induction,
    ];

    #[test]
    fn learnability_is_zero_at_the_ends_and_one_minus_acc_inside() {
        assert_eq!(learnability(0.0), 0.0);
        assert_eq!(learnability(1.0), 0.0);
        assert_eq!(learnability(1.0 / 8.0), 7.0 / 8.0);
        assert_eq!(learnability(0.5), 0.5);
        for bad in [f64::NAN, -0.25, 1.5, f64::INFINITY] {
            assert_eq!(learnability(bad), 0.0);
        }
        // Monotone decreasing on (0, 1).
        let xs: Vec<f64> = (1..8).map(|i| i as f64 / 8.0).collect();
        assert!(xs
            .windows(2)
            .all(|w| learnability(w[0]) > learnability(w[1])));
    }

    #[test]
    fn proposer_penalties() {
        assert_eq!(proposer_reward(None), -1.0);
        assert_eq!(proposer_reward(Some(0.0)), -0.5);
        assert_eq!(proposer_reward(Some(1.0)), -0.5);
        assert_eq!(proposer_reward(Some(1.0 / 8.0)), 7.0 / 8.0);
        assert_eq!(proposer_reward(Some(0.75)), 0.25);
        // Inside (0, 1) the reward is the learnability, to the bit.
        for i in 1..100 {
            let acc = i as f64 / 100.0;
            assert_eq!(proposer_reward(Some(acc)), learnability(acc));
        }
    }

    #[test]
    fn solver_rewards_and_grading() {
        assert_eq!(solver_reward(SolveOutcome::Correct), 1.0);
        assert_eq!(solver_reward(SolveOutcome::Wrong), -0.5);
        assert_eq!(solver_reward(SolveOutcome::Malformed), -1.0);
        let lim = Limits::default();
        let ded = &seed_tasks(ProgramTaskKind::Deduction)[0]; // rev(x) on [1,2,3]
        assert_eq!(grade_answer(ded, "[3,2,1]", &lim), SolveOutcome::Correct);
        assert_eq!(grade_answer(ded, "[1,2,3]", &lim), SolveOutcome::Wrong);
        assert_eq!(grade_answer(ded, "[3,2", &lim), SolveOutcome::Malformed);
        // Abduction: any input with the right output counts.
        let abd = &seed_tasks(ProgramTaskKind::Abduction)[2]; // sum(x) = 5
        assert_eq!(grade_answer(abd, "[5]", &lim), SolveOutcome::Correct);
        assert_eq!(grade_answer(abd, "[4,1]", &lim), SolveOutcome::Correct);
        assert_eq!(grade_answer(abd, "[4]", &lim), SolveOutcome::Wrong);
        // Induction: any program matching every pair, the hidden one included.
        let ind = &seed_tasks(ProgramTaskKind::Induction)[1]; // x+1
        assert_eq!(grade_answer(ind, "1+x", &lim), SolveOutcome::Correct);
        assert_eq!(grade_answer(ind, " x+1 ", &lim), SolveOutcome::Correct);
        assert_eq!(grade_answer(ind, "x+2", &lim), SolveOutcome::Wrong);
        assert_eq!(grade_answer(ind, "x+", &lim), SolveOutcome::Malformed);
    }

    #[test]
    fn seeds_round_trip_through_the_proposal_format() {
        let lim = Limits::default();
        for kind in KINDS {
            let seeds = seed_tasks(kind);
            assert_eq!(seeds.len(), NUM_SEED_TASKS);
            for s in seeds {
                let text = proposal_text(&s);
                assert_eq!(parse_proposal(kind, &text, &lim).as_ref(), Ok(&s), "{text}");
                assert_eq!(check_proposal(kind, &text, true, &lim).as_ref(), Some(&s));
                // The seed's own answer solves it.
                assert_eq!(
                    grade_answer(&s, &s.completion(), &lim),
                    SolveOutcome::Correct
                );
            }
        }
    }

    #[test]
    fn proposal_checks() {
        let lim = Limits::default();
        let ded = ProgramTaskKind::Deduction;
        let ind = ProgramTaskKind::Induction;
        // Deduction and abduction take exactly one input.
        assert!(check_proposal(ded, "rev(x);[1,2];[3]", true, &lim).is_none());
        assert!(check_proposal(ded, "rev(x)", true, &lim).is_none());
        // Induction needs two distinct inputs at least; the last is held out.
        assert!(check_proposal(ind, "rev(x);[1,2]", true, &lim).is_none());
        let t = check_proposal(ind, "rev(x);[1,2];[3,4,5];[6]", true, &lim).unwrap();
        assert_eq!((t.pairs.len(), t.shown), (3, 2));
        // parse_proposal stops at the first piece that is not a value; check_proposal refuses.
        assert!(parse_proposal(ded, "rev(x);[1,2];junk", &lim).is_ok());
        assert!(check_proposal(ded, "rev(x);[1,2];junk", true, &lim).is_none());
        // The program's own checks still apply (the identity is trivial).
        assert!(check_proposal(ded, "x;[1,2]", true, &lim).is_none());
    }
}
