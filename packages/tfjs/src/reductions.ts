import * as tf from '@tensorflow/tfjs-core';

/** Values one float32 partial sum adds up sequentially. */
const CHUNK = 32;

/**
 * Σ of every value, in stages of {@link CHUNK} values (the tail zero-padded),
 * so no float32 partial sum is longer than 32 terms. tfjs-wasm's Sum and
 * Mean add a whole reduction sequentially in float32: over a 256×28×28×4
 * batch their relative error reaches 1e−3; staged, it stays near float32's
 * rounding. Differentiable (reshape, pad and sum only).
 */
export function accurateSum(t: tf.Tensor): tf.Scalar {
  let v: tf.Tensor = tf.reshape(t, [-1]);
  let n = t.size;
  while (n > CHUNK) {
    const rows = Math.ceil(n / CHUNK);
    if (rows * CHUNK !== n) v = tf.pad(v, [[0, rows * CHUNK - n]]);
    v = tf.sum(tf.reshape(v, [rows, CHUNK]), 1);
    n = rows;
  }
  return tf.sum(v) as tf.Scalar;
}

/** Mean of every value, summed with {@link accurateSum}. */
export function accurateMean(t: tf.Tensor): tf.Scalar {
  return tf.div(accurateSum(t), t.size) as tf.Scalar;
}
