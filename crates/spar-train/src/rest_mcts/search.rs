//! The search for one problem, and the token budget it shares with best-of-N.
//!
//! Each iteration selects a node by PUCT ([`crate::rest_mcts::tree`]) and expands it:
//!
//! 1. **expand**: `k` next steps are sampled from the policy after the node's prefix, each
//!    up to the step delimiter or the end token; identical steps merge into one child whose
//!    prior is their share of the `k` (on a repeated expansion of a dead end, steps the node
//!    already has are dropped). Each of the `k` draws is sampled on to the end token at once:
//!    drawing a step and then completing it is one draw from the same distribution as
//!    drawing the step and then a rollout from the child, so the continuation after the
//!    first step is that child's first rollout, and no step is sampled twice;
//! 2. **evaluate**: a child that ended with the end token is a finished trace whose value is
//!    its final-answer reward (1 right, 0 wrong); a step longer than `max_step_tokens`
//!    without a delimiter, or one that fills the completion's room, is broken (value 0);
//!    every other child is completed by at least `m` rollouts (its own draws' continuations,
//!    then more as needed), and its value is
//!
//!    ```text
//!    V(c) = (1 − w) · mean_j R(rollout_j) + w · v̂(c)        (w = value_weight)
//!    ```
//!    with `R` the final-answer reward and `v̂` the value head's estimate
//!    ([`crate::rest_mcts::value`]);
//! 3. **backup** of every new child's value to the root.
//!
//! The search stops when a finished trace (a child or a rollout) passes the task's verifier,
//! when every path ends in a finished trace, or when the budget is spent.
//!
//! **Budget**: counted in sampled tokens (stop tokens included), over the expansions and the
//! rollouts alike, so that best-of-N ([`crate::rest_mcts::best_of_n`]) can be given exactly
//! the same number. Samples are charged in the order they were requested; the first that does
//! not fit is cut to the room left (and is then unfinished, so discarded) and later ones are
//! dropped, as if never sampled. The charged total never exceeds the budget.
//!
//! Values use only final-answer correctness; the verifier that ends the search is the task's
//! (the same one best-of-N keeps its samples by).

use super::targets::TraceRecord;
use super::tree::Tree;
use crate::TrainError;
use alloc::vec;
use alloc::vec::Vec;

/// What the search asks of the models: continuations and value estimates.
#[allow(async_fn_in_trait)]
pub trait SearchModel {
    /// One sampled continuation of each prefix, at most `max_new` tokens, ending after the
    /// first of `stop_tokens` (kept in the output) if one is sampled; `key` keys the random
    /// stream (the same prefixes and key give the same samples).
    async fn sample(
        &mut self,
        prefixes: &[Vec<u32>],
        max_new: usize,
        stop_tokens: &[u32],
        key: u32,
    ) -> Result<Vec<Vec<u32>>, TrainError>;

    /// The value head's estimate of each sequence (prompt and steps), in `[0, 1]`.
    async fn values(&mut self, seqs: &[Vec<u32>]) -> Result<Vec<f64>, TrainError>;
}

/// A token budget (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Tokens allowed.
    pub limit: usize,
    /// Tokens charged so far.
    pub used: usize,
}

impl Budget {
    /// A fresh budget of `limit` tokens.
    pub fn new(limit: usize) -> Self {
        Budget { limit, used: 0 }
    }

    /// Nothing is left.
    pub fn spent(&self) -> bool {
        self.used >= self.limit
    }

    /// Charges `samples` in order: `Some(sample)` for each that fits whole; the first that
    /// does not is charged the room left and comes back `None`, as do all after it.
    pub fn charge(&mut self, samples: Vec<Vec<u32>>) -> Vec<Option<Vec<u32>>> {
        samples
            .into_iter()
            .map(|s| {
                let room = self.limit - self.used;
                if room > 0 && s.len() <= room {
                    self.used += s.len();
                    Some(s)
                } else {
                    self.used = self.limit;
                    None
                }
            })
            .collect()
    }
}

/// The search's settings (from [`crate::rest_mcts::RestMctsConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    /// `k`: next steps sampled per expansion.
    pub expand_k: usize,
    /// `m`: rollouts per new node.
    pub rollouts_m: usize,
    /// `w`: the value head's weight (0 leaves the value head out).
    pub value_weight: f64,
    /// The PUCT constant.
    pub c_puct: f64,
    /// Expansions of one node at most (more than 1: a dead end is expanded again).
    pub max_expansions: u32,
    /// New tokens per step at most.
    pub max_step_tokens: usize,
    /// New tokens per completion at most.
    pub max_completion_length: usize,
    /// Tokens per problem.
    pub budget_tokens: usize,
    /// The step delimiter's id.
    pub delimiter: u32,
    /// The end token's id.
    pub eos: u32,
}

/// What a search did.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// The verified completion found (its tokens, the end token excluded).
    pub found: Option<Vec<u32>>,
    /// Tokens charged.
    pub tokens_used: usize,
    /// Every complete (or broken) trace sampled, with its final-answer outcome.
    pub traces: Vec<TraceRecord>,
    /// Expansions made.
    pub expansions: usize,
    /// The tree.
    pub tree: Tree,
}

/// The (final answer right, verified) grades of a node's rollouts.
type Grades = Vec<(bool, bool)>;

/// `completion` cut into steps after each `delimiter` (the last step may lack one).
pub fn split_steps(completion: &[u32], delimiter: u32) -> Vec<Vec<u32>> {
    let mut steps = Vec::new();
    let mut cur = Vec::new();
    for &t in completion {
        cur.push(t);
        if t == delimiter {
            steps.push(core::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        steps.push(cur);
    }
    steps
}

/// Searches for a verified completion of `prompt` (module docs). `judge` grades a finished
/// completion (end token excluded) as (final answer right, verified by the task); `key`
/// keys this search's samples.
pub async fn search<M: SearchModel>(
    model: &mut M,
    prompt: &[u32],
    params: &SearchParams,
    judge: &dyn Fn(&[u32]) -> (bool, bool),
    key: u32,
) -> Result<SearchOutcome, TrainError> {
    let p = params;
    let plen = prompt.len();
    let mut tree = Tree::new(prompt.to_vec());
    let mut budget = Budget::new(p.budget_tokens);
    let mut traces = Vec::new();
    let mut found: Option<Vec<u32>> = None;
    let mut calls = 0u32;
    let mut next_key = || {
        calls += 1;
        key.wrapping_add(calls.wrapping_mul(0x100))
    };
    let mut expansions = 0;
    while found.is_none() && !budget.spent() {
        let Some(leaf) = tree.select(p.c_puct, p.max_expansions) else {
            break;
        };
        let leaf_tokens = tree.nodes[leaf].tokens.clone();
        let room = p.max_completion_length - (leaf_tokens.len() - plen);
        let prefixes = vec![leaf_tokens.clone(); p.expand_k];
        let samples = model.sample(&prefixes, room, &[p.eos], next_key()).await?;
        let samples = budget.charge(samples.into_iter().map(|s| cut(s, room)).collect());
        tree.mark_expanded(leaf);
        expansions += 1;
        // Each continuation: its first step, and the rest as a rollout from that step.
        let received: Vec<Vec<u32>> = samples.into_iter().flatten().collect();
        let mut children: Vec<(Vec<u32>, Grades)> = Vec::new();
        for r in &received {
            let cut_at = match r.iter().position(|&t| t == p.delimiter || t == p.eos) {
                Some(i) if i < p.max_step_tokens => i + 1,
                _ => r.len().min(p.max_step_tokens),
            };
            let step = r[..cut_at].to_vec();
            let mut completion = leaf_tokens[plen..].to_vec();
            completion.extend_from_slice(r);
            let grade = record(&mut traces, &mut found, judge, completion, p);
            match children.iter_mut().find(|(u, _)| *u == step) {
                Some(u) => u.1.push(grade),
                None => children.push((step, vec![grade])),
            }
        }
        let mut new_values: Vec<(usize, f64)> = Vec::new();
        let mut open: Vec<(usize, Grades)> = Vec::new();
        for (step, grades) in children {
            let finished = step.last() == Some(&p.eos);
            let body = &step[..step.len() - usize::from(finished)];
            if tree.nodes[leaf].children.iter().any(|&c| {
                tree.nodes[c].tokens[leaf_tokens.len()..] == *body
                    && tree.nodes[c].terminal == finished
            }) {
                continue; // a repeated expansion drew a step the node already has
            }
            let prior = grades.len() as f64 / received.len() as f64;
            let mut tokens = leaf_tokens.clone();
            tokens.extend_from_slice(body);
            let open_step = !finished
                && step.last() == Some(&p.delimiter)
                && tokens.len() - plen < p.max_completion_length;
            let c = tree.add_child(leaf, tokens, prior, !open_step);
            if open_step {
                open.push((c, grades));
            } else {
                // A finished trace's value is its reward; a broken step's is 0.
                new_values.push((c, f64::from(u8::from(finished && grades[0].0))));
            }
        }
        if !open.is_empty() && found.is_none() {
            // Rollouts beyond the expansion's own, up to m per new node.
            let mut extra_prefixes = Vec::new();
            let mut owner = Vec::new();
            for (i, (c, grades)) in open.iter().enumerate() {
                let more = p.rollouts_m.saturating_sub(grades.len());
                extra_prefixes.extend(core::iter::repeat_n(tree.nodes[*c].tokens.clone(), more));
                owner.extend(core::iter::repeat_n(i, more));
            }
            if !extra_prefixes.is_empty() {
                let longest = extra_prefixes
                    .iter()
                    .map(|t| p.max_completion_length - (t.len() - plen))
                    .max()
                    .unwrap_or(0);
                let rollouts = model
                    .sample(&extra_prefixes, longest, &[p.eos], next_key())
                    .await?;
                let rollouts: Vec<Vec<u32>> = rollouts
                    .into_iter()
                    .zip(&extra_prefixes)
                    .map(|(r, pre)| cut(r, p.max_completion_length - (pre.len() - plen)))
                    .collect();
                for (r, &i) in budget.charge(rollouts).into_iter().zip(&owner) {
                    let Some(r) = r else { continue };
                    let mut completion = tree.nodes[open[i].0].tokens[plen..].to_vec();
                    completion.extend_from_slice(&r);
                    let grade = record(&mut traces, &mut found, judge, completion, p);
                    open[i].1.push(grade);
                }
            }
            let estimates = if p.value_weight > 0.0 {
                let seqs: Vec<Vec<u32>> = open
                    .iter()
                    .map(|(c, _)| tree.nodes[*c].tokens.clone())
                    .collect();
                model.values(&seqs).await?
            } else {
                vec![0.0; open.len()]
            };
            let w = p.value_weight;
            for ((c, grades), v_hat) in open.into_iter().zip(estimates) {
                let rewards = grades.iter().filter(|g| g.0).count() as f64;
                let mean = rewards / grades.len() as f64;
                new_values.push((c, (1.0 - w) * mean + w * v_hat));
            }
        }
        for (c, v) in new_values {
            tree.backup(c, v);
        }
    }
    Ok(SearchOutcome {
        found,
        tokens_used: budget.used,
        traces,
        expansions,
        tree,
    })
}

/// Grades a sampled completion (the end token last if it finished): records it (unless
/// empty) as a trace with its final-answer outcome, and as the found one if it is the first verified; returns
/// (final answer right, verified).
fn record(
    traces: &mut Vec<TraceRecord>,
    found: &mut Option<Vec<u32>>,
    judge: &dyn Fn(&[u32]) -> (bool, bool),
    mut completion: Vec<u32>,
    p: &SearchParams,
) -> (bool, bool) {
    let finished = completion.last() == Some(&p.eos);
    if finished {
        completion.pop();
    }
    let grade = if finished {
        judge(&completion)
    } else {
        (false, false)
    };
    if grade.1 && found.is_none() {
        *found = Some(completion.clone());
    }
    let steps = split_steps(&completion, p.delimiter);
    if !steps.is_empty() {
        traces.push(TraceRecord {
            steps,
            correct: grade.0,
        });
    }
    grade
}

/// `sample` cut to `max_new` tokens.
fn cut(mut sample: Vec<u32>, max_new: usize) -> Vec<u32> {
    sample.truncate(max_new);
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_charges_in_order_and_never_overflows() {
        let mut b = Budget::new(10);
        let got = b.charge(vec![vec![1; 4], vec![2; 4], vec![3; 4], vec![4; 1]]);
        assert_eq!(got, vec![Some(vec![1; 4]), Some(vec![2; 4]), None, None]);
        assert_eq!(b.used, 10);
        assert!(b.spent());
        assert_eq!(b.charge(vec![vec![5]]), vec![None]);
        assert_eq!(b.used, 10);
        let mut exact = Budget::new(8);
        assert!(exact.charge(vec![vec![1; 8]])[0].is_some());
        assert!(exact.spent());
    }

    #[test]
    fn steps_split_after_each_delimiter() {
        assert_eq!(
            split_steps(&[1, 2, 9, 3, 9, 4], 9),
            vec![vec![1, 2, 9], vec![3, 9], vec![4]]
        );
        assert_eq!(split_steps(&[1, 9], 9), vec![vec![1, 9]]);
        assert!(split_steps(&[], 9).is_empty());
    }
}
