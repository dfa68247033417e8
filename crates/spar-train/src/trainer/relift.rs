//! ReLIFT (`grpo.relift`; Ma et al. 2025, "Learning What Reinforcement Learning Can't:
//! Interleaved Online Fine-Tuning for Hardest Questions"): RL with the verifier, interleaved
//! with supervised steps on the questions RL cannot solve.
//!
//! \[PAPER\] The recipe: during RL, the questions on which every rollout of the group fails
//! (accuracy 0, "the hardest") are collected together with a high-quality demonstration;
//! when the buffer holds a full batch, one fine-tuning step (next-token NLL) on the buffered
//! demonstrations is taken, interleaved with the RL steps, and the buffer is cleared.
//!
//! Here (\[MEM\] for the details the recipe leaves open):
//! - **The expert.** The paper's demonstrations come from a stronger model; ours are the
//!   task's reference completions (`Problem::completion`, the same text SFT trains on and
//!   the hints of [`super::hints`] show), so ReLIFT reads the reference solutions of the RL
//!   problems it fails on: it is not label-free.
//! - **Collection.** After each sampling round (refill rounds included, before dynamic
//!   sampling drops anything), every solving group (not a RISE verify group) whose
//!   completions the verifier all rejects puts its problem's pool index into the buffer,
//!   unless it is there already ([`collect`]); the buffer keeps at most
//!   `relift_buffer_size`, the oldest leave first.
//! - **The SFT step.** An RL step that starts with at least `relift_batch_size`
//!   demonstrations in the buffer is an SFT step instead ([`sft_due`]): it samples nothing,
//!   trains on every buffered demonstration (`prompt ⊕ reference ⊕ end`) and clears the
//!   buffer. Its loss is
//!   `L = c · (1/N) Σ_{i} Σ_{t ∈ completion(i)} −log π_θ(y_{i,t} | x_i, y_{i,<t})`,
//!   `N` the number of completion tokens (end token included) of the batch and
//!   `c = relift_sft_coef`; the prompt's positions carry no weight (the batch's mask).
//!   It is one optimiser step of the RL stage (the stage's learning rate and AdamW state),
//!   so `grpo.max_steps` counts RL and SFT steps together, as the paper's alternation.
//!
//! The buffer holds pool indices (the demonstration is a function of the problem), kept in
//! [`super::TrainState`]: a resumed run continues bit for bit. With `relift = false` nothing
//! here runs and the loop is unchanged.

use super::sampling::Unit;
use super::{StepMetrics, Trainer};
use crate::rollout::Batch;
use crate::TrainError;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_model::Kernels;

/// ReLIFT's state: the buffer of demonstrations (pool indices of the problems, oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReliftState {
    /// Pool indices of the buffered problems whose reference completions are the
    /// demonstrations, oldest first, each at most once.
    #[serde(default)]
    pub buffer: Vec<u32>,
}

impl ReliftState {
    /// Whether the buffer is empty (then a checkpoint leaves it out).
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Checks a restored buffer against the pool of `pool` problems: indices in range, none
    /// twice.
    pub(super) fn check(&self, pool: usize) -> Result<(), TrainError> {
        for (k, &i) in self.buffer.iter().enumerate() {
            if i as usize >= pool {
                return Err(TrainError::Checkpoint(alloc::format!(
                    "the relift buffer names problem {i}, but there are {pool}"
                )));
            }
            if self.buffer[..k].contains(&i) {
                return Err(TrainError::Checkpoint(alloc::format!(
                    "the relift buffer names problem {i} twice"
                )));
            }
        }
        Ok(())
    }
}

/// Whether a solving group enters the buffer: it has completions and the verifier rejects
/// every one (`correct` holds the verifier's 1 or 0 per completion).
pub fn all_fail(correct: &[f64]) -> bool {
    !correct.is_empty() && correct.iter().all(|&c| c == 0.0)
}

/// Appends to `buffer` the problems of `failing` not in it yet (in order, each once), then
/// drops the oldest so that at most `cap` remain; returns how many were appended.
pub fn collect(buffer: &mut Vec<u32>, failing: &[u32], cap: usize) -> usize {
    let mut added = 0;
    for &i in failing {
        if !buffer.contains(&i) {
            buffer.push(i);
            added += 1;
        }
    }
    if buffer.len() > cap {
        buffer.drain(..buffer.len() - cap);
    }
    added
}

/// Whether the next RL step is ReLIFT's SFT step: the buffer holds a full batch.
pub fn sft_due(buffered: usize, batch_size: usize) -> bool {
    batch_size > 0 && buffered >= batch_size
}

impl<K: Kernels> Trainer<K> {
    /// The ReLIFT buffer (pool indices, oldest first; empty with `grpo.relift` off).
    pub fn relift_buffer(&self) -> &[u32] {
        &self.relift.buffer
    }

    /// Puts the problems of `units`' solving groups that all fail into the buffer (nothing
    /// with `grpo.relift` off); returns how many were added.
    pub(super) fn relift_collect(&mut self, units: &[Unit]) -> usize {
        if !self.config.grpo.relift {
            return 0;
        }
        let failing: Vec<u32> = units
            .iter()
            .filter(|u| u.verify.is_none() && all_fail(&u.correct))
            .map(|u| u.problem as u32)
            .collect();
        collect(
            &mut self.relift.buffer,
            &failing,
            self.config.grpo.relift_buffer_size,
        )
    }

    /// `(relift_added, relift_buffered)` of an RL step's metrics (`None` with ReLIFT off).
    pub(super) fn relift_reported(&self, added: usize) -> (Option<usize>, Option<usize>) {
        let on = self.config.grpo.relift;
        (on.then_some(added), on.then_some(self.relift.buffer.len()))
    }

    /// The buffered demonstrations as `(prompt ⊕ reference ⊕ end, prompt length)`.
    fn relift_demos(&self) -> Vec<(Vec<u32>, usize)> {
        self.relift
            .buffer
            .iter()
            .map(|&i| {
                let p = &self.data.pool[i as usize];
                self.vocab.encode_example(&p.prompt, &p.completion)
            })
            .collect()
    }

    /// ReLIFT's SFT step when it is due (see the module's documentation): the NLL step on
    /// the buffered demonstrations, which clears the buffer. `None` (and nothing done) when
    /// ReLIFT is off or the buffer holds less than a batch.
    pub(super) async fn relift_sft_step(&mut self) -> Result<Option<StepMetrics>, TrainError> {
        let g = &self.config.grpo;
        if !g.relift || !sft_due(self.relift.buffer.len(), g.relift_batch_size) {
            return Ok(None);
        }
        let coef = g.relift_sft_coef;
        let demos = self.relift_demos();
        let batch = Batch::from_pairs(&demos, self.config.model.n_positions);
        let loss = self.policy.nll_backward(&batch, coef, self.step).await?;
        let out = self.policy.step(self.step).await?;
        self.relift.buffer.clear();
        Ok(Some(StepMetrics {
            step: self.step,
            phase: "rl".into(),
            loss,
            learning_rate: out.learning_rate as f64,
            grad_norm: out.grad_norm as f64,
            relift_added: Some(0),
            relift_trained: Some(demos.len()),
            relift_buffered: Some(0),
            curriculum: self.curriculum.get().probabilities()?,
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{all_fail, collect, sft_due};
    use crate::config::RewardSource;
    use crate::rollout::Batch;
    use crate::{TrainConfig, Trainer};
    use alloc::boxed::Box;
    use alloc::vec;
    use alloc::vec::Vec;
    use spar_model::{block_on, CpuKernels};

    #[test]
    fn only_groups_whose_completions_all_fail_enter() {
        assert!(all_fail(&[0.0, 0.0, 0.0, 0.0]));
        assert!(!all_fail(&[0.0, 0.0, 1.0, 0.0]), "one right completion");
        assert!(!all_fail(&[1.0; 4]));
        assert!(!all_fail(&[]), "a group with no completions");
    }

    #[test]
    fn the_buffer_takes_each_problem_once_and_drops_the_oldest_past_its_cap() {
        let mut b = Vec::new();
        assert_eq!(collect(&mut b, &[4, 7, 4], 5), 2, "4 once");
        assert_eq!(b, vec![4, 7]);
        assert_eq!(collect(&mut b, &[7, 9], 5), 1, "7 is there already");
        assert_eq!(b, vec![4, 7, 9]);
        assert_eq!(collect(&mut b, &[1, 2, 3], 5), 3);
        assert_eq!(b, vec![7, 9, 1, 2, 3], "4, the oldest, left");
        assert_eq!(collect(&mut b, &[], 5), 0);
        assert_eq!(b.len(), 5);
    }

    #[test]
    fn the_sft_step_is_due_exactly_when_the_buffer_holds_a_batch() {
        assert!(!sft_due(0, 4));
        assert!(!sft_due(3, 4));
        assert!(sft_due(4, 4));
        assert!(sft_due(6, 4));
        assert!(
            !sft_due(0, 0),
            "never with a batch of 0 (refused by validation)"
        );
    }

    #[allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults
    fn tiny() -> TrainConfig {
        let mut c = TrainConfig::default();
        c.seed = 7;
        c.model.n_embd = 16;
        c.model.n_positions = 24;
        c.task.name = "addition".into();
        c.task.levels = vec![0, 1];
        c.task.num_train_problems = 60;
        c.task.num_eval_problems = 10;
        c.sft.max_steps = 0;
        c.grpo.max_steps = 4;
        c.grpo.per_device_train_batch_size = 16;
        c.grpo.num_generations = 4;
        c.grpo.max_completion_length = 4;
        c.grpo.reward = RewardSource::Verifier;
        c.grpo.relift = true;
        c.grpo.relift_batch_size = 3;
        c.grpo.relift_buffer_size = 8;
        c.grpo.relift_sft_coef = 0.5;
        c
    }

    /// The SFT step's update is `coef ·` the mean token NLL of the reference completions
    /// (prompt positions masked): bit for bit the update of that loss built by hand from the
    /// problems' texts; and it clears the buffer.
    #[test]
    fn the_sft_step_is_the_nll_step_on_the_reference_completions_only() {
        let c = tiny();
        let mut t = Trainer::new(c.clone(), Box::new(CpuKernels::new)).unwrap();
        t.enter_rl_stage();
        t.relift.buffer = vec![5, 2, 11];
        let start = block_on(t.snapshot()).unwrap();
        let m = block_on(t.relift_sft_step()).unwrap().expect("due: 3 of 3");
        assert_eq!(m.relift_trained, Some(3));
        assert!(t.relift.buffer.is_empty(), "cleared");
        let got = block_on(t.snapshot()).unwrap().params;
        // By hand: prompt ⊕ reference ⊕ end, the mask on the reference and the end only.
        let mut h = Trainer::new(c.clone(), Box::new(CpuKernels::new)).unwrap();
        h.restore(&start).unwrap();
        let mut pairs = Vec::new();
        for i in [5usize, 2, 11] {
            let p = h.data.pool[i].clone();
            let mut seq = h.vocab.encode(&p.prompt);
            let prompt_len = seq.len();
            let reference = h.vocab.encode(&p.completion);
            seq.extend(&reference);
            seq.push(h.vocab.eos());
            pairs.push((seq, prompt_len, reference.len() + 1));
        }
        let seqs: Vec<(Vec<u32>, usize)> = pairs.iter().map(|(s, p, _)| (s.clone(), *p)).collect();
        let batch = Batch::from_pairs(&seqs, c.model.n_positions);
        for (row, (seq, prompt_len, completion)) in pairs.iter().enumerate() {
            let mask = &batch.mask[row * batch.t..(row + 1) * batch.t];
            // Position j predicts token j + 1: masked exactly where that is a completion token.
            for (j, &on) in mask.iter().enumerate() {
                assert_eq!(
                    on,
                    j + 1 >= *prompt_len && j + 1 < seq.len(),
                    "row {row} pos {j}"
                );
            }
            assert_eq!(mask.iter().filter(|&&x| x).count(), *completion);
        }
        let loss = block_on(h.policy.nll_backward(&batch, 0.5, 0)).unwrap();
        block_on(h.policy.step(0)).unwrap();
        assert_eq!(loss, m.loss);
        assert_eq!(block_on(h.snapshot()).unwrap().params, got);
        assert_ne!(got, start.params, "the step moved the model");
    }

    /// With less than a batch buffered nothing happens; the buffer is kept.
    #[test]
    fn no_sft_step_before_the_buffer_is_full() {
        let mut t = Trainer::new(tiny(), Box::new(CpuKernels::new)).unwrap();
        t.relift.buffer = vec![5, 2];
        let before = block_on(t.snapshot()).unwrap();
        assert!(block_on(t.relift_sft_step()).unwrap().is_none());
        assert_eq!(block_on(t.snapshot()).unwrap(), before);
    }
}
