//! Modular arithmetic (`a mod m`, `(a+b) mod m`, `(a·b) mod m`, `a^b mod m`) and the
//! parity of a bit string.
//!
//! Compact prompts: `"17%5="` → `"2"`, `"(12+34)%5="`, `"12*34%5="`, `"3^4%5="`;
//! parity `"par 1011:"` → `"1"` (1 = odd number of ones).

use crate::answer::extract_int;
use crate::arithmetic::pick_other;
use crate::rng::{shuffle, uniform};
use crate::task::{check_level, Format, Instance, ModOp, Problem, Task};
use crate::{Answer, TaskError};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Per level: operation, largest `a`, largest `b`, largest modulus.
const LEVELS: [(ModOp, i64, i64, i64); 6] = [
    (ModOp::Rem, 99, 0, 9),
    (ModOp::Add, 99, 99, 9),
    (ModOp::Mul, 99, 99, 19),
    (ModOp::Pow, 20, 9, 19),
    (ModOp::Mul, 9999, 9999, 97),
    (ModOp::Pow, 99, 99, 97),
];

/// Modular arithmetic on non-negative integers.
///
/// ```
/// use spar_tasks::{Modular, ModOp, Task};
/// let task = Modular::default();
/// let p = task.problem(ModOp::Pow, 3, 4, 5, 3).unwrap();
/// assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("3^4%5=", "1"));
/// assert_eq!(task.verify(&p, "1"), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modular {
    /// Prompt format (`StepByStep` is treated as `Compact`).
    pub format: Format,
}

/// `base^exp mod m` by square-and-multiply (`m ≥ 1`, operands below 2^31 so products fit).
fn pow_mod(base: i64, mut exp: i64, m: i64) -> i64 {
    let (mut result, mut b) = (1 % m, base % m);
    while exp > 0 {
        if exp & 1 == 1 {
            result = result * b % m;
        }
        b = b * b % m;
        exp >>= 1;
    }
    result
}

impl Modular {
    /// The problem `op(a, b) mod modulus` (`0 ≤ a, b < 2^31`, `2 ≤ modulus < 2^31`).
    pub fn problem(
        &self,
        op: ModOp,
        a: i64,
        b: i64,
        modulus: i64,
        level: usize,
    ) -> Result<Problem, TaskError> {
        let limit = 1i64 << 31;
        if !(0..limit).contains(&a) || !(0..limit).contains(&b) || !(2..limit).contains(&modulus) {
            return Err(TaskError::BadConfig("modular operands out of range"));
        }
        let answer = match op {
            ModOp::Rem => a % modulus,
            ModOp::Add => (a + b) % modulus,
            ModOp::Mul => (a % modulus) * (b % modulus) % modulus,
            ModOp::Pow => pow_mod(a, b, modulus),
        };
        Ok(Problem {
            prompt: self.variants(op, a, b, modulus).swap_remove(0),
            answer: Answer::Int(answer),
            completion: format!("{answer}"),
            level,
            format: self.format,
            instance: Instance::Modular { op, a, b, modulus },
        })
    }

    fn variants(&self, op: ModOp, a: i64, b: i64, m: i64) -> Vec<String> {
        let words = self.format == Format::Words;
        match (words, op) {
            (false, ModOp::Rem) => {
                alloc::vec![
                    format!("{a}%{m}="),
                    format!("{a} % {m} ="),
                    format!("{a} mod {m}="),
                    format!("mod {a} {m}:")
                ]
            }
            (false, ModOp::Add) => alloc::vec![
                format!("({a}+{b})%{m}="),
                format!("({b}+{a})%{m}="),
                format!("{a}+{b} mod {m}="),
                format!("addmod {a} {b} {m}:"),
            ],
            (false, ModOp::Mul) => alloc::vec![
                format!("{a}*{b}%{m}="),
                format!("{b}*{a}%{m}="),
                format!("{a}*{b} mod {m}="),
                format!("mulmod {b} {a} {m}:"),
            ],
            (false, ModOp::Pow) => {
                alloc::vec![
                    format!("{a}^{b}%{m}="),
                    format!("{a}^{b} mod {m}="),
                    format!("{a} ^ {b} % {m} ="),
                    format!("powmod {a} {b} {m}:")
                ]
            }
            (true, ModOp::Rem) => alloc::vec![
                format!("What is the remainder of {a} divided by {m}?"),
                format!("Compute {a} modulo {m}."),
                format!("Divide {a} by {m}; what is left over?"),
            ],
            (true, ModOp::Add) => alloc::vec![
                format!("What is ({a} + {b}) mod {m}?"),
                format!("Add {b} and {a}, then give the remainder modulo {m}."),
                format!("Compute the sum of {a} and {b} modulo {m}."),
            ],
            (true, ModOp::Mul) => alloc::vec![
                format!("What is {a} times {b}, modulo {m}?"),
                format!("Multiply {b} by {a} and reduce modulo {m}."),
                format!("Compute the product of {a} and {b} mod {m}."),
            ],
            (true, ModOp::Pow) => alloc::vec![
                format!("What is {a} to the power {b}, modulo {m}?"),
                format!("Compute {a}^{b} mod {m}."),
                format!("Raise {a} to the {b}th power and reduce modulo {m}."),
            ],
        }
    }
}

impl Task for Modular {
    fn name(&self) -> &'static str {
        "modular"
    }

    fn num_levels(&self) -> usize {
        LEVELS.len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let (op, max_a, max_b, max_m) = LEVELS[level];
        let (a, b, m) = (
            uniform(rng, 0, max_a),
            uniform(rng, 0, max_b),
            uniform(rng, 2, max_m),
        );
        self.problem(op, a, b, m, level)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_int(completion).map(Answer::Int)
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        *answer == problem.answer
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Modular { op, a, b, modulus } = problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let prompt = pick_other(self.variants(op, a, b, modulus), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}

/// Bit-string lengths per level.
const PARITY_LEVELS: [usize; 5] = [4, 8, 12, 16, 24];

/// Parity of the number of ones in a bit string (1 = odd).
///
/// ```
/// use spar_tasks::{Parity, Task};
/// let task = Parity::default();
/// let p = task.problem(&[1, 0, 1, 1], 0).unwrap();
/// assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("par 1011:", "1"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parity {
    /// Prompt format (`StepByStep` is treated as `Compact`).
    pub format: Format,
}

impl Parity {
    /// The problem for `bits` (each 0 or 1, non-empty).
    pub fn problem(&self, bits: &[u8], level: usize) -> Result<Problem, TaskError> {
        if bits.is_empty() || bits.iter().any(|&b| b > 1) {
            return Err(TaskError::BadConfig(
                "bits must be a non-empty string of 0 and 1",
            ));
        }
        let answer = i64::from(bits.iter().fold(0u8, |p, &b| p ^ b));
        Ok(Problem {
            prompt: self.variants(bits).swap_remove(0),
            answer: Answer::Int(answer),
            completion: format!("{answer}"),
            level,
            format: self.format,
            instance: Instance::Parity {
                bits: bits.to_vec(),
            },
        })
    }

    fn variants(&self, bits: &[u8]) -> Vec<String> {
        let s: String = bits
            .iter()
            .map(|&b| if b == 1 { '1' } else { '0' })
            .collect();
        let spaced: Vec<String> = bits.iter().map(|b| format!("{b}")).collect();
        let spaced = spaced.join(" ");
        if self.format == Format::Words {
            alloc::vec![
                format!("Is the number of ones in {s} odd? Answer 1 for odd, 0 for even."),
                format!(
                    "Count the 1s in {spaced}; reply 1 if the count is odd and 0 if it is even."
                ),
                format!("What is the parity (XOR of all bits) of {s}?"),
            ]
        } else {
            let mut v = alloc::vec![
                format!("par {s}:"),
                format!("parity {s}:"),
                format!("{s} par:")
            ];
            // Spaced bits double the length: only for short strings, so compact stays short.
            if bits.len() <= 8 {
                v.push(format!("par {spaced}:"));
            }
            v
        }
    }
}

impl Task for Parity {
    fn name(&self) -> &'static str {
        "parity"
    }

    fn num_levels(&self) -> usize {
        PARITY_LEVELS.len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let bits: Vec<u8> = (0..PARITY_LEVELS[level])
            .map(|_| (rng.next_u32() & 1) as u8)
            .collect();
        self.problem(&bits, level)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_int(completion).map(Answer::Int)
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        *answer == problem.answer
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Parity { bits } = &problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        // Parity is invariant under permutation of the bits: a shuffled string is a
        // paraphrase with the same answer.
        let mut shuffled = bits.clone();
        shuffle(rng, &mut shuffled);
        let prompt = pick_other(self.variants(&shuffled), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            instance: Instance::Parity { bits: shuffled },
            ..problem.clone()
        })
    }
}
