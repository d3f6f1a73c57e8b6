import { resolveActivation, type ActivationName } from '../activations.js';
import { knownOptions, layerName } from '../config-checks.js';
import { ConfigError } from '../errors.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link activation}. */
export interface ActivationOptions extends BaseLayerOptions {
  /** The element-wise function to apply. */
  activation: ActivationName;
}

/** Resolved configuration of an activation layer. */
export interface ActivationConfig {
  readonly activation: ActivationName;
}

/** Applies an activation element-wise (softmax over the last axis). Shape unchanged. */
export class Activation extends Layer<'activation'> {
  readonly kind = 'activation';
  readonly className = 'Activation';

  constructor(options: ActivationOptions) {
    const who = layerName(options?.name, 'activation') ?? 'activation';
    knownOptions(options, ['activation', 'name', 'seed'], who);
    if (options.activation === undefined) throw new ConfigError(`${who}: activation is required`);
    super({ activation: resolveActivation(options.activation, who) }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length < 1) this.shapeError('(None, ...) of rank ≥ 2', inputShape);
    return [...inputShape];
  }
}

/** Creates an {@link Activation} layer. */
export function activation(options: ActivationOptions): Activation {
  return new Activation(options);
}
