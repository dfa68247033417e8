//! The unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models Trained
//! on Code"; human-eval `estimate_pass_at_k`).
//!
//! For a problem with `n` samples of which `c` are correct:
//!
//! ```text
//! pass@k = 1 − C(n−c, k)/C(n, k) = 1 − Π_{i=n−c+1}^{n} (1 − k/i)     if n − c ≥ k
//!        = 1                                                          if n − c < k
//! ```
//! computed as the product in f64 (stable; never factorials). Requires `1 ≤ k ≤ n`, `c ≤ n`.
//!
//! ```
//! use spar_losses::pass_at_k::pass_at_k;
//! assert!((pass_at_k(10, 3, 1).unwrap() - 0.3).abs() < 1e-15);
//! assert_eq!(pass_at_k(10, 1, 10).unwrap(), 1.0);
//! ```

use crate::error::LossError;

/// Unbiased pass@k for one problem.
pub fn pass_at_k(n: usize, c: usize, k: usize) -> Result<f64, LossError> {
    if k == 0 || k > n {
        return Err(LossError::Invalid {
            what: "pass@k needs 1 <= k <= n",
        });
    }
    if c > n {
        return Err(LossError::Invalid {
            what: "pass@k needs c <= n",
        });
    }
    if n - c < k {
        return Ok(1.0);
    }
    let mut prod = 1.0;
    for i in (n - c + 1)..=n {
        prod *= 1.0 - k as f64 / i as f64;
    }
    Ok(1.0 - prod)
}

/// Mean pass@k over problems given as `(n, c)` pairs; 0 for no problems.
pub fn mean_pass_at_k(problems: &[(usize, usize)], k: usize) -> Result<f64, LossError> {
    if problems.is_empty() {
        return Ok(0.0);
    }
    let mut sum = 0.0;
    for &(n, c) in problems {
        sum += pass_at_k(n, c, k)?;
    }
    Ok(sum / problems.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn binom(n: u128, k: u128) -> u128 {
        if k > n {
            return 0;
        }
        let mut r = 1u128;
        for i in 0..k {
            r = r * (n - i) / (i + 1);
        }
        r
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn matches_exact_binomial_and_is_monotone(n in 1usize..40, c_seed in any::<usize>(), k_seed in any::<usize>()) {
            let c = c_seed % (n + 1);
            let k = 1 + k_seed % n;
            let exact = 1.0 - binom((n - c) as u128, k as u128) as f64 / binom(n as u128, k as u128) as f64;
            let est = pass_at_k(n, c, k).unwrap();
            prop_assert!((est - exact).abs() < 1e-12, "{} {} {}: {} vs {}", n, c, k, est, exact);
            prop_assert!((pass_at_k(n, c, 1).unwrap() - c as f64 / n as f64).abs() < 1e-12);
            if k < n {
                prop_assert!(pass_at_k(n, c, k + 1).unwrap() >= est - 1e-15);
            }
            if c == 0 { prop_assert_eq!(est, 0.0); }
            if c >= 1 { prop_assert_eq!(pass_at_k(n, c, n).unwrap(), 1.0); }
        }
    }

    #[test]
    fn large_n_stable_and_errors() {
        let p = pass_at_k(1024, 3, 256).unwrap();
        let exact = 1.0 - (768.0 * 767.0 * 766.0) / (1024.0 * 1023.0 * 1022.0);
        assert!((p - exact).abs() < 1e-12);
        assert!(
            pass_at_k(5, 1, 0).is_err()
                && pass_at_k(5, 1, 6).is_err()
                && pass_at_k(5, 6, 1).is_err()
        );
        assert!((mean_pass_at_k(&[(4, 1), (4, 3)], 1).unwrap() - 0.5).abs() < 1e-15);
        assert!(mean_pass_at_k(&[(4, 1), (4, 5)], 1).is_err());
    }
}
