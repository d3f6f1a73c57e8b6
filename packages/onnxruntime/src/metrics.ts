import { metricPartialSize, type MetricKind, type ResolvedMetric } from '@araboza/core';
import { emitAccurateSum } from './reductions.js';
import { intAttr, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/** ONNX TensorProto element type float. */
const FLOAT = 1;

/** A batch-scaled length: `k` rows per sample. */
const perBatch = (k: number): Dim => (k === 1 ? 'N' : `N*${k}`);

/** What a metric's emitter gets: the predictions and the target, in Keras layout (`[N, ...perSample]`). */
interface MetricInput {
  readonly b: OnnxGraphBuilder;
  readonly metric: ResolvedMetric;
  readonly pred: string;
  readonly y: string;
  /** The output's per-sample shape. */
  readonly perSample: readonly number[];
}

/** Σ of a boolean tensor as a float32 count, shape `[1]` (exact below 2^24). */
function countTrue(b: OnnxGraphBuilder, mask: string, hint: string): string {
  const shape = b.shapeOf(mask);
  const f = b.op('Cast', [mask], shape, { to: intAttr(FLOAT) }, `${hint}_f`);
  return b.op(
    'ReduceSum',
    [b.op('Reshape', [f, b.ints([-1])], [perBatch(countOf(shape))], {}, `${hint}_flat`), b.ints([0])],
    [1],
    { keepdims: intAttr(1) },
    hint,
  );
}

/** Elements per batch sample of a shape whose first axis is `N` or `N*k` (a batch of k-row samples), the rest static. */
const countOf = (shape: readonly Dim[]) => {
  const first = shape[0];
  const rowsPerSample = typeof first === 'string' && first.startsWith('N*') ? Number(first.slice(2)) : 1;
  return shape.slice(1).reduce<number>((p, d) => p * (d as number), rowsPerSample);
};

/** `[m, classes]` view of a `[N, ..., classes]` value. */
function rows(b: OnnxGraphBuilder, v: string, perSample: readonly number[], hint: string): string {
  const classes = perSample[perSample.length - 1];
  const m = perSample.slice(0, -1).reduce((p, d) => p * d, 1);
  return b.op('Reshape', [v, b.ints([-1, classes])], [perBatch(m), classes], {}, hint);
}

/** Index of the largest value of each row (first on ties, `select_last_index` 0 as numpy and TensorFlow), `[m, 1]` int64. */
function argMax(b: OnnxGraphBuilder, v2: string, hint: string): string {
  const [m] = b.shapeOf(v2);
  return b.op('ArgMax', [v2], [m, 1], { axis: intAttr(1), keepdims: intAttr(1), select_last_index: intAttr(0) }, hint);
}

/** `[tp, fp, fn]` at the threshold: ŷ > threshold is positive, a label y ≠ 0 is. */
function confusion({ b, metric, pred, y }: MetricInput): string {
  const shape = b.shapeOf(pred);
  const predPos = b.op('Greater', [pred, b.scalar(metric.threshold)], shape, {}, 'metric_pred_pos');
  const labelPos = b.op('Not', [b.op('Equal', [y, b.scalar(0)], shape, {}, 'metric_label_zero')], shape, {}, 'metric_label_pos');
  const predNeg = b.op('Not', [predPos], shape, {}, 'metric_pred_neg');
  const labelNeg = b.op('Not', [labelPos], shape, {}, 'metric_label_neg');
  const tp = countTrue(b, b.op('And', [predPos, labelPos], shape, {}, 'metric_tp_mask'), 'metric_tp');
  const fp = countTrue(b, b.op('And', [predPos, labelNeg], shape, {}, 'metric_fp_mask'), 'metric_fp');
  const fn = countTrue(b, b.op('And', [predNeg, labelPos], shape, {}, 'metric_fn_mask'), 'metric_fn');
  return b.op('Concat', [tp, fp, fn], [3], { axis: intAttr(0) }, 'metric_confusion');
}

/** Σ of a float value over every element, shape `[1]`. */
function sumAll(b: OnnxGraphBuilder, v: string, hint: string): string {
  const shape = b.shapeOf(v);
  const total = emitAccurateSum(
    b,
    v,
    shape,
    shape.map((_, i) => i),
    [],
    hint,
  );
  return b.op('Reshape', [total, b.ints([1])], [1], {}, `${hint}_1`);
}

/** Each metric's partial (core's {@link ResolvedMetric}) as a float32 vector of `metricPartialSize` numbers. */
const EMITTERS: { readonly [K in MetricKind]: (input: MetricInput) => string } = {
  binaryAccuracy: ({ b, metric, pred, y }) => {
    const shape = b.shapeOf(pred);
    const positive = b.op('Cast', [b.op('Greater', [pred, b.scalar(metric.threshold)], shape, {}, 'metric_gt')], shape, { to: intAttr(FLOAT) }, 'metric_pos');
    return countTrue(b, b.op('Equal', [y, positive], shape, {}, 'metric_match'), 'metric_binary_accuracy');
  },
  categoricalAccuracy: ({ b, pred, y, perSample }) => {
    const t = argMax(b, rows(b, y, perSample, 'metric_y_rows'), 'metric_y_argmax');
    const p = argMax(b, rows(b, pred, perSample, 'metric_p_rows'), 'metric_p_argmax');
    return countTrue(b, b.op('Equal', [t, p], b.shapeOf(t), {}, 'metric_match'), 'metric_categorical_accuracy');
  },
  sparseCategoricalAccuracy: ({ b, pred, y, perSample }) => {
    const p = argMax(b, rows(b, pred, perSample, 'metric_p_rows'), 'metric_p_argmax');
    const shape = b.shapeOf(p);
    // Labels [N, ...] or [N, ..., 1]: one per position; compared as numbers (a label 1.5 matches no class).
    const labels = b.op('Reshape', [y, b.ints([-1, 1])], shape, {}, 'metric_labels');
    const classes = b.op('Cast', [p], shape, { to: intAttr(FLOAT) }, 'metric_p_class');
    return countTrue(b, b.op('Equal', [labels, classes], shape, {}, 'metric_match'), 'metric_sparse_accuracy');
  },
  topKCategoricalAccuracy: ({ b, metric, pred, y, perSample }) => {
    const p = rows(b, pred, perSample, 'metric_p_rows');
    const t = argMax(b, rows(b, y, perSample, 'metric_y_rows'), 'metric_y_argmax');
    const [m, classes] = b.shapeOf(p);
    const atTarget = b.op('GatherElements', [p, t], [m, 1], { axis: intAttr(1) }, 'metric_at_target');
    // TensorFlow's in_top_k: a hit when fewer than k classes score strictly higher (ties count as in).
    const higher = b.op('Cast', [b.op('Greater', [p, atTarget], [m, classes], {}, 'metric_higher')], [m, classes], { to: intAttr(FLOAT) }, 'metric_higher_f');
    const rank = b.op('ReduceSum', [higher, b.ints([1])], [m, 1], { keepdims: intAttr(1) }, 'metric_rank');
    return countTrue(b, b.op('Less', [rank, b.scalar(metric.k)], [m, 1], {}, 'metric_in_top_k'), 'metric_top_k_accuracy');
  },
  meanAbsoluteError: ({ b, pred, y }) => {
    const shape = b.shapeOf(pred);
    return sumAll(b, b.op('Abs', [b.op('Sub', [pred, y], shape, {}, 'metric_diff')], shape, {}, 'metric_abs'), 'metric_mae_sum');
  },
  meanSquaredError: ({ b, pred, y }) => {
    const shape = b.shapeOf(pred);
    const diff = b.op('Sub', [pred, y], shape, {}, 'metric_diff');
    return sumAll(b, b.op('Mul', [diff, diff], shape, {}, 'metric_sq'), 'metric_mse_sum');
  },
  precision: confusion,
  recall: confusion,
  auc: ({ b, metric, pred, y }) => {
    const t = metric.numThresholds;
    const e = perBatch(countOf(b.shapeOf(pred)));
    const flatP = b.op('Reshape', [pred, b.ints([-1, 1])], [e, 1], {}, 'metric_auc_p');
    // Keras's bucket of ŷ: ⌈ŷ·(T − 1)⌉ − 1, at least 0 (the first threshold is −ε), at most T − 1.
    const scaled = b.op('Ceil', [b.op('Mul', [flatP, b.scalar(t - 1)], [e, 1], {}, 'metric_auc_scaled')], [e, 1], {}, 'metric_auc_ceil');
    const bucket = b.op(
      'Clip',
      [b.op('Sub', [scaled, b.scalar(1)], [e, 1], {}, 'metric_auc_b'), b.scalar(0), b.scalar(t - 1)],
      [e, 1],
      {},
      'metric_auc_bucket',
    );
    const ids = b.floatConstant(
      'metric_auc_ids',
      [1, t],
      Float32Array.from({ length: t }, (_, i) => i),
    );
    const oneHot = b.op('Cast', [b.op('Equal', [bucket, ids], [e, t], {}, 'metric_auc_eq')], [e, t], { to: intAttr(FLOAT) }, 'metric_auc_onehot');
    const flatY = b.op('Reshape', [y, b.ints([1, -1])], [1, e], {}, 'metric_auc_y');
    const negY = b.op('Sub', [b.scalar(1), flatY], [1, e], {}, 'metric_auc_neg');
    const pos = b.op('MatMul', [flatY, oneHot], [1, t], {}, 'metric_auc_pos');
    const neg = b.op('MatMul', [negY, oneHot], [1, t], {}, 'metric_auc_negs');
    return b.op('Reshape', [b.op('Concat', [pos, neg], [1, 2 * t], { axis: intAttr(1) }, 'metric_auc_cat'), b.ints([-1])], [2 * t], {}, 'metric_auc');
  },
};

/**
 * Emits one metric's partial on the predictions `pred` and target `y`
 * (both Keras layout; the target `[N, ...perSample]`, or class indices for
 * the sparse metric): a float32 vector of `metricPartialSize(metric)` numbers.
 */
export function emitMetricPartial(b: OnnxGraphBuilder, metric: ResolvedMetric, pred: string, y: string, perSample: readonly number[]): string {
  const out = EMITTERS[metric.kind]({ b, metric, pred, y, perSample });
  const shape = b.shapeOf(out);
  if (shape.length !== 1 || shape[0] !== metricPartialSize(metric)) throw new Error(`emitMetricPartial: ${metric.kind} gave shape [${shape.join(', ')}]`);
  return out;
}

/** Every metric's partial concatenated in spec order (see {@link emitMetricPartial}); null without metrics. */
export function emitMetricPartials(
  b: OnnxGraphBuilder,
  metrics: readonly ResolvedMetric[],
  preds: readonly string[],
  targets: readonly string[],
  perSample: readonly (readonly number[])[],
): string | null {
  if (metrics.length === 0) return null;
  const parts = metrics.map((m) => emitMetricPartial(b, m, preds[m.output], targets[m.output], perSample[m.output]));
  const total = metrics.reduce((s, m) => s + metricPartialSize(m), 0);
  return parts.length === 1 ? parts[0] : b.op('Concat', parts, [total], { axis: intAttr(0) }, 'metric_partials');
}
