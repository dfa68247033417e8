//! Criterion: the WGSL matmul (forward, and the backward's two products) against the CPU
//! backend. Size from `SPAR_BENCH_N` (default 128: the software adapter used in CI is slow,
//! and its figures are not speed claims). Each iteration records the kernel and reads one
//! element back, so the time includes submission and synchronisation. `gpu` is the default
//! f32 path; `gpu-f16` the f16-tile forward product (when the adapter has SHADER_F16; its
//! backward is the f32 one, so only the forward is measured).

use criterion::{criterion_group, criterion_main, Criterion};
use spar_gpu::{GpuContext, GpuKernels, GpuOptions};
use spar_model::kernels::{Kernels, MatmulShape, Slice};
use spar_model::{block_on, CpuKernels};

fn setup<K: Kernels>(k: &mut K, n: usize) -> [Slice; 6] {
    let data: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    core::array::from_fn(|_| {
        let s = Slice {
            buf: k.alloc(n * n),
            offset: 0,
            len: n * n,
        };
        k.write(s, &data);
        s
    })
}

fn run<K: Kernels>(c: &mut Criterion, name: &str, mut k: K, n: usize, backward: bool) {
    let [a, b, out, dout, dinp, dw] = setup(&mut k, n);
    let shape = MatmulShape { rows: n, k: n, n };
    let mut one = [0.0f32];
    c.bench_function(&format!("matmul_forward/{name}/{n}"), |bench| {
        bench.iter(|| {
            k.matmul_forward(out, a, b, None, shape);
            block_on(k.read(out.sub(0, 1), &mut one));
        })
    });
    if !backward {
        return;
    }
    c.bench_function(&format!("matmul_backward/{name}/{n}"), |bench| {
        bench.iter(|| {
            k.matmul_backward(dinp, dw, None, dout, a, b, shape);
            block_on(k.read(dw.sub(0, 1), &mut one));
        })
    });
}

fn matmul(c: &mut Criterion) {
    let n = std::env::var("SPAR_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    run(c, "cpu", CpuKernels::new(), n, true);
    match GpuContext::new_blocking() {
        Ok(ctx) => run(c, "gpu", GpuKernels::new(ctx), n, true),
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    }
    let half = GpuOptions {
        f16_forward: true,
        ..GpuOptions::default()
    };
    match GpuContext::with_options_blocking(half) {
        Ok(ctx) if ctx.features_in_use().f16_forward => {
            run(c, "gpu-f16", GpuKernels::new(ctx), n, false)
        }
        _ => println!("skipped gpu-f16: the adapter has no SHADER_F16"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = matmul
}
criterion_main!(benches);
