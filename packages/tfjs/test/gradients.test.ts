import { describe, expect, it } from 'vitest';
import { layers, tensor, type Layer } from '@araboza/core';
import { tfjsBackend } from '../src/index.js';
import { chainGraph, chainWeights, data, maxRelDiff, trainingSpec } from './helpers.js';

const wasm = tfjsBackend({ engine: 'wasm' });
const cpu = tfjsBackend({ engine: 'cpu' });

/** One small model per layer kind (and variant), each with an input shape. */
const MODELS: Record<string, { input: number[]; layers: () => Layer[] }> = {
  dense: { input: [3, 4], layers: () => [layers.dense({ units: 3, activation: 'relu' })] },
  conv1d: { input: [9, 3], layers: () => [layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' })] },
  'conv1d dilated': { input: [11, 2], layers: () => [layers.conv1d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' })] },
  conv2d: { input: [7, 6, 3], layers: () => [layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' })] },
  'conv2d strided': { input: [9, 8, 2], layers: () => [layers.conv2d({ filters: 3, kernelSize: [3, 2], strides: [2, 3], padding: 'valid' })] },
  'conv2d dilated': { input: [9, 9, 2], layers: () => [layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'sigmoid' })] },
  conv2dTranspose: { input: [4, 3, 3], layers: () => [layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })] },
  'conv2dTranspose k<s': { input: [3, 3, 2], layers: () => [layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 3 })] },
  maxPooling2d: { input: [7, 7, 2], layers: () => [layers.maxPooling2d({ poolSize: 2, padding: 'same' })] },
  'maxPooling2d overlapping': { input: [7, 6, 2], layers: () => [layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' })] },
  averagePooling2d: { input: [7, 7, 2], layers: () => [layers.averagePooling2d({ poolSize: 2, padding: 'same' })] },
  upSampling2d: { input: [7, 7, 2], layers: () => [layers.upSampling2d({ size: 2 })] },
  flatten: { input: [2, 3, 2], layers: () => [layers.flatten(), layers.dense({ units: 2 })] },
  reshape: { input: [12], layers: () => [layers.reshape({ targetShape: [3, 4] }), layers.dense({ units: 2 })] },
  activation: { input: [5], layers: () => [layers.dense({ units: 4 }), layers.activation({ activation: 'softmax' })] },
  'activation gelu, selu, relu6': {
    input: [5],
    layers: () => [layers.dense({ units: 4, activation: 'gelu' }), layers.dense({ units: 3, activation: 'selu' }), layers.activation({ activation: 'relu6' })],
  },
  leakyRelu: { input: [5], layers: () => [layers.dense({ units: 4 }), layers.leakyRelu({ negativeSlope: 0.1 })] },
  zeroPadding2d: {
    input: [4, 3, 2],
    layers: () => [
      layers.zeroPadding2d({
        padding: [
          [1, 0],
          [2, 1],
        ],
      }),
      layers.conv2d({ filters: 2, kernelSize: 2 }),
    ],
  },
  cropping2d: {
    input: [5, 6, 2],
    layers: () => [
      layers.cropping2d({
        cropping: [
          [0, 2],
          [1, 1],
        ],
      }),
      layers.conv2d({ filters: 2, kernelSize: 2 }),
    ],
  },
  globalAveragePooling2d: { input: [4, 5, 2], layers: () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalAveragePooling2d()] },
  'globalAveragePooling2d keepdims': {
    input: [4, 5, 2],
    layers: () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalAveragePooling2d({ keepdims: true })],
  },
  globalMaxPooling2d: { input: [4, 5, 2], layers: () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalMaxPooling2d({ keepdims: true })] },
  globalAveragePooling1d: { input: [6, 2], layers: () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.globalAveragePooling1d({ keepdims: true })] },
  globalMaxPooling1d: { input: [6, 2], layers: () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.globalMaxPooling1d()] },
  maxPooling1d: {
    input: [7, 2],
    layers: () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' })],
  },
  averagePooling1d: { input: [7, 2], layers: () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.averagePooling1d({ padding: 'same' })] },
  upSampling1d: { input: [5, 2], layers: () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.upSampling1d({ size: 3 })] },
};

async function gradientsOn(backend: typeof wasm, name: string, loss: string) {
  const spec = MODELS[name];
  const ls = spec.layers();
  const graph = chainGraph(spec.input, ls);
  const compiled = await backend.compile(graph, trainingSpec(graph, loss));
  try {
    await compiled.setWeights(chainWeights(ls).map((w, i) => (w.shape.length === 1 ? data(w.shape, 50 + i, -0.2, 0.2) : w)));
    const x = data([3, ...spec.input], 1);
    const outShape = graph.nodes[graph.nodes.length - 1].outputShape;
    const y = data([3, ...outShape], 2, 0, 1);
    return await compiled.gradients([x], [y]);
  } finally {
    compiled.dispose();
  }
}

describe('gradients of every layer kind on wasm equal those on cpu', () => {
  it.each(Object.keys(MODELS))('%s', async (name) => {
    const [a, b] = [await gradientsOn(wasm, name, 'meanSquaredError'), await gradientsOn(cpu, name, 'meanSquaredError')];
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6);
    expect(maxRelDiff(a.inputs[0], b.inputs[0])).toBeLessThan(1e-5);
    expect(a.weights.length).toBe(b.weights.length);
    a.weights.forEach((w, i) => expect(maxRelDiff(w, b.weights[i])).toBeLessThan(1e-5));
    // Something must flow: a zero gradient everywhere would also "match".
    expect(a.inputs[0].data.some((v) => v !== 0)).toBe(true);
  });
});

describe('gradients agree with central differences (MSE of a linear layer is quadratic, so they are exact up to rounding)', () => {
  // `after`: a weightless layer whose input gradient reaches the weights only through the layer before it.
  const linear: Record<string, { input: number[]; layer: () => Layer; after?: () => Layer }> = {
    'averagePooling2d same (padding excluded from the mean, also in the gradient)': {
      input: [7, 7, 2],
      layer: () => layers.dense({ units: 2 }),
      after: () => layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
    },
    'averagePooling2d same, 3×3 pool, stride 2': {
      input: [6, 5, 2],
      layer: () => layers.dense({ units: 2 }),
      after: () => layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
    },
    'conv2d dilated': { input: [8, 7, 2], layer: () => layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same' }) },
    'conv1d dilated': { input: [9, 2], layer: () => layers.conv1d({ filters: 2, kernelSize: 2, dilationRate: 3 }) },
    'conv2d strided': { input: [7, 7, 2], layer: () => layers.conv2d({ filters: 2, kernelSize: 3, strides: 3, padding: 'same' }) },
    conv2dTranspose: { input: [3, 3, 2], layer: () => layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 }) },
  };
  it.each(Object.keys(linear))('%s', async (name) => {
    const { input, layer, after } = linear[name];
    const l = layer();
    const graph = chainGraph(input, [l, ...(after ? [after()] : [])]);
    const compiled = await wasm.compile(graph, trainingSpec(graph, 'meanSquaredError'));
    try {
      const weights = chainWeights([l]);
      await compiled.setWeights(weights);
      const x = data([2, ...input], 3);
      const y = data([2, ...graph.nodes[graph.nodes.length - 1].outputShape], 4);
      const grads = await compiled.gradients([x], [y]);
      const h = 1e-2;
      const n = weights[0].data.length;
      for (const index of [0, Math.min(5, n - 2), n - 1]) {
        const shifted = (delta: number) => weights.map((w, i) => (i === 0 ? { shape: w.shape, data: w.data.map((v, j) => (j === index ? v + delta : v)) } : w));
        await compiled.setWeights(shifted(h));
        const { loss: up } = await compiled.evaluate([x], [y]);
        await compiled.setWeights(shifted(-h));
        const { loss: down } = await compiled.evaluate([x], [y]);
        expect((up - down) / (2 * h)).toBeCloseTo(grads.weights[0].data[index], 3);
      }
    } finally {
      compiled.dispose();
    }
  });
});

describe('gradient details', () => {
  it("relu's gradient at exactly 0 is 0", async () => {
    const l = layers.dense({ units: 1, activation: 'relu' });
    const graph = chainGraph([1], [l]);
    const compiled = await wasm.compile(graph, trainingSpec(graph, 'meanSquaredError'));
    await compiled.setWeights([tensor([1], [1, 1]), tensor([0], [1])]);
    const g = await compiled.gradients([tensor([0], [1, 1])], [tensor([1], [1, 1])]);
    compiled.dispose();
    expect(g.loss).toBe(1);
    expect(Array.from(g.weights[1].data)).toEqual([0]);
  });

  it('binary cross-entropy from logits has gradient sigmoid(z) − y at z = 0 (blank input, zero bias)', async () => {
    const l = layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' });
    const graph = chainGraph([4, 4, 1], [l]);
    const spec = trainingSpec(graph, 'binaryCrossentropy');
    expect(spec.losses[0].fromLogits).toBe(true);
    const compiled = await wasm.compile(graph, spec);
    await compiled.setWeights(chainWeights([l]));
    const y = data([2, 4, 4, 1], 5, 0, 1);
    const g = await compiled.gradients([{ shape: [2, 4, 4, 1], data: new Float32Array(32) }], [y]);
    compiled.dispose();
    expect(g.loss).toBeCloseTo(Math.log(2), 6);
    const expected = y.data.reduce((s, v) => s + (0.5 - v), 0) / 32;
    expect(g.weights[1].data[0]).toBeCloseTo(expected, 6);
  });

  it('binary cross-entropy from probabilities clips to [1e-7, 1 − 1e-7]', async () => {
    const l = layers.dense({ units: 1, useBias: false });
    const graph = chainGraph([1], [l]);
    const spec = trainingSpec(graph, 'binaryCrossentropy');
    expect(spec.losses[0].fromLogits).toBe(false);
    const compiled = await wasm.compile(graph, spec);
    await compiled.setWeights([tensor([1], [1, 1])]);
    // p = 0 for y = 1: −log(1e-7).
    const { loss } = await compiled.evaluate([tensor([0], [1, 1])], [tensor([1], [1, 1])]);
    compiled.dispose();
    expect(loss).toBeCloseTo(-Math.log(1e-7), 3);
  });

  it('categorical cross-entropy from softmax logits equals −Σ y·log softmax(z)', async () => {
    const l = layers.dense({ units: 3, activation: 'softmax', useBias: false });
    const graph = chainGraph([2], [l]);
    const spec = trainingSpec(graph, 'categoricalCrossentropy');
    const compiled = await wasm.compile(graph, spec);
    await compiled.setWeights([tensor([1, 2, 3, 0, -1, 1], [2, 3])]);
    const { loss } = await compiled.evaluate([tensor([1, 1], [1, 2])], [tensor([0, 1, 0], [1, 3])]);
    compiled.dispose();
    const z = [1, 1, 4];
    expect(loss).toBeCloseTo(-(z[1] - Math.log(z.reduce((s, v) => s + Math.exp(v), 0))), 5);
  });
});
