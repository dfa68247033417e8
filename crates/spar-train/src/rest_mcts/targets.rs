//! Per-step value targets inferred from outcomes: ReST-MCTS\*'s rule \[MEM\].
//!
//! The search records every complete trace it sampled (finished expansions and rollouts) as
//! its steps and whether its final answer is right. Every distinct step prefix `p_k` (the
//! first `k + 1` steps of some trace) gets
//!
//! * `r_k = 0` if some recorded trace through `p_k` has the right final answer, else `1`;
//! * `m_k`, the reasoning distance: the fewest steps left after `p_k` on a right trace
//!   through it (when `r_k = 0`), else on any trace through it;
//!
//! and, with `v` of the empty prefix 0, the value \[MEM: ReST-MCTS\*'s inferred process
//! reward\]
//!
//! ```text
//! w_k = (1 − v_{k−1}) / (m_k + 1) · (1 − 2 r_k)
//! v_k = max(v_{k−1} + w_k, 0)
//! ```
//! so `v_k ∈ [0, 1]`: a step that can still reach a right answer moves its value toward 1
//! by `1 / (m_k + 1)` of the gap (on a right trace of `K` steps, `v_k = (k + 1) / K` and the
//! last step gets 1); a step from which no right answer was reached moves it toward 0 by the
//! same amount. Only final-answer correctness enters, never a per-step check.
//!
//! ```
//! use spar_train::rest_mcts::targets::{step_value_targets, TraceRecord};
//! let right = TraceRecord { steps: vec![vec![1], vec![2], vec![3]], correct: true };
//! let t = step_value_targets(&[right]);
//! let v: Vec<f64> = t.iter().map(|x| x.1).collect();
//! assert!((v[0] - 1.0 / 3.0).abs() < 1e-12 && (v[1] - 2.0 / 3.0).abs() < 1e-12 && v[2] == 1.0);
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A complete trace the search sampled: its steps (tokens of each, the prompt excluded) and
/// whether its final answer is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// Each step's tokens, in order.
    pub steps: Vec<Vec<u32>>,
    /// The final answer is right.
    pub correct: bool,
}

/// What the rule reads about one prefix.
struct PrefixStats {
    depth: usize,
    parent: Option<Vec<u32>>,
    reaches_right: bool,
    left_right: usize,
    left_any: usize,
}

/// The inferred value of every distinct step prefix of `traces` (module docs), as the
/// prefix's tokens (its steps concatenated) and `v_k`, in the prefixes' token order.
pub fn step_value_targets(traces: &[TraceRecord]) -> Vec<(Vec<u32>, f64)> {
    let mut stats: BTreeMap<Vec<u32>, PrefixStats> = BTreeMap::new();
    for t in traces {
        let n = t.steps.len();
        let mut prefix: Vec<u32> = Vec::new();
        let mut parent: Option<Vec<u32>> = None;
        for (k, step) in t.steps.iter().enumerate() {
            prefix.extend_from_slice(step);
            let left = n - 1 - k;
            let e = stats.entry(prefix.clone()).or_insert(PrefixStats {
                depth: k,
                parent: parent.clone(),
                reaches_right: false,
                left_right: usize::MAX,
                left_any: usize::MAX,
            });
            e.left_any = e.left_any.min(left);
            if t.correct {
                e.reaches_right = true;
                e.left_right = e.left_right.min(left);
            }
            parent = Some(prefix.clone());
        }
    }
    let max_depth = stats.values().map(|s| s.depth).max().unwrap_or(0);
    let mut value: BTreeMap<Vec<u32>, f64> = BTreeMap::new();
    for depth in 0..=max_depth {
        for (p, s) in stats.iter().filter(|(_, s)| s.depth == depth) {
            let v_prev = s
                .parent
                .as_ref()
                .and_then(|q| value.get(q).copied())
                .unwrap_or(0.0);
            let (r, m) = if s.reaches_right {
                (0.0, s.left_right)
            } else {
                (1.0, s.left_any)
            };
            let w = (1.0 - v_prev) / (m as f64 + 1.0) * (1.0 - 2.0 * r);
            value.insert(p.clone(), (v_prev + w).clamp(0.0, 1.0));
        }
    }
    value.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn get(t: &[(Vec<u32>, f64)], p: &[u32]) -> f64 {
        t.iter().find(|x| x.0 == p).expect("a prefix").1
    }

    #[test]
    fn a_right_trace_climbs_linearly_to_one() {
        let right = TraceRecord {
            steps: vec![vec![1, 9], vec![2, 9], vec![3, 9], vec![4]],
            correct: true,
        };
        let t = step_value_targets(&[right]);
        assert_eq!(t.len(), 4);
        assert!((get(&t, &[1, 9]) - 0.25).abs() < 1e-12);
        assert!((get(&t, &[1, 9, 2, 9]) - 0.5).abs() < 1e-12);
        assert!((get(&t, &[1, 9, 2, 9, 3, 9]) - 0.75).abs() < 1e-12);
        assert_eq!(get(&t, &[1, 9, 2, 9, 3, 9, 4]), 1.0);
    }

    #[test]
    fn a_branch_off_a_right_prefix_that_fails_falls_and_the_shared_prefix_keeps_its_value() {
        // Right: [1][2][3]. Wrong: [1][5][6] shares step 1.
        let right = TraceRecord {
            steps: vec![vec![1], vec![2], vec![3]],
            correct: true,
        };
        let wrong = TraceRecord {
            steps: vec![vec![1], vec![5], vec![6]],
            correct: false,
        };
        let t = step_value_targets(&[right, wrong]);
        // [1]: reaches a right answer, 2 steps left: v = 0 + 1/3.
        let v1 = get(&t, &[1]);
        assert!((v1 - 1.0 / 3.0).abs() < 1e-12);
        // [1,5]: no right answer, 1 step left: v = 1/3 − (2/3)/2 = 0.
        assert!(get(&t, &[1, 5]).abs() < 1e-12);
        // [1,5,6]: v_prev 0, m = 0: max(0 − 1, 0) = 0.
        assert_eq!(get(&t, &[1, 5, 6]), 0.0);
        // [1,2]: 1/3 + (2/3)/2 = 2/3.
        assert!((get(&t, &[1, 2]) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_wrong_trace_from_a_high_prefix_falls_but_stays_in_range() {
        // [1][2] reaches right on a 3-step trace, and a 2-step wrong trace ends at [1][2].
        let right = TraceRecord {
            steps: vec![vec![1], vec![2], vec![3]],
            correct: true,
        };
        let short_wrong = TraceRecord {
            steps: vec![vec![1], vec![2]],
            correct: false,
        };
        let long_wrong = TraceRecord {
            steps: vec![vec![1], vec![2], vec![7], vec![8]],
            correct: false,
        };
        let t = step_value_targets(&[right, short_wrong, long_wrong]);
        // [1,2,7]: v_prev = 2/3, m = 1: 2/3 − (1/3)/2 = 1/2.
        assert!((get(&t, &[1, 2, 7]) - 0.5).abs() < 1e-12);
        // [1,2,7,8]: 1/2 − 1/2 = 0.
        assert!(get(&t, &[1, 2, 7, 8]).abs() < 1e-12);
        assert!(t.iter().all(|x| (0.0..=1.0).contains(&x.1)));
        // The shortest right continuation sets m, not the shorter wrong one: [1] has m = 2.
        assert!((get(&t, &[1]) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn no_traces_no_targets() {
        assert!(step_value_targets(&[]).is_empty());
    }
}
