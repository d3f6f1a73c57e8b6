import { layers, sequential, type Backend, type Model, type ModelGraph, type Tensor, type TrainingSpec } from '@araboza/core';
import type * as ort from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import { OnnxruntimeCompiledModel, weightFeedFor, type WeightFeed } from '../src/compiled-model.js';
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

async function compiledWith(m: Model, feed: WeightFeed, sessions: SessionSource = countingSessions(), training?: TrainingSpec) {
  await sessions.resolve();
  const compiled = new OnnxruntimeCompiledModel('onnxruntime-cpu', m.graph, training, sessions, undefined, feed);
  await compiled.prepareTraining();
  await compiled.setWeights(m.getWeights());
  return compiled;
}

/** Largest absolute difference between two tensors' values. */
function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
}

const x = uniform([8, 6, 6, 1], 1, 0, 1);

describe('sessions of the inference and evaluation models', () => {
  it('puts the weights in initializers on the CPU and feeds them as inputs on GPU providers', () => {
    expect([weightFeedFor('cpu'), weightFeedFor('webgpu'), weightFeedFor('cuda')]).toEqual(['initializers', 'inputs', 'inputs']);
  });

  it('with weights as inputs, opens one inference and one evaluation session for the model’s life', async () => {
    const m = smallAutoencoder();
    const sessions = countingSessions();
    const compiled = await compiledWith(m, 'inputs', sessions, trainingFor(m, 'binaryCrossentropy', 'adam'));
    expect(sessions.created).toBe(1); // the train step
    for (let i = 0; i < 2; i++) {
      await compiled.predict([x]);
      await compiled.evaluate([x], [x]);
      await compiled.trainStep([x], [x]);
    }
    await compiled.setWeights(smallAutoencoder(9).getWeights());
    await compiled.predict([x]);
    await compiled.evaluate([x], [x]);
    expect({ created: sessions.created, released: sessions.released }).toEqual({ created: 3, released: 0 });
    compiled.dispose();
  });

  it('with weights as inputs, predicts with the weights set last', async () => {
    const sessions = countingSessions();
    const compiled = await compiledWith(smallAutoencoder(4), 'inputs', sessions);
    await compiled.predict([x]);
    const other = smallAutoencoder(9);
    await compiled.setWeights(other.getWeights());
    const [got] = await compiled.predict([x]);
    const reference = await compiledWith(other, 'initializers', sessions);
    const [want] = await reference.predict([x]);
    expect(maxDiff(got, want)).toBeLessThan(1e-6);
    compiled.dispose();
    reference.dispose();
  });

  it('with weights as inputs, evaluates with the weights and moving statistics the train steps produced', async () => {
    const m = smallAutoencoder();
    const training = trainingFor(m, 'binaryCrossentropy', 'adam');
    const sessions = countingSessions();
    const [asInputs, asInitializers] = [await compiledWith(m, 'inputs', sessions, training), await compiledWith(m, 'initializers', sessions, training)];
    const losses: number[][] = [[], []];
    for (let step = 0; step < 3; step++) {
      for (const [k, c] of [asInputs, asInitializers].entries()) {
        await c.trainStep([x], [x]);
        losses[k].push((await c.evaluate([x], [x])).loss);
      }
    }
    losses[0].forEach((l, i) => expect(l).toBeCloseTo(losses[1][i], 6));
    // The steps changed the losses: evaluate did not read the initial weights.
    expect(new Set(losses[0]).size).toBe(3);
    asInputs.dispose();
    asInitializers.dispose();
  });

  it('with weights in initializers, regenerates the model only after the weights changed, releasing the stale session', async () => {
    const sessions = countingSessions();
    const compiled = await compiledWith(smallAutoencoder(), 'initializers', sessions);
    const [first] = await compiled.predict([x]);
    const [again] = await compiled.predict([x]);
    expect({ created: sessions.created, released: sessions.released }).toEqual({ created: 1, released: 0 });
    expect(maxDiff(first, again)).toBe(0);
    await compiled.setWeights(smallAutoencoder(9).getWeights());
    const [changed] = await compiled.predict([x]);
    await Promise.resolve();
    expect({ created: sessions.created, released: sessions.released }).toEqual({ created: 2, released: 1 });
    expect(maxDiff(first, changed)).toBeGreaterThan(1e-3);
    compiled.dispose();
  });

  for (const feed of ['inputs', 'initializers'] as const) {
    it(`with weights as ${feed}, fit's validation loss equals evaluate's on the weights fit ended with`, async () => {
      const sessions = countingSessions();
      const backend: Backend = {
        name: 'onnxruntime-cpu',
        kinds: ONNX_KINDS,
        compile: async (graph: ModelGraph, training?: TrainingSpec) => {
          await sessions.resolve();
          const compiled = new OnnxruntimeCompiledModel('onnxruntime-cpu', graph, training, sessions, undefined, feed);
          await compiled.prepareTraining();
          return compiled;
        },
      };
      const m = smallAutoencoder();
      m.compile({ backend, optimizer: { kind: 'adam', learningRate: 0.01 }, loss: 'binaryCrossentropy' });
      const train = uniform([32, 6, 6, 1], 2, 0, 1);
      const history = await m.fit(train, train, { epochs: 2, batchSize: 8, validationData: [x, x], seed: 1, verbose: 0 });
      const after = await m.evaluate(x, x);
      const valLoss = history.history.valLoss;
      expect(valLoss[1]).toBeCloseTo(after.loss, 6);
      expect(valLoss[0]).not.toBeCloseTo(valLoss[1], 6);
    });
  }
});
