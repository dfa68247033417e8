//! The crate's error type: everything a caller can get wrong comes back as a [`CucbError`].

use core::fmt;

use spar_losses::LossError;

/// Bad input to a solver, a model or an agent. Nothing in this crate panics on input.
#[derive(Debug, Clone, PartialEq)]
pub enum CucbError {
    /// Two sizes that must agree do not.
    DimensionMismatch {
        /// Which argument is wrong.
        what: &'static str,
        /// The size the layout requires.
        expected: usize,
        /// The size that was passed.
        got: usize,
    },
    /// The ridge parameter λ of `Λ = λI + Σ φφᵀ` must be finite and positive.
    NonPositiveLambda(f64),
    /// A parameter lies outside its valid range.
    InvalidParameter {
        /// The parameter's name.
        what: &'static str,
        /// The value that was passed.
        value: f64,
    },
    /// A structural argument (a size, an index, a combination of options) is invalid.
    Invalid {
        /// What is wrong, in words.
        what: &'static str,
    },
    /// A value that must be finite is NaN or infinite.
    NonFinite {
        /// Which argument holds the value.
        what: &'static str,
    },
    /// A matrix that must be symmetric positive definite is not.
    NotPositiveDefinite,
    /// The linear program has no feasible point.
    Infeasible,
    /// The linear program's objective is unbounded.
    Unbounded,
    /// The simplex method hit its iteration cap (numerical breakdown).
    NoConvergence,
    /// The contrastive loss rejected its input.
    Loss(LossError),
}

impl fmt::Display for CucbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DimensionMismatch {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected size {expected}, got {got}"),
            Self::NonPositiveLambda(l) => write!(f, "lambda must be finite and > 0, got {l}"),
            Self::InvalidParameter { what, value } => write!(f, "{what} out of range: {value}"),
            Self::Invalid { what } => write!(f, "invalid input: {what}"),
            Self::NonFinite { what } => write!(f, "{what} holds a NaN or infinite value"),
            Self::NotPositiveDefinite => write!(f, "matrix is not symmetric positive definite"),
            Self::Infeasible => write!(f, "linear program is infeasible"),
            Self::Unbounded => write!(f, "linear program is unbounded"),
            Self::NoConvergence => write!(f, "simplex method did not converge"),
            Self::Loss(e) => write!(f, "contrastive loss: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CucbError {}

impl From<LossError> for CucbError {
    fn from(e: LossError) -> Self {
        Self::Loss(e)
    }
}

/// `Ok(())` when `got == expected`, else a [`CucbError::DimensionMismatch`].
pub(crate) fn check_dim(what: &'static str, expected: usize, got: usize) -> Result<(), CucbError> {
    if expected == got {
        Ok(())
    } else {
        Err(CucbError::DimensionMismatch {
            what,
            expected,
            got,
        })
    }
}

/// `Ok(())` when every value is finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), CucbError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(CucbError::NonFinite { what })
    }
}
