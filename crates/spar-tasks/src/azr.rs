//! Absolute Zero at small scale (Zhao et al. 2025, "Absolute Zero: Reinforced Self-play
//! Reasoning with Zero Data"): a proposer invents programs and inputs, a solver answers
//! three kinds of questions about them, and every answer is checked by running code.
//!
//! * **deduction**: program + input → output (`"f(x)=rev(x)++x;f([1,2])="` → `"[2,1,1,2]"`);
//! * **abduction**: program + output → *an* input (`"f(x)=sum(x)*2;f(?)=12;?="` → `"[6]"`,
//!   or any other input with that output);
//! * **induction**: input/output pairs → *a* program (`"f([1,2])=[2,1];f([3,4,5])=[5,4,3];f(x)="`
//!   → `"rev(x)"`), checked on the shown pairs and on held-out pairs.
//!
//! A proposed task is valid when the program parses, runs on every input within the
//! limits, gives the same output when run again (the language has no nondeterminism, so
//! this guards the interpreter), and is not trivial: its outputs on the inputs plus a fixed
//! set of probe inputs are neither all equal (a constant) nor all equal to the inputs (the
//! identity). The self-play rules built on these tasks (learnability, the proposer's and the
//! solver's rewards, proposal checks, grading, seed tasks) live in `azr_rules`.

use crate::answer::{answer_region, integers};
use crate::arithmetic::pick_other;
use crate::interpreter::{join_values, run, Limits, RunError, Value};
use crate::program::{BinOp, Builtin, Expr, ParseError, Program};
use crate::rng::{index, shuffle, uniform};
use crate::task::{check_level, Format, Instance, Problem, Task};
use crate::{Answer, TaskError};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use rand_core::RngCore;

/// The three question kinds of Absolute Zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgramTaskKind {
    /// Program + input → output.
    Deduction,
    /// Program + output → an input.
    Abduction,
    /// Input/output pairs → a program.
    Induction,
}

/// A validated program task: the program and its input/output pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramTask {
    /// What the solver is asked.
    pub kind: ProgramTaskKind,
    /// The program (the reference answer of an induction task).
    pub program: Program,
    /// Input/output pairs; deduction and abduction use the first.
    pub pairs: Vec<(Value, Value)>,
    /// How many pairs an induction prompt shows (the rest are held out for checking).
    pub shown: usize,
}

/// Why a proposed task is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidTask {
    /// The proposal text has no program or no input.
    Format,
    /// The program does not parse.
    Parse(ParseError),
    /// The program fails on an input (limit or runtime error).
    Run(RunError),
    /// Two runs on the same input disagreed.
    Nondeterministic,
    /// The outputs do not depend on the input.
    Constant,
    /// The program returns its input unchanged.
    Identity,
}

impl fmt::Display for InvalidTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidTask::Format => write!(f, "proposal lacks a program or an input"),
            InvalidTask::Parse(e) => write!(f, "program does not parse: {e}"),
            InvalidTask::Run(e) => write!(f, "program fails: {e}"),
            InvalidTask::Nondeterministic => write!(f, "program is not deterministic"),
            InvalidTask::Constant => write!(f, "program ignores its input"),
            InvalidTask::Identity => write!(f, "program is the identity"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InvalidTask {}

fn probes() -> [Value; 10] {
    [
        Value::Int(0),
        Value::Int(1),
        Value::Int(2),
        Value::Int(7),
        Value::Int(-3),
        Value::List(Vec::new()),
        Value::List(alloc::vec![1]),
        Value::List(alloc::vec![3, 1, 2]),
        Value::List(alloc::vec![5, 5, 0, 7]),
        Value::List(alloc::vec![2, 9]),
    ]
}

/// Validate a proposed program on `inputs` (non-empty) and return the outputs.
///
/// ```
/// use spar_tasks::{validate_program, InvalidTask, Limits, Program, Value};
/// let lim = Limits::default();
/// let ok = validate_program(&Program::parse("rev(x)++x").unwrap(), &[Value::List(vec![1, 2])], &lim);
/// assert_eq!(ok, Ok(vec![Value::List(vec![2, 1, 1, 2])]));
/// let constant = validate_program(&Program::parse("len([x])").unwrap(), &[Value::Int(3)], &lim);
/// assert_eq!(constant, Err(InvalidTask::Constant));
/// ```
pub fn validate_program(
    program: &Program,
    inputs: &[Value],
    limits: &Limits,
) -> Result<Vec<Value>, InvalidTask> {
    if inputs.is_empty() {
        return Err(InvalidTask::Format);
    }
    let mut outputs = Vec::with_capacity(inputs.len());
    for input in inputs {
        let first = run(program, input, limits).map_err(InvalidTask::Run)?;
        let second = run(program, input, limits).map_err(InvalidTask::Run)?;
        if first != second {
            return Err(InvalidTask::Nondeterministic);
        }
        outputs.push(first);
    }
    // Triviality over the inputs and the probes that run without error.
    let mut seen: Vec<(Value, Value)> = inputs
        .iter()
        .cloned()
        .zip(outputs.iter().cloned())
        .collect();
    for p in probes() {
        if seen.iter().any(|(i, _)| *i == p) {
            continue;
        }
        if let Ok(out) = run(program, &p, limits) {
            seen.push((p, out));
        }
    }
    if seen.iter().all(|(i, o)| i == o) {
        return Err(InvalidTask::Identity);
    }
    if seen.iter().all(|(_, o)| *o == seen[0].1) {
        return Err(InvalidTask::Constant);
    }
    Ok(outputs)
}

impl ProgramTask {
    /// Validate `program` on `inputs` and build the task (`shown` is clamped to
    /// `1..=inputs.len()`).
    pub fn new(
        kind: ProgramTaskKind,
        program: Program,
        inputs: &[Value],
        shown: usize,
        limits: &Limits,
    ) -> Result<ProgramTask, InvalidTask> {
        let outputs = validate_program(&program, inputs, limits)?;
        let pairs: Vec<(Value, Value)> = inputs.iter().cloned().zip(outputs).collect();
        let shown = shown.clamp(1, pairs.len());
        Ok(ProgramTask {
            kind,
            program,
            pairs,
            shown,
        })
    }

    /// The reference answer: the output (deduction), the input (abduction) or the
    /// program's canonical text (induction).
    pub fn answer(&self) -> Answer {
        match self.kind {
            ProgramTaskKind::Deduction => value_answer(&self.pairs[0].1),
            ProgramTaskKind::Abduction => value_answer(&self.pairs[0].0),
            ProgramTaskKind::Induction => Answer::Text(format!("{}", self.program)),
        }
    }

    /// The reference completion (canonical text of [`ProgramTask::answer`]).
    pub fn completion(&self) -> String {
        match self.kind {
            ProgramTaskKind::Deduction => format!("{}", self.pairs[0].1),
            ProgramTaskKind::Abduction => format!("{}", self.pairs[0].0),
            ProgramTaskKind::Induction => format!("{}", self.program),
        }
    }

    /// Whether `answer` solves the task (any input with the right output for abduction,
    /// any program matching every pair, held-out ones included, for induction).
    pub fn check(&self, answer: &Answer, limits: &Limits) -> bool {
        match self.kind {
            ProgramTaskKind::Deduction => *answer == self.answer(),
            ProgramTaskKind::Abduction => match answer_value(answer) {
                Some(input) => {
                    run(&self.program, &input, limits).is_ok_and(|out| out == self.pairs[0].1)
                }
                None => false,
            },
            ProgramTaskKind::Induction => match answer {
                Answer::Text(src) => match Program::parse(src) {
                    Ok(p) => self
                        .pairs
                        .iter()
                        .all(|(i, o)| run(&p, i, limits).is_ok_and(|out| out == *o)),
                    Err(_) => false,
                },
                _ => false,
            },
        }
    }

    /// All prompt wordings in `format`; the first is the canonical one.
    pub fn prompts(&self, format: Format) -> Vec<String> {
        let p = &self.program;
        let (i, o) = &self.pairs[0];
        let words = format == Format::Words;
        match (self.kind, words) {
            (ProgramTaskKind::Deduction, false) => alloc::vec![
                format!("f(x)={p};f({i})="),
                format!("f(x) = {p}; f({i}) ="),
                format!("x={i};{p}="),
                format!("run {p} on {i}:"),
            ],
            (ProgramTaskKind::Abduction, false) => alloc::vec![
                format!("f(x)={p};f(?)={o};?="),
                format!("f(x) = {p}; f(?) = {o}; ? ="),
                format!("{p}=={o};x="),
                format!("find x: {p} gives {o}:"),
            ],
            (ProgramTaskKind::Induction, false) => {
                let shown = &self.pairs[..self.shown];
                let eqs: Vec<String> = shown.iter().map(|(i, o)| format!("f({i})={o}")).collect();
                let arrows: Vec<String> = shown.iter().map(|(i, o)| format!("{i}->{o}")).collect();
                alloc::vec![
                    format!("{};f(x)=", eqs.join(";")),
                    format!("{}; f(x) =", eqs.join("; ")),
                    format!("{} f(x)=", arrows.join(",")),
                ]
            }
            (ProgramTaskKind::Deduction, true) => alloc::vec![
                format!("Given f(x) = {p}, what is f({i})?"),
                format!("Evaluate the program {p} with x = {i}."),
                format!("What does {p} return when x is {i}?"),
            ],
            (ProgramTaskKind::Abduction, true) => alloc::vec![
                format!("Given f(x) = {p}, find an input x with f(x) = {o}."),
                format!("Which x makes the program {p} return {o}?"),
                format!("Find an argument for {p} whose result is {o}."),
            ],
            (ProgramTaskKind::Induction, true) => {
                let shown = &self.pairs[..self.shown];
                let eqs: Vec<String> = shown.iter().map(|(i, o)| format!("f({i}) = {o}")).collect();
                alloc::vec![
                    format!("Write a program f(x) such that {}.", eqs.join(", ")),
                    format!("Find f with {}. Give the body of f(x).", eqs.join(" and ")),
                ]
            }
        }
    }
}

fn value_answer(v: &Value) -> Answer {
    match v {
        Value::Int(i) => Answer::Int(*i),
        Value::List(items) => Answer::List(items.clone()),
    }
}

fn answer_value(a: &Answer) -> Option<Value> {
    match a {
        Answer::Int(i) => Some(Value::Int(*i)),
        Answer::List(items) => Some(Value::List(items.clone())),
        Answer::Text(_) => None,
    }
}

/// Pull a value (`5`, `[1,2]`) out of a completion: bracketed lists and bare integers are
/// candidates; the last one is taken (the first after an answer marker).
///
/// ```
/// use spar_tasks::{extract_value, Value};
/// assert_eq!(extract_value("out: [2, 1] ok"), Some(Value::List(vec![2, 1])));
/// assert_eq!(extract_value("so f gives 14"), Some(Value::Int(14)));
/// ```
pub fn extract_value(completion: &str) -> Option<Value> {
    let (region, marked) = answer_region(completion);
    let bytes = region.as_bytes();
    let mut candidates: Vec<(usize, Value)> = Vec::new();
    let mut list_spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            if let Some(len) = region[i..].find(']') {
                if let Some(v) = Value::parse(&region[i..=i + len]) {
                    candidates.push((i, v));
                    list_spans.push((i, i + len + 1));
                    i += len + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    for (v, start, end) in integers(region) {
        if !list_spans.iter().any(|&(s, e)| start >= s && end <= e) {
            candidates.push((start, Value::Int(v)));
        }
    }
    candidates.sort_by_key(|c| c.0);
    let pick = if marked {
        candidates.into_iter().next()
    } else {
        candidates.into_iter().last()
    };
    pick.map(|c| c.1)
}

fn strip_head(piece: &str) -> &str {
    let t = piece.trim();
    for head in ["f(x)=", "f(x) =", "f(x)"] {
        if let Some(rest) = t.strip_prefix(head) {
            return rest.trim();
        }
    }
    t
}

/// The longest run of whole words in `piece` that parses as a program (earliest first
/// among equals); at most the first 32 words are searched.
fn longest_program(piece: &str) -> Option<Program> {
    let piece = strip_head(piece);
    if let Ok(p) = Program::parse(piece) {
        return Some(p);
    }
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in piece.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, piece.len()));
    }
    words.truncate(32);
    for span in (1..=words.len()).rev() {
        for w in 0..=words.len() - span {
            let text = &piece[words[w].0..words[w + span - 1].1];
            if let Ok(p) = Program::parse(strip_head(text)) {
                return Some(p);
            }
        }
    }
    None
}

/// Pull a program out of a completion: the region after the last marker (or the whole
/// completion) is split into `;`- or line-separated pieces, a leading `f(x)=` is removed,
/// and in each piece the longest run of whole words that parses is taken; the last piece
/// with a program wins (the first after a marker); only 16 pieces are searched.
///
/// ```
/// use spar_tasks::extract_program;
/// assert_eq!(extract_program("f(x)= rev( x )").unwrap().to_string(), "rev(x)");
/// assert_eq!(extract_program("so: x*7 <eos> junk").unwrap().to_string(), "x*7");
/// assert!(extract_program("¯\\_(ツ)_/¯").is_none());
/// ```
pub fn extract_program(completion: &str) -> Option<Program> {
    let (region, marked) = answer_region(completion);
    if let Ok(p) = Program::parse(strip_head(region)) {
        return Some(p);
    }
    // At most 16 pieces from the end that matters, so a long junk completion costs a
    // bounded number of parse attempts.
    let pieces = region.split([';', '\n']);
    if marked {
        pieces.take(16).find_map(longest_program)
    } else {
        pieces.rev().take(16).find_map(longest_program)
    }
}

/// Parse a proposer's completion `PROGRAM;INPUT[;INPUT…]` (an optional `f(x)=` before the
/// program) and validate it into a task of `kind`. Induction shows all but the last input
/// when there are at least two.
///
/// ```
/// use spar_tasks::{parse_proposal, Limits, ProgramTaskKind};
/// let t = parse_proposal(ProgramTaskKind::Deduction, "f(x)=sum(x)*2;[1,2]", &Limits::default()).unwrap();
/// assert_eq!(t.completion(), "6");
/// ```
pub fn parse_proposal(
    kind: ProgramTaskKind,
    completion: &str,
    limits: &Limits,
) -> Result<ProgramTask, InvalidTask> {
    let mut pieces = completion.split(';');
    let src = strip_head(pieces.next().unwrap_or(""));
    let program = Program::parse(src).map_err(InvalidTask::Parse)?;
    let inputs: Vec<Value> = pieces.map_while(Value::parse).collect();
    if inputs.is_empty() {
        return Err(InvalidTask::Format);
    }
    let shown = if inputs.len() >= 2 {
        inputs.len() - 1
    } else {
        1
    };
    ProgramTask::new(kind, program, &inputs, shown, limits)
}

/// A compact proposer prompt: the kind and one reference task to vary
/// (`"new ded like rev(x);[1,2]:"`).
pub fn proposer_prompt(kind: ProgramTaskKind, reference: &ProgramTask) -> String {
    let tag = match kind {
        ProgramTaskKind::Deduction => "ded",
        ProgramTaskKind::Abduction => "abd",
        ProgramTaskKind::Induction => "ind",
    };
    let inputs: Vec<Value> = reference.pairs.iter().map(|p| p.0.clone()).collect();
    format!(
        "new {tag} like {};{}:",
        reference.program,
        join_values(&inputs, ";")
    )
}

/// Seed tasks and a solver curriculum: random programs of growing size.
///
/// Level `l` composes `l + 1` random operations over the input (lists of digits or small
/// integers); induction tasks have four pairs of which two are shown. Problems whose
/// compact prompt and reference completion together exceed `max_len` bytes are redrawn.
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use spar_tasks::{ProgramTaskKind, ProgramTasks, Task};
/// let task = ProgramTasks::new(ProgramTaskKind::Abduction);
/// let mut rng = ChaCha8Rng::seed_from_u64(3);
/// let p = task.generate(0, &mut rng).unwrap();   // e.g. "f(x)=sort(x);f(?)=[1,4];?="
/// assert_eq!(task.verify(&p, &p.completion), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramTasks {
    /// Which question is asked.
    pub kind: ProgramTaskKind,
    /// Prompt format (`StepByStep` is treated as `Compact`).
    pub format: Format,
    /// Interpreter limits for generation and checking.
    pub limits: Limits,
    /// Longest prompt + reference completion a generated problem may have, in bytes
    /// (default 64, a tiny model's context).
    pub max_len: usize,
}

impl ProgramTasks {
    /// Compact prompts, default limits.
    pub fn new(kind: ProgramTaskKind) -> Self {
        ProgramTasks {
            kind,
            format: Format::Compact,
            limits: Limits::default(),
            max_len: 64,
        }
    }

    /// The same task with another format.
    pub fn with_format(self, format: Format) -> Self {
        ProgramTasks { format, ..self }
    }

    /// Wrap a validated task as a [`Problem`].
    pub fn problem(&self, task: ProgramTask, level: usize) -> Problem {
        Problem {
            prompt: task.prompts(self.format).swap_remove(0),
            answer: task.answer(),
            completion: task.completion(),
            level,
            format: self.format,
            instance: Instance::Program(Box::new(task)),
        }
    }
}

const LEVELS: usize = 5;

fn lit(v: i64) -> Box<Expr> {
    Box::new(Expr::Int(v))
}

/// Apply one random operation to `e` of type list (`is_list`) or int; returns the new type.
fn random_op(rng: &mut dyn RngCore, e: Expr, is_list: bool) -> (Expr, bool) {
    let b = Box::new(e);
    let k = uniform(rng, 1, 9);
    if is_list {
        match index(rng, 9) {
            0 => (Expr::Call(Builtin::Rev, b), true),
            1 => (Expr::Call(Builtin::Sort, b), true),
            2 => (
                Expr::Bin(
                    BinOp::Concat,
                    b,
                    Box::new(Expr::List(alloc::vec![Expr::Int(k)])),
                ),
                true,
            ),
            3 => (Expr::Call(Builtin::Tail, b), true),
            4 => (Expr::Call(Builtin::Len, b), false),
            5 => (Expr::Call(Builtin::Sum, b), false),
            6 => (Expr::Call(Builtin::Head, b), false),
            7 => (Expr::Call(Builtin::Max, b), false),
            _ => (Expr::Call(Builtin::Min, b), false),
        }
    } else {
        match index(rng, 7) {
            0 => (Expr::Bin(BinOp::Add, b, lit(k)), false),
            1 => (Expr::Bin(BinOp::Mul, b, lit(k)), false),
            2 => (Expr::Bin(BinOp::Sub, b, lit(k)), false),
            3 => (Expr::Bin(BinOp::Rem, b, lit(k + 1)), false),
            4 => (Expr::Neg(b), false),
            5 => (Expr::List(alloc::vec![*b, Expr::Int(k)]), true),
            _ => (
                Expr::Call(Builtin::Range, Box::new(Expr::Bin(BinOp::Rem, b, lit(6)))),
                true,
            ),
        }
    }
}

fn random_input(rng: &mut dyn RngCore, is_list: bool) -> Value {
    if is_list {
        let len = uniform(rng, 1, 5) as usize;
        Value::List((0..len).map(|_| uniform(rng, 0, 9)).collect())
    } else {
        Value::Int(uniform(rng, 0, 20))
    }
}

impl Task for ProgramTasks {
    fn name(&self) -> &'static str {
        match self.kind {
            ProgramTaskKind::Deduction => "deduction",
            ProgramTaskKind::Abduction => "abduction",
            ProgramTaskKind::Induction => "induction",
        }
    }

    fn num_levels(&self) -> usize {
        LEVELS
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        check_level(level, LEVELS)?;
        for _ in 0..200 {
            let input_is_list = coin_list(rng);
            let (mut body, mut is_list) = (Expr::Var, input_is_list);
            for _ in 0..=level {
                (body, is_list) = random_op(rng, body, is_list);
            }
            let n = if self.kind == ProgramTaskKind::Induction {
                4
            } else {
                1
            };
            let inputs: Vec<Value> = (0..n).map(|_| random_input(rng, input_is_list)).collect();
            // Repeated examples teach nothing: induction inputs must be distinct.
            if (1..n).any(|i| inputs[..i].contains(&inputs[i])) {
                continue;
            }
            let program = Program { body };
            if let Ok(task) = ProgramTask::new(self.kind, program, &inputs, 2, &self.limits) {
                // The length bound is on the compact rendering, whatever the format.
                let compact = task.prompts(Format::Compact).swap_remove(0);
                if compact.len() + task.completion().len() <= self.max_len {
                    return Ok(self.problem(task, level));
                }
            }
        }
        Err(TaskError::GenerationFailed)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        match self.kind {
            ProgramTaskKind::Induction => {
                extract_program(completion).map(|p| Answer::Text(format!("{p}")))
            }
            _ => extract_value(completion).map(|v| value_answer(&v)),
        }
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        match &problem.instance {
            Instance::Program(task) => task.check(answer, &self.limits),
            _ => false,
        }
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Program(task) = &problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let mut task = (**task).clone();
        if task.kind == ProgramTaskKind::Induction {
            // The order of the shown examples does not change which programs fit them.
            shuffle(rng, &mut task.pairs[..task.shown]);
        }
        let prompt = pick_other(task.prompts(problem.format), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            instance: Instance::Program(Box::new(task)),
            ..problem.clone()
        })
    }
}

fn coin_list(rng: &mut dyn RngCore) -> bool {
    // Lists are the richer half of the language: draw them two times in three.
    index(rng, 3) < 2
}
