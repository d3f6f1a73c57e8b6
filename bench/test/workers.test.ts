import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnistDataDir } from '@araboza/datasets';
import { describe, expect, it } from 'vitest';
import { ContenderProcess, TORCH_WORKER, torchUnavailableReason } from '../src/contender-process.js';
import type { ContenderId, ModelId } from '../src/protocol.js';

const builtWorker = fileURLToPath(new URL('../dist/worker.js', import.meta.url));
const setup = { cmd: 'setup', model: 'autoencoder', threads: 1, batchSize: 64, seed: 0, training: true } as const;

/** Sets `model` up on contender `id` at batch 16, checks its parameter counts, and one training step's loss is above `minLoss`. */
async function expectOneStep(id: ContenderId, model: ModelId, counts: { params: number; nonTrainableParams: number }, minLoss: number): Promise<void> {
  const proc = ContenderProcess.start(id, '/usr/bin/python3');
  try {
    expect(await proc.request({ ...setup, model, batchSize: 16 })).toMatchObject({ ok: true, ...counts });
    const steps = await proc.request({ cmd: 'trainSteps', reps: 1 });
    expect('loss' in steps && steps.loss).toBeGreaterThan(minLoss);
  } finally {
    await proc.close();
  }
}

describe('araboza worker', () => {
  it('sets up the 3,369-parameter autoencoder on onnxruntime-cpu and times training steps and an inference pass', async () => {
    expect(existsSync(builtWorker), 'build the bench first: pnpm --filter @araboza/bench build').toBe(true);
    const proc = ContenderProcess.start('onnxruntime-cpu', '/usr/bin/python3');
    try {
      const ready = await proc.request(setup);
      expect(ready).toMatchObject({ ok: true, params: 3369, threads: 1 });
      const steps = await proc.request({ cmd: 'trainSteps', reps: 2 });
      expect('ms' in steps && steps.ms).toHaveLength(2);
      expect('loss' in steps && Number.isFinite(steps.loss)).toBe(true);
      const pass = await proc.request({ cmd: 'inference', reps: 1, images: 128 });
      expect('ms' in pass && pass.ms[0]).toBeGreaterThan(0);
    } finally {
      await proc.close();
    }
  }, 120_000);

  it('sets up the U-Net on noisy digits (14,625 parameters) and times a training step', async () => {
    // Binary cross-entropy of a fresh sigmoid output against digits: near ln 2, well above 0.
    await expectOneStep('onnxruntime-cpu', 'unet', { params: 14_625, nonTrainableParams: 0 }, 0.3);
  }, 120_000);

  it('sets up the residual classifier (9,930 parameters, 160 non-trainable) on tfjs-wasm and times a training step', async () => {
    // Categorical cross-entropy of a fresh 10-class softmax: near ln 10.
    await expectOneStep('tfjs-wasm', 'resnet', { params: 9930, nonTrainableParams: 160 }, 1);
  }, 120_000);

  it('answers a request before setup with an error naming it', async () => {
    const proc = ContenderProcess.start('tfjs-cpu', '/usr/bin/python3');
    try {
      await expect(proc.request({ cmd: 'inference', reps: 1 })).rejects.toThrow(/'inference' before 'setup'/);
    } finally {
      await proc.close();
    }
  }, 60_000);
});

const noTorch = torchUnavailableReason('/usr/bin/python3');

describe('PyTorch worker', () => {
  // Skipped only where /usr/bin/python3 cannot import torch (the bench then skips PyTorch too, saying so).
  it.skipIf(noTorch !== null)(
    `sets up the reference model and times steps and inference${noTorch ? ` (skipped: ${noTorch})` : ''}`,
    async () => {
      const proc = ContenderProcess.start('pytorch', '/usr/bin/python3');
      try {
        expect(await proc.request(setup)).toMatchObject({ ok: true, params: 3369, threads: 1 });
        const steps = await proc.request({ cmd: 'trainSteps', reps: 2 });
        expect('ms' in steps && steps.ms).toHaveLength(2);
        const pass = await proc.request({ cmd: 'inference', reps: 1, images: 128 });
        expect('ms' in pass && pass.ms).toHaveLength(1);
      } finally {
        await proc.close();
      }
    },
    120_000,
  );

  it.skipIf(noTorch !== null)(
    'sets up the residual classifier with its 160 moving statistics and times a training step',
    async () => {
      await expectOneStep('pytorch', 'resnet', { params: 9930, nonTrainableParams: 160 }, 1);
    },
    120_000,
  );

  it.skipIf(noTorch !== null)(
    "refuses to set up a model whose parameter count is not araboza's",
    () => {
      // The worker's own setup, with the U-Net's expected count made wrong.
      const script = [
        'import sys, json',
        `sys.path.insert(0, ${JSON.stringify(dirname(TORCH_WORKER))})`,
        'import reference_models, torch_worker',
        'reference_models.UNET_PARAMS = 14624',
        'torch_worker.Worker().setup({"model": "unet", "threads": 1, "batchSize": 16, "seed": 0})',
      ].join('\n');
      const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, MNIST_DIR: mnistDataDir() }, timeout: 120_000 });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/PyTorch reference unet has 14625 parameters \(0 non-trainable\), expected 14624/);
    },
    120_000,
  );
});
