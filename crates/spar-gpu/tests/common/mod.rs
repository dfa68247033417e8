//! Shared test helpers: the device (once per test binary), the skip rule, the turn GL
//! tests take, and the backend-generic upload/download helpers that let one test body run
//! on both backends.
#![allow(dead_code)]

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use spar_gpu::{GpuContext, GpuKernels, GpuOptions};
use spar_model::kernels::{IdSlice, Kernels, Slice};
use spar_model::{block_on, CpuKernels};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The shared device, or `None` when there is no adapter and CI did not require one.
pub fn context() -> Option<Arc<GpuContext>> {
    static CTX: OnceLock<Option<Arc<GpuContext>>> = OnceLock::new();
    CTX.get_or_init(|| {
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
        }
        match GpuContext::new_blocking() {
            Ok(c) => Some(c),
            Err(e) => {
                if std::env::var("SPAR_REQUIRE_GPU").as_deref() == Ok("1") {
                    panic!("SPAR_REQUIRE_GPU=1 but the GPU backend failed: {e}");
                }
                None
            }
        }
    })
    .clone()
}

/// A device compiled with `options` (one per option set per test binary), or `None` as
/// for [`context`].
pub fn context_with(options: GpuOptions) -> Option<Arc<GpuContext>> {
    static CTXS: OnceLock<Mutex<HashMap<String, Arc<GpuContext>>>> = OnceLock::new();
    context()?;
    let key = format!("{options:?}");
    let mut map = CTXS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let ctx = map.entry(key).or_insert_with(|| {
        GpuContext::with_options_blocking(options).expect("a second device on the same adapter")
    });
    Some(ctx.clone())
}

/// The test's turn on the device: on a GL adapter (only when asked for, through
/// `SPAR_WGPU_BACKENDS=gl`) one test at a time holds it, since wgpu's GL adapter context is
/// one lock that panics ("Could not lock adapter context") when a thread waits on it for
/// more than a few seconds, which parallel tests on a busy machine do. Other APIs take no
/// turn (`None`). Hold the guard until the test's last GPU call.
pub fn turn() -> Option<MutexGuard<'static, ()>> {
    static GL_TURN: Mutex<()> = Mutex::new(());
    let on_gl = context().is_some_and(|c| c.backend() == wgpu::Backend::Gl);
    on_gl.then(|| GL_TURN.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Binds a fresh GPU backend on the shared device to `$name` (with the test's [`turn`]
/// held to the end of the enclosing block), or returns from the test with the skip line.
#[macro_export]
macro_rules! gpu_or_skip {
    (mut $name:ident) => {
        let _turn = common::turn();
        let mut $name = gpu_or_skip!(@kernels);
    };
    ($name:ident) => {
        let _turn = common::turn();
        let $name = gpu_or_skip!(@kernels);
    };
    (@kernels) => {
        match common::context() {
            Some(c) => spar_gpu::GpuKernels::new(c),
            None => {
                println!("skipped: no GPU adapter");
                return;
            }
        }
    };
}

/// Runs one test body on both backends: `$body` is a generic `fn<K: Kernels>(&mut K) -> T`.
#[macro_export]
macro_rules! both {
    ($body:ident) => {{
        gpu_or_skip!(mut gpu);
        let cpu_out = $body(&mut spar_model::CpuKernels::new());
        let gpu_out = $body(&mut gpu);
        if let Err(e) = gpu.check() {
            panic!("GPU error: {e}");
        }
        (cpu_out, gpu_out)
    }};
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Uniform values in `[-scale, scale)`.
pub fn rand_vec(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * scale)
        .collect()
}

pub fn rand_ids(rng: &mut ChaCha8Rng, n: usize, below: u32) -> Vec<u32> {
    (0..n).map(|_| rng.next_u32() % below).collect()
}

/// Puts `data` at a non-zero, unaligned offset of a fresh buffer (offsets must be honoured).
pub fn put<K: Kernels>(k: &mut K, data: &[f32]) -> Slice {
    let b = k.alloc(data.len() + 7);
    let s = Slice {
        buf: b,
        offset: 5,
        len: data.len(),
    };
    k.write(s, data);
    s
}

pub fn put_ids<K: Kernels>(k: &mut K, data: &[u32]) -> IdSlice {
    let b = k.alloc_ids(data.len() + 3);
    let s = IdSlice {
        buf: b,
        offset: 3,
        len: data.len(),
    };
    k.write_ids(s, data);
    s
}

pub fn get<K: Kernels>(k: &mut K, s: Slice) -> Vec<f32> {
    let mut out = vec![0.0; s.len];
    block_on(k.read(s, &mut out));
    out
}

pub fn get_ids<K: Kernels>(k: &mut K, s: IdSlice) -> Vec<u32> {
    let mut out = vec![0; s.len];
    block_on(k.read_ids(s, &mut out));
    out
}

/// Asserts `|a − b| ≤ tol·(1 + |b|)` elementwise, naming the tensor on failure.
pub fn close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: cpu {x} vs gpu {y} (tol {tol})"
        );
    }
}

/// Both outputs as lists of named tensors.
pub fn close_all(cpu: &[(&str, Vec<f32>)], gpu: &[(&str, Vec<f32>)], tol: f32) {
    for ((name, a), (_, b)) in cpu.iter().zip(gpu) {
        close(name, a, b, tol);
    }
}

pub fn unused(_: &CpuKernels, _: &GpuKernels) {}
