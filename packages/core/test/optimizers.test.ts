import { describe, expect, it } from 'vitest';
import { ConfigError, dense, nadamFactors, optimizerSlotInitialValue, optimizerSlots, resolveOptimizer, sequential, tensor } from '../src/index.js';
import { linearTestBackend, type Recording } from './fake-backend.js';

describe('new optimizers', () => {
  it("fill in Keras 3's defaults", () => {
    expect(resolveOptimizer('adagrad')).toEqual({ kind: 'adagrad', learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 });
    expect(resolveOptimizer('adamax')).toEqual({ kind: 'adamax', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(resolveOptimizer('adamw')).toEqual({ kind: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 });
    expect(resolveOptimizer('sgd')).toEqual({ kind: 'sgd', learningRate: 0.01, momentum: 0, nesterov: false });
  });

  it("give Nadam Keras 3's momentum-schedule factors at step 1", () => {
    const mu = (s: number) => 0.9 * (1 - 0.5 * 0.96 ** s);
    const f = nadamFactors({ beta1: 0.9, beta2: 0.999 }, 1);
    expect(f.momentum).toBeCloseTo(mu(2) / (1 - mu(1) * mu(2)), 14);
    expect(f.gradient).toBeCloseTo((1 - mu(1)) / (1 - mu(1)), 14);
    expect(f.velocity).toBeCloseTo(1 / (1 - 0.999), 10);
  });

  it('name their slots, and start Adagrad’s accumulator at initialAccumulatorValue', () => {
    const adagrad = resolveOptimizer({ kind: 'adagrad', initialAccumulatorValue: 0.25 });
    expect(optimizerSlots(adagrad)).toEqual(['accumulator']);
    expect(optimizerSlotInitialValue(adagrad, 'accumulator')).toBe(0.25);
    expect(optimizerSlots(resolveOptimizer('adamax'))).toEqual(['m', 'u']);
    expect(optimizerSlotInitialValue(resolveOptimizer('adamax'), 'u')).toBe(0);
  });
});

describe('optimizer options', () => {
  it('take nesterov as a boolean only', () => {
    expect(resolveOptimizer({ kind: 'sgd', momentum: 0.9, nesterov: true })).toMatchObject({ nesterov: true });
    expect(() => resolveOptimizer({ kind: 'sgd', nesterov: 1 as never })).toThrow('sgd: nesterov must be a boolean, got 1');
  });

  it('take one clipping option on any optimizer, listed last', () => {
    const spec = resolveOptimizer({ kind: 'rmsprop', clipnorm: 2, rho: 0.5 });
    expect(Object.keys(spec)).toEqual(['kind', 'learningRate', 'rho', 'epsilon', 'clipnorm']);
  });

  it('refuse two clipping options at once, naming both', () => {
    expect(() => resolveOptimizer({ kind: 'adam', clipnorm: 1, clipvalue: 0.5 })).toThrow(
      'adam: only one of clipnorm, clipvalue and globalClipnorm can be set, got clipnorm and clipvalue',
    );
  });

  it('refuse a clipping threshold that is not > 0', () => {
    expect(() => resolveOptimizer({ kind: 'adagrad', globalClipnorm: 0 })).toThrow('adagrad: globalClipnorm must be > 0, got 0');
    expect(() => resolveOptimizer({ kind: 'adagrad', clipvalue: Number.NaN })).toThrow(ConfigError);
  });

  it('refuse a negative weight decay or initial accumulator', () => {
    expect(() => resolveOptimizer({ kind: 'adamw', weightDecay: -0.1 })).toThrow('adamw: weightDecay must be ≥ 0, got -0.1');
    expect(() => resolveOptimizer({ kind: 'adagrad', initialAccumulatorValue: -1 })).toThrow('adagrad: initialAccumulatorValue must be ≥ 0, got -1');
  });

  it('refuse a beta of 1 on Adamax', () => {
    expect(() => resolveOptimizer({ kind: 'adamax', beta2: 1 })).toThrow(/adamax: beta2 must be in \[0, 1\)/);
  });

  it('refuse a negative or NaN learning rate, naming it', () => {
    expect(() => resolveOptimizer({ kind: 'adamw', learningRate: -1 })).toThrow('adamw: learningRate must be > 0, got -1');
    expect(() => resolveOptimizer({ kind: 'sgd', learningRate: Number.NaN })).toThrow('sgd: learningRate must be a finite number, got null');
  });

  it('refuse an unknown option, listing the known ones with the clipping options', () => {
    expect(() => resolveOptimizer({ kind: 'adamax', decay: 0.1 } as never)).toThrow(
      "adamax: unknown option 'decay' (known: learningRate, beta1, beta2, epsilon, clipnorm, clipvalue, globalClipnorm)",
    );
  });
});

describe('model.learningRate', () => {
  const compiled = () => {
    const recording: Recording = { batches: [], setWeightsCalls: 0, learningRates: [] };
    const m = sequential({ inputShape: [2], layers: [dense({ units: 1 })] });
    m.compile({ backend: linearTestBackend(recording), optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' });
    return { m, recording };
  };
  const x = tensor([1, 2, 3, 4], [2, 2]);
  const y = tensor([1, 0], [2, 1]);

  it("is the optimizer's rate after compile, and null before", () => {
    expect(sequential({ inputShape: [2], layers: [dense({ units: 1 })] }).learningRate).toBeNull();
    expect(compiled().m.learningRate).toBe(0.1);
  });

  it('reaches the backend as the next step’s rate, without recompiling', async () => {
    const { m, recording } = compiled();
    await m.trainOnBatch(x, y);
    m.learningRate = 0.025;
    await m.trainOnBatch(x, y);
    expect(recording.learningRates).toEqual([0.1, 0.025]);
  });

  it('refuses a NaN, infinite or negative rate, naming it', () => {
    const { m } = compiled();
    for (const lr of [Number.NaN, -0.5, Infinity]) {
      expect(() => (m.learningRate = lr), String(lr)).toThrow(/learningRate: the learning rate must be a finite number ≥ 0/);
    }
    expect(m.learningRate).toBe(0.1);
  });

  it('needs an optimizer', () => {
    const m = sequential({ inputShape: [2], layers: [dense({ units: 1 })] });
    expect(() => (m.learningRate = 0.1)).toThrow('sequential: learningRate needs compile({optimizer}) first');
  });
});
