import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BackendError, ConfigError, conv2d, dense, NonFiniteLossError, sequential, ShapeError, tensor } from '../src/index.js';
import { linearProblem as problem, linearSetup as setup, linearTestBackend } from './fake-backend.js';

const silent = { verbose: 0 as const };

describe('fit', () => {
  it('batches the data with a smaller last batch', async () => {
    const { m, recording } = setup();
    const { x, y } = problem(10);
    await m.fit(x, y, { batchSize: 4, epochs: 1, ...silent });
    expect(recording.batches.map((b) => b.size)).toEqual([4, 4, 2]);
  });

  it('learns a linear map and returns the loss history', async () => {
    const { m } = setup();
    const { x, y } = problem(64);
    const h = await m.fit(x, y, { batchSize: 8, epochs: 30, validationData: [x, y], ...silent });
    expect(h.epoch).toHaveLength(30);
    expect(h.history.loss[29]).toBeLessThan(h.history.loss[0] / 100);
    expect(h.history.valLoss).toHaveLength(30);
    expect(m.getWeights()[0].data[0]).toBeCloseTo(2, 1);
  });

  it('shuffles with its seed: same seed same order, other seed other order', async () => {
    const { x, y } = problem(32);
    const runs = [1, 1, 2].map(async (seed) => {
      const { m, recording } = setup();
      await m.fit(x, y, { batchSize: 4, seed, ...silent });
      return recording.batches.map((b) => b.first);
    });
    const [a, b, c] = await Promise.all(runs);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('keeps the sample order without shuffle', async () => {
    const { m, recording } = setup();
    const { x, y } = problem(8);
    await m.fit(x, y, { batchSize: 4, shuffle: false, ...silent });
    expect(recording.batches.map((b) => b.first)).toEqual([x.data[0], x.data[12]]);
  });

  it('stops on a NaN loss naming epoch and step, keeping the last finite weights', async () => {
    const { m } = setup(new Map([[5, Number.NaN]]));
    const { x, y } = problem(16);
    await m.fit(x, y, { batchSize: 4, epochs: 1, ...silent });
    const afterEpoch1 = m.getWeights();
    const err = await m.fit(x, y, { batchSize: 4, epochs: 2, ...silent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/loss became NaN at epoch 1, step 2/);
    expect(m.getWeights()).not.toEqual(afterEpoch1);
    const w = m.getWeights().flatMap((t) => Array.from(t.data));
    expect(w.every(Number.isFinite)).toBe(true);
  });

  it('calls callbacks in order', async () => {
    const { m } = setup();
    const { x, y } = problem(8);
    const events: string[] = [];
    await m.fit(x, y, {
      batchSize: 4,
      epochs: 2,
      ...silent,
      callbacks: {
        onTrainBegin: () => void events.push('begin'),
        onEpochBegin: (e) => void events.push(`e${e}`),
        onBatchEnd: (b) => void events.push(`b${b}`),
        onEpochEnd: (e, logs) => void events.push(`end${e}:${Number.isFinite(logs.loss)}`),
        onTrainEnd: () => void events.push('done'),
      },
    });
    expect(events).toEqual(['begin', 'e0', 'b0', 'b1', 'end0:true', 'e1', 'b0', 'b1', 'end1:true', 'done']);
  });

  it('prints one line per epoch when not on a terminal', async () => {
    const { m } = setup();
    const { x, y } = problem(8);
    let text = '';
    const output = new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) });
    await m.fit(x, y, { batchSize: 4, epochs: 2, output, verbose: 1 });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('Epoch 1/2');
    expect(lines[1]).toMatch(/^2\/2 - [\d.]+s \d+ms\/step - loss: \d+\.\d{4}$/);
  });

  it('shows the steps run on the line of an epoch cut by stopTraining', async () => {
    const { m } = setup();
    const { x, y } = problem(8);
    let text = '';
    const output = new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) });
    await m.fit(x, y, { batchSize: 2, output, verbose: 2, callbacks: { onBatchEnd: () => void (m.stopTraining = true) } });
    expect(text.trim().split('\n')[1]).toMatch(/^1\/4 - /);
  });

  it('rejects NaN in the data before training', async () => {
    const { m, recording } = setup();
    const { x, y } = problem(4);
    x.data[5] = Number.NaN;
    await expect(m.fit(x, y, silent)).rejects.toThrow(/fit x holds a non-finite value \(NaN\) at flat index 5 of \[4, 3\]/);
    expect(recording.batches).toHaveLength(0);
  });

  it('rejects mismatched shapes and sample counts', async () => {
    const { m } = setup();
    const { x, y } = problem(4);
    await expect(m.fit(x, tensor(new Float32Array(8), [4, 2]), silent)).rejects.toThrow('sequential: fit y must have shape (None, 1), got [4, 2]');
    await expect(m.fit(x, tensor(new Float32Array(3), [3, 1]), silent)).rejects.toThrow(/fit x has 4 samples but y has 3/);
    await expect(m.fit(x, y, { epochs: 0, ...silent })).rejects.toThrow(ConfigError);
    await expect(m.predict(tensor(new Float32Array(4), [2, 2]))).rejects.toThrow(ShapeError);
  });

  it('needs an optimizer and a loss to train', async () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })] });
    m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }) });
    const { x, y } = problem(4);
    await expect(m.fit(x, y, silent)).rejects.toThrow(/training needs compile\(\{optimizer, loss\}\)/);
  });
});

describe('compile, predict and evaluate', () => {
  it('refuses a backend lacking a layer kind, naming the layer', () => {
    const m = sequential({ inputShape: [4, 4, 1], layers: [conv2d({ filters: 1, kernelSize: 3 })] });
    expect(() => m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }) })).toThrow(BackendError);
    expect(() => m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }) })).toThrow(/does not implement conv2d \(conv2d\)/);
  });

  it('rejects an unknown optimizer or loss', () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })] });
    const backend = linearTestBackend({ batches: [], setWeightsCalls: 0 });
    expect(() => m.compile({ backend, optimizer: 'lbfgs' as never })).toThrow(/optimizer must be one of sgd, adam, adadelta, rmsprop, adagrad, adamax, adamw/);
    expect(() => m.compile({ backend, loss: 'squaredHinge' })).toThrow(/loss must be one of/);
    expect(() => m.compile({ backend, optimizer: { kind: 'adam', beta1: 1.5 } })).toThrow(/beta1 must be in \[0, 1\)/);
  });

  it('pushes host weights to the backend before predicting', async () => {
    const { m, recording } = setup();
    m.setWeights([tensor([1, 0, 0], [3, 1]), tensor([0.5], [1])]);
    const out = await m.predict(tensor([2, 9, 9, -1, 9, 9], [2, 3]));
    expect(Array.from(out.data)).toEqual([2.5, -0.5]);
    expect(recording.setWeightsCalls).toBe(1);
  });

  it('evaluate weights batch losses by batch size', async () => {
    const { m } = setup();
    m.setWeights([tensor([0, 0, 0], [3, 1]), tensor([0], [1])]);
    const x = tensor(new Float32Array(9), [3, 3]);
    const y = tensor([1, 2, 3], [3, 1]);
    expect((await m.evaluate(x, y, { batchSize: 2 })).loss).toBeCloseTo((1 + 4 + 9) / 3, 6);
  });
});
