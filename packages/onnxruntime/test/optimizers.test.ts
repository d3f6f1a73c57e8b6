import { layers, optimizerSlots, resolveOptimizer, type OptimizerSpec, type Tensor } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { compileWithWeights, modelOf, trainingFor, uniform } from './helpers.js';

/** core's optimizer formulas (TSDoc of optimizers.ts), in float64, for one weight. */
function referenceUpdate(spec: OptimizerSpec, w: Float64Array, g: Float32Array, slots: Float64Array[], t: number): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    switch (spec.kind) {
      case 'sgd':
        if (spec.momentum === 0) w[i] -= spec.learningRate * gi;
        else {
          slots[0][i] = spec.momentum * slots[0][i] - spec.learningRate * gi;
          w[i] += slots[0][i];
        }
        break;
      case 'adam': {
        slots[0][i] = spec.beta1 * slots[0][i] + (1 - spec.beta1) * gi;
        slots[1][i] = spec.beta2 * slots[1][i] + (1 - spec.beta2) * gi * gi;
        const alpha = (spec.learningRate * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t);
        w[i] -= (alpha * slots[0][i]) / (Math.sqrt(slots[1][i]) + spec.epsilon);
        break;
      }
      case 'adadelta': {
        slots[0][i] = spec.rho * slots[0][i] + (1 - spec.rho) * gi * gi;
        const delta = (Math.sqrt(slots[1][i] + spec.epsilon) / Math.sqrt(slots[0][i] + spec.epsilon)) * gi;
        slots[1][i] = spec.rho * slots[1][i] + (1 - spec.rho) * delta * delta;
        w[i] -= spec.learningRate * delta;
        break;
      }
      case 'rmsprop':
        slots[0][i] = spec.rho * slots[0][i] + (1 - spec.rho) * gi * gi;
        w[i] -= (spec.learningRate * gi) / Math.sqrt(slots[0][i] + spec.epsilon);
        break;
    }
  }
}

const tinyModel = () => modelOf([3, 3, 1], [layers.conv2d({ filters: 2, kernelSize: 2, activation: 'tanh' }), layers.flatten(), layers.dense({ units: 1 })], 3);

function expectClose(actual: Float32Array, expected: Float64Array, tol: number) {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-3;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]) / scale).toBeLessThan(tol));
}

const OPTIMIZERS = [
  { kind: 'sgd', learningRate: 0.1 },
  { kind: 'sgd', learningRate: 0.1, momentum: 0.9 },
  { kind: 'adam', learningRate: 0.05 },
  { kind: 'adadelta', learningRate: 1 },
  { kind: 'rmsprop', learningRate: 0.05 },
] as const;

describe('optimizer updates follow core formulas', () => {
  it.each(OPTIMIZERS.map((o) => [JSON.stringify(o), o] as const))('%s over two steps', async (_name, optimizer) => {
    const m = tinyModel();
    const spec = resolveOptimizer(optimizer);
    const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError', optimizer));
    const x = uniform([4, 3, 3, 1], 7);
    const y = uniform([4, 1], 8);
    const expected = m.getWeights().map((w) => Float64Array.from(w.data));
    const slots = expected.map((w) => optimizerSlots(spec).map(() => new Float64Array(w.length)));
    for (let t = 1; t <= 2; t++) {
      const g = await compiled.gradients([x], [y]);
      expected.forEach((w, i) => referenceUpdate(spec, w, g.weights[i].data, slots[i], t));
      const { loss } = await compiled.trainStep([x], [y]);
      expect(loss).toBeCloseTo(g.loss, 6);
      const weights = await compiled.getWeights();
      weights.forEach((w, i) => expectClose(w.data, expected[i], 1e-5));
      const state = await compiled.getOptimizerState();
      expect(state.step).toBe(t);
      state.slots.forEach((perWeight, i) => perWeight.forEach((s, j) => expectClose(s.data, slots[i][j], 1e-5)));
    }
    compiled.dispose();
  });

  it('optimizer state round-trips through get/setOptimizerState (Keras layout) and training resumes identically', async () => {
    const m = tinyModel();
    const training = trainingFor(m, 'meanSquaredError', 'adam');
    const a = await compileWithWeights(m, training);
    const x = uniform([4, 3, 3, 1], 9);
    const y = uniform([4, 1], 10);
    await a.trainStep([x], [y]);
    const state = await a.getOptimizerState();
    expect(state.slots[0][0].shape).toEqual([2, 2, 1, 2]);
    const b = await compileWithWeights(m, training);
    await b.setWeights(await a.getWeights());
    await b.setOptimizerState(state);
    expect((await b.trainStep([x], [y])).loss).toBe((await a.trainStep([x], [y])).loss);
    const [wa, wb] = [await a.getWeights(), await b.getWeights()];
    wa.forEach((w: Tensor, i) => expect(Array.from(wb[i].data)).toEqual(Array.from(w.data)));
    a.dispose();
    b.dispose();
  });

  it('a non-finite loss leaves weights and optimizer state unchanged', async () => {
    const m = tinyModel();
    const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError', 'adam'));
    const x = uniform([4, 3, 3, 1], 11);
    const y = uniform([4, 1], 12);
    await compiled.trainStep([x], [y]);
    const before = { weights: await compiled.getWeights(), state: await compiled.getOptimizerState() };
    const bad = { shape: x.shape, data: x.data.slice() };
    bad.data[5] = Number.NaN;
    expect(Number.isNaN((await compiled.trainStep([bad], [y])).loss)).toBe(true);
    const after = { weights: await compiled.getWeights(), state: await compiled.getOptimizerState() };
    expect(after.state.step).toBe(before.state.step);
    after.weights.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(before.weights[i].data)));
    after.state.slots.forEach((s, i) => s.forEach((t, j) => expect(Array.from(t.data)).toEqual(Array.from(before.state.slots[i][j].data))));
    // Training continues from the kept state.
    expect(Number.isFinite((await compiled.trainStep([x], [y])).loss)).toBe(true);
    expect((await compiled.getOptimizerState()).step).toBe(before.state.step + 1);
    compiled.dispose();
  });
});
