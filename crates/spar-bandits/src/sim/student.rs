//! A simulated student for curricula: per-level solve rates that grow fastest when it
//! practises problems it solves about half the time, with transfer to adjacent levels.
//!
//! Level `c` has logit `ℓ_c` and solve rate `σ(ℓ_c)`; initially `ℓ_c = a − b·c`, so level 0
//! is easy and the last level nearly hopeless. A training step takes a batch of problems
//! (one category each), draws `G` rollouts per problem, each solved with probability
//! `σ(ℓ_c)`, and learns from the group's empirical solve rate `p̂`: the learning signal is
//! `4 p̂ (1 − p̂)`, which is 0 when every rollout agrees (a GRPO group with equal rewards
//! has zero advantages and no gradient) and 1 at `p̂ = ½`. Each problem then raises
//! `ℓ_c` by `η · signal` and `ℓ_{c±1}` by `η · transfer · signal`. All problems of a batch
//! see the student as it was before the step, as in an RL step.

use crate::curriculum::ProblemOutcome;
use crate::error::check_param;
use crate::sampling::uniform;
use crate::{Curriculum, Error};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

/// Constants of the simulated student.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StudentConfig {
    /// Number of difficulty levels (categories), `≥ 1`. Default 8.
    pub num_levels: usize,
    /// Logit of level 0 at the start, `a`. Default 3 (solve rate 0.95).
    pub initial_logit: f64,
    /// Logit drop per level, `b`. Default 1.5 (level 7 starts at 0.0006).
    pub logit_step: f64,
    /// Logit gain per problem at full learning signal, `η > 0`. Default 0.02.
    pub learning_rate: f64,
    /// Fraction of the gain that reaches each adjacent level, in `[0, 1]`. Default 0.5.
    pub transfer: f64,
    /// Rollouts per problem, `G ≥ 2`. Default 8.
    pub num_generations: usize,
    /// Solve rate every level must reach for mastery, in `(0, 1)`. Default 0.9.
    pub mastery: f64,
}

impl Default for StudentConfig {
    fn default() -> Self {
        Self {
            num_levels: 8,
            initial_logit: 3.0,
            logit_step: 1.5,
            learning_rate: 0.02,
            transfer: 0.5,
            num_generations: 8,
            mastery: 0.9,
        }
    }
}

/// The rollouts of one problem in a training step.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The reward of each rollout: 1 if solved, else 0.
    pub rewards: Vec<f64>,
    /// GRPO advantages of the rollouts ([`grpo_advantages`]).
    pub advantages: Vec<f64>,
}

impl Group {
    /// The fraction of rollouts that solved the problem.
    pub fn solve_rate(&self) -> f64 {
        self.rewards.iter().sum::<f64>() / self.rewards.len().max(1) as f64
    }
}

/// The simulated student.
#[derive(Debug, Clone, PartialEq)]
pub struct Student {
    config: StudentConfig,
    logits: Vec<f64>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

impl Student {
    /// A student at the start of training.
    pub fn new(config: StudentConfig) -> Result<Self, Error> {
        if config.num_levels == 0 {
            return Err(Error::NoArms);
        }
        check_param(
            "initial_logit",
            config.initial_logit,
            -50.0,
            true,
            50.0,
            true,
        )?;
        check_param("logit_step", config.logit_step, 0.0, true, 50.0, true)?;
        check_param(
            "learning_rate",
            config.learning_rate,
            0.0,
            false,
            10.0,
            true,
        )?;
        check_param("transfer", config.transfer, 0.0, true, 1.0, true)?;
        check_param("mastery", config.mastery, 0.0, false, 1.0, false)?;
        if config.num_generations < 2 {
            return Err(Error::InvalidParameter {
                name: "num_generations",
                value: config.num_generations as f64,
            });
        }
        let logits = (0..config.num_levels)
            .map(|c| config.initial_logit - config.logit_step * c as f64)
            .collect();
        Ok(Self { config, logits })
    }

    /// The true solve rate of each level.
    pub fn solve_rates(&self) -> Vec<f64> {
        self.logits.iter().map(|&l| sigmoid(l)).collect()
    }

    /// Whether every level's solve rate has reached the mastery threshold.
    pub fn mastered(&self) -> bool {
        self.logits
            .iter()
            .all(|&l| sigmoid(l) >= self.config.mastery)
    }

    /// The configuration.
    pub fn config(&self) -> &StudentConfig {
        &self.config
    }

    /// One training step on a batch of problems with the given categories. Returns, per
    /// problem, its group of rollouts.
    pub fn train_step(
        &mut self,
        categories: &[usize],
        rng: &mut dyn RngCore,
    ) -> Result<Vec<Group>, Error> {
        let k = self.logits.len();
        let g = self.config.num_generations;
        let mut deltas = vec![0.0; k];
        let mut groups = Vec::with_capacity(categories.len());
        for &c in categories {
            crate::error::check_arm(c, k)?;
            let p = sigmoid(self.logits[c]);
            let rewards: Vec<f64> = (0..g)
                .map(|_| if uniform(rng) < p { 1.0 } else { 0.0 })
                .collect();
            let p_hat = rewards.iter().sum::<f64>() / g as f64;
            let signal = 4.0 * p_hat * (1.0 - p_hat);
            let gain = self.config.learning_rate * signal;
            deltas[c] += gain;
            if c > 0 {
                deltas[c - 1] += self.config.transfer * gain;
            }
            if c + 1 < k {
                deltas[c + 1] += self.config.transfer * gain;
            }
            let advantages = grpo_advantages(&rewards);
            groups.push(Group {
                rewards,
                advantages,
            });
        }
        for (l, d) in self.logits.iter_mut().zip(deltas) {
            *l += d;
        }
        Ok(groups)
    }
}

/// GRPO advantages of one group, as verl computes them: `(r_i − mean) / (std + 1e-6)` with
/// the unbiased standard deviation (0 for a group of one).
pub fn grpo_advantages(rewards: &[f64]) -> Vec<f64> {
    let n = rewards.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let mean = rewards.iter().sum::<f64>() / n as f64;
    let var = rewards.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1) as f64;
    let std = libm::sqrt(var);
    rewards.iter().map(|r| (r - mean) / (std + 1e-6)).collect()
}

/// The trace of a curriculum training the student.
#[derive(Debug, Clone, PartialEq)]
pub struct CurriculumRun {
    /// The first step after which every level was mastered, if it happened.
    pub steps_to_mastery: Option<usize>,
    /// Mean solve rate over levels after each step.
    pub mean_solve_rate: Vec<f64>,
    /// How many slots each category received.
    pub category_counts: Vec<usize>,
    /// Slots whose category the student solved at a rate in `[0.2, 0.8]` when drawn.
    pub intermediate_slots: usize,
    /// All slots drawn.
    pub total_slots: usize,
}

/// Trains `student` with `curriculum` for at most `max_steps` batches of `batch_size`
/// problems, stopping at mastery.
pub fn run_curriculum(
    curriculum: &mut dyn Curriculum,
    student: &mut Student,
    batch_size: usize,
    max_steps: usize,
    rng: &mut dyn RngCore,
) -> Result<CurriculumRun, Error> {
    let k = student.logits.len();
    if curriculum.num_categories() != k {
        return Err(Error::InvalidParameter {
            name: "num_categories",
            value: curriculum.num_categories() as f64,
        });
    }
    let mut run = CurriculumRun {
        steps_to_mastery: None,
        mean_solve_rate: Vec::with_capacity(max_steps),
        category_counts: vec![0; k],
        intermediate_slots: 0,
        total_slots: 0,
    };
    for step in 0..max_steps {
        let categories = curriculum.select_batch(rng, batch_size)?;
        let rates = student.solve_rates();
        for &c in &categories {
            run.category_counts[c] += 1;
            run.total_slots += 1;
            if (0.2..=0.8).contains(&rates[c]) {
                run.intermediate_slots += 1;
            }
        }
        let groups = student.train_step(&categories, rng)?;
        let outcomes: Vec<ProblemOutcome<'_>> = categories
            .iter()
            .zip(&groups)
            .map(|(&category, group)| ProblemOutcome {
                category,
                solve_rate: group.solve_rate(),
                rewards: &group.rewards,
                advantages: &group.advantages,
            })
            .collect();
        curriculum.update(&outcomes)?;
        let rates = student.solve_rates();
        run.mean_solve_rate
            .push(rates.iter().sum::<f64>() / k as f64);
        if student.mastered() {
            run.steps_to_mastery = Some(step + 1);
            break;
        }
    }
    Ok(run)
}
