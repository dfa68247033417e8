//! Numerically stable scalar functions shared by the losses (all from `libm`, so they work
//! without `std`).

/// `softplus(x) = log(1 + e^x)`, computed without overflow for large `|x|`.
#[inline]
pub fn softplus(x: f64) -> f64 {
    // For x > 0, log(1+e^x) = x + log(1+e^{-x}); e^{-|x|} never overflows.
    if x > 0.0 {
        x + libm::log1p(libm::exp(-x))
    } else {
        libm::log1p(libm::exp(x))
    }
}

/// `log σ(x) = −softplus(−x)`.
#[inline]
pub fn log_sigmoid(x: f64) -> f64 {
    -softplus(-x)
}

/// The logistic function `σ(x) = 1/(1+e^{−x})`, stable for large `|x|`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::exp(-x))
    } else {
        let e = libm::exp(x);
        e / (1.0 + e)
    }
}

/// `log Σ_j e^{x_j}` with the maximum subtracted first; `−∞` for an empty slice.
pub fn logsumexp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    let s: f64 = xs.iter().map(|&x| libm::exp(x - m)).sum();
    m + libm::log(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_matches_naive_and_stays_finite() {
        for &x in &[-30.0, -2.0, 0.0, 0.5, 3.0, 30.0] {
            let naive = (1.0f64 + f64::exp(x)).ln();
            assert!((softplus(x) - naive).abs() < 1e-12, "{x}");
        }
        assert_eq!(softplus(1e4), 1e4);
        assert!(softplus(-1e4) >= 0.0 && softplus(-1e4) < 1e-300);
        assert!((log_sigmoid(0.0) + core::f64::consts::LN_2).abs() < 1e-15);
        assert!((sigmoid(-800.0)).abs() < 1e-300 && sigmoid(800.0) == 1.0);
    }

    #[test]
    fn logsumexp_is_shift_invariant() {
        let xs = [1000.0, 1001.0, 999.0];
        let ys = [0.0, 1.0, -1.0];
        assert!((logsumexp(&xs) - 1000.0 - logsumexp(&ys)).abs() < 1e-12);
        let direct = (1.0f64 + f64::exp(1.0) + f64::exp(-1.0)).ln();
        assert!((logsumexp(&ys) - direct).abs() < 1e-12);
    }
}
