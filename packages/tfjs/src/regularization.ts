import * as tf from '@tensorflow/tfjs-core';
import { regularizerFactors, type ModelGraph } from '@araboza/core';

/**
 * The regularisation penalty `Σ l1·Σ|w| + l2·Σw²` over every weight whose spec has a regulariser
 * (set by core), on the current values `weights` (graph order); 0 when no weight has one.
 */
export function regularizationPenalty(graph: ModelGraph, weights: readonly tf.Tensor[]): number {
  const regularized = graph.weights.flatMap((w, i) => (w.spec.regularizer ? [{ r: regularizerFactors(w.spec.regularizer), w: weights[i] }] : []));
  if (regularized.length === 0) return 0;
  const total = tf.tidy(() => {
    const terms = regularized.flatMap(({ r, w }) => [
      ...(r.l1 !== 0 ? [tf.mul(tf.sum(tf.abs(w)), r.l1)] : []),
      ...(r.l2 !== 0 ? [tf.mul(tf.sum(tf.square(w)), r.l2)] : []),
    ]);
    return terms.length === 0 ? tf.scalar(0) : tf.addN(terms);
  });
  try {
    return total.dataSync()[0];
  } finally {
    total.dispose();
  }
}

/**
 * Adds the penalty's gradient `l1·sign(w) + 2·l2·w` (sign(0) = 0) to the loss gradient of every
 * regularised weight; `grads` and the result are in graph weight order. Replaced gradients are
 * disposed; the others are returned as they were.
 */
export function addRegularizationGrads(graph: ModelGraph, weights: readonly tf.Tensor[], grads: readonly tf.Tensor[]): tf.Tensor[] {
  return grads.map((g, i) => {
    const spec = graph.weights[i].spec;
    if (!spec.regularizer) return g;
    const { l1, l2 } = regularizerFactors(spec.regularizer);
    const next = tf.tidy(() => {
      let out = g;
      if (l1 !== 0) out = tf.add(out, tf.mul(tf.sign(weights[i]), l1));
      if (l2 !== 0) out = tf.add(out, tf.mul(weights[i], 2 * l2));
      return out === g ? tf.clone(g) : out;
    });
    g.dispose();
    return next;
  });
}
