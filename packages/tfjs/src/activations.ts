import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@araboza/core';

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

/** tfjs forms of core's activations. */
export const ACTIVATION_OPS: { readonly [A in ActivationName]: (x: tf.Tensor) => tf.Tensor } = {
  linear: (x) => x,
  relu: (x) => relu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softmax: (x) => tf.softmax(x, -1),
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
