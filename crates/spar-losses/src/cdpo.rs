//! cDPO, conservative DPO with label smoothing (Mitchell 2023, "A note on DPO with noisy
//! preferences & relationship to IPO"; TRL `loss_type="sigmoid"` with `label_smoothing`).
//!
//! ```text
//! L = −(1−ε) logσ(βh) − ε logσ(−βh),   ε ∈ [0, 0.5]
//! ∂L/∂h = β(σ(βh) − (1−ε))
//! ```
//! The minimiser is `βh* = ln((1−ε)/ε)`; `L(h=0) = ln 2` for every ε; ε = 0 is DPO.
//!
//! ```
//! use spar_losses::cdpo::cdpo_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let h = (0.9f64 / 0.1).ln() / 0.5; // the minimiser for ε = 0.1, β = 0.5
//! let pairs = PairLogprobs { chosen: &[h], rejected: &[0.0], ref_chosen: &[0.0], ref_rejected: &[0.0] };
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! cdpo_loss(&pairs, 0.5, 0.1, &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!(gw[0].abs() < 1e-15);
//! ```

use crate::error::{check_range, LossError};
use crate::preference::{
    check_beta, check_pairs, margin_loss, soft_logistic, PairGrads, PairLogprobs, PreferenceOutput,
};

/// cDPO loss (mean over pairs); `label_smoothing` ε in `[0, 0.5]`.
pub fn cdpo_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    label_smoothing: f64,
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    check_range("label_smoothing", label_smoothing, 0.0, 0.5)?;
    let q = 1.0 - label_smoothing;
    Ok(margin_loss(pairs, beta, grads, |_, h| {
        soft_logistic(h, beta, q)
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
        let mut rng = Rng::new(12);
        for eps in [0.0, 0.1, 0.3, 0.5] {
            check_pair_grad(&random_pairs(&mut rng, 4), |p, g| {
                cdpo_loss(p, 0.2, eps, g).unwrap().loss
            });
            let (l0, _) = at_margin(0.0, |p, g| cdpo_loss(p, 0.2, eps, g).unwrap().loss);
            assert!((l0 - core::f64::consts::LN_2).abs() < 1e-12);
        }
        let eps: f64 = 0.2;
        let h_star = ((1.0 - eps) / eps).ln() / 0.7;
        let (_, g) = at_margin(h_star, |p, g| cdpo_loss(p, 0.7, eps, g).unwrap().loss);
        assert!(g.abs() < 1e-15);
        // ε = 0 is DPO.
        let a = at_margin(1.3, |p, g| cdpo_loss(p, 0.7, 0.0, g).unwrap().loss);
        let b = at_margin(1.3, |p, g| dpo_loss(p, 0.7, g).unwrap().loss);
        assert_eq!(a, b);
        for bad in [-0.1, 0.51, f64::NAN] {
            let r = at_margin(0.0, |p, g| {
                cdpo_loss(p, 0.7, bad, g).map_or(f64::NAN, |o| o.loss)
            });
            assert!(r.0.is_nan(), "{bad}");
        }
    }
}
