//! DNO, Direct Nash Optimization (Rosset et al. 2024, "Direct Nash Optimization: Teaching
//! Language Models to Self-Improve with General Preferences").
//!
//! At iteration t, π_t is both the sampler and the reference. With expected win rates against
//! π_t, `r_t(y) = E_{y'∼π_t} P(y ≻ y')` (estimated from K samples, see
//! [`crate::sppo::sppo_pair`]), the soft-label contrastive objective on a pair `(y1, y2)` is
//!
//! ```text
//! Δ = log π(y1)/π_t(y1) − log π(y2)/π_t(y2)          (= h of crate::preference)
//! q = σ(r_t(y1) − r_t(y2))
//! L = −[ q logσ(ηΔ) + (1 − q) logσ(−ηΔ) ],   ∂L/∂Δ = η(σ(ηΔ) − q)
//! ```
//! Optimum `ηΔ* = r_t(y1) − r_t(y2)`. DNO-Prct's hard-label version is [`crate::dpo::dpo_loss`]
//! with `β = η` on large-margin pairs.
//!
//! ```
//! use spar_losses::dno::dno_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[-4.0], rejected: &[-4.0], ref_chosen: &[-4.0], ref_rejected: &[-4.0] };
//! let (mut gw, mut gl) = ([1.0], [1.0]);
//! let out = dno_loss(&pairs, 1.0, &[0.6], &[0.6], &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!((out.loss - core::f64::consts::LN_2).abs() < 1e-12 && gw[0].abs() < 1e-15);
//! ```

use crate::error::{check_finite, check_len, LossError};
use crate::math::sigmoid;
use crate::preference::{
    check_beta, check_pairs, margin_loss, soft_logistic, PairGrads, PairLogprobs, PreferenceOutput,
};

/// DNO soft-label loss (mean over pairs); `win_rate_chosen/rejected` are `r_t(y1)`, `r_t(y2)`.
pub fn dno_loss(
    pairs: &PairLogprobs<'_>,
    eta: f64,
    win_rate_chosen: &[f64],
    win_rate_rejected: &[f64],
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    let n = check_pairs(pairs, grads)?;
    check_beta("eta", eta)?;
    check_len("win_rate_chosen", win_rate_chosen.len(), n)?;
    check_len("win_rate_rejected", win_rate_rejected.len(), n)?;
    check_finite("win_rate_chosen", win_rate_chosen)?;
    check_finite("win_rate_rejected", win_rate_rejected)?;
    Ok(margin_loss(pairs, eta, grads, |k, h| {
        let q = sigmoid(win_rate_chosen[k] - win_rate_rejected[k]);
        soft_logistic(h, eta, q)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preference::test_support::{at_margin, check_pair_grad, random_pairs};
    use crate::testutil::Rng;

    #[test]
    fn properties() {
        let mut rng = Rng::new(18);
        check_pair_grad(&random_pairs(&mut rng, 3), |p, g| {
            dno_loss(p, 0.2, &[0.9, 0.1, 0.5], &[0.2, 0.3, 0.5], g)
                .unwrap()
                .loss
        });
        // Optimum at ηΔ = r1 − r2.
        let (eta, r1, r2) = (0.5, 0.8, 0.3);
        let (_, g) = at_margin((r1 - r2) / eta, |p, g| {
            dno_loss(p, eta, &[r1], &[r2], g).unwrap().loss
        });
        assert!(g.abs() < 1e-15);
        let (l, g) = at_margin(0.0, |p, g| {
            dno_loss(p, eta, &[0.4], &[0.4], g).unwrap().loss
        });
        assert!((l - core::f64::consts::LN_2).abs() < 1e-12 && g.abs() < 1e-15);
        let (l, _) = at_margin(0.0, |p, g| {
            dno_loss(p, eta, &[f64::NAN], &[0.4], g).map_or(f64::NAN, |o| o.loss)
        });
        assert!(l.is_nan());
    }
}
