//! The crate's error type.

use alloc::string::String;
use core::fmt;

/// Everything that can stop a training run: a bad config, an error from one of the crates the
/// loop composes, or a non-finite number caught before it reached the parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainError {
    /// A config key or value is wrong; the message names it.
    Config(String),
    /// The model refused an input.
    Model(spar_model::ModelError),
    /// A loss or advantage estimator refused an input.
    Loss(spar_losses::LossError),
    /// A task refused an input.
    Task(spar_tasks::TaskError),
    /// The tokenizer refused an input.
    Tokenizer(spar_bpe::BpeError),
    /// The curriculum refused an input.
    Curriculum(spar_bandits::Error),
    /// A NaN or infinity appeared at `step` in `what`; the update was not applied.
    NonFinite {
        /// The global step (0-based) whose update was refused.
        step: u32,
        /// Where it was found (`"log-probs"`, `"loss"`, `"gradient norm"`, `"parameters"`).
        what: &'static str,
    },
    /// A checkpoint could not be written or read.
    Checkpoint(String),
    /// The requested backend is unavailable at start-up (the message says why: the `gpu`
    /// feature is not compiled in, or no adapter was found).
    BackendUnavailable(String),
    /// The backend reported an error (device lost, out of memory, a limit exceeded) during
    /// the work of `step`; the run stops there rather than switching backend midway.
    Backend {
        /// The global step (0-based) whose work failed (for an evaluation or a checkpoint:
        /// the steps done before it).
        step: u32,
        /// What was running (`"train step"`, `"evaluation"`, ...).
        during: &'static str,
        /// The backend's message.
        message: String,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Config(m) => write!(f, "config: {m}"),
            TrainError::Model(e) => write!(f, "model: {e}"),
            TrainError::Loss(e) => write!(f, "loss: {e}"),
            TrainError::Task(e) => write!(f, "task: {e}"),
            TrainError::Tokenizer(e) => write!(f, "tokenizer: {e}"),
            TrainError::Curriculum(e) => write!(f, "curriculum: {e}"),
            TrainError::NonFinite { step, what } => {
                write!(
                    f,
                    "non-finite {what} at step {step}; the update was not applied"
                )
            }
            TrainError::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            TrainError::BackendUnavailable(m) => write!(f, "backend: {m}"),
            TrainError::Backend {
                step,
                during,
                message,
            } => write!(f, "backend error in the {during} at step {step}: {message}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TrainError {}

macro_rules! from_err {
    ($t:ty, $v:ident) => {
        impl From<$t> for TrainError {
            fn from(e: $t) -> Self {
                TrainError::$v(e)
            }
        }
    };
}
from_err!(spar_model::ModelError, Model);
from_err!(spar_losses::LossError, Loss);
from_err!(spar_tasks::TaskError, Task);
from_err!(spar_bpe::BpeError, Tokenizer);
from_err!(spar_bandits::Error, Curriculum);
