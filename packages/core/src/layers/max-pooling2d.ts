import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type SpatialMap } from './layer.js';
import { pooling2dOutputShape, pooling2dSpatialMap, resolvePooling2dConfig, type Pooling2dOptions } from './pooling2d.js';

/**
 * 2-D max pooling over `[batch, h, w, c]`. Strides default to the pool size;
 * `same` pads with −∞ (7×7 with a 2×2 pool → 4×4).
 */
export class MaxPooling2D extends Layer<'maxPooling2d'> {
  readonly kind = 'maxPooling2d';
  readonly className = 'MaxPooling2D';

  constructor(options: Pooling2dOptions = {}) {
    super(resolvePooling2dConfig(options, layerName(options?.name, 'max_pooling2d') ?? 'max_pooling2d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return pooling2dOutputShape(this, inputShape);
  }

  override spatialMap(): SpatialMap {
    return pooling2dSpatialMap(this.config);
  }
}

/** Creates a {@link MaxPooling2D} layer. */
export function maxPooling2d(options: Pooling2dOptions = {}): MaxPooling2D {
  return new MaxPooling2D(options);
}
