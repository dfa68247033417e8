// The README's pictures of the page: one whole run of the "small" size in headless Chromium,
// then a shot of the viewport. Serve the page first (scripts/serve-web.sh), then in web-demo/:
//
//   BASE_URL=http://127.0.0.1:8000/ OUT=../docs/web-demo.png BACKEND=cpu TASK=sort node tests/screenshot.mjs
//   BASE_URL=http://127.0.0.1:8000/ OUT=../docs/web-demo-kuhn.png BACKEND=cpu REWARD=kuhn node tests/screenshot.mjs
//
// (about 75 s and 30 s on a 2-core machine without a GPU; BACKEND unset uses WebGPU if offered:
// the Kuhn run takes seconds a step on a software adapter such as SwiftShader).
import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8000/';
const OUT = process.env.OUT || 'web-demo.png';
const backend = process.env.BACKEND === 'cpu' ? '&backend=cpu' : '';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${BASE_URL}?size=${process.env.SIZE || 'small'}${backend}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  if (process.env.TASK) await page.selectOption('#task', process.env.TASK);
  if (process.env.REWARD) await page.selectOption('#reward', process.env.REWARD);
  const t0 = Date.now();
  await page.click('#train');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 0 });
  const state = await page.getAttribute('#status', 'data-state');
  if (state !== 'done') throw new Error(`the run stopped: ${await page.textContent('#error')}`);
  await page.screenshot({ path: OUT });
  console.log(`screenshot: ${OUT} after ${((Date.now() - t0) / 1000).toFixed(0)} s (${await page.textContent('#adapter')})`);
} finally {
  await browser.close();
}
