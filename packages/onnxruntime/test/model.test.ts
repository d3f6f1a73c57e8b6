import { layers, sequential } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { backend, uniform } from './helpers.js';

describe("through core's Model", () => {
  it('fit lowers the loss of a small convolutional autoencoder, and predict/evaluate agree with it', async () => {
    const m = sequential({
      inputShape: [8, 8, 1],
      seed: 3,
      layers: [
        layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        layers.upSampling2d({ size: 2 }),
        layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
      ],
    });
    m.compile({ backend, optimizer: { kind: 'adam', learningRate: 0.01 }, loss: 'binaryCrossentropy' });
    const x = uniform([64, 8, 8, 1], 1, 0, 1);
    const before = await m.evaluate(x, x);
    await m.fit(x, x, { epochs: 5, batchSize: 16, shuffle: true, seed: 1, verbose: 0 });
    const after = await m.evaluate(x, x);
    expect(after.loss).toBeLessThan(before.loss);
    const y = await m.predict(x);
    expect(y.shape).toEqual([64, 8, 8, 1]);
    expect(Array.from(y.data).every((v) => v > 0 && v < 1)).toBe(true);
  });
});
