//! The Absolute Zero loop's config, metrics and checkpoint state (plain data).

use super::AZR_CHARSET;
use crate::config::ModelSection;
use crate::optim::{OptimConfig, OptimOverride};
use crate::TrainError;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_tasks::{ProgramTaskKind, NUM_SEED_TASKS};

/// An Absolute Zero task type as configs and metrics name it: spar-tasks'
/// [`ProgramTaskKind`] with a serde spelling (`"deduction"`, `"abduction"`, `"induction"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AzrTaskType {
    /// Program + input → output.
    Deduction,
    /// Program + output → an input.
    Abduction,
    /// Input/output pairs → a program.
    Induction,
}

impl AzrTaskType {
    /// The spar-tasks kind.
    pub fn kind(self) -> ProgramTaskKind {
        match self {
            AzrTaskType::Deduction => ProgramTaskKind::Deduction,
            AzrTaskType::Abduction => ProgramTaskKind::Abduction,
            AzrTaskType::Induction => ProgramTaskKind::Induction,
        }
    }

    /// The name used in configs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            AzrTaskType::Deduction => "deduction",
            AzrTaskType::Abduction => "abduction",
            AzrTaskType::Induction => "induction",
        }
    }
}

/// What makes two proposals "the same program" for the novelty levers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AzrDistinctBy {
    /// The program's text.
    #[default]
    Program,
    /// The program's text with every number written as `#`.
    Skeleton,
    /// The set of names and operators the program uses (`x-x-x%6` and `x%2-x` are one
    /// program; `sort(x)` and `x%2` are two).
    Operators,
}

impl AzrDistinctBy {
    /// The key of `program` (its text) under this rule.
    pub fn key(self, program: &str) -> String {
        match self {
            AzrDistinctBy::Program => program.to_string(),
            AzrDistinctBy::Skeleton => {
                let mut s = String::with_capacity(program.len());
                for c in program.chars() {
                    if !c.is_ascii_digit() {
                        s.push(c);
                    } else if !s.ends_with('#') {
                        s.push('#');
                    }
                }
                s
            }
            AzrDistinctBy::Operators => {
                let mut set: BTreeSet<String> = BTreeSet::new();
                let mut word = String::new();
                for c in program.chars().chain(core::iter::once(' ')) {
                    if c.is_ascii_alphabetic() {
                        word.push(c);
                        continue;
                    }
                    if !word.is_empty() {
                        set.insert(core::mem::take(&mut word));
                    }
                    if !(c.is_ascii_digit() || c.is_whitespace()) {
                        set.insert(c.to_string());
                    }
                }
                set.into_iter().collect::<Vec<_>>().join(" ")
            }
        }
    }
}

/// An Absolute Zero self-play run (`configs/absolute_zero.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzrConfig {
    /// Seed of the initialisation, the reference draws and the sampling streams.
    pub seed: u64,
    /// Where the CLI writes metrics (the library ignores it).
    pub output_dir: String,
    /// The model (its `charset` must hold [`AZR_CHARSET`]).
    pub model: ModelSection,
    /// The task types played (each at most once).
    pub task_types: Vec<AzrTaskType>,
    /// Supervised steps on the seed tasks before self-play.
    pub warmup_steps: u32,
    /// The warm start's overrides of `optim` (default: learning rate 3e-3).
    pub warmup_optim: OptimOverride,
    /// Programs per task type drawn from spar-tasks' generator (levels 0–1, from
    /// `seed + 1`) that the proposer also reads in the warm start, as `PROGRAM;INPUT…` texts
    /// without outputs: a stand-in for the code a pretrained model has seen. The solver never
    /// sees their answers. 0: the six seed tasks only.
    pub warmup_corpus_size: usize,
    /// Self-play steps.
    pub max_steps: u32,
    /// Proposals per task type and step.
    pub proposals_per_type: usize,
    /// Solver training rollouts per task type and step (tasks drawn from the buffer).
    pub solves_per_type: usize,
    /// Solver attempts per valid proposal that estimate its solve rate (the paper's 8).
    pub n_samples: usize,
    /// The self-play stage's optimiser (Hugging Face's names and defaults; learning rate
    /// 1e-3). Its `optimizer_state` says whether self-play starts a fresh optimiser after
    /// the warm start or carries its moments over.
    pub optim: OptimConfig,
    /// Write a checkpoint every this many self-play steps (the CLI's; 0: only at the end).
    pub save_steps: u32,
    /// Sampling temperature of both roles (the paper's 1.0).
    pub temperature: f32,
    /// Longest proposal, in tokens.
    pub max_proposal_tokens: usize,
    /// Longest solver answer, in tokens.
    pub max_answer_tokens: usize,
    /// Most tasks a type's buffer keeps, more than the 6 seeds (the seeds stay; the oldest
    /// proposal goes first).
    pub buffer_size: usize,
    /// Held-out tasks per type (spar-tasks' random programs at level 0).
    pub eval_tasks_per_type: usize,
    /// Seed of the held-out tasks.
    pub eval_seed: u64,
    /// Held-out evaluation every this many self-play steps (0: only when asked).
    pub eval_every: u32,
    /// Reference tasks (distinct, drawn from the type's buffer) shown in each proposer
    /// prompt, `new ded like R1 R2 …:` (the paper's K past tasks); fewer when the prompt would
    /// not leave room for a proposal. 1: spar-tasks' one-reference prompt. The warm start
    /// uses the same prompts.
    pub proposer_references: usize,
    /// Proposer reward bonus for novelty: a valid proposal whose program is not yet in its
    /// type's buffer earns `diversity_bonus / c`, with `c` the step's valid proposals of that
    /// type with the same program (so a repeated new program shares it). 0: off.
    pub diversity_bonus: f64,
    /// With `diversity_bonus`: every valid proposal earns `diversity_bonus / c` (`c` its
    /// program's count among the step's valid proposals of its type), whether or not the
    /// buffer holds the program, so the pressure towards a varied step never runs out.
    /// false: only programs new to the buffer earn it.
    pub diversity_step_only: bool,
    /// Admit to a buffer only proposals whose program it does not hold yet, so that the
    /// solver's training tasks (drawn from the buffers) stay varied. false: every valid
    /// proposal enters.
    pub buffer_distinct: bool,
    /// What counts as "the same program" for `diversity_bonus` and `buffer_distinct`:
    /// `"program"` (its text), `"skeleton"` (its text with every number written as `#`, so
    /// that `x%15` and `x%2123` are one program) or `"operators"` (the set of names and
    /// operators it uses, so that novelty needs an operation not used yet).
    pub distinct_by: AzrDistinctBy,
    /// Weight of a supervised term on the solver's training tasks: the mean NLL of the
    /// executor's answers (the triplets' outputs, inputs or programs), added to the policy
    /// gradient. Not in the paper; 0: off.
    pub solver_sft_weight: f64,
}

impl Default for AzrConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            output_dir: "runs/absolute_zero".to_string(),
            model: ModelSection {
                n_layer: 2,
                n_embd: 48,
                n_head: 2,
                n_positions: 64,
                charset: AZR_CHARSET.to_string(),
                init_from: String::new(),
            },
            task_types: vec![
                AzrTaskType::Deduction,
                AzrTaskType::Abduction,
                AzrTaskType::Induction,
            ],
            warmup_steps: 80,
            warmup_optim: OptimOverride::lr(3e-3),
            warmup_corpus_size: 0,
            max_steps: 300,
            proposals_per_type: 16,
            solves_per_type: 16,
            n_samples: 8,
            optim: OptimConfig {
                learning_rate: 1e-3,
                ..OptimConfig::default()
            },
            save_steps: 0,
            temperature: 1.0,
            max_proposal_tokens: 24,
            max_answer_tokens: 16,
            buffer_size: 256,
            eval_tasks_per_type: 32,
            eval_seed: 1_000_003,
            eval_every: 25,
            proposer_references: 1,
            diversity_bonus: 0.0,
            diversity_step_only: false,
            buffer_distinct: false,
            distinct_by: AzrDistinctBy::Program,
            solver_sft_weight: 0.0,
        }
    }
}

impl AzrConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        if self.task_types.is_empty() {
            return bad("task_types", "must name at least one task type");
        }
        let distinct: BTreeSet<AzrTaskType> = self.task_types.iter().copied().collect();
        if distinct.len() != self.task_types.len() {
            return bad("task_types", "names a task type twice");
        }
        for (f, v) in [
            ("proposals_per_type", self.proposals_per_type),
            ("solves_per_type", self.solves_per_type),
            ("n_samples", self.n_samples),
            ("max_proposal_tokens", self.max_proposal_tokens),
            ("max_answer_tokens", self.max_answer_tokens),
            ("proposer_references", self.proposer_references),
        ] {
            if v == 0 {
                return bad(f, "must be at least 1");
            }
        }
        if self.proposer_references > 8 {
            return bad("proposer_references", "must be at most 8");
        }
        for (f, v) in [
            ("diversity_bonus", self.diversity_bonus),
            ("solver_sft_weight", self.solver_sft_weight),
        ] {
            if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                return bad(f, "must be finite and in [0, 10]");
            }
        }
        if self.buffer_size <= NUM_SEED_TASKS {
            return bad(
                "buffer_size",
                "must hold the 6 seed tasks and at least one proposal",
            );
        }
        self.optim.validate("optim")?;
        if !self.model.init_from.is_empty() {
            return bad(
                "model.init_from",
                "is not supported by this loop (it starts from its seed)",
            );
        }
        self.optim
            .merged(&self.warmup_optim)
            .validate("warmup_optim")?;
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if let Some(c) = AZR_CHARSET
            .chars()
            .find(|&c| !self.model.charset.contains(c))
        {
            return bad("model.charset", &alloc::format!("lacks {c:?}"));
        }
        // Every seed task must fit, as proposer reference and as solver problem.
        if self.model.n_positions < 56 {
            return bad("model.n_positions", "must be at least 56");
        }
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The config as TOML text (a checkpoint's `train.toml`).
    #[cfg(feature = "std")]
    pub fn to_toml(&self) -> String {
        crate::config::write_toml(self)
    }
}

/// One self-play step's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AzrMetrics {
    /// The self-play step (0-based).
    pub step: u32,
    /// Fraction of proposals that are valid tasks.
    pub valid_proposal_rate: f64,
    /// Mean proposer reward `R_propose` over all proposals (penalties included).
    pub mean_propose_reward: f64,
    /// Mean learnability `r_propose` over the valid proposals (0 if none).
    pub mean_learnability: f64,
    /// Mean solve rate `acc` of the valid proposals (0 if none).
    pub proposed_task_accuracy: f64,
    /// Distinct programs among the valid proposals over the number of proposals.
    pub proposal_diversity: f64,
    /// Fraction of the solver's training rollouts that are correct.
    pub solver_train_accuracy: f64,
    /// Fraction of the solver's training rollouts that are well formed.
    pub solver_format_rate: f64,
    /// Held-out accuracy (greedy) before this step's update, when evaluated this step.
    pub heldout_accuracy: Option<f64>,
    /// Held-out accuracy per task type (config order), when evaluated this step.
    pub heldout_by_type: Option<Vec<f64>>,
    /// The policy loss.
    pub loss: f64,
    /// Tasks in the buffers (all types).
    pub buffer_len: usize,
    /// The first proposal of each task type this step (config order), as written.
    pub example_proposals: Vec<String>,
}

/// The held-out evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AzrEval {
    /// Fraction solved (greedy) over all held-out tasks.
    pub accuracy: f64,
    /// Per task type, in config order.
    pub by_type: Vec<f64>,
}

/// An Absolute Zero run's own state besides the policy's tensors (a checkpoint's
/// `state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AzrState {
    /// Self-play steps done.
    pub step: u32,
    /// Whether the warm start is done.
    pub warmed_up: bool,
    /// Sampling calls so far (the key of the next).
    pub draws: u32,
    /// Position of the random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// Per task type (config order), the buffer's tasks as proposal texts.
    pub buffers: Vec<Vec<String>>,
}
