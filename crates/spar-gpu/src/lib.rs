//! The spar GPT's forward and backward as WGSL compute shaders on wgpu: [`GpuKernels`]
//! implements [`spar_model::Kernels`], so `spar_model::Gpt<GpuKernels>` trains and samples
//! on any GPU wgpu reaches (Vulkan, Metal, DX12 natively; WebGPU in the browser; OpenGL ES
//! only when asked for, see [`BACKENDS_ENV`]).
//!
//! - One [`GpuContext`] per device: adapter, device with the adapter's own limits, every
//!   pipeline compiled once. Any number of [`GpuKernels`] share it.
//! - Kernel calls are recorded; a read submits them all at once and awaits `map_async`
//!   (a oneshot future: non-blocking in the browser, natively it polls the device). So a
//!   train step is two submissions (forward to log-probs, then backward + AdamW, submitted
//!   by the next read), and a rollout is one submission and its read-back.
//! - Optional paths ([`GpuOptions`]): subgroup row reductions and f16-tile forward products
//!   where the adapter offers `SUBGROUP` / `SHADER_F16`, and the fused training attention;
//!   each has an f32, subgroup-free twin that always works. [`GpuContext::features_in_use`]
//!   says which run, [`GpuContext::device_type`] whether the adapter is hardware or software.
//! - Failures (no adapter, device lost, out of memory, a shape over a device limit) are
//!   [`GpuError`] values; the trainer can fall back to `spar_model::CpuKernels`.
//!
//! ```
//! use spar_gpu::{GpuContext, GpuKernels};
//! use spar_model::{block_on, AdamWConfig, Gpt, GptConfig};
//! match GpuContext::new_blocking() {
//!     Ok(ctx) => {
//!         let cfg = GptConfig::new(16, 8, 8, 1, 2);
//!         let mut gpt = Gpt::new(GpuKernels::new(ctx), cfg, 1, 8).unwrap();
//!         gpt.init_params(0);
//!         let tokens = [1u32, 2, 3, 4, 5, 6, 7, 8];
//!         let targets = [2u32, 3, 4, 5, 6, 7, 8, 9];
//!         let opt = AdamWConfig::default();
//!         let loss = block_on(gpt.train_step_sft(&tokens, &targets, 1, &opt, 1e-3)).unwrap();
//!         assert!((loss - (16f32).ln()).abs() < 0.1); // near-uniform at initialisation
//!         gpt.kernels.check().unwrap();
//!     }
//!     Err(e) => println!("skipped: {e}"),
//! }
//! ```

mod backend;
mod context;
pub mod error;
mod kernels;
mod options;
pub mod shaders;

pub use backend::GpuKernels;
pub use context::GpuContext;
pub use error::GpuError;
pub use options::{FeaturesInUse, GpuOptions, BACKENDS_ENV};
/// The graphics-API set [`GpuOptions::backends`] takes (re-exported from wgpu).
pub use wgpu::Backends;
/// The adapter kinds [`GpuContext::device_type`] reports (re-exported from wgpu).
pub use wgpu::DeviceType;
