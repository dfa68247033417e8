//! Noise-contrastive losses: the binary logistic NCE loss and InfoNCE.
//!
//! **Logistic NCE** (Gutmann & Hyvärinen 2010; the contrastive loss of Contrastive UCB, Qiu et
//! al. 2022, §5.2 of the spec). With a positive score modelled as `f = e^z` (so `z = log f` is
//! the logit), positives `y = 1` and negatives `y = 0`:
//!
//! ```text
//! L = (1/n) Σ_i [ y_i · softplus(−z_i) + (1 − y_i) · softplus(z_i) ]
//!   = (1/n) Σ_i [ y_i · log(1 + 1/f_i) + (1 − y_i) · log(1 + f_i) ]
//! ∂L/∂z_i = (σ(z_i) − y_i) / n
//! ```
//! Its population minimiser is `f = P(s'|s,a)/P⁻(s')` when positives and negatives are balanced.
//!
//! **InfoNCE** (van den Oord et al. 2018, "Representation Learning with Contrastive Predictive
//! Coding"). Scores `S` row-major `rows × cols`, temperature `τ`, one positive column per row:
//!
//! ```text
//! L = (1/rows) Σ_i −log softmax(S[i,·]/τ)[pos_i]
//! ∂L/∂S[i,j] = (softmax(S[i,·]/τ)[j] − 1[j = pos_i]) / (τ · rows)
//! ```
//!
//! ```
//! use spar_losses::nce::{info_nce, logistic_nce};
//! let mut g = [0.0; 2];
//! let l = logistic_nce(&[0.0, 0.0], &[1.0, 0.0], &mut g).unwrap();
//! assert!((l - core::f64::consts::LN_2).abs() < 1e-12);
//! let mut gs = [0.0; 4];
//! let l = info_nce(&[1.0, 1.0, 1.0, 1.0], 2, 2, &[0, 1], 0.5, &mut gs).unwrap();
//! assert!((l - core::f64::consts::LN_2).abs() < 1e-12);
//! ```

use crate::error::{check_finite, check_len, LossError};
use crate::math::{sigmoid, softplus};

/// Binary logistic NCE loss, mean over the `n` examples; writes `∂L/∂logits` into `grad`.
///
/// `labels` are in `[0, 1]` (soft labels allowed). An empty input gives loss 0.
pub fn logistic_nce(logits: &[f64], labels: &[f64], grad: &mut [f64]) -> Result<f64, LossError> {
    let n = logits.len();
    check_len("labels", labels.len(), n)?;
    check_len("grad", grad.len(), n)?;
    check_finite("logits", logits)?;
    for (index, &y) in labels.iter().enumerate() {
        if !(0.0..=1.0).contains(&y) {
            return Err(if y.is_finite() {
                LossError::OutOfRange {
                    what: "labels",
                    value: y,
                }
            } else {
                LossError::NonFinite {
                    what: "labels",
                    index,
                }
            });
        }
    }
    if n == 0 {
        return Ok(0.0);
    }
    let inv_n = 1.0 / n as f64;
    let mut loss = 0.0;
    for ((g, &z), &y) in grad.iter_mut().zip(logits).zip(labels) {
        loss += y * softplus(-z) + (1.0 - y) * softplus(z);
        *g = (sigmoid(z) - y) * inv_n;
    }
    Ok(loss * inv_n)
}

/// InfoNCE with temperature, mean over rows; writes `∂L/∂scores` (row-major) into `grad`.
///
/// `positive[i]` is the column of row `i`'s positive. Zero rows give loss 0.
pub fn info_nce(
    scores: &[f64],
    rows: usize,
    cols: usize,
    positive: &[usize],
    temperature: f64,
    grad: &mut [f64],
) -> Result<f64, LossError> {
    let size = rows.checked_mul(cols).ok_or(LossError::Invalid {
        what: "rows * cols overflows",
    })?;
    check_len("scores", scores.len(), size)?;
    check_len("grad", grad.len(), size)?;
    check_len("positive", positive.len(), rows)?;
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(LossError::OutOfRange {
            what: "temperature",
            value: temperature,
        });
    }
    check_finite("scores", scores)?;
    if positive.iter().any(|&p| p >= cols) {
        return Err(LossError::Invalid {
            what: "positive index out of range",
        });
    }
    if rows == 0 {
        return Ok(0.0);
    }
    let inv_t = 1.0 / temperature;
    let scale = inv_t / rows as f64;
    let mut loss = 0.0;
    for ((row, grow), &pos) in scores
        .chunks_exact(cols)
        .zip(grad.chunks_exact_mut(cols))
        .zip(positive)
    {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max) * inv_t;
        let mut z = 0.0;
        for (g, &s) in grow.iter_mut().zip(row) {
            let e = libm::exp(s * inv_t - m);
            *g = e;
            z += e;
        }
        let log_z = m + libm::log(z);
        loss += log_z - row[pos] * inv_t;
        let inv_z = 1.0 / z;
        for g in grow.iter_mut() {
            *g *= inv_z * scale;
        }
        grow[pos] -= scale;
    }
    Ok(loss / rows as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_grad_close, central_diff};
    use proptest::prelude::*;

    #[test]
    fn logistic_nce_hand_values() {
        // z = ln 3 ⇒ σ = 3/4. y=1: softplus(−ln3) = ln(4/3); y=0: softplus(ln 3) = ln 4.
        let z = 3f64.ln();
        let mut g = [0.0; 2];
        let l = logistic_nce(&[z, z], &[1.0, 0.0], &mut g).unwrap();
        assert!((l - 0.5 * ((4.0f64 / 3.0).ln() + 4f64.ln())).abs() < 1e-12);
        // ∂/∂z = (σ − y)/n
        assert!((g[0] - (0.75 - 1.0) / 2.0).abs() < 1e-15);
        assert!((g[1] - 0.75 / 2.0).abs() < 1e-15);
    }

    #[test]
    fn logistic_nce_minimiser_is_log_density_ratio() {
        // Soft label q = P/(P+P⁻) (balanced); minimiser z* = log(q/(1−q)): gradient vanishes there.
        let q: f64 = 0.8;
        let z = (q / (1.0 - q)).ln();
        let mut g = [0.0];
        logistic_nce(&[z], &[q], &mut g).unwrap();
        assert!(g[0].abs() < 1e-15);
    }

    #[test]
    fn logistic_nce_stable_and_errors() {
        let mut g = [0.0; 2];
        let l = logistic_nce(&[1e4, -1e4], &[1.0, 0.0], &mut g).unwrap();
        assert!(l.abs() < 1e-300 && g.iter().all(|x| x.abs() < 1e-300));
        let l = logistic_nce(&[1e4, -1e4], &[0.0, 1.0], &mut g).unwrap();
        assert!((l - 1e4).abs() < 1e-9);
        assert!(logistic_nce(&[0.0], &[1.5], &mut [0.0]).is_err());
        assert!(logistic_nce(&[0.0], &[f64::NAN], &mut [0.0]).is_err());
        assert!(logistic_nce(&[f64::NAN], &[1.0], &mut [0.0]).is_err());
        assert!(logistic_nce(&[0.0, 1.0], &[1.0], &mut [0.0, 0.0]).is_err());
        assert!(logistic_nce(&[0.0], &[1.0], &mut [0.0, 0.0]).is_err());
        assert_eq!(logistic_nce(&[], &[], &mut []).unwrap(), 0.0);
    }

    #[test]
    fn info_nce_hand_values_and_errors() {
        // Row [0, ln 3] with τ=1, positive col 1: softmax = [1/4, 3/4], loss = ln(4/3).
        let s = [0.0, 3f64.ln()];
        let mut g = [0.0; 2];
        let l = info_nce(&s, 1, 2, &[1], 1.0, &mut g).unwrap();
        assert!((l - (4.0f64 / 3.0).ln()).abs() < 1e-12);
        assert!((g[0] - 0.25).abs() < 1e-15 && (g[1] + 0.25).abs() < 1e-15);
        assert!(info_nce(&s, 1, 2, &[2], 1.0, &mut g).is_err());
        assert!(info_nce(&s, 1, 2, &[1], 0.0, &mut g).is_err());
        assert!(info_nce(&s, 1, 2, &[1], f64::NAN, &mut g).is_err());
        assert!(info_nce(&s, 2, 2, &[1, 0], 1.0, &mut g).is_err());
        assert!(info_nce(&[f64::INFINITY, 0.0], 1, 2, &[1], 1.0, &mut g).is_err());
        assert_eq!(info_nce(&[], 0, 3, &[], 1.0, &mut []).unwrap(), 0.0);
        // Huge scores stay finite.
        let l = info_nce(&[1e4, -1e4], 1, 2, &[1], 0.1, &mut g).unwrap();
        assert!(l.is_finite() && (l - 2e5).abs() < 1e-6);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn logistic_nce_gradient_matches_finite_differences(
            zs in proptest::collection::vec(-8.0f64..8.0, 1..12),
            seed in any::<u64>(),
        ) {
            let labels: Vec<f64> = zs.iter().enumerate()
                .map(|(i, _)| ((seed >> (i % 64)) & 1) as f64 * 0.9 + 0.05).collect();
            let mut g = vec![0.0; zs.len()];
            logistic_nce(&zs, &labels, &mut g).unwrap();
            let num = central_diff(&zs, |z| {
                logistic_nce(z, &labels, &mut vec![0.0; z.len()]).unwrap()
            });
            assert_grad_close(&g, &num, 1e-7);
        }

        #[test]
        fn info_nce_gradient_matches_finite_differences(
            rows in 1usize..5, cols in 1usize..6,
            vals in proptest::collection::vec(-3.0f64..3.0, 30),
            tau in 0.1f64..2.0,
            pos_seed in any::<u64>(),
        ) {
            let s: Vec<f64> = vals[..rows * cols].to_vec();
            let pos: Vec<usize> = (0..rows).map(|i| ((pos_seed >> (4 * i)) as usize) % cols).collect();
            let mut g = vec![0.0; rows * cols];
            let l = info_nce(&s, rows, cols, &pos, tau, &mut g).unwrap();
            prop_assert!(l >= -1e-12);
            // Each row's gradient sums to zero (softmax minus one-hot).
            for row in g.chunks(cols) {
                prop_assert!(row.iter().sum::<f64>().abs() < 1e-12);
            }
            let num = central_diff(&s, |x| {
                info_nce(x, rows, cols, &pos, tau, &mut vec![0.0; x.len()]).unwrap()
            });
            assert_grad_close(&g, &num, 1e-7);
        }
    }
}
