import * as tf from '@tensorflow/tfjs-core';
import { PROBABILITY_EPSILON, type LossName, type ResolvedLoss } from '@araboza/core';
import { accurateMean } from './reductions.js';

/**
 * Binary cross-entropy from logits z, mean over every element:
 * max(z, 0) − z·y + log(1 + e^−|z|). Its gradient is given exactly,
 * (sigmoid(z) − y)/n, because composing relu and abs would give a wrong
 * derivative at z = 0 (both have gradient 0 there), and z = 0 is common with
 * zero biases and blank inputs.
 */
const binaryCrossentropyFromLogits = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [z, y, w, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([z, y, w]);
  const n = z.size;
  const value = accurateMean(tf.mul(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))), w));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, ys, ws] = saved;
      const scale = tf.mul(tf.div(dy, n), ws);
      return [tf.mul(scale, tf.sub(tf.sigmoid(zs), ys)), tf.mul(scale, tf.neg(zs)), tf.zerosLike(ws)];
    },
  };
});

/**
 * Mean absolute error with the gradient sign(ŷ − y)/n, 0 where ŷ = y
 * (tfjs's Abs gradient is −1 at 0).
 */
const meanAbsoluteError = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, w, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const e = tf.sub(p, y);
  save([e, w]);
  return {
    value: accurateMean(tf.mul(tf.abs(e), w)),
    gradFunc: (dy: tf.Tensor, [es, ws]: tf.Tensor[]) => {
      const g = tf.mul(tf.mul(tf.div(dy, es.size), ws), tf.sign(es));
      return [g, tf.neg(g), tf.zerosLike(ws)];
    },
  };
});

/**
 * Categorical hinge, mean over rows of max(max((1 − y)·ŷ) − Σ y·ŷ + 1, 0),
 * with the inner max's gradient shared equally among tied maxima and the
 * hinge's flowing where it is ≥ 0 (core's formula).
 */
const categoricalHinge = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, w, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const negatives = tf.mul(tf.sub(1, y), p);
  const neg = tf.max(negatives, -1, true);
  const pos = tf.sum(tf.mul(y, p), -1, true);
  const hinge = tf.add(tf.sub(neg, pos), 1);
  save([y, negatives, neg, hinge, w]);
  return {
    value: accurateMean(tf.mul(tf.relu(hinge), w)),
    gradFunc: (dy: tf.Tensor, [ys, negs, negMax, h, ws]: tf.Tensor[]) => {
      const ties = tf.cast(tf.equal(negs, negMax), 'float32');
      const share = tf.div(ties, tf.sum(ties, -1, true));
      const active = tf.mul(tf.cast(tf.greaterEqual(h, 0), 'float32'), ws);
      const rows = h.size;
      const g = tf.mul(tf.mul(tf.div(dy, rows), active), tf.sub(tf.mul(share, tf.sub(1, ys)), ys));
      return [g, tf.zerosLike(ys), tf.zerosLike(ws)];
    },
  };
});

/**
 * Huber with threshold δ: mean(|e| ≤ δ ? e²/2 : δ·|e| − δ²/2), e = ŷ − y,
 * gradient (|e| ≤ δ ? e : δ·sign(e))/n given exactly (tfjs has no gradient
 * for the comparison that picks the branch).
 */
function huber(p: tf.Tensor, y: tf.Tensor, w: tf.Tensor, delta: number): tf.Scalar {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [ps, ys, wb, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const e = tf.sub(ps, ys);
    const a = tf.abs(e);
    const small = tf.lessEqual(a, delta);
    save([e, small, wb]);
    return {
      value: accurateMean(tf.mul(tf.where(small, tf.mul(0.5, tf.square(e)), tf.sub(tf.mul(delta, a), 0.5 * delta * delta)), wb)),
      gradFunc: (dy: tf.Tensor, [es, sm, ws]: tf.Tensor[]) => {
        const g = tf.mul(tf.mul(tf.div(dy, es.size), ws), tf.where(sm, es, tf.mul(delta, tf.sign(es))));
        return [g, tf.neg(g), tf.zerosLike(ws)];
      },
    };
  });
  return f(p, y, w) as tf.Scalar;
}

/**
 * Log-cosh, mean(e + softplus(−2e) − log 2), e = ŷ − y, with the gradient
 * tanh(e)/n given exactly: differentiating the sum gives 1 − 2·sigmoid(2e),
 * which cancels in float32 for small e (relative error 1e−3 at |e| = 1e−4).
 */
const logCosh = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, w, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const e = tf.sub(p, y);
  save([e, w]);
  return {
    value: accurateMean(tf.mul(tf.sub(tf.add(e, tf.softplus(tf.mul(-2, e))), Math.LN2), w)),
    gradFunc: (dy: tf.Tensor, [es, ws]: tf.Tensor[]) => {
      const g = tf.mul(tf.mul(tf.div(dy, es.size), ws), tf.tanh(es));
      return [g, tf.neg(g), tf.zerosLike(ws)];
    },
  };
});

/** Log-probabilities over the last axis, from logits (log-softmax) or from probabilities (normalised, then clipped). */
function logProbabilities(out: tf.Tensor, fromLogits: boolean): tf.Tensor {
  if (fromLogits) return tf.logSoftmax(out, -1);
  return tf.log(tf.clipByValue(tf.div(out, tf.sum(out, -1, true)), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON));
}

/** Mean over rows of −w·Σ y·log p over the last axis (`w` per row, `[…, 1]`). */
function categoricalCrossentropy(out: tf.Tensor, y: tf.Tensor, w: tf.Tensor, fromLogits: boolean): tf.Scalar {
  return tf.neg(accurateMean(tf.mul(tf.sum(tf.mul(y, logProbabilities(out, fromLogits)), -1, true), w))) as tf.Scalar;
}

/**
 * Loss computations, one per core loss, each given the model output (or its logits), the target and
 * the per-sample weights `w` shaped `[batch, 1, …, 1]` (rank of the output) to multiply each loss term by.
 */
const LOSSES: { readonly [L in LossName]: (out: tf.Tensor, y: tf.Tensor, w: tf.Tensor, loss: ResolvedLoss) => tf.Scalar } = {
  binaryCrossentropy: (out, y, w, { fromLogits }) => {
    if (fromLogits) return binaryCrossentropyFromLogits(out, y, w) as tf.Scalar;
    const p = tf.clipByValue(out, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    return tf.neg(accurateMean(tf.mul(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))), w))) as tf.Scalar;
  },
  meanSquaredError: (out, y, w) => accurateMean(tf.mul(tf.squaredDifference(out, y), w)),
  categoricalCrossentropy: (out, y, w, { fromLogits }) => categoricalCrossentropy(out, y, w, fromLogits),
  sparseCategoricalCrossentropy: (out, y, w, { fromLogits }) => {
    const classes = out.shape[out.shape.length - 1];
    const labels = tf.cast(tf.reshape(y, out.shape.slice(0, -1)), 'int32');
    return categoricalCrossentropy(out, tf.cast(tf.oneHot(labels, classes), 'float32'), w, fromLogits);
  },
  meanAbsoluteError: (out, y, w) => meanAbsoluteError(out, y, w) as tf.Scalar,
  huber: (out, y, w, { delta }) => huber(out, y, w, delta ?? 1),
  kullbackLeiblerDivergence: (out, y, w) => {
    const yc = tf.clipByValue(y, PROBABILITY_EPSILON, 1);
    const pc = tf.clipByValue(out, PROBABILITY_EPSILON, 1);
    return accurateMean(tf.mul(tf.sum(tf.mul(yc, tf.log(tf.div(yc, pc))), -1, true), w));
  },
  hinge: (out, y, w) => accurateMean(tf.mul(tf.maximum(tf.sub(1, tf.mul(y, out)), 0), w)),
  categoricalHinge: (out, y, w) => categoricalHinge(out, y, w) as tf.Scalar,
  logCosh: (out, y, w) => logCosh(out, y, w) as tf.Scalar,
  poisson: (out, y, w) => accurateMean(tf.mul(tf.sub(out, tf.mul(y, tf.log(tf.add(out, PROBABILITY_EPSILON)))), w)),
};

/**
 * The batch loss as core defines it (formulas in `ResolvedLoss`'s TSDoc),
 * each sample's terms multiplied by its weight in `sampleWeight` (`[batch]`)
 * and still divided by the number of terms, as Keras's 'sum_over_batch_size'.
 * There is one code path: unweighted is weights of one, and × 1 is exact.
 * `out` holds the logits when `loss.fromLogits`; `y` is the target as
 * core's `lossTargets` gives it.
 */
export function computeLoss(loss: ResolvedLoss, out: tf.Tensor, y: tf.Tensor, sampleWeight: tf.Tensor): tf.Scalar {
  const w = tf.reshape(sampleWeight, [out.shape[0], ...out.shape.slice(1).map(() => 1)]);
  return LOSSES[loss.kind](out, y, w, loss);
}
