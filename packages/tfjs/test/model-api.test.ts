import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mnistAutoencoder, randomUniform } from '@araboza/core';
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
    expect(await m.evaluate(x, x)).toBeLessThan(first);
    m.dispose();
  }, 60_000);
});
