//! Choosing the model's kernels at start-up: the CPU ([`spar_model::CpuKernels`]) or, with
//! the `gpu` feature, the wgpu kernels of spar-gpu, held in one enum, [`Backend`], that
//! implements [`Kernels`] by handing each call to the kernels it holds (as candle's
//! `Device` does). Code that runs on whichever backend was chosen is written once, over
//! `Backend`, instead of once per backend type.
//!
//! [`select_backend`] resolves the config's [`BackendName`]: `auto` takes the GPU when the
//! feature is compiled in and a *hardware* adapter is found (discrete, integrated or
//! virtual GPU), else the CPU kernels: a software adapter (lavapipe, SwiftShader: wgpu's
//! `DeviceType::Cpu`) runs the WGSL kernels far slower than the CPU backend runs the same
//! model, so `auto` falls back to the CPU and says why (`auto_accepts`, with the `gpu`
//! feature). `gpu` takes any adapter, software ones included (that is how CI tests the GPU
//! backend, on lavapipe); `gpu` forced without the feature or without an adapter is a
//! [`TrainError::BackendUnavailable`] that says which. [`Backend::new`] then makes kernels
//! on the [`Selected`] device ([`trainer`] makes a whole trainer).
//! The fallback happens only here: once a run has started on a backend it stays there, and
//! an error the backend reports later stops the run ([`Trainer::train_step_checked`],
//! [`Trainer::check_backend`], [`check_kernels`]).
//!
//! The GPU kernels' trait methods cannot return errors (the calls are recorded and
//! submitted later), so the backend keeps the first error and the caller asks for it after
//! each step: that is [`Kernels::take_backend_error`] (always `None` on the CPU).
//!
//! ```
//! use spar_model::Kernels;
//! use spar_train::backend::{select_backend, Backend, Selected};
//! use spar_train::config::BackendName;
//! let cpu = select_backend(BackendName::Cpu).unwrap();
//! assert!(matches!(cpu, Selected::Cpu { fallback: None }));
//! assert_eq!(cpu.describe(), "cpu");
//! let mut kernels = Backend::new(&cpu);
//! assert!(kernels.read_is_immediate());
//! assert_eq!(kernels.take_backend_error(), None);
//! ```

use crate::config::BackendName;
use crate::{TrainError, Trainer};
use alloc::string::String;
use core::future::Future;
use spar_model::kernels::{
    AdamWArgs, AttnShape, BufId, DecodeShape, EmbedShape, HeadShape, IdBufId, IdSlice, MatmulShape,
    RowShape, SampleArgs, Slice,
};
use spar_model::{CpuKernels, Kernels};

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

/// The model's kernels on the backend chosen at run time: one type for every backend, so
/// the trainer, the self-play loops and the commands need no per-backend copies. Each
/// [`Kernels`] method goes to the kernels held; [`Kernels::take_backend_error`] and
/// [`Kernels::read_is_immediate`] answer for them. Non-exhaustive like [`Selected`].
#[non_exhaustive]
// A run holds one or two of these, so the GPU variant's size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    /// The CPU kernels.
    Cpu(CpuKernels),
    /// The wgpu kernels.
    #[cfg(feature = "gpu")]
    Gpu(spar_gpu::GpuKernels),
}

impl Backend {
    /// Fresh kernels of the selected backend (on the GPU: on its shared device).
    pub fn new(selected: &Selected) -> Self {
        match selected {
            Selected::Cpu { .. } => Self::cpu(),
            #[cfg(feature = "gpu")]
            Selected::Gpu(ctx) => Self::gpu(ctx.clone()),
        }
    }

    /// Fresh CPU kernels.
    pub fn cpu() -> Self {
        Backend::Cpu(CpuKernels::new())
    }

    /// Fresh GPU kernels on `ctx` (many kernels may share one device).
    #[cfg(feature = "gpu")]
    pub fn gpu(ctx: alloc::sync::Arc<spar_gpu::GpuContext>) -> Self {
        Backend::Gpu(spar_gpu::GpuKernels::new(ctx))
    }

    /// Whether these are the GPU kernels.
    pub fn is_gpu(&self) -> bool {
        !matches!(self, Backend::Cpu(_))
    }
}

impl core::fmt::Debug for Backend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Backend::Cpu(_) => f.write_str("Backend::Cpu"),
            #[cfg(feature = "gpu")]
            Backend::Gpu(k) => f.debug_tuple("Backend::Gpu").field(k).finish(),
        }
    }
}

impl From<CpuKernels> for Backend {
    fn from(k: CpuKernels) -> Self {
        Backend::Cpu(k)
    }
}

#[cfg(feature = "gpu")]
impl From<spar_gpu::GpuKernels> for Backend {
    fn from(k: spar_gpu::GpuKernels) -> Self {
        Backend::Gpu(k)
    }
}

/// Writes `Kernels` methods of [`Backend`] that pass their arguments to the kernels held.
macro_rules! delegate {
    ($($(#[$attr:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)?;)*) => {
        $(
            $(#[$attr])*
            fn $name(&mut self $(, $arg: $ty)*) $(-> $ret)? {
                match self {
                    Backend::Cpu(k) => k.$name($($arg),*),
                    #[cfg(feature = "gpu")]
                    Backend::Gpu(k) => k.$name($($arg),*),
                }
            }
        )*
    };
}

impl Kernels for Backend {
    fn read_is_immediate(&self) -> bool {
        match self {
            Backend::Cpu(k) => k.read_is_immediate(),
            #[cfg(feature = "gpu")]
            Backend::Gpu(k) => k.read_is_immediate(),
        }
    }

    // The read-backs are `async`: the call is made when the future is first polled (callers
    // await it at once; the borrow of the kernels allows nothing else meanwhile).
    #[allow(clippy::manual_async_fn)]
    fn read(&mut self, src: Slice, dst: &mut [f32]) -> impl Future<Output = ()> {
        async move {
            match self {
                Backend::Cpu(k) => k.read(src, dst).await,
                #[cfg(feature = "gpu")]
                Backend::Gpu(k) => k.read(src, dst).await,
            }
        }
    }

    #[allow(clippy::manual_async_fn)]
    fn read_ids(&mut self, src: IdSlice, dst: &mut [u32]) -> impl Future<Output = ()> {
        async move {
            match self {
                Backend::Cpu(k) => k.read_ids(src, dst).await,
                #[cfg(feature = "gpu")]
                Backend::Gpu(k) => k.read_ids(src, dst).await,
            }
        }
    }

    delegate! {
        fn take_backend_error(&mut self) -> Option<String>;
        fn alloc(&mut self, len: usize) -> BufId;
        fn alloc_ids(&mut self, len: usize) -> IdBufId;
        fn write(&mut self, dst: Slice, src: &[f32]);
        fn write_ids(&mut self, dst: IdSlice, src: &[u32]);
        fn fill(&mut self, dst: Slice, value: f32);
        fn copy(&mut self, dst: Slice, src: Slice);
        fn embedding_forward(
            &mut self,
            out: Slice,
            tokens: IdSlice,
            wte: Slice,
            wpe: Slice,
            s: EmbedShape,
        );
        fn embedding_backward(
            &mut self,
            dwte: Slice,
            dwpe: Slice,
            dout: Slice,
            tokens: IdSlice,
            s: EmbedShape,
        );
        #[allow(clippy::too_many_arguments)]
        fn layernorm_forward(
            &mut self,
            out: Slice,
            mean: Slice,
            rstd: Slice,
            inp: Slice,
            weight: Slice,
            bias: Slice,
            s: RowShape,
            eps: f32,
        );
        #[allow(clippy::too_many_arguments)]
        fn layernorm_backward(
            &mut self,
            dinp: Slice,
            dweight: Slice,
            dbias: Slice,
            dout: Slice,
            inp: Slice,
            weight: Slice,
            mean: Slice,
            rstd: Slice,
            s: RowShape,
        );
        fn matmul_forward(
            &mut self,
            out: Slice,
            inp: Slice,
            weight: Slice,
            bias: Option<Slice>,
            s: MatmulShape,
        );
        #[allow(clippy::too_many_arguments)]
        fn matmul_backward(
            &mut self,
            dinp: Slice,
            dweight: Slice,
            dbias: Option<Slice>,
            dout: Slice,
            inp: Slice,
            weight: Slice,
            s: MatmulShape,
        );
        fn attention_forward(&mut self, out: Slice, att: Slice, qkv: Slice, s: AttnShape);
        fn attention_backward(
            &mut self,
            dqkv: Slice,
            datt: Slice,
            dout: Slice,
            qkv: Slice,
            att: Slice,
            s: AttnShape,
        );
        fn gelu_forward(&mut self, out: Slice, inp: Slice, n: usize);
        fn gelu_backward(&mut self, dinp: Slice, dout: Slice, inp: Slice, n: usize);
        fn residual_forward(&mut self, out: Slice, a: Slice, b: Slice, n: usize);
        fn residual_backward(&mut self, da: Slice, db: Slice, dout: Slice, n: usize);
        #[allow(clippy::too_many_arguments)]
        fn logprob_forward(
            &mut self,
            logp: Slice,
            entropy: Option<Slice>,
            lse: Slice,
            x: Slice,
            wte: Slice,
            targets: IdSlice,
            scratch: Slice,
            s: HeadShape,
        );
        #[allow(clippy::too_many_arguments)]
        fn logprob_backward(
            &mut self,
            dx: Slice,
            dwte: Slice,
            weights: Slice,
            entropy_weights: Option<Slice>,
            x: Slice,
            wte: Slice,
            targets: IdSlice,
            lse: Slice,
            entropy: Option<Slice>,
            scratch: Slice,
            s: HeadShape,
        );
        fn logits_forward(&mut self, logits: Slice, x: Slice, wte: Slice, s: HeadShape);
        #[allow(clippy::too_many_arguments)]
        fn attention_decode(
            &mut self,
            out: Slice,
            k_cache: Slice,
            v_cache: Slice,
            att: Slice,
            qkv: Slice,
            s: DecodeShape,
        );
        fn sample(
            &mut self,
            tokens: IdSlice,
            logprobs: Slice,
            logits: Slice,
            prompt_lens: IdSlice,
            a: SampleArgs,
        );
        fn sum_squares(&mut self, out: Slice, inp: Slice);
        #[allow(clippy::too_many_arguments)]
        fn adamw(
            &mut self,
            params: Slice,
            grads: Slice,
            m: Slice,
            v: Slice,
            decay_mask: Slice,
            norm_sq: Slice,
            a: AdamWArgs,
        );
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

/// What `backend = auto` makes of the adapter request: the device when [`auto_accepts`]
/// its kind, else the CPU with the reason (a software adapter, or none at all: no driver,
/// or only a GL one, which is looked for only when asked, see `spar_gpu::BACKENDS_ENV`).
#[cfg(feature = "gpu")]
pub fn auto_choice(
    found: Result<alloc::sync::Arc<spar_gpu::GpuContext>, spar_gpu::GpuError>,
) -> Selected {
    match found {
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
    }
}

/// Resolves `name` to a backend (see the module docs for the rules), blocking on the GPU
/// adapter request. Not in a browser with the `gpu` feature (nothing may block there): use
/// [`select_backend_async`].
#[cfg(not(all(feature = "gpu", target_arch = "wasm32")))]
pub fn select_backend(name: BackendName) -> Result<Selected, TrainError> {
    spar_model::block_on(select_backend_async(name))
}

/// [`select_backend`] for callers that can await the adapter request (a browser).
pub async fn select_backend_async(name: BackendName) -> Result<Selected, TrainError> {
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
        BackendName::Auto => Ok(auto_choice(spar_gpu::GpuContext::new().await)),
        #[cfg(feature = "gpu")]
        BackendName::Gpu => spar_gpu::GpuContext::new()
            .await
            .map(Selected::Gpu)
            .map_err(|e| {
                TrainError::BackendUnavailable(alloc::format!(
                    "`gpu` was asked for but no usable GPU adapter was found: {e}"
                ))
            }),
    }
}

/// A trainer on the selected backend (the model and the reference model get their own
/// kernels, on the same device), checked for an error its initialisation recorded.
pub fn trainer(
    selected: &Selected,
    config: crate::TrainConfig,
) -> Result<Trainer<Backend>, TrainError> {
    let selected = selected.clone();
    let mut t = Trainer::new(
        config,
        alloc::boxed::Box::new(move || Backend::new(&selected)),
    )?;
    t.check_backend("initialisation")?;
    Ok(t)
}

/// A trainer on the CPU kernels, typed as such (e.g. to hold the backends to each other).
pub fn cpu_trainer(config: crate::TrainConfig) -> Result<Trainer<CpuKernels>, TrainError> {
    Trainer::new(config, alloc::boxed::Box::new(CpuKernels::new))
}

/// A trainer on the GPU kernels of `ctx` (the model and the reference model share the
/// device), typed as such; checked like [`trainer`].
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

/// Turns an error the kernels recorded since the last check
/// ([`Kernels::take_backend_error`]) into [`TrainError::Backend`] naming `step` and what
/// ran (`Ok` on the CPU, which never records one, unless a test reports the device lost at
/// `step` through [`crate::faults::lose_device_at`]).
pub fn check_kernels<K: Kernels>(
    kernels: &mut K,
    step: u32,
    during: &'static str,
) -> Result<(), TrainError> {
    let injected =
        crate::faults::device_lost_due(step).then(|| crate::faults::DEVICE_LOST_MESSAGE.into());
    match injected.or_else(|| kernels.take_backend_error()) {
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
    use spar_model::block_on;

    /// An injected device loss is the error a real one gives, at its step only. (A step no
    /// other test reaches, since the fault is process-wide.)
    #[test]
    fn an_injected_device_loss_names_its_step() {
        let far = u32::MAX - 1;
        crate::faults::lose_device_at(Some(far));
        let mut k = CpuKernels::new();
        let lost = check_kernels(&mut k, far, "self-play step");
        let before = check_kernels(&mut k, far - 1, "self-play step");
        crate::faults::lose_device_at(None);
        assert!(before.is_ok());
        let e = lost.unwrap_err().to_string();
        assert!(
            e.contains("self-play step at step 4294967294: device lost"),
            "{e}"
        );
        assert!(check_kernels(&mut k, far, "self-play step").is_ok());
    }

    #[test]
    fn cpu_is_always_available() {
        let s = select_backend(BackendName::Cpu).unwrap();
        assert!(!s.is_gpu());
        assert_eq!(s.describe(), "cpu");
        assert!(!Backend::new(&s).is_gpu());
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

    /// A request on no graphics API at all finds no adapter, as on a machine without a
    /// driver; `auto` then takes the CPU and says why. (Unless `SPAR_WGPU_BACKENDS` or
    /// `WGPU_BACKEND` is set: either replaces the empty set, and the test says so.)
    #[cfg(feature = "gpu")]
    #[test]
    fn auto_without_an_adapter_is_the_cpu_and_says_why() {
        let nowhere = spar_gpu::GpuOptions {
            backends: spar_gpu::Backends::empty(),
            ..Default::default()
        };
        if !nowhere.resolved_backends().is_empty() {
            std::println!("skipped: the environment names graphics APIs");
            return;
        }
        let found = spar_model::block_on(spar_gpu::GpuContext::with_options(nowhere));
        assert!(
            matches!(&found, Err(spar_gpu::GpuError::NoAdapter(_))),
            "{found:?}"
        );
        match auto_choice(found) {
            Selected::Cpu {
                fallback: Some(why),
            } => assert!(why.contains("no usable GPU adapter"), "{why}"),
            other => panic!("auto without an adapter selected {}", other.describe()),
        }
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

    /// A few operations and both read-backs on `k`: (the GELU of a matmul, ids back).
    fn ops<K: Kernels>(k: &mut K) -> (Vec<f32>, Vec<u32>) {
        let s = MatmulShape {
            rows: 2,
            k: 3,
            n: 2,
        };
        let at = |buf, len| Slice {
            buf,
            offset: 0,
            len,
        };
        let (inp, w, out) = (k.alloc(6), k.alloc(6), k.alloc(4));
        k.write(at(inp, 6), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        k.write(at(w, 6), &[0.5, -1.0, 0.25, 2.0, -0.75, 1.5]);
        k.matmul_forward(at(out, 4), at(inp, 6), at(w, 6), None, s);
        k.gelu_forward(at(inp, 4), at(out, 4), 4);
        let mut host = vec![0.0; 4];
        block_on(k.read(at(inp, 4), &mut host));
        let ids = k.alloc_ids(3);
        let id_slice = IdSlice {
            buf: ids,
            offset: 0,
            len: 3,
        };
        k.write_ids(id_slice, &[7, 8, 9]);
        let mut back = vec![0; 3];
        block_on(k.read_ids(id_slice, &mut back));
        assert_eq!(k.take_backend_error(), None);
        (host, back)
    }

    /// The enum hands every call to the kernels it holds: the same operations on
    /// `Backend::Cpu` and on bare CPU kernels give the same numbers.
    #[test]
    fn the_cpu_variant_computes_what_the_cpu_kernels_compute() {
        let mut b = Backend::cpu();
        assert!(b.read_is_immediate());
        let mut c = CpuKernels::new();
        let (x, ids) = ops(&mut b);
        assert_eq!((x, ids.clone()), ops(&mut c));
        assert_eq!(ids, [7, 8, 9]);
    }

    /// The same on the GPU variant (held to the CPU kernels within float tolerance), and an
    /// error it records comes out of `take_backend_error` once. Skipped without an adapter
    /// unless `SPAR_REQUIRE_GPU=1`.
    #[cfg(feature = "gpu")]
    #[test]
    fn the_gpu_variant_computes_what_the_cpu_kernels_compute_and_reports_errors() {
        let sel = match select_backend(BackendName::Gpu) {
            Ok(sel) => sel,
            Err(e) => {
                assert!(
                    std::env::var("SPAR_REQUIRE_GPU").as_deref() != Ok("1"),
                    "SPAR_REQUIRE_GPU=1 but no GPU: {e}"
                );
                std::println!("skipped: no GPU adapter");
                return;
            }
        };
        let mut g = Backend::new(&sel);
        assert!(g.is_gpu() && !g.read_is_immediate());
        let (gx, gids) = ops(&mut g);
        let (cx, cids) = ops(&mut CpuKernels::new());
        assert_eq!(gids, cids);
        for (a, b) in gx.iter().zip(&cx) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{gx:?} vs {cx:?}");
        }
        // A buffer over the device's limit is recorded, not panicked on.
        let _ = g.alloc(usize::MAX / 8);
        let e = g
            .take_backend_error()
            .expect("the oversized buffer is reported");
        assert!(e.contains("max_buffer_size"), "{e}");
        assert_eq!(g.take_backend_error(), None, "taken once");
        assert!(check_kernels(&mut g, 3, "test").is_ok());
    }
}
