import {
  classSampleWeights,
  layers,
  resolveOptimizer,
  sequential,
  trainingSpec,
  type Backend,
  type CompiledModel,
  type Layer,
  type LossConfig,
  type OptimizerSpec,
  type Tensor,
} from '@araboza/core';
import { GRADIENT_TOLERANCE, assertClose, assertCloseNumber, check, type Tolerance } from '../assert.js';
import { loadLossGoldenCases, loadOptimizerGoldenCases, type LossGoldenCase, type OptimizerGoldenCase, type OptimizerGoldenStep } from '../training-golden.js';
import { ConformanceFailure, type CaseContext, type ConformanceCase } from '../types.js';

/** Time limit of one optimizer or loss test (a few steps of a tiny graph). */
const TRAINING_GOLDEN_TIMEOUT_MS = 60_000;

/**
 * The accumulated update `w₀ − wₖ` after k steps, against the golden one:
 * `rtol·(|e| + max|E|)` (the update is small next to the weight, so it is
 * compared rather than the weight, where float32 rounding of w would hide it).
 */
export const OPTIMIZER_UPDATE_TOLERANCE: Tolerance = { rtol: 1e-3 };

/** Optimizer slots after each step: `rtol·(|e| + max|E|)`. */
export const OPTIMIZER_SLOT_TOLERANCE: Tolerance = { rtol: 1e-4 };

/**
 * The loss cases' gradients, per element: `|a − e| ≤ rtol·|e| + atol·max|E|`.
 * Per element, because one prediction near 0 gives a gradient thousands of
 * times larger than the rest, and a clipped prediction's zero must stay zero.
 */
export const LOSS_GRADIENT_TOLERANCE = { rtol: 1e-4, atol: 1e-7 } as const;

/** The loss value of the loss cases: `rtol·|e|`. */
const LOSS_VALUE_RTOL = 1e-5;

function requireDense(ctx: CaseContext, what: string): void {
  if (!ctx.backend.kinds.includes('dense')) ctx.skip(`unsupported: ${what} trains a dense layer, and ${ctx.backend.name} does not implement dense`);
}

function difference(a: Tensor, b: Tensor): Tensor {
  return { shape: [...a.shape], data: a.data.map((v, i) => v - b.data[i]) };
}

async function compileDense(
  backend: Backend,
  spec: OptimizerSpec,
  units: number,
  inputShape: readonly number[],
  activation?: 'linear' | 'sigmoid' | 'softmax',
  loss: LossConfig = 'meanSquaredError',
): Promise<CompiledModel> {
  const stack: Layer[] = [layers.dense({ units, name: 'golden_probe' })];
  if (activation !== undefined) stack.push(layers.activation({ activation, name: 'golden_loss_activation' }));
  const model = sequential({ inputShape: [...inputShape], layers: stack });
  return backend.compile(model.graph, trainingSpec(model.graph, loss, spec));
}

/** Weights and every slot after a step, and the step count, against the golden step. */
async function checkAfterStep(m: CompiledModel, c: OptimizerGoldenCase, initial: readonly Tensor[], golden: OptimizerGoldenStep, what: string): Promise<void> {
  const after = await m.getWeights();
  check(after.length === c.weights.length, () => `${what}: expected ${c.weights.length} weights, got ${after.length}`);
  c.weights.forEach((w, i) => {
    const label = `${what}: ${w.name} update w₀ − w after step ${golden.step}`;
    check(
      after[i]?.data?.length === w.data.length,
      () => `${label}: expected shape [${w.shape.join(', ')}], got ${after[i]?.shape ? `[${after[i].shape.join(', ')}]` : String(after[i])}`,
    );
    assertClose(difference(initial[i], after[i]), difference(initial[i], golden.weights[i]), OPTIMIZER_UPDATE_TOLERANCE, label);
  });
  const state = await m.getOptimizerState();
  check(state.step === golden.step, () => `${what}: optimizer step count after step ${golden.step} is ${state.step}`);
  check(state.slots.length === c.weights.length, () => `${what}: expected slots for ${c.weights.length} weights, got ${state.slots.length}`);
  c.weights.forEach((w, i) => {
    check(
      state.slots[i].length === c.slotNames.length,
      () => `${what}: ${w.name} has ${state.slots[i].length} slots, expected ${c.slotNames.length} (${c.slotNames.join(', ')})`,
    );
    golden.slots[i].forEach((slot, s) =>
      assertClose(state.slots[i][s], slot, OPTIMIZER_SLOT_TOLERANCE, `${what}: ${w.name} slot ${slot.name} after step ${golden.step}`),
    );
  });
}

/**
 * Every step of the sequence from the initial weights and initial state:
 * the loss, the accumulated weight update, the step count and every slot.
 * With `runtimeRate`, the model is compiled with 4× the golden learning
 * rate and each step is given the golden one (`TrainStepOptions.learningRate`):
 * the step must use the rate it is given.
 */
async function optimizerSequence(ctx: CaseContext, c: OptimizerGoldenCase, runtimeRate = false): Promise<void> {
  requireDense(ctx, `the ${c.id} sequence`);
  const compiledWith = runtimeRate ? { ...c.optimizer, learningRate: 4 * c.optimizer.learningRate } : c.optimizer;
  const m = await compileDense(ctx.backend, compiledWith, c.weights[0].shape[1], c.input.shape.slice(1));
  try {
    await m.setWeights(c.weights);
    for (const step of c.steps) {
      const { loss } = await m.trainStep([c.input], [c.target], runtimeRate ? { learningRate: c.optimizer.learningRate } : undefined);
      assertCloseNumber(loss, step.loss, 1e-5, 1e-7, `${c.id}: loss of step ${step.step}`);
      await checkAfterStep(m, c, c.weights, step, c.id);
    }
  } finally {
    m.dispose();
  }
}

/** The step after `setWeights` and `setOptimizerState` with the golden state after step 2 equals golden step 3. */
async function optimizerResume(ctx: CaseContext, c: OptimizerGoldenCase): Promise<void> {
  requireDense(ctx, `the ${c.id} sequence`);
  const from = c.steps[1];
  const next = c.steps[2];
  const m = await compileDense(ctx.backend, c.optimizer, c.weights[0].shape[1], c.input.shape.slice(1));
  try {
    await m.setWeights(from.weights);
    await m.setOptimizerState({ step: from.step, slots: from.slots });
    const { loss } = await m.trainStep([c.input], [c.target]);
    assertCloseNumber(loss, next.loss, 1e-5, 1e-7, `${c.id}: loss of step ${next.step} resumed from step ${from.step}`);
    await checkAfterStep(m, c, from.weights, next, `${c.id} resumed from step ${from.step}`);
  } finally {
    m.dispose();
  }
}

/** The tests of `fixtures/training/optimizers.json`: `optimizers/<case>/sequence`, `…/resume` and `…/runtime-learning-rate`. */
export function optimizerCases(): ConformanceCase[] {
  return loadOptimizerGoldenCases().flatMap((c): ConformanceCase[] => [
    { id: `optimizers/${c.id}/sequence`, tags: ['optimizers'], timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS, run: (ctx) => optimizerSequence(ctx, c) },
    { id: `optimizers/${c.id}/resume`, tags: ['optimizers'], timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS, run: (ctx) => optimizerResume(ctx, c) },
    {
      id: `optimizers/${c.id}/runtime-learning-rate`,
      tags: ['optimizers'],
      timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS,
      run: (ctx) => optimizerSequence(ctx, c, true),
    },
  ]);
}

/** Per-element comparison of the loss cases (see {@link LOSS_GRADIENT_TOLERANCE}). */
function assertCloseElementwise(actual: Tensor, expected: Tensor, what: string): void {
  check(
    actual?.shape?.join(',') === expected.shape.join(','),
    () => `${what}: expected shape [${expected.shape.join(', ')}], got ${actual?.shape ? `[${actual.shape.join(', ')}]` : String(actual)}`,
  );
  const scale = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const bad: string[] = [];
  expected.data.forEach((e, i) => {
    const a = actual.data[i];
    if (!(Math.abs(a - e) <= LOSS_GRADIENT_TOLERANCE.rtol * Math.abs(e) + LOSS_GRADIENT_TOLERANCE.atol * scale)) bad.push(`[${i}] got ${a}, expected ${e}`);
  });
  if (bad.length > 0) {
    throw new ConformanceFailure(
      `${what}: ${bad.length} of ${expected.data.length} values differ beyond ${LOSS_GRADIENT_TOLERANCE.rtol}·|e| + ${LOSS_GRADIENT_TOLERANCE.atol}·max|E|: ${bad.slice(0, 4).join('; ')}`,
    );
  }
}

function identityWeights(channels: number): Tensor[] {
  const kernel = new Float32Array(channels * channels);
  for (let i = 0; i < channels; i++) kernel[i * channels + i] = 1;
  return [
    { shape: [channels, channels], data: kernel },
    { shape: [channels], data: new Float32Array(channels) },
  ];
}

async function withLossModel<T>(ctx: CaseContext, c: LossGoldenCase, body: (m: CompiledModel, weights: Tensor[]) => Promise<T>): Promise<T> {
  requireDense(ctx, `the ${c.id} loss case`);
  if (!ctx.backend.kinds.includes('activation'))
    ctx.skip(`unsupported: the ${c.id} loss case ends in an activation layer, and ${ctx.backend.name} does not implement activation`);
  const channels = c.input.shape[c.input.shape.length - 1];
  const m = await compileDense(ctx.backend, resolveOptimizer({ kind: 'sgd', learningRate: 1 }), channels, c.input.shape.slice(1), c.activation, c.loss);
  try {
    const weights = identityWeights(channels);
    await m.setWeights(weights);
    return await body(m, weights);
  } finally {
    m.dispose();
  }
}

/** `predict` gives the activation of the predictions (the loss path does not change the model's output). */
async function lossPredict(ctx: CaseContext, c: LossGoldenCase): Promise<void> {
  await withLossModel(ctx, c, async (m) => assertClose((await m.predict([c.input]))[0], c.predictions, { rtol: 1e-5 }, `${c.id} predictions`));
}

/** `gradients` returns the golden loss and, per element, dLoss/dInput and dLoss/d(kernel, bias). */
async function lossGradients(ctx: CaseContext, c: LossGoldenCase): Promise<void> {
  await withLossModel(ctx, c, async (m) => {
    const g = await m.gradients([c.input], [c.target], { sampleWeight: c.sampleWeight });
    assertCloseNumber(g.loss, c.value, LOSS_VALUE_RTOL, 1e-7, `${c.id} loss`);
    assertCloseElementwise(g.inputs[0], c.gradients.input, `${c.id} dLoss/dPrediction${c.activation === 'linear' ? '' : 's (of the logits)'}`);
    check(g.weights.length === 2, () => `${c.id}: expected 2 weight gradients (kernel, bias), got ${g.weights.length}`);
    c.gradients.weights.forEach((w, i) => assertCloseElementwise(g.weights[i], w, `${c.id} dLoss/d${w.name}`));
  });
}

/** One SGD step (lr 1) returns the golden loss and moves the identity dense layer by −dLoss/dw. */
async function lossTrainStep(ctx: CaseContext, c: LossGoldenCase): Promise<void> {
  await withLossModel(ctx, c, async (m, weights) => {
    const { loss } = await m.trainStep([c.input], [c.target], { sampleWeight: c.sampleWeight });
    assertCloseNumber(loss, c.value, LOSS_VALUE_RTOL, 1e-7, `${c.id} trainStep loss`);
    const after = await m.getWeights();
    c.gradients.weights.forEach((w, i) =>
      assertClose(difference(weights[i], after[i]), w, GRADIENT_TOLERANCE, `${c.id} ${w.name} update of one SGD step (lr 1), vs dLoss/d${w.name}`),
    );
  });
}

/** Core's `classSampleWeights` gives, from the case's targets and `classWeight`, the weights PyTorch derived. */
async function lossClassWeights(c: LossGoldenCase): Promise<void> {
  const derived = classSampleWeights(c.target, c.classWeight!, c.id);
  assertClose(derived, c.sampleWeight!, { rtol: 0 }, `${c.id} sample weights from classWeight`);
}

/**
 * The tests of `fixtures/training/losses.json`: `losses/<loss>/<case>/predict`, `…/gradients`, `…/train-step`
 * (weighted cases pass their `sampleWeight`), and `…/class-weights` for a case derived from a `classWeight`.
 */
export function lossCases(): ConformanceCase[] {
  return loadLossGoldenCases().flatMap((c): ConformanceCase[] => [
    { id: `losses/${c.id}/predict`, tags: ['losses'], timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS, run: (ctx) => lossPredict(ctx, c) },
    { id: `losses/${c.id}/gradients`, tags: ['losses'], timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS, run: (ctx) => lossGradients(ctx, c) },
    { id: `losses/${c.id}/train-step`, tags: ['losses'], timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS, run: (ctx) => lossTrainStep(ctx, c) },
    ...(c.classWeight ? [{ id: `losses/${c.id}/class-weights`, tags: ['losses'], timeoutMs: TRAINING_GOLDEN_TIMEOUT_MS, run: () => lossClassWeights(c) }] : []),
  ]);
}
