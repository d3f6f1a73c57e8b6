import { layerFromJSON, layers, mnistAutoencoder, sizeOfShape, tensor, type Layer } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { refForward, toF64 } from '@araboza/conformance/reference';
import { onnxruntimeBackend } from '../src/index.js';
import { backend, compileWithWeights, modelOf, trainingFor, uniform } from './helpers.js';

describe('forward values, hand-checked', () => {
  it('conv1d of [1,2,3,4,5] with filter [1,0,-1] gives [-2,-2,-2] (valid) and [-2,-2,-2,-2,4] (same)', async () => {
    for (const [padding, expected] of [
      ['valid', [-2, -2, -2]],
      ['same', [-2, -2, -2, -2, 4]],
    ] as const) {
      const layer = layers.conv1d({ filters: 1, kernelSize: 3, useBias: false, padding });
      layer.build([5, 1]);
      layer.setWeights([tensor([1, 0, -1], [3, 1, 1])]);
      const y = await layer.apply(tensor([1, 2, 3, 4, 5], [1, 5, 1]), { backend });
      expect(y.shape).toEqual([1, expected.length, 1]);
      expect(Array.from(y.data)).toEqual(expected);
    }
  });

  it('flatten after a convolution keeps Keras channels-last order', async () => {
    // A 1×1 identity convolution runs in NCHW inside; flatten must still read (h, w, c).
    const conv = layers.conv2d({ filters: 2, kernelSize: 1, useBias: false });
    const m = modelOf([2, 2, 2], [conv, layers.flatten()]);
    conv.setWeights([tensor([1, 0, 0, 1], [1, 1, 2, 2])]);
    const compiled = await compileWithWeights(m);
    const x = tensor([0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 2, 2]);
    expect(Array.from((await compiled.predict([x]))[0].data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    compiled.dispose();
  });

  it('zeroPadding2d before maxPooling2d pads with zeros, not with MaxPool’s −∞ (onnxruntime PadFusion)', async () => {
    // The convolution first puts the Pad right before the MaxPool, where onnxruntime would fold it.
    const conv = layers.conv2dTranspose({ filters: 1, kernelSize: 1, useBias: false });
    const m = modelOf([2, 2, 1], [conv, layers.zeroPadding2d({ padding: 1 }), layers.maxPooling2d({ poolSize: 2, strides: 1 })]);
    conv.setWeights([tensor([1], [1, 1, 1, 1])]);
    const compiled = await compileWithWeights(m);
    const [y] = await compiled.predict([tensor([-1, -2, -3, -4], [1, 2, 2, 1])]);
    expect(Array.from(y.data, (v) => v + 0)).toEqual([0, 0, 0, 0, -1, 0, 0, 0, 0]);
    compiled.dispose();
  });

  it('zeroPadding2d wider than the following maxPooling2d window still compiles', async () => {
    const conv = layers.conv2dTranspose({ filters: 1, kernelSize: 1, useBias: false });
    const padding: [[number, number], [number, number]] = [
      [2, 1],
      [1, 0],
    ];
    const m = modelOf([1, 1, 1], [conv, layers.zeroPadding2d({ padding }), layers.maxPooling2d({ poolSize: 1 })]);
    conv.setWeights([tensor([1], [1, 1, 1, 1])]);
    const compiled = await compileWithWeights(m);
    const [y] = await compiled.predict([tensor([-3], [1, 1, 1, 1])]);
    expect(y.shape).toEqual([1, 4, 2, 1]);
    expect(Array.from(y.data, (v) => v + 0)).toEqual([0, 0, 0, 0, 0, -3, 0, 0]);
    compiled.dispose();
  });

  it('upSampling2d repeats each pixel size×size', async () => {
    const y = await layers.upSampling2d({ size: [2, 3] }).apply(tensor([1, 2], [1, 1, 2, 1]), { backend });
    expect(y.shape).toEqual([1, 2, 6, 1]);
    expect(Array.from(y.data)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
  });

  it('averagePooling2d same leaves the padding out of the mean', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = await layers.averagePooling2d({ poolSize: 2, padding: 'same' }).apply(x, { backend });
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.data)).toEqual([3, 4.5, 7.5, 9]);
  });

  it('maxPooling2d same pads with −∞ (negative inputs stay negative)', async () => {
    const x = tensor([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 3, 3, 1]);
    const y = await layers.maxPooling2d({ poolSize: 2, padding: 'same' }).apply(x, { backend });
    expect(Array.from(y.data)).toEqual([-1, -3, -7, -9]);
  });

  it('conv2dTranspose with kernel smaller than stride gives Keras length in·s and bias everywhere', async () => {
    const layer = layers.conv2dTranspose({ filters: 1, kernelSize: 1, strides: 2 });
    layer.build([2, 2, 1]);
    layer.setWeights([tensor([2], [1, 1, 1, 1]), tensor([0.5], [1])]);
    const y = await layer.apply(tensor([1, 2, 3, 4], [1, 2, 2, 1]), { backend });
    expect(y.shape).toEqual([1, 4, 4, 1]);
    expect(Array.from(y.data)).toEqual([2.5, 0.5, 4.5, 0.5, 0.5, 0.5, 0.5, 0.5, 6.5, 0.5, 8.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('dense on rank 3 applies over the last axis (reference experiment 1)', async () => {
    const layer = layers.dense({ units: 1, useBias: false });
    const y = await layer.apply(uniform([64, 4, 2], 3), { backend });
    expect(y.shape).toEqual([64, 4, 1]);
    expect(layer.getWeights()[0].shape).toEqual([2, 1]);
  });
});

/** Every kind in several configurations, compared with the float64 reference. */
const CASES: [string, number[], () => Layer[]][] = [
  ['dense rank 2, bias, relu', [5], () => [layers.dense({ units: 3, activation: 'relu' })]],
  ['dense rank 4, tanh', [2, 3, 4], () => [layers.dense({ units: 2, activation: 'tanh', useBias: false })]],
  ['leakyRelu 0.2 → leakyRelu default', [2, 5], () => [layers.leakyRelu({ negativeSlope: 0.2 }), layers.leakyRelu()]],
  [
    'conv2d → zeroPadding2d [[1, 2], [0, 3]] → conv2d (channels-first between)',
    [4, 5, 2],
    () => [
      layers.conv2d({ filters: 3, kernelSize: 2 }),
      layers.zeroPadding2d({
        padding: [
          [1, 2],
          [0, 3],
        ],
      }),
      layers.conv2d({ filters: 2, kernelSize: 2 }),
    ],
  ],
  [
    'zeroPadding2d 1 → cropping2d [[2, 0], [1, 2]]',
    [4, 5, 2],
    () => [
      layers.zeroPadding2d(),
      layers.cropping2d({
        cropping: [
          [2, 0],
          [1, 2],
        ],
      }),
    ],
  ],
  [
    'conv2d → cropping2d [1, 2] → conv2d',
    [6, 7, 2],
    () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.cropping2d({ cropping: [1, 2] }), layers.conv2d({ filters: 2, kernelSize: 2 })],
  ],
  ['conv2d → globalAveragePooling2d', [5, 4, 2], () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalAveragePooling2d()]],
  [
    'conv2d → globalMaxPooling2d keepdims → conv2d 1×1',
    [5, 4, 2],
    () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalMaxPooling2d({ keepdims: true }), layers.conv2d({ filters: 2, kernelSize: 1 })],
  ],
  [
    'conv1d → globalMaxPooling1d → dense',
    [7, 2],
    () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.globalMaxPooling1d(), layers.dense({ units: 2 })],
  ],
  ['globalAveragePooling1d keepdims', [7, 3], () => [layers.globalAveragePooling1d({ keepdims: true })]],
  [
    'conv1d → maxPooling1d 3 stride 2 same → averagePooling1d 2 same → upSampling1d 3',
    [9, 2],
    () => [
      layers.conv1d({ filters: 3, kernelSize: 2 }),
      layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }),
      layers.averagePooling1d({ padding: 'same' }),
      layers.upSampling1d({ size: 3 }),
    ],
  ],
  [
    'dense gelu → elu → selu → softsign → softplus',
    [4],
    () => (['gelu', 'elu', 'selu', 'softsign', 'softplus'] as const).map((a) => layers.dense({ units: 3, activation: a })),
  ],
  [
    'dense silu → swish → hardSigmoid → relu6 → exponential',
    [4],
    () => (['silu', 'swish', 'hardSigmoid', 'relu6', 'exponential'] as const).map((a) => layers.dense({ units: 3, activation: a })),
  ],
  ['conv1d same stride 2', [7, 2], () => [layers.conv1d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' })]],
  ['conv1d valid dilation 2', [9, 2], () => [layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2, activation: 'sigmoid' })]],
  ['conv2d same stride 2 (asymmetric pads)', [6, 7, 2], () => [layers.conv2d({ filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same' })]],
  ['conv2d valid stride 2 with remainder', [7, 8, 3], () => [layers.conv2d({ filters: 2, kernelSize: 3, strides: 2 })]],
  ['conv2d same dilation 2, softmax', [6, 6, 2], () => [layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'softmax' })]],
  ['conv2dTranspose same stride 2', [3, 4, 2], () => [layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' })]],
  ['conv2dTranspose valid stride 2', [3, 3, 2], () => [layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2 })]],
  ['conv2dTranspose valid k<s', [2, 3, 2], () => [layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 3 })]],
  ['maxPooling2d same 3 stride 2', [7, 6, 2], () => [layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })]],
  ['averagePooling2d valid 2 with remainder', [5, 5, 2], () => [layers.averagePooling2d({ poolSize: 2 })]],
  ['upSampling2d then flatten', [2, 3, 2], () => [layers.upSampling2d({ size: 2 }), layers.flatten()]],
  ['reshape then activation softmax', [4, 3], () => [layers.reshape({ targetShape: [2, 6] }), layers.activation({ activation: 'softmax' })]],
  // Inference runs upsampling + stride-1 conv2d as one sub-pixel convolution; these pin it to the two layers' values.
  [
    'upSampling2d 2 → conv2d 3×3 same, sigmoid',
    [4, 5, 3],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' })],
  ],
  [
    'upSampling2d 2 → conv2d 3×3 valid (16 → 14)',
    [8, 8, 2],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' })],
  ],
  [
    'upSampling2d 2 → conv2d with 8 filters (not fused: too many channels)',
    [3, 3, 2],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' })],
  ],
  [
    'upSampling2d 3 → conv2d 2×3 same, no bias',
    [3, 4, 2],
    () => [layers.upSampling2d({ size: 3 }), layers.conv2d({ filters: 1, kernelSize: [2, 3], padding: 'same', useBias: false })],
  ],
  ['upSampling2d 2 → conv2d 5×5 same', [3, 3, 1], () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 2, kernelSize: 5, padding: 'same' })]],
  [
    'upSampling2d 2 → conv2d 3×3 valid, odd output (not fused)',
    [4, 4, 1],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 1, kernelSize: 2 })],
  ],
  ['the MNIST autoencoder', [28, 28, 1], () => mnistAutoencoder({ seed: 4 }).layers.map((l) => layerFromJSON(l.toJSON()))],
];

describe('large batches', () => {
  it('predict and evaluate split a batch into runs without changing any value', async () => {
    const m = modelOf(
      [6, 6, 2],
      [layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }), layers.flatten(), layers.dense({ units: 2 })],
    );
    const training = trainingFor(m, 'meanSquaredError');
    // About 2.5 KiB of activations per row: 4 KiB per run means one row per run.
    const chunked = await onnxruntimeBackend({ threads: 2, runBytes: 4096 }).compile(m.graph, training);
    const whole = await backend.compile(m.graph, training);
    for (const c of [chunked, whole]) await c.setWeights(m.getWeights());
    const x = uniform([7, 6, 6, 2], 5);
    const y = uniform([7, 2], 6);
    expect(Array.from((await chunked.predict([x]))[0].data)).toEqual(Array.from((await whole.predict([x]))[0].data));
    expect((await chunked.evaluate([x], [y])).loss).toBeCloseTo((await whole.evaluate([x], [y])).loss, 6);
    chunked.dispose();
    whole.dispose();
  });
});

describe('forward values against the float64 reference', () => {
  it.each(CASES)('%s', async (_name, inputShape, make) => {
    const m = modelOf(inputShape, make());
    const compiled = await compileWithWeights(m);
    const x = uniform([3, ...inputShape], 11);
    const [y] = await compiled.predict([x]);
    const ref = refForward(m.graph, toF64(x), m.getWeights().map(toF64)).y;
    expect(y.shape).toEqual(ref.shape);
    expect(y.data.length).toBe(sizeOfShape(ref.shape));
    y.data.forEach((v, i) => expect(v).toBeCloseTo(ref.data[i], 5));
    compiled.dispose();
  });
});
