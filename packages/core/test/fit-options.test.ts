import { describe, expect, it } from 'vitest';
import { ConfigError, slice, type FitOptions } from '../src/index.js';
import { linearProblem as problem, linearSetup as setup } from './fake-backend.js';

/** Runs fit with options a TypeScript caller could not write, and returns its rejection. */
async function fitError(options: unknown): Promise<{ err: unknown; steps: number }> {
  const { m, recording } = setup();
  const { x, y } = problem(8);
  const err = await m.fit(x, y, { verbose: 0, ...(options as FitOptions) }).catch((e: unknown) => e);
  return { err, steps: recording.batches.length };
}

describe('fit option checks', () => {
  it('refuses an unknown option, naming it, before any step', async () => {
    const { err, steps } = await fitError({ epoch: 50 });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit has no option 'epoch'/);
    expect(steps).toBe(0);
  });

  it('refuses a wrongly typed option, naming it with the value', async () => {
    const { err } = await fitError({ shuffle: 'yes' });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('sequential: fit shuffle must be true or false, got "yes"');
  });

  it('refuses options that are not an object', async () => {
    const { m } = setup();
    const { x, y } = problem(8);
    await expect(m.fit(x, y, 5 as never)).rejects.toThrow(/fit options must be an object, got 5/);
  });

  it('refuses a function as callbacks', async () => {
    const { err } = await fitError({ callbacks: () => undefined });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit callbacks must be a callback object .* got a function/);
  });

  it('refuses a callbacks array holding a non-object, naming its index', async () => {
    const { err } = await fitError({ callbacks: [{ onEpochEnd: () => undefined }, 'log'] });
    expect((err as Error).message).toMatch(/fit callbacks\[1\] must be a callback object/);
  });

  it('refuses a hook that is not a function', async () => {
    const { err } = await fitError({ callbacks: { onEpochEnd: 3 } });
    expect((err as Error).message).toMatch(/fit callbacks.onEpochEnd must be a function, got 3/);
  });

  it('refuses a misspelt hook in a plain callback object', async () => {
    const { err } = await fitError({ callbacks: { onEpochEnds: () => undefined } });
    expect((err as Error).message).toMatch(/fit callbacks has unknown hook 'onEpochEnds'/);
  });

  it('refuses a non-stream output', async () => {
    const { err } = await fitError({ output: 'stdout' });
    expect((err as Error).message).toMatch(/fit output must be a writable stream, got "stdout"/);
  });

  it('describes a value it cannot print as JSON by its type', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const { err } = await fitError({ output: circular });
    expect((err as Error).message).toMatch(/fit output must be a writable stream, got \[object Object\]$/);
  });

  it('refuses validationData that is not [x, y]', async () => {
    const { x } = problem(8);
    const { err } = await fitError({ validationData: [x] });
    expect((err as Error).message).toMatch(/fit validationData must be \[x, y\], got \[\{"shape":\[8,3\]/);
  });

  it('refuses unknown keys in checkpoint', async () => {
    const { err } = await fitError({ checkpoint: { dir: '/tmp/x', evry: 2 } });
    expect((err as Error).message).toMatch(/checkpoint must be \{dir, every/);
  });
});

describe('validationSplit', () => {
  it('trains on the first samples only and validates on the last fraction, before shuffling', async () => {
    const { m, recording } = setup();
    const { x, y } = problem(10);
    await m.fit(x, y, { validationSplit: 0.3, batchSize: 1, shuffle: true, verbose: 0 });
    const firstOfTraining = new Set(Array.from({ length: 7 }, (_, i) => x.data[i * 3]));
    expect(recording.batches).toHaveLength(7);
    expect(recording.batches.every((b) => firstOfTraining.has(b.first))).toBe(true);
  });

  it('reports the loss on the held-out samples as valLoss', async () => {
    const { m } = setup();
    const { x, y } = problem(10);
    const h = await m.fit(x, y, { validationSplit: 0.25, batchSize: 4, verbose: 0 });
    // floor(10 · 0.75) = 7: samples 7, 8 and 9 are held out.
    expect(h.history.valLoss[0]).toBeCloseTo((await m.evaluate(slice(x, 7, 3), slice(y, 7, 3))).loss, 6);
  });

  it('refuses validationSplit together with validationData', async () => {
    const { x, y } = problem(8);
    const { err } = await fitError({ validationSplit: 0.2, validationData: [x, y] });
    expect((err as Error).message).toMatch(/validationData or validationSplit, not both/);
  });

  it('refuses a fraction outside [0, 1)', async () => {
    const { err } = await fitError({ validationSplit: 1 });
    expect((err as Error).message).toMatch(/fit validationSplit must be a number ≥ 0 and < 1, got 1/);
  });

  it('refuses a split that leaves no training sample', async () => {
    const { err } = await fitError({ validationSplit: 0.95 });
    expect((err as Error).message).toMatch(/validationSplit 0.95 of 8 samples leaves 0 for training and 8 for validation/);
  });
});

describe('initialEpoch', () => {
  it('runs epochs initialEpoch … epochs − 1 and numbers them so', async () => {
    const { m } = setup();
    const { x, y } = problem(8);
    const seen: number[] = [];
    const h = await m.fit(x, y, { epochs: 5, initialEpoch: 3, verbose: 0, callbacks: { onEpochBegin: (e) => void seen.push(e) } });
    expect(h.epoch).toEqual([3, 4]);
    expect(seen).toEqual([3, 4]);
  });

  it('refuses an initialEpoch not below epochs', async () => {
    const { err } = await fitError({ epochs: 2, initialEpoch: 2 });
    expect((err as Error).message).toMatch(/fit initialEpoch must be an integer from 0 to epochs − 1 \(1\), got 2/);
  });

  it('refuses initialEpoch together with checkpoint', async () => {
    const { err } = await fitError({ epochs: 3, initialEpoch: 1, checkpoint: { dir: '/tmp/never-written' } });
    expect((err as Error).message).toMatch(/initialEpoch cannot be combined with checkpoint or resumeFrom/);
  });
});
