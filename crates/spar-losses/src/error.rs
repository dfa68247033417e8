//! The crate's error type: everything a caller can get wrong comes back as a [`LossError`].

use core::fmt;

/// Bad input to a loss, an advantage estimator or a utility. Losses never panic on input; they
/// return one of these.
#[derive(Debug, Clone, PartialEq)]
pub enum LossError {
    /// Two slices that must agree in length do not.
    LengthMismatch {
        /// Which argument is wrong.
        what: &'static str,
        /// The length the layout requires.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// A value that must be finite is NaN or infinite.
    NonFinite {
        /// Which argument holds the value.
        what: &'static str,
        /// Index of the first offending element.
        index: usize,
    },
    /// A hyper-parameter lies outside its valid range.
    OutOfRange {
        /// The parameter's name (TRL's name where TRL has one).
        what: &'static str,
        /// The value that was passed.
        value: f64,
    },
    /// A structural argument (group size, index, count) is invalid.
    Invalid {
        /// What is wrong, in words.
        what: &'static str,
    },
}

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LossError::LengthMismatch {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected length {expected}, got {got}"),
            LossError::NonFinite { what, index } => {
                write!(f, "{what}: non-finite value at index {index}")
            }
            LossError::OutOfRange { what, value } => write!(f, "{what} out of range: {value}"),
            LossError::Invalid { what } => write!(f, "invalid input: {what}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LossError {}

/// Checks that `slice` has length `expected`.
pub(crate) fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), LossError> {
    if len == expected {
        Ok(())
    } else {
        Err(LossError::LengthMismatch {
            what,
            expected,
            got: len,
        })
    }
}

/// Checks that every element of `values` is finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), LossError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(LossError::NonFinite { what, index }),
    }
}

/// Checks that a hyper-parameter is finite and lies in `[lo, hi]`.
pub(crate) fn check_range(
    what: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
) -> Result<(), LossError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(LossError::OutOfRange { what, value })
    }
}
