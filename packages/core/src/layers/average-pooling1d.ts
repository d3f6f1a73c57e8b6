import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type SpatialMap } from './layer.js';
import { pooling1dOutputShape, pooling1dSpatialMap, resolvePooling1dConfig, type Pooling1dOptions } from './pooling1d.js';

/** 1-D average pooling over `[batch, steps, c]`. Strides default to the pool size; `same` leaves the padding out of each mean, as Keras. */
export class AveragePooling1D extends Layer<'averagePooling1d'> {
  readonly kind = 'averagePooling1d';
  readonly className = 'AveragePooling1D';

  constructor(options: Pooling1dOptions = {}) {
    super(resolvePooling1dConfig(options, layerName(options?.name, 'average_pooling1d') ?? 'average_pooling1d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return pooling1dOutputShape(this, inputShape);
  }

  override spatialMap(): SpatialMap {
    return pooling1dSpatialMap(this.config);
  }
}

/** Creates a {@link AveragePooling1D} layer. */
export function averagePooling1d(options: Pooling1dOptions = {}): AveragePooling1D {
  return new AveragePooling1D(options);
}
