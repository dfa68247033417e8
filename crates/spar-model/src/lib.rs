//! A GPT-2 in f32 on the CPU: forward and backward over a Kernels seam, KV-cache sampling,
//! safetensors checkpoints.
//!
//! ```
//! use spar_model::{GptConfig, ParamLayout};
//! let layout = ParamLayout::new(&GptConfig::C0).unwrap();
//! assert_eq!(layout.tensors()[0].name, "wte.weight");
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod hf_config;
pub mod layout;
pub mod safetensors;

pub use config::{GptConfig, Preset};
pub use error::ModelError;
pub use layout::{ParamLayout, TensorSpec};
