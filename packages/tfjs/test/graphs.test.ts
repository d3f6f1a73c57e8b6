import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  ShapeError,
  checkInputs,
  checkInputsAndTargets,
  input,
  layers,
  model,
  validateGraph,
  type GraphNode,
  type Model,
  type ModelGraph,
  type Tensor,
} from '@araboza/core';
import { tfjsBackend } from '../src/index.js';
import { data, maxRelDiff, trainingSpec } from './helpers.js';
import { bceReference, mseReference } from '@araboza/conformance/reference';

const wasm = tfjsBackend({ engine: 'wasm' });

/** Siamese branches: one dense layer applied to inputs `a` and `b` (shared), or two dense layers (`shared: false`). */
function siamese(shared: boolean): Model {
  const a = input({ shape: [4], name: 'a' });
  const b = input({ shape: [4], name: 'b' });
  const first = layers.dense({ units: 3, activation: 'tanh', name: 'branch' });
  const second = shared ? first : layers.dense({ units: 3, activation: 'tanh', name: 'branch_copy' });
  const joined = layers.add().apply([first.apply(a), second.apply(b)]);
  return model({ inputs: [a, b], outputs: layers.dense({ units: 2, name: 'head' }).apply(joined), seed: 3 });
}

/**
 * Two inputs, two outputs: `a` and `b` through their own dense layers, then
 * a concatenation into a sigmoid output `p` (binary cross-entropy) and a
 * sum into a linear output `q` (mean squared error). Smooth everywhere (tanh),
 * so finite differences apply.
 */
function twoHeaded(): Model {
  const a = input({ shape: [3], name: 'a' });
  const b = input({ shape: [2], name: 'b' });
  const ha = layers.dense({ units: 4, activation: 'tanh', name: 'ha' }).apply(a);
  const hb = layers.dense({ units: 4, activation: 'tanh', name: 'hb' }).apply(b);
  const p = layers.dense({ units: 1, activation: 'sigmoid', name: 'p' }).apply(layers.concatenate().apply([ha, hb]));
  const q = layers.dense({ units: 2, name: 'q' }).apply(layers.add().apply([ha, hb]));
  return model({ inputs: [a, b], outputs: [p, q], seed: 5 });
}

const LOSSES = ['binaryCrossentropy', 'meanSquaredError'];
const LOSS_WEIGHTS = [0.5, 2];
const batch = { xs: [data([6, 3], 1), data([6, 2], 2)], ys: [data([6, 1], 3, 0, 1), data([6, 2], 4)] };

async function compileTwoHeaded(lossWeights: readonly number[], optimizer: unknown = 'sgd') {
  const m = twoHeaded();
  const compiled = await wasm.compile(m.graph, trainingSpec(m.graph, LOSSES, optimizer, lossWeights));
  await compiled.setWeights(m.getWeights());
  return compiled;
}

describe('shared layers', () => {
  it('a layer applied twice computes what two copies with its weights compute', async () => {
    const shared = siamese(true);
    const copies = siamese(false);
    const [dw, db, hw, hb] = shared.getWeights();
    const a = await wasm.compile(shared.graph);
    const b = await wasm.compile(copies.graph);
    await a.setWeights([dw, db, hw, hb]);
    await b.setWeights([dw, db, dw, db, hw, hb]);
    const xs = [data([5, 4], 10), data([5, 4], 11)];
    const [ya] = await a.predict(xs);
    const [yb] = await b.predict(xs);
    a.dispose();
    b.dispose();
    expect(shared.graph.weights).toHaveLength(4);
    expect(maxRelDiff(ya, yb)).toBeLessThan(1e-6);
  });

  it("a shared layer's weight gradients are the sum over its uses", async () => {
    const shared = siamese(true);
    const copies = siamese(false);
    const [dw, db, hw, hb] = shared.getWeights();
    const a = await wasm.compile(shared.graph, trainingSpec(shared.graph, 'meanSquaredError'));
    const b = await wasm.compile(copies.graph, trainingSpec(copies.graph, 'meanSquaredError'));
    await a.setWeights([dw, db, hw, hb]);
    await b.setWeights([dw, db, dw, db, hw, hb]);
    const xs = [data([5, 4], 12), data([5, 4], 13)];
    const ys = [data([5, 2], 14)];
    const ga = await a.gradients(xs, ys);
    const gb = await b.gradients(xs, ys);
    a.dispose();
    b.dispose();
    expect(ga.loss).toBeCloseTo(gb.loss, 6);
    const sum = (x: Tensor, y: Tensor): Tensor => ({ shape: x.shape, data: x.data.map((v, i) => v + y.data[i]) });
    expect(maxRelDiff(ga.weights[0], sum(gb.weights[0], gb.weights[2]))).toBeLessThan(1e-5);
    expect(maxRelDiff(ga.weights[1], sum(gb.weights[1], gb.weights[3]))).toBeLessThan(1e-5);
    // Both uses must contribute, or the sum would equal one of them.
    expect(maxRelDiff(gb.weights[0], gb.weights[2])).toBeGreaterThan(1e-3);
  });
});

describe('two inputs, two outputs, loss weights', () => {
  it("evaluate reports each output's own loss and the weighted total", async () => {
    const compiled = await compileTwoHeaded(LOSS_WEIGHTS);
    const [p, q] = await compiled.predict(batch.xs);
    const r = await compiled.evaluate(batch.xs, batch.ys);
    compiled.dispose();
    expect(r.outputLosses).toHaveLength(2);
    // p's loss is computed from its logits, the reference from the probabilities: equal to float32 rounding.
    expect(r.outputLosses[0]).toBeCloseTo(bceReference(p.data, batch.ys[0].data), 5);
    expect(r.outputLosses[1]).toBeCloseTo(mseReference(q.data, batch.ys[1].data).loss, 6);
    expect(r.loss).toBeCloseTo(0.5 * r.outputLosses[0] + 2 * r.outputLosses[1], 12);
  });

  it("the gradients are the loss-weighted sum of each output's own gradients", async () => {
    const results = [];
    for (const lossWeights of [LOSS_WEIGHTS, [1, 0], [0, 1]]) {
      const compiled = await compileTwoHeaded(lossWeights);
      results.push(await compiled.gradients(batch.xs, batch.ys));
      compiled.dispose();
    }
    const [both, first, second] = results;
    const weighted = (x: Tensor, y: Tensor): Tensor => ({ shape: x.shape, data: x.data.map((v, i) => 0.5 * v + 2 * y.data[i]) });
    expect(both.weights).toHaveLength(8);
    both.weights.forEach((g, i) => expect(maxRelDiff(g, weighted(first.weights[i], second.weights[i]))).toBeLessThan(1e-5));
    both.inputs.forEach((g, i) => expect(maxRelDiff(g, weighted(first.inputs[i], second.inputs[i]))).toBeLessThan(1e-5));
    expect(both.outputLosses).toEqual(first.outputLosses);
  });

  it('weight gradients agree with central differences of the weighted loss', async () => {
    const compiled = await compileTwoHeaded(LOSS_WEIGHTS);
    const weights = await compiled.getWeights();
    const grads = await compiled.gradients(batch.xs, batch.ys);
    const h = 1e-2;
    // One entry of every weight: ha and hb kernels feed both outputs (through concat and add).
    for (let w = 0; w < weights.length; w++) {
      const index = weights[w].data.length - 1;
      const shifted = (delta: number) => weights.map((t, i) => (i === w ? { shape: t.shape, data: t.data.map((v, j) => (j === index ? v + delta : v)) } : t));
      await compiled.setWeights(shifted(h));
      const up = (await compiled.evaluate(batch.xs, batch.ys)).loss;
      await compiled.setWeights(shifted(-h));
      const down = (await compiled.evaluate(batch.xs, batch.ys)).loss;
      expect((up - down) / (2 * h)).toBeCloseTo(grads.weights[w].data[index], 3);
    }
    compiled.dispose();
  });

  it('trains a few steps: each step reports both losses and their weighted sum, and the total falls', async () => {
    const compiled = await compileTwoHeaded(LOSS_WEIGHTS, { kind: 'adam', learningRate: 0.05 });
    const first = await compiled.evaluate(batch.xs, batch.ys);
    for (let step = 0; step < 10; step++) {
      const r = await compiled.trainStep(batch.xs, batch.ys);
      expect(r.outputLosses).toHaveLength(2);
      expect(r.loss).toBeCloseTo(0.5 * r.outputLosses[0] + 2 * r.outputLosses[1], 12);
    }
    const last = await compiled.evaluate(batch.xs, batch.ys);
    expect((await compiled.getOptimizerState()).step).toBe(10);
    compiled.dispose();
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.outputLosses[1]).toBeLessThan(first.outputLosses[1]);
  });

  it('a wrong batch gives core’s message (inputs of different sizes, a missing target)', async () => {
    const compiled = await compileTwoHeaded(LOSS_WEIGHTS);
    const m = twoHeaded();
    const uneven = [data([6, 3], 1), data([5, 2], 2)];
    const message = (call: () => unknown): string => {
      try {
        call();
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('core accepted the bad batch');
    };
    await expect(compiled.predict(uneven)).rejects.toThrow(ShapeError);
    await expect(compiled.predict(uneven)).rejects.toThrow(message(() => checkInputs(m.graph, uneven, 'predict')));
    await expect(compiled.trainStep(batch.xs, [batch.ys[0]])).rejects.toThrow(
      message(() => checkInputsAndTargets(m.graph, batch.xs, [batch.ys[0]], 'trainStep')),
    );
    expect((await compiled.getOptimizerState()).step).toBe(0);
    compiled.dispose();
  });
});

describe('outputs that are not plain terminal nodes', () => {
  it('one node as two outputs: binary cross-entropy from its logits and MSE of its probabilities', async () => {
    const a = input({ shape: [3] });
    const p = layers.dense({ units: 2, activation: 'sigmoid' }).apply(a);
    const m = model({ inputs: a, outputs: [p, p], seed: 7 });
    const spec = trainingSpec(m.graph, LOSSES);
    expect(spec.losses.map((l) => l.fromLogits)).toEqual([true, false]);
    const compiled = await wasm.compile(m.graph, spec);
    await compiled.setWeights(m.getWeights());
    const x = data([4, 3], 20);
    const y = data([4, 2], 21, 0, 1);
    const [probs] = await compiled.predict([x]);
    const r = await compiled.evaluate([x], [y, y]);
    compiled.dispose();
    expect(r.outputLosses[0]).toBeCloseTo(bceReference(probs.data, y.data), 5);
    expect(r.outputLosses[1]).toBeCloseTo(mseReference(probs.data, y.data).loss, 6);
  });

  it('an output whose loss uses its logits still feeds its activated value to the layers after it', async () => {
    const a = input({ shape: [3] });
    const h = layers.dense({ units: 2, activation: 'sigmoid' }).apply(a);
    const out = layers.dense({ units: 1 }).apply(h);
    const m = model({ inputs: a, outputs: [h, out], seed: 8 });
    const spec = trainingSpec(m.graph, LOSSES);
    expect(spec.losses[0].fromLogits).toBe(true);
    const compiled = await wasm.compile(m.graph, spec);
    await compiled.setWeights(m.getWeights());
    const x = data([4, 3], 22);
    const ys = [data([4, 2], 23, 0, 1), data([4, 1], 24)];
    const [, predicted] = await compiled.predict([x]);
    const r = await compiled.evaluate([x], ys);
    compiled.dispose();
    expect(r.outputLosses[1]).toBeCloseTo(mseReference(predicted.data, ys[1].data).loss, 6);
  });

  it('a model input named as an output passes through unchanged, and its loss counts', async () => {
    const a = input({ shape: [3] });
    const m = model({ inputs: a, outputs: [a, layers.dense({ units: 2 }).apply(a)], seed: 9 });
    const compiled = await wasm.compile(m.graph, trainingSpec(m.graph, 'meanSquaredError'));
    await compiled.setWeights(m.getWeights());
    const x = data([4, 3], 25);
    const ys = [data([4, 3], 26), data([4, 2], 27)];
    const [passed] = await compiled.predict([x]);
    const r = await compiled.evaluate([x], ys);
    compiled.dispose();
    expect(passed).toEqual(x);
    expect(r.outputLosses[0]).toBeCloseTo(mseReference(x.data, ys[0].data).loss, 6);
  });
});

describe('nodes no output depends on', () => {
  /** A valid graph `a → used` with a second dense node `dead` that reads `a` but feeds no output. */
  function withDeadNode(): { graph: ModelGraph; used: Model; dead: Model } {
    const a = input({ shape: [3], name: 'a' });
    const used = model({ inputs: a, outputs: layers.dense({ units: 2, name: 'used' }).apply(a), seed: 1 });
    const dead = model({ inputs: a, outputs: layers.dense({ units: 4, name: 'dead' }).apply(a), seed: 2 });
    const deadNode = { ...dead.graph.nodes[0], weightIndex: used.graph.weights.length } as GraphNode;
    const graph = {
      inputs: used.graph.inputs,
      nodes: [...used.graph.nodes, deadNode],
      outputs: used.graph.outputs,
      weights: [...used.graph.weights, ...dead.graph.weights],
    };
    validateGraph(graph);
    return { graph, used, dead };
  }

  it('are skipped: their weights get zero gradients and stay unchanged by training, the others train', async () => {
    const { graph, used, dead } = withDeadNode();
    const compiled = await wasm.compile(graph, trainingSpec(graph, 'meanSquaredError', { kind: 'adam', learningRate: 0.1 }));
    await compiled.setWeights([...used.getWeights(), ...dead.getWeights()]);
    const xs = [data([4, 3], 40)];
    const ys = [data([4, 2], 41)];
    const g = await compiled.gradients(xs, ys);
    await compiled.trainStep(xs, ys);
    const after = await compiled.getWeights();
    compiled.dispose();
    expect(g.weights).toHaveLength(4);
    expect(g.weights.slice(2).every((w) => w.data.every((v) => v === 0))).toBe(true);
    expect(after.slice(2)).toEqual(dead.getWeights());
    expect(after[0]).not.toEqual(used.getWeights()[0]);
  });
});

describe('no tensor leaks in a graph', () => {
  it('numTensors is the same before and after every call on a two-input, two-output model with a shared layer', async () => {
    const a = input({ shape: [4], name: 'a' });
    const b = input({ shape: [4], name: 'b' });
    const shared = layers.dense({ units: 3, activation: 'sigmoid' });
    const [ha, hb] = [shared.apply(a), shared.apply(b)];
    const m = model({ inputs: [a, b], outputs: [layers.maximum().apply([ha, hb]), hb], seed: 11 });
    const compiled = await tfjsBackend({ engine: 'wasm', maxChunkBytes: 64 }).compile(
      m.graph,
      trainingSpec(m.graph, ['meanSquaredError', 'binaryCrossentropy'], 'adam', [1, 0.5]),
    );
    await compiled.setWeights(m.getWeights());
    const xs = [data([3, 4], 30), data([3, 4], 31)];
    const ys = [data([3, 3], 32, 0, 1), data([3, 3], 33, 0, 1)];
    await compiled.trainStep(xs, ys);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      await compiled.trainStep(xs, ys);
      await compiled.evaluate(xs, ys);
      await compiled.predict(xs);
      await compiled.gradients(xs, ys);
      await expect(compiled.predict([xs[0]])).rejects.toThrow(ShapeError);
    }
    expect(tf.memory().numTensors).toBe(before);
    compiled.dispose();
  });
});
