//! The value head: a second small GPT over the policy's vocabulary that reads a trace prefix
//! followed by a query token (the end token) and predicts the value token `1` or `0`. It
//! starts from the SFT policy's weights ([`ValueHead::load`], `value.init_from_policy`) or
//! from a fresh initialisation of its own sizes.
//!
//! Its estimate of a prefix is the two value tokens' softmax restricted to them,
//!
//! ```text
//! v̂(x) = p(1 | x, q) / (p(1 | x, q) + p(0 | x, q)) = σ(z₁ − z₀)
//! ```
//! and it is trained on inferred values `v ∈ [0, 1]` ([`crate::rest_mcts::targets`]) by the
//! soft-target cross-entropy over the two value tokens,
//!
//! ```text
//! L = −(1/B) Σ_b [ v_b · log p(1 | x_b, q) + (1 − v_b) · log p(0 | x_b, q) ]
//! ```
//! (full-vocabulary log-probs: the loss also moves mass off the other tokens, which leaves
//! `v̂` as defined). Each prefix is laid out twice in the batch, once with target `1` and
//! weight `v`, once with target `0` and weight `1 − v`; the per-token weights `∂L/∂logp`
//! start the model's backward.

use super::config::RestMctsConfig;
use crate::optim::OptimConfig;
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;
use spar_model::{Gpt, GptConfig, Kernels};

/// Sequences per value forward at most (inference chunks).
const VALUE_CHUNK: usize = 64;

/// The value model and what it needs to read and train.
pub struct ValueHead<K: Kernels> {
    model: Gpt<K>,
    query: u32,
    one: u32,
    zero: u32,
    n_positions: usize,
    batch_size: usize,
    optim: OptimConfig,
    steps_taken: u32,
}

/// The one id of a one-character token, or a config error naming `what`.
fn single_id(vocab: &CharVocab, text: &str, what: &str) -> Result<u32, TrainError> {
    match vocab.encode(text).as_slice() {
        [id] => Ok(*id),
        _ => Err(TrainError::Config(alloc::format!(
            "the vocabulary has no single token for {what} `{text}`"
        ))),
    }
}

impl<K: Kernels> ValueHead<K> {
    /// A freshly initialised value model over `vocab`, as long as the policy's context, of
    /// the policy's sizes with `value.init_from_policy` (to be [`ValueHead::load`]ed), else
    /// of `config.value`'s.
    pub fn new(kernels: K, config: &RestMctsConfig, vocab: &CharVocab) -> Result<Self, TrainError> {
        let v = &config.value;
        let n_positions = config.train.model.n_positions;
        let gpt = if v.init_from_policy {
            config.train.model.gpt_config(vocab.vocab_size())
        } else {
            GptConfig::new(
                vocab.vocab_size(),
                n_positions,
                v.n_embd,
                v.n_layer,
                v.n_head,
            )
        };
        let rows = (2 * v.batch_size).max(VALUE_CHUNK);
        let mut model = Gpt::new(kernels, gpt, rows, n_positions)?;
        model.init_params(config.train.seed ^ 0x7661_6c75);
        let optim = OptimConfig {
            learning_rate: v.learning_rate,
            weight_decay: 0.0,
            ..OptimConfig::default()
        };
        Ok(Self {
            model,
            query: vocab.eos(),
            one: single_id(vocab, "1", "the value token")?,
            zero: single_id(vocab, "0", "the value token")?,
            n_positions,
            batch_size: v.batch_size,
            optim,
            steps_taken: 0,
        })
    }

    /// Replaces the weights (a policy's, of the same sizes).
    pub fn load(&mut self, params: &[f32]) -> Result<(), TrainError> {
        self.model.write_params(params)?;
        Ok(())
    }

    /// Optimiser steps taken so far.
    pub fn steps_taken(&self) -> u32 {
        self.steps_taken
    }

    /// `seq` (prompt and steps) with the query token, cut to the context from the left.
    fn with_query(&self, seq: &[u32]) -> Vec<u32> {
        let keep = seq.len().min(self.n_positions - 1);
        let mut s = seq[seq.len() - keep..].to_vec();
        s.push(self.query);
        s
    }

    /// `v̂` of every sequence (module docs).
    pub async fn estimate(&mut self, seqs: &[Vec<u32>]) -> Result<Vec<f64>, TrainError> {
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(VALUE_CHUNK) {
            let rows: Vec<Vec<u32>> = chunk.iter().map(|s| self.with_query(s)).collect();
            let t = rows.iter().map(Vec::len).max().unwrap_or(1);
            let b = rows.len();
            let mut tokens = vec![0u32; b * t];
            let mut mask = vec![false; b * t];
            for (i, r) in rows.iter().enumerate() {
                tokens[i * t..][..r.len()].copy_from_slice(r);
                mask[i * t + r.len() - 1] = true;
            }
            let targets = vec![0u32; b * t];
            let logits = self
                .model
                .masked_logits(&tokens, &targets, &mask, b)
                .await?;
            let v = logits.len() / b;
            for row in logits.chunks_exact(v) {
                let d = (row[self.one as usize] - row[self.zero as usize]) as f64;
                out.push(1.0 / (1.0 + libm::exp(-d)));
            }
        }
        Ok(out)
    }

    /// `steps` optimiser steps of the soft-target cross-entropy on `data` (`(sequence,
    /// target value)`, prefixes drawn with replacement from `rng`); returns the mean loss of
    /// the last batch (0 when `data` is empty, and then no step is taken).
    pub async fn train(
        &mut self,
        data: &[(Vec<u32>, f64)],
        steps: u32,
        rng: &mut dyn RngCore,
    ) -> Result<f64, TrainError> {
        let mut last = 0.0;
        if data.is_empty() {
            return Ok(last);
        }
        let adamw = self.optim.adamw();
        for _ in 0..steps {
            let picks: Vec<&(Vec<u32>, f64)> = (0..self.batch_size)
                .map(|_| &data[(rng.next_u64() % data.len() as u64) as usize])
                .collect();
            let rows: Vec<Vec<u32>> = picks.iter().map(|(s, _)| self.with_query(s)).collect();
            let t = rows.iter().map(Vec::len).max().unwrap_or(1);
            let b = 2 * rows.len();
            let mut tokens = vec![0u32; b * t];
            let mut targets = vec![0u32; b * t];
            let mut mask = vec![false; b * t];
            let mut weights = vec![0.0f32; b * t];
            let scale = 1.0 / rows.len() as f64;
            for (i, (r, (_, v))) in rows.iter().zip(&picks).enumerate() {
                let v = v.clamp(0.0, 1.0);
                for (row, target, w) in [(2 * i, self.one, v), (2 * i + 1, self.zero, 1.0 - v)] {
                    tokens[row * t..][..r.len()].copy_from_slice(r);
                    let at = row * t + r.len() - 1;
                    targets[at] = target;
                    mask[at] = true;
                    weights[at] = (-w * scale) as f32;
                }
            }
            let mut lp = vec![0.0f32; b * t];
            self.model
                .logprobs(&tokens, &targets, Some(&mask), b, &mut lp, None)
                .await?;
            let loss: f64 = lp
                .iter()
                .zip(&weights)
                .map(|(&l, &w)| w as f64 * l as f64)
                .sum();
            if !loss.is_finite() {
                self.model.zero_grad();
                return Err(TrainError::NonFinite {
                    step: self.steps_taken,
                    what: "value loss",
                });
            }
            self.model.backward(&weights, None)?;
            self.model
                .checked_step(&adamw, self.optim.learning_rate)
                .await?;
            self.steps_taken += 1;
            last = loss;
        }
        Ok(last)
    }
}
