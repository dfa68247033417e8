//! spar: small language models that teach themselves.
//!
//! This facade re-exports the workspace's crates under short names. Each crate also stands
//! alone; depend on it directly when you need only one.

pub use spar_bandits as bandits;
pub use spar_bpe as bpe;
pub use spar_cucb as cucb;
#[cfg(feature = "gpu")]
pub use spar_gpu as gpu;
pub use spar_losses as losses;
pub use spar_model as model;
pub use spar_plot as plot;
pub use spar_tasks as tasks;
pub use spar_train as train;
