//! The loop: SFT on the labelled problems, then RL. One [`Trainer::train_step`] is one
//! optimiser step of whichever stage the step counter is in.
//!
//! An RL step follows the one data flow of the design:
//! 1. the curriculum picks a level (arm) for each of the step's prompts; a problem is drawn
//!    from that level's pool (Co-Reward adds a paraphrase of each);
//! 2. the model samples `num_generations` completions per prompt with its key/value cache,
//!    keeping the sampler's log-probs as the old policy's;
//! 3. the reward source scores them ([`crate::rewards`]); with dynamic sampling, groups
//!    whose rewards are all equal are dropped and more prompts drawn;
//! 4. one forward gives the policy's per-token log-probs and entropies (and the reference
//!    model's, for the KL);
//! 5. spar-losses gives GRPO advantages and `∂L/∂logp` per token; the model back-propagates
//!    exactly that; AdamW steps after the gradient norm is checked to be finite.
//!
//! Options against the collapse of the label-free rewards (all off by default; see
//! [`crate::config::GrpoSection`]): the vote gates zero a group's rewards in step 3;
//! `labelled_fraction_per_step` draws some of step 1's prompts from the labelled problems and
//! grades them with the verifier; `ptx_coef` (labelled examples) and `self_train_coef` (one
//! completion of each unanimous label-free group) add a token NLL term whose gradient
//! accumulates with the policy loss's before the one AdamW step.
//!
//! The step is `async` because reading the GPU back is; native code drives it with
//! [`spar_model::block_on`]. A NaN or infinity in the log-probs, the loss or the gradient
//! stops the step before the update with [`TrainError::NonFinite`] naming the step.

use crate::config::{CurriculumName, RewardSource, TrainConfig};
use crate::data::ProblemSet;
use crate::eval::{complete, evaluate, EvalOptions, EvalReport};
use crate::rewards;
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_bandits::{Curriculum, ProblemOutcome, Sec, SecConfig, Uniform};
use spar_losses::grpo::{grpo_advantages, TRL_STD_EPSILON};
use spar_losses::kl::{kl_penalty, KlEstimator};
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_model::optim::{AdamWConfig, LrSchedule};
use spar_model::{Gpt, GptConfig, Kernels, SampleConfig};
use spar_tasks::{Answer, Problem, Task};

/// Stream of the trainer's own random draws (batches, problems, paraphrases).
const TRAIN_STREAM: u64 = 0x7472_6169;

/// Which stage a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Supervised warm start.
    Sft,
    /// Reinforcement learning.
    Rl,
    /// Both stages are finished.
    Done,
}

/// The curriculum's state (serialisable, so a resumed run continues it exactly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurriculumState {
    /// Uniform over the levels.
    Uniform(Uniform),
    /// SEC.
    Sec(Sec),
}

impl CurriculumState {
    fn get(&self) -> &dyn Curriculum {
        match self {
            CurriculumState::Uniform(c) => c,
            CurriculumState::Sec(c) => c,
        }
    }
    fn get_mut(&mut self) -> &mut dyn Curriculum {
        match self {
            CurriculumState::Uniform(c) => c,
            CurriculumState::Sec(c) => c,
        }
    }
}

/// The metrics of one step (one JSON line in the CLI's `metrics.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StepMetrics {
    /// The step (0-based, over both stages).
    pub step: u32,
    /// `"sft"` or `"rl"`.
    pub phase: String,
    /// The loss that was minimised.
    pub loss: f64,
    /// Learning rate of the step.
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Mean reward of the trained completions (RL).
    pub reward: f64,
    /// Fraction of the trained completions the verifier accepts (a metric only: label-free
    /// rewards never see it).
    pub accuracy: f64,
    /// Fraction of the label-free groups graded against a pseudo-label (those the gates let
    /// through) whose pseudo-label is the true answer (majority vote, Co-Reward).
    pub label_accuracy: Option<f64>,
    /// Mean vote ratio of the label-free groups' pseudo-labels (majority vote, Co-Reward).
    pub majority_ratio: Option<f64>,
    /// Fraction of the label-free groups not graded (gated out, or nothing parsed).
    pub gated_fraction: Option<f64>,
    /// Mean NLL of the auxiliary SFT batch (`ptx_coef > 0`).
    pub ptx_loss: Option<f64>,
    /// Mean NLL of the self-training examples (`self_train_coef > 0` and at least one
    /// unanimous label-free group).
    pub self_train_loss: Option<f64>,
    /// Self-training examples in the step (unanimous label-free groups).
    pub self_train_examples: usize,
    /// Mean per-token k3 KL to the model at the start of RL (0 without a reference).
    pub kl: f64,
    /// Mean per-token entropy of the policy over the completions.
    pub entropy: f64,
    /// Mean completion length in tokens (the end token included).
    pub completion_length: f64,
    /// Fraction of groups whose rewards are all equal (no learning signal).
    pub zero_spread_fraction: f64,
    /// Fraction of tokens clipped (low + high).
    pub clip_fraction: f64,
    /// Largest `|logp − logp_old|` between the training forward and the sampler.
    pub max_logprob_gap: f64,
    /// Groups in the step.
    pub num_groups: usize,
    /// Groups dropped by dynamic sampling.
    pub num_dropped: usize,
    /// The curriculum's probability for each level after the update.
    pub curriculum: Vec<f64>,
}

/// Everything besides the tensors that a resumed run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Steps done.
    pub step: u32,
    /// AdamW's step counter (bias correction).
    pub adam_t: u32,
    /// Position of the trainer's random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The curriculum.
    pub curriculum: CurriculumState,
}

/// A trainer's full state: [`TrainState`] plus parameters, AdamW moments and the reference
/// model's parameters (once RL has begun).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Step counters, random stream, curriculum.
    pub state: TrainState,
    /// Model parameters (flat layout).
    pub params: Vec<f32>,
    /// AdamW first moments.
    pub m: Vec<f32>,
    /// AdamW second moments.
    pub v: Vec<f32>,
    /// The reference model's parameters.
    pub reference: Option<Vec<f32>>,
}

/// One sampled completion on its way to the loss.
#[derive(Debug, Clone)]
struct Rollout {
    /// Prompt then completion ids.
    full: Vec<u32>,
    prompt_len: usize,
    /// The sampler's log-prob of each completion token.
    old_logprobs: Vec<f32>,
    reward: f64,
    correct: f64,
}

/// A label-free group's vote: whether its pseudo-label is the true answer, the label's vote
/// ratio, and whether the gates let it grade the group.
#[derive(Debug, Clone, Copy)]
struct VoteStat {
    right: bool,
    ratio: f64,
    used: bool,
}

/// A prompt's group (Co-Reward: the original's group followed by the paraphrase's).
#[derive(Debug, Clone)]
struct Unit {
    arm: usize,
    rollouts: Vec<Rollout>,
    votes: Vec<VoteStat>,
}

/// A padded batch: `tokens`, `targets`, `mask` are `B × T` row-major.
pub(crate) struct Batch {
    pub(crate) b: usize,
    pub(crate) t: usize,
    pub(crate) tokens: Vec<u32>,
    pub(crate) targets: Vec<u32>,
    pub(crate) mask: Vec<bool>,
}

impl Batch {
    /// Per-slot log-probs of the targets under `model`, and per-slot entropies when `entropy`
    /// (zeros otherwise), both `B × T`.
    pub(crate) async fn logprobs<K: Kernels>(
        &self,
        model: &mut Gpt<K>,
        entropy: bool,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        let n = self.b * self.t;
        let (mut lp, mut ent) = (vec![0.0f32; n], vec![0.0f32; n]);
        model
            .logprobs(
                &self.tokens,
                &self.targets,
                Some(&self.mask),
                self.b,
                &mut lp,
                entropy.then_some(ent.as_mut_slice()),
            )
            .await?;
        Ok((lp, ent))
    }
}

pub(crate) fn pad_batch(seqs: &[(&[u32], usize)], max_t: usize) -> Batch {
    let t = seqs
        .iter()
        .map(|(s, _)| s.len().saturating_sub(1))
        .max()
        .unwrap_or(1)
        .clamp(1, max_t);
    let b = seqs.len();
    let mut tokens = vec![0u32; b * t];
    let mut targets = vec![0u32; b * t];
    let mut mask = vec![false; b * t];
    for (i, &(s, prompt_len)) in seqs.iter().enumerate() {
        let n = s.len().saturating_sub(1).min(t);
        tokens[i * t..][..n].copy_from_slice(&s[..n]);
        targets[i * t..][..n].copy_from_slice(&s[1..=n]);
        for j in prompt_len.saturating_sub(1)..n {
            mask[i * t + j] = true;
        }
    }
    Batch {
        b,
        t,
        tokens,
        targets,
        mask,
    }
}

/// The self-improvement loop over a backend `K`.
pub struct Trainer<K: Kernels> {
    config: TrainConfig,
    model: Gpt<K>,
    reference: Option<Gpt<K>>,
    make_kernels: Box<dyn FnMut() -> K>,
    vocab: CharVocab,
    task: Box<dyn Task + Send + Sync>,
    data: ProblemSet,
    /// Per arm, the pool indices RL draws from.
    rl_pool: Vec<Vec<usize>>,
    /// Per arm, the labelled pool indices (`labelled_fraction_per_step`).
    labelled_pool: Vec<Vec<usize>>,
    curriculum: CurriculumState,
    rng: ChaCha8Rng,
    adam_t: u32,
    step: u32,
}

impl<K: Kernels> Trainer<K> {
    /// Builds the vocabulary, the problems and a freshly initialised model (from the seed).
    /// `make_kernels` makes a backend instance (called again for the reference model).
    pub fn new(
        config: TrainConfig,
        mut make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let vocab = CharVocab::new(&config.model.charset)?;
        let task = spar_tasks::task_by_name(&config.task.name, spar_tasks::Format::Compact)
            .map_err(|e| TrainError::Config(alloc::format!("`task.name`: {e}")))?;
        let data = ProblemSet::generate(task.as_ref(), &config.task, config.seed)?;
        let mut rl_pool = data.by_arm.clone();
        let labelled_pool: Vec<Vec<usize>> = data
            .by_arm
            .iter()
            .map(|arm| {
                arm.iter()
                    .copied()
                    .filter(|&i| i < data.num_labelled)
                    .collect()
            })
            .collect();
        if config.grpo.unlabelled_only {
            for arm in &mut rl_pool {
                arm.retain(|&i| i >= data.num_labelled);
            }
        }
        let mut model = Gpt::new(
            make_kernels(),
            Self::gpt_config(&config, &vocab),
            config
                .sft
                .per_device_train_batch_size
                .max(config.rl_batch_sequences()),
            config.model.n_positions,
        )?;
        model.init_params(config.seed);
        let n_arms = config.task.levels.len();
        let curriculum = match config.grpo.curriculum {
            CurriculumName::Uniform => CurriculumState::Uniform(Uniform::new(n_arms)?),
            CurriculumName::Sec => CurriculumState::Sec(Sec::new(
                n_arms,
                SecConfig {
                    alpha: config.grpo.sec_alpha,
                    temperature: config.grpo.sec_temperature,
                },
            )?),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(TRAIN_STREAM);
        Ok(Self {
            config,
            model,
            reference: None,
            make_kernels,
            vocab,
            task,
            data,
            rl_pool,
            labelled_pool,
            curriculum,
            rng,
            adam_t: 0,
            step: 0,
        })
    }

    /// The GPT configuration a run config describes.
    pub fn gpt_config(config: &TrainConfig, vocab: &CharVocab) -> GptConfig {
        let m = &config.model;
        GptConfig::new(
            vocab.vocab_size(),
            m.n_positions,
            m.n_embd,
            m.n_layer,
            m.n_head,
        )
    }

    /// The run's config.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    /// The model.
    pub fn model(&mut self) -> &mut Gpt<K> {
        &mut self.model
    }
    /// The vocabulary.
    pub fn vocab(&self) -> &CharVocab {
        &self.vocab
    }
    /// The task.
    pub fn task(&self) -> &dyn Task {
        self.task.as_ref()
    }
    /// The problems.
    pub fn data(&self) -> &ProblemSet {
        &self.data
    }
    /// Steps done so far.
    pub fn step(&self) -> u32 {
        self.step
    }
    /// Total steps of the run (SFT + RL).
    pub fn total_steps(&self) -> u32 {
        self.config.sft.max_steps + self.config.grpo.max_steps
    }
    /// The stage of the next step.
    pub fn phase(&self) -> Phase {
        if self.step < self.config.sft.max_steps {
            Phase::Sft
        } else if self.step < self.total_steps() {
            Phase::Rl
        } else {
            Phase::Done
        }
    }

    /// Changes the RL section (e.g. to run two reward sources from the same SFT model) and
    /// the step budget; the reference model is dropped so that it is re-taken at the next RL
    /// step. Errors if the new config is invalid or needs a larger batch than allocated.
    pub fn set_grpo(&mut self, grpo: crate::config::GrpoSection) -> Result<(), TrainError> {
        let mut cfg = self.config.clone();
        cfg.grpo = grpo;
        cfg.validate()?;
        if cfg.rl_batch_sequences() > self.model.capacity().0 {
            return Err(TrainError::Config(
                "`grpo.per_device_train_batch_size` is larger than the model was allocated for"
                    .into(),
            ));
        }
        self.config = cfg;
        self.reference = None;
        Ok(())
    }

    fn sample_config(&self) -> SampleConfig {
        let g = &self.config.grpo;
        SampleConfig {
            max_new_tokens: g.max_completion_length,
            temperature: g.temperature,
            top_k: g.top_k,
            top_p: g.top_p,
            stop_tokens: vec![self.vocab.eos()],
            seed: self.config.seed,
        }
    }

    /// Evaluates the current model on the held-out problems with the config's settings.
    pub async fn evaluate(&mut self) -> Result<EvalReport, TrainError> {
        let opts = EvalOptions {
            num_samples: self.config.eval.num_samples,
            temperature: self.config.eval.temperature,
            top_p: self.config.eval.top_p,
            max_new_tokens: self.config.grpo.max_completion_length,
            seed: self.config.seed ^ 0x5eed_e7a1,
        };
        evaluate(
            &mut self.model,
            &self.vocab,
            self.task.as_ref(),
            &self.data.eval,
            &opts,
        )
        .await
    }

    /// One optimiser step of the current stage. Errors leave the parameters as they were.
    pub async fn train_step(&mut self) -> Result<StepMetrics, TrainError> {
        let m = match self.phase() {
            Phase::Sft => self.sft_step().await?,
            Phase::Rl => self.rl_step().await?,
            Phase::Done => {
                return Err(TrainError::Config(
                    "the run is finished: raise sft.max_steps or grpo.max_steps".into(),
                ))
            }
        };
        self.step += 1;
        Ok(m)
    }

    fn non_finite(&mut self, what: &'static str) -> TrainError {
        self.model.zero_grad();
        TrainError::NonFinite {
            step: self.step,
            what,
        }
    }

    /// Clipped AdamW over the accumulated gradients, after checking their norm is finite.
    async fn optimizer_step(
        &mut self,
        lr: f32,
        weight_decay: f32,
        max_grad_norm: f32,
    ) -> Result<f32, TrainError> {
        let p = self.model.param_buffers();
        let ns = self.model.activations().norm_sq;
        self.model.kernels.sum_squares(ns, p.grads);
        let mut sq = [0.0f32];
        self.model.kernels.read(ns, &mut sq).await;
        let norm = libm::sqrtf(sq[0]);
        if !norm.is_finite() {
            return Err(self.non_finite("gradient norm"));
        }
        self.adam_t += 1;
        let opt = AdamWConfig {
            weight_decay,
            max_grad_norm,
            ..AdamWConfig::default()
        };
        let args = opt.args(lr, self.adam_t);
        self.model
            .kernels
            .adamw(p.params, p.grads, p.m, p.v, p.decay_mask, ns, args);
        self.model.zero_grad();
        Ok(norm)
    }

    fn draw_index(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    /// `n` labelled examples (prompt, in a random wording when `paraphrase_sft`, then the
    /// completion and the end token) with their prompt lengths.
    fn labelled_seqs(&mut self, n: usize) -> Result<Vec<(Vec<u32>, usize)>, TrainError> {
        let mut seqs: Vec<(Vec<u32>, usize)> = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.draw_index(self.data.num_labelled);
            let problem = &self.data.pool[i];
            let prompt = if self.config.task.paraphrase_sft && self.rng.next_u32() & 1 == 1 {
                self.task.paraphrase(problem, &mut self.rng)?.prompt
            } else {
                problem.prompt.clone()
            };
            let mut full = self.vocab.encode(&prompt);
            let prompt_len = full.len();
            full.extend(self.vocab.encode(&self.data.pool[i].completion));
            full.push(self.vocab.eos());
            seqs.push((full, prompt_len));
        }
        Ok(seqs)
    }

    /// Forward and backward of `coef ·` the mean completion-token NLL of `seqs` (the
    /// gradients accumulate); returns the mean NLL.
    async fn nll_backward(
        &mut self,
        seqs: &[(Vec<u32>, usize)],
        coef: f64,
    ) -> Result<f64, TrainError> {
        let refs: Vec<(&[u32], usize)> = seqs.iter().map(|(s, p)| (s.as_slice(), *p)).collect();
        let batch = pad_batch(&refs, self.config.model.n_positions);
        let (lp, _) = batch.logprobs(&mut self.model, false).await?;
        if lp.iter().any(|x| !x.is_finite()) {
            return Err(self.non_finite("log-probs"));
        }
        let count = batch.mask.iter().filter(|&&m| m).count().max(1);
        let loss = -lp.iter().map(|&x| x as f64).sum::<f64>() / count as f64;
        let w = (-coef / count as f64) as f32;
        let weights: Vec<f32> = batch
            .mask
            .iter()
            .map(|&m| if m { w } else { 0.0 })
            .collect();
        self.model.backward(&weights, None)?;
        Ok(loss)
    }

    async fn sft_step(&mut self) -> Result<StepMetrics, TrainError> {
        let cfg = self.config.sft.clone();
        let seqs = self.labelled_seqs(cfg.per_device_train_batch_size)?;
        let loss = self.nll_backward(&seqs, 1.0).await?;
        let lr = LrSchedule::WarmupCosine {
            lr: cfg.learning_rate,
            warmup_steps: cfg.warmup_steps,
            total_steps: cfg.max_steps,
            min_lr: cfg.learning_rate * 0.1,
        }
        .lr_at(self.step);
        let grad_norm = self.optimizer_step(lr, cfg.weight_decay, 1.0).await?;
        Ok(StepMetrics {
            step: self.step,
            phase: "sft".into(),
            loss,
            learning_rate: lr as f64,
            grad_norm: grad_norm as f64,
            ..Default::default()
        })
    }

    /// Draws `n` prompts' units, samples and scores them.
    async fn sample_units(&mut self, n: usize, key: u32) -> Result<Vec<Unit>, TrainError> {
        let g = self.config.grpo.num_generations;
        let source = self.config.grpo.reward;
        let co = source == RewardSource::CoReward;
        let arms = self.curriculum.get().select_batch(&mut self.rng, n)?;
        // The first `n_lab` units are drawn from the labelled problems and graded by the
        // verifier (hybrid ground truth); the rest keep the configured reward.
        let frac = self.config.grpo.labelled_fraction_per_step;
        let n_lab = (libm::round(n as f64 * frac) as usize).min(n);
        let mut problems: Vec<Problem> = Vec::with_capacity(n * 2);
        for (u, &arm) in arms.iter().enumerate() {
            let pool = if u < n_lab {
                &self.labelled_pool[arm]
            } else {
                &self.rl_pool[arm]
            };
            let pool_len = pool.len();
            if pool_len == 0 {
                return Err(TrainError::Config(alloc::format!(
                    "level {} has no {}problems to train on",
                    self.config.task.levels[arm],
                    if u < n_lab { "labelled " } else { "" }
                )));
            }
            let k = self.draw_index(pool_len);
            let i = if u < n_lab {
                self.labelled_pool[arm][k]
            } else {
                self.rl_pool[arm][k]
            };
            let p = self.data.pool[i].clone();
            if co {
                let q = self.task.paraphrase(&p, &mut self.rng)?;
                problems.push(p);
                problems.push(q);
            } else {
                problems.push(p);
            }
        }
        let prompts: Vec<Vec<u32>> = problems
            .iter()
            .map(|p| self.vocab.encode(&p.prompt))
            .collect();
        let seqs: Vec<&[u32]> = prompts
            .iter()
            .flat_map(|p| core::iter::repeat_n(p.as_slice(), g))
            .collect();
        let gens = self
            .model
            .generate(&seqs, &self.sample_config(), key)
            .await?;
        let texts: Vec<String> = gens.iter().map(|x| self.vocab.decode(&x.tokens)).collect();
        let answers: Vec<Option<Answer>> =
            texts.iter().map(|t| self.task.extract_answer(t)).collect();
        let owners: Vec<&Problem> = problems
            .iter()
            .flat_map(|p| core::iter::repeat_n(p, g))
            .collect();
        let text_refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        let mut correct = vec![0.0; texts.len()];
        rewards::verifier::verifier_rewards(self.task.as_ref(), &owners, &text_refs, &mut correct)?;
        let mut r = vec![0.0; texts.len()];
        // Each group's vote (label-free sources only).
        let mut label_right: Vec<Option<VoteStat>> = vec![None; problems.len()];
        let (min_ratio, agree) = (
            self.config.grpo.min_majority_ratio,
            self.config.grpo.require_cross_agreement,
        );
        let stat = |task: &dyn Task, p: &Problem, l: &rewards::majority_vote::GroupLabel| {
            Some(VoteStat {
                right: l.label.as_ref().is_some_and(|a| task.check(p, a)),
                ratio: l.ratio,
                used: l.used,
            })
        };
        match source {
            RewardSource::Verifier => r.copy_from_slice(&correct),
            RewardSource::MajorityVote => {
                let labels = rewards::majority_vote::gated_majority_vote_rewards(
                    &answers, g, min_ratio, &mut r,
                )?;
                for (i, l) in labels.iter().enumerate() {
                    label_right[i] = stat(self.task.as_ref(), &problems[i], l);
                }
            }
            RewardSource::CoReward => {
                // Split the interleaved [orig g][para g] layout into two arrays.
                let (mut ao, mut ap) = (Vec::new(), Vec::new());
                for chunk in answers.chunks_exact(2 * g) {
                    ao.extend_from_slice(&chunk[..g]);
                    ap.extend_from_slice(&chunk[g..]);
                }
                let (mut ro, mut rp) = (vec![0.0; ao.len()], vec![0.0; ap.len()]);
                let labels = rewards::co_reward::gated_co_reward_rewards(
                    &ao, &ap, g, min_ratio, agree, &mut ro, &mut rp,
                )?;
                for u in 0..n {
                    r[2 * u * g..][..g].copy_from_slice(&ro[u * g..][..g]);
                    r[(2 * u + 1) * g..][..g].copy_from_slice(&rp[u * g..][..g]);
                    let (lo, lp) = &labels[u];
                    label_right[2 * u] = stat(self.task.as_ref(), &problems[2 * u], lo);
                    label_right[2 * u + 1] = stat(self.task.as_ref(), &problems[2 * u + 1], lp);
                }
            }
            RewardSource::SelfCertainty => {
                let full: Vec<(Vec<u32>, usize)> = seqs
                    .iter()
                    .zip(&gens)
                    .map(|(p, x)| {
                        let mut f = p.to_vec();
                        f.extend_from_slice(&x.tokens);
                        (f, p.len())
                    })
                    .collect();
                self.self_certainty(&full, &mut r).await?;
            }
        }
        let per_unit = if co { 2 * g } else { g };
        // Hybrid ground truth: the labelled units take the verifier's rewards.
        r[..n_lab * per_unit].copy_from_slice(&correct[..n_lab * per_unit]);
        let groups = if co { 2 } else { 1 };
        label_right[..n_lab * groups].fill(None);
        let mut units = Vec::with_capacity(n);
        for (u, &arm) in arms.iter().enumerate() {
            let mut rollouts = Vec::with_capacity(per_unit);
            for j in u * per_unit..(u + 1) * per_unit {
                let mut full = seqs[j].to_vec();
                full.extend_from_slice(&gens[j].tokens);
                rollouts.push(Rollout {
                    full,
                    prompt_len: seqs[j].len(),
                    old_logprobs: gens[j].logprobs.clone(),
                    reward: r[j],
                    correct: correct[j],
                });
            }
            let votes = (0..groups)
                .filter_map(|k| label_right[u * groups + k])
                .collect();
            units.push(Unit {
                arm,
                rollouts,
                votes,
            });
        }
        Ok(units)
    }

    /// Self-certainty rewards from one forward over `full` sequences: the final hidden
    /// states are read back and multiplied by the (tied) embedding for the logits.
    async fn self_certainty(
        &mut self,
        full: &[(Vec<u32>, usize)],
        out: &mut [f64],
    ) -> Result<(), TrainError> {
        let refs: Vec<(&[u32], usize)> = full.iter().map(|(s, p)| (s.as_slice(), *p)).collect();
        let batch = pad_batch(&refs, self.config.model.n_positions);
        let n = batch.b * batch.t;
        // The forward pass leaves the final hidden states in the activations.
        batch.logprobs(&mut self.model, false).await?;
        let cfg = *self.model.config();
        let (c, v) = (cfg.n_embd, cfg.vocab_size);
        let mut lnf = vec![0.0f32; n * c];
        let lnf_slice = self.model.activations().lnf.sub(0, n * c);
        self.model.kernels.read(lnf_slice, &mut lnf).await;
        let mut wte = vec![0.0f32; v * c];
        let wte_slice = self
            .model
            .param_buffers()
            .params
            .sub(self.model.layout().wte(), v * c);
        self.model.kernels.read(wte_slice, &mut wte).await;
        let mut logits = Vec::new();
        let mut owner = Vec::new();
        for (pos, &m) in batch.mask.iter().enumerate() {
            if !m {
                continue;
            }
            let h = &lnf[pos * c..][..c];
            for row in wte.chunks_exact(c) {
                logits.push(h.iter().zip(row).map(|(a, b)| a * b).sum::<f32>());
            }
            owner.push(pos / batch.t);
        }
        if logits.iter().any(|x| !x.is_finite()) {
            return Err(self.non_finite("logits"));
        }
        rewards::self_certainty::self_certainty_rewards(&logits, v, &owner, out)
    }

    async fn ensure_reference(&mut self) -> Result<(), TrainError> {
        let g = &self.config.grpo;
        if self.reference.is_some() || !(g.beta > 0.0 || g.log_ref_kl) {
            return Ok(());
        }
        let mut params = vec![0.0f32; self.model.layout().len()];
        self.model.read_params(&mut params).await?;
        self.set_reference(&params)
    }

    fn set_reference(&mut self, params: &[f32]) -> Result<(), TrainError> {
        let (b, t) = self.model.capacity();
        let mut r = Gpt::new((self.make_kernels)(), *self.model.config(), b, t)?;
        r.write_params(params)?;
        self.reference = Some(r);
        Ok(())
    }

    async fn rl_step(&mut self) -> Result<StepMetrics, TrainError> {
        self.ensure_reference().await?;
        let gc = self.config.grpo.clone();
        let g = gc.num_generations;
        let want = self.config.prompts_per_step();
        let mut kept: Vec<Unit> = Vec::with_capacity(want);
        let mut dropped: Vec<Unit> = Vec::new();
        let mut round = 0u32;
        while kept.len() < want {
            let key = self.step.wrapping_mul(16).wrapping_add(round);
            let units = self.sample_units(want - kept.len(), key).await?;
            for u in units {
                let spread = u
                    .rollouts
                    .chunks(g)
                    .any(|grp| grp.iter().any(|r| r.reward != grp[0].reward));
                if !gc.dynamic_sampling || spread {
                    kept.push(u);
                } else {
                    dropped.push(u);
                }
            }
            round += 1;
            if round > gc.max_refill_rounds {
                break;
            }
        }
        let num_dropped = dropped.len();
        // Out of rounds: top the batch up with dropped groups (they carry no advantage).
        while kept.len() < want {
            match dropped.pop() {
                Some(u) => kept.push(u),
                None => break,
            }
        }
        let rollouts: Vec<&Rollout> = kept.iter().flat_map(|u| &u.rollouts).collect();
        let refs: Vec<(&[u32], usize)> = rollouts
            .iter()
            .map(|r| (r.full.as_slice(), r.prompt_len))
            .collect();
        let batch = pad_batch(&refs, self.config.model.n_positions);
        let (b, t) = (batch.b, batch.t);
        let n = b * t;
        let mask = &batch.mask;
        let ref_lp: Option<Vec<f64>> = match self.reference.as_mut() {
            Some(r) => {
                let (lp, _) = batch.logprobs(r, false).await?;
                Some(lp.iter().map(|&x| x as f64).collect())
            }
            None => None,
        };
        let (lp, ent) = batch.logprobs(&mut self.model, true).await?;
        if lp.iter().chain(&ent).any(|x| !x.is_finite()) {
            return Err(self.non_finite("log-probs"));
        }
        let logprobs: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        let mut old = vec![0.0f64; n];
        let mut max_gap = 0.0f64;
        for (i, r) in rollouts.iter().enumerate() {
            for (k, &o) in r.old_logprobs.iter().enumerate() {
                let j = r.prompt_len - 1 + k;
                if j < t {
                    old[i * t + j] = o as f64;
                    max_gap = max_gap.max((o as f64 - logprobs[i * t + j]).abs());
                }
            }
        }
        let rewards_v: Vec<f64> = rollouts.iter().map(|r| r.reward).collect();
        let mut adv = vec![0.0f64; b];
        grpo_advantages(
            &rewards_v,
            g,
            gc.scale_rewards.into(),
            TRL_STD_EPSILON,
            &mut adv,
        )?;
        let loss_cfg = PolicyLossConfig {
            epsilon: gc.epsilon,
            epsilon_high: gc.epsilon_high,
            beta: gc.beta,
            loss_type: gc.loss_type.into(),
            max_completion_length: gc.max_completion_length,
            ..PolicyLossConfig::default()
        };
        let pb = PolicyBatch {
            num_sequences: b,
            max_len: t,
            num_generations: g,
            logprobs: &logprobs,
            old_logprobs: Some(&old),
            ref_logprobs: if gc.beta > 0.0 {
                ref_lp.as_deref()
            } else {
                None
            },
            mask,
            advantages: Advantages::PerSequence(&adv),
        };
        let mut grad = vec![0.0f64; n];
        let out = policy_loss(&loss_cfg, &pb, &mut grad)?;
        if !out.loss.is_finite() || grad.iter().any(|x| !x.is_finite()) {
            return Err(self.non_finite("loss"));
        }
        let weights: Vec<f32> = grad.iter().map(|&x| x as f32).collect();
        self.model.backward(&weights, None)?;
        let ptx_loss = if gc.ptx_coef > 0.0 {
            let seqs = self.labelled_seqs(self.config.sft.per_device_train_batch_size)?;
            Some(self.nll_backward(&seqs, gc.ptx_coef).await?)
        } else {
            None
        };
        // Self-training: one completion of each label-free group that agreed unanimously
        // with its pseudo-label (all rewards 1), as a supervised example.
        let mut confident: Vec<(Vec<u32>, usize)> = Vec::new();
        if gc.self_train_coef > 0.0 {
            for u in &kept {
                let groups = u.rollouts.len() / g;
                if u.votes.len() != groups {
                    continue; // graded by the verifier (hybrid ground truth)
                }
                for grp in u.rollouts.chunks(g) {
                    if grp.iter().all(|r| r.reward == 1.0) {
                        confident.push((grp[0].full.clone(), grp[0].prompt_len));
                    }
                }
            }
        }
        let self_train_loss = if confident.is_empty() {
            None
        } else {
            Some(self.nll_backward(&confident, gc.self_train_coef).await?)
        };
        let grad_norm = self
            .optimizer_step(gc.learning_rate, gc.weight_decay, gc.max_grad_norm)
            .await?;
        // Curriculum: each prompt's outcome at its level.
        let mut outcomes = Vec::with_capacity(kept.len());
        let mut offset = 0;
        for u in &kept {
            let k = u.rollouts.len();
            let rw = &rewards_v[offset..offset + k];
            let solve = (rw.iter().sum::<f64>() / k as f64).clamp(0.0, 1.0);
            outcomes.push((u.arm, solve, rw, &adv[offset..offset + k]));
            offset += k;
        }
        let outcomes: Vec<ProblemOutcome<'_>> = outcomes
            .iter()
            .map(
                |&(category, solve_rate, rewards, advantages)| ProblemOutcome {
                    category,
                    solve_rate,
                    rewards,
                    advantages,
                },
            )
            .collect();
        self.curriculum.get_mut().update(&outcomes)?;
        // Metrics.
        let ntok = mask.iter().filter(|&&m| m).count().max(1) as f64;
        let entropy = mask
            .iter()
            .zip(&ent)
            .filter(|(m, _)| **m)
            .map(|(_, &e)| e as f64)
            .sum::<f64>()
            / ntok;
        let kl = match &ref_lp {
            Some(rl) => {
                mask.iter()
                    .enumerate()
                    .filter(|(_, m)| **m)
                    .map(|(i, _)| kl_penalty(KlEstimator::K3, logprobs[i], rl[i]).0)
                    .sum::<f64>()
                    / ntok
            }
            None => 0.0,
        };
        let votes: Vec<VoteStat> = kept.iter().flat_map(|u| u.votes.iter().copied()).collect();
        let used: Vec<&VoteStat> = votes.iter().filter(|v| v.used).collect();
        let share = |k: usize, n: usize| (n > 0).then(|| k as f64 / n as f64);
        let bf = b as f64;
        Ok(StepMetrics {
            step: self.step,
            phase: "rl".into(),
            loss: out.loss,
            learning_rate: gc.learning_rate as f64,
            grad_norm: grad_norm as f64,
            reward: rewards_v.iter().sum::<f64>() / bf,
            accuracy: rollouts.iter().map(|r| r.correct).sum::<f64>() / bf,
            label_accuracy: share(used.iter().filter(|v| v.right).count(), used.len()),
            majority_ratio: (!votes.is_empty())
                .then(|| votes.iter().map(|v| v.ratio).sum::<f64>() / votes.len() as f64),
            gated_fraction: share(votes.len() - used.len(), votes.len()),
            ptx_loss,
            self_train_loss,
            self_train_examples: confident.len(),
            kl,
            entropy,
            completion_length: rollouts
                .iter()
                .map(|r| (r.full.len() - r.prompt_len) as f64)
                .sum::<f64>()
                / bf,
            zero_spread_fraction: out.diagnostics.zero_spread_fraction,
            clip_fraction: out.diagnostics.clip_fraction_low + out.diagnostics.clip_fraction_high,
            max_logprob_gap: max_gap,
            num_groups: b / g,
            num_dropped,
            curriculum: self.curriculum.get().probabilities()?,
        })
    }

    /// Samples completions of `prompts` (texts) with `cfg`; returns the completion texts.
    pub async fn sample(
        &mut self,
        prompts: &[&str],
        cfg: &SampleConfig,
    ) -> Result<Vec<String>, TrainError> {
        let ids: Vec<Vec<u32>> = prompts.iter().map(|p| self.vocab.encode(p)).collect();
        if ids.iter().any(|p| p.is_empty()) {
            return Err(TrainError::Config(
                "a prompt has no characters of the vocabulary".into(),
            ));
        }
        let out = complete(&mut self.model, &self.vocab, &ids, 1, cfg, 0xD000_0000).await?;
        Ok(out.into_iter().map(|x| x.0).collect())
    }

    /// The full state; refuses (with [`TrainError::NonFinite`]) if any parameter or moment is
    /// not finite, so a checkpoint never holds one.
    pub async fn snapshot(&mut self) -> Result<Snapshot, TrainError> {
        let len = self.model.layout().len();
        let p = self.model.param_buffers();
        let (mut params, mut m, mut v) = (vec![0.0f32; len], vec![0.0f32; len], vec![0.0f32; len]);
        self.model.kernels.read(p.params, &mut params).await;
        self.model.kernels.read(p.m, &mut m).await;
        self.model.kernels.read(p.v, &mut v).await;
        let reference = match self.reference.as_mut() {
            Some(r) => {
                let mut out = vec![0.0f32; len];
                r.read_params(&mut out).await?;
                Some(out)
            }
            None => None,
        };
        let all = params
            .iter()
            .chain(&m)
            .chain(&v)
            .chain(reference.iter().flatten());
        if all.clone().any(|x| !x.is_finite()) {
            return Err(TrainError::NonFinite {
                step: self.step,
                what: "parameters",
            });
        }
        Ok(Snapshot {
            state: TrainState {
                step: self.step,
                adam_t: self.adam_t,
                rng_word_pos: alloc::format!("{}", self.rng.get_word_pos()),
                curriculum: self.curriculum.clone(),
            },
            params,
            m,
            v,
            reference,
        })
    }

    /// Restores a [`Snapshot`] taken from a trainer with the same config.
    pub fn restore(&mut self, snap: &Snapshot) -> Result<(), TrainError> {
        let len = self.model.layout().len();
        for (what, x) in [("params", &snap.params), ("m", &snap.m), ("v", &snap.v)] {
            if x.len() != len {
                return Err(TrainError::Checkpoint(alloc::format!(
                    "{what} has {} values, the model {len}",
                    x.len()
                )));
            }
        }
        let word_pos: u128 = snap
            .state
            .rng_word_pos
            .parse()
            .map_err(|_| TrainError::Checkpoint("rng_word_pos is not a number".into()))?;
        if snap.state.curriculum.get().num_categories() != self.config.task.levels.len() {
            return Err(TrainError::Checkpoint(
                "the curriculum's levels differ from the config's".into(),
            ));
        }
        self.model.write_params(&snap.params)?;
        let p = self.model.param_buffers();
        self.model.kernels.write(p.m, &snap.m);
        self.model.kernels.write(p.v, &snap.v);
        self.adam_t = snap.state.adam_t;
        self.step = snap.state.step;
        self.rng.set_word_pos(word_pos);
        self.curriculum = snap.state.curriculum.clone();
        self.reference = None;
        if let Some(r) = &snap.reference {
            self.set_reference(r)?;
        }
        Ok(())
    }

    /// Writes `params` into the model (e.g. a loaded checkpoint) and resets the optimiser.
    pub fn load_params(&mut self, params: &[f32]) -> Result<(), TrainError> {
        self.model.write_params(params)?;
        self.adam_t = 0;
        Ok(())
    }
}

impl<K: crate::backend::BackendCheck> Trainer<K> {
    /// Takes the first error the model's or the reference model's backend recorded since
    /// the last check, as a [`TrainError::Backend`] at the current step.
    pub fn check_backend(&mut self, during: &'static str) -> Result<(), TrainError> {
        let step = self.step;
        let err = self.model.kernels.take_backend_error().or_else(|| {
            self.reference
                .as_mut()
                .and_then(|r| r.kernels.take_backend_error())
        });
        match err {
            None => Ok(()),
            Some(message) => Err(TrainError::Backend {
                step,
                during,
                message,
            }),
        }
    }

    /// [`Trainer::train_step`], then [`Trainer::check_backend`]: a backend error recorded
    /// during the step is returned naming the step (it takes precedence over the step's own
    /// error, which it may have caused, e.g. a non-finite log-prob read from a failed
    /// dispatch).
    pub async fn train_step_checked(&mut self) -> Result<StepMetrics, TrainError> {
        let step = self.step;
        let result = self.train_step().await;
        if let Err(TrainError::Backend {
            during, message, ..
        }) = self.check_backend("train step")
        {
            return Err(TrainError::Backend {
                step,
                during,
                message,
            });
        }
        result
    }
}
