import { layers, type Layer } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildGradientsModel, type ResolvedDevice } from '../src/index.js';
import { modelOf, relativeDifference, runWithRandomFeeds, trainingFor } from './helpers.js';

/**
 * The depthwise lowering has a second forward formulation for WebGPU (whose
 * grouped Conv is wrong for some shapes): the per-channel taps times the
 * kernels as one MatMul. Both gradients models are standard ONNX, so the
 * CPU runs the WebGPU one too: fed the same inputs and weights, it must give
 * the CPU model's losses and gradients, with no grouped convolution in it.
 */
const MODELS: [string, () => Layer, number[]][] = [
  [
    'depthwiseConv2d m2 s2 same',
    () => layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'tanh' }),
    [7, 6, 3],
  ],
  ['depthwiseConv2d m3 s1x2 valid', () => layers.depthwiseConv2d({ kernelSize: [2, 3], depthMultiplier: 3, strides: [1, 2] }), [5, 7, 2]],
  ['separableConv2d m2 s2 same', () => layers.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }), [6, 6, 2]],
];

function gradientsModel(layer: Layer, shape: number[], provider: ResolvedDevice): Uint8Array {
  // A dense layer first, so the depthwise node's input gradient is part of the model.
  const m = modelOf(shape, [layers.dense({ units: shape[2] }), layer]);
  return buildGradientsModel(m.graph, trainingFor(m, 'meanSquaredError'), { provider });
}

function groupedConvs(bytes: Uint8Array): number {
  const nodes = onnxProto.onnx.ModelProto.decode(bytes).graph!.node!;
  return nodes.filter((n) => n.opType!.startsWith('Conv') && n.attribute!.some((a) => a.name === 'group' && Number(a.i) > 1)).length;
}

describe.each(MODELS)('%s: the WebGPU formulation on the CPU', (_, make, shape) => {
  it('gives the CPU formulation’s losses and gradients', async () => {
    const cpu = await runWithRandomFeeds(gradientsModel(make(), shape, 'cpu'), 5);
    const webgpu = await runWithRandomFeeds(gradientsModel(make(), shape, 'webgpu'), 5);
    expect(Object.keys(webgpu).sort()).toEqual(Object.keys(cpu).sort());
    for (const [name, expected] of Object.entries(cpu)) {
      expect(relativeDifference(webgpu[name], expected), name).toBeLessThan(1e-5);
    }
  });

  it('has no grouped convolution on WebGPU, and the grouped Conv forward on the CPU', () => {
    expect(groupedConvs(gradientsModel(make(), shape, 'webgpu'))).toBe(0);
    expect(groupedConvs(gradientsModel(make(), shape, 'cpu'))).toBeGreaterThan(0);
  });
});
