//! Cholesky factorisation `A = L Lᵀ` of a small dense symmetric positive definite matrix, and
//! the inverse computed from it. Used as the numerically safe fallback for the Sherman–Morrison
//! updates of [`crate::gram::Gram`].

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{check_dim, check_finite, CucbError};

/// Lower-triangular `L` (row-major `d × d`) with `A = L Lᵀ`.
///
/// `a` is row-major `d × d`; only its lower triangle is read. A non-positive pivot (the matrix
/// is not positive definite, up to rounding) gives [`CucbError::NotPositiveDefinite`].
pub fn cholesky(a: &[f64], d: usize) -> Result<Vec<f64>, CucbError> {
    check_dim("matrix", d * d, a.len())?;
    check_finite("matrix", a)?;
    let mut l = vec![0.0; d * d]; // (d, d)
    for i in 0..d {
        for j in 0..=i {
            let mut sum = a[i * d + j];
            for k in 0..j {
                sum -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return Err(CucbError::NotPositiveDefinite);
                }
                l[i * d + i] = libm::sqrt(sum);
            } else {
                l[i * d + j] = sum / l[j * d + j];
            }
        }
    }
    Ok(l)
}

/// `A⁻¹` (row-major `d × d`, exactly symmetric) of a symmetric positive definite `A`, by
/// Cholesky: solve `L Lᵀ x = e_j` for every unit vector.
pub fn spd_inverse(a: &[f64], d: usize) -> Result<Vec<f64>, CucbError> {
    let l = cholesky(a, d)?;
    let mut inv = vec![0.0; d * d]; // (d, d)
    let mut col = vec![0.0; d]; // (d,)
    for j in 0..d {
        // Forward substitution L y = e_j.
        for i in 0..d {
            let mut sum = if i == j { 1.0 } else { 0.0 };
            for k in 0..i {
                sum -= l[i * d + k] * col[k];
            }
            col[i] = sum / l[i * d + i];
        }
        // Back substitution Lᵀ x = y.
        for i in (0..d).rev() {
            let mut sum = col[i];
            for k in i + 1..d {
                sum -= l[k * d + i] * col[k];
            }
            col[i] = sum / l[i * d + i];
        }
        for i in 0..d {
            inv[i * d + j] = col[i];
        }
    }
    // Symmetrise: the two triangles differ only by rounding.
    for i in 0..d {
        for j in 0..i {
            let m = 0.5 * (inv[i * d + j] + inv[j * d + i]);
            inv[i * d + j] = m;
            inv[j * d + i] = m;
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_hand_matrix() {
        // A = [[4, 2], [2, 3]], det = 8, A⁻¹ = [[3, −2], [−2, 4]] / 8.
        let inv = spd_inverse(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        let want = [0.375, -0.25, -0.25, 0.5];
        for (a, b) in inv.iter().zip(want) {
            assert!((a - b).abs() < 1e-14);
        }
    }

    #[test]
    fn indefinite_and_bad_sizes_are_errors() {
        assert_eq!(
            cholesky(&[1.0, 2.0, 2.0, 1.0], 2),
            Err(CucbError::NotPositiveDefinite)
        );
        assert!(matches!(
            cholesky(&[1.0, 0.0, 0.0], 2),
            Err(CucbError::DimensionMismatch { .. })
        ));
    }
}
