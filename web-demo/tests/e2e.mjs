// The browser test of the web demo: drives the real page in headless Chromium (the system's,
// with WebGPU on its software adapter) through Playwright.
//
//   BASE_URL=http://127.0.0.1:PORT/ REF_JSON=ref.json OUT_DIR=dir node tests/e2e.mjs
//
// Asserts: WebGPU ran (the adapter is shown); the first log-probabilities match the native
// CPU backend's (REF_JSON, from `cargo run --example reference`) within LOGPROB_TOL; the SFT
// loss falls over its 20 steps; the RL step completes; Download gives the five checkpoint
// files (saved under OUT_DIR/checkpoint for `spar eval`); Kuhn-poker self-play runs on the
// average-policy recipe's levers, its exploitability is finite and moves, its first value
// matches the native backend's, the average policy's exploitability falls, the last step
// distils the average into the model and the page shows both numbers, and
// pause/resume/reset work; failures (a start the trainer rejects, a failing download, and on
// WebGPU a failing buffer read-back, injected into the browser's WebGPU object) show a
// message and leave the page usable. Writes OUT_DIR/e2e.png, OUT_DIR/e2e-kuhn.png and
// OUT_DIR/e2e-result.json. (The README's pictures come from tests/screenshot.mjs.)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8000/';
const OUT_DIR = process.env.OUT_DIR || 'target-e2e';
const REF = JSON.parse(fs.readFileSync(process.env.REF_JSON || 'ref.json', 'utf8'));
// E2E_BACKEND=cpu runs the same checks on the CPU backend compiled to wasm.
const BACKEND = process.env.E2E_BACKEND || 'webgpu';
const BENCH_STEPS = Number(process.env.BENCH_STEPS || 0);
// f32 on two backends with different summation orders: agreement to 1e-3 nats per token.
const LOGPROB_TOL = 1e-3;

// Playwright passes its own --enable-features; Chromium keeps only one such switch, so ours
// are merged into it (none are needed today: --enable-unsafe-webgpu is a plain switch).
const OUR_FEATURES = [];
const ARGS = [
  '--enable-unsafe-webgpu', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
];

function check(cond, msg) {
  if (!cond) throw new Error(`FAILED: ${msg}`);
  console.log(`ok: ${msg}`);
}

fs.mkdirSync(path.join(OUT_DIR, 'checkpoint'), { recursive: true });
const result = {};
const t0 = Date.now();
const launchOpts = { executablePath: '/usr/bin/chromium', args: ARGS, headless: true };
if (OUR_FEATURES.length) {
  launchOpts.ignoreDefaultArgs = ['--enable-features'];
  launchOpts.args = [...ARGS, `--enable-features=${OUR_FEATURES.join(',')}`];
}
const browser = await chromium.launch(launchOpts);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));

  await page.goto(`${BASE_URL}?size=tiny${BACKEND === 'cpu' ? '&backend=cpu' : ''}`);
  await page.waitForSelector('body[data-ready]', { timeout: 60000 });
  check(await page.getAttribute('body', 'data-ready') === '1', 'the page loaded');
  const backend = await page.getAttribute('#adapter', 'data-backend');
  const adapter = await page.textContent('#adapter');
  result.adapter = adapter;
  console.log(`adapter: ${adapter}`);
  if (BACKEND === 'webgpu') check(backend === 'webgpu' && adapter && adapter !== 'none', `WebGPU ran (adapter shown: "${adapter}")`);
  else check(backend === 'cpu', 'the CPU backend was picked');
  result.backend = backend;
  // Chromium validates relaxed SIMD, so the page must have loaded that build.
  result.wasm_build = await page.evaluate(() => window.sparApp.wasmBuild);
  check(result.wasm_build === 'relaxed-simd', `the relaxed-SIMD build loaded (${result.wasm_build})`);

  let lp;
  try {
    lp = await page.evaluate(() => window.sparApp.parity());
  } catch (e) {
    await page.screenshot({ path: path.join(OUT_DIR, 'e2e-failure.png'), fullPage: true });
    check(false, `the first forward ran on ${backend}: ${e.message.split('\n')[0]}`);
  }
  check(lp.length === REF.logprobs.length, `parity batch has ${lp.length} positions like the native one`);
  let maxDiff = 0, counted = 0;
  for (let i = 0; i < lp.length; i++) {
    if (!REF.mask[i]) continue;
    maxDiff = Math.max(maxDiff, Math.abs(lp[i] - REF.logprobs[i]));
    counted++;
  }
  result.logprob_max_abs_diff = maxDiff;
  check(counted > 0 && maxDiff <= LOGPROB_TOL, `first-step log-probs match the native CPU backend on ${backend} (max |diff| ${maxDiff.toExponential(2)} over ${counted} tokens, tolerance ${LOGPROB_TOL})`);

  const tTrain = Date.now();
  await page.click('#train');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 240000 });
  const state = await page.getAttribute('#status', 'data-state');
  const err = await page.textContent('#error');
  check(state === 'done', `the tiny run finished (state ${state}${err ? ': ' + err : ''})`);
  result.train_wall_s = (Date.now() - tTrain) / 1000;
  const app = await page.evaluate(() => ({ history: window.sparApp.history, timing: window.sparApp.timing, evals: window.sparApp.evals }));
  result.first_step_ms = app.timing.firstStepMs;
  result.wasm_ready_ms = app.timing.wasmReadyMs;
  const sft = app.history.filter((m) => m.phase === 'sft').map((m) => m.loss);
  const rl = app.history.filter((m) => m.phase === 'rl');
  result.sft_losses = sft;
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  check(sft.length === 20, 'twenty SFT steps ran');
  check(mean(sft.slice(-5)) < mean(sft.slice(0, 5)) - 0.2, `SFT loss falls (first five mean ${mean(sft.slice(0, 5)).toFixed(3)}, last five ${mean(sft.slice(-5)).toFixed(3)})`);
  check(rl.length === 1 && Number.isFinite(rl[0].loss) && Number.isFinite(rl[0].reward), `one RL step completed (reward ${rl[0] && rl[0].reward})`);
  const refSft = REF.sft_losses;
  result.sft_loss_max_diff_vs_native = Math.max(...sft.map((x, i) => Math.abs(x - refSft[i])));
  console.log(`SFT losses vs native: max |diff| ${result.sft_loss_max_diff_vs_native.toExponential(2)}`);
  check(app.evals.before && app.evals.after, 'the before/after table is filled');

  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('#download');
  for (let i = 0; i < 100 && downloads.length < 8; i++) await page.waitForTimeout(100);
  check(downloads.length === 8, 'Download gives eight files');
  for (const d of downloads) await d.saveAs(path.join(OUT_DIR, 'checkpoint', d.suggestedFilename()));
  const names = fs.readdirSync(path.join(OUT_DIR, 'checkpoint')).sort();
  check(['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'state.json', 'tokenizer.json', 'tokenizer_config.json', 'train.toml'].every((n) => names.includes(n)), `checkpoint files: ${names.join(', ')}`);

  await page.screenshot({ path: path.join(OUT_DIR, 'e2e.png'), fullPage: true });

  // A failing download (the browser refuses the file) shows a message; the page stays usable.
  await page.evaluate(() => {
    window.__createObjectURL = URL.createObjectURL;
    URL.createObjectURL = () => { throw new Error('injected: the browser refused the download'); };
  });
  await page.click('#download');
  await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
  const dlMsg = await page.textContent('#error');
  await page.evaluate(() => { URL.createObjectURL = window.__createObjectURL; });
  check(/Download failed: injected/.test(dlMsg), `a failed download shows a message ("${dlMsg.split('\n')[0]}")`);
  check(!(await page.isDisabled('#download')) && !(await page.isDisabled('#reset')), 'the page stays usable after it');

  if (BENCH_STEPS > 0) {
    if (BACKEND === 'webgpu') result.c0_webgpu = await page.evaluate((n) => window.sparApp.benchC0(n, 'webgpu'), BENCH_STEPS);
    result.c0_wasm_cpu = await page.evaluate((n) => window.sparApp.benchC0(n, 'cpu'), BENCH_STEPS);
    result.c0_native_cpu_steps_per_s = REF.c0_steps_per_s;
    const plain = await browser.newPage();
    await plain.goto(`${BASE_URL}?size=tiny&simd=plain&backend=cpu`);
    await plain.waitForSelector('body[data-ready]', { timeout: 60000 });
    result.c0_wasm_cpu_simd128 = await plain.evaluate((n) => window.sparApp.benchC0(n, 'cpu'), BENCH_STEPS);
    await plain.close();
    console.log(`C0 steps/s, wasm CPU: relaxed SIMD ${result.c0_wasm_cpu.stepsPerS.toFixed(2)}, SIMD ${result.c0_wasm_cpu_simd128.stepsPerS.toFixed(2)}`);
    console.log(`C0 steps/s: WebGPU ${result.c0_webgpu ? result.c0_webgpu.stepsPerS.toFixed(2) : '-'}, wasm CPU ${result.c0_wasm_cpu.stepsPerS.toFixed(2)}, native CPU ${REF.c0_steps_per_s.toFixed(2)}`);
  }

  // Budget: page load to the first training step, nothing else in between (?autostart).
  const ap = await browser.newPage();
  // … on the plain-SIMD fallback build, which browsers without relaxed SIMD load.
  await ap.goto(`${BASE_URL}?size=tiny&autostart=1&simd=plain${BACKEND === 'cpu' ? '&backend=cpu' : ''}`);
  await ap.waitForFunction(() => window.sparApp && (window.sparApp.timing.firstStepMs !== null || window.sparApp.state === 'error'), null, { timeout: 120000 });
  result.autostart_first_step_ms = await ap.evaluate(() => window.sparApp.timing.firstStepMs);
  check(Number.isFinite(result.autostart_first_step_ms), `page load to first training step: ${Math.round(result.autostart_first_step_ms)} ms`);
  check(await ap.evaluate(() => window.sparApp.wasmBuild) === 'simd128', 'the fallback (plain SIMD) build loads and trains');
  await ap.close();

  // Kuhn-poker self-play on the same backend: a few steps and a short distillation (a step
  // takes seconds on a software WebGPU adapter), pause/resume, reset.
  const KUHN_STEPS = 12, KUHN_DISTILL = 40;
  const kp = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  kp.on('pageerror', (e) => console.log(`[kuhn page error] ${e.message}`));
  await kp.goto(`${BASE_URL}?size=tiny&reward=kuhn&kuhn_steps=${KUHN_STEPS}&kuhn_distill_steps=${KUHN_DISTILL}${BACKEND === 'cpu' ? '&backend=cpu' : ''}`);
  await kp.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  // Press Pause from the page right after the third step (a click from here could come
  // after the last step on a fast backend).
  await kp.evaluate(() => { window.sparApp.afterStep = (m) => { if (m.step === 2) document.getElementById('pause').click(); }; });
  const tKuhn = Date.now();
  await kp.click('#train');
  await kp.waitForFunction(() => window.sparApp.state !== 'running', null, { timeout: 120000 });
  check(await kp.getAttribute('#status', 'data-state') === 'paused', `Kuhn self-play runs on ${backend} and pauses (${await kp.textContent('#error')})`);
  await kp.evaluate(() => window.sparApp.loopPromise); // the loop has ended
  const n1 = await kp.evaluate(() => window.sparApp.history.length);
  await kp.waitForTimeout(1000);
  const n2 = await kp.evaluate(() => window.sparApp.history.length);
  check(n1 === 3 && n2 === 3, `Pause holds self-play after step 3 (${n1}, then ${n2})`);
  await kp.click('#resume');
  await kp.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 480000 });
  check(await kp.getAttribute('#status', 'data-state') === 'done', `Resume runs self-play to the end (${await kp.textContent('#error')})`);
  result.kuhn_wall_s = (Date.now() - tKuhn) / 1000; // with the one-second check of Pause
  const kuhn = await kp.evaluate(() => ({ history: window.sparApp.history, evals: window.sparApp.evals }));
  const expl = kuhn.history.map((m) => m.exploitability);
  result.kuhn_exploitability = expl.concat([kuhn.evals.after.exploitability]);
  result.kuhn_legal_mass = kuhn.history.map((m) => m.legal_mass);
  check(expl.length === KUHN_STEPS && expl.every(Number.isFinite) && expl.every((x) => x >= 0), `${KUHN_STEPS} self-play steps, exploitability finite (${expl[0].toFixed(4)} -> ${kuhn.evals.after.exploitability.toFixed(4)})`);
  check(new Set(result.kuhn_exploitability).size > 1, 'exploitability updates as the policy trains');
  check(kuhn.history.every((m) => Number.isFinite(m.legal_mass) && Number.isFinite(m.mean_payoff_p1) && Number.isFinite(m.loss)), 'legal mass, payoff and loss are finite');
  const kDiff = Math.abs(expl[0] - REF.kuhn_exploitability_0);
  result.kuhn_exploitability_0_diff_vs_native = kDiff;
  check(kDiff < 1e-4, `the first exploitability matches the native CPU backend (${expl[0].toFixed(6)} vs ${REF.kuhn_exploitability_0.toFixed(6)})`);
  // The average policy: its exploitability falls (natively 0.448 -> 0.387 over these 12
  // steps), the last step distils it into the model (natively 0.388), and the page shows it
  // beside the model's.
  const avg = kuhn.history.map((m) => m.average_exploitability);
  const dist = kuhn.history[KUHN_STEPS - 1].distill, after = kuhn.evals.after;
  result.kuhn_average_exploitability = avg;
  result.kuhn_distill = dist;
  check(avg.every((x) => Number.isFinite(x) && x >= 0 && x <= 0.5) && avg[KUHN_STEPS - 1] < expl[0] - 0.03,
    `the average policy's exploitability falls (${expl[0].toFixed(4)} -> ${avg[KUHN_STEPS - 1].toFixed(4)})`);
  check(dist && dist.steps === KUHN_DISTILL && kuhn.history.slice(0, -1).every((m) => !m.distill), `the last step distils the average into the model (${dist && dist.steps} steps)`);
  check(Math.abs(after.average_exploitability - avg[KUHN_STEPS - 1]) < 1e-12 && Math.abs(after.exploitability - after.average_exploitability) < 0.005 &&
    Math.abs(dist.exploitability - after.exploitability) < 1e-9, `after distillation the model's policy is the average's (${after.exploitability.toFixed(4)} vs ${after.average_exploitability.toFixed(4)})`);
  const shown = await kp.textContent('#kuhn-step');
  check(shown.includes(after.exploitability.toFixed(4)) && shown.includes(after.average_exploitability.toFixed(4)) &&
    Number(await kp.textContent('#avg-after')) === Number(after.average_exploitability.toFixed(4)), `the page shows both exploitabilities ("${shown}")`);
  const avgCol = await kp.$$eval('#kuhn-policy tbody tr', (trs) => trs.map((tr) => Number(tr.children[5].textContent)));
  check(avgCol.length === 12 && avgCol.every((p) => p >= 0 && p <= 1), "the policy panel shows the average policy's P(b)");
  const rows = await kp.$$eval('#kuhn-policy tbody tr', (trs) => trs.map((tr) => Number(tr.children[4].textContent)));
  check(rows.length === 12 && rows.every((p) => p >= 0 && p <= 1), 'the policy panel shows P(b) at the 12 information sets');
  const ba = [await kp.textContent('#acc-before'), await kp.textContent('#acc-after')].map(Number);
  check(ba.every(Number.isFinite) && Math.abs(ba[1] - kuhn.evals.after.exploitability) < 1e-4, `the before/after table shows exploitability (${ba.join(' -> ')})`);
  check(await kp.isDisabled('#download'), 'Download is off for a self-play model (not a spar eval checkpoint)');
  check(/40 steps × 32 games/.test(await kp.textContent('#size option[value="tiny"]')) && /6000 steps × 512 games/.test(await kp.textContent('#size option[value="small"]')), 'the size menu describes the self-play runs');
  await kp.screenshot({ path: path.join(OUT_DIR, 'e2e-kuhn.png'), fullPage: true });
  await kp.click('#reset');
  check(await kp.getAttribute('#status', 'data-state') === 'idle' && (await kp.evaluate(() => window.sparApp.history.length)) === 0 &&
    (await kp.$$('#kuhn-policy tbody tr')).length === 0, 'Reset clears the self-play run');
  await kp.close();

  if (BACKEND === 'webgpu') {
    // A GPU failure in the middle of a run (every buffer read-back fails, as on a lost device)
    // shows a message; once the GPU works again, Reset and Train run to the end (3 steps and
    // 5 distillation steps: a step takes seconds on a software adapter).
    const gp = await browser.newPage();
    await gp.goto(`${BASE_URL}?size=tiny&reward=kuhn&kuhn_steps=3&kuhn_distill_steps=5`);
    await gp.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
    await gp.evaluate(() => {
      window.__mapAsync = GPUBuffer.prototype.mapAsync;
      GPUBuffer.prototype.mapAsync = function () { return Promise.reject(new DOMException('injected: device lost', 'OperationError')); };
    });
    await gp.click('#train');
    await gp.waitForSelector('#status[data-state="error"], #status[data-state="done"]', { timeout: 60000 });
    const gMsg = await gp.textContent('#error');
    check(await gp.getAttribute('#status', 'data-state') === 'error' && /WebGPU/.test(gMsg), `a failing GPU read-back stops the run with a message ("${gMsg.split('\n')[0]}")`);
    check(!(await gp.isDisabled('#reset')), 'Reset stays usable after a GPU failure');
    await gp.evaluate(() => { GPUBuffer.prototype.mapAsync = window.__mapAsync; });
    await gp.click('#reset');
    await gp.click('#train');
    await gp.waitForSelector('#status[data-state="error"], #status[data-state="done"]', { timeout: 120000 });
    check(await gp.getAttribute('#status', 'data-state') === 'done', `after it the page trains again (${await gp.textContent('#error')})`);
    await gp.close();
  }

  // A failure shows a message and leaves the page usable: a run config the trainer rejects.
  await page.click('#reset');
  await page.evaluate(() => { document.getElementById('task').innerHTML += '<option value="no-such-task">x</option>'; });
  await page.selectOption('#task', 'no-such-task');
  await page.click('#train');
  await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
  const msg = await page.textContent('#error');
  check(/no-such-task|task/.test(msg), `a failed start shows a message ("${msg.split('\n')[0]}")`);
  check(!(await page.isDisabled('#reset')) && !(await page.isDisabled('#train')), 'the page stays usable after it');

  // Without WebGPU the page says so and trains on the CPU backend.
  const cpu = await browser.newPage();
  await cpu.goto(`${BASE_URL}?size=tiny&backend=cpu`);
  await cpu.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const notice = await cpu.textContent('#notice');
  check((await cpu.getAttribute('#adapter', 'data-backend')) === 'cpu' && /CPU backend/.test(notice), 'without WebGPU the page says so and uses the CPU backend');
  const cpuLp = await cpu.evaluate(() => window.sparApp.parity());
  const cpuDiff = Math.max(...cpuLp.map((x, i) => (REF.mask[i] ? Math.abs(x - REF.logprobs[i]) : 0)));
  result.wasm_cpu_logprob_max_abs_diff = cpuDiff;
  check(cpuDiff <= LOGPROB_TOL, `the wasm CPU backend matches the native one (max |diff| ${cpuDiff.toExponential(2)})`);
} finally {
  await browser.close();
  result.wall_s = (Date.now() - t0) / 1000;
  fs.writeFileSync(path.join(OUT_DIR, 'e2e-result.json'), JSON.stringify(result, null, 2));
}
console.log('e2e: all checks passed');
