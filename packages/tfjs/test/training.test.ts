import { describe, expect, it } from 'vitest';
import { layers, optimizerSlots, resolveOptimizer, tensor, type OptimizerSpec, type Tensor } from '@araboza/core';
import { tfjsBackend } from '../src/index.js';
import { chainGraph, chainWeights, data, trainingSpec } from './helpers.js';

const wasm = tfjsBackend({ engine: 'wasm' });

/** Core's formulas (optimizers.ts TSDoc) in float64 on one weight. */
function referenceStep(spec: OptimizerSpec, w: number[], g: number[], slots: number[][], t: number): { w: number[]; slots: number[][] } {
  switch (spec.kind) {
    case 'sgd': {
      if (spec.momentum === 0) return { w: w.map((v, i) => v - spec.learningRate * g[i]), slots: [] };
      const v = slots[0].map((s, i) => spec.momentum * s - spec.learningRate * g[i]);
      return { w: w.map((x, i) => x + v[i]), slots: [v] };
    }
    case 'adam': {
      const m = slots[0].map((s, i) => spec.beta1 * s + (1 - spec.beta1) * g[i]);
      const v = slots[1].map((s, i) => spec.beta2 * s + (1 - spec.beta2) * g[i] ** 2);
      const alpha = (spec.learningRate * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t);
      return { w: w.map((x, i) => x - (alpha * m[i]) / (Math.sqrt(v[i]) + spec.epsilon)), slots: [m, v] };
    }
    case 'adadelta': {
      const a = slots[0].map((s, i) => spec.rho * s + (1 - spec.rho) * g[i] ** 2);
      const delta = g.map((gi, i) => (Math.sqrt(slots[1][i] + spec.epsilon) / Math.sqrt(a[i] + spec.epsilon)) * gi);
      const d = slots[1].map((s, i) => spec.rho * s + (1 - spec.rho) * delta[i] ** 2);
      return { w: w.map((x, i) => x - spec.learningRate * delta[i]), slots: [a, d] };
    }
    case 'rmsprop': {
      const v = slots[0].map((s, i) => spec.rho * s + (1 - spec.rho) * g[i] ** 2);
      return { w: w.map((x, i) => x - (spec.learningRate * g[i]) / Math.sqrt(v[i] + spec.epsilon)), slots: [v] };
    }
    default:
      // The newer optimizers are checked against PyTorch goldens in the conformance suite.
      throw new Error(`no float64 reference here for ${spec.kind}`);
  }
}

const OPTIMIZERS: Record<string, unknown> = {
  sgd: 'sgd',
  'sgd with momentum': { kind: 'sgd', momentum: 0.9, learningRate: 0.1 },
  adam: 'adam',
  'adam (large lr)': { kind: 'adam', learningRate: 0.05 },
  adadelta: 'adadelta',
  rmsprop: 'rmsprop',
};

function expectClose(actual: Float32Array, expected: number[], what: string): void {
  expected.forEach((e, i) => {
    const tol = 1e-6 + 1e-5 * Math.abs(e);
    if (Math.abs(actual[i] - e) > tol) throw new Error(`${what}[${i}]: ${actual[i]} vs ${e}`);
  });
}

describe('optimizer updates follow core’s formulas', () => {
  it.each(Object.keys(OPTIMIZERS))('%s, three steps', async (name) => {
    const spec = resolveOptimizer(OPTIMIZERS[name]);
    const l = layers.dense({ units: 2, activation: 'tanh' });
    const graph = chainGraph([3], [l]);
    const compiled = await wasm.compile(graph, trainingSpec(graph, 'meanSquaredError', spec));
    await compiled.setWeights(chainWeights([l]));
    const x = data([4, 3], 1);
    const y = data([4, 2], 2);
    let weights = (await compiled.getWeights()).map((w) => Array.from(w.data, Number));
    let slots = weights.map((w) => optimizerSlots(spec).map(() => w.map(() => 0)));
    for (let t = 1; t <= 3; t++) {
      const g = await compiled.gradients([x], [y]);
      const { loss } = await compiled.trainStep([x], [y]);
      expect(loss).toBe(g.loss);
      const next = weights.map((w, i) => referenceStep(spec, w, Array.from(g.weights[i].data, Number), slots[i], t));
      weights = next.map((n) => n.w);
      slots = next.map((n) => n.slots);
      const actual = await compiled.getWeights();
      actual.forEach((w, i) => expectClose(w.data, weights[i], `step ${t} weight ${i}`));
      const state = await compiled.getOptimizerState();
      expect(state.step).toBe(t);
      state.slots.forEach((ss, i) => ss.forEach((s, j) => expectClose(s.data, slots[i][j], `step ${t} weight ${i} slot ${optimizerSlots(spec)[j]}`)));
    }
    compiled.dispose();
  });

  it('optimizer state round-trips through get/setOptimizerState and resumes identically', async () => {
    const make = async () => {
      const l = layers.dense({ units: 2 });
      const graph = chainGraph([3], [l]);
      const c = await wasm.compile(graph, trainingSpec(graph, 'meanSquaredError', 'adam'));
      await c.setWeights(chainWeights([l]));
      return c;
    };
    const x = data([4, 3], 3);
    const y = data([4, 2], 4);
    const a = await make();
    await a.trainStep([x], [y]);
    await a.trainStep([x], [y]);
    const b = await make();
    await b.setWeights(await a.getWeights());
    await b.setOptimizerState(await a.getOptimizerState());
    expect(await b.trainStep([x], [y])).toEqual(await a.trainStep([x], [y]));
    expect(await b.getWeights()).toEqual(await a.getWeights());
    expect((await b.getOptimizerState()).step).toBe(3);
    a.dispose();
    b.dispose();
  });
});

describe('non-finite loss', () => {
  it('leaves weights and optimizer state unchanged and still returns the loss', async () => {
    const l = layers.dense({ units: 1 });
    const graph = chainGraph([2], [l]);
    const compiled = await wasm.compile(graph, trainingSpec(graph, 'meanSquaredError', 'adam'));
    await compiled.setWeights(chainWeights([l]));
    const x = data([2, 2], 5);
    const y = data([2, 1], 6);
    await compiled.trainStep([x], [y]);
    const weights = await compiled.getWeights();
    const state = await compiled.getOptimizerState();
    const bad: Tensor = tensor([1, NaN, 2, 3], [2, 2]);
    expect(Number.isNaN((await compiled.trainStep([bad], [y])).loss)).toBe(true);
    expect((await compiled.trainStep([x], [tensor([Infinity, 0], [2, 1])])).loss).toBe(Infinity);
    expect(await compiled.getWeights()).toEqual(weights);
    expect(await compiled.getOptimizerState()).toEqual(state);
    compiled.dispose();
  });
});

describe('training', () => {
  it('a conv autoencoder step lowers the loss on the cpu engine too (tiny batch)', async () => {
    const stack = () => [
      layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      layers.upSampling2d({ size: 2 }),
      layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
    ];
    const x = data([2, 6, 6, 1], 7, 0, 1);
    for (const engine of ['wasm', 'cpu'] as const) {
      const ls = stack();
      const graph = chainGraph([6, 6, 1], ls);
      const compiled = await tfjsBackend({ engine }).compile(graph, trainingSpec(graph, 'binaryCrossentropy', { kind: 'adam', learningRate: 0.05 }));
      await compiled.setWeights(chainWeights(ls));
      const first = await compiled.trainStep([x], [x]);
      for (let i = 0; i < 8; i++) await compiled.trainStep([x], [x]);
      expect((await compiled.evaluate([x], [x])).loss).toBeLessThan(first.loss);
      compiled.dispose();
    }
  });
});
