import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { randomNormal, randomUniform, type Tensor } from '@araboza/core';
import { maxPoolGradReference } from '@araboza/conformance/reference';
import { activateEngine } from '../src/engines.js';
import { simdBatchNormTraining, simdBatchNormTrainingGrad } from '../src/kernels/batch-norm-simd.js';
import { KernelScope } from '../src/kernels/kernel-scope.js';
import { simdMaxPoolGrad } from '../src/kernels/max-pool-grad-simd.js';
import { SIMD_ENV } from '../src/kernels/simd-module.js';

const EPSILON = 1e-3;

/** A kernel's outputs read back as float32 arrays and freed. */
function readBack(infos: tf.TensorInfo[]): Float32Array[] {
  return infos.map((info) => {
    const t = tf.engine().makeTensorFromTensorInfo(info);
    const data = Float32Array.from(t.dataSync() as Float32Array);
    t.dispose();
    return data;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Per-channel float64 mean and biased variance of `x` (`[rows, c]` flat). */
function statistics(x: ArrayLike<number>, c: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i];
  mean.forEach((s, ch) => (mean[ch] = s / rows));
  for (let i = 0; i < x.length; i++) variance[i % c] += (x[i] - mean[i % c]) ** 2;
  variance.forEach((s, ch) => (variance[ch] = s / rows));
  return { mean, variance };
}

/** Runs the forward SIMD kernel on the wasm backend: [y, mean, variance], or null when it declined. */
function runForward(x: Tensor, gamma: Tensor, beta: Tensor): Float32Array[] | null {
  const c = x.shape[x.shape.length - 1];
  const inputs = [x, gamma, beta].map((t) => tf.tensor(t.data, [...t.shape]));
  const scope = new KernelScope(tf.backend(), tf.getBackend());
  const out = simdBatchNormTraining(scope, inputs[0], inputs[1], inputs[2], x.data.length / c, c, EPSILON);
  inputs.forEach((t) => t.dispose());
  return out ? readBack(scope.finishAll(out)) : null;
}

/** Seeded x (normal, `mean` and `stddev`), gamma (uniform in [0.5, 1.5]) and beta (uniform in [−1, 1]) of a batch normalisation. */
function bnInputs(shape: number[], seed: number, mean: number, stddev: number): { c: number; x: Tensor; gamma: Tensor; beta: Tensor } {
  const c = shape[shape.length - 1];
  return {
    c,
    x: randomNormal(shape, { seed, mean, stddev }),
    gamma: randomUniform([c], { seed: seed + 1, minval: 0.5, maxval: 1.5 }),
    beta: randomUniform([c], { seed: seed + 2, minval: -1, maxval: 1 }),
  };
}

/** The batch-normalisation cases: 16-, 8- and 4-channel blocks and the scalar tail, batch 1. */
const bnCases = [
  { name: '16 channels (one block of 16), batch 4', shape: [4, 6, 5, 16] },
  { name: '31 channels (16 + 8 + 4 + 3)', shape: [3, 5, 2, 31] },
  { name: '40 channels (16 + 16 + 8)', shape: [2, 3, 4, 40] },
  { name: '12 channels (8 + 4)', shape: [2, 5, 3, 12] },
  { name: '5 channels (4 + 1)', shape: [3, 4, 4, 5] },
  { name: '3 channels (the scalar tail only), batch 1', shape: [1, 7, 6, 3] },
  { name: '11 channels (8 + 3), rows as a 2-D tensor', shape: [9, 11] },
];

describe('batch-norm.wat (training-mode batch normalisation in WebAssembly SIMD)', () => {
  afterEach(() => {
    delete process.env[SIMD_ENV];
  });

  it.each(bnCases)('$name: y, mean and variance match a float64 reference', async ({ shape }) => {
    await activateEngine('wasm');
    const { c, x, gamma, beta } = bnInputs(shape, 21, 3, 2);
    const got = runForward(x, gamma, beta);
    expect(got).not.toBeNull();
    const { mean, variance } = statistics(x.data, c);
    const y = x.data.map((v, i) => ((v - mean[i % c]) / Math.sqrt(variance[i % c] + EPSILON)) * gamma.data[i % c] + beta.data[i % c]);
    expect(maxAbsDiff(got![0], y)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got![1], mean)).toBeLessThan(1e-6);
    expect(maxAbsDiff(got![2], variance)).toBeLessThan(1e-5);
  });

  it('sums the statistics in float64: the mean of 2^20 rows of 0.1 has no float32 drift', async () => {
    await activateEngine('wasm');
    const c = 13;
    const rows = 1 << 20;
    // A float32 running sum of 2^20 values of 0.1 is off by ~1 % (it stops growing by 0.1 exactly past 2^18).
    const x = { shape: [rows, c], data: new Float32Array(rows * c).fill(0.1) };
    const got = runForward(x, { shape: [c], data: new Float32Array(c).fill(1) }, { shape: [c], data: new Float32Array(c) });
    expect(got).not.toBeNull();
    expect(maxAbsDiff(got![1], new Float32Array(c).fill(0.1))).toBe(0);
    expect(maxAbsDiff(got![2], new Float32Array(c))).toBeLessThan(1e-12);
  });

  it.each(bnCases)('$name: y, mean and variance are bit for bit those of the JS kernel (the module turned off)', async ({ shape }) => {
    await activateEngine('wasm');
    const { x, gamma, beta } = bnInputs(shape, 39, 5, 0.5);
    const run = () =>
      tf.tidy(() =>
        (
          tf
            .engine()
            .runKernel(
              'ArabozaBatchNormTraining',
              { x: tf.tensor(x.data, shape), gamma: tf.tensor(gamma.data), beta: tf.tensor(beta.data) },
              { epsilon: EPSILON },
            ) as tf.Tensor[]
        ).map((t) => Float32Array.from(t.dataSync() as Float32Array)),
      );
    const simd = run();
    process.env[SIMD_ENV] = 'batch-norm';
    const js = run();
    simd.forEach((out, i) => expect(maxAbsDiff(out, js[i])).toBe(0));
  });

  it.each(bnCases)('$name: dx, dGamma and dBeta are bit for bit those of the JS kernel (the module turned off)', async ({ shape }) => {
    await activateEngine('wasm');
    const { c, x, gamma, beta } = bnInputs(shape, 24, -1, 1.5);
    const w = randomNormal(shape, { seed: 27 });
    const u = randomNormal([c], { seed: 28 });
    const v = randomNormal([c], { seed: 29 });
    const grads = () =>
      tf.tidy(() => {
        const loss = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const [y, mean, variance] = tf.engine().runKernel('ArabozaBatchNormTraining', { x: xs, gamma: g, beta: b }, { epsilon: EPSILON }) as tf.Tensor[];
          return tf.addN([tf.sum(tf.mul(y, tf.tensor(w.data, shape))), tf.sum(tf.mul(mean, tf.tensor(u.data))), tf.sum(tf.mul(variance, tf.tensor(v.data)))]);
        };
        return tf
          .grads(loss)([tf.tensor(x.data, shape), tf.tensor(gamma.data), tf.tensor(beta.data)])
          .map((t) => Float32Array.from(t.dataSync() as Float32Array));
      });
    const simd = grads();
    process.env[SIMD_ENV] = 'batch-norm';
    const js = grads();
    simd.forEach((g, i) => expect(maxAbsDiff(g, js[i])).toBe(0));
  });

  it('its gradient kernel on zero dMean and dVariance is the textbook dx = γ·s·(dy − mean(dy) − x̂·mean(dy·x̂))', async () => {
    await activateEngine('wasm');
    const shape = [2, 3, 3, 6];
    const c = 6;
    const x = randomNormal(shape, { seed: 30, mean: 2 });
    const dy = randomNormal(shape, { seed: 31 });
    const gamma = randomUniform([c], { seed: 32, minval: 0.5, maxval: 1.5 });
    const { mean, variance } = statistics(x.data, c);
    const rows = x.data.length / c;
    const t = (data: ArrayLike<number>, s: number[]) => tf.tensor(Float32Array.from(data), s);
    const inputs = {
      dy: t(dy.data, shape),
      x: t(x.data, shape),
      gamma: t(gamma.data, [c]),
      mean: t(mean, [c]),
      variance: t(variance, [c]),
      dMean: tf.zeros([c]),
      dVariance: tf.zeros([c]),
    };
    const scope = new KernelScope(tf.backend(), tf.getBackend());
    const out = simdBatchNormTrainingGrad(scope, inputs, rows, c, EPSILON);
    Object.values(inputs).forEach((i) => i.dispose());
    expect(out).not.toBeNull();
    const [dx, dGamma, dBeta] = readBack(scope.finishAll(out!));
    // float64 reference from float32-rounded statistics (what the kernel is given).
    const m = Float32Array.from(mean);
    const s = Float32Array.from(variance).map((vc) => 1 / Math.sqrt(vc + EPSILON));
    const xHat = x.data.map((v, i) => (v - m[i % c]) * s[i % c]);
    const sumDy = new Float64Array(c);
    const sumDyXHat = new Float64Array(c);
    dy.data.forEach((g, i) => {
      sumDy[i % c] += g;
      sumDyXHat[i % c] += g * xHat[i];
    });
    const want = dy.data.map((g, i) => gamma.data[i % c] * s[i % c] * (g - sumDy[i % c] / rows - (xHat[i] * sumDyXHat[i % c]) / rows));
    expect(maxAbsDiff(dx, want)).toBeLessThan(1e-5);
    expect(maxAbsDiff(dGamma, sumDyXHat)).toBeLessThan(1e-4);
    expect(maxAbsDiff(dBeta, sumDy)).toBeLessThan(1e-5);
  });

  it('gives dx exactly 0 for a batch of one row (y = beta whatever x: a·dy and k cancel exactly)', async () => {
    await activateEngine('wasm');
    const c = 21;
    const gamma = randomUniform([c], { seed: 52, minval: 0.5, maxval: 1.5 });
    const grads = tf.tidy(() => {
      const loss = (xs: tf.Tensor) => {
        const [y] = tf
          .engine()
          .runKernel('ArabozaBatchNormTraining', { x: xs, gamma: tf.tensor(gamma.data), beta: tf.zeros([c]) }, { epsilon: EPSILON }) as tf.Tensor[];
        return tf.sum(tf.mul(y, tf.tensor(randomNormal([1, c], { seed: 50, stddev: 3 }).data, [1, c])));
      };
      return Float32Array.from(
        tf
          .grad(loss)(tf.tensor(randomNormal([1, c], { seed: 51 }).data, [1, c]))
          .dataSync() as Float32Array,
      );
    });
    expect(maxAbsDiff(grads, new Float32Array(c))).toBe(0);
  });

  it(`is turned off by ${SIMD_ENV}=batch-norm (the JS kernel runs instead)`, async () => {
    await activateEngine('wasm');
    process.env[SIMD_ENV] = 'one-channel-conv,batch-norm';
    expect(runForward(randomNormal([2, 4], { seed: 33 }), randomNormal([4], { seed: 34 }), randomNormal([4], { seed: 35 }))).toBeNull();
  });

  it('declines on the cpu backend (no wasm heap)', async () => {
    await activateEngine('cpu');
    expect(runForward(randomNormal([2, 4], { seed: 36 }), randomNormal([4], { seed: 37 }), randomNormal([4], { seed: 38 }))).toBeNull();
  });
});

/** x of a pool with ties (relu zeros), NaN and −Infinity scattered in it. */
function poolInput(shape: number[], seed: number): Tensor {
  const raw = randomUniform(shape, { seed, minval: -1, maxval: 1 });
  return { shape, data: raw.data.map((v, i) => (i % 17 === 3 ? Number.NaN : i % 19 === 5 ? Number.NEGATIVE_INFINITY : Math.max(v, 0))) };
}

/** The SIMD kernel's dx for a 2×2 pool of `x` with `strides` and `padding`, or null when it declined. */
function runPool(x: Tensor, dy: Tensor, strides: [number, number], padding: 'valid' | 'same'): Float32Array | null {
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], [2, 2], strides, 1, padding);
  const [tx, tdy] = [tf.tensor(x.data, [...x.shape]), tf.tensor(dy.data, [...dy.shape])];
  const out = simdMaxPoolGrad(tf.backend(), tx, tdy, info);
  tx.dispose();
  tdy.dispose();
  return out ? readBack([out])[0] : null;
}

const poolCases = [
  { name: '[3, 8, 6, 16] (four channel blocks)', shape: [3, 8, 6, 16] },
  { name: '[2, 4, 10, 5] (a block and one channel)', shape: [2, 4, 10, 5] },
  { name: '[1, 6, 6, 3] (batch 1, the scalar channels only)', shape: [1, 6, 6, 3] },
  { name: '[2, 2, 2, 8] (one window per image)', shape: [2, 2, 2, 8] },
];

describe('max-pool-grad.wat (2×2 stride-2 tiled MaxPoolGrad in WebAssembly SIMD)', () => {
  afterEach(() => {
    delete process.env[SIMD_ENV];
  });

  it.each(poolCases)('$name: the first maximum of each window gets the gradient, with ties, NaN and −Infinity', async ({ shape }) => {
    await activateEngine('wasm');
    const x = poolInput(shape, 41);
    const dy = randomNormal([shape[0], shape[1] / 2, shape[2] / 2, shape[3]], { seed: 42 });
    const got = runPool(x, dy, [2, 2], 'valid');
    expect(got).not.toBeNull();
    expect(maxAbsDiff(got!, maxPoolGradReference(x, dy, [2, 2], [2, 2], 'valid').data)).toBe(0);
  });

  it('gives a window of equal values (relu zeros) to its top-left element', async () => {
    await activateEngine('wasm');
    const x = { shape: [1, 2, 2, 4], data: new Float32Array(16) };
    const dy = { shape: [1, 1, 1, 4], data: Float32Array.from([1, 2, 3, 4]) };
    expect(Array.from(runPool(x, dy, [2, 2], 'same')!)).toEqual([1, 2, 3, 4, ...new Array(12).fill(0)]);
  });

  it.each([
    { name: 'odd height and width, same padding (the last windows cut)', shape: [2, 7, 5, 4], strides: [2, 2] as [number, number], padding: 'same' as const },
    { name: 'odd height, valid padding (the last row left out)', shape: [2, 5, 4, 4], strides: [2, 2] as [number, number], padding: 'valid' as const },
    { name: 'stride 1 (overlapping windows)', shape: [1, 4, 4, 4], strides: [1, 1] as [number, number], padding: 'valid' as const },
  ])('declines a pool that does not tile: $name', async ({ shape, strides, padding }) => {
    await activateEngine('wasm');
    const x = poolInput(shape, 43);
    const info = backend_util.computePool2DInfo(shape as [number, number, number, number], [2, 2], strides, 1, padding);
    expect(runPool(x, randomNormal([shape[0], info.outHeight, info.outWidth, shape[3]], { seed: 44 }), strides, padding)).toBeNull();
  });

  it(`is turned off by ${SIMD_ENV}=0`, async () => {
    await activateEngine('wasm');
    process.env[SIMD_ENV] = '0';
    expect(runPool(poolInput([1, 2, 2, 4], 45), randomNormal([1, 1, 1, 4], { seed: 46 }), [2, 2], 'valid')).toBeNull();
  });

  it('MaxPoolGrad on wasm (through tf.grad of a max pool) equals the JS kernel on the residual network pool shape', async () => {
    await activateEngine('wasm');
    const x = poolInput([4, 28, 28, 16], 47);
    const xClean = { shape: x.shape, data: x.data.map((v) => (Number.isFinite(v) ? v : 0)) };
    const dy = randomNormal([4, 14, 14, 16], { seed: 48 });
    const run = () =>
      tf.tidy(() => {
        const g = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid'), tf.tensor(dy.data, [...dy.shape]))));
        return Float32Array.from(g(tf.tensor(xClean.data, [...xClean.shape])).dataSync() as Float32Array);
      });
    const simd = run();
    process.env[SIMD_ENV] = 'max-pool-grad';
    expect(maxAbsDiff(simd, run())).toBe(0);
  });

  it('the generated modules are what scripts/compile-wat.mjs makes of the .wat files now', () => {
    const script = fileURLToPath(new URL('../scripts/compile-wat.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
