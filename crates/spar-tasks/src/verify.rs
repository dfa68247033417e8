//! Verify forms: a problem and a candidate answer in, `yes` or `no` out.
//!
//! Checking is easier than solving for some families (Countdown evaluates an expression,
//! factoring multiplies, a trace is checked one column at a time); a model trained to
//! verify can then judge its own answers (self-judged rewards, RISE, an adversarial critic).
//! [`VerifyTask`] turns any family that implements [`Candidates`] into such a task:
//!
//! | family | verify task | compact prompt → completion |
//! |---|---|---|
//! | addition, subtraction, multiplication | `verify-addition`, … | `verify 12+39=51?` → `yes` |
//! | Countdown | `verify-countdown` | `verify 3 5 7>22:3*5+7?` → `yes` |
//! | factoring | `verify-factoring` | `verify 221=11*19?` → `no` |
//! | addition trace | `verify-trace` | `verify 12+39: 2+9=11 c1; 1+3=4; = 51?` → `no` |
//!
//! The gold label is always the family's own verifier run on the candidate
//! ([`Task::verify`]), never an assumption of the generator. [`Task::generate`] draws a
//! problem of the family at the same level, then a correct candidate or a plausible wrong
//! one with probability ½ each; wrong candidates are near misses (sums off by one or by a
//! power of ten, a dropped carry, a neighbouring prime, an incomplete factorization, a
//! changed operator, one wrong trace step). [`VerifyTask::problem`] wraps any candidate,
//! such as a model's own fresh solution.

use crate::answer::answer_region;
use crate::arithmetic::{pick_other, variants};
use crate::factoring::{join_factors, shuffle_if, wrong_factorization};
use crate::rng::index;
use crate::trace::corrupt_trace;
use crate::{
    AddTrace, AdditionTrace, Answer, ArithOp, Arithmetic, CdExpr, CdOp, Countdown, Factoring,
    Format, Instance, Problem, Task, TaskError,
};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::RngCore;

/// A family whose problems can be shown with a candidate answer, for its verify form.
pub trait Candidates: Task {
    /// The name of the verify form, e.g. `"verify-factoring"`.
    fn verify_name(&self) -> &'static str;

    /// The problem and `candidate` written as one compact statement, e.g. `"221=13*17"`.
    fn statement(&self, problem: &Problem, candidate: &str) -> Result<String, TaskError>;

    /// A candidate answer for `problem`: one the family's verifier accepts when `correct`,
    /// else a plausible near miss that it rejects.
    fn candidate(
        &self,
        problem: &Problem,
        correct: bool,
        rng: &mut dyn RngCore,
    ) -> Result<String, TaskError>;
}

/// The structured problem behind a verify prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyInstance {
    /// The underlying problem of the family.
    pub problem: Problem,
    /// The candidate answer shown.
    pub candidate: String,
    /// Whether the family's verifier accepts `candidate` (the gold label).
    pub correct: bool,
}

/// The verify form of a family: `verify STATEMENT?` → `yes` / `no` (module docs).
///
/// ```
/// use spar_tasks::{Factoring, Task, VerifyTask};
/// let task = VerifyTask::new(Factoring::default());
/// let inner = Factoring::default().problem(221, 1).unwrap();
/// let p = task.problem(&inner, "11*19").unwrap();
/// assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("verify 221=11*19?", "no"));
/// assert_eq!(task.verify(&p, "no"), 1.0);
/// assert_eq!(task.verify(&p, "Yes."), 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyTask<T> {
    /// The family whose candidates are judged.
    pub inner: T,
    /// Wording of the verify prompt (`StepByStep` is treated as `Compact`).
    pub format: Format,
}

impl<T: Candidates> VerifyTask<T> {
    /// The verify form of `inner`, compact.
    pub fn new(inner: T) -> Self {
        VerifyTask {
            inner,
            format: Format::Compact,
        }
    }

    /// The same task with another wording.
    pub fn with_format(self, format: Format) -> Self {
        VerifyTask { format, ..self }
    }

    /// The verify problem for `problem` (of the inner family) and any `candidate` text; the
    /// label is the inner family's [`Task::verify`] of it, at `problem`'s level.
    pub fn problem(&self, problem: &Problem, candidate: &str) -> Result<Problem, TaskError> {
        let correct = self.inner.verify(problem, candidate) == 1.0;
        let statement = self.inner.statement(problem, candidate)?;
        let verdict = if correct { "yes" } else { "no" };
        Ok(Problem {
            prompt: self.variants(&statement).swap_remove(0),
            answer: Answer::Text(verdict.into()),
            completion: verdict.into(),
            level: problem.level,
            format: self.format,
            instance: Instance::Verify(Box::new(VerifyInstance {
                problem: problem.clone(),
                candidate: candidate.into(),
                correct,
            })),
        })
    }

    /// A verify problem for `problem` with a candidate its verifier accepts or a near miss
    /// it rejects, ½ each (what [`Task::generate`] wraps around a fresh problem).
    pub fn example(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let correct = index(rng, 2) == 0;
        for _ in 0..8 {
            let candidate = self.inner.candidate(problem, correct, rng)?;
            let p = self.problem(problem, &candidate)?;
            if matches!(&p.instance, Instance::Verify(v) if v.correct == correct) {
                return Ok(p);
            }
        }
        Err(TaskError::GenerationFailed)
    }

    fn variants(&self, statement: &str) -> Vec<String> {
        match self.format {
            Format::Compact | Format::StepByStep => alloc::vec![
                format!("verify {statement}?"),
                format!("check {statement}?"),
                format!("{statement} ok?"),
                format!("is {statement} right?"),
            ],
            Format::Words => alloc::vec![
                format!("Is this correct: {statement}? Answer yes or no."),
                format!("Check {statement}. Reply yes if it is right and no if it is wrong."),
                format!("Is {statement} a correct answer? Say yes or no."),
            ],
        }
    }
}

/// A verify form behind a trait object, for a family chosen at run time (a trainer that
/// asks its model to judge its own answers, [`crate::verify_form_by_name`]).
///
/// ```
/// use spar_tasks::{verify_form_by_name, Format, Task, task_by_name};
/// let form = verify_form_by_name("addition", Format::Compact).unwrap();
/// let task = task_by_name("addition", Format::Compact).unwrap();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// # use rand_core::SeedableRng;
/// let p = task.generate(1, &mut rng).unwrap();
/// let v = form.verify_problem(&p, &p.completion).unwrap();
/// assert_eq!(v.completion, "yes");
/// assert!(v.prompt.starts_with("verify "));
/// ```
pub trait VerifyForm: Send + Sync {
    /// [`VerifyTask::problem`]: the verify problem for any candidate text.
    fn verify_problem(&self, problem: &Problem, candidate: &str) -> Result<Problem, TaskError>;
    /// [`VerifyTask::example`]: a verify problem with a right or near-miss candidate, ½ each.
    fn verify_example(
        &self,
        problem: &Problem,
        rng: &mut dyn RngCore,
    ) -> Result<Problem, TaskError>;
}

impl<T: Candidates + Send + Sync> VerifyForm for VerifyTask<T> {
    fn verify_problem(&self, problem: &Problem, candidate: &str) -> Result<Problem, TaskError> {
        self.problem(problem, candidate)
    }
    fn verify_example(
        &self,
        problem: &Problem,
        rng: &mut dyn RngCore,
    ) -> Result<Problem, TaskError> {
        self.example(problem, rng)
    }
}

/// Read a yes/no verdict out of a completion: the words `yes` and `no` (ASCII
/// case-insensitive, not part of a longer word) in the answer region; the first one after an
/// answer marker, else the last one.
///
/// ```
/// use spar_tasks::extract_verdict;
/// assert_eq!(extract_verdict("yes"), Some(true));
/// assert_eq!(extract_verdict("hmm, no. Answer: Yes!"), Some(true));
/// assert_eq!(extract_verdict("yes... no"), Some(false));
/// assert_eq!(extract_verdict("nobody knows"), None);
/// ```
pub fn extract_verdict(completion: &str) -> Option<bool> {
    let (region, marked) = answer_region(completion);
    let mut verdicts = region
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter_map(|w| {
            if w.eq_ignore_ascii_case("yes") {
                Some(true)
            } else if w.eq_ignore_ascii_case("no") {
                Some(false)
            } else {
                None
            }
        });
    if marked {
        verdicts.next()
    } else {
        verdicts.next_back()
    }
}

impl<T: Candidates> Task for VerifyTask<T> {
    fn name(&self) -> &'static str {
        self.inner.verify_name()
    }

    fn num_levels(&self) -> usize {
        self.inner.num_levels()
    }

    fn generate(&self, level: usize, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let problem = self.inner.generate(level, rng)?;
        self.example(&problem, rng)
    }

    fn extract_answer(&self, completion: &str) -> Option<Answer> {
        extract_verdict(completion).map(|v| Answer::Text(if v { "yes" } else { "no" }.into()))
    }

    fn check(&self, problem: &Problem, answer: &Answer) -> bool {
        match (&problem.instance, answer) {
            (Instance::Verify(v), Answer::Text(t)) => *t == if v.correct { "yes" } else { "no" },
            _ => false,
        }
    }

    fn paraphrase(&self, problem: &Problem, rng: &mut dyn RngCore) -> Result<Problem, TaskError> {
        let Instance::Verify(v) = &problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let statement = self.inner.statement(&v.problem, &v.candidate)?;
        let prompt = pick_other(self.variants(&statement), &problem.prompt, rng);
        Ok(Problem {
            prompt,
            ..problem.clone()
        })
    }
}

/// Wrong arithmetic answers near `v`: off by one, by a power of ten (one column wrong), two
/// adjacent digits swapped, the carries dropped (addition), one partial product off
/// (multiplication).
fn near_miss(op: ArithOp, a: i64, b: i64, v: i64, rng: &mut dyn RngCore) -> i64 {
    let digits = format!("{v}").len() as u32;
    for _ in 0..32 {
        let w = match index(rng, 5) {
            0 => v + if index(rng, 2) == 0 { 1 } else { -1 },
            1 => {
                let p = 10i64.pow(index(rng, digits as usize) as u32);
                v + if index(rng, 2) == 0 { p } else { -p }
            }
            2 if digits >= 2 => {
                let mut s: Vec<u8> = format!("{v}").into_bytes();
                let i = index(rng, s.len() - 1);
                s.swap(i, i + 1);
                core::str::from_utf8(&s)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(v + 1)
            }
            3 if op == ArithOp::Add => {
                // Column sums without any carry.
                let (mut x, mut y, mut place, mut w) = (a, b, 1i64, 0i64);
                while x > 0 || y > 0 {
                    w += (x % 10 + y % 10) % 10 * place;
                    x /= 10;
                    y /= 10;
                    place *= 10;
                }
                w
            }
            3 if op == ArithOp::Mul => {
                let p = 10i64.pow(index(rng, format!("{b}").len()) as u32);
                v + if index(rng, 2) == 0 { a * p } else { -a * p }
            }
            _ => v + if index(rng, 2) == 0 { 2 } else { -2 },
        };
        if w != v && w >= 0 {
            return w;
        }
    }
    v + 1
}

impl Candidates for Arithmetic {
    fn verify_name(&self) -> &'static str {
        match self.op {
            ArithOp::Add => "verify-addition",
            ArithOp::Sub => "verify-subtraction",
            ArithOp::Mul => "verify-multiplication",
        }
    }

    fn statement(&self, problem: &Problem, candidate: &str) -> Result<String, TaskError> {
        match problem.instance {
            Instance::Arithmetic { op, a, b } if op == self.op => Ok(format!(
                "{}{candidate}",
                variants(op, Format::Compact, a, b).swap_remove(0)
            )),
            _ => Err(TaskError::WrongFamily),
        }
    }

    fn candidate(
        &self,
        problem: &Problem,
        correct: bool,
        rng: &mut dyn RngCore,
    ) -> Result<String, TaskError> {
        let (Instance::Arithmetic { op, a, b }, Answer::Int(v)) =
            (&problem.instance, &problem.answer)
        else {
            return Err(TaskError::WrongFamily);
        };
        if !(0..1_000_000_000).contains(a) || !(0..1_000_000_000).contains(b) || *v < 0 {
            return Err(TaskError::BadConfig("operands must be in 0..10^9"));
        }
        Ok(if correct {
            format!("{v}")
        } else {
            format!("{}", near_miss(*op, *a, *b, *v, rng))
        })
    }
}

impl Candidates for Factoring {
    fn verify_name(&self) -> &'static str {
        "verify-factoring"
    }

    fn statement(&self, problem: &Problem, candidate: &str) -> Result<String, TaskError> {
        match problem.instance {
            Instance::Factoring { n } => Ok(format!("{n}={candidate}")),
            _ => Err(TaskError::WrongFamily),
        }
    }

    /// Correct: the prime factors, usually ascending, sometimes shuffled (both are accepted).
    fn candidate(
        &self,
        problem: &Problem,
        correct: bool,
        rng: &mut dyn RngCore,
    ) -> Result<String, TaskError> {
        let Instance::Factoring { n } = problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        if !(4..=crate::MAX_FACTORING_N).contains(&n) {
            return Err(TaskError::BadConfig(
                "factoring needs a composite n in 4..=10^12",
            ));
        }
        Ok(if correct {
            let mut f = crate::prime_factors(n);
            shuffle_if(rng, &mut f);
            join_factors(&f)
        } else {
            wrong_factorization(n, rng)
        })
    }
}

impl Candidates for AdditionTrace {
    fn verify_name(&self) -> &'static str {
        "verify-trace"
    }

    fn statement(&self, problem: &Problem, candidate: &str) -> Result<String, TaskError> {
        match problem.instance {
            Instance::AddTrace { a, b } => Ok(format!("{a}+{b}: {candidate}")),
            _ => Err(TaskError::WrongFamily),
        }
    }

    /// Wrong: the correct trace with exactly one step corrupted ([`corrupt_trace`]).
    fn candidate(
        &self,
        problem: &Problem,
        correct: bool,
        rng: &mut dyn RngCore,
    ) -> Result<String, TaskError> {
        let Instance::AddTrace { a, b } = problem.instance else {
            return Err(TaskError::WrongFamily);
        };
        let trace = AddTrace::new(a, b).map_err(|_| TaskError::WrongFamily)?;
        Ok(if correct {
            trace.body()
        } else {
            corrupt_trace(&trace, rng).0.body()
        })
    }
}

/// Number of nodes of an expression tree.
fn size(e: &CdExpr) -> usize {
    match e {
        CdExpr::Num(_) => 1,
        CdExpr::Bin(_, l, r) => 1 + size(l) + size(r),
    }
}

/// Swap the operands of `+` and `×` nodes at random: the value and the numbers used stay.
fn commute(e: &mut CdExpr, rng: &mut dyn RngCore) {
    if let CdExpr::Bin(op, l, r) = e {
        commute(l, rng);
        commute(r, rng);
        if matches!(op, CdOp::Add | CdOp::Mul) && index(rng, 2) == 0 {
            core::mem::swap(l, r);
        }
    }
}

/// Plant one plausible mistake at node `n` (pre-order) of `e`: another operator, a number
/// off by one or replaced by another available number, the operands of `−` or `÷` swapped.
/// Returns whether node `n` was found.
fn mutate_at(e: &mut CdExpr, n: &mut usize, numbers: &[i64], rng: &mut dyn RngCore) -> bool {
    if *n > 0 {
        *n -= 1;
        return match e {
            CdExpr::Num(_) => false,
            CdExpr::Bin(_, l, r) => mutate_at(l, n, numbers, rng) || mutate_at(r, n, numbers, rng),
        };
    }
    match e {
        CdExpr::Num(v) => {
            *v = match index(rng, 3) {
                0 => v.saturating_add(1),
                1 if *v > 1 => *v - 1,
                _ => numbers[index(rng, numbers.len())],
            }
        }
        CdExpr::Bin(op, l, r) => {
            if matches!(op, CdOp::Sub | CdOp::Div) && index(rng, 2) == 0 {
                core::mem::swap(l, r);
            } else {
                let others: Vec<CdOp> = [CdOp::Add, CdOp::Sub, CdOp::Mul, CdOp::Div]
                    .into_iter()
                    .filter(|o| o != op)
                    .collect();
                *op = others[index(rng, others.len())];
            }
        }
    }
    true
}

impl Candidates for Countdown {
    fn verify_name(&self) -> &'static str {
        "verify-countdown"
    }

    fn statement(&self, problem: &Problem, candidate: &str) -> Result<String, TaskError> {
        match &problem.instance {
            Instance::Countdown { numbers, target } => {
                let spaced: Vec<String> = numbers.iter().map(|v| format!("{v}")).collect();
                Ok(format!("{}>{target}:{candidate}", spaced.join(" ")))
            }
            _ => Err(TaskError::WrongFamily),
        }
    }

    /// Correct: the reference solution with operands of `+` and `×` swapped at random.
    /// Wrong: one mistake planted in it (another operator, a number changed, operands of
    /// `−` or `÷` swapped), kept only if the verifier rejects the result.
    fn candidate(
        &self,
        problem: &Problem,
        correct: bool,
        rng: &mut dyn RngCore,
    ) -> Result<String, TaskError> {
        let (Instance::Countdown { numbers, .. }, Answer::Text(reference)) =
            (&problem.instance, &problem.answer)
        else {
            return Err(TaskError::WrongFamily);
        };
        let tree = CdExpr::parse(reference).map_err(|_| TaskError::WrongFamily)?;
        if numbers.is_empty() {
            return Err(TaskError::WrongFamily);
        }
        if correct {
            let mut t = tree;
            commute(&mut t, rng);
            return Ok(format!("{t}"));
        }
        for _ in 0..32 {
            let mut t = tree.clone();
            let mut at = index(rng, size(&t));
            mutate_at(&mut t, &mut at, numbers, rng);
            let text = format!("{t}");
            if self.verify(problem, &text) == 0.0 {
                return Ok(text);
            }
        }
        // A number that is not available: always rejected.
        let missing = numbers.iter().copied().max().unwrap_or(0).saturating_add(1);
        Ok(format!("{tree}+{missing}"))
    }
}
