import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type SpatialMap } from './layer.js';
import { pooling2dOutputShape, pooling2dSpatialMap, resolvePooling2dConfig, type Pooling2dOptions } from './pooling2d.js';

/**
 * 2-D average pooling over `[batch, h, w, c]`. Strides default to the pool
 * size; with `same`, the average excludes the padded positions (as Keras).
 */
export class AveragePooling2D extends Layer<'averagePooling2d'> {
  readonly kind = 'averagePooling2d';
  readonly className = 'AveragePooling2D';

  constructor(options: Pooling2dOptions = {}) {
    super(resolvePooling2dConfig(options, layerName(options?.name, 'average_pooling2d') ?? 'average_pooling2d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return pooling2dOutputShape(this, inputShape);
  }

  override spatialMap(): SpatialMap {
    return pooling2dSpatialMap(this.config);
  }
}

/** Creates an {@link AveragePooling2D} layer. */
export function averagePooling2d(options: Pooling2dOptions = {}): AveragePooling2D {
  return new AveragePooling2D(options);
}
