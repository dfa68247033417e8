//! The rules of the sneaky–critic game on addition traces: prompts, the sneaky proposal's
//! validity, the critic's verdict and the reward table (pure functions, no model).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use rand_core::RngCore;
use spar_tasks::{check_trace, AddTrace};

/// The characters of every prompt and answer of the game (one token each, plus the end
/// token).
pub const SPC_CHARSET: &str = "0123456789+=;:@? acceiknorst";

/// What the critic says about a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every step is right (`none`).
    Clean,
    /// The first wrong step is this one (0-based, the result line last).
    Step(usize),
}

/// The steps of `trace` as written: each column (`2+9=11 c1`), then the result line
/// (`= 51`).
///
/// ```
/// use spar_tasks::AddTrace;
/// use spar_train::spc_selfplay::trace_steps;
/// assert_eq!(trace_steps(&AddTrace::new(12, 39).unwrap()), ["2+9=11 c1", "1+3+1=5", "= 51"]);
/// ```
pub fn trace_steps(trace: &AddTrace) -> Vec<String> {
    let mut out: Vec<String> = trace.columns.iter().map(|c| c.to_string()).collect();
    out.push(format!("= {}", trace.result));
    out
}

/// The correct trace of `a + b` with `a` and `b` of 1 to `max_digits` digits each (digit
/// counts uniform, then the value uniform among numbers of that many digits; 1 digit
/// includes 0).
pub fn draw_trace(rng: &mut dyn RngCore, max_digits: u32) -> AddTrace {
    let operand = |rng: &mut dyn RngCore| {
        let d = 1 + rng.next_u32() % max_digits.max(1);
        let (lo, hi) = if d == 1 {
            (0, 10)
        } else {
            (10u64.pow(d - 1), 10u64.pow(d))
        };
        lo + rng.next_u64() % (hi - lo)
    };
    let a = operand(rng);
    let b = operand(rng);
    AddTrace::new(a, b).expect("operands of at most 3 digits are in range")
}

/// The critic's prompt: `critic 12+39: 2+9=11 c1; 1+3+1=5; = 51?`.
pub fn critic_prompt(trace: &AddTrace) -> String {
    format!("critic {trace}?")
}

/// The sneaky role's prompt: `sneak 12+39: 2+9=11 c1; 1+3+1=5; = 51 @1:` asks for a wrong
/// version of step 1 (0-based), written as the step is written in a trace (`1+3=4`, or
/// `= 41` for the result line).
pub fn sneaky_prompt(trace: &AddTrace, step: usize) -> String {
    format!("sneak {trace} @{step}:")
}

/// The critic's answer for a trace whose first wrong step is `wrong`: the step's index, or
/// `none`.
pub fn verdict_text(wrong: Option<usize>) -> String {
    match wrong {
        Some(k) => k.to_string(),
        None => "none".to_string(),
    }
}

/// Reads a critic's answer: `none`, or a step index (surrounding spaces ignored); `None`
/// when it is neither (malformed).
///
/// ```
/// use spar_train::spc_selfplay::{parse_verdict, Verdict};
/// assert_eq!(parse_verdict(" 2"), Some(Verdict::Step(2)));
/// assert_eq!(parse_verdict("none"), Some(Verdict::Clean));
/// assert_eq!(parse_verdict("2 or 3"), None);
/// assert_eq!(parse_verdict(""), None);
/// ```
pub fn parse_verdict(text: &str) -> Option<Verdict> {
    let t = text.trim_matches(' ');
    if t == "none" {
        return Some(Verdict::Clean);
    }
    if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok().map(Verdict::Step)
}

/// Whether the critic's verdict names the trace's first wrong step (`none` for a correct
/// trace).
pub fn verdict_is_right(verdict: Option<Verdict>, trace: &AddTrace) -> bool {
    match (verdict, check_trace(trace)) {
        (Some(Verdict::Clean), None) => true,
        (Some(Verdict::Step(k)), Some(w)) => k == w,
        _ => false,
    }
}

/// The trace a sneaky completion makes of the correct `trace`: step `step` replaced by
/// `text` (a column `x+y[+1]=s[ c1]` or a result line `= r`, spaces around it ignored). The
/// proposal is **valid** only when the result parses, has the correct number of columns, and
/// the checker finds exactly one wrong step, step `step`; otherwise `None`.
///
/// ```
/// use spar_tasks::AddTrace;
/// use spar_train::spc_selfplay::sneaky_trace;
/// let t = AddTrace::new(12, 39).unwrap();
/// assert!(sneaky_trace(&t, 1, "1+3=4").is_some());       // the carry dropped
/// assert!(sneaky_trace(&t, 1, "1+3+1=5").is_none());     // still right
/// assert!(sneaky_trace(&t, 2, "1+3=4").is_none());       // a column where the result goes
/// assert!(sneaky_trace(&t, 2, "= 41").is_some());
/// ```
pub fn sneaky_trace(trace: &AddTrace, step: usize, text: &str) -> Option<AddTrace> {
    let correct = AddTrace::new(trace.a, trace.b).ok()?;
    let mut steps = trace_steps(&correct);
    if step >= steps.len() || text.contains(';') {
        return None;
    }
    steps[step] = text.trim_matches(' ').to_string();
    let body = steps.join("; ");
    let out = AddTrace::parse_body(trace.a, trace.b, &body).ok()?;
    (wrong_steps(&out) == [step]).then_some(out)
}

/// Every step of `trace` that differs from the correct trace's (a trace with a different
/// number of columns than the correct one counts every position past the shorter as wrong,
/// and the result line).
pub fn wrong_steps(trace: &AddTrace) -> Vec<usize> {
    let Ok(correct) = AddTrace::new(trace.a, trace.b) else {
        return Vec::new();
    };
    let k = correct.columns.len().max(trace.columns.len());
    let mut out: Vec<usize> = (0..k)
        .filter(|&i| correct.columns.get(i) != trace.columns.get(i))
        .collect();
    if trace.result != correct.result || trace.columns.len() != correct.columns.len() {
        out.push(correct.columns.len().max(k));
    }
    out
}

/// The reward table. Zero-sum on a valid sneaky trace: the sneaky role earns
/// `+1` when the critic misses the planted step and `−1` when the critic names it; the critic
/// earns the negation. An invalid sneaky proposal earns `invalid` and is not shown to the
/// critic. On a trace the critic sees without a sneaky author (a correct trace, or a random
/// corruption) the critic earns `+1` for the right verdict and `−1` otherwise (a malformed
/// answer is wrong).
///
/// ```
/// use spar_train::spc_selfplay::{critic_reward, sneaky_reward};
/// assert_eq!(sneaky_reward(true, false, -2.0), 1.0);   // valid, critic fooled
/// assert_eq!(sneaky_reward(true, true, -2.0), -1.0);   // valid, critic found it
/// assert_eq!(sneaky_reward(false, true, -2.0), -2.0);  // invalid
/// assert_eq!(critic_reward(true) + sneaky_reward(true, true, -2.0), 0.0);
/// ```
pub fn sneaky_reward(valid: bool, critic_right: bool, invalid: f64) -> f64 {
    match (valid, critic_right) {
        (false, _) => invalid,
        (true, true) => -1.0,
        (true, false) => 1.0,
    }
}

/// The critic's reward: `+1` right, `−1` wrong or malformed ([`sneaky_reward`]'s table).
pub fn critic_reward(right: bool) -> f64 {
    if right {
        1.0
    } else {
        -1.0
    }
}
