import { input, layers, model, smallResidualNetwork, type Model, type SymbolicTensor, type Tensor } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { fuseForLowering } from '../src/fusion.js';
import { buildTrainStepModel, FORWARD_LOWERINGS, GRADIENT_RULES, weightEntries } from '../src/index.js';
import { compileWithWeights, relativeDifference, trainingFor, uniform } from './helpers.js';

/**
 * The conv2d → batchNormalization fold of training steps (normalized-conv2d.ts):
 * when it applies, and that a folded step computes what the two layers do.
 * Its values against PyTorch are the conformance suite's chain goldens
 * (`conv2d-…-then-batchnorm-…`, train-step cases).
 */
const kinds = (m: Model, options: { inputGradients?: boolean; provider?: 'cpu' | 'webgpu' } = {}) =>
  fuseForLowering(m.graph, { forTraining: true, fuse: true, ...options }).map((n) => n.kind);

/** input → [linear activation →] conv2d → batchNormalization → relu → maxPooling2d → dense, seeded. */
function stem(options: { front?: boolean; conv?: Record<string, unknown>; bn?: Record<string, unknown>; channels?: number } = {}): Model {
  const x = input({ shape: [8, 8, options.channels ?? 1], name: 'x' });
  const first: SymbolicTensor = options.front ? layers.activation({ activation: 'linear' }).apply(x) : x;
  const conv = layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same', ...options.conv }).apply(first);
  const bn = layers.batchNormalization({ momentum: 0.8, ...options.bn }).apply(conv);
  const pooled = layers.maxPooling2d({ poolSize: 2 }).apply(layers.activation({ activation: 'relu' }).apply(bn));
  return model({ inputs: x, outputs: layers.dense({ units: 3 }).apply(layers.flatten().apply(pooled)), seed: 4 });
}

describe('conv2d + batchNormalization fold (training steps)', () => {
  it('is registered in the lowering and gradient tables', () => {
    expect(FORWARD_LOWERINGS.normalizedConv2d).toBeDefined();
    expect(GRADIENT_RULES.normalizedConv2d).toBeDefined();
  });

  it("folds the residual network's first convolution and its batch normalisation, and nothing else", () => {
    const fused = kinds(smallResidualNetwork());
    expect(fused[0]).toBe('normalizedConv2d');
    expect(fused.filter((k) => k === 'normalizedConv2d')).toHaveLength(1);
    expect(fused.filter((k) => k === 'batchNormalization')).toHaveLength(4);
  });

  it('does not fold where the model returns input gradients (the conv input then needs one)', () => {
    expect(kinds(stem(), { inputGradients: true }).slice(0, 2)).toEqual(['conv2d', 'batchNormalization']);
  });

  it('does not fold a conv that does not read a model input', () => {
    expect(kinds(stem({ front: true })).slice(1, 3)).toEqual(['conv2d', 'batchNormalization']);
  });

  it('does not fold for WebGPU', () => {
    expect(kinds(stem(), { provider: 'webgpu' })[0]).toBe('conv2d');
  });

  it('does not fold a frozen batch normalisation (moving statistics, no batch ones)', () => {
    expect(kinds(stem({ bn: { trainable: false } }))[0]).toBe('conv2d');
  });

  it('does not fold a conv with its own activation', () => {
    expect(kinds(stem({ conv: { activation: 'relu' } }))[0]).toBe('conv2d');
  });

  it('does not fold when the im2col has more rows than the conv has filters (3 channels × 9 taps > 12)', () => {
    expect(kinds(stem({ channels: 3 }))[0]).toBe('conv2d');
  });

  it('writes no batch-normalisation pass over the conv output in the train step: one Conv for the forward pass', () => {
    const m = stem();
    const ops = onnxProto.onnx.ModelProto.decode(buildTrainStepModel(m.graph, trainingFor(m, 'meanSquaredError', 'adam'))).graph!.node!.map((n) => n.opType!);
    expect(ops.filter((o) => o === 'ReduceMean')).toHaveLength(1);
    expect(ops).toContain('Conv');
  });

  for (const [name, options] of [
    ['with bias, scale and centre', {}],
    ['without conv bias, scale or centre; stride 2, valid', { conv: { useBias: false, strides: 2, padding: 'valid' }, bn: { scale: false, center: false } }],
    ['dilated, epsilon 0.1', { conv: { dilationRate: 2 }, bn: { epsilon: 0.1 } }],
  ] as const) {
    it(`trains as the unfolded layers do over five Adam steps (${name}): losses, weights and moving statistics`, async () => {
      const folded = stem(options);
      const plain = stem({ ...options, front: true });
      plain.setWeights(folded.getWeights());
      const training = trainingFor(folded, 'meanSquaredError', 'adam');
      const [a, b] = [await compileWithWeights(folded, training), await compileWithWeights(plain, trainingFor(plain, 'meanSquaredError', 'adam'))];
      const x = uniform([6, 8, 8, 1], 11, -0.5, 1.5);
      const y = uniform([6, 3], 12);
      for (let step = 0; step < 5; step++) {
        const [la, lb] = [await a.trainStep([x], [y]), await b.trainStep([x], [y])];
        expect(Math.abs(la.loss - lb.loss)).toBeLessThan(1e-5 * Math.abs(lb.loss));
      }
      const [wa, wb]: Tensor[][] = [await a.getWeights(), await b.getWeights()];
      a.dispose();
      b.dispose();
      const names = weightEntries(folded.graph).map((e) => e.name);
      wa.forEach((w, i) => {
        // A conv bias under batch normalisation has a zero gradient in exact arithmetic: the folded step moves
        // it by exactly nothing, the plain one by Adam's normalised rounding noise; neither changes the output.
        if (/conv2d[^/]*\/bias$/.test(names[i])) return;
        expect(relativeDifference(w.data, wb[i].data), names[i]).toBeLessThan(1e-3);
      });
    });
  }
});
