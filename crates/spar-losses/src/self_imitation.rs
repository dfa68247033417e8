//! Self-imitation replay with advantage recalibration (SPEAR, 2025, "Self-imitation with
//! Progressive Exploration for Agentic Reinforcement Learning"; building on Oh et al. 2018,
//! "Self-Imitation Learning").
//!
//! Buffered trajectories keep their reward `R_j`, but their stored advantages go stale; each
//! step they are recalibrated against the *current* baseline, a percentile of recent rewards:
//!
//! ```text
//! b_now = percentile_q(recent rewards)        (q = 0.5: the median; linear interpolation)
//! Â_j   = R_j − b_now,   kept iff Â_j > 0     (others get Â = 0 and weight 0)
//! ```
//! The kept items and their advantages feed the clipped policy loss
//! ([`crate::ppo_clip::policy_loss`] with `Advantages::PerSequence`) as a self-imitation term.
//!
//! ```
//! use spar_losses::self_imitation::recalibrate_advantages;
//! let mut adv = [0.0; 3];
//! let mut keep = [false; 3];
//! let b = recalibrate_advantages(&[1.0, 0.2, 0.6], &[0.0, 0.5, 1.0], 0.5, &mut adv, &mut keep).unwrap();
//! assert_eq!(b, 0.5);
//! assert_eq!(keep, [true, false, true]);
//! ```

use alloc::vec::Vec;

use crate::error::{check_finite, check_len, check_range, LossError};

/// The `q`-quantile of `values` with linear interpolation (numpy's default).
pub fn percentile(values: &[f64], q: f64) -> Result<f64, LossError> {
    check_range("q", q, 0.0, 1.0)?;
    check_finite("values", values)?;
    if values.is_empty() {
        return Err(LossError::Invalid {
            what: "percentile of no values",
        });
    }
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let pos = q * (v.len() - 1) as f64;
    let lo = libm::floor(pos) as usize;
    let hi = (lo + 1).min(v.len() - 1);
    Ok(v[lo] + (pos - lo as f64) * (v[hi] - v[lo]))
}

/// Recalibrates buffered advantages against the `q`-percentile of `recent_rewards`; writes
/// `Â` (0 where dropped) and the keep flags; returns the baseline.
pub fn recalibrate_advantages(
    buffer_rewards: &[f64],
    recent_rewards: &[f64],
    q: f64,
    advantages: &mut [f64],
    keep: &mut [bool],
) -> Result<f64, LossError> {
    check_finite("buffer_rewards", buffer_rewards)?;
    check_len("advantages", advantages.len(), buffer_rewards.len())?;
    check_len("keep", keep.len(), buffer_rewards.len())?;
    let b = percentile(recent_rewards, q)?;
    for ((a, k), &r) in advantages
        .iter_mut()
        .zip(keep.iter_mut())
        .zip(buffer_rewards)
    {
        let adv = r - b;
        *k = adv > 0.0;
        *a = if *k { adv } else { 0.0 };
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_and_recalibration() {
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.5).unwrap(), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5).unwrap(), 2.5);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 1.0).unwrap(), 4.0);
        assert!((percentile(&[0.0, 10.0], 0.25).unwrap() - 2.5).abs() < 1e-15);
        assert!(percentile(&[], 0.5).is_err() && percentile(&[1.0], 1.5).is_err());
        // As the policy improves (recent rewards rise) stale positives drop out.
        let buf = [0.4, 0.7, 0.9];
        let (mut a, mut k) = ([0.0; 3], [false; 3]);
        recalibrate_advantages(&buf, &[0.1, 0.2, 0.3], 0.5, &mut a, &mut k).unwrap();
        assert_eq!(k, [true; 3]);
        assert!((a[0] - 0.2).abs() < 1e-15);
        recalibrate_advantages(&buf, &[0.6, 0.8, 0.8], 0.5, &mut a, &mut k).unwrap();
        assert_eq!(k, [false, false, true]);
        assert_eq!(a[0], 0.0);
        assert!((a[2] - 0.1).abs() < 1e-12);
        assert!(
            recalibrate_advantages(&[f64::NAN], &[0.0], 0.5, &mut [0.0], &mut [false]).is_err()
        );
    }
}
