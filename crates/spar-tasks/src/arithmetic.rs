//! Multi-digit addition, subtraction and multiplication.
//!
//! Compact prompts are `"12+34="`, `"34-12="`, `"12*34="`; the completion is the plain
//! decimal answer. The step-by-step format works column by column (addition, subtraction)
//! or by partial products (multiplication) and ends with `=>` and the answer, e.g.
//! `58+67=` → `8+7=15,5+6+1=12=>125`.

use crate::answer::extract_int;
use crate::rng::{index, with_digits};
use crate::task::{check_level, ArithOp, Format, Instance, Problem, Task};
use crate::{Answer, TaskError};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Operand digit counts per level for addition and subtraction.
const ADD_DIGITS: [(u32, u32); 6] = [(1, 1), (2, 2), (3, 3), (4, 4), (6, 6), (9, 9)];
/// Operand digit counts per level for multiplication (the product stays below 10^18).
const MUL_DIGITS: [(u32, u32); 6] = [(1, 1), (2, 1), (2, 2), (3, 2), (3, 3), (4, 4)];

/// Multi-digit arithmetic of one operation.
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use spar_tasks::{Arithmetic, ArithOp, Task};
/// let task = Arithmetic::new(ArithOp::Add);
/// let mut rng = ChaCha8Rng::seed_from_u64(0);
/// let p = task.generate(1, &mut rng).unwrap();          // two-digit operands, "a+b="
/// assert!(p.prompt.ends_with('='));
/// assert_eq!(task.verify(&p, &p.completion), 1.0);
/// let q = task.paraphrase(&p, &mut rng).unwrap();       // e.g. "b+a=" or "add a b:"
/// assert_eq!(q.answer, p.answer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arithmetic {
    /// The operation.
    pub op: ArithOp,
    /// Prompt and completion format (compact by default).
    pub format: Format,
}

impl Arithmetic {
    /// The task for `op` in the compact format.
    pub fn new(op: ArithOp) -> Self {
        Arithmetic {
            op,
            format: Format::Compact,
        }
    }

    /// The same task with another format.
    pub fn with_format(self, format: Format) -> Self {
        Arithmetic { format, ..self }
    }

    fn digits(&self) -> &'static [(u32, u32)] {
        match self.op {
            ArithOp::Add | ArithOp::Sub => &ADD_DIGITS,
            ArithOp::Mul => &MUL_DIGITS,
        }
    }

    /// The problem `a op b` at `level` in this task's format (`Sub` needs `a ≥ b`; all
    /// operands non-negative and below 10^9).
    pub fn problem(&self, a: i64, b: i64, level: usize) -> Result<Problem, TaskError> {
        if !(0..1_000_000_000).contains(&a) || !(0..1_000_000_000).contains(&b) {
            return Err(TaskError::BadConfig("operands must be in 0..10^9"));
        }
        if self.op == ArithOp::Sub && a < b {
            return Err(TaskError::BadConfig("subtraction needs a >= b"));
        }
        let answer = match self.op {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
        };
        let prompt = variants(self.op, self.format, a, b).swap_remove(0);
        Ok(Problem {
            prompt,
            answer: Answer::Int(answer),
            completion: completion(self.op, self.format, a, b, answer),
            level,
            format: self.format,
            instance: Instance::Arithmetic { op: self.op, a, b },
        })
    }
}

/// All prompt wordings of `a op b` in `format`; the first is the canonical one.
pub(crate) fn variants(op: ArithOp, format: Format, a: i64, b: i64) -> Vec<String> {
    match (format, op) {
        (Format::Compact | Format::StepByStep, ArithOp::Add) => alloc::vec![
            format!("{a}+{b}="),
            format!("{b}+{a}="),
            format!("{a} + {b} ="),
            format!("{b} + {a} ="),
            format!("add {a} {b}:"),
            format!("sum {b} {a}:"),
        ],
        (Format::Compact | Format::StepByStep, ArithOp::Sub) => alloc::vec![
            format!("{a}-{b}="),
            format!("{a} - {b} ="),
            format!("-{b}+{a}="),
            format!("sub {a} {b}:"),
        ],
        (Format::Compact | Format::StepByStep, ArithOp::Mul) => alloc::vec![
            format!("{a}*{b}="),
            format!("{b}*{a}="),
            format!("{a} * {b} ="),
            format!("{a}x{b}="),
            format!("mul {b} {a}:"),
        ],
        (Format::Words, ArithOp::Add) => alloc::vec![
            format!("What is {a} plus {b}?"),
            format!("Add {b} and {a}."),
            format!("Compute the sum of {a} and {b}."),
            format!("What do you get when {b} is added to {a}?"),
        ],
        (Format::Words, ArithOp::Sub) => alloc::vec![
            format!("What is {a} minus {b}?"),
            format!("Subtract {b} from {a}."),
            format!("Compute the difference {a} - {b}."),
            format!("What is left when {b} is taken away from {a}?"),
        ],
        (Format::Words, ArithOp::Mul) => alloc::vec![
            format!("What is {a} times {b}?"),
            format!("Multiply {b} by {a}."),
            format!("Compute the product of {a} and {b}."),
            format!("What is {b} multiplied by {a}?"),
        ],
    }
}

/// Decimal digits of `v ≥ 0`, least significant first.
fn digits_lsb(mut v: i64) -> Vec<i64> {
    let mut out = Vec::new();
    loop {
        out.push(v % 10);
        v /= 10;
        if v == 0 {
            return out;
        }
    }
}

/// The reference completion: the answer, or the worked steps then `=>answer`.
fn completion(op: ArithOp, format: Format, a: i64, b: i64, answer: i64) -> String {
    if format != Format::StepByStep {
        return format!("{answer}");
    }
    let mut steps: Vec<String> = Vec::new();
    match op {
        ArithOp::Add => {
            let (da, db) = (digits_lsb(a), digits_lsb(b));
            let mut carry = 0;
            for i in 0..da.len().max(db.len()) {
                let (x, y) = (
                    da.get(i).copied().unwrap_or(0),
                    db.get(i).copied().unwrap_or(0),
                );
                let s = x + y + carry;
                steps.push(if carry > 0 {
                    format!("{x}+{y}+{carry}={s}")
                } else {
                    format!("{x}+{y}={s}")
                });
                carry = s / 10;
            }
        }
        ArithOp::Sub => {
            let (da, db) = (digits_lsb(a), digits_lsb(b));
            let mut borrow = 0;
            for (i, &x) in da.iter().enumerate() {
                let y = db.get(i).copied().unwrap_or(0);
                let need = x - borrow - y < 0;
                let top = if need { x + 10 } else { x };
                let d = top - borrow - y;
                steps.push(if borrow > 0 {
                    format!("{top}-{borrow}-{y}={d}")
                } else {
                    format!("{top}-{y}={d}")
                });
                borrow = i64::from(need);
            }
        }
        ArithOp::Mul => {
            let mut place = 1i64;
            for d in digits_lsb(b) {
                let factor = d * place;
                steps.push(format!("{a}*{factor}={}", a * factor));
                place *= 10;
            }
        }
    }
    format!("{}=>{answer}", steps.join(","))
}

/// Pick a wording different from `current` when one exists.
pub(crate) fn pick_other(variants: Vec<String>, current: &str, rng: &mut dyn RngCore) -> String {
    let others: Vec<String> = variants
        .iter()
        .filter(|v| v.as_str() != current)
        .cloned()
        .collect();
    if others.is_empty() {
        variants.into_iter().next().unwrap_or_default()
    } else {
        let i = index(rng, others.len());
        others.into_iter().nth(i).unwrap_or_default()
    }
}

impl Task for Arithmetic {
    fn name(&self) -> &'static str {
        match self.op {
            ArithOp::Add => "addition",
            ArithOp::Sub => "subtraction",
            ArithOp::Mul => "multiplication",
        }
    }

    fn num_levels(&self) -> usize {
        self.digits().len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let (na, nb) = self.digits()[level];
        let (mut a, mut b) = (with_digits(rng, na), with_digits(rng, nb));
        if self.op == ArithOp::Sub && a < b {
            core::mem::swap(&mut a, &mut b);
        }
        self.problem(a, b, level)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_int(completion).map(Answer::Int)
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        *answer == problem.answer
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Arithmetic { op, a, b } = problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        if op != self.op {
            return Err(TaskError::WrongFamily);
        }
        let prompt = pick_other(variants(op, problem.format, a, b), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}
