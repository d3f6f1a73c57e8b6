import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  cosineDecay,
  dense,
  exponentialDecay,
  learningRateScheduler,
  piecewiseConstantDecay,
  reduceLROnPlateau,
  sequential,
  type LearningRateSchedule,
  type OptimizerLike,
} from '../src/index.js';
import { linearProblem, linearTestBackend, type Recording } from './fake-backend.js';

const silent = { verbose: 0 as const, shuffle: false };

/** A one-dense-layer model on the test backend with `optimizer`, recording every step's rate; `constantLoss` pins the reported loss at 1. */
function setup(optimizer: OptimizerLike, constantLoss = false) {
  const recording: Recording = { batches: [], setWeightsCalls: 0, learningRates: [] };
  const losses = new Map(constantLoss ? Array.from({ length: 100 }, (_, i) => [i, 1] as [number, number]) : []);
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })] });
  m.compile({ backend: linearTestBackend(recording, losses), optimizer, loss: 'meanSquaredError' });
  return { m, recording };
}

describe('exponentialDecay', () => {
  it('decays by decayRate every decaySteps steps, continuously', () => {
    const s = exponentialDecay({ initialLearningRate: 1, decaySteps: 10, decayRate: 0.5 });
    expect([s.at(0), s.at(5), s.at(10)]).toEqual([1, Math.SQRT1_2, 0.5]);
  });

  it('decays in whole periods with staircase', () => {
    const s = exponentialDecay({ initialLearningRate: 1, decaySteps: 10, decayRate: 0.5, staircase: true });
    expect([s.at(9), s.at(10), s.at(25)]).toEqual([1, 0.5, 0.25]);
  });

  it('refuses decaySteps 0, naming it', () => {
    expect(() => exponentialDecay({ initialLearningRate: 1, decaySteps: 0, decayRate: 0.5 })).toThrow(
      'exponentialDecay: decaySteps must be a finite number > 0, got 0',
    );
  });
});

describe('piecewiseConstantDecay', () => {
  it('holds values[i] up to and including boundaries[i]', () => {
    const s = piecewiseConstantDecay({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    expect([s.at(0), s.at(10), s.at(11), s.at(20), s.at(21)]).toEqual([1, 1, 0.5, 0.5, 0.1]);
  });

  it('refuses a values count that is not one more than the boundaries', () => {
    expect(() => piecewiseConstantDecay({ boundaries: [10], values: [1] })).toThrow(/values must hold one more rate than boundaries \(2\)/);
  });

  it('refuses decreasing boundaries', () => {
    expect(() => piecewiseConstantDecay({ boundaries: [10, 5], values: [1, 0.5, 0.1] })).toThrow(/boundaries must be increasing/);
  });
});

describe('cosineDecay', () => {
  it('falls along a half cosine to alpha·initial, then stays', () => {
    const s = cosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 });
    expect(s.at(0)).toBe(1);
    expect(s.at(5)).toBeCloseTo(0.55, 12);
    expect([s.at(10), s.at(50)]).toEqual([0.1, 0.1]);
  });

  it('warms up linearly to warmupTarget, then decays from it', () => {
    const s = cosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 1, warmupSteps: 4 });
    expect([s.at(0), s.at(2), s.at(4)]).toEqual([0, 0.5, 1]);
    expect(s.at(9)).toBeCloseTo(0.5, 12);
    expect(s.at(100)).toBeCloseTo(0, 12);
  });

  it('refuses warmupSteps without warmupTarget', () => {
    expect(() => cosineDecay({ initialLearningRate: 1, decaySteps: 10, warmupSteps: 3 })).toThrow('cosineDecay: warmupSteps needs warmupTarget');
  });
});

describe('a schedule as an optimizer learning rate', () => {
  it("gives every step the schedule's rate at the steps taken so far", async () => {
    const schedule = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 });
    const { m, recording } = setup({ kind: 'sgd', learningRate: schedule });
    const { x, y } = linearProblem(8);
    await m.fit(x, y, { ...silent, epochs: 2, batchSize: 4 });
    expect(recording.learningRates).toEqual([0.1, 0.05, 0.025, 0.0125]);
    expect(m.learningRate).toBe(0.00625);
  });

  it('refuses to be assigned while a schedule sets it', () => {
    const { m } = setup({ kind: 'adam', learningRate: cosineDecay({ initialLearningRate: 0.1, decaySteps: 10 }) });
    expect(() => (m.learningRate = 0.5)).toThrow(ConfigError);
  });

  it('stops fit with an error naming the step when the schedule gives NaN', async () => {
    const bad: LearningRateSchedule = { name: 'exponentialDecay', at: (step) => (step === 1 ? Number.NaN : 0.1) };
    const { m, recording } = setup({ kind: 'sgd', learningRate: bad });
    const { x, y } = linearProblem(8);
    await expect(m.fit(x, y, { ...silent, epochs: 1, batchSize: 4 })).rejects.toThrow(
      'sequential: learning-rate schedule exponentialDecay at step 1: the learning rate must be a finite number ≥ 0, got null',
    );
    expect(recording.learningRates).toEqual([0.1]);
  });

  it('refuses at compile a schedule whose first rate is negative', () => {
    const bad: LearningRateSchedule = { name: 'cosineDecay', at: () => -1 };
    expect(() => setup({ kind: 'sgd', learningRate: bad })).toThrow(
      'sgd: learning-rate schedule cosineDecay at step 0: the learning rate must be a finite number ≥ 0, got -1',
    );
  });
});

describe('learningRateScheduler', () => {
  it('sets each epoch’s rate from the epoch and the current rate, and logs it', async () => {
    const { m, recording } = setup({ kind: 'sgd', learningRate: 0.1 });
    const { x, y } = linearProblem(4);
    const history = await m.fit(x, y, { ...silent, epochs: 3, batchSize: 4, callbacks: [learningRateScheduler((epoch, lr) => (epoch === 0 ? lr : lr / 2))] });
    expect(recording.learningRates).toEqual([0.1, 0.05, 0.025]);
    expect(history.history.learningRate).toEqual([0.1, 0.05, 0.025]);
  });

  it('stops fit with an error naming the epoch for a negative rate', async () => {
    const { m } = setup({ kind: 'sgd', learningRate: 0.1 });
    const { x, y } = linearProblem(4);
    await expect(m.fit(x, y, { ...silent, epochs: 3, callbacks: [learningRateScheduler((epoch) => (epoch === 1 ? -0.1 : 0.1))] })).rejects.toThrow(
      'learningRateScheduler: the schedule returned -0.1 for epoch 1; it must return a finite number ≥ 0',
    );
  });
});

describe('reduceLROnPlateau', () => {
  it('multiplies the rate by factor after patience epochs without improvement, logging the epoch’s rate', async () => {
    const { m } = setup({ kind: 'sgd', learningRate: 0.1 }, true);
    const { x, y } = linearProblem(4);
    const history = await m.fit(x, y, { ...silent, epochs: 4, batchSize: 4, callbacks: [reduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1 })] });
    expect(history.history.learningRate).toEqual([0.1, 0.1, 0.05, 0.025]);
    expect(m.learningRate).toBe(0.0125);
  });

  it('waits cooldown epochs after a reduction and never goes below minLr', async () => {
    const { m } = setup({ kind: 'sgd', learningRate: 0.1 }, true);
    const { x, y } = linearProblem(4);
    const cb = reduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, cooldown: 2, minLr: 0.04 });
    const history = await m.fit(x, y, { ...silent, epochs: 5, batchSize: 4, callbacks: [cb] });
    expect(history.history.learningRate).toEqual([0.1, 0.1, 0.05, 0.05, 0.04]);
  });

  it('refuses a factor of 1 or more, naming it', () => {
    expect(() => reduceLROnPlateau({ factor: 1 })).toThrow('reduceLROnPlateau: factor must be a number in (0, 1), got 1');
  });

  it('refuses, when fit starts, a monitor the run does not log', async () => {
    const { m } = setup({ kind: 'sgd', learningRate: 0.1 });
    const { x, y } = linearProblem(4);
    await expect(m.fit(x, y, { ...silent, callbacks: [reduceLROnPlateau()] })).rejects.toThrow(
      "reduceLROnPlateau: monitor 'valLoss' is not logged by this fit",
    );
  });
});
