import { layers, sequential, type Model } from '@araboza/core';
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

/**
 * The tests of `fixtures/training/metrics.json`: `metrics/<case>/evaluate` and `…/fit`. Cases with
 * class-index targets run in the backends' own tests, at the kernel level.
 */
export function metricCases(): ConformanceCase[] {
  return loadMetricGoldenCases()
    .filter((c) => !c.sparse)
    .flatMap((c): ConformanceCase[] => [
      { id: `metrics/${c.id}/evaluate`, tags: ['metrics'], timeoutMs: METRIC_TIMEOUT_MS, run: (ctx) => metricEvaluate(ctx, c) },
      { id: `metrics/${c.id}/fit`, tags: ['metrics'], timeoutMs: METRIC_TIMEOUT_MS, run: (ctx) => metricFit(ctx, c) },
    ]);
}
