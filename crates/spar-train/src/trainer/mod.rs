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
//! 5. spar-losses gives GRPO advantages and `∂L/∂logp` per token (or, with
//!    `grpo.objective = "nft"`, NFT's `∂L/∂logp` from the rewards); the policy
//!    ([`crate::policy::Policy`]) back-propagates exactly that and takes its one checked
//!    AdamW step.
//!
//! Files: sampling and scoring (steps 1–3) in `trainer/sampling.rs`, the metrics and the
//! snapshot/restore of a resumed run in `trainer/state.rs`, the rest here.
//!
//! Each stage's optimiser options are the config's `[optim]` with the stage's overrides
//! ([`TrainConfig::sft_optim`], [`TrainConfig::grpo_optim`]); the RL stage starts a fresh
//! optimiser unless its `optimizer_state` is `carry`.
//!
//! Options against the collapse of the label-free rewards (all off by default; see
//! [`crate::config::GrpoSection`]): the vote gates zero a group's rewards in step 3;
//! `labelled_fraction_per_step` draws some of step 1's prompts from the labelled problems and
//! grades them with the verifier; `ptx_coef` (labelled examples) and `self_train_coef` (one
//! completion of each unanimous label-free group) add a token NLL term whose gradient
//! accumulates with the policy loss's before the one AdamW step.
//!
//! Options against vanishing advantages (groups without spread; all off by default):
//! `replay = "ssr" | "spear"` fills those groups' slots with completions replayed from a
//! buffer of earlier steps, `oversample_factor` samples larger groups and trains on a subset,
//! `entropy_coef` adds T1's entropy bonus (`trainer/replay.rs`).
//!
//! RISE (`verify_fraction`, off by default): some of each round's prompts show the model its
//! own fresh solutions in the task's verify form, graded and trained with the rest
//! (`trainer/rise.rs`).
//!
//! Hints (`grpo.hint`, off by default; GHPO, Guide): groups that all fail are re-sampled with
//! a prefix of the reference solution in the prompt ([`hints`]).
//!
//! ReLIFT (`grpo.relift`, off by default): problems whose groups all fail are buffered with
//! their reference solutions; a full buffer makes the next RL step an SFT step on them
//! (`trainer/relift.rs`).
//!
//! The step is `async` because reading the GPU back is; native code drives it with
//! [`spar_model::block_on`]. A NaN or infinity in the log-probs, the loss or the gradient
//! stops the step before the update with [`TrainError::NonFinite`] naming the step.

pub mod hints;
mod judge;
pub mod relift;
mod replay;
mod rise;
mod sampling;
mod state;

pub use relift::ReliftState;
pub use replay::{ReplayItem, ReplayState};
pub use state::{CurriculumState, Snapshot, StepMetrics, TrainState};

use crate::config::{CurriculumName, ObjectiveName, TrainConfig};
use crate::data::ProblemSet;
use crate::eval::{complete, evaluate, EvalOptions, EvalReport};
use crate::pg::{PgObjective, PgSpec};
use crate::policy::Policy;
use crate::rollout::{Batch, Rollout};
use crate::sampler::EpochCursor;
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sampling::{Unit, VoteStat};
use serde::{Deserialize, Serialize};
use spar_bandits::{ProblemOutcome, Sec, SecConfig, Uniform};
use spar_losses::grpo::{grpo_advantages, TRL_STD_EPSILON};
use spar_losses::nft::nft_on_policy_advantages;
use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
use spar_model::{Gpt, GptConfig, Kernels, SampleConfig};
use spar_tasks::Task;

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

/// The self-improvement loop over a backend `K`.
pub struct Trainer<K: Kernels> {
    config: TrainConfig,
    policy: Policy<K>,
    /// The stage the policy's optimiser is set up for.
    optimizer_stage: Phase,
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
    /// Position of the SFT examples' epoch order (`sft.sampler = epoch`).
    sft_cursor: EpochCursor,
    /// Per level, position of the RL prompts' epoch order (`grpo.prompt_sampler = epoch`).
    rl_cursors: Vec<EpochCursor>,
    /// Per pool problem, whether its last RL group had identical rewards (kept only with
    /// `grpo.zero_spread_skip > 0`).
    zero_spread: Vec<bool>,
    /// The task's verify form, when it has one (the model as judge: `sft.judge_fraction`,
    /// `grpo.reward = "self_judge"`).
    judge: Option<Box<dyn spar_tasks::VerifyForm>>,
    /// The replay buffer and SPEAR's recent rewards (`grpo.replay`).
    replay: ReplayState,
    /// ReLIFT's buffer of demonstrations (`grpo.relift`).
    relift: ReliftState,
    step: u32,
}

impl<K: Kernels> Trainer<K> {
    /// Builds the vocabulary, the problems and a freshly initialised model (from the seed).
    /// `make_kernels` makes a backend instance (called again for the reference model).
    ///
    /// With `model.init_from` (feature `std`) the model and the vocabulary are a checkpoint
    /// directory's instead (a Hugging Face `save_pretrained` one, or spar's): the config's
    /// model shape and charset are set to the checkpoint's.
    pub fn new(
        mut config: TrainConfig,
        mut make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let pretrained = Self::pretrained(&mut config)?;
        let vocab = match &pretrained {
            Some((v, _)) => v.clone(),
            None => CharVocab::new(&config.model.charset)?,
        };
        let task = spar_tasks::task_by_name(&config.task.name, spar_tasks::Format::Compact)
            .map_err(|e| TrainError::Config(alloc::format!("`task.name`: {e}")))?;
        let data = ProblemSet::for_config(task.as_ref(), &config.task, config.seed)?;
        let (rl_pool, labelled_pool) = Self::rl_pools(&data, &config.grpo);
        let mut model = Gpt::new(
            make_kernels(),
            Self::gpt_config(&config, &vocab),
            config
                .sft
                .per_device_train_batch_size
                .max(config.rl_batch_sequences()),
            config.model.n_positions,
        )?;
        match pretrained {
            Some((_, params)) => model.write_params(&params)?,
            None => model.init_params(config.seed),
        }
        let n_arms = config.task.levels.len();
        let curriculum = Self::fresh_curriculum(&config)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(TRAIN_STREAM);
        let n_pool = data.pool.len();
        let policy = Policy::new(model, config.sft_optim(), config.sft.max_steps);
        let judge =
            spar_tasks::verify_form_by_name(&config.task.name, spar_tasks::Format::Compact).ok();
        Ok(Self {
            config,
            policy,
            optimizer_stage: Phase::Sft,
            reference: None,
            make_kernels,
            vocab,
            task,
            data,
            rl_pool,
            labelled_pool,
            curriculum,
            rng,
            sft_cursor: EpochCursor::default(),
            rl_cursors: vec![EpochCursor::default(); n_arms],
            zero_spread: vec![false; n_pool],
            judge,
            replay: ReplayState::default(),
            relift: ReliftState::default(),
            step: 0,
        })
    }

    /// A fresh curriculum of the kind `config.grpo.curriculum` names over `task.levels`.
    fn fresh_curriculum(config: &TrainConfig) -> Result<CurriculumState, TrainError> {
        let n_arms = config.task.levels.len();
        Ok(match config.grpo.curriculum {
            CurriculumName::Uniform => CurriculumState::Uniform(Uniform::new(n_arms)?),
            CurriculumName::Sec => CurriculumState::Sec(Sec::new(
                n_arms,
                SecConfig {
                    alpha: config.grpo.sec_alpha,
                    temperature: config.grpo.sec_temperature,
                },
            )?),
            CurriculumName::Learnability => CurriculumState::Learnability(
                spar_bandits::Learnability::new(n_arms, Default::default())?,
            ),
            CurriculumName::SuccessBand => CurriculumState::SuccessBand(
                spar_bandits::SuccessBand::new(n_arms, Default::default())?,
            ),
        })
    }

    /// The checkpoint `model.init_from` names (vocabulary and parameters), with the config's
    /// model section set to its shape; `None` without one.
    #[allow(clippy::type_complexity)]
    fn pretrained(config: &mut TrainConfig) -> Result<Option<(CharVocab, Vec<f32>)>, TrainError> {
        if config.model.init_from.is_empty() {
            return Ok(None);
        }
        #[cfg(feature = "std")]
        {
            let (gpt, vocab, params) =
                crate::native::load_pretrained(std::path::Path::new(&config.model.init_from))?;
            let m = &mut config.model;
            m.n_layer = gpt.n_layer;
            m.n_embd = gpt.n_embd;
            m.n_head = gpt.n_head;
            m.n_positions = gpt.n_positions;
            m.charset = vocab.charset().into();
            if gpt.vocab_size != vocab.vocab_size() {
                return Err(TrainError::Checkpoint(alloc::format!(
                    "{}: the model has {} token ids, tokenizer.json {}",
                    m.init_from,
                    gpt.vocab_size,
                    vocab.vocab_size()
                )));
            }
            config.validate()?;
            Ok(Some((vocab, params)))
        }
        #[cfg(not(feature = "std"))]
        Err(TrainError::Config(
            "`model.init_from` needs the `std` feature (files)".into(),
        ))
    }

    /// The GPT configuration a run config describes.
    pub fn gpt_config(config: &TrainConfig, vocab: &CharVocab) -> GptConfig {
        config.model.gpt_config(vocab.vocab_size())
    }

    /// The run's config.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    /// The model.
    pub fn model(&mut self) -> &mut Gpt<K> {
        self.policy.model()
    }
    /// The policy (model and optimiser).
    pub fn policy(&mut self) -> &mut Policy<K> {
        &mut self.policy
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

    /// Per level, the pool indices RL draws its prompts from (after `grpo.unlabelled_only`
    /// and `grpo.rl_pool_size`).
    pub fn rl_pool(&self) -> &[Vec<usize>] {
        &self.rl_pool
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
    /// the step budget; a different curriculum starts fresh; the reference model is dropped so that it is re-taken at the next RL
    /// step, and the new `grpo.optim` applies from the next step (from the stage's start if
    /// RL has not begun). Errors if the new config is invalid or needs a larger batch than allocated.
    pub fn set_grpo(&mut self, grpo: crate::config::GrpoSection) -> Result<(), TrainError> {
        let mut cfg = self.config.clone();
        cfg.grpo = grpo;
        cfg.validate()?;
        if cfg.rl_batch_sequences() > self.policy.model_ref().capacity().0 {
            return Err(TrainError::Config(
                "`grpo.per_device_train_batch_size` is larger than the model was allocated for"
                    .into(),
            ));
        }
        // Another kind of curriculum (or other constants) starts fresh; the same one keeps
        // its state, as a restored run's.
        let same = cfg.grpo.curriculum == self.config.grpo.curriculum
            && cfg.grpo.sec_alpha == self.config.grpo.sec_alpha
            && cfg.grpo.sec_temperature == self.config.grpo.sec_temperature;
        if !same {
            self.curriculum = Self::fresh_curriculum(&cfg)?;
        }
        (self.rl_pool, self.labelled_pool) = Self::rl_pools(&self.data, &cfg.grpo);
        self.config = cfg;
        self.reference = None;
        if self.optimizer_stage == Phase::Rl {
            self.set_optimizer_stage(Phase::Rl);
        }
        Ok(())
    }

    /// Per level, the pool indices RL draws prompts from and the labelled ones the hybrid
    /// prompts come from (`unlabelled_only`, `rl_pool_size`).
    fn rl_pools(
        data: &ProblemSet,
        g: &crate::config::GrpoSection,
    ) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
        let cut = |mut v: Vec<usize>| {
            if g.rl_pool_size > 0 {
                v.truncate(g.rl_pool_size);
            }
            v
        };
        let rl = data
            .by_arm
            .iter()
            .map(|arm| {
                cut(arm
                    .iter()
                    .copied()
                    .filter(|&i| !g.unlabelled_only || i >= data.num_labelled)
                    .collect())
            })
            .collect();
        let labelled = data
            .by_arm
            .iter()
            .map(|arm| {
                cut(arm
                    .iter()
                    .copied()
                    .filter(|&i| i < data.num_labelled)
                    .collect())
            })
            .collect();
        (rl, labelled)
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
            answer_check: self.config.task.answer_check,
        };
        let mut report = evaluate(
            self.policy.model(),
            &self.vocab,
            self.task.as_ref(),
            &self.data.eval,
            &opts,
        )
        .await?;
        report.judge_accuracy = self.evaluate_judge().await?;
        Ok(report)
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

    /// Sets the policy's optimiser options to those of `stage` without touching its state
    /// (a restored run, or a changed config).
    pub(crate) fn set_optimizer_stage(&mut self, stage: Phase) {
        let (optim, steps) = match stage {
            Phase::Rl => (self.config.grpo_optim(), self.config.grpo.max_steps),
            _ => (self.config.sft_optim(), self.config.sft.max_steps),
        };
        self.policy.set_stage_options(optim, steps);
        self.optimizer_stage = stage;
    }

    /// Starts the RL stage's optimiser (fresh or carried over, as `grpo.optim` says) at the
    /// first RL step.
    fn enter_rl_stage(&mut self) {
        if self.optimizer_stage != Phase::Rl {
            self.policy
                .begin_stage(self.config.grpo_optim(), self.config.grpo.max_steps);
            self.optimizer_stage = Phase::Rl;
        }
    }

    async fn sft_step(&mut self) -> Result<StepMetrics, TrainError> {
        let seqs = self.sft_seqs(self.config.sft.per_device_train_batch_size)?;
        let batch = Batch::from_pairs(&seqs, self.config.model.n_positions);
        let loss = self.policy.nll_backward(&batch, 1.0, self.step).await?;
        let out = self.policy.step(self.step).await?;
        Ok(StepMetrics {
            step: self.step,
            phase: "sft".into(),
            loss,
            learning_rate: out.learning_rate as f64,
            grad_norm: out.grad_norm as f64,
            ..Default::default()
        })
    }

    /// Takes the KL reference from the current policy when there is none, and again every
    /// `grpo.ref_refresh_steps` RL steps (T1's refreshed reference).
    async fn ensure_reference(&mut self) -> Result<(), TrainError> {
        let g = &self.config.grpo;
        if !(g.beta > 0.0 || g.log_ref_kl) {
            return Ok(());
        }
        let rl_step = self.step.saturating_sub(self.config.sft.max_steps);
        let refresh = g.ref_refresh_steps > 0 && rl_step > 0 && rl_step % g.ref_refresh_steps == 0;
        if self.reference.is_some() && !refresh {
            return Ok(());
        }
        let model = self.policy.model();
        let mut params = vec![0.0f32; model.layout().len()];
        model.read_params(&mut params).await?;
        match self.reference.as_mut() {
            Some(r) => Ok(r.write_params(&params)?),
            None => self.set_reference(&params),
        }
    }

    fn set_reference(&mut self, params: &[f32]) -> Result<(), TrainError> {
        let model = self.policy.model_ref();
        let (b, t) = model.capacity();
        let mut r = Gpt::new((self.make_kernels)(), *model.config(), b, t)?;
        r.write_params(params)?;
        self.reference = Some(r);
        Ok(())
    }

    async fn rl_step(&mut self) -> Result<StepMetrics, TrainError> {
        self.enter_rl_stage();
        if let Some(m) = self.relift_sft_step().await? {
            return Ok(m);
        }
        self.ensure_reference().await?;
        let gc = self.config.grpo.clone();
        let g = gc.num_generations;
        let want = self.config.prompts_per_step();
        let mut kept: Vec<Unit> = Vec::with_capacity(want);
        let mut dropped: Vec<Unit> = Vec::new();
        let mut round = 0u32;
        let mut sampled_spread = replay::SampledSpread::default();
        let mut hint_stats = hints::HintStats::default();
        let mut relift_added = 0;
        while kept.len() < want {
            let key = self.step.wrapping_mul(16).wrapping_add(round);
            let units = self
                .sample_rise_units(want - kept.len(), key, &mut sampled_spread)
                .await?;
            let units = self.add_hints(units, key, &mut hint_stats).await?;
            relift_added += self.relift_collect(&units);
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
        let b = rollouts.len();
        let rewards_v: Vec<f64> = rollouts.iter().map(|r| r.reward).collect();
        // Under NFT the advantages are those its on-policy gradient equals (the curriculum
        // and the metrics read them); the loss itself takes the rewards.
        let mut adv = vec![0.0f64; b];
        let nft = gc.nft_config();
        let objective = match gc.objective {
            ObjectiveName::Grpo => {
                grpo_advantages(
                    &rewards_v,
                    g,
                    gc.scale_rewards.into(),
                    TRL_STD_EPSILON,
                    &mut adv,
                )?;
                PgObjective::Clip
            }
            ObjectiveName::Nft => {
                nft_on_policy_advantages(&nft, &rewards_v, g, &mut adv)?;
                PgObjective::Nft {
                    config: nft,
                    rewards: &rewards_v,
                }
            }
        };
        // Replay into the zero-spread groups' slots (nothing with `replay = "none"`).
        let plan = self.plan_replay(&rollouts, &adv)?;
        let (trained, trained_adv) = plan.batch(&rollouts, &adv, g);
        let spec = PgSpec {
            loss: PolicyLossConfig {
                epsilon: gc.epsilon,
                epsilon_high: gc.epsilon_high,
                beta: gc.beta,
                loss_type: gc.loss_type.into(),
                max_completion_length: gc.max_completion_length,
                ..PolicyLossConfig::default()
            },
            num_generations: g,
            advantages: Advantages::PerSequence(&trained_adv),
            use_old_logprobs: true,
            entropy_coef: gc.entropy_coef,
            objective,
            clip_cov: gc.clip_cov().map(|config| crate::pg::ClipCovSpec {
                config,
                seed: self.config.seed ^ (u64::from(self.step) << 32) ^ 0xC0FF,
            }),
        };
        let pg = self
            .policy
            .policy_gradient(
                &trained,
                &spec,
                self.reference.as_mut(),
                self.config.model.n_positions,
                self.step,
            )
            .await?;
        let ptx_loss = if gc.ptx_coef > 0.0 {
            let seqs = self.sft_seqs(self.config.sft.per_device_train_batch_size)?;
            let batch = Batch::from_pairs(&seqs, self.config.model.n_positions);
            Some(
                self.policy
                    .nll_backward(&batch, gc.ptx_coef, self.step)
                    .await?,
            )
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
                        confident.push((grp[0].tokens.clone(), grp[0].prompt_len));
                    }
                }
            }
        }
        let self_train_loss = if confident.is_empty() {
            None
        } else {
            let batch = Batch::from_pairs(&confident, self.config.model.n_positions);
            Some(
                self.policy
                    .nll_backward(&batch, gc.self_train_coef, self.step)
                    .await?,
            )
        };
        let opt = self.policy.step(self.step).await?;
        // Curriculum: each prompt's outcome at its level.
        let mut outcomes = Vec::with_capacity(kept.len());
        let mut offset = 0;
        for u in &kept {
            let k = u.rollouts.len();
            let rw = &rewards_v[offset..offset + k];
            let solve = (rw.iter().sum::<f64>() / k as f64).clamp(0.0, 1.0);
            if u.verify.is_none() {
                outcomes.push((u.arm, solve, rw, &adv[offset..offset + k]));
            }
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
        let votes: Vec<VoteStat> = kept.iter().flat_map(|u| u.votes.iter().copied()).collect();
        let used: Vec<&VoteStat> = votes.iter().filter(|v| v.used).collect();
        let share = |k: usize, n: usize| (n > 0).then(|| k as f64 / n as f64);
        let bf = b as f64;
        let (relift_added, relift_buffered) = self.relift_reported(relift_added);
        Ok(StepMetrics {
            step: self.step,
            phase: "rl".into(),
            loss: pg.loss,
            learning_rate: opt.learning_rate as f64,
            grad_norm: opt.grad_norm as f64,
            reward: rewards_v.iter().sum::<f64>() / bf,
            accuracy: rise::solve_accuracy(&kept),
            verify_accuracy: rise::verify_accuracy(&kept),
            verify_shown_right: rise::shown_right(&kept),
            label_accuracy: share(used.iter().filter(|v| v.right).count(), used.len()),
            majority_ratio: (!votes.is_empty())
                .then(|| votes.iter().map(|v| v.ratio).sum::<f64>() / votes.len() as f64),
            gated_fraction: share(votes.len() - used.len(), votes.len()),
            judge_agreement: {
                let a: Vec<bool> = kept
                    .iter()
                    .flat_map(|u| u.judge_agree.iter().copied())
                    .collect();
                share(a.iter().filter(|&&x| x).count(), a.len())
            },
            ptx_loss,
            self_train_loss,
            self_train_examples: confident.len(),
            kl: pg.kl,
            entropy: pg.entropy,
            completion_length: rollouts
                .iter()
                .map(|r| r.completion_len() as f64)
                .sum::<f64>()
                / bf,
            zero_spread_fraction: pg.policy.diagnostics.zero_spread_fraction,
            clip_fraction: pg.policy.diagnostics.clip_fraction_low
                + pg.policy.diagnostics.clip_fraction_high,
            max_logprob_gap: pg.max_logprob_gap,
            num_groups: b / g,
            num_dropped,
            sampled_zero_spread_fraction: sampled_spread.reported(&gc),
            zero_advantage_fraction: replay::SampledSpread::zero_advantage_share(&gc, &trained_adv),
            replayed: plan.len(),
            hinted_groups: hint_stats.reported_groups(),
            hinted_solve_rate: hint_stats.solve_rate(),
            relift_added,
            relift_trained: None,
            relift_buffered,
            clip_cov_fraction: pg
                .clip_cov
                .map(|c| c.selected as f64 / c.num_tokens.max(1) as f64),
            token_covariance: pg.clip_cov.map(|c| c.mean_covariance),
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
        let out = complete(self.policy.model(), &self.vocab, &ids, 1, cfg, 0xD000_0000).await?;
        Ok(out.into_iter().map(|x| x.0).collect())
    }

    /// Writes `params` into the model (e.g. a loaded checkpoint) and resets the optimiser
    /// (zero moments and step count).
    pub fn load_params(&mut self, params: &[f32]) -> Result<(), TrainError> {
        self.policy.model().write_params(params)?;
        Ok(())
    }
}

impl<K: Kernels> Trainer<K> {
    /// Takes the first error the model's or the reference model's backend recorded since
    /// the last check, as a [`TrainError::Backend`] at the current step.
    pub fn check_backend(&mut self, during: &'static str) -> Result<(), TrainError> {
        let step = self.step;
        let err = self
            .policy
            .model()
            .kernels
            .take_backend_error()
            .or_else(|| {
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
    /// A test may report the device lost during a step ([`crate::faults::lose_device_at`]):
    /// that step then ends in the same error a real loss gives.
    pub async fn train_step_checked(&mut self) -> Result<StepMetrics, TrainError> {
        let step = self.step;
        let result = self.train_step().await;
        if crate::faults::device_lost_due(step) {
            return Err(TrainError::Backend {
                step,
                during: "train step",
                message: crate::faults::DEVICE_LOST_MESSAGE.into(),
            });
        }
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
