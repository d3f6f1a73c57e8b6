import { layers } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { compileWithWeights, modelOf, trainingFor, uniform } from './helpers.js';

describe('optimizer step count (issue 16, item 9)', () => {
  it('counts exactly past 2^24, where a float32 counter stalls', async () => {
    const m = modelOf([3], [layers.dense({ units: 2 })]);
    const c = await compileWithWeights(m, trainingFor(m, 'meanSquaredError', 'adam'));
    try {
      const state = await c.getOptimizerState();
      await c.setOptimizerState({ step: 2 ** 24, slots: state.slots });
      const x = uniform([4, 3], 1);
      const y = uniform([4, 2], 2);
      await c.trainStep([x], [y]);
      await c.trainStep([x], [y]);
      expect((await c.getOptimizerState()).step).toBe(2 ** 24 + 2);
    } finally {
      c.dispose();
    }
  });
});

describe('predict on memory shared between threads (issue 16, item 14)', () => {
  it('a SharedArrayBuffer-backed input predicts like a plain one', async () => {
    const m = modelOf([3], [layers.dense({ units: 2 })]);
    const c = await compileWithWeights(m);
    try {
      const x = uniform([4, 3], 3);
      const shared = new Float32Array(new SharedArrayBuffer(x.data.byteLength));
      shared.set(x.data);
      expect(await c.predict([{ shape: x.shape, data: shared }])).toEqual(await c.predict([x]));
    } finally {
      c.dispose();
    }
  });
});
