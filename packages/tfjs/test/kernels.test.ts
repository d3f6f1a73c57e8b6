import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Random, convAxisPadding, type Padding, type Tensor } from '@araboza/core';
import { activateEngine } from '../src/engines.js';
import {
  conv2dFilterGradByInput,
  conv2dFilterGradByOutput,
  conv2dFilterGradOneChannel,
  conv2dInputGrad,
  type Conv2dGeometry,
} from '../src/kernels/conv-grad-math.js';
import { KernelScope } from '../src/kernels/kernel-scope.js';
import { conv2dFilterGradReference, conv2dInputGradReference, maxPoolGradReference } from '@araboza/conformance/reference';
import { convGeometry, data } from './helpers.js';

/** Runs `f` on an engine and returns its result as a host tensor. */
async function runOn(engine: 'wasm' | 'cpu', f: () => tf.Tensor): Promise<Tensor> {
  await activateEngine(engine);
  const t = tf.tidy(f);
  const out = { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
  t.dispose();
  return out;
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

const engineTensor = (t: Tensor) => tf.tensor(t.data, [...t.shape]);

interface ConvCase {
  b: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: [number, number];
  s: [number, number];
  padding: Padding;
}

/** Random convolution shapes for every stride 1–3 and both paddings (seeded). */
function convCases(seed: number): ConvCase[] {
  const rng = new Random(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
  const cases: ConvCase[] = [];
  for (const stride of [1, 2, 3])
    for (const padding of ['same', 'valid'] as const)
      for (let rep = 0; rep < 2; rep++) {
        const k: [number, number] = [int(1, 4), int(1, 4)];
        cases.push({ b: int(1, 3), h: int(k[0], 11), w: int(k[1], 11), cin: int(1, 5), cout: int(1, 5), k, s: [stride, int(1, 3)], padding });
      }
  // Single-channel operands take their own path at stride 1.
  for (const padding of ['same', 'valid'] as const) {
    cases.push({ b: 2, h: 7, w: 6, cin: 1, cout: 3, k: [3, 2], s: [1, 1], padding });
    cases.push({ b: 2, h: 6, w: 7, cin: 4, cout: 1, k: [2, 3], s: [1, 1], padding });
  }
  return cases;
}

const describeCase = (c: ConvCase) => `x [${c.b},${c.h},${c.w},${c.cin}] k ${c.k} → ${c.cout}, strides ${c.s}, ${c.padding}`;

function outLength(c: ConvCase, axis: 0 | 1): number {
  return convAxisPadding(axis === 0 ? c.h : c.w, c.k[axis], c.s[axis], 1, c.padding).out;
}

describe('wasm gradient kernels match the cpu kernels (and, for those replaced on cpu too, a naive reference)', () => {
  it.each(convCases(11).map((c) => [describeCase(c), c] as const))('Conv2DBackpropFilter: %s', async (_name, c) => {
    const x = data([c.b, c.h, c.w, c.cin], 1);
    const dy = data([c.b, outLength(c, 0), outLength(c, 1), c.cout], 2);
    const run = () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: engineTensor(x), dy: engineTensor(dy) }, {
        strides: c.s,
        pad: c.padding,
        dataFormat: 'NHWC',
        filterShape: [c.k[0], c.k[1], c.cin, c.cout],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(maxAbsDiff(await runOn('wasm', run), await runOn('cpu', run))).toBeLessThan(1e-5);
    // cpu runs araboza's kernel too (tfjs's is ~100× slower), so both are also checked against a naive reference.
    const ref = conv2dFilterGradReference(x, dy, c.k, c.s, [1, 1], c.padding);
    expect(maxAbsDiff(await runOn('wasm', run), ref)).toBeLessThan(1e-4);
  });

  // wasm's Conv2D runs these as depthwise convolutions (one input channel: channel multiplier; one output channel: + a channel sum).
  const oneChannelCases = convCases(14).flatMap((c) => [
    { ...c, cin: 1 },
    { ...c, cout: 1 },
  ]);
  it.each(oneChannelCases.map((c) => [describeCase(c), c] as const))('Conv2D with one input or output channel: %s', async (_name, c) => {
    const x = data([c.b, c.h, c.w, c.cin], 15);
    const filter = data([c.k[0], c.k[1], c.cin, c.cout], 16);
    const run = () => tf.conv2d(engineTensor(x) as tf.Tensor4D, engineTensor(filter) as tf.Tensor4D, c.s, c.padding);
    expect(maxAbsDiff(await runOn('wasm', run), await runOn('cpu', run))).toBeLessThan(1e-5);
  });

  it('Conv2D with one output channel and explicit padding matches cpu', async () => {
    const x = data([2, 6, 7, 3], 17);
    const filter = data([3, 2, 3, 1], 18);
    const run = () =>
      tf.conv2d(
        engineTensor(x) as tf.Tensor4D,
        engineTensor(filter) as tf.Tensor4D,
        [2, 1],
        [
          [0, 0],
          [2, 0],
          [1, 1],
          [0, 0],
        ],
      );
    expect(maxAbsDiff(await runOn('wasm', run), await runOn('cpu', run))).toBeLessThan(1e-5);
  });

  it.each(convCases(12).map((c) => [describeCase(c), c] as const))('Conv2DBackpropInput: %s', async (_name, c) => {
    const dy = data([c.b, outLength(c, 0), outLength(c, 1), c.cout], 3);
    const filter = data([c.k[0], c.k[1], c.cin, c.cout], 4);
    const run = () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: engineTensor(dy), filter: engineTensor(filter) }, {
        strides: c.s,
        pad: c.padding,
        dataFormat: 'NHWC',
        inputShape: [c.b, c.h, c.w, c.cin],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(maxAbsDiff(await runOn('wasm', run), await runOn('cpu', run))).toBeLessThan(1e-5);
  });

  it.each(convCases(13).map((c) => [describeCase(c), c] as const))('MaxPoolGrad (with ties from relu zeros): %s', async (_name, c) => {
    const relu = data([c.b, c.h, c.w, c.cin], 5);
    // Half the inputs are exactly 0, as after a relu, so windows hold ties; the first maximum must win.
    const x = { shape: relu.shape, data: relu.data.map((v) => Math.max(v, 0)) };
    const out = [outLength(c, 0), outLength(c, 1)];
    const dy = data([c.b, out[0], out[1], c.cin], 6);
    const run = () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, c.k, c.s, c.padding), engineTensor(dy))))(engineTensor(x));
    expect(maxAbsDiff(await runOn('wasm', run), await runOn('cpu', run))).toBeLessThan(1e-6);
    expect(maxAbsDiff(await runOn('wasm', run), maxPoolGradReference(x, dy, c.k, c.s, c.padding))).toBeLessThan(1e-6);
  });
});

describe('MaxPoolGrad on 2×2 pools (unrolled for whole windows) keeps the first-maximum rule', () => {
  const cases = [
    { h: 7, w: 6, s: [2, 2] as [number, number], padding: 'same' as const },
    { h: 6, w: 7, s: [1, 1] as [number, number], padding: 'same' as const },
    { h: 5, w: 5, s: [2, 1] as [number, number], padding: 'valid' as const },
    // Disjoint windows tiling the whole input (the residual network's pool), written without zeroing dx first.
    { h: 8, w: 6, s: [2, 2] as [number, number], padding: 'valid' as const },
    // Disjoint windows that leave the last row and column out: dx is zeroed first.
    { h: 5, w: 7, s: [2, 2] as [number, number], padding: 'valid' as const },
  ];
  it.each(cases)('$h×$w, strides $s, $padding, with ties, NaN and −Infinity', async ({ h, w, s, padding }) => {
    const raw = data([2, h, w, 3], 19);
    // Ties (relu zeros), NaN (never wins) and −Infinity (never wins) in whole windows and at the edges.
    const x = { shape: raw.shape, data: raw.data.map((v, i) => (i % 11 === 3 ? Number.NaN : i % 13 === 5 ? Number.NEGATIVE_INFINITY : Math.max(v, 0))) };
    const out = [convAxisPadding(h, 2, s[0], 1, padding).out, convAxisPadding(w, 2, s[1], 1, padding).out];
    const dy = data([2, out[0], out[1], 3], 20);
    // Called directly (a forward max pool would turn NaN windows into NaN); the kernel reads no `output`.
    const run = () =>
      tf.engine().runKernel('MaxPoolGrad', { dy: engineTensor(dy), input: engineTensor(x), output: engineTensor(dy) }, {
        filterSize: [2, 2],
        strides: s,
        pad: padding,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const ref = maxPoolGradReference(x, dy, [2, 2], s, padding);
    expect(maxAbsDiff(await runOn('wasm', run), ref)).toBe(0);
    expect(maxAbsDiff(await runOn('cpu', run), ref)).toBe(0);
  });
});

/** Geometry of a stride-1 dilated convolution, as the kernels see it. */
function dilatedGeometry(b: number, h: number, w: number, cin: number, cout: number, k: number, d: number, padding: Padding): Conv2dGeometry {
  return convGeometry([b, h, w, cin], cout, [k, k], [1, 1], [d, d], padding);
}

describe('every convolution gradient formulation, with dilation 2 (tfjs kernels have no dilation attribute), matches a naive reference', () => {
  const cases = (['same', 'valid'] as const).flatMap((padding) => [
    { padding, cin: 3, cout: 2 },
    { padding, cin: 2, cout: 5 },
    { padding, cin: 1, cout: 4 },
    { padding, cin: 3, cout: 1 },
  ]);
  it.each(cases)('$padding, cin $cin, cout $cout', async ({ padding, cin, cout }) => {
    await activateEngine('wasm');
    const g = dilatedGeometry(2, 9, 8, cin, cout, 3, 2, padding);
    const x = data([2, 9, 8, cin], 7);
    const dy = data([2, g.outHeight, g.outWidth, cout], 8);
    const filter = data([3, 3, cin, cout], 9);
    const backend = tf.backend();
    const viaKernels = (f: (scope: KernelScope, a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo, a: Tensor, b: Tensor) =>
      tf.tidy(() => {
        const [ta, tb] = [engineTensor(a), engineTensor(b)];
        const info = f(new KernelScope(backend, 'wasm'), ta, tb);
        const t = tf.engine().makeTensorFromTensorInfo(info);
        return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
      });
    const refW = conv2dFilterGradReference(x, dy, [3, 3], [1, 1], [2, 2], padding);
    const refX = conv2dInputGradReference(dy, filter, x.shape, [1, 1], [2, 2], padding);
    expect(
      maxAbsDiff(
        viaKernels((s, a, b) => conv2dFilterGradByInput(s, a, b, g), x, dy),
        refW,
      ),
    ).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(
        viaKernels((s, a, b) => conv2dFilterGradByOutput(s, a, b, g), x, dy),
        refW,
      ),
    ).toBeLessThan(1e-4);
    if (cin === 1 || cout === 1)
      expect(
        maxAbsDiff(
          viaKernels((s, a, b) => conv2dFilterGradOneChannel(s, a, b, g), x, dy),
          refW,
        ),
      ).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(
        viaKernels((s, a, b) => conv2dInputGrad(s, a, b, g), dy, filter),
        refX,
      ),
    ).toBeLessThan(1e-4);
  });
});
