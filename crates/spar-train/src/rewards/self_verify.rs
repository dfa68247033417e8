//! Self-verification (RISE: Liu et al. 2025, "Trust, But Verify: A Self-Verification
//! Approach to Reinforcement Learning with Verifiable Rewards"): in one RL step the model
//! solves prompts and is asked, in the task's verify form ([`spar_tasks::VerifyForm`]),
//! whether some of those fresh solutions are right; both kinds of completion are graded by
//! the verifier and trained in one GRPO update (`grpo.verify_fraction`).
//!
//! A verify completion's reward is 1 when its verdict (`yes`/`no`,
//! [`spar_tasks::extract_verdict`]) matches whether the solution it was shown is right, else
//! 0 (no verdict is wrong):
//!
//! ```text
//! r = 1  if verdict(completion) = [solution is right]
//! r = 0  otherwise
//! ```
//!
//! \[PAPER\] for the verification reward against the outcome verifier and the joint update;
//! the yes/no verdict is the form spar's verify tasks use (the paper's prompt asks for a
//! score). Which solutions are shown ([`pick_solutions`]) is spar's rule (\[MEM\]: the
//! paper builds its verification prompts from a sample of the step's own solutions; the
//! balance of right and wrong ones is ours).
//!
//! ```
//! use spar_train::rewards::self_verify::{pick_solutions, verify_count, verify_reward};
//! assert_eq!(verify_reward("yes", true), 1.0);
//! assert_eq!(verify_reward("no", true), 0.0);
//! assert_eq!(verify_reward("maybe", false), 0.0);
//! // 16 prompts, a quarter of them verify prompts.
//! assert_eq!(verify_count(16, 0.25), 4);
//! // Two solving groups: a right and a wrong solution are both shown.
//! let groups = [vec![Some(true), Some(true)], vec![Some(false), Some(true)]];
//! assert_eq!(pick_solutions(&groups, 2), vec![(0, 0), (1, 0)]);
//! ```

use alloc::vec;
use alloc::vec::Vec;

/// The reward of a verify completion: 1 when its verdict matches `solution_right`, else 0
/// (module docs).
pub fn verify_reward(completion: &str, solution_right: bool) -> f64 {
    f64::from(u8::from(
        spar_tasks::extract_verdict(completion) == Some(solution_right),
    ))
}

/// How many of a round's `n` prompts are verify prompts with `grpo.verify_fraction = f`:
/// `round(n · f)`, leaving at least one solving prompt whose solutions they show (0 when
/// `n < 2`).
pub fn verify_count(n: usize, f: f64) -> usize {
    let k = libm::round(n as f64 * f);
    if n < 2 || k.is_nan() || k < 0.0 {
        return 0;
    }
    (k as usize).min(n - 1)
}

/// Which fresh solutions the `n` verify prompts show: `groups[i][j]` is `Some(right)` for
/// completion `j` of solving group `i` when it can be shown, `None` when not (its verify
/// prompt does not fit the model). The `k`-th verify prompt wants a right solution when `k`
/// is even and a wrong one when `k` is odd; it looks through the groups from group
/// `k mod groups.len()` on, cyclically, and takes the first not yet shown solution of the
/// wanted kind (the first in sampling order, which is random); when there is none of that
/// kind left anywhere, the first not yet shown one of any kind. So both kinds appear when
/// the step has both, and the prompts spread over the groups. Fewer than `n` pairs
/// `(group, completion)` come back only when fewer solutions can be shown.
pub fn pick_solutions(groups: &[Vec<Option<bool>>], n: usize) -> Vec<(usize, usize)> {
    let mut used: Vec<Vec<bool>> = groups.iter().map(|g| vec![false; g.len()]).collect();
    let mut picks = Vec::with_capacity(n);
    let m = groups.len();
    if m == 0 {
        return picks;
    }
    for k in 0..n {
        let want_right = k % 2 == 0;
        let find = |used: &[Vec<bool>], kind: Option<bool>| {
            (0..m).map(|d| (k + d) % m).find_map(|i| {
                groups[i]
                    .iter()
                    .enumerate()
                    .position(|(j, c)| {
                        !used[i][j] && c.is_some_and(|right| kind.is_none_or(|w| w == right))
                    })
                    .map(|j| (i, j))
            })
        };
        let Some((i, j)) = find(&used, Some(want_right)).or_else(|| find(&used, None)) else {
            break;
        };
        used[i][j] = true;
        picks.push((i, j));
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_earns_1_exactly_when_it_matches_the_solution() {
        for (text, right, want) in [
            ("yes", true, 1.0),
            ("no", false, 1.0),
            ("yes", false, 0.0),
            ("no", true, 0.0),
            ("", true, 0.0),
            ("", false, 0.0),
            ("yesno", true, 0.0),
            ("12", false, 0.0),
        ] {
            assert_eq!(verify_reward(text, right), want, "{text:?} {right}");
        }
    }

    #[test]
    fn the_verify_count_rounds_and_leaves_a_solving_prompt() {
        assert_eq!(verify_count(16, 0.0), 0);
        assert_eq!(verify_count(16, 0.25), 4);
        assert_eq!(verify_count(10, 0.25), 3); // 2.5 rounds away from zero
        assert_eq!(verify_count(4, 0.1), 0);
        assert_eq!(verify_count(2, 0.9), 1);
        assert_eq!(verify_count(1, 0.5), 0);
        assert_eq!(verify_count(0, 0.5), 0);
        assert_eq!(verify_count(8, f64::NAN), 0);
    }

    #[test]
    fn picks_alternate_right_and_wrong_and_spread_over_the_groups() {
        let t = Some(true);
        let f = Some(false);
        // Three groups; the first only right, the second mixed, the third only wrong.
        let groups = [vec![t, t], vec![f, t], vec![f, f]];
        let p = pick_solutions(&groups, 4);
        // k=0 right from group 0; k=1 wrong from group 1; k=2 right from group 2 on: the
        // first is group 0's second; k=3 wrong from group 0 on: group 1 has none left, so
        // group 2's first.
        assert_eq!(p, vec![(0, 0), (1, 0), (0, 1), (2, 0)]);
        // Only right solutions: they are shown anyway, each once.
        let p = pick_solutions(&[vec![t, t]], 3);
        assert_eq!(p, vec![(0, 0), (0, 1)]);
        // Solutions that cannot be shown are skipped; nothing to show gives nothing.
        let p = pick_solutions(&[vec![None, f], vec![None]], 2);
        assert_eq!(p, vec![(0, 1)]);
        assert!(pick_solutions(&[], 3).is_empty());
        assert!(pick_solutions(&[vec![None]], 3).is_empty());
    }
}
