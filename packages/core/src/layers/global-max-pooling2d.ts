import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { globalPoolingOutputShape, resolveGlobalPoolingConfig, type GlobalPoolingOptions } from './global-pooling.js';
import { Layer } from './layer.js';

/** The maximum over the rows and columns, per channel: `[b, h, w, c]` → `[b, c]` (`[b, 1, 1, c]` with `keepdims`). Its gradient is split evenly among tied maxima, as TensorFlow's `reduce_max` (unlike max pooling windows, which give it to the first). */
export class GlobalMaxPooling2D extends Layer<'globalMaxPooling2d'> {
  readonly kind = 'globalMaxPooling2d';
  readonly className = 'GlobalMaxPooling2D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(resolveGlobalPoolingConfig(options, layerName(options?.name, 'global_max_pooling2d') ?? 'global_max_pooling2d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return globalPoolingOutputShape(this, 2, inputShape);
  }
}

/** Creates a {@link GlobalMaxPooling2D} layer. */
export function globalMaxPooling2d(options: GlobalPoolingOptions = {}): GlobalMaxPooling2D {
  return new GlobalMaxPooling2D(options);
}
