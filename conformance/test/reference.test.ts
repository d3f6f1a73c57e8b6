import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { finiteDifferences, maxRelativeError, mseReference, refLoss, type F64 } from '@araboza/conformance/reference';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('@araboza/conformance/reference', () => {
  it('is in the exports map, with types, built from src/reference.ts', () => {
    const pkg = JSON.parse(read('../package.json')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./reference']).toEqual({ types: './dist/reference.d.ts', import: './dist/reference.js' });
  });

  // Backend authors use it under their own test runner.
  it('imports no test runner', () => {
    for (const file of ['../src/reference.ts', '../src/reference-kernels.ts']) expect(read(file)).not.toMatch(/from '(vitest|jest|mocha)/);
  });

  it("agrees with itself: the kernel-level MSE gradient is the layer-level loss's finite differences", () => {
    const y: F64 = { shape: [2, 3], data: Float64Array.from([0.1, -0.4, 0.9, 1.5, 0, -2]) };
    const target: F64 = { shape: [2, 3], data: Float64Array.from([0, 0.5, 1, 1, -1, -2]) };
    const loss = () => refLoss({ kind: 'meanSquaredError', fromLogits: false, fusedActivation: false }, y, y, target);
    const { loss: mse, grad } = mseReference(y.data, target.data);
    expect(mse).toBeCloseTo(loss(), 12);
    expect(maxRelativeError(finiteDifferences(loss, y), grad)).toBeLessThan(1e-8);
  });
});
