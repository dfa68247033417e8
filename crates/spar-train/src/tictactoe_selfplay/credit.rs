//! The all-squares solver credit of [`SolverCreditMode::Expected`] and
//! [`SolverCreditMode::Imitate`]: the weights each legal square's log-probability gets.

use super::SolverCreditMode;
use alloc::vec::Vec;

/// The credit term's derivatives with respect to the legal logits, from each empty square's
/// `(token, q(a), Q*(a))`: `q(a) (Q*(a) − Σ_b q(b) Q*(b))` for [`SolverCreditMode::Expected`]
/// (the gradient of `Σ_a q(a) Q*(a)`), `1[a optimal] q(a) / Σ_{b optimal} q(b) − q(a)` for
/// [`SolverCreditMode::Imitate`] (the gradient of `log Σ_{a optimal} q(a)`). Both sum to 0.
/// Also returns the term's value (`Σ_a q(a) Q*(a)`, or `log Σ_{a optimal} q(a)`).
pub(super) fn all_moves_weights(
    qs: &[(u32, f64, f64)],
    mode: SolverCreditMode,
) -> (Vec<(u32, f64)>, f64) {
    let mean: f64 = qs.iter().map(|&(_, q, v)| q * v).sum();
    let best = qs.iter().map(|x| x.2).fold(f64::NEG_INFINITY, f64::max);
    let q_opt: f64 = qs.iter().filter(|x| x.2 == best).map(|x| x.1).sum();
    let value = match mode {
        SolverCreditMode::Imitate => libm::log(q_opt.max(1e-300)),
        _ => mean,
    };
    let w = qs
        .iter()
        .map(|&(c, q, v)| match mode {
            SolverCreditMode::Imitate if q_opt > 0.0 => {
                (c, if v == best { q / q_opt } else { 0.0 } - q)
            }
            SolverCreditMode::Imitate => (c, 0.0),
            _ => (c, q * (v - mean)),
        })
        .collect();
    (w, value)
}

#[cfg(test)]
mod tests {
    use super::{all_moves_weights, SolverCreditMode};
    use alloc::vec::Vec;

    /// The restricted softmax of `z` and the credit term's value at `z`.
    fn term(z: &[f64], v: &[f64], mode: SolverCreditMode) -> f64 {
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|&x| libm::exp(x - m)).collect();
        let s: f64 = e.iter().sum();
        let qs: Vec<(u32, f64, f64)> = (0..z.len()).map(|i| (i as u32, e[i] / s, v[i])).collect();
        all_moves_weights(&qs, mode).1
    }

    /// Both all-squares credits' weights are the derivatives of their term with respect to
    /// the legal logits (central differences), and sum to 0.
    #[test]
    fn all_squares_credit_weights_are_the_terms_gradient() {
        let z = [0.3, -1.2, 0.8, 0.05, -0.4];
        let v = [0.0, -1.0, -1.0, 0.0, 1.0];
        for mode in [SolverCreditMode::Expected, SolverCreditMode::Imitate] {
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|&x| libm::exp(x - m)).collect();
            let s: f64 = e.iter().sum();
            let qs: Vec<(u32, f64, f64)> =
                (0..z.len()).map(|i| (i as u32, e[i] / s, v[i])).collect();
            let (w, _) = all_moves_weights(&qs, mode);
            let sum: f64 = w.iter().map(|x| x.1).sum();
            assert!(sum.abs() < 1e-12, "{mode:?}: weights sum to {sum}");
            for i in 0..z.len() {
                let h = 1e-6;
                let (mut up, mut down) = (z, z);
                up[i] += h;
                down[i] -= h;
                let fd = (term(&up, &v, mode) - term(&down, &v, mode)) / (2.0 * h);
                assert!(
                    (fd - w[i].1).abs() < 1e-7,
                    "{mode:?} square {i}: {fd} vs {}",
                    w[i].1
                );
            }
        }
    }
}
