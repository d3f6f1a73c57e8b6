import { layers, randomUniform, sequential, slice, type BatchSource, type Model, type Tensor } from '@araboza/core';
import { assertCloseNumber, check } from '../assert.js';
import { loadMetricGoldenCases, type MetricGoldenCase } from '../metric-golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** Time limit of one metric test (a weightless model over a few tiny batches). */
const METRIC_TIMEOUT_MS = 30_000;

/**
 * Accumulated metric values: counts are exact, so ratios of counts agree to
 * float64 rounding; the mean errors sum float32 values.
 */
const METRIC_RTOL = 1e-5;

/**
 * A model whose output is its input (a linear activation layer), compiled
 * with the case's loss and metric: its predictions are the case's.
 */
function identityModel(ctx: CaseContext, c: MetricGoldenCase): Model {
  if (!ctx.backend.kinds.includes('activation'))
    ctx.skip(`unsupported: the metric cases run a linear activation layer, and ${ctx.backend.name} does not implement activation`);
  const m = sequential({ inputShape: c.predictions.shape.slice(1), layers: [layers.activation({ activation: 'linear', name: 'golden_identity' })] });
  m.compile({ backend: ctx.backend, optimizer: 'sgd', loss: c.loss, metrics: [c.metric] });
  const resolved = m.metrics[0];
  check(resolved?.kind === c.resolvesTo, () => `${c.id}: ${c.metric.kind} resolved to ${resolved?.kind}, expected ${c.resolvesTo}`);
  return m;
}

/** `evaluate` over the batches: the metric accumulated in the eval step's partials. */
async function metricEvaluate(ctx: CaseContext, c: MetricGoldenCase): Promise<void> {
  const m = identityModel(ctx, c);
  try {
    const logs = await m.evaluate(c.predictions, c.targets, { batchSize: c.batchSize });
    assertCloseNumber(logs[c.key], c.value, METRIC_RTOL, 1e-9, `${c.id}: evaluate's ${c.key} over batches of ${c.batchSize}`);
  } finally {
    m.dispose();
  }
}

/** One epoch of `fit` (no shuffle) over the batches: the metric accumulated in the train step's partials. */
async function metricFit(ctx: CaseContext, c: MetricGoldenCase): Promise<void> {
  const m = identityModel(ctx, c);
  try {
    const h = await m.fit(c.predictions, c.targets, { epochs: 1, batchSize: c.batchSize, shuffle: false, verbose: 0 });
    assertCloseNumber(h.history[c.key]?.[0], c.value, METRIC_RTOL, 1e-9, `${c.id}: fit's ${c.key} over batches of ${c.batchSize}`);
  } finally {
    m.dispose();
  }
}

/** A softmax classifier on 3 features, seeded, with accuracy and AUC. */
function classifier(ctx: CaseContext): Model {
  if (!ctx.backend.kinds.includes('dense')) ctx.skip(`unsupported: the streamed fit trains a dense layer, and ${ctx.backend.name} does not implement dense`);
  const m = sequential({ inputShape: [3], layers: [layers.dense({ units: 4, activation: 'softmax' })], seed: 5 });
  m.compile({ backend: ctx.backend, optimizer: { kind: 'adam', learningRate: 0.05 }, loss: 'categoricalCrossentropy', metrics: ['accuracy', 'auc'] });
  return m;
}

/**
 * `fit` on a batch source (3 batches, the last short, restarted every epoch) gives the history and weights of
 * `fit` on the same data in memory without shuffling: the streamed path runs the same steps and metrics.
 */
async function streamedFit(ctx: CaseContext): Promise<void> {
  const n = 10;
  const x = randomUniform([n, 3], { seed: 11, minval: -1, maxval: 1 });
  const classes = Float32Array.from({ length: n * 4 }, (_, i) => (i % 4 === (Math.floor(i / 4) * 7) % 4 ? 1 : 0));
  const y: Tensor = { shape: [n, 4], data: classes };
  const source: BatchSource = {
    *[Symbol.iterator]() {
      for (let at = 0; at < n; at += 4) yield { x: slice(x, at, Math.min(4, n - at)), y: slice(y, at, Math.min(4, n - at)) };
    },
  };
  const a = classifier(ctx);
  const b = classifier(ctx);
  try {
    const inMemory = await a.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0, validationData: [x, y] });
    const streamed = await b.fit(source, { epochs: 3, verbose: 0, validationData: source });
    check(
      JSON.stringify(streamed) === JSON.stringify(inMemory),
      () => `streamed history ${JSON.stringify(streamed.history)} differs from in-memory ${JSON.stringify(inMemory.history)}`,
    );
    const wa = a.getWeights().flatMap((t) => Array.from(t.data));
    const wb = b.getWeights().flatMap((t) => Array.from(t.data));
    check(
      wa.every((v, i) => v === wb[i]),
      () => 'streamed fit ends with other weights than in-memory fit',
    );
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * The tests of `fixtures/training/metrics.json`: `metrics/<case>/evaluate` and `…/fit` (class-index
 * targets with sparse categorical cross-entropy included), and `metrics/streamed-fit`.
 */
export function metricCases(): ConformanceCase[] {
  return [
    ...loadMetricGoldenCases().flatMap((c): ConformanceCase[] => [
      { id: `metrics/${c.id}/evaluate`, tags: ['metrics'], timeoutMs: METRIC_TIMEOUT_MS, run: (ctx) => metricEvaluate(ctx, c) },
      { id: `metrics/${c.id}/fit`, tags: ['metrics'], timeoutMs: METRIC_TIMEOUT_MS, run: (ctx) => metricFit(ctx, c) },
    ]),
    { id: 'metrics/streamed-fit', tags: ['metrics'], timeoutMs: METRIC_TIMEOUT_MS, run: streamedFit },
  ];
}
