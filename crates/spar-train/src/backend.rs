//! Choosing the model's kernels at start-up: the CPU ([`spar_model::CpuKernels`]) or, with
//! the `gpu` feature, the wgpu kernels of spar-gpu.
//!
//! [`select_backend`] resolves the config's [`BackendName`]: `auto` takes the GPU when the
//! feature is compiled in and a *hardware* adapter is found (discrete, integrated or
//! virtual GPU), else the CPU kernels: a software adapter (lavapipe, SwiftShader: wgpu's
//! `DeviceType::Cpu`) runs the WGSL kernels far slower than the CPU backend runs the same
//! model, so `auto` falls back to the CPU and says why (`auto_accepts`, with the `gpu`
//! feature). `gpu` takes any adapter, software ones included (that is how CI tests the GPU
//! backend, on lavapipe); `gpu` forced without the feature or without an adapter is a
//! [`TrainError::BackendUnavailable`] that says which.
//! The fallback happens only here: once a run has started on a backend it stays there, and
//! an error the backend reports later stops the run ([`Trainer::train_step_checked`],
//! [`Trainer::check_backend`]).
//!
//! The GPU kernels' trait methods cannot return errors (the calls are recorded and
//! submitted later), so the backend keeps the first error and the caller asks for it after
//! each step: that is [`BackendCheck`].
//!
//! ```
//! use spar_train::backend::{select_backend, Selected};
//! use spar_train::config::BackendName;
//! let cpu = select_backend(BackendName::Cpu).unwrap();
//! assert!(matches!(cpu, Selected::Cpu { fallback: None }));
//! assert_eq!(cpu.describe(), "cpu");
//! ```

use crate::config::BackendName;
use crate::{TrainError, Trainer};
use alloc::string::String;
#[cfg(feature = "gpu")]
use alloc::string::ToString;
use spar_model::{CpuKernels, Kernels};

/// A backend whose errors surface after the fact (the GPU's); the CPU never has one.
pub trait BackendCheck: Kernels {
    /// Takes the first error recorded since the last call, as text.
    fn take_backend_error(&mut self) -> Option<String>;
}

impl BackendCheck for CpuKernels {
    fn take_backend_error(&mut self) -> Option<String> {
        None
    }
}

#[cfg(feature = "gpu")]
impl BackendCheck for spar_gpu::GpuKernels {
    fn take_backend_error(&mut self) -> Option<String> {
        self.take_error().map(|e| e.to_string())
    }
}

/// The backend chosen at start-up. Non-exhaustive: the `Gpu` variant exists only with the
/// `gpu` feature, so other crates always match with a fallback arm.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Selected {
    /// The CPU kernels. `fallback` says why `auto` did not take the GPU (`None` when the CPU
    /// was asked for, or when the `gpu` feature is not compiled in).
    Cpu {
        /// Why the GPU was not used under `auto`, when one was looked for.
        fallback: Option<String>,
    },
    /// The wgpu kernels on this device (shared by the model and the reference model).
    #[cfg(feature = "gpu")]
    Gpu(alloc::sync::Arc<spar_gpu::GpuContext>),
}

impl Selected {
    /// One line for the start of a run: `cpu`, `cpu (auto: ...)` or
    /// `gpu: <adapter> [<device type>; <optional paths in use>]`.
    pub fn describe(&self) -> String {
        match self {
            Selected::Cpu { fallback: None } => "cpu".into(),
            Selected::Cpu {
                fallback: Some(why),
            } => alloc::format!("cpu (auto: {why})"),
            #[cfg(feature = "gpu")]
            Selected::Gpu(ctx) => alloc::format!(
                "gpu: {} [{:?}; {}]",
                ctx.adapter_name(),
                ctx.device_type(),
                ctx.features_in_use()
            ),
        }
    }

    /// Whether the GPU was chosen.
    pub fn is_gpu(&self) -> bool {
        !matches!(self, Selected::Cpu { .. })
    }
}

/// Whether `backend = auto` takes an adapter of this kind: every kind but a software
/// rasteriser (`DeviceType::Cpu`: lavapipe, SwiftShader, WARP), on which the CPU backend is
/// faster. `Other` (unknown, e.g. what wgpu's browser backend reports) is taken.
/// `backend = gpu` does not ask: it takes any adapter.
#[cfg(feature = "gpu")]
pub fn auto_accepts(device_type: spar_gpu::DeviceType) -> bool {
    !matches!(device_type, spar_gpu::DeviceType::Cpu)
}

/// Resolves `name` to a backend (see the module docs for the rules).
pub fn select_backend(name: BackendName) -> Result<Selected, TrainError> {
    match name {
        BackendName::Cpu => Ok(Selected::Cpu { fallback: None }),
        #[cfg(not(feature = "gpu"))]
        BackendName::Auto => Ok(Selected::Cpu { fallback: None }),
        #[cfg(not(feature = "gpu"))]
        BackendName::Gpu => Err(TrainError::BackendUnavailable(
            "`gpu` was asked for but this build has no GPU backend (build with the `gpu` feature)"
                .into(),
        )),
        #[cfg(feature = "gpu")]
        BackendName::Auto => Ok(match spar_gpu::GpuContext::new_blocking() {
            Ok(ctx) if auto_accepts(ctx.device_type()) => Selected::Gpu(ctx),
            Ok(ctx) => Selected::Cpu {
                fallback: Some(alloc::format!(
                    "the only GPU adapter is a software one ({}); `backend = gpu` runs on it",
                    ctx.adapter_name()
                )),
            },
            Err(e) => Selected::Cpu {
                fallback: Some(alloc::format!("no usable GPU adapter: {e}")),
            },
        }),
        #[cfg(feature = "gpu")]
        BackendName::Gpu => spar_gpu::GpuContext::new_blocking()
            .map(Selected::Gpu)
            .map_err(|e| {
                TrainError::BackendUnavailable(alloc::format!(
                    "`gpu` was asked for but no usable GPU adapter was found: {e}"
                ))
            }),
    }
}

/// A trainer on the CPU kernels.
pub fn cpu_trainer(config: crate::TrainConfig) -> Result<Trainer<CpuKernels>, TrainError> {
    Trainer::new(config, alloc::boxed::Box::new(CpuKernels::new))
}

/// A trainer on the GPU kernels of `ctx` (the model and the reference model share the device).
#[cfg(feature = "gpu")]
pub fn gpu_trainer(
    config: crate::TrainConfig,
    ctx: alloc::sync::Arc<spar_gpu::GpuContext>,
) -> Result<Trainer<spar_gpu::GpuKernels>, TrainError> {
    let mut t = Trainer::new(
        config,
        alloc::boxed::Box::new(move || spar_gpu::GpuKernels::new(ctx.clone())),
    )?;
    t.check_backend("initialisation")?;
    Ok(t)
}

/// Fresh GPU kernels on `ctx`, for models built outside a [`Trainer`] (the self-play loops
/// take their kernels by value).
#[cfg(feature = "gpu")]
pub fn gpu_kernels(ctx: alloc::sync::Arc<spar_gpu::GpuContext>) -> spar_gpu::GpuKernels {
    spar_gpu::GpuKernels::new(ctx)
}

/// Turns an error the kernels recorded since the last check into [`TrainError::Backend`]
/// naming `step` and what ran (`Ok` on the CPU, which never records one).
pub fn check_kernels<K: BackendCheck>(
    kernels: &mut K,
    step: u32,
    during: &'static str,
) -> Result<(), TrainError> {
    match kernels.take_backend_error() {
        None => Ok(()),
        Some(message) => Err(TrainError::Backend {
            step,
            during,
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available() {
        let s = select_backend(BackendName::Cpu).unwrap();
        assert!(!s.is_gpu());
        assert_eq!(s.describe(), "cpu");
    }

    #[cfg(not(feature = "gpu"))]
    #[test]
    fn without_the_feature_auto_is_cpu_and_forced_gpu_says_so() {
        assert!(!select_backend(BackendName::Auto).unwrap().is_gpu());
        let e = select_backend(BackendName::Gpu).unwrap_err();
        assert!(
            matches!(&e, TrainError::BackendUnavailable(m) if m.contains("`gpu` feature")),
            "{e}"
        );
    }

    #[cfg(feature = "gpu")]
    #[test]
    fn auto_takes_hardware_adapters_and_leaves_software_ones() {
        use spar_gpu::DeviceType;
        for t in [
            DeviceType::DiscreteGpu,
            DeviceType::IntegratedGpu,
            DeviceType::VirtualGpu,
            DeviceType::Other,
        ] {
            assert!(auto_accepts(t), "{t:?}");
        }
        assert!(!auto_accepts(DeviceType::Cpu));
    }

    #[test]
    fn backend_names_parse() {
        assert_eq!("auto".parse::<BackendName>().unwrap(), BackendName::Auto);
        assert_eq!("cpu".parse::<BackendName>().unwrap(), BackendName::Cpu);
        assert_eq!("gpu".parse::<BackendName>().unwrap(), BackendName::Gpu);
        let e = "cuda".parse::<BackendName>().unwrap_err();
        assert!(alloc::format!("{e}").contains("`backend`"), "{e}");
    }
}
