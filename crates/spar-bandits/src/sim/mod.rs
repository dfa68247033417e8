//! Simulation harness: synthetic bandit problems and a simulated student, to measure the
//! bandits' regret and the curricula's speed without a model in the loop.
//!
//! - [`StationaryBernoulli`], [`AbruptChange`], [`SlowDrift`]: Bernoulli arms whose means are
//!   fixed, switch once, or move linearly; [`run_bandit`] plays a [`crate::Bandit`] against
//!   one and returns its cumulative (dynamic) pseudo-regret.
//! - [`Student`]: per-category solve rates that grow fastest on problems of intermediate
//!   difficulty and transfer to adjacent levels; [`run_curriculum`] trains it with a
//!   [`crate::Curriculum`] until mastery.

mod environment;
mod student;

pub use environment::{
    run_bandit, AbruptChange, BanditRun, Environment, SlowDrift, StationaryBernoulli,
};
pub use student::{grpo_advantages, run_curriculum, CurriculumRun, Group, Student, StudentConfig};
