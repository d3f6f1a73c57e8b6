import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { randomNormal, randomUniform } from '@araboza/core';
import { activateEngine } from '../src/engines.js';
import { BATCH_NORM_TRAINING, batchNormTraining } from '../src/kernels/batch-norm.js';

const EPSILON = 1e-3;

/** Training-mode batch normalisation in float64 over the last axis: y, mean and biased variance. */
function reference(x: Float64Array, gamma: Float64Array, beta: Float64Array, c: number): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % c] += (x[i] - mean[i % c]) ** 2 / rows;
  const y = x.map((v, i) => ((v - mean[i % c]) / Math.sqrt(variance[i % c] + EPSILON)) * gamma[i % c] + beta[i % c]);
  return { y, mean, variance };
}

/** A scalar of all three outputs with fixed weights, so every output's gradient path is exercised. */
function referenceLoss(x: Float64Array, gamma: Float64Array, beta: Float64Array, c: number, w: Float32Array, u: Float32Array, v: Float32Array): number {
  const { y, mean, variance } = reference(x, gamma, beta, c);
  let loss = 0;
  y.forEach((t, i) => (loss += t * w[i]));
  mean.forEach((t, i) => (loss += t * u[i]));
  variance.forEach((t, i) => (loss += t * v[i]));
  return loss;
}

/** Central differences of `f` at `at` (float64, step 1e-6). */
function numericGradient(f: (p: Float64Array) => number, at: Float64Array): Float64Array {
  return at.map((_, i) => {
    const plus = Float64Array.from(at);
    const minus = Float64Array.from(at);
    plus[i] += 1e-6;
    minus[i] -= 1e-6;
    return (f(plus) - f(minus)) / 2e-6;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// 6 and 3 channels take the four-channel loops and the single-channel remainder; 8 only the former.
const cases = [
  { engine: 'wasm', shape: [3, 5, 4, 6] },
  { engine: 'wasm', shape: [7, 3] },
  { engine: 'wasm', shape: [2, 9, 8] },
  { engine: 'cpu', shape: [3, 5, 4, 6] },
  { engine: 'cpu', shape: [7, 3] },
] as const;

describe(`${BATCH_NORM_TRAINING} (training-mode batch normalisation kernel and its gradient)`, () => {
  it.each(cases)('$engine $shape: y, mean and variance match a float64 reference', async ({ engine, shape }) => {
    await activateEngine(engine);
    const c = shape[shape.length - 1];
    const x = randomNormal([...shape], { seed: 1, mean: 3, stddev: 2 });
    const gamma = randomUniform([c], { seed: 2, minval: 0.5, maxval: 1.5 });
    const beta = randomUniform([c], { seed: 3, minval: -1, maxval: 1 });
    const got = tf.tidy(() => {
      const r = batchNormTraining(tf.tensor(x.data, [...shape]), tf.tensor(gamma.data), tf.tensor(beta.data), EPSILON)!;
      return [r.y, r.mean, r.variance].map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
    const want = reference(Float64Array.from(x.data), Float64Array.from(gamma.data), Float64Array.from(beta.data), c);
    expect(maxAbsDiff(got[0], want.y)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got[1], want.mean)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got[2], want.variance)).toBeLessThan(1e-5);
  });

  it.each(cases)('$engine $shape: gradients of x, gamma and beta (through y, mean and variance) match central differences', async ({ engine, shape }) => {
    await activateEngine(engine);
    const c = shape[shape.length - 1];
    const x = randomNormal([...shape], { seed: 4, mean: -1, stddev: 1.5 });
    const gamma = randomUniform([c], { seed: 5, minval: 0.5, maxval: 1.5 });
    const beta = randomUniform([c], { seed: 6, minval: -1, maxval: 1 });
    const w = randomNormal([...shape], { seed: 7 }).data;
    const u = randomNormal([c], { seed: 8 }).data;
    const v = randomNormal([c], { seed: 9 }).data;
    const numTensors = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const loss = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const r = batchNormTraining(xs, g, b, EPSILON)!;
        return tf.addN([tf.sum(tf.mul(r.y, tf.tensor(w, [...shape]))), tf.sum(tf.mul(r.mean, tf.tensor(u))), tf.sum(tf.mul(r.variance, tf.tensor(v)))]);
      };
      const grads = tf.grads(loss)([tf.tensor(x.data, [...shape]), tf.tensor(gamma.data), tf.tensor(beta.data)]);
      return grads.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
    expect(tf.memory().numTensors).toBe(numTensors);
    const [x64, g64, b64] = [x, gamma, beta].map((t) => Float64Array.from(t.data));
    const wantX = numericGradient((p) => referenceLoss(p, g64, b64, c, w, u, v), x64);
    const wantGamma = numericGradient((p) => referenceLoss(x64, p, b64, c, w, u, v), g64);
    const wantBeta = numericGradient((p) => referenceLoss(x64, g64, p, c, w, u, v), b64);
    expect(maxAbsDiff(got[0], wantX)).toBeLessThan(1e-4);
    expect(maxAbsDiff(got[1], wantGamma)).toBeLessThan(1e-4);
    expect(maxAbsDiff(got[2], wantBeta)).toBeLessThan(1e-4);
  });
});
