import { layers, mnistAutoencoder, type Layer } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildInferenceModel, buildTrainStepModel, weightEntries } from '../src/index.js';
import { modelOf, trainingFor } from './helpers.js';

/**
 * Which conv2d → maxPooling2d pairs training models fuse into one lowering
 * (phase convolutions and a comparison tree instead of MaxPool's `Indices`
 * and a scatter); their gradients are checked against finite differences in
 * gradients.test.ts and for ties in max-pool-gradient.test.ts.
 */
const opTypes = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType!);

function trainStepOps(inputShape: number[], make: () => Layer[]): string[] {
  const m = modelOf(inputShape, make());
  return opTypes(buildTrainStepModel(m.graph, trainingFor(m, 'meanSquaredError')));
}

describe('conv2d → maxPooling2d fusion in training models', () => {
  it('replaces MaxPool and its scatter with Max ops over the window phases', () => {
    const ops = trainStepOps([8, 8, 1], () => [
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2 }),
    ]);
    expect(ops).not.toContain('MaxPool');
    expect(ops).not.toContain('MaxUnpool');
    expect(ops).not.toContain('ScatterElements');
    // Four phases: three Max ops forward, three comparisons backward.
    expect(ops.filter((o) => o === 'Max')).toHaveLength(3);
    expect(ops.filter((o) => o === 'Greater')).toHaveLength(1 + 3); // the runtime 1 of the im2col, then the tree
  });

  it("fuses the MNIST autoencoder's first layer only (the second's im2col would be 16 channels × 16 taps)", () => {
    const m = mnistAutoencoder();
    const ops = opTypes(buildTrainStepModel(m.graph, trainingFor(m, 'binaryCrossentropy', 'adam')));
    expect(ops.filter((o) => o === 'MaxPool')).toHaveLength(2);
    expect(ops.filter((o) => o === 'Max')).toHaveLength(3);
  });

  it.each<[string, number[], () => Layer[]]>([
    ['overlapping windows', [8, 8, 1], () => [layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), layers.maxPooling2d({ poolSize: 2, strides: 1 })]],
    [
      'same pooling that pads',
      [7, 7, 1],
      () => [layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), layers.maxPooling2d({ poolSize: 2, padding: 'same' })],
    ],
    ['a strided conv', [8, 8, 1], () => [layers.conv2d({ filters: 2, kernelSize: 3, strides: 2 }), layers.maxPooling2d({ poolSize: 2 })]],
    ['a dilated conv', [8, 8, 1], () => [layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2 }), layers.maxPooling2d({ poolSize: 2 })]],
    [
      'a softmax activation (does not commute with the maximum)',
      [8, 8, 1],
      () => [layers.conv2d({ filters: 2, kernelSize: 3, activation: 'softmax' }), layers.maxPooling2d({ poolSize: 2 })],
    ],
    ['a tall im2col (8 channels × 16 taps)', [8, 8, 8], () => [layers.conv2d({ filters: 2, kernelSize: 3 }), layers.maxPooling2d({ poolSize: 2 })]],
    [
      'a valid pooling remainder the padding cannot absorb',
      [8, 8, 1],
      () => [layers.conv2d({ filters: 2, kernelSize: 2 }), layers.maxPooling2d({ poolSize: 2 })],
    ],
  ])('is not used with %s', (_name, inputShape, make) => {
    expect(trainStepOps(inputShape, make)).toContain('MaxPool');
  });

  it('is not used in inference models (Conv with its fused relu and MaxPool without Indices are faster there)', () => {
    const m = modelOf([8, 8, 1], [layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), layers.maxPooling2d({ poolSize: 2 })]);
    const weights = weightEntries(m.graph).map((e) => ({ shape: e.onnxShape, data: new Float32Array(e.onnxShape.reduce((a, b) => a * b, 1)) }));
    const ops = opTypes(buildInferenceModel(m.graph, weights));
    expect(ops).toContain('MaxPool');
    expect(ops).not.toContain('Max');
  });
});
