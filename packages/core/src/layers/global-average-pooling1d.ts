import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { globalPoolingOutputShape, resolveGlobalPoolingConfig, type GlobalPoolingOptions } from './global-pooling.js';
import { Layer } from './layer.js';

/** The mean over the steps, per channel: `[b, steps, c]` → `[b, c]` (`[b, 1, c]` with `keepdims`). */
export class GlobalAveragePooling1D extends Layer<'globalAveragePooling1d'> {
  readonly kind = 'globalAveragePooling1d';
  readonly className = 'GlobalAveragePooling1D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(resolveGlobalPoolingConfig(options, layerName(options?.name, 'global_average_pooling1d') ?? 'global_average_pooling1d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return globalPoolingOutputShape(this, 1, inputShape);
  }
}

/** Creates a {@link GlobalAveragePooling1D} layer. */
export function globalAveragePooling1d(options: GlobalPoolingOptions = {}): GlobalAveragePooling1D {
  return new GlobalAveragePooling1D(options);
}
