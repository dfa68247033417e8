//! Step-by-step addition traces whose single steps can be checked.
//!
//! A trace adds two numbers column by column, least significant digit first, then states
//! the result:
//!
//! ```text
//! 12+39: 2+9=11 c1; 1+3+1=5; = 51
//! ```
//!
//! Column `i` is written `x+y=s`, with `x` and `y` the `i`-th digits of the operands (0 past
//! the end of the shorter one), `+1` after `y` when the previous column carried, and ` c1`
//! after `s` when this column carries (`s ≥ 10`). Columns are separated by `; ` and the
//! result line `= r` ends the trace. There are as many columns as the longer operand has
//! digits; a final carry shows up only in the result.
//!
//! The **steps** of a trace are its columns followed by its result line: step `i < k` is
//! column `i`, step `k` the result line, where `k` is the correct number of columns.
//! [`check_trace`] compares every step with the correct one and returns the index of the
//! first that differs (a missing column is wrong where it is missing; an extra column is
//! wrong where the result line belongs). [`corrupt_trace`] plants exactly one wrong step in
//! a correct trace, the error a sneaky generator makes for an adversarial critic to find.
//!
//! The parser is strict about the grammar (ASCII spaces between tokens are optional) and
//! reports the byte offset of the first error; it never panics.

use crate::answer::answer_region;
use crate::arithmetic::pick_other;
use crate::factoring::parse_u64;
use crate::rng::{index, with_digits};
use crate::task::{check_level, Format, Instance, Problem, Task};
use crate::{Answer, TaskError};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use rand_core::RngCore;

/// Operands must be below this (so every sum fits a `u64` with room to spare).
pub const MAX_TRACE_OPERAND: u64 = 100_000_000_000_000_000;
/// Most columns [`AddTrace::parse`] reads (operands below 10^17 need at most 17).
pub const MAX_TRACE_COLUMNS: usize = 24;

/// One column of an addition trace: `x+y[+carry_in]=sum[ c carry_out]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceColumn {
    /// The digit of the first operand.
    pub x: u64,
    /// The digit of the second operand.
    pub y: u64,
    /// The carry added from the previous column (`Some(1)` when it carried, else `None`).
    pub carry_in: Option<u64>,
    /// The column sum `x + y + carry_in`.
    pub sum: u64,
    /// The carry to the next column (`Some(1)` when `sum ≥ 10`, else `None`).
    pub carry_out: Option<u64>,
}

impl fmt::Display for TraceColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.x, self.y)?;
        if let Some(c) = self.carry_in {
            write!(f, "+{c}")?;
        }
        write!(f, "={}", self.sum)?;
        if let Some(c) = self.carry_out {
            write!(f, " c{c}")?;
        }
        Ok(())
    }
}

/// A (possibly wrong) addition trace of `a + b`.
///
/// ```
/// use spar_tasks::{check_trace, AddTrace};
/// let t = AddTrace::new(12, 39).unwrap();
/// assert_eq!(t.to_string(), "12+39: 2+9=11 c1; 1+3+1=5; = 51");
/// assert_eq!(check_trace(&t), None);
/// let bad = AddTrace::parse("12+39: 2+9=11 c1; 1+3=4; = 41").unwrap();
/// assert_eq!(check_trace(&bad), Some(1)); // the carry was dropped in column 1
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddTrace {
    /// First operand.
    pub a: u64,
    /// Second operand.
    pub b: u64,
    /// The columns as written, least significant first.
    pub columns: Vec<TraceColumn>,
    /// The result as written.
    pub result: u64,
}

/// Why a text is not an addition trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceError {
    /// Not of the trace grammar: the byte offset and what was expected there.
    Parse {
        /// Byte offset of the failure.
        at: usize,
        /// What the parser wanted at `at`.
        expected: &'static str,
    },
    /// A number too long to be a `u64` (the byte offset where it starts).
    NumberTooLarge(usize),
    /// More than [`MAX_TRACE_COLUMNS`] columns.
    TooManyColumns,
    /// An operand at or above [`MAX_TRACE_OPERAND`].
    OperandTooLarge,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Parse { at, expected } => {
                write!(f, "parse error at byte {at}: expected {expected}")
            }
            TraceError::NumberTooLarge(at) => write!(f, "number at byte {at} is too large"),
            TraceError::TooManyColumns => write!(f, "more than {MAX_TRACE_COLUMNS} columns"),
            TraceError::OperandTooLarge => write!(f, "operand not below 10^17"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TraceError {}

/// Decimal digits of `v`, least significant first (`0` has one digit).
fn digits_lsb(mut v: u64) -> Vec<u64> {
    let mut out = Vec::new();
    loop {
        out.push(v % 10);
        v /= 10;
        if v == 0 {
            return out;
        }
    }
}

/// The correct columns of `a + b`.
fn correct_columns(a: u64, b: u64) -> Vec<TraceColumn> {
    let (da, db) = (digits_lsb(a), digits_lsb(b));
    let mut carry = 0;
    (0..da.len().max(db.len()))
        .map(|i| {
            let x = da.get(i).copied().unwrap_or(0);
            let y = db.get(i).copied().unwrap_or(0);
            let sum = x + y + carry;
            let column = TraceColumn {
                x,
                y,
                carry_in: (carry > 0).then_some(carry),
                sum,
                carry_out: (sum >= 10).then_some(1),
            };
            carry = sum / 10;
            column
        })
        .collect()
}

impl AddTrace {
    /// The correct trace of `a + b` (both below [`MAX_TRACE_OPERAND`]).
    pub fn new(a: u64, b: u64) -> Result<Self, TraceError> {
        if a >= MAX_TRACE_OPERAND || b >= MAX_TRACE_OPERAND {
            return Err(TraceError::OperandTooLarge);
        }
        Ok(AddTrace {
            a,
            b,
            columns: correct_columns(a, b),
            result: a + b,
        })
    }

    /// Parse a whole trace, header included: `"12+39: 2+9=11 c1; 1+3+1=5; = 51"`.
    ///
    /// ```
    /// use spar_tasks::{AddTrace, TraceError};
    /// let t = AddTrace::parse("7+8: 7+8=15 c1; = 15").unwrap();
    /// assert_eq!((t.a, t.b, t.columns.len(), t.result), (7, 8, 1, 15));
    /// assert_eq!(AddTrace::parse("7+8: 7+8=15 c1 = 15"),
    ///            Err(TraceError::Parse { at: 15, expected: "`;`" }));
    /// ```
    pub fn parse(text: &str) -> Result<Self, TraceError> {
        let mut p = Cursor::new(text, 0);
        let a = p.number()?;
        p.expect(b'+', "`+`")?;
        let b = p.number()?;
        p.expect(b':', "`:`")?;
        let (columns, result) = p.body()?;
        p.end()?;
        Self::checked(a, b, columns, result)
    }

    /// Parse the part after the header (`"2+9=11 c1; 1+3+1=5; = 51"`) as a trace of `a + b`.
    pub fn parse_body(a: u64, b: u64, body: &str) -> Result<Self, TraceError> {
        let mut p = Cursor::new(body, 0);
        let (columns, result) = p.body()?;
        p.end()?;
        Self::checked(a, b, columns, result)
    }

    fn checked(a: u64, b: u64, columns: Vec<TraceColumn>, result: u64) -> Result<Self, TraceError> {
        if a >= MAX_TRACE_OPERAND || b >= MAX_TRACE_OPERAND {
            return Err(TraceError::OperandTooLarge);
        }
        Ok(AddTrace {
            a,
            b,
            columns,
            result,
        })
    }

    /// The trace without its header: `"2+9=11 c1; 1+3+1=5; = 51"`.
    pub fn body(&self) -> String {
        let mut out = String::new();
        for c in &self.columns {
            out.push_str(&c.to_string());
            out.push_str("; ");
        }
        out.push_str(&format!("= {}", self.result));
        out
    }

    /// Number of steps the correct trace of `a + b` has: its columns plus the result line.
    pub fn num_steps(&self) -> usize {
        digits_lsb(self.a.max(self.b)).len() + 1
    }
}

impl fmt::Display for AddTrace {
    /// `a+b: ` then [`AddTrace::body`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}: {}", self.a, self.b, self.body())
    }
}

/// The index of the first wrong step of `trace`, or `None` when every column and the result
/// are right (module docs: step `k`, the number of correct columns, is the result line).
///
/// ```
/// use spar_tasks::{check_trace, AddTrace};
/// assert_eq!(check_trace(&AddTrace::parse("58+67: 8+7=15 c1; 5+6+1=12 c1; = 125").unwrap()), None);
/// assert_eq!(check_trace(&AddTrace::parse("58+67: 8+7=15 c1; 5+6+1=12 c1; = 115").unwrap()), Some(2));
/// assert_eq!(check_trace(&AddTrace::parse("58+67: 8+7=14 c1; 5+6+1=12 c1; = 125").unwrap()), Some(0));
/// ```
pub fn check_trace(trace: &AddTrace) -> Option<usize> {
    let correct = correct_columns(trace.a, trace.b);
    for (i, c) in correct.iter().enumerate() {
        if trace.columns.get(i) != Some(c) {
            return Some(i);
        }
    }
    let k = correct.len();
    if trace.columns.len() > k || trace.a.checked_add(trace.b) != Some(trace.result) {
        return Some(k);
    }
    None
}

/// A copy of `trace` whose step `step` is replaced by a plausible wrong one (a column
/// missing from a short trace is appended); `None` when `step` is past the result line
/// (`step ≥ trace.num_steps()`) or an operand is not below [`MAX_TRACE_OPERAND`].
///
/// The replacement is built from the **correct** step, so it always differs from it; when
/// `trace` is correct, [`check_trace`] of the copy is exactly `Some(step)` and every other
/// step stays right. Column errors: the sum off by one; the carry forgotten or invented (sum
/// adjusted, so the arithmetic of the line looks right); the carry mark dropped or added; an
/// operand digit miscopied (sum adjusted). Result errors: off by one, by a power of ten, or
/// the final carry dropped.
pub fn corrupt_step(trace: &AddTrace, step: usize, rng: &mut dyn RngCore) -> Option<AddTrace> {
    if trace.a >= MAX_TRACE_OPERAND || trace.b >= MAX_TRACE_OPERAND {
        return None;
    }
    let correct = correct_columns(trace.a, trace.b);
    let mut out = trace.clone();
    if step < correct.len() {
        let c = correct[step];
        let wrong = wrong_column(c, rng);
        if step < out.columns.len() {
            out.columns[step] = wrong;
        } else {
            out.columns.push(wrong);
        }
        Some(out)
    } else if step == correct.len() {
        out.result = wrong_result(trace.a + trace.b, correct.len(), rng);
        Some(out)
    } else {
        None
    }
}

/// Plant one wrong step in `trace` at a uniformly drawn step; returns the copy and the step.
/// When `trace` is correct, [`check_trace`] of the copy is `Some(step)`. (A trace whose
/// operands are not below [`MAX_TRACE_OPERAND`] comes back unchanged.)
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use spar_tasks::{check_trace, corrupt_trace, AddTrace};
/// let t = AddTrace::new(58, 67).unwrap();
/// let (bad, step) = corrupt_trace(&t, &mut ChaCha8Rng::seed_from_u64(3));
/// assert_eq!(check_trace(&bad), Some(step));
/// ```
pub fn corrupt_trace(trace: &AddTrace, rng: &mut dyn RngCore) -> (AddTrace, usize) {
    let step = index(rng, trace.num_steps());
    match corrupt_step(trace, step, rng) {
        Some(t) => (t, step),
        // Only for operands out of range (`step < num_steps` always).
        None => (trace.clone(), step),
    }
}

fn wrong_column(c: TraceColumn, rng: &mut dyn RngCore) -> TraceColumn {
    loop {
        let mut w = c;
        match index(rng, 4) {
            // The sum off by one (the carry mark follows the written sum half the time).
            0 => {
                w.sum = if c.sum == 0 || index(rng, 2) == 0 {
                    c.sum + 1
                } else {
                    c.sum - 1
                };
                if index(rng, 2) == 0 {
                    w.carry_out = (w.sum >= 10).then_some(1);
                }
            }
            // The carry forgotten, or one invented; the sum follows.
            1 => {
                if c.carry_in.is_some() {
                    w.carry_in = None;
                    w.sum = c.x + c.y;
                } else {
                    w.carry_in = Some(1);
                    w.sum = c.sum + 1;
                }
                w.carry_out = (w.sum >= 10).then_some(1);
            }
            // The carry mark dropped or added.
            2 => {
                w.carry_out = match c.carry_out {
                    Some(_) => None,
                    None => Some(1),
                }
            }
            // An operand digit miscopied; the sum follows.
            _ => {
                let digit = if index(rng, 2) == 0 {
                    &mut w.x
                } else {
                    &mut w.y
                };
                let old = *digit;
                *digit = if old == 9 || (old > 0 && index(rng, 2) == 0) {
                    old - 1
                } else {
                    old + 1
                };
                w.sum = w.x + w.y + w.carry_in.unwrap_or(0);
                w.carry_out = (w.sum >= 10).then_some(1);
            }
        }
        if w != c {
            return w;
        }
    }
}

fn wrong_result(sum: u64, columns: usize, rng: &mut dyn RngCore) -> u64 {
    let top = 10u64.pow(columns as u32);
    loop {
        let w = match index(rng, 3) {
            0 if sum > 0 && index(rng, 2) == 0 => sum - 1,
            0 => sum + 1,
            // Off by a power of ten within the columns: one column's digit wrong.
            1 => {
                let p = 10u64.pow(index(rng, columns) as u32);
                if sum >= p && index(rng, 2) == 0 {
                    sum - p
                } else {
                    sum + p
                }
            }
            // The final carry dropped (or one invented).
            _ => {
                if sum >= top {
                    sum - top
                } else {
                    sum + top
                }
            }
        };
        if w != sum {
            return w;
        }
    }
}

/// A byte cursor over a trace text.
struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str, pos: usize) -> Self {
        Cursor {
            src: text.as_bytes(),
            pos,
        }
    }

    fn skip_spaces(&mut self) {
        while self.src.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.src.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), TraceError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn error(&self, expected: &'static str) -> TraceError {
        TraceError::Parse {
            at: self.pos,
            expected,
        }
    }

    fn number(&mut self) -> Result<u64, TraceError> {
        self.skip_spaces();
        let start = self.pos;
        while self.src.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.error("a digit"));
        }
        parse_u64(&self.src[start..self.pos]).ok_or(TraceError::NumberTooLarge(start))
    }

    fn end(&mut self) -> Result<(), TraceError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("the end")),
        }
    }

    /// `(column ';')* '=' number`.
    fn body(&mut self) -> Result<(Vec<TraceColumn>, u64), TraceError> {
        let mut columns = Vec::new();
        loop {
            if self.peek() == Some(b'=') {
                self.pos += 1;
                let result = self.number()?;
                return Ok((columns, result));
            }
            if columns.len() == MAX_TRACE_COLUMNS {
                return Err(TraceError::TooManyColumns);
            }
            columns.push(self.column()?);
            self.expect(b';', "`;`")?;
        }
    }

    /// `x '+' y ['+' c] '=' s ['c' c]`.
    fn column(&mut self) -> Result<TraceColumn, TraceError> {
        let x = self.number()?;
        self.expect(b'+', "`+`")?;
        let y = self.number()?;
        let carry_in = if self.peek() == Some(b'+') {
            self.pos += 1;
            Some(self.number()?)
        } else {
            None
        };
        self.expect(b'=', "`+` or `=`")?;
        let sum = self.number()?;
        let carry_out = if self.peek() == Some(b'c') {
            self.pos += 1;
            Some(self.number()?)
        } else {
            None
        };
        Ok(TraceColumn {
            x,
            y,
            carry_in,
            sum,
            carry_out,
        })
    }
}

/// Pull a trace body out of a completion for `a + b`. In the answer region (after the last
/// answer marker, if any) a body is tried at the start, after each `:` and at the start of
/// each number, in order, at most 16 places; the first place where a body parses wins, and
/// text after the body's result is ignored.
///
/// ```
/// use spar_tasks::extract_trace;
/// let t = extract_trace("ok 2+9=11 c1; 1+3+1=5; = 51 <eos> junk", 12, 39).unwrap();
/// assert_eq!(t.result, 51);
/// assert_eq!(extract_trace("12+39: 2+9=11 c1; 1+3+1=5; = 51", 12, 39).unwrap().columns.len(), 2);
/// assert!(extract_trace("51", 12, 39).is_none());
/// ```
pub fn extract_trace(completion: &str, a: u64, b: u64) -> Option<AddTrace> {
    let (region, _) = answer_region(completion);
    let bytes = region.as_bytes();
    let starts = (0..bytes.len())
        .filter(|&i| {
            i == 0
                || bytes[i - 1] == b':'
                || (bytes[i].is_ascii_digit() && !bytes[i - 1].is_ascii_digit())
        })
        .take(16);
    for start in starts {
        let mut p = Cursor::new(region, start);
        if let Ok((columns, result)) = p.body() {
            return AddTrace::checked(a, b, columns, result).ok();
        }
    }
    None
}

/// Operand digit counts per level.
const LEVELS: [(u32, u32); 5] = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2)];

/// Addition written as a checkable trace: prompt `"12+39:"` → completion
/// `"2+9=11 c1; 1+3+1=5; = 51"` (module docs). A completion scores 1 only when its whole
/// trace is right, every column and the result.
///
/// Levels: operand digits 1+1, 2+1, 2+2, 3+1, 3+2, so that a compact prompt with its trace,
/// and the verify form `verify 999+99: …?` with its verdict, stay within 64 characters.
/// [`AdditionTrace::problem`] and [`AddTrace`] take operands of any length below 10^17.
///
/// ```
/// use spar_tasks::{AdditionTrace, Task};
/// let task = AdditionTrace::default();
/// let p = task.problem(12, 39, 2).unwrap();
/// assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("12+39:", "2+9=11 c1; 1+3+1=5; = 51"));
/// assert_eq!(task.verify(&p, "2+9=11 c1; 1+3+1=5; = 51"), 1.0);
/// assert_eq!(task.verify(&p, "2+9=11 c1; 1+3=4; = 51"), 0.0); // right result, wrong step
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdditionTrace {
    /// Prompt format (`StepByStep` is treated as `Compact`; the completion is a trace in
    /// every format).
    pub format: Format,
}

impl AdditionTrace {
    /// The problem "trace `a + b`" (operands below [`MAX_TRACE_OPERAND`]).
    pub fn problem(&self, a: u64, b: u64, level: usize) -> Result<Problem, TaskError> {
        let trace = AddTrace::new(a, b)
            .map_err(|_| TaskError::BadConfig("trace operands must be below 10^17"))?;
        let body = trace.body();
        Ok(Problem {
            prompt: self.variants(a, b).swap_remove(0),
            answer: Answer::Text(body.clone()),
            completion: body,
            level,
            format: self.format,
            instance: Instance::AddTrace { a, b },
        })
    }

    fn variants(&self, a: u64, b: u64) -> Vec<String> {
        match self.format {
            Format::Compact | Format::StepByStep => alloc::vec![
                format!("{a}+{b}:"),
                format!("{a} + {b}:"),
                format!("add {a} {b}:"),
                format!("trace {a}+{b}:"),
            ],
            Format::Words => alloc::vec![
                format!("Add {a} and {b} column by column, showing every carry."),
                format!("Work out {a} + {b} one digit column at a time."),
                format!("Show the column-by-column addition of {a} and {b}."),
            ],
        }
    }
}

impl Task for AdditionTrace {
    fn name(&self) -> &'static str {
        "trace"
    }

    fn num_levels(&self) -> usize {
        LEVELS.len()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, self.num_levels())?;
        let (na, nb) = LEVELS[level];
        let a = with_digits(rng, na) as u64;
        let b = with_digits(rng, nb) as u64;
        self.problem(a, b, level)
    }

    /// The trace body ([`extract_trace`]) re-rendered canonically; [`Task::check`] reads it
    /// again against the problem's operands.
    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_trace(completion, 0, 0).map(|t| Answer::Text(t.body()))
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        match (&problem.instance, answer) {
            (Instance::AddTrace { a, b }, Answer::Text(body)) => {
                AddTrace::parse_body(*a, *b, body).is_ok_and(|t| check_trace(&t).is_none())
            }
            _ => false,
        }
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::AddTrace { a, b } = problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let prompt = pick_other(self.variants(a, b), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}
