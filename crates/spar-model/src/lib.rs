//! A GPT-2 in f32 on the CPU: forward and backward over a Kernels seam, KV-cache sampling,
//! safetensors checkpoints.
//!
//! ```
//! use spar_model::{GptConfig, ParamLayout};
//! let layout = ParamLayout::new(&GptConfig::C0).unwrap();
//! assert_eq!(layout.tensors()[0].name, "wte.weight");
//! ```
//!
//! Features: `std` (default: files, `std::error::Error`), `threads` (default: the CPU
//! kernels split their work over a persistent thread pool, `SPAR_KERNEL_THREADS` threads or
//! all cores, with the same bits for any count), `ndarray` (the `array` module: a batch's log-probs, entropies and logits as
//! arrays). Without default features the crate is `no_std` + `alloc`, with or without
//! `ndarray`.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod array;
pub mod checkpoint;
pub mod config;
pub mod cpu;
pub mod error;
pub mod gpt;
mod gpt_optimizer;
pub mod hf_config;
mod init;
pub mod kernels;
pub mod layout;
pub mod optim;
pub mod safetensors;
pub mod sampling;

pub use config::{GptConfig, Preset};
pub use cpu::CpuKernels;
pub use error::ModelError;
pub use gpt::Gpt;
pub use kernels::{block_on, Kernels};
pub use layout::{ParamLayout, TensorSpec};
/// The `ndarray` version the [`array`](mod@array) module speaks (feature `ndarray`).
#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub use ndarray;
pub use optim::{AdamWConfig, LrSchedule};
pub use sampling::{Generation, SampleConfig};
