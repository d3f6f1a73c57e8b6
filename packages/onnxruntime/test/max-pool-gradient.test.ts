import { layers, resolveLoss, resolveOptimizer } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildTrainStepModel, type ResolvedDevice } from '../src/index.js';
import { compileWithWeights, modelOf, trainingFor } from './helpers.js';

/**
 * Exact max-pool gradients after a relu (the generator applies the relu's
 * mask to dz at the pooled size there): each window's gradient goes to its
 * first maximum in row-major order, and nowhere when the window's maximum is
 * a relu zero. The inputs have ties on purpose; a 1×1 identity convolution
 * makes dLoss/dinput the gradient at the pooling's input.
 */
async function inputGradient(size: number, pool: { poolSize: number; strides: number }, input: number[], target: number[]): Promise<number[]> {
  const conv = layers.conv2d({ filters: 1, kernelSize: 1, activation: 'relu' });
  const m = modelOf([size, size, 1], [conv, layers.maxPooling2d(pool)]);
  conv.setWeights([{ shape: [1, 1, 1, 1], data: Float32Array.of(1) }, { shape: [1], data: Float32Array.of(0) }]);
  const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError'));
  const out = m.graph.nodes[1].outputShape;
  const g = await compiled.gradients({ shape: [1, size, size, 1], data: Float32Array.from(input) }, { shape: [1, ...out], data: Float32Array.from(target) });
  compiled.dispose();
  return Array.from(g.input.data);
}

describe('maxPooling2d gradient after a relu', () => {
  it('goes to the first maximum of each window, and nowhere from an all-zero window', async () => {
    // Windows (2×2, stride 2): positive tie → first; all negative → relu zeros, masked; max 2 tied → first; 0.5 tied → first.
    const x = [3, 3, -1, -2, 1, 3, -3, -4, 0, 2, 0.5, -1, 2, 1, 0.5, 0.5];
    // Pooled values [3, 0, 2, 0.5] against target [0, 1, 0, 0]: dLoss/dpool = 2(p − y)/4.
    const g = await inputGradient(4, { poolSize: 2, strides: 2 }, x, [0, 1, 0, 0]);
    expect(g).toEqual([1.5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0.25, 0, 0, 0, 0, 0]);
  });

  it('sums the gradients of overlapping windows that share a first maximum', async () => {
    // Windows 2×2 at stride 1 over a 3×3 input: the two 5s win two windows each.
    const x = [1, 5, 2, 0, 5, -1, 3, -2, -3];
    // Pooled values all 5 against target 0: dLoss/dpool = 2·5/4 = 2.5 per window.
    const g = await inputGradient(3, { poolSize: 2, strides: 1 }, x, [0, 0, 0, 0]);
    expect(g).toEqual([0, 5, 0, 0, 5, 0, 0, 0, 0]);
  });
});

describe('maxPooling2d gradient ops per provider', () => {
  // A conv2d in front: a train step needs no gradient for the model input, so a first-layer pool would emit none.
  const trainStepOps = (provider: ResolvedDevice, strides: number) => {
    const m = modelOf([6, 6, 1], [layers.conv2d({ filters: 2, kernelSize: 1 }), layers.maxPooling2d({ poolSize: 2, strides })]);
    const bytes = buildTrainStepModel(m.graph, resolveLoss('meanSquaredError', m.graph), resolveOptimizer('sgd'), { provider });
    return new Set(onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));
  };

  it('uses MaxUnpool on the CPU when windows cannot overlap', () => {
    const ops = trainStepOps('cpu', 2);
    expect(ops.has('MaxUnpool')).toBe(true);
    expect(ops.has('ScatterElements')).toBe(false);
  });

  it('uses ScatterElements for overlapping windows and on CUDA (which has no MaxUnpool kernel)', () => {
    for (const ops of [trainStepOps('cpu', 1), trainStepOps('cuda', 2)]) {
      expect(ops.has('ScatterElements')).toBe(true);
      expect(ops.has('MaxUnpool')).toBe(false);
    }
  });
});
