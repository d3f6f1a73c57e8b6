import {
  ConfigError,
  dense,
  loadModel,
  NonFiniteLossError,
  Random,
  randomUniform,
  sequential,
  trainingSpec,
  type CompiledModel,
  type OptimizerLike,
  type Tensor,
} from '@araboza/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from './backends.js';

const rng = new Random(16);
const X = randomUniform([8, 4], { seed: rng, minval: -1, maxval: 1 });
/** Targets far from the initial outputs, so the first gradients are large (|g| ≫ 1). */
const Y = randomUniform([8, 2], { seed: rng, minval: 20, maxval: 30 });

function build() {
  return sequential({ inputShape: [4], layers: [dense({ units: 2 })], seed: 3 });
}

function allFinite(ts: readonly Tensor[]): boolean {
  return ts.every((t) => t.data.every(Number.isFinite));
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
let open: CompiledModel[] = [];
afterEach(() => {
  for (const c of open) c.dispose();
  open = [];
});

/**
 * Optimizers whose update overflows float32 on the first step while the loss
 * is finite: SGD's lr·g (1e38 · |g| > 3.4e38), and momentum that doubles it.
 */
const OVERFLOWING: OptimizerLike[] = [
  { kind: 'sgd', learningRate: 1e38 },
  { kind: 'sgd', learningRate: 1e38, momentum: 0.5 },
];

describe.each(BACKENDS)('a step whose update is not finite is not adopted (issue 16, item 5): %s', (_, makeBackend) => {
  it.each(OVERFLOWING.map((o) => [JSON.stringify(o), o] as const))(
    'trainStep with %s returns NaN and keeps weights, slots and step',
    async (_name, optimizer) => {
      const m = build();
      const c = await makeBackend().compile(m.graph, trainingSpec(m.graph, 'meanSquaredError', optimizer));
      open.push(c);
      await c.setWeights(m.getWeights());
      const before = { weights: await c.getWeights(), state: await c.getOptimizerState() };
      const { loss } = await c.trainStep([X], [Y]);
      expect(loss).toBeNaN();
      expect(await c.getWeights()).toEqual(before.weights);
      expect(await c.getOptimizerState()).toEqual(before.state);
    },
  );

  it('NaN optimizer slots set on the compiled model make the step fail instead of writing NaN weights', async () => {
    const m = build();
    const c = await makeBackend().compile(m.graph, trainingSpec(m.graph, 'meanSquaredError', 'adam'));
    open.push(c);
    await c.setWeights(m.getWeights());
    const state = await c.getOptimizerState();
    const slots = state.slots.map((perWeight) => perWeight.map((t) => ({ shape: t.shape, data: Float32Array.from(t.data) })));
    slots[0][1].data[2] = Number.NaN;
    await c.setOptimizerState({ step: 0, slots });
    expect((await c.trainStep([X], [Y])).loss).toBeNaN();
    expect(await c.getWeights()).toEqual(m.getWeights());
  });

  it('fit with an overflowing learning rate stops with NonFiniteLossError, keeps finite weights and the last good checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-nonfinite-'));
    dirs.push(dir);
    const m = build();
    // A sane first epoch, checkpointed; then the same weights trained with an overflowing rate.
    m.compile({ backend: makeBackend(), optimizer: { kind: 'sgd', learningRate: 1e-3 }, loss: 'meanSquaredError' });
    await m.fit(X, Y, { epochs: 1, batchSize: 4, verbose: 0, checkpoint: { dir } });
    const good = m.getWeights();
    const latest = await readFile(join(dir, 'latest.json'), 'utf8');
    m.compile({ backend: makeBackend(), optimizer: { kind: 'sgd', learningRate: 1e38 }, loss: 'meanSquaredError' });
    const err = await m.fit(X, Y, { epochs: 1, batchSize: 4, verbose: 0, checkpoint: { dir, every: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as NonFiniteLossError).step).toBe(0);
    expect(allFinite(m.getWeights())).toBe(true);
    expect(m.getWeights()).toEqual(good);
    expect(await readFile(join(dir, 'latest.json'), 'utf8')).toBe(latest);
    const saved = await loadModel(join(dir, (JSON.parse(latest) as { checkpoint: string }).checkpoint));
    expect(saved.getWeights()).toEqual(good);
    m.dispose();
  });
});

describe.each(BACKENDS)('one training call at a time (issue 16, item 6): %s', (_, makeBackend) => {
  it('two concurrent fits: the second is a ConfigError, the first takes all 32 steps', async () => {
    const x = randomUniform([64, 4], { seed: 5 });
    const y = randomUniform([64, 2], { seed: 6 });
    const m = build();
    m.compile({ backend: makeBackend(), optimizer: 'adam', loss: 'meanSquaredError' });
    let steps = 0;
    const first = m.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0, callbacks: { onBatchEnd: () => void steps++ } });
    const second = await m.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0 }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ConfigError);
    expect((second as Error).message).toMatch(/fit called while fit is running on model sequential/);
    await first;
    expect(steps).toBe(32);
    expect((await m.getOptimizerState()).step).toBe(32);
    // The same as a model trained alone.
    const alone = build();
    alone.compile({ backend: makeBackend(), optimizer: 'adam', loss: 'meanSquaredError' });
    await alone.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0 });
    expect(m.getWeights()).toEqual(alone.getWeights());
    m.dispose();
    alone.dispose();
  });

  it('setWeights from a fit callback is a ConfigError, not silently ignored', async () => {
    const m = build();
    m.compile({ backend: makeBackend(), optimizer: 'adam', loss: 'meanSquaredError' });
    const err = await m.fit(X, Y, { batchSize: 4, verbose: 0, callbacks: { onBatchEnd: () => m.setWeights(m.getWeights()) } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/setWeights called while fit is running/);
    expect((await m.getOptimizerState()).step).toBe(1);
    m.dispose();
  });
});
