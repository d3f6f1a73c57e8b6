import { conv2d, dense, flatten, Random, sequential, trainingSpec, type Model, type Tensor } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends.js';

const BATCH = 256;
const EPS = 1e-7;

/** MNIST-like images: about 80% exact zeros (background), the rest in (0.2, 1]. */
function mnistLike(n: number, seed: number): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(n * 28 * 28);
  for (let i = 0; i < data.length; i++) {
    const u = rng.next();
    data[i] = u < 0.8 ? 0 : Math.fround(0.2 + 4 * (u - 0.8));
  }
  return { shape: [n, 28, 28, 1], data };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * float64 reference of `conv2d(filters, 3×3, same, sigmoid)` + binary
 * cross-entropy (core's formula: probabilities clipped to [ε, 1 − ε]) on
 * float32 weights and data: the loss and dLoss/dbias.
 */
function convReference(model: Model, x: Tensor, y: Tensor): { loss: number; biasGrad: Float64Array } {
  const [kernel, bias] = model.getWeights();
  const filters = bias.shape[0];
  const n = x.shape[0];
  const count = n * 28 * 28 * filters;
  let loss = 0;
  const biasGrad = new Float64Array(filters);
  for (let s = 0; s < n; s++)
    for (let i = 0; i < 28; i++)
      for (let j = 0; j < 28; j++)
        for (let f = 0; f < filters; f++) {
          let z = bias.data[f];
          for (let di = 0; di < 3; di++)
            for (let dj = 0; dj < 3; dj++) {
              const ii = i + di - 1;
              const jj = j + dj - 1;
              if (ii < 0 || ii >= 28 || jj < 0 || jj >= 28) continue;
              z += x.data[(s * 28 + ii) * 28 + jj] * kernel.data[(di * 3 + dj) * filters + f];
            }
          const p = sigmoid(z);
          const t = y.data[((s * 28 + i) * 28 + j) * filters + f];
          const pc = Math.min(1 - EPS, Math.max(EPS, p));
          loss -= t * Math.log(pc) + (1 - t) * Math.log(1 - pc);
          if (p >= EPS && p <= 1 - EPS) biasGrad[f] += (p - t) / count;
        }
  return { loss: loss / count, biasGrad };
}

/** float64 reference of `dense(units, sigmoid)` on flattened images + binary cross-entropy. */
function denseReference(model: Model, x: Tensor, y: Tensor): { loss: number; biasGrad: Float64Array } {
  const [kernel, bias] = model.getWeights();
  const units = bias.shape[0];
  const n = x.shape[0];
  const inputs = 784;
  let loss = 0;
  const biasGrad = new Float64Array(units);
  for (let s = 0; s < n; s++)
    for (let u = 0; u < units; u++) {
      let z = bias.data[u];
      for (let k = 0; k < inputs; k++) z += x.data[s * inputs + k] * kernel.data[k * units + u];
      const p = sigmoid(z);
      const t = y.data[s * units + u];
      const pc = Math.min(1 - EPS, Math.max(EPS, p));
      loss -= t * Math.log(pc) + (1 - t) * Math.log(1 - pc);
      if (p >= EPS && p <= 1 - EPS) biasGrad[u] += (p - t) / (n * units);
    }
  return { loss: loss / (n * units), biasGrad };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const CASES: [string, () => Model, (m: Model, x: Tensor, y: Tensor) => { loss: number; biasGrad: Float64Array }, (x: Tensor) => Tensor][] = [
  [
    'conv2d 1 filter (the autoencoder output layer)',
    () => sequential({ inputShape: [28, 28, 1], layers: [conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' })], seed: 4 }),
    convReference,
    (x) => x,
  ],
  [
    'conv2d 4 filters',
    () => sequential({ inputShape: [28, 28, 1], layers: [conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'sigmoid' })], seed: 5 }),
    convReference,
    (x) => {
      const data = new Float32Array(x.data.length * 4);
      for (let i = 0; i < x.data.length; i++) data.fill(x.data[i], i * 4, i * 4 + 4);
      return { shape: [x.shape[0], 28, 28, 4], data };
    },
  ],
  [
    'dense 10 units on 784 pixels',
    () => sequential({ inputShape: [28, 28, 1], layers: [flatten(), dense({ units: 10, activation: 'sigmoid' })], seed: 6 }),
    denseReference,
    (x) => {
      const rng = new Random(8);
      const data = new Float32Array(x.shape[0] * 10);
      for (let i = 0; i < data.length; i++) data[i] = rng.next() < 0.1 ? 1 : 0;
      return { shape: [x.shape[0], 10], data };
    },
  ],
];

describe.each(BACKENDS)('loss and bias gradients match float64 at batch 256 on MNIST-like data (issue 16, item 9): %s', (backendName, makeBackend) => {
  it.each(CASES)('%s: within 1e-6 relative', async (_, build, reference, targets) => {
    const m = build();
    const x = mnistLike(BATCH, 31);
    const y = targets(x);
    const c = await makeBackend().compile(m.graph, trainingSpec(m.graph, 'binaryCrossentropy', 'adam'));
    try {
      await c.setWeights(m.getWeights());
      const ref = reference(m, x, y);
      const g = await c.gradients([x], [y]);
      const { loss: evaluated } = await c.evaluate([x], [y]);
      const { loss: stepLoss } = await c.trainStep([x], [y]);
      const biasIndex = g.weights.length - 1;
      const biasErrors = Array.from(ref.biasGrad, (r, i) => relative(g.weights[biasIndex].data[i], r));
      const errors = {
        gradientsLoss: relative(g.loss, ref.loss),
        evaluate: relative(evaluated, ref.loss),
        trainStep: relative(stepLoss, ref.loss),
        bias: Math.max(...biasErrors),
      };
      console.log(`${backendName} ${_}: relative errors vs float64 ${JSON.stringify(errors)}`);
      expect(errors.gradientsLoss).toBeLessThan(1e-6);
      expect(errors.evaluate).toBeLessThan(1e-6);
      expect(errors.trainStep).toBeLessThan(1e-6);
      expect(errors.bias).toBeLessThan(1e-6);
    } finally {
      c.dispose();
    }
  });
});
