//! Hinge preference loss, SLiC (Zhao et al. 2023, "SLiC-HF: Sequence Likelihood Calibration
//! with Human Feedback"; TRL `loss_type="hinge"`).
//!
//! ```text
//! L = max(0, 1 − βh),   ∂L/∂h = −β if βh < 1, else 0
//! ```
//! Zero loss and zero gradient once `βh ≥ 1`.
//!
//! ```
//! use spar_losses::hinge::hinge_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[20.0], rejected: &[0.0], ref_chosen: &[0.0], ref_rejected: &[0.0] };
//! let (mut gw, mut gl) = ([1.0], [1.0]);
//! let out = hinge_loss(&pairs, 0.1, &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert_eq!((out.loss, gw[0], gl[0]), (0.0, 0.0, 0.0));
//! ```

use crate::error::LossError;
use crate::preference::{
    check_beta, check_pairs, margin_loss, PairGrads, PairLogprobs, PreferenceOutput,
};

/// Hinge loss (mean over pairs).
pub fn hinge_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    Ok(margin_loss(pairs, beta, grads, |_, h| {
        let z = beta * h;
        if z < 1.0 {
            (1.0 - z, -beta)
        } else {
            (0.0, 0.0)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preference::test_support::{at_margin, check_pair_grad, random_pairs};
    use crate::testutil::Rng;

    #[test]
    fn properties() {
        let mut rng = Rng::new(15);
        check_pair_grad(&random_pairs(&mut rng, 6), |p, g| {
            hinge_loss(p, 0.05, g).unwrap().loss
        });
        assert_eq!(
            at_margin(10.0, |p, g| hinge_loss(p, 0.1, g).unwrap().loss),
            (0.0, 0.0)
        );
        assert_eq!(
            at_margin(12.0, |p, g| hinge_loss(p, 0.1, g).unwrap().loss),
            (0.0, 0.0)
        );
        let (l, g) = at_margin(5.0, |p, g| hinge_loss(p, 0.1, g).unwrap().loss);
        assert!((l - 0.5).abs() < 1e-15 && (g + 0.1).abs() < 1e-15);
    }
}
