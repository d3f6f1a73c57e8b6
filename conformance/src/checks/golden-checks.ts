import { layers, resolveLoss, resolveOptimizer, sequential, singleLayerGraph, type Backend, type CompiledModel, type Tensor } from '@araboza/core';
import { FORWARD_TOLERANCE, GRADIENT_TOLERANCE, assertClose, assertCloseNumber, assertIdentical, check } from '../assert.js';
import { goldenLayer, loadGoldenCases, type GoldenCase } from '../golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** Time limit of one golden test (a compile and a run of a tiny graph; generous for slow engines). */
const GOLDEN_TIMEOUT_MS = 60_000;

/** Learning rate of the SGD step in the `train-step` tests: 1, so the update equals the gradient. */
const TRAIN_STEP_LEARNING_RATE = 1;

/** Skips the test when the backend does not declare the case's layer kind (the coverage tests report it). */
function requireKind(ctx: CaseContext, c: GoldenCase): void {
  if (!ctx.backend.kinds.includes(c.kind)) {
    ctx.skip(`unsupported: ${ctx.backend.name} does not implement ${c.kind} (reported in coverage/${c.kind})`);
  }
}

async function withCompiled<T>(backend: Backend, c: GoldenCase, optimizer: unknown, body: (m: CompiledModel) => Promise<T>): Promise<T> {
  const layer = goldenLayer(c);
  const graph = singleLayerGraph(layer, c.input.shape.slice(1));
  const training = optimizer === null ? undefined : { loss: resolveLoss('meanSquaredError', graph), optimizer: resolveOptimizer(optimizer) };
  const compiled = await backend.compile(graph, training);
  try {
    await compiled.setWeights(c.weights.map((w) => ({ shape: w.shape, data: w.data })));
    return await body(compiled);
  } finally {
    compiled.dispose();
  }
}

/** Forward: `predict` of the one-layer graph equals the golden output. */
async function goldenForward(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  await withCompiled(ctx.backend, c, null, async (m) => {
    assertClose(await m.predict(c.input), c.output, FORWARD_TOLERANCE, `${c.id} output`);
  });
}

/** Gradients: `gradients(x, target)` of the MSE loss equals the golden loss and gradients, and changes no weight. */
async function goldenGradients(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  await withCompiled(ctx.backend, c, 'sgd', async (m) => {
    const g = await m.gradients(c.input, c.target);
    assertCloseNumber(g.loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} loss`);
    assertClose(g.input, c.gradients.input, GRADIENT_TOLERANCE, `${c.id} dLoss/dInput`);
    check(Array.isArray(g.weights) && g.weights.length === c.gradients.weights.length, () => `${c.id}: expected ${c.gradients.weights.length} weight gradients, got ${g.weights?.length}`);
    c.gradients.weights.forEach((expected, i) => assertClose(g.weights[i], expected, GRADIENT_TOLERANCE, `${c.id} dLoss/d${expected.name}`));
    const after = await m.getWeights();
    c.weights.forEach((w, i) => assertIdentical(after[i], w, `${c.id} ${w.name} after gradients() (must not update)`));
  });
}

/** `before − after`, the update an SGD step with learning rate 1 applied: it must equal the gradient. */
function sgdUpdate(before: Tensor, after: Tensor, what: string): Tensor {
  check(after !== undefined && after.data?.length === before.data.length, () => `${what}: expected a weight of shape [${before.shape.join(', ')}], got ${after?.shape ? `[${after.shape.join(', ')}]` : String(after)}`);
  return { shape: after.shape, data: before.data.map((v, i) => v - after.data[i]) };
}

/**
 * Training, for a kind with weights: one SGD step (lr 1) returns the golden
 * loss and moves every weight by exactly −dLoss/dw.
 */
async function goldenTrainStep(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  await withCompiled(ctx.backend, c, { kind: 'sgd', learningRate: TRAIN_STEP_LEARNING_RATE }, async (m) => {
    const loss = await m.trainStep(c.input, c.target);
    assertCloseNumber(loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss`);
    const after = await m.getWeights();
    check(after.length === c.weights.length, () => `${c.id}: expected ${c.weights.length} weights after the step, got ${after.length}`);
    c.weights.forEach((w, i) => {
      const what = `${c.id} ${w.name} update of one SGD step (lr 1), vs dLoss/d${w.name}`;
      assertClose(sgdUpdate(w, after[i], what), c.gradients.weights[i], GRADIENT_TOLERANCE, what);
    });
  });
}

/**
 * Training, for a kind without weights: the layer trains what comes before
 * it. The graph is `dense(units = channels)` with an identity kernel and a
 * zero bias (so its output is the case's input exactly), then the layer.
 * One SGD step (lr 1) must return the golden loss and move the dense
 * weights by −dLoss/dkernel = −Σ xᵀ·g and −dLoss/dbias = −Σ g, where g is the
 * golden dLoss/dInput of the layer: the gradient has to flow back through it
 * inside a training step.
 */
async function goldenTrainThrough(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  if (!ctx.backend.kinds.includes('dense')) ctx.skip(`unsupported: the training check of ${c.kind} trains a dense layer before it, and ${ctx.backend.name} does not implement dense`);
  const channels = c.input.shape[c.input.shape.length - 1];
  const model = sequential({ inputShape: c.input.shape.slice(1), layers: [layers.dense({ units: channels, name: 'golden_probe' }), goldenLayer(c)] });
  const identity = new Float32Array(channels * channels);
  for (let i = 0; i < channels; i++) identity[i * channels + i] = 1;
  const kernel: Tensor = { shape: [channels, channels], data: identity };
  const bias: Tensor = { shape: [channels], data: new Float32Array(channels) };
  const rows = c.input.data.length / channels;
  const g = c.gradients.input.data;
  const x = c.input.data;
  const dKernel = new Float64Array(channels * channels);
  const dBias = new Float64Array(channels);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < channels; j++) {
      const gj = g[r * channels + j];
      dBias[j] += gj;
      for (let i = 0; i < channels; i++) dKernel[i * channels + j] += x[r * channels + i] * gj;
    }
  }
  const compiled = await ctx.backend.compile(model.graph, { loss: resolveLoss('meanSquaredError', model.graph), optimizer: resolveOptimizer({ kind: 'sgd', learningRate: TRAIN_STEP_LEARNING_RATE }) });
  try {
    await compiled.setWeights([kernel, bias]);
    const loss = await compiled.trainStep(c.input, c.target);
    assertCloseNumber(loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss (identity dense, then ${c.kind})`);
    const after = await compiled.getWeights();
    check(after.length === 2, () => `${c.id}: expected 2 weights (the probe dense's kernel and bias), got ${after.length}`);
    const what = (name: string) => `${c.id} update of the dense ${name} before ${c.kind} after one SGD step (lr 1), vs Σ from the golden dLoss/dInput`;
    assertClose(sgdUpdate(kernel, after[0], what('kernel')), { shape: kernel.shape, data: Float32Array.from(dKernel) }, GRADIENT_TOLERANCE, what('kernel'));
    assertClose(sgdUpdate(bias, after[1], what('bias')), { shape: bias.shape, data: Float32Array.from(dBias) }, GRADIENT_TOLERANCE, what('bias'));
  } finally {
    compiled.dispose();
  }
}

/**
 * The golden-vector tests, three per fixture case: `golden/<case id>/forward`,
 * `…/gradients` and `…/train-step` (for a kind without weights, a training
 * step through the layer, see {@link goldenTrainThrough}). Fixtures are read when the suite is built.
 */
export function goldenCases(): ConformanceCase[] {
  return loadGoldenCases().flatMap((c): ConformanceCase[] => [
    {
      id: `golden/${c.id}/forward`,
      tags: ['golden'],
      timeoutMs: GOLDEN_TIMEOUT_MS,
      matrix: { kind: c.kind, aspect: 'forward' },
      run: (ctx) => goldenForward(ctx, c),
    },
    {
      id: `golden/${c.id}/gradients`,
      tags: ['golden'],
      timeoutMs: GOLDEN_TIMEOUT_MS,
      matrix: { kind: c.kind, aspect: 'gradient' },
      run: (ctx) => goldenGradients(ctx, c),
    },
    {
      id: `golden/${c.id}/train-step`,
      tags: ['golden'],
      timeoutMs: GOLDEN_TIMEOUT_MS,
      matrix: { kind: c.kind, aspect: 'training' },
      run: (ctx) => (c.weights.length > 0 ? goldenTrainStep(ctx, c) : goldenTrainThrough(ctx, c)),
    },
  ]);
}
