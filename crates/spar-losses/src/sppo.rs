//! SPPO, Self-Play Preference Optimization (Wu et al. 2024; uclaml/SPPO `sppo/trainer.py`,
//! `scripts/compute_prob.py`).
//!
//! Per prompt, K responses from the current policy are scored (`s_i`), with pairwise win
//! probabilities `P[i][j] = σ(s_i − s_j)`; `y_w = argmax s`, `y_l = argmin s`, and the win
//! rates against the policy are `P̂_w = (1/K) Σ_j P[w][j]`, `P̂_l = (1/K) Σ_j P[l][j]`
//! (the sum includes `j = w`, with ½). With `η = 1/β`:
//!
//! ```text
//! L = ½ [ (πw − rw − η(P̂_w − ½))² + (πl − rl − η(P̂_l − ½))² ]
//! ∂L/∂πw = πw − rw − η(P̂_w − ½),   ∂L/∂πl = πl − rl − η(P̂_l − ½)
//! ```
//! `sppo_single` uses the one pairwise probability `p = P[w][l]`: targets `+η(p − ½)` for
//! y_w and `−η(p − ½)` for y_l. Sequence log-probs are **sums**. At `π_θ = π_ref` the gradient
//! is `−η(P̂ − ½)`; the loss is exactly 0 at log-ratio `η(P̂ − ½)`.
//!
//! ```
//! use spar_losses::sppo::sppo_loss;
//! use spar_losses::preference::{PairGrads, PairLogprobs};
//! let pairs = PairLogprobs { chosen: &[-5.0], rejected: &[-6.0], ref_chosen: &[-5.0], ref_rejected: &[-6.0] };
//! let (mut gw, mut gl) = ([0.0], [0.0]);
//! sppo_loss(&pairs, 0.01, &[0.7], &[0.3], &mut PairGrads { chosen: &mut gw, rejected: &mut gl }).unwrap();
//! assert!((gw[0] + 100.0 * 0.2).abs() < 1e-9 && (gl[0] - 100.0 * 0.2).abs() < 1e-9);
//! ```

use crate::error::{check_len, LossError};
use crate::math::sigmoid;
use crate::preference::{check_beta, check_pairs, PairGrads, PairLogprobs, PreferenceOutput};

fn check_probs(what: &'static str, p: &[f64], n: usize) -> Result<(), LossError> {
    check_len(what, p.len(), n)?;
    for (index, &v) in p.iter().enumerate() {
        if !v.is_finite() {
            return Err(LossError::NonFinite { what, index });
        }
        if !(0.0..=1.0).contains(&v) {
            return Err(LossError::OutOfRange { what, value: v });
        }
    }
    Ok(())
}

fn squared_targets(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    grads: &mut PairGrads<'_>,
    target: impl Fn(usize) -> (f64, f64),
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
        let (tw, tl) = target(k);
        let (dw, dl) = (cw - tw, cl - tl);
        out.loss += 0.5 * (dw * dw + dl * dl);
        grads.chosen[k] = dw * inv_n;
        grads.rejected[k] = dl * inv_n;
        out.chosen_reward += beta * cw;
        out.rejected_reward += beta * cl;
        out.reward_margin += beta * (cw - cl);
        if cw > cl {
            out.reward_accuracy += 1.0;
        }
    }
    out.loss *= inv_n;
    out.chosen_reward *= inv_n;
    out.rejected_reward *= inv_n;
    out.reward_margin *= inv_n;
    out.reward_accuracy *= inv_n;
    out
}

/// SPPO loss (`loss_type="sppo"`) with per-pair win rates `P̂_w`, `P̂_l` in `[0, 1]`.
pub fn sppo_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    win_rate_chosen: &[f64],
    win_rate_rejected: &[f64],
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    let n = check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    check_probs("win_rate_chosen", win_rate_chosen, n)?;
    check_probs("win_rate_rejected", win_rate_rejected, n)?;
    let eta = 1.0 / beta;
    Ok(squared_targets(pairs, beta, grads, |k| {
        (
            eta * (win_rate_chosen[k] - 0.5),
            eta * (win_rate_rejected[k] - 0.5),
        )
    }))
}

/// SPPO with the single pairwise probability `p = P[w][l]` (`loss_type="sppo_single"`).
pub fn sppo_single_loss(
    pairs: &PairLogprobs<'_>,
    beta: f64,
    prob_chosen_wins: &[f64],
    grads: &mut PairGrads<'_>,
) -> Result<PreferenceOutput, LossError> {
    let n = check_pairs(pairs, grads)?;
    check_beta("beta", beta)?;
    check_probs("prob_chosen_wins", prob_chosen_wins, n)?;
    let eta = 1.0 / beta;
    Ok(squared_targets(pairs, beta, grads, |k| {
        let t = eta * (prob_chosen_wins[k] - 0.5);
        (t, -t)
    }))
}

/// The pair SPPO builds from K scored responses of one prompt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SppoPair {
    /// Index of the best-scored response `y_w` (first on ties).
    pub chosen: usize,
    /// Index of the worst-scored response `y_l` (first on ties).
    pub rejected: usize,
    /// `P̂_w = (1/K) Σ_j σ(s_w − s_j)`.
    pub win_rate_chosen: f64,
    /// `P̂_l = (1/K) Σ_j σ(s_l − s_j)`.
    pub win_rate_rejected: f64,
    /// `P[w][l] = σ(s_w − s_l)`.
    pub prob_chosen_wins: f64,
}

/// Builds SPPO's pair and win rates from the scores of K ≥ 2 responses.
pub fn sppo_pair(scores: &[f64]) -> Result<SppoPair, LossError> {
    if scores.len() < 2 {
        return Err(LossError::Invalid {
            what: "sppo_pair needs at least two scores",
        });
    }
    crate::error::check_finite("scores", scores)?;
    let (mut w, mut l) = (0, 0);
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[w] {
            w = i;
        }
        if s < scores[l] {
            l = i;
        }
    }
    let k = scores.len() as f64;
    let rate = |i: usize| scores.iter().map(|&s| sigmoid(scores[i] - s)).sum::<f64>() / k;
    Ok(SppoPair {
        chosen: w,
        rejected: l,
        win_rate_chosen: rate(w),
        win_rate_rejected: rate(l),
        prob_chosen_wins: sigmoid(scores[w] - scores[l]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preference::test_support::{check_pair_grad, random_pairs};
    use crate::testutil::Rng;

    #[test]
    fn gradients_targets_and_pairing() {
        let mut rng = Rng::new(17);
        let p = random_pairs(&mut rng, 3);
        check_pair_grad(&p, |pp, g| {
            sppo_loss(pp, 0.1, &[0.6, 0.9, 0.2], &[0.1, 0.4, 0.5], g)
                .unwrap()
                .loss
        });
        check_pair_grad(&p, |pp, g| {
            sppo_single_loss(pp, 0.1, &[0.6, 0.9, 0.2], g).unwrap().loss
        });
        // Zero loss exactly at log-ratio = η(P̂ − ½).
        let (pw, pl, beta) = (0.75, 0.25, 0.01);
        let pairs = PairLogprobs {
            chosen: &[-5.0 + (pw - 0.5) / beta],
            rejected: &[-6.0 + (pl - 0.5) / beta],
            ref_chosen: &[-5.0],
            ref_rejected: &[-6.0],
        };
        let (mut a, mut b) = ([1.0], [1.0]);
        let out = sppo_loss(
            &pairs,
            beta,
            &[pw],
            &[pl],
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b,
            },
        )
        .unwrap();
        assert!(out.loss < 1e-20 && a[0].abs() < 1e-10 && b[0].abs() < 1e-10);
        // Win-rate construction.
        let sp = sppo_pair(&[0.0, 2.0, -1.0]).unwrap();
        assert_eq!((sp.chosen, sp.rejected), (1, 2));
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        assert!((sp.win_rate_chosen - (s(2.0) + 0.5 + s(3.0)) / 3.0).abs() < 1e-15);
        assert!((sp.win_rate_rejected - (s(-1.0) + s(-3.0) + 0.5) / 3.0).abs() < 1e-15);
        assert!((sp.prob_chosen_wins - s(3.0)).abs() < 1e-15);
        assert!(sppo_pair(&[1.0]).is_err() && sppo_pair(&[1.0, f64::NAN]).is_err());
        assert!(sppo_loss(
            &pairs,
            beta,
            &[1.5],
            &[pl],
            &mut PairGrads {
                chosen: &mut a,
                rejected: &mut b
            }
        )
        .is_err());
    }
}
