//! The policy-gradient backward every RL loop shares: rollouts in, spar-losses' clipped
//! policy loss (with advantages the loop computed) or NFT's loss (with the rewards,
//! [`PgObjective::Nft`]), its per-token weights back-propagated, an optional entropy bonus,
//! and the step's diagnostics out. The loop then takes the one
//! optimiser step ([`Policy::step`]) after adding any other term (an auxiliary NLL).
//!
//! ```
//! use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
//! use spar_model::{block_on, CpuKernels, Gpt, GptConfig};
//! use spar_train::optim::OptimConfig;
//! use spar_train::pg::PgSpec;
//! use spar_train::policy::Policy;
//! use spar_train::rollout::Rollout;
//!
//! let mut gpt = Gpt::new(CpuKernels::new(), GptConfig::new(8, 8, 8, 1, 2), 2, 8).unwrap();
//! gpt.init_params(0);
//! let mut policy = Policy::new(gpt, OptimConfig::default(), 10);
//! let (a, b) = (Rollout::new(vec![1, 2, 3], 2), Rollout::new(vec![1, 2, 4], 2));
//! let adv = [1.0, -1.0];
//! let spec = PgSpec::on_policy(PolicyLossConfig::default(), Advantages::PerSequence(&adv));
//! let out = block_on(policy.policy_gradient(&[&a, &b], &spec, None, 8, 0)).unwrap();
//! assert!(out.loss.is_finite());
//! block_on(policy.step(0)).unwrap();
//! ```

use crate::policy::Policy;
use crate::rollout::{Batch, Rollout};
use crate::TrainError;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_losses::clip_cov::{clip_cov_select, ClipCovConfig, ClipCovStats};
use spar_losses::kl::{kl_penalty, KlEstimator};
use spar_losses::nft::{nft_loss, NftBatch, NftConfig, NftOutput};
use spar_losses::ppo_clip::{
    policy_loss, Advantages, PolicyBatch, PolicyDiagnostics, PolicyLossConfig, PolicyLossOutput,
};
use spar_losses::task_relative::task_relative_advantages;
use spar_model::{Gpt, Kernels};

/// Which loss turns the log-probs into per-token weights.
#[derive(Debug, Clone, Copy)]
pub enum PgObjective<'a> {
    /// spar-losses' clipped surrogate ([`policy_loss`]) with the spec's advantages.
    Clip,
    /// Negative-aware Fine-Tuning ([`nft_loss`]) on these rewards in `[0, 1]`, one per
    /// rollout, grouped by `num_generations`; the spec's advantages, clip and KL are not read
    /// (a `loss.beta > 0` is refused: NFT has no KL term).
    Nft {
        /// NFT's options.
        config: NftConfig,
        /// Per-rollout rewards.
        rewards: &'a [f64],
    },
}

/// What one policy-gradient backward computes with.
#[derive(Debug, Clone, Copy)]
pub struct PgSpec<'a> {
    /// Clip, KL coefficient, aggregation.
    pub loss: PolicyLossConfig,
    /// Completions per group (the `dr_grpo`/`grpo` aggregations and diagnostics read it).
    pub num_generations: usize,
    /// Per-sequence or per-token advantages, in the rollouts' order.
    pub advantages: Advantages<'a>,
    /// Ratios against the rollouts' sampler log-probs (GRPO); off: on-policy, ratio 1.
    pub use_old_logprobs: bool,
    /// Entropy bonus: `− entropy_coef ·` the mean completion-token entropy joins the loss
    /// (0: off).
    pub entropy_coef: f64,
    /// The loss (the clipped surrogate unless NFT is asked for).
    pub objective: PgObjective<'a>,
    /// Clip-Cov: detach a few high-covariance tokens after the loss (None: off).
    pub clip_cov: Option<ClipCovSpec>,
}

/// Clip-Cov in a policy-gradient backward ([`spar_losses::clip_cov`]): after the loss's
/// per-token weights are computed, the selected tokens' weights are set to 0. Tokens whose
/// weight is already 0 (clipped by the ratio, or of zero advantage) are not eligible: removing
/// them would change nothing. With `loss.beta > 0` a detached token loses its KL gradient too
/// (one weight per token carries both).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipCovSpec {
    /// The share and the covariance band.
    pub config: ClipCovConfig,
    /// Seed of the draw among the tokens in the band (the loop mixes its seed and step in, so a
    /// resumed run draws the same tokens).
    pub seed: u64,
}

impl<'a> PgSpec<'a> {
    /// On-policy (no sampler log-probs), groups of one, no entropy bonus.
    pub fn on_policy(loss: PolicyLossConfig, advantages: Advantages<'a>) -> Self {
        Self {
            loss,
            num_generations: 1,
            advantages,
            use_old_logprobs: false,
            entropy_coef: 0.0,
            objective: PgObjective::Clip,
            clip_cov: None,
        }
    }
}

/// What one policy-gradient backward reports.
#[derive(Debug, Clone)]
pub struct PgOutcome {
    /// The minimised loss: the policy loss minus the entropy bonus.
    pub loss: f64,
    /// spar-losses' output (its diagnostics: clip and zero-spread fractions, …). Under NFT:
    /// its loss, `zero_spread_fraction` = the share of groups whose rewards are all equal,
    /// `clip_fraction_low` = the share of wrong-completion units at the negative ratio's
    /// floor, and the token count; the rest 0.
    pub policy: PolicyLossOutput,
    /// NFT's own output ([`PgObjective::Nft`] only).
    pub nft: Option<NftOutput>,
    /// Mean completion-token entropy.
    pub entropy: f64,
    /// Mean per-token k3 KL to the reference (0 without one).
    pub kl: f64,
    /// Largest `|logp − logp_old|` between this forward and the sampler (0 on-policy).
    pub max_logprob_gap: f64,
    /// What Clip-Cov saw and detached (`spec.clip_cov` only).
    pub clip_cov: Option<ClipCovStats>,
    /// The padded batch the forward ran on.
    pub batch: Batch,
}

/// Clip-Cov's selection on the batch's per-token weights `grad` (see [`ClipCovSpec`]).
fn detach_high_covariance(
    cc: &ClipCovSpec,
    logprobs: &[f64],
    advantages: Advantages<'_>,
    batch: &Batch,
    grad: &mut [f64],
) -> Result<ClipCovStats, TrainError> {
    let per_token: Vec<f64> = match advantages {
        Advantages::PerToken(a) => a.to_vec(),
        Advantages::PerSequence(a) => (0..batch.b * batch.t).map(|i| a[i / batch.t]).collect(),
    };
    let eligible: Vec<bool> = grad.iter().map(|&g| g != 0.0).collect();
    let mut selected = vec![false; grad.len()];
    let mut rng = ChaCha8Rng::seed_from_u64(cc.seed);
    let stats = clip_cov_select(
        &cc.config,
        logprobs,
        &per_token,
        &batch.mask,
        &eligible,
        &mut rng,
        &mut selected,
    )?;
    for (g, &s) in grad.iter_mut().zip(&selected) {
        if s {
            *g = 0.0;
        }
    }
    Ok(stats)
}

impl<K: Kernels> Policy<K> {
    /// Forward over `rollouts` (padded to at most `max_t`), the clipped policy loss with
    /// `spec`'s advantages (and the KL to `reference` when `spec.loss.beta > 0`; a given
    /// reference is also measured as a metric), and the backward of its per-token weights
    /// plus the entropy bonus. Gradients accumulate; `step` names the loop step in errors.
    pub async fn policy_gradient(
        &mut self,
        rollouts: &[&Rollout],
        spec: &PgSpec<'_>,
        reference: Option<&mut Gpt<K>>,
        max_t: usize,
        step: u32,
    ) -> Result<PgOutcome, TrainError> {
        let batch = Batch::from_rollouts(rollouts.iter().copied(), max_t);
        let (b, t) = (batch.b, batch.t);
        let ref_lp: Option<Vec<f64>> = match reference {
            Some(r) => {
                let (lp, _) = batch.logprobs(r, false).await?;
                Some(lp.iter().map(|&x| x as f64).collect())
            }
            None => None,
        };
        let (lp, mut ent) = self.logprobs(&batch, true, step).await?;
        let logprobs: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        let (old, max_gap) = if spec.use_old_logprobs {
            let (o, g) = batch.old_logprobs(rollouts, &logprobs);
            (Some(o), g)
        } else {
            (None, 0.0)
        };
        let mut grad = vec![0.0f64; b * t];
        let (out, nft) = match spec.objective {
            PgObjective::Clip => {
                let pb = PolicyBatch {
                    num_sequences: b,
                    max_len: t,
                    num_generations: spec.num_generations,
                    logprobs: &logprobs,
                    old_logprobs: old.as_deref(),
                    ref_logprobs: if spec.loss.beta > 0.0 {
                        ref_lp.as_deref()
                    } else {
                        None
                    },
                    mask: &batch.mask,
                    advantages: spec.advantages,
                };
                (policy_loss(&spec.loss, &pb, &mut grad)?, None)
            }
            PgObjective::Nft { config, rewards } => {
                if spec.loss.beta > 0.0 {
                    return Err(TrainError::Config(
                        "NFT has no KL term: beta must be 0".into(),
                    ));
                }
                let nb = NftBatch {
                    num_sequences: b,
                    max_len: t,
                    num_generations: spec.num_generations,
                    logprobs: &logprobs,
                    old_logprobs: old.as_deref(),
                    mask: &batch.mask,
                    rewards,
                };
                let o = nft_loss(&config, &nb, &mut grad)?;
                let diagnostics = PolicyDiagnostics {
                    clip_fraction_low: o.negative_clip_fraction,
                    zero_spread_fraction: o.uniform_group_fraction,
                    num_tokens: o.num_tokens,
                    ..PolicyDiagnostics::default()
                };
                let policy = PolicyLossOutput {
                    loss: o.loss,
                    diagnostics,
                };
                (policy, Some(o))
            }
        };
        let clip_cov = match &spec.clip_cov {
            Some(cc) => Some(detach_high_covariance(
                cc,
                &logprobs,
                spec.advantages,
                &batch,
                &mut grad,
            )?),
            None => None,
        };
        let entropy = batch.masked_mean(&ent);
        let loss = out.loss - spec.entropy_coef * entropy;
        if !loss.is_finite() || grad.iter().any(|x| !x.is_finite()) {
            return Err(self.non_finite(step, "loss"));
        }
        let weights: Vec<f32> = grad.iter().map(|&x| x as f32).collect();
        let bonus = spec.entropy_coef > 0.0;
        if bonus {
            // ∂L/∂H_t of `− c · mean_t H_t` over the completion tokens.
            let e = (-spec.entropy_coef / batch.num_tokens() as f64) as f32;
            for (w, &m) in ent.iter_mut().zip(&batch.mask) {
                *w = if m { e } else { 0.0 };
            }
        }
        self.backward(&weights, bonus.then_some(ent.as_slice()))?;
        let kl = match &ref_lp {
            Some(rl) => {
                batch
                    .mask
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| **m)
                    .map(|(i, _)| kl_penalty(KlEstimator::K3, logprobs[i], rl[i]).0)
                    .sum::<f64>()
                    / batch.num_tokens() as f64
            }
            None => 0.0,
        };
        Ok(PgOutcome {
            loss,
            policy: out,
            nft,
            entropy,
            kl,
            max_logprob_gap: max_gap,
            clip_cov,
            batch,
        })
    }

    /// The self-play loops' backward (Absolute Zero, SPC): task-relative REINFORCE++
    /// advantages, whitened per role (`Rollout::role`) over the whole batch, with γ = 1 and no
    /// KL, and the on-policy clipped loss on them. Gradients accumulate; the caller takes the
    /// optimiser step. Returns the loss.
    pub async fn task_relative_gradient(
        &mut self,
        rollouts: &[Rollout],
        max_t: usize,
        step: u32,
    ) -> Result<f64, TrainError> {
        let refs: Vec<&Rollout> = rollouts.iter().collect();
        let batch = Batch::from_rollouts(refs.iter().copied(), max_t);
        let (b, t) = (batch.b, batch.t);
        let rewards: Vec<f64> = rollouts.iter().map(|r| r.reward).collect();
        let categories: Vec<usize> = rollouts.iter().map(|r| r.role).collect();
        let mut adv = vec![0.0f64; b * t];
        // γ = 1 and no KL (β = 0): old log-probs only enter the KL term, so zeros do.
        task_relative_advantages(
            &rewards,
            &categories,
            &vec![0.0; b * t],
            None,
            &batch.mask,
            b,
            t,
            0.0,
            1.0,
            &mut adv,
        )?;
        let spec = PgSpec::on_policy(PolicyLossConfig::default(), Advantages::PerToken(&adv));
        let out = self
            .policy_gradient(&refs, &spec, None, max_t, step)
            .await?;
        Ok(out.loss)
    }
}
