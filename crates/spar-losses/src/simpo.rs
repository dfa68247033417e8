//! SimPO, reference-free length-normalised preference loss (Meng et al. 2024, "SimPO: Simple
//! Preference Optimization with a Reference-Free Reward"; princeton-nlp/SimPO trainer).
//!
//! Inputs are **average** per-token log-probs `a_w = πw/|y_w|`, `a_l = πl/|y_l|` (build them
//! with [`crate::sequence::SeqReduction::Mean`]); no reference model.
//!
//! ```text
//! z = β · ((a_w − a_l) − γ/β)                        (code: gamma_beta_ratio = γ/β)
//! L = −(1−ε) logσ(z) − ε logσ(−z)
//! ∂L/∂a_w = β(σ(z) − (1−ε)) = −∂L/∂a_l
//! ```
//! Defaults: β = 2.0, γ/β = 0.25, ε = 0. At `a_w = a_l`, `L = log(1 + e^γ)` (≈ 0.9741 with the
//! defaults).
//!
//! ```
//! use spar_losses::simpo::{simpo_loss, SimpoConfig};
//! use spar_losses::preference::PairGrads;
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! let out = simpo_loss(&[-1.0], &[-1.0], &SimpoConfig::default(),
//!     &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!((out.loss - (1.0 + 0.5f64.exp()).ln()).abs() < 1e-12);
//! assert!(gw[0] < 0.0); // descent raises the chosen average log-prob
//! ```

use crate::error::{check_finite, check_len, check_range, LossError};
use crate::preference::{check_beta, soft_logistic, PairGrads, PreferenceOutput};

/// SimPO hyper-parameters (names as in the SimPO code).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimpoConfig {
    /// Reward scale `β > 0`. Default 2.0.
    pub beta: f64,
    /// Target margin over β, `γ/β`. Default 0.25.
    pub gamma_beta_ratio: f64,
    /// Label smoothing ε in `[0, 0.5]`. Default 0.
    pub label_smoothing: f64,
}

impl Default for SimpoConfig {
    fn default() -> Self {
        Self {
            beta: 2.0,
            gamma_beta_ratio: 0.25,
            label_smoothing: 0.0,
        }
    }
}

/// SimPO loss (mean over pairs) on average log-probs; writes `∂L/∂a_w`, `∂L/∂a_l`.
///
/// The logged implicit rewards are `β·a_w`, `β·a_l`.
pub fn simpo_loss(
    chosen_avg_logprobs: &[f64],
    rejected_avg_logprobs: &[f64],
    config: &SimpoConfig,
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    let n = chosen_avg_logprobs.len();
    check_len("rejected_avg_logprobs", rejected_avg_logprobs.len(), n)?;
    check_len("grads.chosen", grads.chosen.len(), n)?;
    check_len("grads.rejected", grads.rejected.len(), n)?;
    check_finite("chosen_avg_logprobs", chosen_avg_logprobs)?;
    check_finite("rejected_avg_logprobs", rejected_avg_logprobs)?;
    check_beta("beta", config.beta)?;
    check_range(
        "gamma_beta_ratio",
        config.gamma_beta_ratio,
        f64::MIN,
        f64::MAX,
    )?;
    check_range("label_smoothing", config.label_smoothing, 0.0, 0.5)?;
    let mut out = PreferenceOutput::default();
    if n == 0 {
        return Ok(out);
    }
    let beta = config.beta;
    let q = 1.0 - config.label_smoothing;
    let inv_n = 1.0 / n as f64;
    for k in 0..n {
        let d = chosen_avg_logprobs[k] - rejected_avg_logprobs[k];
        let (l, dl) = soft_logistic(d - config.gamma_beta_ratio, beta, q);
        out.loss += l;
        out.chosen_reward += beta * chosen_avg_logprobs[k];
        out.rejected_reward += beta * rejected_avg_logprobs[k];
        out.reward_margin += beta * d;
        if d > 0.0 {
            out.reward_accuracy += 1.0;
        }
        grads.chosen[k] = dl * inv_n;
        grads.rejected[k] = -dl * inv_n;
    }
    out.loss *= inv_n;
    out.chosen_reward *= inv_n;
    out.rejected_reward *= inv_n;
    out.reward_margin *= inv_n;
    out.reward_accuracy *= inv_n;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_grad_close, central_diff, Rng};
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn properties() {
        let cfg = SimpoConfig {
            label_smoothing: 0.1,
            ..SimpoConfig::default()
        };
        let mut rng = Rng::new(16);
        let x: Vec<f64> = (0..8).map(|_| rng.range(-3.0, -0.1)).collect();
        let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
        simpo_loss(
            &x[..4],
            &x[4..],
            &cfg,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
        )
        .unwrap();
        let num = central_diff(&x, |x| {
            let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
            simpo_loss(
                &x[..4],
                &x[4..],
                &cfg,
                &mut PairGrads {
                    chosen: &mut a,
                    rejected: &mut b,
                },
            )
            .unwrap()
            .loss
        });
        a.extend_from_slice(&b);
        assert_grad_close(&a, &num, 1e-7);
        // Equal averages: log(1+e^γ), γ = β·(γ/β) = 0.5; ≈ 0.9741.
        let (mut a, mut b) = ([0.0], [0.0]);
        let out = simpo_loss(
            &[-2.0],
            &[-2.0],
            &SimpoConfig::default(),
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
        )
        .unwrap();
        assert!((out.loss - 0.974_076_984_180_107_4).abs() < 1e-12);
        // Gradient pushes a_w up until the margin exceeds γ/β by far.
        let out = simpo_loss(
            &[-0.1],
            &[-50.0],
            &SimpoConfig::default(),
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
        )
        .unwrap();
        assert!(out.loss < 1e-30 && a[0].abs() < 1e-30);
        let bad = SimpoConfig {
            beta: -1.0,
            ..SimpoConfig::default()
        };
        assert!(simpo_loss(
            &[-2.0],
            &[-2.0],
            &bad,
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            }
        )
        .is_err());
        assert!(simpo_loss(
            &[-2.0],
            &[],
            &SimpoConfig::default(),
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            }
        )
        .is_err());
    }
}
