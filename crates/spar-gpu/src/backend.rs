//! [`GpuKernels`]: buffers, the command recorder and the read-back; the [`Kernels`] methods
//! themselves are in `kernels.rs`.
//!
//! Recording: every kernel call appends a dispatch (pipeline, cached bind group, the offset
//! of its parameters in one large uniform buffer) to a list; host writes append their bytes
//! to an upload arena and a copy to the list, so writes stay ordered with the kernels around
//! them without a submission of their own. A read submits the list once (the compute passes,
//! the copies and the copy into the read-back buffer), then awaits `map_async`.
//!
//! Bindings: every slice is bound as its own window of its buffer, starting at the slice's
//! byte offset rounded down to `min_storage_buffer_offset_alignment`; the rest of the offset
//! reaches the shader as an element offset in the parameters. All storage bindings are
//! writable (`read_write`): the model keeps inputs and outputs of one kernel in one arena,
//! and WebGPU's usage rules forbid one buffer to be bound both writable and read-only in a
//! dispatch. WebGPU also forbids a writable binding to overlap any other binding of the same
//! dispatch, which native Vulkan does not check; so [`GpuKernels::dispatch`] checks it here,
//! on every backend, and reports a violation as [`GpuError::BindingOverlap`]. What keeps
//! windows apart: the model pads every tensor to 64 floats (256 bytes, WebGPU's largest
//! allowed offset alignment), so a window rounded down never reaches the tensor before it;
//! absent operands get their own window of the dummy buffer per binding index; and a
//! product whose two inputs overlap (q·kᵀ from one qkv tensor) binds their union once.

use crate::context::MAX_STORAGE_BINDINGS;
use crate::context::{GpuContext, MapWait};
use crate::shaders::{Pipe, PIPELINES};
use crate::GpuError;
use spar_model::kernels::{BufId, IdBufId, IdSlice, Slice};
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes of uniform parameters one submission can hold; a longer recording is split into
/// several submissions (e.g. a long rollout of a large model).
const UNIFORM_CAP: u64 = 4 << 20;
/// Bytes of one dispatch's parameters (the largest `Params` struct is 88 bytes).
const PARAMS_BYTES: u64 = 128;

/// A storage binding: buffer, byte offset, byte size.
pub(crate) type Bind = (u32, u64, u64);

/// Bytes of one window of the dummy buffer (one per binding index, so that absent operands
/// of one dispatch never share bytes); a multiple of every allowed offset alignment.
const DUMMY_WINDOW: u64 = 256;

/// Whether two bindings share a byte of one buffer: the shared range when they do.
pub(crate) fn overlap(x: Bind, y: Bind) -> Option<(u64, u64)> {
    let start = x.1.max(y.1);
    let end = (x.1 + x.2).min(y.1 + y.2);
    (x.0 == y.0 && start < end).then_some((start, end))
}

enum Op {
    Dispatch {
        pipe: Pipe,
        bind_group: usize,
        dyn_offset: u32,
        groups: [u32; 3],
    },
    Upload {
        src: u64,
        dst: u32,
        dst_offset: u64,
        size: u64,
    },
}

/// The wgpu backend of the GPT: implements [`spar_model::Kernels`].
///
/// Errors cannot travel through the trait's methods (on the CPU nothing fails), so the
/// backend records the first one; check [`GpuKernels::take_error`] (or, through the trait,
/// [`spar_model::Kernels::take_backend_error`]) after a step and stop the run when it
/// returns one.
pub struct GpuKernels {
    pub(crate) ctx: Arc<GpuContext>,
    bufs: Vec<wgpu::Buffer>,
    f32_bufs: Vec<u32>,
    id_bufs: Vec<u32>,
    /// A small buffer bound where a kernel has no operand (absent optional inputs).
    pub(crate) dummy: u32,
    /// 256 partial sums of the squared-norm reduction.
    pub(crate) partials: u32,
    /// Partial sums of two-pass row reductions (LayerNorm's dweight/dbias): buffer and its
    /// length in floats, grown on demand.
    part: Option<(u32, usize)>,
    uniform: wgpu::Buffer,
    uniform_bytes: Vec<u8>,
    slot: u64,
    upload: Option<wgpu::Buffer>,
    upload_bytes: Vec<u8>,
    readback: Option<wgpu::Buffer>,
    ops: Vec<Op>,
    bind_group_ids: HashMap<(u32, Vec<Bind>), usize>,
    bind_groups: Vec<wgpu::BindGroup>,
    error: Option<GpuError>,
    submissions: u64,
    same_buffer_pairs: u64,
}

impl std::fmt::Debug for GpuKernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuKernels")
            .field("adapter", &self.ctx.info.name)
            .field("buffers", &self.bufs.len())
            .finish()
    }
}

impl GpuKernels {
    /// A backend on a shared device (many backends may share one [`GpuContext`]).
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        let slot = (ctx.limits.min_uniform_buffer_offset_alignment as u64).max(256);
        let uniform = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("spar params"),
            size: UNIFORM_CAP,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut k = Self {
            ctx,
            bufs: Vec::new(),
            f32_bufs: Vec::new(),
            id_bufs: Vec::new(),
            dummy: 0,
            partials: 0,
            part: None,
            uniform,
            uniform_bytes: Vec::new(),
            slot,
            upload: None,
            upload_bytes: Vec::new(),
            readback: None,
            ops: Vec::new(),
            bind_group_ids: HashMap::new(),
            bind_groups: Vec::new(),
            error: None,
            submissions: 0,
            same_buffer_pairs: 0,
        };
        k.dummy = k.create_buffer(DUMMY_WINDOW * (MAX_STORAGE_BINDINGS as u64 + 1));
        k.partials = k.create_buffer(256 * 4);
        k
    }

    /// Creates a context ([`GpuContext::new`]) and a backend on it.
    pub async fn create() -> Result<Self, GpuError> {
        Ok(Self::new(GpuContext::new().await?))
    }

    /// The shared device.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// The optional paths in use (subgroups, f16 forward products, fused attention): the
    /// context's [`GpuContext::features_in_use`].
    pub fn features_in_use(&self) -> crate::FeaturesInUse {
        self.ctx.in_use
    }

    /// Queue submissions made so far (a train step makes two, a rollout one plus its reads).
    pub fn submissions(&self) -> u64 {
        self.submissions
    }

    /// Pairs of storage bindings, over all dispatches recorded so far, that shared a buffer
    /// and were checked to cover disjoint bytes (tests use it to show the check ran).
    pub fn same_buffer_binding_pairs(&self) -> u64 {
        self.same_buffer_pairs
    }

    /// Takes the first error since the last call: this backend's (a shape over a limit, a
    /// failed read-back) or the device's (validation, out of memory, device lost).
    pub fn take_error(&mut self) -> Option<GpuError> {
        self.error.take().or_else(|| self.ctx.take_error())
    }

    /// `Ok` when no error happened since the last check (see [`GpuKernels::take_error`]).
    pub fn check(&mut self) -> Result<(), GpuError> {
        self.take_error().map_or(Ok(()), Err)
    }

    pub(crate) fn fail(&mut self, e: GpuError) {
        self.error.get_or_insert(e);
    }

    fn create_buffer(&mut self, bytes: u64) -> u32 {
        let size = bytes.max(4).next_multiple_of(4);
        if size > self.ctx.limits.max_buffer_size {
            self.fail(GpuError::LimitExceeded {
                what: "max_buffer_size",
                needed: size,
                limit: self.ctx.limits.max_buffer_size,
            });
        }
        // Over the limit: the error is recorded and a 4-byte stand-in keeps the ids valid.
        let size = if size > self.ctx.limits.max_buffer_size {
            4
        } else {
            size
        };
        // Natively the scope's result is ready at once; in the browser the device's
        // uncaptured-error handler reports out-of-memory instead (nothing may block there).
        #[cfg(not(target_arch = "wasm32"))]
        let scope = self
            .ctx
            .device
            .push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buf = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(e) = spar_model::block_on(scope.pop()) {
            self.fail(GpuError::OutOfMemory(e.to_string()));
        }
        self.bufs.push(buf);
        (self.bufs.len() - 1) as u32
    }

    pub(crate) fn alloc_f32(&mut self, len: usize) -> BufId {
        let b = self.create_buffer((len as u64).saturating_mul(4));
        self.f32_bufs.push(b);
        BufId((self.f32_bufs.len() - 1) as u32)
    }

    pub(crate) fn alloc_u32(&mut self, len: usize) -> IdBufId {
        let b = self.create_buffer((len as u64).saturating_mul(4));
        self.id_bufs.push(b);
        IdBufId((self.id_bufs.len() - 1) as u32)
    }

    /// The binding for `len` elements at `offset` of internal buffer `buf`, and the element
    /// offset of the range inside it: a window from the aligned byte offset at or below the
    /// range's start to the range's end (never the whole buffer: two slices of one buffer in
    /// one dispatch must not overlap, see the module docs).
    pub(crate) fn bind_raw(&mut self, buf: u32, offset: usize, len: usize) -> (Bind, u32) {
        let size = self.bufs[buf as usize].size();
        let limit = self.ctx.limits.max_storage_buffer_binding_size;
        let align = self.ctx.limits.min_storage_buffer_offset_alignment as u64;
        let start = offset as u64 * 4;
        let base = start / align * align;
        let end = ((offset + len.max(1)) as u64 * 4).min(size);
        if base >= end {
            // Out of the buffer (a stand-in after a failed allocation): bind nothing real.
            return (self.dummy_bind(), 0);
        }
        if end - base > limit {
            self.fail(GpuError::LimitExceeded {
                what: "max_storage_buffer_binding_size",
                needed: end - base,
                limit,
            });
            return (self.dummy_bind(), 0);
        }
        ((buf, base, end - base), ((start - base) / 4) as u32)
    }

    /// A scratch buffer of at least `floats` floats for partial sums (one per backend, grown
    /// on demand; dispatches recorded earlier keep the buffer they bound).
    pub(crate) fn scratch_part(&mut self, floats: usize) -> u32 {
        match self.part {
            Some((b, len)) if len >= floats => b,
            _ => {
                let len = floats.next_power_of_two().max(1024);
                let b = self.create_buffer(len as u64 * 4);
                self.part = Some((b, len));
                b
            }
        }
    }

    /// The binding of an absent operand; [`GpuKernels::dispatch`] moves it to the dummy
    /// buffer's window for its binding index.
    pub(crate) fn dummy_bind(&self) -> Bind {
        (self.dummy, 0, DUMMY_WINDOW)
    }

    /// Binding of an `f32` slice (a zero-length slice binds the dummy buffer).
    pub(crate) fn bind(&mut self, s: Slice) -> (Bind, u32) {
        if s.len == 0 {
            return (self.dummy_bind(), 0);
        }
        let b = self.f32_bufs[s.buf.0 as usize];
        self.bind_raw(b, s.offset, s.len)
    }

    /// Binding of a `u32` slice.
    pub(crate) fn bind_ids(&mut self, s: IdSlice) -> (Bind, u32) {
        if s.len == 0 {
            return (self.dummy_bind(), 0);
        }
        let b = self.id_bufs[s.buf.0 as usize];
        self.bind_raw(b, s.offset, s.len)
    }

    /// Records one dispatch of `pipe` with storage bindings `binds` (in binding order from 1)
    /// and parameters `params` (u32 words; floats as their bits).
    pub(crate) fn dispatch(
        &mut self,
        pipe: Pipe,
        binds: &[Bind],
        params: &[u32],
        groups: [u32; 3],
    ) {
        if groups.contains(&0) {
            return;
        }
        let max = self.ctx.limits.max_compute_workgroups_per_dimension;
        if let Some(&g) = groups.iter().find(|&&g| g > max) {
            self.fail(GpuError::LimitExceeded {
                what: "max_compute_workgroups_per_dimension",
                needed: g as u64,
                limit: max as u64,
            });
            return;
        }
        let n = self.ctx.pipes[&pipe].1;
        debug_assert_eq!(binds.len(), n as usize, "{pipe:?} binds");
        let mut binds = binds.to_vec();
        for (i, b) in binds.iter_mut().enumerate() {
            if b.0 == self.dummy {
                *b = (self.dummy, i as u64 * DUMMY_WINDOW, DUMMY_WINDOW);
            }
        }
        // WebGPU's rule (writable storage bindings must not alias): checked here, on every
        // backend, so that native tests catch what only the browser would reject.
        for i in 0..binds.len() {
            for j in i + 1..binds.len() {
                if binds[i].0 != binds[j].0 {
                    continue;
                }
                if let Some(bytes) = overlap(binds[i], binds[j]) {
                    let kernel = PIPELINES.iter().find(|p| p.0 == pipe).map_or("?", |p| p.2);
                    self.fail(GpuError::BindingOverlap {
                        kernel,
                        bindings: (i as u32 + 1, j as u32 + 1),
                        bytes,
                    });
                    return;
                }
                self.same_buffer_pairs += 1;
            }
        }
        if self.uniform_bytes.len() as u64 + self.slot > UNIFORM_CAP {
            self.flush(None);
        }
        let dyn_offset = self.uniform_bytes.len() as u32;
        let mut words = [0u32; (PARAMS_BYTES / 4) as usize];
        words[..params.len()].copy_from_slice(params);
        self.uniform_bytes
            .extend_from_slice(bytemuck::cast_slice(&words));
        self.uniform_bytes
            .resize(dyn_offset as usize + self.slot as usize, 0);
        let key = (n, binds.clone());
        let bind_group = match self.bind_group_ids.get(&key) {
            Some(&i) => i,
            None => {
                let mut entries = vec![wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.uniform,
                        offset: 0,
                        size: wgpu::BufferSize::new(PARAMS_BYTES),
                    }),
                }];
                for (i, &(b, off, size)) in binds.iter().enumerate() {
                    entries.push(wgpu::BindGroupEntry {
                        binding: i as u32 + 1,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: &self.bufs[b as usize],
                            offset: off,
                            size: wgpu::BufferSize::new(size),
                        }),
                    });
                }
                let bg = self
                    .ctx
                    .device
                    .create_bind_group(&wgpu::BindGroupDescriptor {
                        label: None,
                        layout: &self.ctx.layouts[n as usize],
                        entries: &entries,
                    });
                self.bind_groups.push(bg);
                self.bind_group_ids.insert(key, self.bind_groups.len() - 1);
                self.bind_groups.len() - 1
            }
        };
        self.ops.push(Op::Dispatch {
            pipe,
            bind_group,
            dyn_offset,
            groups,
        });
    }

    /// Workgroups for `n` independent items of 256 invocations each, folded into two
    /// dimensions when one is not enough (the shaders compute `(y·X + x)·256 + lid`).
    pub(crate) fn groups_1d(&self, items: usize) -> [u32; 3] {
        self.groups_rows(items.div_ceil(256))
    }

    /// Workgroups for `rows` workgroup-sized items (one workgroup each), two-dimensional.
    pub(crate) fn groups_rows(&self, rows: usize) -> [u32; 3] {
        let max = self.ctx.limits.max_compute_workgroups_per_dimension as usize;
        if rows == 0 {
            return [0, 0, 0];
        }
        let x = rows.min(max);
        [x as u32, rows.div_ceil(x) as u32, 1]
    }

    /// Records a host-to-device copy of `data` to byte `dst_offset` of internal buffer `dst`.
    pub(crate) fn upload(&mut self, dst: u32, dst_offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let src = self.upload_bytes.len() as u64;
        self.upload_bytes.extend_from_slice(data);
        self.upload_bytes
            .resize(self.upload_bytes.len().next_multiple_of(4), 0);
        self.ops.push(Op::Upload {
            src,
            dst,
            dst_offset,
            size: data.len() as u64,
        });
    }

    pub(crate) fn f32_buf(&self, b: BufId) -> u32 {
        self.f32_bufs[b.0 as usize]
    }

    pub(crate) fn id_buf(&self, b: IdBufId) -> u32 {
        self.id_bufs[b.0 as usize]
    }

    /// Submits everything recorded, plus a copy of `read` (buffer, byte offset, bytes) into
    /// the read-back buffer; returns the mapping to await when `read` is given.
    pub(crate) fn flush(&mut self, read: Option<(u32, u64, u64)>) -> Option<MapWait> {
        if self.ops.is_empty() && read.is_none() {
            return None;
        }
        let dev = &self.ctx.device;
        if !self.uniform_bytes.is_empty() {
            self.ctx
                .queue
                .write_buffer(&self.uniform, 0, &self.uniform_bytes);
        }
        if !self.upload_bytes.is_empty() {
            let need = self.upload_bytes.len() as u64;
            if self.upload.as_ref().is_none_or(|u| u.size() < need) {
                self.upload = Some(dev.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("spar upload"),
                    size: need.next_power_of_two(),
                    usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }));
            }
            if let Some(u) = &self.upload {
                self.ctx.queue.write_buffer(u, 0, &self.upload_bytes);
            }
        }
        if let Some((_, _, size)) = read {
            if self.readback.as_ref().is_none_or(|r| r.size() < size) {
                self.readback = Some(dev.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("spar read-back"),
                    size: size.next_power_of_two().max(256),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }));
            }
        }
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let mut i = 0;
        while i < self.ops.len() {
            if let Op::Upload {
                src,
                dst,
                dst_offset,
                size,
            } = self.ops[i]
            {
                if let Some(u) = &self.upload {
                    enc.copy_buffer_to_buffer(u, src, &self.bufs[dst as usize], dst_offset, size);
                }
                i += 1;
                continue;
            }
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: None,
            });
            while let Some(Op::Dispatch {
                pipe,
                bind_group,
                dyn_offset,
                groups,
            }) = self.ops.get(i)
            {
                pass.set_pipeline(&self.ctx.pipes[pipe].0);
                pass.set_bind_group(0, &self.bind_groups[*bind_group], &[*dyn_offset]);
                pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                i += 1;
            }
        }
        if let (Some((buf, off, size)), Some(rb)) = (read, &self.readback) {
            enc.copy_buffer_to_buffer(&self.bufs[buf as usize], off, rb, 0, size);
        }
        self.ctx.queue.submit([enc.finish()]);
        self.submissions += 1;
        self.ops.clear();
        self.uniform_bytes.clear();
        self.upload_bytes.clear();
        let rb = self.readback.as_ref()?;
        let (_, _, size) = read?;
        Some(MapWait::start(dev, rb.slice(0..size)))
    }

    /// Reads `bytes` bytes at byte `offset` of internal buffer `buf` into `dst` (asynchronous:
    /// submits, then awaits the mapping). On failure `dst` is left as is and the error kept.
    pub(crate) async fn read_bytes(&mut self, buf: u32, offset: u64, dst: &mut [u8]) {
        if dst.is_empty() {
            return;
        }
        let Some(wait) = self.flush(Some((buf, offset, dst.len() as u64))) else {
            return;
        };
        match wait.await {
            Ok(()) => {
                let mut ok = false;
                if let Some(rb) = &self.readback {
                    if let Ok(view) = rb.slice(0..dst.len() as u64).get_mapped_range() {
                        dst.copy_from_slice(&view);
                        ok = true;
                    }
                    rb.unmap();
                }
                if !ok {
                    self.fail(GpuError::ReadbackFailed);
                }
            }
            Err(e) => {
                self.fail(e);
            }
        }
    }

    /// Submits whatever is recorded without reading anything (benches use it to measure a
    /// step end to end together with [`GpuKernels::wait_idle`]).
    pub fn submit(&mut self) {
        let _ = self.flush(None);
    }

    /// Blocks until the device is idle (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn wait_idle(&mut self) {
        if let Err(e) = self.ctx.device.poll(wgpu::PollType::wait_indefinitely()) {
            self.fail(GpuError::DeviceLost(e.to_string()));
        }
    }

    /// The `u32` values of the counter-based random stream for `(seed, step, seq, pos)` over
    /// `seqs × positions`, computed on the device (tests hold them to the CPU's bit for bit).
    pub async fn random_stream(
        &mut self,
        seed: u64,
        step: u32,
        seqs: usize,
        positions: usize,
    ) -> Vec<u32> {
        let n = seqs * positions;
        let out = self.alloc_u32(n);
        let (bo, oo) = self.bind_ids(IdSlice {
            buf: out,
            offset: 0,
            len: n,
        });
        let params = [
            seqs as u32,
            0,
            0,
            positions as u32,
            seed as u32,
            (seed >> 32) as u32,
            step,
            0,
            0,
            0,
            oo,
        ];
        let g = self.groups_1d(n);
        self.dispatch(Pipe::RandomStream, &[bo], &params, g);
        let mut bytes = vec![0u8; n * 4];
        let b = self.id_buf(out);
        self.read_bytes(b, 0, &mut bytes).await;
        bytemuck::cast_slice(&bytes).to_vec()
    }
}
