import { describe, expect, it } from 'vitest';
import {
  activation,
  ConfigError,
  conv1d,
  conv2d,
  conv2dTranspose,
  dense,
  flatten,
  input,
  layers,
  maxPooling2d,
  model,
  NonFiniteLossError,
  sequential,
  ShapeError,
  tensor,
  upSampling2d,
} from '../src/index.js';

describe('bad configs name the layer and the bad value', () => {
  it('dense units must be a positive integer', () => {
    expect(() => dense({ units: 0 })).toThrow(ConfigError);
    expect(() => dense({ units: 1.5, name: 'head' })).toThrow(/head: units must be a positive integer, got 1.5/);
  });

  it('conv2d kernelSize, strides and padding are checked', () => {
    expect(() => conv2d({ filters: 4, kernelSize: [3] as never })).toThrow(/conv2d: kernelSize must be a positive integer or 2 of them, got \[3\]/);
    expect(() => conv2d({ filters: 4, kernelSize: 3, strides: -1 })).toThrow(/strides must be a positive integer/);
    expect(() => conv2d({ filters: 4, kernelSize: 3, padding: 'full' as never })).toThrow(/padding must be 'valid' or 'same', got "full"/);
  });

  it('strides and dilation cannot both exceed 1', () => {
    expect(() => conv2d({ filters: 1, kernelSize: 3, strides: 2, dilationRate: 2 })).toThrow(/cannot both exceed 1/);
    expect(() => conv1d({ filters: 1, kernelSize: 3, strides: 2, dilationRate: 2 })).toThrow(/cannot both exceed 1/);
  });

  it('an unknown activation lists the known ones', () => {
    expect(() => dense({ units: 2, activation: 'mish' as never })).toThrow(
      /activation must be one of linear, relu, sigmoid, tanh, softmax, elu, selu, gelu, softplus, softsign, silu, swish, hardSigmoid, relu6, exponential, geluApproximate; got "mish"/,
    );
    expect(() => activation({ activation: undefined as never })).toThrow(/activation is required/);
  });

  it('an unknown option is rejected rather than ignored', () => {
    expect(() => dense({ units: 2, kernelInitialiser: 'zeros' } as never)).toThrow(/unknown option 'kernelInitialiser'/);
  });

  it('reshape target must be positive integers with at most one -1', () => {
    expect(() => layers.reshape({ targetShape: [-1, -1] })).toThrow(ConfigError);
    expect(() => layers.reshape({ targetShape: [0, 2] })).toThrow(/targetShape must be/);
  });

  it('upSampling2d supports only nearest interpolation', () => {
    expect(() => upSampling2d({ interpolation: 'bilinear' as never })).toThrow(/interpolation must be 'nearest'/);
  });

  it('conv2dTranspose rejects a non-integer filter count', () => {
    expect(() => conv2dTranspose({ filters: 2.5, kernelSize: 3 })).toThrow(/filters must be a positive integer/);
  });
});

describe('bad shapes give the expected and the actual shape at build time', () => {
  it('conv2d on a rank-2 sample', () => {
    expect(() => conv2d({ filters: 1, kernelSize: 3, name: 'c1' }).apply(input({ shape: [5, 5] }))).toThrow(
      'c1: expected input shape (None, height, width, channels), got (None, 5, 5)',
    );
  });

  it('a valid kernel larger than the image', () => {
    expect(() => conv2d({ filters: 1, kernelSize: 5 }).apply(input({ shape: [3, 3, 1] }))).toThrow(
      /expected input shape \(None, ≥5, ≥5, channels\).*got \(None, 3, 3, 1\)/,
    );
  });

  it('a reshape that does not preserve the size', () => {
    expect(() => layers.reshape({ targetShape: [5] }).apply(input({ shape: [2, 3] }))).toThrow(/cannot reshape \[2, 3\] \(6 values\) to \[5\]/);
  });

  it('a sequential stack names the failing layer', () => {
    expect(() => sequential({ inputShape: [8, 8, 1], layers: [flatten(), maxPooling2d({ name: 'pool' })] })).toThrow(
      /pool: expected input shape \(None, height, width, channels\), got \(None, 64\)/,
    );
  });

  it('an unnamed layer reports its Keras default name', () => {
    expect(() => maxPooling2d().apply(input({ shape: [8, 8] }))).toThrow(/^max_pooling2d: expected input shape/);
  });

  it('weights too large for one tensor are refused when the layer is built', () => {
    expect(() => dense({ units: 2 ** 31 }).apply(input({ shape: [4] }))).toThrow(
      'dense: kernel of shape [4, 2147483648] would hold 8589934592 values, more than one tensor can (4294967296)',
    );
  });

  it('a shared layer applied to another input shape names both shapes', () => {
    const d = dense({ units: 2 });
    d.apply(input({ shape: [3] }));
    expect(() => d.apply(input({ shape: [4] }))).toThrow('dense: layer was built for input shape (None, 3), got (None, 4)');
  });

  it('outputs not computed from the inputs', () => {
    const a = input({ shape: [3] });
    const b = dense({ units: 1 }).apply(input({ shape: [3] }));
    expect(() => model({ inputs: a, outputs: b })).toThrow(/not computed from these inputs/);
  });

  it('tensor() checks the value count against the shape', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('tensor: shape [2, 2] holds 4 values, got 3');
  });

  it('setWeights checks every shape before changing anything', () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 2 }), dense({ units: 1 })] });
    const before = m.getWeights();
    const bad = m.getWeights();
    bad[3] = tensor([1, 2], [2]);
    expect(() => m.setWeights(bad)).toThrow('sequential: weight 3 (dense_1/bias) must have shape [1], got [2]');
    expect(m.getWeights()).toEqual(before);
  });
});

describe('error names survive minification', () => {
  it("core's errors are named by their class's errorName, not the (renamable) class name", () => {
    expect(new ShapeError('x').name).toBe(ShapeError.errorName);
    expect(new ConfigError('x').name).toBe('ConfigError');
    expect(new NonFiniteLossError(0, 0, NaN).name).toBe('NonFiniteLossError');
  });

  it("a user's subclass without its own errorName keeps its class name", () => {
    class MyConfigError extends ConfigError {}
    expect(new MyConfigError('x').name).toBe('MyConfigError');
  });
});
