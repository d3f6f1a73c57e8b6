import { mnistAutoencoder, slice, type Tensor } from '@araboza/core';
import { backendFor, ENGINES, type Engine } from './engines.js';
import { fetchMnistImages } from './mnist.js';

/** What one training run measured. */
export interface RunResult {
  engine: Engine;
  /** The loss of every step, in order. */
  losses: number[];
  /** Mean wall time of a step after the first (which includes compiling), in ms. */
  msPerStep: number;
  steps: number;
  batchSize: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string) => ($('status').textContent = text);

/** Draws the loss curve, scaled to its range. */
function drawLoss(losses: readonly number[]): void {
  const canvas = $<HTMLCanvasElement>('loss');
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (losses.length === 0) return;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const pad = 20;
  const x = (i: number) => pad + (i / Math.max(1, losses.length - 1)) * (canvas.width - 2 * pad);
  const y = (v: number) => canvas.height - pad - ((v - lo) / Math.max(1e-12, hi - lo)) * (canvas.height - 2 * pad);
  ctx.strokeStyle = '#1565c0';
  ctx.lineWidth = 2;
  ctx.beginPath();
  losses.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
  ctx.fillStyle = '#222';
  ctx.font = '12px monospace';
  ctx.fillText(`${hi.toFixed(4)}`, 2, 12);
  ctx.fillText(`${lo.toFixed(4)}`, 2, canvas.height - 4);
}

/** Draws 8 inputs (top row) and their reconstructions (bottom row), 2× scaled. */
function drawReconstructions(inputs: Tensor, outputs: Tensor): void {
  const ctx = $<HTMLCanvasElement>('recon').getContext('2d')!;
  const tile = new ImageData(28, 28);
  const scratch = document.createElement('canvas');
  scratch.width = scratch.height = 28;
  const sctx = scratch.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  [inputs, outputs].forEach((t, row) => {
    for (let k = 0; k < 8; k++) {
      for (let p = 0; p < 784; p++) {
        const v = Math.round(Math.min(1, Math.max(0, t.data[k * 784 + p])) * 255);
        tile.data.set([v, v, v, 255], p * 4);
      }
      sctx.putImageData(tile, 0, 0);
      ctx.drawImage(scratch, k * 56, row * 56, 56, 56);
    }
  });
}

/** Trains a fresh autoencoder (seed 0, adam, binary cross-entropy) on `engine` for `steps` steps of `batchSize` MNIST images. */
export async function run(engine: Engine, steps: number, batchSize = 256): Promise<RunResult> {
  if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${JSON.stringify(engine)} (known: ${ENGINES.join(', ')})`);
  status(`${engine}: fetching MNIST`);
  const batches = 4;
  const images = await fetchMnistImages(batchSize * batches);
  const model = mnistAutoencoder({ seed: 0 });
  model.compile({ backend: backendFor(engine), optimizer: 'adam', loss: 'binaryCrossentropy' });
  const losses: number[] = [];
  const times: number[] = [];
  const sample = slice(images, 0, 8);
  try {
    for (let step = 0; step < steps; step++) {
      const batch = slice(images, (step % batches) * batchSize, batchSize);
      const started = performance.now();
      losses.push(await model.trainOnBatch(batch, batch));
      times.push(performance.now() - started);
      const later = times.slice(1);
      const ms = later.length > 0 ? later.reduce((a, b) => a + b, 0) / later.length : times[0];
      status(`${engine}: step ${step + 1}/${steps}, loss ${losses[step].toFixed(5)}, ${ms.toFixed(0)} ms per step`);
      drawLoss(losses);
      if (step % 5 === 4 || step === steps - 1) drawReconstructions(sample, await model.predict(sample));
    }
  } finally {
    model.dispose();
  }
  const later = times.slice(1);
  const msPerStep = later.length > 0 ? later.reduce((a, b) => a + b, 0) / later.length : times[0];
  return { engine, losses, msPerStep, steps, batchSize };
}

declare global {
  interface Window {
    /** The page's training entry point, for scripts/browser-check.mjs. */
    arabozaDemo: { run: typeof run; engines: readonly Engine[] };
  }
}
window.arabozaDemo = { run, engines: ENGINES };

const select = $<HTMLSelectElement>('engine');
for (const e of ENGINES) select.add(new Option(e, e));
$('train').addEventListener('click', () => {
  const steps = Number($<HTMLInputElement>('steps').value) || 20;
  run(select.value as Engine, steps).catch((e: unknown) => status(`${select.value}: ${(e as Error).message}`));
});
status(`ready (${crossOriginIsolated ? 'cross-origin isolated: wasm threads available' : 'not cross-origin isolated: wasm runs single-threaded'})`);
