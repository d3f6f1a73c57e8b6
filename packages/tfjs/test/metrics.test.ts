import * as tf from '@tensorflow/tfjs-core';
import { MetricAccumulator, slice, type ResolvedMetric } from '@araboza/core';
import { loadMetricGoldenCases } from '@araboza/conformance/metric-golden';
import { describe, expect, it } from 'vitest';
import { activateEngine, selectEngine } from '../src/engines.js';
import { metricPartial } from '../src/metrics.js';

// The golden cases with class-index targets, run here at the kernel level (core does not check sparse targets yet).
const sparseCases = loadMetricGoldenCases().filter((c) => c.sparse);

const metric: ResolvedMetric = { kind: 'sparseCategoricalAccuracy', output: 0, key: 'acc', threshold: 0.5, k: 5, numThresholds: 200 };

describe.each(['cpu', 'wasm'] as const)('sparse categorical accuracy kernel on %s', (engine) => {
  it.each(sparseCases.map((c) => [c.id, c] as const))('%s: batches accumulate to the golden value', async (_id, c) => {
    await activateEngine(engine);
    selectEngine(engine);
    const { predictions: p, targets: y } = c;
    const acc = new MetricAccumulator([metric], [p.shape.slice(1)]);
    for (let start = 0; start < p.shape[0]; start += c.batchSize) {
      const size = Math.min(c.batchSize, p.shape[0] - start);
      const part = tf.tidy(() =>
        metricPartial(
          metric,
          tf.tensor(slice(p, start, size).data, [size, ...p.shape.slice(1)]),
          tf.tensor(slice(y, start, size).data, [size, ...y.shape.slice(1)]),
        ),
      );
      acc.add([Array.from(part.dataSync())], size);
      part.dispose();
    }
    expect(acc.values().acc).toBeCloseTo(c.value, 12);
  });
});

describe('sparse categorical accuracy edge values', () => {
  it('a label that is not a whole number matches no class', async () => {
    await activateEngine('cpu');
    selectEngine('cpu');
    const part = tf.tidy(() =>
      metricPartial(
        metric,
        tf.tensor([
          [0.1, 0.9],
          [0.8, 0.2],
        ]),
        tf.tensor([1.5, 0]),
      ),
    );
    expect(Array.from(part.dataSync())).toEqual([1]);
    part.dispose();
  });
});
