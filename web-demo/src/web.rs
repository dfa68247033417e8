//! The wasm-bindgen surface the page calls. Every method that touches the model returns a
//! `Promise`; the trainer is taken out of its slot for the duration of one call, so a second
//! call while one is running gets a plain "busy" error instead of a panic.

use crate::demo::{
    export, kuhn_policy, parity_logprobs, parse_config, parse_kuhn_config, sample_rows, C0Bench,
};
use spar_gpu::GpuContext;
use spar_model::Kernels;
use spar_train::backend::Backend;
use spar_train::kuhn_selfplay::KuhnSelfPlay;
use spar_train::{TrainError, Trainer};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = globalThis, js_name = sparPanic)]
    fn spar_panic(msg: &str);
}

/// Routes Rust panics to the page (`globalThis.sparPanic`) before the module traps.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&msg));
        spar_panic(&msg);
    }));
}

/// Surfaces an asynchronous GPU error (validation, out of memory, device lost) that
/// `kernels` recorded (the CPU records none).
fn check(kernels: &mut Backend) -> Result<(), JsValue> {
    match kernels.take_backend_error() {
        Some(e) => Err(err(format!("WebGPU: {e}"))),
        None => Ok(()),
    }
}

/// Fresh kernels on `gpu`'s device if given, else on the CPU.
fn kernels(gpu: Option<&Gpu>) -> Backend {
    gpu.map_or_else(Backend::cpu, |g| Backend::gpu(g.ctx.clone()))
}

fn err(msg: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&msg.to_string()).into()
}

fn train_err(e: TrainError) -> JsValue {
    err(e)
}

type Slot = Rc<RefCell<Option<Trainer<Backend>>>>;

fn take(slot: &Slot) -> Result<Trainer<Backend>, JsValue> {
    slot.borrow_mut()
        .take()
        .ok_or_else(|| err("busy: another call on this trainer is still running"))
}

/// A trainer on one backend.
#[wasm_bindgen]
pub struct Demo {
    slot: Slot,
    backend: String,
    adapter: String,
}

/// A WebGPU device with the kernels' pipelines compiled, shared by the trainers made from it.
#[wasm_bindgen]
pub struct Gpu {
    ctx: Arc<GpuContext>,
}

#[wasm_bindgen]
impl Gpu {
    /// Requests a WebGPU adapter and device and compiles the pipelines.
    pub async fn create() -> Result<Gpu, JsValue> {
        let ctx = GpuContext::new().await.map_err(err)?;
        Ok(Gpu { ctx })
    }

    /// Another handle on the same device (the trainer constructors consume theirs).
    pub fn handle(&self) -> Gpu {
        Gpu {
            ctx: self.ctx.clone(),
        }
    }

    /// The adapter's name as wgpu reports it (the browser gives little).
    pub fn adapter(&self) -> String {
        self.ctx.adapter_name()
    }
}

#[wasm_bindgen]
impl Demo {
    /// A trainer for `config_json` (a `TrainConfig` as JSON) on `gpu` if given, else on the
    /// CPU backend.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, gpu: Option<Gpu>) -> Result<Demo, JsValue> {
        let cfg = parse_config(config_json).map_err(err)?;
        let (backend, adapter) = match &gpu {
            Some(g) => ("webgpu", g.ctx.adapter_name()),
            None => ("cpu", "CPU (wasm)".to_string()),
        };
        let mut t =
            Trainer::new(cfg, Box::new(move || kernels(gpu.as_ref()))).map_err(train_err)?;
        check(&mut t.model().kernels)?;
        Ok(Demo {
            slot: Rc::new(RefCell::new(Some(t))),
            backend: backend.into(),
            adapter,
        })
    }

    /// `"webgpu"` or `"cpu"`.
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// The adapter's name (wgpu's view) or `"CPU (wasm)"`.
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    fn run<F, Fut>(&self, f: F) -> js_sys::Promise
    where
        F: FnOnce(Trainer<Backend>) -> Fut + 'static,
        Fut: std::future::Future<Output = (Trainer<Backend>, Result<JsValue, JsValue>)> + 'static,
    {
        let slot = self.slot.clone();
        future_to_promise(async move {
            let t = take(&slot)?;
            let (mut t, r) = f(t).await;
            let checked = check(&mut t.model().kernels);
            *slot.borrow_mut() = Some(t);
            checked?;
            r
        })
    }

    /// Steps done so far.
    pub fn step_index(&self) -> Result<u32, JsValue> {
        let b = self.slot.borrow();
        let t = b.as_ref().ok_or_else(|| err("busy"))?;
        Ok(t.step())
    }

    /// Steps in the whole run (SFT + RL).
    pub fn total_steps(&self) -> Result<u32, JsValue> {
        let b = self.slot.borrow();
        let t = b.as_ref().ok_or_else(|| err("busy"))?;
        Ok(t.total_steps())
    }

    /// One training step: resolves to the step's metrics as JSON (spar-train's
    /// `StepMetrics`).
    pub fn step(&self) -> js_sys::Promise {
        self.run(|mut t| async move {
            let r = t.train_step().await;
            let r = r
                .map_err(train_err)
                .and_then(|m| serde_json::to_string(&m).map_err(err))
                .map(JsValue::from);
            (t, r)
        })
    }

    /// Held-out evaluation: resolves to spar-train's `EvalReport` as JSON.
    pub fn evaluate(&self) -> js_sys::Promise {
        self.run(|mut t| async move {
            let r = t.evaluate().await;
            let r = r
                .map_err(train_err)
                .and_then(|m| serde_json::to_string(&m).map_err(err))
                .map(JsValue::from);
            (t, r)
        })
    }

    /// Greedy completions of the first `n` held-out problems, as JSON rows.
    pub fn samples(&self, n: usize) -> js_sys::Promise {
        self.run(move |mut t| async move {
            let r = sample_rows(&mut t, n).await;
            let r = r
                .map_err(train_err)
                .and_then(|m| serde_json::to_string(&m).map_err(err))
                .map(JsValue::from);
            (t, r)
        })
    }

    /// The log-probabilities of the parity batch (a `Float32Array`).
    pub fn parity_logprobs(&self) -> js_sys::Promise {
        self.run(|mut t| async move {
            let r = parity_logprobs(&mut t).await;
            let r = r
                .map_err(err)
                .map(|v| js_sys::Float32Array::from(&v[..]).into());
            (t, r)
        })
    }

    /// The checkpoint: resolves to `{model, config, generation_config, tokenizer,
    /// tokenizer_config, special_tokens_map, train, state}` (`model` a `Uint8Array` of
    /// safetensors, the rest text).
    pub fn export(&self) -> js_sys::Promise {
        self.run(|mut t| async move {
            let r = export(&mut t).await;
            let r = r.map_err(err).and_then(|f| {
                let o = js_sys::Object::new();
                let set = |k: &str, v: JsValue| js_sys::Reflect::set(&o, &k.into(), &v);
                set(
                    "model",
                    js_sys::Uint8Array::from(&f.model_safetensors[..]).into(),
                )?;
                set("config", f.config_json.into())?;
                set("generation_config", f.generation_config_json.into())?;
                set("tokenizer", f.tokenizer_json.into())?;
                set("tokenizer_config", f.tokenizer_config_json.into())?;
                set("special_tokens_map", f.special_tokens_map_json.into())?;
                set("train", f.train_toml.into())?;
                set("state", f.state_json.into())?;
                Ok(o.into())
            });
            (t, r)
        })
    }
}

/// The C0 training-step benchmark on one backend.
#[wasm_bindgen]
pub struct Bench {
    slot: Rc<RefCell<Option<C0Bench<Backend>>>>,
}

#[wasm_bindgen]
impl Bench {
    /// A C0 model on `gpu` if given, else on the CPU backend.
    #[wasm_bindgen(constructor)]
    pub fn new(gpu: Option<Gpu>) -> Result<Bench, JsValue> {
        let b = C0Bench::new(kernels(gpu.as_ref())).map_err(err)?;
        Ok(Bench {
            slot: Rc::new(RefCell::new(Some(b))),
        })
    }

    /// One step; resolves to the loss.
    pub fn step(&self) -> js_sys::Promise {
        let slot = self.slot.clone();
        future_to_promise(async move {
            let mut b = slot.borrow_mut().take().ok_or_else(|| err("busy"))?;
            let r = b
                .step()
                .await
                .and_then(|l| b.gpt().kernels.take_backend_error().map_or(Ok(l), Err));
            *slot.borrow_mut() = Some(b);
            r.map(|l| JsValue::from_f64(l as f64)).map_err(err)
        })
    }
}

/// Kuhn-poker self-play (spar-train's `KuhnSelfPlay`) on one backend: one GPT plays both
/// seats; the game's outcome is the only reward.
#[wasm_bindgen]
pub struct KuhnDemo {
    slot: Rc<RefCell<Option<KuhnSelfPlay<Backend>>>>,
    backend: String,
    max_steps: u32,
}

#[wasm_bindgen]
impl KuhnDemo {
    /// A self-play run for `config_json` (a `KuhnConfig` as JSON) on `gpu` if given, else on
    /// the CPU backend.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, gpu: Option<Gpu>) -> Result<KuhnDemo, JsValue> {
        let cfg = parse_kuhn_config(config_json).map_err(err)?;
        let max_steps = cfg.max_steps;
        let backend = if gpu.is_some() { "webgpu" } else { "cpu" };
        let mut inner = KuhnSelfPlay::new(cfg, kernels(gpu.as_ref())).map_err(train_err)?;
        check(&mut inner.model().kernels)?;
        Ok(KuhnDemo {
            slot: Rc::new(RefCell::new(Some(inner))),
            backend: backend.into(),
            max_steps,
        })
    }

    /// `"webgpu"` or `"cpu"`.
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Steps done so far.
    pub fn step_index(&self) -> Result<u32, JsValue> {
        let b = self.slot.borrow();
        let t = b.as_ref().ok_or_else(|| err("busy"))?;
        Ok(t.step())
    }

    /// Steps in the whole run (the config's `max_steps`).
    pub fn total_steps(&self) -> u32 {
        self.max_steps
    }

    fn run<F, Fut>(&self, f: F) -> js_sys::Promise
    where
        F: FnOnce(KuhnSelfPlay<Backend>) -> Fut + 'static,
        Fut: std::future::Future<Output = (KuhnSelfPlay<Backend>, Result<JsValue, JsValue>)>
            + 'static,
    {
        let slot = self.slot.clone();
        future_to_promise(async move {
            let t = slot
                .borrow_mut()
                .take()
                .ok_or_else(|| err("busy: another call on this run is still running"))?;
            let (mut t, r) = f(t).await;
            let checked = check(&mut t.model().kernels);
            *slot.borrow_mut() = Some(t);
            checked?;
            r
        })
    }

    /// One self-play step (games, then one policy-gradient update): resolves to spar-train's
    /// `KuhnMetrics` as JSON (its exploitability is the policy's before the update).
    pub fn step(&self) -> js_sys::Promise {
        self.run(|mut t| async move {
            let r = t.train_step().await;
            let r = r
                .map_err(train_err)
                .and_then(|m| serde_json::to_string(&m).map_err(err))
                .map(JsValue::from);
            (t, r)
        })
    }

    /// The induced policy (P(bet) at the 12 information sets, exploitability, legal mass)
    /// beside the average policy's P(bet) and exploitability, as JSON (spar-web-demo's
    /// `KuhnPolicyView`).
    pub fn policy(&self) -> js_sys::Promise {
        self.run(|mut t| async move {
            let r = kuhn_policy(&mut t).await;
            let r = r
                .map_err(train_err)
                .and_then(|m| serde_json::to_string(&m).map_err(err))
                .map(JsValue::from);
            (t, r)
        })
    }
}

/// The Kuhn self-play run of the page's "tiny" size (tests/kuhn_tiny.json, the library's
/// defaults filled in) as `KuhnConfig` JSON.
#[wasm_bindgen]
pub fn kuhn_tiny_config() -> Result<String, JsValue> {
    crate::demo::kuhn_tiny_config_json().map_err(err)
}

/// The Kuhn self-play run of the page's "small" size: the average-policy recipe
/// (configs/kuhn_selfplay_average.toml) as `KuhnConfig` JSON.
#[wasm_bindgen]
pub fn kuhn_small_config() -> Result<String, JsValue> {
    crate::demo::kuhn_small_config_json().map_err(err)
}

/// The tiny run's config (tests/tiny.json), the page's "tiny" size.
#[wasm_bindgen]
pub fn tiny_config() -> String {
    crate::demo::TINY_CONFIG_JSON.to_string()
}
