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
  const [z, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([z, y]);
  const n = z.size;
  const value = accurateMean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, ys] = saved;
      const scale = tf.div(dy, n);
      return [tf.mul(scale, tf.sub(tf.sigmoid(zs), ys)), tf.mul(scale, tf.neg(zs))];
    },
  };
});

/**
 * Mean absolute error with the gradient sign(ŷ − y)/n, 0 where ŷ = y
 * (tfjs's Abs gradient is −1 at 0).
 */
const meanAbsoluteError = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const e = tf.sub(p, y);
  save([e]);
  return {
    value: accurateMean(tf.abs(e)),
    gradFunc: (dy: tf.Tensor, [es]: tf.Tensor[]) => {
      const g = tf.mul(tf.div(dy, es.size), tf.sign(es));
      return [g, tf.neg(g)];
    },
  };
});

/**
 * Categorical hinge, mean over rows of max(max((1 − y)·ŷ) − Σ y·ŷ + 1, 0),
 * with the inner max's gradient shared equally among tied maxima and the
 * hinge's flowing where it is ≥ 0 (core's formula).
 */
const categoricalHinge = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const negatives = tf.mul(tf.sub(1, y), p);
  const neg = tf.max(negatives, -1, true);
  const pos = tf.sum(tf.mul(y, p), -1, true);
  const hinge = tf.add(tf.sub(neg, pos), 1);
  save([y, negatives, neg, hinge]);
  return {
    value: accurateMean(tf.relu(hinge)),
    gradFunc: (dy: tf.Tensor, [ys, negs, negMax, h]: tf.Tensor[]) => {
      const ties = tf.cast(tf.equal(negs, negMax), 'float32');
      const share = tf.div(ties, tf.sum(ties, -1, true));
      const active = tf.cast(tf.greaterEqual(h, 0), 'float32');
      const rows = h.size;
      const g = tf.mul(tf.mul(tf.div(dy, rows), active), tf.sub(tf.mul(share, tf.sub(1, ys)), ys));
      return [g, tf.zerosLike(ys)];
    },
  };
});

/**
 * Huber with threshold δ: mean(|e| ≤ δ ? e²/2 : δ·|e| − δ²/2), e = ŷ − y,
 * gradient (|e| ≤ δ ? e : δ·sign(e))/n given exactly (tfjs has no gradient
 * for the comparison that picks the branch).
 */
function huber(p: tf.Tensor, y: tf.Tensor, delta: number): tf.Scalar {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [ps, ys, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const e = tf.sub(ps, ys);
    const a = tf.abs(e);
    const small = tf.lessEqual(a, delta);
    save([e, small]);
    return {
      value: accurateMean(tf.where(small, tf.mul(0.5, tf.square(e)), tf.sub(tf.mul(delta, a), 0.5 * delta * delta))),
      gradFunc: (dy: tf.Tensor, [es, sm]: tf.Tensor[]) => {
        const g = tf.mul(tf.div(dy, es.size), tf.where(sm, es, tf.mul(delta, tf.sign(es))));
        return [g, tf.neg(g)];
      },
    };
  });
  return f(p, y) as tf.Scalar;
}

/**
 * Log-cosh, mean(e + softplus(−2e) − log 2), e = ŷ − y, with the gradient
 * tanh(e)/n given exactly: differentiating the sum gives 1 − 2·sigmoid(2e),
 * which cancels in float32 for small e (relative error 1e−3 at |e| = 1e−4).
 */
const logCosh = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [p, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const e = tf.sub(p, y);
  save([e]);
  return {
    value: accurateMean(tf.sub(tf.add(e, tf.softplus(tf.mul(-2, e))), Math.LN2)),
    gradFunc: (dy: tf.Tensor, [es]: tf.Tensor[]) => {
      const g = tf.mul(tf.div(dy, es.size), tf.tanh(es));
      return [g, tf.neg(g)];
    },
  };
});

/** Log-probabilities over the last axis, from logits (log-softmax) or from probabilities (normalised, then clipped). */
function logProbabilities(out: tf.Tensor, fromLogits: boolean): tf.Tensor {
  if (fromLogits) return tf.logSoftmax(out, -1);
  return tf.log(tf.clipByValue(tf.div(out, tf.sum(out, -1, true)), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON));
}

/** Mean over rows of −Σ y·log p over the last axis. */
function categoricalCrossentropy(out: tf.Tensor, y: tf.Tensor, fromLogits: boolean): tf.Scalar {
  return tf.neg(accurateMean(tf.sum(tf.mul(y, logProbabilities(out, fromLogits)), -1))) as tf.Scalar;
}

/** Loss computations, one per core loss, each given the model output (or its logits) and the target. */
const LOSSES: { readonly [L in LossName]: (out: tf.Tensor, y: tf.Tensor, loss: ResolvedLoss) => tf.Scalar } = {
  binaryCrossentropy: (out, y, { fromLogits }) => {
    if (fromLogits) return binaryCrossentropyFromLogits(out, y) as tf.Scalar;
    const p = tf.clipByValue(out, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    return tf.neg(accurateMean(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))))) as tf.Scalar;
  },
  meanSquaredError: (out, y) => accurateMean(tf.squaredDifference(out, y)),
  categoricalCrossentropy: (out, y, { fromLogits }) => categoricalCrossentropy(out, y, fromLogits),
  sparseCategoricalCrossentropy: (out, y, { fromLogits }) => {
    const classes = out.shape[out.shape.length - 1];
    const labels = tf.cast(tf.reshape(y, out.shape.slice(0, -1)), 'int32');
    return categoricalCrossentropy(out, tf.cast(tf.oneHot(labels, classes), 'float32'), fromLogits);
  },
  meanAbsoluteError: (out, y) => meanAbsoluteError(out, y) as tf.Scalar,
  huber: (out, y, { delta }) => huber(out, y, delta ?? 1),
  kullbackLeiblerDivergence: (out, y) => {
    const yc = tf.clipByValue(y, PROBABILITY_EPSILON, 1);
    const pc = tf.clipByValue(out, PROBABILITY_EPSILON, 1);
    return accurateMean(tf.sum(tf.mul(yc, tf.log(tf.div(yc, pc))), -1));
  },
  hinge: (out, y) => accurateMean(tf.maximum(tf.sub(1, tf.mul(y, out)), 0)),
  categoricalHinge: (out, y) => categoricalHinge(out, y) as tf.Scalar,
  logCosh: (out, y) => logCosh(out, y) as tf.Scalar,
  poisson: (out, y) => accurateMean(tf.sub(out, tf.mul(y, tf.log(tf.add(out, PROBABILITY_EPSILON))))),
};

/**
 * The batch loss as core defines it (formulas in `ResolvedLoss`'s TSDoc).
 * `out` holds the logits when `loss.fromLogits`; `y` is the target as
 * core's `lossTargets` gives it.
 */
export function computeLoss(loss: ResolvedLoss, out: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return LOSSES[loss.kind](out, y, loss);
}
