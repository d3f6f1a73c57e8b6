import { input, layers, model, singleLayerGraph, trainingSpec, type Backend, type CompiledModel, type OptimizerLike, type Tensor } from '@araboza/core';
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

async function withCompiled<T>(backend: Backend, c: GoldenCase, optimizer: OptimizerLike | null, body: (m: CompiledModel) => Promise<T>): Promise<T> {
  const layer = goldenLayer(c);
  const graph = singleLayerGraph(
    layer,
    c.inputs.map((x) => x.shape.slice(1)),
  );
  const training = optimizer === null ? undefined : trainingSpec(graph, 'meanSquaredError', optimizer);
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
    const outputs = await m.predict(c.inputs);
    check(
      Array.isArray(outputs) && outputs.length === 1,
      () => `${c.id}: predict of a one-output graph must give 1 tensor, got ${Array.isArray(outputs) ? outputs.length : typeof outputs}`,
    );
    assertClose(outputs[0], c.output, FORWARD_TOLERANCE, `${c.id} output`);
  });
}

/** Gradients: `gradients(x, target)` of the MSE loss equals the golden loss and gradients, and changes no weight. */
async function goldenGradients(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  await withCompiled(ctx.backend, c, 'sgd', async (m) => {
    const g = await m.gradients(c.inputs, [c.target]);
    assertCloseNumber(g.loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} loss`);
    check(
      Array.isArray(g.inputs) && g.inputs.length === c.inputs.length,
      () => `${c.id}: expected ${c.inputs.length} input gradients, got ${g.inputs?.length}`,
    );
    c.gradients.inputs.forEach((expected, i) =>
      assertClose(g.inputs[i], expected, GRADIENT_TOLERANCE, c.inputs.length === 1 ? `${c.id} dLoss/dInput` : `${c.id} dLoss/dInput${i}`),
    );
    check(
      Array.isArray(g.weights) && g.weights.length === c.gradients.weights.length,
      () => `${c.id}: expected ${c.gradients.weights.length} weight gradients, got ${g.weights?.length}`,
    );
    c.gradients.weights.forEach((expected, i) => assertClose(g.weights[i], expected, GRADIENT_TOLERANCE, `${c.id} dLoss/d${expected.name}`));
    const after = await m.getWeights();
    c.weights.forEach((w, i) => assertIdentical(after[i], w, `${c.id} ${w.name} after gradients() (must not update)`));
  });
}

/** `before − after`, the update an SGD step with learning rate 1 applied: it must equal the gradient. */
function sgdUpdate(before: Tensor, after: Tensor, what: string): Tensor {
  check(
    after !== undefined && after.data?.length === before.data.length,
    () => `${what}: expected a weight of shape [${before.shape.join(', ')}], got ${after?.shape ? `[${after.shape.join(', ')}]` : String(after)}`,
  );
  return { shape: after.shape, data: before.data.map((v, i) => v - after.data[i]) };
}

/**
 * Training, for a kind with weights: one SGD step (lr 1) returns the golden
 * loss and moves every weight by exactly −dLoss/dw, or, where the case gives
 * `weightsAfterStep` (state weights, frozen layers), leaves every weight at
 * those values.
 */
async function goldenTrainStep(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  await withCompiled(ctx.backend, c, { kind: 'sgd', learningRate: TRAIN_STEP_LEARNING_RATE }, async (m) => {
    const { loss } = await m.trainStep(c.inputs, [c.target]);
    assertCloseNumber(loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss`);
    const after = await m.getWeights();
    check(after.length === c.weights.length, () => `${c.id}: expected ${c.weights.length} weights after the step, got ${after.length}`);
    const expectedAfter = c.weightsAfterStep;
    c.weights.forEach((w, i) => {
      if (expectedAfter) {
        // State weights follow the forward pass and a frozen layer's stay: the golden gives every weight after the step.
        assertClose(after[i], expectedAfter[i], GRADIENT_TOLERANCE, `${c.id} ${w.name} after one SGD step (lr 1)`);
        return;
      }
      const what = `${c.id} ${w.name} update of one SGD step (lr 1), vs dLoss/d${w.name}`;
      assertClose(sgdUpdate(w, after[i], what), c.gradients.weights[i], GRADIENT_TOLERANCE, what);
    });
  });
}

/**
 * Training, for a kind without weights: the layer trains what comes before
 * it. Each input passes through its own `dense(units = channels)` with an
 * identity kernel and a zero bias (so its output is the case's input
 * exactly), then the layer. One SGD step (lr 1) must return the golden loss
 * and move each dense's weights by −dLoss/dkernel = −Σ xᵀ·g and
 * −dLoss/dbias = −Σ g, where g is the golden dLoss/dInput of that input:
 * the gradient has to flow back through the layer inside a training step.
 */
async function goldenTrainThrough(ctx: CaseContext, c: GoldenCase): Promise<void> {
  requireKind(ctx, c);
  if (!ctx.backend.kinds.includes('dense'))
    ctx.skip(`unsupported: the training check of ${c.kind} trains a dense layer before it, and ${ctx.backend.name} does not implement dense`);
  const probes = c.inputs.map((x, k) => {
    const channels = x.shape[x.shape.length - 1];
    const identity = new Float32Array(channels * channels);
    for (let i = 0; i < channels; i++) identity[i * channels + i] = 1;
    const kernel: Tensor = { shape: [channels, channels], data: identity };
    const bias: Tensor = { shape: [channels], data: new Float32Array(channels) };
    const rows = x.data.length / channels;
    const g = c.gradients.inputs[k].data;
    const dKernel = new Float64Array(channels * channels);
    const dBias = new Float64Array(channels);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < channels; j++) {
        const gj = g[r * channels + j];
        dBias[j] += gj;
        for (let i = 0; i < channels; i++) dKernel[i * channels + j] += x.data[r * channels + i] * gj;
      }
    }
    const name = c.inputs.length === 1 ? 'golden_probe' : `golden_probe_${k}`;
    const symbolic = input({ shape: x.shape.slice(1), name: `golden_input_${k}` });
    return { name, kernel, bias, dKernel, dBias, symbolic, out: layers.dense({ units: channels, name }).apply(symbolic) };
  });
  const layer = goldenLayer(c);
  const net = model({ inputs: probes.map((p) => p.symbolic), outputs: layer.apply(probes.map((p) => p.out)) });
  const compiled = await ctx.backend.compile(net.graph, trainingSpec(net.graph, 'meanSquaredError', { kind: 'sgd', learningRate: TRAIN_STEP_LEARNING_RATE }));
  try {
    await compiled.setWeights(probes.flatMap((p) => [p.kernel, p.bias]));
    const { loss } = await compiled.trainStep(c.inputs, [c.target]);
    assertCloseNumber(loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss (identity dense, then ${c.kind})`);
    const after = await compiled.getWeights();
    check(after.length === 2 * probes.length, () => `${c.id}: expected ${2 * probes.length} weights (each probe dense's kernel and bias), got ${after.length}`);
    probes.forEach((p, k) => {
      const what = (w: string) => `${c.id} update of the dense ${w} (${p.name}) before ${c.kind} after one SGD step (lr 1), vs Σ from the golden dLoss/dInput`;
      assertClose(
        sgdUpdate(p.kernel, after[2 * k], what('kernel')),
        { shape: p.kernel.shape, data: Float32Array.from(p.dKernel) },
        GRADIENT_TOLERANCE,
        what('kernel'),
      );
      assertClose(
        sgdUpdate(p.bias, after[2 * k + 1], what('bias')),
        { shape: p.bias.shape, data: Float32Array.from(p.dBias) },
        GRADIENT_TOLERANCE,
        what('bias'),
      );
    });
  } finally {
    compiled.dispose();
  }
}

/**
 * The golden-vector tests, three per fixture case: `golden/<case id>/forward`,
 * `…/gradients` and `…/train-step` (for a kind without weights, a training
 * step through the layer, see {@link goldenTrainThrough}). Fixtures are read when the suite is built.
 * @param cases - the cases to test (default: every case of `fixtures/golden/`).
 */
export function goldenCases(cases: readonly GoldenCase[] = loadGoldenCases()): ConformanceCase[] {
  return cases.flatMap((c): ConformanceCase[] => [
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
