import { describe, expect, it } from 'vitest';
import { dense, sequential, type Backend, type CompiledModel } from '../src/index.js';
import { linearProblem, linearTestBackend } from './fake-backend.js';

const { x, y } = linearProblem(8);

/** The test backend with a synchronous weight read (its weights live on the host), counting reads. */
function countingBackend(reads: { async: number; sync: number }): Backend {
  const inner = linearTestBackend({ batches: [], setWeightsCalls: 0 });
  return {
    ...inner,
    async compile(graph, training) {
      const c = await inner.compile(graph, training);
      let latest = await c.getWeights();
      const wrapped: CompiledModel = {
        ...c,
        async trainStep(xs, ys) {
          const r = await c.trainStep(xs, ys);
          latest = await c.getWeights();
          return r;
        },
        async getWeights() {
          reads.async++;
          return c.getWeights();
        },
        getWeightsSync() {
          reads.sync++;
          return latest;
        },
      };
      return wrapped;
    },
  };
}

function setup(reads: { async: number; sync: number }) {
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })], seed: 2 });
  m.compile({ backend: countingBackend(reads), optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' });
  return m;
}

describe('trainOnBatch leaves the weights in the backend until they are read', () => {
  it('a loop of trainOnBatch reads no weight back', async () => {
    const reads = { async: 0, sync: 0 };
    const m = setup(reads);
    for (let i = 0; i < 3; i++) await m.trainOnBatch(x, y);
    expect(reads).toEqual({ async: 0, sync: 0 });
  });

  it("getWeights reads the backend's weights once, then the host copy", async () => {
    const reads = { async: 0, sync: 0 };
    const m = setup(reads);
    await m.trainOnBatch(x, y);
    const first = m.getWeights();
    const again = m.getWeights();
    expect(reads.sync).toBe(1);
    expect(again).toEqual(first);
    expect(first[0].data.some((v) => v !== 0)).toBe(true);
  });

  it('compiling again keeps the weights trainOnBatch left in the backend', async () => {
    const reads = { async: 0, sync: 0 };
    const m = setup(reads);
    const before = m.getWeights().map((t) => Array.from(t.data));
    await m.trainOnBatch(x, y);
    m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }), optimizer: 'sgd', loss: 'meanSquaredError' });
    expect(m.getWeights().map((t) => Array.from(t.data))).not.toEqual(before);
    expect(reads.sync).toBe(1);
  });
});
