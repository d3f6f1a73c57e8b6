import { describe, expect, it } from 'vitest';
import { checkSampleWeight, classSampleWeights, ConfigError, dense, input, model, ShapeError, tensor, type FitOptions, type Tensor } from '../src/index.js';
import { linearProblem as problem, linearSetup as setup, linearTestBackend, type Recording } from './fake-backend.js';

/** Runs fit on 8 samples with options a TypeScript caller could not write; returns its rejection and the steps taken. */
async function fitError(options: unknown): Promise<{ err: unknown; steps: number }> {
  const { m, recording } = setup();
  const { x, y } = problem(8);
  const err = await m.fit(x, y, { verbose: 0, ...(options as FitOptions) }).catch((e: unknown) => e);
  return { err, steps: recording.batches.length };
}

/** Weights that identify their sample: 10 + the sample's first input value (all > 0). */
function identifyingWeights(x: Tensor): Tensor {
  const n = x.shape[0];
  return tensor(
    Float32Array.from({ length: n }, (_, i) => 10 + x.data[i * 3]),
    [n],
  );
}

describe('sampleWeight and classWeight checks', () => {
  it('refuses a sampleWeight of the wrong length with a ShapeError naming both lengths, before any step', async () => {
    const { err, steps } = await fitError({ sampleWeight: tensor(new Float32Array(5).fill(1), [5]) });
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toBe('sequential: fit sampleWeight has 5 weights but the data has 8 samples');
    expect(steps).toBe(0);
  });

  it('refuses a negative weight with a ConfigError naming the index', async () => {
    const w = new Float32Array(8).fill(1);
    w[3] = -0.5;
    const { err, steps } = await fitError({ sampleWeight: tensor(w, [8]) });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('sequential: fit sampleWeight must hold finite weights ≥ 0, got -0.5 at index 3');
    expect(steps).toBe(0);
  });

  it('refuses a non-finite weight', async () => {
    const w = new Float32Array(8).fill(1);
    w[6] = Number.NaN;
    const { err } = await fitError({ sampleWeight: tensor(w, [8, 1]) });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit sampleWeight must hold finite weights ≥ 0, got NaN at index 6/);
  });

  it('refuses sampleWeight together with classWeight, as Keras', async () => {
    const { err } = await fitError({ sampleWeight: tensor(new Float32Array(8).fill(1), [8]), classWeight: { 0: 2 } });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit takes sampleWeight or classWeight, not both/);
  });

  it('refuses a classWeight with a negative weight, naming the class', async () => {
    const { err } = await fitError({ classWeight: { 1: -1 } });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit classWeight: the weight of class 1 must be a finite number ≥ 0, got -1/);
  });

  it('refuses classWeight for a model with several outputs', async () => {
    const recording: Recording = { batches: [], setWeightsCalls: 0 };
    const x = input({ shape: [3] });
    const m = model({ inputs: x, outputs: [dense({ units: 1 }).apply(x), dense({ units: 1 }).apply(x)], name: 'two' });
    m.compile({ backend: linearTestBackend(recording), optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' });
    const { x: xs, y } = problem(4);
    const err = await m.fit(xs, [y, y], { verbose: 0, classWeight: { 0: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/fit classWeight is only supported for models with a single output \(this one has 2\)/);
  });

  it('checkSampleWeight refuses a backend call whose weights do not match the batch', () => {
    expect(() => checkSampleWeight(tensor(new Float32Array(3), [3]), 4, 'trainStep')).toThrow(
      new ShapeError('trainStep: sampleWeight must have shape [4] (one weight per sample), got [3]'),
    );
  });
});

describe('classSampleWeights', () => {
  it('takes the argmax of one-hot targets; a class the record does not name weighs 1', () => {
    const y = tensor(Float32Array.from([0, 1, 0, 1, 0, 0, 0, 0, 1]), [3, 3]);
    expect(Array.from(classSampleWeights(y, { 0: 4, 2: 0.5 }, 'fit').data)).toEqual([1, 4, 0.5]);
  });

  it('takes the label of sparse targets, [N] or [N, 1]', () => {
    const labels = Float32Array.from([2, 0, 1]);
    expect(Array.from(classSampleWeights(tensor(labels, [3]), { 0: 3, 2: 0 }, 'fit').data)).toEqual([0, 3, 1]);
    expect(Array.from(classSampleWeights(tensor(labels, [3, 1]), { 0: 3, 2: 0 }, 'fit').data)).toEqual([0, 3, 1]);
  });
});

describe('sample weights in the loop', () => {
  it('shuffles the weights with their samples', async () => {
    const { m, recording } = setup();
    recording.weighted = [];
    const { x, y } = problem(10);
    await m.fit(x, y, { verbose: 0, batchSize: 4, epochs: 2, seed: 3, sampleWeight: identifyingWeights(x) });
    const steps = recording.weighted.filter((r) => r.call === 'trainStep');
    expect(steps).toHaveLength(6);
    // Shuffled: the first batch does not start with sample 0 in both epochs.
    expect(steps[0].x0[0] !== x.data[0] || steps[3].x0[0] !== x.data[0]).toBe(true);
    for (const s of steps) expect(s.weights).toEqual(s.x0.map((v) => Math.fround(10 + v)));
  });

  it('splits the weights with validationSplit: the last samples weigh the validation loss', async () => {
    const { m, recording } = setup();
    recording.weighted = [];
    const { x, y } = problem(10);
    await m.fit(x, y, { verbose: 0, batchSize: 4, validationSplit: 0.2, sampleWeight: identifyingWeights(x) });
    const evaluations = recording.weighted.filter((r) => r.call === 'evaluate');
    expect(evaluations).toHaveLength(1);
    expect(evaluations[0].x0).toEqual([x.data[24], x.data[27]]);
    expect(evaluations[0].weights).toEqual(evaluations[0].x0.map((v) => Math.fround(10 + v)));
  });

  it('passes classWeight as per-sample weights from the targets, not to the validation loss', async () => {
    const { m, recording } = setup();
    recording.weighted = [];
    const { x } = problem(6);
    const y = tensor(Float32Array.from([0, 1, 2, 1, 0, 2]), [6, 1]);
    await m.fit(x, y, { verbose: 0, batchSize: 6, shuffle: false, validationData: [x, y], classWeight: { 1: 5, 2: 0.25 } });
    expect(recording.weighted.map((r) => r.weights)).toEqual([[1, 5, 0.25, 5, 1, 0.25], null]);
  });

  it('evaluate passes sampleWeight in batches', async () => {
    const { m, recording } = setup();
    recording.weighted = [];
    const { x, y } = problem(5);
    await m.evaluate(x, y, { batchSize: 3, sampleWeight: identifyingWeights(x) });
    expect(recording.weighted.map((r) => r.weights)).toEqual(recording.weighted.map((r) => r.x0.map((v) => Math.fround(10 + v))));
    expect(recording.weighted.map((r) => r.x0.length)).toEqual([3, 2]);
  });

  it('takes a streamed batch sampleWeight, and refuses one of the wrong length naming the batch', async () => {
    const { m, recording } = setup();
    recording.weighted = [];
    const { x, y } = problem(4);
    const w = identifyingWeights(x);
    const source = (sampleWeight: Tensor) => ({
      *[Symbol.iterator]() {
        yield { x, y, sampleWeight };
      },
    });
    await m.fit(source(w), { verbose: 0 });
    expect(recording.weighted[0].weights).toEqual(Array.from(w.data));
    const err = await m.fit(source(tensor(new Float32Array(3), [3])), { verbose: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toBe('sequential: fit batch 0 of epoch 1 sampleWeight has 3 weights but the data has 4 samples');
  });
});
