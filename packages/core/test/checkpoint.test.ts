import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dense, FormatError, randomUniform, sequential, type FitOptions, type Tensor } from '../src/index.js';
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
  m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }), optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 }, loss: 'meanSquaredError' });
  return m;
}

const base: FitOptions = { epochs: 3, batchSize: 4, seed: 2, verbose: 0, validationData: [x, y] };

class Crash extends Error {}

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
    expect((await readdir(dir)).sort()).toEqual(['checkpoint-e3-s0', 'latest.json']);
  });

  it('a finished run resumed does nothing more', async () => {
    const m = freshModel();
    await m.fit(x, y, { ...base, checkpoint: { dir } });
    const again = freshModel();
    const h = await again.fit(x, y, { ...base, resumeFrom: dir });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(again.getWeights()).toEqual(m.getWeights());
  });

  it('refuses a checkpoint of another architecture', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    await expect(freshModel(false).fit(x, y, { ...base, resumeFrom: dir })).rejects.toThrow(/another architecture/);
  });

  it('refuses a truncated optimizer state before reading it', async () => {
    await freshModel().fit(x, y, { ...base, epochs: 1, checkpoint: { dir } });
    await truncate(join(dir, 'checkpoint-e1-s0', 'optimizer.bin'), 8);
    const err = await freshModel().fit(x, y, { ...base, resumeFrom: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/optimizer.bin has 8 bytes, expected 16/);
  });

  it('reports a folder without checkpoints', async () => {
    await expect(freshModel().fit(x, y, { ...base, resumeFrom: dir })).rejects.toThrow(/no readable latest.json/);
  });
});
