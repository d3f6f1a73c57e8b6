import type { Backend, CompiledModel } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { fuzzPair } from './backends.js';
import { checkFuzzCase, runFuzzCase, type FuzzCase } from '../src/fuzz.js';

const [onnx, wasm] = fuzzPair();

/**
 * Minimal case of seed 1105421 (a 10,000-case run from 1100001): three
 * stacked exponentials, whose mean-squared error overflows float32 on
 * every backend. It failed the comparison only because |∞ − ∞| is NaN.
 */
const TRIPLE_EXPONENTIAL: FuzzCase = {
  seed: 1105421,
  inputShape: [2, 4, 1],
  batch: 1,
  layers: [
    {
      kind: 'depthwiseConv2d',
      options: { kernelSize: [2, 1], depthMultiplier: 1, strides: [1, 1], padding: 'valid', useBias: false, activation: 'exponential' },
    },
    { kind: 'activation', options: { activation: 'exponential' } },
    { kind: 'activation', options: { activation: 'exponential' } },
  ],
};

/** `backend` with every compiled model's `gradients` reporting `loss` instead of its own. */
function reportingLoss(backend: Backend, loss: number): Backend {
  const wrap = (compiled: CompiledModel): CompiledModel =>
    new Proxy(compiled, {
      get(target, key) {
        if (key === 'gradients') return async (...args: Parameters<CompiledModel['gradients']>) => ({ ...(await target.gradients(...args)), loss });
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return new Proxy(backend, {
    get(target, key) {
      if (key === 'compile') return async (...args: Parameters<Backend['compile']>) => wrap(await target.compile(...args));
      if (key === 'name') return `${target.name} (loss ${loss})`;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('fuzz cases whose loss overflows float32', () => {
  it('the minimal case of seed 1105421 overflows on the reference backend', async () => {
    expect(Number.isFinite((await runFuzzCase(TRIPLE_EXPONENTIAL, onnx)).loss)).toBe(false);
  });

  it('agree when every backend overflows', async () => {
    expect(await checkFuzzCase(TRIPLE_EXPONENTIAL, [onnx, wasm])).toBeNull();
  });

  it('disagree when a backend reports a finite loss where the reference overflows', async () => {
    expect(await checkFuzzCase(TRIPLE_EXPONENTIAL, [onnx, reportingLoss(wasm, 1)])).toMatchObject({ what: 'loss', backend: 'tfjs-wasm (loss 1)' });
  });

  it('still compare a finite loss as before (the same wrapper is caught on a case that does not overflow)', async () => {
    const plain: FuzzCase = { ...TRIPLE_EXPONENTIAL, layers: [{ kind: 'activation', options: { activation: 'linear' } }] };
    expect(await checkFuzzCase(plain, [onnx, wasm])).toBeNull();
    expect(await checkFuzzCase(plain, [onnx, reportingLoss(wasm, 1e6)])).toMatchObject({ what: 'loss' });
  });
});
