import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  Random,
  TRUNCATED_NORMAL_STDDEV,
  computeFans,
  drawInitializer,
  layerFromJSON,
  layers,
  loadModel,
  resolveInitializer,
  sequential,
  type InitializerLike,
} from '../src/index.js';

function stats(data: Float32Array): { mean: number; variance: number; maxAbs: number } {
  let sum = 0;
  for (const v of data) sum += v;
  const mean = sum / data.length;
  let sq = 0;
  let maxAbs = 0;
  for (const v of data) {
    sq += (v - mean) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { mean, variance: sq / data.length, maxAbs };
}

const draw = (init: InitializerLike, shape: number[], seed = 1) =>
  drawInitializer(resolveInitializer(init, 'zeros', 'kernelInitializer', 'test', shape.length), shape, new Random(seed));

// A conv kernel [3, 3, 32, 64]: receptive field 9, fanIn 288, fanOut 576, 18 432 values.
const SHAPE = [3, 3, 32, 64];
const FAN_IN = 288;
const FAN_OUT = 576;

describe('variance-scaling initialisers', () => {
  it.each([
    ['glorotUniform', 2 / (FAN_IN + FAN_OUT), Math.sqrt(6 / (FAN_IN + FAN_OUT))],
    ['heUniform', 2 / FAN_IN, Math.sqrt(6 / FAN_IN)],
    ['lecunUniform', 1 / FAN_IN, Math.sqrt(3 / FAN_IN)],
  ] as const)('%s: mean 0, variance as Keras, every value within the limit', (name, variance, limit) => {
    const s = stats(draw(name, SHAPE));
    expect(Math.abs(s.mean)).toBeLessThan(0.05 * Math.sqrt(variance));
    expect(s.variance / variance).toBeGreaterThan(0.95);
    expect(s.variance / variance).toBeLessThan(1.05);
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.maxAbs).toBeGreaterThan(0.99 * limit);
  });

  it.each([
    ['glorotNormal', 2 / (FAN_IN + FAN_OUT)],
    ['heNormal', 2 / FAN_IN],
    ['lecunNormal', 1 / FAN_IN],
  ] as const)('%s: truncated normal with variance as Keras, nothing beyond two of its stddevs', (name, variance) => {
    const s = stats(draw(name, SHAPE));
    const stddev = Math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV;
    expect(Math.abs(s.mean)).toBeLessThan(0.05 * Math.sqrt(variance));
    expect(s.variance / variance).toBeGreaterThan(0.95);
    expect(s.variance / variance).toBeLessThan(1.05);
    expect(s.maxAbs).toBeLessThanOrEqual(2 * stddev * (1 + 1e-6));
  });
});

describe('parametrised initialisers', () => {
  it('randomUniform draws within [minval, maxval) with their mean and variance', () => {
    const s = stats(draw({ name: 'randomUniform', minval: 1, maxval: 3 }, [100, 200]));
    expect(s.mean).toBeCloseTo(2, 1);
    expect(s.variance / (4 / 12)).toBeGreaterThan(0.97);
    expect(s.variance / (4 / 12)).toBeLessThan(1.03);
    expect(s.maxAbs).toBeLessThanOrEqual(3);
  });

  it('randomNormal has the given mean and stddev', () => {
    const s = stats(draw({ name: 'randomNormal', mean: -1, stddev: 0.5 }, [100, 200]));
    expect(s.mean).toBeCloseTo(-1, 2);
    expect(Math.sqrt(s.variance)).toBeCloseTo(0.5, 2);
  });

  it('truncatedNormal stays within two stddevs of the mean, with the truncated variance', () => {
    const data = draw({ name: 'truncatedNormal', mean: 2, stddev: 0.1 }, [100, 200]);
    const s = stats(data);
    expect(s.mean).toBeCloseTo(2, 2);
    expect(Math.sqrt(s.variance) / (0.1 * TRUNCATED_NORMAL_STDDEV)).toBeCloseTo(1, 1);
    expect(data.every((v) => Math.abs(v - 2) <= 0.2 + 1e-6)).toBe(true);
  });

  it("defaults to Keras's parameters (randomUniform ±0.05, randomNormal stddev 0.05, constant 0, orthogonal gain 1)", () => {
    expect(resolveInitializer('randomUniform', 'zeros', 'o', 'l', 2)).toEqual({ name: 'randomUniform', minval: -0.05, maxval: 0.05 });
    expect(resolveInitializer('randomNormal', 'zeros', 'o', 'l', 2)).toEqual({ name: 'randomNormal', mean: 0, stddev: 0.05 });
    expect(resolveInitializer('constant', 'zeros', 'o', 'l', 2)).toEqual({ name: 'constant', value: 0 });
    expect(resolveInitializer('orthogonal', 'zeros', 'o', 'l', 2)).toEqual({ name: 'orthogonal', gain: 1 });
  });

  it('zeros, ones and constant fill exactly', () => {
    expect(Array.from(draw('zeros', [2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(draw('ones', [3]))).toEqual([1, 1, 1]);
    expect(Array.from(draw({ name: 'constant', value: 0.25 }, [2, 2]))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('orthogonal', () => {
  /** W·Wᵀ (wide) or Wᵀ·W (tall) of the weight flattened to [Π shape[:-1], shape[-1]]. */
  function gram(data: Float32Array, rows: number, cols: number): number[][] {
    const k = Math.min(rows, cols);
    const at = (i: number, j: number) => (rows >= cols ? data[i * cols + j] : data[j * cols + i]);
    const long = Math.max(rows, cols);
    return Array.from({ length: k }, (_, a) =>
      Array.from({ length: k }, (_, b) => Array.from({ length: long }, (_, i) => at(i, a) * at(i, b)).reduce((x, y) => x + y, 0)),
    );
  }
  const expectIdentity = (g: number[][], scale: number) => g.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? scale : 0, 5)));

  it('gives orthonormal columns for a tall kernel ([3, 3, 4, 8] flattened to 36 × 8)', () => {
    expectIdentity(gram(draw('orthogonal', [3, 3, 4, 8]), 36, 8), 1);
  });

  it('gives orthonormal rows for a wide kernel (5 × 12), scaled by the gain', () => {
    expectIdentity(gram(draw({ name: 'orthogonal', gain: 2 }, [5, 12]), 5, 12), 4);
  });

  it('is refused for a bias (rank 1), naming the layer and option', () => {
    expect(() => layers.dense({ units: 2, biasInitializer: 'orthogonal', name: 'd' })).toThrow(/^d: biasInitializer 'orthogonal' needs a weight of rank ≥ 2/);
  });
});

describe("Keras's fan rules", () => {
  it('computes fans from the weight shape: rank 1, rank 2 and receptive fields', () => {
    expect(computeFans([7])).toEqual({ fanIn: 7, fanOut: 7 });
    expect(computeFans([4, 3])).toEqual({ fanIn: 4, fanOut: 3 });
    expect(computeFans([5, 2, 3])).toEqual({ fanIn: 10, fanOut: 15 });
    expect(computeFans([3, 3, 2, 4])).toEqual({ fanIn: 18, fanOut: 36 });
  });

  it.each([
    ['dense [6, 4]', () => layers.dense({ units: 4, kernelInitializer: 'heUniform' }), [6], 6],
    ['conv1d [3, 2, 4]', () => layers.conv1d({ filters: 4, kernelSize: 3, kernelInitializer: 'heUniform' }), [8, 2], 6],
    ['conv2d [3, 3, 2, 4]', () => layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: 'heUniform' }), [8, 8, 2], 18],
    [
      'conv2dTranspose [3, 3, 4, 2] (fanIn from its cout axis, as Keras)',
      () => layers.conv2dTranspose({ filters: 4, kernelSize: 3, kernelInitializer: 'heUniform' }),
      [4, 4, 2],
      36,
    ],
    ['depthwiseConv2d [3, 3, 2, 5]', () => layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 5, depthwiseInitializer: 'heUniform' }), [8, 8, 2], 18],
  ] as const)('%s: heUniform draws within √(6/fanIn) and reaches it', (_, make, inputShape, fanIn) => {
    const layer = make();
    layer.build([...inputShape]);
    const s = stats(layer.getWeights()[0].data);
    expect(s.maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / fanIn));
    expect(s.maxAbs).toBeGreaterThan(0.8 * Math.sqrt(6 / fanIn));
  });

  it('separableConv2d draws each kernel from its own initialiser and the bias from its', () => {
    const layer = layers.separableConv2d({
      filters: 3,
      kernelSize: 3,
      depthwiseInitializer: 'ones',
      pointwiseInitializer: { name: 'constant', value: 2 },
      biasInitializer: { name: 'constant', value: -1 },
    });
    layer.build([5, 5, 2]);
    const [depthwise, pointwise, bias] = layer.getWeights();
    expect(new Set(depthwise.data)).toEqual(new Set([1]));
    expect(new Set(pointwise.data)).toEqual(new Set([2]));
    expect(Array.from(bias.data)).toEqual([-1, -1, -1]);
  });
});

describe('seeding', () => {
  const weights = (seed: number) => {
    const layer = layers.conv2d({ filters: 3, kernelSize: 3, kernelInitializer: 'glorotNormal', biasInitializer: 'randomUniform', seed });
    layer.build([6, 6, 2]);
    return layer.getWeights();
  };

  it('gives the same weights for the same seed', () => {
    expect(weights(11)).toEqual(weights(11));
  });

  it('gives other weights for another seed', () => {
    expect(weights(11)[0].data).not.toEqual(weights(12)[0].data);
  });
});

describe('saving', () => {
  it('keeps resolved initialisers in the config, and layerFromJSON rebuilds them', () => {
    const layer = layers.dense({ units: 2, kernelInitializer: { name: 'randomNormal', stddev: 0.2 }, biasInitializer: 'ones' });
    expect(layer.config.kernelInitializer).toEqual({ name: 'randomNormal', mean: 0, stddev: 0.2 });
    const back = layerFromJSON(JSON.parse(JSON.stringify(layer.toJSON())));
    expect(back.config).toEqual(layer.config);
  });

  it('round-trips through save and loadModel', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-init-'));
    try {
      const m = sequential({
        inputShape: [4],
        layers: [layers.dense({ units: 3, kernelInitializer: 'orthogonal', biasInitializer: { name: 'constant', value: 0.5 } })],
      });
      await m.save(dir);
      const back = await loadModel(dir);
      expect(back.graph.nodes[0].config).toEqual(m.graph.nodes[0].config);
      expect(back.getWeights()).toEqual(m.getWeights());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bad initialiser options', () => {
  it('an unknown name is a ConfigError naming the layer and option', () => {
    expect(() => layers.conv2d({ filters: 1, kernelSize: 1, kernelInitializer: 'xavier' as never, name: 'c' })).toThrow(ConfigError);
    expect(() => layers.conv2d({ filters: 1, kernelSize: 1, kernelInitializer: 'xavier' as never, name: 'c' })).toThrow(
      /^c: kernelInitializer must be one of glorotUniform/,
    );
  });

  it('an unknown parameter or a non-finite one is a ConfigError', () => {
    expect(() => layers.dense({ units: 1, kernelInitializer: { name: 'randomNormal', std: 1 } })).toThrow(
      /kernelInitializer 'randomNormal' has no parameter 'std'/,
    );
    expect(() => layers.dense({ units: 1, biasInitializer: { name: 'constant', value: Number.NaN } })).toThrow(
      /biasInitializer 'constant' value must be a finite number/,
    );
  });

  it('a negative stddev or minval > maxval is a ConfigError', () => {
    expect(() => layers.dense({ units: 1, kernelInitializer: { name: 'truncatedNormal', stddev: -1 } })).toThrow(/stddev must be ≥ 0/);
    expect(() => layers.dense({ units: 1, kernelInitializer: { name: 'randomUniform', minval: 1, maxval: 0 } })).toThrow(/needs minval ≤ maxval/);
  });
});
