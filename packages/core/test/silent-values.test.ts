import { describe, expect, it } from 'vitest';
import { ConfigError, dense, Random, randomNormal, resolveOptimizer, sequential, ShapeError, tensor, zeros } from '../src/index.js';
import { linearTestBackend } from './fake-backend.js';

describe('tensor() refuses what Float32Array.from turns into NaN or Infinity (issue 16, item 8)', () => {
  it('a nested array is a ShapeError, not shape [2] of NaN', () => {
    expect(() =>
      tensor([
        [1, 2],
        [3, 4],
      ] as never),
    ).toThrow(/tensor: data\[0\] is a nested array \(pass flat row-major values and a shape\)/);
  });

  it('a string is a ShapeError, not NaN', () => {
    expect(() => tensor([1, '2' as never, 3])).toThrow(ShapeError);
    expect(() => tensor([1, '2' as never, 3])).toThrow(/data\[1\] is string "2"; expected a number/);
  });

  it('a finite float64 beyond float32 range is a ShapeError, not Infinity', () => {
    expect(() => tensor([1, 1e39])).toThrow(/data\[1\] = 1e\+39 is beyond float32's range/);
    expect(() => tensor(new Float64Array([-1e300]) as never)).toThrow(ShapeError);
  });

  it('NaN and Infinity given as such are kept, and ordinary values are rounded to float32', () => {
    const t = tensor([Number.NaN, Number.POSITIVE_INFINITY, 0.1]);
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(t.data[1]).toBe(Number.POSITIVE_INFINITY);
    expect(t.data[2]).toBe(Math.fround(0.1));
  });
});

describe('Random.setState validates the state (issue 16, item 8)', () => {
  it('NaN words are a ConfigError (randomNormal would loop forever)', () => {
    const r = new Random(1);
    expect(() => r.setState([Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN])).toThrow(ConfigError);
    // The generator is unchanged and still draws.
    expect(randomNormal([3], { seed: r }).data.every(Number.isFinite)).toBe(true);
  });

  it('all-zero words, fractional words, a wrong length and an infinite cached normal are ConfigErrors', () => {
    const r = new Random(1);
    expect(() => r.setState([0, 0, 0, 0, Number.NaN])).toThrow(/not all 0/);
    expect(() => r.setState([1.5, 2, 3, 4, Number.NaN])).toThrow(ConfigError);
    expect(() => r.setState([1, 2, 3])).toThrow(/state must be 5 numbers/);
    expect(() => r.setState([1, 2, 3, 4, Number.POSITIVE_INFINITY])).toThrow(/5th number/);
  });

  it('a state from getState, also after a JSON round trip, restores the sequence', () => {
    const a = new Random(7);
    a.normal();
    const state = JSON.parse(JSON.stringify(a.getState())) as (number | null)[];
    const b = new Random(0);
    b.setState(state);
    expect([b.nextUint32(), b.normal()]).toEqual([a.nextUint32(), a.normal()]);
  });
});

describe('optimizer hyper-parameters must be usable in float32 (issue 16, item 5)', () => {
  it.each([
    ['adam', 'epsilon', 1e-50, /epsilon 1e-50 is 0 in float32/],
    ['rmsprop', 'epsilon', 1e-50, /epsilon 1e-50 is 0 in float32/],
    ['adadelta', 'epsilon', 1e-50, /epsilon 1e-50 is 0 in float32/],
    ['sgd', 'learningRate', 1e39, /learningRate 1e\+39 is beyond float32's range/],
    ['adam', 'learningRate', 1e39, /learningRate 1e\+39 is beyond float32's range/],
    ['adam', 'beta2', 1 - 1e-9, /beta2 must be in \[0, 1\)/],
    ['rmsprop', 'rho', 1 - 1e-9, /rho must be in \[0, 1\)/],
  ] as const)('%s %s %s → ConfigError', (kind, key, value, message) => {
    expect(() => resolveOptimizer({ kind, [key]: value })).toThrow(ConfigError);
    expect(() => resolveOptimizer({ kind, [key]: value })).toThrow(message);
  });

  it('Model.setOptimizerState refuses NaN slots before the backend sees them', async () => {
    const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })] });
    m.compile({ backend: linearTestBackend({ batches: [], setWeightsCalls: 0 }), optimizer: { kind: 'sgd', momentum: 0.9 }, loss: 'meanSquaredError' });
    const state = await m.getOptimizerState();
    const slots = state.slots.map((perWeight) => perWeight.map((t) => zeros(t.shape)));
    slots[1][0].data[0] = Number.NaN;
    await expect(m.setOptimizerState({ step: 1, slots })).rejects.toThrow(/slot 0 of weight 1 holds NaN at flat index 0/);
    expect((await m.getOptimizerState()).slots[1][0].data[0]).toBe(0);
  });
});
