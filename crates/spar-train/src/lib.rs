//! The self-improvement loop: a tiny GPT learns a verifiable task from a few labelled
//! examples (SFT), then improves on unlabelled problems by reinforcement learning from
//! rewards it makes itself — majority votes (TTRL), agreement between paraphrased questions
//! (Co-Reward), its own certainty — or from the task's verifier (the RLVR baseline); and
//! games against itself (Kuhn poker, tic-tac-toe), a proposer inventing tasks for a solver
//! (Absolute Zero), and preference rounds over its own samples.
//!
//! # One core, many loops
//!
//! Every loop is the same cycle; only how rollouts, rewards and advantages are made differs:
//!
//! ```text
//! task ─► rollouts ─► rewards ─► advantages ─► loss weights ─► backward ─► optimiser step
//! ```
//!
//! | step | what | file |
//! |---|---|---|
//! | task | problems and games from spar-tasks (its rules grade them); a spar-bandits curriculum picks levels | `data.rs`, `trainer/sampling.rs` |
//! | rollouts | the one [`rollout::Rollout`] type, padded into a [`rollout::Batch`]; spar-model's KV-cache sampler | `rollout.rs`, `trainer/sampling.rs`, each game's play loop |
//! | rewards | verifier, majority vote, Co-Reward, self-certainty; game outcomes; proposer learnability | `rewards/`, the loop files |
//! | advantages | GRPO group-normalised; role baselines for two-seat games; task-relative REINFORCE++ | `trainer/mod.rs`, `selfplay.rs`, `pg.rs` |
//! | loss weights | spar-losses' clipped policy loss → `∂L/∂logp` per token (preference losses for DPO rounds) | `pg.rs`, `self_reinforce.rs` |
//! | backward | the weights (and entropy weights, NLL terms) back-propagated through the model | `policy.rs` |
//! | step | the one checked AdamW step, Hugging Face's options and schedules per stage | `policy.rs`, `optim.rs` |
//!
//! The loops: [`Trainer`] (SFT then GRPO with any reward source, and its options: replay,
//! hints, RISE's verify prompts, ReLIFT's interleaved SFT, Clip-Cov, …); game self-play
//! ([`kuhn_selfplay`], [`tictactoe_selfplay`]); proposer–solver and sneaky–critic self-play
//! ([`azr_selfplay`], [`spc_selfplay`]); preference rounds ([`self_reinforce`]); self-training
//! on verified samples and on searched traces ([`expert_iteration`], [`rest_mcts`]);
//! self-correction ([`self_correct`]); calibrated confidence ([`calibration`]); behaviour
//! priming ([`behaviour_priming`]); DITTO on text ([`ditto_text`]). Each snapshots its whole
//! state and restores it bit for bit; [`native`] (feature `std`) writes and reads the
//! checkpoint files. Configs share their sections: [`config::ModelSection`], the optimiser's
//! [`optim::OptimConfig`] with per-stage [`optim::OptimOverride`]s, and one TOML reader
//! ([`config::read_toml`]).
//!
//! The crate is generic over the model's backend ([`spar_model::Kernels`]); the step is
//! `async` (the browser awaits GPU read-backs; native code uses [`spar_model::block_on`]).
//! No threads, files or clocks on the library path. [`backend`] picks the CPU or (feature
//! `gpu`) the wgpu kernels at start-up from the config's `backend` option.
//!
//! ```
//! use spar_model::{block_on, CpuKernels};
//! use spar_train::{config::TrainConfig, Trainer};
//!
//! let mut cfg = TrainConfig::default();
//! cfg.model.n_embd = 16;
//! cfg.task.num_train_problems = 50;
//! cfg.task.num_eval_problems = 10;
//! cfg.sft.max_steps = 2;
//! cfg.sft.per_device_train_batch_size = 4;
//! cfg.grpo.max_steps = 1;
//! cfg.grpo.per_device_train_batch_size = 8;
//! cfg.grpo.num_generations = 4;
//! let mut trainer = Trainer::new(cfg, Box::new(CpuKernels::new))?;
//! while trainer.step() < trainer.total_steps() {
//!     let m = block_on(trainer.train_step())?;
//!     assert!(m.loss.is_finite());
//! }
//! let report = block_on(trainer.evaluate())?;
//! assert!((0.0..=1.0).contains(&report.accuracy));
//! # Ok::<(), spar_train::TrainError>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "std")]
pub mod atomic;
pub mod azr_selfplay;
pub mod backend;
pub mod behaviour_priming;
pub mod calibration;
#[cfg(feature = "std")]
pub mod checkpoint_dir;
pub mod config;
pub mod data;
pub mod ditto_text;
mod error;
pub mod eval;
pub mod expert_iteration;
pub mod faults;
pub mod kuhn_selfplay;
#[cfg(feature = "std")]
pub mod native;
pub mod optim;
pub mod pg;
pub mod policy;
pub mod rest_mcts;
pub mod rewards;
pub mod rollout;
pub mod sampler;
pub mod self_correct;
pub mod self_reinforce;
pub mod selfplay;
pub mod spc_selfplay;
pub mod tictactoe_selfplay;
pub mod trainer;
pub mod vocab;

pub use config::TrainConfig;
pub use error::TrainError;
pub use eval::{EvalOptions, EvalReport};
pub use trainer::{Phase, Snapshot, StepMetrics, TrainState, Trainer};
pub use vocab::CharVocab;
