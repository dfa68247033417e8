//! The `[grpo]` section: the RL stage's options and the names its enums take in a config.

use super::{HintName, HintTargetName};
use crate::optim::OptimOverride;
use crate::sampler::Sampler;
use serde::{Deserialize, Serialize};

/// Where the RL reward comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardSource {
    /// The task's verifier against the hidden answer (RLVR; needs labels).
    Verifier,
    /// TTRL: agreement with the group's majority answer (no labels).
    MajorityVote,
    /// Co-Reward: agreement with the majority answer of the paraphrased question (no labels).
    CoReward,
    /// Intuitor-style self-certainty of the completion's tokens (no labels, no answers).
    SelfCertainty,
    /// Self-judged (SSR-Zero / self-rewarding): the model's own probability of `yes` when
    /// asked to verify its answer in the task's verify form (no labels in RL; the judge is
    /// trained on the labelled problems with `sft.judge_fraction`). See
    /// [`crate::rewards::self_judge`].
    SelfJudge,
    /// No reward: every completion scores 0, so every advantage is 0 and the update is
    /// whatever else the loss holds: the entropy bonus (`entropy_coef`, one-shot RLVR's
    /// entropy-only arm) and the KL anchor. Needs `entropy_coef > 0` and
    /// `dynamic_sampling = false` (no group would ever have spread).
    #[serde(rename = "none")]
    NoReward,
}

/// TRL's `loss_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossTypeName {
    /// Mean over sequences of the token mean (DeepSeekMath).
    Grpo,
    /// Token mean over the batch.
    Bnpo,
    /// Token sum over `B · max_completion_length` (Dr. GRPO).
    DrGrpo,
    /// Token mean over the batch (DAPO; TRL's default).
    Dapo,
}

impl From<LossTypeName> for spar_losses::aggregation::LossType {
    fn from(v: LossTypeName) -> Self {
        use spar_losses::aggregation::LossType;
        match v {
            LossTypeName::Grpo => LossType::Grpo,
            LossTypeName::Bnpo => LossType::Bnpo,
            LossTypeName::DrGrpo => LossType::DrGrpo,
            LossTypeName::Dapo => LossType::Dapo,
        }
    }
}

/// TRL's `scale_rewards`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleRewardsName {
    /// Divide by the group's std.
    Group,
    /// Divide by the batch's std.
    Batch,
    /// No division (Dr. GRPO).
    None,
}

impl From<ScaleRewardsName> for spar_losses::grpo::ScaleRewards {
    fn from(v: ScaleRewardsName) -> Self {
        use spar_losses::grpo::ScaleRewards;
        match v {
            ScaleRewardsName::Group => ScaleRewards::Group,
            ScaleRewardsName::Batch => ScaleRewards::Batch,
            ScaleRewardsName::None => ScaleRewards::None,
        }
    }
}

/// Which curriculum picks the level of each prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurriculumName {
    /// Every level equally often.
    Uniform,
    /// SEC: TD(0) on the mean absolute advantage, Boltzmann sampling.
    Sec,
    /// Learnability (Absolute Zero's `1 − p` on `(0, 1)`): levels in proportion to a moving
    /// average of their solve rate's learnability; spar-bandits' defaults.
    Learnability,
    /// Success band (WebRL): levels whose estimated solve rate lies in `[0.05, 0.75]`;
    /// spar-bandits' defaults.
    SuccessBand,
}

/// The RL stage's policy objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveName {
    /// spar-losses' clipped surrogate with GRPO advantages (`scale_rewards`, `epsilon`,
    /// `epsilon_high`, `beta`).
    #[default]
    Grpo,
    /// Negative-aware Fine-Tuning ([`spar_losses::nft`]; Chen et al. 2025, "Bridging
    /// Supervised Learning and Reinforcement Learning in Math Reasoning"): likelihood on the
    /// right completions plus an implicit negative policy on the wrong ones, weighted per
    /// prompt by `nft_prompt_weight` (which replaces `scale_rewards`); no clip, no KL term
    /// (`beta` must be 0). Rewards must lie in `[0, 1]` (the verifier's 0/1).
    Nft,
}

/// NFT's prompt weight `ω(q)` ([`spar_losses::nft::PromptWeight`]); `r̂` is the group's
/// correctness rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftPromptWeightName {
    /// `1 − r̂` (the authors' default): on-policy, Dr. GRPO's advantage `r − r̂`.
    #[default]
    NegativeRate,
    /// `1`.
    One,
    /// `√((1 − r̂)/r̂)`: on-policy, std-normalised GRPO with the population std.
    SqrtOdds,
    /// `(1 − r̂)/(s + ε)`, `s` the group's unbiased std and `ε` TRL's 1e-4: on-policy, exactly
    /// GRPO with `scale_rewards = "group"`.
    GroupStd,
}

/// NFT's likelihood-ratio level ([`spar_losses::nft::NftRatioLevel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftRatioLevelName {
    /// Per token, aggregated by `loss_type` (the authors' default).
    #[default]
    Token,
    /// Per completion (the product over its tokens), the mean over completions.
    Sequence,
}

/// What NFT does with a group whose rewards are all equal
/// ([`spar_losses::nft::UniformGroups`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftUniformGroupsName {
    /// Loss and gradient 0, as GRPO's zero advantages.
    #[default]
    Skip,
    /// Trained with the correctness rate clamped into `[0.02, 0.98]`.
    Train,
}

/// Replay of past completions into the slots of groups without spread
/// ([`GrpoSection::replay`]; `crate::trainer` documents the mechanics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayName {
    /// No replay (plain GRPO).
    #[default]
    None,
    /// Selective Sample Replay (VL-Rethinker, [`spar_losses::ssr`]): a buffer of past
    /// completions with non-zero advantage, drawn with replacement with probability
    /// `∝ |A| + 1e-4`, each keeping the advantage it had when sampled.
    Ssr,
    /// SPEAR's self-imitation with advantage recalibration
    /// ([`spar_losses::self_imitation`]): a buffer of past completions with positive
    /// advantage; each step their advantages are recomputed as `R − b_now`, `b_now` the
    /// `spear_percentile` of the last `spear_reward_window` rewards, those with `Â > 0` kept
    /// and drawn uniformly with replacement.
    Spear,
}

/// The RL stage (GRPO family).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpoSection {
    /// Optimiser steps (0 skips the stage).
    pub max_steps: u32,
    /// Completions per step (prompts per step = this / `num_generations`; Co-Reward adds as
    /// many again for the paraphrases).
    pub per_device_train_batch_size: usize,
    /// Completions per prompt (the group).
    pub num_generations: usize,
    /// How the RL prompts are drawn from their level's pool: `random` (with replacement) or
    /// `epoch` (shuffled epochs, as TRL's prompt sampler).
    pub prompt_sampler: Sampler,
    /// The stage's overrides of the shared `[optim]` section (default: learning rate 5e-4;
    /// a fresh optimiser, as a new TRL trainer gets).
    pub optim: OptimOverride,
    /// KL coefficient against the model at the start of RL (k3 estimator).
    pub beta: f64,
    /// Lower clip.
    pub epsilon: f64,
    /// Upper clip.
    pub epsilon_high: f64,
    /// Loss aggregation.
    pub loss_type: LossTypeName,
    /// Advantage scaling.
    pub scale_rewards: ScaleRewardsName,
    /// New tokens per completion at most.
    pub max_completion_length: usize,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus mass (1: off).
    pub top_p: f32,
    /// Top-k (0: off).
    pub top_k: usize,
    /// The reward.
    pub reward: RewardSource,
    /// The curriculum over `task.levels`.
    pub curriculum: CurriculumName,
    /// SEC's TD(0) step size.
    pub sec_alpha: f64,
    /// SEC's Boltzmann temperature.
    pub sec_temperature: f64,
    /// DAPO dynamic sampling: drop groups whose rewards are all equal and draw more prompts.
    pub dynamic_sampling: bool,
    /// Extra sampling rounds at most when dynamic sampling refills the batch.
    pub max_refill_rounds: u32,
    /// Selective rollouts (GRESO's pre-rollout filter, Zheng et al. 2025): an RL prompt
    /// whose most recent group had identical rewards (no GRPO signal) is skipped with this
    /// probability when it is drawn, and the next prompt is drawn instead, so that sampling
    /// is spent on prompts likely to carry a signal; a skipped prompt stays eligible (it is
    /// drawn again with probability `1 − p` each time it comes up). 0: off. In `[0, 1)`.
    pub zero_spread_skip: f64,
    /// Draw RL prompts only from the problems without labels (else from the whole pool).
    pub unlabelled_only: bool,
    /// RL draws its prompts from only the first `rl_pool_size` problems of each level's pool
    /// (after `unlabelled_only`), and the hybrid labelled prompts from the first
    /// `rl_pool_size` labelled ones; the batch repeats them as needed. 1 with the verifier is
    /// one-shot RLVR (Wang et al. 2025, "Reinforcement learning for reasoning in large
    /// language models with one training example"). 0 (default): the whole pool.
    pub rl_pool_size: usize,
    /// Compute the KL to the start-of-RL model even when `beta = 0` (for the metrics).
    pub log_ref_kl: bool,
    /// Vote-confidence gate of the label-free rewards (majority vote, Co-Reward): a group's
    /// pseudo-label is used only when its vote ratio (the winner's votes over the group size,
    /// unparsable answers counted) is at least this; other groups get reward 0 everywhere,
    /// hence zero advantage. TTRL reports that label accuracy rises with the ratio. 0: off.
    pub min_majority_ratio: f64,
    /// Co-Reward only: use a pair of groups (original and paraphrase) only when both groups'
    /// votes name the same answer; otherwise both get reward 0 (zero advantage).
    pub require_cross_agreement: bool,
    /// Semi-supervised RL (TTRL's hybrid ground truth, with the labels SFT already had):
    /// this fraction of each step's prompts (rounded) is drawn from the *labelled* problems
    /// and graded by the verifier; the rest keep the configured reward. Not label-free when
    /// above 0. 0: off.
    pub labelled_fraction_per_step: f64,
    /// Auxiliary SFT loss during RL (InstructGPT's PPO-ptx): each RL step adds
    /// `ptx_coef ·` the mean token NLL of `sft.per_device_train_batch_size` labelled examples
    /// to the policy loss. Uses the labelled problems. 0: off.
    pub ptx_coef: f64,
    /// Self-training on confident pseudo-labels (no labels): each RL step adds
    /// `self_train_coef ·` the mean token NLL of one completion from each label-free group
    /// whose completions all agree with its pseudo-label (unanimous groups, whose GRPO
    /// advantages are zero and whose label is the most often right). 0: off.
    pub self_train_coef: f64,
    /// The policy objective: `grpo` (the clipped surrogate) or `nft` (Negative-aware
    /// Fine-Tuning, [`ObjectiveName::Nft`]). The `nft_*` keys are read only by `nft`.
    pub objective: ObjectiveName,
    /// NFT: weight `λ ≥ 0` of the wrong completions' loss (1: NFT; 0: rejection-sampling
    /// fine-tuning, the right completions only).
    pub nft_neg_weight: f64,
    /// NFT: floor `ε₋ ∈ (0, 1]` of the negative ratio `(1 − r̂R)/(1 − r̂)` (the authors' 1.0).
    pub nft_clamp_negative: f64,
    /// NFT: floor `c₊ ∈ [0, 1]` of the positive ratio `R` (0: none, the authors').
    pub nft_clamp_positive: f64,
    /// NFT: the prompt weight `ω(q)`.
    pub nft_prompt_weight: NftPromptWeightName,
    /// NFT: token or sequence likelihood ratio.
    pub nft_ratio_level: NftRatioLevelName,
    /// NFT: groups whose rewards are all equal (`skip` or `train`).
    pub nft_uniform_groups: NftUniformGroupsName,
    /// Replay into the slots of groups without spread: `none` (default), `ssr` or `spear`
    /// ([`ReplayName`]). The step's sampled groups whose rewards are all equal carry no
    /// advantage; their `num_generations` slots of the trained batch are filled with
    /// completions drawn from a buffer of earlier steps' completions, trained with the clipped
    /// ratio against the log-probs their sampler had (the off-policy correction both papers'
    /// PPO-style losses apply). Needs `objective = "grpo"`.
    pub replay: ReplayName,
    /// Replay: completions the buffer holds at most (the oldest leave first). Ours, not the
    /// papers'; ≥ 1 when replay is on.
    pub replay_buffer_size: usize,
    /// SPEAR: the percentile `q ∈ [0, 1]` of recent rewards that is the recalibration
    /// baseline (0.5, the median: \[MEM\], low confidence).
    pub spear_percentile: f64,
    /// SPEAR: how many of the most recent sampled rewards the baseline is taken over (ours;
    /// ≥ 1 when SPEAR is on).
    pub spear_reward_window: usize,
    /// T1's oversampling (Hou et al. 2025): `oversample_factor · num_generations`
    /// completions are sampled per prompt and `num_generations` of them trained on: the
    /// first `num_generations` in sampling order, except that when they all have the same
    /// reward and the larger group does not, the last of them is swapped for the first
    /// completion with another reward (the subset rule is ours: \[MEM\], the paper keeps a
    /// subset of the oversampled responses). 1: off. In `[1, 16]`.
    pub oversample_factor: usize,
    /// T1's entropy bonus: `− entropy_coef ·` the token mean of the policy's entropy over the
    /// trained completions joins the loss (verl's `entropy_coeff`; T1's `α`). 0: off; ≥ 0.
    pub entropy_coef: f64,
    /// Clip-Cov (Cui et al. 2025, "The Entropy Mechanism of Reinforcement Learning for
    /// Reasoning Language Models"; the entropy control SPEAR adopts, [`spar_losses::clip_cov`]):
    /// each RL step, this share of the trained completion tokens (at least one), drawn from
    /// those whose covariance of advantage and log-prob lies in (`clip_cov_low`,
    /// `clip_cov_high`), have their policy gradient removed. The authors' share is 2e-4
    /// \[MEM\]. 0 (default): off. In `[0, 1]`.
    pub clip_cov_fraction: f64,
    /// Clip-Cov's lower covariance bound, exclusive (the authors' 1, \[MEM\]).
    pub clip_cov_low: f64,
    /// Clip-Cov's upper covariance bound, exclusive (the authors' 5, \[MEM\]).
    pub clip_cov_high: f64,
    /// T1's refreshed reference: every `ref_refresh_steps` RL steps the KL reference (and
    /// `log_ref_kl`'s) is re-taken from the current policy, so that β anchors the policy to
    /// where it was recently rather than to the start of RL. 0 (default): the reference stays
    /// the start of RL.
    pub ref_refresh_steps: u32,
    /// RISE (Liu et al. 2025, [`crate::rewards::self_verify`]): this share of each step's
    /// prompts (rounded, at least one solving prompt left) are verify prompts that show the
    /// model one of this step's own fresh solutions in the task's verify form; a verify
    /// completion earns 1 when its yes/no verdict matches whether the solution is right.
    /// Both kinds of group train in the one GRPO update. Needs `reward = "verifier"`, a task
    /// with a verify form and a model that has seen the form (`sft.judge_fraction > 0` or
    /// `model.init_from`). 0 (default): off. In `[0, 1)`.
    pub verify_fraction: f64,
    /// Hints for groups that all fail (GHPO, Liu et al. 2025; Guide, Nath et al. 2025):
    /// `none` (default), `fixed` or `adaptive` ([`HintName`]). A solving group whose
    /// verifier rewards are all 0 is re-sampled with a prefix of its problem's reference
    /// solution appended to the prompt, graded on hint and continuation together, and
    /// replaces the failing group in the batch (`crate::trainer::hints`). Needs
    /// `reward = "verifier"`.
    pub hint: HintName,
    /// The share of the reference solution a hint shows (`adaptive`: the first stage's, and
    /// the step between stages), in characters rounded up, at least one, and at most all
    /// but the last (the model always writes something). In `(0, 1]`.
    pub hint_fraction: f64,
    /// What a hinted group trains: `hinted` (GHPO: the generated tokens after the hinted
    /// prompt) or `original` (Guide: hint and generated tokens as the completion of the
    /// original prompt) ([`HintTargetName`]).
    pub hint_target: HintTargetName,
    /// Guide's clipped importance ratio for `hint_target = "original"`: a hint token was not
    /// sampled (its behaviour probability is 1), so its ratio at the sampled parameters is
    /// `w = min(π(h_t | x, h_<t), c)` instead of 1; the generated tokens' context is the same
    /// with and without the hint in the prompt, so their ratio stays 1. 0 (default): no
    /// correction (the hint tokens are trained as if sampled). ≥ 0.
    pub hint_importance_clip: f64,
    /// ReLIFT (Ma et al. 2025, "Learning What Reinforcement Learning Can't: Interleaved
    /// Online Fine-Tuning for Hardest Questions"; `crate::trainer::relift`): every solving
    /// group whose completions the verifier all rejects puts its problem (once) into a
    /// buffer of demonstrations, the problem's reference completion being the expert's;
    /// when the buffer holds `relift_batch_size`, the next RL step is one SFT step (token
    /// NLL of the reference completions) on all of it instead, and the buffer is cleared.
    /// Needs `reward = "verifier"` and `hint = "none"`. Off by default.
    pub relift: bool,
    /// ReLIFT: demonstrations in the buffer that make the next RL step an SFT step (≥ 1).
    pub relift_batch_size: usize,
    /// ReLIFT: demonstrations the buffer holds at most (the oldest leave first; ours, not
    /// the paper's); at least `relift_batch_size` and at most the sequences the model is
    /// allocated for (the larger of the SFT and the RL batch).
    pub relift_buffer_size: usize,
    /// ReLIFT: coefficient of the SFT step's mean token NLL (the step takes the RL stage's
    /// learning rate and AdamW state; finite, > 0).
    pub relift_sft_coef: f64,
}

impl Default for GrpoSection {
    fn default() -> Self {
        Self {
            max_steps: 300,
            per_device_train_batch_size: 128,
            num_generations: 8,
            prompt_sampler: Sampler::Random,
            optim: OptimOverride::lr(5e-4),
            beta: 0.0,
            epsilon: 0.2,
            epsilon_high: 0.2,
            loss_type: LossTypeName::Grpo,
            scale_rewards: ScaleRewardsName::Group,
            max_completion_length: 6,
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            reward: RewardSource::Verifier,
            curriculum: CurriculumName::Uniform,
            sec_alpha: 0.5,
            sec_temperature: 0.2,
            dynamic_sampling: false,
            max_refill_rounds: 3,
            zero_spread_skip: 0.0,
            unlabelled_only: true,
            log_ref_kl: true,
            min_majority_ratio: 0.0,
            require_cross_agreement: false,
            labelled_fraction_per_step: 0.0,
            ptx_coef: 0.0,
            self_train_coef: 0.0,
            objective: ObjectiveName::Grpo,
            nft_neg_weight: 1.0,
            nft_clamp_negative: 1.0,
            nft_clamp_positive: 0.0,
            nft_prompt_weight: NftPromptWeightName::NegativeRate,
            nft_ratio_level: NftRatioLevelName::Token,
            nft_uniform_groups: NftUniformGroupsName::Skip,
            replay: ReplayName::None,
            replay_buffer_size: 512,
            spear_percentile: 0.5,
            spear_reward_window: 512,
            oversample_factor: 1,
            entropy_coef: 0.0,
            clip_cov_fraction: 0.0,
            clip_cov_low: 1.0,
            clip_cov_high: 5.0,
            ref_refresh_steps: 0,
            rl_pool_size: 0,
            verify_fraction: 0.0,
            hint: HintName::None,
            hint_fraction: 0.25,
            hint_target: HintTargetName::Hinted,
            hint_importance_clip: 0.0,
            relift: false,
            relift_batch_size: 16,
            relift_buffer_size: 64,
            relift_sft_coef: 1.0,
        }
    }
}

impl super::TrainConfig {
    /// The ReLIFT checks (`grpo.relift`, `grpo.relift_batch_size`, `grpo.relift_buffer_size`,
    /// `grpo.relift_sft_coef`); the sizes and the coefficient are checked whether or not
    /// ReLIFT is on, the model's capacity only when it is.
    pub fn validate_relift(&self) -> Result<(), crate::TrainError> {
        use super::bad;
        let g = &self.grpo;
        if g.relift_batch_size == 0 {
            return Err(bad("grpo.relift_batch_size", "must be at least 1"));
        }
        if g.relift_buffer_size < g.relift_batch_size {
            return Err(bad(
                "grpo.relift_buffer_size",
                "must be at least grpo.relift_batch_size (the buffer must hold a full batch)",
            ));
        }
        let c = g.relift_sft_coef;
        if !(c.is_finite() && c > 0.0) {
            return Err(bad("grpo.relift_sft_coef", "must be finite and > 0"));
        }
        if !g.relift {
            return Ok(());
        }
        let capacity = self
            .sft
            .per_device_train_batch_size
            .max(self.rl_batch_sequences());
        if g.relift_buffer_size > capacity {
            return Err(crate::TrainError::Config(alloc::format!(
                "`grpo.relift_buffer_size`: {} is more than the {capacity} sequences the model \
                 is allocated for (the larger of sft.per_device_train_batch_size and the RL batch)",
                g.relift_buffer_size
            )));
        }
        if g.reward != RewardSource::Verifier {
            return Err(bad(
                "grpo.relift",
                "needs grpo.reward = \"verifier\": a group all fails only against the true answer",
            ));
        }
        if g.hint != HintName::None {
            return Err(bad(
                "grpo.relift",
                "cannot be combined with grpo.hint (hints replace the groups that all fail)",
            ));
        }
        Ok(())
    }
}

impl GrpoSection {
    /// Clip-Cov's options these keys describe (`None` when `clip_cov_fraction` is 0).
    pub fn clip_cov(&self) -> Option<spar_losses::clip_cov::ClipCovConfig> {
        (self.clip_cov_fraction > 0.0).then_some(spar_losses::clip_cov::ClipCovConfig {
            fraction: self.clip_cov_fraction,
            low: self.clip_cov_low,
            high: self.clip_cov_high,
        })
    }

    /// The NFT loss options these keys describe (aggregation by `loss_type` with
    /// `max_completion_length`, the authors' correctness-rate clamp).
    pub fn nft_config(&self) -> spar_losses::nft::NftConfig {
        use spar_losses::nft::{NftConfig, NftRatioLevel, PromptWeight, UniformGroups};
        NftConfig {
            neg_weight: self.nft_neg_weight,
            clamp_negative: self.nft_clamp_negative,
            clamp_positive: self.nft_clamp_positive,
            prompt_weight: match self.nft_prompt_weight {
                NftPromptWeightName::NegativeRate => PromptWeight::NegativeRate,
                NftPromptWeightName::One => PromptWeight::One,
                NftPromptWeightName::SqrtOdds => PromptWeight::SqrtOdds,
                NftPromptWeightName::GroupStd => PromptWeight::GroupStd {
                    std_epsilon: spar_losses::grpo::TRL_STD_EPSILON,
                },
            },
            ratio_level: match self.nft_ratio_level {
                NftRatioLevelName::Token => NftRatioLevel::Token,
                NftRatioLevelName::Sequence => NftRatioLevel::Sequence,
            },
            uniform_groups: match self.nft_uniform_groups {
                NftUniformGroupsName::Skip => UniformGroups::Skip,
                NftUniformGroupsName::Train => UniformGroups::Train,
            },
            loss_type: self.loss_type.into(),
            max_completion_length: self.max_completion_length,
            ..NftConfig::default()
        }
    }
}
