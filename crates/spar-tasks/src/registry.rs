//! Look tasks up by name, for configuration files (`task = "addition"`).

use crate::{
    AdditionTrace, ArithOp, Arithmetic, Countdown, Factoring, Format, Modular, Parity,
    ProgramTaskKind, ProgramTasks, SeqOp, Sequence, Task, TaskError, VerifyTask,
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
