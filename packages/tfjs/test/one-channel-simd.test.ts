import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Padding, Tensor } from '@araboza/core';
import { conv2dFilterGradReference, conv2dReference } from '@araboza/conformance/reference';
import { activateEngine } from '../src/engines.js';
import type { Conv2dGeometry } from '../src/kernels/conv-grad-math.js';
import { ONE_CHANNEL_SIMD_ENV, oneChannelSimdAvailable, simdConvOneChannel, simdFilterGradOneChannel } from '../src/kernels/one-channel-simd.js';
import { convGeometry, data, runKernel } from './helpers.js';

/** A stride-1 (unless `s`) convolution: x is [b, h, w, cin], the kernel k with dilation d, cout output channels. */
interface SimdCase {
  name: string;
  x: [b: number, h: number, w: number, cin: number];
  cout: number;
  k: [number, number];
  d: [number, number];
  s?: [number, number];
  padding: Padding;
}

function geometry(c: SimdCase): Conv2dGeometry {
  return convGeometry(c.x, c.cout, c.k, c.s ?? [1, 1], c.d, c.padding);
}

/** The filter-gradient kernel's result for `c` (null when it declined), with x and dy drawn from `seed`. */
function runSimd(c: SimdCase, seed: number): { result: Tensor | null; x: Tensor; dy: Tensor } {
  const g = geometry(c);
  const x = data(c.x, seed);
  const dy = data([g.batch, g.outHeight, g.outWidth, c.cout], seed + 1);
  return { result: runKernel(x, dy, (scope, a, b) => simdFilterGradOneChannel(scope, a, b, g)), x, dy };
}

/** The forward kernel's result for `c` (null when it declined), with x and the kernel drawn from `seed`. */
function runForward(c: SimdCase, seed: number): { result: Tensor | null; x: Tensor; w: Tensor } {
  const g = geometry(c);
  const x = data(c.x, seed);
  const w = data([c.k[0], c.k[1], g.inChannels, c.cout], seed + 1);
  return { result: runKernel(x, w, (scope, a, b) => simdConvOneChannel(scope, a, b, g)), x, w };
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

const cases: SimdCase[] = [
  { name: '1 → 16, 3×3 same (the autoencoder first layer)', x: [3, 28, 28, 1], cout: 16, k: [3, 3], d: [1, 1], padding: 'same' },
  { name: '16 → 1, 3×3 same (the autoencoder last layer)', x: [3, 28, 28, 16], cout: 1, k: [3, 3], d: [1, 1], padding: 'same' },
  { name: '1 → 5 (a 4-block and one single channel), dilation 2×1, valid', x: [2, 9, 8, 1], cout: 5, k: [3, 2], d: [2, 1], padding: 'valid' },
  { name: '7 → 1 (4 + 3 channels), 2×3 kernel, dilation 1×2, same', x: [2, 6, 11, 7], cout: 1, k: [2, 3], d: [1, 2], padding: 'same' },
  { name: '1 → 20 (16 + 4 channels), batch 1, 4×1 kernel, same', x: [1, 5, 6, 1], cout: 20, k: [4, 1], d: [1, 1], padding: 'same' },
  { name: '21 → 1 (16 + 4 + 1 channels), 3×2 kernel, valid', x: [2, 5, 6, 21], cout: 1, k: [3, 2], d: [1, 1], padding: 'valid' },
  { name: '3 → 1, 5×5 kernel wider than a 3×4 image, same (taps wholly outside)', x: [2, 3, 4, 3], cout: 1, k: [5, 5], d: [1, 1], padding: 'same' },
  { name: '1 → 2, dilation 3, same, 2 × 2 image', x: [2, 2, 2, 1], cout: 2, k: [3, 3], d: [3, 3], padding: 'same' },
];

describe('the one-channel WebAssembly SIMD kernels (one-channel-conv.wat)', () => {
  afterEach(() => {
    delete process.env[ONE_CHANNEL_SIMD_ENV];
  });

  it('can be instantiated on the wasm backend heap here (Node 20+, WebAssembly SIMD)', async () => {
    await activateEngine('wasm');
    expect(oneChannelSimdAvailable(tf.backend())).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('matches the float64 reference: %s', async (_name, c) => {
    await activateEngine('wasm');
    const { result, x, dy } = runSimd(c, 31);
    expect(result).not.toBeNull();
    expect(maxAbsDiff(result!, conv2dFilterGradReference(x, dy, c.k, [1, 1], c.d, c.padding))).toBeLessThan(1e-4);
  });

  it('declines a strided convolution (the caller falls back to the convolution forms)', async () => {
    await activateEngine('wasm');
    const strided: SimdCase = { name: 'strided', x: [1, 8, 8, 1], cout: 4, k: [3, 3], d: [1, 1], s: [2, 1], padding: 'same' };
    expect(runSimd(strided, 5).result).toBeNull();
  });

  it('declines a convolution with no single-channel operand', async () => {
    await activateEngine('wasm');
    expect(runSimd({ name: '2 → 3', x: [1, 5, 5, 2], cout: 3, k: [3, 3], d: [1, 1], padding: 'same' }, 6).result).toBeNull();
  });

  it('declines on the cpu backend (no wasm heap)', async () => {
    await activateEngine('cpu');
    expect(runSimd(cases[0], 7).result).toBeNull();
  });

  it(`is turned off by ${ONE_CHANNEL_SIMD_ENV}=0`, async () => {
    await activateEngine('wasm');
    process.env[ONE_CHANNEL_SIMD_ENV] = '0';
    expect(runSimd(cases[0], 8).result).toBeNull();
  });

  it('Conv2DBackpropFilter on wasm agrees with the kernel turned off (XNNPACK matrix-product path) on the 16 → 1 layer', async () => {
    await activateEngine('wasm');
    const c = cases[1];
    const g = geometry(c);
    const x = data(c.x, 9);
    const dy = data([g.batch, g.outHeight, g.outWidth, c.cout], 10);
    const run = () =>
      tf.tidy(
        () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x.data, [...x.shape]), dy: tf.tensor(dy.data, [...dy.shape]) }, {
            strides: [1, 1],
            pad: c.padding,
            dataFormat: 'NHWC',
            filterShape: [c.k[0], c.k[1], g.inChannels, c.cout],
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      );
    const read = (t: tf.Tensor): Tensor => {
      const out = { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
      t.dispose();
      return out;
    };
    const simd = read(run());
    process.env[ONE_CHANNEL_SIMD_ENV] = '0';
    const fallback = read(run());
    expect(maxAbsDiff(simd, fallback)).toBeLessThan(1e-3);
  });

  it.each(cases.map((c) => [c.name, c] as const))('its forward convolution matches the float64 reference: %s', async (_name, c) => {
    await activateEngine('wasm');
    const { result, x, w } = runForward(c, 41);
    expect(result).not.toBeNull();
    expect(maxAbsDiff(result!, conv2dReference(x, w, [1, 1], c.d, c.padding))).toBeLessThan(1e-4);
  });

  it('its forward convolution declines a strided convolution', async () => {
    await activateEngine('wasm');
    const strided: SimdCase = { name: 'strided', x: [1, 8, 8, 1], cout: 4, k: [3, 3], d: [1, 1], s: [1, 2], padding: 'same' };
    expect(runForward(strided, 11).result).toBeNull();
  });

  it('Conv2D on wasm matches the float64 reference on a dilated one-channel convolution (the route to the SIMD kernel)', async () => {
    await activateEngine('wasm');
    const c = cases[3];
    const x = data(c.x, 12);
    const w = data([c.k[0], c.k[1], c.x[3], c.cout], 13);
    const y = tf.tidy(() => tf.conv2d(tf.tensor4d(x.data, [...c.x]), tf.tensor4d(w.data, [c.k[0], c.k[1], c.x[3], c.cout]), 1, c.padding, 'NHWC', c.d));
    const out = { shape: [...y.shape], data: Float32Array.from(y.dataSync() as Float32Array) };
    y.dispose();
    expect(maxAbsDiff(out, conv2dReference(x, w, [1, 1], c.d, c.padding))).toBeLessThan(1e-4);
  });

  it('one-channel-conv.generated.ts is what scripts/compile-wat.mjs makes of the .wat now', () => {
    const script = fileURLToPath(new URL('../scripts/compile-wat.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
