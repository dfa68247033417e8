//! Canonical answers and the tolerant parsers that pull them out of completions.
//!
//! A completion from a small model is a string with an answer somewhere in it and junk
//! around it. The parsers here never panic and never allocate more than a copy of the
//! input. The rules, in order:
//!
//! 1. If the completion contains a marker — `\boxed{…}`, `####`, `answer:`, `answer is`
//!    or `=>` (ASCII case-insensitive) — only the text after the **last** marker is read
//!    (inside the braces for `\boxed{}`), and the **first** answer in it is taken.
//! 2. Otherwise the **last** answer in the completion is taken: step-by-step completions
//!    end with their result, and tiny models' junk rarely contains digits after it.
//!
//! A minus sign belongs to a number only when it is not preceded by a letter, digit or
//! closing bracket (so `34-12` reads as `34`, `-`, `12`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A canonical answer: comparable for equality, hashable and totally ordered, so majority
/// votes and cross-question agreement (Co-Reward) can be taken over extracted answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Answer {
    /// An integer (arithmetic, modular arithmetic, parity, program outputs).
    Int(i64),
    /// A list of integers (sorting, reversing, program outputs).
    List(Vec<i64>),
    /// A canonical text form (a Countdown expression or a program, re-rendered from its
    /// parse tree so that spelling differences such as spaces and redundant brackets vanish).
    Text(String),
}

impl fmt::Display for Answer {
    /// Plain ASCII digits without separators; lists space-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Int(v) => write!(f, "{v}"),
            Answer::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            Answer::Text(t) => f.write_str(t),
        }
    }
}

const MARKERS: [&str; 4] = ["####", "answer:", "answer is", "=>"];
const BOXED: &str = "\\boxed{";
/// Longest digit run read as a number; longer runs are junk (they would overflow `i64`).
const MAX_DIGITS: usize = 18;

/// The slice an answer is read from, and whether a marker was found (rule 1 vs rule 2).
pub(crate) fn answer_region(completion: &str) -> (&str, bool) {
    let lower = completion.to_ascii_lowercase();
    let mut best: Option<(usize, usize, bool)> = None; // (start of marker, end of marker, boxed)
    let mut consider = |pos: usize, len: usize, boxed: bool| {
        if best.is_none_or(|(p, _, _)| pos > p) {
            best = Some((pos, pos + len, boxed));
        }
    };
    for m in MARKERS {
        if let Some(pos) = lower.rfind(m) {
            consider(pos, m.len(), false);
        }
    }
    if let Some(pos) = lower.rfind(BOXED) {
        consider(pos, BOXED.len(), true);
    }
    match best {
        None => (completion, false),
        Some((_, end, boxed)) => {
            // ASCII lowercasing keeps byte offsets, so `end` is a char boundary of `completion`.
            let rest = &completion[end..];
            if boxed {
                let close = rest.find('}').unwrap_or(rest.len());
                (&rest[..close], true)
            } else {
                (rest, true)
            }
        }
    }
}

/// Every integer in `text`, in order, with its byte span. Over-long digit runs are skipped.
pub(crate) fn integers(text: &str) -> Vec<(i64, usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let negative = start > 0
                && bytes[start - 1] == b'-'
                && (start < 2
                    || !(bytes[start - 2].is_ascii_alphanumeric()
                        || bytes[start - 2] == b')'
                        || bytes[start - 2] == b']'));
            let digits = &text[start..i];
            let significant = digits.trim_start_matches('0');
            if significant.len() <= MAX_DIGITS {
                let mut v: i64 = 0;
                for d in significant.bytes() {
                    v = v * 10 + i64::from(d - b'0');
                }
                let span_start = if negative { start - 1 } else { start };
                out.push((if negative { -v } else { v }, span_start, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Extract an integer answer (rules in the module docs).
///
/// ```
/// use spar_tasks::extract_int;
/// assert_eq!(extract_int("46"), Some(46));
/// assert_eq!(extract_int("junk 8+7=15,5+6+1=12=>125 more"), Some(125));
/// assert_eq!(extract_int("The answer is -7."), Some(-7));
/// assert_eq!(extract_int("no digits"), None);
/// ```
pub fn extract_int(completion: &str) -> Option<i64> {
    let (region, marked) = answer_region(completion);
    let nums = integers(region);
    if marked {
        nums.first().map(|n| n.0)
    } else {
        nums.last().map(|n| n.0)
    }
}

/// Runs of integers separated only by spaces, commas, semicolons or brackets.
fn integer_runs(text: &str) -> Vec<Vec<i64>> {
    let nums = integers(text);
    let mut runs: Vec<Vec<i64>> = Vec::new();
    let mut prev_end: Option<usize> = None;
    for (v, start, end) in nums {
        let joined = prev_end.is_some_and(|pe| {
            text[pe..start]
                .bytes()
                .all(|b| matches!(b, b' ' | b',' | b';' | b'[' | b']' | b'(' | b')' | b'\t'))
        });
        match runs.last_mut() {
            Some(run) if joined => run.push(v),
            _ => runs.push(alloc::vec![v]),
        }
        prev_end = Some(end);
    }
    runs
}

/// Extract a list answer: a run of integers separated by spaces, commas, semicolons or
/// brackets (any other character ends the run). `[]` alone reads as the empty list.
///
/// ```
/// use spar_tasks::extract_list;
/// assert_eq!(extract_list("1 2 3"), Some(vec![1, 2, 3]));
/// assert_eq!(extract_list("sorted: [1, 2, 3] ok"), Some(vec![1, 2, 3]));
/// assert_eq!(extract_list("answer: 4 5 then 6"), Some(vec![4, 5]));
/// assert_eq!(extract_list("[]"), Some(vec![]));
/// ```
pub fn extract_list(completion: &str) -> Option<Vec<i64>> {
    let (region, marked) = answer_region(completion);
    let runs = integer_runs(region);
    let run = if marked {
        runs.into_iter().next()
    } else {
        runs.into_iter().last()
    };
    match run {
        Some(r) => Some(r),
        None if region.contains("[]") => Some(Vec::new()),
        None => None,
    }
}
