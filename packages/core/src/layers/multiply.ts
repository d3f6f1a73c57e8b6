import { knownOptions, layerName } from '../config-checks.js';
import type { BaseLayerOptions } from './layer.js';
import { ElementwiseMerge } from './merge.js';

/** Merge layer: the element-wise product of its inputs. Inputs of one shape; no weights. */
export class Multiply extends ElementwiseMerge<'multiply'> {
  readonly kind = 'multiply';
  readonly className = 'Multiply';

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'multiply') ?? 'multiply');
    super({}, options);
  }
}

/** Creates a {@link Multiply} merge layer; apply it to a list of tensors (`multiply().apply([a, b])`). */
export function multiply(options: BaseLayerOptions = {}): Multiply {
  return new Multiply(options);
}
