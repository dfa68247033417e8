//! The GRPO-family policy loss: PPO-clip with asymmetric and dual clip, a KL penalty to the
//! reference, TRL's aggregation modes and an optional sequence-level ratio (GSPO).
//!
//! Papers: PPO (Schulman et al. 2017); GRPO (Shao et al. 2024); DAPO clip-higher (Yu et al.
//! 2025); dual clip (Ye et al. 2020, "Mastering Complex Control in MOBA Games"); GSPO (Zheng et
//! al. 2025). Code checked against verl `compute_policy_loss` and TRL `GRPOTrainer`.
//!
//! Per unmasked token with advantage `A` (`ε` = `epsilon`, `ε_h` = `epsilon_high`, `c` = the
//! dual-clip constant, `β` = `beta`):
//!
//! ```text
//! ρ      = exp(clamp(logp_θ − logp_old, −20, 20))          (verl's clamp; gradient 0 outside)
//! l1     = −A · ρ
//! l2     = −A · clamp(ρ, 1 − ε, 1 + ε_h)
//! lclip  = max(l1, l2)
//! l_pg   = min(lclip, −A·c)  if A < 0 and dual clip is on,  else lclip
//! l      = l_pg + β · KL_k(logp_θ, logp_ref)               (k1, k2 or k3, see crate::kl)
//! L      = aggregate(l)  by loss_type (grpo | bnpo | dr_grpo | dapo, see crate::aggregation)
//! ```
//! With GSPO (`importance_sampling_level = Sequence`) `ρ` is replaced for every token of
//! completion `i` by `s_i = exp((1/|o_i|) Σ_t (logp_θ − logp_old))`, and the gradient flows to
//! every token through `s_i`. Without `old_logprobs` the batch is on-policy:
//! `logp_old = sg(logp_θ)`, so `ρ = 1` and `∂ρ/∂logp_θ = 1`.
//!
//! The returned gradient is `∂L/∂logp_θ[i,t]` for every token (exactly 0 on padding and where
//! the clip is active), ready for the model's `dlogits = g·(onehot − softmax)`.
//!
//! ```
//! use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
//! // Two completions of one prompt, 2 tokens each, on-policy; advantages from grpo_advantages.
//! let logprobs = [-1.0, -0.5, -2.0, -0.1];
//! let mask = [true, true, true, false];
//! let batch = PolicyBatch {
//!     num_sequences: 2, max_len: 2, num_generations: 2,
//!     logprobs: &logprobs, old_logprobs: None, ref_logprobs: None, mask: &mask,
//!     advantages: Advantages::PerSequence(&[1.0, -1.0]),
//! };
//! let mut grad = [0.0; 4];
//! let out = policy_loss(&PolicyLossConfig::default(), &batch, &mut grad).unwrap();
//! // On-policy: loss = −mean_tokens(A), gradient = −A_t / N.
//! assert!((out.loss - (-(1.0 + 1.0 - 1.0) / 3.0)).abs() < 1e-12);
//! assert_eq!(grad, [-1.0 / 3.0, -1.0 / 3.0, 1.0 / 3.0, 0.0]);
//! ```

use crate::aggregation::{AggWeights, LossType};
use crate::error::{check_len, check_range, LossError};
use crate::gspo::sequence_log_ratio;
use crate::kl::{kl_penalty, KlEstimator};
use crate::layout::{check_finite_masked, check_groups, check_per_sequence, check_tokens};

/// Bound on `|logp_θ − logp_old|` before the exponential (verl); keeps `ρ` finite.
pub const LOG_RATIO_CLAMP: f64 = 20.0;

/// Whether the importance ratio is per token (PPO/GRPO) or per sequence (GSPO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportanceSamplingLevel {
    /// `ρ_{i,t} = π_θ/π_old` per token.
    #[default]
    Token,
    /// GSPO: the geometric mean of the token ratios of completion `i`, shared by its tokens.
    Sequence,
}

/// Hyper-parameters of [`policy_loss`], named as TRL's `GRPOConfig` where TRL has them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyLossConfig {
    /// Lower clip `ε` (ratio floor `1 − ε`), in `[0, 1)`. Default 0.2.
    pub epsilon: f64,
    /// Upper clip `ε_h` (ratio ceiling `1 + ε_h`), `≥ 0`. Default 0.2 (DAPO: 0.28).
    pub epsilon_high: f64,
    /// Dual-clip constant `c > 1` bounding negative-advantage tokens (verl `clip_ratio_c`,
    /// usually 3.0); `None` turns dual clip off (TRL). Default `None`.
    pub dual_clip: Option<f64>,
    /// KL coefficient `β ≥ 0`; with `β > 0` the batch must carry `ref_logprobs`. Default 0.
    pub beta: f64,
    /// Per-token KL estimator. Default k3.
    pub kl_estimator: KlEstimator,
    /// Aggregation mode. Default `dapo`.
    pub loss_type: LossType,
    /// The constant divisor of `dr_grpo` (the generation budget). Default 256 (TRL).
    pub max_completion_length: usize,
    /// Token ratios (default) or GSPO's sequence ratio.
    pub importance_sampling_level: ImportanceSamplingLevel,
}

impl Default for PolicyLossConfig {
    fn default() -> Self {
        Self {
            epsilon: 0.2,
            epsilon_high: 0.2,
            dual_clip: None,
            beta: 0.0,
            kl_estimator: KlEstimator::K3,
            loss_type: LossType::Dapo,
            max_completion_length: 256,
            importance_sampling_level: ImportanceSamplingLevel::Token,
        }
    }
}

/// Advantages, either one per completion (GRPO, RLOO, RAE) or one per token (REINFORCE++).
#[derive(Debug, Clone, Copy)]
pub enum Advantages<'a> {
    /// `[num_sequences]`, broadcast to every token of the completion.
    PerSequence(&'a [f64]),
    /// `[num_sequences * max_len]`, the token layout of [`crate::layout`].
    PerToken(&'a [f64]),
}

impl Advantages<'_> {
    #[inline]
    fn get(&self, seq: usize, idx: usize) -> f64 {
        match self {
            Advantages::PerSequence(a) => a[seq],
            Advantages::PerToken(a) => a[idx],
        }
    }
}

/// One batch of completions in the token layout of [`crate::layout`].
#[derive(Debug, Clone, Copy)]
pub struct PolicyBatch<'a> {
    /// Number of completions `B`.
    pub num_sequences: usize,
    /// Row length of every per-token slice.
    pub max_len: usize,
    /// Group size `G` (consecutive completions of one prompt); only used for diagnostics.
    pub num_generations: usize,
    /// `logp_θ`, `[B * max_len]`.
    pub logprobs: &'a [f64],
    /// `logp_old` of the rollout policy; `None` means on-policy (`sg(logp_θ)`).
    pub old_logprobs: Option<&'a [f64]>,
    /// `logp_ref` of the frozen reference; required when `beta > 0`.
    pub ref_logprobs: Option<&'a [f64]>,
    /// Completion mask, `[B * max_len]`.
    pub mask: &'a [bool],
    /// Advantages per completion or per token.
    pub advantages: Advantages<'a>,
}

/// Diagnostics returned with every policy loss (fractions are over unmasked tokens).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PolicyDiagnostics {
    /// Fraction of tokens with `ρ < 1 − ε` and `A < 0` (TRL `clip_ratio/low_mean`).
    pub clip_fraction_low: f64,
    /// Fraction of tokens with `ρ > 1 + ε_h` and `A > 0` (TRL `clip_ratio/high_mean`).
    pub clip_fraction_high: f64,
    /// Fraction of tokens where the dual clip bounds the loss.
    pub dual_clip_fraction: f64,
    /// Approximate `KL(π_old ‖ π_θ)`: token mean of `(ρ − 1) − log ρ` (≥ 0; 0 on-policy).
    pub approx_kl: f64,
    /// Token mean of the chosen KL estimator to the reference (0 without `ref_logprobs`).
    pub ref_kl: f64,
    /// Token mean of the advantages.
    pub mean_advantage: f64,
    /// Fraction of groups whose advantages are all equal (no learning signal).
    pub zero_spread_fraction: f64,
    /// Number of unmasked tokens.
    pub num_tokens: usize,
}

/// Loss value and diagnostics of [`policy_loss`]; the gradient goes to the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PolicyLossOutput {
    /// The aggregated loss (to minimise).
    pub loss: f64,
    /// Diagnostics.
    pub diagnostics: PolicyDiagnostics,
}

fn validate(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    grad: &[f64],
) -> Result<(), LossError> {
    check_range("epsilon", config.epsilon, 0.0, 1.0 - f64::EPSILON)?;
    check_range("epsilon_high", config.epsilon_high, 0.0, f64::MAX)?;
    check_range("beta", config.beta, 0.0, f64::MAX)?;
    if let Some(c) = config.dual_clip {
        if !(c.is_finite() && c > 1.0) {
            return Err(LossError::OutOfRange {
                what: "dual_clip",
                value: c,
            });
        }
    }
    let (b, t) = (batch.num_sequences, batch.max_len);
    check_tokens("logprobs", batch.logprobs.len(), b, t)?;
    check_len("mask", batch.mask.len(), batch.logprobs.len())?;
    check_len("grad", grad.len(), batch.logprobs.len())?;
    check_finite_masked("logprobs", batch.logprobs, batch.mask)?;
    if let Some(old) = batch.old_logprobs {
        check_len("old_logprobs", old.len(), batch.logprobs.len())?;
        check_finite_masked("old_logprobs", old, batch.mask)?;
    }
    match batch.ref_logprobs {
        Some(r) => {
            check_len("ref_logprobs", r.len(), batch.logprobs.len())?;
            check_finite_masked("ref_logprobs", r, batch.mask)?;
        }
        None if config.beta > 0.0 => {
            return Err(LossError::Invalid {
                what: "beta > 0 needs ref_logprobs",
            })
        }
        None => {}
    }
    match batch.advantages {
        Advantages::PerSequence(a) => check_per_sequence("advantages", a, b)?,
        Advantages::PerToken(a) => {
            check_len("advantages", a.len(), batch.logprobs.len())?;
            check_finite_masked("advantages", a, batch.mask)?;
        }
    }
    check_groups(b, batch.num_generations)
}

/// Fraction of groups whose advantages are all equal: per-completion advantages are compared
/// across the group, per-token ones over the group's unmasked tokens (an empty group counts).
fn zero_spread_fraction(batch: &PolicyBatch<'_>) -> f64 {
    let g = batch.num_generations;
    let groups = batch.num_sequences / g;
    if groups == 0 {
        return 0.0;
    }
    let mut zero = 0usize;
    for k in 0..groups {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in k * g..(k + 1) * g {
            match batch.advantages {
                Advantages::PerSequence(a) => {
                    lo = lo.min(a[i]);
                    hi = hi.max(a[i]);
                }
                Advantages::PerToken(a) => {
                    let row = i * batch.max_len..(i + 1) * batch.max_len;
                    for (&v, &m) in a[row.clone()].iter().zip(&batch.mask[row]) {
                        if m {
                            lo = lo.min(v);
                            hi = hi.max(v);
                        }
                    }
                }
            }
        }
        // Empty groups (lo = +∞) count as zero spread too.
        if hi <= lo {
            zero += 1;
        }
    }
    zero as f64 / groups as f64
}

/// Sums over a run of rows; combined in row order.
#[derive(Debug, Clone, Copy, Default)]
struct Partial {
    loss: f64,
    approx_kl: f64,
    ref_kl: f64,
    advantage: f64,
    n_low: usize,
    n_high: usize,
    n_dual: usize,
    n_tok: usize,
}

impl Partial {
    #[cfg(feature = "threads")]
    fn add(&mut self, o: &Partial) {
        self.loss += o.loss;
        self.approx_kl += o.approx_kl;
        self.ref_kl += o.ref_kl;
        self.advantage += o.advantage;
        self.n_low += o.n_low;
        self.n_high += o.n_high;
        self.n_dual += o.n_dual;
        self.n_tok += o.n_tok;
    }
}

/// Loss, gradient and counters for rows `first_row..first_row + grad.len()/max_len`.
fn rows_loss(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    let t = batch.max_len;
    let lo = 1.0 - config.epsilon;
    let hi = 1.0 + config.epsilon_high;
    let beta = config.beta;
    let mut p = Partial::default();
    for (r, g_row) in grad.chunks_exact_mut(t).enumerate() {
        let i = first_row + r;
        let row = i * t..(i + 1) * t;
        let mask = &batch.mask[row.clone()];
        let len = mask.iter().filter(|&&m| m).count();
        if len == 0 {
            g_row.iter_mut().for_each(|g| *g = 0.0);
            continue;
        }
        let w = agg.token_weight(len);
        let lp = &batch.logprobs[row.clone()];
        let old = batch.old_logprobs.map(|o| &o[row.clone()]);
        let rf = batch.ref_logprobs.map(|o| &o[row.clone()]);
        // GSPO: one ratio per completion, from the mean log-ratio.
        let seq_ratio = match config.importance_sampling_level {
            ImportanceSamplingLevel::Token => None,
            ImportanceSamplingLevel::Sequence => {
                let (log_s, live) = sequence_log_ratio(lp, old, mask, len);
                Some((libm::exp(log_s), live))
            }
        };
        // Σ_t w·∂l_t/∂s over the completion (GSPO's chain through s_i).
        let mut dl_ds_sum = 0.0;
        for k in 0..t {
            if !mask[k] {
                g_row[k] = 0.0;
                continue;
            }
            let a = batch.advantages.get(i, i * t + k);
            let lr = old.map_or(0.0, |o| lp[k] - o[k]);
            let lr_c = lr.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
            let (ratio, ratio_live) = match (seq_ratio, old) {
                (Some(sr), _) => sr,
                (None, Some(_)) => (libm::exp(lr_c), lr == lr_c),
                (None, None) => (1.0, true),
            };
            // approx KL(π_old‖π_θ) = (ρ − 1) − log ρ from the token ratio (also under GSPO).
            p.approx_kl += match seq_ratio {
                None => ratio - 1.0 - lr_c,
                Some(_) => libm::expm1(lr_c) - lr_c,
            };
            // Written with selects rather than branches: which side of a clip a token falls
            // on is data-dependent and would be mispredicted often.
            let l1 = -a * ratio;
            let l2 = -a * ratio.clamp(lo, hi);
            // ∂l_pg/∂ρ: −A on the unclipped branch, 0 where the clip (or dual clip) is active.
            let unclipped = l1 >= l2;
            let mut l = if unclipped { l1 } else { l2 };
            let mut dl_dratio = if unclipped { -a } else { 0.0 };
            p.n_low += usize::from((a < 0.0) & (ratio < lo));
            p.n_high += usize::from((a > 0.0) & (ratio > hi));
            if let Some(c) = config.dual_clip {
                let l3 = -a * c;
                let dual = (a < 0.0) & (l3 < l);
                l = if dual { l3 } else { l };
                dl_dratio = if dual { 0.0 } else { dl_dratio };
                p.n_dual += usize::from(dual);
            }
            dl_dratio = if ratio_live { dl_dratio } else { 0.0 };
            let mut g = 0.0;
            match seq_ratio {
                // ∂ρ/∂logp_θ = ρ for a token ratio.
                None => g += dl_dratio * ratio,
                Some(_) => dl_ds_sum += w * dl_dratio,
            }
            if let Some(rf) = rf {
                let (kl, dkl) = kl_penalty(config.kl_estimator, lp[k], rf[k]);
                p.ref_kl += kl;
                if beta != 0.0 {
                    l += beta * kl;
                    g += beta * dkl;
                }
            }
            p.advantage += a;
            p.n_tok += 1;
            p.loss += w * l;
            g_row[k] = w * g;
        }
        if let Some((s, true)) = seq_ratio {
            // ∂s_i/∂logp_θ[i,t] = s_i / |o_i| for every unmasked token of completion i.
            let add = dl_ds_sum * s / len as f64;
            for (gk, &m) in g_row.iter_mut().zip(mask) {
                if m {
                    *gk += add;
                }
            }
        }
    }
    p
}

/// Batches with at least this many token slots are split over threads (feature `threads`).
#[cfg(feature = "threads")]
const PARALLEL_MIN_TOKENS: usize = 1 << 15;

#[cfg(feature = "threads")]
fn all_rows(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    grad: &mut [f64],
) -> Partial {
    let (b, t) = (batch.num_sequences, batch.max_len);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(b);
    if threads < 2 || b * t < PARALLEL_MIN_TOKENS {
        return rows_loss(config, batch, agg, 0, grad);
    }
    let rows_per = b.div_ceil(threads);
    let mut parts = alloc::vec![Partial::default(); threads];
    std::thread::scope(|scope| {
        for (c, (chunk, part)) in grad
            .chunks_mut(rows_per * t)
            .zip(parts.iter_mut())
            .enumerate()
        {
            scope.spawn(move || *part = rows_loss(config, batch, agg, c * rows_per, chunk));
        }
    });
    // Combined in row order: the result depends on the thread count, never on timing.
    let mut total = Partial::default();
    for p in &parts {
        total.add(p);
    }
    total
}

#[cfg(not(feature = "threads"))]
fn all_rows(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    grad: &mut [f64],
) -> Partial {
    rows_loss(config, batch, agg, 0, grad)
}

/// Clipped policy-gradient loss with KL penalty; writes `∂L/∂logprobs` into `grad`
/// (`[num_sequences * max_len]`, overwritten, zero on padding).
///
/// Allocates nothing (with feature `threads`, large batches are split over the available
/// cores, and the partial sums are combined in row order). An all-masked batch returns loss
/// 0, gradient 0 and zero diagnostics.
pub fn policy_loss(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    grad: &mut [f64],
) -> Result<PolicyLossOutput, LossError> {
    validate(config, batch, grad)?;
    let agg = AggWeights::new(
        batch.mask,
        batch.num_sequences,
        batch.max_len,
        config.loss_type,
        config.max_completion_length,
    )?;
    if batch.max_len == 0 {
        return Ok(PolicyLossOutput {
            loss: 0.0,
            diagnostics: PolicyDiagnostics {
                zero_spread_fraction: zero_spread_fraction(batch),
                ..PolicyDiagnostics::default()
            },
        });
    }
    let p = all_rows(config, batch, &agg, grad);
    let mut d = PolicyDiagnostics::default();
    if p.n_tok > 0 {
        let n = p.n_tok as f64;
        d.clip_fraction_low = p.n_low as f64 / n;
        d.clip_fraction_high = p.n_high as f64 / n;
        d.dual_clip_fraction = p.n_dual as f64 / n;
        d.approx_kl = p.approx_kl / n;
        d.ref_kl = p.ref_kl / n;
        d.mean_advantage = p.advantage / n;
    }
    d.num_tokens = p.n_tok;
    d.zero_spread_fraction = zero_spread_fraction(batch);
    Ok(PolicyLossOutput {
        loss: p.loss,
        diagnostics: d,
    })
}

#[cfg(test)]
#[path = "ppo_clip_tests.rs"]
mod tests;
