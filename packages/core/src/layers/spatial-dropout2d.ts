import { knownOptions, layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { dropoutRate } from './dropout.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link spatialDropout2d}. */
export interface SpatialDropout2dOptions extends BaseLayerOptions {
  /** Fraction of the channels to drop in training, in [0, 1). */
  rate: number;
}

/** Resolved configuration of a spatial dropout layer. */
export interface SpatialDropout2dConfig {
  readonly rate: number;
  /** Seed of the mask generator (the layer's `seed`, 0 when none). */
  readonly seed: number;
}

/**
 * Spatial dropout over the channels of `[batch, rows, cols, channels]`
 * values (Keras's `SpatialDropout2D`, channels last): in training mode, drops
 * whole feature maps — each (sample, channel) with probability `rate` — and
 * scales the others by 1 / (1 − rate); an identity in inference mode. A
 * dropout whose mask has shape `[batch, 1, 1, channels]` (see `Dropout` for
 * the masks' seeding). Shape unchanged; no weights.
 */
export class SpatialDropout2D extends Layer<'spatialDropout2d'> {
  readonly kind = 'spatialDropout2d';
  readonly className = 'SpatialDropout2D';

  constructor(options: SpatialDropout2dOptions) {
    const who = layerName(options?.name, 'spatial_dropout2d') ?? 'spatial_dropout2d';
    knownOptions(options, ['rate', 'name', 'seed'], who);
    super({ rate: dropoutRate(options.rate, who), seed: options.seed ?? 0 }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) this.shapeError('(None, rows, cols, channels)', inputShape);
    return [...inputShape];
  }
}

/** Creates a {@link SpatialDropout2D} layer. */
export function spatialDropout2d(options: SpatialDropout2dOptions): SpatialDropout2D {
  return new SpatialDropout2D(options);
}
