//! DPO, the sigmoid preference loss (Rafailov et al. 2023, "Direct Preference Optimization:
//! Your Language Model is Secretly a Reward Model"; TRL `loss_type="sigmoid"`).
//!
//! ```text
//! h = (πw − rw) − (πl − rl)
//! L = −logσ(β h)                       (mean over pairs; TRL default β = 0.1)
//! ∂L/∂πw = −β σ(−βh),  ∂L/∂πl = +β σ(−βh)
//! ```
//! At `h = 0`, `L = ln 2`.
//!
//! ```
//! use spar_losses::dpo::dpo_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[-10.0], rejected: &[-12.0], ref_chosen: &[-10.0], ref_rejected: &[-12.0] };
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! let out = dpo_loss(&pairs, 0.1, &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!((out.loss - core::f64::consts::LN_2).abs() < 1e-12);
//! assert!((gw[0] + 0.05).abs() < 1e-12 && (gl[0] - 0.05).abs() < 1e-12);
//! ```

use crate::error::LossError;
use crate::preference::{
    check_beta, check_pairs, margin_loss, soft_logistic, PairGrads, PairLogprobs, PreferenceOutput,
};

/// DPO loss (mean over pairs); writes `∂L/∂chosen`, `∂L/∂rejected`.
pub fn dpo_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    Ok(margin_loss(pairs, beta, grads, |_, h| {
        soft_logistic(h, beta, 1.0)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preference::test_support::{at_margin, check_pair_grad, random_pairs};
    use crate::testutil::Rng;
    use proptest::prelude::*;

    fn l(p: &PairLogprobs<'_>, g: &mut PairGrads<'_>) -> f64 {
        dpo_loss(p, 0.3, g).unwrap().loss
    }

    #[test]
    fn gradient_and_limits() {
        let mut rng = Rng::new(11);
        for _ in 0..10 {
            check_pair_grad(&random_pairs(&mut rng, 5), l);
        }
        // ∂L/∂πw = −β σ(−βh) < 0.
        let (_, g) = at_margin(2.0, l);
        assert!((g + 0.3 / (1.0 + (0.6f64).exp())).abs() < 1e-15);
        assert!(at_margin(1e4, l).0 < 1e-300);
        let (lv, gv) = at_margin(-1e4, l);
        assert!((lv - 3000.0).abs() < 1e-9 && (gv + 0.3).abs() < 1e-15);
        let p = PairLogprobs {
            chosen: &[0.0],
            rejected: &[0.0],
            ref_chosen: &[0.0],
            ref_rejected: &[0.0],
        };
        let (mut a, mut b) = ([0.0], [0.0]);
        assert!(dpo_loss(
            &p,
            0.0,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            }
        )
        .is_err());
        let bad = PairLogprobs {
            chosen: &[f64::NAN],
            ..p
        };
        assert!(dpo_loss(
            &bad,
            0.1,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            }
        )
        .is_err());
        let short = PairLogprobs { rejected: &[], ..p };
        assert!(dpo_loss(
            &short,
            0.1,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            }
        )
        .is_err());
        // No pairs: zero loss.
        let e = PairLogprobs {
            chosen: &[],
            rejected: &[],
            ref_chosen: &[],
            ref_rejected: &[],
        };
        let out = dpo_loss(
            &e,
            0.1,
            &mut PairGrads {
                chosen: &mut [],
                rejected: &mut [],
            },
        )
        .unwrap();
        assert_eq!(out.loss, 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn zero_margin_is_ln2(c in -1e4f64..0.0, r in -1e4f64..0.0, beta in 0.01f64..5.0) {
            // chosen − ref_chosen = rejected − ref_rejected ⇒ h = 0.
            let p = PairLogprobs { chosen: &[c], rejected: &[r], ref_chosen: &[c], ref_rejected: &[r] };
            let (mut a, mut b) = ([0.0], [0.0]);
            let out = dpo_loss(&p, beta, &mut PairGrads { chosen: &mut a, rejected: &mut b }).unwrap();
            prop_assert!((out.loss - core::f64::consts::LN_2).abs() < 1e-12);
            prop_assert!((a[0] + beta / 2.0).abs() < 1e-12);
        }

        #[test]
        fn finite_for_extreme_logprobs(v in proptest::collection::vec(-1e4f64..0.0, 4), beta in 0.01f64..5.0) {
            let p = PairLogprobs { chosen: &v[0..1], rejected: &v[1..2], ref_chosen: &v[2..3], ref_rejected: &v[3..4] };
            let (mut a, mut b) = ([0.0], [0.0]);
            let out = dpo_loss(&p, beta, &mut PairGrads { chosen: &mut a, rejected: &mut b }).unwrap();
            prop_assert!(out.loss.is_finite() && a[0].is_finite() && b[0].is_finite());
        }
    }
}
