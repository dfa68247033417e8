//! Look tasks up by name, for configuration files (`task = "addition"`).

use crate::{
    AdditionTrace, ArithOp, Arithmetic, Countdown, Factoring, Format, Modular, Parity,
    ProgramTaskKind, ProgramTasks, SeqOp, Sequence, Task, TaskError, VerifyForm, VerifyTask,
};
use alloc::boxed::Box;

/// Every family name [`task_by_name`] knows, in the order of the crate docs' table.
pub const TASK_NAMES: [&str; 19] = [
    "addition",
    "subtraction",
    "multiplication",
    "countdown",
    "sort",
    "reverse",
    "modular",
    "parity",
    "deduction",
    "abduction",
    "induction",
    "factoring",
    "trace",
    "verify-addition",
    "verify-subtraction",
    "verify-multiplication",
    "verify-countdown",
    "verify-factoring",
    "verify-trace",
];

/// The verify form of `inner`, worded in `format`.
fn verify<T: crate::Candidates>(inner: T, format: Format) -> VerifyTask<T> {
    VerifyTask::new(inner).with_format(format)
}

/// The task called `name` (see [`TASK_NAMES`]) in `format`.
///
/// ```
/// use spar_tasks::{task_by_name, Format, TASK_NAMES};
/// for name in TASK_NAMES {
///     assert_eq!(task_by_name(name, Format::Compact).unwrap().name(), name);
/// }
/// assert!(task_by_name("chess", Format::Compact).is_err());
/// ```
pub fn task_by_name(name: &str, format: Format) -> Result<Box<dyn Task + Send + Sync>, TaskError> {
    let task: Box<dyn Task + Send + Sync> = match name {
        "addition" => Box::new(Arithmetic::new(ArithOp::Add).with_format(format)),
        "subtraction" => Box::new(Arithmetic::new(ArithOp::Sub).with_format(format)),
        "multiplication" => Box::new(Arithmetic::new(ArithOp::Mul).with_format(format)),
        "countdown" => Box::new(Countdown { format }),
        "sort" => Box::new(Sequence::new(SeqOp::Sort).with_format(format)),
        "reverse" => Box::new(Sequence::new(SeqOp::Reverse).with_format(format)),
        "modular" => Box::new(Modular { format }),
        "parity" => Box::new(Parity { format }),
        "deduction" => Box::new(ProgramTasks::new(ProgramTaskKind::Deduction).with_format(format)),
        "abduction" => Box::new(ProgramTasks::new(ProgramTaskKind::Abduction).with_format(format)),
        "induction" => Box::new(ProgramTasks::new(ProgramTaskKind::Induction).with_format(format)),
        "factoring" => Box::new(Factoring { format }),
        "trace" => Box::new(AdditionTrace { format }),
        "verify-addition" => Box::new(verify(
            Arithmetic::new(ArithOp::Add).with_format(format),
            format,
        )),
        "verify-subtraction" => Box::new(verify(
            Arithmetic::new(ArithOp::Sub).with_format(format),
            format,
        )),
        "verify-multiplication" => Box::new(verify(
            Arithmetic::new(ArithOp::Mul).with_format(format),
            format,
        )),
        "verify-countdown" => Box::new(verify(Countdown { format }, format)),
        "verify-factoring" => Box::new(verify(Factoring { format }, format)),
        "verify-trace" => Box::new(verify(AdditionTrace { format }, format)),
        _ => return Err(TaskError::BadConfig("unknown task name")),
    };
    Ok(task)
}

/// The verify form of the family called `name` (`"addition"`, `"subtraction"`,
/// `"multiplication"`, `"countdown"`, `"factoring"` or `"trace"`), worded in `format`; an
/// error for a family with no verify form.
///
/// ```
/// use spar_tasks::{verify_form_by_name, Format};
/// assert!(verify_form_by_name("factoring", Format::Compact).is_ok());
/// assert!(verify_form_by_name("sort", Format::Compact).is_err());
/// ```
pub fn verify_form_by_name(name: &str, format: Format) -> Result<Box<dyn VerifyForm>, TaskError> {
    let form: Box<dyn VerifyForm> = match name {
        "addition" => Box::new(verify(
            Arithmetic::new(ArithOp::Add).with_format(format),
            format,
        )),
        "subtraction" => Box::new(verify(
            Arithmetic::new(ArithOp::Sub).with_format(format),
            format,
        )),
        "multiplication" => Box::new(verify(
            Arithmetic::new(ArithOp::Mul).with_format(format),
            format,
        )),
        "countdown" => Box::new(verify(Countdown { format }, format)),
        "factoring" => Box::new(verify(Factoring { format }, format)),
        "trace" => Box::new(verify(AdditionTrace { format }, format)),
        _ => return Err(TaskError::BadConfig("this task family has no verify form")),
    };
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn every_verify_form_judges_its_family_like_the_verify_task() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for family in [
            "addition",
            "subtraction",
            "multiplication",
            "countdown",
            "factoring",
            "trace",
        ] {
            let form = verify_form_by_name(family, Format::Compact).unwrap();
            let task = task_by_name(family, Format::Compact).unwrap();
            let whole = task_by_name(&alloc::format!("verify-{family}"), Format::Compact).unwrap();
            for _ in 0..20 {
                let p = task.generate(1, &mut rng).unwrap();
                // The reference solution is judged right, and the verify task agrees.
                let v = form.verify_problem(&p, &p.completion).unwrap();
                assert_eq!(v.completion, "yes", "{family}: {}", v.prompt);
                assert_eq!(whole.verify(&v, "yes"), 1.0);
                // A drawn example's label is the family's own verdict on its candidate.
                let e = form.verify_example(&p, &mut rng).unwrap();
                let crate::Instance::Verify(inst) = &e.instance else {
                    panic!("not a verify instance")
                };
                assert_eq!(task.verify(&p, &inst.candidate) == 1.0, inst.correct);
                assert_eq!(e.completion, if inst.correct { "yes" } else { "no" });
            }
        }
    }
}
