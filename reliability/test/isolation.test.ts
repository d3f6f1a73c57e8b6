import {
  conv2d,
  dense,
  flatten,
  maxPooling2d,
  Random,
  randomUniform,
  sequential,
  ShapeError,
  trainingSpec,
  type Backend,
  type CompiledModel,
  type OptimizerState,
  type Tensor,
} from '@araboza/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from './backends.js';

const OPTIMIZERS = ['adam', 'adadelta', 'rmsprop', { kind: 'sgd', learningRate: 0.1, momentum: 0.9 }] as const;

function buildModel() {
  return sequential({
    inputShape: [6, 6, 1],
    layers: [
      conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
      maxPooling2d({ poolSize: 2 }),
      flatten(),
      dense({ units: 2, activation: 'tanh' }),
    ],
    seed: 21,
  });
}

const rng = new Random(77);
const GOOD_X = randomUniform([4, 6, 6, 1], { seed: rng });
const GOOD_Y = randomUniform([4, 2], { seed: rng, minval: -0.5, maxval: 0.5 });

function withValue(t: Tensor, index: number, value: number): Tensor {
  const data = Float32Array.from(t.data);
  data[index] = value;
  return { shape: t.shape, data };
}

/** Bad batches: the first three must throw a ShapeError, the others give a non-finite loss. */
const THROWING: [string, Tensor, Tensor][] = [
  ['x with the wrong sample shape', randomUniform([4, 5, 6, 1], { seed: 1 }), GOOD_Y],
  ['y with the wrong sample shape', GOOD_X, randomUniform([4, 3], { seed: 2 })],
  ['x and y batch sizes that differ', GOOD_X, randomUniform([3, 2], { seed: 3 })],
];
const NON_FINITE: [string, Tensor, Tensor][] = [
  ['NaN in x', withValue(GOOD_X, 17, Number.NaN), GOOD_Y],
  ['Infinity in x', withValue(GOOD_X, 3, Number.POSITIVE_INFINITY), GOOD_Y],
  ['NaN in y', GOOD_X, withValue(GOOD_Y, 1, Number.NaN)],
  ['a target so large its squared error overflows float32 (loss Infinity)', GOOD_X, withValue(GOOD_Y, 0, 1e30)],
];

async function snapshot(c: CompiledModel): Promise<{ weights: Tensor[]; state: OptimizerState }> {
  return { weights: await c.getWeights(), state: await c.getOptimizerState() };
}

let open: CompiledModel[] = [];
afterEach(() => {
  for (const c of open) c.dispose();
  open = [];
});

async function compileTrained(backend: Backend, optimizer: (typeof OPTIMIZERS)[number]): Promise<CompiledModel> {
  const m = buildModel();
  const c = await backend.compile(m.graph, trainingSpec(m.graph, 'meanSquaredError', optimizer));
  open.push(c);
  await c.setWeights(m.getWeights());
  // Two real steps first, so the optimizer slots are non-zero and a corrupted slot would show.
  await c.trainStep([GOOD_X], [GOOD_Y]);
  await c.trainStep([GOOD_X], [GOOD_Y]);
  return c;
}

describe.each(BACKENDS)('failure isolation on %s', (_, makeBackend) => {
  const backend = makeBackend();

  describe.each(OPTIMIZERS.map((o) => [typeof o === 'string' ? o : `${o.kind} with momentum`, o] as const))('%s', (__, optimizer) => {
    it.each(THROWING)('a trainStep on %s throws ShapeError and changes no weight and no optimizer slot', async (___, x, y) => {
      const c = await compileTrained(backend, optimizer);
      const before = await snapshot(c);
      await expect(c.trainStep([x], [y])).rejects.toThrow(ShapeError);
      expect(await snapshot(c)).toEqual(before);
    });

    it.each(NON_FINITE)('a trainStep on %s returns a non-finite loss and changes no weight and no optimizer slot', async (___, x, y) => {
      const c = await compileTrained(backend, optimizer);
      const before = await snapshot(c);
      const { loss } = await c.trainStep([x], [y]);
      expect(Number.isFinite(loss)).toBe(false);
      expect(await snapshot(c)).toEqual(before);
    });

    it('after every bad batch, the next good step gives exactly what it gives on a model that never saw them', async () => {
      const hit = await compileTrained(backend, optimizer);
      const clean = await compileTrained(backend, optimizer);
      for (const [, x, y] of THROWING) await expect(hit.trainStep([x], [y])).rejects.toThrow(ShapeError);
      for (const [, x, y] of NON_FINITE) await hit.trainStep([x], [y]);
      const { loss: lossHit } = await hit.trainStep([GOOD_X], [GOOD_Y]);
      const { loss: lossClean } = await clean.trainStep([GOOD_X], [GOOD_Y]);
      expect(lossHit).toBe(lossClean);
      expect(await snapshot(hit)).toEqual(await snapshot(clean));
    });
  });

  it('Model.trainOnBatch with a NaN batch keeps the host weights and the next step matches a clean model', async () => {
    const hit = buildModel();
    const clean = buildModel();
    for (const m of [hit, clean]) m.compile({ backend, optimizer: 'adam', loss: 'meanSquaredError' });
    await hit.trainOnBatch(GOOD_X, GOOD_Y);
    await clean.trainOnBatch(GOOD_X, GOOD_Y);
    const before = hit.getWeights();
    expect(Number.isNaN(await hit.trainOnBatch(NON_FINITE[0][1], GOOD_Y))).toBe(true);
    expect(hit.getWeights()).toEqual(before);
    await hit.trainOnBatch(GOOD_X, GOOD_Y);
    await clean.trainOnBatch(GOOD_X, GOOD_Y);
    expect(hit.getWeights()).toEqual(clean.getWeights());
    hit.dispose();
    clean.dispose();
  });
});

describe.each(BACKENDS)('degenerate categorical cross-entropy on %s', (name, makeBackend) => {
  const backend = makeBackend();
  // An output row of relu zeros sums to 0, so the probabilities normalised to sum 1 are 0/0.
  const m = sequential({ inputShape: [2], layers: [dense({ units: 2, useBias: false, activation: 'relu' })] });
  const x: Tensor = { shape: [1, 2], data: Float32Array.of(-1, -1) };
  const y: Tensor = { shape: [1, 2], data: Float32Array.of(1, 0) };
  const kernel: Tensor = { shape: [2, 2], data: Float32Array.of(1, 1, 1, 1) };

  // Found here: tfjs-wasm clamps the NaN probabilities to ε, so the loss was finite (−ln 1e-7 ≈ 16.118)
  // while the gradients were NaN, and the step wrote NaN into every weight. Backends now return NaN and
  // keep the weights whenever a gradient is not finite (the contract's trainStep rule).
  it('a trainStep on an output row that sums to 0 never turns finite weights into NaN', async () => {
    const c = await backend.compile(m.graph, trainingSpec(m.graph, 'categoricalCrossentropy', 'sgd'));
    open.push(c);
    await c.setWeights([kernel]);
    const { loss } = await c.trainStep([x], [y]);
    const after = (await c.getWeights())[0];
    if (Number.isFinite(loss)) expect([...after.data].every(Number.isFinite)).toBe(true);
    else expect(after).toEqual(kernel);
  });
});
