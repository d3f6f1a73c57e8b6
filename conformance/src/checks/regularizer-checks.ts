import {
  FormatError,
  layers,
  regularizationPenalty,
  resolveOptimizer,
  sequential,
  trainingSpec,
  type CompiledModel,
  type Layer,
  type Tensor,
} from '@araboza/core';
import { joinFixture, readFixtureText } from '../fixture-files.js';
import { GRADIENT_TOLERANCE, assertClose, assertCloseNumber, check } from '../assert.js';
import type { NamedTensor } from '../golden.js';
import { TRAINING_FIXTURES_DIR } from '../training-golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** The generator of `fixtures/training/regularizers.json`. */
export const REGULARIZER_GENERATOR = 'conformance/scripts/generate_golden_regularizers.py';

/**
 * One regularised layer under MSE (see the generator's docstring): `dense` or `conv2d` with a
 * regulariser on its kernel or its bias, the golden losses, gradients and one SGD step.
 */
export interface RegularizerGoldenCase {
  /** `<layer>/<weight>-<regulariser>`, e.g. `dense/kernel-l1`. */
  readonly id: string;
  readonly layer: 'dense' | 'conv2d';
  /** The layer's options, the regulariser among them. */
  readonly config: Record<string, unknown>;
  readonly learningRate: number;
  readonly input: Tensor;
  readonly target: Tensor;
  /** Initial kernel and bias (Keras layout). */
  readonly weights: readonly NamedTensor[];
  /** The output's own MSE, without the penalty. */
  readonly outputLoss: number;
  /** The training loss: `outputLoss` plus the penalty. */
  readonly loss: number;
  /** dLoss/d(kernel, bias), the penalty's gradient included. */
  readonly gradients: readonly NamedTensor[];
  /** Kernel and bias after one SGD step of `learningRate`. */
  readonly weightsAfter: readonly NamedTensor[];
}

const FILE = 'regularizers.json';

function fail(what: string): never {
  throw new FormatError(`${FILE}: ${what}`);
}

function tensorOf(v: unknown, what: string): Tensor {
  const o = v as { shape?: unknown; data?: unknown } | null;
  if (!o || !Array.isArray(o.shape) || !Array.isArray(o.data)) fail(`${what}: expected {shape, data}`);
  const size = (o.shape as number[]).reduce((a, b) => a * b, 1);
  if (o.data.length !== size || !(o.data as unknown[]).every((x) => typeof x === 'number' && Number.isFinite(x)))
    fail(`${what}: expected ${size} finite numbers`);
  return { shape: [...(o.shape as number[])], data: Float32Array.from(o.data as number[]) };
}

function namedList(v: unknown, what: string): NamedTensor[] {
  if (!Array.isArray(v) || v.length !== 2) fail(`${what}: expected [kernel, bias]`);
  return v.map((t, i) => ({ name: ['kernel', 'bias'][i], ...tensorOf(t, `${what}[${i}]`) }));
}

function numberOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what}: expected a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads `fixtures/training/regularizers.json`, checking its generator and every field a test reads. */
export function loadRegularizerGoldenCases(dir: string = TRAINING_FIXTURES_DIR): RegularizerGoldenCase[] {
  const doc = JSON.parse(readFixtureText(joinFixture(dir, FILE))) as { generator?: unknown; cases?: unknown };
  if (doc.generator !== REGULARIZER_GENERATOR) fail(`generator must be ${REGULARIZER_GENERATOR}, got ${JSON.stringify(doc.generator)}`);
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) fail('expected a non-empty "cases" array');
  return doc.cases.map((raw: Record<string, unknown>, i: number) => {
    const id = typeof raw.id === 'string' ? raw.id : fail(`cases[${i}].id: expected a string`);
    const layer = raw.layer === 'dense' || raw.layer === 'conv2d' ? raw.layer : fail(`${id}: layer must be dense or conv2d`);
    if (typeof raw.config !== 'object' || raw.config === null) fail(`${id}: config must be an object`);
    return {
      id,
      layer,
      config: raw.config as Record<string, unknown>,
      learningRate: numberOf(raw.learningRate, `${id}.learningRate`),
      input: tensorOf(raw.input, `${id}.input`),
      target: tensorOf(raw.target, `${id}.target`),
      weights: namedList(raw.weights, `${id}.weights`),
      outputLoss: numberOf(raw.outputLoss, `${id}.outputLoss`),
      loss: numberOf(raw.loss, `${id}.loss`),
      gradients: namedList(raw.gradients, `${id}.gradients`),
      weightsAfter: namedList(raw.weightsAfter, `${id}.weightsAfter`),
    };
  });
}

const TIMEOUT_MS = 60_000;
/** Loss values: `rtol·|e|` (float32 sums of a few dozen terms). */
const LOSS_RTOL = 1e-5;

async function withModel(ctx: CaseContext, c: RegularizerGoldenCase, body: (m: CompiledModel) => Promise<void>): Promise<void> {
  if (!ctx.backend.kinds.includes(c.layer)) ctx.skip(`unsupported: ${c.id} trains a ${c.layer} layer, and ${ctx.backend.name} does not implement it`);
  const layer: Layer =
    c.layer === 'dense'
      ? layers.dense({ ...(c.config as { units: number }), name: 'reg_probe' })
      : layers.conv2d({ ...(c.config as { filters: number; kernelSize: number }), name: 'reg_probe' });
  const model = sequential({ inputShape: c.input.shape.slice(1), layers: [layer] });
  const m = await ctx.backend.compile(
    model.graph,
    trainingSpec(model.graph, 'meanSquaredError', resolveOptimizer({ kind: 'sgd', learningRate: c.learningRate })),
  );
  try {
    await m.setWeights(c.weights);
    await body(m);
  } finally {
    m.dispose();
  }
}

function difference(a: Tensor, b: Tensor): Tensor {
  return { shape: [...a.shape], data: a.data.map((v, i) => v - b.data[i]) };
}

/** `gradients`: the loss includes the penalty, the output's own loss does not, and each weight's gradient includes the penalty's. */
async function regularizedGradients(ctx: CaseContext, c: RegularizerGoldenCase): Promise<void> {
  await withModel(ctx, c, async (m) => {
    const g = await m.gradients([c.input], [c.target]);
    assertCloseNumber(g.loss, c.loss, LOSS_RTOL, 1e-7, `${c.id} loss (with the penalty)`);
    assertCloseNumber(g.outputLosses[0], c.outputLoss, LOSS_RTOL, 1e-7, `${c.id} output loss (without the penalty)`);
    check(g.weights.length === 2, () => `${c.id}: expected 2 weight gradients, got ${g.weights.length}`);
    c.gradients.forEach((w, i) => assertClose(g.weights[i], w, GRADIENT_TOLERANCE, `${c.id} dLoss/d${w.name}`));
  });
}

/** `evaluate` reports the penalty in the loss (Keras 3's compute_loss), not in the output's loss. */
async function regularizedEvaluate(ctx: CaseContext, c: RegularizerGoldenCase): Promise<void> {
  await withModel(ctx, c, async (m) => {
    const r = await m.evaluate([c.input], [c.target]);
    assertCloseNumber(r.loss, c.loss, LOSS_RTOL, 1e-7, `${c.id} evaluate loss (with the penalty)`);
    assertCloseNumber(r.outputLosses[0], c.outputLoss, LOSS_RTOL, 1e-7, `${c.id} evaluate output loss (without the penalty)`);
  });
}

/** One SGD step reports the loss with the penalty and moves each weight by −rate·dLoss/dw. */
async function regularizedTrainStep(ctx: CaseContext, c: RegularizerGoldenCase): Promise<void> {
  await withModel(ctx, c, async (m) => {
    const { loss } = await m.trainStep([c.input], [c.target]);
    assertCloseNumber(loss, c.loss, LOSS_RTOL, 1e-7, `${c.id} trainStep loss (with the penalty)`);
    const after = await m.getWeights();
    c.weightsAfter.forEach((w, i) =>
      assertClose(difference(c.weights[i], after[i]), difference(c.weights[i], w), GRADIENT_TOLERANCE, `${c.id} ${w.name} update of one SGD step`),
    );
  });
}

/** Deterministic values in [-1, 1) from a seed (a small LCG): test data, not a golden. */
function seeded(shape: readonly number[], seed: number): Tensor {
  let state = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
  return { shape: [...shape], data };
}

/**
 * A frozen layer's penalty, as in Keras: it is still added to the loss (core's float64
 * `regularizationPenalty` of the frozen kernel), but its weights stay as they were after a step.
 */
async function frozenRegularizedLayer(ctx: CaseContext): Promise<void> {
  if (!ctx.backend.kinds.includes('dense'))
    ctx.skip(`unsupported: the frozen-layer case trains dense layers, and ${ctx.backend.name} does not implement dense`);
  const regularizer = { name: 'l2', l2: 0.5 } as const;
  const frozen = layers.dense({ units: 3, name: 'frozen', kernelRegularizer: regularizer, trainable: false });
  const model = sequential({ inputShape: [4], layers: [frozen, layers.dense({ units: 2, name: 'head' })] });
  const m = await ctx.backend.compile(model.graph, trainingSpec(model.graph, 'meanSquaredError', resolveOptimizer({ kind: 'sgd', learningRate: 0.1 })));
  try {
    const weights = model.graph.weights.map((w, i) => seeded(w.spec.shape, 31 + i));
    await m.setWeights(weights);
    const x = seeded([6, 4], 7);
    const y = seeded([6, 2], 8);
    const penalty = regularizationPenalty(regularizer, weights[0].data);
    const g = await m.gradients([x], [y]);
    assertCloseNumber(g.loss - g.outputLosses[0], penalty, 1e-4, 1e-6, "frozen layer: loss − output loss (the frozen kernel's penalty)");
    const { loss } = await m.trainStep([x], [y]);
    assertCloseNumber(loss, g.loss, LOSS_RTOL, 1e-7, 'frozen layer: trainStep loss (with the frozen penalty)');
    const after = await m.getWeights();
    [0, 1].forEach((i) =>
      check(
        after[i].data.every((v, k) => v === weights[i].data[k]),
        () => `frozen layer: ${model.graph.weights[i].spec.name} changed in a step`,
      ),
    );
    check(
      after[2].data.some((v, k) => v !== weights[2].data[k]),
      () => 'frozen layer: the trainable head kernel did not move in a step',
    );
  } finally {
    m.dispose();
  }
}

/**
 * Every regularisable weight of depthwiseConv2d, separableConv2d (whose kernels a backend may
 * hold in another layout), layerNormalization and batchNormalization (gamma, beta; not the state):
 * the gradient with `l1l2` regularisers minus the gradient without is
 * `l1·sign(w) + 2·l2·w` in Keras layout (core's formula), and the loss grows by core's penalty.
 */
async function regularizedLayerAgainstPlain(
  ctx: CaseContext,
  kind: 'depthwiseConv2d' | 'separableConv2d' | 'layerNormalization' | 'batchNormalization',
): Promise<void> {
  if (!ctx.backend.kinds.includes(kind)) ctx.skip(`unsupported: ${ctx.backend.name} does not implement ${kind}`);
  const reg = { name: 'l1l2', l1: 0.05, l2: 0.3 } as const;
  const build = (regularized: boolean) => {
    const options = { kernelSize: 2, depthMultiplier: 2, name: 'probe', ...(regularized ? { depthwiseRegularizer: reg, biasRegularizer: reg } : {}) };
    const norm = { name: 'probe', ...(regularized ? { gammaRegularizer: reg, betaRegularizer: reg } : {}) };
    const layer =
      kind === 'depthwiseConv2d'
        ? layers.depthwiseConv2d(options)
        : kind === 'separableConv2d'
          ? layers.separableConv2d({ ...options, filters: 3, ...(regularized ? { pointwiseRegularizer: reg } : {}) })
          : kind === 'layerNormalization'
            ? layers.layerNormalization(norm)
            : layers.batchNormalization(norm);
    return sequential({ inputShape: [4, 4, 2], layers: [layer] });
  };
  const x = seeded([2, 4, 4, 2], 11);
  const results = [];
  for (const regularized of [false, true]) {
    const model = build(regularized);
    const m = await ctx.backend.compile(model.graph, trainingSpec(model.graph, 'meanSquaredError', resolveOptimizer({ kind: 'sgd', learningRate: 0.1 })));
    try {
      // State weights (batch normalisation's moving variance) must be positive.
      const weights = model.graph.weights.map((w, i) => {
        const t = seeded(w.spec.shape, 50 + i);
        return w.spec.role === 'state' ? { shape: t.shape, data: t.data.map((v) => Math.abs(v) + 0.5) } : t;
      });
      await m.setWeights(weights);
      const y = seeded([2, ...model.graph.nodes[0].outputShape], 12);
      results.push({ weights, specs: model.graph.weights.map((w) => w.spec), g: await m.gradients([x], [y]) });
    } finally {
      m.dispose();
    }
  }
  const [plain, regularized] = results;
  const penalty = regularized.weights.reduce((sum, w, i) => sum + (regularized.specs[i].regularizer ? regularizationPenalty(reg, w.data) : 0), 0);
  assertCloseNumber(regularized.g.loss - plain.g.loss, penalty, 1e-4, 1e-6, `${kind}: loss growth by the penalty`);
  regularized.weights.forEach((w, i) => {
    const on = regularized.specs[i].regularizer !== undefined;
    const expected = { shape: [...w.shape], data: w.data.map((v) => (on ? reg.l1 * Math.sign(v) + 2 * reg.l2 * v : 0)) };
    assertClose(
      difference(regularized.g.weights[i], plain.g.weights[i]),
      expected,
      GRADIENT_TOLERANCE,
      `${kind}: weight ${i} gradient growth by the penalty's`,
    );
  });
}

/** The tests of `fixtures/training/regularizers.json`: `regularizers/<case>/gradients`, `…/evaluate`, `…/train-step`; `regularizers/frozen-layer/train-step`; the layout checks `regularizers/{depthwiseConv2d,separableConv2d}/layout`; and `regularizers/{layerNormalization,batchNormalization}/gamma-beta`. */
export function regularizerCases(): ConformanceCase[] {
  return loadRegularizerGoldenCases()
    .flatMap((c): ConformanceCase[] => [
      { id: `regularizers/${c.id}/gradients`, tags: ['regularizers'], timeoutMs: TIMEOUT_MS, run: (ctx) => regularizedGradients(ctx, c) },
      { id: `regularizers/${c.id}/evaluate`, tags: ['regularizers'], timeoutMs: TIMEOUT_MS, run: (ctx) => regularizedEvaluate(ctx, c) },
      { id: `regularizers/${c.id}/train-step`, tags: ['regularizers'], timeoutMs: TIMEOUT_MS, run: (ctx) => regularizedTrainStep(ctx, c) },
    ])
    .concat([
      { id: 'regularizers/frozen-layer/train-step', tags: ['regularizers'], timeoutMs: TIMEOUT_MS, run: (ctx) => frozenRegularizedLayer(ctx) },
      {
        id: 'regularizers/depthwiseConv2d/layout',
        tags: ['regularizers'],
        timeoutMs: TIMEOUT_MS,
        run: (ctx) => regularizedLayerAgainstPlain(ctx, 'depthwiseConv2d'),
      },
      {
        id: 'regularizers/separableConv2d/layout',
        tags: ['regularizers'],
        timeoutMs: TIMEOUT_MS,
        run: (ctx) => regularizedLayerAgainstPlain(ctx, 'separableConv2d'),
      },
      ...(['layerNormalization', 'batchNormalization'] as const).map((kind) => ({
        id: `regularizers/${kind}/gamma-beta`,
        tags: ['regularizers'],
        timeoutMs: TIMEOUT_MS,
        run: (ctx: CaseContext) => regularizedLayerAgainstPlain(ctx, kind),
      })),
    ]);
}
