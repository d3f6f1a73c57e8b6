import { layerName } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { globalPoolingOutputShape, resolveGlobalPoolingConfig, type GlobalPoolingOptions } from './global-pooling.js';
import { Layer } from './layer.js';

/** The mean over the rows and columns, per channel: `[b, h, w, c]` → `[b, c]` (`[b, 1, 1, c]` with `keepdims`). */
export class GlobalAveragePooling2D extends Layer<'globalAveragePooling2d'> {
  readonly kind = 'globalAveragePooling2d';
  readonly className = 'GlobalAveragePooling2D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(resolveGlobalPoolingConfig(options, layerName(options?.name, 'global_average_pooling2d') ?? 'global_average_pooling2d'), options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    return globalPoolingOutputShape(this, 2, inputShape);
  }
}

/** Creates a {@link GlobalAveragePooling2D} layer. */
export function globalAveragePooling2d(options: GlobalPoolingOptions = {}): GlobalAveragePooling2D {
  return new GlobalAveragePooling2D(options);
}
