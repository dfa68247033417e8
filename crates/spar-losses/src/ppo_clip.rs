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
use crate::kl::{kl_penalty, KlEstimator, K3_LOG_RATIO_CLAMP, K3_VALUE_CLAMP};
use crate::layout::{
    check_finite_masked, check_groups, check_per_sequence, check_tokens, count_true, end_of_mask,
};
use crate::math::exp_reduced;

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
    if let Some(old) = batch.old_logprobs {
        check_len("old_logprobs", old.len(), batch.logprobs.len())?;
    }
    match batch.ref_logprobs {
        Some(r) => check_len("ref_logprobs", r.len(), batch.logprobs.len())?,
        None if config.beta > 0.0 => {
            return Err(LossError::Invalid {
                what: "beta > 0 needs ref_logprobs",
            })
        }
        None => {}
    }
    match batch.advantages {
        Advantages::PerSequence(a) => check_per_sequence("advantages", a, b)?,
        Advantages::PerToken(a) => check_len("advantages", a.len(), batch.logprobs.len())?,
    }
    check_groups(b, batch.num_generations)
}

/// Checks that every unmasked per-token input is finite, in argument order (the first
/// offending slice and index are reported). The token-level pass folds the same check into
/// its arithmetic and calls this only when it saw a non-finite value.
fn check_finite_tokens(batch: &PolicyBatch<'_>) -> Result<(), LossError> {
    check_finite_masked("logprobs", batch.logprobs, batch.mask)?;
    if let Some(old) = batch.old_logprobs {
        check_finite_masked("old_logprobs", old, batch.mask)?;
    }
    if let Some(r) = batch.ref_logprobs {
        check_finite_masked("ref_logprobs", r, batch.mask)?;
    }
    if let Advantages::PerToken(a) = batch.advantages {
        check_finite_masked("advantages", a, batch.mask)?;
    }
    Ok(())
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
    /// Some unmasked input was NaN or infinite (the token-level pass checks as it goes).
    non_finite: bool,
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
        self.non_finite |= o.non_finite;
    }
}

/// Loss, gradient and counters for rows `first_row..first_row + grad.len()/max_len`, one token
/// at a time with the reference formulas; used for GSPO's sequence ratio (and by the tests as
/// the reference for the fused token-level pass). Inputs must have been checked finite.
fn rows_loss_general(
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

/// Loss, gradient and counters for rows `first_row..first_row + grad.len()/max_len`.
fn rows_loss(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    match config.importance_sampling_level {
        ImportanceSamplingLevel::Token => rows_token(config, batch, agg, first_row, grad),
        ImportanceSamplingLevel::Sequence => rows_loss_general(config, batch, agg, first_row, grad),
    }
}

/// Tokens handled together by the fused pass: one group of lanes per step, each lane with its
/// own partial sums, so the compiler can vectorise the step (a single running float sum
/// would force one token at a time).
const LANES: usize = 16;

/// Loop-invariant numbers of the fused pass.
#[derive(Clone, Copy)]
struct TokenConsts {
    lo: f64,
    hi: f64,
    /// Dual-clip constant, `+∞` when dual clip is off (then `−A·c < l` never holds for `A < 0`).
    dual: f64,
    beta: f64,
}

/// Per-lane partial sums of the fused pass; counts are kept as exact small integers in f64.
#[derive(Clone, Copy, Default)]
struct Lanes {
    loss: [f64; LANES],
    approx_kl: [f64; LANES],
    ref_kl: [f64; LANES],
    advantage: [f64; LANES],
    n_low: [f64; LANES],
    n_high: [f64; LANES],
    n_dual: [f64; LANES],
    /// Σ (v − v) over the unmasked inputs: 0 while all are finite, NaN after any NaN or ±∞.
    check: [f64; LANES],
}

/// Which KL estimator the fused pass computes (a const parameter, so each variant is a
/// branch-free loop): none (no reference), k1, k2, k3.
const KL_NONE: u8 = 0;
const KL_K1: u8 = 1;
const KL_K2: u8 = 2;
const KL_K3: u8 = 3;

/// `0` for a finite `x`, NaN for NaN and ±∞: summed over the inputs, it is a finiteness check
/// that costs one subtraction and one addition per value and vectorises.
#[inline(always)]
#[allow(clippy::eq_op)]
fn finite_probe(x: f64) -> f64 {
    x - x
}

/// The exponential of the fused pass: the branch-free polynomial in the vector builds (where
/// it vectorises with fused multiply-adds), `libm::exp` in the portable one (scalar there, and
/// faster than the polynomial one value at a time).
#[inline(always)]
fn exp_token<const VECTOR: bool>(x: f64) -> f64 {
    if VECTOR {
        exp_reduced::<true>(x)
    } else {
        libm::exp(x)
    }
}

/// One token of the fused pass, written with selects only (the same formulas as
/// [`rows_loss_general`] and [`kl_penalty`]); returns the gradient, adds to lane `j`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn token_step<const OLD: bool, const KL: u8, const PT: bool, const VECTOR: bool>(
    c: &TokenConsts,
    w: f64,
    m: bool,
    a: f64,
    lp: f64,
    old: f64,
    rf: f64,
    acc: &mut Lanes,
    j: usize,
) -> f64 {
    let mut check = finite_probe(lp);
    let (ratio, lr_c, live) = if OLD {
        check += finite_probe(old);
        let lr = lp - old;
        let lr_c = lr.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
        (exp_token::<VECTOR>(lr_c), lr_c, lr == lr_c)
    } else {
        (1.0, 0.0, true)
    };
    if PT {
        check += finite_probe(a);
    }
    let l1 = -a * ratio;
    let rc = if ratio < c.lo {
        c.lo
    } else if ratio > c.hi {
        c.hi
    } else {
        ratio
    };
    let l2 = -a * rc;
    let unclipped = l1 >= l2;
    let l = if unclipped { l1 } else { l2 };
    let dl = if unclipped { -a } else { 0.0 };
    let neg = a < 0.0;
    let low = neg & (ratio < c.lo);
    let high = (a > 0.0) & (ratio > c.hi);
    let l3 = -a * c.dual;
    let dual = neg & (l3 < l);
    let mut l = if dual { l3 } else { l };
    let dl = if dual | !live { 0.0 } else { dl };
    let mut g = dl * ratio;
    if KL != KL_NONE {
        check += finite_probe(rf);
        let (kl, dkl) = match KL {
            KL_K1 => (lp - rf, 1.0),
            KL_K2 => {
                let d = lp - rf;
                (0.5 * d * d, d)
            }
            _ => {
                let x = rf - lp;
                let xc = x.clamp(-K3_LOG_RATIO_CLAMP, K3_LOG_RATIO_CLAMP);
                let e = exp_token::<VECTOR>(xc);
                let k = e - xc - 1.0;
                let over = k > K3_VALUE_CLAMP;
                let kl = if over { K3_VALUE_CLAMP } else { k };
                let dkl = if over | (x != xc) { 0.0 } else { 1.0 - e };
                (kl, dkl)
            }
        };
        acc.ref_kl[j] += if m { kl } else { 0.0 };
        l += c.beta * kl;
        g += c.beta * dkl;
    }
    let on = |v: f64| if m { v } else { 0.0 };
    acc.loss[j] += on(w * l);
    acc.approx_kl[j] += on(ratio - 1.0 - lr_c);
    if PT {
        acc.advantage[j] += on(a);
    }
    acc.n_low[j] += on(if low { 1.0 } else { 0.0 });
    acc.n_high[j] += on(if high { 1.0 } else { 0.0 });
    acc.n_dual[j] += on(if dual { 1.0 } else { 0.0 });
    acc.check[j] += on(check);
    on(w * g)
}

/// The fused token-level pass over rows `first_row..`: checks finiteness, computes ratio,
/// clip, KL, loss, gradient and diagnostics, and applies the aggregation weight, in one sweep
/// over the four input streams. Only the span up to a row's last unmasked token (rounded up to
/// whole lane groups) is computed; the rest of the row's gradient is zeroed.
#[inline(always)]
fn rows_token_kernel<const OLD: bool, const KL: u8, const PT: bool, const VECTOR: bool>(
    c: &TokenConsts,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    let t = batch.max_len;
    let mut acc = Lanes::default();
    let mut p = Partial::default();
    for (r, g_row) in grad.chunks_exact_mut(t).enumerate() {
        let base = (first_row + r) * t;
        let mask = &batch.mask[base..base + t];
        let last = end_of_mask(mask);
        let len = count_true(&mask[..last]);
        // Round the span up to whole lane groups where the row allows: the extra slots are
        // padding, whose values are never used (selects give them gradient 0), and the
        // vector loop is much cheaper than one-at-a-time tail tokens.
        let end = last.next_multiple_of(LANES).min(t);
        g_row[end..].iter_mut().for_each(|g| *g = 0.0);
        if len == 0 {
            continue;
        }
        let w = agg.token_weight(len);
        p.n_tok += len;
        let span = base..base + end;
        let lp = &batch.logprobs[span.clone()];
        // Streams a variant does not read are aliased to `lp` (never loaded after inlining).
        let old = match batch.old_logprobs {
            Some(o) if OLD => &o[span.clone()],
            _ => lp,
        };
        let rf = match batch.ref_logprobs {
            Some(o) if KL != KL_NONE => &o[span.clone()],
            _ => lp,
        };
        let (a_seq, adv) = match batch.advantages {
            Advantages::PerSequence(a) => (a[first_row + r], lp),
            Advantages::PerToken(a) => (0.0, &a[span.clone()]),
        };
        if !PT {
            p.advantage += a_seq * len as f64;
        }
        let mask = &mask[..end];
        let g = &mut g_row[..end];
        let chunks = g
            .chunks_exact_mut(LANES)
            .zip(mask.chunks_exact(LANES))
            .zip(lp.chunks_exact(LANES))
            .zip(old.chunks_exact(LANES))
            .zip(rf.chunks_exact(LANES))
            .zip(adv.chunks_exact(LANES));
        for (((((g, m), lp), old), rf), adv) in chunks {
            for j in 0..LANES {
                let a = if PT { adv[j] } else { a_seq };
                g[j] = token_step::<OLD, KL, PT, VECTOR>(
                    c, w, m[j], a, lp[j], old[j], rf[j], &mut acc, j,
                );
            }
        }
        for k in end - end % LANES..end {
            let a = if PT { adv[k] } else { a_seq };
            g[k] = token_step::<OLD, KL, PT, VECTOR>(
                c, w, mask[k], a, lp[k], old[k], rf[k], &mut acc, 0,
            );
        }
    }
    let sum = |v: &[f64; LANES]| v.iter().sum::<f64>();
    p.loss = sum(&acc.loss);
    p.approx_kl = sum(&acc.approx_kl);
    p.ref_kl = sum(&acc.ref_kl);
    if PT {
        p.advantage = sum(&acc.advantage);
    }
    p.n_low = sum(&acc.n_low) as usize;
    p.n_high = sum(&acc.n_high) as usize;
    p.n_dual = sum(&acc.n_dual) as usize;
    p.non_finite = sum(&acc.check) != 0.0;
    p
}

/// The fused pass, using AVX2 where the CPU has it (detected at run time; the build itself
/// targets the x86-64 baseline, SSE2, where the compiler keeps this loop scalar).
fn rows_token(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
        // SAFETY: `rows_token_avx512` needs AVX-512F and FMA, which the CPU was just found to
        // have.
        return unsafe { rows_token_avx512(config, batch, agg, first_row, grad) };
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: `rows_token_avx2` needs AVX2 and FMA, which the CPU was just found to have.
        return unsafe { rows_token_avx2(config, batch, agg, first_row, grad) };
    }
    rows_token_any::<false>(config, batch, agg, first_row, grad)
}

/// [`rows_token_any`] compiled for AVX2 (4 doubles per instruction), with fused multiply-adds
/// in the exponentials (results differ from the portable build only by rounding).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn rows_token_avx2(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    rows_token_any::<true>(config, batch, agg, first_row, grad)
}

/// [`rows_token_any`] compiled for AVX-512F (8 doubles per instruction, 32 registers), with
/// fused multiply-adds as in [`rows_token_avx2`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,fma")]
fn rows_token_avx512(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    rows_token_any::<true>(config, batch, agg, first_row, grad)
}

/// Picks the fused-pass variant for this batch (old log-probs or not, KL estimator,
/// per-token or per-sequence advantages).
#[inline(always)]
fn rows_token_any<const VECTOR: bool>(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    first_row: usize,
    grad: &mut [f64],
) -> Partial {
    let c = TokenConsts {
        lo: 1.0 - config.epsilon,
        hi: 1.0 + config.epsilon_high,
        dual: config.dual_clip.unwrap_or(f64::INFINITY),
        beta: config.beta,
    };
    let kl = match (batch.ref_logprobs, config.kl_estimator) {
        (None, _) => KL_NONE,
        (Some(_), KlEstimator::K1) => KL_K1,
        (Some(_), KlEstimator::K2) => KL_K2,
        (Some(_), KlEstimator::K3) => KL_K3,
    };
    let old = batch.old_logprobs.is_some();
    let pt = matches!(batch.advantages, Advantages::PerToken(_));
    macro_rules! by_kl {
        ($old:literal, $pt:literal) => {
            match kl {
                KL_NONE => {
                    rows_token_kernel::<$old, KL_NONE, $pt, VECTOR>(&c, batch, agg, first_row, grad)
                }
                KL_K1 => {
                    rows_token_kernel::<$old, KL_K1, $pt, VECTOR>(&c, batch, agg, first_row, grad)
                }
                KL_K2 => {
                    rows_token_kernel::<$old, KL_K2, $pt, VECTOR>(&c, batch, agg, first_row, grad)
                }
                _ => rows_token_kernel::<$old, KL_K3, $pt, VECTOR>(&c, batch, agg, first_row, grad),
            }
        };
    }
    match (old, pt) {
        (false, false) => by_kl!(false, false),
        (false, true) => by_kl!(false, true),
        (true, false) => by_kl!(true, false),
        (true, true) => by_kl!(true, true),
    }
}

/// Batches with at least this many token slots are split over threads (feature `threads`).
#[cfg(feature = "threads")]
const PARALLEL_MIN_TOKENS: usize = 1 << 15;

/// Blocks of rows handed out to the threads (feature `threads`): fixed by the batch alone, so
/// the result depends on neither the thread count nor timing.
#[cfg(feature = "threads")]
const MAX_BLOCKS: usize = 32;

/// Splits the rows into at most [`MAX_BLOCKS`] equal blocks that the calling thread and
/// `cores − 1` helpers take from a shared queue. On a busy machine a helper that is not
/// scheduled simply takes fewer blocks (the caller is never left waiting on a fixed share);
/// each block's partial sums go into its own slot and are combined in row order. Nothing is
/// allocated besides the helper threads.
#[cfg(feature = "threads")]
fn all_rows(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    agg: &AggWeights,
    grad: &mut [f64],
) -> Partial {
    use std::sync::{Mutex, PoisonError};
    let (b, t) = (batch.num_sequences, batch.max_len);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(b);
    if threads < 2 || b * t < PARALLEL_MIN_TOKENS {
        return rows_loss(config, batch, agg, 0, grad);
    }
    let rows_per = b.div_ceil(MAX_BLOCKS.min(b));
    let queue = Mutex::new(grad.chunks_mut(rows_per * t).enumerate());
    let slots: [Mutex<Partial>; MAX_BLOCKS] =
        core::array::from_fn(|_| Mutex::new(Partial::default()));
    let work = || loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
        let Some((k, rows)) = next else { break };
        let part = rows_loss(config, batch, agg, k * rows_per, rows);
        *slots[k].lock().unwrap_or_else(PoisonError::into_inner) = part;
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    let mut total = Partial::default();
    for slot in &slots {
        total.add(&slot.lock().unwrap_or_else(PoisonError::into_inner));
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
/// On error the contents of `grad` are unspecified.
///
/// Allocates nothing (with feature `threads`, large batches are split over the available
/// cores, and the partial sums are combined in row order). An all-masked batch returns loss
/// 0, gradient 0 and zero diagnostics.
///
/// Token-level ratios go through one fused pass per row; with `std` on x86-64 it runs as
/// AVX-512F or AVX2 code with fused multiply-adds when the CPU has them (detected at run time),
/// which changes results only by rounding.
pub fn policy_loss(
    config: &PolicyLossConfig,
    batch: &PolicyBatch<'_>,
    grad: &mut [f64],
) -> Result<PolicyLossOutput, LossError> {
    validate(config, batch, grad)?;
    if config.importance_sampling_level == ImportanceSamplingLevel::Sequence {
        check_finite_tokens(batch)?;
    }
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
    if p.non_finite {
        check_finite_tokens(batch)?;
        unreachable!("the fused pass saw a non-finite input that the check did not find");
    }
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
