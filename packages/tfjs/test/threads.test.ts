// The wasm engine's thread count is fixed for a process when it first starts: this file starts it with 2
// threads (vitest runs each test file in its own process), the others single-threaded.
import { describe, expect, it } from 'vitest';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { BackendError, ConfigError, layers } from '@araboza/core';
import * as tf from '@tensorflow/tfjs-core';
import { tfjsBackend } from '../src/index.js';
import { oneChannelSimdAvailable } from '../src/kernels/one-channel-simd.js';
import { chainGraph, chainWeights, data, trainingSpec } from './helpers.js';

const chain = [
  layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
  layers.maxPooling2d({ poolSize: 2 }),
  layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
  layers.flatten(),
  layers.dense({ units: 1, activation: 'sigmoid' }),
];
const graph = chainGraph([12, 12, 1], chain);
const weights = chainWeights(chain);
// Batch normalisation and a tiled 2×2 pool: the batch-norm and max-pool-grad SIMD modules on the shared heap.
const normalized = [
  layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same' }),
  layers.batchNormalization({ momentum: 0.9 }),
  layers.activation({ activation: 'relu' }),
  layers.maxPooling2d({ poolSize: 2 }),
  layers.flatten(),
  layers.dense({ units: 1, activation: 'sigmoid' }),
];
const normalizedGraph = chainGraph([12, 12, 1], normalized);
const normalizedWeights = chainWeights(normalized);

/** The first losses of a small convolutional model (XNNPACK convolutions and pooling, split over the threads). */
async function losses(engine: 'wasm' | 'cpu', threads?: number, g = graph, w = weights): Promise<number[]> {
  const model = await tfjsBackend({ engine, threads }).compile(g, trainingSpec(g, 'binaryCrossentropy', 'adam'));
  await model.setWeights(w);
  const x = data([16, 12, 12, 1], 6);
  const y = { shape: [16, 1], data: Float32Array.from({ length: 16 }, (_, i) => i % 2) };
  const out: number[] = [];
  for (let s = 0; s < 3; s++) out.push((await model.trainStep([x], [y])).loss);
  model.dispose();
  return out;
}

describe('tfjsBackend threads (the threaded wasm binary under worker_threads)', () => {
  it('rejects a thread count that is not an integer from 1 to 8', () => {
    for (const threads of [0, 9, 1.5, Number.NaN]) expect(() => tfjsBackend({ threads })).toThrow(ConfigError);
  });

  it('rejects threads on an engine other than wasm', () => {
    expect(() => tfjsBackend({ engine: 'cpu', threads: 2 })).toThrow(/threads: 2 is for engine wasm/);
  });

  it('starts the wasm engine with 2 threads and trains as the cpu engine does', async () => {
    const threaded = await losses('wasm', 2);
    expect(getThreadsCount()).toBe(2);
    const reference = await losses('cpu');
    threaded.forEach((l, i) => expect(Math.abs(l - reference[i])).toBeLessThan(1e-5));
  });

  it('runs the one-channel SIMD kernel on the threaded build too (its module importing the shared heap)', async () => {
    await losses('wasm', 2);
    expect(oneChannelSimdAvailable(tf.backend())).toBe(true);
  });

  it('trains a model with batch normalisation as the cpu engine does (the batch-norm and max-pool-grad SIMD modules on the shared heap)', async () => {
    const threaded = await losses('wasm', 2, normalizedGraph, normalizedWeights);
    const reference = await losses('cpu', undefined, normalizedGraph, normalizedWeights);
    threaded.forEach((l, i) => expect(Math.abs(l - reference[i])).toBeLessThan(1e-5));
  });

  it('refuses another thread count once the wasm engine runs', async () => {
    await losses('wasm', 2);
    await expect(losses('wasm', 1)).rejects.toThrow(BackendError);
    await expect(losses('wasm', 1)).rejects.toThrow(/already runs with 2 threads/);
  });
});
