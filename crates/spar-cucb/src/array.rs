//! Contrastive UCB's linear algebra over [`ndarray`] arrays (feature `ndarray`): the Gram
//! matrix `Λ` and its inverse as `(d, d)` views, a batch of features `(N, d)` added or scored
//! at once, the ridge-regression solve `Λ⁻¹b`, Cholesky and the SPD inverse of a `(d, d)`
//! array, and the learned features `φ(s, a)`, `ψ(s')` of a batch of observations `(N, obs)`.
//!
//! Each function copies a non-row-major view into row-major order and calls the slice API,
//! so results are bit for bit the slice API's; a shape that does not fit is a
//! [`CucbError::DimensionMismatch`] naming the argument.
//!
//! ```
//! use ndarray::array;
//! use spar_cucb::gram::Gram;
//!
//! let mut gram = Gram::new(2, 1.0)?;
//! gram.add_rows(array![[1.0, 0.0], [0.0, 2.0]].view())?; // Λ = diag(2, 5)
//! assert_eq!(gram.matrix_view(), array![[2.0, 0.0], [0.0, 5.0]]);
//! let w = gram.solve_array(array![2.0, 5.0].view())?; // Λ⁻¹ b
//! assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 1.0).abs() < 1e-12);
//! let bonuses = gram.bonuses(array![[1.0, 0.0], [0.0, 1.0]].view(), 1.0)?;
//! assert!(bonuses[0] > bonuses[1]); // the less explored direction earns more
//! # Ok::<(), spar_cucb::CucbError>(())
//! ```

use crate::contrastive::ContrastiveModel;
use crate::error::{check_dim, CucbError};
use crate::gram::Gram;
use alloc::borrow::Cow;
use alloc::vec::Vec;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// The elements of `a` in row-major order, borrowed when the view already is.
fn row_major<'a>(a: &'a ArrayView2<'_, f64>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// A `(rows, cols)` array from a row-major buffer of that many elements.
fn shaped(rows: usize, cols: usize, data: Vec<f64>) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), data).expect("the buffer was sized rows * cols")
}

/// Checks that a matrix is square and returns its side.
fn square(what: &'static str, a: &ArrayView2<'_, f64>) -> Result<usize, CucbError> {
    let (r, c) = a.dim();
    check_dim(what, r, c)?;
    Ok(r)
}

/// Lower-triangular `L` `(d, d)` with `A = L Lᵀ` ([`crate::cholesky::cholesky`]) of a
/// symmetric positive definite `(d, d)` array.
pub fn cholesky(a: ArrayView2<'_, f64>) -> Result<Array2<f64>, CucbError> {
    let d = square("matrix columns", &a)?;
    Ok(shaped(d, d, crate::cholesky::cholesky(&row_major(&a), d)?))
}

/// `A⁻¹` `(d, d)` ([`crate::cholesky::spd_inverse`]) of a symmetric positive definite
/// `(d, d)` array.
pub fn spd_inverse(a: ArrayView2<'_, f64>) -> Result<Array2<f64>, CucbError> {
    let d = square("matrix columns", &a)?;
    Ok(shaped(
        d,
        d,
        crate::cholesky::spd_inverse(&row_major(&a), d)?,
    ))
}

impl Gram {
    /// `Λ` as a `(d, d)` view (no copy).
    pub fn matrix_view(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.dim(), self.dim()), self.matrix())
            .expect("Λ holds d * d entries")
    }

    /// `Λ⁻¹` as a `(d, d)` view (no copy).
    pub fn inverse_view(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.dim(), self.dim()), self.inverse())
            .expect("Λ⁻¹ holds d * d entries")
    }

    /// [`Gram::add`] for every row of `phis` `(N, d)`, in row order.
    pub fn add_rows(&mut self, phis: ArrayView2<'_, f64>) -> Result<(), CucbError> {
        check_dim("feature columns", self.dim(), phis.ncols())?;
        for row in phis.rows() {
            match row.as_slice() {
                Some(phi) => self.add(phi)?,
                None => self.add(&row.to_vec())?,
            }
        }
        Ok(())
    }

    /// [`Gram::bonus`] `β·sqrt(φᵀΛ⁻¹φ)` of every row of `phis` `(N, d)`; returns `(N,)`.
    pub fn bonuses(&self, phis: ArrayView2<'_, f64>, beta: f64) -> Result<Array1<f64>, CucbError> {
        check_dim("feature columns", self.dim(), phis.ncols())?;
        let data = row_major(&phis);
        let d = self.dim();
        let out: Result<Vec<f64>, CucbError> = (0..phis.nrows())
            .map(|i| self.bonus(&data[i * d..(i + 1) * d], beta))
            .collect();
        Ok(Array1::from_vec(out?))
    }

    /// `Λ⁻¹ rhs` ([`Gram::solve`]): the ridge-regression weights when `rhs = Σ φ_τ y_τ`.
    pub fn solve_array(&self, rhs: ArrayView1<'_, f64>) -> Result<Array1<f64>, CucbError> {
        let rhs: Cow<'_, [f64]> = match rhs.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(rhs.to_vec()),
        };
        let mut out = alloc::vec![0.0; self.dim()];
        self.solve(&rhs, &mut out)?;
        Ok(Array1::from_vec(out))
    }
}

impl ContrastiveModel {
    /// `φ(s_i, a_i)` ([`ContrastiveModel::phi`]) of every row of `obs` `(N, obs_dim)` with
    /// `actions[i]`; returns `(N, d)`.
    pub fn phi_rows(
        &self,
        obs: ArrayView2<'_, f64>,
        actions: &[usize],
    ) -> Result<Array2<f64>, CucbError> {
        check_dim("observation columns", self.obs_dim(), obs.ncols())?;
        check_dim("actions", obs.nrows(), actions.len())?;
        let (n, k, d) = (obs.nrows(), self.obs_dim(), self.feature_dim());
        let data = row_major(&obs);
        let mut out = alloc::vec![0.0; n * d];
        for (i, (o, &a)) in out.chunks_exact_mut(d).zip(actions).enumerate() {
            self.phi(&data[i * k..(i + 1) * k], a, o)?;
        }
        Ok(shaped(n, d, out))
    }

    /// `ψ(s'_i)` ([`ContrastiveModel::psi`]) of every row of `next_obs` `(N, obs_dim)`;
    /// returns `(N, d)`.
    pub fn psi_rows(&self, next_obs: ArrayView2<'_, f64>) -> Result<Array2<f64>, CucbError> {
        check_dim("observation columns", self.obs_dim(), next_obs.ncols())?;
        let (n, k, d) = (next_obs.nrows(), self.obs_dim(), self.feature_dim());
        let data = row_major(&next_obs);
        let mut out = alloc::vec![0.0; n * d];
        for (i, o) in out.chunks_exact_mut(d).enumerate() {
            self.psi(&data[i * k..(i + 1) * k], o)?;
        }
        Ok(shaped(n, d, out))
    }
}
