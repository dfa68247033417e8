//! Expert iteration, ReST-EM style (Singh et al. 2023, "Beyond Human Data: Scaling
//! Self-Training for Problem-Solving with Language Models"): self-training on the model's own
//! verified solutions.
//!
//! After SFT on the labelled problems (the *base*), each iteration
//!
//! 1. **E-step**: draws `prompts_per_iteration` unlabelled problems, samples
//!    `samples_per_prompt` (K) completions of each from the current model, and keeps the ones
//!    the task's verifier accepts, at most `max_per_prompt` distinct ones per problem (ReST-EM's
//!    cap against easy problems dominating the data);
//! 2. **M-step**: fine-tunes for `sft_steps` steps on those solutions (and, with
//!    `include_labelled`, the labelled SFT examples), by next-token NLL on the completion
//!    tokens; with `restart_from_base` (ReST-EM's rule) from the base model every iteration,
//!    else from the current one (plain expert iteration). Each M-step is a stage of the
//!    optimiser (a fresh AdamW unless its `optimizer_state` is `carry`).
//!
//! ```text
//! D_i = { (x, y) : x ∈ prompts_i, y ~ π_{i−1}(·|x), verify(x, y) = 1 }   (≤ cap per x)
//! π_i = argmin_θ  E_{(x,y) ∈ D_i ∪ D_sft} [ −log π_θ(y|x) ]            (θ from the base)
//! ```
//! The verifier (labels of RLVR) is the only supervision after SFT. The loop is
//! deterministic from the seed and resumes bit for bit at iteration boundaries
//! ([`ExpertIteration::snapshot`]).

use crate::config::TrainConfig;
use crate::optim::{OptimConfig, OptimOverride};
use crate::rollout::Batch;
use crate::selfplay::LoopSnapshot;
use crate::trainer::Trainer;
use crate::{EvalReport, TrainError};
use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_model::{Kernels, SampleConfig};

/// Stream of the loop's draws (prompts, batches), apart from the trainer's.
const EI_STREAM: u64 = 0x7265_7374;
/// Key of the E-steps' samples, apart from the trainer's and the evaluation's.
const EI_SAMPLE_KEY: u32 = 0xA000_0000;

/// An expert-iteration run (`configs/expert_iteration.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpertIterationConfig {
    /// The model, the task with its labelled split, the SFT stage and the evaluation (its
    /// `grpo` section is not used).
    pub train: TrainConfig,
    /// Iterations of E- and M-steps.
    pub iterations: u32,
    /// Unlabelled problems drawn per E-step.
    pub prompts_per_iteration: usize,
    /// K: completions sampled per problem.
    pub samples_per_prompt: usize,
    /// Most verified completions kept per problem (distinct texts).
    pub max_per_prompt: usize,
    /// Sampling temperature of the E-step.
    pub temperature: f32,
    /// Nucleus mass of the E-step.
    pub top_p: f32,
    /// New tokens per completion at most (the end token included).
    pub max_completion_length: usize,
    /// Optimiser steps per M-step.
    pub sft_steps: u32,
    /// Sequences per M-step batch.
    pub batch_size: usize,
    /// The M-step's overrides of `train.optim` (default: learning rate 1e-3, constant).
    pub optim: OptimOverride,
    /// Fine-tune from the base (the SFT model) every iteration (ReST-EM), else from the
    /// current model.
    pub restart_from_base: bool,
    /// Keep the labelled SFT examples in every M-step's data.
    pub include_labelled: bool,
}

impl Default for ExpertIterationConfig {
    fn default() -> Self {
        Self {
            train: TrainConfig {
                output_dir: "runs/expert_iteration".into(),
                ..TrainConfig::default()
            },
            iterations: 3,
            prompts_per_iteration: 1000,
            samples_per_prompt: 4,
            max_per_prompt: 1,
            temperature: 1.0,
            top_p: 1.0,
            max_completion_length: 5,
            sft_steps: 300,
            batch_size: 64,
            optim: OptimOverride {
                learning_rate: Some(1e-3),
                lr_scheduler_type: Some(crate::optim::SchedulerType::Constant),
                ..OptimOverride::default()
            },
            restart_from_base: true,
            include_labelled: true,
        }
    }
}

impl ExpertIterationConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        self.train.validate()?;
        if self.prompts_per_iteration == 0 {
            return bad("prompts_per_iteration", "must be at least 1");
        }
        if !(1..=64).contains(&self.samples_per_prompt) {
            return bad("samples_per_prompt", "must be in [1, 64]");
        }
        if self.max_per_prompt == 0 {
            return bad("max_per_prompt", "must be at least 1");
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad("top_p", "must be in (0, 1]");
        }
        if self.max_completion_length == 0 {
            return bad("max_completion_length", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        self.m_step_optim().validate("optim")?;
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The M-step's resolved optimiser options.
    pub fn m_step_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.optim)
    }

    /// The trainer config: the `train` section with batches large enough for the E-step's
    /// generation and the M-step, and no RL steps.
    fn trainer_config(&self) -> TrainConfig {
        let rows = 2 * self
            .batch_size
            .max(self.train.sft.per_device_train_batch_size);
        crate::selfplay::sft_stage_config(&self.train, rows, self.max_completion_length)
    }
}

/// What one iteration did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IterationMetrics {
    /// The iteration (1-based; 0 is the SFT start).
    pub iteration: u32,
    /// Share of the E-step's samples the verifier accepts (sampled pass@1 on training prompts).
    pub sample_accuracy: f64,
    /// Share of the E-step's problems with at least one verified sample.
    pub coverage: f64,
    /// Verified solutions kept for the M-step.
    pub kept: usize,
    /// Mean NLL of the M-step's last batch.
    pub final_nll: f64,
    /// Held-out evaluation after the M-step.
    pub eval: EvalReport,
}

/// The loop's own state besides its tensors (a checkpoint's `state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertIterationState {
    /// Iterations done.
    pub iteration: u32,
    /// Position of the loop's random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The trainer's state.
    pub trainer: crate::TrainState,
}

/// The expert-iteration loop over a backend `K`.
pub struct ExpertIteration<K: Kernels> {
    config: ExpertIterationConfig,
    trainer: Trainer<K>,
    base: Vec<f32>,
    rng: ChaCha8Rng,
    iteration: u32,
    sft_done: bool,
}

impl<K: Kernels> ExpertIteration<K> {
    /// Builds the trainer (vocabulary, problems, a freshly initialised model).
    pub fn new(
        config: ExpertIterationConfig,
        make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let trainer = Trainer::new(config.trainer_config(), make_kernels)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
        rng.set_stream(EI_STREAM);
        Ok(Self {
            config,
            trainer,
            base: Vec::new(),
            rng,
            iteration: 0,
            sft_done: false,
        })
    }

    /// The config.
    pub fn config(&self) -> &ExpertIterationConfig {
        &self.config
    }
    /// The trainer (its model is the current one).
    pub fn trainer(&mut self) -> &mut Trainer<K> {
        &mut self.trainer
    }
    /// Iterations done.
    pub fn iteration(&self) -> u32 {
        self.iteration
    }

    /// Runs the SFT stage and keeps its model as the base; returns the held-out evaluation
    /// of the base.
    pub async fn run_sft(&mut self) -> Result<EvalReport, TrainError> {
        while self.trainer.step() < self.config.train.sft.max_steps {
            self.trainer.train_step().await?;
        }
        self.base = self.trainer.snapshot().await?.params;
        self.sft_done = true;
        self.trainer.evaluate().await
    }

    /// The E-step: problems drawn, K samples each from the current model, the verified ones
    /// kept (at most `max_per_prompt` distinct per problem) as `(sequence, prompt length)`;
    /// with the share of verified samples and of problems with one.
    #[allow(clippy::type_complexity)]
    pub async fn collect(&mut self) -> Result<(Vec<(Vec<u32>, usize)>, f64, f64), TrainError> {
        let crate::selfplay::DrawnPrompts {
            problems, prompts, ..
        } = crate::selfplay::draw_unlabelled_prompts(
            &self.trainer,
            self.config.prompts_per_iteration,
            &mut self.rng,
        )?;
        let vocab = self.trainer.vocab().clone();
        let k = self.config.samples_per_prompt;
        let cfg = SampleConfig {
            max_new_tokens: self.config.max_completion_length,
            temperature: self.config.temperature,
            top_k: 0,
            top_p: self.config.top_p,
            stop_tokens: vec![vocab.eos()],
            seed: self.config.train.seed,
        };
        let key = EI_SAMPLE_KEY.wrapping_add(self.iteration.wrapping_mul(0x1_0000));
        let samples =
            crate::eval::complete(self.trainer.model(), &vocab, &prompts, k, &cfg, key).await?;
        let (mut right, mut covered) = (0usize, 0usize);
        let mut kept = Vec::new();
        for (u, chunk) in samples.chunks_exact(k).enumerate() {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut any = false;
            for (text, tokens, stopped) in chunk {
                if !*stopped || self.trainer.task().verify(&problems[u], text) < 1.0 {
                    continue;
                }
                right += 1;
                any = true;
                if seen.len() < self.config.max_per_prompt && seen.insert(text.as_str()) {
                    let mut s = prompts[u].clone();
                    s.extend_from_slice(tokens);
                    s.push(vocab.eos());
                    kept.push((s, prompts[u].len()));
                }
            }
            covered += usize::from(any);
        }
        let n = problems.len().max(1) as f64;
        Ok((kept, right as f64 / (n * k as f64), covered as f64 / n))
    }

    /// One iteration: the E-step, then the M-step (from the base with `restart_from_base`)
    /// on the kept solutions (and the labelled examples with `include_labelled`), then the
    /// held-out evaluation. Runs the SFT stage first if it has not run.
    pub async fn iterate(&mut self) -> Result<IterationMetrics, TrainError> {
        if !self.sft_done {
            self.run_sft().await?;
        }
        if self.iteration >= self.config.iterations {
            return Err(TrainError::Config("every iteration is done".into()));
        }
        let (mut data, sample_accuracy, coverage) = self.collect().await?;
        let kept = data.len();
        if self.config.include_labelled {
            data.extend(labelled_examples(&self.trainer));
        }
        if self.config.restart_from_base {
            self.trainer.load_params(&self.base)?;
        }
        let final_nll = sft_m_step(
            self.trainer.policy(),
            &data,
            self.config.m_step_optim(),
            self.config.sft_steps,
            self.config.batch_size,
            self.config.train.model.n_positions,
            &mut self.rng,
        )
        .await?;
        self.iteration += 1;
        let eval = self.trainer.evaluate().await?;
        Ok(IterationMetrics {
            iteration: self.iteration,
            sample_accuracy,
            coverage,
            kept,
            final_nll,
            eval,
        })
    }

    /// The state at an iteration boundary: the current model and its optimiser, the base
    /// (tensor `base`), the iteration, the loop's random stream and the trainer's state.
    /// Refuses before the SFT stage has run.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<ExpertIterationState>, TrainError> {
        if !self.sft_done {
            return Err(TrainError::Config(
                "an expert-iteration run is checkpointed after its SFT stage".into(),
            ));
        }
        let t = self.trainer.snapshot().await?;
        let (iteration, rng_word_pos) = (self.iteration, crate::selfplay::rng_position(&self.rng));
        Ok(crate::selfplay::trainer_loop_snapshot(
            t,
            vec![("base".into(), self.base.clone())],
            |trainer| ExpertIterationState {
                iteration,
                rng_word_pos,
                trainer,
            },
        ))
    }

    /// Restores an [`ExpertIteration::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<ExpertIterationState>) -> Result<(), TrainError> {
        let base = crate::selfplay::snapshot_tensor(snap, "base")?.to_vec();
        self.trainer
            .restore(&crate::selfplay::trainer_part(snap, &snap.state.trainer))?;
        self.trainer
            .policy()
            .set_stage_options(self.config.m_step_optim(), self.config.sft_steps);
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.base = base;
        self.iteration = snap.state.iteration;
        self.sft_done = true;
        Ok(())
    }
}

/// The labelled SFT examples of `trainer`'s problems: prompt, reference completion, end token,
/// as `(sequence, prompt length)`.
pub fn labelled_examples<K: Kernels>(trainer: &Trainer<K>) -> Vec<(Vec<u32>, usize)> {
    let data = trainer.data();
    (0..data.num_labelled)
        .map(|i| {
            trainer
                .vocab()
                .encode_example(&data.pool[i].prompt, data.sft_completion(i))
        })
        .collect()
}

/// The M-step: a stage of `steps` optimiser steps with options `optim` on `data`
/// (`(sequence, prompt length)` pairs, sampled with replacement, `batch_size` per step, from
/// `rng`) by next-token NLL on the completion tokens; returns the mean NLL of the last batch
/// (0 when `data` is empty, and then no step is taken).
pub async fn sft_m_step<K: Kernels>(
    policy: &mut crate::policy::Policy<K>,
    data: &[(Vec<u32>, usize)],
    optim: OptimConfig,
    steps: u32,
    batch_size: usize,
    n_positions: usize,
    rng: &mut dyn RngCore,
) -> Result<f64, TrainError> {
    policy.begin_stage(optim, steps);
    let mut final_nll = 0.0;
    for s in 0..steps {
        if data.is_empty() {
            break;
        }
        let batch_seqs: Vec<(Vec<u32>, usize)> = (0..batch_size)
            .map(|_| data[(rng.next_u64() % data.len() as u64) as usize].clone())
            .collect();
        let batch = Batch::from_pairs(&batch_seqs, n_positions);
        final_nll = policy.nll_backward(&batch, 1.0, s).await?;
        policy.step(s).await?;
    }
    Ok(final_nll)
}
