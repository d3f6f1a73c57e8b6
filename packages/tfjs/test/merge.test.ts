import { describe, expect, it } from 'vitest';
import { ShapeError, concatAxis, input, layers, model, tensor, type Backend, type Layer, type ModelGraph, type Tensor } from '@araboza/core';
import { tfjsBackend } from '../src/index.js';
import { data, trainingSpec } from './helpers.js';
import {
  concatenateReference,
  elementwiseMergeGradReference,
  elementwiseMergeReference,
  mseReference,
  type ElementwiseKind,
} from '@araboza/conformance/reference';

const ENGINES = { wasm: tfjsBackend({ engine: 'wasm' }), cpu: tfjsBackend({ engine: 'cpu' }) };

/** The graph of one merge layer applied to inputs `a`, `b`, … of the given per-sample shapes. */
function mergeGraph(layer: Layer, shapes: readonly number[][]): ModelGraph {
  const inputs = shapes.map((shape, i) => input({ shape, name: String.fromCharCode(97 + i) }));
  return model({ inputs, outputs: layer.apply(inputs) }).graph;
}

/** Seeded batches of 2 samples for every input shape. */
function batches(shapes: readonly number[][], seed: number): Tensor[] {
  return shapes.map((s, i) => data([2, ...s], seed + i));
}

const ELEMENTWISE: Record<ElementwiseKind, { make: () => Layer; inputs: number }> = {
  add: { make: () => layers.add(), inputs: 3 },
  subtract: { make: () => layers.subtract(), inputs: 2 },
  multiply: { make: () => layers.multiply(), inputs: 3 },
  average: { make: () => layers.average(), inputs: 3 },
  maximum: { make: () => layers.maximum(), inputs: 3 },
  minimum: { make: () => layers.minimum(), inputs: 3 },
};

/** Concatenations: Keras's axis (batch axis counted) and the inputs' per-sample shapes. */
const CONCATENATIONS: Record<string, { axis: number; shapes: number[][] }> = {
  'axis -1 (channels), 3 inputs': {
    axis: -1,
    shapes: [
      [2, 3],
      [2, 1],
      [2, 2],
    ],
  },
  'axis 1 (first per-sample axis)': {
    axis: 1,
    shapes: [
      [2, 3, 2],
      [1, 3, 2],
    ],
  },
  'axis 2 of rank-4 inputs': {
    axis: 2,
    shapes: [
      [2, 3, 2],
      [2, 1, 2],
    ],
  },
  'axis -2': {
    axis: -2,
    shapes: [
      [2, 3, 2],
      [2, 2, 2],
    ],
  },
};

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThan(tol);
}

const cases = Object.keys(ELEMENTWISE).flatMap((kind) => Object.keys(ENGINES).map((engine) => [kind, engine] as [ElementwiseKind, keyof typeof ENGINES]));
const concatCases = Object.keys(CONCATENATIONS).flatMap((name) => Object.keys(ENGINES).map((engine) => [name, engine] as [string, keyof typeof ENGINES]));

describe('element-wise merges forward equal a float64 reference', () => {
  it.each(cases)('%s on %s', async (kind, engine) => {
    const { make, inputs } = ELEMENTWISE[kind];
    const shapes = Array.from({ length: inputs }, () => [3, 4]);
    const compiled = await ENGINES[engine].compile(mergeGraph(make(), shapes));
    const xs = batches(shapes, 10);
    const [y] = await compiled.predict(xs);
    compiled.dispose();
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose(y.data, elementwiseMergeReference(kind, xs), 1e-6);
  });
});

describe('element-wise merges: input gradients of an MSE loss equal a float64 reference', () => {
  it.each(cases)('%s on %s', async (kind, engine) => {
    const { make, inputs } = ELEMENTWISE[kind];
    const shapes = Array.from({ length: inputs }, () => [5]);
    const graph = mergeGraph(make(), shapes);
    const compiled = await ENGINES[engine].compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
    const xs = batches(shapes, 20);
    const y = data([2, 5], 30);
    const g = await compiled.gradients(xs, [y]);
    compiled.dispose();
    const { loss, grad: dy } = mseReference(elementwiseMergeReference(kind, xs), y.data);
    expect(g.loss).toBeCloseTo(loss, 6);
    const expected = elementwiseMergeGradReference(kind, xs, dy);
    expect(g.inputs).toHaveLength(inputs);
    g.inputs.forEach((gi, i) => expectClose(gi.data, expected[i], 1e-6));
  });
});

describe('concatenate', () => {
  it.each(concatCases)('%s on %s: forward equals a float64 reference', async (name, engine) => {
    const { axis, shapes } = CONCATENATIONS[name];
    const compiled = await ENGINES[engine].compile(mergeGraph(layers.concatenate({ axis }), shapes));
    const xs = batches(shapes, 40);
    const [y] = await compiled.predict(xs);
    compiled.dispose();
    const expected = concatenateReference(xs, concatAxis(axis, shapes[0].length, 'test'));
    expect(y.shape).toEqual(expected.shape);
    // A copy: exact.
    expect(Array.from(y.data)).toEqual(Array.from(expected.data));
  });

  it.each(concatCases)('%s on %s: input gradients are the slices of the output gradient', async (name, engine) => {
    const { axis, shapes } = CONCATENATIONS[name];
    const graph = mergeGraph(layers.concatenate({ axis }), shapes);
    const compiled = await ENGINES[engine].compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
    const xs = batches(shapes, 50);
    const perSampleAxis = concatAxis(axis, shapes[0].length, 'test');
    const joined = concatenateReference(xs, perSampleAxis);
    const y = data(joined.shape, 60);
    const g = await compiled.gradients(xs, [y]);
    compiled.dispose();
    g.inputs.forEach((gi, i) => expect(gi.shape).toEqual(xs[i].shape));
    // Joining the input gradients along the same axis must give back dLoss/dOutput.
    expectClose(concatenateReference(g.inputs, perSampleAxis).data, mseReference(joined.data, y.data).grad, 1e-6);
  });
});

/**
 * Three inputs of 6 values each (columns), with exact ties: all three
 * equal; 1 and 2 tied above 0; 0 and 2 tied above 1; no tie; 0 and 1 tied
 * above 2; 1 and 2 tied below 0.
 */
const TIES = [
  [1, 0, 2, 0, 3, 5],
  [1, 2, 0, 1, 3, 4],
  [1, 2, 2, 2, 1, 4],
].map((row) => tensor(row, [1, 6]));
const tieEngines = Object.keys(ENGINES) as (keyof typeof ENGINES)[];

/** Column c's gradient `dy[c]` all on input `winner[c]`, and exactly 0 on the others. */
function expectTieGradients(grads: readonly Tensor[], winner: readonly number[], dy: readonly number[]): void {
  expect(grads).toHaveLength(3);
  grads.forEach((gi, i) =>
    winner.forEach((w, c) => {
      if (w === i) expect(gi.data[c]).toBeCloseTo(dy[c], 6);
      else expect(gi.data[c]).toBe(0);
    }),
  );
}

describe('maximum/minimum ties: the whole gradient goes to the lowest-index tied input (TensorFlow >= / <=)', () => {
  it.each(tieEngines)('maximum of 3 inputs on %s', async (engine) => {
    const graph = mergeGraph(layers.maximum(), [[6], [6], [6]]);
    const compiled = await ENGINES[engine].compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
    const y = tensor([0, 0, 0, 0, 0, 0], [1, 6]);
    const g = await compiled.gradients(TIES, [y]);
    compiled.dispose();
    // Winners per column: 0 (all tied), 1 (1 and 2 tied), 0 (0 and 2 tied), 2, 0 (0 and 1 tied), 0.
    const winner = [0, 1, 0, 2, 0, 0];
    const max = [1, 2, 2, 2, 3, 5];
    expectTieGradients(
      g.inputs,
      winner,
      max.map((m) => (2 * m) / 6),
    );
  });

  it.each(tieEngines)('minimum of 3 inputs on %s', async (engine) => {
    const graph = mergeGraph(layers.minimum(), [[6], [6], [6]]);
    const compiled = await ENGINES[engine].compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
    const y = tensor([-1, -1, -1, -1, -1, -1], [1, 6]);
    const g = await compiled.gradients(TIES, [y]);
    compiled.dispose();
    // Winners per column: 0 (all tied), 0, 1 (0 and 2 tied above it), 0, 2, 1 (1 and 2 tied).
    const winner = [0, 0, 1, 0, 2, 1];
    const min = [1, 0, 0, 0, 1, 4];
    expectTieGradients(
      g.inputs,
      winner,
      min.map((m) => (2 * (m + 1)) / 6),
    );
  });
});

describe('merges applied eagerly on the backend', () => {
  it('maximum of real tensors runs on tfjs and equals the reference', async () => {
    const xs = batches(
      [
        [2, 3],
        [2, 3],
        [2, 3],
      ],
      70,
    );
    const y = await layers.maximum().apply(xs, { backend: ENGINES.wasm });
    expect(y.shape).toEqual([2, 2, 3]);
    // A selection of float32 values: exact.
    expect(Array.from(y.data)).toEqual(Array.from(elementwiseMergeReference('maximum', xs)));
  });

  it("mismatched shapes are core's ShapeError, naming the layer and both shapes, before the backend runs", async () => {
    let compiles = 0;
    const counting: Backend = { ...ENGINES.wasm, compile: (...args) => (compiles++, ENGINES.wasm.compile(...args)) };
    const apply = () => layers.add({ name: 'sum' }).apply([data([2, 3], 1), data([2, 4], 2)], { backend: counting });
    await expect(apply()).rejects.toThrow(ShapeError);
    await expect(apply()).rejects.toThrow('sum: Add needs inputs of one shape; input 0 has shape (None, 3), input 1 has (None, 4)');
    expect(compiles).toBe(0);
  });
});
