import { describe, expect, it } from 'vitest';
import { ShapeError, checkPredictOutputs, dense, sequential, type Backend, type PredictOptions, type Tensor } from '../src/index.js';
import { linearProblem, linearTestBackend, type Recording } from './fake-backend.js';

const { x } = linearProblem(10);

/** The linear test backend, its predict wrapped: `mode` says what the wrapper returns. */
function wrapped(mode: 'in place' | 'own tensors' | 'one value short', seen: (Tensor[] | undefined)[]): Backend {
  const inner = linearTestBackend({ batches: [], setWeightsCalls: 0 } satisfies Recording);
  return {
    ...inner,
    async compile(graph, training) {
      const compiled = await inner.compile(graph, training);
      return {
        ...compiled,
        async predict(inputs: readonly Tensor[], options?: PredictOptions) {
          seen.push(options?.outputs ? [...options.outputs] : undefined);
          const ys = await compiled.predict(inputs);
          if (mode === 'one value short') return ys.map((y) => ({ shape: y.shape, data: y.data.subarray(1) }));
          if (mode === 'own tensors' || !options?.outputs) return ys;
          ys.forEach((y, i) => options.outputs![i].data.set(y.data));
          return [...options.outputs];
        },
      };
    },
  };
}

function model(backend: Backend) {
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })], seed: 4 });
  m.compile({ backend });
  return m;
}

describe('predict on in-memory data', () => {
  it('hands every batch its rows of one result buffer', async () => {
    const seen: (Tensor[] | undefined)[] = [];
    const result = await model(wrapped('in place', seen)).predict(x, { batchSize: 4 });
    expect(seen.map((o) => o?.[0].shape)).toEqual([
      [4, 1],
      [4, 1],
      [2, 1],
    ]);
    for (const outputs of seen) expect(outputs![0].data.buffer).toBe(result.data.buffer);
  });

  it('gives the same values whether the backend writes in place or returns its own tensors', async () => {
    const inPlace = await model(wrapped('in place', [])).predict(x, { batchSize: 4 });
    const own = await model(wrapped('own tensors', [])).predict(x, { batchSize: 4 });
    expect(Array.from(own.data)).toEqual(Array.from(inPlace.data));
  });

  it('a backend returning the wrong number of values is a ShapeError naming the output', async () => {
    await expect(model(wrapped('one value short', [])).predict(x, { batchSize: 4 })).rejects.toThrow(/returned 3 values for output '.*', expected 4/);
  });
});

describe('checkPredictOutputs', () => {
  const graph = sequential({ inputShape: [3], layers: [dense({ units: 2 })], seed: 1 }).graph;

  it('accepts one buffer per output of the batch', () => {
    expect(() => checkPredictOutputs(graph, [{ shape: [5, 2], data: new Float32Array(10) }], 5, 'predict')).not.toThrow();
  });

  it('a buffer of another shape is a ShapeError', () => {
    expect(() => checkPredictOutputs(graph, [{ shape: [5, 3], data: new Float32Array(15) }], 5, 'predict')).toThrow(ShapeError);
  });

  it('a buffer for another batch size is a ShapeError naming both counts', () => {
    expect(() => checkPredictOutputs(graph, [{ shape: [4, 2], data: new Float32Array(8) }], 5, 'predict')).toThrow(/5 samples .* has 4/);
  });
});
