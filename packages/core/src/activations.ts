import { ConfigError } from './errors.js';

/**
 * Element-wise activations every backend implements:
 * - `linear`: x
 * - `relu`: max(x, 0); its gradient at exactly 0 is 0, as in TensorFlow
 * - `sigmoid`: 1 / (1 + e^−x)
 * - `tanh`: tanh(x)
 * - `softmax`: e^x / Σ e^x over the last axis
 */
export type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

/** Every activation name, in a stable order. */
export const ACTIVATIONS: readonly ActivationName[] = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];

/** Validates an activation option; `undefined` and `null` mean `linear`. */
export function resolveActivation(value: unknown, layerName: string): ActivationName {
  if (value === undefined || value === null) return 'linear';
  if (typeof value === 'string' && (ACTIVATIONS as readonly string[]).includes(value)) return value as ActivationName;
  throw new ConfigError(`${layerName}: activation must be one of ${ACTIVATIONS.join(', ')}; got ${JSON.stringify(value)}`);
}
