import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, dense, sequential, slice, zeros, type BatchSource, type DataBatch, type Tensor } from '../src/index.js';
import { linearProblem, linearTestBackend, type Recording } from './fake-backend.js';

const { x, y } = linearProblem(10);

function setup(): { m: ReturnType<typeof sequential>; recording: Recording } {
  const recording: Recording = { batches: [], setWeightsCalls: 0 };
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })], seed: 4 });
  m.compile({ backend: linearTestBackend(recording), optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' });
  return { m, recording };
}

/** The batches of `x`, `y` in order, `size` samples each. */
function batchesOf(size: number, xs: Tensor = x, ys: Tensor = y): DataBatch[] {
  const out: DataBatch[] = [];
  for (let at = 0; at < xs.shape[0]; at += size) {
    const n = Math.min(size, xs.shape[0] - at);
    out.push({ x: slice(xs, at, n), y: slice(ys, at, n) });
  }
  return out;
}

/** A source that restarts every time it is iterated, as a dataset object does. */
function restarting(batches: readonly DataBatch[]): BatchSource {
  return {
    async *[Symbol.asyncIterator]() {
      for (const b of batches) yield b;
    },
  };
}

const weightsOf = (m: ReturnType<typeof sequential>) => m.getWeights().flatMap((t) => Array.from(t.data));

describe('fit on a batch source', () => {
  it('trains as fit on the same data in memory without shuffling', async () => {
    const a = setup();
    const b = setup();
    const inMemory = await a.m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    const streamed = await b.m.fit(restarting(batchesOf(4)), { epochs: 2, verbose: 0 });
    expect(weightsOf(b.m)).toEqual(weightsOf(a.m));
    expect(streamed.history.loss).toEqual(inMemory.history.loss);
  });

  it('takes a synchronous iterable too', async () => {
    const { m, recording } = setup();
    const batches = batchesOf(3);
    await m.fit({ [Symbol.iterator]: () => batches[Symbol.iterator]() }, { epochs: 1, verbose: 0 });
    expect(recording.batches.map((r) => r.size)).toEqual([3, 3, 3, 1]);
  });

  it('asks the source for a batch only after the previous step ran (nothing is read ahead)', async () => {
    const { m, recording } = setup();
    const stepsSeenAtYield: number[] = [];
    const source: BatchSource = {
      *[Symbol.iterator]() {
        for (const b of batchesOf(2)) {
          stepsSeenAtYield.push(recording.batches.length);
          yield b;
        }
      },
    };
    await m.fit(source, { epochs: 1, verbose: 0 });
    expect(stepsSeenAtYield).toEqual([0, 1, 2, 3, 4]);
  });

  it('a wrongly shaped batch is a ShapeError naming the batch, and the weights keep the last good step', async () => {
    const bad = batchesOf(3);
    bad[2] = { x: zeros([3, 4]), y: slice(y, 6, 3) };
    const { m } = setup();
    const error = await m.fit(restarting(bad), { epochs: 1, verbose: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toMatch(/fit batch 2 of epoch 1 x must have shape \(None, 3\), got \[3, 4\]/);
    const reference = setup();
    await reference.m.fit(restarting(batchesOf(3).slice(0, 2)), { epochs: 1, verbose: 0 });
    expect(weightsOf(m)).toEqual(weightsOf(reference.m));
  });

  it('an item that is not {x, y} is a ConfigError naming the batch', async () => {
    const { m } = setup();
    const source = restarting([batchesOf(5)[0], [x, y] as unknown as DataBatch]);
    await expect(m.fit(source, { epochs: 1, verbose: 0 })).rejects.toThrow(/fit batch 1 of epoch 1 must be an object \{x, y\}, got an array/);
  });

  it('a generator object (which iterates once) fails in the second epoch with advice', async () => {
    const { m } = setup();
    const once = (function* () {
      yield* batchesOf(5);
    })();
    await expect(m.fit(once, { epochs: 2, verbose: 0 })).rejects.toThrow(ConfigError);
    await expect(setup().m.fit((function* () {})(), { epochs: 1, verbose: 0 })).rejects.toThrow(/yielded no batch in epoch 1/);
  });

  it('stepsPerEpoch continues one iteration across epochs', async () => {
    const { m, recording } = setup();
    const batches = batchesOf(2);
    const h = await m.fit(
      (function* () {
        yield* batches;
      })(),
      { epochs: 2, stepsPerEpoch: 2, verbose: 0 },
    );
    expect(h.epoch).toEqual([0, 1]);
    expect(recording.batches.map((r) => r.first)).toEqual(batches.slice(0, 4).map((b) => (b.x as Tensor).data[0]));
  });

  it('stepsPerEpoch on a source that runs out ends training after that epoch', async () => {
    const { m, recording } = setup();
    const h = await m.fit(
      (function* () {
        yield* batchesOf(2);
      })(),
      { epochs: 5, stepsPerEpoch: 2, verbose: 0 },
    );
    // 5 batches: epochs of 2, 2 and 1 batches, then no more data.
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(recording.batches).toHaveLength(5);
  });

  it('batchSize with a batch source is a ConfigError', async () => {
    await expect(setup().m.fit(restarting(batchesOf(2)), { batchSize: 2, verbose: 0 })).rejects.toThrow(/takes no batchSize/);
  });

  it('validationData may be a batch source, iterated each epoch', async () => {
    const a = setup();
    const b = setup();
    const inMemory = await a.m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0, validationData: [x, y], validationBatchSize: 3 });
    const streamed = await b.m.fit(restarting(batchesOf(4)), { epochs: 2, verbose: 0, validationData: restarting(batchesOf(3)) });
    expect(streamed.history.valLoss).toEqual(inMemory.history.valLoss);
  });

  it('the progress line counts steps when the length is unknown', async () => {
    let text = '';
    const output = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WritableStream;
    await setup().m.fit(restarting(batchesOf(4)), { epochs: 1, verbose: 2, output });
    expect(text).toMatch(/^Epoch 1\/1\n3 steps - /);
  });
});

describe('stepsPerEpoch on in-memory data', () => {
  it('runs the first stepsPerEpoch batches of each epoch', async () => {
    const { m, recording } = setup();
    await m.fit(x, y, { epochs: 2, batchSize: 3, stepsPerEpoch: 2, shuffle: false, verbose: 0 });
    expect(recording.batches.map((r) => r.size)).toEqual([3, 3, 3, 3]);
  });

  it('more steps than batches is a ConfigError', async () => {
    await expect(setup().m.fit(x, y, { batchSize: 3, stepsPerEpoch: 5, verbose: 0 })).rejects.toThrow(/exceeds the 4 batches/);
  });
});

describe('evaluate and predict on a batch source', () => {
  it('evaluate gives the in-memory result', async () => {
    const { m } = setup();
    await m.fit(x, y, { epochs: 1, verbose: 0 });
    expect(await m.evaluate(restarting(batchesOf(3)))).toEqual(await m.evaluate(x, y, { batchSize: 3 }));
  });

  it('predict concatenates every batch', async () => {
    const { m } = setup();
    await m.fit(x, y, { epochs: 1, verbose: 0 });
    const streamed = await m.predict(restarting(batchesOf(4).map((b) => ({ x: b.x }))));
    expect(streamed).toEqual(await m.predict(x));
  });
});
