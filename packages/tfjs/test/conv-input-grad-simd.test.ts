import { afterEach, describe, expect, it } from 'vitest';
import type { Tensor } from '@araboza/core';
import { activateEngine } from '../src/engines.js';
import { conv2dInputGrad } from '../src/kernels/conv-grad-math.js';
import { simdConvInputGrad } from '../src/kernels/conv-input-grad-simd.js';
import { SIMD_ENV } from '../src/kernels/simd-module.js';
import { caseGeometry, data, DECLINED_BY_STRIDE_ONE_SIMD, runKernel, type ConvCase } from './helpers.js';

/** float32's unit roundoff, 2⁻²⁴. */
const U = 2 ** -24;

/** dy and the kernel of case `c` from `seed` (uniform in [−1, 1]). */
function operands(c: ConvCase, seed: number): { dy: Tensor; w: Tensor } {
  const g = caseGeometry(c);
  return { dy: data([g.batch, g.outHeight, g.outWidth, c.cout], seed), w: data([c.k[0], c.k[1], c.x[3], c.cout], seed + 1) };
}

/** conv-input-grad.wat's dx for case `c` (null when it declined). */
function simd(c: ConvCase, dy: Tensor, w: Tensor): Tensor | null {
  return runKernel(dy, w, (scope, a, b) => simdConvInputGrad(scope.backend, a, b, caseGeometry(c)));
}

/**
 * dx of a stride-1, dilation-1 case in float64, and each element's Σ|dy·w|
 * (the scale a summation error bound is stated in).
 */
function reference(c: ConvCase, dy: Tensor, w: Tensor): { exact: Float64Array; scale: Float64Array } {
  const g = caseGeometry(c);
  const [b, h, wd, ci] = c.x;
  const [kh, kw] = c.k;
  const co = c.cout;
  const exact = new Float64Array(b * h * wd * ci);
  const scale = new Float64Array(exact.length);
  for (let n = 0; n < b; n++)
    for (let p = 0; p < g.outHeight; p++)
      for (let q = 0; q < g.outWidth; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const [r, s] = [p + i - g.padTop, q + j - g.padLeft];
            if (r < 0 || s < 0 || r >= h || s >= wd) continue;
            for (let c0 = 0; c0 < ci; c0++)
              for (let o = 0; o < co; o++) {
                const t = dy.data[((n * g.outHeight + p) * g.outWidth + q) * co + o] * w.data[((i * kw + j) * ci + c0) * co + o];
                exact[((n * h + r) * wd + s) * ci + c0] += t;
                scale[((n * h + r) * wd + s) * ci + c0] += Math.abs(t);
              }
          }
  return { exact, scale };
}

const cases: ConvCase[] = [
  { name: '16 → 16, 3×3 same (the residual network layers)', x: [2, 14, 14, 16], cout: 16, k: [3, 3], padding: 'same' },
  { name: '8 → 16, 3×3 valid', x: [3, 7, 9, 8], cout: 16, k: [3, 3], padding: 'valid' },
  { name: '4 → 4 (one 4-channel tile), 3×3 same on 2 × 4 (taps wholly outside)', x: [2, 2, 4, 4], cout: 4, k: [3, 3], padding: 'same' },
  { name: '20 → 12 (8 + 8 + 4 input channels), 2×2 same (padding after only)', x: [2, 5, 6, 20], cout: 12, k: [2, 2], padding: 'same' },
  { name: '16 → 20, 1×1 on 5 columns (last tile overlaps)', x: [2, 4, 5, 16], cout: 20, k: [1, 1], padding: 'valid' },
  { name: '8 → 8, 5×4 same on 30 columns', x: [2, 6, 30, 8], cout: 8, k: [5, 4], padding: 'same' },
];

describe('the input-gradient WebAssembly SIMD kernel (conv-input-grad.wat)', () => {
  afterEach(() => {
    delete process.env[SIMD_ENV];
  });

  // Each element is one float32 recursive sum of T = kh·kw·co products (zeros outside dy included):
  // |error| ≤ T·u·Σ|dy·w| to first order (Higham), plus u·Σ|dy·w| for each product's own rounding.
  it.each(cases.map((c) => [c.name, c] as const))('is within the float32 summation bound of the float64 reference: %s', async (_name, c) => {
    await activateEngine('wasm');
    const { dy, w } = operands(c, 21);
    const got = simd(c, dy, w);
    expect(got).not.toBeNull();
    expect(got!.shape).toEqual(c.x);
    const { exact, scale } = reference(c, dy, w);
    let m = 0;
    for (let i = 0; i < exact.length; i++) m = Math.max(m, scale[i] > 0 ? Math.abs(got!.data[i] - exact[i]) / scale[i] : Math.abs(got!.data[i]));
    expect(m).toBeLessThanOrEqual((c.k[0] * c.k[1] * c.cout + 1) * U);
  });

  it('conv2dInputGrad agrees with the kernel turned off (the XNNPACK convolution path) on a 16 → 16 3×3 layer', async () => {
    await activateEngine('wasm');
    const c = cases[0];
    const { dy, w } = operands(c, 31);
    const run = () => runKernel(dy, w, (scope, a, b) => conv2dInputGrad(scope, a, b, caseGeometry(c)))!;
    const on = run();
    process.env[SIMD_ENV] = 'conv-input-grad';
    const off = run();
    // Both sum 144 products per element (|dx| up to ~20) in float32, differently grouped: a few float32 ulps apart.
    let m = 0;
    for (let i = 0; i < on.data.length; i++) m = Math.max(m, Math.abs(on.data[i] - off.data[i]));
    expect(m).toBeLessThan(1e-4);
  });

  it.each(['conv-input-grad', '0', 'batch-norm, conv-input-grad'])(`is turned off by ${SIMD_ENV}=%s (the caller falls back)`, async (value) => {
    await activateEngine('wasm');
    const c = cases[1];
    const { dy, w } = operands(c, 41);
    process.env[SIMD_ENV] = value;
    expect(simd(c, dy, w)).toBeNull();
  });

  it.each([...DECLINED_BY_STRIDE_ONE_SIMD, ['3 columns', { name: 'cols', x: [1, 5, 3, 8], cout: 8, k: [3, 3], padding: 'same' }]] as [string, ConvCase][])(
    'declines %s',
    async (_name, c) => {
      await activateEngine('wasm');
      const { dy, w } = operands(c, 51);
      expect(simd(c, dy, w)).toBeNull();
    },
  );

  it('declines operands that are not float32', async () => {
    await activateEngine('wasm');
    const c = cases[1];
    const { dy, w } = operands(c, 52);
    const got = runKernel(dy, w, (scope, a, b) => {
      const ints = scope.run('Cast', { x: a }, { dtype: 'int32' });
      const out = simdConvInputGrad(scope.backend, ints, b, caseGeometry(c));
      scope.backend.disposeData(ints.dataId);
      return out;
    });
    expect(got).toBeNull();
  });

  it('declines on the cpu backend (no wasm heap)', async () => {
    await activateEngine('cpu');
    const { dy, w } = operands(cases[1], 61);
    expect(simd(cases[1], dy, w)).toBeNull();
  });
});
