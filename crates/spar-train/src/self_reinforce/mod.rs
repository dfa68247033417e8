//! Weak-supervision self-reinforcement with DPO (seed paper: "Optimizing Language Model's
//! Reasoning Abilities with Weak Supervision").
//!
//! 1. SFT on the few labelled problems gives `M_sft`; the *base* is a weaker model of the
//!    same run: the freshly initialised model (`weak_sft_steps = 0`) or the SFT model after
//!    only `weak_sft_steps` steps (the default, see [`SelfReinforceConfig`]).
//! 2. On unlabelled problems, one response is sampled from the strong model (`M_sft`) and
//!    one from the weak model; the pair `y_w = strong ≻ y_l = weak` is a preference without
//!    any label. Pairs whose two responses are the same tokens carry no signal and are
//!    dropped (counted in [`SelfReinforceMetrics::num_dropped_identical`]).
//! 3. The policy (initialised from the strong model) is trained with DPO against a frozen
//!    reference equal to the strong model at the start of the round (Rafailov et al. 2023;
//!    sequence log-probs are sums over the response tokens, end token included):
//!
//! ```text
//! h = (logπ_θ(y_w|x) − logπ_ref(y_w|x)) − (logπ_θ(y_l|x) − logπ_ref(y_l|x))
//! L = −log σ(β h)                                  (mean over the step's pairs)
//! ```
//! IPO (`L = (h − 1/(2β))²` on length-mean log-probs) and SPPO with K = 2 hard-scored
//! responses (win rates `P̂_w = ¾`, `P̂_l = ¼`, `L = ½[(Δ_w − (P̂_w − ½)/β)² + (Δ_l −
//! (P̂_l − ½)/β)²]`) are the other `loss_type`s, all from spar-losses.
//! 4. Rounds: after a round the newest model plays the strong model and the previous strong
//!    model the weak one; the reference is re-taken and the optimiser reset.
//!
//! With `pair_source = "weak_model"` (the default, the seed paper's recipe) the verifier
//! never shapes a pair: it only reports, as metrics, how often the two sides' responses are
//! right, and the held-out accuracy after each round.
//!
//! **Iterative preference optimisation from the model's own samples** (`pair_source =
//! "verifier"` or `"self_judge"`): each prompt gets `samples_per_prompt` (K) responses from
//! the round's reference model (the policy at the start of the round, as in iterative DPO,
//! SPPO and DNO, where `π_t` samples and anchors); they are scored by the task's verifier
//! (1/0: RLVR's labels as the preference oracle) or by the model itself as judge (its
//! `P(yes)` on the task's verify prompt, [`crate::Trainer::judge_scores`]; the judge is taught
//! in SFT by `train.sft.judge_fraction`, so no label enters the preference stage), and the
//! best- and the worst-scored make the pair, with win rates and a soft label from the scores
//! ([`pairs`]). Prompts whose K scores are all equal give no pair
//! ([`SelfReinforceMetrics::num_dropped_tied`]). The losses: DPO, IPO, SPPO, DNO, SELM, OSP
//! ([`loss`]). Rounds renew the sampler and the reference, so `rounds = 3` is three
//! iterations.

use crate::config::TrainConfig;
use crate::optim::{OptimConfig, OptimOverride, OptimizerState};
use crate::rollout::Batch;
use crate::selfplay::LoopSnapshot;
use crate::trainer::{Snapshot, Trainer};
use crate::TrainError;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use spar_losses::preference::PreferenceOutput;
use spar_model::{Gpt, Kernels, SampleConfig};

pub mod loss;
pub mod pairs;
pub use loss::{preference_loss, preference_step_loss, PreferenceLoss, PreferenceSpec};
pub use pairs::{describe_pair, drop_identical, scored_preference, Pair, Preference};

/// Where a step's preference pairs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSource {
    /// A response of the strong model ≻ one of the weak model (no labels, no judge).
    WeakModel,
    /// K samples of the round's reference, scored by the task's verifier.
    Verifier,
    /// K samples of the round's reference, scored by the model as its own judge.
    SelfJudge,
}

/// Stream of the self-reinforcement's problem draws, apart from the trainer's.
const PAIR_STREAM: u64 = 0x6470_6f73;

/// A self-reinforcement run (`configs/dpo_self_reinforce.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfReinforceConfig {
    /// The model, the task with its labelled split, the SFT stage and the evaluation
    /// (its `grpo` section is not used: the DPO stage has its own fields below).
    pub train: TrainConfig,
    /// The weak model of round 0: the SFT model after this many SFT steps (0: the freshly
    /// initialised model, i.e. the base before any SFT). Must be below `train.sft.max_steps`.
    pub weak_sft_steps: u32,
    /// Rounds of pair-making and DPO.
    pub rounds: u32,
    /// Optimiser steps per round.
    pub steps_per_round: u32,
    /// Unlabelled problems drawn per step (one pair each, before dropping identical ones).
    pub pairs_per_step: usize,
    /// The preference loss.
    pub loss_type: PreferenceLoss,
    /// DPO's β (IPO's τ; SPPO's 1/η; DNO's η).
    pub beta: f64,
    /// Where the pairs come from: `weak_model` (default), `verifier` or `self_judge`.
    pub pair_source: PairSource,
    /// K: responses sampled per prompt for the `verifier` and `self_judge` sources (≥ 2).
    pub samples_per_prompt: usize,
    /// SELM's α (`loss_type = "selm"`; the Zephyr recipe's 0.001 is the default).
    pub selm_alpha: f64,
    /// The preference stage's overrides of `train.optim` (default: learning rate 3e-4).
    /// Each round is a stage of `steps_per_round` steps: a fresh optimiser unless
    /// `optimizer_state = "carry"`.
    pub optim: OptimOverride,
    /// Sampling temperature of both sides' responses.
    pub temperature: f32,
    /// Nucleus mass of both sides' responses.
    pub top_p: f32,
    /// New tokens per response at most (the end token included).
    pub max_completion_length: usize,
    /// TRL's `rpo_alpha` (Pang et al. 2024, iterative RPO): `rpo_alpha · NLL(y_w)`, the mean
    /// negative log-likelihood per token of the chosen responses, is added to the loss
    /// (0: off). It keeps DPO from lowering the chosen responses' likelihood along with the
    /// rejected ones'.
    pub rpo_alpha: f64,
}

/// The learning-bar setting: sorting three digits (spar-tasks' `sort` at level 0), a 2 × 32
/// GPT, 600 pooled problems of which 30 are labelled, 200 held out.
fn sort3_train_config() -> TrainConfig {
    TrainConfig {
        output_dir: "runs/dpo_self_reinforce".to_string(),
        // Not used by the DPO stage; left at its default so configs need not spell it out.
        grpo: crate::config::GrpoSection::default(),
        ..TrainConfig::sort3(1)
    }
}

impl Default for SelfReinforceConfig {
    fn default() -> Self {
        Self {
            train: sort3_train_config(),
            weak_sft_steps: 100,
            rounds: 3,
            steps_per_round: 60,
            pairs_per_step: 32,
            loss_type: PreferenceLoss::Sigmoid,
            beta: 0.1,
            optim: OptimOverride::lr(3e-4),
            temperature: 1.0,
            top_p: 1.0,
            max_completion_length: 6,
            rpo_alpha: 0.0,
            pair_source: PairSource::WeakModel,
            samples_per_prompt: 4,
            selm_alpha: 0.001,
        }
    }
}

impl SelfReinforceConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        self.train.validate()?;
        if self.weak_sft_steps >= self.train.sft.max_steps {
            return bad("weak_sft_steps", "must be below train.sft.max_steps");
        }
        if self.pairs_per_step == 0 {
            return bad("pairs_per_step", "must be at least 1");
        }
        if !(self.beta > 0.0 && self.beta.is_finite()) {
            return bad("beta", "must be finite and > 0");
        }
        self.preference_optim().validate("optim")?;
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad("top_p", "must be in (0, 1]");
        }
        if !(self.rpo_alpha >= 0.0 && self.rpo_alpha.is_finite()) {
            return bad("rpo_alpha", "must be finite and ≥ 0");
        }
        if self.max_completion_length == 0 {
            return bad("max_completion_length", "must be at least 1");
        }
        if self.pair_source != PairSource::WeakModel && !(2..=64).contains(&self.samples_per_prompt)
        {
            return bad("samples_per_prompt", "must be in [2, 64]");
        }
        if !(self.selm_alpha >= 0.0 && self.selm_alpha.is_finite()) {
            return bad("selm_alpha", "must be finite and ≥ 0");
        }
        if self.pair_source == PairSource::SelfJudge {
            if spar_tasks::verify_form_by_name(&self.train.task.name, spar_tasks::Format::Compact)
                .is_err()
            {
                return bad(
                    "pair_source",
                    "= \"self_judge\" needs a task with a verify form (addition, subtraction, \
                     multiplication, countdown, factoring, trace)",
                );
            }
            if self.train.sft.judge_fraction == 0.0 && self.train.model.init_from.is_empty() {
                return bad(
                    "pair_source",
                    "= \"self_judge\" needs a judge: set train.sft.judge_fraction > 0",
                );
            }
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

    /// Sequences per pair the models are allocated for: 2 for strong ≻ weak pairs, else the
    /// most of K samples and the three rows of a SELM step.
    fn rows_per_pair(&self) -> usize {
        if self.pair_source == PairSource::WeakModel && !self.loss_type.needs_reference_response() {
            2
        } else {
            self.samples_per_prompt.max(3)
        }
    }

    /// The loss options of a step.
    pub fn preference_spec(&self) -> PreferenceSpec {
        PreferenceSpec {
            loss_type: self.loss_type,
            beta: self.beta,
            rpo_alpha: self.rpo_alpha,
            selm_alpha: self.selm_alpha,
        }
    }

    /// The preference stage's resolved optimiser options.
    pub fn preference_optim(&self) -> OptimConfig {
        self.train.optim.merged(&self.optim)
    }

    /// The trainer config of the SFT stage: the `train` section, with an RL batch large
    /// enough for a step's pairs (the trainer allocates its model from it) and no RL steps.
    fn trainer_config(&self) -> TrainConfig {
        crate::selfplay::sft_stage_config(
            &self.train,
            self.rows_per_pair() * self.pairs_per_step,
            self.max_completion_length,
        )
    }
}

/// One DPO step's metrics (one JSON line in the CLI's `metrics.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SelfReinforceMetrics {
    /// The round (0-based).
    pub round: u32,
    /// The step (0-based, over all rounds).
    pub step: u32,
    /// The preference loss (0 when every pair was dropped).
    pub loss: f64,
    /// Mean `β h` over the pairs.
    pub reward_margin: f64,
    /// Fraction of pairs with `h > 0`.
    pub reward_accuracy: f64,
    /// Mean `β (logπ_θ(y_w) − logπ_ref(y_w))`.
    pub chosen_reward: f64,
    /// Mean `β (logπ_θ(y_l) − logπ_ref(y_l))`.
    pub rejected_reward: f64,
    /// Pairs trained on.
    pub num_pairs: usize,
    /// Pairs dropped because both responses were the same tokens.
    pub num_dropped_identical: usize,
    /// Prompts that gave no pair because their K scores were all equal (scored sources).
    #[serde(default)]
    pub num_dropped_tied: usize,
    /// Fraction of the chosen responses the verifier accepts (a metric only, except for
    /// `pair_source = "verifier"`, whose pairs it ranks).
    pub chosen_correct: f64,
    /// Fraction of the rejected responses the verifier accepts.
    pub rejected_correct: f64,
}

/// The self-reinforcement loop over a backend `K`: SFT through a [`Trainer`], then rounds of
/// DPO on strong ≻ weak pairs.
pub struct SelfReinforce<K: Kernels> {
    config: SelfReinforceConfig,
    trainer: Trainer<K>,
    /// The strong model of the round (also the frozen reference).
    strong: Gpt<K>,
    /// The weak model of the round.
    weak: Gpt<K>,
    rng: ChaCha8Rng,
    round: u32,
    step: u32,
    sft_done: bool,
}

impl<K: Kernels> SelfReinforce<K> {
    /// Builds the trainer (vocabulary, problems, a freshly initialised model) and two more
    /// model instances for the strong/reference and the weak side.
    pub fn new(
        config: SelfReinforceConfig,
        mut make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let (k1, k2) = (make_kernels(), make_kernels());
        let trainer = Trainer::new(config.trainer_config(), make_kernels)?;
        let gpt = Trainer::<K>::gpt_config(trainer.config(), trainer.vocab());
        let cap = config.rows_per_pair() * config.pairs_per_step;
        let t = config.train.model.n_positions;
        let strong = Gpt::new(k1, gpt, cap, t)?;
        let weak = Gpt::new(k2, gpt, cap, t)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
        rng.set_stream(PAIR_STREAM);
        Ok(Self {
            config,
            trainer,
            strong,
            weak,
            rng,
            round: 0,
            step: 0,
            sft_done: false,
        })
    }

    /// The config.
    pub fn config(&self) -> &SelfReinforceConfig {
        &self.config
    }
    /// The trainer (its model is the policy).
    pub fn trainer(&mut self) -> &mut Trainer<K> {
        &mut self.trainer
    }
    /// The current round (0-based).
    pub fn round(&self) -> u32 {
        self.round
    }
    /// DPO steps done.
    pub fn step(&self) -> u32 {
        self.step
    }
    /// Total DPO steps of the run.
    pub fn total_steps(&self) -> u32 {
        self.config.rounds * self.config.steps_per_round
    }

    /// Runs the SFT stage (keeping the model after `weak_sft_steps` steps as the weak side)
    /// and sets up round 0: the strong side and the reference are `M_sft`, the policy starts
    /// from it with a fresh optimiser. Returns the SFT metrics.
    pub async fn run_sft(&mut self) -> Result<Vec<crate::StepMetrics>, TrainError> {
        let sft = self.config.train.sft.max_steps;
        let mut out = Vec::with_capacity(sft as usize);
        let mut weak: Option<Vec<f32>> = None;
        while self.trainer.step() < sft {
            if self.trainer.step() == self.config.weak_sft_steps {
                weak = Some(self.trainer.snapshot().await?.params);
            }
            out.push(self.trainer.train_step().await?);
        }
        let weak = match weak {
            Some(w) => w,
            None => {
                return Err(TrainError::Config(
                    "the trainer was past `weak_sft_steps` before the SFT stage".into(),
                ))
            }
        };
        let strong: Snapshot = self.trainer.snapshot().await?;
        self.weak.write_params(&weak)?;
        self.strong.write_params(&strong.params)?;
        self.begin_round(&strong.params).await?;
        self.sft_done = true;
        Ok(out)
    }

    /// Samples one response per prompt from `model`.
    async fn responses(
        model: &mut Gpt<K>,
        prompts: &[&[u32]],
        cfg: &SampleConfig,
        key: u32,
    ) -> Result<Vec<Vec<u32>>, TrainError> {
        let gens = model.generate(prompts, cfg, key).await?;
        Ok(gens.into_iter().map(|g| g.tokens).collect())
    }

    /// Draws `pairs_per_step` unlabelled problems and one strong and one weak response to
    /// each; returns the pairs (identical ones not yet dropped) and the pool indices.
    pub async fn make_pairs(&mut self) -> Result<(Vec<Pair>, Vec<usize>), TrainError> {
        let idx = self
            .trainer
            .data()
            .draw_unlabelled(self.config.pairs_per_step, &mut self.rng)?;
        let vocab = self.trainer.vocab().clone();
        let prompts: Vec<Vec<u32>> = idx
            .iter()
            .map(|&i| vocab.encode(&self.trainer.data().pool[i].prompt))
            .collect();
        let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
        let cfg = SampleConfig {
            max_new_tokens: self.config.max_completion_length,
            temperature: self.config.temperature,
            top_k: 0,
            top_p: self.config.top_p,
            stop_tokens: vec![vocab.eos()],
            seed: self.config.train.seed,
        };
        let key = self.step.wrapping_mul(2);
        let chosen = Self::responses(&mut self.strong, &refs, &cfg, key).await?;
        let rejected = Self::responses(&mut self.weak, &refs, &cfg, key.wrapping_add(1)).await?;
        let pairs = prompts
            .into_iter()
            .zip(chosen)
            .zip(rejected)
            .map(|((prompt, chosen), rejected)| Pair {
                prompt,
                chosen,
                rejected,
            })
            .collect();
        Ok((pairs, idx))
    }

    /// One DPO step: make pairs, drop identical ones, one preference-loss update of the
    /// policy against the frozen reference. Starts the next round (newest model strong,
    /// previous strong weak, fresh reference and optimiser) when the round's steps are done.
    /// Runs the SFT stage first ([`SelfReinforce::run_sft`], its metrics dropped) if it has
    /// not run; errors once every round is done.
    pub async fn train_step(&mut self) -> Result<SelfReinforceMetrics, TrainError> {
        if !self.sft_done {
            self.run_sft().await?;
        }
        if self.step >= self.total_steps() {
            return Err(TrainError::Config("every round is done".into()));
        }
        let (pairs, prefs, refs, idx, tied) = match self.config.pair_source {
            PairSource::WeakModel => {
                let (pairs, idx) = self.make_pairs().await?;
                let refs: Vec<Vec<u32>> = pairs.iter().map(|p| p.chosen.clone()).collect();
                let prefs = vec![Preference::HARD_PAIR; pairs.len()];
                (pairs, prefs, refs, idx, 0)
            }
            _ => self.make_scored_pairs().await?,
        };
        let correct = |this: &Self, side: &dyn Fn(&Pair) -> &Vec<u32>| -> f64 {
            let v = this.trainer.vocab();
            let task = this.trainer.task();
            let s: f64 = pairs
                .iter()
                .zip(&idx)
                .map(|(p, &i)| task.verify(&this.trainer.data().pool[i], &v.decode(side(p))))
                .sum();
            s / pairs.len().max(1) as f64
        };
        let chosen_correct = correct(self, &|p| &p.chosen);
        let rejected_correct = correct(self, &|p| &p.rejected);
        let n_made = pairs.len();
        let keep: Vec<bool> = pairs.iter().map(|p| p.chosen != p.rejected).collect();
        let pick = |i: usize| keep[i];
        let kept: Vec<Pair> = pairs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .map(|(_, p)| p)
            .collect();
        let prefs: Vec<Preference> = (0..n_made).filter(|&i| pick(i)).map(|i| prefs[i]).collect();
        let refs: Vec<Vec<u32>> = refs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .map(|(_, r)| r)
            .collect();
        let mut m = SelfReinforceMetrics {
            round: self.round,
            step: self.step,
            num_pairs: kept.len(),
            num_dropped_identical: n_made - kept.len(),
            num_dropped_tied: tied,
            chosen_correct,
            rejected_correct,
            ..Default::default()
        };
        if !kept.is_empty() {
            let out = self.update(&kept, &prefs, &refs).await?;
            m.loss = out.loss;
            m.reward_margin = out.reward_margin;
            m.reward_accuracy = out.reward_accuracy;
            m.chosen_reward = out.chosen_reward;
            m.rejected_reward = out.rejected_reward;
        }
        self.step += 1;
        if self.step % self.config.steps_per_round.max(1) == 0 && self.step < self.total_steps() {
            self.next_round().await?;
        }
        Ok(m)
    }

    /// The newest model becomes the strong side and the reference, the previous strong
    /// model the weak side; the optimiser restarts.
    async fn next_round(&mut self) -> Result<(), TrainError> {
        let len = self.strong.layout().len();
        let mut prev = vec![0.0f32; len];
        self.strong.read_params(&mut prev).await?;
        let mut newest = vec![0.0f32; len];
        self.trainer.model().read_params(&mut newest).await?;
        self.weak.write_params(&prev)?;
        self.strong.write_params(&newest)?;
        self.begin_round(&newest).await?;
        self.round += 1;
        Ok(())
    }

    /// The policy starts a round from `params`: a new stage of the preference optimiser
    /// (fresh moments unless its `optimizer_state` is `carry`).
    async fn begin_round(&mut self, params: &[f32]) -> Result<(), TrainError> {
        let optim = self.config.preference_optim();
        let policy = self.trainer.policy();
        let carried = if optim.optimizer_state == OptimizerState::Carry {
            Some(policy.optimizer_snapshot().await)
        } else {
            None
        };
        policy.model().write_params(params)?;
        if let Some(s) = carried {
            policy.restore_optimizer(&s)?;
        }
        policy.begin_stage(optim, self.config.steps_per_round);
        Ok(())
    }

    /// One preference-loss update over `pairs` with their preferences (and, for SELM, the
    /// reference's responses `refs`, one per pair).
    async fn update(
        &mut self,
        pairs: &[Pair],
        prefs: &[Preference],
        refs: &[Vec<u32>],
    ) -> Result<PreferenceOutput, TrainError> {
        let n = pairs.len();
        let selm = self.config.loss_type.needs_reference_response();
        let seqs: Vec<(Vec<u32>, usize)> = pairs
            .iter()
            .map(|p| (&p.chosen, p))
            .chain(pairs.iter().map(|p| (&p.rejected, p)))
            .chain(pairs.iter().zip(refs).filter(|_| selm).map(|(p, r)| (r, p)))
            .map(|(r, p)| {
                let mut s = p.prompt.clone();
                s.extend_from_slice(r);
                (s, p.prompt.len())
            })
            .collect();
        let batch = Batch::from_pairs(&seqs, self.config.train.model.n_positions);
        let (b, t) = (batch.b, batch.t);
        let (lp, _) = batch.logprobs(&mut self.strong, false).await?;
        let ref_lp: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        let step = self.step;
        let (lp, _) = self.trainer.policy().logprobs(&batch, false, step).await?;
        let pol_lp: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        if ref_lp.iter().any(|x| !x.is_finite()) {
            return Err(self
                .trainer
                .policy()
                .non_finite(step, "reference log-probs"));
        }
        let mut grad = vec![0.0f64; b * t];
        let out = preference_loss(
            &self.config.preference_spec(),
            prefs,
            &pol_lp,
            &ref_lp,
            &batch.mask,
            n,
            t,
            &mut grad,
        )?;
        let policy = self.trainer.policy();
        if !out.loss.is_finite() || grad.iter().any(|x| !x.is_finite()) {
            return Err(policy.non_finite(step, "loss"));
        }
        let weights: Vec<f32> = grad.iter().map(|&x| x as f32).collect();
        policy.backward(&weights, None)?;
        policy.step(step).await?;
        Ok(out)
    }

    /// The full state once the SFT stage is done: the policy (parameters, optimiser), the
    /// strong and weak models (as the named tensors `strong`, `weak`), the round, the step,
    /// the pair stream and the trainer's state. Refuses before the SFT stage has run (a run
    /// is checkpointed between DPO steps) and on a non-finite parameter.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<SelfReinforceState>, TrainError> {
        if !self.sft_done {
            return Err(TrainError::Config(
                "a self-reinforcement run is checkpointed after its SFT stage".into(),
            ));
        }
        let t = self.trainer.snapshot().await?;
        let len = t.params.len();
        let (mut strong, mut weak) = (vec![0.0f32; len], vec![0.0f32; len]);
        self.strong.read_params(&mut strong).await?;
        self.weak.read_params(&mut weak).await?;
        if strong.iter().chain(&weak).any(|x| !x.is_finite()) {
            return Err(TrainError::NonFinite {
                step: self.step,
                what: "parameters",
            });
        }
        let (round, step) = (self.round, self.step);
        let rng_word_pos = crate::selfplay::rng_position(&self.rng);
        Ok(crate::selfplay::trainer_loop_snapshot(
            t,
            vec![("strong".into(), strong), ("weak".into(), weak)],
            |trainer| SelfReinforceState {
                round,
                step,
                rng_word_pos,
                trainer,
            },
        ))
    }

    /// Restores a [`SelfReinforce::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<SelfReinforceState>) -> Result<(), TrainError> {
        let strong = crate::selfplay::snapshot_tensor(snap, "strong")?;
        let weak = crate::selfplay::snapshot_tensor(snap, "weak")?;
        self.trainer
            .restore(&crate::selfplay::trainer_part(snap, &snap.state.trainer))?;
        self.trainer
            .policy()
            .set_stage_options(self.config.preference_optim(), self.config.steps_per_round);
        self.strong.write_params(strong)?;
        self.weak.write_params(weak)?;
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.round = snap.state.round;
        self.step = snap.state.step;
        self.sft_done = true;
        Ok(())
    }

    /// Held-out greedy accuracy (and the rest of the report) of the policy.
    pub async fn evaluate(&mut self) -> Result<crate::EvalReport, TrainError> {
        self.trainer.evaluate().await
    }
}

/// A self-reinforcement run's own state besides its tensors (a checkpoint's `state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfReinforceState {
    /// The current round (0-based).
    pub round: u32,
    /// DPO steps done.
    pub step: u32,
    /// Position of the pair stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The SFT trainer's state (its random stream and curriculum).
    pub trainer: crate::TrainState,
}
