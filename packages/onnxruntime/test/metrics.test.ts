import { MetricAccumulator, type ResolvedMetric } from '@araboza/core';
import { loadMetricGoldenCases } from '@araboza/conformance/metric-golden';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { emitMetricPartial } from '../src/metrics.js';
import { checkBuiltGraph } from '../src/model-check.js';
import { OnnxGraphBuilder, type Dim } from '../src/onnx-graph.js';

// The golden cases with class-index targets, run here at the kernel level (core does not check sparse targets yet).
const sparseCases = loadMetricGoldenCases().filter((c) => c.sparse);

const metric: ResolvedMetric = { kind: 'sparseCategoricalAccuracy', output: 0, key: 'acc', threshold: 0.5, k: 5, numThresholds: 200 };

/** A model computing the metric's partial from predictions `[N, classes]` and labels of per-sample shape `labelShape`. */
async function partialSession(classes: number, labelShape: readonly number[]): Promise<ort.InferenceSession> {
  const b = new OnnxGraphBuilder();
  const p = b.input('p', ['N', classes]);
  const y = b.input('y', ['N', ...labelShape] as Dim[]);
  b.output(b.rename(emitMetricPartial(b, metric, p, y, [classes]), 'partial'));
  checkBuiltGraph(b, 'sparse_metric');
  return ort.InferenceSession.create(b.encode('sparse_metric'), { intraOpNumThreads: 1 });
}

describe('sparse categorical accuracy kernel', () => {
  it.each(sparseCases.map((c) => [c.id, c] as const))('%s: batches accumulate to the golden value', async (_id, c) => {
    const [n, classes] = c.predictions.shape;
    const labelShape = c.targets.shape.slice(1);
    const session = await partialSession(classes, labelShape);
    const acc = new MetricAccumulator([metric], [[classes]]);
    const labelsPerSample = labelShape.reduce((q, d) => q * d, 1);
    for (let start = 0; start < n; start += c.batchSize) {
      const size = Math.min(c.batchSize, n - start);
      const feeds = {
        p: new ort.Tensor('float32', c.predictions.data.slice(start * classes, (start + size) * classes), [size, classes]),
        y: new ort.Tensor('float32', c.targets.data.slice(start * labelsPerSample, (start + size) * labelsPerSample), [size, ...labelShape]),
      };
      acc.add([Array.from((await session.run(feeds)).partial.data as Float32Array)], size);
    }
    await session.release();
    expect(acc.values().acc).toBeCloseTo(c.value, 12);
  });
});
