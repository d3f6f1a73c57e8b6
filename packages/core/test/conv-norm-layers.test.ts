import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, layerFromJSON, layers } from '../src/index.js';

describe('depthwiseConv2d', () => {
  it('gives channels · depthMultiplier output channels with strides and same padding', () => {
    const l = layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' });
    expect(l.computeOutputShape([7, 8, 3])).toEqual([4, 4, 6]);
  });

  it('holds a [kh, kw, cin, mult] kernel and a [cin·mult] bias with Keras fans', () => {
    const l = layers.depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 2 });
    expect(l.weightSpecs([5, 5, 3]).map((s) => [s.name, s.shape, s.fanIn, s.fanOut])).toEqual([
      ['kernel', [3, 2, 3, 2], 18, 12],
      ['bias', [6], 18, 12],
    ]);
  });

  it('rejects a depthMultiplier of 0 or a non-integer, naming the layer and option', () => {
    for (const bad of [0, 1.5, -1]) {
      expect(() => layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: bad, name: 'dw' })).toThrow(ConfigError);
      expect(() => layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: bad, name: 'dw' })).toThrow(/^dw: depthMultiplier must be a positive integer, got/);
    }
  });

  it('rejects an input too small for a valid kernel with a ShapeError', () => {
    expect(() => layers.depthwiseConv2d({ kernelSize: 3 }).computeOutputShape([2, 5, 1])).toThrow(ShapeError);
  });
});

describe('separableConv2d', () => {
  it('gives filters output channels after the strided depthwise step', () => {
    const l = layers.separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 2, strides: 2 });
    expect(l.computeOutputShape([7, 7, 3])).toEqual([3, 3, 5]);
  });

  it('holds the depthwise kernel, the [1, 1, cin·mult, filters] pointwise kernel and a [filters] bias', () => {
    const l = layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2 });
    expect(l.weightSpecs([6, 6, 3]).map((s) => [s.name, s.shape, s.fanIn, s.fanOut])).toEqual([
      ['depthwiseKernel', [3, 3, 3, 2], 27, 18],
      ['pointwiseKernel', [1, 1, 6, 4], 6, 4],
      ['bias', [4], 6, 4],
    ]);
  });

  it('round-trips its resolved config through toJSON and layerFromJSON', () => {
    const l = layers.separableConv2d({ filters: 4, kernelSize: [3, 1], depthMultiplier: 3, padding: 'same', useBias: false, activation: 'relu' });
    const back = layerFromJSON(JSON.parse(JSON.stringify(l.toJSON())));
    expect(back.config).toEqual(l.config);
  });
});

describe('layerNormalization', () => {
  it("defaults to Keras's axis −1, epsilon 1e−3, center and scale", () => {
    expect(layers.layerNormalization().config).toEqual({ axis: -1, epsilon: 1e-3, center: true, scale: true });
  });

  it('holds gamma (ones) then beta (zeros) over the chosen axis', () => {
    const l = layers.layerNormalization({ axis: 1 });
    l.build([3, 4]);
    expect(l.getWeights()).toEqual([
      { shape: [3], data: new Float32Array([1, 1, 1]) },
      { shape: [3], data: new Float32Array([0, 0, 0]) },
    ]);
  });

  it('drops gamma without scale and beta without center', () => {
    expect(
      layers
        .layerNormalization({ scale: false })
        .weightSpecs([4])
        .map((s) => s.name),
    ).toEqual(['beta']);
    expect(
      layers
        .layerNormalization({ center: false })
        .weightSpecs([4])
        .map((s) => s.name),
    ).toEqual(['gamma']);
  });

  it('rejects the batch axis or an axis the input lacks, naming the layer and option', () => {
    expect(() => layers.layerNormalization({ axis: 0, name: 'ln' })).toThrow(/^ln: axis must be a non-zero integer/);
    expect(() => layers.layerNormalization({ axis: 3, name: 'ln' }).computeOutputShape([4, 2])).toThrow(ConfigError);
    expect(() => layers.layerNormalization({ axis: -4, name: 'ln' }).computeOutputShape([4, 2])).toThrow(/^ln: axis -4 does not exist/);
  });

  it('rejects a non-positive epsilon', () => {
    expect(() => layers.layerNormalization({ epsilon: 0 })).toThrow(/^layer_normalization: epsilon must be a finite number > 0/);
  });
});
