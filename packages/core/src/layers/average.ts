import { knownOptions, layerName } from '../config-checks.js';
import type { BaseLayerOptions } from './layer.js';
import { ElementwiseMerge } from './merge.js';

/** Merge layer: the element-wise mean of its inputs. Inputs of one shape; no weights. */
export class Average extends ElementwiseMerge<'average'> {
  readonly kind = 'average';
  readonly className = 'Average';

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'average') ?? 'average');
    super({}, options);
  }
}

/** Creates a {@link Average} merge layer; apply it to a list of tensors (`average().apply([a, b])`). */
export function average(options: BaseLayerOptions = {}): Average {
  return new Average(options);
}
