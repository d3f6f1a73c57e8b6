import * as tf from '@tensorflow/tfjs-core';
import { GELU_TANH_CUBIC, GELU_TANH_SCALE, SELU_ALPHA, SELU_SCALE, type ActivationName } from '@araboza/core';

/** Activations tfjs's fused kernels can apply together with the bias. */
const FUSABLE: ReadonlySet<ActivationName> = new Set(['linear', 'relu', 'sigmoid']);

/**
 * Relu with the gradient `dy · step(x)`, step(0) = 0 as in TensorFlow.
 * tfjs's own relu gradient is the same function but adds a cast to float32
 * of step's float32 result, a full copy on wasm.
 */
const relu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return { value: tf.relu(x), gradFunc: (dy: tf.Tensor, [input]: tf.Tensor[]) => tf.mul(dy, tf.step(input)) };
});

/**
 * An element-wise function with a hand-written derivative `slope(x, y)`
 * (the gradient is dy·slope), for activations whose tfjs gradient differs
 * from TensorFlow's at a kink.
 */
function withSlope(f: (x: tf.Tensor) => tf.Tensor, slope: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = f(x);
    save([x, y]);
    return { value: y, gradFunc: (dy: tf.Tensor, [input, out]: tf.Tensor[]) => tf.mul(dy, slope(input, out)) };
  }) as (x: tf.Tensor) => tf.Tensor;
}

/** 1 where lo < x < hi, else 0 (0 on both bounds, as TensorFlow's Relu6Grad). */
const openInterval = (x: tf.Tensor, lo: number, hi: number) => tf.cast(tf.logicalAnd(tf.greater(x, lo), tf.less(x, hi)), 'float32');

/** relu6; tfjs's gradient is 1 at x = 6, TensorFlow's 0. */
const relu6 = withSlope(
  (x) => tf.relu6(x),
  (x) => openInterval(x, 0, 6),
);

/** relu6(x + 3)/6 (Keras 3); gradient 1/6 on (−3, 3), 0 at ±3. */
const hardSigmoid = withSlope(
  (x) => tf.div(tf.relu6(tf.add(x, 3)), 6),
  (x) => tf.div(openInterval(x, -3, 3), 6),
);

/** selu with Keras 3's constants; tfjs's gradient at 0 is λα, TensorFlow's λ. */
const selu = withSlope(
  (x) => tf.mul(tf.elu(x), tf.where(tf.greater(x, 0), tf.scalar(SELU_SCALE), tf.scalar(SELU_SCALE * SELU_ALPHA))),
  (x) => tf.where(tf.less(x, 0), tf.mul(tf.exp(x), SELU_SCALE * SELU_ALPHA), tf.mul(tf.onesLike(x), SELU_SCALE)),
);

/** tfjs forms of core's activations. */
export const ACTIVATION_OPS: { readonly [A in ActivationName]: (x: tf.Tensor) => tf.Tensor } = {
  linear: (x) => x,
  relu: (x) => relu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softmax: (x) => tf.softmax(x, -1),
  // tfjs's EluGrad is dy for y ≥ 0, dy·(y + 1) below: elu′(0) = 1 as in TensorFlow.
  elu: (x) => tf.elu(x),
  selu: (x) => selu(x),
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
  geluApproximate: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(x, tf.square(x)), GELU_TANH_CUBIC)), GELU_TANH_SCALE)))),
  softplus: (x) => tf.softplus(x),
  softsign: (x) => tf.div(x, tf.add(1, tf.abs(x))),
  silu: (x) => tf.mul(x, tf.sigmoid(x)),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
  hardSigmoid: (x) => hardSigmoid(x),
  relu6: (x) => relu6(x),
  exponential: (x) => tf.exp(x),
};

/** Applies a core activation. */
export function applyActivation(x: tf.Tensor, activation: ActivationName): tf.Tensor {
  return ACTIVATION_OPS[activation](x);
}

/**
 * Splits an activation into the part a fused tfjs kernel applies and the
 * part applied afterwards.
 */
export function splitFusedActivation(activation: ActivationName): { fused: 'linear' | 'relu' | 'sigmoid'; after: ActivationName } {
  return FUSABLE.has(activation) ? { fused: activation as 'linear' | 'relu' | 'sigmoid', after: 'linear' } : { fused: 'linear', after: activation };
}
