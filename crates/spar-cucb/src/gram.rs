//! The regularised Gram matrix `Λ = λI + Σ_τ φ_τ φ_τᵀ` of LSVI-UCB and its elliptical bonus.
//!
//! Contrastive UCB (Qiu et al., ICML 2022, §5.3 of the spec) and LSVI-UCB (Jin et al., COLT
//! 2020) explore with
//! ```text
//! b(s, a) = β · sqrt( φ(s,a)ᵀ Λ⁻¹ φ(s,a) )
//! ```
//! `Λ⁻¹` is kept in f64 and updated per rank-1 term with Sherman–Morrison,
//! ```text
//! (Λ + φφᵀ)⁻¹ = Λ⁻¹ − (Λ⁻¹φ)(Λ⁻¹φ)ᵀ / (1 + φᵀΛ⁻¹φ),
//! ```
//! and recomputed by Cholesky ([`crate::cholesky`]) whenever rounding makes the update
//! suspicious (a non-finite or negative quadratic form).

use alloc::vec;
use alloc::vec::Vec;

use crate::cholesky::spd_inverse;
use crate::error::{check_dim, check_finite, CucbError};

/// `Λ = λI + Σ φφᵀ` with its inverse, for features of dimension `d`.
#[derive(Debug, Clone, PartialEq)]
pub struct Gram {
    d: usize,
    lambda: f64,
    matrix: Vec<f64>,  // Λ, (d, d) row-major
    inverse: Vec<f64>, // Λ⁻¹, (d, d) row-major
    scratch: Vec<f64>, // Λ⁻¹φ, (d,)
    count: usize,
}

impl Gram {
    /// `Λ = λ I_d`. Errors when `d = 0` or `λ` is not finite and positive.
    pub fn new(d: usize, lambda: f64) -> Result<Self, CucbError> {
        if d == 0 {
            return Err(CucbError::Invalid {
                what: "feature dimension must be > 0",
            });
        }
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(CucbError::NonPositiveLambda(lambda));
        }
        let mut matrix = vec![0.0; d * d];
        let mut inverse = vec![0.0; d * d];
        for i in 0..d {
            matrix[i * d + i] = lambda;
            inverse[i * d + i] = 1.0 / lambda;
        }
        Ok(Self {
            d,
            lambda,
            matrix,
            inverse,
            scratch: vec![0.0; d],
            count: 0,
        })
    }

    /// Back to `Λ = λI` (keeps the allocation).
    pub fn clear(&mut self) {
        let d = self.d;
        self.matrix.iter_mut().for_each(|v| *v = 0.0);
        self.inverse.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..d {
            self.matrix[i * d + i] = self.lambda;
            self.inverse[i * d + i] = 1.0 / self.lambda;
        }
        self.count = 0;
    }

    /// Feature dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The ridge parameter λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Number of rank-1 terms added since construction or [`Gram::clear`].
    pub fn count(&self) -> usize {
        self.count
    }

    /// `Λ`, row-major `d × d`.
    pub fn matrix(&self) -> &[f64] {
        &self.matrix
    }

    /// `Λ⁻¹`, row-major `d × d`.
    pub fn inverse(&self) -> &[f64] {
        &self.inverse
    }

    /// `Λ ← Λ + φφᵀ`, with the Sherman–Morrison update of `Λ⁻¹`.
    pub fn add(&mut self, phi: &[f64]) -> Result<(), CucbError> {
        check_dim("feature", self.d, phi.len())?;
        check_finite("feature", phi)?;
        let d = self.d;
        for i in 0..d {
            for j in 0..d {
                self.matrix[i * d + j] += phi[i] * phi[j];
            }
        }
        // u = Λ⁻¹φ and q = φᵀΛ⁻¹φ with the old inverse.
        let mut q = 0.0;
        for i in 0..d {
            let row = &self.inverse[i * d..(i + 1) * d];
            let u: f64 = row.iter().zip(phi).map(|(a, b)| a * b).sum();
            self.scratch[i] = u;
            q += phi[i] * u;
        }
        self.count += 1;
        if !(q.is_finite() && q >= 0.0) {
            // Rounding has broken positive definiteness of the running inverse: recompute.
            return self.refresh_inverse();
        }
        let scale = 1.0 / (1.0 + q);
        for i in 0..d {
            for j in 0..d {
                self.inverse[i * d + j] -= self.scratch[i] * self.scratch[j] * scale;
            }
        }
        Ok(())
    }

    /// Recompute `Λ⁻¹` from `Λ` by Cholesky (the fallback for drifting rank-1 updates).
    pub fn refresh_inverse(&mut self) -> Result<(), CucbError> {
        self.inverse = spd_inverse(&self.matrix, self.d)?;
        Ok(())
    }

    /// `φᵀ Λ⁻¹ φ` (clamped at 0 against rounding).
    pub fn quadratic(&self, phi: &[f64]) -> Result<f64, CucbError> {
        check_dim("feature", self.d, phi.len())?;
        Ok(self.quadratic_unchecked(phi))
    }

    pub(crate) fn quadratic_unchecked(&self, phi: &[f64]) -> f64 {
        let d = self.d;
        let mut q = 0.0;
        for i in 0..d {
            let row = &self.inverse[i * d..(i + 1) * d];
            let u: f64 = row.iter().zip(phi).map(|(a, b)| a * b).sum();
            q += phi[i] * u;
        }
        q.max(0.0)
    }

    /// The UCB bonus `β · sqrt(φᵀΛ⁻¹φ)`; `β` must be finite and non-negative.
    pub fn bonus(&self, phi: &[f64], beta: f64) -> Result<f64, CucbError> {
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(CucbError::InvalidParameter {
                what: "beta",
                value: beta,
            });
        }
        Ok(beta * libm::sqrt(self.quadratic(phi)?))
    }

    /// `out = Λ⁻¹ rhs` (the ridge-regression weights when `rhs = Σ φ_τ y_τ`).
    pub fn solve(&self, rhs: &[f64], out: &mut [f64]) -> Result<(), CucbError> {
        check_dim("rhs", self.d, rhs.len())?;
        check_dim("out", self.d, out.len())?;
        let d = self.d;
        for (i, o) in out.iter_mut().enumerate() {
            let row = &self.inverse[i * d..(i + 1) * d];
            *o = row.iter().zip(rhs).map(|(a, b)| a * b).sum();
        }
        Ok(())
    }
}
