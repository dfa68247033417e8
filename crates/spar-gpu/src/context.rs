//! The device, its limits, the bind-group layouts and every compute pipeline, made once and
//! shared (through an `Arc`) by any number of [`crate::GpuKernels`].

use crate::shaders::{variant, Pipe, PIPELINES};
use crate::{FeaturesInUse, GpuError, GpuOptions};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Largest number of storage bindings one kernel uses (WebGPU guarantees 8 per stage).
pub(crate) const MAX_STORAGE_BINDINGS: u32 = 6;
/// Invocations per workgroup every kernel uses (WebGPU guarantees 256).
pub(crate) const WORKGROUP: u32 = 256;
/// Workgroup storage the largest kernel uses (matmul: two 16×64 f32 tiles; the fused
/// attention: two 256-float reduction arrays, a q row and the A·V partials, 4 KiB).
pub(crate) const WORKGROUP_STORAGE: u32 = 8192;

/// A GPU device with the spar kernels compiled for it.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) features: wgpu::Features,
    pub(crate) in_use: FeaturesInUse,
    /// Bind-group layout with a dynamic uniform at 0 and `n` storage buffers at `1..=n`.
    pub(crate) layouts: Vec<wgpu::BindGroupLayout>,
    pub(crate) pipes: HashMap<Pipe, (wgpu::ComputePipeline, u32)>,
    /// The first asynchronous error (validation, out of memory, device lost).
    pub(crate) errors: Arc<Mutex<Option<GpuError>>>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .field("features_in_use", &self.in_use)
            .finish()
    }
}

fn need(what: &'static str, needed: u64, limit: u64) -> Result<(), GpuError> {
    if limit < needed {
        return Err(GpuError::AdapterTooSmall {
            what,
            needed,
            limit,
        });
    }
    Ok(())
}

impl GpuContext {
    /// [`GpuContext::with_options`] with the default options (subgroups where offered,
    /// f32 products, unfused attention).
    pub async fn new() -> Result<Arc<Self>, GpuError> {
        Self::with_options(GpuOptions::default()).await
    }

    /// Finds an adapter (high-performance preference) on the graphics APIs
    /// [`GpuOptions::resolved_backends`] names (wgpu's primary ones unless GL is asked for),
    /// requests a device with the adapter's
    /// own limits (so large configurations can use what the hardware offers beyond WebGPU's
    /// defaults) and the optional features `options` asks for *that the adapter offers*
    /// (`SUBGROUP`, `SHADER_F16`), checks the limits the kernels need and compiles every
    /// pipeline in the variant those features allow. Asynchronous because the browser's
    /// adapter and device requests are.
    pub async fn with_options(options: GpuOptions) -> Result<Arc<Self>, GpuError> {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        descriptor.backends = options.resolved_backends();
        let instance = wgpu::Instance::new(descriptor);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let al = adapter.limits();
        need(
            "max_compute_invocations_per_workgroup",
            WORKGROUP as u64,
            al.max_compute_invocations_per_workgroup as u64,
        )?;
        need(
            "max_compute_workgroup_size_x",
            WORKGROUP as u64,
            al.max_compute_workgroup_size_x as u64,
        )?;
        need(
            "max_compute_workgroup_storage_size",
            WORKGROUP_STORAGE as u64,
            al.max_compute_workgroup_storage_size as u64,
        )?;
        need(
            "max_storage_buffers_per_shader_stage",
            MAX_STORAGE_BINDINGS as u64,
            al.max_storage_buffers_per_shader_stage as u64,
        )?;
        need(
            "max_dynamic_uniform_buffers_per_pipeline_layout",
            1,
            al.max_dynamic_uniform_buffers_per_pipeline_layout as u64,
        )?;
        let offered = adapter.features();
        let in_use = FeaturesInUse {
            subgroups: options.subgroups && offered.contains(wgpu::Features::SUBGROUP),
            f16_forward: options.f16_forward && offered.contains(wgpu::Features::SHADER_F16),
            fused_attention: options.fused_attention,
        };
        let mut required_features = wgpu::Features::empty();
        if in_use.subgroups {
            required_features |= wgpu::Features::SUBGROUP;
        }
        if in_use.f16_forward {
            required_features |= wgpu::Features::SHADER_F16;
        }
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("spar-gpu"),
                required_features,
                required_limits: al.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        let errors: Arc<Mutex<Option<GpuError>>> = Arc::new(Mutex::new(None));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let err = match e {
                wgpu::Error::OutOfMemory { source } => GpuError::OutOfMemory(source.to_string()),
                wgpu::Error::Validation { description, .. } => GpuError::Validation(description),
                wgpu::Error::Internal { description, .. } => GpuError::Validation(description),
            };
            let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(err);
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if reason != wgpu::DeviceLostReason::Destroyed {
                let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(GpuError::DeviceLost(msg));
            }
        });
        let layouts: Vec<wgpu::BindGroupLayout> = (0..=MAX_STORAGE_BINDINGS)
            .map(|n| {
                let mut entries = vec![wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: None,
                    },
                    count: None,
                }];
                for b in 1..=n {
                    entries.push(wgpu::BindGroupLayoutEntry {
                        binding: b,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Storage { read_only: false },
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        count: None,
                    });
                }
                device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: None,
                    entries: &entries,
                })
            })
            .collect();
        let pipeline_layouts: Vec<wgpu::PipelineLayout> = layouts
            .iter()
            .map(|l| {
                device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: None,
                    bind_group_layouts: &[Some(l)],
                    immediate_size: 0,
                })
            })
            .collect();
        let mut modules: HashMap<String, wgpu::ShaderModule> = HashMap::new();
        let mut pipes = HashMap::new();
        for &(pipe, src, entry, n) in PIPELINES {
            if pipe == Pipe::MatmulF16 && !in_use.f16_forward {
                continue;
            }
            let code = variant(pipe, src, in_use.subgroups);
            let module = modules.entry(code).or_insert_with_key(|code| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(entry),
                    source: wgpu::ShaderSource::Wgsl(code.as_str().into()),
                })
            });
            let p = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layouts[n as usize]),
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
            pipes.insert(pipe, (p, n));
        }
        let ctx = Self {
            info: adapter.get_info(),
            features: offered,
            in_use,
            limits: device.limits(),
            device,
            queue,
            layouts,
            pipes,
            errors,
        };
        if let Some(e) = ctx.take_error() {
            return Err(e);
        }
        Ok(Arc::new(ctx))
    }

    /// [`GpuContext::new`] driven to completion on the current thread (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<Arc<Self>, GpuError> {
        spar_model::block_on(Self::new())
    }

    /// [`GpuContext::with_options`] driven to completion on the current thread (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_options_blocking(options: GpuOptions) -> Result<Arc<Self>, GpuError> {
        spar_model::block_on(Self::with_options(options))
    }

    /// The adapter's name and backend, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)"`.
    pub fn adapter_name(&self) -> String {
        format!("{} ({:?})", self.info.name, self.info.backend)
    }

    /// The graphics API the adapter runs on (`Vulkan`, `Metal`, `Dx12`, `Gl`, `BrowserWebGpu`).
    pub fn backend(&self) -> wgpu::Backend {
        self.info.backend
    }

    /// The device's limits (the adapter's, as requested).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// Optional features the adapter offers (`SHADER_F16`, `SUBGROUP`, ...), whether or not
    /// they are in use (see [`GpuContext::features_in_use`]).
    pub fn adapter_features(&self) -> wgpu::Features {
        self.features
    }

    /// The optional paths this context compiled: asked for in its [`GpuOptions`] and offered
    /// by the adapter.
    pub fn features_in_use(&self) -> FeaturesInUse {
        self.in_use
    }

    /// The adapter's kind: `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` (a software
    /// rasteriser such as lavapipe or SwiftShader) or `Other` (unknown; wgpu's browser
    /// backend reports little about the adapter).
    pub fn device_type(&self) -> wgpu::DeviceType {
        self.info.device_type
    }

    /// The adapter's subgroup sizes `(min, max)` as wgpu reports them (meaningful when
    /// `SUBGROUP` is offered).
    pub fn subgroup_sizes(&self) -> (u32, u32) {
        (self.info.subgroup_min_size, self.info.subgroup_max_size)
    }

    /// Takes the first asynchronous error recorded since the last call, if any.
    pub fn take_error(&self) -> Option<GpuError> {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The shared state of one buffer mapping: the `map_async` callback fills it and wakes the
/// awaiting task (a oneshot channel).
#[derive(Default)]
pub(crate) struct MapState {
    result: Option<Result<(), wgpu::BufferAsyncError>>,
    waker: Option<Waker>,
}

/// Resolves when a `map_async` completes. In the browser the callback wakes it; natively it
/// drives the device itself (`poll(Wait)`), since nothing else would.
pub(crate) struct MapWait {
    pub(crate) state: Arc<Mutex<MapState>>,
    // Natively the future polls the device; the browser drives mapping on its own.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) device: wgpu::Device,
}

impl MapWait {
    /// Starts mapping `slice` for reading.
    pub(crate) fn start(device: &wgpu::Device, slice: wgpu::BufferSlice<'_>) -> Self {
        let state = Arc::new(Mutex::new(MapState::default()));
        let s = state.clone();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let mut st = s.lock().unwrap_or_else(|p| p.into_inner());
            st.result = Some(r);
            if let Some(w) = st.waker.take() {
                w.wake();
            }
        });
        Self {
            state,
            device: device.clone(),
        }
    }
}

impl Future for MapWait {
    type Output = Result<(), GpuError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(r) = st.result.take() {
                return Poll::Ready(r.map_err(|_| GpuError::ReadbackFailed));
            }
            st.waker = Some(cx.waker().clone());
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            if let Err(e) = self.device.poll(wgpu::PollType::wait_indefinitely()) {
                return Poll::Ready(Err(GpuError::DeviceLost(e.to_string())));
            }
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(r) = st.result.take() {
                return Poll::Ready(r.map_err(|_| GpuError::ReadbackFailed));
            }
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}
