import { knownOptions, layerName } from '../config-checks.js';
import type { BaseLayerOptions } from './layer.js';
import { ElementwiseMerge } from './merge.js';

/** Merge layer: the sum of its inputs. Inputs of one shape; no weights. */
export class Add extends ElementwiseMerge<'add'> {
  readonly kind = 'add';
  readonly className = 'Add';

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'add') ?? 'add');
    super({}, options);
  }
}

/** Creates a {@link Add} merge layer; apply it to a list of tensors (`add().apply([a, b])`). */
export function add(options: BaseLayerOptions = {}): Add {
  return new Add(options);
}
