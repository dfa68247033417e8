//! The pieces that exist only in a browser, tested in one (headless Chromium with WebGPU on
//! its software adapter) by `wasm-bindgen-test`: the asynchronous read-back of a GPU buffer
//! (`mapAsync`, awaited, never polled), the WebGPU adapter path (an adapter and device are
//! found and a kernel's result equals the CPU backend's) and the CPU fallback the page uses
//! without WebGPU, both through the page's own bindings.
//!
//! ```text
//! scripts/web-unit-test.sh
//! ```
#![cfg(target_arch = "wasm32")]

use spar_gpu::{GpuContext, GpuKernels};
use spar_model::kernels::{MatmulShape, Slice};
use spar_model::{CpuKernels, Kernels};
use spar_web_demo::demo::{parse_kuhn_config, KUHN_TINY_CONFIG_JSON, TINY_CONFIG_JSON};
use spar_web_demo::web::{kuhn_small_config, kuhn_tiny_config, Demo, Gpu, KuhnDemo};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Deterministic values in [-1, 1) (a small LCG: the tests need fixed numbers, not good
/// randomness).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn whole<K: Kernels>(k: &mut K, data: &[f32]) -> Slice {
    let buf = k.alloc(data.len());
    let s = Slice {
        buf,
        offset: 0,
        len: data.len(),
    };
    k.write(s, data);
    s
}

/// `out = inp · w + bias` on backend `k`, read back.
async fn matmul<K: Kernels>(
    k: &mut K,
    shape: MatmulShape,
    inp: &[f32],
    w: &[f32],
    bias: &[f32],
) -> Vec<f32> {
    let inp = whole(k, inp);
    let w = whole(k, w);
    let bias = whole(k, bias);
    let out = whole(k, &vec![0.0; shape.rows * shape.n]);
    k.matmul_forward(out, inp, w, Some(bias), shape);
    let mut host = vec![f32::NAN; out.len];
    k.read(out, &mut host).await;
    host
}

async fn gpu() -> std::sync::Arc<GpuContext> {
    GpuContext::new()
        .await
        .expect("headless Chromium with --enable-unsafe-webgpu offers a WebGPU adapter")
}

#[wasm_bindgen_test]
async fn gpu_buffer_read_back_is_awaited_and_exact() {
    let mut k = GpuKernels::new(gpu().await);
    let data = values(1000, 1);
    let s = whole(&mut k, &data);
    let mut back = vec![f32::NAN; data.len()];
    k.read(s, &mut back).await;
    assert_eq!(back, data);
    // A window that starts inside the buffer (offset 64 elements, 256 bytes) and a second
    // read of the same buffer after a write in between: the writes stay ordered.
    let mut part = vec![0.0f32; 100];
    k.read(s.sub(64, 100), &mut part).await;
    assert_eq!(part, data[64..164]);
    k.write(s.sub(64, 100), &vec![7.5; 100]);
    k.read(s.sub(64, 100), &mut part).await;
    assert!(part.iter().all(|&x| x == 7.5));
    k.check().expect("no WebGPU error");
}

#[wasm_bindgen_test]
async fn webgpu_adapter_is_found_and_a_matmul_equals_the_cpu_backend() {
    let ctx = gpu().await;
    // wgpu's web backend reports an almost empty adapter info; the device's limits are real.
    assert!(ctx.limits().max_storage_buffer_binding_size >= 1 << 20);
    let shape = MatmulShape {
        rows: 37,
        k: 48,
        n: 29,
    };
    let (inp, w, bias) = (
        values(shape.rows * shape.k, 2),
        values(shape.k * shape.n, 3),
        values(shape.n, 4),
    );
    let mut g = GpuKernels::new(ctx);
    let on_gpu = matmul(&mut g, shape, &inp, &w, &bias).await;
    g.check().expect("no WebGPU error");
    let on_cpu = matmul(&mut CpuKernels::new(), shape, &inp, &w, &bias).await;
    let max = on_gpu
        .iter()
        .zip(&on_cpu)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    // f32 sums of 48 products of numbers below 1, in different orders.
    assert!(max < 1e-5, "max |gpu - cpu| = {max}");
}

async fn resolve(p: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

/// One training step of the page's tiny run and one Kuhn self-play step through the page's
/// bindings; returns the task step's loss and the exploitability.
async fn page_steps(gpu: impl Fn() -> Option<Gpu>, backend: &str) -> (f64, f64) {
    let demo = Demo::new(TINY_CONFIG_JSON, gpu()).expect("the tiny run starts");
    assert_eq!(demo.backend(), backend);
    let m = resolve(demo.step()).await.expect("a training step");
    let m: serde_json::Value = serde_json::from_str(&m.as_string().unwrap()).unwrap();
    assert_eq!(demo.step_index().unwrap(), 1);
    let kuhn = KuhnDemo::new(KUHN_TINY_CONFIG_JSON, gpu()).expect("self-play starts");
    assert_eq!(kuhn.backend(), backend);
    let k = resolve(kuhn.step()).await.expect("a self-play step");
    let k: serde_json::Value = serde_json::from_str(&k.as_string().unwrap()).unwrap();
    let p = resolve(kuhn.policy()).await.expect("the policy");
    let p: serde_json::Value = serde_json::from_str(&p.as_string().unwrap()).unwrap();
    assert_eq!(p["rows"].as_array().unwrap().len(), 12);
    assert_eq!(p["step"], 1);
    // The average policy sits beside the model's, and is the metrics' own.
    assert_eq!(p["average_exploitability"], k["average_exploitability"]);
    assert!(p["rows"][0]["p_bet_average"].as_f64().is_some());
    if backend == "webgpu" {
        // A second call while one awaits the GPU is refused, not a panic. (On the CPU a
        // step finishes within its first poll, so calls never overlap there.)
        let first = kuhn.step();
        let second = resolve(kuhn.step()).await;
        assert!(second.is_err(), "a concurrent call is refused");
        resolve(first)
            .await
            .expect("the first call still completes");
    }
    (
        m["loss"].as_f64().unwrap(),
        k["exploitability"].as_f64().unwrap(),
    )
}

#[wasm_bindgen_test]
async fn cpu_fallback_trains_through_the_page_bindings() {
    let (loss, expl) = page_steps(|| None, "cpu").await;
    assert!(loss.is_finite() && loss > 0.0, "loss {loss}");
    assert!(expl.is_finite() && expl >= 0.0, "exploitability {expl}");
}

#[wasm_bindgen_test]
async fn webgpu_path_trains_through_the_page_bindings_like_the_cpu() {
    let g = Gpu::create().await.expect("a WebGPU device");
    let (loss, expl) = page_steps(|| Some(g.handle()), "webgpu").await;
    let (cpu_loss, cpu_expl) = page_steps(|| None, "cpu").await;
    assert!(
        (loss - cpu_loss).abs() < 1e-3,
        "loss {loss} vs cpu {cpu_loss}"
    );
    assert!(
        (expl - cpu_expl).abs() < 1e-3,
        "exploitability {expl} vs cpu {cpu_expl}"
    );
}

#[wasm_bindgen_test]
fn the_page_kuhn_sizes_are_complete_configs_with_the_average_policy_levers() {
    for json in [
        kuhn_tiny_config().expect("tiny"),
        kuhn_small_config().expect("small"),
    ] {
        let cfg = parse_kuhn_config(&json).expect("a valid KuhnConfig");
        assert!(cfg.opponent_average_fraction > 0.0 && cfg.distill_steps > 0);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v["model"]["n_embd"].is_u64(), "defaults filled in: {v}");
    }
}
