//! The levers against proposal collapse (each a config key, off by default):
//!
//! - `proposer_references = K`: the proposer prompt shows K distinct reference tasks from the
//!   type's buffer, `new ded like R1 R2 … RK:` ([`reference_prompt`]; K = 1 is spar-tasks'
//!   [`proposer_prompt`], the paper's conditioning on past tasks);
//! - `diversity_bonus = b`: a valid proposal whose program is not yet in its type's buffer
//!   earns `b / c`, where `c` counts the step's valid proposals of that type with the same
//!   program ([`diversity_terms`]); with `diversity_step_only` every valid proposal earns
//!   `b / c` (the buffer is not consulted);
//! - `buffer_distinct`: a valid proposal whose program is already in its type's buffer does
//!   not enter it, so the solver's batches (drawn from the buffer) stay varied;
//! - `solver_sft_weight = w`: besides the policy gradient, the solver reads the executor's
//!   answers of its training tasks (a supervised term of weight `w`; not in the paper).

use super::{AzrSelfPlay, MIN_PROPOSAL_ROOM};
use crate::rollout::Batch;
use crate::TrainError;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use spar_model::Kernels;
use spar_tasks::{proposal_text, proposer_prompt, solver_prompt, ProgramTask, ProgramTaskKind};

/// The proposer prompt with reference tasks `refs` (at least one): `new ded like R1 R2 …:`
/// with each `R` a task's proposal text; one reference gives spar-tasks' [`proposer_prompt`].
pub fn reference_prompt(kind: ProgramTaskKind, refs: &[&ProgramTask]) -> String {
    match refs {
        [] => String::new(),
        [one] => proposer_prompt(kind, one),
        [first, rest @ ..] => {
            let mut s = proposer_prompt(kind, first);
            s.pop(); // the closing ':'
            for r in rest {
                s.push(' ');
                s.push_str(&proposal_text(r));
            }
            s.push(':');
            s
        }
    }
}

/// The diversity term of one task type's proposals this step (`None`: invalid, term 0): a
/// valid proposal whose program is not in `seen` (the type's buffer before the step) earns
/// `bonus / c`, where `c` counts this step's valid proposals with the same program; a program
/// already seen earns 0.
pub fn diversity_terms(
    programs: &[Option<String>],
    seen: &BTreeSet<String>,
    bonus: f64,
) -> Vec<f64> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for p in programs.iter().flatten() {
        *count.entry(p.as_str()).or_default() += 1;
    }
    programs
        .iter()
        .map(|p| match p {
            Some(p) if !seen.contains(p) => bonus / count[p.as_str()] as f64,
            _ => 0.0,
        })
        .collect()
}

impl<K: Kernels> AzrSelfPlay<K> {
    /// Draws the reference tasks of a type-`k` proposer prompt from its buffer and writes the
    /// prompt: `proposer_references` distinct tasks (fewer when the buffer is smaller, or
    /// when the prompt would leave too little room for a proposal). One reference reads one
    /// random draw, as the loop always did.
    pub(super) fn draw_reference_prompt(&mut self, k: usize) -> String {
        let n = self.buffers[k].len();
        let want = self.config.proposer_references.min(n).max(1);
        let mut picked: Vec<usize> = Vec::with_capacity(want);
        // Rejection of repeats, bounded so that a run never spins.
        for _ in 0..4 * want {
            if picked.len() == want {
                break;
            }
            let r = self.pick(n);
            if !picked.contains(&r) {
                picked.push(r);
            }
        }
        let kind = self.config.task_types[k].kind();
        let room = self
            .config
            .model
            .n_positions
            .saturating_sub(MIN_PROPOSAL_ROOM);
        loop {
            let refs: Vec<&ProgramTask> = picked.iter().map(|&i| &self.buffers[k][i]).collect();
            let prompt = reference_prompt(kind, &refs);
            // One buffered task always fits (the buffer admits only such tasks).
            if picked.len() <= 1 || self.vocab.encode(&prompt).len() <= room {
                return prompt;
            }
            picked.pop();
        }
    }

    /// The key of `task`'s program under `distinct_by`.
    pub(super) fn program_key(&self, task: &ProgramTask) -> String {
        self.config.distinct_by.key(&task.program.to_string())
    }

    /// The program keys of type `k`'s buffer (for the diversity term and
    /// `buffer_distinct`).
    pub(super) fn buffer_programs(&self, k: usize) -> BTreeSet<String> {
        self.buffers[k]
            .iter()
            .map(|t| self.program_key(t))
            .collect()
    }

    /// The supervised term's batch: each solver task's prompt followed by the executor's
    /// answer and the end token.
    pub(super) fn solver_sft_batch(&self, tasks: &[(usize, ProgramTask)]) -> Batch {
        let eos = self.vocab.eos();
        let seqs: Vec<(Vec<u32>, usize)> = tasks
            .iter()
            .map(|(_, t)| {
                let mut s = self.vocab.encode(&solver_prompt(t));
                let p = s.len();
                s.extend(self.vocab.encode(&t.completion()));
                s.push(eos);
                (s, p)
            })
            .collect();
        Batch::from_pairs(&seqs, self.config.model.n_positions)
    }

    /// Adds the supervised term (`solver_sft_weight` × the mean NLL of the executor's
    /// answers) to the accumulated gradients; does nothing at weight 0.
    pub(super) async fn solver_sft_backward(
        &mut self,
        tasks: &[(usize, ProgramTask)],
    ) -> Result<(), TrainError> {
        let w = self.config.solver_sft_weight;
        if w > 0.0 && !tasks.is_empty() {
            let batch = self.solver_sft_batch(tasks);
            self.policy.nll_backward(&batch, w, self.step).await?;
        }
        Ok(())
    }

    /// Type `k`'s proposer prompt as the loop would draw it next (reads the random stream;
    /// for tests and probes).
    pub fn sample_proposer_prompt(&mut self, k: usize) -> Option<String> {
        (k < self.buffers.len()).then(|| self.draw_reference_prompt(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_tasks::seed_tasks;

    #[test]
    fn one_reference_is_the_task_rule_prompt() {
        let seeds = seed_tasks(ProgramTaskKind::Deduction);
        let p = reference_prompt(ProgramTaskKind::Deduction, &[&seeds[0]]);
        assert_eq!(p, proposer_prompt(ProgramTaskKind::Deduction, &seeds[0]));
        let two = reference_prompt(ProgramTaskKind::Deduction, &[&seeds[0], &seeds[1]]);
        assert_eq!(
            two,
            alloc::format!(
                "new ded like {} {}:",
                proposal_text(&seeds[0]),
                proposal_text(&seeds[1])
            )
        );
    }
}
