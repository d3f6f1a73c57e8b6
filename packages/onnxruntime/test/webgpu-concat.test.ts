import { mnistAutoencoder, Random, type Tensor } from '@araboza/core';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildTrainStepModel, WEBGPU_MAX_CONCAT_INPUTS } from '../src/model-gen.js';
import { trainingFor } from './helpers.js';

/** Input counts of every Concat in a generated model. */
const concatSizes = (bytes: Uint8Array) =>
  onnxProto.onnx.ModelProto.decode(bytes)
    .graph!.node!.filter((n) => n.opType === 'Concat')
    .map((n) => n.input!.length);

describe('the train step on WebGPU: no Concat wider than a shader may bind', () => {
  const m = mnistAutoencoder({ seed: 2 });
  const training = trainingFor(m, 'binaryCrossentropy', 'adam');

  it('keeps one wide Concat per flat vector elsewhere, and splits it into a tree of at most 7 inputs on webgpu', () => {
    expect(Math.max(...concatSizes(buildTrainStepModel(m.graph, training, { provider: 'cpu' })))).toBe(m.graph.weights.length);
    const webgpu = concatSizes(buildTrainStepModel(m.graph, training, { provider: 'webgpu' }));
    expect(Math.max(...webgpu)).toBeLessThanOrEqual(WEBGPU_MAX_CONCAT_INPUTS);
  });

  it('computes the same step either way (run here on the CPU)', async () => {
    const rng = new Random(5);
    const x: Tensor = { shape: [4, 28, 28, 1], data: Float32Array.from({ length: 4 * 784 }, () => rng.uniform(0, 1)) };
    const results = [];
    for (const provider of ['cpu', 'webgpu'] as const) {
      const session = await ort.InferenceSession.create(buildTrainStepModel(m.graph, training, { provider }));
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const meta = session.inputMetadata.find((i) => i.name === name) as unknown as { shape: (number | string)[] };
        const dims = meta.shape.map((d) => (typeof d === 'number' ? d : 4));
        const size = dims.reduce((p, d) => p * d, 1);
        feeds[name] = new ort.Tensor(
          'float32',
          name.startsWith('x') || name.startsWith('target') ? x.data.slice(0, size) : Float32Array.from({ length: size }, (_, i) => Math.sin(i) * 0.1),
          dims,
        );
      }
      const out = await session.run(feeds);
      results.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)])));
      await session.release();
    }
    expect(results[1]).toEqual(results[0]);
  });
});
