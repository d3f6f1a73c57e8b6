import * as tf from '@tensorflow/tfjs-core';
import { metricPartialSize, type MetricKind, type ResolvedMetric } from '@araboza/core';
import { accurateSum } from './reductions.js';

/** Σ of a boolean tensor as a float32 count (exact below 2^24). */
const count = (b: tf.Tensor): tf.Scalar => tf.sum(tf.cast(b, 'float32')) as tf.Scalar;

/** The predictions `[m, classes]` and the position count m of an output with a class (last) axis. */
function rows(pred: tf.Tensor): { p: tf.Tensor2D; m: number; classes: number } {
  const classes = pred.shape[pred.shape.length - 1];
  const m = pred.size / classes;
  return { p: tf.reshape(pred, [m, classes]), m, classes };
}

/**
 * One metric's partial on a batch (core's {@link ResolvedMetric} defines the
 * numbers), as one float32 vector of `metricPartialSize(metric)` numbers.
 * `pred` holds the output's activated predictions, `y` its target.
 */
const PARTIALS: { readonly [K in MetricKind]: (m: ResolvedMetric, pred: tf.Tensor, y: tf.Tensor) => tf.Tensor | tf.Tensor[] } = {
  binaryAccuracy: (m, pred, y) => count(tf.equal(y, tf.cast(tf.greater(pred, m.threshold), 'float32'))),
  categoricalAccuracy: (_, pred, y) => count(tf.equal(tf.argMax(rows(y).p, 1), tf.argMax(rows(pred).p, 1))),
  sparseCategoricalAccuracy: (_, pred, y) => {
    const { p, m } = rows(pred);
    // Labels [batch, ...] or [batch, ..., 1]: one per position; compared as numbers (a label 1.5 matches no class).
    return count(tf.equal(tf.reshape(y, [m]), tf.cast(tf.argMax(p, 1), 'float32')));
  },
  topKCategoricalAccuracy: (metric, pred, y) => {
    const { p, m, classes } = rows(pred);
    // ŷ at the target class by a flat gather (row·classes + class): tfjs-wasm's gather with batchDims picks wrong elements.
    const flatIndex = tf.add(tf.mul(tf.range(0, m, 1, 'int32'), tf.scalar(classes, 'int32')), tf.cast(tf.argMax(rows(y).p, 1), 'int32'));
    const atTarget = tf.reshape(tf.gather(tf.reshape(p, [-1]), flatIndex), [m, 1]);
    // TensorFlow's in_top_k: a hit when fewer than k classes score strictly higher (ties count as in).
    const higher = tf.sum(tf.cast(tf.greater(p, atTarget), 'int32'), 1);
    return count(tf.less(higher, metric.k));
  },
  meanAbsoluteError: (_, pred, y) => accurateSum(tf.abs(tf.sub(pred, y))),
  meanSquaredError: (_, pred, y) => accurateSum(tf.squaredDifference(pred, y)),
  precision: (m, pred, y) => confusion(m, pred, y),
  recall: (m, pred, y) => confusion(m, pred, y),
  auc: (m, pred, y) => {
    const t = m.numThresholds;
    const flatP = tf.reshape(pred, [-1]);
    const flatY = tf.reshape(y, [1, -1]);
    // Keras's bucket of ŷ: ⌈ŷ·(T − 1)⌉ − 1, at least 0 (the first threshold is −ε), at most T − 1.
    const bucket = tf.clipByValue(tf.sub(tf.ceil(tf.mul(flatP, t - 1)), 1), 0, t - 1);
    // One-hot by comparison with 0 … T − 1 (small integers, exact in float32): tfjs-wasm's float32 oneHot returns integer bits.
    const oneHot = tf.cast(tf.equal(tf.reshape(bucket, [-1, 1]), tf.reshape(tf.range(0, t, 1, 'float32'), [1, t])), 'float32');
    const positives = tf.matMul(flatY, oneHot);
    const negatives = tf.matMul(tf.sub(1, flatY), oneHot);
    return tf.concat([tf.reshape(positives, [t]), tf.reshape(negatives, [t])]);
  },
};

/** `[tp, fp, fn]` at the metric's threshold: ŷ > threshold is positive, a label y ≠ 0 is. */
function confusion(m: ResolvedMetric, pred: tf.Tensor, y: tf.Tensor): tf.Tensor[] {
  const predPos = tf.greater(pred, m.threshold);
  const labelPos = tf.notEqual(y, 0);
  return [
    count(tf.logicalAnd(predPos, labelPos)),
    count(tf.logicalAnd(predPos, tf.logicalNot(labelPos))),
    count(tf.logicalAnd(tf.logicalNot(predPos), labelPos)),
  ];
}

/** One metric's partial as a vector of `metricPartialSize(metric)` numbers. */
export function metricPartial(metric: ResolvedMetric, pred: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
  const r = PARTIALS[metric.kind](metric, pred, y);
  const v = Array.isArray(r) ? tf.stack(r) : tf.reshape(r, [-1]);
  if (v.size !== metricPartialSize(metric)) throw new Error(`metricPartial: ${metric.kind} gave ${v.size} numbers`);
  return v as tf.Tensor1D;
}

/** Every metric's partial concatenated into one vector (in spec order), for one host read. */
export function metricPartials(metrics: readonly ResolvedMetric[], preds: readonly tf.Tensor[], targets: readonly tf.Tensor[]): tf.Tensor1D {
  return tf.concat(metrics.map((m) => metricPartial(m, preds[m.output], targets[m.output]))) as tf.Tensor1D;
}

/** Splits a concatenated partial vector read from the engine back into one array per metric. */
export function splitPartials(metrics: readonly ResolvedMetric[], values: ArrayLike<number>): number[][] {
  let at = 0;
  return metrics.map((m) => {
    const n = metricPartialSize(m);
    const part = Array.from({ length: n }, (_, j) => values[at + j]);
    at += n;
    return part;
  });
}
