import { knownOptions, layerName } from '../config-checks.js';
import type { BaseLayerOptions } from './layer.js';
import { ElementwiseMerge } from './merge.js';

/** Merge layer: the element-wise maximum of its inputs (gradient: to the lowest-index input among tied maxima, as TensorFlow). Inputs of one shape; no weights. */
export class Maximum extends ElementwiseMerge<'maximum'> {
  readonly kind = 'maximum';
  readonly className = 'Maximum';

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'maximum') ?? 'maximum');
    super({}, options);
  }
}

/** Creates a {@link Maximum} merge layer; apply it to a list of tensors (`maximum().apply([a, b])`). */
export function maximum(options: BaseLayerOptions = {}): Maximum {
  return new Maximum(options);
}
