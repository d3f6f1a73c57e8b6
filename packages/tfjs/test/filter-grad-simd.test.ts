import { afterEach, describe, expect, it } from 'vitest';
import type { Tensor } from '@araboza/core';
import { conv2dFilterGradReference } from '@araboza/conformance/reference';
import { activateEngine } from '../src/engines.js';
import { conv2dFilterGrad } from '../src/kernels/conv-grad-math.js';
import { simdFilterGrad } from '../src/kernels/filter-grad-simd.js';
import { SIMD_ENV } from '../src/kernels/simd-module.js';
import { caseGeometry, data, DECLINED_BY_STRIDE_ONE_SIMD, runKernel, type ConvCase } from './helpers.js';

/** float32's unit roundoff, 2⁻²⁴. */
const U = 2 ** -24;

/**
 * The most positions one float32 partial sum of filter-grad.wat adds (its
 * BLOCK_TERMS, when an output row is no longer than that).
 */
const BLOCK_TERMS = 256;

/** x and dy of case `c` from `seed` (uniform in [−1, 1]). */
function operands(c: ConvCase, seed: number): { x: Tensor; dy: Tensor } {
  const g = caseGeometry(c);
  return { x: data(c.x, seed), dy: data([g.batch, g.outHeight, g.outWidth, c.cout], seed + 1) };
}

/** filter-grad.wat's dW for case `c` (null when it declined). */
function simd(c: ConvCase, x: Tensor, dy: Tensor): Tensor | null {
  return runKernel(x, dy, (scope, a, b) => simdFilterGrad(scope.backend, a, b, caseGeometry(c)));
}

const abs = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });

/**
 * The largest error of `got` against the float64 reference, relative to each
 * element's Σ|x·dy| (the scale every summation error bound is stated in).
 */
function maxScaledError(c: ConvCase, got: Tensor, x: Tensor, dy: Tensor): number {
  const d = c.d ?? [1, 1];
  const exact = conv2dFilterGradReference(x, dy, c.k, [1, 1], d, c.padding);
  const scale = conv2dFilterGradReference(abs(x), abs(dy), c.k, [1, 1], d, c.padding);
  expect(got.shape).toEqual(exact.shape);
  let m = 0;
  for (let i = 0; i < got.data.length; i++) if (scale.data[i] > 0) m = Math.max(m, Math.abs(got.data[i] - exact.data[i]) / scale.data[i]);
  return m;
}

const cases: ConvCase[] = [
  { name: '16 → 16, 3×3 same (the residual network layers)', x: [4, 14, 14, 16], cout: 16, k: [3, 3], padding: 'same' },
  { name: '8 → 16, 3×3 valid', x: [3, 7, 9, 8], cout: 16, k: [3, 3], padding: 'valid' },
  { name: '4 → 4 (one 4 × 4 tile), 3×3 same on a 2 × 3 image (taps wholly outside)', x: [2, 2, 3, 4], cout: 4, k: [3, 3], padding: 'same' },
  { name: '20 → 12 (8 + 4 output channels), 2×2 same (padding after only)', x: [2, 5, 6, 20], cout: 12, k: [2, 2], padding: 'same' },
  { name: '16 → 20, 1×1', x: [2, 4, 5, 16], cout: 20, k: [1, 1], padding: 'valid' },
  { name: '8 → 8, 5×4 same on a 30-column image (two rows per block is not a multiple of 14)', x: [2, 17, 30, 8], cout: 8, k: [5, 4], padding: 'same' },
  { name: '4 → 8, 3×3 same, 300 columns (one row per block, longer than BLOCK_TERMS)', x: [1, 3, 300, 4], cout: 8, k: [3, 3], padding: 'same' },
];

describe('the filter-gradient WebAssembly SIMD kernel (filter-grad.wat)', () => {
  afterEach(() => {
    delete process.env[SIMD_ENV];
  });

  // Each element is float32 sums of at most B = max(BLOCK_TERMS, outCols) products, added in float64 and
  // rounded once: |error| ≤ (B + 1)·u·Σ|x·dy| + u·|dW| ≤ (B + 2)·u·Σ|x·dy| to first order (Higham, recursive
  // summation), a worst case a plain float32 sum over all N·H·W positions does not meet.
  it.each(cases.map((c) => [c.name, c] as const))('is within the blocked-summation bound of the float64 reference: %s', async (_name, c) => {
    await activateEngine('wasm');
    const { x, dy } = operands(c, 21);
    const got = simd(c, x, dy);
    expect(got).not.toBeNull();
    const terms = Math.max(BLOCK_TERMS, caseGeometry(c).outWidth);
    expect(maxScaledError(c, got!, x, dy)).toBeLessThanOrEqual((terms + 2) * U);
  });

  it('keeps many equal terms accurate (float32 blocks, float64 totals)', async () => {
    await activateEngine('wasm');
    // 128 · 14 · 14 = 25,088 products of 1 · 0.1 per element: a float32 running sum over all of them ends
    // ~3.9·10⁻⁵ (~650 u) off, beyond the bound below; blocks of 196 added in float64 end ~2·10⁻⁶ off.
    const c: ConvCase = { name: 'constant', x: [128, 14, 14, 4], cout: 4, k: [1, 1], padding: 'valid' };
    const x = { shape: c.x, data: new Float32Array(128 * 14 * 14 * 4).fill(1) };
    const dy = { shape: c.x, data: new Float32Array(128 * 14 * 14 * 4).fill(0.1) };
    const got = simd(c, x, dy)!;
    const exact = 128 * 14 * 14 * Math.fround(0.1);
    for (const v of got.data) expect(Math.abs(v - exact) / exact).toBeLessThan(BLOCK_TERMS * U);
  });

  it('conv2dFilterGrad agrees with the kernel turned off (the XNNPACK convolution path) on a 16 → 16 3×3 layer', async () => {
    await activateEngine('wasm');
    const c = cases[0];
    const { x, dy } = operands(c, 31);
    const run = () => runKernel(x, dy, (scope, a, b) => conv2dFilterGrad(scope, a, b, caseGeometry(c)))!;
    const on = run();
    process.env[SIMD_ENV] = 'filter-grad';
    const off = run();
    // Both sum 784 products per element (|dW| up to ~30) in float32, differently grouped: a few float32 ulps apart.
    let m = 0;
    for (let i = 0; i < on.data.length; i++) m = Math.max(m, Math.abs(on.data[i] - off.data[i]));
    expect(m).toBeGreaterThan(0);
    expect(m).toBeLessThan(1e-4);
  });

  it.each(['filter-grad', '0', 'batch-norm, filter-grad'])(`is turned off by ${SIMD_ENV}=%s (the caller falls back)`, async (value) => {
    await activateEngine('wasm');
    const c = cases[1];
    const { x, dy } = operands(c, 41);
    process.env[SIMD_ENV] = value;
    expect(simd(c, x, dy)).toBeNull();
  });

  it(`stays on when ${SIMD_ENV} names only other modules`, async () => {
    await activateEngine('wasm');
    const c = cases[1];
    const { x, dy } = operands(c, 42);
    process.env[SIMD_ENV] = 'batch-norm,max-pool-grad';
    expect(simd(c, x, dy)).not.toBeNull();
  });

  it.each(DECLINED_BY_STRIDE_ONE_SIMD)('declines %s', async (_name, c) => {
    await activateEngine('wasm');
    const { x, dy } = operands(c, 51);
    expect(simd(c, x, dy)).toBeNull();
  });

  it('declines on the cpu backend (no wasm heap)', async () => {
    await activateEngine('cpu');
    const { x, dy } = operands(cases[1], 61);
    expect(simd(cases[1], x, dy)).toBeNull();
  });
});
