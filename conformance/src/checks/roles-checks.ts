import {
  input,
  layers,
  model,
  optimizerSlots,
  randomUniform,
  resolveOptimizer,
  singleLayerGraph,
  trainingSpec,
  type Backend,
  type CompiledModel,
  type Model,
  type Tensor,
} from '@araboza/core';
import { assertIdentical, check } from '../assert.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** Time limit of one weight-role test (a few compiles and steps of tiny graphs). */
export const ROLES_TIMEOUT_MS = 60_000;

/** Skips the test, saying why, when the backend lacks one of `kinds`. */
export function requireKinds(ctx: CaseContext, kinds: readonly string[]): void {
  const missing = kinds.filter((k) => !ctx.backend.kinds.includes(k as never));
  if (missing.length > 0) ctx.skip(`unsupported: ${ctx.backend.name} does not implement ${missing.join(', ')}`);
}

async function compiledFor(backend: Backend, m: Model, optimizer: 'adam' | 'sgd'): Promise<CompiledModel> {
  const compiled = await backend.compile(m.graph, trainingSpec(m.graph, 'meanSquaredError', optimizer));
  await compiled.setWeights(m.getWeights());
  return compiled;
}

/** dense(3, frozen) → batchNormalization → dense(1): two trainable weights of the last dense, gamma/beta, and the frozen/state ones. */
export function frozenModel(): Model {
  const x = input({ shape: [4] });
  const frozen = layers.dense({ units: 3, name: 'frozen', trainable: false }).apply(x);
  const bn = layers.batchNormalization({ name: 'bn', momentum: 0.8 }).apply(frozen);
  return model({ inputs: x, outputs: layers.dense({ units: 1, name: 'head' }).apply(bn), seed: 5 });
}

/** The inputs of the weight-role models' training. */
export const X = randomUniform([8, 4], { seed: 21, minval: -1, maxval: 1 });
/** The targets of the weight-role models' training. */
export const Y = randomUniform([8, 1], { seed: 22, minval: -1, maxval: 1 });

/** A frozen layer's weights do not move in training; the trainable ones do; the optimizer state has slots for the trainable weights only. */
async function frozenStays(ctx: CaseContext): Promise<void> {
  requireKinds(ctx, ['dense', 'batchNormalization']);
  const m = frozenModel();
  const compiled = await compiledFor(ctx.backend, m, 'adam');
  try {
    const before = m.getWeights();
    for (let i = 0; i < 3; i++) await compiled.trainStep([X], [Y]);
    const after = await compiled.getWeights();
    m.graph.weights.forEach((w, i) => {
      const label = `${w.layer}/${w.spec.name}`;
      if (w.layer === 'frozen') assertIdentical(after[i], before[i], `${label} of a frozen layer after 3 training steps`);
      else
        check(
          after[i].data.some((v, j) => v !== before[i].data[j]),
          () => `${label} did not change in 3 training steps`,
        );
    });
    const state = await compiled.getOptimizerState();
    const trainable = m.graph.weights.filter((w) => w.layer !== 'frozen' && w.spec.role !== 'state');
    check(state.step === 3, () => `optimizer step after 3 steps is ${state.step}`);
    check(
      state.slots.length === trainable.length,
      () =>
        `optimizer state has slots for ${state.slots.length} weights, expected the ${trainable.length} trainable ones (${trainable.map((w) => `${w.layer}/${w.spec.name}`).join(', ')})`,
    );
    state.slots.forEach((ss, k) => {
      check(ss.length === optimizerSlots(resolveOptimizer('adam')).length, () => `trainable weight ${k} has ${ss.length} slots`);
      ss.forEach((s) => check(s.shape.join() === trainable[k].spec.shape.join(), () => `slot of ${trainable[k].spec.name} has shape [${s.shape}]`));
    });
  } finally {
    compiled.dispose();
  }
}

/**
 * Batch normalisation's moving statistics after a step are the forward
 * pass's (moving·momentum + batch·(1 − momentum), unbiased variance),
 * computed here in float64 from the batch; predict then uses them.
 */
async function movingStatistics(ctx: CaseContext): Promise<void> {
  requireKinds(ctx, ['batchNormalization']);
  const layer = layers.batchNormalization({ momentum: 0.75 });
  const graph = singleLayerGraph(layer, [3, 2]);
  const x = randomUniform([5, 3, 2], { seed: 31, minval: -2, maxval: 3 });
  const y = randomUniform([5, 3, 2], { seed: 32 });
  const compiled = await ctx.backend.compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
  try {
    const init = [
      { shape: [2], data: Float32Array.from([1.5, 0.5]) },
      { shape: [2], data: Float32Array.from([0.1, -0.2]) },
      { shape: [2], data: Float32Array.from([0.3, -0.4]) },
      { shape: [2], data: Float32Array.from([2, 0.5]) },
    ];
    await compiled.setWeights(init);
    await compiled.trainStep([x], [y]);
    const after = await compiled.getWeights();
    const n = 15;
    for (let c = 0; c < 2; c++) {
      let mean = 0;
      for (let i = c; i < x.data.length; i += 2) mean += x.data[i] / n;
      let ss = 0;
      for (let i = c; i < x.data.length; i += 2) ss += (x.data[i] - mean) ** 2;
      const wantMean = init[2].data[c] * 0.75 + mean * 0.25;
      const wantVar = init[3].data[c] * 0.75 + (ss / (n - 1)) * 0.25;
      check(Math.abs(after[2].data[c] - wantMean) <= 1e-5 * (1 + Math.abs(wantMean)), () => `movingMean[${c}] is ${after[2].data[c]}, expected ${wantMean}`);
      check(Math.abs(after[3].data[c] - wantVar) <= 1e-5 * (1 + Math.abs(wantVar)), () => `movingVariance[${c}] is ${after[3].data[c]}, expected ${wantVar}`);
    }
    // Inference uses the moving statistics: predict equals the formula with the new moving values.
    const [out] = await compiled.predict([x]);
    for (let i = 0; i < x.data.length; i++) {
      const c = i % 2;
      const want = ((x.data[i] - after[2].data[c]) / Math.sqrt(after[3].data[c] + 1e-3)) * after[0].data[c] + after[1].data[c];
      check(Math.abs(out.data[i] - want) <= 1e-5 * (1 + Math.abs(want)), () => `predict[${i}] is ${out.data[i]}, expected ${want} from the moving statistics`);
    }
  } finally {
    compiled.dispose();
  }
}

/** Fraction of zeros of a tensor, and whether every other value equals `kept`. */
function dropStats(t: Tensor, kept: number): { zeros: number; keptOk: boolean } {
  let zeros = 0;
  let keptOk = true;
  for (const v of t.data) {
    if (v === 0) zeros++;
    else if (Math.abs(v - kept) > 1e-5 * kept) keptOk = false;
  }
  return { zeros: zeros / t.data.length, keptOk };
}

/**
 * Dropout statistics (two backends draw different masks): in training mode
 * on ones, about `rate` of the values are 0 and the rest 1/(1 − rate), mean
 * ≈ 1; two training-mode passes draw different masks; inference is the identity.
 */
async function dropoutStatistics(ctx: CaseContext): Promise<void> {
  requireKinds(ctx, ['dropout']);
  const rate = 0.3;
  const layer = layers.dropout({ rate, seed: 7 });
  const graph = singleLayerGraph(layer, [50, 40]);
  const ones: Tensor = { shape: [10, 50, 40], data: new Float32Array(20_000).fill(1) };
  const compiled = await ctx.backend.compile(graph);
  try {
    const [a] = await compiled.predict([ones], { training: true });
    const [b] = await compiled.predict([ones], { training: true });
    const [inf] = await compiled.predict([ones]);
    for (const [t, what] of [
      [a, 'first'],
      [b, 'second'],
    ] as const) {
      const s = dropStats(t, 1 / (1 - rate));
      // 20,000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.0032; 0.02 is over 6 of them.
      check(Math.abs(s.zeros - rate) < 0.02, () => `${what} training pass dropped ${s.zeros} of the values, expected about ${rate}`);
      check(s.keptOk, () => `${what} training pass: kept values must be 1/(1 − rate) = ${1 / (1 - rate)}`);
      const mean = t.data.reduce((p, v) => p + v, 0) / t.data.length;
      check(Math.abs(mean - 1) < 0.03, () => `${what} training pass has mean ${mean}, expected about 1`);
    }
    check(
      a.data.some((v, i) => v !== b.data[i]),
      () => 'two training-mode passes drew the same mask',
    );
    assertIdentical(inf, ones, 'dropout in inference mode (must be the identity)');
  } finally {
    compiled.dispose();
  }
}

/**
 * Spatial dropout statistics: in training mode on ones, whole feature maps
 * are dropped (every position of a (sample, channel) pair has the same
 * value), about `rate` of them, the others scaled by 1/(1 − rate).
 */
async function spatialDropoutStatistics(ctx: CaseContext): Promise<void> {
  requireKinds(ctx, ['spatialDropout2d']);
  const rate = 0.4;
  const graph = singleLayerGraph(layers.spatialDropout2d({ rate, seed: 9 }), [3, 3, 100]);
  const ones: Tensor = { shape: [40, 3, 3, 100], data: new Float32Array(36_000).fill(1) };
  const compiled = await ctx.backend.compile(graph);
  try {
    const [out] = await compiled.predict([ones], { training: true });
    let dropped = 0;
    for (let b = 0; b < 40; b++)
      for (let c = 0; c < 100; c++) {
        const first = out.data[b * 900 + c];
        for (let p = 1; p < 9; p++)
          check(out.data[b * 900 + p * 100 + c] === first, () => `sample ${b} channel ${c}: positions differ, a whole map must be kept or dropped`);
        if (first === 0) dropped++;
        else check(Math.abs(first - 1 / (1 - rate)) < 1e-5, () => `kept value ${first}, expected 1/(1 − rate) = ${1 / (1 - rate)}`);
      }
    // 4,000 maps, Bernoulli(0.4): standard deviation 0.0077; 0.04 is over 5 of them.
    check(Math.abs(dropped / 4000 - rate) < 0.04, () => `dropped ${dropped / 4000} of the feature maps, expected about ${rate}`);
  } finally {
    compiled.dispose();
  }
}

/**
 * The weight-role tests: `roles/frozen-layer-stays` (a frozen layer does not
 * move, slots only for trainable weights), `roles/batch-norm-moving-statistics`
 * (the state update and inference with it), `roles/dropout-statistics`,
 * `roles/spatial-dropout-statistics`. `roles/checkpoint-resume` (on disk, Node only) is in `checkpoint-checks.ts`.
 */
export function rolesCases(): ConformanceCase[] {
  return [
    { id: 'roles/frozen-layer-stays', tags: ['roles'], timeoutMs: ROLES_TIMEOUT_MS, run: frozenStays },
    {
      id: 'roles/batch-norm-moving-statistics',
      tags: ['roles'],
      timeoutMs: ROLES_TIMEOUT_MS,
      matrix: { kind: 'batchNormalization', aspect: 'training' },
      run: movingStatistics,
    },
    { id: 'roles/dropout-statistics', tags: ['roles'], timeoutMs: ROLES_TIMEOUT_MS, matrix: { kind: 'dropout', aspect: 'training' }, run: dropoutStatistics },
    {
      id: 'roles/spatial-dropout-statistics',
      tags: ['roles'],
      timeoutMs: ROLES_TIMEOUT_MS,
      matrix: { kind: 'spatialDropout2d', aspect: 'training' },
      run: spatialDropoutStatistics,
    },
  ];
}
