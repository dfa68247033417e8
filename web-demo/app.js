// The page: builds a run config from the controls, drives the wasm trainer one step at a
// time (awaiting each step, then redrawing), and never leaves the page stuck: every failure
// lands in #error and the controls are re-enabled.
// Two builds of the same code (scripts/build-web.sh): with relaxed SIMD where the browser
// validates its instructions (a 36-byte module using i8x16.relaxed_swizzle), else plain
// WebAssembly SIMD. `?simd=plain` forces the second.
const RELAXED_SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3,
  2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);
const wasmBuild = new URLSearchParams(location.search).get('simd') !== 'plain'
  && WebAssembly.validate(RELAXED_SIMD_PROBE) ? 'relaxed-simd' : 'simd128';
const { default: init, Demo, KuhnDemo, Gpu, Bench, tiny_config, kuhn_tiny_config, kuhn_small_config } =
  await import(wasmBuild === 'relaxed-simd' ? './pkg/relaxed/spar_web_demo.js' : './pkg/spar_web_demo.js');

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const app = {
  state: 'loading', mode: 'task', demo: null, gpu: null, gpuReason: null, history: [], evals: {},
  timing: { firstStepMs: null, wasmReadyMs: null }, dead: false, runId: 0, wasmBuild,
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
  // A self-play model is not a checkpoint of a task run (`spar eval` needs one).
  $('download').disabled = running || !app.demo || app.dead || app.mode === 'kuhn';
  for (const id of ['task', 'reward', 'size']) $(id).disabled = running || s === 'paused';
  if ($('reward').value === 'kuhn') $('task').disabled = true;
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
// Longest reference completion plus the end token, at the levels below.
const TASK_LEN = { addition: 4, subtraction: 4, multiplication: 5, reverse: 10, sort: 10, parity: 2, modular: 4 };
// The "small" size draws 2000 distinct problems: level 1 of these tasks has fewer.
const SMALL_LEVEL = { multiplication: 2, parity: 2 };
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
      task: { name: task, levels: [SMALL_LEVEL[task] || 1], num_train_problems: 2000, labelled_fraction: 0.05, num_eval_problems: 64, paraphrase_sft: true },
      // The first published runs' optimiser (Hugging Face's names; its defaults differ):
      // β2 0.95, SFT warm-up and cosine decay to a tenth, RL at a constant rate carrying
      // SFT's moments over.
      optim: { adam_beta2: 0.95 },
      sft: { max_steps: 300, per_device_train_batch_size: 32,
             optim: { learning_rate: 0.003, lr_scheduler_type: 'cosine_with_min_lr', min_lr_rate: 0.1, warmup_steps: 20, weight_decay: 0.1 } },
      grpo: { max_steps: 60, per_device_train_batch_size: 32, num_generations: 8,
              optim: { learning_rate: 0.0003, lr_scheduler_type: 'constant', optimizer_state: 'carry' } },
      eval: { num_samples: 0 },
    };
  }
  cfg.task.name = task;
  cfg.grpo.reward = reward;
  cfg.grpo.max_completion_length = Math.max(cfg.grpo.max_completion_length || 0, TASK_LEN[task] || 6);
  if (reward === 'co_reward') cfg.task.paraphrase_sft = true;
  return cfg;
}

// Kuhn-poker self-play: spar-train's KuhnConfig. "small" is the average-policy recipe
// (configs/kuhn_selfplay_average.toml: half the games against the average policy, quadratic
// averaging, entropy 0.3 -> 0.02, a linearly decaying rate, the average distilled into the
// model at the end); "tiny" has the same levers with few steps and games.
function buildKuhnConfig() {
  const cfg = JSON.parse($('size').value === 'tiny' ? kuhn_tiny_config() : kuhn_small_config());
  if (params.get('kuhn_steps')) cfg.max_steps = Number(params.get('kuhn_steps'));
  if (params.get('kuhn_distill_steps')) cfg.distill_steps = Number(params.get('kuhn_distill_steps'));
  return cfg;
}

// The page's captions and table labels for the two modes.
const LABELS = {
  task: {
    'cap-loss': 'SFT loss', 'cap-reward': 'RL reward', 'cap-accuracy': 'Accuracy (verifier, a metric only)',
    'cap-kl': 'KL to the start of RL', 'cap-length': 'Completion length (tokens)',
    'ba-label-1': 'held-out greedy accuracy', 'ba-label-2': 'mean completion length', 'ba-head': 'prompt',
  },
  kuhn: {
    'cap-loss': 'Policy loss', 'cap-reward': "Player 1's mean payoff",
    'cap-kl': 'Legal-answer mass (P(b) + P(p))', 'cap-length': 'Games forfeited by an illegal answer',
    'ba-label-1': "model's exploitability (after: distilled)", 'ba-label-2': 'legal-answer mass', 'ba-head': 'P(b) at',
  },
};
// The exploitability chart's caption in Kuhn mode, with its legend (colours of the lines).
const KUHN_EXPL_COLOR = '#087a20', KUHN_AVG_COLOR = '#d0650a';
function kuhnCaption() {
  const span = (color, text) => { const e = document.createElement('span'); e.style.color = color; e.textContent = text; return e; };
  return ['Exploitability (0 at an equilibrium): ', span(KUHN_EXPL_COLOR, "model's policy"), ', ', span(KUHN_AVG_COLOR, 'average policy')];
}
function showMode(mode) {
  app.mode = mode;
  for (const [id, text] of Object.entries(LABELS[mode])) $(id).textContent = text;
  if (mode === 'kuhn') $('cap-accuracy').replaceChildren(...kuhnCaption());
  else $('cap-accuracy').textContent = 'Accuracy (verifier, a metric only)';
  $('ba-row-3').hidden = mode !== 'kuhn';
  $('samples-panel').hidden = mode === 'kuhn';
  $('kuhn-panel').hidden = mode !== 'kuhn';
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
// At most about this many points per line: a long run is thinned (keeping its last point).
const MAX_POINTS = 600;
function thin(points) {
  if (points.length <= MAX_POINTS) return points;
  const k = Math.ceil(points.length / MAX_POINTS);
  const out = points.filter((_, i) => i % k === 0);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  return out;
}
function drawChart(canvas, points, color = '#2266cc') { drawLines(canvas, [{ points, color }]); }
// Lines of [x, y] points on one pair of axes; `dots` marks every point of a line.
function drawLines(canvas, lines) {
  const ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height, P = 34;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#ccc'; ctx.strokeRect(P, 8, W - P - 8, H - P + 10 - 8);
  lines = lines.map((l) => ({ ...l, points: thin(l.points.filter((p) => Number.isFinite(p[1]))) })).filter((l) => l.points.length);
  if (lines.length === 0) return;
  let x0 = Infinity, x1 = -Infinity, y0 = 0, y1 = -Infinity;
  for (const l of lines) for (const [x, y] of l.points) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) y1 = y0 + 1;
  const sx = (x) => P + (x - x0) / (x1 - x0) * (W - P - 8), sy = (y) => H - P + 10 - (y - y0) / (y1 - y0) * (H - P + 2);
  ctx.fillStyle = '#555'; ctx.font = '10px sans-serif';
  ctx.fillText(y1.toPrecision(3), 2, 14); ctx.fillText(y0.toPrecision(3), 2, H - P + 10);
  ctx.fillText(String(x0), P, H - 8); ctx.fillText(String(x1), W - 30, H - 8);
  for (const { points, color, dots } of lines) {
    ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1]))));
    ctx.stroke();
    ctx.fillStyle = color; // dots, so that a single step shows too
    if (dots || points.length < 60) for (const p of points) { ctx.beginPath(); ctx.arc(sx(p[0]), sy(p[1]), 2.5, 0, 2 * Math.PI); ctx.fill(); }
  }
}
function redraw() {
  if (app.mode === 'kuhn') {
    const h = app.history.slice();
    // The metrics' exploitability is the model's policy before each step's update; the final
    // policy (after distillation, when the recipe distils) closes the curve, as a dot. The
    // average policy's is after each step's policy joined it.
    const fin = app.evals.after ? [[app.evals.after.step, app.evals.after.exploitability]] : [];
    drawChart($('chart-loss'), h.map((m) => [m.step, m.loss]), '#444');
    drawChart($('chart-reward'), h.map((m) => [m.step, m.mean_payoff_p1]), '#2266cc');
    drawLines($('chart-accuracy'), [
      { points: h.map((m) => [m.step, m.exploitability]), color: KUHN_EXPL_COLOR },
      { points: h.map((m) => [m.step, m.average_exploitability]), color: KUHN_AVG_COLOR },
      { points: fin, color: KUHN_EXPL_COLOR, dots: true },
    ]);
    drawChart($('chart-kl'), h.map((m) => [m.step, m.legal_mass]), '#b05500');
    drawChart($('chart-length'), h.map((m) => [m.step, m.forfeit_fraction]), '#7a2a9a');
    return;
  }
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
const HIST_NAME = { '-': 'opening', p: 'after a pass', b: 'facing a bet', pb: 'facing a bet after passing' };
const fix = (x, n) => (x == null ? '—' : x.toFixed(n));
function fillPolicy(view) {
  $('kuhn-step').textContent = view ? `step ${view.step}: exploitability of the model's policy ${view.exploitability.toFixed(4)}, of the average policy ${fix(view.average_exploitability, 4)}` : '—';
  const tb = $('kuhn-policy').querySelector('tbody');
  tb.replaceChildren(...(view ? view.rows : []).map((r) => {
    const tr = document.createElement('tr');
    const nash = r.nash[0] === r.nash[1] ? r.nash[0].toFixed(3) : `${r.nash[0].toFixed(3)}–${r.nash[1].toFixed(3)}`;
    for (const t of [`P${r.player}`, r.card, `${r.history} (${HIST_NAME[r.history]})`, r.bet_means, r.p_bet.toFixed(3), fix(r.p_bet_average, 3), nash]) {
      const td = document.createElement('td'); td.textContent = t; tr.append(td);
    }
    return tr;
  }));
}
function fillKuhnBeforeAfter() {
  const b = app.evals.before, a = app.evals.after;
  const f = (x, k) => (x ? x[k].toFixed(4) : '—');
  $('acc-before').textContent = f(b, 'exploitability');
  $('acc-after').textContent = f(a, 'exploitability');
  $('len-before').textContent = f(b, 'legal_mass');
  $('len-after').textContent = f(a, 'legal_mass');
  $('avg-before').textContent = fix(b && b.average_exploitability, 4);
  $('avg-after').textContent = fix(a && a.average_exploitability, 4);
  const tb = $('ba-samples').querySelector('tbody');
  tb.replaceChildren(...(b ? b.rows : []).map((r, i) => {
    const tr = document.createElement('tr');
    for (const t of [`P${r.player} ${r.card} ${r.history}`, r.p_bet.toFixed(3), a ? a.rows[i].p_bet.toFixed(3) : '—']) {
      const td = document.createElement('td'); td.textContent = t; tr.append(td);
    }
    return tr;
  }));
}
function fillBeforeAfter() {
  if (app.mode === 'kuhn') return fillKuhnBeforeAfter();
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
  if (app.mode === 'kuhn') {
    const view = JSON.parse(await app.demo.policy());
    app.evals[which] = view;
    fillPolicy(view);
    fillBeforeAfter();
    return;
  }
  const report = JSON.parse(await app.demo.evaluate());
  const samples = JSON.parse(await app.demo.samples(6));
  app.evals[which] = { report, samples };
  fillSamples(samples);
  fillBeforeAfter();
}

// ---- the loop ---------------------------------------------------------------------------
async function newDemo() {
  const kuhn = $('reward').value === 'kuhn';
  showMode(kuhn ? 'kuhn' : 'task');
  const cfg = kuhn ? buildKuhnConfig() : buildConfig();
  app.config = cfg;
  app.demo = kuhn ? new KuhnDemo(JSON.stringify(cfg), await gpuHandle()) : new Demo(JSON.stringify(cfg), await gpuHandle());
  app.total = app.demo.total_steps();
  app.history = []; app.evals = {};
  $('progress').max = app.total; $('progress').value = 0;
  redraw(); fillBeforeAfter(); fillSamples([]); fillPolicy(null);
}

function stepText(m) {
  if (app.mode === 'kuhn') {
    const d = m.distill;
    return `step ${m.step + 1} / ${app.total} (self-play) exploitability: model ${m.exploitability.toFixed(4)}, average ${m.average_exploitability.toFixed(4)}` +
      (d ? `; distilled into the model (${d.steps} steps): ${d.exploitability.toFixed(4)}` : '');
  }
  return `step ${m.step + 1} / ${app.total} (${m.phase}) loss ${m.loss.toFixed(4)}` +
    (m.phase === 'rl' ? ` reward ${m.reward.toFixed(3)}` : '');
}

// Pause only stops the loop after the step in flight, so Resume waits for that loop to end
// before stepping the same trainer again; a loop whose trainer was replaced (Reset, a new
// run) drops what its last call returned.
app.loopPromise = Promise.resolve();
function runLoop() {
  app.loopPromise = app.loopPromise.then(() => loop());
  return app.loopPromise;
}

// Redraws and yields to the browser (paint, clicks) at most this often (ms): a self-play
// step takes a few milliseconds and a run has thousands.
const FRAME_MS = 50;
async function loop() {
  const id = ++app.runId, demo = app.demo;
  const live = () => id === app.runId;
  setState('running');
  try {
    if (!app.evals.before) await snapshotEval('before');
    // The Kuhn policy panel is refreshed about a hundred times a run (every 10 steps at least).
    const policyEvery = Math.max(10, Math.round(app.total / 100));
    let lastFrame = 0;
    while (app.state === 'running' && live()) {
      const step = app.demo.step_index();
      if (step >= app.total) break;
      if (app.mode === 'kuhn' && step === app.total - 1 && app.config.distill_steps > 0) {
        $('step-text').textContent += ` — last step, then distilling the average policy into the model (${app.config.distill_steps} steps)…`;
        await new Promise((r) => setTimeout(r, 0));
      }
      const m = JSON.parse(await demo.step());
      if (app.demo !== demo) return; // Reset or a new run meanwhile: drop it
      if (app.timing.firstStepMs === null) app.timing.firstStepMs = performance.now();
      app.history.push(m);
      const last = m.step + 1 >= app.total;
      if (app.afterStep) app.afterStep(m); // a test hook (tests/e2e.mjs pauses with it)
      if (last || app.state !== 'running' || performance.now() - lastFrame >= FRAME_MS) {
        $('progress').value = m.step + 1;
        $('step-text').textContent = stepText(m);
        redraw();
      }
      if (!live()) return; // superseded by Resume: the new loop goes on
      if (app.mode === 'kuhn') {
        if ((m.step + 1) % policyEvery === 0) fillPolicy(JSON.parse(await app.demo.policy()));
      } else if ((m.step + 1) % 25 === 0) fillSamples(JSON.parse(await app.demo.samples(6)));
      if (performance.now() - lastFrame >= FRAME_MS) {
        await new Promise((r) => setTimeout(r, 0)); // let the page paint and take clicks
        lastFrame = performance.now();
      }
    }
    if (!live()) return;
    if (app.state === 'running') {
      await snapshotEval('after');
      redraw();
      setState('done', 'done');
    }
  } catch (e) {
    if (!live() || app.demo !== demo) return;
    showError(`Training stopped: ${e.message || e}\nPress Reset to start again${app.gpu ? ' (or add ?backend=cpu to the address to use the CPU backend)' : ''}.`);
    setState('error', 'error');
  }
}

async function train() {
  clearError();
  try {
    await newDemo();
  } catch (e) { showError(`Could not start: ${e.message || e}`); setState('error', 'error'); return; }
  // A new trainer does not wait for an old loop (whose call might never return).
  app.loopPromise = loop();
  await app.loopPromise;
}

function resume() {
  app.runId++; // the paused loop, if its step is still in flight, stops after it
  setState('running');
  return runLoop();
}

function reset() {
  clearError();
  app.runId++;
  if (app.demo) { try { app.demo.free(); } catch (_) { /* a call still holds it */ } }
  app.demo = null; app.history = []; app.evals = {};
  redraw(); fillSamples([]); fillBeforeAfter(); fillPolicy(null);
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
    saveBlob('generation_config.json', f.generation_config, 'application/json');
    saveBlob('tokenizer.json', f.tokenizer, 'application/json');
    saveBlob('tokenizer_config.json', f.tokenizer_config, 'application/json');
    saveBlob('special_tokens_map.json', f.special_tokens_map, 'application/json');
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
$('resume').onclick = resume;
$('reset').onclick = reset;
$('download').onclick = download;
// The size menu describes the run the chosen reward gives.
const SIZE_TEXT = {
  task: { small: 'small (2 layers × 64, ~1 min on a GPU)', tiny: 'tiny (1 layer × 32, seconds)' },
  kuhn: { small: 'small (1 layer × 16, 6000 steps × 512 games, average policy, ~30 s on a 2-core CPU)', tiny: 'tiny (1 layer × 16, 40 steps × 32 games, average policy, seconds)' },
};
// The Kuhn sizes described from their configs once the module has loaded.
function kuhnSizeText(name, cfg, time) {
  const m = cfg.model;
  return `${name} (${m.n_layer} layer${m.n_layer > 1 ? 's' : ''} × ${m.n_embd}, ${cfg.max_steps} steps × ${cfg.games_per_step} games, average policy, ${time})`;
}
function sizeText() {
  const t = SIZE_TEXT[$('reward').value === 'kuhn' ? 'kuhn' : 'task'];
  for (const o of $('size').options) o.textContent = t[o.value];
}
$('reward').onchange = () => {
  sizeText();
  if (app.state !== 'running' && app.state !== 'paused') setState(app.state, $('status').textContent);
};
if (params.get('size')) $('size').value = params.get('size');
if (params.get('reward')) $('reward').value = params.get('reward');
sizeText();
try {
  await init();
  app.timing.wasmReadyMs = performance.now();
  SIZE_TEXT.kuhn = { small: kuhnSizeText('small', JSON.parse(kuhn_small_config()), '~30 s on a 2-core CPU'),
    tiny: kuhnSizeText('tiny', JSON.parse(kuhn_tiny_config()), 'seconds') };
  sizeText();
  await pickBackend();
  setState('idle');
  document.body.dataset.ready = '1';
  if (params.get('autostart')) train();
} catch (e) {
  showError(`The demo could not load: ${e.message || e}`);
  document.body.dataset.ready = 'error';
}
