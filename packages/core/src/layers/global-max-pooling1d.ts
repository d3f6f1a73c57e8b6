import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { globalPoolingOutputShape, resolveGlobalPoolingConfig, type GlobalPoolingOptions } from './global-pooling.js';
import { Layer } from './layer.js';

/** The maximum over the steps, per channel: `[b, steps, c]` → `[b, c]` (`[b, 1, c]` with `keepdims`). Its gradient is split evenly among tied maxima, as TensorFlow's `reduce_max` (unlike max pooling windows, which give it to the first). */
export class GlobalMaxPooling1D extends Layer<'globalMaxPooling1d'> {
  readonly kind = 'globalMaxPooling1d';
  readonly className = 'GlobalMaxPooling1D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(resolveGlobalPoolingConfig(options, layerName(options?.name, 'global_max_pooling1d') ?? 'global_max_pooling1d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return globalPoolingOutputShape(this, 1, inputShape);
  }
}

/** Creates a {@link GlobalMaxPooling1D} layer. */
export function globalMaxPooling1d(options: GlobalPoolingOptions = {}): GlobalMaxPooling1D {
  return new GlobalMaxPooling1D(options);
}
