import { knownOptions, layerName } from '../config-checks.js';
import { sizeOfShape, type Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Resolved configuration of a flatten layer (it has no options). */
export type FlattenConfig = Record<string, never>;

/** Flattens every axis but the batch: `[b, h, w, c]` → `[b, h·w·c]` (row-major, channels-last order). */
export class Flatten extends Layer<'flatten'> {
  readonly kind = 'flatten';
  readonly className = 'Flatten';

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'flatten') ?? 'flatten');
    super({}, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length < 1) this.shapeError('(None, ...) of rank ≥ 2', inputShape);
    return [sizeOfShape(inputShape)];
  }
}

/** Creates a {@link Flatten} layer. */
export function flatten(options: BaseLayerOptions = {}): Flatten {
  return new Flatten(options);
}
