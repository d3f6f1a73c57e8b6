import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { input, layers, mnistAutoencoder, model, randomUniform } from '@araboza/core';
import { tfjsBackend } from '../src/index.js';

describe("core's model API on the wasm engine", () => {
  it('the MNIST autoencoder fits, evaluates and predicts with no tensor leak across epochs', async () => {
    const m = mnistAutoencoder({ seed: 1 });
    m.compile({ backend: tfjsBackend({ engine: 'wasm' }), optimizer: 'adam', loss: 'binaryCrossentropy' });
    const x = randomUniform([24, 28, 28, 1], { seed: 2 });
    const first = await m.evaluate(x, x);
    await m.fit(x, x, { epochs: 1, batchSize: 8, verbose: 0 });
    const before = tf.memory().numTensors;
    const history = await m.fit(x, x, { epochs: 3, batchSize: 8, verbose: 0, validationData: [x, x] });
    await m.evaluate(x, x);
    const y = await m.predict(x);
    expect(tf.memory().numTensors).toBe(before);
    expect(y.shape).toEqual([24, 28, 28, 1]);
    expect(history.history.loss).toHaveLength(3);
    expect(history.history.valLoss).toHaveLength(3);
    expect((await m.evaluate(x, x)).loss).toBeLessThan(first.loss);
    m.dispose();
  }, 60_000);

  it("a two-input, two-output model fits with loss weights and records each output's loss", async () => {
    const a = input({ shape: [3], name: 'a' });
    const b = input({ shape: [3], name: 'b' });
    const shared = layers.dense({ units: 4, activation: 'relu' });
    const joined = layers.concatenate().apply([shared.apply(a), shared.apply(b)]);
    const m = model({
      inputs: [a, b],
      outputs: [layers.dense({ units: 1, activation: 'sigmoid', name: 'same' }).apply(joined), layers.dense({ units: 2, name: 'diff' }).apply(joined)],
      seed: 3,
    });
    m.compile({
      backend: tfjsBackend({ engine: 'wasm' }),
      optimizer: { kind: 'adam', learningRate: 0.02 },
      loss: ['binaryCrossentropy', 'meanSquaredError'],
      lossWeights: [1, 0.5],
    });
    const xs = { a: randomUniform([32, 3], { seed: 4 }), b: randomUniform([32, 3], { seed: 5 }) };
    const ys = { same: randomUniform([32, 1], { seed: 6 }), diff: randomUniform([32, 2], { seed: 7 }) };
    const history = await m.fit(xs, ys, { epochs: 4, batchSize: 8, verbose: 0 });
    const { same_loss: same, diff_loss: diff, loss } = history.history as Record<string, number[]>;
    expect(same).toHaveLength(4);
    expect(diff).toHaveLength(4);
    loss.forEach((l, e) => expect(l).toBeCloseTo(same[e] + 0.5 * diff[e], 6));
    expect(loss[3]).toBeLessThan(loss[0]);
    m.dispose();
  });
});
