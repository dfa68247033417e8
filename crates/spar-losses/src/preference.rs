//! Shared types of the preference losses: pairs of sequence log-probs, their gradients, and
//! the logging every preference loss returns.
//!
//! Per pair `k`: `πw = logπ_θ(y_w|x)`, `πl = logπ_θ(y_l|x)`, `rw`, `rl` the same under the
//! reference (sums or length means, see [`crate::sequence`]). The implicit-reward margin is
//! `h = (πw − rw) − (πl − rl)`. Every loss is the **mean over pairs** and returns
//! `∂L/∂πw` and `∂L/∂πl` (the reference gets no gradient); spread them over tokens with
//! [`crate::sequence::spread_sequence_grad`].

use crate::error::{check_finite, check_len, LossError};

/// Sequence log-probs of `n` preference pairs (all four slices have length `n`).
#[derive(Debug, Clone, Copy)]
pub struct PairLogprobs<'a> {
    /// `logπ_θ(y_w|x)` per pair.
    pub chosen: &'a [f64],
    /// `logπ_θ(y_l|x)` per pair.
    pub rejected: &'a [f64],
    /// `logπ_ref(y_w|x)` per pair.
    pub ref_chosen: &'a [f64],
    /// `logπ_ref(y_l|x)` per pair.
    pub ref_rejected: &'a [f64],
}

/// Output buffers for `∂L/∂chosen` and `∂L/∂rejected` (overwritten).
#[derive(Debug)]
pub struct PairGrads<'a> {
    /// `∂L/∂logπ_θ(y_w|x)` per pair.
    pub chosen: &'a mut [f64],
    /// `∂L/∂logπ_θ(y_l|x)` per pair.
    pub rejected: &'a mut [f64],
}

/// Loss and TRL-style logging of a preference loss (means over pairs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PreferenceOutput {
    /// The loss (mean over pairs).
    pub loss: f64,
    /// Mean implicit reward of the chosen responses, `β(πw − rw)`.
    pub chosen_reward: f64,
    /// Mean implicit reward of the rejected responses, `β(πl − rl)`.
    pub rejected_reward: f64,
    /// Fraction of pairs with `h > 0`.
    pub reward_accuracy: f64,
    /// Mean of `β h`.
    pub reward_margin: f64,
}

/// Validates a batch of pairs and the gradient buffers; returns the pair count.
pub(crate) fn check_pairs(
    pairs: &PairLogprobs<'_>,
    grads: &PairGrads<'_>,
) -> Result<usize, LossError> {
    let n = pairs.chosen.len();
    check_len("rejected", pairs.rejected.len(), n)?;
    check_len("ref_chosen", pairs.ref_chosen.len(), n)?;
    check_len("ref_rejected", pairs.ref_rejected.len(), n)?;
    check_len("grads.chosen", grads.chosen.len(), n)?;
    check_len("grads.rejected", grads.rejected.len(), n)?;
    check_finite("chosen", pairs.chosen)?;
    check_finite("rejected", pairs.rejected)?;
    check_finite("ref_chosen", pairs.ref_chosen)?;
    check_finite("ref_rejected", pairs.ref_rejected)?;
    Ok(n)
}

/// Checks `β > 0` (finite).
pub(crate) fn check_beta(what: &'static str, beta: f64) -> Result<(), LossError> {
    if beta.is_finite() && beta > 0.0 {
        Ok(())
    } else {
        Err(LossError::OutOfRange { what, value: beta })
    }
}

/// Runs a loss that depends on pair `k` only through its margin `h`: `f(k, h) = (l, ∂l/∂h)`.
/// Writes `∂L/∂πw = ∂l/∂h / n`, `∂L/∂πl = −∂l/∂h / n`. Inputs must be validated.
pub(crate) fn margin_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    grads: &mut PairGrads<'_>,
    mut f: impl FnMut(usize, f64) -> (f64, f64),
) -> PreferenceOutput {
    let n = pairs.chosen.len();
    let mut out = PreferenceOutput::default();
    if n == 0 {
        return out;
    }
    let inv_n = 1.0 / n as f64;
    for k in 0..n {
        let cw = pairs.chosen[k] - pairs.ref_chosen[k];
        let cl = pairs.rejected[k] - pairs.ref_rejected[k];
        let h = cw - cl;
        let (l, dl_dh) = f(k, h);
        out.loss += l;
        out.chosen_reward += beta * cw;
        out.rejected_reward += beta * cl;
        out.reward_margin += beta * h;
        if h > 0.0 {
            out.reward_accuracy += 1.0;
        }
        grads.chosen[k] = dl_dh * inv_n;
        grads.rejected[k] = -dl_dh * inv_n;
    }
    out.loss *= inv_n;
    out.chosen_reward *= inv_n;
    out.rejected_reward *= inv_n;
    out.reward_margin *= inv_n;
    out.reward_accuracy *= inv_n;
    out
}

/// Soft-label logistic loss on the scaled margin `z = βh`:
/// `l = −q logσ(z) − (1−q) logσ(−z)`, `∂l/∂h = β(σ(z) − q)`.
#[inline]
pub(crate) fn soft_logistic(h: f64, beta: f64, q: f64) -> (f64, f64) {
    use crate::math::{log_sigmoid, sigmoid};
    let z = beta * h;
    let l = -q * log_sigmoid(z) - (1.0 - q) * log_sigmoid(-z);
    (l, beta * (sigmoid(z) - q))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Shared checks for the preference losses.
    use super::*;
    use crate::testutil::{assert_grad_close, central_diff, Rng};
    use alloc::vec;
    use alloc::vec::Vec;

    /// Random pairs with log-probs in a realistic range.
    pub(crate) fn random_pairs(rng: &mut Rng, n: usize) -> [Vec<f64>; 4] {
        let mut v = || (0..n).map(|_| rng.range(-60.0, -5.0)).collect::<Vec<f64>>();
        [v(), v(), v(), v()]
    }

    /// Checks the gradient of `loss(pairs, grads)` w.r.t. chosen and rejected by central
    /// differences.
    pub(crate) fn check_pair_grad(
        p: &[Vec<f64>; 4],
        mut loss: impl FnMut(&PairLogprobs<'_>, &mut PairGrads<'_>) -> f64,
    ) {
        let n = p[0].len();
        let (mut gc, mut gr) = (vec![0.0; n], vec![0.0; n]);
        let pairs = PairLogprobs {
            chosen: &p[0],
            rejected: &p[1],
            ref_chosen: &p[2],
            ref_rejected: &p[3],
        };
        loss(
            &pairs,
            &mut PairGrads {
                chosen: &mut gc,
                rejected: &mut gr,
            },
        );
        let mut x = p[0].clone();
        x.extend_from_slice(&p[1]);
        let num = central_diff(&x, |x| {
            let pairs = PairLogprobs {
                chosen: &x[..n],
                rejected: &x[n..],
                ref_chosen: &p[2],
                ref_rejected: &p[3],
            };
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            loss(
                &pairs,
                &mut PairGrads {
                    chosen: &mut a,
                    rejected: &mut b,
                },
            )
        });
        gc.extend_from_slice(&gr);
        assert_grad_close(&gc, &num, 1e-6);
    }

    /// Evaluates a loss at one pair with margin `h` (chosen = h, others 0); returns (l, ∂/∂πw).
    pub(crate) fn at_margin(
        h: f64,
        mut loss: impl FnMut(&PairLogprobs<'_>, &mut PairGrads<'_>) -> f64,
    ) -> (f64, f64) {
        let (mut a, mut b) = ([0.0], [0.0]);
        let l = loss(
            &PairLogprobs {
                chosen: &[h],
                rejected: &[0.0],
                ref_chosen: &[0.0],
                ref_rejected: &[0.0],
            },
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
        );
        (l, a[0])
    }
}
