import { describe, expect, it } from 'vitest';
import { input, layers, model, zeros } from '@araboza/core';
import { bytesPerSample, chunkRows } from '../src/chunking.js';
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
    expect(
      chunkRows(chainGraph([1920, 1080, 3], [layers.conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false })]), false, DEFAULT_CHUNK_BYTES.wasm),
    ).toBeLessThan(64);
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
      results.push({ predict: await compiled.predict([x]), loss: (await compiled.evaluate([x], [y])).loss, grads: await compiled.gradients([x], [y]) });
      compiled.dispose();
    }
    const [whole, chunked] = results;
    expect(chunked.predict).toEqual(whole.predict);
    expect(chunked.loss).toBeCloseTo(whole.loss, 6);
    expect(chunked.grads.loss).toBeCloseTo(whole.grads.loss, 6);
    chunked.grads.inputs[0].data.forEach((v, i) => expect(v).toBeCloseTo(whole.grads.inputs[0].data[i], 6));
    chunked.grads.weights.forEach((w, j) => w.data.forEach((v, i) => expect(v).toBeCloseTo(whole.grads.weights[j].data[i], 5)));
  });

  it('bytes per sample count every input and every node output', () => {
    const a = input({ shape: [5], name: 'a' });
    const b = input({ shape: [2, 3], name: 'b' });
    const h = layers.dense({ units: 4 }).apply(a);
    const f = layers.flatten().apply(b);
    const m = model({ inputs: [a, b], outputs: [h, layers.concatenate().apply([h, f])] });
    // Inputs 5 + 6, nodes 4 (dense) + 6 (flatten) + 10 (concatenate): 31 floats.
    expect(bytesPerSample(m.graph, false)).toBe(31 * 4);
    expect(bytesPerSample(m.graph, true)).toBe(31 * 4 * 3);
  });

  it('a two-input, two-output model in chunks gives the one-pass predictions, losses and gradients', async () => {
    const build = () => {
      const a = input({ shape: [4], name: 'a' });
      const b = input({ shape: [3], name: 'b' });
      const ha = layers.dense({ units: 3, activation: 'relu' }).apply(a);
      const hb = layers.dense({ units: 3, activation: 'tanh' }).apply(b);
      const p = layers.dense({ units: 1, activation: 'sigmoid' }).apply(layers.multiply().apply([ha, hb]));
      return model({ inputs: [a, b], outputs: [p, layers.concatenate().apply([ha, hb])], seed: 4 });
    };
    const xs = [data([7, 4], 5), data([7, 3], 6)];
    const ys = [data([7, 1], 7, 0, 1), data([7, 6], 8)];
    const results = [];
    // 128 bytes: one sample at a time.
    for (const maxChunkBytes of [undefined, 128]) {
      const m = build();
      const compiled = await tfjsBackend({ engine: 'wasm', maxChunkBytes }).compile(
        m.graph,
        trainingSpec(m.graph, ['binaryCrossentropy', 'meanSquaredError'], 'sgd', [1, 0.25]),
      );
      await compiled.setWeights(m.getWeights());
      results.push({ predict: await compiled.predict(xs), losses: await compiled.evaluate(xs, ys), grads: await compiled.gradients(xs, ys) });
      compiled.dispose();
    }
    const [whole, chunked] = results;
    expect(chunkRows(build().graph, true, 128)).toBe(1);
    expect(chunked.predict).toEqual(whole.predict);
    chunked.losses.outputLosses.forEach((l, i) => expect(l).toBeCloseTo(whole.losses.outputLosses[i], 6));
    chunked.grads.outputLosses.forEach((l, i) => expect(l).toBeCloseTo(whole.grads.outputLosses[i], 6));
    expect(chunked.grads.loss).toBeCloseTo(whole.grads.loss, 6);
    chunked.grads.inputs.forEach((g, j) => g.data.forEach((v, i) => expect(v).toBeCloseTo(whole.grads.inputs[j].data[i], 6)));
    chunked.grads.weights.forEach((w, j) => w.data.forEach((v, i) => expect(v).toBeCloseTo(whole.grads.weights[j].data[i], 5)));
  });
});
