import { layers, mnistAutoencoder, randomUniform, squeeze, tensor, zeros, type Backend, type Tensor } from '@araboza/core';
import { loadMnist } from '@araboza/datasets';
import { FORWARD_TOLERANCE, assertAllEqual, assertClose, assertShape, check } from '../assert.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** The full-HD batch of the study note: 64 images of 1920×1080×3 (1.6 GB of float32). */
export const FULL_HD_SHAPE = [64, 1920, 1080, 3] as const;

/** Host `x · kernel` over the last axis, the reference for the linear experiments on random data. */
function hostDense(x: Tensor, kernel: Tensor): Tensor {
  const [inF, outF] = kernel.shape;
  const rows = x.data.length / inF;
  const out = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * kernel.data[i * outF + o];
      out[r * outF + o] = s;
    }
  }
  return { shape: [...x.shape.slice(0, -1), outF], data: out };
}

/** Applies a bias-free dense(units) eagerly; checks output shape, kernel shape and parameter count. */
async function denseStep(backend: Backend, x: Tensor, units: number, outShape: number[], kernelShape: number[], what: string) {
  const layer = layers.dense({ units, useBias: false });
  const y = await layer.apply(x, { backend });
  assertShape(y, outShape, `${what} output`);
  const [kernel] = layer.getWeights();
  assertShape(kernel, kernelShape, `${what} kernel`);
  check(
    layer.countParams() === kernelShape[0] * kernelShape[1],
    () => `${what}: expected ${kernelShape[0] * kernelShape[1]} parameters, got ${layer.countParams()}`,
  );
  return { y, kernel, layer };
}

/** Experiment 1: [64, 4, 2] → dense(1) → [64, 4, 1] → [64, 4]; → dense(1) → [64, 1] → [64]. */
async function linearTwoSteps(ctx: CaseContext): Promise<void> {
  const { backend } = ctx;
  const x = zeros([64, 4, 2]);
  const s1 = await denseStep(backend, x, 1, [64, 4, 1], [2, 1], 'dense 1');
  assertAllEqual(s1.y, 0, 'dense 1 output of zeros');
  const h = squeeze(s1.y, -1);
  assertShape(h, [64, 4], 'squeezed dense 1 output');
  const s2 = await denseStep(backend, h, 1, [64, 1], [4, 1], 'dense 2');
  assertShape(squeeze(s2.y, -1), [64], 'squeezed dense 2 output');
  // The same layers on random data: the values are x · kernel, not just the shapes.
  const xr = randomUniform([64, 4, 2], { seed: 1, minval: -1, maxval: 1 });
  const yr = await s1.layer.apply(xr, { backend });
  assertClose(yr, hostDense(xr, s1.kernel), FORWARD_TOLERANCE, 'dense 1 on random data');
}

/** Experiment 2: dense(3) → dense(1) → squeeze → dense(1) → squeeze; 13 parameters. */
async function linearThreeSteps(ctx: CaseContext): Promise<void> {
  const { backend } = ctx;
  const x = randomUniform([64, 4, 2], { seed: 2, minval: -1, maxval: 1 });
  const s1 = await denseStep(backend, x, 3, [64, 4, 3], [2, 3], 'dense(3)');
  assertClose(s1.y, hostDense(x, s1.kernel), FORWARD_TOLERANCE, 'dense(3) values');
  const s2 = await denseStep(backend, s1.y, 1, [64, 4, 1], [3, 1], 'dense(1) #1');
  const h = squeeze(s2.y, -1);
  assertShape(h, [64, 4], 'squeezed dense(1) #1 output');
  const s3 = await denseStep(backend, h, 1, [64, 1], [4, 1], 'dense(1) #2');
  assertShape(squeeze(s3.y, -1), [64], 'squeezed dense(1) #2 output');
  const total = s1.layer.countParams() + s2.layer.countParams() + s3.layer.countParams();
  check(total === 13, `expected 13 parameters in total, got ${total}`);
}

/**
 * Experiment 3 on a real 1.6 GB tensor: conv2d(16, 5, stride 5, no bias) →
 * [64, 384, 216, 16] (1,200 parameters) → flatten → [64, 1327104] →
 * dense(1, no bias) → [64, 1] (1,327,104 parameters). Each big tensor is
 * dropped as soon as the next one exists, so at most two are alive.
 */
async function convFullHd(ctx: CaseContext): Promise<void> {
  const { backend } = ctx;
  const conv = layers.conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false });
  let x: Tensor | null = zeros(FULL_HD_SHAPE);
  let started = performance.now();
  let y: Tensor | null = await conv.apply(x, { backend });
  x = null;
  ctx.log(`conv2d on [${FULL_HD_SHAPE.join(', ')}]: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assertShape(y, [64, 384, 216, 16], 'conv2d output');
  check(conv.countParams() === 1200, `conv2d: expected 1200 parameters, got ${conv.countParams()}`);
  assertAllEqual(y, 0, 'conv2d output of zeros');
  started = performance.now();
  let f: Tensor | null = await layers.flatten().apply(y, { backend });
  y = null;
  assertShape(f, [64, 1327104], 'flatten output');
  const d = layers.dense({ units: 1, useBias: false });
  const out = await d.apply(f, { backend });
  f = null;
  ctx.log(`flatten + dense: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assertShape(out, [64, 1], 'dense output');
  check(d.countParams() === 1327104, `dense: expected 1327104 parameters, got ${d.countParams()}`);
  assertAllEqual(out, 0, 'dense output of zeros');
}

/** Output shape (without batch) of each autoencoder layer (Keras's shape rules). */
const AUTOENCODER_SHAPES = [
  [28, 28, 16],
  [14, 14, 16],
  [14, 14, 8],
  [7, 7, 8],
  [7, 7, 4],
  [4, 4, 4],
  [4, 4, 4],
  [8, 8, 4],
  [8, 8, 8],
  [16, 16, 8],
  [14, 14, 16],
  [28, 28, 16],
  [28, 28, 1],
];

/** Experiment 4's model: 3,369 parameters, the documented layer shapes, and a forward pass on real MNIST digits. */
async function autoencoderShapes(ctx: CaseContext): Promise<void> {
  const model = mnistAutoencoder({ seed: 0 });
  check(model.countParams() === 3369, `autoencoder: expected 3369 parameters, got ${model.countParams()}`);
  const shapes = model.graph.nodes.map((n) => [...n.outputShape]);
  check(
    JSON.stringify(shapes) === JSON.stringify(AUTOENCODER_SHAPES),
    () => `autoencoder layer output shapes: expected ${JSON.stringify(AUTOENCODER_SHAPES)}, got ${JSON.stringify(shapes)}`,
  );
  const { images } = loadMnist({ split: 'test', limit: 64 });
  model.compile({ backend: ctx.backend });
  try {
    const y = await model.predict(images, { batchSize: 64 });
    assertShape(y, [64, 28, 28, 1], 'autoencoder reconstruction');
    for (let i = 0; i < y.data.length; i++) {
      check(y.data[i] > 0 && y.data[i] < 1, () => `autoencoder reconstruction: a sigmoid output must lie in (0, 1), got ${y.data[i]} at flat index ${i}`);
    }
  } finally {
    model.dispose();
  }
}

/** The note's 1-D convolution: [1, 2, 3, 4, 5] ⋆ [1, 0, −1] → [−2, −2, −2] (valid), [−2, −2, −2, −2, 4] (same). */
async function conv1dNote(ctx: CaseContext): Promise<void> {
  const x = tensor([1, 2, 3, 4, 5], [1, 5, 1]);
  for (const [padding, expected] of [
    ['valid', [-2, -2, -2]],
    ['same', [-2, -2, -2, -2, 4]],
  ] as const) {
    const layer = layers.conv1d({ filters: 1, kernelSize: 3, padding, useBias: false });
    layer.build([5, 1]);
    layer.setWeights([tensor([1, 0, -1], [3, 1, 1])]);
    const y = await layer.apply(x, { backend: ctx.backend });
    assertShape(y, [1, expected.length, 1], `conv1d ${padding}`);
    check(
      y.data.every((v, i) => v === expected[i]),
      () => `conv1d ${padding}: expected [${expected.join(', ')}], got [${Array.from(y.data).join(', ')}]`,
    );
  }
}

/** The reference experiments (the study note's four, see the root README), run eagerly on real data. */
export function referenceCases(): ConformanceCase[] {
  return [
    { id: 'reference/linear-two-steps', tags: ['reference'], timeoutMs: 60_000, run: linearTwoSteps },
    { id: 'reference/linear-three-steps', tags: ['reference'], timeoutMs: 60_000, run: linearThreeSteps },
    { id: 'reference/conv-fhd', tags: ['reference', 'large'], timeoutMs: 600_000, run: convFullHd },
    { id: 'reference/autoencoder-shapes', tags: ['reference'], timeoutMs: 120_000, run: autoencoderShapes },
    { id: 'reference/conv1d-note', tags: ['reference'], timeoutMs: 60_000, run: conv1dNote },
  ];
}
