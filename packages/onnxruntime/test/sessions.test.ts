import { layers, sequential, type Backend, type Model, type ModelGraph, type Tensor, type TrainingSpec } from '@araboza/core';
import type * as ort from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import { OnnxruntimeCompiledModel } from '../src/compiled-model.js';
import { SessionFactory } from '../src/device.js';
import { ONNX_KINDS } from '../src/session-backend.js';
import type { SessionSource } from '../src/session-source.js';
import { trainingFor, uniform } from './helpers.js';

/** A CPU session source that counts the sessions it opens and those released. */
function countingSessions(): SessionSource & { created: number; released: number } {
  const inner = new SessionFactory('cpu', { threads: 2, spinning: true }, () => undefined);
  const source = {
    created: 0,
    released: 0,
    get current() {
      return inner.current;
    },
    resolve: () => inner.resolve(),
    convBlock: () => inner.convBlock(),
    tensor: (data: Float32Array, dims: readonly number[]) => inner.tensor(data, dims),
    async create(bytes: Uint8Array): Promise<ort.InferenceSession> {
      source.created++;
      const session = await inner.create(bytes);
      const release = session.release.bind(session);
      session.release = () => {
        source.released++;
        return release();
      };
      return session;
    },
  };
  return source;
}

/** A backend compiling on `sessions`, as onnxruntimeBackend does. */
function backendOn(sessions: SessionSource): Backend {
  return {
    name: 'onnxruntime-cpu',
    kinds: ONNX_KINDS,
    compile: async (graph: ModelGraph, training?: TrainingSpec) => {
      await sessions.resolve();
      const compiled = new OnnxruntimeCompiledModel('onnxruntime-cpu', graph, training, sessions);
      await compiled.prepareTraining();
      return compiled;
    },
  };
}

/** Conv, batch normalisation (state weights), pooling, upsampling and a sigmoid conv: every weight role, kernels in another layout. */
function smallAutoencoder(seed = 4): Model {
  return sequential({
    inputShape: [6, 6, 1],
    seed,
    layers: [
      layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.batchNormalization({ momentum: 0.5 }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.upSampling2d({ size: 2 }),
      layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
    ],
  });
}

/** Largest absolute difference between two tensors' values. */
function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
}

const x = uniform([8, 6, 6, 1], 1, 0, 1);

describe('sessions of the inference and evaluation models (weights as initializers)', () => {
  it('regenerates the inference model only after the weights changed, releasing the stale session', async () => {
    const sessions = countingSessions();
    const compiled = await backendOn(sessions).compile(smallAutoencoder().graph);
    await compiled.setWeights(smallAutoencoder().getWeights());
    const [first] = await compiled.predict([x]);
    const [again] = await compiled.predict([x]);
    expect({ created: sessions.created, released: sessions.released }).toEqual({ created: 1, released: 0 });
    expect(maxDiff(first, again)).toBe(0);
    await compiled.setWeights(smallAutoencoder(9).getWeights());
    await compiled.predict([x]);
    await Promise.resolve();
    expect({ created: sessions.created, released: sessions.released }).toEqual({ created: 2, released: 1 });
    compiled.dispose();
  });

  it('predicts with the weights set last', async () => {
    const sessions = countingSessions();
    const compiled = await backendOn(sessions).compile(smallAutoencoder().graph);
    await compiled.setWeights(smallAutoencoder(4).getWeights());
    await compiled.predict([x]);
    const other = smallAutoencoder(9);
    await compiled.setWeights(other.getWeights());
    const [got] = await compiled.predict([x]);
    const fresh = await backendOn(sessions).compile(other.graph);
    await fresh.setWeights(other.getWeights());
    const [want] = await fresh.predict([x]);
    expect(maxDiff(got, want)).toBe(0);
    compiled.dispose();
    fresh.dispose();
  });

  it('evaluates with the weights and moving statistics the last train step produced', async () => {
    const m = smallAutoencoder();
    const training = trainingFor(m, 'binaryCrossentropy', 'adam');
    const sessions = countingSessions();
    const compiled = await backendOn(sessions).compile(m.graph, training);
    await compiled.setWeights(m.getWeights());
    await compiled.evaluate([x], [x]);
    await compiled.trainStep([x], [x]);
    const { loss } = await compiled.evaluate([x], [x]);
    // The same weights, set on a model that never trained, give the same loss.
    const fresh = await backendOn(sessions).compile(m.graph, training);
    await fresh.setWeights(await compiled.getWeights());
    expect(loss).toBe((await fresh.evaluate([x], [x])).loss);
    compiled.dispose();
    fresh.dispose();
  });

  it("gives fit's validation loss equal to evaluate's on the weights fit ended with", async () => {
    const m = smallAutoencoder();
    m.compile({ backend: backendOn(countingSessions()), optimizer: { kind: 'adam', learningRate: 0.01 }, loss: 'binaryCrossentropy' });
    const train = uniform([32, 6, 6, 1], 2, 0, 1);
    const history = await m.fit(train, train, { epochs: 2, batchSize: 8, validationData: [x, x], seed: 1, verbose: 0 });
    const after = await m.evaluate(x, x);
    const valLoss = history.history.valLoss;
    expect(valLoss[1]).toBeCloseTo(after.loss, 6);
    expect(valLoss[0]).not.toBeCloseTo(valLoss[1], 6);
  });
});
