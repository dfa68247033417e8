//! Run configuration: the structs a TOML config file is parsed into (the CLI and the web demo
//! share them). Option names follow TRL's `GRPOConfig`/`SFTConfig` where TRL has one
//! (`learning_rate`, `num_generations`, `beta`, `epsilon`, `epsilon_high`, `loss_type`,
//! `scale_rewards`, `max_completion_length`, `temperature`, `top_p`, `top_k`, `max_steps`,
//! `per_device_train_batch_size`, `save_steps`, `logging_steps`, `eval_steps`, `seed`).
//! Optimiser options are Hugging Face's ([`crate::optim`]): a shared `[optim]` section that
//! `[sft.optim]` and `[grpo.optim]` override key by key.
//! Every section has a default for every field; an unknown key is an error that names it.
//!
//! ```
//! use spar_train::config::{RewardSource, TrainConfig};
//! let cfg: TrainConfig = serde_json::from_str(
//!     r#"{"optim": {"adam_beta2": 0.95}, "grpo": {"reward": "co_reward", "beta": 0.01, "optim": {"learning_rate": 1e-4}}}"#,
//! ).unwrap();
//! assert_eq!(cfg.grpo.reward, RewardSource::CoReward);
//! assert_eq!(cfg.grpo.num_generations, 8);
//! assert_eq!(cfg.grpo_optim().learning_rate, 1e-4);
//! assert_eq!(cfg.grpo_optim().adam_beta2, 0.95);
//! assert!(serde_json::from_str::<TrainConfig>(r#"{"grpo": {"optim": {"lerning_rate": 1e-3}}}"#).is_err());
//! ```

use crate::optim::{OptimConfig, OptimOverride, OptimizerState, SchedulerType};
use crate::rewards::verifier::AnswerCheck;
use crate::sampler::Sampler;
use crate::TrainError;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

mod grpo;
mod hints;
pub use grpo::*;
pub use hints::{HintName, HintTargetName};

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed of every random stream (problems, batches, sampling, initialisation).
    pub seed: u64,
    /// Where checkpoints, metrics and plots go (the CLI's; the library ignores it).
    pub output_dir: String,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub save_steps: u32,
    /// Print a progress line every this many steps.
    pub logging_steps: u32,
    /// Evaluate on the held-out problems every this many steps (0: only before and after).
    pub eval_steps: u32,
    /// Which kernels run the model: `auto` (the GPU when the `gpu` feature is on and an
    /// adapter is found, else the CPU), `cpu` or `gpu` (an error when unavailable).
    pub backend: BackendName,
    /// The model.
    pub model: ModelSection,
    /// Optimiser options shared by the stages (Hugging Face's names and defaults; each
    /// stage's `optim` overrides any of them).
    pub optim: OptimConfig,
    /// The task and its labelled/unlabelled split.
    pub task: TaskSection,
    /// The supervised warm start.
    pub sft: SftSection,
    /// The RL stage.
    pub grpo: GrpoSection,
    /// Held-out evaluation.
    pub eval: EvalSection,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            output_dir: "runs/default".to_string(),
            save_steps: 0,
            logging_steps: 10,
            eval_steps: 0,
            backend: BackendName::Auto,
            model: ModelSection::default(),
            optim: OptimConfig::default(),
            task: TaskSection::default(),
            sft: SftSection::default(),
            grpo: GrpoSection::default(),
            eval: EvalSection::default(),
        }
    }
}

/// The `backend` option: which kernels run the model. Chosen once at start-up; a run never
/// switches backend midway (a GPU error stops it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendName {
    /// The GPU when the `gpu` feature is compiled in and an adapter is found, else the CPU.
    #[default]
    Auto,
    /// The CPU kernels.
    Cpu,
    /// The wgpu kernels (spar-gpu); an error if the feature is off or no adapter is found.
    Gpu,
}

impl core::str::FromStr for BackendName {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            _ => Err(bad("backend", "must be auto, cpu or gpu")),
        }
    }
}

/// The GPT's shape and its character vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Transformer blocks.
    pub n_layer: usize,
    /// Width.
    pub n_embd: usize,
    /// Attention heads (divides `n_embd`).
    pub n_head: usize,
    /// Context length (prompt + completion).
    pub n_positions: usize,
    /// The characters of the vocabulary, one token each (plus the end token). Characters
    /// outside it are dropped when encoding.
    pub charset: String,
    /// Start from this checkpoint directory (`model.safetensors`, `config.json`,
    /// `tokenizer.json`: Hugging Face's `save_pretrained` layout or spar's) instead of a fresh
    /// initialisation; its shape and vocabulary replace the fields above. Empty: none.
    pub init_from: String,
}

/// The default character set: digits, lower-case letters, space and the punctuation of
/// spar-tasks' compact formats.
pub const DEFAULT_CHARSET: &str = "0123456789 abcdefghijklmnopqrstuvwxyz+-*=:%^()[],;>?.";

impl ModelSection {
    /// The GPT this section describes over a vocabulary of `vocab_size` ids.
    pub fn gpt_config(&self, vocab_size: usize) -> spar_model::GptConfig {
        spar_model::GptConfig::new(
            vocab_size,
            self.n_positions,
            self.n_embd,
            self.n_layer,
            self.n_head,
        )
    }
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            n_layer: 2,
            n_embd: 64,
            n_head: 2,
            n_positions: 24,
            charset: DEFAULT_CHARSET.to_string(),
            init_from: String::new(),
        }
    }
}

/// Which problems, how many, and how many carry their answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskSection {
    /// A family of `spar_tasks::TASK_NAMES` (compact format).
    pub name: String,
    /// The difficulty levels to draw from; each is one curriculum arm.
    pub levels: Vec<usize>,
    /// Size of the training pool (distinct prompts).
    pub num_train_problems: usize,
    /// Fraction of the pool whose answers the SFT stage sees (at least one problem).
    pub labelled_fraction: f64,
    /// Size of the held-out evaluation set (disjoint from the pool).
    pub num_eval_problems: usize,
    /// SFT shows each labelled problem in a random wording (the original or a paraphrase),
    /// so that the model can read the paraphrases Co-Reward asks about.
    pub paraphrase_sft: bool,
    /// A JSON file of fixed problems ([`crate::data::ProblemsFile`]: operand pairs for the
    /// arithmetic tasks) instead of drawing them (`num_train_problems`, `labelled_fraction`
    /// and `num_eval_problems` are then ignored). Empty: draw from the seed.
    pub problems_file: String,
    /// How the verifier grades a completion, for the reward and the evaluation: `lenient`
    /// (the task reads the answer from the text, e.g. its last integer) or `strict` (exactly
    /// the reference completion, then the end token: TRL's toy-task parser).
    pub answer_check: AnswerCheck,
    /// Share of the labelled problems whose SFT target is a wrong answer: another pool
    /// problem's reference completion, drawn from the seed (a noisy annotator whose errors
    /// spread over many answers; [`crate::data::ProblemSet::with_label_noise`]). Only SFT sees
    /// it; rewards and evaluation grade against the truth. 0 (default): clean labels.
    pub label_noise: f64,
}

impl Default for TaskSection {
    fn default() -> Self {
        Self {
            name: "addition".to_string(),
            levels: vec![1],
            num_train_problems: 4000,
            labelled_fraction: 0.02,
            num_eval_problems: 200,
            paraphrase_sft: true,
            problems_file: String::new(),
            answer_check: AnswerCheck::Lenient,
            label_noise: 0.0,
        }
    }
}

/// The supervised warm start on the labelled problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SftSection {
    /// Optimiser steps (0 skips the stage).
    pub max_steps: u32,
    /// Sequences per step.
    pub per_device_train_batch_size: usize,
    /// How the labelled examples are drawn: `random` (with replacement) or `epoch`
    /// (shuffled epochs, as PyTorch's sampler).
    pub sampler: Sampler,
    /// The stage's overrides of the shared `[optim]` section (default: learning rate 3e-3
    /// with 50 warm-up steps; the rest is `[optim]`'s).
    pub optim: OptimOverride,
    /// Share of each batch that teaches the model to judge: verify-form examples built from
    /// the labelled problems, each with the right answer or a near miss (½ each), labelled by
    /// the task's verifier (`verify 12+39=51?` → `yes`). The rest are the usual solving
    /// examples. 0 (default) trains no judge; `grpo.reward = "self_judge"` reads this judge.
    pub judge_fraction: f64,
}

impl Default for SftSection {
    fn default() -> Self {
        Self {
            max_steps: 600,
            per_device_train_batch_size: 64,
            sampler: Sampler::Random,
            optim: OptimOverride {
                learning_rate: Some(3e-3),
                warmup_steps: Some(50),
                ..OptimOverride::default()
            },
            judge_fraction: 0.0,
        }
    }
}

/// Most samples per problem `eval.num_samples` may ask for (pass@k curves to k = 1024; the
/// samples are generated in fixed-size chunks, so memory does not grow with it).
pub const MAX_EVAL_SAMPLES: usize = 1024;

/// Held-out evaluation: greedy accuracy, and pass@k from `num_samples` samples per problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Samples per problem for pass@k (k = 1, 2, 4, … ≤ this; at most
    /// [`MAX_EVAL_SAMPLES`]). 0: greedy only.
    pub num_samples: usize,
    /// Sampling temperature of the pass@k samples.
    pub temperature: f32,
    /// Nucleus mass of the pass@k samples.
    pub top_p: f32,
}

impl Default for EvalSection {
    fn default() -> Self {
        Self {
            num_samples: 8,
            temperature: 1.0,
            top_p: 1.0,
        }
    }
}

/// The one TOML reader of every loop's config: parses `text` (an unknown key or a value of
/// the wrong type is an error that names it) and runs the config's `validate` (a bad value
/// is an error that names its field).
#[cfg(feature = "std")]
pub fn read_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    validate: impl FnOnce(&T) -> Result<(), TrainError>,
) -> Result<T, TrainError> {
    let cfg: T = toml::from_str(text).map_err(|e| TrainError::Config(e.to_string()))?;
    validate(&cfg)?;
    Ok(cfg)
}

/// The overrides in the environment variable `SET` (`KEY=VALUE` in TOML syntax, dotted,
/// separated by spaces; the experiment drivers' convention) applied to `cfg` with
/// [`with_overrides`]; `cfg` unchanged when `SET` is unset or empty.
#[cfg(feature = "std")]
pub fn with_env_overrides<T: Serialize + serde::de::DeserializeOwned + Clone>(
    cfg: &T,
) -> Result<T, TrainError> {
    let set = std::env::var("SET").unwrap_or_default();
    let sets: Vec<&str> = set.split_whitespace().collect();
    if sets.is_empty() {
        return Ok(cfg.clone());
    }
    with_overrides(cfg, &sets)
}

/// The seeds in the environment variable `SEEDS` (comma-separated), `default` when unset;
/// an unparsable entry is an error naming it.
#[cfg(feature = "std")]
pub fn env_seeds(default: &[u64]) -> Result<Vec<u64>, TrainError> {
    match std::env::var("SEEDS") {
        Err(_) => Ok(default.to_vec()),
        Ok(s) => s
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .map_err(|_| TrainError::Config(alloc::format!("SEEDS: `{x}` is not a seed")))
            })
            .collect(),
    }
}

/// `cfg` with `KEY=VALUE` overrides in TOML syntax applied (`beta=0.2`,
/// `optim.learning_rate=1e-4`, `optim={learning_rate=1e-4}`); a table value merges into the
/// existing table key by key instead of replacing it. The result is parsed again, so an
/// unknown key or a value of the wrong type is an error that names it.
#[cfg(feature = "std")]
pub fn with_overrides<T: Serialize + serde::de::DeserializeOwned>(
    cfg: &T,
    overrides: &[&str],
) -> Result<T, TrainError> {
    fn merge(into: &mut toml::Table, from: toml::Table) {
        for (k, v) in from {
            match (into.get_mut(&k), v) {
                (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
                (_, v) => {
                    into.insert(k, v);
                }
            }
        }
    }
    let err = |e: &dyn core::fmt::Display| TrainError::Config(e.to_string());
    let mut table = toml::Table::try_from(cfg).map_err(|e| err(&e))?;
    for kv in overrides {
        let one: toml::Table = toml::from_str(kv).map_err(|e| err(&format!("`{kv}`: {e}")))?;
        merge(&mut table, one);
    }
    table.try_into().map_err(|e| err(&e))
}

/// A config as TOML text (what a checkpoint's `train.toml` stores).
#[cfg(feature = "std")]
pub fn write_toml<T: Serialize>(cfg: &T) -> String {
    toml::to_string(cfg).expect("a config of plain fields always serialises")
}

fn bad(field: &str, why: &str) -> TrainError {
    TrainError::Config(format!("`{field}` {why}"))
}

impl TrainConfig {
    /// The small sorting setting of the learning-bar tests and of the label-free and
    /// self-reinforcement experiments in EXPERIMENTS.md: three digits (`sort 3 1 2:` →
    /// `1 2 3`, spar-tasks' `sort` at level 0, prompts in four wordings), a 2 × 32 GPT, 600
    /// pooled problems of which 30 (5 %) are labelled for SFT (400 steps × 32), 200 held out;
    /// RL 300 steps of 8 prompts × 8 completions at lr 3e-4 (the reward is the default's);
    /// greedy evaluation only. Small enough to learn in seconds on one core.
    pub fn sort3(seed: u64) -> Self {
        let mut c = Self {
            seed,
            ..Self::default()
        };
        c.model.n_layer = 2;
        c.model.n_embd = 32;
        c.model.n_head = 2;
        c.model.n_positions = 24;
        c.task.name = "sort".to_string();
        c.task.levels = vec![0];
        c.task.num_train_problems = 600;
        c.task.labelled_fraction = 0.05;
        c.task.num_eval_problems = 200;
        c.sft.max_steps = 400;
        c.sft.per_device_train_batch_size = 32;
        c.grpo.max_steps = 300;
        c.grpo.per_device_train_batch_size = 64;
        c.grpo.num_generations = 8;
        c.first_wave_recipe(3e-3, 20, 3e-4);
        c.grpo.max_completion_length = 6;
        c.grpo.log_ref_kl = false;
        c.eval.num_samples = 0;
        c
    }

    /// The optimiser recipe of the first published runs, set explicitly: AdamW with β₂ 0.95
    /// (nanoGPT's) everywhere; SFT at peak `sft_lr` with `sft_warmup` warm-up steps, cosine
    /// decay to a tenth and weight decay 0.1 (not on biases or LayerNorm weights); RL at a
    /// constant `rl_lr`, carrying the SFT moments and step count over. Hugging Face/TRL
    /// default instead to β₂ 0.999, a linear schedule and a fresh optimiser per stage; the
    /// presets and configs that keep this recipe reproduce their published figures.
    pub fn first_wave_recipe(&mut self, sft_lr: f32, sft_warmup: u32, rl_lr: f32) {
        self.optim.adam_beta2 = 0.95;
        self.sft.optim = OptimOverride {
            learning_rate: Some(sft_lr),
            lr_scheduler_type: Some(SchedulerType::CosineWithMinLr),
            min_lr_rate: Some(0.1),
            warmup_steps: Some(sft_warmup),
            weight_decay: Some(0.1),
            ..OptimOverride::default()
        };
        self.grpo.optim = OptimOverride {
            learning_rate: Some(rl_lr),
            lr_scheduler_type: Some(SchedulerType::Constant),
            optimizer_state: Some(OptimizerState::Carry),
            ..OptimOverride::default()
        };
    }

    /// The SFT stage's resolved optimiser options.
    pub fn sft_optim(&self) -> OptimConfig {
        self.optim.merged(&self.sft.optim)
    }

    /// The RL stage's resolved optimiser options.
    pub fn grpo_optim(&self) -> OptimConfig {
        self.optim.merged(&self.grpo.optim)
    }

    /// Checks every value a run depends on; the error names the first bad field.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.optim.validate("optim")?;
        self.validate_relift()?;
        self.sft_optim().validate("sft.optim")?;
        self.grpo_optim().validate("grpo.optim")?;
        let m = &self.model;
        if m.n_layer == 0 || m.n_embd == 0 || m.n_head == 0 || m.n_embd % m.n_head != 0 {
            return Err(bad(
                "model.n_head",
                "must divide model.n_embd (all sizes ≥ 1)",
            ));
        }
        if m.n_positions < 2 {
            return Err(bad("model.n_positions", "must be at least 2"));
        }
        if m.charset.is_empty() {
            return Err(bad("model.charset", "must not be empty"));
        }
        let t = &self.task;
        if t.levels.is_empty() {
            return Err(bad("task.levels", "must name at least one level"));
        }
        if t.num_train_problems == 0 {
            return Err(bad("task.num_train_problems", "must be at least 1"));
        }
        if t.num_eval_problems == 0 {
            return Err(bad("task.num_eval_problems", "must be at least 1"));
        }
        if !(t.labelled_fraction > 0.0 && t.labelled_fraction <= 1.0) {
            return Err(bad("task.labelled_fraction", "must be in (0, 1]"));
        }
        if !(0.0..=1.0).contains(&t.label_noise) {
            return Err(bad("task.label_noise", "must be in [0, 1]"));
        }
        let s = &self.sft;
        if s.per_device_train_batch_size == 0 {
            return Err(bad("sft.per_device_train_batch_size", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&s.judge_fraction) {
            return Err(bad("sft.judge_fraction", "must be in [0, 1)"));
        }
        let g = &self.grpo;
        if g.num_generations < 2 {
            return Err(bad("grpo.num_generations", "must be at least 2"));
        }
        if g.per_device_train_batch_size < g.num_generations
            || g.per_device_train_batch_size % g.num_generations != 0
        {
            return Err(bad(
                "grpo.per_device_train_batch_size",
                "must be a positive multiple of grpo.num_generations",
            ));
        }
        if !(g.beta >= 0.0 && g.beta.is_finite()) {
            return Err(bad("grpo.beta", "must be finite and ≥ 0"));
        }
        if !(0.0..1.0).contains(&g.epsilon) {
            return Err(bad("grpo.epsilon", "must be in [0, 1)"));
        }
        if !(g.epsilon_high >= 0.0 && g.epsilon_high.is_finite()) {
            return Err(bad("grpo.epsilon_high", "must be finite and ≥ 0"));
        }
        if g.max_completion_length == 0 {
            return Err(bad("grpo.max_completion_length", "must be at least 1"));
        }
        if !(g.temperature > 0.0 && g.temperature.is_finite()) {
            return Err(bad("grpo.temperature", "must be finite and > 0"));
        }
        if !(g.top_p > 0.0 && g.top_p <= 1.0) {
            return Err(bad("grpo.top_p", "must be in (0, 1]"));
        }
        if !(g.sec_alpha > 0.0 && g.sec_alpha <= 1.0) {
            return Err(bad("grpo.sec_alpha", "must be in (0, 1]"));
        }
        if !(g.sec_temperature > 0.0 && g.sec_temperature.is_finite()) {
            return Err(bad("grpo.sec_temperature", "must be finite and > 0"));
        }
        if !(0.0..1.0).contains(&g.zero_spread_skip) {
            return Err(bad("grpo.zero_spread_skip", "must be in [0, 1)"));
        }
        if !(0.0..=1.0).contains(&g.min_majority_ratio) {
            return Err(bad("grpo.min_majority_ratio", "must be in [0, 1]"));
        }
        if !(0.0..=1.0).contains(&g.labelled_fraction_per_step) {
            return Err(bad("grpo.labelled_fraction_per_step", "must be in [0, 1]"));
        }
        if !(g.ptx_coef >= 0.0 && g.ptx_coef.is_finite()) {
            return Err(bad("grpo.ptx_coef", "must be finite and ≥ 0"));
        }
        if !(g.self_train_coef >= 0.0 && g.self_train_coef.is_finite()) {
            return Err(bad("grpo.self_train_coef", "must be finite and ≥ 0"));
        }
        if !(g.nft_neg_weight >= 0.0 && g.nft_neg_weight.is_finite()) {
            return Err(bad("grpo.nft_neg_weight", "must be finite and ≥ 0"));
        }
        if !(g.nft_clamp_negative > 0.0 && g.nft_clamp_negative <= 1.0) {
            return Err(bad("grpo.nft_clamp_negative", "must be in (0, 1]"));
        }
        if !(0.0..=1.0).contains(&g.nft_clamp_positive) {
            return Err(bad("grpo.nft_clamp_positive", "must be in [0, 1]"));
        }
        if g.objective == ObjectiveName::Nft {
            if g.beta != 0.0 {
                return Err(bad(
                    "grpo.beta",
                    "must be 0 with grpo.objective = \"nft\" (NFT has no KL term)",
                ));
            }
            if g.reward == RewardSource::SelfCertainty {
                return Err(bad(
                    "grpo.objective",
                    "= \"nft\" needs rewards in [0, 1]; grpo.reward = \"self_certainty\" is not",
                ));
            }
        }
        if g.replay != ReplayName::None {
            if g.objective != ObjectiveName::Grpo {
                return Err(bad(
                    "grpo.replay",
                    "needs grpo.objective = \"grpo\" (replayed completions carry advantages)",
                ));
            }
            if g.replay_buffer_size == 0 {
                return Err(bad("grpo.replay_buffer_size", "must be at least 1"));
            }
        }
        if !(0.0..=1.0).contains(&g.spear_percentile) {
            return Err(bad("grpo.spear_percentile", "must be in [0, 1]"));
        }
        if g.replay == ReplayName::Spear && g.spear_reward_window == 0 {
            return Err(bad("grpo.spear_reward_window", "must be at least 1"));
        }
        if !(1..=16).contains(&g.oversample_factor) {
            return Err(bad("grpo.oversample_factor", "must be in [1, 16] (1: off)"));
        }
        if !(g.entropy_coef >= 0.0 && g.entropy_coef.is_finite()) {
            return Err(bad("grpo.entropy_coef", "must be finite and ≥ 0"));
        }
        if !(0.0..=1.0).contains(&g.clip_cov_fraction) {
            return Err(bad("grpo.clip_cov_fraction", "must be in [0, 1] (0: off)"));
        }
        if !(g.clip_cov_low.is_finite() && g.clip_cov_high.is_finite())
            || g.clip_cov_low >= g.clip_cov_high
        {
            return Err(bad(
                "grpo.clip_cov_high",
                "must be finite and above grpo.clip_cov_low (the covariance band)",
            ));
        }
        if g.reward == RewardSource::NoReward {
            if g.entropy_coef == 0.0 {
                return Err(bad(
                    "grpo.reward",
                    "= \"none\" leaves no gradient but the entropy bonus: set grpo.entropy_coef > 0",
                ));
            }
            if g.dynamic_sampling {
                return Err(bad(
                    "grpo.reward",
                    "= \"none\" gives no group any spread: set grpo.dynamic_sampling = false",
                ));
            }
            if g.objective != ObjectiveName::Grpo {
                return Err(bad(
                    "grpo.reward",
                    "= \"none\" needs grpo.objective = \"grpo\"",
                ));
            }
        }
        let judged = g.reward == RewardSource::SelfJudge || s.judge_fraction > 0.0;
        if judged && spar_tasks::verify_form_by_name(&t.name, spar_tasks::Format::Compact).is_err()
        {
            return Err(bad(
                "task.name",
                "has no verify form, which grpo.reward = \"self_judge\" and sft.judge_fraction need \
                 (addition, subtraction, multiplication, countdown, factoring, trace)",
            ));
        }
        if g.reward == RewardSource::SelfJudge
            && s.judge_fraction == 0.0
            && self.model.init_from.is_empty()
        {
            return Err(bad(
                "grpo.reward",
                "= \"self_judge\" needs a judge: set sft.judge_fraction > 0 (or start from a \
                 trained model with model.init_from)",
            ));
        }
        self.validate_rise()?;
        self.validate_hints()?;
        let e = &self.eval;
        if e.num_samples > MAX_EVAL_SAMPLES {
            return Err(bad("eval.num_samples", "must be at most 1024"));
        }
        if !(e.temperature >= 0.0 && e.temperature.is_finite()) {
            return Err(bad("eval.temperature", "must be finite and ≥ 0"));
        }
        if !(e.top_p > 0.0 && e.top_p <= 1.0) {
            return Err(bad("eval.top_p", "must be in (0, 1]"));
        }
        Ok(())
    }

    /// Parses a TOML config (unknown keys and wrong values are errors naming them) and
    /// validates it.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        read_toml(text, Self::validate)
    }

    /// The config as TOML text (what a checkpoint stores).
    #[cfg(feature = "std")]
    pub fn to_toml(&self) -> String {
        write_toml(self)
    }

    /// The RISE checks (`grpo.verify_fraction`).
    fn validate_rise(&self) -> Result<(), TrainError> {
        let f = self.grpo.verify_fraction;
        let key = "grpo.verify_fraction";
        if !(0.0..1.0).contains(&f) {
            return Err(bad(key, "must be in [0, 1)"));
        }
        if f == 0.0 {
            return Ok(());
        }
        if self.grpo.reward != RewardSource::Verifier {
            return Err(bad(
                key,
                "> 0 (RISE) needs grpo.reward = \"verifier\": the verify prompts are graded \
                 against whether the shown solution is right",
            ));
        }
        let name = &self.task.name;
        if spar_tasks::verify_form_by_name(name, spar_tasks::Format::Compact).is_err() {
            return Err(bad(
                key,
                "> 0 (RISE) needs a task with a verify form (addition, subtraction, \
                 multiplication, countdown, factoring, trace)",
            ));
        }
        if self.sft.judge_fraction == 0.0 && self.model.init_from.is_empty() {
            return Err(bad(
                key,
                "> 0 (RISE) needs a model that has seen the verify form: set \
                 sft.judge_fraction > 0 (or start from a trained model with model.init_from)",
            ));
        }
        let n = self.prompts_per_step();
        if crate::rewards::self_verify::verify_count(n, f) == 0 {
            return Err(bad(
                key,
                "leaves no verify prompt at this many prompts per step (round(prompts · \
                 fraction) is 0, or there is only one prompt)",
            ));
        }
        Ok(())
    }

    /// Prompts per RL step.
    pub fn prompts_per_step(&self) -> usize {
        self.grpo.per_device_train_batch_size / self.grpo.num_generations
    }

    /// Sequences in the largest RL batch (Co-Reward doubles it).
    pub fn rl_batch_sequences(&self) -> usize {
        let b = self.grpo.per_device_train_batch_size;
        if self.grpo.reward == RewardSource::CoReward {
            2 * b
        } else {
            b
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_merge_tables_key_by_key_and_name_unknown_keys() {
        let mut c = TrainConfig::sort3(1);
        c.grpo.beta = 0.0;
        let g = with_overrides(&c.grpo, &["beta=0.2", "optim.learning_rate=1e-4"]).unwrap();
        assert_eq!(g.beta, 0.2);
        assert_eq!(g.optim.learning_rate, Some(1e-4));
        // The rest of `[grpo.optim]` is kept, not replaced by the one key.
        assert_eq!(g.optim.optimizer_state, c.grpo.optim.optimizer_state);
        assert!(g.optim.optimizer_state.is_some());
        let e = with_overrides(&c.grpo, &["lerning_rate=1e-4"]).unwrap_err();
        assert!(e.to_string().contains("lerning_rate"), "{e}");
    }

    #[test]
    fn the_collapse_remedies_default_to_off() {
        let g = GrpoSection::default();
        assert_eq!(g.min_majority_ratio, 0.0);
        assert!(!g.require_cross_agreement);
        assert_eq!(g.labelled_fraction_per_step, 0.0);
        assert_eq!(g.ptx_coef, 0.0);
        assert_eq!(g.self_train_coef, 0.0);
    }

    #[test]
    fn the_collapse_remedies_parse_and_are_checked() {
        let cfg: TrainConfig = serde_json::from_str(
            r#"{"grpo": {"min_majority_ratio": 0.75, "require_cross_agreement": true,
                "labelled_fraction_per_step": 0.25, "ptx_coef": 0.5}}"#,
        )
        .unwrap();
        assert_eq!(cfg.grpo.min_majority_ratio, 0.75);
        assert!(cfg.grpo.require_cross_agreement);
        assert_eq!(cfg.grpo.labelled_fraction_per_step, 0.25);
        assert_eq!(cfg.grpo.ptx_coef, 0.5);
        cfg.validate().unwrap();
        type Edit = fn(&mut GrpoSection);
        let cases: [(&str, Edit); 8] = [
            ("grpo.zero_spread_skip", |g| g.zero_spread_skip = 1.0),
            ("grpo.zero_spread_skip", |g| g.zero_spread_skip = f64::NAN),
            ("grpo.self_train_coef", |g| g.self_train_coef = -0.1),
            ("grpo.min_majority_ratio", |g| g.min_majority_ratio = 1.01),
            ("grpo.min_majority_ratio", |g| {
                g.min_majority_ratio = f64::NAN
            }),
            ("grpo.labelled_fraction_per_step", |g| {
                g.labelled_fraction_per_step = -0.5
            }),
            ("grpo.ptx_coef", |g| g.ptx_coef = -1.0),
            ("grpo.ptx_coef", |g| g.ptx_coef = f64::INFINITY),
        ];
        for (name, edit) in cases {
            let mut c = TrainConfig::default();
            edit(&mut c.grpo);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
    }
}
