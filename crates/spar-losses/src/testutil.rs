//! Test helpers: central finite differences in f64.

use alloc::vec::Vec;

/// Central differences `(f(x + h e_i) − f(x − h e_i)) / 2h` for every coordinate.
pub(crate) fn central_diff(x: &[f64], mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let h = 1e-6 * x[i].abs().max(1.0);
        xp[i] = x[i] + h;
        let fp = f(&xp);
        xp[i] = x[i] - h;
        let fm = f(&xp);
        xp[i] = x[i];
        out.push((fp - fm) / (2.0 * h));
    }
    out
}

/// Asserts `|a − n| ≤ tol · max(1, |n|)` elementwise.
#[track_caller]
pub(crate) fn assert_grad_close(analytic: &[f64], numeric: &[f64], tol: f64) {
    assert_eq!(analytic.len(), numeric.len());
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= tol * n.abs().max(1.0),
            "gradient mismatch at {i}: analytic {a}, numeric {n}"
        );
    }
}
