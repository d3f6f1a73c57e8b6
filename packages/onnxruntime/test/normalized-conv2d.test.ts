import type { Model } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildTrainStepModel, FORWARD_LOWERINGS, GRADIENT_RULES } from '../src/index.js';
import { convNormStem, expectTrainsAlike, fusedKinds, type StemOptions } from './fold-helpers.js';
import { trainingFor } from './helpers.js';

/**
 * The conv2d → batchNormalization fold of training steps (normalized-conv2d.ts):
 * when it applies, and that a folded step computes what the two layers do.
 * Its values against PyTorch are the conformance suite's chain goldens
 * (`conv2d-…-then-batchnorm-…`, train-step cases).
 */
/** The fold's stem with an average pooling: with a max pooling the four layers would lower as one normalizedPooledConv2d. */
const averageStem = (options: Omit<StemOptions, 'pool' | 'shape'> & { channels?: number } = {}): Model =>
  convNormStem({ ...options, pool: { kind: 'average' }, shape: [8, 8, options.channels ?? 1] });

describe('conv2d + batchNormalization fold (training steps)', () => {
  it('is registered in the lowering and gradient tables', () => {
    expect(FORWARD_LOWERINGS.normalizedConv2d).toBeDefined();
    expect(GRADIENT_RULES.normalizedConv2d).toBeDefined();
  });

  it('folds the conv and its batch normalisation, and keeps the relu and the pooling', () => {
    expect(fusedKinds(averageStem()).slice(0, 3)).toEqual(['normalizedConv2d', 'activation', 'averagePooling2d']);
  });

  it('does not fold where the model returns input gradients (the conv input then needs one)', () => {
    expect(fusedKinds(averageStem(), { inputGradients: true }).slice(0, 2)).toEqual(['conv2d', 'batchNormalization']);
  });

  it('does not fold a conv that does not read a model input', () => {
    expect(fusedKinds(averageStem({ front: true })).slice(1, 3)).toEqual(['conv2d', 'batchNormalization']);
  });

  it('does not fold for WebGPU', () => {
    expect(fusedKinds(averageStem(), { provider: 'webgpu' })[0]).toBe('conv2d');
  });

  it('does not fold a frozen batch normalisation (moving statistics, no batch ones)', () => {
    expect(fusedKinds(averageStem({ bn: { trainable: false } }))[0]).toBe('conv2d');
  });

  it('does not fold a conv with its own activation', () => {
    expect(fusedKinds(averageStem({ conv: { activation: 'relu' } }))[0]).toBe('conv2d');
  });

  it('does not fold when the im2col has more rows than the conv has filters (3 channels × 9 taps > 12)', () => {
    expect(fusedKinds(averageStem({ channels: 3 }))[0]).toBe('conv2d');
  });

  it('writes no batch-normalisation pass over the conv output in the train step: one Conv for the forward pass', () => {
    const m = averageStem();
    const nodes = onnxProto.onnx.ModelProto.decode(buildTrainStepModel(m.graph, trainingFor(m, 'meanSquaredError', 'adam'))).graph!.node!;
    // The only means are the patch mean's two steps (positions, then the batch), over the im2col rows.
    const means = nodes.filter((n) => n.opType === 'ReduceMean').map((n) => n.name!);
    expect(means).toHaveLength(2);
    for (const name of means) expect(name).toContain('patch_mean');
    expect(nodes.map((n) => n.opType)).toContain('Conv');
  });

  for (const [name, options] of [
    ['with bias, scale and centre', {}],
    ['without conv bias, scale or centre; stride 2, valid', { conv: { useBias: false, strides: 2, padding: 'valid' }, bn: { scale: false, center: false } }],
    ['dilated, epsilon 0.1', { conv: { dilationRate: 2 }, bn: { epsilon: 0.1 } }],
  ] as const) {
    it(`trains as the unfolded layers do over five Adam steps (${name}): losses, weights and moving statistics`, async () => {
      const folded = averageStem(options);
      const plain = averageStem({ ...options, front: true });
      plain.setWeights(folded.getWeights());
      await expectTrainsAlike(folded, plain, [8, 8, 1]);
    });
  }
});
