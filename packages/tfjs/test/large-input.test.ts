import { describe, expect, it } from 'vitest';
import { layers, zeros } from '@araboza/core';
import { chunkRows } from '../src/chunking.js';
import { DEFAULT_CHUNK_BYTES, tfjsBackend } from '../src/index.js';
import { chainGraph, chainWeights, data, trainingSpec } from './helpers.js';

describe('batches larger than one pass runs in chunks', () => {
  it('experiment 3 on wasm: conv2d over zeros([64, 1920, 1080, 3]) (1.6 GB) → flatten → dense(1)', async () => {
    const backend = tfjsBackend({ engine: 'wasm' });
    const x = zeros([64, 1920, 1080, 3]);
    const conv = layers.conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false });
    const y = await conv.apply(x, { backend });
    expect(y.shape).toEqual([64, 384, 216, 16]);
    expect(conv.countParams()).toBe(1200);
    // One pass would need ~1.9 GB of wasm's 32-bit heap; it runs in chunks.
    expect(chunkRows(chainGraph([1920, 1080, 3], [layers.conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false })]), false, DEFAULT_CHUNK_BYTES.wasm)).toBeLessThan(64);
    const flat = await layers.flatten().apply(y, { backend });
    expect(flat.shape).toEqual([64, 1327104]);
    const dense = layers.dense({ units: 1, useBias: false });
    const out = await dense.apply(flat, { backend });
    expect(out.shape).toEqual([64, 1]);
    expect(dense.countParams()).toBe(1327104);
    expect(Array.from(out.data)).toEqual(new Array(64).fill(0));
  }, 240_000);

  it('chunked predict, evaluate and gradients equal the one-pass results', async () => {
    const stack = () => [
      layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 2 }),
    ];
    const x = data([7, 8, 8, 2], 1);
    const y = data([7, 2], 2);
    const results = [];
    // 4 KB per chunk: one or two samples at a time.
    for (const maxChunkBytes of [undefined, 4096]) {
      const ls = stack();
      const graph = chainGraph([8, 8, 2], ls);
      const compiled = await tfjsBackend({ engine: 'wasm', maxChunkBytes }).compile(graph, trainingSpec(graph, 'meanSquaredError'));
      await compiled.setWeights(chainWeights(ls));
      results.push({ predict: await compiled.predict(x), loss: await compiled.evaluate(x, y), grads: await compiled.gradients(x, y) });
      compiled.dispose();
    }
    const [whole, chunked] = results;
    expect(chunked.predict).toEqual(whole.predict);
    expect(chunked.loss).toBeCloseTo(whole.loss, 6);
    expect(chunked.grads.loss).toBeCloseTo(whole.grads.loss, 6);
    chunked.grads.input.data.forEach((v, i) => expect(v).toBeCloseTo(whole.grads.input.data[i], 6));
    chunked.grads.weights.forEach((w, j) => w.data.forEach((v, i) => expect(v).toBeCloseTo(whole.grads.weights[j].data[i], 5)));
  });
});
