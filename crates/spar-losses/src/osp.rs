//! OSP soft-preference loss (Zhai et al. 2024, "Online Self-Preferring Language Models").
//!
//! The policy judges its own K responses, ranks and pairs them; each pair carries a
//! self-judged preference strength `q ∈ [0, 1]` (how it is produced is the caller's choice):
//!
//! ```text
//! L = −[ q logσ(βh) + (1 − q) logσ(−βh) ],   ∂L/∂h = β(σ(βh) − q)
//! ```
//! i.e. DPO with a per-pair soft label (cDPO with ε = 1 − q). Optimum `βh* = logit(q)`.
//!
//! ```
//! use spar_losses::osp::osp_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let h = (0.8f64 / 0.2).ln() / 0.1; // logit(0.8)/β
//! let pairs = PairLogprobs { chosen: &[h], rejected: &[0.0], ref_chosen: &[0.0], ref_rejected: &[0.0] };
//! let (mut gw, mut gl) = ([1.0], [1.0]);
//! osp_loss(&pairs, 0.1, &[0.8], &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!(gw[0].abs() < 1e-15);
//! ```

use crate::error::{check_len, LossError};
use crate::preference::{
    check_beta, check_pairs, margin_loss, soft_logistic, PairGrads, PairLogprobs, PreferenceOutput,
};

/// OSP loss (mean over pairs) with soft labels `q` in `[0, 1]`.
pub fn osp_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    soft_labels: &[f64],
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    let n = check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    check_len("soft_labels", soft_labels.len(), n)?;
    for (index, &q) in soft_labels.iter().enumerate() {
        if !q.is_finite() {
            return Err(LossError::NonFinite {
                what: "soft_labels",
                index,
            });
        }
        if !(0.0..=1.0).contains(&q) {
            return Err(LossError::OutOfRange {
                what: "soft_labels",
                value: q,
            });
        }
    }
    Ok(margin_loss(pairs, beta, grads, |k, h| {
        soft_logistic(h, beta, soft_labels[k])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdpo::cdpo_loss;
    use crate::preference::test_support::{at_margin, check_pair_grad, random_pairs};
    use crate::testutil::Rng;

    #[test]
    fn properties() {
        let mut rng = Rng::new(20);
        check_pair_grad(&random_pairs(&mut rng, 3), |p, g| {
            osp_loss(p, 0.2, &[0.9, 0.5, 0.0], g).unwrap().loss
        });
        // q = 1 − ε is cDPO.
        let a = at_margin(2.0, |p, g| osp_loss(p, 0.3, &[0.85], g).unwrap().loss);
        let b = at_margin(2.0, |p, g| cdpo_loss(p, 0.3, 0.15, g).unwrap().loss);
        assert!((a.0 - b.0).abs() < 1e-15 && (a.1 - b.1).abs() < 1e-15);
        let (l, _) = at_margin(0.0, |p, g| {
            osp_loss(p, 0.3, &[1.2], g).map_or(f64::NAN, |o| o.loss)
        });
        assert!(l.is_nan());
    }
}
