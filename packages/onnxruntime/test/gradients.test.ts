import { layers, type Layer } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { checkModelGradients } from './gradient-check.js';
import { compileWithWeights, modelOf, trainingFor, uniform } from './helpers.js';

/**
 * Gradient checks: dLoss/dinput and dLoss/dweight from the generated ONNX
 * gradient model against central finite differences of the float64
 * reference (a loss against a random target, so every gradient is non-trivial).
 */
const CASES: [string, number[], () => Layer[]][] = [
  ['dense rank 2, bias, relu', [4], () => [layers.dense({ units: 3, activation: 'relu' })]],
  ['dense rank 3, no bias, sigmoid', [3, 4], () => [layers.dense({ units: 2, useBias: false, activation: 'sigmoid' })]],
  ['dense rank 4, tanh', [2, 2, 3], () => [layers.dense({ units: 2, activation: 'tanh' })]],
  ['dense softmax', [4], () => [layers.dense({ units: 3, activation: 'softmax' })]],
  ['conv1d valid stride 1, bias', [6, 2], () => [layers.conv1d({ filters: 2, kernelSize: 3 })]],
  [
    'conv1d same stride 2, relu, no bias',
    [7, 2],
    () => [layers.conv1d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', useBias: false, activation: 'relu' })],
  ],
  ['conv1d same dilation 2, tanh', [7, 1], () => [layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' })]],
  ['conv2d same stride 1, relu', [5, 5, 2], () => [layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' })]],
  ['conv2d valid stride 2 with remainder, sigmoid', [6, 7, 2], () => [layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, activation: 'sigmoid' })]],
  [
    'conv2d same stride 2, 2×3 kernel, no bias',
    [6, 5, 1],
    () => [layers.conv2d({ filters: 2, kernelSize: [2, 3], strides: 2, padding: 'same', useBias: false })],
  ],
  ['conv2d valid dilation 2, tanh', [7, 7, 1], () => [layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, activation: 'tanh' })]],
  ['conv2d same dilation 2, softmax', [5, 5, 2], () => [layers.conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'softmax' })]],
  // Fewer filters than channels at stride 1: dx and dkernel take the flipped-kernel Conv formulations.
  ['conv2d same stride 1, filters < channels, relu', [5, 6, 3], () => [layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'relu' })]],
  ['conv2d valid stride 1, filters < channels, 2×3 kernel', [5, 6, 3], () => [layers.conv2d({ filters: 2, kernelSize: [2, 3] })]],
  [
    'conv2d same dilation 2, filters < channels',
    [6, 6, 3],
    () => [layers.conv2d({ filters: 1, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false })],
  ],
  // Many channels, one filter: dkernel replicates dz rather than x.
  ['conv2d same stride 1, 4 channels → 1 filter', [5, 5, 4], () => [layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' })]],
  ['conv2d same dilation 2, 8 channels → 1 filter', [6, 6, 8], () => [layers.conv2d({ filters: 1, kernelSize: 3, dilationRate: 2, padding: 'same' })]],
  ['conv1d same, filters < channels, even kernel', [6, 3], () => [layers.conv1d({ filters: 2, kernelSize: 2, padding: 'same' })]],
  [
    'conv2dTranspose same stride 2, relu',
    [3, 3, 2],
    () => [layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })],
  ],
  ['conv2dTranspose valid stride 2', [2, 3, 2], () => [layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 })]],
  ['conv2dTranspose valid k<s, no bias', [2, 2, 2], () => [layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 3, useBias: false })]],
  ['conv2dTranspose same stride 1, tanh', [3, 3, 1], () => [layers.conv2dTranspose({ filters: 2, kernelSize: 2, padding: 'same', activation: 'tanh' })]],
  ['maxPooling2d valid 2 with remainder', [5, 5, 2], () => [layers.maxPooling2d({ poolSize: 2 })]],
  ['maxPooling2d same 3 stride 2', [6, 5, 1], () => [layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })]],
  ['averagePooling2d same 2', [5, 5, 2], () => [layers.averagePooling2d({ poolSize: 2, padding: 'same' })]],
  ['averagePooling2d valid 3 stride 2', [7, 6, 1], () => [layers.averagePooling2d({ poolSize: 3, strides: 2 })]],
  ['upSampling2d 2×3', [2, 2, 2], () => [layers.upSampling2d({ size: [2, 3] })]],
  // Upsampling followed by a few-filter stride-1 conv2d is generated as one sub-pixel convolution, with its own gradient.
  [
    'upSampling2d 2 → conv2d 3×3 same, 1 filter, sigmoid (fused)',
    [3, 3, 3],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' })],
  ],
  [
    'upSampling2d 2 → conv2d 3×3 valid, 2 filters (fused)',
    [4, 3, 2],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh' })],
  ],
  [
    'upSampling2d 3 → conv2d 2×3 same, no bias (fused)',
    [2, 3, 2],
    () => [layers.upSampling2d({ size: 3 }), layers.conv2d({ filters: 1, kernelSize: [2, 3], padding: 'same', useBias: false })],
  ],
  // Training models fuse up to 64 channels (filters × factor²), inference models up to 16.
  [
    'upSampling2d 2 → conv2d 3×3 same, 8 filters, relu (fused when training)',
    [3, 3, 2],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' })],
  ],
  [
    'upSampling2d 2 → conv2d 3×3 valid, 16 filters (fused when training)',
    [4, 4, 2],
    () => [layers.upSampling2d({ size: 2 }), layers.conv2d({ filters: 16, kernelSize: 3 })],
  ],
  // A stride-1 conv2d whose output only feeds a max pooling with non-overlapping windows is one lowering in training models.
  [
    'conv2d 3×3 same, relu → maxPooling2d 2 (fused)',
    [4, 4, 1],
    () => [layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }), layers.maxPooling2d({ poolSize: 2 })],
  ],
  [
    'conv2d 2×2 valid, tanh → maxPooling2d 2×3 (fused)',
    [5, 7, 1],
    () => [layers.conv2d({ filters: 2, kernelSize: 2, activation: 'tanh' }), layers.maxPooling2d({ poolSize: [2, 3] })],
  ],
  [
    'conv2d 3×3 same, sigmoid, no bias, 2 channels → maxPooling2d 2 valid with remainder (fused)',
    [5, 5, 2],
    () => [layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'sigmoid', useBias: false }), layers.maxPooling2d({ poolSize: 2 })],
  ],
  [
    'conv2d 3×3 same, linear → maxPooling2d 3 (fused, 9 phases)',
    [6, 6, 1],
    () => [layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), layers.maxPooling2d({ poolSize: 3 })],
  ],
  [
    'conv2d 3×3 valid, relu, 8 channels → maxPooling2d 2 (not fused: im2col too tall)',
    [6, 6, 8],
    () => [layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }), layers.maxPooling2d({ poolSize: 2 })],
  ],
  ['conv → flatten → dense', [3, 3, 2], () => [layers.conv2d({ filters: 2, kernelSize: 2 }), layers.flatten(), layers.dense({ units: 2 })]],
  ['reshape → dense', [4, 3], () => [layers.reshape({ targetShape: [2, 6] }), layers.dense({ units: 2 })]],
  ['activation relu, sigmoid, tanh, softmax', [2, 4], () => ['relu', 'sigmoid', 'tanh', 'softmax'].map((a) => layers.activation({ activation: a as 'relu' }))],
  ['a lone linear activation layer', [3, 2], () => [layers.activation({ activation: 'linear' })]],
  [
    'conv2d → leakyRelu 0.1 → zeroPadding2d → cropping2d → conv2d',
    [5, 5, 2],
    () => [
      layers.conv2d({ filters: 2, kernelSize: 2 }),
      layers.leakyRelu({ negativeSlope: 0.1 }),
      layers.zeroPadding2d({
        padding: [
          [1, 0],
          [2, 1],
        ],
      }),
      layers.cropping2d({
        cropping: [
          [0, 2],
          [1, 1],
        ],
      }),
      layers.conv2d({ filters: 2, kernelSize: 2 }),
    ],
  ],
  [
    'conv1d → maxPooling1d 2 stride 1 same → averagePooling1d 3 stride 2 same → upSampling1d 2',
    [7, 2],
    () => [
      layers.conv1d({ filters: 2, kernelSize: 2 }),
      layers.maxPooling1d({ poolSize: 2, strides: 1, padding: 'same' }),
      layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' }),
      layers.upSampling1d(),
    ],
  ],
  [
    'conv2d → globalAveragePooling2d → dense',
    [4, 4, 1],
    () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalAveragePooling2d(), layers.dense({ units: 2 })],
  ],
  ['conv2d → globalMaxPooling2d keepdims', [4, 4, 1], () => [layers.conv2d({ filters: 3, kernelSize: 2 }), layers.globalMaxPooling2d({ keepdims: true })]],
  [
    'conv1d → globalMaxPooling1d, globalAveragePooling1d keepdims',
    [6, 2],
    () => [layers.conv1d({ filters: 3, kernelSize: 2 }), layers.globalAveragePooling1d({ keepdims: true }), layers.globalMaxPooling1d()],
  ],
  [
    'activation elu, selu, gelu, softplus, softsign',
    [2, 4],
    () => (['elu', 'selu', 'gelu', 'softplus', 'softsign'] as const).map((a) => layers.activation({ activation: a })),
  ],
  [
    'dense silu → dense swish → dense exponential',
    [3],
    () => [
      layers.dense({ units: 3, activation: 'silu' }),
      layers.dense({ units: 3, activation: 'swish' }),
      layers.dense({ units: 2, activation: 'exponential' }),
    ],
  ],
  [
    'dense hardSigmoid → dense relu6 (away from their kinks)',
    [3],
    () => [layers.dense({ units: 3, activation: 'hardSigmoid' }), layers.dense({ units: 2, activation: 'relu6' })],
  ],
  [
    'conv → maxPool → upSampling → conv (autoencoder shape)',
    [4, 4, 1],
    () => [
      layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      layers.upSampling2d({ size: 2 }),
      layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
    ],
  ],
];

async function checkGradients(inputShape: number[], make: () => Layer[], loss: string, target: (shape: number[]) => ReturnType<typeof uniform>) {
  const m = modelOf(inputShape, make(), 5);
  const outShape = [2, ...m.graph.nodes[m.graph.nodes.length - 1].outputShape];
  await checkModelGradients(m, trainingFor(m, loss), [uniform([2, ...inputShape], 21)], [target(outShape)]);
}

describe('gradients against central finite differences (mean squared error)', () => {
  it.each(CASES)('%s', async (_name, inputShape, make) => {
    await checkGradients(inputShape, make, 'meanSquaredError', (s) => uniform(s, 33));
  });
});

describe('loss gradients', () => {
  const probabilities = (s: number[]) => uniform(s, 34, 0, 1);
  it('binary cross-entropy from the logits of a sigmoid output', async () => {
    await checkGradients(
      [3, 3, 1],
      () => [layers.conv2d({ filters: 1, kernelSize: 2, padding: 'same', activation: 'sigmoid' })],
      'binaryCrossentropy',
      probabilities,
    );
  });
  it('binary cross-entropy from clipped probabilities (no sigmoid output)', async () => {
    await checkGradients([4], () => [layers.dense({ units: 3, activation: 'softmax' })], 'binaryCrossentropy', probabilities);
  });
  it('categorical cross-entropy from the logits of a softmax output', async () => {
    await checkGradients([2, 4], () => [layers.dense({ units: 3, activation: 'softmax' })], 'categoricalCrossentropy', probabilities);
  });
  it('categorical cross-entropy from normalised probabilities (no softmax output)', async () => {
    await checkGradients([4], () => [layers.dense({ units: 3, activation: 'sigmoid' })], 'categoricalCrossentropy', probabilities);
  });
  it('binary cross-entropy from the logits of a sigmoid activation layer', async () => {
    await checkGradients([3, 2], () => [layers.dense({ units: 2 }), layers.activation({ activation: 'sigmoid' })], 'binaryCrossentropy', probabilities);
  });
  it('categorical cross-entropy over channels of a convolution (channel axis inside NCHW)', async () => {
    await checkGradients([3, 3, 2], () => [layers.conv2d({ filters: 3, kernelSize: 2, activation: 'softmax' })], 'categoricalCrossentropy', probabilities);
  });
});

describe('relu at exactly zero', () => {
  it('passes no gradient where the pre-activation is exactly 0 (as TensorFlow)', async () => {
    const dense = layers.dense({ units: 2, activation: 'relu' });
    const m = modelOf([3], [dense]);
    dense.setWeights([
      { shape: [3, 2], data: new Float32Array(6) },
      { shape: [2], data: new Float32Array(2) },
    ]);
    const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError'));
    const g = await compiled.gradients([uniform([2, 3], 1)], [uniform([2, 2], 2)]);
    compiled.dispose();
    for (const w of g.weights) expect(Array.from(w.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(g.inputs[0].data).every((v) => v === 0)).toBe(true);
  });
});
