//! The one plain-data type for a sequence on its way to the loss, and the padded batch the
//! model reads.
//!
//! A [`Rollout`] is what every loop produces (a GRPO completion, a game decision, a proposal,
//! a preference response): tokens, where the prompt ends, the sampler's log-probs, the reward
//! and which group and role it belongs to. It is serialisable, so that rollouts can come from
//! another process or machine without touching the learner. [`Batch`] pads rollouts into the
//! `B × T` inputs, targets and completion mask of one forward.
//!
//! ```
//! use spar_train::rollout::{Batch, Rollout};
//! let r = Rollout::new(vec![5, 6, 7, 8], 2);
//! let b = Batch::from_rollouts([&r], 16);
//! assert_eq!((b.b, b.t), (1, 3));
//! assert_eq!(b.tokens, [5, 6, 7]);
//! assert_eq!(b.targets, [6, 7, 8]);
//! assert_eq!(b.mask, [false, true, true]); // the completion's two tokens
//! ```

use crate::TrainError;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_model::{Gpt, Kernels};

/// One sampled sequence on its way to the loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    /// Prompt then completion ids.
    pub tokens: Vec<u32>,
    /// Ids of the prompt (the completion starts here).
    pub prompt_len: usize,
    /// The sampler's log-prob of each completion token (empty when the loop keeps none).
    pub old_logprobs: Vec<f32>,
    /// The reward.
    pub reward: f64,
    /// The group it is compared within (a prompt's completions, a game).
    pub group: usize,
    /// The role that produced it (a seat, proposer/solver; 0 with one role).
    pub role: usize,
}

impl Rollout {
    /// A rollout of `tokens` whose first `prompt_len` ids are the prompt (reward 0, group 0,
    /// role 0, no sampler log-probs).
    pub fn new(tokens: Vec<u32>, prompt_len: usize) -> Self {
        Self {
            tokens,
            prompt_len,
            old_logprobs: Vec::new(),
            reward: 0.0,
            group: 0,
            role: 0,
        }
    }

    /// The completion's length in ids.
    pub fn completion_len(&self) -> usize {
        self.tokens.len().saturating_sub(self.prompt_len)
    }
}

/// A padded batch: `tokens`, `targets`, `mask` are `B × T` row-major; `mask` marks the
/// positions whose target is a completion token.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Sequences.
    pub b: usize,
    /// Positions per sequence.
    pub t: usize,
    /// Input ids.
    pub tokens: Vec<u32>,
    /// Next-token targets.
    pub targets: Vec<u32>,
    /// Completion positions.
    pub mask: Vec<bool>,
}

impl Batch {
    /// Pads `(sequence, prompt_len)` pairs to the longest (at most `max_t` positions).
    pub fn pad(seqs: &[(&[u32], usize)], max_t: usize) -> Self {
        let t = seqs
            .iter()
            .map(|(s, _)| s.len().saturating_sub(1))
            .max()
            .unwrap_or(1)
            .clamp(1, max_t);
        let b = seqs.len();
        let mut tokens = vec![0u32; b * t];
        let mut targets = vec![0u32; b * t];
        let mut mask = vec![false; b * t];
        for (i, &(s, prompt_len)) in seqs.iter().enumerate() {
            let n = s.len().saturating_sub(1).min(t);
            tokens[i * t..][..n].copy_from_slice(&s[..n]);
            targets[i * t..][..n].copy_from_slice(&s[1..=n]);
            for j in prompt_len.saturating_sub(1)..n {
                mask[i * t + j] = true;
            }
        }
        Batch {
            b,
            t,
            tokens,
            targets,
            mask,
        }
    }

    /// Pads rollouts (see [`Batch::pad`]).
    pub fn from_rollouts<'a>(
        rollouts: impl IntoIterator<Item = &'a Rollout>,
        max_t: usize,
    ) -> Self {
        let refs: Vec<(&[u32], usize)> = rollouts
            .into_iter()
            .map(|r| (r.tokens.as_slice(), r.prompt_len))
            .collect();
        Self::pad(&refs, max_t)
    }

    /// Pads owned `(sequence, prompt_len)` pairs (see [`Batch::pad`]).
    pub fn from_pairs(seqs: &[(Vec<u32>, usize)], max_t: usize) -> Self {
        let refs: Vec<(&[u32], usize)> = seqs.iter().map(|(s, p)| (s.as_slice(), *p)).collect();
        Self::pad(&refs, max_t)
    }

    /// Completion positions in the batch (at least 1, for means).
    pub fn num_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count().max(1)
    }

    /// The rollouts' sampler log-probs laid out `B × T` (0 where none), and the largest
    /// `|old − logprobs|` over them.
    pub fn old_logprobs(&self, rollouts: &[&Rollout], logprobs: &[f64]) -> (Vec<f64>, f64) {
        let mut old = vec![0.0f64; self.b * self.t];
        let mut max_gap = 0.0f64;
        for (i, r) in rollouts.iter().enumerate() {
            for (k, &o) in r.old_logprobs.iter().enumerate() {
                let j = r.prompt_len - 1 + k;
                if j < self.t {
                    old[i * self.t + j] = o as f64;
                    max_gap = max_gap.max((o as f64 - logprobs[i * self.t + j]).abs());
                }
            }
        }
        (old, max_gap)
    }

    /// The mean over completion positions of `per_slot` (`B × T`).
    pub fn masked_mean(&self, per_slot: &[f32]) -> f64 {
        self.mask
            .iter()
            .zip(per_slot)
            .filter(|(m, _)| **m)
            .map(|(_, &e)| e as f64)
            .sum::<f64>()
            / self.num_tokens() as f64
    }

    /// Per-slot log-probs of the targets under `model` (and entropies when `entropy`, zeros
    /// otherwise), both `B × T`. A policy's forward goes through
    /// [`Policy::logprobs`](crate::policy::Policy::logprobs), which also refuses non-finite
    /// values; this is the bare forward (a reference model's).
    pub async fn logprobs<K: Kernels>(
        &self,
        model: &mut Gpt<K>,
        entropy: bool,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let n = self.b * self.t;
        let (mut lp, mut ent) = (vec![0.0f32; n], vec![0.0f32; n]);
        model
            .logprobs(
                &self.tokens,
                &self.targets,
                Some(&self.mask),
                self.b,
                &mut lp,
                entropy.then_some(ent.as_mut_slice()),
            )
            .await?;
        Ok((lp, ent))
    }
}
