import { smallResidualNetwork } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildTrainStepModel, FORWARD_LOWERINGS, GRADIENT_RULES, weightEntries } from '../src/index.js';
import { convNormStem, expectTrainsAlike, fusedKinds, type StemOptions } from './fold-helpers.js';
import { trainingFor } from './helpers.js';

/**
 * The conv2d → batchNormalization → activation → maxPooling2d fusion of
 * training steps (normalized-pooled-conv2d.ts): when it applies, and that a
 * fused step computes what the four layers do. Its values against PyTorch
 * are the conformance suite's chain goldens (`conv2d-…-then-batchnorm-…-maxpool-…`, train-step cases).
 */
describe('conv2d + batchNormalization + activation + maxPooling2d fusion (training steps)', () => {
  it('is registered in the lowering and gradient tables', () => {
    expect(FORWARD_LOWERINGS.normalizedPooledConv2d).toBeDefined();
    expect(GRADIENT_RULES.normalizedPooledConv2d).toBeDefined();
  });

  it("fuses the residual network's stem (conv, batch norm, relu, max pooling), and nothing else", () => {
    const fused = fusedKinds(smallResidualNetwork());
    expect(fused[0]).toBe('normalizedPooledConv2d');
    expect(fused.filter((k) => k === 'normalizedPooledConv2d' || k === 'normalizedConv2d')).toHaveLength(1);
    expect(fused.filter((k) => k === 'batchNormalization')).toHaveLength(4);
    expect(fused).not.toContain('maxPooling2d');
  });

  it('does not fuse where the model returns input gradients', () => {
    expect(fusedKinds(convNormStem(), { inputGradients: true }).slice(0, 2)).toEqual(['conv2d', 'batchNormalization']);
  });

  it('does not fuse a conv that does not read a model input', () => {
    expect(fusedKinds(convNormStem({ front: true }))).not.toContain('normalizedPooledConv2d');
  });

  it('does not fuse for WebGPU', () => {
    expect(fusedKinds(convNormStem(), { provider: 'webgpu' })[0]).toBe('conv2d');
  });

  it('folds only the conv and batch normalisation behind an activation that does not commute with a maximum (gelu)', () => {
    expect(fusedKinds(convNormStem({ activation: 'gelu' })).slice(0, 3)).toEqual(['normalizedConv2d', 'activation', 'maxPooling2d']);
  });

  it('folds only the conv and batch normalisation when the pooling leaves a conv row out (7×7 pooled by 2)', () => {
    expect(fusedKinds(convNormStem({ shape: [7, 7, 1] })).slice(0, 3)).toEqual(['normalizedConv2d', 'activation', 'maxPooling2d']);
  });

  it('folds only the conv and batch normalisation behind an overlapping pooling (3×3, strides 2)', () => {
    expect(fusedKinds(convNormStem({ pool: { options: { poolSize: 3, strides: 2 } } })).slice(0, 3)).toEqual([
      'normalizedConv2d',
      'activation',
      'maxPooling2d',
    ]);
  });

  it("writes no MaxPool or MaxUnpool in the train step, and one Conv only (the im2col's tap copies): the phases are MatMuls", () => {
    const m = convNormStem();
    const ops = onnxProto.onnx.ModelProto.decode(buildTrainStepModel(m.graph, trainingFor(m, 'meanSquaredError', 'adam'))).graph!.node!.map((n) => n.opType!);
    expect(ops).not.toContain('MaxPool');
    expect(ops).not.toContain('MaxUnpool');
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(1);
  });

  for (const [name, options, negateGamma] of [
    ['relu, with bias, scale and centre', {}, false],
    ['relu, a negative scale', {}, true],
    [
      'tanh, without conv bias, scale or centre, epsilon 0.1',
      { activation: 'tanh', conv: { useBias: false }, bn: { scale: false, center: false, epsilon: 0.1 } },
      false,
    ],
    ['sigmoid, 2 channels, a 2×2 kernel, 8 filters', { activation: 'sigmoid', shape: [6, 6, 2], conv: { kernelSize: 2, filters: 8 } }, false],
    ['relu, a 2×1 pooling of a 6×5 input', { shape: [6, 5, 1], pool: { options: { poolSize: [2, 1] } } }, false],
    ['relu, valid 3×3 on 10×10 (8×8 pooled by 2)', { shape: [10, 10, 1], conv: { padding: 'valid' } }, false],
  ] as const) {
    it(`trains as the unfused layers do over five Adam steps (${name}): losses, weights and moving statistics`, async () => {
      const fused = convNormStem(options as StemOptions);
      expect(fusedKinds(fused)[0]).toBe('normalizedPooledConv2d');
      const plain = convNormStem({ ...(options as StemOptions), front: true });
      const names = weightEntries(fused.graph).map((e) => e.name);
      const start = fused
        .getWeights()
        .map((w, i) => (negateGamma && /batch_normalization[^/]*\/gamma$/.test(names[i]) ? { ...w, data: w.data.map((v, j) => (j % 3 === 0 ? -v : v)) } : w));
      fused.setWeights(start);
      plain.setWeights(start);
      await expectTrainsAlike(fused, plain, (options as StemOptions).shape ?? [8, 8, 1]);
    });
  }
});
