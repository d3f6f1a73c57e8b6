import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FitOptions } from '@araboza/core';
import { assertIdentical, check } from '../assert.js';
import type { CaseContext, ConformanceCase } from '../types.js';
import { ROLES_TIMEOUT_MS, X, Y, frozenModel, requireKinds } from './roles-checks.js';

/** Thrown by a callback to interrupt `fit`. */
class Interrupt extends Error {}

/**
 * A `fit` interrupted mid-epoch and resumed from its latest checkpoint ends
 * with exactly the weights of the uninterrupted run: the checkpoint keeps the
 * state weights and the trainable weights' optimizer slots.
 */
async function checkpointResume(ctx: CaseContext): Promise<void> {
  requireKinds(ctx, ['dense', 'batchNormalization']);
  const dir = await mkdtemp(join(tmpdir(), 'araboza-roles-'));
  const fresh = () => {
    const m = frozenModel();
    m.compile({ backend: ctx.backend, optimizer: 'adam', loss: 'meanSquaredError' });
    return m;
  };
  try {
    const base: FitOptions = { epochs: 2, batchSize: 4, seed: 1, verbose: 0 };
    const reference = fresh();
    await reference.fit(X, Y, base);
    let epochNow = 0;
    const interrupted = await fresh()
      .fit(X, Y, {
        ...base,
        checkpoint: { dir, every: 1 },
        callbacks: {
          onEpochBegin: (e) => void (epochNow = e),
          onBatchEnd: (b) => {
            if (epochNow === 1 && b === 0) throw new Interrupt();
          },
        },
      })
      .catch((e: unknown) => e);
    check(interrupted instanceof Interrupt, () => `the interrupted fit ended with ${String(interrupted)}`);
    const resumed = fresh();
    await resumed.fit(X, Y, { ...base, resumeFrom: dir });
    const want = reference.getWeights();
    resumed.getWeights().forEach((w, i) => {
      const g = resumed.graph.weights[i];
      assertIdentical(w, want[i], `${g.layer}/${g.spec.name} after the resumed fit vs the uninterrupted one`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The weight-role test that needs a disk (Node only): `roles/checkpoint-resume`,
 * a fit resumed from its checkpoint folder.
 */
export function checkpointCases(): ConformanceCase[] {
  return [{ id: 'roles/checkpoint-resume', tags: ['roles'], timeoutMs: ROLES_TIMEOUT_MS, run: checkpointResume }];
}
