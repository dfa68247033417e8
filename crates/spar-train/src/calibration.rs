//! Calibrated confidence, SaySelf-style (Xu et al. 2024, "SaySelf: Teaching LLMs to Express
//! Confidence with Self-Reflective Rationales"): the model follows its answer with a
//! confidence digit, `51 c7` (confidence `7/9`), and RL rewards the answer and a proper
//! scoring rule on the confidence.
//!
//! 1. SFT on the labelled problems (plain answers), through the [`Trainer`].
//! 2. **Confidence SFT** (SaySelf's first stage, without rationales): for
//!    `confidence_problems` unlabelled problems, the model's greedy answer and
//!    `consistency_samples` (K) samples; the confidence is the share of samples that give the
//!    greedy answer, `d = round(9 · share)`, and the target is the model's own answer with it
//!    (`greedy cd`): only the confidence is taught, not the answer; no label is used.
//! 3. **RL** (GRPO groups of `num_generations` per unlabelled prompt, the shared policy
//!    core): with `y` = 1 when the answer part passes the verifier and `c = d / 9`,
//!
//! ```text
//! r = y + λ · (1 − (c − y)²)          (Brier's proper scoring rule, λ = brier_weight)
//! r = 0                               (no ` c<digit>` suffix)
//! ```
//! λ = 0 rewards the answer alone (the confidence drifts with the policy). The evaluation
//! (greedy, held out) reports accuracy, the format rate, the Brier score and the expected
//! calibration error over the ten confidence values:
//! `ECE = Σ_d (n_d / N) · |acc_d − d/9|`.

use crate::config::TrainConfig;
use crate::optim::{OptimConfig, OptimOverride};
use crate::pg::PgSpec;
use crate::rollout::{Batch, Rollout};
use crate::selfplay::LoopSnapshot;
use crate::trainer::Trainer;
use crate::TrainError;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
use spar_model::{Kernels, SampleConfig};
use spar_tasks::{Problem, Task};

/// Stream of the loop's draws, apart from the trainer's.
const CAL_STREAM: u64 = 0x6361_6c69;
/// Sampling keys of the loop, apart from the trainer's and the evaluation's.
const CAL_KEY: u32 = 0xB000_0000;

/// Splits a completion `ANSWER cD` into the answer text and the confidence digit `D`; `None`
/// without exactly that suffix.
///
/// ```
/// use spar_train::calibration::split_confidence;
/// assert_eq!(split_confidence("51 c7"), Some(("51", 7)));
/// assert_eq!(split_confidence("51"), None);
/// assert_eq!(split_confidence("51 c77"), None);
/// ```
pub fn split_confidence(text: &str) -> Option<(&str, u32)> {
    let (answer, digit) = text.rsplit_once(" c")?;
    let mut chars = digit.chars();
    let d = chars.next()?.to_digit(10)?;
    (chars.next().is_none() && !answer.is_empty()).then_some((answer, d))
}

/// The reward of a completion (see the module docs): `right` the verifier's grade of the
/// answer part, `digit` the confidence digit (`None`: no suffix, reward 0).
pub fn calibrated_reward(right: bool, digit: Option<u32>, brier_weight: f64) -> f64 {
    match digit {
        None => 0.0,
        Some(d) => {
            let y = f64::from(u8::from(right));
            let c = f64::from(d.min(9)) / 9.0;
            y + brier_weight * (1.0 - (c - y) * (c - y))
        }
    }
}

/// Calibration of held-out answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CalibrationReport {
    /// Share of problems whose answer part passes the verifier (no suffix: wrong).
    pub accuracy: f64,
    /// Share of completions with a confidence suffix.
    pub format_rate: f64,
    /// Mean stated confidence over the completions with a suffix.
    pub mean_confidence: f64,
    /// Mean `(c − y)²` over the completions with a suffix.
    pub brier: f64,
    /// Expected calibration error over the ten confidence values (completions with a suffix).
    pub ece: f64,
}

/// The calibration of `(right, digit)` outcomes (see [`CalibrationReport`]).
pub fn calibration_report(outcomes: &[(bool, Option<u32>)]) -> CalibrationReport {
    let n = outcomes.len().max(1) as f64;
    let stated: Vec<(bool, u32)> = outcomes
        .iter()
        .filter_map(|&(r, d)| d.map(|d| (r, d.min(9))))
        .collect();
    let m = stated.len().max(1) as f64;
    let mut bins = [(0usize, 0usize); 10];
    let (mut conf, mut brier) = (0.0, 0.0);
    for &(r, d) in &stated {
        let (c, y) = (f64::from(d) / 9.0, f64::from(u8::from(r)));
        conf += c;
        brier += (c - y) * (c - y);
        bins[d as usize].0 += 1;
        bins[d as usize].1 += usize::from(r);
    }
    let ece = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(d, &(k, right))| (k as f64 / m) * (right as f64 / k as f64 - d as f64 / 9.0).abs())
        .sum();
    CalibrationReport {
        accuracy: outcomes.iter().filter(|o| o.0).count() as f64 / n,
        format_rate: stated.len() as f64 / n,
        mean_confidence: conf / m,
        brier: brier / m,
        ece,
    }
}

/// A calibration run (`configs/calibration.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalibrationConfig {
    /// The model, the task with its labelled split, the SFT stage and the evaluation (its
    /// `grpo` section is not used).
    pub train: TrainConfig,
    /// Unlabelled problems whose consistency makes the confidence-SFT targets.
    pub confidence_problems: usize,
    /// K: samples per problem for the consistency.
    pub consistency_samples: usize,
    /// Steps of confidence SFT.
    pub confidence_sft_steps: u32,
    /// Sequences per confidence-SFT batch.
    pub batch_size: usize,
    /// The confidence SFT's overrides of `train.optim`.
    pub confidence_optim: OptimOverride,
    /// RL steps.
    pub rl_steps: u32,
    /// Unlabelled prompts per RL step.
    pub prompts_per_step: usize,
    /// Completions per prompt (a GRPO group).
    pub num_generations: usize,
    /// λ: the weight of the Brier term in the reward (0: the answer alone).
    pub brier_weight: f64,
    /// Sampling temperature (consistency samples and RL).
    pub temperature: f32,
    /// New tokens per completion at most (the end token included).
    pub max_completion_length: usize,
    /// The RL stage's overrides of `train.optim`.
    pub rl_optim: OptimOverride,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self {
            train: TrainConfig {
                output_dir: "runs/calibration".into(),
                ..TrainConfig::default()
            },
            confidence_problems: 1000,
            consistency_samples: 8,
            confidence_sft_steps: 300,
            batch_size: 64,
            confidence_optim: OptimOverride::lr(1e-3),
            rl_steps: 300,
            prompts_per_step: 16,
            num_generations: 8,
            brier_weight: 1.0,
            temperature: 1.0,
            max_completion_length: 8,
            rl_optim: OptimOverride::lr(1e-4),
        }
    }
}

impl CalibrationConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(format!("`{f}` {why}")));
        self.train.validate()?;
        if self.confidence_problems == 0 {
            return bad("confidence_problems", "must be at least 1");
        }
        if !(2..=64).contains(&self.consistency_samples) {
            return bad("consistency_samples", "must be in [2, 64]");
        }
        if self.batch_size == 0 || self.prompts_per_step == 0 {
            return bad("batch_size", "and `prompts_per_step` must be at least 1");
        }
        if !(2..=64).contains(&self.num_generations) {
            return bad("num_generations", "must be in [2, 64]");
        }
        if !(self.brier_weight >= 0.0 && self.brier_weight.is_finite()) {
            return bad("brier_weight", "must be finite and ≥ 0");
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if self.max_completion_length < 4 {
            return bad(
                "max_completion_length",
                "must leave room for ` cD` (at least 4)",
            );
        }
        if !self.train.model.charset.contains('c') || !self.train.model.charset.contains(' ') {
            return bad(
                "train.model.charset",
                "needs ` ` and `c` for the confidence suffix",
            );
        }
        self.confidence_sft_optim().validate("confidence_optim")?;
        self.rl_stage_optim().validate("rl_optim")?;
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The confidence SFT's resolved optimiser options.
    pub fn confidence_sft_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.confidence_optim)
    }

    /// The RL stage's resolved optimiser options.
    pub fn rl_stage_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.rl_optim)
    }
}

/// The loop's own state besides its tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationState {
    /// 0: before confidence SFT, 1: before RL, 2: in RL.
    pub stage: u32,
    /// RL steps done.
    pub rl_step: u32,
    /// Position of the loop's random stream.
    pub rng_word_pos: String,
    /// The trainer's state.
    pub trainer: crate::TrainState,
}

/// What one RL step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CalibrationStepMetrics {
    /// The RL step (0-based).
    pub step: u32,
    /// Mean reward.
    pub reward: f64,
    /// Share of the completions whose answer is right.
    pub accuracy: f64,
    /// Share of the completions with a confidence suffix.
    pub format_rate: f64,
    /// Mean stated confidence of the completions with one.
    pub mean_confidence: f64,
}

/// The calibration loop over a backend `K`.
pub struct Calibration<K: Kernels> {
    config: CalibrationConfig,
    trainer: Trainer<K>,
    rng: ChaCha8Rng,
    stage: u32,
    rl_step: u32,
}

impl<K: Kernels> Calibration<K> {
    /// Builds the trainer (vocabulary, problems, a freshly initialised model).
    pub fn new(
        config: CalibrationConfig,
        make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let rows = (config.prompts_per_step * config.num_generations)
            .max(config.batch_size)
            .max(config.consistency_samples);
        let tc =
            crate::selfplay::sft_stage_config(&config.train, rows, config.max_completion_length);
        let trainer = Trainer::new(tc, make_kernels)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
        rng.set_stream(CAL_STREAM);
        Ok(Self {
            config,
            trainer,
            rng,
            stage: 0,
            rl_step: 0,
        })
    }

    /// The trainer.
    pub fn trainer(&mut self) -> &mut Trainer<K> {
        &mut self.trainer
    }

    fn sample_config(&self, temperature: f32) -> SampleConfig {
        SampleConfig {
            max_new_tokens: self.config.max_completion_length,
            temperature,
            top_k: 0,
            top_p: 1.0,
            stop_tokens: vec![self.trainer.vocab().eos()],
            seed: self.config.train.seed,
        }
    }

    /// Runs the answer SFT and the confidence SFT (each once); returns the number of
    /// confidence targets made.
    pub async fn warm_start(&mut self) -> Result<usize, TrainError> {
        while self.trainer.step() < self.config.train.sft.max_steps {
            self.trainer.train_step().await?;
        }
        if self.stage > 0 {
            return Ok(0);
        }
        let crate::selfplay::DrawnPrompts { prompts, .. } =
            crate::selfplay::draw_unlabelled_prompts(
                &self.trainer,
                self.config.confidence_problems,
                &mut self.rng,
            )?;
        let vocab = self.trainer.vocab().clone();
        let greedy_cfg = self.sample_config(0.0);
        let greedy = crate::eval::complete(
            self.trainer.model(),
            &vocab,
            &prompts,
            1,
            &greedy_cfg,
            CAL_KEY,
        )
        .await?;
        let k = self.config.consistency_samples;
        let sample_cfg = self.sample_config(self.config.temperature);
        let samples = crate::eval::complete(
            self.trainer.model(),
            &vocab,
            &prompts,
            k,
            &sample_cfg,
            CAL_KEY + 1,
        )
        .await?;
        let task = self.trainer.task();
        let mut targets = Vec::new();
        for (u, (text, _, stopped)) in greedy.iter().enumerate() {
            let Some(answer) = task.extract_answer(text).filter(|_| *stopped) else {
                continue;
            };
            let agree = samples[u * k..(u + 1) * k]
                .iter()
                .filter(|(t, _, s)| *s && task.extract_answer(t).as_ref() == Some(&answer))
                .count();
            let d = libm::round(9.0 * agree as f64 / k as f64) as u32;
            let mut s = prompts[u].clone();
            s.extend(vocab.encode(&format!("{} c{d}", text.trim())));
            s.push(vocab.eos());
            targets.push((s, prompts[u].len()));
        }
        if targets.is_empty() {
            return Err(TrainError::Config(
                "the SFT model answered none of the confidence problems".into(),
            ));
        }
        let n_pos = self.config.train.model.n_positions;
        let steps = self.config.confidence_sft_steps;
        self.trainer
            .policy()
            .begin_stage(self.config.confidence_sft_optim(), steps);
        for s in 0..steps {
            let batch: Vec<(Vec<u32>, usize)> = (0..self.config.batch_size)
                .map(|_| targets[(self.rng.next_u64() % targets.len() as u64) as usize].clone())
                .collect();
            let batch = Batch::from_pairs(&batch, n_pos);
            let policy = self.trainer.policy();
            policy.nll_backward(&batch, 1.0, s).await?;
            policy.step(s).await?;
        }
        self.stage = 1;
        Ok(targets.len())
    }

    /// One RL step (see the module docs). Runs the warm start first if it has not run.
    pub async fn rl_step(&mut self) -> Result<CalibrationStepMetrics, TrainError> {
        if self.stage == 0 {
            self.warm_start().await?;
        }
        if self.rl_step >= self.config.rl_steps {
            return Err(TrainError::Config("every RL step is done".into()));
        }
        if self.stage == 1 {
            self.trainer
                .policy()
                .begin_stage(self.config.rl_stage_optim(), self.config.rl_steps);
            self.stage = 2;
        }
        let g = self.config.num_generations;
        let crate::selfplay::DrawnPrompts {
            problems, prompts, ..
        } = crate::selfplay::draw_unlabelled_prompts(
            &self.trainer,
            self.config.prompts_per_step,
            &mut self.rng,
        )?;
        let vocab = self.trainer.vocab().clone();
        let seqs: Vec<&[u32]> = prompts
            .iter()
            .flat_map(|p| core::iter::repeat_n(p.as_slice(), g))
            .collect();
        let cfg = self.sample_config(self.config.temperature);
        let key = CAL_KEY + 2 + self.rl_step;
        let gens = self.trainer.model().generate(&seqs, &cfg, key).await?;
        let task = self.trainer.task();
        let mut rewards = Vec::with_capacity(gens.len());
        let mut rollouts = Vec::with_capacity(gens.len());
        let (mut right_n, mut stated, mut conf) = (0usize, 0usize, 0.0);
        for (j, gen) in gens.iter().enumerate() {
            let end = gen
                .tokens
                .iter()
                .position(|&t| t == vocab.eos())
                .unwrap_or(gen.tokens.len());
            let text = vocab.decode(&gen.tokens[..end]);
            let (right, digit) = grade(task, &problems[j / g], &text, gen.stopped);
            right_n += usize::from(right);
            if let Some(d) = digit {
                stated += 1;
                conf += f64::from(d) / 9.0;
            }
            rewards.push(calibrated_reward(right, digit, self.config.brier_weight));
            let mut tokens = seqs[j].to_vec();
            tokens.extend_from_slice(&gen.tokens);
            let mut r = Rollout::new(tokens, seqs[j].len());
            r.old_logprobs = gen.logprobs.clone();
            r.reward = *rewards.last().unwrap_or(&0.0);
            rollouts.push(r);
        }
        let mut adv = vec![0.0; rewards.len()];
        grpo_advantages(&rewards, g, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv)?;
        let refs: Vec<&Rollout> = rollouts.iter().collect();
        let mut spec =
            PgSpec::on_policy(PolicyLossConfig::default(), Advantages::PerSequence(&adv));
        spec.num_generations = g;
        spec.use_old_logprobs = true;
        let n_pos = self.config.train.model.n_positions;
        let step = self.rl_step;
        let policy = self.trainer.policy();
        policy
            .policy_gradient(&refs, &spec, None, n_pos, step)
            .await?;
        policy.step(step).await?;
        self.rl_step += 1;
        let n = rewards.len().max(1) as f64;
        Ok(CalibrationStepMetrics {
            step,
            reward: rewards.iter().sum::<f64>() / n,
            accuracy: right_n as f64 / n,
            format_rate: stated as f64 / n,
            mean_confidence: conf / stated.max(1) as f64,
        })
    }

    /// Greedy held-out calibration of the current model.
    pub async fn evaluate(&mut self) -> Result<CalibrationReport, TrainError> {
        let vocab = self.trainer.vocab().clone();
        let problems = self.trainer.data().eval.clone();
        let prompts: Vec<Vec<u32>> = problems.iter().map(|p| vocab.encode(&p.prompt)).collect();
        let cfg = self.sample_config(0.0);
        let out =
            crate::eval::complete(self.trainer.model(), &vocab, &prompts, 1, &cfg, CAL_KEY - 1)
                .await?;
        let task = self.trainer.task();
        let outcomes: Vec<(bool, Option<u32>)> = out
            .iter()
            .zip(&problems)
            .map(|((text, _, stopped), p)| grade(task, p, text, *stopped))
            .collect();
        Ok(calibration_report(&outcomes))
    }

    /// The state between steps (after the warm start): the model and its optimiser, the
    /// stage, the RL step, the loop's random stream and the trainer's state.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<CalibrationState>, TrainError> {
        if self.stage == 0 {
            return Err(TrainError::Config(
                "a calibration run is checkpointed after its warm start".into(),
            ));
        }
        let t = self.trainer.snapshot().await?;
        let (stage, rl_step) = (self.stage, self.rl_step);
        let rng_word_pos = crate::selfplay::rng_position(&self.rng);
        Ok(crate::selfplay::trainer_loop_snapshot(
            t,
            Vec::new(),
            |trainer| CalibrationState {
                stage,
                rl_step,
                rng_word_pos,
                trainer,
            },
        ))
    }

    /// Restores a [`Calibration::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<CalibrationState>) -> Result<(), TrainError> {
        self.trainer
            .restore(&crate::selfplay::trainer_part(snap, &snap.state.trainer))?;
        let (optim, steps) = if snap.state.stage >= 2 {
            (self.config.rl_stage_optim(), self.config.rl_steps)
        } else {
            (
                self.config.confidence_sft_optim(),
                self.config.confidence_sft_steps,
            )
        };
        self.trainer.policy().set_stage_options(optim, steps);
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.stage = snap.state.stage;
        self.rl_step = snap.state.rl_step;
        Ok(())
    }
}

/// The grade of a completion: whether its answer part passes the verifier (and it stopped),
/// and its confidence digit.
fn grade(task: &dyn Task, problem: &Problem, text: &str, stopped: bool) -> (bool, Option<u32>) {
    match split_confidence(text.trim()) {
        Some((answer, d)) => (stopped && task.verify(problem, answer) >= 1.0, Some(d)),
        None => (false, None),
    }
}
