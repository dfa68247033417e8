//! The search tree of ReST-MCTS\*: nodes are trace prefixes that end at a step boundary,
//! selection by PUCT with the policy's empirical prior, and value backup.
//!
//! A node `s` keeps its visit count `N(s)` and value sum `W(s)`; its value is
//! `Q(s) = W(s) / N(s)` (0 before any visit). Selection descends from the root, at each
//! expanded node taking the child that maximises \[PAPER: AlphaZero's PUCT, as ReST-MCTS\*'s
//! MCTS\* uses\]
//!
//! ```text
//! score(c) = Q(c) + c_puct · P(c) · √N(parent) / (1 + N(c))
//! ```
//! where `P(c)` is the share of the parent's `k` sampled next steps that were `c`'s step
//! (identical samples merge into one child). Ties go to the child created first. Terminal
//! children (a finished or broken trace) are never selected. Selection stops at the first
//! node not yet expanded, or at an expanded node none of whose children can be selected if
//! it has been expanded fewer than `max_expansions` times (it is expanded again: a peaked
//! policy's `k` samples often merge into one child, and a dead end would otherwise end the
//! search with budget left); else that node is *exhausted*, skipped from then on, and
//! selection starts again from the root.
//!
//! Backup adds a new node's value `v` to every node on its path to the root:
//! `N(s) ← N(s) + 1`, `W(s) ← W(s) + v`.
//!
//! ```
//! use spar_train::rest_mcts::tree::Tree;
//! let mut t = Tree::new(vec![7]);
//! let a = t.add_child(0, vec![7, 1], 0.5, false);
//! let b = t.add_child(0, vec![7, 2], 0.5, false);
//! t.backup(a, 1.0);
//! t.backup(b, 0.0);
//! assert_eq!((t.nodes[0].visits, t.q(0)), (2, 0.5));
//! t.mark_expanded(0);
//! assert_eq!(t.select(1.0, 1), Some(a)); // same prior and visits: the higher Q wins
//! ```

use alloc::vec::Vec;

/// One node: a trace prefix ending at a step boundary (or a finished trace).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The parent (`None` for the root).
    pub parent: Option<usize>,
    /// The children, in creation order.
    pub children: Vec<usize>,
    /// The whole sequence: prompt, then the steps so far.
    pub tokens: Vec<u32>,
    /// Steps from the root.
    pub depth: usize,
    /// `P`: the share of the parent's sampled next steps that were this one.
    pub prior: f64,
    /// `N`: visits (backed-up values).
    pub visits: u32,
    /// `W`: the sum of the backed-up values.
    pub value_sum: f64,
    /// A finished (end token) or broken trace: never expanded or selected.
    pub terminal: bool,
    /// Its next steps have been sampled.
    pub expanded: bool,
    /// Times its next steps have been sampled.
    pub expansions: u32,
    /// Expanded, and none of its children can be selected.
    pub exhausted: bool,
}

/// The search tree; node 0 is the root (the prompt).
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// The nodes, in creation order.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// A tree with only the root, whose sequence is `prompt`.
    pub fn new(prompt: Vec<u32>) -> Self {
        Tree {
            nodes: alloc::vec![Node {
                parent: None,
                children: Vec::new(),
                tokens: prompt,
                depth: 0,
                prior: 1.0,
                visits: 0,
                value_sum: 0.0,
                terminal: false,
                expanded: false,
                expansions: 0,
                exhausted: false,
            }],
        }
    }

    /// Adds a child of `parent` with sequence `tokens` and prior `prior`; returns its index.
    pub fn add_child(
        &mut self,
        parent: usize,
        tokens: Vec<u32>,
        prior: f64,
        terminal: bool,
    ) -> usize {
        let id = self.nodes.len();
        let depth = self.nodes[parent].depth + 1;
        self.nodes.push(Node {
            parent: Some(parent),
            children: Vec::new(),
            tokens,
            depth,
            prior,
            visits: 0,
            value_sum: 0.0,
            terminal,
            expanded: false,
            expansions: 0,
            exhausted: false,
        });
        self.nodes[parent].children.push(id);
        id
    }

    /// `Q(s) = W(s) / N(s)`, 0 before any visit.
    pub fn q(&self, s: usize) -> f64 {
        let n = &self.nodes[s];
        if n.visits == 0 {
            0.0
        } else {
            n.value_sum / n.visits as f64
        }
    }

    /// The PUCT score of child `c` (module docs).
    pub fn puct(&self, c: usize, c_puct: f64) -> f64 {
        let node = &self.nodes[c];
        let parent_visits = node.parent.map_or(0, |p| self.nodes[p].visits) as f64;
        self.q(c) + c_puct * node.prior * libm::sqrt(parent_visits) / (1.0 + node.visits as f64)
    }

    /// Adds `value` to every node from `leaf` up to the root (one visit each).
    pub fn backup(&mut self, leaf: usize, value: f64) {
        let mut at = Some(leaf);
        while let Some(s) = at {
            let n = &mut self.nodes[s];
            n.visits += 1;
            n.value_sum += value;
            at = n.parent;
        }
    }

    /// Records an expansion of `s`.
    pub fn mark_expanded(&mut self, s: usize) {
        self.nodes[s].expanded = true;
        self.nodes[s].expansions += 1;
    }

    /// The node to expand next (module docs); `None` when every node is terminal or
    /// exhausted.
    pub fn select(&mut self, c_puct: f64, max_expansions: u32) -> Option<usize> {
        loop {
            if self.nodes[0].exhausted || self.nodes[0].terminal {
                return None;
            }
            let mut s = 0;
            loop {
                if !self.nodes[s].expanded {
                    return Some(s);
                }
                let mut best: Option<(usize, f64)> = None;
                for &c in &self.nodes[s].children {
                    let n = &self.nodes[c];
                    if n.terminal || n.exhausted {
                        continue;
                    }
                    let score = self.puct(c, c_puct);
                    if best.is_none_or(|(_, b)| score > b) {
                        best = Some((c, score));
                    }
                }
                match best {
                    Some((c, _)) => s = c,
                    None if self.nodes[s].expansions < max_expansions => return Some(s),
                    None => {
                        self.nodes[s].exhausted = true;
                        break;
                    }
                }
            }
        }
    }

    /// The steps from the root to `s`, as each step's tokens (the prompt excluded).
    pub fn path_steps(&self, s: usize) -> Vec<Vec<u32>> {
        let mut steps = Vec::new();
        let mut at = s;
        while let Some(p) = self.nodes[at].parent {
            let from = self.nodes[p].tokens.len();
            steps.push(self.nodes[at].tokens[from..].to_vec());
            at = p;
        }
        steps.reverse();
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn backup_adds_one_visit_and_the_value_along_the_path() {
        let mut t = Tree::new(vec![1]);
        let a = t.add_child(0, vec![1, 2], 1.0, false);
        let b = t.add_child(a, vec![1, 2, 3], 1.0, false);
        t.backup(b, 0.25);
        t.backup(a, 0.75);
        assert_eq!(t.nodes[b].visits, 1);
        assert_eq!(t.nodes[a].visits, 2);
        assert_eq!(t.nodes[0].visits, 2);
        assert!((t.q(a) - 0.5).abs() < 1e-12);
        assert!((t.q(b) - 0.25).abs() < 1e-12);
        assert!((t.nodes[0].value_sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn puct_picks_the_expected_child() {
        // Root visited 4 times; children: a (Q 0.5, N 2, P 0.2), b (Q 0.4, N 1, P 0.6),
        // c (Q 0, N 1, P 0.2). c_puct = 1: a: 0.5 + 0.2·2/3 = 0.633; b: 0.4 + 0.6·2/2 = 1.0;
        // c: 0 + 0.2·2/2 = 0.2 → b. With c_puct = 0 the highest Q (a) wins.
        let mut t = Tree::new(vec![1]);
        t.nodes[0].expanded = true;
        let a = t.add_child(0, vec![1, 2], 0.2, false);
        let b = t.add_child(0, vec![1, 3], 0.6, false);
        let c = t.add_child(0, vec![1, 4], 0.2, false);
        t.backup(a, 0.5);
        t.backup(a, 0.5);
        t.backup(b, 0.4);
        t.backup(c, 0.0);
        assert!((t.puct(a, 1.0) - (0.5 + 0.2 * 2.0 / 3.0)).abs() < 1e-12);
        assert!((t.puct(b, 1.0) - 1.0).abs() < 1e-12);
        assert_eq!(t.select(1.0, 1), Some(b));
        assert_eq!(t.select(0.0, 1), Some(a));
    }

    #[test]
    fn terminal_children_are_skipped_and_dead_ends_exhausted() {
        let mut t = Tree::new(vec![1]);
        t.nodes[0].expanded = true;
        let a = t.add_child(0, vec![1, 2], 0.5, false);
        let win = t.add_child(0, vec![1, 9], 0.5, true);
        t.backup(win, 1.0);
        t.backup(a, 0.0);
        // The terminal child has the higher Q but cannot be expanded.
        assert_eq!(t.select(1.0, 1), Some(a));
        t.nodes[a].expanded = true;
        let dead = t.add_child(a, vec![1, 2, 5], 1.0, true);
        t.backup(dead, 0.0);
        t.nodes[a].expansions = 1;
        t.nodes[0].expansions = 1;
        // a's only child is terminal: with 2 expansions allowed a is expanded again ...
        assert_eq!(t.select(1.0, 2), Some(a));
        // ... with 1, a is exhausted, and then so is the root.
        assert_eq!(t.select(1.0, 1), None);
        assert!(t.nodes[a].exhausted && t.nodes[0].exhausted);
    }

    #[test]
    fn path_steps_cut_the_sequence_at_the_nodes() {
        let mut t = Tree::new(vec![1, 2]);
        let a = t.add_child(0, vec![1, 2, 3, 4], 1.0, false);
        let b = t.add_child(a, vec![1, 2, 3, 4, 5], 1.0, true);
        assert_eq!(t.path_steps(b), vec![vec![3, 4], vec![5]]);
        assert!(t.path_steps(0).is_empty());
    }
}
