//! DITTO on real text (Xu et al. 2022, "Learning to Break the Loop: Analyzing and Mitigating
//! Repetitions for Neural Text Generation"; the released code is Jxu-Thu/DITTO).
//!
//! A small byte-level BPE language model is trained by maximum likelihood on a text corpus
//! (stage 1, the *start*) until its greedy continuations loop. Two arms then continue from
//! that same start for the same number of steps:
//!
//! - **MLE**: plain next-token training on the corpus (the baseline);
//! - **DITTO**: each step is, with probability `sequence_level_train_rate`, a step on
//!   *pseudo-repetitive* sequences and otherwise the same MLE step as the baseline's.
//!
//! A pseudo-repetitive sequence takes a window of training text, picks a sentence in it (a
//! sentence ends with a token whose text ends in `.`), and writes the sentence before it (the
//! prefix) followed by the sentence repeated until the context is full ([`data`]). On it,
//! every token of the second and later copies is pushed toward `λ` times the probability the
//! same token had one copy earlier (spar-losses' [`ditto_loss`](spar_losses::ditto)):
//!
//! ```text
//! p_t = P(x_t | x_<t),  p*_t = sg(p_{t−L})
//! nl:  l_t = −log(1 − |p_t − λ p*_t|)          L_DITTO = mean over penalised t of l_t
//! ```
//!
//! The repetition of greedy continuations of held-out prefixes is measured by seq-rep-n
//! ([`metrics::seq_rep_n`]), and held-out perplexity checks that the model still models the
//! text ([`metrics`]).
//!
//! Settings from the paper or its code are tagged: `sequence_level_train_rate = 0.5`
//! (\[CODE\] `runs/DITTO.sh`, `--sequence-level-train-rate 0.5`: each *step* is either a DITTO
//! step or an MLE step, not a mix within a batch), `rep_reduce_gamma = 0.5` (\[CODE\] the same
//! script; the paper's default λ), `loss_type = "nl"` (\[CODE\] default of `--loss-type`), a
//! fresh optimiser for the fine-tuning stage (\[CODE\] `--reset-optimizer`). The model size,
//! steps and learning rates are this toy's own.
//!
//! ```
//! use spar_model::{block_on, CpuKernels};
//! use spar_train::ditto_text::{Arm, DittoText, DittoTextConfig};
//!
//! let text = "The cat sat. The dog ran far away. A bird sang a song. The sun rose. \
//!             It was warm. We went out. The end came soon. ".repeat(40);
//! let cfg = DittoTextConfig::tiny();
//! let mut run = DittoText::new(cfg, &text, CpuKernels::new())?;
//! block_on(run.start_step())?;
//! let start = block_on(run.snapshot())?;
//! run.begin_arm(Arm::Ditto, &start)?;
//! let m = block_on(run.arm_step())?;
//! assert!(m.loss.is_finite());
//! let e = block_on(run.evaluate())?;
//! assert!((0.0..=1.0).contains(&e.seq_rep_4) && e.perplexity > 1.0);
//! # Ok::<(), spar_train::TrainError>(())
//! ```

pub mod data;
pub mod metrics;
mod run;
#[cfg(feature = "std")]
pub mod save;

pub use run::{Arm, DittoText, EvalMetrics, StepMetrics, TextSnapshot};

use crate::optim::{OptimConfig, SchedulerType};
use crate::TrainError;
use alloc::format;
use alloc::string::{String, ToString};
use serde::{Deserialize, Serialize};
use spar_losses::ditto::{DittoConfig, DittoVariant};

/// DITTO's loss variant (`--loss-type` in the DITTO code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DittoLossType {
    /// `−log(1 − |p − λp*|)` (\[CODE\] default).
    #[default]
    Nl,
    /// `−log(1 − max(p − λp*, 0))`.
    NlClip,
    /// `3 (p − λp*)²`.
    Mse,
}

/// The GPT's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextModel {
    /// Transformer blocks.
    pub n_layer: usize,
    /// Width.
    pub n_embd: usize,
    /// Attention heads (divides `n_embd`).
    pub n_head: usize,
    /// Context length: training windows, pseudo-repetitive sequences and prompt plus
    /// continuation all fit in it.
    pub n_positions: usize,
}

impl Default for TextModel {
    fn default() -> Self {
        Self {
            n_layer: 2,
            n_embd: 128,
            n_head: 4,
            n_positions: 64,
        }
    }
}

/// A DITTO-on-text run (`configs/ditto_text.toml`); every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DittoTextConfig {
    /// Where the command writes metrics, checkpoints and plots.
    pub output_dir: String,
    /// Seed of the initialisation and of every random stream.
    pub seed: u64,
    /// The text file the command reads; empty (the default): the corpus bundled in the
    /// binary (spar-bpe's `corpus::RUST_DOCS`, the Rust and Cargo books). The library takes
    /// the text itself.
    pub corpus_file: String,
    /// Use only the first this many bytes of the text (0: all of it), cut at a character
    /// boundary.
    pub corpus_bytes: usize,
    /// Share of the token stream at its end held out for perplexity and prompts.
    pub heldout_fraction: f64,
    /// BPE vocabulary size (the end token, 256 bytes, then merges learned on the training
    /// part of the text).
    pub vocab_size: usize,
    /// The GPT.
    pub model: TextModel,
    /// Sequences per step (both stages, both arms).
    pub batch_size: usize,
    /// Stage 1: MLE steps from a fresh model to the start.
    pub start_steps: u32,
    /// Stage 1's optimiser.
    pub start_optim: OptimConfig,
    /// Stage 2: steps of each arm from the start.
    pub steps: u32,
    /// Stage 2's optimiser (fresh moments at the start of each arm).
    pub optim: OptimConfig,
    /// Probability that a DITTO-arm step is a pseudo-repetition step (else MLE). 0.5 \[CODE\].
    pub sequence_level_train_rate: f64,
    /// λ: the target share of the earlier copy's probability. 0.5 \[CODE\].
    pub rep_reduce_gamma: f64,
    /// DITTO's loss variant. `nl` \[CODE\].
    pub loss_type: DittoLossType,
    /// Held-out prompts continued greedily for seq-rep-n.
    pub eval_prompts: usize,
    /// Tokens per prompt.
    pub prompt_len: usize,
    /// Greedy tokens per continuation (`prompt_len + continuation_len ≤ n_positions`).
    pub continuation_len: usize,
    /// Held-out windows of `n_positions + 1` tokens for perplexity.
    pub perplexity_windows: usize,
    /// Evaluate every this many stage-2 steps (and at the start and the end).
    pub eval_every: u32,
}

impl Default for DittoTextConfig {
    fn default() -> Self {
        Self {
            output_dir: "runs/ditto_text".to_string(),
            seed: 0,
            corpus_file: String::new(),
            corpus_bytes: 0,
            heldout_fraction: 0.05,
            vocab_size: 512,
            model: TextModel::default(),
            batch_size: 16,
            start_steps: 1500,
            start_optim: OptimConfig {
                learning_rate: 3e-3,
                lr_scheduler_type: SchedulerType::Cosine,
                warmup_steps: 50,
                ..OptimConfig::default()
            },
            steps: 300,
            optim: OptimConfig {
                learning_rate: 2e-4,
                lr_scheduler_type: SchedulerType::Linear,
                ..OptimConfig::default()
            },
            sequence_level_train_rate: 0.5,
            rep_reduce_gamma: 0.5,
            loss_type: DittoLossType::Nl,
            eval_prompts: 128,
            prompt_len: 16,
            continuation_len: 48,
            perplexity_windows: 128,
            eval_every: 25,
        }
    }
}

impl DittoTextConfig {
    /// A tiny run for tests and examples: a 1 × 16 model, vocabulary 280, context 24, a few
    /// steps.
    pub fn tiny() -> Self {
        Self {
            vocab_size: 280,
            model: TextModel {
                n_layer: 1,
                n_embd: 16,
                n_head: 2,
                n_positions: 24,
            },
            batch_size: 4,
            start_steps: 4,
            steps: 4,
            heldout_fraction: 0.2,
            eval_prompts: 3,
            prompt_len: 8,
            continuation_len: 16,
            perplexity_windows: 3,
            eval_every: 2,
            ..Self::default()
        }
    }

    /// DITTO's settings for spar-losses.
    pub fn ditto(&self) -> DittoConfig {
        DittoConfig {
            rep_reduce_gamma: self.rep_reduce_gamma,
            variant: match self.loss_type {
                DittoLossType::Nl => DittoVariant::Nl,
                DittoLossType::NlClip => DittoVariant::NlClip,
                DittoLossType::Mse => DittoVariant::Mse,
            },
        }
    }

    /// Checks every field; the error names the field and the rule.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |field: &str, rule: &str| Err(TrainError::Config(format!("`{field}` {rule}")));
        let m = &self.model;
        if m.n_layer == 0 || m.n_embd == 0 || m.n_head == 0 || m.n_embd % m.n_head != 0 {
            return bad(
                "model",
                "needs n_layer, n_embd, n_head ≥ 1 with n_head dividing n_embd",
            );
        }
        if m.n_positions < 8 {
            return bad("model.n_positions", "must be at least 8");
        }
        if self.vocab_size < 257 + 1 {
            return bad(
                "vocab_size",
                "must exceed 257 (the end token and 256 bytes)",
            );
        }
        if !(self.heldout_fraction > 0.0 && self.heldout_fraction < 0.5) {
            return bad("heldout_fraction", "must be in (0, 0.5)");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.steps == 0 {
            return bad("steps", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.sequence_level_train_rate) {
            return bad("sequence_level_train_rate", "must be in [0, 1]");
        }
        if !(self.rep_reduce_gamma >= 0.0 && self.rep_reduce_gamma.is_finite()) {
            return bad("rep_reduce_gamma", "must be finite and ≥ 0");
        }
        if self.eval_prompts == 0 || self.perplexity_windows == 0 {
            return bad("eval_prompts, perplexity_windows", "must be at least 1");
        }
        if self.prompt_len == 0 || self.continuation_len < 4 {
            return bad(
                "prompt_len, continuation_len",
                "need a prompt of ≥ 1 token and a continuation of ≥ 4 (seq-rep-4)",
            );
        }
        if self.prompt_len + self.continuation_len > m.n_positions {
            return bad(
                "prompt_len + continuation_len",
                "must fit in model.n_positions",
            );
        }
        if self.eval_every == 0 {
            return bad("eval_every", "must be at least 1");
        }
        for (field, o) in [("start_optim", &self.start_optim), ("optim", &self.optim)] {
            if !(o.learning_rate > 0.0 && o.learning_rate.is_finite()) {
                return bad(field, "needs a finite learning_rate > 0");
            }
        }
        Ok(())
    }

    /// Reads and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_tiny_validate_and_bad_fields_are_named() {
        DittoTextConfig::default().validate().unwrap();
        DittoTextConfig::tiny().validate().unwrap();
        let mut c = DittoTextConfig::tiny();
        c.continuation_len = 20;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("n_positions"), "{e}");
        let mut c = DittoTextConfig::tiny();
        c.sequence_level_train_rate = 1.5;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("sequence_level_train_rate"), "{e}");
        let mut c = DittoTextConfig::tiny();
        c.vocab_size = 200;
        assert!(c.validate().is_err());
    }

    #[cfg(feature = "std")]
    #[test]
    fn toml_reads_the_fields_and_refuses_unknown_keys() {
        let c = DittoTextConfig::from_toml(
            "steps = 7\nloss_type = \"nl_clip\"\n[model]\nn_embd = 32\n",
        )
        .unwrap();
        assert_eq!(c.steps, 7);
        assert_eq!(c.loss_type, DittoLossType::NlClip);
        assert_eq!(c.model.n_embd, 32);
        assert_eq!(c.ditto().variant, DittoVariant::NlClip);
        assert!(DittoTextConfig::from_toml("stepz = 7").is_err());
    }
}
