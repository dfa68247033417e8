//! The [`Task`] trait every family implements, and the [`Problem`] it generates.

use crate::{Answer, TaskError};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::RngCore;

/// How prompts (and reference completions) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Short symbolic prompts for tiny character-level models (`"12+34="` → `"46"`).
    #[default]
    Compact,
    /// Sentences (`"What is 12 plus 34?"` → `"46"`).
    Words,
    /// Compact prompt, completion that works the problem column by column and ends with
    /// `=>` and the answer (arithmetic only; other families treat it as `Compact`).
    StepByStep,
}

/// The arithmetic operation of an [`Instance::Arithmetic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `a + b`.
    Add,
    /// `a − b` with `a ≥ b`.
    Sub,
    /// `a × b`.
    Mul,
}

/// The operation of an [`Instance::Sequence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqOp {
    /// Sort ascending.
    Sort,
    /// Reverse.
    Reverse,
}

/// The operation of an [`Instance::Modular`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModOp {
    /// `a mod m` (`b` unused).
    Rem,
    /// `(a + b) mod m`.
    Add,
    /// `(a · b) mod m`.
    Mul,
    /// `a^b mod m`.
    Pow,
}

/// The structured problem behind a prompt; paraphrases and verifiers work from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instance {
    /// `a op b`.
    Arithmetic {
        /// The operation.
        op: ArithOp,
        /// Left operand.
        a: i64,
        /// Right operand.
        b: i64,
    },
    /// Reach `target` from `numbers`, each used at most once, with `+ − × ÷` and brackets.
    Countdown {
        /// The available numbers (a multiset).
        numbers: Vec<i64>,
        /// The target.
        target: i64,
    },
    /// Sort or reverse `items`.
    Sequence {
        /// The operation.
        op: SeqOp,
        /// The input sequence.
        items: Vec<i64>,
    },
    /// Modular arithmetic on non-negative integers.
    Modular {
        /// The operation.
        op: ModOp,
        /// First operand.
        a: i64,
        /// Second operand (unused for [`ModOp::Rem`]).
        b: i64,
        /// The modulus (≥ 2).
        modulus: i64,
    },
    /// Parity of the number of ones in a bit string.
    Parity {
        /// The bits (each 0 or 1).
        bits: Vec<u8>,
    },
    /// A proposer–solver program task (deduction, abduction or induction).
    Program(Box<crate::azr::ProgramTask>),
    /// Factor the composite `n` into primes.
    Factoring {
        /// The number to factor.
        n: u64,
    },
    /// Write the column-by-column trace of `a + b`.
    AddTrace {
        /// First operand.
        a: u64,
        /// Second operand.
        b: u64,
    },
    /// Judge a candidate answer to a problem of another family (yes/no).
    Verify(Box<crate::verify::VerifyInstance>),
}

/// A generated problem: the prompt shown to the model and the hidden answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The text the model sees.
    pub prompt: String,
    /// The hidden reference answer (canonical).
    pub answer: Answer,
    /// A reference completion in the problem's format; `verify` scores it 1.
    pub completion: String,
    /// The difficulty level it was drawn at (a curriculum arm).
    pub level: usize,
    /// The format of `prompt` and `completion`.
    pub format: Format,
    /// The structured problem.
    pub instance: Instance,
}

/// A family of verifiable problems.
///
/// Implementations are deterministic given the caller's random generator, never panic on
/// any completion, and keep the answer fixed under [`Task::paraphrase`].
pub trait Task {
    /// The family's name, e.g. `"addition"`.
    fn name(&self) -> &'static str;

    /// Number of difficulty levels; levels are `0..num_levels()`, easiest first.
    fn num_levels(&self) -> usize;

    /// Draw a problem at `level`.
    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError>;

    /// Pull this family's answer out of a completion (tolerant of junk; `None` if there is
    /// none). Equal answers compare equal, so votes can be taken over the results.
    fn extract_answer(&self, completion: &str) -> Option<Answer>;

    /// Whether `answer` solves `problem` (for most families: equals `problem.answer`;
    /// Countdown, abduction and induction accept every valid solution).
    fn check(&self, problem: &Problem, answer: &Answer) -> bool;

    /// Score a completion: 1 if its extracted answer solves the problem, else 0.
    fn verify(&self, problem: &Problem, completion: &str) -> f64 {
        match self.extract_answer(completion) {
            Some(a) if self.check(problem, &a) => 1.0,
            _ => 0.0,
        }
    }

    /// A differently worded problem with the same answer, in the same format (compact
    /// prompts stay compact). Used for Co-Reward's cross-question agreement.
    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError>;
}

/// Return `BadLevel` unless `level < num_levels`.
pub(crate) fn check_level(level: usize, num_levels: usize) -> Result<(), TaskError> {
    if level < num_levels {
        Ok(())
    } else {
        Err(TaskError::BadLevel { level, num_levels })
    }
}
