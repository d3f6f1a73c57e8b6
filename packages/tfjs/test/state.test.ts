import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { input, layers, model, trainingSpec } from '@araboza/core';
import { tfjsBackend } from '../src/index.js';
import { data } from './helpers.js';

const cpu = tfjsBackend({ engine: 'cpu' });

/** conv2d → batchNormalization → dropout → flatten → dense: state weights and a random mask in one step. */
function stateModel() {
  const x = input({ shape: [4, 4, 2] });
  const c = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conv' }).apply(x);
  const b = layers.batchNormalization({ name: 'bn', momentum: 0.9 }).apply(c);
  const d = layers.dropout({ rate: 0.25, seed: 3 }).apply(b);
  return model({ inputs: x, outputs: layers.dense({ units: 2, name: 'head' }).apply(layers.flatten().apply(d)), seed: 2 });
}

describe('state weights on tfjs', () => {
  it('updates the moving statistics in trainStep without leaking tensors', async () => {
    const m = stateModel();
    const compiled = await cpu.compile(m.graph, trainingSpec(m.graph, 'meanSquaredError', 'adam'));
    try {
      await compiled.setWeights(m.getWeights());
      const x = data([6, 4, 4, 2], 1);
      const y = data([6, 2], 2);
      await compiled.trainStep([x], [y]);
      const tensorsAfterFirst = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) await compiled.trainStep([x], [y]);
      expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
      const [, , , , movingMean, movingVariance] = await compiled.getWeights();
      expect(Array.from(movingMean.data).every((v) => v !== 0)).toBe(true);
      expect(Array.from(movingVariance.data).every((v) => v !== 1)).toBe(true);
    } finally {
      compiled.dispose();
    }
  });

  it('runs an eager apply in training mode only when asked', async () => {
    const bn = layers.batchNormalization();
    const x = data([8, 3], 5, 2, 4);
    const inference = await bn.apply(x, { backend: cpu });
    const training = await bn.apply(x, { backend: cpu, training: true });
    // Inference with the initial moving statistics (0, 1) is x / sqrt(1 + ε); training centres each channel.
    expect(inference.data[0]).toBeCloseTo(x.data[0] / Math.sqrt(1.001), 5);
    for (let c = 0; c < 3; c++) {
      let mean = 0;
      for (let r = 0; r < 8; r++) mean += training.data[r * 3 + c] / 8;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
    }
    expect(Array.from(bn.getWeights()[2].data)).toEqual([0, 0, 0]);
  });
});
