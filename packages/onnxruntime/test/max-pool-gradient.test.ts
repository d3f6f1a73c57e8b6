import { layers, type Layer } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildTrainStepModel, type ResolvedDevice } from '../src/index.js';
import { compileWithWeights, modelOf, trainingFor } from './helpers.js';

/**
 * Exact max-pool gradients after a relu (the generator applies the relu's
 * mask to dz at the pooled size there): each window's gradient goes to its
 * first maximum in row-major order, and nowhere when the window's maximum is
 * a relu zero. The inputs have ties on purpose. Two models give the
 * gradient at the pooling's input as dLoss/dinput: a relu activation layer
 * then the pooling (MaxPool's `Indices` and a scatter), and a 1×1 identity
 * relu convolution then the pooling, which training models fuse into one
 * lowering (a comparison tree over the window's phases, see pooled-conv2d.ts).
 */
const FRONTS: [string, () => Layer, ((l: Layer) => void) | null][] = [
  ['relu activation layer, MaxPool with Indices', () => layers.activation({ activation: 'relu' }), null],
  [
    '1×1 identity relu conv2d, fused with the pooling',
    () => layers.conv2d({ filters: 1, kernelSize: 1, activation: 'relu' }),
    (conv) =>
      conv.setWeights([
        { shape: [1, 1, 1, 1], data: Float32Array.of(1) },
        { shape: [1], data: Float32Array.of(0) },
      ]),
  ],
];

async function inputGradient(
  front: (typeof FRONTS)[number],
  size: number,
  pool: { poolSize: number; strides: number },
  input: number[],
  target: number[],
): Promise<number[]> {
  const layer = front[1]();
  const m = modelOf([size, size, 1], [layer, layers.maxPooling2d(pool)]);
  front[2]?.(layer);
  const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError'));
  const out = m.graph.nodes[1].outputShape;
  const g = await compiled.gradients(
    [{ shape: [1, size, size, 1], data: Float32Array.from(input) }],
    [{ shape: [1, ...out], data: Float32Array.from(target) }],
  );
  compiled.dispose();
  // + 0 turns −0 (a masked negative dz) into 0: the paths may differ in the sign of a zero.
  return Array.from(g.inputs[0].data, (v) => v + 0);
}

describe.each(FRONTS)('maxPooling2d gradient after a %s', (...front) => {
  it('goes to the first maximum of each window, and nowhere from an all-zero window', async () => {
    // Windows (2×2, stride 2): positive tie → first; all negative → relu zeros, masked; max 2 tied → first; 0.5 tied → first.
    const x = [3, 3, -1, -2, 1, 3, -3, -4, 0, 2, 0.5, -1, 2, 1, 0.5, 0.5];
    // Pooled values [3, 0, 2, 0.5] against target [0, 1, 0, 0]: dLoss/dpool = 2(p − y)/4.
    const g = await inputGradient(front, 4, { poolSize: 2, strides: 2 }, x, [0, 1, 0, 0]);
    expect(g).toEqual([1.5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0.25, 0, 0, 0, 0, 0]);
  });

  it('goes to the first maximum of 3×3 windows with ties in every row', async () => {
    // One 3×3 window (stride 3) over a 3×3 input: the 4s tie at positions 1, 3 and 8; the first wins.
    const x = [1, 4, 2, 4, 0, 3, -1, 2, 4];
    const g = await inputGradient(front, 3, { poolSize: 3, strides: 3 }, x, [0]);
    expect(g).toEqual([0, 8, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('sums the gradients of overlapping windows that share a first maximum', async () => {
    // Windows 2×2 at stride 1 over a 3×3 input (overlapping windows: never fused): the two 5s win two windows each.
    const x = [1, 5, 2, 0, 5, -1, 3, -2, -3];
    // Pooled values all 5 against target 0: dLoss/dpool = 2·5/4 = 2.5 per window.
    const g = await inputGradient(front, 3, { poolSize: 2, strides: 1 }, x, [0, 0, 0, 0]);
    expect(g).toEqual([0, 5, 0, 0, 5, 0, 0, 0, 0]);
  });
});

describe('maxPooling2d gradient ops per provider', () => {
  // A dense layer in front: a train step needs no gradient for the model input, so a first-layer pool would
  // emit none, and a conv2d in front would be fused with the pooling.
  const trainStepOps = (provider: ResolvedDevice, strides: number) => {
    const m = modelOf([6, 6, 1], [layers.dense({ units: 2 }), layers.maxPooling2d({ poolSize: 2, strides })]);
    const bytes = buildTrainStepModel(m.graph, trainingFor(m, 'meanSquaredError'), { provider });
    return new Set(onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));
  };
  const twoChannelNodes = (provider: ResolvedDevice) => {
    const m = modelOf([6, 6, 2], [layers.dense({ units: 2 }), layers.maxPooling2d({ poolSize: 2, strides: 1 })]);
    return onnxProto.onnx.ModelProto.decode(buildTrainStepModel(m.graph, trainingFor(m, 'meanSquaredError'), { provider })).graph!.node!;
  };
  const groupedConvs = (provider: ResolvedDevice) =>
    twoChannelNodes(provider).filter((n) => n.opType!.startsWith('Conv') && n.attribute!.some((a) => a.name === 'group' && Number(a.i) > 1)).length;

  it('uses MaxUnpool on the CPU when windows cannot overlap', () => {
    const ops = trainStepOps('cpu', 2);
    expect(ops.has('MaxUnpool')).toBe(true);
    expect(ops.has('ScatterElements')).toBe(false);
  });

  it('keeps no Indices and scatters nothing on WebGPU, with no grouped convolution (wrong there for some shapes)', () => {
    const ops = trainStepOps('webgpu', 1);
    expect(ops.has('MaxUnpool') || ops.has('ScatterElements')).toBe(false);
    expect(
      twoChannelNodes('webgpu')
        .filter((n) => n.opType === 'MaxPool')
        .map((n) => n.output!.length),
    ).toEqual([1]);
    expect(groupedConvs('webgpu')).toBe(0);
  });

  it('uses ScatterElements for overlapping windows and on CUDA (which has no MaxUnpool kernel)', () => {
    for (const ops of [trainStepOps('cpu', 1), trainStepOps('cuda', 2)]) {
      expect(ops.has('ScatterElements')).toBe(true);
      expect(ops.has('MaxUnpool')).toBe(false);
    }
  });
});
