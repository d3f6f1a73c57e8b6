import { knownOptions, layerName } from '../config-checks.js';
import { ConfigError } from '../errors.js';
import { resolveReshape, type Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link reshape}. */
export interface ReshapeOptions extends BaseLayerOptions {
  /** Target shape without the batch axis; one axis may be -1. */
  targetShape: number[];
}

/** Resolved configuration of a reshape layer. */
export interface ReshapeConfig {
  readonly targetShape: readonly number[];
}

/** Reshapes every axis but the batch, keeping row-major order. */
export class Reshape extends Layer<'reshape'> {
  readonly kind = 'reshape';
  readonly className = 'Reshape';

  constructor(options: ReshapeOptions) {
    const who = layerName(options?.name, 'reshape') ?? 'reshape';
    knownOptions(options, ['targetShape', 'name', 'seed'], who);
    const t = options.targetShape;
    if (!Array.isArray(t) || t.length === 0 || t.some((d) => !Number.isInteger(d) || (d <= 0 && d !== -1))) {
      throw new ConfigError(`${who}: targetShape must be a non-empty array of positive integers (one may be -1), got ${JSON.stringify(t)}`);
    }
    if (t.filter((d) => d === -1).length > 1) throw new ConfigError(`${who}: targetShape may have at most one -1, got ${JSON.stringify(t)}`);
    super({ targetShape: [...t] }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return resolveReshape(inputShape, this.config.targetShape, this.name);
  }
}

/**
 * Creates a {@link Reshape} layer. Exported from the package root as
 * `reshapeLayer` (the root's `reshape` reshapes a tensor) and as `layers.reshape`.
 */
export function reshapeLayer(options: ReshapeOptions): Reshape {
  return new Reshape(options);
}
