import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  dense,
  FileError,
  FormatError,
  loadModel,
  randomUniform,
  sequential,
  slice,
  writeCheckpoint,
  type FitOptions,
  type Tensor,
} from '../src/index.js';
import { linearTestBackend } from './fake-backend.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'araboza-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const x = randomUniform([18, 3], { seed: 5, minval: -1, maxval: 1 });
const y = randomUniform([18, 1], { seed: 6 });

function freshModel(useBias = true) {
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1, useBias })], seed: 9 });
  m.compile({
    backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }),
    optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 },
    loss: 'meanSquaredError',
  });
  return m;
}

const base: FitOptions = { epochs: 3, batchSize: 4, seed: 2, verbose: 0, validationData: [x, y] };

class Crash extends Error {}

async function latestName(): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as { checkpoint: string }).checkpoint;
}

describe('checkpoints and exact resume', () => {
  it('a run interrupted mid-epoch and resumed ends with the uninterrupted weights and history', async () => {
    const reference = freshModel();
    const refHistory = await reference.fit(x, y, base);

    // Steps 0..4 of each epoch; checkpoints every 3 steps overall, so the crash at
    // epoch 1, step 3 (global step 9) loses the steps after the last checkpoint.
    let epochNow = 0;
    const crash = await freshModel()
      .fit(x, y, {
        ...base,
        checkpoint: { dir, every: 3 },
        callbacks: {
          onEpochBegin: (e) => void (epochNow = e),
          onBatchEnd: (b) => {
            if (epochNow === 1 && b === 3) throw new Crash();
          },
        },
      })
      .catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(Crash);

    const resumed = freshModel();
    const history = await resumed.fit(x, y, { ...base, resumeFrom: dir });
    const a = reference.getWeights().flatMap((t: Tensor) => Array.from(t.data));
    const b = resumed.getWeights().flatMap((t: Tensor) => Array.from(t.data));
    expect(b).toEqual(a);
    expect(history).toEqual(refHistory);
  });

  it('keeps only the latest checkpoint folder', async () => {
    await freshModel().fit(x, y, { ...base, checkpoint: { dir } });
    const entries = (await readdir(dir)).sort();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^checkpoint-[0-9a-f]{8}-e3-s0$/);
    expect(entries[1]).toBe('latest.json');
  });

  it('a finished run resumed does nothing more', async () => {
    const m = freshModel();
    await m.fit(x, y, { ...base, checkpoint: { dir } });
    const again = freshModel();
    const h = await again.fit(x, y, { ...base, resumeFrom: dir });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(again.getWeights()).toEqual(m.getWeights());
  });

  it('resumes into the same architecture rebuilt by loadModel', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    const saved = join(dir, 'copy');
    await freshModel().save(saved);
    const rebuilt = await loadModel(saved);
    rebuilt.compile({
      backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }),
      optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 },
      loss: 'meanSquaredError',
    });
    const h = await rebuilt.fit(x, y, { ...base, epochs: 2, resumeFrom: dir });
    expect(h.epoch).toEqual([0, 1]);
  });

  it('refuses a checkpoint of another architecture', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    await expect(freshModel(false).fit(x, y, { ...base, resumeFrom: dir })).rejects.toThrow(/another architecture/);
  });

  it('refuses a truncated optimizer state before reading it', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    await truncate(join(dir, await latestName(), 'optimizer.bin'), 8);
    const err = await freshModel()
      .fit(x, y, { ...base, resumeFrom: dir })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/optimizer.bin has 8 bytes, expected 16/);
  });

  it('reports a folder without checkpoints', async () => {
    await expect(freshModel().fit(x, y, { ...base, resumeFrom: dir })).rejects.toThrow(/no readable latest.json/);
  });
});

describe('checkpoints delete only their own run (issue 16, item 3)', () => {
  it("keeps a user's checkpoint-notes.txt and another run's checkpoints in the same folder", async () => {
    await writeFile(join(dir, 'checkpoint-notes.txt'), 'mine');
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    const first = await latestName();
    await freshModel().fit(x, y, { ...base, epochs: 2, checkpoint: { dir } });
    const second = await latestName();
    const entries = await readdir(dir);
    expect(entries).toContain('checkpoint-notes.txt');
    expect(entries).toContain(first);
    expect(entries).toContain(second);
    expect(first.split('-')[1]).not.toBe(second.split('-')[1]);
    expect(await readFile(join(dir, 'checkpoint-notes.txt'), 'utf8')).toBe('mine');
  });

  it('a resumed run keeps the run id and removes the checkpoint it resumed from', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    const first = await latestName();
    await freshModel().fit(x, y, { ...base, epochs: 2, checkpoint: { dir }, resumeFrom: dir });
    const second = await latestName();
    expect(second.split('-')[1]).toBe(first.split('-')[1]);
    expect((await readdir(dir)).sort()).toEqual([second, 'latest.json']);
  });
});

describe('checkpoints never store non-finite values (issue 16, item 5)', () => {
  it('writeCheckpoint refuses NaN weights and leaves the previous checkpoint the latest', async () => {
    const m = freshModel();
    await m.fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    const good = await latestName();
    const w = m.getWeights();
    w[0].data[1] = Number.NaN;
    m.setWeights(w);
    const state = await m.getOptimizerState();
    const run = { id: 'abc', batchSize: 4, samples: 18, shuffle: true, seed: 2 };
    const position = { epoch: 1, step: 0, lossSum: 0, rngState: [1, 2, 3, 4, Number.NaN], history: { epoch: [0], history: { loss: [1], valLoss: [] } } };
    const err = await writeCheckpoint(dir, m, m.optimizer!, state, position, 'e1-s0', run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/weight 0 holds NaN at flat index 1/);
    expect(await latestName()).toBe(good);
    expect((await readdir(dir)).sort()).toEqual([good, 'latest.json']);
  });
});

describe('resume refuses different fit settings and malformed positions (issue 16, item 7)', () => {
  for (const [option, value] of [
    ['batchSize', 3],
    ['seed', 7],
    ['shuffle', false],
  ] as const) {
    it(`refuses a resume with another ${option}`, async () => {
      await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
      const err = await freshModel()
        .fit(x, y, { ...base, [option]: value, resumeFrom: dir })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(new RegExp(`checkpoint's run used ${option} .*this fit uses ${option} ${value}`));
    });
  }

  it('refuses a resume with another number of samples', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    const err = await freshModel()
      .fit(slice(x, 0, 16), slice(y, 0, 16), { ...base, resumeFrom: dir })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/samples 18.*samples 16/);
  });

  for (const [field, value, message] of [
    ['history', { epoch: [0, 5], history: { loss: [1, 2], valLoss: [] } }, /history must list epochs 0 to 0/],
    ['history', { epoch: [0], history: { loss: ['x'], valLoss: [] } }, /history.loss must hold 1 finite numbers/],
    ['history', { epoch: [0], history: { loss: [1], valLoss: [1, 2, 3] } }, /history.valLoss/],
    ['lossSum', 'NaN', /lossSum must be a finite number/],
    ['rngState', [0, 0, 0, 0, null], /rngState must be four 32-bit words, not all zero/],
    ['rngState', [1, 2, 3, 2 ** 40, null], /rngState must be four 32-bit words/],
    ['run', { id: '../x', batchSize: 4, samples: 18, shuffle: true, seed: 2 }, /run must be \{id, batchSize/],
    ['slots', ['m', 'v'], /slots must be \["velocity"\] for this optimizer/],
  ] as const) {
    it(`refuses a checkpoint.json whose ${field} is ${JSON.stringify(value)} before training`, async () => {
      await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
      const path = join(dir, await latestName(), 'checkpoint.json');
      const json = JSON.parse(await readFile(path, 'utf8'));
      json[field] = value;
      await writeFile(path, JSON.stringify(json));
      let steps = 0;
      const err = await freshModel()
        .fit(x, y, { ...base, resumeFrom: dir, callbacks: { onBatchEnd: () => void steps++ } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(message);
      expect(steps).toBe(0);
    });
  }
});

describe('one training call at a time (issue 16, item 6)', () => {
  it('a second fit while one runs is a ConfigError and the first fit runs every step', async () => {
    const m = freshModel();
    const first = m.fit(x, y, base);
    const err = await m.fit(x, y, base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit called while fit is running on model sequential/);
    await first;
    expect((await m.getOptimizerState()).step).toBe(15);
  });

  for (const call of ['compile', 'dispose', 'setWeights', 'setOptimizerState', 'trainOnBatch', 'fit'] as const) {
    it(`${call} in a fit callback is a ConfigError and the fit's steps are kept`, async () => {
      const m = freshModel();
      let caught: unknown = null;
      const err = await m
        .fit(x, y, {
          ...base,
          callbacks: {
            onBatchEnd: async (b) => {
              if (b !== 2) return;
              try {
                if (call === 'compile') m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }) });
                else if (call === 'dispose') m.dispose();
                else if (call === 'setWeights') m.setWeights(m.getWeights());
                else if (call === 'setOptimizerState') await m.setOptimizerState(await m.getOptimizerState());
                else if (call === 'trainOnBatch') await m.trainOnBatch(x, y);
                else await m.fit(x, y, base);
              } catch (e) {
                caught = e;
                throw e;
              }
            },
          },
        })
        .catch((e: unknown) => e);
      expect(caught).toBeInstanceOf(ConfigError);
      expect(err).toBe(caught);
      expect((caught as Error).message).toMatch(new RegExp(`${call} called while fit is running`));
      // The three steps taken are on the host and in the optimizer state.
      expect((await m.getOptimizerState()).step).toBe(3);
      expect(m.getWeights()).not.toEqual(freshModel().getWeights());
    });
  }
});

describe('resumeFrom a hostile checkpoint (issue 16, item 10)', () => {
  it('a checkpoint whose model.json declares dense units 2^28 is a FormatError before anything is allocated', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    const path = join(dir, await latestName(), 'model.json');
    const json = JSON.parse(await readFile(path, 'utf8'));
    json.layers[0].config.units = 2 ** 28;
    json.weights[0].shape = [3, 2 ** 28];
    json.weights[1].shape = [2 ** 28];
    json.weights[1].offset = 12 * 2 ** 28;
    json.weightsBytes = 16 * 2 ** 28;
    delete json.weightsSha256;
    await writeFile(path, JSON.stringify(json));
    const started = performance.now();
    const err = await freshModel()
      .fit(x, y, { ...base, resumeFrom: dir })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/weights.bin has 16 bytes, expected 4294967296/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('a checkpoint folder that cannot be one fails before training (issue 16, item 2)', () => {
  it('checkpoint.dir naming an existing file is a FileError before the first step, and the file is untouched', async () => {
    const file = join(dir, 'notes');
    await writeFile(file, 'keep');
    let steps = 0;
    const err = await freshModel()
      .fit(x, y, { ...base, checkpoint: { dir: file }, callbacks: { onBatchEnd: () => void steps++ } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as Error).message).toMatch(/fit checkpoint: cannot use .*notes as a folder/);
    expect(steps).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('keep');
  });
});
