//! The trainer's state: the per-step metrics, what a checkpoint holds, and the snapshot and
//! restore that make a resumed run continue bit for bit.

use super::{Phase, ReliftState, ReplayState, Trainer};
use crate::policy::{OptimizerCounters, OptimizerSnapshot};
use crate::sampler::EpochCursor;
use crate::TrainError;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_bandits::{Curriculum, Learnability, Sec, SuccessBand, Uniform};
use spar_model::Kernels;

fn sft_phase() -> Phase {
    Phase::Sft
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The curriculum's state (serialisable, so a resumed run continues it exactly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurriculumState {
    /// Uniform over the levels.
    Uniform(Uniform),
    /// SEC.
    Sec(Sec),
    /// Learnability.
    Learnability(Learnability),
    /// Success band.
    SuccessBand(SuccessBand),
}

impl CurriculumState {
    pub(crate) fn get(&self) -> &dyn Curriculum {
        match self {
            CurriculumState::Uniform(c) => c,
            CurriculumState::Sec(c) => c,
            CurriculumState::Learnability(c) => c,
            CurriculumState::SuccessBand(c) => c,
        }
    }
    pub(crate) fn get_mut(&mut self) -> &mut dyn Curriculum {
        match self {
            CurriculumState::Uniform(c) => c,
            CurriculumState::Sec(c) => c,
            CurriculumState::Learnability(c) => c,
            CurriculumState::SuccessBand(c) => c,
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
    /// rewards never see it); with RISE, of the solving completions only.
    pub accuracy: f64,
    /// RISE (`grpo.verify_fraction`): fraction of the trained verify completions whose verdict
    /// matches whether the solution they were shown is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_accuracy: Option<f64>,
    /// RISE: fraction of the trained verify groups whose shown solution is right (what a
    /// verdict of always `yes` would score per group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_shown_right: Option<f64>,
    /// Fraction of the label-free groups graded against a pseudo-label (those the gates let
    /// through) whose pseudo-label is the true answer (majority vote, Co-Reward).
    pub label_accuracy: Option<f64>,
    /// Mean vote ratio of the label-free groups' pseudo-labels (majority vote, Co-Reward).
    pub majority_ratio: Option<f64>,
    /// Fraction of the label-free groups not graded (gated out, or nothing parsed).
    pub gated_fraction: Option<f64>,
    /// Fraction of the completions the model judged (`self_judge`) whose verdict (score
    /// above ½) matches the verifier's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_agreement: Option<f64>,
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
    /// Share of the step's sampled groups whose rewards are all equal, before dynamic
    /// sampling, oversampling's subset and replay (reported when `grpo.replay` or
    /// `grpo.oversample_factor` is on; otherwise `zero_spread_fraction` is the same share
    /// for the trained groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled_zero_spread_fraction: Option<f64>,
    /// Share of the trained completions whose advantage is 0, replayed ones included
    /// (reported when `grpo.replay` or `grpo.oversample_factor` is on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_advantage_fraction: Option<f64>,
    /// Completions replayed into zero-spread groups' slots (`grpo.replay`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replayed: usize,
    /// Groups re-sampled with a hint because they all failed (`grpo.hint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hinted_groups: Option<usize>,
    /// Share of the final hinted groups' completions the verifier accepts (`grpo.hint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hinted_solve_rate: Option<f64>,
    /// Demonstrations put into the ReLIFT buffer in the step (problems whose solving group
    /// all failed and that were not in it yet; `grpo.relift`, RL steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relift_added: Option<usize>,
    /// Demonstrations the step trained on when it was ReLIFT's SFT step (`grpo.relift`; such
    /// a step samples nothing: `num_groups` is 0 and `loss` is the mean token NLL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relift_trained: Option<usize>,
    /// Demonstrations in the ReLIFT buffer after the step (`grpo.relift`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relift_buffered: Option<usize>,
    /// Share of the trained completion tokens whose gradient Clip-Cov removed
    /// (`grpo.clip_cov_fraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_cov_fraction: Option<f64>,
    /// Mean over the trained completion tokens of `(A − mean A)(ℓ − mean ℓ)`, the covariance
    /// that drives the entropy change (`grpo.clip_cov_fraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_covariance: Option<f64>,
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
    /// Steps done in the stage the optimiser is in (its schedule's position).
    #[serde(default)]
    pub stage_step: u32,
    /// The stage the optimiser was set up for (`sft` until the first RL step).
    #[serde(default = "sft_phase")]
    pub optimizer_stage: Phase,
    /// Position of the trainer's random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The curriculum.
    pub curriculum: CurriculumState,
    /// Position of the SFT examples' epoch order.
    #[serde(default)]
    pub sft_cursor: EpochCursor,
    /// Per level, position of the RL prompts' epoch order.
    #[serde(default)]
    pub rl_cursors: Vec<EpochCursor>,
    /// Pool indices of the problems whose last RL group had no spread, ascending
    /// (`grpo.zero_spread_skip`; empty when it is off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zero_spread_prompts: Vec<u32>,
    /// The replay buffer and SPEAR's recent rewards (`grpo.replay`; empty when it is off).
    #[serde(default, skip_serializing_if = "ReplayState::is_empty")]
    pub replay: ReplayState,
    /// The ReLIFT buffer (`grpo.relift`; empty when it is off).
    #[serde(default, skip_serializing_if = "ReliftState::is_empty")]
    pub relift: ReliftState,
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

impl<K: Kernels> Trainer<K> {
    /// The full state; refuses (with [`TrainError::NonFinite`]) if any parameter or moment is
    /// not finite, so a checkpoint never holds one.
    pub async fn snapshot(&mut self) -> Result<Snapshot, TrainError> {
        let (params, opt) = self.policy.snapshot(self.step).await?;
        let reference = match self.reference.as_mut() {
            Some(r) => {
                let mut out = alloc::vec![0.0f32; params.len()];
                r.read_params(&mut out).await?;
                Some(out)
            }
            None => None,
        };
        if reference.iter().flatten().any(|x| !x.is_finite()) {
            return Err(TrainError::NonFinite {
                step: self.step,
                what: "parameters",
            });
        }
        Ok(Snapshot {
            state: TrainState {
                step: self.step,
                adam_t: opt.counters.adam_steps,
                stage_step: opt.counters.stage_step,
                optimizer_stage: self.optimizer_stage,
                rng_word_pos: alloc::format!("{}", self.rng.get_word_pos()),
                curriculum: self.curriculum.clone(),
                sft_cursor: self.sft_cursor.clone(),
                rl_cursors: self.rl_cursors.clone(),
                zero_spread_prompts: (0u32..)
                    .zip(&self.zero_spread)
                    .filter(|(_, &z)| z)
                    .map(|(i, _)| i)
                    .collect(),
                replay: self.replay.clone(),
                relift: self.relift.clone(),
            },
            params,
            m: opt.m,
            v: opt.v,
            reference,
        })
    }

    /// Restores a [`Snapshot`] taken from a trainer with the same config.
    pub fn restore(&mut self, snap: &Snapshot) -> Result<(), TrainError> {
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
        let pool = self.data.pool.len();
        if let Some(i) = snap
            .state
            .zero_spread_prompts
            .iter()
            .find(|&&i| i as usize >= pool)
        {
            return Err(TrainError::Checkpoint(alloc::format!(
                "zero_spread_prompts names problem {i}, but there are {pool}"
            )));
        }
        snap.state
            .replay
            .check(self.vocab.vocab_size(), self.config.model.n_positions)?;
        snap.state.relift.check(pool)?;
        self.set_optimizer_stage(snap.state.optimizer_stage);
        self.policy.restore(
            &snap.params,
            &OptimizerSnapshot {
                m: snap.m.clone(),
                v: snap.v.clone(),
                counters: OptimizerCounters {
                    adam_steps: snap.state.adam_t,
                    stage_step: snap.state.stage_step,
                },
            },
        )?;
        self.step = snap.state.step;
        self.rng.set_word_pos(word_pos);
        self.curriculum = snap.state.curriculum.clone();
        self.sft_cursor = snap.state.sft_cursor.clone();
        self.rl_cursors = snap.state.rl_cursors.clone();
        self.rl_cursors
            .resize(self.config.task.levels.len(), EpochCursor::default());
        self.replay = snap.state.replay.clone();
        self.relift = snap.state.relift.clone();
        self.zero_spread.fill(false);
        for &i in &snap.state.zero_spread_prompts {
            self.zero_spread[i as usize] = true;
        }
        self.reference = None;
        if let Some(r) = &snap.reference {
            self.set_reference(r)?;
        }
        Ok(())
    }
}
