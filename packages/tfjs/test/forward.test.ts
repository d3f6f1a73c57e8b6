import { describe, expect, it } from 'vitest';
import { layers, tensor, type Layer, type Tensor } from '@araboza/core';
import { tfjsBackend } from '../src/index.js';
import { chainGraph, data } from './helpers.js';
import { conv2dReference, conv2dTransposeReference } from '@araboza/conformance/reference';

const wasm = tfjsBackend({ engine: 'wasm' });
const cpu = tfjsBackend({ engine: 'cpu' });

/** Runs one layer with given weights on a backend. */
async function runLayer(layer: Layer, x: Tensor, weights: Tensor[], backend = wasm): Promise<Tensor> {
  const graph = chainGraph(x.shape.slice(1), [layer]);
  const compiled = await backend.compile(graph);
  try {
    await compiled.setWeights(weights);
    return (await compiled.predict([x]))[0];
  } finally {
    compiled.dispose();
  }
}

function close(actual: Tensor, expected: Tensor, tol = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const diffs = Array.from(actual.data, (v, i) => Math.abs(v - expected.data[i]));
  expect(Math.max(0, ...diffs)).toBeLessThan(tol);
}

describe('conv1d', () => {
  const x = tensor([1, 2, 3, 4, 5], [1, 5, 1]);
  const kernel = tensor([1, 0, -1], [3, 1, 1]);
  it('valid: [1,2,3,4,5] with filter [1,0,-1] gives [-2,-2,-2]', async () => {
    const y = await runLayer(layers.conv1d({ filters: 1, kernelSize: 3, useBias: false }), x, [kernel]);
    expect(y.shape).toEqual([1, 3, 1]);
    expect(Array.from(y.data)).toEqual([-2, -2, -2]);
  });
  it('same: zero padding gives [-2,-2,-2,-2,4]', async () => {
    const y = await runLayer(layers.conv1d({ filters: 1, kernelSize: 3, padding: 'same', useBias: false }), x, [kernel]);
    expect(Array.from(y.data)).toEqual([-2, -2, -2, -2, 4]);
  });
  it('dilation 2 over [1..7] with [1,0,-1] gives x[t] − x[t+4]', async () => {
    const y = await runLayer(layers.conv1d({ filters: 1, kernelSize: 3, dilationRate: 2, useBias: false }), tensor([1, 2, 3, 4, 5, 6, 7], [1, 7, 1]), [kernel]);
    expect(Array.from(y.data)).toEqual([-4, -4, -4]);
  });
  it('stride 2 same on an odd length pads after: [1..5] → [-2, -2, 4]', async () => {
    const y = await runLayer(layers.conv1d({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x, [kernel]);
    // total padding 2 (1 before, 1 after): windows (pad,1,2), (2,3,4), (4,5,pad).
    expect(Array.from(y.data)).toEqual([-2, -2, 4]);
  });
});

describe('conv2d', () => {
  it('same padding, stride 2, odd size: Keras puts the larger half after', async () => {
    // 4×4 input, 2×2 kernel, stride 2: total padding 0 → 2×2 output; 5×5: total 1, all after.
    const x = tensor(
      Array.from({ length: 25 }, (_, i) => i + 1),
      [1, 5, 5, 1],
    );
    const k = tensor([1, 1, 1, 1], [2, 2, 1, 1]);
    const y = await runLayer(layers.conv2d({ filters: 1, kernelSize: 2, strides: 2, padding: 'same', useBias: false }), x, [k]);
    expect(y.shape).toEqual([1, 3, 3, 1]);
    // Windows start at rows/cols 0, 2, 4; the last has only one row/col of data.
    expect(Array.from(y.data)).toEqual([1 + 2 + 6 + 7, 3 + 4 + 8 + 9, 5 + 10, 11 + 12 + 16 + 17, 13 + 14 + 18 + 19, 15 + 20, 21 + 22, 23 + 24, 25]);
  });
  const cases = [
    { strides: [1, 1], dilationRate: [1, 1], padding: 'same' },
    { strides: [2, 3], dilationRate: [1, 1], padding: 'same' },
    { strides: [3, 2], dilationRate: [1, 1], padding: 'valid' },
    { strides: [1, 1], dilationRate: [2, 2], padding: 'same' },
    { strides: [1, 1], dilationRate: [2, 1], padding: 'valid' },
  ] as const;
  it.each(cases)('matches a naive reference: strides $strides, dilation $dilationRate, $padding, bias and tanh', async (c) => {
    const x = data([2, 9, 8, 3], 1);
    const kernel = data([3, 2, 3, 4], 2);
    const bias = data([4], 3);
    const layer = layers.conv2d({
      filters: 4,
      kernelSize: [3, 2],
      strides: [...c.strides],
      dilationRate: [...c.dilationRate],
      padding: c.padding,
      activation: 'tanh',
    });
    const ref = conv2dReference(x, kernel, [...c.strides], [...c.dilationRate], c.padding);
    const expected = { shape: ref.shape, data: ref.data.map((v, i) => Math.tanh(v + bias.data[i % 4])) };
    close(await runLayer(layer, x, [kernel, bias]), expected);
  });
});

describe('conv2dTranspose', () => {
  const cases = [
    { kernelSize: 3, strides: 2, padding: 'valid' },
    { kernelSize: 3, strides: 2, padding: 'same' },
    { kernelSize: 2, strides: 3, padding: 'valid' },
    { kernelSize: 2, strides: 3, padding: 'same' },
    { kernelSize: 4, strides: 1, padding: 'same' },
  ] as const;
  it.each(cases)('matches Keras: kernel $kernelSize, stride $strides, $padding', async (c) => {
    const x = data([2, 4, 3, 3], 4);
    const kernel = data([c.kernelSize, c.kernelSize, 2, 3], 5);
    const layer = layers.conv2dTranspose({ filters: 2, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, useBias: false });
    const expected = conv2dTransposeReference(x, kernel, [c.strides, c.strides], c.padding);
    const y = await runLayer(layer, x, [kernel]);
    // Keras's output lengths: valid in·s + max(k − s, 0), same in·s.
    const len = (n: number) => (c.padding === 'same' ? n * c.strides : n * c.strides + Math.max(c.kernelSize - c.strides, 0));
    expect(y.shape).toEqual([2, len(4), len(3), 2]);
    close(y, expected);
  });
});

describe('pooling', () => {
  const x = tensor(
    Array.from({ length: 49 }, (_, i) => ((i * 37) % 49) - 20),
    [1, 7, 7, 1],
  );
  it('max pooling same: 7×7 → 4×4, padding counts as −∞ (negative values survive)', async () => {
    const y = await runLayer(layers.maxPooling2d({ poolSize: 2, padding: 'same' }), x, []);
    expect(y.shape).toEqual([1, 4, 4, 1]);
    const at = (r: number, c: number) => (r < 7 && c < 7 ? x.data[r * 7 + c] : -Infinity);
    const expected = Array.from({ length: 16 }, (_, i) => {
      const [r, c] = [Math.floor(i / 4) * 2, (i % 4) * 2];
      return Math.max(at(r, c), at(r, c + 1), at(r + 1, c), at(r + 1, c + 1));
    });
    expect(Array.from(y.data)).toEqual(expected);
    // The bottom-right window holds only x[6][6].
    expect(y.data[15]).toBe(x.data[48]);
  });
  it('average pooling same excludes the padding from the mean', async () => {
    const y = await runLayer(layers.averagePooling2d({ poolSize: 2, padding: 'same' }), x, []);
    expect(y.shape).toEqual([1, 4, 4, 1]);
    expect(y.data[15]).toBe(x.data[48]);
    expect(y.data[3]).toBeCloseTo((x.data[6] + x.data[13]) / 2, 6);
    expect(y.data[0]).toBeCloseTo((x.data[0] + x.data[1] + x.data[7] + x.data[8]) / 4, 6);
  });
  it('max pooling valid with a 3×3 pool and stride 2', async () => {
    const y = await runLayer(layers.maxPooling2d({ poolSize: 3, strides: 2 }), x, []);
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect(y.data[0]).toBe(Math.max(...[0, 1, 2, 7, 8, 9, 14, 15, 16].map((i) => x.data[i])));
  });
});

describe('reshaping layers', () => {
  it('upSampling2d repeats each pixel size×size', async () => {
    const y = await runLayer(layers.upSampling2d({ size: [2, 3] }), tensor([1, 2, 3, 4], [1, 2, 2, 1]), []);
    expect(y.shape).toEqual([1, 4, 6, 1]);
    expect(Array.from(y.data)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4]);
  });
  it('flatten keeps row-major channels-last order', async () => {
    const x = data([2, 2, 3, 2], 6);
    const y = await runLayer(layers.flatten(), x, []);
    expect(y.shape).toEqual([2, 12]);
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
  });
  it('reshape with -1', async () => {
    const x = data([2, 12], 7);
    const y = await runLayer(layers.reshape({ targetShape: [3, -1] }), x, []);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
  });
});

describe('dense', () => {
  it('applies over the last axis of a rank-3 input (experiment 1: [64, 4, 2] → [64, 4, 1])', async () => {
    const x = data([64, 4, 2], 8);
    const y = await runLayer(layers.dense({ units: 1, useBias: false }), x, [tensor([2, -3], [2, 1])]);
    expect(y.shape).toEqual([64, 4, 1]);
    close(y, { shape: [64, 4, 1], data: Float32Array.from({ length: 256 }, (_, i) => 2 * x.data[2 * i] - 3 * x.data[2 * i + 1]) });
  });
  it('fused bias and relu', async () => {
    const y = await runLayer(layers.dense({ units: 2, activation: 'relu' }), tensor([1, 2], [1, 2]), [tensor([1, -1, 1, -1], [2, 2]), tensor([0.5, 0.5], [2])]);
    expect(Array.from(y.data)).toEqual([3.5, 0]);
  });
});

describe('activation', () => {
  const x = tensor([-2, -0.5, 0, 0.5, 2, 3], [2, 3]);
  const expected: Record<string, (v: number, i: number) => number> = {
    linear: (v) => v,
    relu: (v) => Math.max(v, 0),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    tanh: (v) => Math.tanh(v),
    softmax: (_v, i) => {
      const row = Array.from(x.data.slice(Math.floor(i / 3) * 3, Math.floor(i / 3) * 3 + 3));
      const z = row.reduce((s, r) => s + Math.exp(r), 0);
      return Math.exp(x.data[i]) / z;
    },
    elu: (v) => (v > 0 ? v : Math.expm1(v)),
    selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)),
    // Φ(x) at these points, from float64 erf.
    gelu: (v) =>
      v *
      (
        {
          '-2': 0.022750131948179195,
          '-0.5': 0.3085375387259869,
          '0': 0.5,
          '0.5': 0.6914624612740131,
          '2': 0.9772498680518208,
          '3': 0.9986501019683699,
        } as Record<string, number>
      )[String(v)],
    softplus: (v) => Math.log1p(Math.exp(v)),
    softsign: (v) => v / (1 + Math.abs(v)),
    silu: (v) => v / (1 + Math.exp(-v)),
    swish: (v) => v / (1 + Math.exp(-v)),
    hardSigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
    relu6: (v) => Math.min(Math.max(v, 0), 6),
    exponential: (v) => Math.exp(v),
  };
  it.each(Object.keys(expected))('%s', async (name) => {
    const y = await runLayer(layers.activation({ activation: name as 'relu' }), x, []);
    close(y, { shape: [2, 3], data: x.data.map((v, i) => expected[name](v, i)) }, 1e-6);
  });
});

describe('cpu engine agrees with wasm on every kind', () => {
  it('a chain using conv1d, reshape, conv2d, pooling, upsampling, conv2dTranspose, flatten, dense, activation', async () => {
    const stack = () => [
      layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.reshape({ targetShape: [6, 6, 2] }),
      layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
      layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      layers.upSampling2d({ size: 2 }),
      layers.averagePooling2d({ poolSize: 2 }),
      layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 }),
      layers.flatten(),
      layers.dense({ units: 3 }),
      layers.activation({ activation: 'softmax' }),
    ];
    const x = data([2, 18, 4], 9);
    const results: Tensor[] = [];
    for (const backend of [wasm, cpu]) {
      const ls = stack();
      const graph = chainGraph([18, 4], ls);
      const compiled = await backend.compile(graph);
      await compiled.setWeights(ls.flatMap((l, i) => (l.initializeWeights(), l.getWeights().map((w) => ({ ...w, data: w.data.map((v) => v + 0.01 * i) })))));
      results.push((await compiled.predict([x]))[0]);
      compiled.dispose();
    }
    expect(results[0].shape).toEqual([2, 3]);
    close(results[0], results[1], 1e-5);
  });
});

describe('same padding when the last stride step starts past the input end', () => {
  // tfjs-backend-wasm 4.22 returns zeros here (tensorflow/tfjs#8405); the backend pads explicitly instead.
  it.each([
    ['wasm', wasm],
    ['cpu', cpu],
  ])('conv2d on %s: a 1×3 row, kernel 1×2, strides [1, 3] gives 1·10 + 2·100', async (_name, backend) => {
    const y = await runLayer(
      layers.conv2d({ filters: 1, kernelSize: [1, 2], strides: [1, 3], padding: 'same', useBias: false }),
      tensor([1, 2, 3], [1, 1, 3, 1]),
      [tensor([10, 100], [1, 2, 1, 1])],
      backend,
    );
    expect(Array.from(y.data)).toEqual([210]);
  });

  it('conv2dTranspose with stride > kernel and same padding: wasm equals cpu', async () => {
    const layer = layers.conv2dTranspose({ filters: 2, kernelSize: [1, 2], strides: [1, 3], padding: 'same', useBias: false });
    const x = data([1, 2, 3, 2], 5);
    const kernel = data([1, 2, 2, 2], 6);
    const onWasm = await runLayer(layer, x, [kernel], wasm);
    const onCpu = await runLayer(layer, x, [kernel], cpu);
    expect(onWasm.shape).toEqual([1, 2, 9, 2]);
    close(onWasm, onCpu);
  });
});
