//! README, "Property-test losses": the DPO loss's gradient is its finite difference for any
//! policy log-probs proptest draws.
use proptest::prelude::*;
use spar_losses::dpo::dpo_loss;
use spar_losses::preference::{PairGrads, PairLogprobs};

/// The DPO loss of one pair (reference log-probs −2) and `∂L/∂(chosen, rejected)`.
fn dpo(chosen: f64, rejected: f64) -> (f64, [f64; 2]) {
    let (c, r, reference) = ([chosen], [rejected], [-2.0]);
    let pairs = PairLogprobs {
        chosen: &c,
        rejected: &r,
        ref_chosen: &reference,
        ref_rejected: &reference,
    };
    let (mut gc, mut gr) = ([0.0], [0.0]);
    let grads = &mut PairGrads {
        chosen: &mut gc,
        rejected: &mut gr,
    };
    (dpo_loss(&pairs, 0.5, grads).unwrap().loss, [gc[0], gr[0]])
}

proptest! {
    #[test]
    fn the_dpo_gradient_is_the_finite_difference(c in -8.0f64..0.0, r in -8.0f64..0.0) {
        let (h, grad) = (1e-5, dpo(c, r).1);
        let d_chosen = (dpo(c + h, r).0 - dpo(c - h, r).0) / (2.0 * h);
        let d_rejected = (dpo(c, r + h).0 - dpo(c, r - h).0) / (2.0 * h);
        prop_assert!((grad[0] - d_chosen).abs() < 1e-6 && (grad[1] - d_rejected).abs() < 1e-6);
    }
}
