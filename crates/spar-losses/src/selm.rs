//! SELM, Self-Exploring Language Models (Zhang et al. 2024, "Self-Exploring Language Models:
//! Active Preference Elicitation for Online Alignment"; shenao-zhang/SELM
//! `optimistic_dpo_loss`).
//!
//! ```text
//! L = −logσ(βh) + α·β·( logπ_θ(y_ref|x) − logπ_ref(y_ref|x) )
//! ∂L/∂logπ_θ(y_ref|x) = αβ
//! ```
//! `y_ref` is a response the reference (previous-iteration) model generated for the prompt;
//! minimising the second term lowers its likelihood, pushing exploration toward unseen
//! responses. α = 0 is DPO. Zephyr recipe: β = 0.01, α = 0.001.
//!
//! ```
//! use spar_losses::selm::selm_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[-3.0], rejected: &[-3.0], ref_chosen: &[-3.0], ref_rejected: &[-3.0] };
//! let (mut gw, mut gl, mut gr) = ([0.0], [0.0], [0.0]);
//! selm_loss(&pairs, 0.1, 0.5, &[-7.0], &[-7.0], &mut PairGrads { chosen: &mut gw, rejected: &mut gl }, &mut gr).unwrap();
//! assert!((gr[0] - 0.05).abs() < 1e-15);
//! ```

use crate::error::{check_finite, check_len, check_range, LossError};
use crate::preference::{
    check_beta, check_pairs, margin_loss, soft_logistic, PairGrads, PairLogprobs, PreferenceOutput,
};

/// SELM loss (mean over pairs). `policy_ref_response` / `ref_ref_response` are
/// `logπ_θ(y_ref|x)` and `logπ_ref(y_ref|x)`; `grad_ref_response` receives
/// `∂L/∂logπ_θ(y_ref|x) = αβ/n`.
#[allow(clippy::too_many_arguments)]
pub fn selm_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    alpha: f64,
    policy_ref_response: &[f64],
    ref_ref_response: &[f64],
    grads: &mut PairGrads<'_>,
    grad_ref_response: &mut [f64],
) -> Result<PreferenceOutput, LossError> {
    let n = check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    check_range("alpha", alpha, 0.0, f64::MAX)?;
    check_len("policy_ref_response", policy_ref_response.len(), n)?;
    check_len("ref_ref_response", ref_ref_response.len(), n)?;
    check_len("grad_ref_response", grad_ref_response.len(), n)?;
    check_finite("policy_ref_response", policy_ref_response)?;
    check_finite("ref_ref_response", ref_ref_response)?;
    let mut out = margin_loss(pairs, beta, grads, |_, h| soft_logistic(h, beta, 1.0));
    if n == 0 {
        return Ok(out);
    }
    let inv_n = 1.0 / n as f64;
    for k in 0..n {
        out.loss += alpha * beta * (policy_ref_response[k] - ref_ref_response[k]) * inv_n;
        grad_ref_response[k] = alpha * beta * inv_n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpo::dpo_loss;
    use crate::preference::test_support::{check_pair_grad, random_pairs};
    use crate::testutil::{central_diff, Rng};
    use alloc::vec;

    #[test]
    fn properties() {
        let mut rng = Rng::new(19);
        let p = random_pairs(&mut rng, 3);
        let yr = [-20.0, -30.0, -25.0];
        let rr = [-21.0, -29.0, -25.5];
        check_pair_grad(&p, |pp, g| {
            selm_loss(pp, 0.1, 0.3, &yr, &rr, g, &mut [0.0; 3])
                .unwrap()
                .loss
        });
        // ∂L/∂logπ_θ(y_ref) by finite differences.
        let mut gr = [0.0; 3];
        let pairs = PairLogprobs {
            chosen: &p[0],
            rejected: &p[1],
            ref_chosen: &p[2],
            ref_rejected: &p[3],
        };
        let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
        selm_loss(
            &pairs,
            0.1,
            0.3,
            &yr,
            &rr,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
            &mut gr,
        )
        .unwrap();
        let num = central_diff(&yr, |y| {
            selm_loss(
                &pairs,
                0.1,
                0.3,
                y,
                &rr,
                &mut PairGrads {
                    chosen: &mut a.clone(),
                    rejected: &mut b.clone(),
                },
                &mut [0.0; 3],
            )
            .unwrap()
            .loss
        });
        for (x, y) in gr.iter().zip(&num) {
            assert!((x - y).abs() < 1e-8 && *x > 0.0);
        }
        // α = 0 is DPO.
        let s = selm_loss(
            &pairs,
            0.1,
            0.0,
            &yr,
            &rr,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
            &mut gr,
        )
        .unwrap();
        let d = dpo_loss(
            &pairs,
            0.1,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
        )
        .unwrap();
        assert_eq!(s, d);
        assert!(selm_loss(
            &pairs,
            0.1,
            -1.0,
            &yr,
            &rr,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            },
            &mut gr
        )
        .is_err());
        assert!(selm_loss(
            &pairs,
            0.1,
            0.1,
            &yr[..2],
            &rr,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            },
            &mut gr
        )
        .is_err());
    }
}
