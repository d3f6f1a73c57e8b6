import { ConfigError } from './errors.js';

/**
 * Element-wise activations every backend implements, with Keras 3's
 * definitions (where TF2-Keras differs, as for `hardSigmoid`, Keras 3 is
 * followed). Gradients at kinks follow TensorFlow:
 * - `linear`: x
 * - `relu`: max(x, 0); its gradient at exactly 0 is 0, as in TensorFlow
 * - `sigmoid`: 1 / (1 + e^−x)
 * - `tanh`: tanh(x)
 * - `softmax`: e^x / Σ e^x over the last axis
 * - `elu`: x for x > 0, e^x − 1 otherwise (α = 1); elu′(0) = 1
 * - `selu`: λ·x for x > 0, λ·α·(e^x − 1) otherwise, with
 *   α = 1.6732632423543772 and λ = 1.0507009873554805; selu′(0) = λ
 * - `gelu`: the exact form x·Φ(x) = x·(1 + erf(x/√2))/2 (Keras's default,
 *   `approximate=False`)
 * - `geluApproximate`: Keras's `gelu(x, approximate=True)`, the tanh form
 *   x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2 (PyTorch's `approximate='tanh'`).
 *   Keras has no string name for it; araboza names it so that it is an
 *   activation like any other: the `activation` option of every layer that has
 *   one, and the `activation` layer
 * - `softplus`: log(1 + e^x)
 * - `softsign`: x / (1 + |x|)
 * - `silu` and its alias `swish`: x·sigmoid(x)
 * - `hardSigmoid`: relu6(x + 3)/6 (Keras 3; TF2-Keras used clip(0.2·x + 0.5, 0, 1));
 *   its gradient is 1/6 for −3 < x < 3 and 0 elsewhere, 0 at ±3
 * - `relu6`: min(max(x, 0), 6); its gradient is 0 at 0 and at 6
 * - `exponential`: e^x
 */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'geluApproximate'
  | 'softplus'
  | 'softsign'
  | 'silu'
  | 'swish'
  | 'hardSigmoid'
  | 'relu6'
  | 'exponential';

/** Every activation name, in a stable order. */
export const ACTIVATIONS: readonly ActivationName[] = [
  'linear',
  'relu',
  'sigmoid',
  'tanh',
  'softmax',
  'elu',
  'selu',
  'gelu',
  'softplus',
  'softsign',
  'silu',
  'swish',
  'hardSigmoid',
  'relu6',
  'exponential',
  'geluApproximate',
];

/** SELU's α (Keras 3's and PyTorch's constant). */
export const SELU_ALPHA = 1.6732632423543772;
/** SELU's scale λ (Keras 3's and PyTorch's constant). */
export const SELU_SCALE = 1.0507009873554805;
/** √(2/π), the scale inside the tanh of {@link ActivationName | geluApproximate}. */
export const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);
/** The cubic coefficient inside the tanh of {@link ActivationName | geluApproximate} (Keras's and PyTorch's). */
export const GELU_TANH_CUBIC = 0.044715;

/** Validates an activation option; `undefined` and `null` mean `linear`. */
export function resolveActivation(value: unknown, layerName: string): ActivationName {
  if (value === undefined || value === null) return 'linear';
  if (typeof value === 'string' && (ACTIVATIONS as readonly string[]).includes(value)) return value as ActivationName;
  throw new ConfigError(`${layerName}: activation must be one of ${ACTIVATIONS.join(', ')}; got ${JSON.stringify(value)}`);
}
