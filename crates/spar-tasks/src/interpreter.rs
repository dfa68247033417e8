//! A sandboxed interpreter for [`Program`]s with fuel (steps), memory and depth limits.
//!
//! Every evaluated expression node costs one step of fuel; list operations additionally
//! cost one step per element they touch. Every list cell the interpreter creates (literal,
//! `++`, `range`, copying `x`) is charged against `max_cells` **before** it is allocated, so
//! the cells charged bound the peak memory. Evaluation depth (nested sub-expressions plus
//! recursive calls) is bounded by `max_depth`, which bounds the host stack. There is no
//! source of nondeterminism: the same program and input always give the same result.

use crate::program::{BinOp, Builtin, Expr, Program};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A value: an integer or a list of integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A list of integers.
    List(Vec<i64>),
}

impl fmt::Display for Value {
    /// `5`, `[1,2,3]` (no spaces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl Value {
    /// Parse `5`, `-3` or `[1, -2, 3]` (spaces allowed); `None` otherwise.
    pub fn parse(src: &str) -> Option<Value> {
        let s = src.trim();
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if inner.trim().is_empty() {
                return Some(Value::List(Vec::new()));
            }
            let items: Option<Vec<i64>> = inner.split(',').map(|t| parse_int(t.trim())).collect();
            return items.map(Value::List);
        }
        parse_int(s).map(Value::Int)
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + i64::from(b - b'0'));
    Some(if neg { -v } else { v })
}

/// Ceiling on `max_depth` whatever the caller asks: the interpreter recurses on the host
/// stack, and 1024 frames stay far inside a 2 MB thread stack.
pub const HARD_MAX_DEPTH: usize = 1024;

/// Resource limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most steps (default 10 000).
    pub fuel: u64,
    /// Most list cells created over the run (default 100 000, i.e. ≤ 800 KB of cells).
    pub max_cells: u64,
    /// Deepest evaluation nesting, recursive calls included (default 256, capped at
    /// [`HARD_MAX_DEPTH`]).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 10_000,
            max_cells: 100_000,
            max_depth: 256,
        }
    }
}

/// Why a run produced no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunError {
    /// Ran out of steps (e.g. an infinite loop).
    OutOfFuel,
    /// Would create more list cells than allowed (e.g. a list bomb).
    OutOfMemory,
    /// Nested or recursed deeper than allowed.
    DepthExceeded,
    /// An operation applied to the wrong kind of value.
    Type,
    /// Division or remainder by zero.
    DivisionByZero,
    /// Integer overflow.
    Overflow,
    /// `head`, `tail`, `max` or `min` of an empty list.
    EmptyList,
}

impl RunError {
    /// Whether the error is a resource limit (as opposed to a runtime fault of the program).
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            RunError::OutOfFuel | RunError::OutOfMemory | RunError::DepthExceeded
        )
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            RunError::OutOfFuel => "out of fuel",
            RunError::OutOfMemory => "out of memory",
            RunError::DepthExceeded => "evaluation too deep",
            RunError::Type => "type error",
            RunError::DivisionByZero => "division by zero",
            RunError::Overflow => "integer overflow",
            RunError::EmptyList => "empty list",
        };
        f.write_str(s)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RunError {}

/// What a run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Steps spent (never more than the fuel).
    pub steps: u64,
    /// List cells created (never more than `max_cells`).
    pub cells: u64,
    /// Deepest nesting reached (never more than `max_depth`).
    pub depth: usize,
}

struct Machine<'p> {
    program: &'p Program,
    limits: Limits,
    usage: Usage,
}

impl Machine<'_> {
    fn spend(&mut self, steps: u64) -> Result<(), RunError> {
        let total = self.usage.steps.saturating_add(steps);
        if total > self.limits.fuel {
            return Err(RunError::OutOfFuel);
        }
        self.usage.steps = total;
        Ok(())
    }

    fn alloc(&mut self, cells: u64) -> Result<(), RunError> {
        let total = self.usage.cells.saturating_add(cells);
        if total > self.limits.max_cells {
            return Err(RunError::OutOfMemory);
        }
        self.usage.cells = total;
        Ok(())
    }

    fn eval(&mut self, e: &Expr, x: &Value, depth: usize) -> Result<Value, RunError> {
        if depth > self.limits.max_depth.min(HARD_MAX_DEPTH) {
            return Err(RunError::DepthExceeded);
        }
        self.usage.depth = self.usage.depth.max(depth);
        self.spend(1)?;
        match e {
            Expr::Int(v) => Ok(Value::Int(*v)),
            Expr::Var => {
                if let Value::List(items) = x {
                    self.alloc(items.len() as u64)?;
                    self.spend(items.len() as u64)?;
                }
                Ok(x.clone())
            }
            Expr::List(items) => {
                self.alloc(items.len() as u64)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(int(self.eval(item, x, depth + 1)?)?);
                }
                Ok(Value::List(out))
            }
            Expr::Neg(a) => {
                let v = int(self.eval(a, x, depth + 1)?)?;
                v.checked_neg().map(Value::Int).ok_or(RunError::Overflow)
            }
            Expr::If(c, a, b) => {
                let cond = int(self.eval(c, x, depth + 1)?)?;
                self.eval(if cond != 0 { a } else { b }, x, depth + 1)
            }
            Expr::Bin(op, a, b) => {
                let l = self.eval(a, x, depth + 1)?;
                let r = self.eval(b, x, depth + 1)?;
                self.binary(*op, l, r)
            }
            Expr::Call(Builtin::F, a) => {
                let arg = self.eval(a, x, depth + 1)?;
                self.eval(&self.program.body, &arg, depth + 1)
            }
            Expr::Call(bi, a) => {
                let arg = self.eval(a, x, depth + 1)?;
                self.builtin(*bi, arg)
            }
        }
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value) -> Result<Value, RunError> {
        if op == BinOp::Eq {
            let n = match (&l, &r) {
                (Value::List(a), Value::List(b)) => a.len().min(b.len()) as u64,
                _ => 0,
            };
            self.spend(n)?;
            return Ok(Value::Int(i64::from(l == r)));
        }
        if op == BinOp::Concat {
            let (Value::List(mut a), Value::List(b)) = (l, r) else {
                return Err(RunError::Type);
            };
            let n = (a.len() + b.len()) as u64;
            self.alloc(n)?;
            self.spend(n)?;
            a.extend_from_slice(&b);
            return Ok(Value::List(a));
        }
        let (a, b) = (int(l)?, int(r)?);
        let v = match op {
            BinOp::Add => a.checked_add(b).ok_or(RunError::Overflow)?,
            BinOp::Sub => a.checked_sub(b).ok_or(RunError::Overflow)?,
            BinOp::Mul => a.checked_mul(b).ok_or(RunError::Overflow)?,
            BinOp::Div | BinOp::Rem => {
                if b == 0 {
                    return Err(RunError::DivisionByZero);
                }
                let v = if op == BinOp::Div {
                    a.checked_div_euclid(b)
                } else {
                    a.checked_rem_euclid(b)
                };
                v.ok_or(RunError::Overflow)?
            }
            BinOp::Lt => i64::from(a < b),
            BinOp::Gt => i64::from(a > b),
            BinOp::Eq | BinOp::Concat => unreachable!("handled above"),
        };
        Ok(Value::Int(v))
    }

    fn builtin(&mut self, bi: Builtin, arg: Value) -> Result<Value, RunError> {
        if bi == Builtin::Range {
            let n = int(arg)?.max(0) as u64;
            // Charge before allocating: a list bomb fails here without touching memory.
            self.alloc(n)?;
            self.spend(n)?;
            return Ok(Value::List((0..n as i64).collect()));
        }
        let Value::List(mut items) = arg else {
            return Err(RunError::Type);
        };
        self.spend(items.len() as u64)?;
        match bi {
            Builtin::Len => Ok(Value::Int(items.len() as i64)),
            Builtin::Sum => items
                .iter()
                .try_fold(0i64, |s, &v| s.checked_add(v))
                .map(Value::Int)
                .ok_or(RunError::Overflow),
            Builtin::Rev => {
                items.reverse();
                Ok(Value::List(items))
            }
            Builtin::Sort => {
                // n log n comparisons: charge the log factor on top of the scan above.
                let log = u64::from(usize::BITS - items.len().leading_zeros());
                self.spend(items.len() as u64 * log)?;
                items.sort_unstable();
                Ok(Value::List(items))
            }
            Builtin::Head => items
                .first()
                .copied()
                .map(Value::Int)
                .ok_or(RunError::EmptyList),
            Builtin::Tail => {
                if items.is_empty() {
                    return Err(RunError::EmptyList);
                }
                items.remove(0);
                Ok(Value::List(items))
            }
            Builtin::Max => items
                .iter()
                .copied()
                .max()
                .map(Value::Int)
                .ok_or(RunError::EmptyList),
            Builtin::Min => items
                .iter()
                .copied()
                .min()
                .map(Value::Int)
                .ok_or(RunError::EmptyList),
            Builtin::F | Builtin::Range => unreachable!("handled by the caller"),
        }
    }
}

fn int(v: Value) -> Result<i64, RunError> {
    match v {
        Value::Int(i) => Ok(i),
        Value::List(_) => Err(RunError::Type),
    }
}

/// Run `program` on `input` within `limits`, returning the result and what it used.
///
/// ```
/// use spar_tasks::{run_with_usage, Limits, Program, RunError, Value};
/// let sum_to = Program::parse("if x<1 then 0 else x+f(x-1)").unwrap();
/// let (out, _) = run_with_usage(&sum_to, &Value::Int(4), &Limits::default());
/// assert_eq!(out, Ok(Value::Int(10)));
/// let forever = Program::parse("f(x)").unwrap();
/// let (out, usage) = run_with_usage(&forever, &Value::Int(0), &Limits::default());
/// assert_eq!(out, Err(RunError::DepthExceeded));
/// assert!(usage.depth <= 256);
/// ```
pub fn run_with_usage(
    program: &Program,
    input: &Value,
    limits: &Limits,
) -> (Result<Value, RunError>, Usage) {
    let mut m = Machine {
        program,
        limits: *limits,
        usage: Usage::default(),
    };
    let out = m.eval(&program.body, input, 0);
    (out, m.usage)
}

/// Run `program` on `input` within `limits`.
pub fn run(program: &Program, input: &Value, limits: &Limits) -> Result<Value, RunError> {
    run_with_usage(program, input, limits).0
}

/// Render a list of values for prompts: `[1,2]` and `3` joined by `sep`.
pub(crate) fn join_values(values: &[Value], sep: &str) -> String {
    let parts: Vec<String> = values.iter().map(|v| alloc::format!("{v}")).collect();
    parts.join(sep)
}
