//! Negative-aware Fine-Tuning, NFT (Chen et al. 2025, "Bridging Supervised Learning and
//! Reinforcement Learning in Math Reasoning"; code checked against the authors' release,
//! `NVlabs/NFT` `dp_actor.py`, `ray_nft_trainer.py`, `train_7B.sh`).
//!
//! NFT is supervised learning on the model's own samples. For a prompt `q` whose group of `G`
//! completions has correctness rate `r̂_q` (the mean of its rewards `r ∈ [0, 1]`), the positives
//! train the likelihood ratio `R = π_θ/π_old` directly, and the failures train the *implicit
//! negative policy* `π⁻ = (π_old − r̂_q π_θ)/(1 − r̂_q)`, written with the same `π_θ`. Per unit `u`
//! (a token, or a whole completion with [`NftRatioLevel::Sequence`]) with log-ratio `ℓ`:
//!
//! ```text
//! r̂_q   = clamp(mean_group(r), r̂_min, r̂_max)                 (0.02, 0.98: the authors')
//! R     = exp(min(ℓ, 10))                                    (gradient 0 above 10, as the code)
//! p     = (1 − r̂_q R) / (1 − r̂_q)                            (π⁻/π_old; 1 on-policy)
//! l_u   = ω(q) · [ r · f(R; c₊) + (1 − r) · λ · f(p; ε₋) ]
//! f(x; c) = −log x                        for x ≥ c
//!         = −log c + (c − x)/c            for x < c           (c₊ = clamp_positive, ε₋ = clamp_negative)
//! L     = aggregate(l) by loss_type      (token level)   or   (1/B') Σ_i l_i   (sequence level)
//! ```
//! `λ` is `neg_weight` (1 = NFT, 0 = rejection-sampling fine-tuning), `B'` the number of
//! non-empty completions. `f` is how the authors keep `1 − r̂_q R` away from zero: their code
//! takes `−log` of `max(x, c)` with the gradient passed straight through the clamp, so below
//! `c` the gradient is `−(1/c)·∂x`. That is exactly the derivative of `f`'s tangent-line
//! continuation used here, so the gradient returned is the authors' one and also the exact
//! derivative of the loss returned (their logged value below `c` is the constant `−log c`).
//! The authors' defaults: `ε₋ = 1` (0.5 suggested for 32B), `c₊ = 0`, `λ = 1`, token level,
//! `ω = 1 − r̂_q`. Their token reduction is `Σ_{i,t} l·m / 1000` per mini-batch, a constant
//! divisor; [`LossType::DrGrpo`] (`Σ l·m / (B · max_completion_length)`) is that up to a
//! constant factor, and the default here. Their sequence level sums over completions; the mean
//! is taken here (a factor `B'`).
//!
//! **Prompt weight** `ω(q)` ([`PromptWeight`]) and the **on-policy equivalence with GRPO**
//! that the paper states. On-policy (`R ≡ 1`: no `old_logprobs`, or `old_logprobs ==
//! logprobs`), with `r̂_q` inside the clamp, `f'(R)·R = −1` on positives and
//! `∂f(p)/∂ℓ = r̂_q/(1 − r̂_q)` on failures, so every unit's gradient is
//!
//! ```text
//! ∂L/∂ℓ_u = −w_u · Â_i,    Â_i = ω(q) · (r_i − λ (1 − r_i) r̂_q/(1 − r̂_q))
//!                              = ω(q) · (r_i − r̂_q)/(1 − r̂_q)          (λ = 1)
//! ```
//! with `w_u` the aggregation weight: exactly the on-policy gradient of GRPO's loss
//! ([`crate::ppo_clip::policy_loss`]: `−w_u Â_i`) with advantage `Â_i` under the same
//! `loss_type`. Hence, for `λ = 1`:
//!
//! | `ω(q)` | GRPO advantage it reproduces |
//! |---|---|
//! | `1 − r̂_q` ([`PromptWeight::NegativeRate`], the authors' default) | `r − r̂_q`: Dr. GRPO, [`crate::grpo::ScaleRewards::None`] |
//! | `√((1 − r̂_q)/r̂_q)` ([`PromptWeight::SqrtOdds`]) | `(r − r̂_q)/√(r̂_q(1 − r̂_q))`: std-normalised with the population std of 0/1 rewards |
//! | `(1 − r̂_q)/(s + ε)` ([`PromptWeight::GroupStd`]) | `(r − r̂_q)/(s + ε)`, `s` the unbiased group std: [`crate::grpo::grpo_advantages`] with `ScaleRewards::Group`, bit for bit the same formula |
//! | `1` ([`PromptWeight::One`]) | `(r − r̂_q)/(1 − r̂_q)` |
//!
//! [`nft_on_policy_advantages`] returns that `Â`. The tests check the equivalence against
//! [`crate::ppo_clip::policy_loss`] fed by `grpo_advantages`.
//!
//! **Groups whose rewards are all equal** (all right, all wrong, or `G = 1`) carry no contrast.
//! The authors drop them before the loss (DAPO's dynamic sampling, asserted in their actor);
//! GRPO gives them advantage 0. With [`UniformGroups::Skip`] (default) their units get loss 0
//! and gradient 0 but still count in the aggregation's normaliser, as GRPO's zero advantages do:
//! filter them out of the batch with [`crate::dapo::dynamic_sampling_keep`] to reproduce the
//! authors' batches. [`UniformGroups::Train`] trains them with the clamped rate instead (what
//! the authors' loss would do if such a group reached it).
//!
//! ```
//! use spar_losses::nft::{nft_loss, NftBatch, NftConfig};
//! // One prompt, G = 2 completions of 2 tokens: the first right, the second wrong; on-policy.
//! let logprobs = [-0.5, -1.0, -2.0, -0.1];
//! let mask = [true, true, true, false];
//! let batch = NftBatch {
//!     num_sequences: 2, max_len: 2, num_generations: 2,
//!     logprobs: &logprobs, old_logprobs: None, mask: &mask, rewards: &[1.0, 0.0],
//! };
//! let config = NftConfig { max_completion_length: 2, ..NftConfig::default() };
//! let mut grad = [0.0; 4];
//! let out = nft_loss(&config, &batch, &mut grad)?;
//! // r̂ = ½, ω = ½: Â = ±½, each token weighted 1/(B·T_max) = ¼ (Dr. GRPO).
//! assert_eq!(out.loss, 0.0);
//! assert_eq!(grad, [-0.125, -0.125, 0.125, 0.0]);
//! # Ok::<(), spar_losses::LossError>(())
//! ```

use crate::aggregation::{AggWeights, LossType};
use crate::error::{check_len, check_range, LossError};
use crate::grpo::unbiased_std;
use crate::layout::{check_finite_masked, check_groups, check_per_sequence, check_tokens};

/// The authors' floor on the correctness rate `r̂_q` (`dp_actor.py`).
pub const NFT_CORRECT_RATE_MIN: f64 = 0.02;
/// The authors' ceiling on the correctness rate `r̂_q`; keeps `1 − r̂_q ≥ 0.02`.
pub const NFT_CORRECT_RATE_MAX: f64 = 0.98;
/// Upper bound on the log-ratio before the exponential (the authors' `clamp(max=10)`); above
/// it `R` is constant and the unit's gradient is 0. There is no lower bound, as in their code.
pub const NFT_LOG_RATIO_MAX: f64 = 10.0;

/// Whether the likelihood ratio is per token or per completion (the authors' `ratio_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NftRatioLevel {
    /// `R_t = π_θ(o_t)/π_old(o_t)` for every token; reduced by `loss_type` (the authors' default).
    #[default]
    Token,
    /// `R_i = Π_t π_θ/π_old` over completion `i` (the full product, not GSPO's geometric mean);
    /// the mean over non-empty completions.
    Sequence,
}

/// The prompt weight `ω(q)` (the authors' `normalize`: 0 → `One`, 1 → `NegativeRate`,
/// 2 → `SqrtOdds`). See the module docs for the GRPO advantage each one reproduces on-policy.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PromptWeight {
    /// `ω = 1 − r̂_q` (the authors' default): on-policy NFT is Dr. GRPO, `Â = r − r̂_q`.
    #[default]
    NegativeRate,
    /// `ω = 1`: `Â = (r − r̂_q)/(1 − r̂_q)`.
    One,
    /// `ω = √((1 − r̂_q)/r̂_q)`: `Â = (r − r̂_q)/√(r̂_q(1 − r̂_q))`, GRPO's std normalisation with
    /// the population std of 0/1 rewards.
    SqrtOdds,
    /// `ω = (1 − r̂_q)/(s + ε)` with `s` the unbiased std of the group's rewards (0 when they
    /// are all equal): `Â = (r − r̂_q)/(s + ε)`, exactly [`crate::grpo::grpo_advantages`] with
    /// `ScaleRewards::Group` and the same `ε`. Not one of the authors' options; it makes the
    /// on-policy match with spar's GRPO exact.
    GroupStd {
        /// `ε ≥ 0` added to the std ([`crate::grpo::TRL_STD_EPSILON`] in TRL).
        std_epsilon: f64,
    },
}

/// What a group whose rewards are all equal contributes (it has no right-versus-wrong contrast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UniformGroups {
    /// Loss 0 and gradient 0, as GRPO's zero advantages (its tokens still count in the
    /// aggregation's normaliser). The authors filter such groups out before the loss.
    #[default]
    Skip,
    /// Trained like any group, with `r̂_q` clamped into `[correct_rate_min, correct_rate_max]`.
    Train,
}

/// Hyper-parameters of [`nft_loss`], named as the authors' config where they have a name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NftConfig {
    /// Weight `λ ≥ 0` of the failures' loss: 1 = NFT (default), 0 = rejection-sampling
    /// fine-tuning (positives only).
    pub neg_weight: f64,
    /// Floor `ε₋ ∈ (0, 1]` of the negative ratio `p = (1 − r̂_q R)/(1 − r̂_q)`. Default 1.0 (the
    /// authors' 7B and 32B scripts; 0.5 is their alternative for 32B).
    pub clamp_negative: f64,
    /// Floor `c₊ ∈ [0, 1]` of the positive ratio `R`. Default 0 (no floor).
    pub clamp_positive: f64,
    /// The prompt weight `ω(q)`. Default `1 − r̂_q`.
    pub prompt_weight: PromptWeight,
    /// Lower clamp of `r̂_q`, in `(0, correct_rate_max]`. Default 0.02.
    pub correct_rate_min: f64,
    /// Upper clamp of `r̂_q`, in `[correct_rate_min, 1)`. Default 0.98.
    pub correct_rate_max: f64,
    /// Token or sequence likelihood ratio. Default token.
    pub ratio_level: NftRatioLevel,
    /// Aggregation of the token-level loss. Default `dr_grpo` (a constant divisor, like the
    /// authors' `/1000`). Not read at sequence level.
    pub loss_type: LossType,
    /// The constant divisor of `dr_grpo` (the generation budget). Default 256.
    pub max_completion_length: usize,
    /// Groups whose rewards are all equal. Default skip.
    pub uniform_groups: UniformGroups,
}

impl Default for NftConfig {
    fn default() -> Self {
        Self {
            neg_weight: 1.0,
            clamp_negative: 1.0,
            clamp_positive: 0.0,
            prompt_weight: PromptWeight::NegativeRate,
            correct_rate_min: NFT_CORRECT_RATE_MIN,
            correct_rate_max: NFT_CORRECT_RATE_MAX,
            ratio_level: NftRatioLevel::Token,
            loss_type: LossType::DrGrpo,
            max_completion_length: 256,
            uniform_groups: UniformGroups::Skip,
        }
    }
}

/// One batch of completions in the token layout of [`crate::layout`], groups of
/// `num_generations` consecutive completions per prompt.
#[derive(Debug, Clone, Copy)]
pub struct NftBatch<'a> {
    /// Number of completions `B`.
    pub num_sequences: usize,
    /// Row length of every per-token slice.
    pub max_len: usize,
    /// Group size `G`; must divide `B`.
    pub num_generations: usize,
    /// `logp_θ`, `[B * max_len]`.
    pub logprobs: &'a [f64],
    /// `logp_old` of the rollout policy; `None` means on-policy (`sg(logp_θ)`, `R = 1`).
    pub old_logprobs: Option<&'a [f64]>,
    /// Completion mask, `[B * max_len]`.
    pub mask: &'a [bool],
    /// Verifier rewards `r ∈ [0, 1]`, `[B]` (1 = right, 0 = wrong; values between mix the two
    /// losses, as the authors' `correct_mask` does).
    pub rewards: &'a [f64],
}

/// Loss value and diagnostics of [`nft_loss`]; the gradient goes to the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NftOutput {
    /// The aggregated loss (to minimise).
    pub loss: f64,
    /// Number of unmasked tokens.
    pub num_tokens: usize,
    /// Mean reward over the batch (the share of right completions for 0/1 rewards).
    pub mean_correct_rate: f64,
    /// Fraction of groups whose rewards are all equal.
    pub uniform_group_fraction: f64,
    /// Fraction of the trained failure units (tokens, or completions at sequence level) whose
    /// negative ratio `p` fell below `clamp_negative`.
    pub negative_clip_fraction: f64,
    /// Fraction of the trained units whose log-ratio exceeded [`NFT_LOG_RATIO_MAX`].
    pub log_ratio_clip_fraction: f64,
}

/// `f(x; c)`: `−log x` above the floor `c`, its tangent line at `c` below; returns the value
/// and `∂f/∂x`.
#[inline]
fn neg_log_floor(x: f64, floor: f64) -> (f64, f64) {
    if x >= floor {
        (-libm::log(x), -1.0 / x)
    } else {
        (-libm::log(floor) + (floor - x) / floor, -1.0 / floor)
    }
}

/// The per-group quantities: the clamped rate `r̂_q` and the weight `ω(q)` (0 when skipped).
#[derive(Debug, Clone, Copy)]
struct Group {
    rate: f64,
    weight: f64,
}

fn group(config: &NftConfig, rewards: &[f64]) -> Group {
    let uniform = rewards.windows(2).all(|w| w[0] == w[1]);
    let mean = rewards.iter().sum::<f64>() / rewards.len() as f64;
    let rate = mean.clamp(config.correct_rate_min, config.correct_rate_max);
    let weight = if uniform && config.uniform_groups == UniformGroups::Skip {
        0.0
    } else {
        match config.prompt_weight {
            PromptWeight::NegativeRate => 1.0 - rate,
            PromptWeight::One => 1.0,
            PromptWeight::SqrtOdds => libm::sqrt((1.0 - rate) / rate),
            PromptWeight::GroupStd { std_epsilon } => {
                let denom = unbiased_std(rewards) + std_epsilon;
                // All-equal rewards: GRPO's exact 0 (also keeps ε = 0 finite).
                if uniform || denom == 0.0 {
                    0.0
                } else {
                    (1.0 - rate) / denom
                }
            }
        }
    };
    Group { rate, weight }
}

/// One unit's loss `l_u` and `∂l_u/∂ℓ` for reward `r` and raw log-ratio `log_ratio`; the flags
/// say whether the negative floor and the log-ratio bound were hit.
#[inline]
fn unit(config: &NftConfig, g: Group, r: f64, log_ratio: f64) -> (f64, f64, bool, bool) {
    let over = log_ratio > NFT_LOG_RATIO_MAX;
    let lr = log_ratio.min(NFT_LOG_RATIO_MAX);
    let ratio = libm::exp(lr);
    // Positives: f(R; c₊), with ∂R/∂ℓ = R; above the floor −log R = −ℓ exactly.
    let (pos, dpos) = if config.clamp_positive > 0.0 && ratio < config.clamp_positive {
        let (v, d) = neg_log_floor(ratio, config.clamp_positive);
        (v, d * ratio)
    } else {
        (-lr, -1.0)
    };
    // Failures: f(p; ε₋), p = (1 − r̂R)/(1 − r̂), ∂p/∂ℓ = −r̂R/(1 − r̂).
    let (neg, dneg, clipped) = if r < 1.0 && config.neg_weight > 0.0 {
        let rate = g.rate;
        let p = (1.0 - rate * ratio) / (1.0 - rate);
        let (v, d) = neg_log_floor(p, config.clamp_negative);
        (
            v,
            -d * rate * ratio / (1.0 - rate),
            p < config.clamp_negative,
        )
    } else {
        (0.0, 0.0, false)
    };
    let nw = (1.0 - r) * config.neg_weight;
    let value = g.weight * (r * pos + nw * neg);
    let deriv = if over {
        0.0
    } else {
        g.weight * (r * dpos + nw * dneg)
    };
    (value, deriv, clipped && nw > 0.0, over)
}

fn validate(config: &NftConfig, batch: &NftBatch<'_>, grad: &[f64]) -> Result<(), LossError> {
    check_range("neg_weight", config.neg_weight, 0.0, f64::MAX)?;
    if !(config.clamp_negative > 0.0 && config.clamp_negative <= 1.0) {
        return Err(LossError::OutOfRange {
            what: "clamp_negative",
            value: config.clamp_negative,
        });
    }
    check_range("clamp_positive", config.clamp_positive, 0.0, 1.0)?;
    if !(config.correct_rate_min > 0.0 && config.correct_rate_min < 1.0) {
        return Err(LossError::OutOfRange {
            what: "correct_rate_min",
            value: config.correct_rate_min,
        });
    }
    if !(config.correct_rate_max >= config.correct_rate_min && config.correct_rate_max < 1.0) {
        return Err(LossError::OutOfRange {
            what: "correct_rate_max",
            value: config.correct_rate_max,
        });
    }
    if let PromptWeight::GroupStd { std_epsilon } = config.prompt_weight {
        check_range("std_epsilon", std_epsilon, 0.0, f64::MAX)?;
    }
    let (b, t) = (batch.num_sequences, batch.max_len);
    check_tokens("logprobs", batch.logprobs.len(), b, t)?;
    check_len("mask", batch.mask.len(), batch.logprobs.len())?;
    check_len("grad", grad.len(), batch.logprobs.len())?;
    if let Some(old) = batch.old_logprobs {
        check_len("old_logprobs", old.len(), batch.logprobs.len())?;
    }
    check_per_sequence("rewards", batch.rewards, b)?;
    if let Some(&r) = batch.rewards.iter().find(|&&r| !(0.0..=1.0).contains(&r)) {
        return Err(LossError::OutOfRange {
            what: "rewards",
            value: r,
        });
    }
    check_groups(b, batch.num_generations)?;
    check_finite_masked("logprobs", batch.logprobs, batch.mask)?;
    if let Some(old) = batch.old_logprobs {
        check_finite_masked("old_logprobs", old, batch.mask)?;
    }
    Ok(())
}

/// The NFT loss; writes `∂L/∂logp_θ[i,t]` into `grad` (exactly 0 on padding, in skipped groups
/// and where the log-ratio exceeds [`NFT_LOG_RATIO_MAX`]).
///
/// Errors: slices whose lengths do not fit the layout, `num_generations` not dividing `B`,
/// rewards outside `[0, 1]` or non-finite, non-finite unmasked log-probs, a log-ratio that
/// overflows, and hyper-parameters outside the ranges documented on [`NftConfig`].
pub fn nft_loss(
    config: &NftConfig,
    batch: &NftBatch<'_>,
    grad: &mut [f64],
) -> Result<NftOutput, LossError> {
    validate(config, batch, grad)?;
    let (b, t, g) = (batch.num_sequences, batch.max_len, batch.num_generations);
    let groups = b / g;
    let mut out = NftOutput {
        mean_correct_rate: if b == 0 {
            0.0
        } else {
            batch.rewards.iter().sum::<f64>() / b as f64
        },
        ..NftOutput::default()
    };
    grad.iter_mut().for_each(|x| *x = 0.0);
    let frac = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let n_uniform = batch
        .rewards
        .chunks_exact(g)
        .filter(|r| r.windows(2).all(|w| w[0] == w[1]))
        .count();
    out.uniform_group_fraction = frac(n_uniform, groups);
    if t == 0 {
        return Ok(out);
    }
    // The aggregation (and its `max_completion_length` check) only matters at token level.
    let agg = match config.ratio_level {
        NftRatioLevel::Token => Some(AggWeights::new(
            batch.mask,
            b,
            t,
            config.loss_type,
            config.max_completion_length,
        )?),
        NftRatioLevel::Sequence => None,
    };
    let nonempty = batch
        .mask
        .chunks_exact(t)
        .filter(|row| row.iter().any(|&m| m))
        .count();
    let seq_scale = if nonempty == 0 {
        0.0
    } else {
        1.0 / nonempty as f64
    };
    let (mut n_neg, mut n_neg_clip, mut n_units, mut n_over) = (0, 0, 0, 0);
    for k in 0..groups {
        let grp = group(config, &batch.rewards[k * g..(k + 1) * g]);
        for i in k * g..(k + 1) * g {
            let row = i * t..(i + 1) * t;
            let mask = &batch.mask[row.clone()];
            let len = mask.iter().filter(|&&m| m).count();
            out.num_tokens += len;
            if len == 0 || grp.weight == 0.0 {
                continue;
            }
            let r = batch.rewards[i];
            let lp = &batch.logprobs[row.clone()];
            let old = batch.old_logprobs.map(|o| &o[row.clone()]);
            let g_row = &mut grad[row];
            let log_ratio_at = |j: usize| old.map_or(0.0, |o| lp[j] - o[j]);
            let mut count = |clipped: bool, over: bool| {
                n_units += 1;
                n_over += usize::from(over);
                if r < 1.0 && config.neg_weight > 0.0 {
                    n_neg += 1;
                    n_neg_clip += usize::from(clipped);
                }
            };
            match config.ratio_level {
                NftRatioLevel::Token => {
                    let w = agg.map_or(0.0, |a| a.token_weight(len));
                    for j in (0..t).filter(|&j| mask[j]) {
                        let lr = log_ratio_at(j);
                        if !lr.is_finite() {
                            return Err(LossError::NonFinite {
                                what: "logprobs - old_logprobs",
                                index: i * t + j,
                            });
                        }
                        let (v, d, clipped, over) = unit(config, grp, r, lr);
                        out.loss += w * v;
                        g_row[j] = w * d;
                        count(clipped, over);
                    }
                }
                NftRatioLevel::Sequence => {
                    let lr: f64 = (0..t).filter(|&j| mask[j]).map(log_ratio_at).sum();
                    if !lr.is_finite() {
                        return Err(LossError::NonFinite {
                            what: "logprobs - old_logprobs",
                            index: i * t,
                        });
                    }
                    let (v, d, clipped, over) = unit(config, grp, r, lr);
                    out.loss += seq_scale * v;
                    for (gj, _) in g_row.iter_mut().zip(mask).filter(|(_, m)| **m) {
                        *gj = seq_scale * d;
                    }
                    count(clipped, over);
                }
            }
        }
    }
    if !out.loss.is_finite() {
        return Err(LossError::NonFinite {
            what: "loss",
            index: 0,
        });
    }
    out.negative_clip_fraction = frac(n_neg_clip, n_neg);
    out.log_ratio_clip_fraction = frac(n_over, n_units);
    Ok(out)
}

/// The per-completion advantage `Â_i` whose on-policy GRPO gradient NFT reproduces (module
/// docs): `Â_i = ω(q)·(r_i − λ(1 − r_i) r̂_q/(1 − r̂_q))`, 0 in skipped uniform groups. With
/// `λ = 1` and the default weight this is `r_i − r̂_q`.
///
/// Reads `neg_weight`, `prompt_weight`, the rate clamp and `uniform_groups` from `config`.
pub fn nft_on_policy_advantages(
    config: &NftConfig,
    rewards: &[f64],
    num_generations: usize,
    advantages: &mut [f64],
) -> Result<(), LossError> {
    check_len("advantages", advantages.len(), rewards.len())?;
    // The batch validation covers the config, the rewards and the group size.
    let probe = NftBatch {
        num_sequences: rewards.len(),
        max_len: 0,
        num_generations,
        logprobs: &[],
        old_logprobs: None,
        mask: &[],
        rewards,
    };
    validate(config, &probe, &[])?;
    for (r, a) in rewards
        .chunks_exact(num_generations)
        .zip(advantages.chunks_exact_mut(num_generations))
    {
        let grp = group(config, r);
        for (x, &ri) in a.iter_mut().zip(r) {
            let odds = grp.rate / (1.0 - grp.rate);
            *x = grp.weight * (ri - config.neg_weight * (1.0 - ri) * odds);
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "nft_tests.rs"]
mod tests;
