//! Verifiable tasks, robust answer parsing, games with exact solvers and a sandboxed
//! program language: what spar's models practise on, and what makes their rewards
//! checkable without labels from people.
//!
//! Every family implements [`Task`]: `generate` draws a [`Problem`] (prompt + hidden
//! [`Answer`]) at a difficulty level (a `usize`, usable as a curriculum arm),
//! `extract_answer` reads an answer out of any completion without panicking, `verify`
//! scores a completion, and `paraphrase` rewrites a prompt without changing its answer
//! (for Co-Reward's cross-question agreement). Answers are `Eq + Hash + Ord`, so majority
//! votes ([`majority_vote`]) can be taken over them. All randomness comes from the
//! caller's [`rand_core::RngCore`].
//!
//! ```
//! use rand_chacha::ChaCha8Rng;
//! use rand_core::SeedableRng;
//! use spar_tasks::{majority_vote, Arithmetic, ArithOp, Task};
//!
//! let task = Arithmetic::new(ArithOp::Add);                 // compact format by default
//! let mut rng = ChaCha8Rng::seed_from_u64(7);
//! let p = task.generate(1, &mut rng).unwrap();               // e.g. "12+34=" → "46"
//! let good = p.completion.clone();
//! let completions = [good.as_str(), "3", "the answer is 3", "junk"];
//! let answers: Vec<_> = completions.iter().map(|c| task.extract_answer(c)).collect();
//! let vote = majority_vote(&answers).unwrap();               // "3" twice beats the truth once
//! assert_eq!(vote.count, 2);
//! assert_eq!(task.verify(&p, &good), 1.0);
//! ```
//!
//! # Families, levels and formats
//!
//! Digits are plain ASCII without separators, so a digit-splitting tokenizer gives one
//! token per digit. The compact format is the default everywhere; paraphrases of compact
//! prompts stay compact.
//!
//! | family | type | levels | compact prompt → completion | paraphrases (compact) |
//! |---|---|---|---|---|
//! | addition | [`Arithmetic`] `Add` | 6: operand digits 1,2,3,4,6,9 | `12+34=` → `46` | `34+12=`, `12 + 34 =`, `add 12 34:`, `sum 34 12:` |
//! | subtraction | [`Arithmetic`] `Sub` | 6: as addition, `a ≥ b` | `34-12=` → `22` | `34 - 12 =`, `-12+34=`, `sub 34 12:` |
//! | multiplication | [`Arithmetic`] `Mul` | 6: digits 1×1, 2×1, 2×2, 3×2, 3×3, 4×4 | `12*34=` → `408` | `34*12=`, `12 * 34 =`, `12x34=`, `mul 34 12:` |
//! | step-by-step arithmetic | [`Arithmetic`] with [`Format::StepByStep`] | as above | `58+67=` → `8+7=15,5+6+1=12=>125`; `52-17=` → `12-7=5,5-1-1=3=>35`; `12*34=` → `12*4=48,12*30=360=>408` | as compact |
//! | Countdown | [`Countdown`] | 6: 2–5 numbers up to 9, 9, 20, 20, 50, 100 | `3 5 7>22:` → `3*5+7` (any expression using each number at most once) | numbers shuffled, `3,5,7>22:`, `to 22 use 3 5 7:` |
//! | sort | [`Sequence`] `Sort` | 6: 3, 5, 8 digits; 5, 8, 10 numbers < 100 | `sort 3 1 2:` → `1 2 3` | items shuffled, `sort 3,1,2:`, `3 1 2 sorted:`, `order 3 1 2:` |
//! | reverse | [`Sequence`] `Reverse` | 6: as sort | `rev 3 1 2:` → `2 1 3` | `rev 3,1,2:`, `3 1 2 reversed:`, `reverse 3 1 2:` |
//! | modular | [`Modular`] | 6: `a%m`, `(a+b)%m`, `a*b%m`, `a^b%m`, larger `a*b%m`, larger `a^b%m` | `17%5=` → `2`; `(12+34)%5=`; `3^4%5=` → `1` | operands swapped where commutative, `17 mod 5=`, `mod 17 5:` |
//! | parity | [`Parity`] | 5: 4, 8, 12, 16, 24 bits | `par 1011:` → `1` | bits permuted, `parity 1011:`, `1011 par:`, `par 1 0 1 1:` |
//! | deduction | [`ProgramTasks`] `Deduction` | 5: 1–5 composed operations | `f(x)=rev(x)++x;f([1,2])=` → `[2,1,1,2]` | `f(x) = …; f(…) =`, `x=[1,2];rev(x)++x=`, `run … on …:` |
//! | abduction | [`ProgramTasks`] `Abduction` | 5: as deduction | `f(x)=sum(x)*2;f(?)=12;?=` → `[6]` (any input with that output) | `f(x) = …; f(?) = 12; ? =`, `sum(x)*2==12;x=` |
//! | induction | [`ProgramTasks`] `Induction` | 5: as deduction; 2 pairs shown, 2 held out | `f([1,2])=[2,1];f([3])=[3];f(x)=` → `rev(x)` (any program fitting all 4 pairs) | shown pairs reordered, `[1,2]->[2,1],[3]->[3] f(x)=` |
//! | factoring | [`Factoring`] | 6: `n` < 100, < 1,000 (two primes); < 1,000 (three primes); < 10^4, < 10^5, < 10^6 (two primes) | `factor 221=` → `13*17` (the prime factors in any order) | `factor 221:`, `factors of 221:`, `221 factored:` |
//! | trace | [`AdditionTrace`] | 5: operand digits 1+1, 2+1, 2+2, 3+1, 3+2 | `12+39:` → `2+9=11 c1; 1+3+1=5; = 51` (every step checked, [`check_trace`]) | `12 + 39:`, `add 12 39:`, `trace 12+39:` |
//! | verify-addition, verify-subtraction, verify-multiplication, verify-countdown, verify-factoring, verify-trace | [`VerifyTask`] over the family after `verify-` | the family's | `verify 221=11*19?` → `no`; `verify 12+39=51?` → `yes` (half right, half near misses) | `check …?`, `… ok?`, `is … right?` |
//!
//! [`Format::Words`] writes sentences instead (`"What is 12 plus 34?"` → `"46"`).
//! [`task_by_name`] builds any family from its name in the first column.
//!
//! # Checking is easier than solving
//!
//! Factoring ([`check_factors`] multiplies and tests primality), addition traces
//! ([`check_trace`] names the first wrong step; [`corrupt_trace`] plants exactly one) and
//! Countdown have cheap exact verifiers. Each has a verify form, [`VerifyTask`] over the
//! [`Candidates`] a family can write: a problem plus a correct or plausibly wrong candidate,
//! labelled `yes`/`no` by the family's own verifier, for training a model to judge answers.
//!
//! # Games
//!
//! * [`kuhn`]: Kuhn poker with exact values, best responses and exploitability (the
//!   equilibrium value for player 1 is −1/18); prompt `"kuhn Q pb:"` → `"b"` / `"bet"`;
//!   CFR and CFR+ on its exact tree ([`kuhn::cfr`]) as self-play's reference curve.
//! * [`tictactoe`]: minimax solver; prompt `"ttt X.O.X...O o:"` → a square `1`–`9`.
//!
//! # Programs
//!
//! [`Program`] (parser), [`run`] (interpreter with fuel, memory and depth limits) and the
//! Absolute Zero task kinds in [`azr`](crate::ProgramTasks). Absolute Zero's self-play rules
//! sit beside them: [`check_proposal`] (what a valid proposal is), [`grade_answer`] and
//! [`SolveOutcome`] (how a solver's answer is graded), [`learnability`], [`proposer_reward`]
//! and [`solver_reward`] (what each role earns), [`seed_tasks`], [`proposal_text`],
//! [`proposer_prompt`] and [`solver_prompt`] (the texts both roles read and write).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod answer;
mod arithmetic;
mod azr;
mod azr_rules;
mod countdown;
mod countdown_trace;
mod error;
mod factoring;
mod game;
mod interpreter;
pub mod kuhn;
mod modular;
mod program;
mod rational;
mod registry;
mod rng;
mod sequence;
mod task;
pub mod tictactoe;
mod trace;
mod verify;
mod vote;

pub use answer::{extract_int, extract_list, Answer};
pub use arithmetic::Arithmetic;
pub use azr::{
    extract_program, extract_value, parse_proposal, proposer_prompt, validate_program, InvalidTask,
    ProgramTask, ProgramTaskKind, ProgramTasks,
};
pub use azr_rules::{
    check_proposal, grade_answer, learnability, proposal_text, proposer_reward, seed_tasks,
    solver_prompt, solver_reward, SolveOutcome, NUM_SEED_TASKS,
};
pub use countdown::{check_countdown, extract_countdown, CdExpr, CdOp, Countdown, CountdownError};
pub use countdown_trace::{countdown_trace, TraceKind, TraceLimits, TraceStats, MAX_TRACE_NUMBERS};
pub use error::TaskError;
pub use factoring::{
    check_factor_list, check_factors, extract_factors, is_prime, parse_factors, prime_factors,
    FactorError, Factoring, MAX_FACTORING_N, MAX_FACTORS,
};
pub use game::{MoveError, Outcome};
pub use interpreter::{run, run_with_usage, Limits, RunError, Usage, Value, HARD_MAX_DEPTH};
pub use modular::{Modular, Parity};
pub use program::{BinOp, Builtin, Expr, ParseError, Program, MAX_NESTING, MAX_SOURCE_LEN};
pub use rational::Rational;
pub use registry::{task_by_name, verify_form_by_name, TASK_NAMES};
pub use sequence::Sequence;
pub use task::{ArithOp, Format, Instance, ModOp, Problem, SeqOp, Task};
pub use trace::{
    check_trace, corrupt_step, corrupt_trace, extract_trace, AddTrace, AdditionTrace, TraceColumn,
    TraceError, MAX_TRACE_COLUMNS, MAX_TRACE_OPERAND,
};
pub use verify::{extract_verdict, Candidates, VerifyForm, VerifyInstance, VerifyTask};
pub use vote::{majority_vote, Vote};
