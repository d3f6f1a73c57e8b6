import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ContenderProcess, torchUnavailableReason } from '../src/contender-process.js';

const builtWorker = fileURLToPath(new URL('../dist/worker.js', import.meta.url));
const setup = { cmd: 'setup', threads: 1, batchSize: 64, seed: 0, training: true } as const;

describe('araboza worker (onnxruntime-cpu)', () => {
  it('sets up the 3,369-parameter model and times training steps and an inference pass', async () => {
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
});
