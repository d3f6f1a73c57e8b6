import { crc32 } from 'node:zlib';
import { mnistAutoencoder, trainingSpec, type Tensor } from '@araboza/core';
import { loadMnist } from '@araboza/datasets';
import { assertClose, check, type Tolerance } from '../assert.js';
import { loadAutoencoderTrajectory, type AutoencoderTrajectory, type TrajectoryRun } from '../training-golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** Time limit of one trajectory (10 steps of batch 8; tfjs's pure-JS engine takes seconds a step). */
const TRAJECTORY_TIMEOUT_MS = 300_000;

/**
 * The loss of step i (0-based) against PyTorch's: `(TRAJECTORY_LOSS_RTOL +
 * TRAJECTORY_LOSS_RTOL_PER_STEP·i)·|e|`, float32 rounding growing with each
 * step as in the agreement tests.
 */
export const TRAJECTORY_LOSS_RTOL = 1e-5;
/** See {@link TRAJECTORY_LOSS_RTOL}. */
export const TRAJECTORY_LOSS_RTOL_PER_STEP = 1e-4;
/** The update `w₀ − w` after the last step, per weight: `rtol·(|e| + max|E|)`. */
export const TRAJECTORY_UPDATE_TOLERANCE: Tolerance = { rtol: 1e-2 };

function batch(images: Tensor, start: number, size: number): Tensor {
  const per = images.data.length / images.shape[0];
  return { shape: [size, ...images.shape.slice(1)], data: images.data.slice(start * per, (start + size) * per) };
}

function difference(a: Tensor, b: Tensor): Tensor {
  return { shape: [...a.shape], data: a.data.map((v, i) => v - b.data[i]) };
}

/** The digits the fixture was made from, checked by the CRC-32 of their bytes (pixel = round(255·value)). */
function trajectoryDigits(t: AutoencoderTrajectory): Tensor {
  const { images } = loadMnist({ split: 'train', limit: t.digits.count });
  const bytes = Uint8Array.from(images.data, (v) => Math.round(v * 255));
  const sum = crc32(bytes);
  check(
    sum === t.digits.crc32,
    () => `the first ${t.digits.count} MNIST training digits have CRC-32 ${sum}, the trajectory fixture was made from ${t.digits.crc32}`,
  );
  return images;
}

/**
 * The autoencoder from the fixture's weights, trained step by step on the
 * fixture's batches with one optimizer: each step's loss, and the weights
 * after the last, equal PyTorch's.
 */
async function autoencoderTrajectory(ctx: CaseContext, t: AutoencoderTrajectory, run: TrajectoryRun): Promise<void> {
  const model = mnistAutoencoder({ seed: 0 });
  const missing = model.graph.nodes.filter((n) => !ctx.backend.kinds.includes(n.kind)).map((n) => n.kind);
  if (missing.length > 0) ctx.skip(`unsupported: the autoencoder needs ${[...new Set(missing)].join(', ')}, which ${ctx.backend.name} does not implement`);
  const images = trajectoryDigits(t);
  const m = await ctx.backend.compile(model.graph, trainingSpec(model.graph, 'binaryCrossentropy', run.optimizer));
  try {
    await m.setWeights(t.initialWeights);
    const losses: number[] = [];
    for (let i = 0; i < run.losses.length; i++) {
      const x = batch(images, i * t.digits.batchSize, t.digits.batchSize);
      const { loss } = await m.trainStep([x], [x]);
      losses.push(loss);
      const expected = run.losses[i];
      const allowed = (TRAJECTORY_LOSS_RTOL + TRAJECTORY_LOSS_RTOL_PER_STEP * i) * Math.abs(expected);
      check(
        Number.isFinite(loss) && Math.abs(loss - expected) <= allowed,
        () =>
          `${run.id}: loss of step ${i} is ${loss}, PyTorch's is ${expected} (allowed ±${allowed.toPrecision(2)}); losses so far ${losses.map((l) => l.toFixed(6)).join(', ')}`,
      );
    }
    ctx.log(`${run.id}: loss ${losses[0].toFixed(5)} → ${losses[losses.length - 1].toFixed(5)} over ${losses.length} steps, as PyTorch`);
    const after = await m.getWeights();
    check(after.length === run.weights.length, () => `${run.id}: expected ${run.weights.length} weights, got ${after.length}`);
    run.weights.forEach((w, k) =>
      assertClose(
        difference(t.initialWeights[k], after[k]),
        difference(t.initialWeights[k], w),
        TRAJECTORY_UPDATE_TOLERANCE,
        `${run.id}: ${w.name} update after ${run.losses.length} steps`,
      ),
    );
  } finally {
    m.dispose();
  }
}

/** `training/autoencoder-trajectory/<optimizer>`: the first steps of the MNIST autoencoder against PyTorch, per optimizer. */
export function trajectoryCases(): ConformanceCase[] {
  const t = loadAutoencoderTrajectory();
  return t.runs.map((run) => ({
    id: `training/autoencoder-trajectory/${run.id}`,
    tags: ['training', 'trajectory'],
    timeoutMs: TRAJECTORY_TIMEOUT_MS,
    run: (ctx: CaseContext) => autoencoderTrajectory(ctx, t, run),
  }));
}
