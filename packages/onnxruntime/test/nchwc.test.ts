import { input, layers, model, type Model } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { nchwcBlockSize } from '../src/device.js';
import { buildGradientsModel, buildTrainStepModel } from '../src/index.js';
import { NCHWC_DOMAIN } from '../src/nchwc.js';
import { checkModelGradients } from './gradient-check.js';
import { relativeDifference, runWithRandomFeeds, trainingFor, uniform } from './helpers.js';

/**
 * The NCHWc rewrite (nchwc.ts): which convolutions of a training model run
 * on ONNX Runtime's blocked CPU kernels, and that the gradients they give are
 * the plain model's and the float64 reference's.
 */
const nodesOf = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph!.node!;
const blockedConvs = (bytes: Uint8Array) => nodesOf(bytes).filter((n) => n.domain === NCHWC_DOMAIN && n.opType === 'Conv').length;

/**
 * 16 → 16 (same, relu), 16 → 32 (dilation 2, no bias), 32 → 8 (stride 2), 8 → 2: blocks of 16 take the first
 * three (the third padded to 16 filters), blocks of 8 all four.
 */
function blockableModel(seed = 3): Model {
  const x = input({ shape: [7, 7, 16] });
  const a = layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
  const b = layers.conv2d({ filters: 32, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, activation: 'tanh' }).apply(a);
  const c = layers.conv2d({ filters: 8, kernelSize: 3, strides: 2 }).apply(b);
  const d = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(c);
  return model({ inputs: x, outputs: d, seed });
}

describe('NCHWc convolutions in training models', () => {
  it('reads the block size of this onnxruntime-node build: 8 (AVX2) or 16 (AVX-512) on x86-64', async () => {
    const block = await nchwcBlockSize();
    if (process.arch === 'x64') expect([8, 16]).toContain(block);
    else expect(block === 0 || block >= 2).toBe(true);
  });

  it('rewrites the forward and dx convolutions with whole blocks of input channels, and nothing else', () => {
    const m = blockableModel();
    const training = trainingFor(m, 'meanSquaredError', 'adam');
    // Block 16: three forward convs and the second's dx (stride 1, 32 → 16; a train step needs no dx of the first
    // layer; the third's is a ConvTranspose, stride 2; the fourth's reads 2 channels).
    expect(blockedConvs(buildTrainStepModel(m.graph, training, { nchwcBlockSize: 16 }))).toBe(4);
    // Block 8: also the fourth's forward (8 channels in, 2 filters padded to 8).
    expect(blockedConvs(buildTrainStepModel(m.graph, training, { nchwcBlockSize: 8 }))).toBe(5);
    // The gradients model also gives dx of the first layer.
    expect(blockedConvs(buildGradientsModel(m.graph, training, { nchwcBlockSize: 16 }))).toBe(5);
    expect(blockedConvs(buildTrainStepModel(m.graph, training))).toBe(0);
    expect(blockedConvs(buildTrainStepModel(m.graph, training, { nchwcBlockSize: 16, provider: 'webgpu' }))).toBe(0);
  });

  it('gives the gradients of the plain model (within 1e-5) on this CPU', async () => {
    const block = await nchwcBlockSize();
    if (block === 0) return expect(process.arch).not.toBe('x64');
    // The counted model, then a 2×3 kernel with strides 2×1 and a 1×1 kernel, every channel count a whole block.
    const x2 = input({ shape: [9, 8, 16] });
    const b = layers.conv2d({ filters: 32, kernelSize: [2, 3], strides: [2, 1], padding: 'same', activation: 'relu' }).apply(x2);
    const c = layers.conv2d({ filters: 16, kernelSize: 1, useBias: false }).apply(b);
    for (const m of [blockableModel(), model({ inputs: x2, outputs: c, seed: 7 })]) {
      const training = trainingFor(m, 'meanSquaredError');
      const plain = await runWithRandomFeeds(buildGradientsModel(m.graph, training, { nchwcBlockSize: 0 }), 1);
      const blocked = await runWithRandomFeeds(buildGradientsModel(m.graph, training, { nchwcBlockSize: block }), 1);
      for (const [name, expected] of Object.entries(plain)) expect(relativeDifference(blocked[name], expected), name).toBeLessThan(1e-5);
    }
  });

  it('gives the float64 reference gradients (finite differences) through the backend', async () => {
    // Small enough for finite differences over every weight: 16 → 16 (3×3, same) then 16 → 16 (1×1, the pointwise kernel).
    const x = input({ shape: [3, 3, 16] });
    const a = layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x);
    const m = model({ inputs: x, outputs: layers.conv2d({ filters: 16, kernelSize: 1 }).apply(a), seed: 4 });
    await checkModelGradients(m, trainingFor(m, 'meanSquaredError'), [uniform([1, 3, 3, 16], 5)], [uniform([1, 3, 3, 16], 6)]);
  });
});
