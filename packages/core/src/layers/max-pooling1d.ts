import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type SpatialMap } from './layer.js';
import { pooling1dOutputShape, pooling1dSpatialMap, resolvePooling1dConfig, type Pooling1dOptions } from './pooling1d.js';

/** 1-D max pooling over `[batch, steps, c]`. Strides default to the pool size; `same` pads with −∞. Its gradient goes to each window's first maximum, as TensorFlow's MaxPoolGrad. */
export class MaxPooling1D extends Layer<'maxPooling1d'> {
  readonly kind = 'maxPooling1d';
  readonly className = 'MaxPooling1D';

  constructor(options: Pooling1dOptions = {}) {
    super(resolvePooling1dConfig(options, layerName(options?.name, 'max_pooling1d') ?? 'max_pooling1d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return pooling1dOutputShape(this, inputShape);
  }

  override spatialMap(): SpatialMap {
    return pooling1dSpatialMap(this.config);
  }
}

/** Creates a {@link MaxPooling1D} layer. */
export function maxPooling1d(options: Pooling1dOptions = {}): MaxPooling1D {
  return new MaxPooling1D(options);
}
