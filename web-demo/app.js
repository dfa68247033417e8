// The page: builds a run config from the controls, drives the wasm trainer one step at a
// time (awaiting each step, then redrawing), and never leaves the page stuck: every failure
// lands in #error and the controls are re-enabled.
import init, { Demo, Gpu, Bench, tiny_config } from './pkg/spar_web_demo.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const app = {
  state: 'loading', demo: null, gpu: null, gpuReason: null, history: [], evals: {},
  timing: { firstStepMs: null, wasmReadyMs: null }, dead: false, runId: 0,
};
window.sparApp = app;

function setState(s, text) {
  app.state = s;
  $('status').dataset.state = s;
  $('status').textContent = text || s;
  const running = s === 'running';
  $('train').disabled = running || s === 'paused' || app.dead;
  $('pause').disabled = !running;
  $('resume').disabled = s !== 'paused';
  $('reset').disabled = running || app.dead;
  $('download').disabled = running || !app.demo || app.dead;
  for (const id of ['task', 'reward', 'size']) $(id).disabled = running || s === 'paused';
}

function showError(msg) {
  const e = $('error');
  e.hidden = false;
  e.textContent = String(msg && msg.message ? msg.message : msg);
  console.error(msg);
}
function clearError() { $('error').hidden = true; $('error').textContent = ''; }

globalThis.sparPanic = (msg) => {
  app.dead = true;
  showError(`Internal error (the WebAssembly module stopped): ${msg}\nReload the page to start again.`);
};

// ---- configs ------------------------------------------------------------------------
const TASK_LEN = { addition: 4, subtraction: 4, multiplication: 5, reverse: 8, sort: 8, parity: 2, modular: 4 };
function buildConfig() {
  const task = $('task').value, reward = $('reward').value, size = $('size').value;
  let cfg;
  if (size === 'tiny') {
    cfg = JSON.parse(tiny_config());
    if (task !== 'addition') delete cfg.model.charset;
  } else {
    cfg = {
      seed: 1,
      model: { n_layer: 2, n_embd: 64, n_head: 2, n_positions: 32 },
      task: { name: task, levels: [1], num_train_problems: 2000, labelled_fraction: 0.05, num_eval_problems: 64, paraphrase_sft: true },
      sft: { max_steps: 300, per_device_train_batch_size: 32, learning_rate: 0.003, warmup_steps: 20, weight_decay: 0.1 },
      grpo: { max_steps: 60, per_device_train_batch_size: 32, num_generations: 8, learning_rate: 0.0003 },
      eval: { num_samples: 0 },
    };
  }
  cfg.task.name = task;
  cfg.grpo.reward = reward;
  cfg.grpo.max_completion_length = Math.max(cfg.grpo.max_completion_length || 0, TASK_LEN[task] || 6);
  if (reward === 'co_reward') cfg.task.paraphrase_sft = true;
  return cfg;
}

// ---- backend --------------------------------------------------------------------------
async function adapterInfo() {
  const a = await navigator.gpu.requestAdapter();
  if (!a) return null;
  const i = a.info || {};
  const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return name + (i.isFallbackAdapter ? ' (fallback adapter)' : '');
}

async function pickBackend() {
  if (params.get('backend') === 'cpu') { app.gpuReason = 'the CPU backend was asked for (?backend=cpu)'; }
  else if (!('gpu' in navigator)) { app.gpuReason = 'this browser does not offer WebGPU (navigator.gpu is missing)'; }
  else {
    try {
      const info = await adapterInfo();
      if (!info) throw new Error('no WebGPU adapter');
      app.gpu = await Gpu.create();
      app.adapterName = info;
    } catch (e) {
      app.gpu = null;
      app.gpuReason = `WebGPU could not start: ${e.message || e}`;
    }
  }
  if (app.gpu) {
    $('backend').textContent = 'WebGPU';
    $('adapter').textContent = app.adapterName;
    $('adapter').dataset.backend = 'webgpu';
  } else {
    $('backend').textContent = 'CPU (WebAssembly)';
    $('adapter').textContent = 'none';
    $('adapter').dataset.backend = 'cpu';
    const n = $('notice');
    n.hidden = false;
    n.textContent = `No WebGPU here: ${app.gpuReason}. Training runs on the CPU backend compiled to WebAssembly instead (slower, same results).`;
  }
}

// Gpu handles are consumed by the wasm constructors: make a fresh one per trainer.
async function gpuHandle() { return app.gpu ? app.gpu.handle() : undefined; }

// ---- charts ---------------------------------------------------------------------------
function drawChart(canvas, points, color = '#2266cc') {
  const ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height, P = 34;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#ccc'; ctx.strokeRect(P, 8, W - P - 8, H - P + 10 - 8);
  if (points.length === 0) return;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys, 0), y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) y1 = y0 + 1;
  const sx = (x) => P + (x - x0) / (x1 - x0) * (W - P - 8), sy = (y) => H - P + 10 - (y - y0) / (y1 - y0) * (H - P + 2);
  ctx.fillStyle = '#555'; ctx.font = '10px sans-serif';
  ctx.fillText(y1.toPrecision(3), 2, 14); ctx.fillText(y0.toPrecision(3), 2, H - P + 10);
  ctx.fillText(String(x0), P, H - 8); ctx.fillText(String(x1), W - 30, H - 8);
  ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1]))));
  ctx.stroke();
  ctx.fillStyle = color; // dots, so that a single step shows too
  if (points.length < 60) for (const p of points) { ctx.beginPath(); ctx.arc(sx(p[0]), sy(p[1]), 2.5, 0, 2 * Math.PI); ctx.fill(); }
}
function redraw() {
  const sft = app.history.filter((m) => m.phase === 'sft'), rl = app.history.filter((m) => m.phase === 'rl');
  drawChart($('chart-loss'), sft.map((m) => [m.step, m.loss]), '#444');
  drawChart($('chart-reward'), rl.map((m) => [m.step, m.reward]), '#2266cc');
  drawChart($('chart-accuracy'), rl.map((m) => [m.step, m.accuracy]), '#087a20');
  drawChart($('chart-kl'), rl.map((m) => [m.step, m.kl]), '#b05500');
  drawChart($('chart-length'), rl.map((m) => [m.step, m.completion_length]), '#7a2a9a');
}

function fillSamples(rows) {
  const tb = $('samples').querySelector('tbody');
  tb.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    for (const t of [r.prompt, r.completion.replace('<|endoftext|>', '⏎'), r.reference]) {
      const td = document.createElement('td'); td.textContent = t; tr.append(td);
    }
    const td = document.createElement('td'); td.textContent = r.correct ? '✓' : '✗'; td.className = r.correct ? 'ok' : 'bad'; tr.append(td);
    return tr;
  }));
}
function fillBeforeAfter() {
  const b = app.evals.before, a = app.evals.after;
  const pct = (x) => (x == null ? '—' : (100 * x).toFixed(1) + ' %');
  $('acc-before').textContent = b ? pct(b.report.accuracy) : '—';
  $('acc-after').textContent = a ? pct(a.report.accuracy) : '—';
  $('len-before').textContent = b ? b.report.completion_length.toFixed(2) : '—';
  $('len-after').textContent = a ? a.report.completion_length.toFixed(2) : '—';
  const tb = $('ba-samples').querySelector('tbody');
  const rows = (b ? b.samples : []).map((s, i) => {
    const tr = document.createElement('tr');
    const after = a ? a.samples[i] : null;
    for (const [t, ok] of [[s.prompt, null], [s.completion, s.correct], [after ? after.completion : '—', after ? after.correct : null]]) {
      const td = document.createElement('td'); td.textContent = t.replace('<|endoftext|>', '⏎');
      if (ok !== null) td.className = ok ? 'ok' : 'bad';
      tr.append(td);
    }
    return tr;
  });
  tb.replaceChildren(...rows);
}

async function snapshotEval(which) {
  const report = JSON.parse(await app.demo.evaluate());
  const samples = JSON.parse(await app.demo.samples(6));
  app.evals[which] = { report, samples };
  fillSamples(samples);
  fillBeforeAfter();
}

// ---- the loop ---------------------------------------------------------------------------
async function newDemo() {
  const cfg = buildConfig();
  app.config = cfg;
  app.demo = new Demo(JSON.stringify(cfg), await gpuHandle());
  app.total = app.demo.total_steps();
  app.history = []; app.evals = {};
  $('progress').max = app.total; $('progress').value = 0;
  redraw(); fillBeforeAfter(); fillSamples([]);
}

async function loop() {
  const id = ++app.runId;
  setState('running');
  try {
    if (!app.evals.before) await snapshotEval('before');
    while (app.state === 'running' && id === app.runId) {
      const step = app.demo.step_index();
      if (step >= app.total) break;
      const m = JSON.parse(await app.demo.step());
      if (app.timing.firstStepMs === null) app.timing.firstStepMs = performance.now();
      app.history.push(m);
      $('progress').value = m.step + 1;
      $('step-text').textContent = `step ${m.step + 1} / ${app.total} (${m.phase}) loss ${m.loss.toFixed(4)}` +
        (m.phase === 'rl' ? ` reward ${m.reward.toFixed(3)}` : '');
      redraw();
      if ((m.step + 1) % 25 === 0) fillSamples(JSON.parse(await app.demo.samples(6)));
      await new Promise((r) => setTimeout(r, 0)); // let the page paint and take clicks
    }
    if (id !== app.runId) return;
    if (app.state === 'running') {
      await snapshotEval('after');
      setState('done', 'done');
    }
  } catch (e) {
    showError(`Training stopped: ${e.message || e}\nPress Reset to start again${app.gpu ? ' (or add ?backend=cpu to the address to use the CPU backend)' : ''}.`);
    setState('error', 'error');
  }
}

async function train() {
  clearError();
  try {
    await newDemo();
  } catch (e) { showError(`Could not start: ${e.message || e}`); setState('error', 'error'); return; }
  await loop();
}

function reset() {
  clearError();
  app.runId++;
  if (app.demo) { try { app.demo.free(); } catch (_) { /* a call still holds it */ } }
  app.demo = null; app.history = []; app.evals = {};
  redraw(); fillSamples([]); fillBeforeAfter();
  $('progress').value = 0; $('step-text').textContent = '';
  setState('idle');
}

function saveBlob(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url; a.download = name; document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
async function download() {
  clearError();
  try {
    const f = await app.demo.export();
    saveBlob('model.safetensors', f.model, 'application/octet-stream');
    saveBlob('config.json', f.config, 'application/json');
    saveBlob('tokenizer.json', f.tokenizer, 'application/json');
    saveBlob('train.toml', f.train, 'text/plain');
    saveBlob('state.json', f.state, 'application/json');
  } catch (e) {
    showError(`Download failed: ${e.message || e}`);
  }
  setState(app.state, $('status').textContent);
}

// ---- test and budget hooks (used by tests/e2e.mjs) -----------------------------------
app.parity = async () => {
  const d = new Demo(tiny_config(), await gpuHandle());
  try { return Array.from(await d.parity_logprobs()); } finally { d.free(); }
};
app.benchC0 = async (steps, backend) => {
  const b = new Bench(backend === 'cpu' ? undefined : await gpuHandle());
  try {
    await b.step(); // warm-up: pipelines, first allocations
    const t0 = performance.now();
    let loss = 0;
    for (let i = 0; i < steps; i++) loss = await b.step();
    return { stepsPerS: steps / ((performance.now() - t0) / 1000), loss };
  } finally { b.free(); }
};

// ---- start ------------------------------------------------------------------------------
$('train').onclick = train;
$('pause').onclick = () => setState('paused');
$('resume').onclick = () => loop();
$('reset').onclick = reset;
$('download').onclick = download;
if (params.get('size')) $('size').value = params.get('size');
try {
  await init();
  app.timing.wasmReadyMs = performance.now();
  await pickBackend();
  setState('idle');
  document.body.dataset.ready = '1';
  if (params.get('autostart')) train();
} catch (e) {
  showError(`The demo could not load: ${e.message || e}`);
  document.body.dataset.ready = 'error';
}
