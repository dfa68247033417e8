//! The crate's error type: everything a caller can get wrong comes back as a [`ModelError`].

use alloc::string::String;
use core::fmt;

/// An error a caller can cause: a bad configuration, bad token ids, shapes that do not fit.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// The configuration is invalid (the message says which field and why).
    InvalidConfig(String),
    /// A token id is not below the vocabulary size.
    TokenOutOfRange {
        /// The offending id.
        token: u32,
        /// The vocabulary size.
        vocab_size: usize,
    },
    /// A sequence is longer than the context (`n_positions`) or than the arena was sized for.
    SequenceTooLong {
        /// The requested length.
        len: usize,
        /// The largest allowed length.
        max: usize,
    },
    /// A batch is larger than the arena was sized for, or empty.
    BadBatch {
        /// The requested batch size.
        batch: usize,
        /// The largest allowed batch size.
        max: usize,
    },
    /// Slices passed together do not have matching lengths.
    ShapeMismatch {
        /// What was being checked.
        what: &'static str,
        /// The expected length.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// A sampling or optimiser setting is outside its domain (e.g. `top_p` not in (0, 1]).
    InvalidArgument(String),
    /// A parameter tensor name is not in the layout.
    UnknownTensor(String),
    /// The global gradient norm is NaN or infinite: the optimiser step was refused.
    NonFiniteGradient {
        /// The optimiser step (1-based) that was refused.
        step: u32,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(m) => write!(f, "invalid GPT config: {m}"),
            Self::TokenOutOfRange { token, vocab_size } => {
                write!(
                    f,
                    "token id {token} is not below the vocabulary size {vocab_size}"
                )
            }
            Self::SequenceTooLong { len, max } => {
                write!(f, "sequence length {len} exceeds the maximum {max}")
            }
            Self::BadBatch { batch, max } => {
                write!(f, "batch size {batch} is not in 1..={max}")
            }
            Self::ShapeMismatch {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected length {expected}, got {got}"),
            Self::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Self::UnknownTensor(n) => write!(f, "unknown parameter tensor {n:?}"),
            Self::NonFiniteGradient { step } => write!(
                f,
                "the gradient norm is not finite at optimiser step {step}: the step was refused"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ModelError {}
