//! IPO (Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from Human
//! Preferences"; TRL `loss_type="ipo"`).
//!
//! ```text
//! L = (h − 1/(2β))²,   ∂L/∂h = 2(h − 1/(2β))
//! ```
//! TRL feeds IPO **length-averaged** sequence log-probs: build the pairs with
//! [`crate::sequence::SeqReduction::Mean`] to match it, or `Sum` for the paper's form.
//! Minimiser `h* = 1/(2β)`; `L(0) = 1/(4β²)`.
//!
//! ```
//! use spar_losses::ipo::ipo_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[5.0], rejected: &[0.0], ref_chosen: &[0.0], ref_rejected: &[0.0] };
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! let out = ipo_loss(&pairs, 0.1, &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!(out.loss.abs() < 1e-24 && gw[0].abs() < 1e-12); // h = 5 = 1/(2·0.1)
//! ```

use crate::error::LossError;
use crate::preference::{
    check_beta, check_pairs, margin_loss, PairGrads, PairLogprobs, PreferenceOutput,
};

/// IPO loss (mean over pairs), `β = τ > 0`.
pub fn ipo_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    let target = 1.0 / (2.0 * beta);
    Ok(margin_loss(pairs, beta, grads, |_, h| {
        let d = h - target;
        (d * d, 2.0 * d)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preference::test_support::{at_margin, check_pair_grad, random_pairs};
    use crate::testutil::Rng;

    #[test]
    fn properties() {
        let mut rng = Rng::new(14);
        check_pair_grad(&random_pairs(&mut rng, 6), |p, g| {
            ipo_loss(p, 0.3, g).unwrap().loss
        });
        let (l0, _) = at_margin(0.0, |p, g| ipo_loss(p, 0.25, g).unwrap().loss);
        assert!((l0 - 4.0).abs() < 1e-12); // 1/(4β²) with β = ¼
        let (lm, gm) = at_margin(2.0, |p, g| ipo_loss(p, 0.25, g).unwrap().loss);
        assert!(lm.abs() < 1e-15 && gm.abs() < 1e-15);
        assert!(at_margin(-1e4, |p, g| ipo_loss(p, 0.25, g).unwrap().loss)
            .0
            .is_finite());
    }
}
