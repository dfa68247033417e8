//! Sorting and reversing sequences of integers.
//!
//! Compact prompts `"sort 3 1 2:"` → `"1 2 3"` and `"rev 3 1 2:"` → `"2 1 3"`; items are
//! separated by single spaces so a digit-splitting tokenizer sees one token per digit.

use crate::answer::extract_list;
use crate::arithmetic::pick_other;
use crate::rng::{shuffle, uniform};
use crate::task::{check_level, Format, Instance, Problem, SeqOp, Task};
use crate::{Answer, TaskError};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Sequence length and largest item per level.
const LEVELS: [(usize, i64); 6] = [(3, 9), (5, 9), (8, 9), (5, 99), (8, 99), (10, 99)];

/// Sort or reverse a sequence.
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use spar_tasks::{SeqOp, Sequence, Task};
/// let task = Sequence::new(SeqOp::Sort);
/// let p = task.problem(&[3, 1, 2], 0).unwrap();
/// assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("sort 3 1 2:", "1 2 3"));
/// assert_eq!(task.verify(&p, "[1, 2, 3]"), 1.0);
/// let mut rng = ChaCha8Rng::seed_from_u64(2);
/// assert_eq!(task.paraphrase(&p, &mut rng).unwrap().answer, p.answer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequence {
    /// Sort or reverse.
    pub op: SeqOp,
    /// Prompt format (`StepByStep` is treated as `Compact`).
    pub format: Format,
}

fn join(items: &[i64], sep: &str) -> String {
    let parts: Vec<String> = items.iter().map(|v| format!("{v}")).collect();
    parts.join(sep)
}

impl Sequence {
    /// The task for `op` in the compact format.
    pub fn new(op: SeqOp) -> Self {
        Sequence {
            op,
            format: Format::Compact,
        }
    }

    /// The same task with another format.
    pub fn with_format(self, format: Format) -> Self {
        Sequence { format, ..self }
    }

    /// The problem for `items` (non-empty).
    pub fn problem(&self, items: &[i64], level: usize) -> Result<Problem, TaskError> {
        if items.is_empty() {
            return Err(TaskError::BadConfig("sequence must not be empty"));
        }
        let answer = apply(self.op, items);
        Ok(Problem {
            prompt: self.variants(items).swap_remove(0),
            completion: join(&answer, " "),
            answer: Answer::List(answer),
            level,
            format: self.format,
            instance: Instance::Sequence {
                op: self.op,
                items: items.to_vec(),
            },
        })
    }

    fn variants(&self, items: &[i64]) -> Vec<String> {
        let (sp, cm) = (join(items, " "), join(items, ","));
        match (self.format, self.op) {
            (Format::Words, SeqOp::Sort) => alloc::vec![
                format!(
                    "Sort these numbers in ascending order: {}.",
                    join(items, ", ")
                ),
                format!("Arrange {sp} from smallest to largest."),
                format!("Put the list [{}] in increasing order.", join(items, ", ")),
            ],
            (Format::Words, SeqOp::Reverse) => alloc::vec![
                format!("Reverse the sequence {}.", join(items, ", ")),
                format!("Write {sp} backwards."),
                format!("List [{}] from last to first.", join(items, ", ")),
            ],
            (_, SeqOp::Sort) => alloc::vec![
                format!("sort {sp}:"),
                format!("sort {cm}:"),
                format!("{sp} sorted:"),
                format!("order {sp}:"),
            ],
            (_, SeqOp::Reverse) => alloc::vec![
                format!("rev {sp}:"),
                format!("rev {cm}:"),
                format!("{sp} reversed:"),
                format!("reverse {sp}:"),
            ],
        }
    }
}

fn apply(op: SeqOp, items: &[i64]) -> Vec<i64> {
    let mut out = items.to_vec();
    match op {
        SeqOp::Sort => out.sort_unstable(),
        SeqOp::Reverse => out.reverse(),
    }
    out
}

impl Task for Sequence {
    fn name(&self) -> &'static str {
        match self.op {
            SeqOp::Sort => "sort",
            SeqOp::Reverse => "reverse",
        }
    }

    fn num_levels(&self) -> usize {
        LEVELS.len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let (len, max) = LEVELS[level];
        let items: Vec<i64> = (0..len).map(|_| uniform(rng, 0, max)).collect();
        self.problem(&items, level)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_list(completion).map(Answer::List)
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        *answer == problem.answer
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Sequence { op, items } = &problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        if *op != self.op {
            return Err(TaskError::WrongFamily);
        }
        let mut variants = self.variants(items);
        if *op == SeqOp::Sort {
            // The sorted result does not depend on the input order: shuffled inputs are
            // valid paraphrases. The instance keeps the shuffled order so the prompt and
            // the instance agree.
            let mut shuffled = items.clone();
            shuffle(rng, &mut shuffled);
            if shuffled != *items {
                let others = self.variants(&shuffled);
                let prompt = pick_other(others, &problem.prompt, rng);
                let instance = Instance::Sequence {
                    op: *op,
                    items: shuffled,
                };
                return Ok(Problem {
                    prompt,
                    instance,
                    ..problem.clone()
                });
            }
        }
        variants.dedup();
        let prompt = pick_other(variants, &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}
