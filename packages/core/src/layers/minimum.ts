import { knownOptions, layerName } from '../config-checks.js';
import type { BaseLayerOptions } from './layer.js';
import { ElementwiseMerge } from './merge.js';

/** Merge layer: the element-wise minimum of its inputs (gradient: to the lowest-index input among tied minima, as TensorFlow). Inputs of one shape; no weights. */
export class Minimum extends ElementwiseMerge<'minimum'> {
  readonly kind = 'minimum';
  readonly className = 'Minimum';

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'minimum') ?? 'minimum');
    super({}, options);
  }
}

/** Creates a {@link Minimum} merge layer; apply it to a list of tensors (`minimum().apply([a, b])`). */
export function minimum(options: BaseLayerOptions = {}): Minimum {
  return new Minimum(options);
}
