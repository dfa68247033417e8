//! Countdown: reach a target from a few numbers, each used at most once, with `+ − × ÷`
//! and brackets (the numbers round of the TV game; the RL task of TinyZero and of the
//! "Countdown" experiments in Gandhi et al. 2025, "Cognitive behaviors that enable
//! self-improving reasoners").
//!
//! The verifier parses the expression, checks that the multiset of its literals is
//! contained in the multiset of available numbers, and evaluates it **exactly** with
//! rationals (`(7/2)*4 = 14` is accepted; any division by zero or overflow rejects it).
//! Compact prompt: `"3 5 7>22:"` → completion `"3*5+7"`.

use crate::answer::answer_region;
use crate::arithmetic::pick_other;
use crate::rational::Rational;
use crate::rng::{index, shuffle, uniform};
use crate::task::{check_level, Format, Instance, Problem, Task};
use crate::{Answer, TaskError};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use rand_core::RngCore;

/// Deepest bracket nesting the parser accepts (it recurses once per level).
const MAX_DEPTH: usize = 32;
/// Most number literals in one expression.
const MAX_LITERALS: usize = 32;

/// A binary operator of a Countdown expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (exact, rational)
    Div,
}

impl CdOp {
    fn symbol(self) -> char {
        match self {
            CdOp::Add => '+',
            CdOp::Sub => '-',
            CdOp::Mul => '*',
            CdOp::Div => '/',
        }
    }
    fn precedence(self) -> u8 {
        match self {
            CdOp::Add | CdOp::Sub => 1,
            CdOp::Mul | CdOp::Div => 2,
        }
    }
}

/// A parsed Countdown expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdExpr {
    /// A number literal.
    Num(i64),
    /// `left op right`.
    Bin(CdOp, Box<CdExpr>, Box<CdExpr>),
}

/// Why an expression does not solve a Countdown problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountdownError {
    /// Not an expression of the grammar (the byte offset where parsing failed).
    Parse(usize),
    /// Too deeply nested or too many literals.
    TooLarge,
    /// A literal not available (or used more often than available).
    NumberNotAvailable(i64),
    /// Division by zero somewhere in the expression.
    DivisionByZero,
    /// An intermediate value overflowed the exact arithmetic.
    Overflow,
    /// A valid expression whose value is not the target.
    WrongValue,
}

impl fmt::Display for CountdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountdownError::Parse(at) => write!(f, "parse error at byte {at}"),
            CountdownError::TooLarge => write!(f, "expression too large"),
            CountdownError::NumberNotAvailable(n) => write!(f, "number {n} not available"),
            CountdownError::DivisionByZero => write!(f, "division by zero"),
            CountdownError::Overflow => write!(f, "arithmetic overflow"),
            CountdownError::WrongValue => write!(f, "value differs from the target"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CountdownError {}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    literals: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// The operator at the cursor, accepting `×` and `÷` as well as ASCII.
    fn peek_op(&mut self) -> Option<(CdOp, usize)> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        match rest.first()? {
            b'+' => Some((CdOp::Add, 1)),
            b'-' => Some((CdOp::Sub, 1)),
            b'*' => Some((CdOp::Mul, 1)),
            b'/' => Some((CdOp::Div, 1)),
            _ if rest.starts_with("×".as_bytes()) => Some((CdOp::Mul, 2)),
            _ if rest.starts_with("÷".as_bytes()) => Some((CdOp::Div, 2)),
            _ => None,
        }
    }

    fn expr(&mut self, depth: usize) -> Result<CdExpr, CountdownError> {
        let mut left = self.term(depth)?;
        while let Some((op @ (CdOp::Add | CdOp::Sub), len)) = self.peek_op() {
            self.pos += len;
            let right = self.term(depth)?;
            left = CdExpr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self, depth: usize) -> Result<CdExpr, CountdownError> {
        let mut left = self.factor(depth)?;
        while let Some((op @ (CdOp::Mul | CdOp::Div), len)) = self.peek_op() {
            self.pos += len;
            let right = self.factor(depth)?;
            left = CdExpr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self, depth: usize) -> Result<CdExpr, CountdownError> {
        self.skip_ws();
        match self.src.get(self.pos) {
            Some(b'(') => {
                if depth >= MAX_DEPTH {
                    return Err(CountdownError::TooLarge);
                }
                self.pos += 1;
                let e = self.expr(depth + 1)?;
                self.skip_ws();
                if self.src.get(self.pos) != Some(&b')') {
                    return Err(CountdownError::Parse(self.pos));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(b) if b.is_ascii_digit() => {
                let start = self.pos;
                while self.pos < self.src.len() && self.src[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                if self.pos - start > 18 {
                    return Err(CountdownError::Overflow);
                }
                self.literals += 1;
                if self.literals > MAX_LITERALS {
                    return Err(CountdownError::TooLarge);
                }
                let mut v: i64 = 0;
                for &d in &self.src[start..self.pos] {
                    v = v * 10 + i64::from(d - b'0');
                }
                Ok(CdExpr::Num(v))
            }
            _ => Err(CountdownError::Parse(self.pos)),
        }
    }
}

impl CdExpr {
    /// Parse an expression: numbers, `+ - * /` (also `×`, `÷`), brackets, spaces. No unary
    /// minus. Never panics; at most 32 nested brackets and 32 literals.
    ///
    /// ```
    /// use spar_tasks::CdExpr;
    /// let e = CdExpr::parse("(3 + 5) × 7").unwrap();
    /// assert_eq!(e.to_string(), "(3+5)*7");
    /// assert!(CdExpr::parse("3+").is_err());
    /// ```
    pub fn parse(src: &str) -> Result<CdExpr, CountdownError> {
        let mut p = Parser {
            src: src.as_bytes(),
            pos: 0,
            literals: 0,
        };
        let e = p.expr(0)?;
        p.skip_ws();
        if p.pos != p.src.len() {
            return Err(CountdownError::Parse(p.pos));
        }
        Ok(e)
    }

    /// Exact value; `DivisionByZero` or `Overflow` when it has none.
    pub fn eval(&self) -> Result<Rational, CountdownError> {
        match self {
            CdExpr::Num(v) => Ok(Rational::int(*v)),
            CdExpr::Bin(op, l, r) => {
                let (a, b) = (l.eval()?, r.eval()?);
                let v = match op {
                    CdOp::Add => a.checked_add(b),
                    CdOp::Sub => a.checked_sub(b),
                    CdOp::Mul => a.checked_mul(b),
                    CdOp::Div => {
                        if b.numer() == 0 {
                            return Err(CountdownError::DivisionByZero);
                        }
                        a.checked_div(b)
                    }
                };
                v.ok_or(CountdownError::Overflow)
            }
        }
    }

    /// The number literals, left to right.
    pub fn literals(&self) -> Vec<i64> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<i64>) {
        match self {
            CdExpr::Num(v) => out.push(*v),
            CdExpr::Bin(_, l, r) => {
                l.collect(out);
                r.collect(out);
            }
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, parent: u8, right: bool) -> fmt::Result {
        match self {
            CdExpr::Num(v) => write!(f, "{v}"),
            CdExpr::Bin(op, l, r) => {
                // Brackets exactly where the tree differs from left-associative precedence
                // parsing, so the text re-parses to the same tree.
                let p = op.precedence();
                let wrap = p < parent || (p == parent && right);
                if wrap {
                    f.write_str("(")?;
                }
                l.write(f, p, false)?;
                write!(f, "{}", op.symbol())?;
                r.write(f, p, true)?;
                if wrap {
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for CdExpr {
    /// Canonical text: no spaces, ASCII operators, only the brackets the tree needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0, false)
    }
}

/// Check `expr` against `numbers` and `target`: parses, uses each number at most as often
/// as it is available, evaluates exactly to `target`.
///
/// ```
/// use spar_tasks::{check_countdown, CountdownError};
/// assert_eq!(check_countdown("3*5+7", &[3, 5, 7], 22), Ok(()));
/// assert_eq!(check_countdown("7*3+7/7", &[3, 5, 7], 22), Err(CountdownError::NumberNotAvailable(7)));
/// assert_eq!(check_countdown("(7/2)*4", &[2, 4, 7], 14), Ok(()));
/// ```
pub fn check_countdown(expr: &str, numbers: &[i64], target: i64) -> Result<(), CountdownError> {
    check_tree(&CdExpr::parse(expr)?, numbers, target)
}

fn check_tree(e: &CdExpr, numbers: &[i64], target: i64) -> Result<(), CountdownError> {
    let mut pool: Vec<i64> = numbers.to_vec();
    for lit in e.literals() {
        match pool.iter().position(|&n| n == lit) {
            Some(i) => {
                pool.swap_remove(i);
            }
            None => return Err(CountdownError::NumberNotAvailable(lit)),
        }
    }
    if e.eval()? == Rational::int(target) {
        Ok(())
    } else {
        Err(CountdownError::WrongValue)
    }
}

/// Pull a Countdown expression out of a completion: the text after the last answer marker
/// (if any) is cut at every character that cannot be part of an expression (such as `=` or
/// a letter); of the pieces that parse, the last one containing an operator is taken (the
/// first one after a marker), else the last bare number. Returned in canonical form.
///
/// ```
/// use spar_tasks::extract_countdown;
/// assert_eq!(extract_countdown("ok: 3 * 5 + 7 = 22").unwrap().to_string(), "3*5+7");
/// assert!(extract_countdown("nothing here").is_none());
/// ```
pub fn extract_countdown(completion: &str) -> Option<CdExpr> {
    let (region, marked) = answer_region(completion);
    let mut parsed: Vec<CdExpr> = Vec::new();
    for piece in region.split(|c: char| !(c.is_ascii_digit() || " +-*/()×÷\t".contains(c))) {
        if piece.trim().is_empty() {
            continue;
        }
        if let Ok(e) = CdExpr::parse(piece) {
            parsed.push(e);
        }
    }
    let has_op = |e: &CdExpr| matches!(e, CdExpr::Bin(..));
    if marked {
        let first_op = parsed.iter().position(has_op);
        first_op
            .or(if parsed.is_empty() { None } else { Some(0) })
            .map(|i| parsed.swap_remove(i))
    } else {
        let last_op = parsed.iter().rposition(has_op);
        match last_op {
            Some(i) => Some(parsed.swap_remove(i)),
            None => parsed.pop(),
        }
    }
}

/// Numbers per level: how many, their range, and the largest target.
const LEVELS: [(usize, i64, i64); 6] = [
    (2, 9, 81),
    (3, 9, 100),
    (3, 20, 200),
    (4, 20, 300),
    (4, 50, 500),
    (5, 100, 999),
];

/// The Countdown task.
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use spar_tasks::{Countdown, Task};
/// let task = Countdown::default();
/// let mut rng = ChaCha8Rng::seed_from_u64(1);
/// let p = task.generate(1, &mut rng).unwrap();   // e.g. "3 5 7>22:"
/// assert_eq!(task.verify(&p, &p.completion), 1.0);
/// assert_eq!(task.verify(&p, "1+1+1+1+1"), 0.0); // 1 is not available five times
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Countdown {
    /// Prompt format (`StepByStep` is treated as `Compact`).
    pub format: Format,
}

impl Countdown {
    /// The problem for `numbers` and `target` with `solution` as its reference answer.
    pub fn problem(
        &self,
        numbers: &[i64],
        target: i64,
        solution: &CdExpr,
        level: usize,
    ) -> Result<Problem, TaskError> {
        if numbers.is_empty() || check_tree(solution, numbers, target).is_err() {
            return Err(TaskError::BadConfig(
                "solution does not solve the Countdown problem",
            ));
        }
        let text = format!("{solution}");
        Ok(Problem {
            prompt: self.variants(numbers, target).swap_remove(0),
            answer: Answer::Text(text.clone()),
            completion: text,
            level,
            format: self.format,
            instance: Instance::Countdown {
                numbers: numbers.to_vec(),
                target,
            },
        })
    }

    fn variants(&self, numbers: &[i64], target: i64) -> Vec<String> {
        let spaced = join(numbers, " ");
        match self.format {
            Format::Compact | Format::StepByStep => alloc::vec![
                format!("{spaced}>{target}:"),
                format!("{}>{target}:", join(numbers, ",")),
                format!("{spaced} > {target} :"),
                format!("to {target} use {spaced}:"),
            ],
            Format::Words => alloc::vec![
                format!(
                    "Using the numbers {} each at most once, with + - * / and brackets, write an expression equal to {target}.",
                    join(numbers, ", ")
                ),
                format!("Make {target} from {spaced} using + - * / (each number at most once)."),
                format!("Target {target}. Numbers: {spaced}. Combine them with + - * / to hit the target; each at most once."),
            ],
        }
    }
}

fn join(items: &[i64], sep: &str) -> String {
    let parts: Vec<String> = items.iter().map(|v| format!("{v}")).collect();
    parts.join(sep)
}

/// A random expression tree over `leaves` (in order), random operators.
fn random_tree(rng: &mut dyn RngCore, leaves: &[i64]) -> CdExpr {
    if leaves.len() == 1 {
        return CdExpr::Num(leaves[0]);
    }
    let split = 1 + index(rng, leaves.len() - 1);
    let op = [CdOp::Add, CdOp::Sub, CdOp::Mul, CdOp::Div][index(rng, 4)];
    CdExpr::Bin(
        op,
        Box::new(random_tree(rng, &leaves[..split])),
        Box::new(random_tree(rng, &leaves[split..])),
    )
}

impl Task for Countdown {
    fn name(&self) -> &'static str {
        "countdown"
    }

    fn num_levels(&self) -> usize {
        LEVELS.len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let (count, max_number, max_target) = LEVELS[level];
        for _ in 0..1000 {
            let numbers: Vec<i64> = (0..count).map(|_| uniform(rng, 1, max_number)).collect();
            // Use all numbers at the two easiest levels, a random subset of ≥ 2 above.
            let used = if level < 2 {
                count
            } else {
                2 + index(rng, count - 1)
            };
            let mut order = numbers.clone();
            shuffle(rng, &mut order);
            let tree = random_tree(rng, &order[..used]);
            let Ok(value) = tree.eval() else { continue };
            match value.to_i64() {
                Some(t) if t >= 1 && t <= max_target && !numbers.contains(&t) => {
                    return self.problem(&numbers, t, &tree, level);
                }
                _ => continue,
            }
        }
        Err(TaskError::GenerationFailed)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_countdown(completion).map(|e| Answer::Text(format!("{e}")))
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        match (&problem.instance, answer) {
            (Instance::Countdown { numbers, target }, Answer::Text(t)) => {
                check_countdown(t, numbers, *target).is_ok()
            }
            _ => false,
        }
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Countdown { numbers, target } = &problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let mut shuffled = numbers.clone();
        shuffle(rng, &mut shuffled);
        let mut variants = self.variants(&shuffled, *target);
        variants.extend(self.variants(numbers, *target).into_iter().skip(1));
        let prompt = pick_other(variants, &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}
