import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, csvLogger, earlyStopping, FileError, terminateOnNaN, type BatchLogs, type FitParams } from '../src/index.js';
import { linearProblem as problem, linearSetup as setup } from './fake-backend.js';

const { x, y } = problem(8);
const silent = { verbose: 0 as const, batchSize: 4 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'araboza-callbacks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('callback hooks', () => {
  it('calls every hook in Keras order, the test hooks around the validation pass', async () => {
    const { m } = setup();
    const events: string[] = [];
    await m.fit(x, y, {
      ...silent,
      validationData: [x, y],
      validationBatchSize: 8,
      callbacks: {
        onTrainBegin: () => void events.push('trainBegin'),
        onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
        onBatchBegin: (b) => void events.push(`batchBegin ${b}`),
        onBatchEnd: (b) => void events.push(`batchEnd ${b}`),
        onTestBegin: () => void events.push('testBegin'),
        onTestBatchBegin: (b) => void events.push(`testBatchBegin ${b}`),
        onTestBatchEnd: (b) => void events.push(`testBatchEnd ${b}`),
        onTestEnd: () => void events.push('testEnd'),
        onEpochEnd: (e) => void events.push(`epochEnd ${e}`),
        onTrainEnd: () => void events.push('trainEnd'),
      },
    });
    expect(events).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batchBegin 0',
      'batchEnd 0',
      'batchBegin 1',
      'batchEnd 1',
      'testBegin',
      'testBatchBegin 0',
      'testBatchEnd 0',
      'testEnd',
      'epochEnd 0',
      'trainEnd',
    ]);
  });

  it('gives onBatchEnd the batch index, size and loss', async () => {
    const { m } = setup();
    const logs: BatchLogs[] = [];
    await m.fit(x, y, { verbose: 0, batchSize: 5, callbacks: { onBatchEnd: (_b, l) => void logs.push(l) } });
    expect(logs.map((l) => [l.batch, l.size])).toEqual([
      [0, 5],
      [1, 3],
    ]);
    expect(logs.every((l) => Number.isFinite(l.loss))).toBe(true);
  });

  it('gives the validation loss of the test pass to onTestEnd, equal to valLoss', async () => {
    const { m } = setup();
    let test = Number.NaN;
    const h = await m.fit(x, y, { ...silent, validationData: [x, y], callbacks: { onTestEnd: (l) => void (test = l.loss) } });
    expect(test).toBe(h.history.valLoss[0]);
  });

  it('tells setParams the run parameters and the logged metrics', async () => {
    const { m } = setup();
    let params: FitParams | null = null;
    await m.fit(x, y, { ...silent, epochs: 2, validationData: [x, y], callbacks: { setParams: (p) => void (params = p) } });
    expect(params).toEqual({ epochs: 2, initialEpoch: 0, steps: 2, samples: 8, batchSize: 4, verbose: 0, metrics: ['loss', 'valLoss'] });
  });

  it('gives onTrainEnd the history and the last epoch logs', async () => {
    const { m } = setup();
    let last: unknown = null;
    const h = await m.fit(x, y, { ...silent, epochs: 2, callbacks: { onTrainEnd: (history, logs) => void (last = { history, logs }) } });
    expect(last).toEqual({ history: h, logs: { loss: h.history.loss[1] } });
  });
});

describe('stopTraining', () => {
  it('set in onBatchEnd ends training after that batch', async () => {
    const { m, recording } = setup();
    const h = await m.fit(x, y, {
      verbose: 0,
      batchSize: 2,
      epochs: 3,
      callbacks: {
        onBatchEnd: (b) => {
          if (b === 1) m.stopTraining = true;
        },
      },
    });
    expect(recording.batches).toHaveLength(2);
    expect(h.epoch).toEqual([0]);
  });

  it('ends the cut epoch with the mean loss of the batches run', async () => {
    const { m } = setup();
    const losses: number[] = [];
    const h = await m.fit(x, y, {
      verbose: 0,
      batchSize: 2,
      callbacks: {
        onBatchEnd: (b, l) => {
          losses.push(l.loss);
          if (b === 1) m.stopTraining = true;
        },
      },
    });
    expect(h.history.loss[0]).toBeCloseTo((losses[0] + losses[1]) / 2, 6);
  });

  it('set in onEpochEnd ends training after that epoch', async () => {
    const { m } = setup();
    const h = await m.fit(x, y, { ...silent, epochs: 5, callbacks: { onEpochEnd: (e) => void (e === 1 && (m.stopTraining = true)) } });
    expect(h.epoch).toEqual([0, 1]);
  });

  it('is reset when fit starts', async () => {
    const { m } = setup();
    m.stopTraining = true;
    const h = await m.fit(x, y, { ...silent, epochs: 2 });
    expect(h.epoch).toEqual([0, 1]);
  });
});

describe('earlyStopping', () => {
  it('stops once the monitor has not improved for patience epochs', async () => {
    const { m } = setup();
    // The loss falls every epoch, so in 'max' mode only epoch 0 is an improvement.
    const h = await m.fit(x, y, { ...silent, epochs: 10, callbacks: earlyStopping({ monitor: 'loss', mode: 'max', patience: 2 }) });
    expect(h.epoch).toEqual([0, 1, 2]);
  });

  it('keeps training while the monitor improves', async () => {
    const { m } = setup();
    const h = await m.fit(x, y, { ...silent, epochs: 6, callbacks: earlyStopping({ monitor: 'loss', patience: 0 }) });
    expect(h.epoch).toHaveLength(6);
  });

  it('counts an improvement smaller than minDelta as none', async () => {
    const { m } = setup();
    const h = await m.fit(x, y, { ...silent, epochs: 10, callbacks: earlyStopping({ monitor: 'loss', minDelta: 100, patience: 1 }) });
    expect(h.epoch).toEqual([0, 1]);
  });

  it('counts epochs that do not beat the baseline as without improvement', async () => {
    const { m } = setup();
    const h = await m.fit(x, y, { ...silent, epochs: 10, callbacks: earlyStopping({ monitor: 'loss', baseline: 0, patience: 3 }) });
    expect(h.epoch).toEqual([0, 1, 2]);
  });

  it('monitors valLoss by default', () => {
    expect(earlyStopping().monitor).toBe('valLoss');
  });

  it("takes Keras's val_loss for valLoss", () => {
    expect(earlyStopping({ monitor: 'val_loss' }).monitor).toBe('valLoss');
  });

  it('restores the weights of the best epoch with restoreBestWeights', async () => {
    const reference = setup().m;
    await reference.fit(x, y, { ...silent, epochs: 1, shuffle: false });
    const { m } = setup();
    await m.fit(x, y, {
      ...silent,
      epochs: 10,
      shuffle: false,
      callbacks: earlyStopping({ monitor: 'loss', mode: 'max', patience: 2, restoreBestWeights: true }),
    });
    expect(m.getWeights()).toEqual(reference.getWeights());
  });

  it('restores weights the backend then predicts with', async () => {
    const reference = setup().m;
    await reference.fit(x, y, { ...silent, epochs: 1, shuffle: false });
    const { m } = setup();
    await m.fit(x, y, {
      ...silent,
      epochs: 4,
      shuffle: false,
      callbacks: earlyStopping({ monitor: 'loss', mode: 'max', patience: 5, restoreBestWeights: true }),
    });
    expect(await m.predict(x)).toEqual(await reference.predict(x));
  });

  it('refuses, before any step, a monitor the run does not log', async () => {
    const { m, recording } = setup();
    const err = await m.fit(x, y, { ...silent, callbacks: earlyStopping() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe("earlyStopping: monitor 'valLoss' is not logged by this fit (logged: loss)");
    expect(recording.batches).toHaveLength(0);
  });

  it('refuses an unknown option', () => {
    expect(() => earlyStopping({ patients: 3 } as never)).toThrow(/earlyStopping: unknown option 'patients'/);
  });

  it('refuses a negative patience', () => {
    expect(() => earlyStopping({ patience: -1 })).toThrow(/earlyStopping: patience must be an integer ≥ 0, got -1/);
  });

  it('refuses an unknown mode', () => {
    expect(() => earlyStopping({ mode: 'lower' as never })).toThrow(/earlyStopping: mode must be 'auto', 'min' or 'max', got "lower"/);
  });

  it("takes 'max' in auto mode for an accuracy monitor", () => {
    expect(earlyStopping({ monitor: 'val_accuracy' }).mode).toBe('max');
  });
});

describe('terminateOnNaN', () => {
  it('makes fit resolve at a non-finite loss with the finished epochs', async () => {
    const { m } = setup(new Map([[3, Number.NaN]]));
    const h = await m.fit(x, y, { ...silent, epochs: 4, callbacks: terminateOnNaN() });
    expect(h.epoch).toEqual([0]);
  });

  it('keeps the finite weights from before the bad step', async () => {
    const { m } = setup(new Map([[3, Number.NaN]]));
    await m.fit(x, y, { ...silent, epochs: 4, callbacks: terminateOnNaN() });
    expect(
      m
        .getWeights()
        .flatMap((t) => Array.from(t.data))
        .every(Number.isFinite),
    ).toBe(true);
  });

  it('lets onBatchEnd see the bad loss', async () => {
    const { m } = setup(new Map([[1, Number.POSITIVE_INFINITY]]));
    const losses: number[] = [];
    await m.fit(x, y, { ...silent, callbacks: [terminateOnNaN(), { onBatchEnd: (_b, l) => void losses.push(l.loss) }] });
    expect(losses[1]).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('csvLogger', () => {
  it('writes a header (epoch, then the log keys sorted) and one row per epoch', async () => {
    const { m } = setup();
    const path = join(dir, 'log.csv');
    const h = await m.fit(x, y, { ...silent, epochs: 2, validationData: [x, y], callbacks: csvLogger(path) });
    expect(await readFile(path, 'utf8')).toBe(
      `epoch,loss,valLoss\n0,${h.history.loss[0]},${h.history.valLoss[0]}\n1,${h.history.loss[1]},${h.history.valLoss[1]}\n`,
    );
  });

  it('replaces an existing file without append', async () => {
    const path = join(dir, 'log.csv');
    await writeFile(path, 'old\n');
    await setup().m.fit(x, y, { ...silent, callbacks: csvLogger(path) });
    expect((await readFile(path, 'utf8')).split('\n')[0]).toBe('epoch,loss');
  });

  it('keeps the earlier rows and writes no second header with append', async () => {
    const path = join(dir, 'log.csv');
    await setup().m.fit(x, y, { ...silent, callbacks: csvLogger(path) });
    await setup().m.fit(x, y, { ...silent, callbacks: csvLogger(path, { append: true }) });
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => l.split(',')[0])).toEqual(['epoch', '0', '0']);
  });

  it('uses the given separator', async () => {
    const path = join(dir, 'log.tsv');
    await setup().m.fit(x, y, { ...silent, callbacks: csvLogger(path, { separator: '\t' }) });
    expect((await readFile(path, 'utf8')).split('\n')[0]).toBe('epoch\tloss');
  });

  it('refuses a folder at its path before any step, leaving it as it was', async () => {
    const path = join(dir, 'log.csv');
    await mkdir(path);
    const { m, recording } = setup();
    await expect(m.fit(x, y, { ...silent, callbacks: csvLogger(path) })).rejects.toThrow(FileError);
    expect(recording.batches).toHaveLength(0);
  });

  it('refuses a FIFO at its path without blocking on it, leaving it a FIFO', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await expect(setup().m.fit(x, y, { ...silent, callbacks: csvLogger(fifo) })).rejects.toThrow(/it is a FIFO \(named pipe\), not a regular file/);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('leaves an existing file untouched when training fails before the first epoch ends', async () => {
    const path = join(dir, 'log.csv');
    await writeFile(path, 'mine\n');
    const crash = { onBatchEnd: () => Promise.reject(new Error('crash')) };
    await expect(setup().m.fit(x, y, { ...silent, callbacks: [csvLogger(path), crash] })).rejects.toThrow('crash');
    expect(await readFile(path, 'utf8')).toBe('mine\n');
  });

  it('refuses a separator with a line break', () => {
    expect(() => csvLogger('log.csv', { separator: '\n' })).toThrow(/csvLogger: separator must be a non-empty string without quotes or line breaks/);
  });
});
