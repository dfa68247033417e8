//! Search traces for Countdown problems: what behaviour priming (Gandhi et al. 2025,
//! "Cognitive behaviors that enable self-improving reasoners, or, Four habits of highly
//! effective STaRs") fine-tunes a model on before RL.
//!
//! Three kinds of completion for the same problem ([`TraceKind`]):
//!
//! * `Plain`: the answer expression only (`5*3+7`), what SFT trains on without priming;
//! * `Behaviour`: a depth-first search that writes each step it tries, marks dead ends and
//!   backs up, re-evaluates its answer against the target, then gives it after `=>`;
//! * `WrongBehaviour`: the same dead ends, steps and markers, but the final line is a near
//!   miss whose verification wrongly claims the target: the answer after `=>` is wrong
//!   (the paper's priming with incorrect solutions that still show the behaviours).
//!
//! # Grammar
//!
//! ```text
//! trace    := dead_end* line " " expr "=" target " ok=>" expr
//! dead_end := line " no;"                    a branch that cannot reach the target; back up
//! line     := step ("," step)*               moves from the start, each joins two numbers
//! step     := a op b "=" v                   a ≥ b (the larger first); v exact, whole, > 0
//! ```
//!
//! Example, problem `3 5 7>22:` (Behaviour):
//!
//! ```text
//! 5+3=8,8+7=15 no;5*3=15,15+7=22 5*3+7=22 ok=>5*3+7
//! ```
//! `5+3=8` leaves {8, 7}, from which no operation reaches 22: the line written is the greedy
//! one (each step the pair and operation whose value comes closest to the target) and it is
//! marked `no`; the search backs up (`;`) to another first move, finds the line that reaches
//! 22, checks the whole expression (`5*3+7=22 ok`) and answers after `=>` (the answer
//! parser reads only the text after the last `=>`).
//!
//! # The search
//!
//! The first moves (a pair of the numbers and an operation with a whole positive result)
//! are tried in an order shuffled from the caller's random stream. A first move whose
//! remaining numbers cannot reach the target (an exact exhaustive search over whole
//! positive intermediate values says so) is a dead end; the first move that can is
//! followed by the first solution of that exhaustive search (pairs in order, operations
//! `+ - * /`). At most `max_dead_ends` dead ends are written (the ones met first); a trace
//! longer than `max_chars` drops its dead ends from the first until it fits. Every `no` is
//! therefore true: no expression continues that first move to the target.
//!
//! For `WrongBehaviour` the final line is, among all dead ends' greedy lines, the one whose
//! last value is closest to the target (ties: the first in the shuffled order), and its
//! check writes the target although the expression's value differs; before it come the
//! dead ends `Behaviour` writes for the same order (less the near miss, if it is one of
//! them), so the two kinds back up as often, give or take that one line. Every written step is still correct arithmetic; only
//! the check and the answer are wrong.
//!
//! Problems that need fractional or non-positive intermediate values (Countdown accepts
//! them, `(7/2)*4`) have no integer search line: the generator refuses them
//! ([`TaskError::GenerationFailed`]), as it refuses more than [`MAX_TRACE_NUMBERS`] numbers.

use crate::countdown::{CdExpr, CdOp};
use crate::rng::shuffle;
use crate::TaskError;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use rand_core::RngCore;

/// Most numbers a traced problem may have (the exhaustive search grows as `n!²`).
pub const MAX_TRACE_NUMBERS: usize = 5;

/// Which completion [`countdown_trace`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// The answer expression only.
    Plain,
    /// Tried steps, dead ends marked and backed up from, the answer checked, then `=>`.
    Behaviour,
    /// As `Behaviour`, but the final line is a near miss with a wrong check and answer.
    WrongBehaviour,
}

/// Limits of a written trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceLimits {
    /// Most dead ends written before the final line.
    pub max_dead_ends: usize,
    /// Most characters of a trace (dead ends are dropped to fit; a trace that does not fit
    /// without any is refused).
    pub max_chars: usize,
}

impl Default for TraceLimits {
    fn default() -> Self {
        Self {
            max_dead_ends: 2,
            max_chars: 64,
        }
    }
}

/// A number of the search: its value and the expression that made it.
#[derive(Debug, Clone)]
struct Item {
    value: i64,
    expr: CdExpr,
}

/// A move: join items `i` and `j` with `op`, `a op b = v` as written.
#[derive(Debug, Clone, Copy)]
struct Move {
    i: usize,
    j: usize,
    op: CdOp,
    a: i64,
    b: i64,
    v: i64,
}

fn symbol(op: CdOp) -> char {
    match op {
        CdOp::Add => '+',
        CdOp::Sub => '-',
        CdOp::Mul => '*',
        CdOp::Div => '/',
    }
}

/// Every move of a state with a whole positive result, pairs in order, operations `+ - * /`.
fn moves(items: &[Item]) -> Vec<Move> {
    let mut out = Vec::new();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            // The larger first, so that `-` and `/` stay positive (`i` first on ties).
            let (hi, lo, x, y) = if items[i].value >= items[j].value {
                (i, j, items[i].value, items[j].value)
            } else {
                (j, i, items[j].value, items[i].value)
            };
            let mut push = |op, v: Option<i64>| {
                if let Some(v) = v.filter(|&v| v > 0) {
                    out.push(Move {
                        i: hi,
                        j: lo,
                        op,
                        a: x,
                        b: y,
                        v,
                    });
                }
            };
            push(CdOp::Add, x.checked_add(y));
            push(CdOp::Sub, x.checked_sub(y));
            push(CdOp::Mul, x.checked_mul(y));
            push(CdOp::Div, (y > 0 && x % y == 0).then(|| x / y));
        }
    }
    out
}

/// The state after a move: the two items replaced by their join (appended last).
fn apply(items: &[Item], m: &Move) -> Vec<Item> {
    let mut next: Vec<Item> = items
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != m.i && *k != m.j)
        .map(|(_, it)| it.clone())
        .collect();
    next.push(Item {
        value: m.v,
        expr: CdExpr::Bin(
            m.op,
            Box::new(items[m.i].expr.clone()),
            Box::new(items[m.j].expr.clone()),
        ),
    });
    next
}

/// The first solution (moves in order, the last one's value is the target) from `items`.
fn solve(items: &[Item], target: i64) -> Option<(Vec<Move>, CdExpr)> {
    for m in moves(items) {
        let next = apply(items, &m);
        if m.v == target {
            return Some((alloc::vec![m], next.last()?.expr.clone()));
        }
        if next.len() > 1 {
            if let Some((mut rest, e)) = solve(&next, target) {
                rest.insert(0, m);
                return Some((rest, e));
            }
        }
    }
    None
}

/// The greedy line from `items`: each step the move whose value is closest to the target
/// (the first such), until one number is left or the target is reached.
fn greedy(items: &[Item], target: i64) -> (Vec<Move>, Item) {
    let mut state = items.to_vec();
    let mut line = Vec::new();
    while state.len() > 1 {
        let Some(m) = moves(&state)
            .into_iter()
            .min_by_key(|m| (m.v - target).unsigned_abs())
        else {
            break;
        };
        state = apply(&state, &m);
        line.push(m);
        if m.v == target {
            break;
        }
    }
    let last = state.pop().unwrap_or_else(|| items[0].clone());
    (line, last)
}

fn write_line(out: &mut String, line: &[Move]) {
    for (k, m) in line.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}{}{}={}", m.a, symbol(m.op), m.b, m.v);
    }
}

/// The completion of `kind` for the Countdown problem `numbers` → `target`, its search
/// order drawn from `rng`; see the module documentation for the grammar.
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use spar_tasks::{check_countdown, countdown_trace, extract_countdown, TraceKind, TraceLimits};
/// let mut rng = ChaCha8Rng::seed_from_u64(1);
/// let limits = TraceLimits::default();
/// let t = countdown_trace(&[3, 5, 7], 22, TraceKind::Behaviour, &limits, &mut rng).unwrap();
/// assert!(t.contains(" ok=>"));
/// let answer = extract_countdown(&t).unwrap().to_string();
/// assert_eq!(check_countdown(&answer, &[3, 5, 7], 22), Ok(()));
/// ```
///
/// Errors ([`TaskError::BadConfig`]): no numbers, more than [`MAX_TRACE_NUMBERS`], a number
/// or the target not positive, the target among the numbers, `max_chars` 0.
/// ([`TaskError::GenerationFailed`]): no line of whole positive values reaches the target
/// (or, for `WrongBehaviour`, no first move is a dead end), or no trace fits `max_chars`.
pub fn countdown_trace(
    numbers: &[i64],
    target: i64,
    kind: TraceKind,
    limits: &TraceLimits,
    rng: &mut dyn RngCore,
) -> Result<String, TaskError> {
    if numbers.is_empty() || numbers.len() > MAX_TRACE_NUMBERS {
        return Err(TaskError::BadConfig(
            "a Countdown trace needs 1 to 5 numbers",
        ));
    }
    if target <= 0 || numbers.iter().any(|&n| n <= 0) {
        return Err(TaskError::BadConfig(
            "a Countdown trace needs positive numbers and a positive target",
        ));
    }
    if numbers.contains(&target) {
        return Err(TaskError::BadConfig(
            "a Countdown trace needs a target that is not one of the numbers",
        ));
    }
    if limits.max_chars == 0 {
        return Err(TaskError::BadConfig("`max_chars` must be at least 1"));
    }
    let items: Vec<Item> = numbers
        .iter()
        .map(|&n| Item {
            value: n,
            expr: CdExpr::Num(n),
        })
        .collect();
    let mut first = moves(&items);
    shuffle(rng, &mut first);
    // Walk the first moves in order: dead ends (their greedy lines) until one that solves.
    let mut dead: Vec<(Vec<Move>, Item)> = Vec::new();
    let mut solution: Option<(Vec<Move>, CdExpr)> = None;
    // Dead ends met before the first solving move (the ones a right search writes).
    let mut before_solution = 0;
    for m in &first {
        let next = apply(&items, m);
        let found = if m.v == target {
            Some((alloc::vec![*m], next[next.len() - 1].expr.clone()))
        } else if next.len() > 1 {
            solve(&next, target).map(|(mut rest, e)| {
                rest.insert(0, *m);
                (rest, e)
            })
        } else {
            None
        };
        match found {
            Some(s) => {
                if solution.is_none() {
                    solution = Some(s);
                    before_solution = dead.len();
                }
                if kind != TraceKind::WrongBehaviour {
                    break;
                }
            }
            None => {
                let (mut line, last) = greedy(&next, target);
                line.insert(0, *m);
                dead.push((line, last));
            }
        }
    }
    let (final_line, final_expr, shown) = match kind {
        TraceKind::Plain => {
            let (_, e) = solution.ok_or(TaskError::GenerationFailed)?;
            let text = format!("{e}");
            return if text.len() <= limits.max_chars {
                Ok(text)
            } else {
                Err(TaskError::GenerationFailed)
            };
        }
        TraceKind::Behaviour => {
            let (line, e) = solution.ok_or(TaskError::GenerationFailed)?;
            let shown: Vec<Vec<Move>> = dead
                .into_iter()
                .take(limits.max_dead_ends)
                .map(|d| d.0)
                .collect();
            (line, e, shown)
        }
        TraceKind::WrongBehaviour => {
            let near = (0..dead.len())
                .min_by_key(|&k| (dead[k].1.value - target).unsigned_abs())
                .ok_or(TaskError::GenerationFailed)?;
            // The dead ends the right search writes (less the near miss), then the near miss.
            let met = if solution.is_some() {
                before_solution
            } else {
                dead.len()
            };
            let shown: Vec<Vec<Move>> = (0..met)
                .filter(|&k| k != near)
                .take(limits.max_dead_ends)
                .map(|k| dead[k].0.clone())
                .collect();
            let (line, last) = dead.swap_remove(near);
            (line, last.expr, shown)
        }
    };
    // Drop dead ends from the first until the trace fits.
    for skip in 0..=shown.len() {
        let mut out = String::new();
        for d in &shown[skip..] {
            write_line(&mut out, d);
            out.push_str(" no;");
        }
        write_line(&mut out, &final_line);
        let _ = write!(out, " {final_expr}={target} ok=>{final_expr}");
        if out.len() <= limits.max_chars {
            return Ok(out);
        }
    }
    Err(TaskError::GenerationFailed)
}

/// What a completion shows of the behaviours, read from its markers (no parsing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceStats {
    /// Dead ends marked (` no`).
    pub dead_ends: usize,
    /// Backtracks (`;` after a marked dead end).
    pub backtracks: usize,
    /// Whether the completion checks an answer (` ok`).
    pub verifies: bool,
    /// Whether it gives an answer after `=>`.
    pub answers: bool,
}

impl TraceStats {
    /// The markers of `completion`.
    ///
    /// ```
    /// use spar_tasks::TraceStats;
    /// let s = TraceStats::of("5+3=8,8+7=15 no;5*3=15,15+7=22 5*3+7=22 ok=>5*3+7");
    /// assert_eq!((s.dead_ends, s.backtracks, s.verifies, s.answers), (1, 1, true, true));
    /// assert_eq!(TraceStats::of("3*5+7"), TraceStats::default());
    /// ```
    pub fn of(completion: &str) -> Self {
        Self {
            dead_ends: completion.matches(" no").count(),
            backtracks: completion.matches(" no;").count(),
            verifies: completion.contains(" ok"),
            answers: completion.contains("=>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::countdown::{check_countdown, extract_countdown, Countdown, CountdownError};
    use crate::task::{Instance, Task};
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    fn trace(
        numbers: &[i64],
        target: i64,
        kind: TraceKind,
        seed: u64,
    ) -> Result<String, TaskError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        countdown_trace(numbers, target, kind, &TraceLimits::default(), &mut rng)
    }

    /// The graded answer: the canonical expression after the last `=>`.
    fn answer(t: &str) -> String {
        format!("{}", extract_countdown(t).expect("an answer"))
    }

    /// Every written `a op b = v` step (the text before `=>`, pieces between `,` `;` and
    /// spaces that hold one operator); `Err` names the first wrong one.
    fn steps_correct(t: &str) -> Result<usize, String> {
        // Up to the check (the last space before ` ok=>`), else the whole text.
        let end = t
            .rfind(" ok=>")
            .map_or(t.len(), |k| t[..k].rfind(' ').unwrap_or(k));
        let body = &t[..end];
        let mut n = 0;
        for piece in body.split([',', ';', ' ']) {
            let Some((lhs, rhs)) = piece.split_once('=') else {
                continue;
            };
            if lhs.chars().filter(|c| "+-*/".contains(*c)).count() != 1 {
                continue;
            }
            let v: i64 = rhs.parse().map_err(|_| String::from(piece))?;
            let e = CdExpr::parse(lhs).map_err(|_| String::from(piece))?;
            if e.eval().ok().and_then(|r| r.to_i64()) != Some(v) {
                return Err(piece.into());
            }
            n += 1;
        }
        Ok(n)
    }

    /// Whether the first step of a dead-end line (`a op b=v,...`) leaves numbers from which
    /// the exhaustive search finds no way to the target.
    fn dead_end_is_true(line: &str, numbers: &[i64], target: i64) -> bool {
        let first = line.split([',', ' ']).next().unwrap();
        let (lhs, v) = first.split_once('=').unwrap();
        let lits = CdExpr::parse(lhs).unwrap().literals();
        let mut rest = numbers.to_vec();
        for l in lits {
            let k = rest.iter().position(|&n| n == l).expect("a used number");
            rest.remove(k);
        }
        rest.push(v.parse().unwrap());
        let items: Vec<Item> = rest
            .iter()
            .map(|&n| Item {
                value: n,
                expr: CdExpr::Num(n),
            })
            .collect();
        !rest.contains(&target) && (items.len() < 2 || solve(&items, target).is_none())
    }

    /// The expression of the ` expr=target ok` check, and whether it evaluates to its claim.
    fn check_is_true(t: &str, target: i64) -> bool {
        let head = &t[..t.rfind(" ok=>").expect("a check")];
        let check = &head[head.rfind(' ').expect("a check") + 1..];
        let (lhs, rhs) = check.rsplit_once('=').expect("expr=target");
        assert_eq!(rhs, format!("{target}"), "the check claims the target");
        CdExpr::parse(lhs)
            .unwrap()
            .eval()
            .ok()
            .and_then(|r| r.to_i64())
            == Some(target)
    }

    #[test]
    fn the_documented_example_reads_as_documented() {
        // Whatever order the seed draws, the trace of 3 5 7 > 22 answers a verifying
        // expression, and a seed exists whose trace is the documented one.
        let doc = "5+3=8,8+7=15 no;5*3=15,15+7=22 5*3+7=22 ok=>5*3+7";
        let mut found = false;
        for seed in 0..400 {
            let t = trace(&[3, 5, 7], 22, TraceKind::Behaviour, seed).unwrap();
            assert_eq!(check_countdown(&answer(&t), &[3, 5, 7], 22), Ok(()), "{t}");
            found |= t == doc;
        }
        assert!(found, "no seed writes the module's example");
        let s = TraceStats::of(doc);
        assert_eq!((s.dead_ends, s.backtracks, s.verifies), (1, 1, true));
    }

    #[test]
    fn plain_is_the_answer_alone() {
        let t = trace(&[3, 5, 7], 22, TraceKind::Plain, 1).unwrap();
        assert_eq!(check_countdown(&t, &[3, 5, 7], 22), Ok(()));
        assert_eq!(TraceStats::of(&t), TraceStats::default());
        assert!(!t.contains('='));
    }

    #[test]
    fn a_dead_end_is_only_marked_where_no_continuation_reaches_the_target() {
        // 2 3 > 7: no pair operation gives 7, so every first move is a dead end and there is
        // no solution (refused), while WrongBehaviour still writes a near miss.
        assert_eq!(
            trace(&[2, 3], 7, TraceKind::Behaviour, 1),
            Err(TaskError::GenerationFailed)
        );
        let w = trace(&[2, 3], 7, TraceKind::WrongBehaviour, 1).unwrap();
        assert_eq!(answer(&w), "3*2", "6 is the closest to 7: {w}");
        assert!(!check_is_true(&w, 7));
    }

    #[test]
    fn bad_input_is_refused() {
        let lim = TraceLimits::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (numbers, target) in [
            (&[][..], 5),
            (&[1, 2, 3, 4, 5, 6][..], 5),
            (&[0, 2][..], 5),
            (&[-3, 2][..], 5),
            (&[3, 2][..], 0),
            (&[3, 5][..], 5),
        ] {
            for kind in [
                TraceKind::Plain,
                TraceKind::Behaviour,
                TraceKind::WrongBehaviour,
            ] {
                assert!(
                    matches!(
                        countdown_trace(numbers, target, kind, &lim, &mut rng),
                        Err(TaskError::BadConfig(_))
                    ),
                    "{numbers:?} > {target}"
                );
            }
        }
        let none = TraceLimits {
            max_dead_ends: 2,
            max_chars: 0,
        };
        assert!(countdown_trace(&[3, 5, 7], 22, TraceKind::Behaviour, &none, &mut rng).is_err());
        // Too short for any trace: refused, not cut.
        let short = TraceLimits {
            max_dead_ends: 2,
            max_chars: 12,
        };
        assert_eq!(
            countdown_trace(&[3, 5, 7], 22, TraceKind::Behaviour, &short, &mut rng),
            Err(TaskError::GenerationFailed)
        );
        // No whole positive line reaches 1 from 2 and 4 (4-2 = 4/2 = 2): refused.
        assert_eq!(
            trace(&[2, 4], 1, TraceKind::Behaviour, 1),
            Err(TaskError::GenerationFailed),
            "4/2 = 2, 4-2 = 2, 4+2, 4*2: none is 1"
        );
    }

    #[test]
    fn dead_ends_respect_the_limits() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let task = Countdown::default();
        for _ in 0..200 {
            let p = task.generate(1, &mut rng).unwrap();
            let Instance::Countdown { numbers, target } = &p.instance else {
                unreachable!()
            };
            for max_dead_ends in 0..3 {
                let lim = TraceLimits {
                    max_dead_ends,
                    max_chars: 64,
                };
                if let Ok(t) =
                    countdown_trace(numbers, *target, TraceKind::Behaviour, &lim, &mut rng)
                {
                    assert!(
                        t.len() <= 64 && TraceStats::of(&t).dead_ends <= max_dead_ends,
                        "{t}"
                    );
                }
            }
        }
    }

    #[test]
    fn most_level_one_problems_have_traces_that_backtrack() {
        // The experiment's level: 3 numbers up to 9. Most problems get a trace, and most
        // traces show a dead end (a count, so that a generator that never backtracks fails).
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let task = Countdown::default();
        let (mut ok, mut wrong_ok, mut backtrack) = (0, 0, 0);
        for _ in 0..300 {
            let p = task.generate(1, &mut rng).unwrap();
            let Instance::Countdown { numbers, target } = &p.instance else {
                unreachable!()
            };
            if let Ok(t) = countdown_trace(
                numbers,
                *target,
                TraceKind::Behaviour,
                &TraceLimits::default(),
                &mut rng,
            ) {
                ok += 1;
                backtrack += usize::from(TraceStats::of(&t).backtracks > 0);
            }
            wrong_ok += usize::from(
                countdown_trace(
                    numbers,
                    *target,
                    TraceKind::WrongBehaviour,
                    &TraceLimits::default(),
                    &mut rng,
                )
                .is_ok(),
            );
        }
        assert!(ok >= 240, "{ok} of 300 traced");
        assert!(wrong_ok >= 240, "{wrong_ok} of 300 traced wrongly");
        assert!(backtrack * 2 >= ok, "{backtrack} of {ok} backtrack");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn traces_of_random_problems_have_their_properties(
            seed in any::<u64>(), level in 0usize..4, trace_seed in any::<u64>(),
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let p = Countdown::default().generate(level, &mut rng).unwrap();
            let Instance::Countdown { numbers, target } = &p.instance else { unreachable!() };
            let lim = TraceLimits { max_dead_ends: 2, max_chars: 200 };
            let run = |kind| countdown_trace(numbers, *target, kind, &lim, &mut ChaCha8Rng::seed_from_u64(trace_seed));
            if let Ok(t) = run(TraceKind::Behaviour) {
                // Deterministic from the seed.
                prop_assert_eq!(&run(TraceKind::Behaviour).unwrap(), &t);
                // The graded answer verifies; every written step and the check are true.
                prop_assert_eq!(check_countdown(&answer(&t), numbers, *target), Ok(()), "{}", t);
                prop_assert!(steps_correct(&t).is_ok(), "{}: {:?}", t, steps_correct(&t));
                prop_assert!(check_is_true(&t, *target), "{}", t);
                let s = TraceStats::of(&t);
                prop_assert!(s.verifies && s.answers && s.dead_ends == s.backtracks);
                prop_assert!(s.dead_ends <= 2);
                // The task grades the long trace on the expression after `=>`.
                prop_assert_eq!(Countdown::default().verify(&p, &t), 1.0, "{}", t);
                // Every `no` is true: the dead end's first move leaves no solution.
                for dead in t.split(';').filter(|l| l.ends_with(" no")) {
                    prop_assert!(dead_end_is_true(dead, numbers, *target), "{}", t);
                }
                // Plain is the same problem's answer alone.
                let plain = run(TraceKind::Plain).unwrap();
                prop_assert_eq!(check_countdown(&plain, numbers, *target), Ok(()));
            }
            if let Ok(w) = run(TraceKind::WrongBehaviour) {
                prop_assert_eq!(&run(TraceKind::WrongBehaviour).unwrap(), &w);
                // The answer is wrong, the steps are right, the check is false, the markers are there.
                prop_assert_eq!(
                    check_countdown(&answer(&w), numbers, *target),
                    Err(CountdownError::WrongValue),
                    "{}", w
                );
                prop_assert!(steps_correct(&w).is_ok(), "{}", w);
                prop_assert!(!check_is_true(&w, *target), "{}", w);
                prop_assert_eq!(Countdown::default().verify(&p, &w), 0.0, "{}", w);
                for dead in w.split(';').filter(|l| l.ends_with(" no")) {
                    prop_assert!(dead_end_is_true(dead, numbers, *target), "{}", w);
                }
                let s = TraceStats::of(&w);
                prop_assert!(s.verifies && s.answers);
                // It backs up as often as the right search of the same order, give or take
                // the near miss's line.
                if let Ok(t) = run(TraceKind::Behaviour) {
                    prop_assert!(TraceStats::of(&t).dead_ends.abs_diff(s.dead_ends) <= 1, "{} / {}", t, w);
                }
            }
        }
    }
}
