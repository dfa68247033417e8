//! Per-token KL estimators between the policy and the reference (Schulman, "Approximating KL
//! Divergence", 2020; verl `kl_penalty`).
//!
//! With `d = logp_θ − logp_ref` (tokens sampled from π_θ):
//!
//! ```text
//! k1 = d                      ∂k1/∂logp_θ = 1
//! k2 = ½ d²                   ∂k2/∂logp_θ = d
//! k3 = e^{−d} + d − 1         ∂k3/∂logp_θ = 1 − e^{−d}      (verl "low_var_kl", GRPO's choice)
//! ```
//! k3 is computed as verl does: `−d` clamped to `[−20, 20]` before the exponential and the
//! result clamped to `[−10, 10]`; where a clamp is active the gradient is 0. This keeps it
//! finite for log-probs down to −1e4. `k3 ≥ 0`, with equality iff `d = 0`.
//!
//! ```
//! use spar_losses::kl::{kl_penalty, KlEstimator};
//! let (k, g) = kl_penalty(KlEstimator::K3, -1.0, -1.0);
//! assert_eq!((k, g), (0.0, 0.0));
//! ```

/// Which estimator of `KL(π_θ ‖ π_ref)` to use per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KlEstimator {
    /// `d` (verl `"kl"`).
    K1,
    /// `½ d²` (verl `"mse"`).
    K2,
    /// `e^{−d} + d − 1` (verl `"low_var_kl"`), clamped as verl does.
    #[default]
    K3,
}

/// Bound on `|logp_ref − logp_θ|` inside k3's exponential (verl).
pub const K3_LOG_RATIO_CLAMP: f64 = 20.0;
/// Bound on the value of k3 (verl).
pub const K3_VALUE_CLAMP: f64 = 10.0;

/// Returns `(k, ∂k/∂logprob)` for one token.
#[inline]
pub fn kl_penalty(estimator: KlEstimator, logprob: f64, ref_logprob: f64) -> (f64, f64) {
    let d = logprob - ref_logprob;
    match estimator {
        KlEstimator::K1 => (d, 1.0),
        KlEstimator::K2 => (0.5 * d * d, d),
        KlEstimator::K3 => {
            let x = -d;
            let (xc, live) = if x > K3_LOG_RATIO_CLAMP {
                (K3_LOG_RATIO_CLAMP, false)
            } else if x < -K3_LOG_RATIO_CLAMP {
                (-K3_LOG_RATIO_CLAMP, false)
            } else {
                (x, true)
            };
            let e = libm::exp(xc);
            let k = e - xc - 1.0;
            if k > K3_VALUE_CLAMP {
                (K3_VALUE_CLAMP, 0.0)
            } else if live {
                (k, 1.0 - e)
            } else {
                (k, 0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn k3_nonnegative_and_gradient_matches_fd(lp in -6.0f64..0.0, rp in -6.0f64..0.0) {
            let (k, g) = kl_penalty(KlEstimator::K3, lp, rp);
            prop_assert!(k >= 0.0);
            let h = 1e-6;
            for est in [KlEstimator::K1, KlEstimator::K2, KlEstimator::K3] {
                let (_, g) = kl_penalty(est, lp, rp);
                let num = (kl_penalty(est, lp + h, rp).0 - kl_penalty(est, lp - h, rp).0) / (2.0 * h);
                if kl_penalty(est, lp, rp).0 < K3_VALUE_CLAMP - 1e-3 {
                    prop_assert!((g - num).abs() < 1e-6 * num.abs().max(1.0), "{est:?} {g} {num}");
                }
            }
            // ∂k3/∂logp_θ > 0 exactly when π_θ > π_ref (where the value clamp is not active).
            if k < K3_VALUE_CLAMP {
                if lp > rp { prop_assert!(g > 0.0) } else if lp < rp { prop_assert!(g < 0.0) }
            } else {
                prop_assert_eq!(g, 0.0);
            }
        }
    }

    #[test]
    fn k3_zero_only_at_equality_and_clamped_for_extremes() {
        assert_eq!(kl_penalty(KlEstimator::K3, -2.0, -2.0), (0.0, 0.0));
        assert!(kl_penalty(KlEstimator::K3, -2.0, -2.1).0 > 0.0);
        let (k, g) = kl_penalty(KlEstimator::K3, -1e4, 0.0);
        assert_eq!((k, g), (K3_VALUE_CLAMP, 0.0));
        let (k, g) = kl_penalty(KlEstimator::K3, 0.0, -1e4);
        assert!(k.is_finite() && k <= K3_VALUE_CLAMP && g == 0.0);
    }

    #[test]
    fn k3_is_unbiased_for_kl() {
        // E_{π_θ}[k3] = KL(π_θ‖π_ref) exactly, for a 3-outcome distribution.
        let p = [0.5f64, 0.3, 0.2];
        let q = [0.2f64, 0.2, 0.6];
        let kl: f64 = p.iter().zip(&q).map(|(a, b)| a * (a / b).ln()).sum();
        let e: f64 = p
            .iter()
            .zip(&q)
            .map(|(a, b)| a * kl_penalty(KlEstimator::K3, a.ln(), b.ln()).0)
            .sum();
        assert!((kl - e).abs() < 1e-12);
    }
}
