//! The crate's error type.

use core::fmt;

/// Everything a caller of this crate can get wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// A difficulty level outside `0..num_levels`.
    BadLevel {
        /// The level asked for.
        level: usize,
        /// How many levels the task has.
        num_levels: usize,
    },
    /// A problem handed to a task of another family (or built by hand with inconsistent data).
    WrongFamily,
    /// A configuration value out of range (the message says which).
    BadConfig(&'static str),
    /// The generator could not find a problem with the requested properties.
    GenerationFailed,
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::BadLevel { level, num_levels } => {
                write!(
                    f,
                    "level {level} out of range (task has {num_levels} levels)"
                )
            }
            TaskError::WrongFamily => write!(f, "problem belongs to another task family"),
            TaskError::BadConfig(what) => write!(f, "bad configuration: {what}"),
            TaskError::GenerationFailed => write!(f, "could not generate a problem"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TaskError {}
