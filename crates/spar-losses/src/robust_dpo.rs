//! Robust DPO (Chowdhury et al. 2024, "Provably Robust DPO: Aligning Language Models with
//! Noisy Feedback"; TRL `loss_type="robust"`).
//!
//! Unbiased under a label-flip rate ε:
//!
//! ```text
//! L = [ −(1−ε) logσ(βh) + ε logσ(−βh) ] / (1 − 2ε),   ε ∈ [0, 0.5)
//! ∂L/∂h = β [ −(1−ε) σ(−βh) − ε σ(βh) ] / (1 − 2ε)
//! ```
//! `L(h = 0) = ln 2`; ε = 0 is DPO; ε = 0.5 divides by zero and is rejected.
//!
//! ```
//! use spar_losses::robust_dpo::robust_dpo_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[-3.0], rejected: &[-4.0], ref_chosen: &[-3.0], ref_rejected: &[-4.0] };
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! let mut grads = PairGrads { chosen: &mut gw, rejected: &mut gl };
//! let out = robust_dpo_loss(&pairs, 0.1, 0.2, &mut grads).unwrap();
//! assert!((out.loss - core::f64::consts::LN_2).abs() < 1e-12);
//! assert!(robust_dpo_loss(&pairs, 0.1, 0.5, &mut grads).is_err());
//! ```

use crate::error::LossError;
use crate::math::{log_sigmoid, sigmoid};
use crate::preference::{
    check_beta, check_pairs, margin_loss, PairGrads, PairLogprobs, PreferenceOutput,
};

/// Robust DPO loss (mean over pairs); `label_smoothing` ε in `[0, 0.5)`.
pub fn robust_dpo_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    label_smoothing: f64,
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    let eps = label_smoothing;
    if !(eps.is_finite() && (0.0..0.5).contains(&eps)) {
        return Err(LossError::OutOfRange {
            what: "label_smoothing",
            value: eps,
        });
    }
    let norm = 1.0 / (1.0 - 2.0 * eps);
    Ok(margin_loss(pairs, beta, grads, |_, h| {
        let z = beta * h;
        let l = (-(1.0 - eps) * log_sigmoid(z) + eps * log_sigmoid(-z)) * norm;
        let d = beta * (-(1.0 - eps) * sigmoid(-z) - eps * sigmoid(z)) * norm;
        (l, d)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpo::dpo_loss;
    use crate::preference::test_support::{at_margin, check_pair_grad, random_pairs};
    use crate::testutil::Rng;

    #[test]
    fn properties() {
        let mut rng = Rng::new(13);
        for eps in [0.0, 0.1, 0.3, 0.49] {
            check_pair_grad(&random_pairs(&mut rng, 4), |p, g| {
                robust_dpo_loss(p, 0.2, eps, g).unwrap().loss
            });
            let (l0, _) = at_margin(0.0, |p, g| robust_dpo_loss(p, 0.2, eps, g).unwrap().loss);
            assert!((l0 - core::f64::consts::LN_2).abs() < 1e-12);
        }
        let a = at_margin(1.3, |p, g| robust_dpo_loss(p, 0.7, 0.0, g).unwrap().loss);
        let b = at_margin(1.3, |p, g| dpo_loss(p, 0.7, g).unwrap().loss);
        assert!((a.0 - b.0).abs() < 1e-15 && (a.1 - b.1).abs() < 1e-15);
        for bad in [0.5, 0.7, -0.1, f64::NAN] {
            let r = at_margin(0.0, |p, g| {
                robust_dpo_loss(p, 0.7, bad, g).map_or(f64::NAN, |o| o.loss)
            });
            assert!(r.0.is_nan(), "{bad}");
        }
    }
}
