import { denoisingUnet, mnistAutoencoder, slice, type Model, type Tensor } from '@araboza/core';
import { backendFor, ENGINES, tfjsWasmBuild, type Engine, type TfjsWasmBuild } from './engines.js';
import type { ConformanceRun } from './conformance.js';
import { fetchMnistImages } from './mnist.js';
import { noisy } from './noise.js';

/** The models the page can train: the MNIST autoencoder (clean → clean) and the denoising U-Net (noisy → clean). */
export const MODELS = ['autoencoder', 'unet'] as const;

/** One of {@link MODELS}. */
export type DemoModel = (typeof MODELS)[number];

/** A fresh model (seed 0) of a kind. */
function modelFor(kind: DemoModel): Model {
  return kind === 'autoencoder' ? mnistAutoencoder({ seed: 0 }) : denoisingUnet({ seed: 0 });
}

/** What one training run measured. */
export interface RunResult {
  engine: Engine;
  model: DemoModel;
  /** The loss of every step, in order. */
  losses: number[];
  /** Mean wall time of a step after the first (which includes compiling), in ms. */
  msPerStep: number;
  steps: number;
  batchSize: number;
  /** On tfjs-wasm: which wasm build ran, on how many threads. */
  wasm?: TfjsWasmBuild;
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

/** Draws 8 images of each tensor of `rows`, one row per tensor (top to bottom), 2× scaled, and captions them. */
function drawRows(rows: readonly Tensor[], caption: string): void {
  const canvas = $<HTMLCanvasElement>('recon');
  canvas.height = rows.length * 56;
  $('recon-caption').textContent = caption;
  const ctx = canvas.getContext('2d')!;
  const tile = new ImageData(28, 28);
  const scratch = document.createElement('canvas');
  scratch.width = scratch.height = 28;
  const sctx = scratch.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  rows.forEach((t, row) => {
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

/**
 * Trains a fresh `kind` model (seed 0, adam, binary cross-entropy) on `engine` for `steps` steps of `batchSize` MNIST
 * images: the autoencoder reconstructs the digits, the U-Net gets them with noise (`clip(x + 0.5·N(0, 1), 0, 1)`,
 * seed 1) and learns the clean ones. The canvas shows 8 digits as the model sees them and its output (and, for the
 * U-Net, the clean digit) every 5 steps.
 */
export async function run(engine: Engine, steps: number, batchSize = 256, kind: DemoModel = 'autoencoder'): Promise<RunResult> {
  if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${JSON.stringify(engine)} (known: ${ENGINES.join(', ')})`);
  if (!MODELS.includes(kind)) throw new Error(`unknown model ${JSON.stringify(kind)} (known: ${MODELS.join(', ')})`);
  status(`${engine}: fetching MNIST`);
  const batches = 4;
  const images = await fetchMnistImages(batchSize * batches);
  const inputs = kind === 'unet' ? noisy(images) : images;
  const model = modelFor(kind);
  model.compile({ backend: backendFor(engine), optimizer: 'adam', loss: 'binaryCrossentropy' });
  const losses: number[] = [];
  const times: number[] = [];
  let wasm: TfjsWasmBuild | undefined;
  const sample = slice(inputs, 0, 8);
  const clean = slice(images, 0, 8);
  const draw = async () => {
    const output = await model.predict(sample);
    if (kind === 'unet') drawRows([sample, output, clean], 'top: noisy inputs, middle: denoised, bottom: clean');
    else drawRows([sample, output], 'top: inputs, bottom: reconstructions');
  };
  try {
    for (let step = 0; step < steps; step++) {
      const from = (step % batches) * batchSize;
      const started = performance.now();
      losses.push(await model.trainOnBatch(slice(inputs, from, batchSize), slice(images, from, batchSize)));
      times.push(performance.now() - started);
      const later = times.slice(1);
      const ms = later.length > 0 ? later.reduce((a, b) => a + b, 0) / later.length : times[0];
      status(`${engine}, ${kind}: step ${step + 1}/${steps}, loss ${losses[step].toFixed(5)}, ${ms.toFixed(0)} ms per step`);
      drawLoss(losses);
      if (step % 5 === 4 || step === steps - 1) await draw();
    }
    if (engine === 'tfjs-wasm') wasm = await tfjsWasmBuild();
  } finally {
    model.dispose();
  }
  const later = times.slice(1);
  const msPerStep = later.length > 0 ? later.reduce((a, b) => a + b, 0) / later.length : times[0];
  return { engine, model: kind, losses, msPerStep, steps, batchSize, ...(wasm ? { wasm } : {}) };
}

declare global {
  interface Window {
    /** The page's training entry point, for scripts/browser-check.mjs. */
    arabozaDemo: {
      run: typeof run;
      engines: readonly Engine[];
      models: readonly DemoModel[];
      /** Runs part of the conformance suite in the page (loaded on first use). */
      conformance: (engine: Engine, include: readonly string[]) => Promise<ConformanceRun>;
    };
  }
}
window.arabozaDemo = {
  run,
  engines: ENGINES,
  models: MODELS,
  conformance: (engine, include) => import('./conformance.js').then((m) => m.runConformanceIn(engine, include)),
};

const select = $<HTMLSelectElement>('engine');
for (const e of ENGINES) select.add(new Option(e, e));
const modelSelect = $<HTMLSelectElement>('model');
for (const m of MODELS) modelSelect.add(new Option(m === 'unet' ? 'denoising U-Net' : m, m));
$('train').addEventListener('click', () => {
  const steps = Number($<HTMLInputElement>('steps').value) || 20;
  run(select.value as Engine, steps, 256, modelSelect.value as DemoModel).catch((e: unknown) => status(`${select.value}: ${(e as Error).message}`));
});
status(`ready (${crossOriginIsolated ? 'cross-origin isolated: wasm threads available' : 'not cross-origin isolated: wasm runs single-threaded'})`);
