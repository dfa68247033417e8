//! SCoRe: self-correction by RL (Kumar et al. 2024, "Training Language Models to
//! Self-Correct via Reinforcement Learning"), on the character-level tasks.
//!
//! **Format.** Attempt 1 answers the problem's prompt (`12+39=` → `51`). Attempt 2 answers
//! the second-turn prompt: the problem, the model's own first attempt (its tokens up to the
//! end token, or all `max_completion_length` of them when it did not stop) and the fixed
//! instruction `marker` (default `" again="`): `12+39=51 again=` → `51`
//! ([`second_turn_prompt`]). Both attempts are graded by the task's verifier (1 right,
//! 0 wrong; an attempt without the end token is wrong).
//!
//! **Warm start** (ours, \[MEM\]: the paper starts from an instruction-tuned model that
//! already knows a two-turn format). SFT on the labelled problems for `train.sft.max_steps`
//! steps; each example is, with probability `two_turn_fraction`, two-turn — a first attempt
//! that is the right answer or, with probability `near_miss_fraction`, a near miss (for
//! arithmetic the task's own plausible wrong answers: off by one or a power of ten, swapped
//! digits, a dropped carry; for other families the reference answer of another labelled
//! problem that the verifier rejects), then the right answer as the second attempt, the loss
//! on the second attempt only — else single-turn (prompt → reference completion). The
//! warm-start model is the start of every arm and the frozen reference of the KL terms.
//!
//! **Arms** (each from the warm start, each with its own random stream, so that the arms do
//! not depend on the order they run in):
//!
//! * [`Arm::Score`]: per step `prompts_per_step` unlabelled problems, `samples_per_prompt`
//!   (G) first attempts each, one second attempt per first. With rewards `r1`, `r2` ∈ {0, 1}
//!   and GRPO's group advantages over the G traces of a problem,
//!   `A(r)_i = (r_i − mean_g r) / (std_g r + 10⁻⁴)`:
//!   - stage I (`stage1_steps`): attempt 2 gets `A(r2)` with KL coefficient β₁, attempt 1
//!     gets advantage 0 with KL coefficient β₂ (large): `max E[r(y2)] − β₂ KL(π(y1|x) ‖
//!     π_ref) − β₁ KL(π(y2|x,y1) ‖ π_ref)`;
//!   - stage II (`stage2_steps`): attempt 1 gets `A(r1)`, attempt 2 gets `A(r̂2)` with the
//!     progress bonus `r̂2 = r2 + α (r2 − r1)` ([`progress_reward`]), both with β₁.
//!
//!   The policy loss is spar-losses' clipped surrogate, on-policy (one gradient step per
//!   batch, ratio 1), k3 KL per token; the attempts' two backward passes accumulate into one
//!   optimiser step. Each attempt is credited with its own reward only (the paper's
//!   multi-turn return would also credit attempt 1 with attempt 2's reward).
//! * [`Arm::TraceSft`]: STaR-style SFT on the warm start's own correction traces: two
//!   attempts sampled from the warm start on `trace_prompts` unlabelled problems
//!   (`trace_samples` each, at `temperature`), the traces whose second attempt the verifier
//!   accepts kept; fine-tuning for `trace_steps` on their second turns (second-turn prompt →
//!   attempt 2) and, where attempt 1 was right too, on their first turns.
//! * [`Arm::Grpo`]: single-attempt verifier GRPO from the warm start (`grpo_steps`, the same
//!   batch, `A(r1)` with β₁), the reference that never saw a second-turn reward.
//!
//! **Evaluation** ([`SelfCorrect::evaluate`]): greedy attempt 1 on the held-out problems,
//! greedy attempt 2 on its second-turn prompt; accuracy at both, Δ, Δ^{i→c}, Δ^{c→i}
//! ([`TwoAttemptReport`]).
//!
//! The loop is deterministic from the seed and resumes bit for bit at step granularity
//! ([`SelfCorrect::snapshot`], after the warm start): the self-trace arm's data is sampled
//! from the frozen warm start with its own stream, so a restored run samples it again.

mod config;

pub use config::{
    progress_reward, second_turn_prompt, SelfCorrectConfig, TwoAttemptReport, DEFAULT_MARKER,
};

use crate::eval::complete;
use crate::pg::PgSpec;
use crate::policy::{OptimizerCounters, OptimizerSnapshot};
use crate::rewards::verifier::grade;
use crate::rollout::{Batch, Rollout};
use crate::selfplay::LoopSnapshot;
use crate::trainer::{Snapshot, Trainer};
use crate::TrainError;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
use spar_model::{Gpt, Kernels, SampleConfig};
use spar_tasks::{Candidates, Instance, Problem};

/// Stream of the warm start's draws.
const WARM_STREAM: u64 = 0x5343_0000;
/// Stream of an arm's draws (plus the arm's index).
const ARM_STREAM: u64 = 0x5343_0100;
/// Stream of the self-trace arm's problem draws.
const TRACE_STREAM: u64 = 0x5343_0200;
/// Sampling keys: RL steps, the self-trace collection, the evaluation.
const RL_KEY: u32 = 0xB000_0000;
const TRACE_KEY: u32 = 0xB800_0000;
const EVAL_KEY: u32 = 0xBC00_0000;

/// An arm from the warm start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// SCoRe stage I then stage II.
    Score,
    /// SFT on the warm start's own successful correction traces (STaR-style).
    TraceSft,
    /// Single-attempt verifier GRPO.
    Grpo,
}

impl Arm {
    fn index(self) -> u64 {
        match self {
            Arm::Score => 0,
            Arm::TraceSft => 1,
            Arm::Grpo => 2,
        }
    }
}

/// What one step of an arm did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ArmStepMetrics {
    /// The step within the arm (1-based).
    pub step: u32,
    /// SCoRe's stage (1 or 2; 0 for the other arms).
    pub stage: u32,
    /// Mean reward of the step's first attempts (0 for the self-trace arm).
    pub reward_t1: f64,
    /// Mean reward of the step's second attempts (0 where none are sampled).
    pub reward_t2: f64,
    /// Mean per-token k3 KL of the first attempts to the warm start (0 without a KL term).
    pub kl_t1: f64,
    /// The loss (the NLL for the self-trace arm).
    pub loss: f64,
}

/// The loop's own state besides its tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfCorrectState {
    /// The arm under way (none between arms).
    pub arm: Option<Arm>,
    /// Steps of it done.
    pub arm_step: u32,
    /// Position of the arm's random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The trainer's state.
    pub trainer: crate::TrainState,
}

/// Both attempts at one problem.
struct Trace {
    prompt: Vec<u32>,
    first: Vec<u32>,
    first_stopped: bool,
    second_prompt: Vec<u32>,
    second: Vec<u32>,
    second_stopped: bool,
    r1: f64,
    r2: f64,
}

/// The clipped, on-policy policy loss with KL coefficient `beta` and per-sequence
/// advantages `adv` in groups of `samples_per_prompt`.
fn pg_spec<'a>(c: &SelfCorrectConfig, beta: f64, adv: &'a [f64]) -> PgSpec<'a> {
    let loss = PolicyLossConfig {
        epsilon: c.epsilon,
        epsilon_high: c.epsilon,
        beta,
        ..PolicyLossConfig::default()
    };
    let mut spec = PgSpec::on_policy(loss, Advantages::PerSequence(adv));
    spec.num_generations = c.samples_per_prompt;
    spec
}

/// The SCoRe loop over a backend `K`.
pub struct SelfCorrect<K: Kernels> {
    config: SelfCorrectConfig,
    trainer: Trainer<K>,
    reference: Gpt<K>,
    start: Vec<f32>,
    rng: ChaCha8Rng,
    arm: Option<Arm>,
    arm_step: u32,
    traces: Option<Vec<(Vec<u32>, usize)>>,
}

impl<K: Kernels> SelfCorrect<K> {
    /// Builds the trainer (vocabulary, problems, a freshly initialised model) and the frozen
    /// reference; refuses a model too short for two attempts at the longest prompt.
    pub fn new(
        config: SelfCorrectConfig,
        mut make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let k = make_kernels();
        let trainer = Trainer::new(config.trainer_config(), make_kernels)?;
        let vocab = trainer.vocab();
        let data = trainer.data();
        let longest = data
            .pool
            .iter()
            .chain(&data.eval)
            .map(|p| vocab.encode(&p.prompt).len())
            .max()
            .unwrap_or(0);
        let need = longest + 2 * config.max_completion_length + vocab.encode(&config.marker).len();
        if need > config.train.model.n_positions {
            return Err(TrainError::Config(alloc::format!(
                "`train.model.n_positions` is {}, two attempts at the longest prompt need {need}",
                config.train.model.n_positions
            )));
        }
        let gpt = Trainer::<K>::gpt_config(trainer.config(), trainer.vocab());
        let reference = Gpt::new(k, gpt, config.capacity(), config.train.model.n_positions)?;
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(config.train.seed),
            config,
            trainer,
            reference,
            start: Vec::new(),
            arm: None,
            arm_step: 0,
            traces: None,
        })
    }

    /// The config.
    pub fn config(&self) -> &SelfCorrectConfig {
        &self.config
    }
    /// The trainer (its model is the current policy).
    pub fn trainer(&mut self) -> &mut Trainer<K> {
        &mut self.trainer
    }
    /// The arm under way and its steps done.
    pub fn arm(&self) -> (Option<Arm>, u32) {
        (self.arm, self.arm_step)
    }

    /// Steps of `arm`.
    pub fn arm_steps(&self, arm: Arm) -> u32 {
        let c = &self.config;
        match arm {
            Arm::Score => c.stage1_steps + c.stage2_steps,
            Arm::TraceSft => c.trace_steps,
            Arm::Grpo => c.grpo_steps,
        }
    }

    /// The first attempt of a two-turn warm-start example: a near miss with probability
    /// `near_miss_fraction`, else the reference completion.
    fn warm_first_attempt(&mut self, i: usize) -> String {
        let data = self.trainer.data();
        let p = &data.pool[i];
        if (self.rng.next_u64() as f64 / u64::MAX as f64) >= self.config.near_miss_fraction {
            return p.completion.clone();
        }
        if let Instance::Arithmetic { op, .. } = p.instance {
            if let Ok(w) = spar_tasks::Arithmetic::new(op).candidate(p, false, &mut self.rng) {
                return w;
            }
        }
        let n = data.num_labelled;
        let donor = &data.pool[(self.rng.next_u64() % n as u64) as usize];
        if self.trainer.task().verify(p, &donor.completion) < 1.0 {
            donor.completion.clone()
        } else {
            p.completion.clone()
        }
    }

    /// Runs the warm start (SFT in both turns), keeps its model as the start of every arm and
    /// the reference; returns its held-out evaluation.
    pub async fn warm_start(&mut self) -> Result<TwoAttemptReport, TrainError> {
        let c = self.config.clone();
        let n_lab = self.trainer.data().num_labelled;
        if n_lab == 0 {
            return Err(TrainError::Config(
                "the warm start needs labelled problems (`train.task.labelled_fraction`)".into(),
            ));
        }
        self.rng = ChaCha8Rng::seed_from_u64(c.train.seed);
        self.rng.set_stream(WARM_STREAM);
        let steps = c.train.sft.max_steps;
        self.trainer
            .policy()
            .begin_stage(c.train.sft_optim(), steps);
        let vocab = self.trainer.vocab().clone();
        for s in 0..steps {
            let mut seqs = Vec::with_capacity(c.train.sft.per_device_train_batch_size);
            for _ in 0..c.train.sft.per_device_train_batch_size {
                let i = (self.rng.next_u64() % n_lab as u64) as usize;
                let two = (self.rng.next_u64() as f64 / u64::MAX as f64) < c.two_turn_fraction;
                let p = self.trainer.data().pool[i].clone();
                let prompt = if two {
                    let first = self.warm_first_attempt(i);
                    second_turn_prompt(&p.prompt, &first, &c.marker)
                } else {
                    p.prompt.clone()
                };
                let mut ids = vocab.encode(&prompt);
                let len = ids.len();
                ids.extend(vocab.encode(&p.completion));
                ids.push(vocab.eos());
                seqs.push((ids, len));
            }
            let batch = Batch::from_pairs(&seqs, c.train.model.n_positions);
            let policy = self.trainer.policy();
            policy.nll_backward(&batch, 1.0, s).await?;
            policy.step(s).await?;
        }
        self.start = self.trainer.snapshot().await?.params;
        self.reference.write_params(&self.start)?;
        self.arm = None;
        self.arm_step = 0;
        self.evaluate().await
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

    /// Two attempts at each problem (`copies` first attempts each, one second attempt per
    /// first), from the policy or, with `from_reference`, the warm start.
    async fn two_attempts(
        &mut self,
        problems: &[Problem],
        copies: usize,
        temperature: f32,
        key: u32,
        from_reference: bool,
    ) -> Result<Vec<Trace>, TrainError> {
        let vocab = self.trainer.vocab().clone();
        let cfg = self.sample_config(temperature);
        let check = self.config.train.task.answer_check;
        let prompts: Vec<Vec<u32>> = problems.iter().map(|p| vocab.encode(&p.prompt)).collect();
        let model = if from_reference {
            &mut self.reference
        } else {
            self.trainer.model()
        };
        let firsts = complete(model, &vocab, &prompts, copies, &cfg, key).await?;
        let marker = vocab.encode(&self.config.marker);
        let second_prompts: Vec<Vec<u32>> = firsts
            .iter()
            .enumerate()
            .map(|(j, (_, toks, _))| {
                let mut s = prompts[j / copies].clone();
                s.extend_from_slice(toks);
                s.extend_from_slice(&marker);
                s
            })
            .collect();
        let model = if from_reference {
            &mut self.reference
        } else {
            self.trainer.model()
        };
        let seconds = complete(
            model,
            &vocab,
            &second_prompts,
            1,
            &cfg,
            key.wrapping_add(0x8000),
        )
        .await?;
        let task = self.trainer.task();
        Ok(firsts
            .into_iter()
            .zip(seconds)
            .zip(second_prompts)
            .enumerate()
            .map(
                |(j, (((t1, first, s1), (t2, second, s2)), second_prompt))| {
                    let p = &problems[j / copies];
                    Trace {
                        prompt: prompts[j / copies].clone(),
                        first,
                        first_stopped: s1,
                        second_prompt,
                        second,
                        second_stopped: s2,
                        r1: grade(task, p, &t1, s1, check),
                        r2: grade(task, p, &t2, s2, check),
                    }
                },
            )
            .collect())
    }

    /// Greedy attempts 1 and 2 on the held-out problems.
    pub async fn evaluate(&mut self) -> Result<TwoAttemptReport, TrainError> {
        let problems = self.trainer.data().eval.clone();
        let traces = self
            .two_attempts(&problems, 1, 0.0, EVAL_KEY, false)
            .await?;
        let grades: Vec<(bool, bool, bool)> = traces
            .iter()
            .map(|t| (t.r1 > 0.5, t.r2 > 0.5, t.first != t.second))
            .collect();
        Ok(TwoAttemptReport::from_grades(&grades))
    }

    /// Starts `arm` from the warm start (its model, a new optimiser stage, the arm's own
    /// random stream). Refuses before the warm start.
    pub fn begin_arm(&mut self, arm: Arm) -> Result<(), TrainError> {
        if self.start.is_empty() {
            return Err(TrainError::Config("the warm start has not run".into()));
        }
        self.trainer.load_params(&self.start)?;
        let steps = self.arm_steps(arm);
        let optim = self.arm_optim(arm);
        self.trainer.policy().begin_stage(optim, steps);
        self.rng = ChaCha8Rng::seed_from_u64(self.config.train.seed);
        self.rng.set_stream(ARM_STREAM + arm.index());
        self.arm = Some(arm);
        self.arm_step = 0;
        Ok(())
    }

    fn arm_optim(&self, arm: Arm) -> crate::optim::OptimConfig {
        match arm {
            Arm::TraceSft => self.config.trace_optim(),
            _ => self.config.rl_optim(),
        }
    }

    /// `prompts_per_step` unlabelled problems from the arm's stream.
    fn draw_problems(&mut self, n: usize, rng_trace: bool) -> Result<Vec<Problem>, TrainError> {
        let data = self.trainer.data();
        let (lo, hi) = (data.num_labelled, data.pool.len());
        if lo >= hi {
            return Err(TrainError::Config(
                "the pool has no unlabelled problems".into(),
            ));
        }
        let mut trace_rng = ChaCha8Rng::seed_from_u64(self.config.train.seed);
        trace_rng.set_stream(TRACE_STREAM);
        let rng = if rng_trace {
            &mut trace_rng
        } else {
            &mut self.rng
        };
        Ok((0..n)
            .map(|_| data.pool[lo + (rng.next_u64() % (hi - lo) as u64) as usize].clone())
            .collect())
    }

    /// The self-trace arm's data: the warm start's successful correction traces.
    async fn collect_traces(&mut self) -> Result<Vec<(Vec<u32>, usize)>, TrainError> {
        let c = self.config.clone();
        let problems = self.draw_problems(c.trace_prompts, true)?;
        let traces = self
            .two_attempts(&problems, c.trace_samples, c.temperature, TRACE_KEY, true)
            .await?;
        let eos = self.trainer.vocab().eos();
        let mut data = Vec::new();
        for t in traces.iter().filter(|t| t.r2 > 0.5) {
            let mut s = t.second_prompt.clone();
            s.extend_from_slice(&t.second);
            s.push(eos);
            data.push((s, t.second_prompt.len()));
            if t.r1 > 0.5 {
                let mut s = t.prompt.clone();
                s.extend_from_slice(&t.first);
                s.push(eos);
                data.push((s, t.prompt.len()));
            }
        }
        Ok(data)
    }

    /// How many sequences the self-trace arm fine-tunes on (collects them if needed).
    pub async fn trace_count(&mut self) -> Result<usize, TrainError> {
        if self.traces.is_none() {
            self.traces = Some(self.collect_traces().await?);
        }
        Ok(self.traces.as_ref().map_or(0, Vec::len))
    }

    /// One optimiser step of the arm under way.
    pub async fn step(&mut self) -> Result<ArmStepMetrics, TrainError> {
        let arm = self
            .arm
            .ok_or_else(|| TrainError::Config("no arm under way (`begin_arm`)".into()))?;
        if self.arm_step >= self.arm_steps(arm) {
            return Err(TrainError::Config("every step of the arm is done".into()));
        }
        let s = self.arm_step;
        let m = match arm {
            Arm::TraceSft => self.trace_step(s).await?,
            Arm::Score | Arm::Grpo => self.rl_step(arm, s).await?,
        };
        self.arm_step += 1;
        Ok(m)
    }

    async fn trace_step(&mut self, s: u32) -> Result<ArmStepMetrics, TrainError> {
        self.trace_count().await?;
        let data = self.traces.as_deref().unwrap_or(&[]);
        let mut loss = 0.0;
        if !data.is_empty() {
            let seqs: Vec<(Vec<u32>, usize)> = (0..self.config.trace_batch_size)
                .map(|_| data[(self.rng.next_u64() % data.len() as u64) as usize].clone())
                .collect();
            let batch = Batch::from_pairs(&seqs, self.config.train.model.n_positions);
            let policy = self.trainer.policy();
            loss = policy.nll_backward(&batch, 1.0, s).await?;
            policy.step(s).await?;
        }
        Ok(ArmStepMetrics {
            step: s + 1,
            loss,
            ..ArmStepMetrics::default()
        })
    }

    async fn rl_step(&mut self, arm: Arm, s: u32) -> Result<ArmStepMetrics, TrainError> {
        let c = self.config.clone();
        let g = c.samples_per_prompt;
        let problems = self.draw_problems(c.prompts_per_step, false)?;
        let key = RL_KEY
            .wrapping_add((arm.index() as u32) << 24)
            .wrapping_add(s.wrapping_mul(16));
        let traces = self
            .two_attempts(&problems, g, c.temperature, key, false)
            .await?;
        let eos = self.trainer.vocab().eos();
        let rollout = |prompt: &[u32], comp: &[u32], stopped: bool| {
            let mut t = prompt.to_vec();
            t.extend_from_slice(comp);
            if stopped {
                t.push(eos);
            }
            Rollout::new(t, prompt.len())
        };
        let first: Vec<Rollout> = traces
            .iter()
            .map(|t| rollout(&t.prompt, &t.first, t.first_stopped))
            .collect();
        let second: Vec<Rollout> = traces
            .iter()
            .map(|t| rollout(&t.second_prompt, &t.second, t.second_stopped))
            .collect();
        let r1: Vec<f64> = traces.iter().map(|t| t.r1).collect();
        let r2: Vec<f64> = traces.iter().map(|t| t.r2).collect();
        let stage = match arm {
            Arm::Score if s < c.stage1_steps => 1,
            Arm::Score => 2,
            _ => 0,
        };
        let advantages = |r: &[f64]| -> Result<Vec<f64>, TrainError> {
            let mut a = vec![0.0; r.len()];
            grpo_advantages(r, g, ScaleRewards::Group, TRL_STD_EPSILON, &mut a)?;
            Ok(a)
        };
        let zeros = vec![0.0; r1.len()];
        let a1 = if stage == 1 { zeros } else { advantages(&r1)? };
        let beta_t1 = if stage == 1 { c.beta2 } else { c.beta1 };
        let n_pos = c.train.model.n_positions;
        let refs1: Vec<&Rollout> = first.iter().collect();
        let reference = (beta_t1 > 0.0).then_some(&mut self.reference);
        let out1 = self
            .trainer
            .policy()
            .policy_gradient(&refs1, &pg_spec(&c, beta_t1, &a1), reference, n_pos, s)
            .await?;
        let mut loss = out1.loss;
        if arm == Arm::Score {
            let shaped: Vec<f64> = if stage == 2 {
                r1.iter()
                    .zip(&r2)
                    .map(|(&a, &b)| progress_reward(a, b, c.alpha))
                    .collect()
            } else {
                r2.clone()
            };
            let a2 = advantages(&shaped)?;
            let refs2: Vec<&Rollout> = second.iter().collect();
            let reference = (c.beta1 > 0.0).then_some(&mut self.reference);
            let out2 = self
                .trainer
                .policy()
                .policy_gradient(&refs2, &pg_spec(&c, c.beta1, &a2), reference, n_pos, s)
                .await?;
            loss += out2.loss;
        }
        self.trainer.policy().step(s).await?;
        let mean = |r: &[f64]| r.iter().sum::<f64>() / r.len().max(1) as f64;
        Ok(ArmStepMetrics {
            step: s + 1,
            stage,
            reward_t1: mean(&r1),
            reward_t2: mean(&r2),
            kl_t1: out1.kl,
            loss,
        })
    }

    /// The state after the warm start, at any step: the policy and its optimiser, the warm
    /// start (tensor `start`), the arm and its steps done, the arm's random stream and the
    /// trainer's state. Refuses before the warm start.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<SelfCorrectState>, TrainError> {
        if self.start.is_empty() {
            return Err(TrainError::Config(
                "a SCoRe run is checkpointed after its warm start".into(),
            ));
        }
        let t = self.trainer.snapshot().await?;
        Ok(LoopSnapshot {
            params: t.params,
            optimizer: OptimizerSnapshot {
                m: t.m,
                v: t.v,
                counters: OptimizerCounters {
                    adam_steps: t.state.adam_t,
                    stage_step: t.state.stage_step,
                },
            },
            tensors: vec![("start".into(), self.start.clone())],
            state: SelfCorrectState {
                arm: self.arm,
                arm_step: self.arm_step,
                rng_word_pos: crate::selfplay::rng_position(&self.rng),
                trainer: t.state,
            },
        })
    }

    /// Restores a [`SelfCorrect::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<SelfCorrectState>) -> Result<(), TrainError> {
        let start = snap
            .tensors
            .iter()
            .find(|(n, _)| n == "start")
            .map(|(_, t)| t.clone())
            .ok_or_else(|| TrainError::Checkpoint("no `start` tensor".into()))?;
        if let Some(arm) = snap.state.arm {
            if snap.state.arm_step > self.arm_steps(arm) {
                return Err(TrainError::Checkpoint(
                    "more steps done than the arm has".into(),
                ));
            }
        }
        let mut state = snap.state.trainer.clone();
        state.adam_t = snap.optimizer.counters.adam_steps;
        state.stage_step = snap.optimizer.counters.stage_step;
        self.trainer.restore(&Snapshot {
            state,
            params: snap.params.clone(),
            m: snap.optimizer.m.clone(),
            v: snap.optimizer.v.clone(),
            reference: None,
        })?;
        self.reference.write_params(&start)?;
        self.rng = ChaCha8Rng::seed_from_u64(self.config.train.seed);
        if let Some(arm) = snap.state.arm {
            let (optim, steps) = (self.arm_optim(arm), self.arm_steps(arm));
            self.trainer.policy().set_stage_options(optim, steps);
            self.rng.set_stream(ARM_STREAM + arm.index());
        } else {
            self.rng.set_stream(WARM_STREAM);
        }
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.start = start;
        self.arm = snap.state.arm;
        self.arm_step = snap.state.arm_step;
        self.traces = None;
        Ok(())
    }
}
