import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  conv1d,
  conv2d,
  conv2dTranspose,
  dense,
  layers,
  depthwiseConv2d,
  separableConv2d,
  loadModel,
  regularizationPenalty,
  resolveRegularizer,
  sequential,
} from '../src/index.js';

describe('resolveRegularizer', () => {
  it('gives Keras 3 defaults for a bare l1 name', () => {
    expect(resolveRegularizer('l1', 'kernelRegularizer', 'd')).toEqual({ name: 'l1', l1: 0.01 });
  });

  it('gives Keras 3 defaults for a bare l2 name', () => {
    expect(resolveRegularizer('l2', 'kernelRegularizer', 'd')).toEqual({ name: 'l2', l2: 0.01 });
  });

  it("gives Keras 3's L1L2() defaults (both zero) for a bare l1l2 name", () => {
    expect(resolveRegularizer('l1l2', 'kernelRegularizer', 'd')).toEqual({ name: 'l1l2', l1: 0, l2: 0 });
  });

  it('takes the factors of an object', () => {
    expect(resolveRegularizer({ name: 'l1l2', l1: 0.5, l2: 0.25 }, 'kernelRegularizer', 'd')).toEqual({ name: 'l1l2', l1: 0.5, l2: 0.25 });
  });

  it('rejects an unknown name, naming the layer and option', () => {
    expect(() => dense({ units: 2, name: 'fc', kernelRegularizer: 'l3' as never })).toThrow(
      new ConfigError('fc: kernelRegularizer has unknown regulariser "l3" (known: l1, l2, l1l2)'),
    );
  });

  it('rejects a negative factor, naming the layer and option', () => {
    expect(() => dense({ units: 2, name: 'fc', biasRegularizer: { name: 'l2', l2: -1 } })).toThrow(
      new ConfigError('fc: biasRegularizer l2 must be a non-negative finite number, got -1'),
    );
  });

  it('rejects a non-finite factor', () => {
    expect(() => conv2d({ filters: 1, kernelSize: 1, name: 'c', kernelRegularizer: { name: 'l1', l1: Number.POSITIVE_INFINITY } })).toThrow(
      /c: kernelRegularizer l1 must be a non-negative finite number/,
    );
  });

  it('rejects a factor the regulariser does not take', () => {
    expect(() => dense({ units: 2, name: 'fc', kernelRegularizer: { name: 'l1', l2: 0.1 } })).toThrow(/fc: kernelRegularizer 'l1' has unknown key 'l2'/);
  });
});

describe('regularised weights', () => {
  it('puts the regulariser on the weight specs of the graph', () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 2, kernelRegularizer: 'l2', biasRegularizer: { name: 'l1', l1: 0.5 } })] });
    expect(m.graph.weights.map((w) => w.spec.regularizer)).toEqual([
      { name: 'l2', l2: 0.01 },
      { name: 'l1', l1: 0.5 },
    ]);
  });

  it('leaves the config and specs of an unregularised layer as they were', () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 2 })] });
    expect('kernelRegularizer' in m.layers[0].config).toBe(false);
    expect(m.graph.weights.every((w) => !('regularizer' in w.spec))).toBe(true);
  });

  it('takes regularisers on conv1d, conv2d and conv2dTranspose', () => {
    const convs = [
      conv1d({ filters: 1, kernelSize: 1, kernelRegularizer: 'l1' }),
      conv2d({ filters: 1, kernelSize: 1, kernelRegularizer: 'l1' }),
      conv2dTranspose({ filters: 1, kernelSize: 1, kernelRegularizer: 'l1' }),
    ];
    expect(convs.map((l) => (l.config as { kernelRegularizer?: unknown }).kernelRegularizer)).toEqual([
      { name: 'l1', l1: 0.01 },
      { name: 'l1', l1: 0.01 },
      { name: 'l1', l1: 0.01 },
    ]);
  });

  it("puts depthwiseRegularizer and biasRegularizer on a depthwise convolution's weights", () => {
    const m = sequential({ inputShape: [4, 4, 2], layers: [depthwiseConv2d({ kernelSize: 2, depthwiseRegularizer: 'l1', biasRegularizer: 'l2' })] });
    expect(m.graph.weights.map((w) => w.spec.regularizer)).toEqual([
      { name: 'l1', l1: 0.01 },
      { name: 'l2', l2: 0.01 },
    ]);
  });

  it("puts depthwise, pointwise and bias regularisers on a separable convolution's weights", () => {
    const m = sequential({
      inputShape: [4, 4, 2],
      layers: [
        separableConv2d({ filters: 3, kernelSize: 2, depthwiseRegularizer: 'l1', pointwiseRegularizer: { name: 'l2', l2: 0.2 }, biasRegularizer: 'l2' }),
      ],
    });
    expect(m.graph.weights.map((w) => [w.spec.name, w.spec.regularizer])).toEqual([
      ['depthwiseKernel', { name: 'l1', l1: 0.01 }],
      ['pointwiseKernel', { name: 'l2', l2: 0.2 }],
      ['bias', { name: 'l2', l2: 0.01 }],
    ]);
  });

  it('rejects a bad pointwiseRegularizer, naming the layer and option', () => {
    expect(() => separableConv2d({ filters: 1, kernelSize: 1, name: 'sep', pointwiseRegularizer: { name: 'l2', l2: Number.NaN } })).toThrow(
      /sep: pointwiseRegularizer l2 must be a non-negative finite number, got NaN/,
    );
  });

  it("puts gammaRegularizer and betaRegularizer on a layer normalization's weights", () => {
    const m = sequential({ inputShape: [3], layers: [layers.layerNormalization({ gammaRegularizer: 'l2', betaRegularizer: 'l1' })] });
    expect(m.graph.weights.map((w) => [w.spec.name, w.spec.regularizer])).toEqual([
      ['gamma', { name: 'l2', l2: 0.01 }],
      ['beta', { name: 'l1', l1: 0.01 }],
    ]);
  });

  it('regularises only gamma and beta of a batch normalization, not its state', () => {
    const m = sequential({ inputShape: [3], layers: [layers.batchNormalization({ gammaRegularizer: 'l2', betaRegularizer: 'l2' })] });
    expect(m.graph.weights.map((w) => [w.spec.name, w.spec.regularizer])).toEqual([
      ['gamma', { name: 'l2', l2: 0.01 }],
      ['beta', { name: 'l2', l2: 0.01 }],
      ['movingMean', undefined],
      ['movingVariance', undefined],
    ]);
  });

  it('round-trips through save and loadModel', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-reg-'));
    try {
      const m = sequential({
        inputShape: [4, 4, 1],
        layers: [conv2d({ filters: 2, kernelSize: 2, kernelRegularizer: { name: 'l1l2', l1: 0.1, l2: 0.2 }, biasRegularizer: 'l2' })],
      });
      await m.save(dir);
      const back = await loadModel(dir);
      expect(back.graph).toEqual(m.graph);
      expect(back.graph.weights[0].spec.regularizer).toEqual({ name: 'l1l2', l1: 0.1, l2: 0.2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('computes the penalty l1·Σ|w| + l2·Σw²', () => {
    expect(regularizationPenalty({ name: 'l1l2', l1: 0.5, l2: 2 }, [1, -2, 0])).toBe(0.5 * 3 + 2 * 5);
  });
});
