//! GSPO's sequence-level importance ratio (Zheng et al. 2025, "Group Sequence Policy
//! Optimization"; TRL `importance_sampling_level="sequence"`).
//!
//! ```text
//! s_i = exp( (1/|o_i|) Σ_t m[i,t] · (logp_θ[i,t] − logp_old[i,t]) )
//! ```
//! `s_i` replaces the token ratio for every token of completion `i` in
//! [`crate::ppo_clip::policy_loss`] (set `importance_sampling_level = Sequence`); it is clipped
//! to `[1 − ε, 1 + ε_h]` like the token ratio, and `∂s_i/∂logp_θ[i,t] = s_i/|o_i|`.
//!
//! ```
//! use spar_losses::gspo::sequence_log_ratio;
//! let (log_s, _) = sequence_log_ratio(&[-1.0, -2.0], Some(&[-1.5, -2.5]), &[true, true], 2);
//! assert!((log_s - 0.5).abs() < 1e-15);
//! ```

use crate::ppo_clip::LOG_RATIO_CLAMP;

/// Mean log-ratio of one completion's unmasked tokens, clamped to `±20`; the flag is false when
/// the clamp is active (the gradient through `s_i` is then 0). `len` is the number of unmasked
/// tokens (≥ 1). Without `old` the result is `(0, true)`: on-policy.
pub fn sequence_log_ratio(
    logprobs: &[f64],
    old_logprobs: Option<&[f64]>,
    mask: &[bool],
    len: usize,
) -> (f64, bool) {
    let Some(old) = old_logprobs else {
        return (0.0, true);
    };
    let mut sum = 0.0;
    for ((&lp, &o), &m) in logprobs.iter().zip(old).zip(mask) {
        if m {
            sum += lp - o;
        }
    }
    let mean = sum / len.max(1) as f64;
    if mean.abs() > LOG_RATIO_CLAMP {
        (mean.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP), false)
    } else {
        (mean, true)
    }
}
