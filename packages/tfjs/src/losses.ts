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

/** Loss computations, one per core loss, each given the model output (or its logits) and the target. */
const LOSSES: { readonly [L in LossName]: (out: tf.Tensor, y: tf.Tensor, fromLogits: boolean) => tf.Scalar } = {
  binaryCrossentropy: (out, y, fromLogits) => {
    if (fromLogits) return binaryCrossentropyFromLogits(out, y) as tf.Scalar;
    const p = tf.clipByValue(out, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    return tf.neg(accurateMean(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))))) as tf.Scalar;
  },
  meanSquaredError: (out, y) => accurateMean(tf.squaredDifference(out, y)),
  categoricalCrossentropy: (out, y, fromLogits) => {
    const logP = fromLogits ? tf.logSoftmax(out, -1) : tf.log(tf.clipByValue(tf.div(out, tf.sum(out, -1, true)), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON));
    return tf.neg(accurateMean(tf.sum(tf.mul(y, logP), -1))) as tf.Scalar;
  },
};

/**
 * The batch loss as core defines it (mean over every element; the
 * categorical one is a mean over rows of a sum over the last axis).
 * `out` holds the logits when `loss.fromLogits`.
 */
export function computeLoss(loss: ResolvedLoss, out: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return LOSSES[loss.kind](out, y, loss.fromLogits);
}
